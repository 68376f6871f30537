"""Runs belong to the server: a run outlives the page watching it, a SIGKILL of its app, and Stop
still stops it.

The app processes here are real separate Python processes (tests/fakes/generate_worker.py) on the
same data folder, against the loopback fake providers. Each is killed with SIGKILL at one stage
of a run (waiting on the queue, sending the create, polling, downloading); then an app is started
again with no client at all, and the run must finish by itself with exactly one task at the provider.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.fakes.faults import Fault
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling, Scenario
from tests.fakes.providers import Kit
from tests.raw_queue import generate_then_leave
from tests.runstore import stored_records

pytest_plugins = ["tests.fakes.fixtures"]

REPO = Path(__file__).resolve().parents[1]
OWNER = "restarted"


def app_process(kit: Kit, data_dir: Path, image: Path, video: Path, **extra: Any) -> subprocess.Popen[str]:
    settings = {kit.base_setting: kit.fake.base_url, **kit.key_settings(kit.fake), "lease_seconds": 3.0}
    settings |= extra.pop("settings", {})
    spec = {"settings": settings, "data_dir": str(data_dir), "image": str(image), "video": str(video)}
    spec |= {"backend": kit.name, "owner": OWNER, **extra}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.generate_worker", json.dumps(spec)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_when(proc: subprocess.Popen[str], data_dir: Path, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """SIGKILL the app as soon as its one run's record satisfies `ready`; that record."""
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"the app ended early:\n{proc.stdout.read() if proc.stdout else ''}")
            records = stored_records(data_dir, OWNER)
            if records and ready(records[0]):
                return records[0]
            time.sleep(0.05)
        raise AssertionError(f"the run never reached the stage: {stored_records(data_dir, OWNER)}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def restart_and_finish(kit: Kit, data_dir: Path, image: Path, video: Path) -> dict[str, Any]:
    """Start the app again (workers only, no client) and wait for the run to end; its record."""
    proc = app_process(kit, data_dir, image, video, mode="restart")
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the restarted app did not finish the run: {stored_records(data_dir, OWNER)}") from None
    assert proc.returncode == 0 and "idle" in out, out
    (record,) = stored_records(data_dir, OWNER)
    return record


def fetched(kit: Kit) -> bool:
    """The provider made its task and has read the reference video from the app's link."""
    return any(task.fetch for task in list(kit.fake.tasks.values()))


STAGES: dict[str, tuple[dict[str, Any], Callable[[Kit], None], Callable[[dict[str, Any], Kit], bool]]] = {
    # the app has no worker threads: the run waits on the queue when the app dies
    "queued": ({"settings": {"workers": 0}}, lambda kit: None, lambda r, kit: r["status"] == "queued"),
    # the create reached the provider, which made the task; its answer never came back
    "submitting": (
        {},
        lambda kit: kit.fake.inject("create", Fault.timeout(60, after=True)),
        lambda r, kit: r["status"] == "submitting" and fetched(kit),
    ),
    "running": ({}, lambda kit: None, lambda r, kit: bool(r.get("task_id")) and bool(kit.requests("poll"))),
    "downloading": (
        {},
        lambda kit: kit.fake.inject("result", Fault.delay(60)),
        lambda r, kit: r["status"] == "downloading" and bool(kit.requests("result")),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("kit", ["kling"], indirect=True)
@pytest.mark.parametrize("stage", list(STAGES))
def test_a_run_killed_at_any_stage_finishes_after_a_restart_without_a_client(
    kit: Kit, stage: str, tmp_path: Path, character_image: Path, reference_video: Path, result_video: Path
) -> None:
    extra, arm, ready = STAGES[stage]
    kit.scenario(submitted_s=0.5, processing_s=1.0 if stage != "running" else 3600)
    arm(kit)
    data_dir = tmp_path / "data"
    proc = app_process(kit, data_dir, character_image, reference_video, **extra)
    killed = kill_when(proc, data_dir, lambda r: ready(r, kit))
    assert proc.returncode == -signal.SIGKILL
    kit.fake.faults.clear()
    if stage == "running":
        shift = 10_000.0  # the provider finishes while no app runs
        kit.fake.clock = lambda: time.monotonic() + shift

    record = restart_and_finish(kit, data_dir, character_image, reference_video)
    assert record["status"] == "succeeded", record
    assert record["run_id"] == killed["run_id"]
    assert Path(record["output"]).read_bytes() == result_video.read_bytes()
    assert kit.create_count == 1, f"{kit.create_count} tasks were created for one run"
    assert kit.requests("cancel") == []
    if stage == "submitting":  # found by our id at the provider, not sent again
        assert kit.requests("poll") or kit.requests("list")  # looked up by our id (directly, or in the list)
        assert record["task_id"] == kit.fake.task_by_external(record["run_id"]).task_id


@pytest.mark.slow
@pytest.mark.parametrize("kit", ["fal"], indirect=True)
def test_a_create_lost_at_a_provider_that_cannot_look_tasks_up_is_not_sent_twice(
    kit: Kit, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    kit.scenario(submitted_s=0.5, processing_s=1.0)
    kit.fake.inject("create", Fault.timeout(60, after=True))
    data_dir = tmp_path / "data"
    proc = app_process(kit, data_dir, character_image, reference_video)
    kill_when(proc, data_dir, lambda r: r["status"] == "submitting" and kit.create_count == 1)
    kit.fake.faults.clear()
    record = restart_and_finish(kit, data_dir, character_image, reference_video)
    assert record["status"] == "submit_uncertain", record
    assert "not sent again" in record["error"] and "dashboard" in record["error"]
    assert kit.create_count == 1


def test_a_page_that_disconnects_leaves_its_run_to_finish(
    kling_server: FakeKling, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    """/generate called through the raw queue; the connection is dropped after the first steps.
    The run still ends `succeeded`, with its result on disk and one task at the provider."""
    from kmc_ui.server import launch
    from tests.browser import free_port

    kling_server.reset()
    kling_server.scenario = Scenario(submitted_s=0.5, processing_s=3.0)
    port = free_port()
    settings = kling_app_settings(kling_server, f"http://127.0.0.1:{port}", tmp_path / "data")
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        with httpx.Client(base_url=demo.local_url.rstrip("/"), timeout=30) as client:
            task_made = lambda: kling_server.create_count > 0  # noqa: E731 - the page leaves once the task exists
            generate_then_leave(client, character_image, reference_video, "kling", task_made)
        assert kling_server.create_count == 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            records = stored_records(settings.data_dir)
            if records and records[0]["status"] not in ("queued", "submitting", "submitted", "running", "downloading"):
                break
            time.sleep(0.2)
        (record,) = stored_records(settings.data_dir)
        assert record["status"] == "succeeded", record
        assert Path(record["output"]).is_file()
        assert kling_server.create_count == 1 and kling_server.requests_at("cancel") == []
    finally:
        demo.close()


def test_stop_still_cancels_a_server_side_run(
    kling_server: FakeKling, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    """Stop from the page that started a run, and Stop from another page of the same visitor (the
    run's id): the worker cancels the task at the provider and records it."""
    from kmc_ui.backends.registry import build_backends

    kling_server.reset()
    kling_server.scenario = Scenario(submitted_s=0.2, processing_s=3600)
    settings: Settings = kling_app_settings(kling_server, media_server.url, tmp_path / "data")
    studio = Studio(settings, build_backends(settings, media_server.host))
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling")
    stop = threading.Event()
    steps = studio.generate(inputs, OWNER, cancel=stop)
    for step in steps:
        if step.task_id:
            break
    stop.set()
    last = list(steps)[-1]
    assert last.stage == "stopped" and "No longer waiting" in last.text  # the legacy design has no cancel
    record = studio.history.get(OWNER, step.run_id)
    assert record is not None and record["status"] == "stopped_waiting"
    assert kling_server.create_count == 1
