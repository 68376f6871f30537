"""What a provider's refusal means, in one place for every hosted backend.

`http_error` is the HTTP status ladder fal, Replicate and the Kling API (when its answer carries no
code of its own) share: 401 keys, 402 credit, 403 access (or credit, when the text says so), 429 and
5xx retried, 400/422 the inputs, 404 the endpoint. `failure_advice` turns a failed task's provider
text into what to do (kmc_ui.limits.TASK_FAILURE_HINTS).
"""

from __future__ import annotations

from dataclasses import dataclass

from kmc_ui.backends.base import AuthError, BackendError, InvalidRequest, QuotaError, TransientError
from kmc_ui.catalogue import EN
from kmc_ui.limits import TASK_FAILURE_HINTS
from kmc_ui.messages import Msg, slots

INPUT_FIX = Msg("http.inputs.fix")  # "Fix the input named in the message (the checks panel shows the limits)."
RETRIED = Msg("http.retried.fix")  # "Retried automatically with backoff."
MODERATION_FIX = Msg("failure.moderation")  # dict(TASK_FAILURE_HINTS)["moderation"]
CREDIT_WORDS = ("balance", "locked", "credit")


def failure_advice(text: str) -> str:
    """What to do about a failed task's provider text, or ''."""
    low = text.lower()
    return next((advice for key, advice in TASK_FAILURE_HINTS if key in low), "")


def failure_advice_msg(text: str) -> Msg | None:
    """failure_advice as a message (kmc_ui/catalogue/backends.py: failure.KEY), or None."""
    low = text.lower()
    return next((Msg(f"failure.{key.replace(' ', '_')}") for key, _ in TASK_FAILURE_HINTS if key in low), None)


@dataclass(frozen=True)
class Refusals:
    """One provider's words for the ladder: its name, what its key is called, and the fixes."""

    provider: str  # "fal", "Replicate", "The Kling API"
    credential: str  # "key", "token", "keys"
    key_fix: Msg
    credit_fix: Msg
    access_fix: Msg
    not_found: str  # what a 404 says the provider does not know
    not_found_fix: Msg
    content_fix: Msg = MODERATION_FIX


def http_error(status: int, text: str, words: Refusals, *, content_refused: bool = False) -> BackendError:
    """The typed error for an HTTP refusal; `text` is the provider's own (already redacted) reason."""
    said = {"w_who": words.provider, "s": status, "reason": text}

    def msg(code: str, **more: str) -> Msg:
        return Msg(code, {k: v for k, v in (said | more).items() if k in slots(EN[code])})

    if status == 401:
        return AuthError(msg("http.401", w_cred=words.credential), fix=words.key_fix)
    if status == 402 or (status == 403 and any(w in text.lower() for w in CREDIT_WORDS)):
        return QuotaError(msg("http.no_credit"), fix=words.credit_fix)
    if status == 403:
        return QuotaError(msg("http.403"), fix=words.access_fix)
    if status == 429:
        return TransientError(msg("http.429"), fix=RETRIED)
    if status >= 500:
        return TransientError(msg("http.5xx"), fix=RETRIED)
    if status in (400, 422) and content_refused:
        return InvalidRequest(msg("http.content"), fix=words.content_fix)
    if status in (400, 422):
        return InvalidRequest(msg("http.inputs"), fix=failure_advice_msg(text) or INPUT_FIX)
    if status == 404:
        return InvalidRequest(msg("http.404", w_what=words.not_found), fix=words.not_found_fix)
    return InvalidRequest(msg("http.other"), fix=Msg("http.other.fix"))
