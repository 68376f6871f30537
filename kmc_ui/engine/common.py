"""Errors shared by the engine's modules. Their text is safe and meant for the user."""

from __future__ import annotations

import contextlib
from typing import Any

from kmc_ui.messages import Msg, Said


class EngineError(Exception):
    """The engine cannot make this video; the message says why and what to do. Made from a
    message (kmc_ui/catalogue/engine.py; `said()` is its text, keeping the message)."""

    def said(self) -> str:
        """The text, as a Said when the error was made from one."""
        first = self.args[0] if self.args else ""
        return first if isinstance(first, Said) else str(self)


def says(code: str, **params: Any) -> Said:
    """An engine text: the English of kmc_ui/catalogue/engine.py's `code`, keeping the message."""
    return Said(Msg(f"engine.{code}", params))


class EngineCancelled(EngineError):
    """Rendering was stopped on request."""


# A thread of the motion report's readings runs at this niceness (Linux: per thread, and inherited
# by the threads it starts: the decoder's, mediapipe's): the report is read beside a render (the
# reference's side is read ahead when a run is submitted, and one visitor's report may be read
# while another's result renders) and yields the cores to it. At the renderer's own priority the
# read-ahead took half of the offline engine's two cores: the page showed the puppet after 10 s,
# not 6-7, and the result 3-4 s later (bench/bench_page_offline.py).
REPORT_NICE = 19


def yield_cores() -> None:
    """Lower this thread's priority to REPORT_NICE (a ThreadPoolExecutor's initializer). Linux only:
    elsewhere a thread's id is not a process id to os.setpriority, and the thread keeps its own."""
    import os
    import sys
    import threading

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), REPORT_NICE)
