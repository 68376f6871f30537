"""Video side of the preparation step, part 1: deciding what to do (no file is written here).

A plan says whether the motion video is sent as-is, cut or remuxed by stream copy (no
re-encode), or re-encoded, and why, in words. Keyframes come from the container's index via
PyAV (a seek and one packet read); nothing is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from kmc_ui.limits import InputLimits
from kmc_ui.media.prepare_common import mb
from kmc_ui.media.probe import VideoInfo
from kmc_ui.messages import Msg

CONFORMING_PIX_FMTS = ("yuv420p", "yuvj420p")
KEYFRAME_TOLERANCE_S = 0.5  # a stream copy may start at most this much before the wanted start
TARGET_LONG_SIDE = 3840  # downscale target when a side is over the limit (4K UHD)
STANDARD_RATES = tuple(
    Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60")
)


@dataclass(frozen=True)
class VideoPlan:
    """How the source becomes what is sent. `actions` says it in words; empty = sent as-is."""

    source: VideoInfo
    orientation: str
    max_seconds: float
    actions: list[str]
    trim_start: float | None = None  # where the kept window starts in the source (None: no trim)
    trim_length: float | None = None  # its length (the orientation's maximum)
    copy: bool = False  # stream copy: trim and/or remux, the H.264 stream is kept as it is
    encode: bool = False  # re-encode with libx264
    keep_audio: bool = True
    audio_copy: bool = False
    width: int = 0  # output size as displayed (re-encode only)
    height: int = 0
    scale: bool = False  # resample (downscale) rather than crop one pixel for even sizes
    rate: Fraction = Fraction(30)  # constant output frame rate (re-encode only)
    action_msgs: list[Msg] = field(default_factory=list)  # `actions` as messages (the page's language)
    container_ext: str = ".mp4"

    @property
    def needed(self) -> bool:
        return self.copy or self.encode

    @property
    def out_length(self) -> float:
        return self.trim_length if self.trim_length is not None else self.source.duration


def build_plan(
    info: VideoInfo,
    orientation: str,
    start: float,
    keep_sound: bool,
    limits: InputLimits,
    force_reason: Msg | None = None,
    end: float | None = None,
    before_cut: bool = False,
) -> VideoPlan:
    """The plan for a probed, readable video. `force_reason` forces a re-encode (and says why).

    `end`: the window [start, end] is kept (at most the longest clip) when it is at least the
    shortest clip the provider accepts; `before_cut`: that end is before a cut the body check found."""
    max_s = limits.video_max_seconds.get(orientation, limits.video_max_seconds["video"])
    reasons: list[Msg] = []  # why the picture must be re-encoded

    if info.codec not in limits.video_codecs:
        codec = info.codec.upper()
        reasons.append(Msg("prepare.transcoded", {"c": codec}) if codec else Msg("prepare.transcoded_unknown"))
    elif info.pix_fmt not in CONFORMING_PIX_FMTS:
        reasons.append(Msg("prepare.pixel_format", {"pf": info.pix_fmt or "unknown"}))
    if info.variable_fps:
        rate = snap_rate(source_rate(info))
        reasons.append(Msg("prepare.constant_rate", {"f": _fps_text(rate), "a": f"{info.fps:.2f}"}))
    else:
        rate = snap_rate(Fraction(info.fps).limit_denominator(1001) if info.fps else Fraction(0))
    width, height, scale = even_size(info.width, info.height, limits)
    if scale:
        reasons.append(Msg("prepare.downscaled", {"a": f"{info.width}x{info.height}", "b": f"{width}x{height}"}))
    if force_reason is not None:
        reasons.append(force_reason)

    trim_start: float | None = None
    trim_length: float | None = None
    chosen = end is not None and min(end, info.duration) - max(0.0, start) >= limits.video_min_seconds
    if chosen and end is not None:
        trim_start = max(0.0, start)
        trim_length = min(max_s, min(end, info.duration) - trim_start)
    elif round(info.duration, 2) > max_s:
        trim_length = max_s
        trim_start = min(max(0.0, start), max(0.0, info.duration - max_s))
    if trim_start is not None and not reasons:
        key = keyframe_at_or_before(info.path, trim_start)
        if key is not None and trim_start - key <= KEYFRAME_TOLERANCE_S:
            trim_start = key
        else:
            s = f"{trim_start:.2f}"
            if key is not None:
                reasons.append(Msg("prepare.exact_start_key", {"s": s, "k": f"{key:.2f}"}))
            else:
                reasons.append(Msg("prepare.exact_start_no_key", {"s": s}))

    over_size = info.size_bytes > limits.video_max_bytes
    if over_size and not reasons:
        share = (trim_length / info.duration) if (trim_length and info.duration) else 1.0
        if info.size_bytes * share > limits.video_max_bytes * 0.95:
            reasons.append(Msg("prepare.capped_rate", {"l": mb(limits.video_max_bytes)}))

    container_ok = info.is_mp4_family and info.extension in limits.video_extensions
    encode = bool(reasons)
    copy = not encode and (trim_length is not None or not container_ok or over_size)
    keep_audio = info.has_audio and keep_sound
    audio_copy = keep_audio and copy and info.audio_codec == "aac"

    msgs: list[Msg] = []
    if trim_start is not None and trim_length is not None:
        msgs.append(trimmed_msg(trim_start, trim_start + trim_length, encoded=not copy))
        if chosen and before_cut:
            msgs.append(Msg("prepare.ended_before_cut"))
    if copy and not container_ok:
        msgs.append(Msg("prepare.remuxed", {"c": _container_label(info)}))
    msgs += reasons
    if encode:
        if not scale and (width, height) != (info.width, info.height):
            msgs.append(Msg("prepare.cropped", {"a": f"{info.width}x{info.height}", "b": f"{width}x{height}"}))
        if info.rotation:
            msgs.append(Msg("prepare.rotated", {"r": info.rotation}))
    if (copy or encode) and info.has_audio:
        if not keep_sound:
            msgs.append(Msg("prepare.audio_left_out"))
        elif not audio_copy and info.audio_codec != "aac":
            codec = info.audio_codec.upper()
            msgs.append(Msg("prepare.audio_aac", {"c": codec}) if codec else Msg("prepare.audio_track_aac"))
    actions = [m.en() for m in msgs]

    return VideoPlan(
        source=info,
        orientation=orientation,
        max_seconds=max_s,
        actions=actions,
        action_msgs=msgs,
        trim_start=trim_start,
        trim_length=trim_length,
        copy=copy,
        encode=encode,
        keep_audio=keep_audio,
        audio_copy=audio_copy,
        width=width,
        height=height,
        scale=scale,
        rate=rate or Fraction(30),
        container_ext=info.extension if (copy and info.extension in limits.video_extensions) else ".mp4",
    )


def keyframe_at_or_before(path: str | Path, t: float) -> float | None:
    """Time (s, from the file's start) of the last keyframe at or before t, from the index.

    PyAV seeks backward to a keyframe with the container's index and reads one packet;
    nothing is decoded. When the seek lands wrong, packet flags are scanned instead (reads
    packets, still decodes nothing). None when no keyframe is found.
    """
    try:
        with av.open(str(path)) as c:
            vs = c.streams.video[0]
            tb = vs.time_base
            base = (c.start_time or 0) / av.time_base
            if t > 0:
                c.seek(int((t + base) / tb), stream=vs, backward=True, any_frame=False)
            for pkt in c.demux(vs):
                if pkt.pts is None or not pkt.size:
                    continue
                k = float(pkt.pts * tb) - base
                if pkt.is_keyframe and k <= t + 1e-3:
                    return max(0.0, k)
                break
        with av.open(str(path)) as c:
            vs = c.streams.video[0]
            tb = vs.time_base
            base = (c.start_time or 0) / av.time_base
            best: float | None = None
            for pkt in c.demux(vs):
                if pkt.pts is None or not pkt.is_keyframe:
                    continue
                k = float(pkt.pts * tb) - base
                if k > t + 1e-3:
                    break
                best = max(0.0, k)
            return best
    except Exception:
        return None


def source_rate(info: VideoInfo) -> Fraction:
    """The nominal (regular, usually highest) frame rate of a variable-rate source, from the header."""
    try:
        with av.open(info.path) as c:
            vs = c.streams.video[0]
            for rate in (vs.base_rate, vs.guessed_rate, vs.average_rate):
                if rate and 1 <= float(rate) <= 240:
                    return Fraction(rate)
    except Exception:
        pass
    return Fraction(info.fps).limit_denominator(1001) if info.fps else Fraction(30)


def snap_rate(rate: Fraction) -> Fraction:
    """The nearest standard frame rate when within 0.5 % (23.976 stays 23.976, 24 stays 24)."""
    if not rate or rate <= 0:
        return Fraction(0)
    best = min(STANDARD_RATES, key=lambda std: abs(float(rate) - float(std)))
    if abs(float(rate) - float(best)) / float(best) < 0.005:
        return best
    return Fraction(rate).limit_denominator(1001)


def even_size(w: int, h: int, limits: InputLimits) -> tuple[int, int, bool]:
    """Output size: long side within the limit (downscaled to TARGET_LONG_SIDE), both sides even."""
    long_ = max(w, h)
    if long_ > limits.video_max_side:
        f = min(TARGET_LONG_SIDE, limits.video_max_side) / long_
        return _even(w * f), _even(h * f), True
    return max(2, w - w % 2), max(2, h - h % 2), False


def _even(x: float) -> int:
    return max(2, round(x) // 2 * 2)


def _fps_text(rate: Fraction) -> str:
    return f"{float(rate):g}" if rate.denominator == 1 else f"{float(rate):.3f}"


def trimmed_msg(start: float, end: float, encoded: bool) -> Msg:
    """ "trimmed to a-b s (re-encoded)" / "(cut at keyframes, no re-encode)"."""
    code = "prepare.trimmed_encoded" if encoded else "prepare.trimmed_copy"
    return Msg(code, {"a": f"{start:.2f}", "b": f"{end:.2f}"})


def _container_label(info: VideoInfo) -> str:
    return (info.extension.lstrip(".") or info.container.split(",")[0]).upper()
