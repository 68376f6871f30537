"""Kling's task callbacks, played by the fakes (facts addendum A2).

When a create carries a callback URL and the fake is given callbacks (`fake.webhooks.secrets`), it
POSTs the task's body to that URL at each status change, in the design's own shape (the legacy
query body, or API 2.0's `{id, status, message, external_id, outputs[], billing[]}`), as Kling does:

- `secrets = ["whsec_..."]`: signed per Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix
  seconds), `webhook-signature` = `v1,` + Base64(HMAC-SHA256(key, "{id}.{timestamp}.{raw body}")),
  the key being the base64 after `whsec_`; with several secrets (a rotation) one signature each,
  separated by spaces;
- `secrets = []`: unsigned, as Kling sends them when no secret is set in its console;
- `secrets = None` (the default): no callbacks.

The signing here is plain `hmac`, written from the facts file, not the app's library: the A2 test
vector (tests/test_webhooks.py) shows both agree. Deliveries are not retried (Kling's retries are
not documented); each one is kept in `sent` with the answer it got.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets as token
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

FINAL = ("succeed", "succeeded", "failed")
WATCH_S = 0.02  # how often a followed task's status is looked at
FOLLOW_FOR_S = 180.0  # a task not ended by then is no longer followed


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one secret (facts A2)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


@dataclass
class Sent:
    """One callback delivery as the fake made it (test memory only)."""

    url: str
    headers: dict[str, str]
    body: bytes
    status: str  # the task status it announced
    answer: int | None = None  # the HTTP status the app answered, None when it could not be reached
    error: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class CallbackSender:
    def __init__(self) -> None:
        self.secrets: list[str] | None = None
        self.sent: list[Sent] = []
        self.now: Callable[[], float] = time.time  # the clock of `webhook-timestamp`
        self._round = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.secrets = None
            self.sent = []
            self.now = time.time
            self._round += 1  # tasks followed before the reset are dropped

    def answers(self) -> list[int | None]:
        with self._lock:
            return [s.answer for s in self.sent]

    def follow(self, url: str, body: Callable[[], dict[str, Any]], status_key: str) -> None:
        """Post `body()` to `url` each time its `status_key` changes, until the task ends."""
        if not url or self.secrets is None:
            return
        # the status the task was created in is taken now, not when the thread first runs: on a
        # loaded machine the thread started late and the first callback skipped it
        args = (url, body, status_key, self._round, body())
        threading.Thread(target=self._follow, args=args, name="fake-kling-callbacks", daemon=True).start()

    def _follow(
        self, url: str, body: Callable[[], dict[str, Any]], status_key: str, round_: int, first: dict[str, Any]
    ) -> None:
        last = None
        deadline = time.monotonic() + FOLLOW_FOR_S
        data: dict[str, Any] | None = first
        with httpx.Client(timeout=10.0) as client:
            while round_ == self._round and time.monotonic() < deadline:
                data = data if data is not None else body()
                status = str(data.get(status_key))
                if status != last:
                    last = status
                    self.post(client, url, data, status)
                if status in FINAL:
                    return
                data = None
                time.sleep(WATCH_S)

    def post(self, client: httpx.Client, url: str, data: dict[str, Any], status: str) -> Sent:
        raw = json.dumps(data, separators=(",", ":")).encode()
        headers = {"content-type": "application/json"}
        if self.secrets:
            msg_id, stamp = "msg_" + token.token_hex(12), int(self.now())
            signature = " ".join(sign(s, msg_id, stamp, raw) for s in self.secrets)
            headers |= {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}
        sent = Sent(url, headers, raw, status)
        try:
            sent.answer = client.post(url, content=raw, headers=headers).status_code
        except httpx.HTTPError as exc:
            sent.error = type(exc).__name__
        with self._lock:
            self.sent.append(sent)
        return sent
