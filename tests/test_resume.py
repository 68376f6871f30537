"""A run whose app process is killed (SIGKILL) mid-poll is found and finished by a new Studio.

The first process is a real separate Python process (tests/fakes/generate_worker.py) running
Studio.generate against the loopback fake; it is killed with SIGKILL as soon as the provider's task
id is on disk, so nothing of it runs afterwards (no cleanup, no cancel). A new Studio on the same
data dir lists the run in `pending` and `resume` polls and downloads it: one create request in all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmc_ui.backends.registry import build_backends
from kmc_ui.history import History
from kmc_ui.settings import Settings
from kmc_ui.studio import Studio
from tests.fakes.providers import Kit
from tests.runstore import stored_records

KEYS_WHERE = "as environment variables (Space secrets on a Hugging Face Space), in .env, or in the key box"

pytest_plugins = ["tests.fakes.fixtures"]

REPO = Path(__file__).resolve().parents[1]
OWNER = "resumer"


def wait_for_task_id(data_dir: Path, proc: subprocess.Popen[str], kit: Kit, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the worker ended early:\n{proc.stdout.read() if proc.stdout else ''}")
        for record in stored_records(data_dir, OWNER):
            if record.get("task_id") and kit.requests("poll"):
                return record
        time.sleep(0.05)
    raise AssertionError("no task id appeared in the run store")


@pytest.mark.slow
def test_a_killed_app_is_resumed_by_a_new_studio_without_a_second_submit(
    kit: Kit, tmp_path: Path, character_image: Path, reference_video: Path, result_video: Path
) -> None:
    kit.scenario(submitted_s=1, processing_s=3600)  # real seconds: the worker polls, it never finishes
    data_dir = tmp_path / "data"
    keys = {name: value for name, value in kit.key_settings(kit.fake).items()}
    spec = {
        "settings": {kit.base_setting: kit.fake.base_url, **keys},
        "data_dir": str(data_dir),
        "image": str(character_image),
        "video": str(reference_video),
        "backend": kit.name,
        "owner": OWNER,
    }
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.generate_worker", json.dumps(spec)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        record = wait_for_task_id(data_dir, proc, kit)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    run_id, task_id = record["run_id"], record["task_id"]
    assert record["status"] in ("submitted", "queued", "running")
    assert kit.create_count == 1

    # The provider finishes while no app runs.
    shift = 10_000.0
    kit.fake.clock = lambda: time.monotonic() + shift

    settings = Settings(**{kit.base_setting: kit.fake.base_url, **keys}, data_dir=data_dir, allow_private_urls=True)
    studio = Studio(settings, build_backends(settings, None))  # a new process: only the history is shared
    pending = studio.pending(OWNER)
    assert [r["run_id"] for r in pending] == [run_id]
    steps = list(studio.resume(OWNER, run_id))
    last = steps[-1]
    assert last.stage == "done", last.text
    assert last.task_id == task_id
    assert last.result_path.read_bytes() == result_video.read_bytes()
    assert kit.create_count == 1  # resumed, not paid twice
    assert kit.requests("cancel") == []
    assert History(data_dir).get(OWNER, run_id)["status"] == "succeeded"
    assert studio.pending(OWNER) == []
    # resuming a finished run only hands the file back
    again = list(studio.resume(OWNER, run_id))
    assert [s.stage for s in again] == ["done"] and again[0].result_path == last.result_path


def test_resume_explains_what_cannot_be_resumed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    studio = Studio(settings, build_backends(settings, None))
    history = studio.history

    def texts(run_id: str) -> list[str]:
        return [s.text for s in studio.resume(OWNER, run_id)]

    assert texts("../etc") == ["There is no run '../etc' in your History."]
    assert texts("nope") == ["There is no run 'nope' in your History."]
    history.create(OWNER, {"run_id": "r1", "provider": "fal", "status": "submit_failed"})
    assert "never accepted" in texts("r1")[0]
    history.create(OWNER, {"run_id": "r2", "provider": "fal", "task_id": "t2", "status": "canceled"})
    assert "canceled" in texts("r2")[0]
    history.create(OWNER, {"run_id": "r3", "provider": "gone", "task_id": "t3", "status": "running"})
    assert texts("r3") == ["This run was made with the 'gone' backend, which is not available here now."]
    history.create(OWNER, {"run_id": "r4", "provider": "fal", "task_id": "t4", "status": "stopped_waiting"})
    assert texts("r4") == [f"Set FAL_KEY (from fal.ai/dashboard/keys) {KEYS_WHERE}."]
    assert [r["run_id"] for r in studio.pending(OWNER)] == ["r4", "r3"]
