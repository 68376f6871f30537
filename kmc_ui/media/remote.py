"""Fetch a user-given media URL for checking, safely: size cap, timeout, private-address guard.

The guard resolves the host and refuses loopback, link-local, private, multicast, reserved and
unspecified addresses (and re-checks every redirect hop), unless KMC_ALLOW_PRIVATE_URLS is set.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx

MAX_REDIRECTS = 5


class UrlRefused(ValueError):
    """The URL cannot be used; the text says why and what to do."""


def check_url(url: str, allow_private: bool = False) -> str:
    """Return the URL when it is an http(s) URL to a public address; raise UrlRefused otherwise."""
    parsed = urlparse((url or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UrlRefused(f"'{_short(url)}' is not an http(s) URL: paste a link that starts with https://")
    if parsed.username or parsed.password:
        raise UrlRefused("URLs with a user name or password are not accepted: use a plain public link.")
    if allow_private:
        return parsed.geturl()
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise UrlRefused(f"The host '{parsed.hostname}' could not be found: check the link.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise UrlRefused(
                f"The link points to a private or local address ({parsed.hostname}), which is refused for safety: "
                "use a public link (or set KMC_ALLOW_PRIVATE_URLS=1 for a trusted LAN demo)."
            )
    return parsed.geturl()


def download_url(
    url: str,
    dest_dir: Path,
    *,
    max_bytes: int,
    allow_private: bool = False,
    timeout: float = 20.0,
    client: httpx.Client | None = None,
) -> Path:
    """Download to dest_dir (streamed), following redirects one guarded hop at a time."""
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
    try:
        current = check_url(url, allow_private)
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", current, follow_redirects=False) as resp:
                if resp.is_redirect:
                    current = check_url(urljoin(current, resp.headers.get("location", "")), allow_private)
                    continue
                if resp.status_code != 200:
                    raise UrlRefused(f"The link answered HTTP {resp.status_code}: check that it is public and direct.")
                length = int(resp.headers.get("content-length") or 0)
                if length > max_bytes:
                    raise UrlRefused(
                        f"The linked file is {length / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB."
                    )
                name = Path(urlparse(current).path).name or "download"
                dest_dir.mkdir(parents=True, exist_ok=True)
                dest = dest_dir / _safe_name(name)
                size = 0
                with dest.open("wb") as fh:
                    for chunk in resp.iter_bytes(1 << 16):
                        size += len(chunk)
                        if size > max_bytes:
                            fh.close()
                            dest.unlink(missing_ok=True)
                            raise UrlRefused(f"The linked file is over the {max_bytes / 1048576:.0f} MB limit.")
                        fh.write(chunk)
                return dest
        raise UrlRefused("The link redirects too many times.")
    except httpx.TimeoutException as exc:
        raise UrlRefused(f"The link did not answer within {timeout:.0f} s: try again or use another host.") from exc
    except httpx.HTTPError as exc:
        raise UrlRefused(f"The link could not be fetched ({type(exc).__name__}): check it in a browser.") from exc
    finally:
        if own:
            client.close()


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:80].lstrip(".")
    return cleaned or "download"


def _short(url: str) -> str:
    return url if len(url or "") < 60 else url[:57] + "..."
