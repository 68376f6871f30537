"""URL inputs: the private-address guard and its pinning (DNS rebinding), the size cap, the
timeouts, the deadline and minimum rate, the per-visitor cap, redirects and malformed URLs.

Only loopback is ever contacted: names are answered by stub resolvers, and a "public" answer is
only used with httpx.MockTransport (no socket at all).
"""

from __future__ import annotations

import datetime
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from kmc_ui.backends.base import DownloadError
from kmc_ui.backends.common import stream_download
from kmc_ui.media.netguard import FetchSlots, TransferLimits
from kmc_ui.media.remote import UrlRefused, check_url, download_url
from kmc_ui.messages import Msg
from tests.test_netguard import EMBEDDED_PRIVATE

ROOT = Path(__file__).resolve().parents[1]
BODY = b"x" * 5000
HOLD = threading.Event()  # /hold answers once this is set
ARRIVED = threading.Semaphore(0)  # released by each /hold request as it arrives


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/clip.mp4":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/nolength":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/clip.mp4")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(2)
            self.send_response(200)
            self.end_headers()
        elif self.path == "/host":  # answers the Host header it was sent
            body = self.headers["Host"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/trickle":  # one byte every 0.5 s
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            try:
                for _ in range(40):
                    self.wfile.write(b"x")
                    time.sleep(0.5)
            except OSError:  # the client gave up
                pass
        elif self.path == "/hold":
            ARRIVED.release()
            HOLD.wait(10)
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.mp4",
        "http://localhost/a.mp4",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/a.mp4",
        "http://192.168.1.2/a.mp4",
        "http://172.16.0.1/a.mp4",
        "http://[::1]/a.mp4",
        "http://0.0.0.0/a.mp4",
    ],
)
def test_private_and_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused, match="private or local address"):
        check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/a.mp4", "file:///etc/passwd", "not a url", ""])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused, match="not an http"):
        check_url(url)


def test_credentials_in_url_are_refused() -> None:
    with pytest.raises(UrlRefused, match="user name or password"):
        check_url("https://user:pw@example.com/a.mp4")


def test_loopback_download_refused_unless_allowed(server: str, tmp_path) -> None:
    with pytest.raises(UrlRefused, match="private or local"):
        download_url(f"{server}/clip.mp4", tmp_path, max_bytes=10_000)
    path = download_url(f"{server}/clip.mp4", tmp_path, max_bytes=10_000, allow_private=True)
    assert path.read_bytes() == BODY and path.name == "clip.mp4"


def test_redirects_are_followed_and_checked(server: str, tmp_path) -> None:
    path = download_url(f"{server}/redirect", tmp_path, max_bytes=10_000, allow_private=True)
    assert path.read_bytes() == BODY


def test_size_cap_by_header_and_by_stream(server: str, tmp_path) -> None:
    with pytest.raises(UrlRefused, match="limit"):
        download_url(f"{server}/clip.mp4", tmp_path, max_bytes=1000, allow_private=True)
    with pytest.raises(UrlRefused, match="over the"):
        download_url(f"{server}/nolength", tmp_path / "n", max_bytes=1000, allow_private=True)
    assert not list((tmp_path / "n").glob("*"))  # the partial file is removed


def test_timeout_and_http_errors_are_clear(server: str, tmp_path) -> None:
    with pytest.raises(UrlRefused, match="did not answer within 1 s"):
        download_url(f"{server}/slow", tmp_path, max_bytes=1000, allow_private=True, timeout=1.0)
    with pytest.raises(UrlRefused, match="HTTP 404"):
        download_url(f"{server}/missing", tmp_path, max_bytes=1000, allow_private=True)


# ------------------------------------------------------------------ resolution once, pinned


def stub_resolver(*answers: list[str]) -> tuple[Callable[[str, int], list[str]], list[tuple[str, int]]]:
    """A resolver giving `answers` in turn (the last one again after that) and the calls it got."""
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return answers[min(len(calls), len(answers)) - 1]

    return resolve, calls


def test_connection_goes_to_the_address_resolved_and_vetted(server: str, tmp_path: Path) -> None:
    port = int(server.rsplit(":", 1)[1])
    # First answer 127.0.0.1 (where the server is); any later look-up would answer 127.0.0.3, where
    # nothing listens, and the OS cannot resolve "rebind.test" at all: success proves the pinning.
    resolve, calls = stub_resolver(["127.0.0.1"], ["127.0.0.3"])
    url = f"http://rebind.test:{port}/host"
    path = download_url(url, tmp_path, max_bytes=1000, allow_private=True, resolver=resolve)
    assert path.read_bytes() == f"rebind.test:{port}".encode()  # the Host header keeps the name
    assert calls == [("rebind.test", port)]


def test_the_next_vetted_address_is_tried_when_one_refuses(server: str, tmp_path: Path) -> None:
    port = int(server.rsplit(":", 1)[1])
    resolve, calls = stub_resolver(["127.0.0.3", "127.0.0.1"])  # nothing listens on 127.0.0.3
    path = download_url(f"http://two.test:{port}/host", tmp_path, max_bytes=1000, allow_private=True, resolver=resolve)
    assert path.read_bytes() == f"two.test:{port}".encode() and len(calls) == 1
    resolve, _ = stub_resolver(["not-an-address"])
    with pytest.raises(UrlRefused, match="could not be found"):
        download_url(f"http://junk.test:{port}/host", tmp_path, max_bytes=1000, allow_private=True, resolver=resolve)


def test_rebinding_to_loopback_after_a_public_answer_is_defeated(tmp_path: Path) -> None:
    resolve, calls = stub_resolver(["93.184.216.34"], ["127.0.0.1"])
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=BODY)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:  # no socket is opened
        path = download_url(
            "https://cdn.example.test/v/clip.mp4", tmp_path, max_bytes=10_000, resolver=resolve, client=client
        )
    assert path.read_bytes() == BODY and calls == [("cdn.example.test", 443)]
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34/v/clip.mp4"
    assert request.headers["host"] == "cdn.example.test"
    assert request.extensions["sni_hostname"] == "cdn.example.test"


def test_every_answer_is_vetted(tmp_path: Path) -> None:
    resolve, _ = stub_resolver(["93.184.216.34", "127.0.0.1"])
    with pytest.raises(UrlRefused, match=r"private or local address \(mixed.example.test\)"):
        check_url("https://mixed.example.test/a.mp4", resolver=resolve)


def test_every_redirect_hop_is_vetted_and_pinned(tmp_path: Path) -> None:
    answers = {"public.test": ["93.184.216.34"], "next.test": ["93.184.216.35"], "internal.test": ["10.0.0.1"]}
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host} {request.headers['host']} {request.url.path}")
        location = {"/a": "http://next.test/b", "/b": "/c", "/c": "http://internal.test/d", "/loop": "/loop"}
        if request.url.path == "/e":
            return httpx.Response(302, headers={"Location": "http://[::ffff:7f00:1]/x"})
        return httpx.Response(302, headers={"Location": location[request.url.path]})

    # follow_redirects=True on the client must not let httpx follow a hop unvetted.
    with httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=True) as client:
        fetch = lambda path: download_url(  # noqa: E731
            f"http://public.test{path}", tmp_path, max_bytes=1000, client=client, resolver=lambda h, p: answers[h]
        )
        with pytest.raises(UrlRefused, match=r"private or local address \(internal.test\)"):
            fetch("/a")
        assert seen == ["93.184.216.34 public.test /a", "93.184.216.35 next.test /b", "93.184.216.35 next.test /c"]
        with pytest.raises(UrlRefused, match=r"private or local address \(::ffff:7f00:1\)"):
            fetch("/e")
        seen.clear()
        with pytest.raises(UrlRefused, match="redirects too many times"):
            fetch("/loop")
        assert len(seen) == 6  # the first request and 5 redirects


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE)
def test_ipv6_forms_embedding_a_private_ipv4_are_refused(address: str) -> None:
    with pytest.raises(UrlRefused, match="private or local address"):
        check_url(f"http://[{address}]/a.mp4")
    with pytest.raises(UrlRefused, match="private or local address"):
        check_url("http://name.test/a.mp4", resolver=lambda h, p: [address])


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f000001", "0177.0.0.1", "0", "[::ffff:7f00:1]"])
def test_legacy_and_disguised_loopback_urls_are_refused(host: str) -> None:
    resolve, calls = stub_resolver(["93.184.216.34"])
    with pytest.raises(UrlRefused, match="private or local address"):
        check_url(f"http://{host}:8080/a.mp4", resolver=resolve)
    assert calls == []  # a literal is never looked up


def test_unknown_host(tmp_path: Path) -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(UrlRefused, match=r"The host 'nowhere\.test' could not be found"):
        download_url("https://nowhere.test/a.mp4", tmp_path, max_bytes=10, resolver=fail)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, bytes]]:
    """An HTTPS loopback server whose certificate names only secure.test (no IP address)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secure.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("secure.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], pem
    httpd.shutdown()


def test_https_pinned_to_the_address_checks_the_certificate_for_the_name(
    tls_server: tuple[int, bytes], tmp_path: Path
) -> None:
    port, pem = tls_server
    trust = ssl.create_default_context(cadata=pem.decode())
    with httpx.Client(verify=trust, trust_env=False) as client:
        path = download_url(
            f"https://secure.test:{port}/host", tmp_path, max_bytes=1000, allow_private=True,
            client=client, resolver=lambda h, p: ["127.0.0.1"],
        )  # fmt: skip
        assert path.read_bytes() == f"secure.test:{port}".encode()
        # The same address under a name the certificate does not hold: the TLS check refuses it.
        with pytest.raises(UrlRefused, match="could not be fetched"):
            download_url(
                f"https://other.test:{port}/host", tmp_path, max_bytes=1000, allow_private=True,
                client=client, resolver=lambda h, p: ["127.0.0.1"],
            )  # fmt: skip


# ------------------------------------------------------------------ deadline and minimum rate


def test_a_trickling_server_is_cut_off_for_its_rate(server: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(UrlRefused, match=r"The download was stopped: the transfer was too slow .*at least 1 kB/s"):
        download_url(
            f"{server}/trickle", tmp_path, max_bytes=1000, allow_private=True,
            limits=TransferLimits(deadline=5.0, min_rate=1000.0, grace=1.0),
        )  # fmt: skip
    assert time.monotonic() - start < 2.5
    assert not list(tmp_path.glob("*"))  # the partial file is removed


def test_a_trickling_server_is_cut_off_at_the_deadline(server: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(UrlRefused, match=r"did not finish within 2 s \(\d+ bytes received\)\. Try again later"):
        download_url(
            f"{server}/trickle", tmp_path, max_bytes=1000, allow_private=True,
            limits=TransferLimits(deadline=2.0, min_rate=0.5, grace=0.0),
        )  # fmt: skip
    assert time.monotonic() - start < 3.0


def test_a_silent_server_is_cut_off_at_the_deadline_not_the_read_timeout(server: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(UrlRefused, match=r"did not finish within 1 s"):
        download_url(
            f"{server}/slow", tmp_path, max_bytes=1000, allow_private=True, timeout=20.0,
            limits=TransferLimits(deadline=1.0, min_rate=0.0, grace=0.0),
        )  # fmt: skip
    assert time.monotonic() - start < 1.8


def test_provider_result_download_from_a_trickling_server_is_a_retryable_error(server: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with httpx.Client(trust_env=False) as client, pytest.raises(DownloadError) as caught:
        stream_download(
            client, f"{server}/trickle", tmp_path / "result.mp4", task_id="task-7", timeout=httpx.Timeout(10.0),
            limits=TransferLimits(deadline=5.0, min_rate=1000.0, grace=1.0),
        )  # fmt: skip
    assert time.monotonic() - start < 2.5
    error = caught.value
    assert error.retryable and error.task_id == "task-7"
    assert "The result download was stopped: the transfer was too slow" in error.user_text()
    assert "Task id task-7 is kept in History" in error.user_text()
    assert not list(tmp_path.glob("*"))
    with httpx.Client(trust_env=False) as client, pytest.raises(DownloadError, match="did not finish within 2 s"):
        stream_download(
            client, f"{server}/trickle", tmp_path / "result.mp4", task_id="task-7", timeout=httpx.Timeout(10.0),
            limits=TransferLimits(deadline=2.0, min_rate=0.5, grace=0.0),
        )  # fmt: skip


# ------------------------------------------------------------------ fetches per visitor


def test_one_visitor_cannot_take_every_fetch_slot(server: str, tmp_path: Path) -> None:
    slots = FetchSlots(per_visitor=2, total=4)
    results: dict[str, object] = {}

    def fetch(name: str, visitor: str) -> None:
        try:
            results[name] = download_url(
                f"{server}/hold", tmp_path / name, max_bytes=10_000, allow_private=True, visitor=visitor, slots=slots
            )
        except UrlRefused as exc:
            results[name] = exc

    HOLD.clear()
    threads = [threading.Thread(target=fetch, args=(name, name[0])) for name in ("a1", "a2", "b1")]
    try:
        for thread in threads[:2]:
            thread.start()
        assert ARRIVED.acquire(timeout=5) and ARRIVED.acquire(timeout=5)  # both of a's fetches are running
        start = time.monotonic()
        with pytest.raises(UrlRefused, match="You already have 2 downloads running: wait for them to finish"):
            download_url(
                f"{server}/hold", tmp_path / "a3", max_bytes=10_000, allow_private=True, visitor="a", slots=slots
            )
        assert time.monotonic() - start < 0.5  # answered at once, without a request
        threads[2].start()
        assert ARRIVED.acquire(timeout=5)  # another visitor still gets through
    finally:
        HOLD.set()
        for thread in threads:
            thread.join(10)
    assert all(isinstance(results[name], Path) for name in ("a1", "a2", "b1")), results
    assert slots.running() == 0


# ------------------------------------------------------------------ malformed URLs


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com:99999/a.mp4", "The port 99999 in 'http://example.com:99999/a.mp4' is not valid (1-65535)"),
        ("http://example.com:0/a.mp4", "The port 0 in"),
        ("http://example.com:8o/a.mp4", "The port 8o in"),
        ("http://[::1]:70000/a.mp4", "The port 70000 in"),
        ("http://[::1/a.mp4", "'http://[::1/a.mp4' is not a valid link (the address in [brackets] is malformed)"),
        ("http://[zz::1]/a.mp4", "is not a valid link (the address in [brackets] is malformed)"),
        ("http:///a.mp4", "'http:///a.mp4' has no host name"),
        ("https://:443/a.mp4", "has no host name"),
        ("http://\u2603.com/a.mp4", "The host name in 'http://\u2603.com/a.mp4' is not valid (Invalid IDNA hostname)"),
        ("http://exa mple.com/a.mp4", "The host name in 'http://exa mple.com/a.mp4' is not valid"),
        ("http://a..b/a.mp4", "The host name in 'http://a..b/a.mp4' is not valid"),
        ("http://-x.com/a.mp4", "is not valid"),
        ("javascript:alert(1)", "is not an http(s) URL"),
    ],
)
def test_malformed_urls_get_a_clear_message(url: str, message: str, tmp_path: Path) -> None:
    resolve, calls = stub_resolver(["93.184.216.34"])
    with pytest.raises(UrlRefused) as caught:
        download_url(url, tmp_path, max_bytes=10, resolver=resolve)
    assert message in str(caught.value)
    assert calls == []


def test_refusals_are_messages_in_both_languages(tmp_path: Path) -> None:
    """Every refusal is a message (kmc_ui/catalogue/remote.py): str() is its English, and a Chinese
    page renders it whole, the URL as typed quoted inside."""
    from kmc_ui.media.netguard import Pace, SlotRefused, TooSlow
    from kmc_ui.messages import render
    from tests.test_runtime_text import assert_rendered_chinese

    refused = []
    for url in ("javascript:alert(1)", "http://[::1/a.mp4", "http:///a.mp4", "http://u:p@example.com/a.mp4"):
        with pytest.raises(UrlRefused) as caught:
            check_url(url)
        refused.append(caught.value)
    with pytest.raises(UrlRefused) as caught:
        check_url("http://127.0.0.1/a.mp4")
    refused.append(caught.value)
    now = [0.0]
    pace = Pace(TransferLimits(deadline=30.0, min_rate=64_000.0, grace=5.0), clock=lambda: now[0])
    now[0] = 12.0
    with pytest.raises(TooSlow) as slow:
        pace.check(100_000)
    slots = FetchSlots(per_visitor=1, total=4)
    with slots.hold("a"), pytest.raises(SlotRefused) as busy, slots.hold("a"):
        pass
    said = [(e.msg, str(e)) for e in [*refused, slow.value, busy.value]]
    assert all(render(m, "en") == en for m, en in said), said
    assert str(slow.value) == "the transfer was too slow (100 kB in 12 s; at least 64 kB/s is needed)"
    zh = [render(m, "zh") for m, _ in said]
    assert zh[0] == "“javascript:alert(1)”不是 http(s) 链接：请粘贴以 https:// 开头的链接"
    assert zh[5] == "传输太慢（12 秒内仅收到 100 kB；至少需要 64 kB/s）"
    assert render(Msg("remote.stopped", {"why": slow.value.msg}), "zh").startswith("下载已停止：传输太慢（12 秒")
    assert assert_rendered_chinese(zh, verbatim=["javascript:alert(1)", "KMC_ALLOW_PRIVATE_URLS"]) == 7


def test_an_international_name_is_looked_up_in_its_ascii_form() -> None:
    resolve, calls = stub_resolver(["93.184.216.34"])
    assert check_url("https://b\u00fccher.example/a.mp4", resolver=resolve) == "https://xn--bcher-kva.example/a.mp4"
    assert calls == [("xn--bcher-kva.example", 443)]


def test_cli_prints_the_refusal_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_", "REPLICATE_", "KMC_"))}
    done = subprocess.run(
        [sys.executable, "-m", "kmc_ui", "check", "character.png", "http://example.com:99999/a.mp4", "--no-pose"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT), "KMC_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "error: Video URL: The port 99999 in 'http://example.com:99999/a.mp4' is not valid (1-65535): "
        "check the link."
    )
    assert "Traceback" not in done.stdout + done.stderr
