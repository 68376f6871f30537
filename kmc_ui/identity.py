"""Who a visitor is: a random id the server issues, signed with a server secret, kept in a cookie.

Every visitor of a public Space is a stranger, and every Gradio event can be called by anyone
through the raw queue. So the visitor id never comes from a value the page sends: it comes from
the `kmc_visitor` cookie, which only this server can sign (HMAC-SHA256 with a secret kept in the
data folder, never sent to the page) and which scripts on the page cannot read (HttpOnly).

`VisitorMiddleware` (pure ASGI, added when the app is built) gives a request without a valid
cookie a fresh id: it puts the signed cookie into the request itself, so the event that request
starts already runs as that visitor, and sends it back with `Set-Cookie`. A browser keeps it for a
year, so its History survives reloads and restarts; gradio_client keeps the cookie it got from
`/config` for the life of the Client. A forged, altered or foreign cookie is simply replaced by a
new identity: it opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

COOKIE = "kmc_visitor"
MAX_AGE = 365 * 24 * 3600
_VERSION = "v1"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def server_secret(data_dir: str | os.PathLike[str]) -> bytes:
    """The server's signing secret: made once, kept (mode 0600) in the data folder, which is never served."""
    path = Path(data_dir) / ".server-secret"
    try:
        value = path.read_text("utf-8").strip()
    except OSError:
        value = ""
    if len(value) < 43:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value)
        os.replace(tmp, path)
        value = path.read_text("utf-8").strip()
    return value.encode("utf-8")


class Identity:
    """Issues and verifies visitor ids. The key is derived from the server secret for this use only."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"kmc visitor id", hashlib.sha256).digest()

    def _sign(self, visitor: str) -> str:
        mac = hmac.new(self._key, f"{_VERSION}.{visitor}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def issue(self) -> tuple[str, str]:
        """(visitor id, cookie value): 128 random bits, signed."""
        visitor = secrets.token_urlsafe(16)
        return visitor, f"{_VERSION}.{visitor}.{self._sign(visitor)}"

    def verify(self, cookie_value: str | None) -> str | None:
        """The visitor id in a cookie value this server signed, else None."""
        parts = (cookie_value or "").split(".")
        if len(parts) != 3 or parts[0] != _VERSION or not 16 <= len(parts[1]) <= 64:
            return None
        if not hmac.compare_digest(parts[2], self._sign(parts[1])):
            return None
        return parts[1]

    def from_headers(self, cookie_header: str | None) -> str | None:
        """The verified visitor id in a raw `Cookie:` header, else None."""
        return self.verify(cookie_value(cookie_header))


def cookie_value(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def set_cookie_header(value: str, secure: bool) -> str:
    """HttpOnly always. Over https (a Space, shown inside huggingface.co's frame) the cookie must be
    `SameSite=None; Secure` to be sent at all, and `Partitioned` so browsers that block third-party
    cookies keep one for this site inside that frame; over plain http (local use) `SameSite=Lax`."""
    attrs = f"{COOKIE}={value}; Path=/; Max-Age={MAX_AGE}; HttpOnly"
    return attrs + ("; SameSite=None; Secure; Partitioned" if secure else "; SameSite=Lax")


class VisitorMiddleware:
    """Gives every HTTP request a verified visitor cookie (see the module's docstring)."""

    def __init__(self, app: ASGIApp, identity: Identity) -> None:
        self.app = app
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        raw = b"; ".join(v for k, v in headers if k == b"cookie").decode("latin-1")
        if self.identity.from_headers(raw):
            await self.app(scope, receive, send)
            return
        _visitor, value = self.identity.issue()
        others = [c for c in raw.split(";") if c.strip() and not c.strip().startswith(COOKIE + "=")]
        cookie = "; ".join([*(c.strip() for c in others), f"{COOKIE}={value}"])
        headers = [(k, v) for k, v in headers if k != b"cookie"] + [(b"cookie", cookie.encode("latin-1"))]
        scope = dict(scope, headers=headers)
        secure = _is_https(scope, headers)

        async def send_with_cookie(message: Message) -> None:
            if message.get("type") == "http.response.start":
                out = list(message.get("headers") or [])
                out.append((b"set-cookie", set_cookie_header(value, secure).encode("latin-1")))
                message = dict(message, headers=out)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _is_https(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
    forwarded = dict(headers).get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0].strip()
    return (forwarded or scope.get("scheme", "http")) == "https"
