"""KlingLegacyBackend against the loopback fake of the official Kling API (legacy, JWT).

The reference video is served by MediaHost on a real loopback server and really fetched by
the fake; results are real H.264 files downloaded over HTTP.
"""

from __future__ import annotations

import base64
import itertools
import logging
import time
from dataclasses import replace
from pathlib import Path

import av
import httpx
import jwt
import pytest

from kmc_ui.backends.base import (
    AmbiguousSubmit,
    AuthError,
    Backend,
    BackendError,
    DownloadError,
    FindsTasks,
    InvalidRequest,
    JobRequest,
    NotConfigured,
    QuotaError,
    TransientError,
)
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.registry import build_backends
from kmc_ui.history import History
from kmc_ui.jobs import run_job
from kmc_ui.limits import KLING_ERRORS, TASK_FAILURE_HINTS
from kmc_ui.media.hosting import MediaHost
from kmc_ui.settings import Settings
from tests.fakes import FakeClock, Fault
from tests.fakes.kling import FakeKling, Scenario, kling_error

KEYS_WHERE = "as environment variables (Space secrets on a Hugging Face Space), in .env, or in the key box"

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "tester"
# Written out here on purpose (not derived from the code under test): the provider's table.
EXPECTED_CLASS: dict[int, type[BackendError]] = {
    1000: AuthError,
    1001: AuthError,
    1002: AuthError,
    1003: AuthError,
    1004: AuthError,
    1100: QuotaError,
    1101: QuotaError,
    1102: QuotaError,
    1103: QuotaError,
    1200: InvalidRequest,
    1201: InvalidRequest,
    1202: InvalidRequest,
    1203: InvalidRequest,
    1300: InvalidRequest,
    1301: InvalidRequest,
    1302: TransientError,
    1303: TransientError,
    1304: QuotaError,
    5000: TransientError,
    5001: TransientError,
    5002: TransientError,
}
_run_ids = itertools.count(1)


def request_for(image: Path, video: Path, **kw: object) -> JobRequest:
    fields: dict[str, object] = {"run_id": f"run-{next(_run_ids)}-{int(time.time())}"}
    fields.update(kw)
    return JobRequest(image_path=image, video_path=video, **fields)  # type: ignore[arg-type]


def run_all(backend: Backend, request: JobRequest, history: History, clock: FakeClock, **kw: object) -> list:
    history.create(OWNER, {"run_id": request.run_id})
    return list(run_job(backend, request, history, OWNER, clock=clock.clock(), **kw))  # type: ignore[arg-type]


def probe(path: Path) -> tuple[str, str, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, stream.codec_context.pix_fmt, stream.width, stream.height


@pytest.fixture
def backend(kling_settings: Settings, media_server) -> KlingLegacyBackend:
    b = KlingLegacyBackend(kling_settings, media_server.host)
    yield b
    b.close()


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "data")


# -- end to end ------------------------------------------------------------------------------


def test_submit_poll_download_end_to_end(
    fake_kling: FakeKling,
    media_server,
    kling_settings: Settings,
    character_image: Path,
    reference_video: Path,
    result_video: Path,
    tmp_path: Path,
) -> None:
    ticks = itertools.count()
    backend = KlingLegacyBackend(kling_settings, media_server.host, clock=lambda: time.time() + next(ticks))
    request = request_for(
        character_image,
        reference_video,
        prompt="on a neon stage",
        orientation="image",
        tier="pro",
        model="v3",
        keep_sound=False,
    )
    task_id = backend.submit(request)

    (create,) = fake_kling.requests_at("create")
    body = create.json
    video_url = body.pop("video_url")
    assert body == {
        "model_name": "kling-v3",
        "image_url": base64.b64encode(character_image.read_bytes()).decode(),
        "character_orientation": "image",
        "mode": "pro",
        "keep_original_sound": "no",
        "prompt": "on a neon stage",
        "external_task_id": request.run_id,
    }
    assert video_url.startswith(media_server.url + "/kmc-media/") and video_url.endswith("/motion.mp4")
    # The fake really fetched the video from MediaHost and read its duration with PyAV.
    task = fake_kling.tasks[task_id]
    assert task.fetch["status"] == 200
    assert task.fetch["bytes"] == reference_video.stat().st_size
    assert task.fetch["duration"] == pytest.approx(3.5, abs=0.1)
    assert task.image == {
        "base64": True,
        "bytes": character_image.stat().st_size,
        "format": "PNG",
        "width": 480,
        "height": 854,
    }
    # A valid HS256 JWT with the documented claims, signed with the secret key.
    assert create.extra["jwt_header"] == {"alg": "HS256", "typ": "JWT"}
    claims = create.extra["jwt_claims"]
    assert claims["iss"] == fake_kling.access_key
    assert claims["exp"] - claims["nbf"] == 1805
    token = create.headers["authorization"].removeprefix("Bearer ")
    assert jwt.decode(token, fake_kling.secret_key, algorithms=["HS256"], issuer=fake_kling.access_key)["iss"]

    state = backend.poll(task_id)
    assert (state.status, state.raw_status, state.message) == ("succeeded", "succeed", "")
    assert state.result_duration == pytest.approx(3.5, abs=0.1)
    assert state.extra["external_task_id"] == request.run_id
    (poll,) = fake_kling.requests_at("poll")
    assert poll.path == f"/v1/videos/motion-control/{task_id}"
    assert poll.extra["jwt_claims"]["exp"] > claims["exp"]  # a fresh token for every request

    dest = backend.download(state, tmp_path / "out" / "result.mp4")
    assert dest == tmp_path / "out" / "result.mp4"
    assert dest.read_bytes() == result_video.read_bytes()
    assert probe(dest) == ("h264", "yuv420p", 320, 240)
    assert list(dest.parent.iterdir()) == [dest]  # no .part left behind
    (fetch,) = fake_kling.requests_at("result")
    assert "authorization" not in fetch.headers  # the CDN link never gets the token


def test_defaults_sound_yes_model_v26_no_prompt(
    fake_kling: FakeKling, backend: KlingLegacyBackend, character_image: Path, reference_video: Path
) -> None:
    backend.submit(request_for(character_image, reference_video))
    body = fake_kling.requests_at("create")[0].json
    assert (body["model_name"], body["mode"], body["character_orientation"], body["keep_original_sound"]) == (
        "kling-v2-6",
        "std",
        "video",
        "yes",
    )
    assert "prompt" not in body
    assert not body["image_url"].startswith("data:")


def test_given_urls_are_sent_as_is_without_media_host(
    fake_kling: FakeKling, kling_settings: Settings, media_server, character_image: Path, reference_video: Path
) -> None:
    image_url = media_server.host.register(character_image)
    video_url = media_server.host.register(reference_video)
    backend = KlingLegacyBackend(kling_settings, None)
    task_id = backend.submit(request_for(character_image, reference_video, image_url=image_url, video_url=video_url))
    body = fake_kling.requests_at("create")[0].json
    assert (body["image_url"], body["video_url"]) == (image_url, video_url)
    assert fake_kling.tasks[task_id].image["format"] == "PNG"  # the fake fetched the image by URL
    assert backend.poll(task_id).status == "succeeded"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (None, "KMC_PUBLIC_BASE_URL is not set"),
        ("unset", "KMC_PUBLIC_BASE_URL is not set"),
        ("private", "private address (127.0.0.1)"),
    ],
)
def test_no_reachable_video_url_is_not_configured(
    fake_kling: FakeKling,
    kling_settings: Settings,
    character_image: Path,
    reference_video: Path,
    tmp_path: Path,
    host: str | None,
    expected: str,
) -> None:
    media = {
        None: None,
        "unset": MediaHost("", [reference_video.parent]),
        "private": MediaHost("http://127.0.0.1:7860", [reference_video.parent]),
    }[host]
    backend = KlingLegacyBackend(kling_settings, media)
    with pytest.raises(NotConfigured) as info:
        backend.submit(request_for(character_image, reference_video))
    assert expected in info.value.message
    assert "set KMC_PUBLIC_BASE_URL" in info.value.fix and "paste a public URL" in info.value.fix
    assert fake_kling.create_count == 0
    ok, why = backend.ready()
    assert ok is True and "Paste a public video URL" in why


def test_ready_without_keys_and_registry(tmp_path: Path) -> None:
    backends = build_backends(Settings(), None)
    assert {"kling", "kling2", "fal", "replicate"} <= set(backends)
    kling = backends["kling"]
    assert isinstance(kling, Backend) and isinstance(kling, FindsTasks)
    assert kling.needs_video_url is True
    assert kling.ready() == (
        False,
        f"Set KLING_API_KEY, or KLING_ACCESS_KEY and KLING_SECRET_KEY (from the Kling developer console) {KEYS_WHERE}.",
    )
    with pytest.raises(NotConfigured):
        kling.submit(request_for(tmp_path / "i.png", tmp_path / "v.mp4", video_url="https://x.test/v.mp4"))
    assert kling.cancel("123") is False


# -- failed tasks --------------------------------------------------------------------------


def test_failed_task_surfaces_task_status_msg_and_advice(
    fake_kling: FakeKling,
    backend: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
) -> None:
    fake_kling.scenario = Scenario(outcome="failed", failure_msg="Image pixel is invalid")
    request = request_for(character_image, reference_video)
    steps = run_all(backend, request, history, fake_clock)
    advice = dict(TASK_FAILURE_HINTS)["image pixel"]
    expected = f"Image pixel is invalid. What to do: {advice}"
    assert steps[-1].stage == "failed"
    assert steps[-1].error == expected
    assert steps[-1].text == f"The task ended 'failed': {expected}"
    record = history.get(OWNER, request.run_id)
    assert (record["status"], record["error"], record["provider_status"]) == ("failed", expected, "failed")
    assert fake_kling.requests_at("result") == []


def test_short_video_fails_at_the_provider_with_duration_advice(
    fake_kling: FakeKling, backend: KlingLegacyBackend, character_image: Path, short_video: Path
) -> None:
    task_id = backend.submit(request_for(character_image, short_video))
    state = backend.poll(task_id)
    assert state.status == "failed"
    assert state.extra["provider_message"] == "Video duration is invalid: 2.0s, it must be between 3s and 30s"
    assert state.extra["advice"] == dict(TASK_FAILURE_HINTS)["duration"]


def test_unreachable_video_fails_the_task(
    fake_kling: FakeKling, backend: KlingLegacyBackend, media_server, character_image: Path, reference_video: Path
) -> None:
    missing = f"{media_server.url}/kmc-media/{'Z' * 32}/motion.mp4"
    task_id = backend.submit(request_for(character_image, reference_video, video_url=missing))
    state = backend.poll(task_id)
    assert (state.status, state.message) == ("failed", "Failed to download the video from video_url (HTTP 404)")


# -- error codes -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(KLING_ERRORS))
def test_every_error_code_maps_to_its_typed_error(
    fake_kling: FakeKling, backend: KlingLegacyBackend, character_image: Path, reference_video: Path, code: int
) -> None:
    fake_kling.inject("create", kling_error(code, "provider says: field x is wrong"))
    with pytest.raises(BackendError) as info:
        backend.submit(request_for(character_image, reference_video))
    exc = info.value
    assert type(exc) is EXPECTED_CLASS[code]
    assert exc.code == code
    assert exc.retryable is (EXPECTED_CLASS[code] is TransientError)
    assert exc.message == f"Kling API: {KLING_ERRORS[code].meaning}: provider says: field x is wrong"
    assert exc.fix == KLING_ERRORS[code].advice
    assert exc.user_text().endswith(f"(code {code}) What to do: {KLING_ERRORS[code].advice}")


@pytest.mark.parametrize("code", [1000, 1101, 1102, 1103, 1201, 1301, 1304])
def test_final_error_ends_the_run_without_retry(
    fake_kling: FakeKling,
    backend: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
    code: int,
) -> None:
    fake_kling.inject("create", kling_error(code), times=None)
    request = request_for(character_image, reference_video)
    steps = run_all(backend, request, history, fake_clock)
    assert [s.stage for s in steps] == ["submitting", "failed"]
    assert fake_kling.create_count == 1
    assert KLING_ERRORS[code].advice in steps[-1].error
    record = history.get(OWNER, request.run_id)
    assert record["status"] == "submit_failed" and f"(code {code})" in record["error"]
    assert "task_id" not in record


@pytest.mark.parametrize(
    "fault",
    [
        kling_error(1302),
        kling_error(1303),
        kling_error(5000),
        kling_error(5001),
        kling_error(5002),
        Fault.malformed(),
        Fault.malformed(status=502, body=b"<html>Bad gateway</html>"),
        Fault.reset(),
    ],
    ids=["1302", "1303", "5000", "5001", "5002", "malformed-json", "502-html", "reset-before"],
)
def test_transient_create_errors_are_retried_through_run_job(
    fake_kling: FakeKling,
    backend: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
    fault: Fault,
) -> None:
    fake_kling.inject("create", fault, times=2)
    request = request_for(character_image, reference_video)
    steps = run_all(backend, request, history, fake_clock)
    assert steps[-1].stage == "done", steps[-1].text
    assert "retrying" in [s.stage for s in steps]
    assert len(fake_kling.tasks) == 1
    assert history.get(OWNER, request.run_id)["status"] == "succeeded"
    assert fake_kling.create_count == 3
    # An unreadable answer or a broken connection may hide a created task: the runner looks first.
    ambiguous = fault.kind in ("malformed", "reset")
    assert len(fake_kling.requests_at("list")) == (2 if ambiguous else 0)


@pytest.mark.parametrize(
    "fault",
    [
        kling_error(5000),
        Fault.http(401, code=1002, message="signature invalid"),
        Fault.malformed(),
        Fault.reset(),
    ],
    ids=["5000", "spurious-401", "malformed", "reset"],
)
def test_transient_poll_errors_are_retried(
    fake_kling: FakeKling,
    backend: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
    fault: Fault,
) -> None:
    fake_kling.inject("poll", fault, times=2)
    steps = run_all(backend, request_for(character_image, reference_video), history, fake_clock)
    assert steps[-1].stage == "done", steps[-1].text
    assert len(fake_kling.requests_at("poll")) == 3
    assert fake_kling.create_count == 1


# -- auth checked by the fake for real -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kling_secret_key": "wrong-secret-0123456789abcdef0123456789"}, 1000),
        ({"kling_access_key": "unknown-access-key"}, 1002),
        ({"clock_skew": 120}, 1003),
        ({"clock_skew": -3600}, 1004),
    ],
)
def test_real_jwt_checks(
    fake_kling: FakeKling,
    kling_settings: Settings,
    media_server,
    character_image: Path,
    reference_video: Path,
    change: dict,
    code: int,
) -> None:
    skew = change.pop("clock_skew", 0)
    backend = KlingLegacyBackend(replace(kling_settings, **change), media_server.host, clock=lambda: time.time() + skew)
    with pytest.raises(AuthError) as info:
        backend.submit(request_for(character_image, reference_video))
    assert info.value.code == code
    assert info.value.fix == KLING_ERRORS[code].advice
    assert fake_kling.tasks == {}


def test_fake_checks_the_protocol(fake_kling: FakeKling, character_image: Path) -> None:
    """The fake refuses what the provider refuses (so the backend's correct requests mean something)."""

    def post(body: dict, token: str | None = None) -> tuple[int, int, str]:
        now = int(time.time())
        token = token or jwt.encode(
            {"iss": fake_kling.access_key, "exp": now + 1800, "nbf": now - 5}, fake_kling.secret_key, "HS256"
        )
        r = httpx.post(
            fake_kling.base_url + "/v1/videos/motion-control", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return r.status_code, r.json()["code"], r.json()["message"]

    good = {
        "image_url": base64.b64encode(character_image.read_bytes()).decode(),
        "video_url": "http://127.0.0.1:9/none.mp4",
        "character_orientation": "video",
        "mode": "std",
    }
    data_prefix = {**good, "image_url": "data:image/png;base64," + good["image_url"]}
    assert post(data_prefix) == (400, 1201, "image_url must be a URL or raw Base64 without the 'data:' prefix")
    assert post({**good, "negative_prompt": "x"}) == (400, 1201, "Unknown parameter: negative_prompt")
    assert post({**good, "video_url": "AAAA"}) == (400, 1201, "video_url must be an http(s) URL")
    assert post({**good, "mode": "ultra"}) == (400, 1201, "mode must be one of std, pro")
    assert post({**good, "keep_original_sound": True}) == (400, 1201, "keep_original_sound must be one of yes, no")
    assert post({**good, "prompt": "x" * 2501}) == (400, 1201, "prompt must be a string of at most 2500 characters")
    assert post({**good, "model_name": "kling-v9"}) == (404, 1203, "model_name 'kling-v9' does not exist")
    assert post({k: v for k, v in good.items() if k != "mode"}) == (400, 1201, "mode is required")
    assert post(good, token="not-a-jwt") == (401, 1002, "Authorization is invalid")
    assert post({**good, "external_task_id": "dup"})[:2] == (200, 0)
    assert post({**good, "external_task_id": "dup"}) == (400, 1201, "External_task_id dup already exists")
    r = httpx.post(fake_kling.base_url + "/v1/videos/motion-control", json=good)
    assert (r.status_code, r.json()["code"]) == (401, 1001)
    (task,) = fake_kling.tasks.values()
    assert task.status(fake_kling.clock())[0] == "failed"  # its video URL led nowhere
    assert task.fetch["error"] == "ConnectError"


# -- lost answers, find_task -----------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.reset(after=True), Fault.timeout(5.0, after=True)], ids=["reset", "timeout"])
def test_lost_create_answer_is_ambiguous_and_the_task_can_be_found(
    fake_kling: FakeKling,
    kling_settings: Settings,
    media_server,
    character_image: Path,
    reference_video: Path,
    fault: Fault,
) -> None:
    backend = KlingLegacyBackend(kling_settings, media_server.host, http_client=httpx.Client(timeout=2.0))
    request = request_for(character_image, reference_video)
    fake_kling.inject("create", fault)
    with pytest.raises(AmbiguousSubmit) as info:
        backend.submit(request)
    assert info.value.retryable is True
    (task,) = fake_kling.tasks.values()  # the provider did create it
    assert backend.find_task(request.run_id) == task.task_id


def test_find_task_asks_by_our_id_then_pages_through_the_list(
    fake_kling: FakeKling, backend: KlingLegacyBackend, character_image: Path, reference_video: Path
) -> None:
    wanted = request_for(character_image, reference_video)
    task_id = backend.submit(wanted)
    assert backend.find_task(wanted.run_id) == task_id  # the query takes our external_task_id
    assert fake_kling.requests_at("poll")[-1].path.endswith("/" + wanted.run_id) and not fake_kling.requests_at("list")
    # Where the query takes task ids only, the newest tasks are read in the largest pages (500).
    fake_kling.external_lookup = False
    original = fake_kling.tasks[task_id]
    for n in range(501):  # newer tasks push the wanted one onto page 2
        clone = replace(original, task_id=str(int(task_id) + 1 + n), external_task_id=f"other-{n}")
        fake_kling.tasks[clone.task_id] = clone
    assert backend.find_task(wanted.run_id) == task_id
    assert [r.query for r in fake_kling.requests_at("list")] == [
        {"pageNum": "1", "pageSize": "500"},
        {"pageNum": "2", "pageSize": "500"},
    ]
    assert backend.find_task("never-submitted") is None


# -- downloads -------------------------------------------------------------------------------


def test_truncated_download_is_retryable_and_leaves_nothing(
    fake_kling: FakeKling, backend: KlingLegacyBackend, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    state = backend.poll(backend.submit(request_for(character_image, reference_video)))
    fake_kling.inject("result", Fault.truncate(0.5))
    with pytest.raises(DownloadError) as info:
        backend.download(state, tmp_path / "r.mp4")
    assert info.value.retryable is True
    assert info.value.task_id == state.task_id
    assert list(tmp_path.glob("r.mp4*")) == []


def test_truncated_download_retried_through_run_job(
    fake_kling: FakeKling,
    backend: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    result_video: Path,
    history: History,
    fake_clock: FakeClock,
) -> None:
    fake_kling.inject("result", Fault.truncate(0.3), times=2)
    steps = run_all(backend, request_for(character_image, reference_video), history, fake_clock)
    assert steps[-1].stage == "done"
    assert len(fake_kling.requests_at("result")) == 3
    assert steps[-1].result_path.read_bytes() == result_video.read_bytes()


@pytest.mark.parametrize("status", [403, 404])
def test_refused_result_link_is_retried_then_a_clear_download_error(
    fake_kling: FakeKling,
    backend: KlingLegacyBackend,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
    status: int,
) -> None:
    fake_kling.inject("result", Fault.http(status), times=None)
    request = request_for(character_image, reference_video)
    steps = run_all(backend, request, history, fake_clock)
    assert steps[-1].stage == "failed"
    # a CDN link can answer 403/404 for a moment after success: RetryPolicy.download_attempts tries
    assert len(fake_kling.requests_at("result")) == 3
    record = history.get(OWNER, request.run_id)
    assert record["status"] == "download_failed"
    assert record["task_id"] == steps[-1].task_id != ""
    assert f"The result link answered HTTP {status}: it has expired or was refused" in record["error"]
    assert f"Task id {record['task_id']} is kept in History" in record["error"]
    assert not (history.run_dir(OWNER, request.run_id) / "output.mp4").exists()


# -- secrets -------------------------------------------------------------------------------------


def test_secrets_never_leak(
    fake_kling: FakeKling,
    kling_settings: Settings,
    media_server,
    character_image: Path,
    reference_video: Path,
    history: History,
    fake_clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "kmc_ui"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    # a roomy timeout for the calls that must succeed on a loaded machine; a short one only where
    # the fake holds a request on purpose (the network faults below)
    backend = KlingLegacyBackend(kling_settings, media_server.host, http_client=httpx.Client(timeout=10.0))
    hurried = KlingLegacyBackend(kling_settings, media_server.host, http_client=httpx.Client(timeout=0.3))
    texts: list[str] = [repr(backend), repr(kling_settings), str(backend.ready())]

    def collect(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__)])
        if isinstance(exc, BackendError):
            texts.extend([exc.user_text(), exc.fix, exc.message])

    def attempt(fn) -> None:
        try:
            texts.append(repr(fn()))
        except BackendError as exc:
            collect(exc)

    def req() -> JobRequest:
        return request_for(character_image, reference_video)

    # every provider code, echoing the keys back in the message as a hostile server might
    echo = f"key {fake_kling.access_key} secret {fake_kling.secret_key}"
    for code in KLING_ERRORS:
        fake_kling.inject("create", kling_error(code, echo))
        attempt(lambda: backend.submit(req()))
        fake_kling.inject("poll", kling_error(code, echo))
        attempt(lambda: backend.poll("1"))
        fake_kling.inject("list", kling_error(code, echo))
        attempt(lambda: backend.find_task("x"))
    for fault in (Fault.reset(), Fault.reset(after=True), Fault.timeout(5.0), Fault.malformed(), Fault.http(502)):
        for point, call in (("create", lambda: hurried.submit(req())), ("poll", lambda: hurried.poll("1"))):
            fake_kling.inject(point, fault)
            attempt(call)
    task_id = backend.submit(req())
    fake_kling.scenario = Scenario(outcome="failed", failure_msg=echo)
    failed = backend.poll(backend.submit(req()))
    texts.append(repr(failed))
    state = backend.poll(task_id)
    for fault in (Fault.truncate(), Fault.http(403), Fault.reset()):
        fake_kling.inject("result", fault)
        attempt(lambda: backend.download(state, tmp_path / "x.mp4"))
    for bad in ({"kling_secret_key": "wrong-" + fake_kling.secret_key}, {"kling_api_base": "nonsense://x"}):
        attempt(lambda bad=bad: KlingLegacyBackend(replace(kling_settings, **bad), media_server.host).submit(req()))
    attempt(lambda: KlingLegacyBackend(kling_settings, None).submit(req()))
    # and whole runs, with their history records
    fake_kling.scenario = Scenario()
    fake_kling.inject("create", kling_error(1302, echo))
    fake_kling.inject("poll", Fault.http(401, code=1000, message=echo))
    request = req()
    texts.extend(repr(p) for p in run_all(backend, request, history, fake_clock))
    texts.append(repr(history.get(OWNER, request.run_id)))

    tokens = [r.headers.get("authorization", "").removeprefix("Bearer ") for r in fake_kling.requests]
    tokens = [t for t in tokens if t]
    assert len(tokens) > 50
    everything = "\n".join(texts) + "\n" + caplog.text
    assert "HTTP Request" in caplog.text  # httpx's own logger was captured
    for secret in (fake_kling.access_key, fake_kling.secret_key, *set(tokens)):
        assert secret not in everything
    assert "Bearer" not in everything
