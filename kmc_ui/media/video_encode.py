"""Video side of the preparation step, part 2: carrying out a plan with ffmpeg and checking the result.

Stream copy (trim / remux) keeps the H.264 packets byte for byte; a copy ends on a packet
boundary, so its end is verified with a probe and cut earlier when it overshoots. Re-encodes use
libx264 (CRF with a bit-rate cap computed from the size limit), AAC, yuv420p, +faststart, a
constant frame rate, and ffmpeg's autorotate (the result is upright with rotation 0).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import av

from kmc_ui.checks.rules import check_video
from kmc_ui.limits import InputLimits
from kmc_ui.media.ffmpeg import FFmpegError, run_ffmpeg
from kmc_ui.media.prepare_common import PreparationCancelled, PreparationError, failed, mb, tmp_name
from kmc_ui.media.probe import VideoInfo, probe_video
from kmc_ui.media.video_plan import VideoPlan
from kmc_ui.messages import Msg, Said

X264_CRF = 20
# Preset by pixels a frame: veryfast up to 1.5 MP; faster above so a 1080p transcode runs >= 2x real
# time on 2 cores (bench/bench_prepare.py measures it).
X264_PRESETS = ((4_000_000, "ultrafast"), (1_500_000, "superfast"), (0, "veryfast"))
AUDIO_BITRATE = 128_000
SIZE_MARGIN = 0.92  # aim at this share of the size limit (container overhead, rate-control slack)
MAX_VIDEO_BITRATE = 50_000_000
MIN_VIDEO_BITRATE = 100_000

Result = tuple[Path, VideoInfo]


def copy_cut(plan: VideoPlan, final: Path, limits: InputLimits) -> tuple[Result | None, Msg | None]:
    """Stream copy (trim and/or remux) to `final`. Returns (None, why) when the copy would not conform."""
    info = plan.source
    length = plan.trim_length
    if length is not None and info.fps:  # -t keeps a frame that starts right at the limit: stop half a frame early
        length -= 0.5 / info.fps
    for _attempt in range(3):
        tmp = tmp_name(final)
        try:
            args: list[str] = []
            if plan.trim_start:  # 1 ms past the keyframe, so rounding never lands on the one before
                args += ["-ss", f"{plan.trim_start + 0.001:.6f}"]
            args += ["-i", info.path]
            if length is not None:
                args += ["-t", f"{length:.6f}"]
            args += ["-map", "0:v:0", *_audio_args(plan), "-c:v", "copy", "-sn", "-dn"]
            args += ["-avoid_negative_ts", "make_zero", "-movflags", "+faststart", "-f", _muxer(final), str(tmp)]
            _run(args, timeout=60 + info.size_bytes / 5e6)
            got = probe_video(tmp)
            span = max(got.duration, _container_duration(tmp))
            if plan.trim_length is not None and length is not None and round(span, 3) > plan.trim_length + 0.004:
                length -= span - plan.trim_length + 0.001  # ended past the limit: cut a little earlier
                continue
            if got.size_bytes > limits.video_max_bytes:
                limit, copied = mb(limits.video_max_bytes), mb(got.size_bytes)
                return None, Msg("prepare.copy_too_large", {"l": limit, "c": copied})
            problems = video_problems(got, plan, limits, encoded=False)
            if problems:
                return None, Msg("prepare.copy_not_conforming", {"t_why": problems[0]})
            os.replace(tmp, final)
            return (final, replace(got, path=str(final))), None
        finally:
            tmp.unlink(missing_ok=True)
    return None, Msg("prepare.copy_too_long", {"s": f"{plan.trim_length:.2f}"})


def encode(
    plan: VideoPlan,
    final: Path,
    limits: InputLimits,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> tuple[Result, list[Msg]]:
    """Re-encode to `final` (two tries at most to get under the size limit). Returns the result and notes."""
    info = plan.source
    length = plan.out_length
    audio_bits = AUDIO_BITRATE * length if plan.keep_audio else 0
    budget = limits.video_max_bytes * 8 * SIZE_MARGIN - audio_bits
    maxrate = int(min(MAX_VIDEO_BITRATE, budget / (length + 1.0)))  # VBV buffer = 1 s of maxrate
    if maxrate < MIN_VIDEO_BITRATE:
        said = Msg("prepare.video_cannot_fit", {"l": mb(limits.video_max_bytes), "s": f"{length:.1f}"})
        raise PreparationError(failed(said, "trim_or_lower"))
    pixels = plan.width * plan.height
    preset = next(name for threshold, name in X264_PRESETS if pixels > threshold)
    if timeout is None:
        timeout = 120 + length * 6 * max(1.0, pixels / (1920 * 1080))
    rate = plan.rate
    notes: list[Msg] = []
    for attempt in (1, 2):
        tmp = tmp_name(final)
        try:
            args = ["-threads", "2"]
            if plan.trim_start:
                args += ["-ss", f"{plan.trim_start:.6f}"]
            args += ["-i", info.path]
            if plan.trim_length is not None:  # a whole number of frames, so the end never passes the limit
                args += ["-t", f"{float(math.floor(plan.trim_length * rate + 1e-6) / rate):.6f}"]
            args += ["-frames:v", str(math.floor(plan.max_seconds * rate + 1e-6))]
            args += ["-map", "0:v:0", *_audio_args(plan), "-vf", _filters(plan)]
            args += ["-c:v", "libx264", "-preset", preset, "-crf", str(X264_CRF), "-threads", "2"]
            args += ["-maxrate", str(maxrate), "-bufsize", str(maxrate), "-pix_fmt", "yuv420p", "-profile:v", "high"]
            args += ["-sn", "-dn", "-movflags", "+faststart", "-f", "mp4", str(tmp)]
            _run(args, timeout=timeout, duration=length, progress=progress, cancel=cancel)
            got = probe_video(tmp)
            if got.size_bytes > limits.video_max_bytes and attempt == 1:
                maxrate = int(maxrate * limits.video_max_bytes * 0.9 / got.size_bytes)
                notes.append(Msg("prepare.encoded_again", {"s": mb(got.size_bytes), "r": f"{maxrate / 1e6:.1f}"}))
                continue
            if got.ok and got.duration < min(limits.video_min_seconds, length - 0.5):
                said = Msg("prepare.video_short_read", {"a": f"{got.duration:.2f}", "b": f"{length:.2f}"})
                raise PreparationError(failed(said, "download_again"))
            problems = video_problems(got, plan, limits, encoded=True)
            if problems:
                said = Msg("prepare.video_not_conform", {"t_why": problems[0]})
                raise PreparationError(failed(said, "export_video"))
            os.replace(tmp, final)
            return (final, replace(got, path=str(final))), notes
        finally:
            tmp.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover


def video_problems(got: VideoInfo, plan: VideoPlan, limits: InputLimits, encoded: bool) -> list[str]:
    """What is still wrong with a prepared file: the input rules' errors plus our writing standards."""
    problems = [
        Said(f.msg) if f.msg is not None else f.message
        for f in check_video(got, plan.orientation, plan.keep_audio, limits=limits)
        if f.level == "error" or (f.auto_fix and f.code != "video_variable_fps")
    ]
    if not got.ok:
        return problems
    if got.codec != "h264":
        problems.append(Said(Msg("prepare.problem_codec", {"c": got.codec})))
    if plan.keep_audio and not got.has_audio:
        problems.append(Said(Msg("prepare.problem_audio_lost")))
    if encoded:
        if got.pix_fmt != "yuv420p" or got.width % 2 or got.height % 2 or got.rotation:
            said = {"pf": got.pix_fmt, "size": f"{got.width}x{got.height}", "r": got.rotation}
            problems.append(Said(Msg("prepare.problem_layout", said)))
        if plan.keep_audio and got.audio_codec != "aac":
            problems.append(Said(Msg("prepare.problem_audio_codec", {"c": got.audio_codec})))
    elif got.rotation != plan.source.rotation:
        problems.append(Said(Msg("prepare.problem_rotation", {"a": plan.source.rotation, "b": got.rotation})))
    return problems


def _audio_args(plan: VideoPlan) -> list[str]:
    if not plan.keep_audio:
        return ["-an"]
    if plan.audio_copy:
        return ["-map", "0:a:0", "-c:a", "copy"]
    return ["-map", "0:a:0", "-c:a", "aac", "-b:a", str(AUDIO_BITRATE)]


def _filters(plan: VideoPlan) -> str:
    """ffmpeg applies the rotation (autorotate) before these filters, so sizes are as displayed."""
    chain = [f"fps={plan.rate.numerator}/{plan.rate.denominator}"]
    if plan.scale:
        chain.append(f"scale={plan.width}:{plan.height}:flags=lanczos")
    elif (plan.width, plan.height) != (plan.source.width, plan.source.height):
        chain.append(f"crop={plan.width}:{plan.height}:0:0")
    chain.append("format=yuv420p")
    return ",".join(chain)


def _run(args: list[str], **kwargs: object) -> None:
    try:
        run_ffmpeg(args, **kwargs)  # type: ignore[arg-type]
    except FFmpegError as exc:
        if exc.cancelled:
            raise PreparationCancelled(Msg("prepare.video_stopped")) from None
        if exc.timed_out:
            limit = kwargs.get("timeout")
            said = (
                Msg("prepare.video_took_too_long", {"s": f"{limit:.0f}"})
                if isinstance(limit, (int, float))
                else Msg("prepare.video_converting", {"t_why": str(exc)})
            )
            raise PreparationError(failed(said, "trim_clip")) from None
        detail = f": {exc.detail}" if exc.detail else ""
        raise PreparationError(failed(Msg("prepare.video_failed", {"why": f"{exc}{detail}"}), "export_again")) from None


def _muxer(path: Path) -> str:
    return "mov" if path.suffix.lower() == ".mov" else "mp4"


def _container_duration(path: Path) -> float:
    try:
        with av.open(str(path)) as c:
            return (c.duration or 0) / av.time_base
    except Exception:
        return 0.0
