"""Fetch a user-given media URL for checking, safely: a private-address guard with pinning, a size
cap, an overall deadline and minimum rate, and a cap on concurrent fetches per visitor.

The host is resolved once (`netguard.resolve`), every address is vetted (loopback, private,
link-local, multicast, reserved, unspecified and IPv4-inside-IPv6 forms of those are refused
unless KMC_ALLOW_PRIVATE_URLS is set) and the request goes to the very address vetted: the URL
carries the IP, the Host header and TLS SNI/certificate check carry the name. A DNS answer that
changes between the check and the connection (rebinding) is therefore never used. Every redirect
hop is parsed, vetted and pinned the same way.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from kmc_ui.media import netguard
from kmc_ui.media.netguard import FetchSlots, Pace, Resolver, SlotRefused, TooSlow, TransferLimits
from kmc_ui.messages import Msg

MAX_REDIRECTS = 5
FETCH_SLOTS = FetchSlots()  # shared by every download_url call in this process
_DNS_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")


class UrlRefused(ValueError):
    """The URL cannot be used; the text says why and what to do. Made from a message
    (kmc_ui/catalogue/remote.py), kept as `msg`; str() is its English."""

    def __init__(self, said: Msg) -> None:
        self.msg = said
        super().__init__(said.en())


@dataclass(frozen=True)
class Target:
    """A parsed and vetted URL: requests go to one of `addresses`, never to a fresh look-up."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host name, or the canonical address of a literal
    addresses: tuple[str, ...]


def parse_url(url: str) -> httpx.URL:
    """The URL as httpx will send it; UrlRefused (naming the input) for anything malformed."""
    text = (url or "").strip()
    short = _short(text)
    try:
        parts = urlsplit(text)
    except ValueError:
        raise UrlRefused(Msg("remote.malformed", {"u": short})) from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused(Msg("remote.not_http", {"u": short}))
    if not parts.hostname:
        raise UrlRefused(Msg("remote.no_host", {"u": short}))
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(Msg("remote.credentials"))
    raw_port = parts.netloc.rpartition("]")[2].partition(":")[2]
    if raw_port and not (raw_port.isdigit() and 1 <= int(raw_port) <= 65535):
        raise UrlRefused(Msg("remote.bad_port", {"p": raw_port[:12], "u": short}))
    try:
        literal = netguard.parse_ip_literal(parts.hostname)
        if isinstance(literal, ipaddress.IPv4Address):  # 0177.0.0.1, 127.1...: written as the OS reads them
            text = urlunsplit(parts._replace(netloc=str(literal) + (f":{raw_port}" if raw_port else "")))
        parsed = httpx.URL(text)
        host = parsed.raw_host.decode("ascii").lower()
    except (ValueError, httpx.InvalidURL, UnicodeError) as exc:
        raise UrlRefused(Msg("remote.bad_host_why", {"u": short, "why": _reason(exc)})) from None
    if literal is None and not _DNS_NAME.match(host):
        raise UrlRefused(Msg("remote.bad_host", {"u": short}))
    return parsed


def vet(url: httpx.URL, *, allow_private: bool = False, resolver: Resolver | None = None) -> Target:
    """Resolve the host once and vet every address; UrlRefused when one is not public (unless allowed)."""
    name = url.host
    literal = netguard.parse_ip_literal(url.raw_host.decode("ascii"))
    if literal is not None:
        host, addresses = str(literal), [str(literal)]
    else:
        host = url.raw_host.decode("ascii").lower()
        try:
            answers = (resolver or netguard.resolve)(host, url.port or _default_port(url))
            addresses = [str(ipaddress.ip_address(a.split("%", 1)[0])) for a in answers]
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise UrlRefused(Msg("remote.not_found", {"h": name}))
    for address in addresses:
        if not allow_private and not netguard.is_public_address(address):
            raise UrlRefused(Msg("remote.private", {"h": name}))
    return Target(url, host, tuple(addresses))


def check_url(url: str, allow_private: bool = False, resolver: Resolver | None = None) -> str:
    """Return the URL when it is an http(s) URL to a public address; raise UrlRefused otherwise."""
    return str(vet(parse_url(url), allow_private=allow_private, resolver=resolver).url)


def pinned_request(client: httpx.Client, target: Target, address: str, timeout: httpx.Timeout) -> httpx.Request:
    """A GET to `address` itself, with the Host header and (https) SNI/certificate name of the URL."""
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return client.build_request(
        "GET",
        target.url.copy_with(host=address),
        headers={"Host": target.url.netloc.decode("ascii")},
        extensions=extensions,
        timeout=timeout,
    )


def open_pinned(client: httpx.Client, target: Target, timeout: httpx.Timeout) -> httpx.Response:
    """Send to the vetted addresses in order until one connects; the response is streamed (close it)."""
    *others, last = target.addresses  # vet() never returns a target without addresses
    for address in others:
        try:
            return client.send(pinned_request(client, target, address, timeout), stream=True, follow_redirects=False)
        except httpx.ConnectError:
            continue
    return client.send(pinned_request(client, target, last, timeout), stream=True, follow_redirects=False)


def download_url(
    url: str,
    dest_dir: Path,
    *,
    max_bytes: int,
    allow_private: bool = False,
    timeout: float = 20.0,
    client: httpx.Client | None = None,
    visitor: str = "",
    limits: TransferLimits = netguard.PASTED_URL_LIMITS,
    resolver: Resolver | None = None,
    slots: FetchSlots | None = None,
) -> Path:
    """Download to dest_dir (streamed), one vetted and pinned hop at a time (at most MAX_REDIRECTS).

    `timeout` is per read; `limits` bounds the whole transfer (deadline, minimum average rate).
    `visitor` (a session or browser id) gets at most `slots.per_visitor` fetches at once.
    """
    try:
        with (slots or FETCH_SLOTS).hold(visitor):
            return _download(url, dest_dir, max_bytes, allow_private, timeout, client, limits, resolver)
    except SlotRefused as exc:
        raise UrlRefused(exc.msg) from None


def _download(
    url: str,
    dest_dir: Path,
    max_bytes: int,
    allow_private: bool,
    timeout: float,
    client: httpx.Client | None,
    limits: TransferLimits,
    resolver: Resolver | None,
) -> Path:
    pace = Pace(limits)
    own = client is None
    # trust_env=False: no proxy from the environment, so the connection goes to the pinned address.
    client = client or httpx.Client(trust_env=False)
    try:
        target = vet(parse_url(url), allow_private=allow_private, resolver=resolver)
        for _ in range(MAX_REDIRECTS + 1):
            read = pace.read_timeout(timeout)
            resp = open_pinned(client, target, httpx.Timeout(read, connect=min(read, 10.0)))
            try:
                if not resp.is_redirect:
                    return _save(resp, target, dest_dir, max_bytes, pace)
                location = urljoin(str(target.url), resp.headers.get("location", ""))
            finally:
                resp.close()
            target = vet(parse_url(location), allow_private=allow_private, resolver=resolver)
        raise UrlRefused(Msg("remote.redirects"))
    except TooSlow as exc:
        raise UrlRefused(Msg("remote.stopped", {"why": exc.msg})) from None
    except httpx.TimeoutException as exc:
        if pace.elapsed() >= limits.deadline - 0.5:
            raise UrlRefused(Msg("remote.deadline", {"s": f"{limits.deadline:.0f}"})) from exc
        raise UrlRefused(Msg("remote.no_answer", {"s": f"{timeout:.0f}"})) from exc
    except httpx.HTTPError as exc:
        raise UrlRefused(Msg("remote.fetch_failed", {"exc": type(exc).__name__})) from exc
    finally:
        if own:
            client.close()


def _save(resp: httpx.Response, target: Target, dest_dir: Path, max_bytes: int, pace: Pace) -> Path:
    if resp.status_code != 200:
        raise UrlRefused(Msg("remote.http", {"s": resp.status_code}))
    header = resp.headers.get("content-length", "")
    length = int(header) if header.isdigit() else 0
    if length > max_bytes:
        raise UrlRefused(Msg("remote.too_big", {"a": f"{length / 1048576:.1f}", "b": f"{max_bytes / 1048576:.0f}"}))
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / _safe_name(Path(target.url.path).name or "download")
    size = 0
    try:
        with dest.open("wb") as fh:
            for chunk in pace.chunks(resp.iter_bytes()):
                size += len(chunk)
                if size > max_bytes:
                    raise UrlRefused(Msg("remote.over_limit", {"b": f"{max_bytes / 1048576:.0f}"}))
                fh.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _reason(exc: Exception) -> str:
    return str(exc).split(":")[0].strip() or type(exc).__name__


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:80].lstrip(".")
    return cleaned or "download"


def _short(url: str) -> str:
    return url if len(url or "") < 60 else url[:57] + "..."
