"""kmc_ui/fair.py: the pose worker serves visitors in turn, and a visitor's newer check replaces its older one."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from kmc_ui.fair import FairScheduler, Superseded


@pytest.fixture
def scheduler() -> FairScheduler:
    return FairScheduler(workers=1, name="test-fair")


def hold(scheduler: FairScheduler, visitor: str) -> tuple[threading.Event, Future[str]]:
    """Keep the worker busy with one job until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def blocker() -> str:
        started.set()
        release.wait(10)
        return "held"

    future = scheduler.submit(visitor, blocker)
    assert started.wait(5)
    return release, future


def test_one_visitors_queue_does_not_delay_another(scheduler: FairScheduler) -> None:
    order: list[str] = []
    release, first = hold(scheduler, "A")
    a_jobs = [scheduler.submit("A", order.append, f"A{k}") for k in range(1, 5)]
    b_job = scheduler.submit("B", order.append, "B1")
    release.set()
    for f in [first, *a_jobs, b_job]:
        f.result(5)
    # A's first waiting job was queued before B's, then B goes: before A's three later ones
    assert order == ["A1", "B1", "A2", "A3", "A4"]


def test_visitors_alternate(scheduler: FairScheduler) -> None:
    order: list[str] = []
    release, _ = hold(scheduler, "C")
    futures = [scheduler.submit(v, order.append, f"{v}{k}") for v in "AB" for k in range(3)]
    release.set()
    for f in futures:
        f.result(5)
    assert order == ["A0", "B0", "A1", "B1", "A2", "B2"]


def test_a_newer_check_supersedes_the_waiting_one(scheduler: FairScheduler) -> None:
    release, _ = hold(scheduler, "A")
    old = scheduler.submit("A", lambda: "old", supersede="body")
    other = scheduler.submit("A", lambda: "track")  # another kind of job is kept
    new = scheduler.submit("A", lambda: "new", supersede="body")
    assert scheduler.waiting("A") == 2
    release.set()
    with pytest.raises(Superseded):
        old.result(5)
    assert (new.result(5), other.result(5)) == ("new", "track")


def test_the_anonymous_bucket_is_never_superseded(scheduler: FairScheduler) -> None:
    release, _ = hold(scheduler, "")
    first = scheduler.submit("", lambda: 1, supersede="body")
    second = scheduler.submit("", lambda: 2, supersede="body")
    release.set()
    assert (first.result(5), second.result(5)) == (1, 2)


def test_errors_reach_the_caller_and_the_worker_goes_on(scheduler: FairScheduler) -> None:
    def boom() -> None:
        raise ValueError("bad file")

    with pytest.raises(ValueError, match="bad file"):
        scheduler.submit("A", boom).result(5)
    assert scheduler.submit("A", lambda: "still here").result(5) == "still here"


def test_every_job_runs_on_the_same_worker_thread(scheduler: FairScheduler) -> None:
    names = {scheduler.submit(v, lambda: threading.current_thread().name).result(5) for v in ("A", "B", "")}
    assert len(names) == 1 and next(iter(names)).startswith("test-fair")


def test_a_cancelled_waiting_job_is_skipped(scheduler: FairScheduler) -> None:
    ran: list[int] = []
    release, _ = hold(scheduler, "A")
    gone = scheduler.submit("A", ran.append, 1)
    assert gone.cancel()
    kept = scheduler.submit("A", ran.append, 2)
    release.set()
    kept.result(5)
    assert ran == [2]


def test_shutdown_runs_what_is_queued(scheduler: FairScheduler) -> None:
    futures = [scheduler.submit("A", lambda k=k: k) for k in range(3)]
    scheduler.shutdown()
    assert [f.result(0) for f in futures] == [0, 1, 2]
    with pytest.raises(RuntimeError):
        scheduler.submit("A", lambda: 0)
