"""Fair scheduling of slow work (body checks) across visitors, on long-lived worker threads.

One visitor's queue must not hold up everyone else's: jobs are queued per visitor, and the
workers take them round-robin across the visitors with work waiting (one job each, in turn).
A visitor's newer job with the same `supersede` key takes the place of its older one still
waiting, whose caller gets `Superseded`. The anonymous visitor "" is one shared bucket (it may
be many people: the CLI, batch runs, pages without an id): its jobs are never superseded.

Workers are ordinary threads that live as long as the scheduler: mediapipe graphs are per
thread (kmc_ui/pose/model.py), so pose work must keep running on the same ones.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class Superseded(Exception):
    """A newer job of the same visitor and kind replaced this one before it ran."""


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    key: str | None
    future: Future[Any] = field(default_factory=Future)


class FairScheduler:
    """Round-robin across visitors on `workers` threads (started at the first job)."""

    def __init__(self, workers: int = 1, name: str = "kmc-fair") -> None:
        self._workers = workers
        self._name = name
        self._threads: list[threading.Thread] = []
        self._queues: dict[str, deque[_Job]] = {}
        self._turns: deque[str] = deque()  # visitors with jobs waiting, in serving order
        self._cond = threading.Condition()
        self._closed = False

    def submit(
        self, visitor: str, fn: Callable[..., T], *args: Any, supersede: str | None = None, **kwargs: Any
    ) -> Future[T]:
        """Queue fn(*args, **kwargs) for `visitor`. With `supersede`, the visitor's waiting job of that
        key (if any) is replaced by this one and its future fails with Superseded."""
        job = _Job(fn, args, kwargs, supersede if visitor else None)
        replaced: _Job | None = None
        with self._cond:
            if self._closed:
                raise RuntimeError("the scheduler is shut down")
            queue = self._queues.get(visitor)
            if queue is None:
                queue = self._queues[visitor] = deque()
                self._turns.append(visitor)
            for i, old in enumerate(queue):
                if job.key is not None and old.key == job.key:
                    queue[i], replaced = job, old
                    break
            else:
                queue.append(job)
            self._start_workers()
            self._cond.notify()
        if replaced is not None and replaced.future.set_running_or_notify_cancel():
            replaced.future.set_exception(Superseded(f"replaced by a newer '{job.key}' job"))
        return job.future

    def waiting(self, visitor: str | None = None) -> int:
        """Jobs queued and not started (for one visitor, or all)."""
        with self._cond:
            if visitor is not None:
                return len(self._queues.get(visitor, ()))
            return sum(len(q) for q in self._queues.values())

    def shutdown(self, wait: bool = True) -> None:
        """Run what is queued, then stop the workers."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _start_workers(self) -> None:
        while len(self._threads) < self._workers:
            thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _next(self) -> _Job | None:
        with self._cond:
            while not self._turns and not self._closed:
                self._cond.wait()
            if not self._turns:
                return None
            visitor = self._turns.popleft()
            queue = self._queues[visitor]
            job = queue.popleft()
            if queue:
                self._turns.append(visitor)  # back of the line: everyone else waiting goes first
            else:
                del self._queues[visitor]
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            if not job.future.set_running_or_notify_cancel():  # the caller cancelled it while it waited
                continue
            try:
                result = job.fn(*job.args, **job.kwargs)
            except BaseException as exc:
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)
