"""Kling's signed callbacks (facts addendum A2): the provider posts a task's status changes to the app.

Only with a public URL (KMC_PUBLIC_BASE_URL or a Space's own) and KLING_WEBHOOK_SECRET set: without
a secret callbacks carry no signature, and an unsigned callback is never trusted. Polling stays the
fallback, so a lost callback costs nothing but time.

    POST /kmc/callbacks/kling/<run id>      webhook-id, webhook-timestamp, webhook-signature
    POST /kmc/callbacks/kling               the console's test callback: 200 when the signature holds

A callback is verified with the `standardwebhooks` library (Standard Webhooks: HMAC-SHA256 over
`{id}.{timestamp}.{raw body}` with the base64 secret after `whsec_`, several space-separated
signatures during a secret rotation, a 5-minute window, a constant-time compare). A good one is
only a trigger: it records the provider's status on the run and wakes the worker polling that run,
which polls at once and downloads the result itself (a callback's links are never fetched as they
came). An unsigned, badly signed, stale or foreign callback is refused and logged with its reason,
its webhook-id and the run id only: never its body nor its signature.
"""

from __future__ import annotations

import binascii
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

log = logging.getLogger(__name__)

CALLBACK_PATH = "/kmc/callbacks/kling"
CALLBACK_BACKENDS = ("kling", "kling2")
MAX_BODY_BYTES = 256 * 1024  # a status callback is a few kB; anything bigger is not Kling's
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Provider statuses in the order a task goes through them (both designs): a late callback never
# puts a run's recorded provider status back.
STATUS_RANK = {"submitted": 0, "processing": 1, "succeed": 2, "succeeded": 2, "failed": 2}
_SIGNATURE = re.compile(r"^v[0-9]+,[A-Za-z0-9+/=]+$")
_LOG_SAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def secret_usable(secret: str) -> bool:
    """Whether `secret` is a Standard Webhooks secret (`whsec_` + base64 of the key)."""
    return _webhook(secret) is not None


def _webhook(secret: str) -> Webhook | None:
    secret = (secret or "").strip()
    if not secret:
        return None
    try:
        return Webhook(secret)
    except (ValueError, EmptyWebhookSecretError):  # not base64 (binascii.Error), or an empty key
        return None


def callback_url_for(settings: Any, backend: str, run_id: str) -> str:
    """The callback URL a run's create carries, or "" when callbacks are off for it."""
    if backend not in CALLBACK_BACKENDS or not settings.kling_webhook_secret or not settings.public_base_url:
        return ""
    if not secret_usable(settings.kling_webhook_secret):
        return ""  # a callback that could never be verified is not asked for (warned at start, see routes)
    if not settings.public_base_url.lower().startswith("https://") and not settings.allow_private_urls:
        return ""  # Kling posts to HTTPS endpoints (facts A2); plain http only for loopback tests
    return f"{settings.public_base_url.rstrip('/')}{CALLBACK_PATH}/{run_id}"


# ------------------------------------------------------------------------------ verification
class Refused(Exception):
    """A callback that is not trusted: `reason` is what the log says (never the body)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The callback's JSON object once its signature holds; Refused otherwise.

    The library checks the signature(s) and the 5-minute window; around it this refuses what it
    would trip on (a non-numeric timestamp, a malformed entry in the signature list) as a bad
    signature rather than an error."""
    webhook = _webhook(secret)
    if webhook is None:
        raise Refused("KLING_WEBHOOK_SECRET is not a whsec_ secret", 503)
    low = {k.lower(): v for k, v in headers.items()}
    if not all(low.get(name, "").strip() for name in HEADERS):
        raise Refused("unsigned (no webhook-id / webhook-timestamp / webhook-signature)")
    timestamp = low["webhook-timestamp"].strip()
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise Refused("bad webhook-timestamp")
    # Several signatures are separated by spaces during a rotation; only well-formed ones are offered.
    signatures = [s for s in low["webhook-signature"].split() if _SIGNATURE.match(s)]
    if not signatures:
        raise Refused("bad signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("bad signature") from None
    clean = {"webhook-id": low["webhook-id"], "webhook-timestamp": timestamp, "webhook-signature": " ".join(signatures)}
    try:
        webhook.verify(text, clean, json_parse=False)
    except WebhookVerificationError as exc:
        expired = "too old" in str(exc) or "too new" in str(exc)
        raise Refused("timestamp outside the 5-minute window" if expired else "bad signature") from None
    except (ValueError, binascii.Error):
        raise Refused("bad signature") from None
    try:
        payload = json.loads(text)
    except ValueError:
        raise Refused("signed, but not JSON", 400) from None
    if not isinstance(payload, dict):
        raise Refused("signed, but not a JSON object", 400)
    return payload


@dataclass(frozen=True)
class Event:
    """What a callback says, from either body shape (facts A2)."""

    design: str  # "api2": {id, status, external_id, ...} / "legacy": {task_id, task_status, task_info, ...}
    task_id: str
    external_id: str
    status: str  # the provider's own word: submitted / processing / succeeded|succeed / failed


def parse(payload: Mapping[str, Any]) -> Event | None:
    """The event of a callback body of either design, or None for a body of neither."""
    if "task_id" in payload:
        info = payload.get("task_info")
        external = info.get("external_task_id") if isinstance(info, dict) else ""
        event = Event(
            "legacy", str(payload.get("task_id") or ""), str(external or ""), str(payload.get("task_status") or "")
        )
    elif "id" in payload:
        event = Event(
            "api2",
            str(payload.get("id") or ""),
            str(payload.get("external_id") or ""),
            str(payload.get("status") or ""),
        )
    else:
        return None
    return event if event.status in STATUS_RANK and (event.task_id or event.external_id) else None


# ------------------------------------------------------------------------------------- waking
_wakers: dict[str, threading.Event] = {}
_wakers_lock = threading.Lock()


def waker(run_id: str) -> threading.Event:
    """The event the worker driving `run_id` in this process waits on between polls (jobs.run_job)."""
    event = threading.Event()
    with _wakers_lock:
        _wakers[run_id] = event
    return event


def forget(run_id: str, event: threading.Event) -> None:
    with _wakers_lock:
        if _wakers.get(run_id) is event:
            del _wakers[run_id]


def wake_here(run_id: str) -> bool:
    """Wake the worker polling `run_id` if it runs in this process; False when none here does."""
    with _wakers_lock:
        event = _wakers.get(run_id)
    if event is None:
        return False
    event.set()
    return True


# ------------------------------------------------------------------------------------ the route
class _Seen:
    """Webhook ids already handled (a redelivery is answered 200 and changes nothing)."""

    def __init__(self, size: int = 2048) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """True when `key` is new."""
        with self._lock:
            if key in self._ids:
                return False
            self._ids[key] = None
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True


def _safe(value: str) -> str:
    return _LOG_SAFE.sub("?", value or "")[:64] or "-"


class _RefusalLog:
    """At most `limit` refusal lines a minute: a flood of forged callbacks cannot fill the log (the
    lines left out are counted in the next one)."""

    def __init__(self, limit: int = 30, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self.start, self.lines, self.dropped = 0.0, 0, 0
        self.lock = threading.Lock()

    def __call__(self, reason: str, hook_id: str, run_id: str) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.start >= self.window:
                self.start, self.lines = now, 0
            if self.lines >= self.limit:
                self.dropped += 1
                return
            self.lines += 1
            dropped, self.dropped = self.dropped, 0
        more = f" ({dropped} more refused and not logged)" if dropped else ""
        log.warning("Kling callback refused (%s): webhook-id %s, run %s%s", reason, _safe(hook_id), _safe(run_id), more)


_refused = _RefusalLog()


def handle(
    studio: Any, run_id: str, body: bytes, headers: Mapping[str, str], seen: _Seen | None = None
) -> tuple[int, str]:
    """(HTTP status, short answer) for one callback to `run_id`. `studio` needs `settings` and `history`."""
    from kmc_ui.history import safe_id
    from kmc_ui.worker import ACTIVE

    secret = studio.settings.kling_webhook_secret
    if not secret:
        return 404, "Not found"
    hook_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id", "")
    try:
        payload = verify(secret, body, headers)
    except Refused as exc:
        _refused(exc.reason, hook_id, run_id)
        return exc.status, "Refused"
    event = parse(payload)
    try:
        safe_id(run_id)
        record = studio.history.store.get(run_id)
    except ValueError:
        record = None
    if event is None or record is None or not record.extra.get("callback_url"):
        why = "not a task status" if event is None else "no such run"
        _refused(why, hook_id, run_id)
        return (400 if event is None else 404), "Refused"
    # The callback must be about this run's task: its task id once we know it, our id (external) before.
    ours = event.task_id == record.task_id if record.task_id else event.external_id == run_id
    if not ours:
        _refused("another task", hook_id, run_id)
        return 404, "Refused"
    if seen is not None and not seen.add(hook_id):
        return 200, "Already received"
    now = time.time()

    def edit(old: Any) -> Any:
        if old is None or old.status not in ACTIVE:
            return None  # an ended run stays as it ended
        known = STATUS_RANK.get(str(old.extra.get("provider_status") or ""), -1)
        if STATUS_RANK[event.status] >= known:
            old.extra["provider_status"] = event.status
        old.extra["callback_at"] = now
        old.updated_at = now
        return old

    changed = studio.history.store.change(run_id, record.owner, edit)
    if changed is not None and not wake_here(run_id):
        studio.history.store.work.wake(run_id, now)  # the worker holding it runs in another process
    log.info("Kling callback for run %s: %s (webhook-id %s)", _safe(run_id), event.status, _safe(hook_id))
    return 200, "OK"


def handle_test(
    studio: Any, _run_id: str, body: bytes, headers: Mapping[str, str], seen: _Seen | None = None
) -> tuple[int, str]:
    """A callback to the bare path (no run): the console's test button (Basic Settings -> Webhook,
    `status "submitted"`, `outputs []`). 200 when its signature holds, so the owner can check the
    secret; nothing else happens."""
    if not studio.settings.kling_webhook_secret:
        return 404, "Not found"
    hook_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id", "")
    try:
        verify(studio.settings.kling_webhook_secret, body, headers)
    except Refused as exc:
        _refused(exc.reason, hook_id, "")  # (no run: "run -")
        return exc.status, "Refused"
    log.info("Kling test callback verified: KLING_WEBHOOK_SECRET matches (webhook-id %s)", _safe(hook_id))
    return 200, "Signature verified"


def callback_routes(studio: Any) -> list[Any]:
    """The POST route Kling calls; the work is quick (two small writes), the answer prompt."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    seen = _Seen()
    secret = studio.settings.kling_webhook_secret
    if secret and not secret_usable(secret):
        log.error("KLING_WEBHOOK_SECRET is not a Standard Webhooks secret (whsec_ + base64): callbacks are off")
    elif secret and not callback_url_for(studio.settings, CALLBACK_BACKENDS[0], "probe"):
        log.warning(
            "KLING_WEBHOOK_SECRET is set but KMC_PUBLIC_BASE_URL is no https:// URL: callbacks are off, runs are polled"
        )

    async def receive(request: Request) -> PlainTextResponse:
        if not studio.settings.kling_webhook_secret:
            return PlainTextResponse("Not found", status_code=404)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return PlainTextResponse("Too large", status_code=413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return PlainTextResponse("Too large", status_code=413)
            chunks.append(chunk)
        run_id = str(request.path_params.get("run_id", ""))
        work = handle if run_id else handle_test
        status, text = await run_in_threadpool(work, studio, run_id, b"".join(chunks), dict(request.headers), seen)
        return PlainTextResponse(text, status_code=status)

    return [
        Route(CALLBACK_PATH + "/{run_id}", receive, methods=["POST"], name="kmc_kling_callback"),
        Route(CALLBACK_PATH, receive, methods=["POST"], name="kmc_kling_callback_test"),
    ]


def add_callback_routes(app: object, studio: Any) -> None:
    """Add the callback route to a Starlette/FastAPI app (Gradio's `demo.app`), ahead of catch-all routes."""
    router = getattr(app, "router", app)
    for route in reversed(callback_routes(studio)):
        router.routes.insert(0, route)  # type: ignore[attr-defined]
