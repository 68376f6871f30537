"""What each provider's wire looks like: the exact requests the backends send, and that the fakes
refuse what the providers refuse (so a passing contract suite means something).

The shared behaviour (faults, retries, resume) is in test_backend_contract.py; this file holds
only what differs between providers.
"""

from __future__ import annotations

import base64
import itertools
import random
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from PIL import Image

from kmc_ui.backends.base import Backend, FindsTasks, InvalidRequest, JobRequest, KeepsTaskData, NotConfigured
from kmc_ui.backends.fal import FalBackend, detail_text, rest_base_for
from kmc_ui.backends.kling2 import Kling2Backend
from kmc_ui.backends.registry import FACTORIES, KEY_FIELDS, build_backend, build_backends
from kmc_ui.backends.replicate import DATA_URL_MAX_BYTES, ReplicateBackend, problem_text
from kmc_ui.history import History
from kmc_ui.jobs import run_job
from kmc_ui.limits import FAL_MODEL_IDS, REPLICATE_MODELS
from kmc_ui.media.hosting import MediaHost
from kmc_ui.settings import Settings
from tests.fakes import FakeClock
from tests.fakes.fal import FakeFal
from tests.fakes.fal import Scenario as FalScenario
from tests.fakes.kling2 import FakeKling2
from tests.fakes.providers import KITS

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "wire"
_ids = itertools.count(1)


def req(image: Path, video: Path, **kw: object) -> JobRequest:
    fields: dict[str, object] = {"run_id": f"w{next(_ids)}-{int(time.time() * 1000)}"}
    fields.update(kw)
    return JobRequest(image_path=image, video_path=video, **fields)  # type: ignore[arg-type]


@pytest.fixture
def fal(fal_server: FakeFal):
    fal_server.reset()
    yield fal_server
    fal_server.reset()


@pytest.fixture
def kling2(kling2_server: FakeKling2):
    kling2_server.reset()
    yield kling2_server
    kling2_server.reset()


@pytest.fixture
def replicate(replicate_server):
    replicate_server.reset()
    yield replicate_server
    replicate_server.reset()


@pytest.fixture
def big_image(tmp_path: Path) -> Path:
    """A noisy PNG well over Replicate's data-URL threshold."""
    path = tmp_path / "big.png"
    rng = random.Random(5)
    Image.frombytes("RGB", (640, 900), bytes(rng.getrandbits(8) for _ in range(640 * 900 * 3))).save(path)
    assert path.stat().st_size > DATA_URL_MAX_BYTES
    return path


# -- Kling API 2.0 ---------------------------------------------------------------------------


def test_kling2_request_shape_auth_and_lookup(
    kling2: FakeKling2, media_server, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    kit = KITS["kling2"](kling2)
    backend = kit.backend(kit.settings(media_server.url, tmp_path), media_server.host)
    assert isinstance(backend, Kling2Backend) and isinstance(backend, FindsTasks)
    request = req(character_image, reference_video, prompt="neon stage", orientation="image", tier="pro", model="v3")
    task_id = backend.submit(request)
    (create,) = kling2.requests_at("create")
    assert create.path == "/motion-control/kling-3.0"
    assert create.headers["authorization"] == f"Bearer {kling2.api_key}"
    body = create.json
    video_url = body["contents"][2].pop("url")
    assert video_url.startswith(media_server.url + "/kmc-media/")
    assert body == {
        "contents": [
            {"type": "prompt", "text": "neon stage"},
            {"type": "image", "url": base64.b64encode(character_image.read_bytes()).decode()},
            {"type": "video"},
        ],
        "settings": {"character_orientation": "image", "audio": "original", "resolution": "1080p"},
        "options": {"external_task_id": request.run_id},
    }
    state = backend.poll(task_id)
    assert (state.status, state.raw_status) == ("succeeded", "succeeded")
    assert state.result_url.endswith(".mp4") and state.result_duration == pytest.approx(3.5, abs=0.1)
    assert kling2.requests_at("poll")[-1].query == {"task_ids": task_id}
    assert backend.find_task(request.run_id) == task_id
    assert kling2.requests_at("poll")[-1].query == {"external_task_ids": request.run_id}
    assert backend.find_task("never-sent") is None
    defaults = req(character_image, reference_video, keep_sound=False)
    backend.submit(defaults)
    body = kling2.requests_at("create")[-1].json
    assert create.path == "/motion-control/kling-3.0"
    assert kling2.requests_at("create")[-1].path == "/motion-control/kling-2.6"
    assert [c["type"] for c in body["contents"]] == ["image", "video"]
    assert body["settings"] == {"character_orientation": "video", "audio": "off", "resolution": "720p"}


def test_kling2_fake_refuses_what_the_api_refuses(kling2: FakeKling2, character_image: Path) -> None:
    def post(body: dict, key: str | None = None, path: str = "/motion-control/kling-2.6") -> tuple[int, int, str]:
        headers = {"Authorization": f"Bearer {key or kling2.api_key}"}
        r = httpx.post(kling2.base_url + path, json=body, headers=headers)
        return r.status_code, r.json()["code"], r.json()["message"]

    image = base64.b64encode(character_image.read_bytes()).decode()
    good = {
        "contents": [{"type": "image", "url": image}, {"type": "video", "url": "http://127.0.0.1:9/v.mp4"}],
        "settings": {"character_orientation": "video"},
    }
    assert post({**good, "mode": "std"}) == (400, 1201, "Unknown parameter: mode")
    assert post({**good, "settings": {"character_orientation": "video", "audio": "yes"}}) == (
        400,
        1201,
        "settings.audio must be one of original, off",
    )
    assert post({**good, "settings": {}}) == (400, 1201, "settings.character_orientation is required")
    data_image = {**good, "contents": [{"type": "image", "url": "data:image/png;base64," + image}, good["contents"][1]]}
    assert post(data_image)[:2] == (400, 1201)
    assert post(good, path="/motion-control/kling-9")[:2] == (404, 1203)
    assert post(good, key="wrong")[:2] == (401, 1000)
    assert post({**good, "options": {"external_task_id": "x", "mode": "pro"}})[:2] == (400, 1201)
    assert (
        httpx.get(kling2.base_url + "/tasks", headers={"Authorization": f"Bearer {kling2.api_key}"}).json()["code"]
        == 1201
    )


# -- fal -----------------------------------------------------------------------------------


def test_fal_uploads_then_queues_on_the_tier_path_with_exact_fields(
    fal: FakeFal, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    kit = KITS["fal"](fal)
    backend = kit.backend(kit.settings("", tmp_path), None)  # no public URL needed
    assert backend.video_transport().kind == "provider_upload"
    task_id = backend.submit(req(character_image, reference_video, tier="pro", model="v3", keep_sound=False))
    initiates = fal.requests_at("upload")
    puts = fal.requests_at("upload_put")
    assert [r.json for r in initiates] == [
        {"file_name": "character.png", "content_type": "image/png"},
        {"file_name": "motion.mp4", "content_type": "video/mp4"},
    ]
    assert all(r.query == {"storage_type": "fal-cdn-v3"} for r in initiates)
    assert all(r.headers["authorization"] == f"Key {fal.key}" for r in initiates)
    assert [len(p.body) for p in puts] == [character_image.stat().st_size, reference_video.stat().st_size]
    assert [p.headers["content-type"] for p in puts] == ["image/png", "video/mp4"]
    assert not any(p.extra["authorization"] for p in puts)  # the key never goes to the storage link
    (create,) = fal.requests_at("create")
    assert create.path == "/" + FAL_MODEL_IDS[("v3", "pro")]
    assert create.headers["authorization"] == f"Key {fal.key}"
    body = create.json
    assert set(body) == {"image_url", "video_url", "character_orientation", "keep_original_sound"}
    assert body["keep_original_sound"] is False and body["character_orientation"] == "video"
    assert body["video_url"].startswith(fal.base_url + "/fake-files/")
    task = fal.tasks[task_id]
    assert task.fetch["status"] == 200 and task.fetch["bytes"] == reference_video.stat().st_size
    assert task.image["format"] == "PNG"
    assert isinstance(backend, KeepsTaskData)
    links = backend.task_data(task_id)
    assert links["status_url"] == f"{fal.base_url}/fal-ai/kling-video/requests/{task_id}/status"
    # a retried submit does not upload the files again
    backend.submit(req(character_image, reference_video))
    assert len(fal.requests_at("upload")) == 2
    assert fal.requests_at("create")[-1].path == "/" + FAL_MODEL_IDS[("v2.6", "std")]
    assert fal.requests_at("create")[-1].json["keep_original_sound"] is True


def test_fal_uses_the_returned_links_as_given(fal: FakeFal, character_image: Path, tmp_path: Path) -> None:
    """The fake answers 405 when a client builds the status path from the model id with its subpath."""
    kit = KITS["fal"](fal)
    backend = kit.backend(kit.settings("", tmp_path), None)
    url = "https://example.invalid/x.mp4"
    task_id = backend.submit(req(character_image, character_image, video_url=url, image_url=url))
    model = FAL_MODEL_IDS[("v2.6", "std")]
    headers = {"Authorization": f"Key {fal.key}"}
    built = httpx.get(f"{fal.base_url}/{model}/requests/{task_id}/status", headers=headers)
    assert built.status_code == 405
    backend.poll(task_id)
    (poll,) = fal.requests_at("poll")
    assert poll.path == f"/fal-ai/kling-video/requests/{task_id}/status"
    assert fal.requests_at("wrong")[0].path.startswith("/" + model + "/requests/")


def test_fal_fake_refuses_unknown_and_mistyped_fields(fal: FakeFal) -> None:
    headers = {"Authorization": f"Key {fal.key}"}
    url = fal.base_url + "/" + FAL_MODEL_IDS[("v2.6", "std")]
    good = {"image_url": "https://x.test/a.png", "video_url": "https://x.test/v.mp4", "character_orientation": "video"}

    def post(body: dict, h: dict | None = None) -> tuple[int, object]:
        r = httpx.post(url, json=body, headers=headers if h is None else h)
        return r.status_code, r.json()["detail"]

    status, detail = post({**good, "mode": "pro"})
    assert status == 422 and detail[0]["loc"] == ["body", "mode"] and detail[0]["type"] == "extra_forbidden"
    assert post({**good, "keep_original_sound": "yes"})[1][0]["type"] == "bool_type"
    assert post({**good, "character_orientation": "side"})[0] == 422
    assert post({**good, "prompt": "x" * 2501})[0] == 422
    assert post(good, {"Authorization": f"Bearer {fal.key}"})[0] == 401
    assert post(good, {})[0] == 401
    assert httpx.get(url, headers=headers).status_code == 405


def test_fal_reports_the_queue_position_and_completed_is_checked_against_the_result(
    fal: FakeFal, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    kit = KITS["fal"](fal)
    backend = kit.backend(kit.settings("", tmp_path), None)
    history = History(tmp_path / "data")
    clock = FakeClock()
    fal.clock = clock.now
    fal.scenario = FalScenario(submitted_s=40, processing_s=60, queue_position=8)
    request = req(character_image, reference_video)
    history.create(OWNER, {"run_id": request.run_id})
    steps = list(run_job(backend, request, history, OWNER, clock=clock.clock()))
    assert steps[-1].stage == "done"
    positions = [s.queue_position for s in steps if s.stage == "queued" and s.queue_position is not None]
    assert positions[0] == 7 and positions == sorted(positions, reverse=True)
    assert any(s.text == f"Queued at fal.ai (position {positions[0]})…" for s in steps)
    polls = [r.at for r in fal.requests_at("poll")]
    assert polls[1] - polls[0] == 8.0  # far back in the queue: polled slowly
    assert len(fal.requests_at("response")) == 1  # the result body read once, at COMPLETED

    # COMPLETED whose result has no video is a failure, not a success
    state_request = req(character_image, reference_video)
    task_id = backend.submit(state_request)
    clock.advance(200)
    fal.inject("response", _json_ok({"images": []}))
    state = backend.poll(task_id)
    assert (state.status, state.message) == ("failed", "fal reported COMPLETED but the result has no video")


def _json_ok(body: dict):
    from tests.fakes import Fault

    return Fault.json(200, body)


def test_fal_detail_shapes() -> None:
    assert detail_text("Request is still in progress") == ("Request is still in progress", "")
    assert detail_text([{"loc": ["body", "video_url"], "msg": "bad", "type": "value_error"}]) == (
        "video_url: bad",
        "value_error",
    )
    assert detail_text(None) == ("", "")
    assert rest_base_for("https://queue.fal.run") == "https://rest.alpha.fal.ai"
    assert rest_base_for("http://127.0.0.1:9") == "http://127.0.0.1:9"


def test_fal_resume_needs_the_recorded_links(fal: FakeFal, tmp_path: Path) -> None:
    kit = KITS["fal"](fal)
    backend = kit.backend(kit.settings("", tmp_path), None)
    with pytest.raises(NotConfigured) as info:
        backend.poll("unknown-request")
    assert "generate again" in info.value.fix
    backend.restore_task("r1", {"status_url": "file:///etc/passwd", "response_url": "x", "cancel_url": "y"})
    assert backend.task_data("r1") == {}  # only http(s) links are taken back
    assert backend.cancel("unknown") is False


# -- Replicate -------------------------------------------------------------------------------


def test_replicate_request_shape_small_image_inline_video_by_url(
    replicate, media_server, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    kit = KITS["replicate"](replicate)
    backend = kit.backend(kit.settings(media_server.url, tmp_path), media_server.host)
    assert backend.video_transport().kind == "media_host"
    assert backend.video_transport("https://x.test/v.mp4").kind == "user_url"
    task_id = backend.submit(req(character_image, reference_video, prompt="rain", tier="pro", orientation="image"))
    (create,) = replicate.requests_at("create")
    assert create.path == f"/v1/models/{REPLICATE_MODELS['v2.6']}/predictions"
    assert create.headers["authorization"] == f"Bearer {replicate.token}"
    given = create.json["input"]
    assert list(create.json) == ["input"]
    image, video = given.pop("image"), given.pop("video")
    assert image == "data:image/png;base64," + base64.b64encode(character_image.read_bytes()).decode()
    assert video.startswith(media_server.url + "/kmc-media/")
    assert given == {"mode": "pro", "character_orientation": "image", "keep_original_sound": True, "prompt": "rain"}
    prediction = replicate.tasks[task_id]
    assert prediction.fetch["status"] == 200 and prediction.image["data_url"] is True
    state = backend.poll(task_id)
    assert state.status == "succeeded" and state.result_url.endswith("/output.mp4")
    assert replicate.requests_at("poll")[0].path == f"/v1/predictions/{task_id}"


def test_replicate_big_image_goes_by_url_and_no_public_url_is_a_clear_error(
    replicate, media_server, big_image: Path, reference_video: Path, character_image: Path, tmp_path: Path
) -> None:
    kit = KITS["replicate"](replicate)
    backend = kit.backend(kit.settings(media_server.url, tmp_path), media_server.host)
    task_id = backend.submit(req(big_image, reference_video, model="v3"))
    given = replicate.requests_at("create")[0].json["input"]
    assert given["image"].startswith(media_server.url + "/kmc-media/")
    assert replicate.tasks[task_id].image["width"] == 640
    assert replicate.requests_at("create")[0].path == f"/v1/models/{REPLICATE_MODELS['v3']}/predictions"

    hostless = kit.backend(kit.settings("", tmp_path), MediaHost("", [tmp_path]))
    assert hostless.video_transport().kind == "none"
    assert hostless.ready() == (
        True,
        "Paste a public video URL: local videos cannot be handed to Replicate (KMC_PUBLIC_BASE_URL is not set).",
    )
    with pytest.raises(NotConfigured) as info:
        hostless.submit(req(character_image, reference_video))
    assert "KMC_PUBLIC_BASE_URL" in info.value.fix and "paste a public URL" in info.value.fix
    with pytest.raises(NotConfigured) as info:
        hostless.submit(req(big_image, reference_video, video_url="https://x.test/v.mp4"))
    assert "smaller image" in info.value.fix
    assert replicate.create_count == 1


def test_replicate_errors_and_fake_validation(replicate, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {replicate.token}"}
    url = f"{replicate.base_url}/v1/models/{REPLICATE_MODELS['v2.6']}/predictions"
    good = {"image": "https://x.test/a.png", "video": "https://x.test/v.mp4", "mode": "std"}
    r = httpx.post(url, json={"input": {**good, "mode": "ultra"}}, headers=headers)
    assert r.status_code == 422 and r.json()["invalid_fields"][0]["field"] == "input.mode"
    assert problem_text(r.json()) == 'input.mode: mode must be one of the following: "std", "pro"'
    assert httpx.post(url, json={"input": {**good, "seed": 1}}, headers=headers).status_code == 422
    assert httpx.post(url, json={**good}, headers=headers).status_code == 422
    assert httpx.post(url, json={"input": good}, headers={"Authorization": "Bearer nope"}).status_code == 401
    other = f"{replicate.base_url}/v1/models/kwaivgi/kling-v9/predictions"
    assert httpx.post(other, json={"input": good}, headers=headers).status_code == 404
    kit = KITS["replicate"](replicate)
    backend = kit.backend(kit.settings("", tmp_path), None)
    with pytest.raises(InvalidRequest) as info:
        backend.submit(req(tmp_path / "x.png", tmp_path / "v.mp4", image_url="notaurl", video_url="https://x.test/v"))
    assert "Does not match format 'uri'" in info.value.message


# -- registry, per-session keys, transports --------------------------------------------------


def test_registry_builds_every_backend_and_per_session_keys_stay_in_the_object(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    backends = build_backends(settings, None)
    assert list(backends) == list(FACTORIES)
    hosted = ["kling", "kling2", "fal", "replicate"]
    assert [name for name in backends if name in KEY_FIELDS] == list(KEY_FIELDS) == hosted
    for backend in (backends[name] for name in hosted):
        assert isinstance(backend, Backend)
        ok, why = backend.ready()
        assert ok is False and (("Set " in why and "key box" in why) or "in .env" in why)
    session = build_backends(settings, None, overrides={"fal_key": "  sess-key-123456  ", "kling_api_key": ""})
    assert session["fal"].ready() == (True, "")
    assert session["kling2"].ready()[0] is False  # empty box: falls back to settings (unset)
    assert settings.fal_key == ""  # nothing stored in the shared settings
    assert "sess-key" not in repr(session["fal"])
    one = build_backend("replicate", settings, None, overrides={"replicate_api_token": "r8_abcdefgh"})
    assert isinstance(one, ReplicateBackend) and one.ready()[0] is True
    with pytest.raises(ValueError, match="only key fields"):
        build_backends(settings, None, overrides={"fal_queue_base": "http://evil.test"})
    assert isinstance(build_backend("fal", replace(settings, fal_key="k"), None), FalBackend)


def hosted(settings: Settings, host: MediaHost | None) -> dict[str, Backend]:
    return {name: b for name, b in build_backends(settings, host).items() if name in KEY_FIELDS}


def test_every_backend_says_how_the_video_travels(tmp_path: Path) -> None:
    public = MediaHost("https://me.hf.space", [tmp_path])
    settings = Settings(kling_access_key="a", kling_secret_key="b", kling_api_key="c", fal_key="d")
    settings = replace(settings, replicate_api_token="e")
    kinds = {name: b.video_transport().kind for name, b in hosted(settings, public).items()}  # type: ignore[attr-defined]
    assert kinds == {"kling": "media_host", "kling2": "media_host", "fal": "provider_upload", "replicate": "media_host"}
    none = {name: b.video_transport() for name, b in hosted(settings, None).items()}  # type: ignore[attr-defined]
    assert {n: t.kind for n, t in none.items()} == {
        "kling": "none",
        "kling2": "none",
        "fal": "provider_upload",
        "replicate": "none",
    }
    assert all("KMC_PUBLIC_BASE_URL" in t.text for n, t in none.items() if t.kind == "none")
    given = {n: b.video_transport("https://x.test/v.mp4").kind for n, b in hosted(settings, None).items()}  # type: ignore[attr-defined]
    assert set(given.values()) == {"user_url"}
