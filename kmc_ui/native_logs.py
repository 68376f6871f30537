"""Keeps mediapipe's native log lines out of stderr (the CLI's output and the server's log).

mediapipe 0.10.21 logs through absl's C++ logging, which reads no environment variable (GLOG_minloglevel
and TF_CPP_MIN_LOG_LEVEL quiet only older builds and TensorFlow), and prints "I0000 ..."/"W0000 ..." lines
and "INFO: Created TensorFlow Lite XNNPACK delegate" from its own threads straight into file descriptor
2. `quiet_native_logs()` puts a filter on that descriptor: every other line (Python's own errors and
tracebacks, native errors "E..."/"F...") passes unchanged. Entry points call it (app.py and
`python -m kmc_ui`), never a library import: tests and embedding programs keep their stderr as it is.
KMC_NATIVE_LOGS=1 turns the filter off to see everything.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import threading

NATIVE_LINE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|INFO: Created TensorFlow Lite )"
)

_lock = threading.Lock()
_installed = False


def is_native_noise(line: bytes) -> bool:
    """True for one of mediapipe's informational native log lines (never for an error)."""
    return bool(NATIVE_LINE.match(line))


# a line ends at a newline or a carriage return: the CLI's progress redraws its line with "\r" and no
# newline, and is passed on as it comes (held back to the next newline, it showed only at the end,
# and a native line written after it was glued to it and let through)
_LINE_END = re.compile(rb"(?<=[\r\n])")


_NATIVE_IN_LINE = re.compile(NATIVE_LINE.pattern.removeprefix(b"^"))


def _without_noise(line: bytes) -> bytes:
    """The line without a native log line in it: all of it, or what ran on after the line before
    it read together (a progress line with no newline, then a native line, in one read)."""
    found = _NATIVE_IN_LINE.search(line)
    return line if found is None else line[: found.start()]


def _may_be_native(start: bytes) -> bool:
    """Whether an unfinished line may still turn out to be a native log line (held until it ends)."""
    return start[:1] in (b"I", b"W")


def _pump(read_fd: int, out_fd: int) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        pending += chunk
        *lines, pending = _LINE_END.split(pending)
        if pending and not _may_be_native(pending):
            lines.append(pending)
            pending = b""
        kept = b"".join(_without_noise(line) for line in lines)
        if kept:
            _write_all(out_fd, kept)
    rest = _without_noise(pending)
    if rest:
        _write_all(out_fd, rest)
    os.close(read_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except OSError:
            return


def quiet_native_logs() -> None:
    """Filter mediapipe's native I/W lines out of fd 2 for the rest of this process (idempotent)."""
    global _installed
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _lock:
        if _installed or os.environ.get("KMC_NATIVE_LOGS") == "1":
            return
        try:
            original = os.dup(2)
            read_fd, write_fd = os.pipe()
        except OSError:
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        _installed = True
    pump = threading.Thread(target=_pump, args=(read_fd, original), name="kmc-native-log-filter", daemon=True)
    pump.start()

    def restore() -> None:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last writer here: the pump drains it and stops
        pump.join(timeout=2)

    atexit.register(restore)
