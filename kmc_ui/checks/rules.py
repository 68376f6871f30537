"""Findings from probe facts and the limits table. Pure functions: facts in, findings out."""

from __future__ import annotations

import re

from kmc_ui.findings import Finding, sort_findings
from kmc_ui.limits import LIMITS, TIER_HEIGHT, InputLimits
from kmc_ui.media.probe import ImageInfo, VideoInfo

_MB = 1024 * 1024
_CONVERTIBLE_IMAGE_FORMATS = {"WEBP", "AVIF", "GIF", "BMP", "HEIF", "TIFF", "MPO", "ICO"}
_MOTION_WORDS = re.compile(
    r"\b(danc\w*|jump\w*|run\w*|walk\w*|spin\w*|wav\w*|kick\w*|raise\w*|turn\w*|move\w*|moving|step\w*)\b",
    re.IGNORECASE,
)


def _mb(n: int) -> str:
    return f"{n / _MB:.1f} MB"


def _s(x: float) -> str:
    return f"{x:.2f} s"


def check_image(info: ImageInfo, tier: str = "std", limits: InputLimits = LIMITS) -> list[Finding]:
    out: list[Finding] = []

    def add(level: str, code: str, message: str, fix: str = "", auto_fix: bool = False) -> None:
        out.append(Finding(level, "image", code, message, fix, auto_fix))  # type: ignore[arg-type]

    if info.error:
        code = "image_empty" if info.size_bytes == 0 else "image_unreadable"
        add("error", code, f"Character image: {info.error}.", "Upload a JPEG or PNG picture of the character.")
        return out

    fmt = info.format.upper()
    if fmt not in limits.image_formats:
        if fmt in _CONVERTIBLE_IMAGE_FORMATS:
            add(
                "error",
                "image_format",
                f"Character image is {fmt}; the official API takes only JPEG or PNG.",
                "Convert it to PNG or JPEG.",
                auto_fix=True,
            )
        else:
            add("error", "image_format", f"Character image format {fmt} is not supported.", "Save it as JPEG or PNG.")
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
            f"Character image is animated ({info.frames} frames); only one still picture is used.",
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

    if info.mode in ("CMYK", "I;16", "I;16B", "I;16L", "I", "F", "LAB", "YCbCr"):
        add(
            "warning",
            "image_color_mode",
            f"Character image uses the {info.mode} colour mode, which providers may reject or show wrongly.",
            "It is converted to 8-bit RGB before sending.",
            auto_fix=True,
        )

    if info.size_bytes > limits.image_max_bytes:
        add(
            "error",
            "image_file_size",
            f"Character image is {_mb(info.size_bytes)}; the limit is {_mb(limits.image_max_bytes)}.",
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
    elif pixels > 178_956_970:  # Pillow's decompression-bomb limit (2 x MAX_IMAGE_PIXELS)
        add(
            "error",
            "image_too_many_pixels",
            f"Character image is {info.width}x{info.height} px ({pixels / 1e6:.0f} megapixels): too large to "
            "open safely.",
            "Downscale it below 100 megapixels in an image editor (the face and body need far fewer).",
        )
    if short < limits.image_min_side:
        add(
            "error",
            "image_too_small",
            f"Character image is {info.width}x{info.height} px; each side must be at least {limits.image_min_side} px.",
            f"Use a larger picture (at least {limits.image_warn_below_side} px a side, ideally 720 px or more).",
        )
    elif short < limits.image_warn_below_side:
        add(
            "warning",
            "image_small_side",
            f"Character image's short side is {short} px: the official API allows 300 px, but some providers "
            f"(ComfyUI, Runway) demand {limits.image_warn_below_side} px.",
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
            f"Character image's short side is {short} px, below Pro's 1080p output.",
            "A picture of 1080 px or more on the short side keeps Pro's extra detail.",
        )

    aspect = info.aspect
    if aspect and not (limits.image_aspect_min <= round(aspect, 4) <= limits.image_aspect_max):
        add(
            "error",
            "image_aspect",
            f"Character image aspect ratio is {aspect:.2f} ({info.width}x{info.height}); it must be between "
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
        code = "video_empty" if info.size_bytes == 0 else "video_unreadable"
        add("error", code, f"Motion video: {info.error}.", "Upload an MP4 or MOV video of one person moving.")
        return out
    if not info.has_video:
        add(
            "error",
            "video_no_stream",
            "Motion video has no picture (audio only).",
            "Upload a video that shows the person moving.",
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

    max_s = limits.video_max_seconds.get(orientation, limits.video_max_seconds["video"])
    container_ok = info.is_mp4_family and info.extension in limits.video_extensions
    if not container_ok:
        add(
            "error",
            "video_container",
            f"Motion video is a {_container_name(info)} file; the official API takes only MP4 or MOV.",
            "Convert it to an H.264 MP4.",
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
    if info.size_bytes > limits.video_max_bytes:
        add(
            "error",
            "video_file_size",
            f"Motion video is {_mb(info.size_bytes)}; the limit is {_mb(limits.video_max_bytes)}.",
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
            "Downscale it (to 1080p).",
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
        add(
            "error",
            "video_too_short",
            f"Motion video lasts {_s(duration)}; it must be at least {limits.video_min_seconds:.0f} s.",
            "Use a longer clip (3 s or more of continuous motion).",
        )
    elif round(duration, 2) > max_s:
        add(
            "error",
            "video_too_long",
            f"Motion video lasts {_s(duration)}; with orientation '{orientation}' the limit is {max_s:.0f} s.",
            f"Trim it to {max_s:.0f} s (pick the window below)"
            + (", or switch orientation to 'video' (up to 30 s)." if orientation == "image" else "."),
            auto_fix=True,
        )
    if info.variable_fps:
        add(
            "warning",
            "video_variable_fps",
            f"Motion video has a variable frame rate (average {info.fps:.2f} fps): timing may drift.",
            "It is re-encoded at a constant frame rate.",
            auto_fix=True,
        )
    if info.fps and info.fps < limits.video_fps_min_hint:
        add(
            "hint",
            "video_low_fps",
            f"Motion video runs at {info.fps:.1f} fps (under {limits.video_fps_min_hint:.0f}): fast moves will look jerky.",
            "Record at 24-30 fps if you can.",
        )
    elif info.fps and info.fps > limits.video_fps_max_hint:
        add(
            "hint",
            "video_high_fps",
            f"Motion video runs at {info.fps:.1f} fps; the output is generated at a normal frame rate.",
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
    if tier == "pro" and 0 < short < 720:
        add(
            "hint",
            "video_below_output",
            f"Motion video's short side is {short} px; Pro renders 1080p.",
            "A 720p or larger reference tracks hands and feet better.",
        )
    return out


def _container_name(info: VideoInfo) -> str:
    ext = info.extension.lstrip(".").upper()
    return ext or info.container.split(",")[0].upper() or "unknown"


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
                f"Image ({_shape(ia)}, {ia:.2f}) and video ({_shape(va)}, {va:.2f}) have different shapes "
                f"({ratio:.1f}x apart): the character may be cropped or squeezed.",
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
