"""Serve prepared files to providers by an unguessable URL.

The official Kling API reads the reference video only from a URL. When the app runs where a
provider can reach it (a public Space, `KMC_PUBLIC_BASE_URL`), `MediaHost.register(path)`
returns `{public_base_url}/kmc-media/{token}/{filename}` and `add_media_routes(app, host)`
serves exactly the registered files on the app (Gradio's FastAPI app after
`launch(prevent_thread_lock=True)`): range requests work, unknown or expired tokens are 404,
and no path from the URL ever reaches the file system (the token selects a registered path).

A link belongs to a run: `register(path, run_id=...)` hands every submit attempt of that run the
same live link, and `revoke_run(run_id)` ends all of them once the provider no longer needs the
files (the job runner calls it through the backend's `release`, see kmc_ui.jobs).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from kmc_ui.media.netguard import is_public_address, parse_ip_literal
from kmc_ui.messages import Msg, Said

ROUTE_PREFIX = "/kmc-media"
DEFAULT_TTL = 2 * 3600.0
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_MEDIA_TYPES[".png"] = "image/png"


class HostingError(ValueError):
    """A file cannot be hosted (no public URL, outside the allowed folders, missing)."""


@dataclass(frozen=True)
class Hosted:
    token: str
    path: Path
    filename: str
    expires: float
    url: str
    run_id: str = ""


def is_private_host(host: str) -> bool:
    """True for a local name or a literal address that is not public (no DNS lookup).

    Literals are read as the OS reads them (`2130706433`, `127.1`, `0x7f000001`, `[::1]`) and
    judged by `netguard.is_public_address`, the rule the URL guard uses; a malformed literal is private.
    """
    host = host.strip().strip("[]").lower()
    if host in ("localhost", "") or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        ip = parse_ip_literal(host)
    except ValueError:
        return True
    return ip is not None and not is_public_address(ip)


class MediaHost:
    """Registry of files a provider may fetch. Thread-safe; tokens expire after `ttl` seconds."""

    def __init__(
        self,
        public_base_url: str,
        allow_dirs: Iterable[str | Path],
        *,
        ttl: float = DEFAULT_TTL,
        allow_private: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.public_base_url = (public_base_url or "").strip().rstrip("/")
        self.allow_dirs = [Path(d).resolve() for d in allow_dirs]
        self.ttl = ttl
        self.allow_private = allow_private
        self.now = now
        self._files: dict[str, Hosted] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: object, allow_dirs: Iterable[str | Path], **kw: object) -> MediaHost:
        """From kmc_ui.settings.Settings: KMC_PUBLIC_BASE_URL and KMC_ALLOW_PRIVATE_URLS."""
        return cls(
            getattr(settings, "public_base_url", ""),
            allow_dirs,
            allow_private=bool(getattr(settings, "allow_private_urls", False)),
            **kw,  # type: ignore[arg-type]
        )

    def usable(self) -> tuple[bool, str]:
        """(can hand files out by URL, why not). A private base URL is refused unless allowed."""
        if not self.public_base_url:
            return False, Said(Msg("hosting.not_set"))
        try:
            parts = urlsplit(self.public_base_url)
        except ValueError:  # e.g. a malformed [IPv6] literal
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False, Said(Msg("hosting.not_http"))
        if is_private_host(parts.hostname) and not self.allow_private:
            return False, Said(Msg("hosting.private", {"h": parts.hostname}))
        return True, ""

    @property
    def enabled(self) -> bool:
        return self.usable()[0]

    def register(self, path: str | Path, filename: str | None = None, *, run_id: str = "") -> str:
        """Host one file; returns its URL. Raises HostingError with the reason and the fix.

        With a `run_id`, a live link of the same run for the same file is handed out again (its
        lifetime renewed) instead of a new one: a retried submit does not multiply links.
        """
        ok, why = self.usable()
        if not ok:
            raise HostingError(why)
        path = Path(path).resolve()
        if not path.is_file():
            raise HostingError(f"{path.name} does not exist or is not a file")
        if not any(path.is_relative_to(d) for d in self.allow_dirs):
            raise HostingError(f"{path.name} is outside the folders this app serves")
        name = _SAFE_NAME.sub("_", filename or path.name).strip("._") or "media"
        with self._lock:
            self._purge()
            key = (run_id, path, name)
            hosted = next((h for h in self._files.values() if run_id and (h.run_id, h.path, h.filename) == key), None)
            if hosted is None:
                token = secrets.token_urlsafe(24)
                url = f"{self.public_base_url}{ROUTE_PREFIX}/{token}/{quote(name)}"
                hosted = Hosted(token, path, name, 0.0, url, run_id)
            self._files[hosted.token] = replace(hosted, expires=self.now() + self.ttl)
        return hosted.url

    def resolve(self, token: str, filename: str) -> Path | None:
        """The registered path for a live token and its exact filename, else None."""
        if not _TOKEN.match(token or ""):
            return None
        with self._lock:
            hosted = self._files.get(token)
            if hosted is None:
                return None
            if hosted.expires <= self.now():
                del self._files[token]
                return None
        if filename != hosted.filename or not hosted.path.is_file():
            return None
        return hosted.path

    def revoke(self, url_or_token: str) -> bool:
        token = url_or_token.rstrip("/").split("/")[-2] if "/" in url_or_token else url_or_token
        with self._lock:
            return self._files.pop(token, None) is not None

    def revoke_run(self, run_id: str) -> int:
        """End every link registered for `run_id` (they answer 404 from now on); returns how many."""
        if not run_id:
            return 0
        with self._lock:
            tokens = [t for t, h in self._files.items() if h.run_id == run_id]
            for token in tokens:
                del self._files[token]
        return len(tokens)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._files)

    def _purge(self) -> None:
        now = self.now()
        for token in [t for t, h in self._files.items() if h.expires <= now]:
            del self._files[token]


def media_routes(host: MediaHost) -> list[Route]:
    async def serve(request: Request) -> Response:
        path = host.resolve(request.path_params["token"], request.path_params["filename"])
        if path is None:
            return PlainTextResponse("Not found", status_code=404)
        media_type = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})

    return [Route(ROUTE_PREFIX + "/{token}/{filename}", serve, methods=["GET", "HEAD"], name="kmc_media")]


def add_media_routes(app: object, host: MediaHost) -> None:
    """Add the media route to a Starlette/FastAPI app (Gradio's `demo.app`), ahead of catch-all routes."""
    router = getattr(app, "router", app)
    for route in reversed(media_routes(host)):
        router.routes.insert(0, route)  # type: ignore[attr-defined]
