"""Streaming frames to ffmpeg: H.264 (yuv420p, even sizes), AAC audio, +faststart.

Frames go to ffmpeg's stdin as raw yuv420p as they are drawn, so memory stays flat whatever the
clip's length (a full pipe blocks the renderer: back-pressure, not buffering). The binary is
the one kmc_ui/media/ffmpeg.py picks (Debian's, else imageio-ffmpeg's). kmc_ui/media's
`run_ffmpeg` runs a finished command with no stdin, so the pipe is managed here.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections import deque
from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine.common import EngineError, says
from kmc_ui.media.ffmpeg import FFmpegError, ffmpeg_exe
from kmc_ui.storage import says_disk_full

AUDIO_BITRATE = "128k"
# x264's superfast preset at every size, so the encoder takes less of the two cores the renderer
# draws on. At 720p it had been veryfast at CRF 20; superfast at CRF 22 gives the same quality (the
# half-figure's 10 s result: PSNR 48.05 dB against 48.12) in 37 % less of the encoder's CPU (1.17 s
# against 1.86 s) for 48 % more bytes (1.40 MB against 0.95 MB). 1080p was superfast at CRF 20.
PRESET = "superfast"
CRF_720P = 22
CRF_1080P = 20


def crf_for(width: int, height: int) -> int:
    """x264's CRF for a frame size: CRF_720P up to 1.5 MP a frame (720p), CRF_1080P above."""
    return CRF_720P if width * height <= 1_500_000 else CRF_1080P


# x264 on one thread: the renderer keeps the other core. With two, the encoder's frame threads
# fought the renderer for the machine's two cores: render + encode of a 10 s 720p clip took
# 5.0-5.2 s with 2 threads and 4.0-4.2 s with 1 (at 1080p, 8.1-8.4 s and 6.9-8.0 s)
ENCODER_THREADS = 1


class VideoWriter:
    """`write(frame)` BGR uint8 frames of one size, then `close()`; `abort()` on failure or stop."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        rate: str,
        duration: float,
        audio_from: Path | None = None,
        threads: int = ENCODER_THREADS,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"frame size must be even, got {width}x{height}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.frames = 0
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-y"]
        # frames go down the pipe as yuv420p, converted by OpenCV (BT.601, limited range: what
        # ffmpeg's own conversion gives, within 1 level of luma), 0.3 ms a 720p frame against
        # ffmpeg's 2.5 ms, and half the bytes of BGR
        cmd += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", rate, "-i", "pipe:0"]
        if audio_from is not None:
            cmd += ["-i", str(audio_from)]
        cmd += ["-map", "0:v:0"]
        if audio_from is not None:
            cmd += ["-map", "1:a:0?", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2"]
        cmd += ["-c:v", "libx264", "-preset", PRESET, "-crf", str(crf_for(width, height)), "-threads", str(threads)]
        cmd += ["-pix_fmt", "yuv420p", "-profile:v", "high", "-r", rate, "-t", f"{duration:.6f}"]
        cmd += ["-sn", "-dn", "-movflags", "+faststart", "-f", "mp4", str(self.path)]
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except (OSError, FFmpegError) as exc:
            raise EngineError(says("encoder_start", why=str(exc))) from None
        self._tail: deque[str] = deque(maxlen=20)
        self._reader = threading.Thread(target=self._drain, name="kmc-engine-ffmpeg-err", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            self._tail.append(raw.decode("utf-8", "replace").rstrip())

    def _why(self) -> str:
        lines = [ln for ln in self._tail if ln.strip()]
        text = (lines[-1] if lines else "").replace(str(self.path), self.path.name)
        return text[:300]

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected {self.width}x{self.height} BGR uint8, got {frame.shape} {frame.dtype}")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(memoryview(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)).cast("B"))
        except (BrokenPipeError, ValueError, OSError):
            self.proc.wait(timeout=10)
            self._reader.join(timeout=2)
            raise self._failure(says("encoder_early", why=self._why() or "no message")) from None
        self.frames += 1

    def close(self, timeout: float = 120.0) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.abort()
            raise EngineError(says("encoder_timeout")) from None
        self._reader.join(timeout=2)
        if code != 0:
            self.path.unlink(missing_ok=True)
            raise self._failure(says("encoder_failed", why=self._why() or f"exit code {code}"))

    def _failure(self, text: str) -> EngineError:
        """The encoder's failure; marked when its output could not be written for lack of space."""
        error = EngineError(text)
        error.disk_full = says_disk_full(self._tail)  # type: ignore[attr-defined]  # read by kmc_ui/storage.py
        return error

    def abort(self) -> None:
        """Kill the encoder and delete the partial file."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._reader.join(timeout=2)
        self.path.unlink(missing_ok=True)
