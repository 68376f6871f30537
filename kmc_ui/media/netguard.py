"""What every outbound fetch shares: one address parser, one "is this public" rule, one
resolver, a pace (overall deadline + minimum average rate) and per-visitor fetch slots.

- `parse_ip_literal(host)` reads a host the way the OS does: IPv6 in brackets, and the legacy
  IPv4 forms `socket.inet_aton` accepts (`2130706433`, `127.1`, `0x7f000001`, `0177.0.0.1`).
- `is_public_address(ip)` judges an IPv6 address that embeds an IPv4 (mapped, compatible,
  NAT64, 6to4, Teredo, ISATAP) by the IPv4 inside; loopback, private, link-local, multicast,
  reserved, unspecified, site-local, shared (100.64/10) and documentation ranges are not public.
- `resolve(host, port)` is the one DNS look-up; callers vet every answer and connect to the
  address they vetted (see kmc_ui.media.remote), so a second, different answer cannot be used.
- `Pace` ends a transfer past its deadline or below its minimum rate (after a grace period).
- `FetchSlots` caps concurrent fetches per visitor and in total.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kmc_ui.messages import Msg

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_LEGACY_IPV4 = re.compile(r"^[0-9a-fA-FxX.]+$")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use only, never public
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NOT_PUBLIC_V4 = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "240.0.0.0/4")
)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a literal host names, or None for a name. Raises ValueError for a bad IPv6 literal.

    `[::1]`, `::1`, `fe80::1%eth0` (the zone is dropped), `127.0.0.1` and every legacy IPv4 form
    the OS accepts (`2130706433`, `127.1`, `0x7f000001`, `0177.0.0.1`) are literals.
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return ipaddress.IPv6Address(host.split("%", 1)[0])
    if not _LEGACY_IPV4.match(host):
        return None  # a name
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: mapped, compatible, NAT64, 6to4 or Teredo."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _IPV4_COMPATIBLE or ip in _NAT64_WELL_KNOWN:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # (server, client); the client's IPv4 is the inverted last 32 bits
    return []


def is_public_address(ip: IPAddress | str) -> bool:
    """True only for a globally routable unicast address (IPv4 inside IPv6 is judged as IPv4)."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _public_v4(ip)
    if ip in _NAT64_LOCAL:
        return False
    inner = embedded_ipv4(ip)
    if inner:
        return all(_public_v4(v4) for v4 in inner)
    isatap = (int(ip) >> 32) & 0xFDFFFFFF == 0x5EFE  # interface id ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d
    if isatap and not _public_v4(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)):
        return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_site_local or ip.is_link_local or ip.is_private
    )


def _public_v4(ip: ipaddress.IPv4Address) -> bool:
    return (
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback or ip.is_link_local)
        and not any(ip in net for net in _NOT_PUBLIC_V4)
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address the OS resolver gives for host (IPv6 zones dropped), in its order; raises OSError."""
    seen: list[str] = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


# ---------------------------------------------------------------- pace: deadline and minimum rate


@dataclass(frozen=True)
class TransferLimits:
    """A whole transfer must end within `deadline` s and, after `grace` s, average `min_rate` B/s."""

    deadline: float
    min_rate: float
    grace: float


PASTED_URL_LIMITS = TransferLimits(deadline=60.0, min_rate=64_000.0, grace=10.0)
RESULT_DOWNLOAD_LIMITS = TransferLimits(deadline=15 * 60.0, min_rate=32_000.0, grace=30.0)


class TooSlow(Exception):
    """A transfer passed its deadline or fell below its minimum rate; str() says which, with figures
    (the English of `msg`)."""

    def __init__(self, said: Msg) -> None:
        self.msg = said
        super().__init__(said.en())


class Pace:
    """Started at the first request; `check(received)` raises TooSlow, `chunks(...)` checks each chunk.

    Checks run when data arrives, so a silent server is ended by the per-read timeout instead: keep
    that timeout at or below the deadline (`read_timeout(...)`).
    """

    def __init__(self, limits: TransferLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.started = clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def read_timeout(self, timeout: float) -> float:
        return max(0.1, min(timeout, self.limits.deadline - self.elapsed()))

    def check(self, received: int) -> None:
        elapsed = self.elapsed()
        if elapsed > self.limits.deadline:
            raise TooSlow(Msg("net.deadline", {"s": f"{self.limits.deadline:.0f}", "a": _amount(received)}))
        if elapsed > self.limits.grace and received < self.limits.min_rate * elapsed:
            said = {"a": _amount(received), "s": f"{elapsed:.0f}", "r": f"{self.limits.min_rate / 1000:.0f}"}
            raise TooSlow(Msg("net.too_slow", said))

    def chunks(self, stream: Iterable[bytes], already: int = 0) -> Iterator[bytes]:
        received = already
        for chunk in stream:
            received += len(chunk)
            self.check(received)
            yield chunk


def _amount(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} kB" if n >= 1000 else f"{n} bytes"


# ---------------------------------------------------------------- fetch slots per visitor


class SlotRefused(Exception):
    """No fetch slot: str() says why and what to do (the English of `msg`)."""

    def __init__(self, said: Msg) -> None:
        self.msg = said
        super().__init__(said.en())


class FetchSlots:
    """At most `per_visitor` fetches at once for one visitor and `total` for everyone; never waits.

    A caller with no visitor id ("", the CLI) counts only against the total. Thread-safe.
    """

    def __init__(self, per_visitor: int = 2, total: int = 4) -> None:
        self.per_visitor = per_visitor
        self.total = total
        self._running: dict[str, int] = {}
        self._count = 0
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, visitor: str = "") -> Iterator[None]:
        with self._lock:
            mine = self._running.get(visitor, 0)
            if visitor and mine >= self.per_visitor:
                raise SlotRefused(Msg("net.visitor_slots", {"n": mine}))
            if self._count >= self.total:
                raise SlotRefused(Msg("net.total_slots", {"n": self._count}))
            self._running[visitor] = mine + 1
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                left = self._running.pop(visitor) - 1
                if left:
                    self._running[visitor] = left

    def running(self, visitor: str = "") -> int:
        with self._lock:
            return self._running.get(visitor, 0) if visitor else self._count
