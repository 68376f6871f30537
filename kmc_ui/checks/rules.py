"""Findings from probe facts and the limits table. Pure functions: facts in, findings out."""

from __future__ import annotations

import re

from kmc_ui.findings import Finding, sort_findings
from kmc_ui.limits import LIMITS, TIER_HEIGHT, InputLimits
from kmc_ui.media.probe import FRAME_COUNT_CAP, ImageInfo, VideoInfo
from kmc_ui.messages import Msg

_MB = 1024 * 1024
_CONVERTIBLE_IMAGE_FORMATS = {"WEBP", "AVIF", "GIF", "BMP", "HEIF", "TIFF", "MPO", "ICO"}
# Verb forms only: "runway", "wavy hair" or "a moving train" in a scene description are not motion.
_MOTION_WORDS = re.compile(
    r"\b(danc(?:e|es|ed|ing)|jump(?:s|ed|ing)?|run(?:s|ning)?|ran|walk(?:s|ed|ing)?|spin(?:s|ning)?|spun|"
    r"wav(?:e|es|ed|ing)|kick(?:s|ed|ing)?|rais(?:e|es|ed|ing)|turn(?:s|ed|ing)?|mov(?:e|es|ed)|"
    r"step(?:s|ped|ping)?|twirl(?:s|ed|ing)?|clap(?:s|ped|ping)?)\b",
    re.IGNORECASE,
)
_CONTAINER_NAMES = {
    "matroska,webm": "WebM/Matroska",
    "avi": "AVI",
    "mpegts": "MPEG-TS",
    "flv": "FLV",
    "asf": "WMV/ASF",
    "mpeg": "MPEG-PS",
    "ogg": "Ogg",
    "gif": "GIF",
}
_HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I", "F")


def _size(n: int, limit: int) -> tuple[str, str]:
    """Both byte counts in one readable unit; exact bytes when the rounded values would look equal."""
    unit, div = ("MB", _MB) if limit >= _MB else ("KB", 1024) if limit >= 1024 else ("bytes", 1)
    a, b = (f"{n / div:.1f} {unit}", f"{limit / div:.1f} {unit}") if div > 1 else (f"{n} bytes", f"{limit} bytes")
    if a == b or div == 1:
        return f"{n:,} bytes", f"{limit:,} bytes"
    return a, b


def _num(x: float, digits: int = 3) -> str:
    """Up to `digits` decimals, trailing zeros dropped: 3 -> "3", 2.99 -> "2.99", 0.3996 -> "0.3996"."""
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def check_image(info: ImageInfo, tier: str = "std", limits: InputLimits = LIMITS) -> list[Finding]:
    out: list[Finding] = []

    def add(level: str, code: str, msg: Msg, fix: Msg | None = None, auto_fix: bool = False) -> None:
        out.append(Finding.of(level, "image", code, msg, fix, auto_fix))  # type: ignore[arg-type]

    if info.error:
        code = "image_missing" if info.missing else "image_empty" if info.size_bytes == 0 else "image_unreadable"
        add("error", code, Msg("image.error", {"t_err": info.error_msg or info.error}), Msg("image.error.fix"))
        return out

    fmt = info.format.upper()
    pixels = info.width * info.height
    if fmt not in limits.image_formats:
        cap = f"{limits.image_convert_max_pixels / 1e6:.0f}"
        if fmt in _CONVERTIBLE_IMAGE_FORMATS and fmt != "MPO" and pixels > limits.image_convert_max_pixels:
            add(
                "error",
                "image_format",
                Msg(
                    "image.format_too_large",
                    {"w_fmt": fmt, "size": f"{info.width}x{info.height}", "mp": f"{pixels / 1e6:.0f}", "cap": cap},
                ),
                Msg("image.format_too_large.fix", {"cap": cap}),
            )
        elif fmt in _CONVERTIBLE_IMAGE_FORMATS:
            add(
                "error",
                "image_format",
                Msg("image.format", {"w_fmt": fmt}),
                Msg("image.format_convert.fix"),
                auto_fix=True,
            )
        else:
            add(
                "error",
                "image_format",
                Msg("image.format", {"w_fmt": fmt}) if fmt else Msg("image.format_unknown"),
                Msg("image.format_editor.fix"),
            )
    elif info.extension not in limits.image_extensions or _ext_format(info.extension) != fmt:
        add(
            "hint",
            "image_extension_mismatch",
            Msg("image.extension_mismatch", {"w_ext": info.extension, "fmt": fmt})
            if info.extension
            else Msg("image.extension_missing", {"fmt": fmt}),
            Msg("image.extension_mismatch.fix", {"fmt": fmt}),
            auto_fix=True,
        )

    if info.frames > 1:
        add(
            "warning",
            "image_animated",
            Msg("image.animated_many" if info.frames >= FRAME_COUNT_CAP else "image.animated", {"n": info.frames}),
            Msg("image.animated.fix"),
            auto_fix=True,
        )

    if info.exif_orientation not in (0, 1):
        add(
            "hint",
            "image_exif_rotated",
            Msg(
                "image.exif_rotated",
                {
                    "o": info.exif_orientation,
                    "size": f"{info.width}x{info.height}",
                    "stored": f"{info.stored_width}x{info.stored_height}",
                },
            ),
            Msg("image.exif_rotated.fix"),
            auto_fix=True,
        )

    if info.mode in ("CMYK", "LAB", "YCbCr", *_HIGH_BIT_MODES) or info.bit_depth > 8:
        what = (
            Msg("image.color_mode_bits", {"bits": info.bit_depth, "mode": info.mode})
            if info.bit_depth > 8 and info.mode not in _HIGH_BIT_MODES
            else Msg("image.color_mode", {"mode": info.mode})
        )
        add(
            "warning",
            "image_color_mode",
            what,
            Msg("image.color_mode.fix"),
            auto_fix=True,
        )

    if info.size_bytes > limits.image_max_bytes:
        measured, limit = _size(info.size_bytes, limits.image_max_bytes)
        add(
            "error",
            "image_file_size",
            Msg("image.file_size", {"m": measured, "l": limit}),
            Msg("image.file_size.fix"),
            auto_fix=True,
        )

    short, long_ = min(info.width, info.height), max(info.width, info.height)
    pixels = info.width * info.height
    if long_ > limits.image_max_side:
        add(
            "error",
            "image_too_large",
            Msg("image.too_large", {"size": f"{info.width}x{info.height}", "max": limits.image_max_side}),
            Msg("image.too_large.fix"),
            auto_fix=True,
        )
    elif pixels > limits.image_max_pixels:
        add(
            "error",
            "image_too_many_pixels",
            Msg(
                "image.too_many_pixels",
                {
                    "size": f"{info.width}x{info.height}",
                    "mp": f"{pixels / 1e6:.0f}",
                    "max": f"{limits.image_max_pixels / 1e6:.0f}",
                },
            ),
            Msg("image.too_many_pixels.fix"),
        )
    if short < limits.image_min_side:
        add(
            "error",
            "image_too_small",
            Msg("image.too_small", {"size": f"{info.width}x{info.height}", "min": limits.image_min_side}),
            Msg(
                "image.too_small.fix",
                {
                    "a": limits.image_min_side,
                    "c": limits.image_warn_below_side,
                    "b": limits.image_hint_below_short_side,
                },
            ),
        )
    elif short < limits.image_warn_below_side:
        add(
            "warning",
            "image_small_side",
            Msg("image.small_side", {"s": short, "a": limits.image_min_side, "b": limits.image_warn_below_side}),
            Msg("image.small_side.fix", {"b": limits.image_warn_below_side}),
        )
    elif short < limits.image_hint_below_short_side:
        add(
            "hint",
            "image_low_resolution",
            Msg("image.low_resolution", {"s": short, "h": limits.image_hint_below_short_side}),
            Msg("image.low_resolution.fix"),
        )
    elif short < TIER_HEIGHT.get(tier, 720) and tier == "pro":
        add(
            "hint",
            "image_below_output",
            Msg("image.below_output", {"s": short, "p": TIER_HEIGHT["pro"]}),
            Msg("image.below_output.fix", {"p": TIER_HEIGHT["pro"]}),
        )

    aspect = info.aspect
    if aspect and not (limits.image_aspect_min <= round(aspect, 4) <= limits.image_aspect_max):
        add(
            "error",
            "image_aspect",
            Msg(
                "image.aspect",
                {
                    "a": _num(aspect, 4),
                    "size": f"{info.width}x{info.height}",
                    "lo": str(limits.image_aspect_min),
                    "hi": str(limits.image_aspect_max),
                },
            ),
            Msg("image.aspect.fix"),
        )
    return out


def _ext_format(ext: str) -> str:
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}.get(ext, "")


def check_video(
    info: VideoInfo,
    orientation: str = "video",
    keep_sound: bool = True,
    tier: str = "std",
    limits: InputLimits = LIMITS,
) -> list[Finding]:
    out: list[Finding] = []

    def add(level: str, code: str, msg: Msg, fix: Msg | None = None, auto_fix: bool = False) -> None:
        out.append(Finding.of(level, "video", code, msg, fix, auto_fix))  # type: ignore[arg-type]

    if info.error:
        code = "video_missing" if info.missing else "video_empty" if info.size_bytes == 0 else "video_unreadable"
        add("error", code, Msg("video.error", {"t_err": info.error_msg or info.error}), Msg("video.error.fix"))
        return out
    if not info.has_video:
        add(
            "error",
            "video_no_stream",
            Msg("video.no_stream_audio", {"codec": info.audio_codec.upper()})
            if info.audio_codec
            else Msg("video.no_stream"),
            Msg("video.no_stream.fix"),
        )
        return out
    if not info.decodable and not info.codec:  # a picture track in a codec FFmpeg does not know
        add(
            "error",
            "video_undecodable",
            Msg("video.unknown_codec"),
            Msg("video.unknown_codec.fix"),
        )
        return out
    if not info.decodable:
        add(
            "error",
            "video_undecodable",
            Msg("video.undecodable", {"codec": info.codec or "video"}),
            Msg("video.undecodable.fix"),
        )
        return out

    if info.expected_bytes and info.size_bytes < info.expected_bytes:
        measured, limit = _size(info.size_bytes, info.expected_bytes)
        add(
            "error",
            "video_truncated",
            Msg("video.truncated", {"d": _num(info.duration), "l": limit, "m": measured}),
            Msg("video.truncated.fix"),
        )

    max_s = limits.video_max_seconds.get(orientation, limits.video_max_seconds["video"])
    allowed = [e.lstrip(".").upper() for e in limits.video_extensions]
    if not info.is_mp4_family:
        add(
            "error",
            "video_container",
            Msg("video.container", {"w_name": name, "allowed": allowed})
            if (name := _container_name(info)) != "unknown"
            else Msg("video.container_unknown", {"allowed": allowed}),
            Msg("video.container.fix"),
            auto_fix=True,
        )
    elif info.extension not in limits.video_extensions:
        add(
            "error",
            "video_container",
            Msg("video.extension", {"w_ext": info.extension, "exts": list(limits.video_extensions)})
            if info.extension
            else Msg("video.extension_missing", {"exts": list(limits.video_extensions)}),
            Msg("video.extension.fix"),
            auto_fix=True,
        )
    if info.codec not in limits.video_codecs:
        add(
            "warning",
            "video_codec",
            Msg("video.codec", {"w_codec": info.codec.upper()}) if info.codec else Msg("video.codec_unknown"),
            Msg("video.codec.fix"),
            auto_fix=True,
        )
    elif info.pix_fmt and info.pix_fmt != "yuv420p":
        add(
            "warning",
            "video_pixel_format",
            Msg("video.pixel_format", {"pf": info.pix_fmt}),
            Msg("video.pixel_format.fix"),
            auto_fix=True,
        )
    if info.size_bytes > limits.video_max_bytes:
        add(
            "error",
            "video_file_size",
            Msg("video.file_size", dict(zip(("m", "l"), _size(info.size_bytes, limits.video_max_bytes), strict=True))),
            Msg("video.file_size.fix"),
            auto_fix=True,
        )
    short, long_ = min(info.width, info.height), max(info.width, info.height)
    if short < limits.video_min_side:
        add(
            "error",
            "video_too_small",
            Msg("video.too_small", {"size": f"{info.width}x{info.height}", "min": limits.video_min_side}),
            Msg("video.too_small.fix"),
        )
    if long_ > limits.video_max_side:
        add(
            "error",
            "video_too_large",
            Msg("video.too_large", {"size": f"{info.width}x{info.height}", "max": limits.video_max_side}),
            Msg("video.too_large.fix", {"p": TIER_HEIGHT["pro"]}),
            auto_fix=True,
        )
    if info.rotation:
        add(
            "hint",
            "video_rotated",
            Msg(
                "video.rotated",
                {
                    "r": info.rotation,
                    "size": f"{info.width}x{info.height}",
                    "stored": f"{info.coded_width}x{info.coded_height}",
                },
            ),
            Msg("video.rotated.fix"),
        )
    duration = info.duration
    if duration < limits.video_min_seconds:
        least = _num(limits.video_min_seconds)
        add(
            "error",
            "video_too_short",
            Msg("video.too_short_frames", {"d": _num(duration), "n": info.frames, "m": least})
            if 0 < info.frames < 10
            else Msg("video.too_short", {"d": _num(duration), "m": least}),
            Msg("video.too_short.fix", {"m": least}),
        )
    elif round(duration, 2) > max_s:
        add(
            "error",
            "video_too_long",
            Msg("video.too_long", {"d": _num(duration), "o": orientation, "m": _num(max_s)}),
            Msg("video.too_long_image.fix", {"m": _num(max_s), "v": _num(limits.video_max_seconds["video"])})
            if orientation == "image"
            else Msg("video.too_long.fix", {"m": _num(max_s)}),
            auto_fix=True,
        )
    broken_timing = info.fps < limits.video_fps_min_valid
    if broken_timing:
        add(
            "error",
            "video_frame_rate",
            Msg("video.frame_rate", {"f": _num(info.fps, 3), "m": _num(limits.video_fps_min_valid)}),
            Msg("video.frame_rate.fix"),
        )
    if info.variable_fps and not broken_timing:
        add(
            "warning",
            "video_variable_fps",
            Msg("video.variable_fps", {"f": _num(info.fps, 2)}),
            Msg("video.variable_fps.fix"),
            auto_fix=True,
        )
    if not broken_timing and info.fps < limits.video_fps_min_hint:
        add(
            "hint",
            "video_low_fps",
            Msg("video.low_fps", {"f": _num(info.fps, 2), "m": _num(limits.video_fps_min_hint)}),
            Msg("video.low_fps.fix"),
        )
    elif info.fps and info.fps > limits.video_fps_max_hint:
        add(
            "hint",
            "video_high_fps",
            Msg("video.high_fps", {"f": _num(info.fps, 2), "m": _num(limits.video_fps_max_hint)}),
            Msg("video.high_fps.fix"),
        )
    if keep_sound and not info.has_audio:
        add(
            "hint",
            "video_no_audio",
            Msg("video.no_audio"),
            Msg("video.no_audio.fix"),
        )
    elif not keep_sound and info.has_audio:
        add(
            "hint",
            "video_audio_dropped",
            Msg("video.audio_dropped"),
            Msg("video.audio_dropped.fix"),
        )
    if tier == "pro" and 0 < short < TIER_HEIGHT["std"]:
        add(
            "hint",
            "video_below_output",
            Msg("video.below_output", {"s": short, "std": TIER_HEIGHT["std"], "p": TIER_HEIGHT["pro"]}),
            Msg("video.below_output.fix", {"std": TIER_HEIGHT["std"]}),
        )
    return out


def _container_name(info: VideoInfo) -> str:
    """The container the content really is (a WebM renamed .mp4 is still a WebM)."""
    return _CONTAINER_NAMES.get(info.container) or info.container.split(",")[0].upper() or "unknown"


def check_prompt(prompt: str, limits: InputLimits = LIMITS) -> list[Finding]:
    out: list[Finding] = []
    n = len(prompt or "")
    if n > limits.prompt_max_chars:
        out.append(
            Finding.of(
                "error",
                "prompt",
                "prompt_too_long",
                Msg("prompt.too_long", {"n": n, "l": limits.prompt_max_chars}),
                Msg("prompt.too_long.fix", {"n": n - limits.prompt_max_chars}),
            )
        )
    words = sorted({m.group(0).lower() for m in _MOTION_WORDS.finditer(prompt or "")})
    if words:
        out.append(
            Finding.of(
                "hint",
                "prompt",
                "prompt_describes_motion",
                Msg("prompt.describes_motion", {"words": words[:4]}),
                Msg("prompt.describes_motion.fix"),
            )
        )
    return out


def check_pair(image: ImageInfo | None, video: VideoInfo | None, limits: InputLimits = LIMITS) -> list[Finding]:
    if not image or not video or not image.ok or not video.ok or not video.has_video:
        return []
    ia, va = image.aspect, video.aspect
    if not ia or not va:
        return []
    ratio = max(ia, va) / min(ia, va)
    if ratio > limits.pair_aspect_warn_ratio:
        return [
            Finding.of(
                "warning",
                "pair",
                "pair_aspect_mismatch",
                Msg(
                    "pair.aspect_mismatch",
                    {
                        "w_s1": _shape(ia),
                        "size1": f"{image.width}x{image.height}",
                        "a1": f"{ia:.2f}",
                        "w_s2": _shape(va),
                        "size2": f"{video.width}x{video.height}",
                        "a2": f"{va:.2f}",
                        "r": f"{ratio:.2f}",
                        "lim": _num(limits.pair_aspect_warn_ratio),
                    },
                ),
                Msg("pair.aspect_mismatch.fix"),
            )
        ]
    return []


def _shape(aspect: float) -> str:
    return "portrait" if aspect < 0.9 else "landscape" if aspect > 1.1 else "square"


def check_all(
    image: ImageInfo | None,
    video: VideoInfo | None,
    prompt: str = "",
    orientation: str = "video",
    tier: str = "std",
    keep_sound: bool = True,
    limits: InputLimits = LIMITS,
) -> list[Finding]:
    findings: list[Finding] = []
    if image is not None:
        findings += check_image(image, tier, limits)
    if video is not None:
        findings += check_video(video, orientation, keep_sound, tier, limits)
    findings += check_prompt(prompt, limits)
    findings += check_pair(image, video, limits)
    return sort_findings(findings)
