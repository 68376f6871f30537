"""Run the ffmpeg binary: one place for the executable, timeouts, progress and error text.

Debian's /usr/bin/ffmpeg is preferred (it has libx264, libx265, libvpx, AAC); the static
binary bundled with imageio-ffmpeg is the fallback. A run never hangs (timeout, then the
child is killed), can be cancelled with a threading.Event, and a failure raises
FFmpegError with the last meaningful line ffmpeg printed (paths shortened to file names).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from kmc_ui.storage import says_disk_full

DEBIAN_FFMPEG = "/usr/bin/ffmpeg"


class FFmpegError(RuntimeError):
    """ffmpeg failed, timed out or was cancelled. `detail` is ffmpeg's own last words."""

    def __init__(
        self,
        message: str,
        detail: str = "",
        *,
        timed_out: bool = False,
        cancelled: bool = False,
        disk_full: bool = False,
    ):
        super().__init__(message)
        self.detail = detail
        self.timed_out = timed_out
        self.cancelled = cancelled
        self.disk_full = disk_full  # its output could not be written: no space left (kmc_ui/storage.py)


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg executable: Debian's if present, else one on PATH, else imageio-ffmpeg's."""
    if os.access(DEBIAN_FFMPEG, os.X_OK):
        return DEBIAN_FFMPEG
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # pragma: no cover - imageio-ffmpeg is a requirement
        raise FFmpegError("ffmpeg is not installed: install the ffmpeg package or imageio-ffmpeg.") from exc


def run_ffmpeg(
    args: Sequence[str],
    *,
    timeout: float,
    duration: float = 0.0,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Run `ffmpeg <args>` (global quiet flags are added). Raises FFmpegError on any failure.

    duration: seconds of output expected, used to turn ffmpeg's progress into a 0..1 fraction
    passed to `progress` (called from a reader thread, at most a few times a second).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y"]
    if progress is not None:
        cmd += ["-progress", "pipe:1"]
    cmd += list(args)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if progress is not None else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise FFmpegError(f"ffmpeg could not be started ({exc.strerror or exc}).") from exc

    tail: deque[str] = deque(maxlen=20)
    readers = [threading.Thread(target=_drain, args=(proc.stderr, tail.append), daemon=True)]
    if progress is not None:
        readers.append(
            threading.Thread(target=_drain, args=(proc.stdout, _progress_parser(progress, duration)), daemon=True)
        )
    for t in readers:
        t.start()

    deadline = time.monotonic() + timeout
    timed_out = cancelled = False
    while True:
        try:
            proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.is_set():
                cancelled = True
            elif time.monotonic() > deadline:
                timed_out = True
            else:
                continue
            proc.kill()
            proc.wait()
            break
    for t in readers:
        t.join(timeout=2)

    detail = _last_words(tail, args)
    if cancelled:
        raise FFmpegError("stopped before it finished", detail, cancelled=True)
    if timed_out:
        raise FFmpegError(f"took longer than {timeout:.0f} s and was stopped", detail, timed_out=True)
    if proc.returncode != 0:
        if says_disk_full(tail):
            raise FFmpegError("the server's disk is full", detail, disk_full=True)
        raise FFmpegError(f"ffmpeg failed (exit code {proc.returncode})", detail)


def _drain(stream: object, sink: Callable[[str], None]) -> None:
    if stream is None:
        return
    with stream:  # type: ignore[attr-defined]
        for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
            sink(raw.decode("utf-8", "replace").rstrip())


def _progress_parser(progress: Callable[[float], None], duration: float) -> Callable[[str], None]:
    def on_line(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and duration > 0:
            try:
                fraction = int(value) / 1e6 / duration
            except ValueError:
                return
            progress(min(1.0, max(0.0, fraction)))
        elif key == "progress" and value == "end":
            progress(1.0)

    return on_line


def _last_words(lines: deque[str], args: Sequence[str]) -> str:
    """The most telling stderr line, with full paths replaced by their file names."""
    cleaned = [_PREFIX.sub("", ln).strip() for ln in lines]
    meaningful = [ln for ln in cleaned if ln and ln not in _GENERIC]
    text = (meaningful or [""])[-1]
    for arg in args:
        if os.sep in arg and len(arg) > 1:
            text = text.replace(arg, Path(arg).name)
    return text[:300]


_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")
_GENERIC = {"Conversion failed!", "Exiting normally, received signal 2."}
