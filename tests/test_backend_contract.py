"""One contract, four providers: every hosted backend against its loopback fake, through run_job.

Parametrized by the `kit` fixture (tests/fakes/providers.py): Kling legacy (JWT), Kling API 2.0,
fal (queue + storage) and Replicate. Each fault of the issue is injected on the wire in the
provider's own shape; the suite asserts the same typed outcome for all of them. A FakeClock is
shared by the runner and the fake's task timeline, so minutes of provider time take milliseconds.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kmc_ui.backends.base import (
    AuthError,
    Backend,
    BackendError,
    InvalidRequest,
    JobRequest,
    QuotaError,
)
from kmc_ui.history import History
from kmc_ui.jobs import Clock, Progress, RetryPolicy, run_job
from kmc_ui.limits import TASK_FAILURE_HINTS
from tests.fakes import FakeClock, Fault
from tests.fakes.providers import INVALID_MSG, MODERATION_MSG, Kit

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "contract"
MODERATION_ADVICE = dict(TASK_FAILURE_HINTS)["risk"]
_ids = itertools.count(1)


@pytest.fixture
def settings(kit: Kit, media_server, tmp_path: Path):
    return kit.settings(media_server.url, tmp_path / "data")


# A held connection (the read-timeout fault holds 5 s) costs 2 s of real time; an honest answer on a
# loaded machine still gets there (0.5 s timed out honest answers in 2 of 4 full runs on two busy cores).
HELD = httpx.Timeout(10.0, read=2.0)


@pytest.fixture
def backend(kit: Kit, settings, media_server) -> Iterator[Backend]:
    b = kit.backend(settings, media_server.host, httpx.Client(timeout=HELD, follow_redirects=True))
    yield b
    b.client.close()  # type: ignore[attr-defined]


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "data")


@pytest.fixture
def job(character_image: Path, reference_video: Path, history: History) -> JobRequest:
    request = JobRequest(character_image, reference_video, run_id=f"c{next(_ids)}-{int(time.time() * 1000)}")
    history.create(OWNER, {"run_id": request.run_id, "provider": "test"})
    return request


def start(backend: Backend, job: JobRequest, history: History, clock: FakeClock, **kw: Any) -> Iterator[Progress]:
    return run_job(backend, job, history, OWNER, clock=clock.clock(), rng=random.Random(3), **kw)


def run(backend: Backend, job: JobRequest, history: History, clock: FakeClock, **kw: Any) -> list[Progress]:
    return list(start(backend, job, history, clock, **kw))


def stages(steps: list[Progress]) -> list[str]:
    out: list[str] = []
    for step in steps:
        if not out or out[-1] != step.stage:
            out.append(step.stage)
    return out


def fault(kit: Kit, kind: str) -> Fault:
    chosen = kit.faults[kind]
    if chosen is None:
        pytest.skip(f"{kit.name} has no {kind} answer on this endpoint (covered by the failed-task test)")
    return chosen


# -- the happy path ---------------------------------------------------------------------------


def test_submit_poll_download_through_run_job(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock, result_video: Path
) -> None:
    kit.scenario(submitted_s=6, processing_s=70, queue_position=3)
    steps = run(backend, job, history, kit_clock)
    last = steps[-1]
    assert last.stage == "done", last.text
    assert stages(steps) == ["submitting", "queued", "running", "downloading", "done"]
    assert last.result_path == history.run_dir(OWNER, job.run_id) / "output.mp4"
    assert last.result_path.read_bytes() == result_video.read_bytes()
    assert kit.create_count == 1 and kit.task_count == 1
    fetched = kit.video_fetch()  # the fake really downloaded the reference video and read it
    assert fetched["status"] == 200 and fetched["duration"] == pytest.approx(3.5, abs=0.1)
    record = history.get(OWNER, job.run_id)
    assert (record["status"], record["task_id"]) == ("succeeded", last.task_id)
    assert record["output"] == str(last.result_path)
    # noticed within 2 s of the finish (the finish is at 76 s of fake time), and no more than one
    # status request per 2 s on average
    polls = [r.at for r in kit.requests("poll")]
    assert 76 <= polls[-1] < 78
    assert len(polls) <= polls[-1] / 2
    assert not list(result_path_parts(history, job))


def result_path_parts(history: History, job: JobRequest) -> Iterator[Path]:
    return history.run_dir(OWNER, job.run_id).glob("*.part")


# -- transient faults: retried with backoff, visible, bounded ---------------------------------

TRANSIENT_HTTP = ["rate_limit", "concurrency", "server_error", "maintenance", "backlog"]


@pytest.mark.parametrize("point", ["create", "poll"])
@pytest.mark.parametrize("kind", TRANSIENT_HTTP)
def test_transient_http_errors_are_retried_with_backoff(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock, kind: str, point: str
) -> None:
    kit.fake.inject(point, fault(kit, kind), times=2)
    steps = run(backend, job, history, kit_clock)
    assert steps[-1].stage == "done", steps[-1].text
    hit = kit.requests(point)
    assert len(hit) == 3 if point == "create" else len(hit) >= 3
    assert kit.create_count == (3 if point == "create" else 1) and kit.task_count == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(hit[:3])]
    assert 1.0 <= gaps[0] <= 1.25 * 1.0 and gaps[1] > gaps[0]  # first delay >= 1 s, then exponential
    retrying = [s for s in steps if s.stage == "retrying"]
    assert retrying and re.search(r"retry 1/5 in 1\.\d s", retrying[0].text)
    assert len(steps[-1].events) == 2  # visible in the progress events too


@pytest.mark.parametrize(
    "wire",
    [Fault.reset(), Fault.timeout(5.0), Fault.malformed(), Fault.malformed(502, b"<html>Bad gateway</html>")],
    ids=["reset", "read-timeout", "malformed-json", "502-html"],
)
def test_transient_network_faults_while_polling_are_retried(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock, wire: Fault
) -> None:
    kit.fake.inject("poll", wire, times=2)
    steps = run(backend, job, history, kit_clock)
    assert steps[-1].stage == "done", steps[-1].text
    assert kit.create_count == 1
    assert len(steps[-1].events) == 2
    assert history.get(OWNER, job.run_id)["task_id"] == steps[-1].task_id


@pytest.mark.parametrize(("failures", "outcome"), [(3, "done"), (4, "failed")])
def test_a_short_run_of_spurious_401s_while_polling_is_tolerated(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock, failures: int, outcome: str
) -> None:
    kit.fake.inject("poll", fault(kit, "auth"), times=failures)
    steps = run(backend, job, history, kit_clock)
    assert steps[-1].stage == outcome, steps[-1].text
    assert kit.create_count == 1
    if outcome == "failed":  # a 4th 401 in a row is real: the keys are wrong; the task id is kept
        record = history.get(OWNER, job.run_id)
        assert record["task_id"] and f"Task id {record['task_id']} is kept in History" in record["error"]
        assert "What to do:" in record["error"]
    else:
        assert "(re-signing)" in steps[-1].events[0]


def test_transient_errors_give_up_after_the_bounded_attempts(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock
) -> None:
    kit.fake.inject("create", fault(kit, "maintenance"), times=None)
    steps = run(backend, job, history, kit_clock, retry=RetryPolicy(attempts=4))
    assert steps[-1].stage == "failed"
    assert kit.create_count == 4 and kit.task_count == 0
    assert len(steps[-1].events) == 3
    record = history.get(OWNER, job.run_id)
    assert record["status"] == "submit_failed" and "What to do:" in record["error"]


def test_backoff_delays_are_capped_and_jittered() -> None:
    policy = RetryPolicy(first_delay=1.0, factor=2.0, max_delay=30.0, jitter=0.25)
    rng = random.Random(1)
    delays = [policy.delay(n, rng) for n in range(1, 12)]
    assert delays[0] >= 1.0
    assert max(delays) <= 30.0 * 1.25
    assert len({round(d, 6) for d in delays[6:]}) > 1  # jitter: capped delays still differ


# -- final errors: a clear cause and fix, no retry --------------------------------------------

FINAL = {
    "no_units": (QuotaError, ("buy", "top up", "credit")),
    "no_access": (QuotaError, ("check",)),
    "invalid": (InvalidRequest, ("fix the input",)),
    "content": (InvalidRequest, ("change",)),
    "auth": (AuthError, ("check",)),
}


@pytest.mark.parametrize("kind", list(FINAL))
def test_final_errors_name_cause_and_fix_and_are_not_retried(
    kit: Kit,
    backend: Backend,
    job: JobRequest,
    character_image: Path,
    reference_video: Path,
    history: History,
    kit_clock: FakeClock,
    kind: str,
) -> None:
    cls, fix_words = FINAL[kind]
    kit.fake.inject("create", fault(kit, kind))
    with pytest.raises(BackendError) as info:
        backend.submit(JobRequest(character_image, reference_video, run_id=job.run_id + "-direct"))
    exc = info.value
    assert type(exc) is cls and not exc.retryable
    assert any(word in exc.fix.lower() for word in fix_words), exc.fix
    if kind == "invalid":
        assert INVALID_MSG in exc.message  # the provider's own words reach the user
    assert "Traceback" not in exc.user_text()

    before = kit.create_count
    kit.fake.inject("create", fault(kit, kind), times=None)
    steps = run(backend, job, history, kit_clock)
    assert [s.stage for s in steps] == ["submitting", "failed"]
    assert kit.create_count == before + 1  # no retry
    assert steps[-1].error == exc.user_text().replace(job.run_id + "-direct", job.run_id)
    record = history.get(OWNER, job.run_id)
    assert record["status"] == "submit_failed" and "task_id" not in record


def test_a_task_that_ends_failed_says_why_and_what_to_do(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock
) -> None:
    kit.scenario(outcome="failed", failure_msg=MODERATION_MSG, submitted_s=2, processing_s=20)
    steps = run(backend, job, history, kit_clock)
    last = steps[-1]
    assert last.stage == "failed"
    assert MODERATION_MSG in last.error and f"What to do: {MODERATION_ADVICE}" in last.error
    assert kit.create_count == 1 and kit.requests("result") == []
    record = history.get(OWNER, job.run_id)
    assert (record["status"], record["task_id"]) == ("failed", last.task_id)
    assert MODERATION_MSG in record["error"]


def test_inputs_the_provider_cannot_use_fail_the_task_with_the_reason(
    kit: Kit, backend: Backend, character_image: Path, short_video: Path, history: History, kit_clock: FakeClock
) -> None:
    request = JobRequest(character_image, short_video, run_id=f"short-{next(_ids)}")
    history.create(OWNER, {"run_id": request.run_id})
    steps = run(backend, request, history, kit_clock)
    assert steps[-1].stage == "failed"
    assert "2.0s" in steps[-1].error  # the provider measured the 2 s video it fetched
    assert dict(TASK_FAILURE_HINTS)["duration"] in steps[-1].error
    assert kit.create_count == 1


# -- the result link ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404])
def test_a_refused_result_link_is_retried_then_a_clear_error_keeps_the_task_id(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock, status: int
) -> None:
    kit.fake.inject("result", Fault.http(status), times=None)
    steps = run(backend, job, history, kit_clock)
    assert steps[-1].stage == "failed"
    assert len(kit.requests("result")) == RetryPolicy().download_attempts
    record = history.get(OWNER, job.run_id)
    assert record["status"] == "download_failed" and record["task_id"] == steps[-1].task_id != ""
    assert f"answered HTTP {status}" in record["error"]
    assert f"Task id {record['task_id']} is kept in History" in record["error"]
    assert not (history.run_dir(OWNER, job.run_id) / "output.mp4").exists()
    # and the same run resumes later, once the link answers again: no second task
    kit.fake.faults.clear()
    steps = run(backend, job, history, kit_clock, resume_task_id=record["task_id"])
    assert steps[-1].stage == "done" and kit.create_count == 1


@pytest.mark.parametrize(("cuts", "outcome"), [(2, "done"), (None, "failed")])
def test_a_cut_short_download_is_retried(
    kit: Kit,
    backend: Backend,
    job: JobRequest,
    history: History,
    kit_clock: FakeClock,
    result_video: Path,
    cuts: int | None,
    outcome: str,
) -> None:
    kit.fake.inject("result", Fault.truncate(0.4), times=cuts)
    steps = run(backend, job, history, kit_clock)
    assert steps[-1].stage == outcome
    assert len(kit.requests("result")) == 3
    if outcome == "done":
        assert steps[-1].result_path.read_bytes() == result_video.read_bytes()
    else:
        error = steps[-1].error
        assert ("broke off" in error or "incomplete" in error) and steps[-1].task_id in error
        assert list(result_path_parts(history, job)) == []


# -- lost answers, stops and restarts ------------------------------------------------------


@pytest.mark.parametrize("after", [True, False], ids=["answer-lost", "request-lost"])
def test_a_lost_create_answer_never_pays_twice(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock, after: bool
) -> None:
    kit.fake.inject("create", Fault.reset(after=after))
    steps = run(backend, job, history, kit_clock)
    record = history.get(OWNER, job.run_id)
    if kit.finds_tasks:  # Kling: the task is looked up by our external id before any second create
        assert steps[-1].stage == "done", steps[-1].text
        assert kit.task_count == 1
        assert kit.create_count == (1 if after else 2)
        assert record["task_id"] == steps[-1].task_id
    else:  # fal, Replicate: no look-up by our id, so it is not sent again and the user is told
        assert steps[-1].stage == "failed"
        assert kit.create_count == 1
        assert record["status"] == "submit_uncertain"
        assert "not sent again" in record["error"] and "dashboard" in record["error"]


def test_stop_cancels_where_the_provider_can(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock
) -> None:
    kit.scenario(submitted_s=5, processing_s=300)
    gen = start(backend, job, history, kit_clock)
    for step in gen:
        if step.stage == "running":
            break
    gen.close()  # what Gradio's Stop does
    record = history.get(OWNER, job.run_id)
    assert record["task_id"] == step.task_id
    if kit.can_cancel:
        (cancel,) = kit.requests("cancel")
        assert cancel.method == ("PUT" if kit.name == "fal" else "POST")
        assert record["status"] == "canceled"
        kit_clock.advance(1000)  # the task really stopped: it never produces a result
        state = backend.poll(step.task_id)
        assert state.status in ("failed", "canceled") and not state.result_url
    else:
        assert kit.requests("cancel") == []
        assert record["status"] == "stopped_waiting"


class FreezingClock:
    """A clock whose sleep blocks forever once `freeze` is set: a process stopped mid-poll.

    Nothing after the freeze runs (no finally, no cancel), like a killed process.
    """

    def __init__(self, base: FakeClock) -> None:
        self.base = base
        self.freeze = threading.Event()
        self.frozen = threading.Event()

    def sleep(self, seconds: float) -> None:
        if self.freeze.is_set():
            self.frozen.set()
            threading.Event().wait()  # forever (a daemon thread)
        self.base.sleep(seconds)

    def clock(self) -> Clock:
        return Clock(now=self.base.now, sleep=self.sleep)


def test_an_app_stopped_mid_task_resumes_from_history_without_paying_twice(
    kit: Kit, settings, media_server, job: JobRequest, history: History, kit_clock: FakeClock, result_video: Path
) -> None:
    kit.scenario(submitted_s=4, processing_s=120)
    first = kit.backend(settings, media_server.host)
    clock = FreezingClock(kit_clock)

    def app() -> None:
        for step in run_job(first, job, history, OWNER, clock=clock.clock()):
            if step.stage == "running":
                clock.freeze.set()

    threading.Thread(target=app, daemon=True).start()
    assert clock.frozen.wait(10)
    record = history.get(OWNER, job.run_id)
    assert record["task_id"] and record["status"] == "running"
    polls = len(kit.requests("poll"))

    kit_clock.advance(600)  # the provider finished while the app was down
    restarted = kit.backend(settings, media_server.host)  # a new process knows only the history record
    steps = run(restarted, job, history, kit_clock, resume_task_id=record["task_id"])
    assert steps[-1].stage == "done", steps[-1].text
    assert steps[-1].result_path.read_bytes() == result_video.read_bytes()
    assert kit.create_count == 1 and kit.requests("cancel") == []
    assert len(kit.requests("poll")) > polls
    assert history.get(OWNER, job.run_id)["status"] == "succeeded"


def test_every_failure_after_acceptance_keeps_the_task_id(
    kit: Kit, backend: Backend, job: JobRequest, history: History, kit_clock: FakeClock
) -> None:
    """Final errors on the first status check (keys revoked mid-run) still leave the id in History."""
    kit.fake.inject("poll", fault(kit, "no_access"), times=None)
    steps = run(backend, job, history, kit_clock)
    assert steps[-1].stage == "failed"
    record = history.get(OWNER, job.run_id)
    assert record["task_id"] and record["task_id"] == steps[-1].task_id
    assert f"Task id {record['task_id']} is kept in History" in record["error"]
