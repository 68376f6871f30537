"""URL inputs: the private-address guard, the size cap, the timeout, redirects (loopback server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kmc_ui.media.remote import UrlRefused, check_url, download_url

BODY = b"x" * 5000


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
