"""Findings from probe facts and the limits table. Pure functions: facts in, findings out."""

from __future__ import annotations

import re

from kmc_ui.findings import Finding, sort_findings
from kmc_ui.limits import LIMITS, TIER_HEIGHT, InputLimits
from kmc_ui.media.probe import FRAME_COUNT_CAP, ImageInfo, VideoInfo

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


def _s(x: float) -> str:
    return f"{_num(x)} s"


def check_image(info: ImageInfo, tier: str = "std", limits: InputLimits = LIMITS) -> list[Finding]:
    out: list[Finding] = []

    def add(level: str, code: str, message: str, fix: str = "", auto_fix: bool = False) -> None:
        out.append(Finding(level, "image", code, message, fix, auto_fix))  # type: ignore[arg-type]

    if info.error:
        code = "image_missing" if info.missing else "image_empty" if info.size_bytes == 0 else "image_unreadable"
        add("error", code, f"Character image: {info.error}.", "Upload a JPEG or PNG picture of the character.")
        return out

    fmt = info.format.upper()
    pixels = info.width * info.height
    if fmt not in limits.image_formats:
        if fmt in _CONVERTIBLE_IMAGE_FORMATS and fmt != "MPO" and pixels > limits.image_convert_max_pixels:
            add(
                "error",
                "image_format",
                f"Character image is a {fmt} file of {info.width}x{info.height} px ({pixels / 1e6:.0f} megapixels); "
                f"the official API takes only JPEG or PNG, and this app converts pictures of at most "
                f"{limits.image_convert_max_pixels / 1e6:.0f} megapixels.",
                f"Downscale it to at most {limits.image_convert_max_pixels / 1e6:.0f} megapixels and save it as "
                "JPEG or PNG in an image editor.",
            )
        elif fmt in _CONVERTIBLE_IMAGE_FORMATS:
            add(
                "error",
                "image_format",
                f"Character image is a {fmt} file; the official API takes only JPEG or PNG.",
                "Convert it to PNG or JPEG.",
                auto_fix=True,
            )
        else:
            add(
                "error",
                "image_format",
                f"Character image is a {fmt or 'unknown'} file; the official API takes only JPEG or PNG.",
                "Save it as JPEG or PNG in an image editor.",
            )
    elif info.extension not in limits.image_extensions or _ext_format(info.extension) != fmt:
        add(
            "hint",
            "image_extension_mismatch",
            f"The file is named '{info.extension or '(no extension)'}' but holds a {fmt} image.",
            f"It is sent with the right type ({fmt}); rename it to avoid confusion elsewhere.",
            auto_fix=True,
        )

    if info.frames > 1:
        add(
            "warning",
            "image_animated",
            f"Character image is animated ({'at least ' if info.frames >= FRAME_COUNT_CAP else ''}{info.frames} "
            "frames); only one still picture is used.",
            "The first frame is sent as a still PNG; pick a still image if another frame shows the character better.",
            auto_fix=True,
        )

    if info.exif_orientation not in (0, 1):
        add(
            "hint",
            "image_exif_rotated",
            f"The photo carries EXIF orientation {info.exif_orientation}; it was measured as displayed "
            f"({info.width}x{info.height}, stored {info.stored_width}x{info.stored_height}).",
            "The upright picture is sent, so the provider sees it as you do.",
            auto_fix=True,
        )

    if info.mode in ("CMYK", "LAB", "YCbCr", *_HIGH_BIT_MODES) or info.bit_depth > 8:
        what = (
            f"{info.bit_depth}-bit {info.mode}"
            if info.bit_depth > 8 and info.mode not in _HIGH_BIT_MODES
            else info.mode
        )
        add(
            "warning",
            "image_color_mode",
            f"Character image uses the {what} colour mode; providers expect 8-bit RGB and may reject it or show "
            "wrong colours.",
            "It is converted to 8-bit RGB before sending.",
            auto_fix=True,
        )

    if info.size_bytes > limits.image_max_bytes:
        measured, limit = _size(info.size_bytes, limits.image_max_bytes)
        add(
            "error",
            "image_file_size",
            f"Character image is {measured}; the limit is {limit}.",
            "Re-save it smaller (JPEG quality 90 or a smaller size).",
            auto_fix=True,
        )

    short, long_ = min(info.width, info.height), max(info.width, info.height)
    pixels = info.width * info.height
    if long_ > limits.image_max_side:
        add(
            "error",
            "image_too_large",
            f"Character image is {info.width}x{info.height} px; each side must be at most {limits.image_max_side} px.",
            "Downscale it.",
            auto_fix=True,
        )
    elif pixels > limits.image_max_pixels:
        add(
            "error",
            "image_too_many_pixels",
            f"Character image is {info.width}x{info.height} px ({pixels / 1e6:.0f} megapixels); this app opens at "
            f"most {limits.image_max_pixels / 1e6:.0f} megapixels safely.",
            "Downscale it in an image editor (a few megapixels are plenty for the face and body).",
        )
    if short < limits.image_min_side:
        add(
            "error",
            "image_too_small",
            f"Character image is {info.width}x{info.height} px; each side must be at least {limits.image_min_side} px.",
            f"Use a larger picture: at least {limits.image_min_side} px a side ({limits.image_warn_below_side} px "
            f"suits every provider; ideally {limits.image_hint_below_short_side} px or more).",
        )
    elif short < limits.image_warn_below_side:
        add(
            "warning",
            "image_small_side",
            f"Character image's short side is {short} px: the official API allows {limits.image_min_side} px, "
            f"but some providers (ComfyUI, Runway) demand {limits.image_warn_below_side} px.",
            f"Use a picture with each side at least {limits.image_warn_below_side} px.",
        )
    elif short < limits.image_hint_below_short_side:
        add(
            "hint",
            "image_low_resolution",
            f"Character image's short side is {short} px (under {limits.image_hint_below_short_side} px): details of "
            "the face and clothes will be invented.",
            "A sharper, larger picture gives a better likeness.",
        )
    elif short < TIER_HEIGHT.get(tier, 720) and tier == "pro":
        add(
            "hint",
            "image_below_output",
            f"Character image's short side is {short} px, below Pro's {TIER_HEIGHT['pro']}p output.",
            f"A picture of {TIER_HEIGHT['pro']} px or more on the short side keeps Pro's extra detail.",
        )

    aspect = info.aspect
    if aspect and not (limits.image_aspect_min <= round(aspect, 4) <= limits.image_aspect_max):
        add(
            "error",
            "image_aspect",
            f"Character image aspect ratio is {_num(aspect, 4)} ({info.width}x{info.height}); it must be between "
            f"{limits.image_aspect_min} (1:2.5) and {limits.image_aspect_max} (2.5:1).",
            "Crop the picture closer to the character.",
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

    def add(level: str, code: str, message: str, fix: str = "", auto_fix: bool = False) -> None:
        out.append(Finding(level, "video", code, message, fix, auto_fix))  # type: ignore[arg-type]

    if info.error:
        code = "video_missing" if info.missing else "video_empty" if info.size_bytes == 0 else "video_unreadable"
        add("error", code, f"Motion video: {info.error}.", "Upload an MP4 or MOV video of one person moving.")
        return out
    if not info.has_video:
        sound = f" ({info.audio_codec.upper()} audio only)" if info.audio_codec else ""
        add(
            "error",
            "video_no_stream",
            f"Motion video has no picture track{sound}.",
            "Upload a video that shows the person moving.",
        )
        return out
    if not info.decodable and not info.codec:  # a picture track in a codec FFmpeg does not know
        add(
            "error",
            "video_undecodable",
            "Motion video's picture track uses a codec this app cannot decode (or its header is corrupt).",
            "Convert it to an H.264 MP4 in a video editor or converter.",
        )
        return out
    if not info.decodable:
        add(
            "error",
            "video_undecodable",
            f"Motion video's {info.codec or 'video'} stream cannot be decoded (corrupt or truncated).",
            "Export or download the video again.",
        )
        return out

    if info.expected_bytes and info.size_bytes < info.expected_bytes:
        measured, limit = _size(info.size_bytes, info.expected_bytes)
        add(
            "error",
            "video_truncated",
            f"Motion video is cut short: its index describes {_s(info.duration)} of media in {limit}, but the file "
            f"holds only {measured}.",
            "Download or export the video again; the upload or recording was interrupted.",
        )

    max_s = limits.video_max_seconds.get(orientation, limits.video_max_seconds["video"])
    allowed = " or ".join(e.lstrip(".").upper() for e in limits.video_extensions)
    if not info.is_mp4_family:
        add(
            "error",
            "video_container",
            f"Motion video is a {_container_name(info)} file; the official API takes only {allowed}.",
            "Convert it to an H.264 MP4.",
            auto_fix=True,
        )
    elif info.extension not in limits.video_extensions:
        add(
            "error",
            "video_container",
            f"Motion video is named '{info.extension or '(no extension)'}'; the official API takes only "
            f"{', '.join(limits.video_extensions)} files.",
            "It is sent as .mp4 (same content, new name).",
            auto_fix=True,
        )
    if info.codec not in limits.video_codecs:
        add(
            "warning",
            "video_codec",
            f"Motion video is encoded as {info.codec.upper() or 'unknown'}; H.264 is the safe choice for every "
            "provider and browser.",
            "Transcode it to H.264.",
            auto_fix=True,
        )
    elif info.pix_fmt and info.pix_fmt != "yuv420p":
        add(
            "warning",
            "video_pixel_format",
            f"Motion video's H.264 uses the {info.pix_fmt} pixel format; browsers and some providers only "
            "play yuv420p.",
            "Re-encode it as 8-bit yuv420p.",
            auto_fix=True,
        )
    if info.size_bytes > limits.video_max_bytes:
        add(
            "error",
            "video_file_size",
            "Motion video is {}; the limit is {}.".format(*_size(info.size_bytes, limits.video_max_bytes)),
            "Re-encode it at a lower bit rate or trim it.",
            auto_fix=True,
        )
    short, long_ = min(info.width, info.height), max(info.width, info.height)
    if short < limits.video_min_side:
        add(
            "error",
            "video_too_small",
            f"Motion video is {info.width}x{info.height} px; each side must be at least {limits.video_min_side} px.",
            "Use a higher-resolution recording (720p or more).",
        )
    if long_ > limits.video_max_side:
        add(
            "error",
            "video_too_large",
            f"Motion video is {info.width}x{info.height} px; each side must be at most {limits.video_max_side} px.",
            f"Downscale it (to {TIER_HEIGHT['pro']}p).",
            auto_fix=True,
        )
    if info.rotation:
        add(
            "hint",
            "video_rotated",
            f"Motion video carries a {info.rotation}° rotation; it was measured as displayed "
            f"({info.width}x{info.height}, stored {info.coded_width}x{info.coded_height}).",
            "Nothing to do: sizes and previews follow the rotation.",
        )
    duration = info.duration
    if duration < limits.video_min_seconds:
        frames = f" ({info.frames} frame{'s' if info.frames != 1 else ''})" if 0 < info.frames < 10 else ""
        add(
            "error",
            "video_too_short",
            f"Motion video lasts {_s(duration)}{frames}; it must be at least {_s(limits.video_min_seconds)}.",
            f"Use a longer clip ({_s(limits.video_min_seconds)} or more of continuous motion).",
        )
    elif round(duration, 2) > max_s:
        add(
            "error",
            "video_too_long",
            f"Motion video lasts {_s(duration)}; with orientation '{orientation}' the limit is {_s(max_s)}.",
            f"Trim it to {_s(max_s)} (pick the window below)"
            + (
                f", or switch orientation to 'video' (up to {_s(limits.video_max_seconds['video'])})."
                if orientation == "image"
                else "."
            ),
            auto_fix=True,
        )
    broken_timing = info.fps < limits.video_fps_min_valid
    if broken_timing:
        add(
            "error",
            "video_frame_rate",
            f"Motion video's index gives {_num(info.fps, 3)} fps (under {_num(limits.video_fps_min_valid)}): its "
            "frame timing is broken (frames without durations or a zero timescale), so the motion cannot be timed.",
            "Export the video again from the camera or editor.",
        )
    if info.variable_fps and not broken_timing:
        add(
            "warning",
            "video_variable_fps",
            f"Motion video has a variable frame rate (average {_num(info.fps, 2)} fps); a constant rate is "
            "expected, or the timing may drift.",
            "It is re-encoded at a constant frame rate.",
            auto_fix=True,
        )
    if not broken_timing and info.fps < limits.video_fps_min_hint:
        add(
            "hint",
            "video_low_fps",
            f"Motion video runs at {_num(info.fps, 2)} fps (under {_num(limits.video_fps_min_hint)}): fast moves "
            "will look jerky.",
            "Record at 24-30 fps if you can.",
        )
    elif info.fps and info.fps > limits.video_fps_max_hint:
        add(
            "hint",
            "video_high_fps",
            f"Motion video runs at {_num(info.fps, 2)} fps (over {_num(limits.video_fps_max_hint)}); the output is "
            "generated at a normal frame rate.",
            "Nothing to do; 24-30 fps sources upload faster.",
        )
    if keep_sound and not info.has_audio:
        add(
            "hint",
            "video_no_audio",
            "'Keep original sound' is on, but the motion video has no audio track: the result will be silent.",
            "Turn 'Keep original sound' off, or use a clip with sound.",
        )
    elif not keep_sound and info.has_audio:
        add(
            "hint",
            "video_audio_dropped",
            "The motion video has sound, and 'Keep original sound' is off: the result will be silent.",
            "Turn 'Keep original sound' on to keep it.",
        )
    if tier == "pro" and 0 < short < TIER_HEIGHT["std"]:
        add(
            "hint",
            "video_below_output",
            f"Motion video's short side is {short} px (under {TIER_HEIGHT['std']} px); Pro renders "
            f"{TIER_HEIGHT['pro']}p.",
            f"A {TIER_HEIGHT['std']}p or larger reference tracks hands and feet better.",
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
            Finding(
                "error",
                "prompt",
                "prompt_too_long",
                f"Prompt has {n} characters; the limit is {limits.prompt_max_chars}.",
                f"Shorten it by {n - limits.prompt_max_chars} characters.",
            )
        )
    words = sorted({m.group(0).lower() for m in _MOTION_WORDS.finditer(prompt or "")})
    if words:
        out.append(
            Finding(
                "hint",
                "prompt",
                "prompt_describes_motion",
                f"The prompt seems to describe motion ({', '.join(words[:4])}); the motion comes from the video.",
                "Describe scene, light, style and camera instead.",
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
            Finding(
                "warning",
                "pair",
                "pair_aspect_mismatch",
                f"Image ({_shape(ia)}, {image.width}x{image.height}, aspect {ia:.2f}) and video ({_shape(va)}, "
                f"{video.width}x{video.height}, aspect {va:.2f}) have different shapes: {ratio:.2f}x apart, more "
                f"than {_num(limits.pair_aspect_warn_ratio)}x. The character may be cropped or squeezed.",
                "Use an image and a video of similar shape (both portrait or both landscape).",
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
