"""Kling's signed callbacks (facts addendum A2): verification, the route, and runs woken by them.

The verification is the `standardwebhooks` library's; its clock (it reads `datetime.now`) is frozen
where a test needs a fixed time such as the A2 test vector's. The fake Kling signs with plain `hmac`
(tests/fakes/callbacks.py), so the vector proves both sides agree. End to end, the served app runs
against the fake on loopback with polling made very slow: a run finishes promptly only because a
signed callback woke it; with a wrong secret or none, callbacks are refused and polling finishes it.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kmc_ui import webhooks
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.backends.kling2 import Kling2Backend
from kmc_ui.history import History
from kmc_ui.jobs import PollPolicy
from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from kmc_ui.webhooks import CALLBACK_PATH, Refused, add_callback_routes, callback_url_for, parse, verify
from tests.fakes.callbacks import sign
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling, Scenario
from tests.fakes.kling2 import FakeKling2
from tests.fakes.server import ServerThread
from tests.runstore import stored_records

pytest_plugins = ["tests.fakes.fixtures"]

# Addendum A2's test vector.
SECRET = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI="
VECTOR_ID, VECTOR_TS = "9876543210", 1781080794
VECTOR_BODY = (
    b'{"id":"1234567890","status":"succeeded","message":"","create_time":1781080778802,"update_time":1781080794151}'
)
VECTOR_SIGNATURE = "v1,UsKlJP00XoQyOn410NM9xv34sP+Gl0jnOO9Lcpr7NJ4="
OTHER_SECRET = "whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldG90aGVyc2VjcmV0MTI="  # a rotated-out or wrong secret
MARKER = "BODY-TEXT-MUST-NOT-BE-LOGGED"
SLOW = PollPolicy(first=600, running=600, warmup=0, warmup_interval=600, queued=600, queued_far=600)
QUICK = PollPolicy(first=0.3, running=0.3, warmup=0, warmup_interval=0.3, queued=0.3, queued_far=0.3)


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Freeze the library's clock at a Unix time (standardwebhooks reads datetime.now(tz=utc))."""
    import standardwebhooks.webhooks as lib

    class Frozen(datetime):
        at = 0.0

        @classmethod
        def now(cls, tz: Any = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(cls.at, tz=tz)

    monkeypatch.setattr(lib, "datetime", Frozen)

    def set_time(at: float) -> None:
        Frozen.at = at

    return set_time


def signed(body: bytes, *secrets: str, msg_id: str = "msg_1", at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    signature = " ".join(sign(s, msg_id, stamp, body) for s in (secrets or (SECRET,)))
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


# ------------------------------------------------------------------------------ verification
def test_the_a2_test_vector_passes_and_both_signers_agree(freeze: Callable[[float], None]) -> None:
    from standardwebhooks import Webhook

    assert sign(SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE  # the fake's signer
    stamp = datetime.fromtimestamp(VECTOR_TS, tz=UTC)
    assert Webhook(SECRET).sign(VECTOR_ID, stamp, VECTOR_BODY.decode()) == VECTOR_SIGNATURE  # the library's
    freeze(VECTOR_TS + 30)
    headers = {"Webhook-Id": VECTOR_ID, "Webhook-Timestamp": str(VECTOR_TS), "Webhook-Signature": VECTOR_SIGNATURE}
    assert verify(SECRET, VECTOR_BODY, headers)["status"] == "succeeded"  # header names: any case


def test_a_rotation_passes_when_one_of_several_signatures_holds(freeze: Callable[[float], None]) -> None:
    freeze(VECTOR_TS)
    wrong = sign(OTHER_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    for header in (f"{wrong} {VECTOR_SIGNATURE}", f"{VECTOR_SIGNATURE} {wrong}", f"v2,abc  {VECTOR_SIGNATURE}"):
        hdrs = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": header}
        assert verify(SECRET, VECTOR_BODY, hdrs)["id"] == "1234567890"
    only_wrong = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": wrong}
    with pytest.raises(Refused, match="bad signature"):
        verify(SECRET, VECTOR_BODY, only_wrong)


@pytest.mark.parametrize(("offset", "ok"), [(-299, True), (299, True), (301, False), (-301, False), (3600, False)])
def test_the_timestamp_must_be_within_five_minutes(freeze: Callable[[float], None], offset: int, ok: bool) -> None:
    freeze(VECTOR_TS + offset)
    hdrs = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIGNATURE}
    if ok:
        assert verify(SECRET, VECTOR_BODY, hdrs)
    else:
        with pytest.raises(Refused, match="5-minute window"):
            verify(SECRET, VECTOR_BODY, hdrs)


@pytest.mark.parametrize(
    "change",
    [
        {},  # unsigned
        {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS)},  # no signature
        {"webhook-id": VECTOR_ID, "webhook-timestamp": "1781080794.0", "webhook-signature": VECTOR_SIGNATURE},
        {"webhook-id": VECTOR_ID, "webhook-timestamp": "soon", "webhook-signature": VECTOR_SIGNATURE},
        {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": "v1"},
        {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": "v1,not-base64!"},
        {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": "v1,AAAA"},
        {"webhook-id": "another", "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIGNATURE},
    ],
)
def test_unsigned_or_malformed_callbacks_are_refused(freeze: Callable[[float], None], change: dict[str, str]) -> None:
    freeze(VECTOR_TS)
    with pytest.raises(Refused) as refused:
        verify(SECRET, VECTOR_BODY, change)
    assert refused.value.status == 401


def test_a_tampered_body_is_refused(freeze: Callable[[float], None]) -> None:
    freeze(VECTOR_TS)
    hdrs = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIGNATURE}
    for body in (VECTOR_BODY.replace(b"succeeded", b"failed"), VECTOR_BODY + b" ", b"\xff" + VECTOR_BODY):
        with pytest.raises(Refused, match="bad signature"):
            verify(SECRET, body, hdrs)


def test_a_secret_that_is_not_whsec_base64_asks_for_no_callbacks() -> None:
    on = Settings(kling_webhook_secret=SECRET, public_base_url="https://kmc.example.org/")
    assert callback_url_for(on, "kling2", "run-1") == f"https://kmc.example.org{CALLBACK_PATH}/run-1"
    assert callback_url_for(on, "fal", "run-1") == ""
    assert callback_url_for(Settings(kling_webhook_secret=SECRET), "kling", "run-1") == ""  # no public URL
    plain = Settings(kling_webhook_secret=SECRET, public_base_url="http://kmc.example.org")
    assert callback_url_for(plain, "kling", "run-1") == ""  # Kling posts to HTTPS endpoints only
    assert callback_url_for(replace(plain, allow_private_urls=True), "kling", "run-1")  # (loopback tests)
    bad = Settings(kling_webhook_secret="whsec_", public_base_url="https://kmc.example.org")
    assert callback_url_for(bad, "kling", "run-1") == ""
    with pytest.raises(Refused) as refused:
        verify("whsec_", VECTOR_BODY, {})
    assert refused.value.status == 503


def test_both_body_shapes_are_read() -> None:
    legacy = {"task_id": "T1", "task_status": "succeed", "task_info": {"external_task_id": "run-1"}, "task_result": {}}
    assert parse(legacy) == webhooks.Event("legacy", "T1", "run-1", "succeed")
    api2 = {"id": "T2", "status": "processing", "message": "", "external_id": "run-2", "outputs": [], "billing": []}
    assert parse(api2) == webhooks.Event("api2", "T2", "run-2", "processing")
    assert parse({"id": "T3", "status": "weird"}) is None
    assert parse({"hello": 1}) is None


# -------------------------------------------------------------------------------------- route
OWNER = "cb-owner"


@pytest.fixture
def route(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    """The callback route on a bare app, over a real run store."""
    history = History(tmp_path / "data")
    studio = SimpleNamespace(
        settings=Settings(kling_webhook_secret=SECRET, data_dir=tmp_path / "data"), history=history
    )
    app = Starlette()
    add_callback_routes(app, studio)
    with TestClient(app) as client:
        yield client, studio
    history.close()


def make_run(studio: Any, run_id: str, **fields: Any) -> None:
    base = {"run_id": run_id, "provider": "kling", "status": "running", "task_id": "T-" + run_id}
    base["callback_url"] = f"https://kmc.example.org{CALLBACK_PATH}/{run_id}"
    studio.history.create(OWNER, base | fields)


def legacy_body(task_id: str, run_id: str, status: str = "processing") -> bytes:
    data = {
        "task_id": task_id,
        "task_status": status,
        "task_status_msg": MARKER,
        "task_info": {"external_task_id": run_id},
        "task_result": {"videos": [{"id": "v", "url": "https://cdn.example.org/" + MARKER, "duration": "3"}]},
    }
    return json.dumps(data).encode()


def post(client: TestClient, run_id: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post(f"{CALLBACK_PATH}/{run_id}", content=body, headers=headers)


def test_a_good_callback_updates_the_run_and_wakes_its_worker(route: tuple[TestClient, Any]) -> None:
    client, studio = route
    make_run(studio, "run-a")
    make_run(studio, "run-b")
    body = legacy_body("T-run-a", "run-a")
    event = webhooks.waker("run-a")  # the worker driving run-a runs in this process
    try:
        answer = post(client, "run-a", body, signed(body, msg_id="m1"))
        assert answer.status_code == 200
        assert event.is_set()
    finally:
        webhooks.forget("run-a", event)
    record = studio.history.get(OWNER, "run-a")
    assert record["provider_status"] == "processing" and record["callback_at"] and record["status"] == "running"
    assert studio.history.store.work.woken_at("run-a") is None  # woken in-process: no store flag needed
    # No worker of run-b here: the store carries the wake to the process that holds it.
    body_b = legacy_body("T-run-b", "run-b", "succeed")
    assert post(client, "run-b", body_b, signed(body_b, msg_id="m2")).status_code == 200
    assert studio.history.store.work.woken_at("run-b")
    assert studio.history.get(OWNER, "run-b")["status"] == "running"  # the worker's poll ends a run, not a callback
    # A redelivery of the same message, and a late "processing" after "succeed": harmless.
    assert post(client, "run-b", body_b, signed(body_b, msg_id="m2")).text == "Already received"
    late = legacy_body("T-run-b", "run-b", "processing")
    assert post(client, "run-b", late, signed(late, msg_id="m3")).status_code == 200
    assert studio.history.get(OWNER, "run-b")["provider_status"] == "succeed"


def test_an_api2_callback_before_the_task_id_is_recorded_matches_by_our_id(route: tuple[TestClient, Any]) -> None:
    client, studio = route
    make_run(studio, "run-c", provider="kling2", status="submitting", task_id=None)
    data = {"id": "870000000000007919", "status": "submitted", "message": "", "external_id": "run-c", "outputs": []}
    body = json.dumps(data).encode()
    assert post(client, "run-c", body, signed(body)).status_code == 200
    assert studio.history.get(OWNER, "run-c")["provider_status"] == "submitted"


def test_refused_callbacks_are_logged_without_their_body(
    route: tuple[TestClient, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client, studio = route
    caplog.set_level(logging.DEBUG)
    make_run(studio, "run-d")
    make_run(studio, "run-e")
    mine = legacy_body("T-run-d", "run-d")
    stale = signed(mine, msg_id="m-old", at=int(time.time()) - 600)
    cases = [
        ("run-d", mine, {}, 401),  # unsigned
        ("run-d", mine, signed(mine, OTHER_SECRET, msg_id="m-bad"), 401),  # another secret
        ("run-d", mine, stale, 401),  # older than 5 minutes
        ("run-d", mine.replace(b"processing", b"succeed"), signed(mine, msg_id="m-tamper"), 401),
        ("run-e", mine, signed(mine, msg_id="m-other"), 404),  # run-d's task posted to run-e
        ("nope", mine, signed(mine, msg_id="m-none"), 404),  # no such run
        ("../x", mine, signed(mine, msg_id="m-path"), 404),
    ]
    for run_id, body, headers, status in cases:
        assert post(client, run_id, body, headers).status_code == status, (run_id, headers)
    for run_id in ("run-d", "run-e"):
        record = studio.history.get(OWNER, run_id)
        assert "provider_status" not in record and "callback_at" not in record
        assert studio.history.store.work.woken_at(run_id) is None
    refusals = [r.getMessage() for r in caplog.records if "callback refused" in r.getMessage()]
    assert len(refusals) == len(cases) - 1  # (a path that is no route never reaches the handler)
    assert any("unsigned" in r for r in refusals) and any("5-minute window" in r for r in refusals)
    assert any("m-bad" in r and "run-d" in r for r in refusals)  # the reason, webhook-id and run id
    assert MARKER not in caplog.text and "T-run-d" not in caplog.text
    assert SECRET not in caplog.text and SECRET.removeprefix("whsec_") not in caplog.text
    assert "v1," not in caplog.text  # no signature either


def test_the_route_is_off_without_a_secret_and_refuses_huge_bodies(tmp_path: Path, route: Any) -> None:
    client, studio = route
    make_run(studio, "run-f")
    huge = b"{" + b" " * (webhooks.MAX_BODY_BYTES + 1) + b"}"
    assert post(client, "run-f", huge, signed(huge)).status_code == 413
    studio.settings = Settings(data_dir=tmp_path / "data")
    body = legacy_body("T-run-f", "run-f")
    assert post(client, "run-f", body, signed(body)).status_code == 404


def test_an_ended_run_is_left_as_it_ended(route: tuple[TestClient, Any]) -> None:
    client, studio = route
    make_run(studio, "run-g", status="succeeded", provider_status="succeed")
    body = legacy_body("T-run-g", "run-g", "failed")
    assert post(client, "run-g", body, signed(body)).status_code == 200
    record = studio.history.get(OWNER, "run-g")
    assert record["status"] == "succeeded" and record["provider_status"] == "succeed" and "callback_at" not in record


# ----------------------------------------------------------------------- runs woken by callbacks
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(quick_kling: FakeKling, tmp_path: Path) -> Iterator[Callable[[PollPolicy], tuple[Any, Settings]]]:
    """Serve the real app (Gradio + media + callback routes) on loopback against the fake Kling,
    its KMC_PUBLIC_BASE_URL its own address and KLING_WEBHOOK_SECRET set."""
    from gradio_client import Client

    from kmc_ui.server import launch

    opened: list[tuple[Any, Any]] = []

    def start(poll: PollPolicy) -> tuple[Any, Settings]:
        port = free_port()
        settings = kling_app_settings(quick_kling, f"http://127.0.0.1:{port}", tmp_path / "data")
        settings = replace(settings, kling_webhook_secret=SECRET)
        demo = launch(settings, block=False, poll=poll, server_name="127.0.0.1", server_port=port, quiet=True)
        client = Client(demo.local_url, verbose=False)
        opened.append((demo, client))
        return client, settings

    yield start
    for demo, client in opened:
        client.close()
        demo.close()


def generate(client: Any, image: Path, video: Path) -> dict[str, Any]:
    from gradio_client import handle_file

    args: dict[str, Any] = {"image": handle_file(str(image)), "video": handle_file(str(video)), "backend": "kling"}
    # Any other input the page may add keeps its default, or is left empty (None) when it has none.
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/generate"]["parameters"]
    for param in params:
        if param["parameter_name"] not in args and not param.get("parameter_has_default"):
            args[param["parameter_name"]] = None
    job = client.submit(**args, api_name="/generate")
    status, _player, _download, record, _pending = job.result(timeout=180)
    assert "Done" in status, status
    return record


def test_a_signed_callback_finishes_a_run_long_before_its_next_poll(
    served: Callable[[PollPolicy], tuple[Any, Settings]],
    quick_kling: FakeKling,
    character_image: Path,
    reference_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The fake signs with the old and the new secret, as during a rotation; polls are 10 minutes apart.
    quick_kling.webhooks.secrets = [OTHER_SECRET, SECRET]
    quick_kling.scenario = Scenario(submitted_s=1.0, processing_s=1.0)  # a callback for each status
    client, settings = served(SLOW)
    record = generate(client, character_image, reference_video)  # (180 s at most: the first poll would be at 600 s)
    assert record["status"] == "succeeded" and record["provider_status"] == "succeed"
    (create,) = quick_kling.requests_at("create")
    run_id = record["run_id"]
    assert create.json["callback_url"] == f"{settings.public_base_url}{CALLBACK_PATH}/{run_id}"
    sent = [s for s in quick_kling.webhooks.sent if s.url.endswith(run_id)]
    assert [s.status for s in sent] == ["submitted", "processing", "succeed"] and all(s.answer == 200 for s in sent)
    assert len(sent[0].headers["webhook-signature"].split()) == 2
    assert len(quick_kling.requests_at("poll")) <= len(sent) + 1  # polled when woken, not on a timer
    # The secret is nowhere: not in the logs, the records, or anything sent to the provider.
    stored = json.dumps(stored_records(settings.data_dir))
    for text in (caplog.text, stored, create.body.decode()):
        assert SECRET not in text and SECRET.removeprefix("whsec_") not in text
    assert all(s.headers["webhook-signature"] not in caplog.text for s in sent)


@pytest.mark.parametrize("secrets", [[OTHER_SECRET], []], ids=["wrong-secret", "unsigned"])
def test_refused_callbacks_leave_the_run_to_polling(
    served: Callable[[PollPolicy], tuple[Any, Settings]],
    quick_kling: FakeKling,
    character_image: Path,
    reference_video: Path,
    caplog: pytest.LogCaptureFixture,
    secrets: list[str],
) -> None:
    caplog.set_level(logging.INFO)
    quick_kling.webhooks.secrets = secrets
    client, _settings = served(QUICK)
    record = generate(client, character_image, reference_video)
    assert record["status"] == "succeeded"
    sent = quick_kling.webhooks.sent
    assert sent and all(s.answer == 401 for s in sent)
    ours = [r.getMessage() for r in caplog.records if r.name == "kmc_ui.webhooks"]
    assert ours and all("callback refused (" in m for m in ours)
    bodies = [s.body.decode() for s in sent]
    for message in ours:  # the reason, the webhook-id and the run id; nothing of the body
        assert "{" not in message and "task_status" not in message and "fake-cdn" not in message
        assert not any(body in message for body in bodies)


def test_a_callback_taken_by_another_process_wakes_the_worker_through_the_store(
    quick_kling: FakeKling, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    """The run's worker polls every 10 minutes; a wake recorded in the store (as another app process
    that received the callback records it) makes it poll at once."""
    settings = kling_app_settings(quick_kling, media_server.url, tmp_path / "data")
    settings = replace(settings, kling_webhook_secret=SECRET)
    backend = KlingLegacyBackend(settings, media_server.host)
    studio = Studio(settings, {"kling": backend}, poll=SLOW)
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling")
    steps = studio.generate(inputs, OWNER)
    first = next(step for step in steps if step.run_id)
    run_id = first.run_id
    deadline = time.monotonic() + 60
    while not (studio.history.get(OWNER, run_id) or {}).get("task_id") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert studio.history.get(OWNER, run_id)["callback_url"]
    done = threading.Event()

    def wake_until_done() -> None:
        while not done.is_set():
            studio.history.store.work.wake(run_id, time.time())
            done.wait(0.5)

    threading.Thread(target=wake_until_done, daemon=True).start()
    try:
        last = None
        for step in steps:
            last = step
        assert last is not None and last.stage == "done", last
    finally:
        done.set()
        steps.close()
        backend.close()
        studio.close()
    assert studio.history.get(OWNER, run_id)["status"] == "succeeded"


def test_api2_callbacks_wake_a_run_on_kling2(
    kling2_server: FakeKling2, tmp_path: Path, fake_media_dir: Path, character_image: Path, reference_video: Path
) -> None:
    """API 2.0's body shape (`id`, `status`, `external_id`, `outputs[]`), signed, on an app serving its
    media and the callback route from one loopback server; polls are 10 minutes apart."""
    kling2_server.reset()
    # each status lasts long enough for the fake's 20 ms watcher to see it on a loaded machine (at
    # 0.5 s, CI once saw only "succeeded")
    kling2_server.scenario = Scenario(submitted_s=1.5, processing_s=1.5)
    kling2_server.webhooks.secrets = [SECRET]
    app = Starlette()
    server = ServerThread(app)
    host = MediaHost(server.url, [tmp_path, fake_media_dir], allow_private=True)
    settings = Settings(
        backend="kling2",
        kling_api_key=kling2_server.api_key,
        kling_api_base=kling2_server.base_url,
        public_base_url=server.url,
        allow_private_urls=True,
        data_dir=tmp_path / "data",
        kling_webhook_secret=SECRET,
    )
    backend = Kling2Backend(settings, host)
    studio = Studio(settings, {"kling2": backend}, media_host=host, poll=SLOW)
    add_media_routes(app, host)
    add_callback_routes(app, studio)
    server.start()
    try:
        inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling2")
        steps = list(studio.generate(inputs, OWNER))
        assert steps[-1].stage == "done", steps[-1]
        (create,) = kling2_server.requests_at("create")
        run_id = steps[-1].run_id
        assert create.json["options"]["callback_url"] == f"{server.url}{CALLBACK_PATH}/{run_id}"
        sent = kling2_server.webhooks.sent
        assert [s.status for s in sent] == ["submitted", "processing", "succeeded"]
        assert all(s.answer == 200 for s in sent) and sent[-1].json["outputs"][0]["type"] == "video"
        assert sent[0].json["external_id"] == run_id
        assert studio.history.get(OWNER, run_id)["status"] == "succeeded"
    finally:
        kling2_server.reset()
        backend.close()
        studio.close()
        server.stop()


def test_a_flood_of_forged_callbacks_does_not_fill_the_log(
    route: tuple[TestClient, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, studio = route
    monkeypatch.setattr(webhooks, "_refused", webhooks._RefusalLog(limit=5, window=3600))
    make_run(studio, "run-h")
    body = legacy_body("T-run-h", "run-h")
    for n in range(40):
        assert post(client, "run-h", body, signed(body, OTHER_SECRET, msg_id=f"f{n}")).status_code == 401
    lines = [r for r in caplog.records if "callback refused" in r.getMessage()]
    assert len(lines) == 5
    webhooks._refused.start = -1e9  # a new minute: the next line counts what was left out
    post(client, "run-h", body, {})
    assert "35 more refused and not logged" in caplog.records[-1].getMessage()


def test_a_wake_ends_the_wait_before_the_next_status_check(
    fake_kling: FakeKling,
    kling_settings: Settings,
    media_server: Any,
    fake_clock: Any,
    tmp_path: Path,
    character_image: Path,
    reference_video: Path,
) -> None:
    """jobs.run_job alone, on a fake clock: polls a minute apart, the task done at once at the
    provider. Woken, the first status check is at 0 s; not woken, at 60 s."""
    from kmc_ui.backends.base import JobRequest
    from kmc_ui.jobs import run_job

    fake_kling.scenario = Scenario(submitted_s=0, processing_s=0)
    backend = KlingLegacyBackend(kling_settings, media_server.host)
    history = History(tmp_path / "jobs")
    try:
        slow = PollPolicy(first=60, running=60, warmup=0, warmup_interval=60, queued=60, queued_far=60)
        for woken, first_poll in ((True, 0.0), (False, 60.0)):
            fake_kling.requests.clear()
            run_id = f"wake-{woken}"
            history.create(OWNER, {"run_id": run_id, "status": "created"})
            wake = threading.Event()
            if woken:
                wake.set()  # a callback came in while the create was being answered
            request = JobRequest(character_image, reference_video, run_id=run_id)
            steps = list(run_job(backend, request, history, OWNER, poll=slow, clock=fake_clock.clock(), wake=wake))
            assert steps[-1].stage == "done"
            (create, first, *_) = fake_kling.requests_at("create") + fake_kling.requests_at("poll")
            assert first.at - create.at == first_poll, steps[-1].text
            assert not wake.is_set()
    finally:
        backend.close()
        history.close()


def test_the_consoles_test_callback_checks_the_secret(
    route: tuple[TestClient, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Kling's console test (facts A2: `status "submitted"`, `outputs []`) posted to the bare path."""
    client, _studio = route
    caplog.set_level(logging.INFO)
    body = json.dumps({"id": "1234567890", "status": "submitted", "message": "", "outputs": []}).encode()
    ok = client.post(CALLBACK_PATH, content=body, headers=signed(body, msg_id="t1"))
    assert ok.status_code == 200 and "Kling test callback verified" in caplog.text
    bad = client.post(CALLBACK_PATH, content=body, headers=signed(body, OTHER_SECRET, msg_id="t2"))
    assert bad.status_code == 401 and "t2" in caplog.text
