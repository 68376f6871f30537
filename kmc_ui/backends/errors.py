"""What a provider's refusal means, in one place for every hosted backend.

`http_error` is the HTTP status ladder fal, Replicate and the Kling API (when its answer carries no
code of its own) share: 401 keys, 402 credit, 403 access (or credit, when the text says so), 429 and
5xx retried, 400/422 the inputs, 404 the endpoint. `failure_advice` turns a failed task's provider
text into what to do (kmc_ui.limits.TASK_FAILURE_HINTS).
"""

from __future__ import annotations

from dataclasses import dataclass

from kmc_ui.backends.base import AuthError, BackendError, InvalidRequest, QuotaError, TransientError
from kmc_ui.limits import TASK_FAILURE_HINTS

INPUT_FIX = "Fix the input named in the message (the checks panel shows the limits)."
RETRIED = "Retried automatically with backoff."
CREDIT_WORDS = ("balance", "locked", "credit")


def failure_advice(text: str) -> str:
    """What to do about a failed task's provider text, or ''."""
    low = text.lower()
    return next((advice for key, advice in TASK_FAILURE_HINTS if key in low), "")


@dataclass(frozen=True)
class Refusals:
    """One provider's words for the ladder: its name, what its key is called, and the fixes."""

    provider: str  # "fal", "Replicate", "The Kling API"
    credential: str  # "key", "token", "keys"
    key_fix: str
    credit_fix: str
    access_fix: str
    not_found: str  # what a 404 says the provider does not know
    not_found_fix: str
    content_fix: str = dict(TASK_FAILURE_HINTS)["moderation"]


def http_error(status: int, text: str, words: Refusals, *, content_refused: bool = False) -> BackendError:
    """The typed error for an HTTP refusal; `text` is the provider's own (already redacted) reason."""
    said = f": {text}" if text else ""
    who = words.provider
    if status == 401:
        return AuthError(f"{who} refused the {words.credential} (HTTP 401){said}", fix=words.key_fix)
    if status == 402 or (status == 403 and any(w in text.lower() for w in CREDIT_WORDS)):
        return QuotaError(f"{who} refused the request: no credit left (HTTP {status}){said}", fix=words.credit_fix)
    if status == 403:
        return QuotaError(f"{who} refused access (HTTP 403){said}", fix=words.access_fix)
    if status == 429:
        return TransientError(f"{who} is rate limiting (HTTP 429){said}", fix=RETRIED)
    if status >= 500:
        return TransientError(f"{who} had a server error (HTTP {status}){said}", fix=RETRIED)
    if status in (400, 422) and content_refused:
        return InvalidRequest(f"{who} refused the content (HTTP {status}){said}", fix=words.content_fix)
    if status in (400, 422):
        return InvalidRequest(f"{who} refused the inputs (HTTP {status}){said}", fix=failure_advice(text) or INPUT_FIX)
    if status == 404:
        return InvalidRequest(f"{who} does not know {words.not_found} (HTTP 404){said}", fix=words.not_found_fix)
    return InvalidRequest(f"{who} answered HTTP {status}{said}", fix="Report this: the app used a wrong URL or method.")
