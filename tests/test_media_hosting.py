"""MediaHost: registered files only, unguessable URLs, ranges, expiry, no path traversal, and one
link per run that ends when the provider no longer needs it (through run_job and the fake providers)."""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from kmc_ui.backends.base import Backend, JobRequest
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.replicate import ReplicateBackend
from kmc_ui.history import History
from kmc_ui.jobs import Progress, run_job
from kmc_ui.media.hosting import HostingError, MediaHost, add_media_routes, is_private_host
from kmc_ui.settings import Settings
from tests.fakes import FakeClock
from tests.fakes.kling import FakeKling, Scenario, kling_error
from tests.fakes.providers import KITS
from tests.fakes.replicate import FakeReplicate
from tests.fakes.server import ServerThread

pytest_plugins = ["tests.fakes.fixtures"]


class Now:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def served(tmp_path: Path):
    """A FastAPI app with a catch-all route (like Gradio's) plus the media routes, on loopback."""
    app = FastAPI()

    @app.get("/{rest:path}")
    def catch_all(rest: str) -> PlainTextResponse:
        return PlainTextResponse("catch-all", status_code=418)

    server = ServerThread(app)
    now = Now()
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    host = MediaHost(server.url, [allowed], allow_private=True, ttl=60, now=now)
    add_media_routes(app, host)
    server.start()
    yield host, allowed, now
    server.stop()


def test_serves_registered_file_with_range_and_head(served) -> None:
    host, allowed, _ = served
    data = os.urandom(5000)
    (allowed / "clip one.mp4").write_bytes(data)
    url = host.register(allowed / "clip one.mp4")
    m = re.fullmatch(re.escape(host.public_base_url) + r"/kmc-media/([A-Za-z0-9_-]{32})/clip_one\.mp4", url)
    assert m, url
    full = httpx.get(url)
    assert (full.status_code, full.content, full.headers["content-type"]) == (200, data, "video/mp4")
    assert full.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 100-199/5000"
    assert part.content == data[100:200]
    head = httpx.head(url)
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "5000", b"")
    assert host.register(allowed / "clip one.mp4") != url  # every registration gets its own token


def test_unknown_token_wrong_name_and_traversal_are_404(served, tmp_path: Path) -> None:
    host, allowed, _ = served
    (allowed / "a.mp4").write_bytes(b"a" * 10)
    (tmp_path / "secret.txt").write_text("do not serve")
    url = host.register(allowed / "a.mp4")
    token = url.split("/")[-2]
    base = host.public_base_url + "/kmc-media"
    for bad in (
        f"{base}/{'A' * 32}/a.mp4",  # unknown token
        f"{base}/{token}/b.mp4",  # right token, other name
        f"{base}/{token}/..%2Fsecret.txt",
        f"{base}/{token}/../../secret.txt",
        f"{base}/{token}/%2e%2e/%2e%2e/secret.txt",
        f"{base}/../secret.txt",
    ):
        response = httpx.get(bad)
        assert response.status_code in (404, 418), bad  # 418: the catch-all, never a file
        assert b"do not serve" not in response.content
        assert response.content != b"a" * 10


def test_tokens_expire_and_can_be_revoked(served) -> None:
    host, allowed, now = served
    (allowed / "a.mp4").write_bytes(b"a" * 10)
    url = host.register(allowed / "a.mp4")
    now.t += 59
    assert httpx.get(url).status_code == 200
    now.t += 2
    assert httpx.get(url).status_code == 404
    assert len(host) == 0
    url2 = host.register(allowed / "a.mp4")
    assert host.revoke(url2) is True
    assert httpx.get(url2).status_code == 404


def test_register_refuses_files_outside_allowed_dirs_and_missing_ones(served, tmp_path: Path) -> None:
    host, allowed, _ = served
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"x")
    with pytest.raises(HostingError, match="outside the folders"):
        host.register(outside)
    with pytest.raises(HostingError, match="outside the folders"):
        host.register(allowed / ".." / "outside.mp4")
    with pytest.raises(HostingError, match="does not exist"):
        host.register(allowed / "missing.mp4")
    link = allowed / "link.mp4"
    link.symlink_to(outside)
    with pytest.raises(HostingError, match="outside the folders"):
        host.register(link)


@pytest.mark.parametrize(
    ("base", "allow_private", "usable", "why"),
    [
        ("", False, False, "KMC_PUBLIC_BASE_URL is not set"),
        ("ftp://example.com", False, False, "must be an http(s) URL"),
        ("http://127.0.0.1:7860", False, False, "private address (127.0.0.1)"),
        ("http://localhost:7860", False, False, "private address (localhost)"),
        ("http://192.168.1.5", False, False, "private address (192.168.1.5)"),
        ("http://[::1]:80", False, False, "private address (::1)"),
        ("http://127.0.0.1:7860", True, True, ""),
        ("https://someone-kmc.hf.space", False, True, ""),
    ],
)
def test_public_base_url_guard(tmp_path: Path, base: str, allow_private: bool, usable: bool, why: str) -> None:
    host = MediaHost(base, [tmp_path], allow_private=allow_private)
    ok, reason = host.usable()
    assert ok is usable
    assert why in reason
    if not usable:
        (tmp_path / "v.mp4").write_bytes(b"v")
        with pytest.raises(HostingError, match=re.escape(why)):
            host.register(tmp_path / "v.mp4")


def test_is_private_host() -> None:
    assert [is_private_host(h) for h in ("10.0.0.1", "169.254.1.1", "0.0.0.0", "box.local", "8.8.8.8", "hf.space")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_from_settings(tmp_path: Path) -> None:
    host = MediaHost.from_settings(
        Settings(public_base_url="http://127.0.0.1:9", allow_private_urls=True), [tmp_path], ttl=5
    )
    assert (host.public_base_url, host.allow_private, host.ttl, host.enabled) == ("http://127.0.0.1:9", True, 5, True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mounts_on_a_launched_gradio_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The way the app wires it: add_media_routes(demo.app, host) after launch(prevent_thread_lock=True)."""
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    with gr.Blocks() as demo:
        gr.Markdown("media")
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True)
    try:
        host = MediaHost(demo.local_url.rstrip("/"), [tmp_path], allow_private=True)
        add_media_routes(demo.app, host)
        data = os.urandom(3000)
        (tmp_path / "m.mp4").write_bytes(data)
        url = host.register(tmp_path / "m.mp4")
        assert httpx.get(url).content == data
        assert httpx.get(url, headers={"Range": "bytes=0-9"}).content == data[:10]
        assert httpx.get(url.replace(url.split("/")[-2], "B" * 32)).status_code == 404
    finally:
        demo.close()


# -- one link per run, ended with the run -----------------------------------------------------


def test_a_run_gets_one_link_per_file_and_revoke_run_ends_only_its_links(served) -> None:
    host, allowed, now = served
    for name in ("v.mp4", "i.png"):
        (allowed / name).write_bytes(b"x" * 10)
    url = host.register(allowed / "v.mp4", run_id="run-a")
    now.t += 50
    assert host.register(allowed / "v.mp4", run_id="run-a") == url  # a retry: the same link, renewed
    now.t += 50  # 100 s after the first registration, 50 s after the renewal (ttl 60)
    assert httpx.get(url).status_code == 200
    image = host.register(allowed / "i.png", run_id="run-a")
    other = host.register(allowed / "v.mp4", run_id="run-b")
    unnamed = host.register(allowed / "v.mp4")
    assert len({url, image, other, unnamed}) == 4
    assert host.register(allowed / "v.mp4") != unnamed  # without a run id every registration is new
    assert host.revoke_run("") == 0  # never "every link without a run"
    assert host.revoke_run("run-a") == 2
    assert [httpx.get(u).status_code for u in (url, image, other, unnamed)] == [404, 404, 200, 200]
    assert host.revoke_run("run-a") == 0


OWNER = "hosting"
_runs = itertools.count(1)


def start_run(backend: Backend, image: Path, video: Path, history: History, clock: FakeClock) -> Iterator[Progress]:
    request = JobRequest(image, video, run_id=f"h{next(_runs)}-{int(time.time() * 1000)}")
    history.create(OWNER, {"run_id": request.run_id, "provider": backend.name})
    return run_job(backend, request, history, OWNER, clock=clock.clock(), rng=random.Random(1))


def sent_urls(fake: FakeKling) -> list[str]:
    """The video_url of every create request the fake received (faulted ones included)."""
    return [r.json["video_url"] for r in fake.requests_at("create")]


def status(url: str) -> int:
    return httpx.get(url, timeout=10).status_code


@pytest.fixture
def kling(kling_settings: Settings, media_server: Any) -> Iterator[KlingLegacyBackend]:
    backend = KlingLegacyBackend(kling_settings, media_server.host)
    yield backend
    backend.close()


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "data")


@pytest.mark.parametrize("outcome", ["succeed", "failed"])
def test_submit_retries_reuse_one_link_which_ends_with_the_run(
    fake_kling: FakeKling,
    kling: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
    media_server: Any,
    outcome: str,
) -> None:
    fake_kling.scenario = Scenario(outcome=outcome)
    fake_kling.inject("create", kling_error(5000), times=2)
    steps = list(start_run(kling, character_image, reference_video, history, fake_clock))
    assert steps[-1].stage == ("done" if outcome == "succeed" else "failed"), steps[-1].text
    urls = sent_urls(fake_kling)
    assert len(urls) == 3 and len(set(urls)) == 1  # three attempts, one link
    assert status(urls[0]) == 404  # the run is over: the file no longer answers
    assert len(media_server.host) == 0


def test_the_link_answers_while_the_task_runs_and_stop_ends_it_once_processing(
    fake_kling: FakeKling,
    kling: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
) -> None:
    fake_kling.scenario = Scenario(submitted_s=5, processing_s=600)
    gen = start_run(kling, character_image, reference_video, history, fake_clock)
    checked_queued = False
    for step in gen:
        if step.stage == "queued" and step.task_id and not checked_queued:
            assert status(sent_urls(fake_kling)[0]) == 200  # accepted, not yet processing
            checked_queued = True
        if step.stage == "running":
            break
    assert checked_queued
    assert status(sent_urls(fake_kling)[0]) == 200  # processing: still live until the run ends
    gen.close()  # Stop: Kling cannot cancel, the task is kept in History, and it has its video
    assert history.get(OWNER, step.run_id)["status"] == "stopped_waiting"
    assert status(sent_urls(fake_kling)[0]) == 404


def test_stop_before_the_provider_reported_processing_keeps_the_link(
    fake_kling: FakeKling,
    kling: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
) -> None:
    fake_kling.scenario = Scenario(submitted_s=600)  # waiting at the provider: it may still fetch the video
    gen = start_run(kling, character_image, reference_video, history, fake_clock)
    for step in gen:
        if step.stage == "queued" and fake_kling.requests_at("poll"):
            break
    gen.close()
    assert history.get(OWNER, step.run_id)["status"] == "stopped_waiting"
    assert status(sent_urls(fake_kling)[0]) == 200  # kept until it expires (MediaHost's ttl)


def test_a_refused_create_ends_the_link(
    fake_kling: FakeKling,
    kling: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
) -> None:
    fake_kling.inject("create", kling_error(1201, "video_url is not valid"))
    steps = list(start_run(kling, character_image, reference_video, history, fake_clock))
    assert history.get(OWNER, steps[-1].run_id)["status"] == "submit_failed"
    assert status(sent_urls(fake_kling)[0]) == 404


def test_a_task_canceled_on_stop_ends_the_link(
    replicate_server: FakeReplicate,
    media_server: Any,
    character_image: Path,
    reference_video: Path,
    history: History,
    tmp_path: Path,
) -> None:
    replicate_server.reset()
    clock = FakeClock()
    replicate_server.clock = clock.now
    kit = KITS["replicate"](replicate_server)
    kit.scenario(submitted_s=600)  # still starting when Stop comes: only the cancel ends the need
    backend = kit.backend(kit.settings(media_server.url, tmp_path / "data"), media_server.host)
    assert isinstance(backend, ReplicateBackend)
    try:
        gen = start_run(backend, character_image, reference_video, history, clock)
        for step in gen:
            if step.stage == "queued" and kit.requests("poll"):
                break
        (create,) = kit.requests("create")
        url = create.json["input"]["video"]
        assert status(url) == 200
        gen.close()
        assert history.get(OWNER, step.run_id)["status"] == "canceled"
        assert status(url) == 404
    finally:
        backend.close()
        replicate_server.reset()
