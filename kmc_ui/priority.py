"""Thread priorities: the work that may run beside a render yields the cores to it."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

# A thread of the motion report's readings runs at this niceness (Linux: per thread, and inherited
# by the threads it starts: the decoder's, mediapipe's): the report is read beside a render (the
# reference's side is read ahead when a run is submitted, and one visitor's report may be read
# while another's result renders) and yields the cores to it. At the renderer's own priority the
# read-ahead took half of the offline engine's two cores: the page showed the puppet after 10 s,
# not 6-7, and the result 3-4 s later (bench/bench_page_offline.py). 10, not 19 (as fast for the
# render, measured): renders back to back (visitors queued for the offline engine) leave a report
# about a tenth of a core at 10, a sixtieth at 19.
REPORT_NICE = 10


def yield_cores() -> None:
    """Lower this thread's priority to REPORT_NICE (a ThreadPoolExecutor's initializer), never
    raise it (a process started at a lower priority keeps it). Linux only: elsewhere a thread's id
    is not a process id to os.setpriority, and the thread keeps its own."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, max(REPORT_NICE, os.getpriority(os.PRIO_PROCESS, me)))
