"""A fake clock for run_job (kmc_ui.jobs.Clock) that a fake provider can share as its scenario clock."""

from __future__ import annotations

import threading

from kmc_ui.jobs import Clock


class FakeClock:
    """Time moves only when someone sleeps; every sleep is recorded."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds

    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)
