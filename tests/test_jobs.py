"""run_job against the loopback fake Kling API, with a fake clock shared by runner and provider.

The clock drives both the runner's waits and the fake's task timeline, so a task that spends
3 s submitted and 5 s processing finishes in milliseconds of real time, and request times
recorded by the fake are exact.
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.history import History
from kmc_ui.jobs import TICK, PollPolicy, Progress, RetryPolicy, run_job
from kmc_ui.limits import KLING_ERRORS
from kmc_ui.settings import Settings
from tests.fakes import FakeClock, Fault, Recorded
from tests.fakes.kling import FakeKling, Scenario, kling_error

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "tester"
_ids = itertools.count(1)


@pytest.fixture
def backend(kling_settings: Settings, media_server) -> KlingLegacyBackend:
    b = KlingLegacyBackend(kling_settings, media_server.host)
    yield b
    b.close()


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "data")


@pytest.fixture
def job(character_image: Path, reference_video: Path, history: History):
    from kmc_ui.backends.base import JobRequest

    request = JobRequest(character_image, reference_video, run_id=f"job-{next(_ids)}-{int(time.time())}")
    history.create(OWNER, {"run_id": request.run_id, "status": "created"})
    return request


def start(backend, job, history, clock: FakeClock, **kw: Any):
    return run_job(backend, job, history, OWNER, clock=clock.clock(), rng=random.Random(7), **kw)


def stages(steps: list[Progress]) -> list[str]:
    out: list[str] = []
    for s in steps:
        if not out or out[-1] != s.stage:
            out.append(s.stage)
    return out


def test_progress_stages_in_order_and_adaptive_polling(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock, result_video: Path
) -> None:
    fake_kling.scenario = Scenario(submitted_s=3, processing_s=5)
    steps = list(start(backend, job, history, fake_clock))
    assert stages(steps) == ["submitting", "queued", "running", "downloading", "done"]
    # first poll after 2 s; queued -> 4 s later; running, first 45 s -> 4 s (PollPolicy.warmup)
    assert [r.at for r in fake_kling.requests_at("poll")] == [2.0, 6.0, 10.0]
    assert all(0 < s <= TICK for s in fake_clock.sleeps)
    last = steps[-1]
    assert last.finished and last.task_id and last.result_path is not None
    assert last.result_path == history.run_dir(OWNER, job.run_id) / "output.mp4"
    assert last.result_path.read_bytes() == result_video.read_bytes()
    assert last.result_duration == pytest.approx(3.5, abs=0.1)
    assert last.elapsed == 10.0
    record = history.get(OWNER, job.run_id)
    assert (record["status"], record["task_id"], record["provider"]) == ("succeeded", last.task_id, "kling")
    assert record["output"] == str(last.result_path)
    texts = [s.text for s in steps]
    assert "Submitting to Kling official API (legacy design)…" in texts
    assert "Queued at Kling official API (legacy design)…" in texts
    assert "Generating…" in texts


def test_task_id_is_recorded_before_the_first_poll(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock
) -> None:
    seen: list[dict | None] = []

    def read_record(request: Recorded) -> None:  # runs inside the fake, while the first poll is in flight
        seen.append(history.get(OWNER, job.run_id))

    fake_kling.inject("poll", Fault.observe(read_record))
    steps = list(start(backend, job, history, fake_clock))
    assert steps[-1].stage == "done"
    (task,) = fake_kling.tasks.values()
    assert len(seen) == 1
    assert (seen[0]["task_id"], seen[0]["status"]) == (task.task_id, "submitted")


def test_task_id_survives_a_final_error_on_the_first_poll(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock
) -> None:
    fake_kling.inject("poll", kling_error(1103), times=None)
    steps = list(start(backend, job, history, fake_clock))
    (task,) = fake_kling.tasks.values()
    assert steps[-1].stage == "failed"
    assert len(fake_kling.requests_at("poll")) == 1
    record = history.get(OWNER, job.run_id)
    assert (record["task_id"], record["status"]) == (task.task_id, "failed")
    assert f"Task id {task.task_id} is kept in History" in record["error"]
    assert KLING_ERRORS[1103].advice in record["error"]
    # stored with its code too: History renders it in a page's language, not its English re-parsed
    from kmc_ui.messages import Msg, render

    said = Msg.from_dict(record["error_msg"])
    assert said is not None and render(said, "en") == record["error"]
    assert f"任务 ID {task.task_id} 已保存在历史记录中" in render(said, "zh")


def test_stop_mid_poll_then_resume_without_second_submit(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock, result_video: Path
) -> None:
    fake_kling.scenario = Scenario(submitted_s=60, processing_s=60)
    gen = start(backend, job, history, fake_clock)
    for step in gen:
        if step.stage == "queued" and len(fake_kling.requests_at("poll")) >= 2:
            break
    task_id = step.task_id
    assert task_id
    began = time.monotonic()
    gen.close()  # what Stop (kmc_ui/ui/stops.py) or a page that goes away does to a run
    assert time.monotonic() - began < 1.0
    record = history.get(OWNER, job.run_id)
    assert (record["status"], record["task_id"]) == ("stopped_waiting", task_id)
    assert [r["run_id"] for r in history.pending(OWNER)] == [job.run_id]
    polls = len(fake_kling.requests_at("poll"))
    fake_clock.advance(1)
    assert len(fake_kling.requests_at("poll")) == polls  # nothing runs after Stop

    fake_clock.advance(200)  # the provider finished meanwhile
    steps = list(start(backend, job, history, fake_clock, resume_task_id=task_id))
    assert stages(steps) == ["queued", "downloading", "done"]
    assert fake_kling.create_count == 1
    assert steps[-1].result_path.read_bytes() == result_video.read_bytes()
    assert history.get(OWNER, job.run_id)["status"] == "succeeded"
    assert history.pending(OWNER) == []


def test_stop_before_submit_returns_leaves_stopped(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock
) -> None:
    gen = start(backend, job, history, fake_clock)
    assert next(gen).stage == "submitting"
    gen.close()
    assert fake_kling.create_count == 0
    assert history.get(OWNER, job.run_id)["status"] == "stopped"


def test_retry_backoff_starts_at_one_second_and_grows(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock
) -> None:
    fake_kling.inject("create", kling_error(1302), times=3)
    steps = list(start(backend, job, history, fake_clock))
    assert steps[-1].stage == "done"
    times = [r.at for r in fake_kling.requests_at("create")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 3
    assert gaps[0] >= 1.0
    assert gaps[0] < gaps[1] < gaps[2]
    retrying = [s for s in steps if s.stage == "retrying"]
    assert retrying[0].text.startswith("Submit: Kling API: rate limit")
    assert "retry 1/5 in " in retrying[0].text
    assert len(steps[-1].events) == 3


def test_transient_errors_give_up_after_the_attempts(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock
) -> None:
    fake_kling.inject("create", kling_error(5001), times=None)
    steps = list(start(backend, job, history, fake_clock, retry=RetryPolicy(attempts=3)))
    assert fake_kling.create_count == 3
    assert steps[-1].stage == "failed"
    record = history.get(OWNER, job.run_id)
    assert record["status"] == "submit_failed"
    assert record["error"] == (
        f"Kling API: provider under maintenance (code 5001) What to do: {KLING_ERRORS[5001].advice}"
    )


@pytest.mark.parametrize(("failures", "outcome"), [(3, "done"), (4, "failed")])
def test_spurious_401_while_polling_is_tolerated_a_few_times(
    fake_kling: FakeKling, backend, job, history: History, fake_clock: FakeClock, failures: int, outcome: str
) -> None:
    fake_kling.inject("poll", Fault.http(401, code=1000, message="signature invalid"), times=failures)
    steps = list(start(backend, job, history, fake_clock))
    assert steps[-1].stage == outcome
    assert len(fake_kling.requests_at("poll")) == min(failures + 1, 4)
    if outcome == "failed":
        assert "(code 1000)" in steps[-1].error
        assert history.get(OWNER, job.run_id)["task_id"]


@pytest.mark.parametrize(
    ("fault", "creates"),
    [(Fault.reset(after=True), 1), (Fault.timeout(5.0, after=True), 1), (Fault.reset(after=False), 2)],
    ids=["reset-after-create", "timeout-after-create", "reset-before-create"],
)
def test_lost_submit_answer_is_found_not_paid_twice(
    fake_kling: FakeKling,
    kling_settings: Settings,
    media_server,
    job,
    history: History,
    fake_clock: FakeClock,
    fault: Fault,
    creates: int,
) -> None:
    import httpx

    backend = KlingLegacyBackend(kling_settings, media_server.host, http_client=httpx.Client(timeout=2.0))
    fake_kling.inject("create", fault)
    steps = list(start(backend, job, history, fake_clock))
    assert steps[-1].stage == "done", steps[-1].text
    assert fake_kling.create_count == creates
    assert len(fake_kling.tasks) == 1
    (task,) = fake_kling.tasks.values()
    assert task.external_task_id == job.run_id
    assert steps[-1].task_id == task.task_id
    # Looked up by our id first (the query takes an external_task_id); the list is read only when that
    # finds nothing (the create never reached Kling).
    assert fake_kling.requests_at("poll")[0].path.endswith("/" + job.run_id)
    assert len(fake_kling.requests_at("list")) == (0 if creates == 1 else 1)


def test_poll_policy_slows_down_far_in_the_queue() -> None:
    from kmc_ui.backends.base import TaskState

    policy = PollPolicy()
    assert policy.next_delay(None) == 2.0
    assert policy.next_delay(TaskState("t", "queued", queue_position=9)) == 8.0
    assert policy.next_delay(TaskState("t", "queued", queue_position=1)) == 4.0
    assert policy.next_delay(TaskState("t", "running")) == 4.0  # warm-up: a render does not end in seconds
    assert policy.next_delay(TaskState("t", "running"), running_for=43.0) == 2.0  # up to the warm-up's end
    assert policy.next_delay(TaskState("t", "running"), running_for=60.0) == 1.8  # then under 2 s
