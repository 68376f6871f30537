"""kmc_ui.media.netguard: one address parser, one "is it public" rule (also for KMC_PUBLIC_BASE_URL),
the pace (deadline and minimum rate) and the per-visitor fetch slots. No network."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path

import pytest

from kmc_ui.media.hosting import MediaHost, is_private_host
from kmc_ui.media.netguard import (
    FetchSlots,
    Pace,
    SlotRefused,
    TooSlow,
    TransferLimits,
    embedded_ipv4,
    is_public_address,
    parse_ip_literal,
)

LEGACY_LOOPBACK = ["2130706433", "127.1", "0x7f000001", "0177.0.0.1", "0x7f.1", "017700000001"]

# Every IPv6 form that carries an IPv4, each carrying a loopback/private/link-local/zero IPv4.
EMBEDDED_PRIVATE = [
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "::10.0.0.1",
    "64:ff9b::127.0.0.1",  # NAT64 well-known prefix
    "64:ff9b::a9fe:a9fe",  # 169.254.169.254
    "64:ff9b:1::8.8.8.8",  # NAT64 local-use prefix: never public
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1 (inverted)
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    "2001:4860:1::5efe:10.0.0.1",  # ISATAP interface id with a private IPv4
    "2001:4860:1::200:5efe:192.168.0.1",
]
NOT_PUBLIC = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
    "192.0.0.9", "192.0.2.1", "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "ff0e::1", "2001:db8::1", "100::1",
]  # fmt: skip
PUBLIC = [
    "8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2001:0:808:808:8000:63bf:f7f7:f7f7",
]  # fmt: skip


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE + NOT_PUBLIC)
def test_not_public(address: str) -> None:
    assert not is_public_address(address)
    assert not is_public_address(ipaddress.ip_address(address))
    assert is_private_host(address) and is_private_host(f"[{address}]" if ":" in address else address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public(address: str) -> None:
    assert is_public_address(address)
    assert not is_private_host(address)


def test_embedded_ipv4_reads_each_form() -> None:
    v4 = ipaddress.IPv4Address
    assert embedded_ipv4(ipaddress.IPv6Address("::ffff:1.2.3.4")) == [v4("1.2.3.4")]
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::1.2.3.4")) == [v4("1.2.3.4")]
    assert embedded_ipv4(ipaddress.IPv6Address("2002:102:304::")) == [v4("1.2.3.4")]
    server, client = embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:80ff:fffe"))
    assert (server, client) == (v4("65.54.227.120"), v4("127.0.0.1"))
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1111")) == []


@pytest.mark.parametrize("host", LEGACY_LOOPBACK)
def test_legacy_ipv4_forms_parse_as_the_os_does(host: str) -> None:
    assert parse_ip_literal(host) == ipaddress.IPv4Address("127.0.0.1")
    assert is_private_host(host)


def test_names_and_bad_literals() -> None:
    assert [parse_ip_literal(h) for h in ("example.com", "cafe", "dead.beef", "1.2.3.4.", "a1")] == [None] * 5
    assert parse_ip_literal("[fe80::1%25eth0]") == ipaddress.IPv6Address("fe80::1")
    with pytest.raises(ValueError):
        parse_ip_literal("[zz::1]")
    assert is_private_host("[zz::1]")  # a malformed literal is never taken as public


@pytest.mark.parametrize("host", [*LEGACY_LOOPBACK, "[::ffff:7f00:1]", "[64:ff9b::a00:1]", "0", "box.internal"])
def test_public_base_url_with_a_disguised_private_host_is_refused(tmp_path: Path, host: str) -> None:
    ok, why = MediaHost(f"http://{host}:7860", [tmp_path]).usable()
    assert not ok and "private address" in why
    assert MediaHost(f"http://{host}:7860", [tmp_path], allow_private=True).usable() == (True, "")


def test_public_base_url_malformed_is_refused_not_raised(tmp_path: Path) -> None:
    ok, why = MediaHost("http://[::1", [tmp_path]).usable()
    assert not ok and "must be an http(s) URL" in why
    assert MediaHost("https://you-kmc.hf.space", [tmp_path]).usable() == (True, "")


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_pace_deadline_and_min_rate() -> None:
    clock = FakeClock()
    pace = Pace(TransferLimits(deadline=10.0, min_rate=1000.0, grace=2.0), clock)
    clock.t += 1.5
    pace.check(10)  # within the grace period any rate is fine
    clock.t += 1.0
    with pytest.raises(TooSlow, match=r"too slow \(10 bytes in 2 s; at least 1 kB/s is needed\)"):
        pace.check(10)
    pace.check(3000)
    clock.t += 8.0
    with pytest.raises(TooSlow, match=r"did not finish within 10 s \(1.0 MB received\)"):
        pace.check(1_000_000)
    assert pace.read_timeout(20.0) == 0.1  # never zero, never past the deadline


def test_pace_checks_each_chunk() -> None:
    clock = FakeClock()
    pace = Pace(TransferLimits(deadline=5.0, min_rate=0.0, grace=0.0), clock)

    def chunks():
        for _ in range(10):
            clock.t += 1.0
            yield b"x"

    got = []
    with pytest.raises(TooSlow):
        got.extend(pace.chunks(chunks()))
    assert len(got) == 5


def test_fetch_slots_per_visitor_and_total() -> None:
    slots = FetchSlots(per_visitor=2, total=3)
    with slots.hold("a"), slots.hold("a"):
        with pytest.raises(SlotRefused, match="You already have 2 downloads running: wait for them"), slots.hold("a"):
            pass
        with slots.hold("b"):
            assert slots.running() == 3 and slots.running("a") == 2
            with pytest.raises(SlotRefused, match="already fetching 3 links"), slots.hold("c"):
                pass
            with pytest.raises(SlotRefused, match="already fetching"), slots.hold(""):
                pass
    assert slots.running() == 0 and slots.running("a") == 0
    with slots.hold(""), slots.hold(""), slots.hold(""):  # no visitor id: only the total applies
        pass


def test_fetch_slots_are_thread_safe() -> None:
    slots = FetchSlots(per_visitor=2, total=4)
    peak: list[int] = []
    barrier = threading.Barrier(8)

    def worker(visitor: str) -> None:
        barrier.wait()
        for _ in range(200):
            try:
                with slots.hold(visitor):
                    peak.append(slots.running(visitor))
            except SlotRefused:
                pass

    threads = [threading.Thread(target=worker, args=(v,)) for v in "aabbccdd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(peak) <= 2 and slots.running() == 0
