"""Kling's signed callbacks (facts addendum A2): the provider posts a task's status changes to the app.

Only with a public URL (KMC_PUBLIC_BASE_URL or a Space's own) and KLING_WEBHOOK_SECRET set: without
a secret callbacks carry no signature, and an unsigned callback is never trusted. Polling stays the
fallback, so a lost callback costs nothing but time.
"""

from __future__ import annotations

from typing import Any

CALLBACK_PATH = "/kmc/callbacks/kling"
CALLBACK_BACKENDS = ("kling", "kling2")


def callback_url_for(settings: Any, backend: str, run_id: str) -> str:
    """The callback URL a run's create carries, or "" when callbacks are off for it."""
    if backend not in CALLBACK_BACKENDS or not settings.kling_webhook_secret or not settings.public_base_url:
        return ""
    return f"{settings.public_base_url.rstrip('/')}{CALLBACK_PATH}/{run_id}"
