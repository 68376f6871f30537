"""Every check rule at and around its boundary, on real files made in fixtures.

Each case asserts the exact set of (level, input, code) findings, and that the message names
the measured value and the limit.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from kmc_ui.checks.rules import check_all, check_image, check_pair, check_prompt, check_video
from kmc_ui.findings import Finding
from kmc_ui.limits import LIMITS, MB, InputLimits
from kmc_ui.media.probe import probe_image, probe_video
from tests.conftest import MediaCache
from tests.media_factory import ffmpeg_exe

Key = tuple[str, str, str]


def keys(findings: list[Finding]) -> set[Key]:
    return {(f.level, f.input, f.code) for f in findings}


def only(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, findings
    return hits[0]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def fake_png(width: int, height: int) -> bytes:
    """A PNG header declaring any size with no real pixel data: the probe reads headers only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def pad_png(path: Path, target: int) -> Path:
    """Grow a real PNG to exactly `target` bytes with an ancillary chunk after the pixels."""
    data = path.read_bytes()
    assert data.endswith(png_chunk(b"IEND", b""))
    filler = target - len(data) - 12  # 12 = length + type + CRC
    assert filler >= 0, (len(data), target)
    out = path.with_name(f"{path.stem}_{target}{path.suffix}")
    out.write_bytes(data[:-12] + png_chunk(b"paDd", b"\0" * filler) + data[-12:])
    assert out.stat().st_size == target
    return out


def image_findings(path: Path, **kwargs: object) -> list[Finding]:
    return check_image(probe_image(path), **kwargs)  # type: ignore[arg-type]


def video_findings(path: Path, **kwargs: object) -> list[Finding]:
    info = probe_video(path)
    assert info.ok, info.error
    return check_video(info, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- image: sides and tiers


@pytest.mark.parametrize(
    ("width", "height", "tier", "expected", "texts"),
    [
        (299, 600, "std", {("error", "image", "image_too_small")}, ["299x600", "300 px"]),
        (600, 299, "std", {("error", "image", "image_too_small")}, ["600x299", "300 px"]),
        (300, 600, "std", {("warning", "image", "image_small_side")}, ["300 px", "340 px"]),
        (339, 600, "std", {("warning", "image", "image_small_side")}, ["339 px", "340 px"]),
        (340, 600, "std", {("hint", "image", "image_low_resolution")}, ["340 px", "720 px"]),
        (719, 1000, "std", {("hint", "image", "image_low_resolution")}, ["719 px", "720 px"]),
        (720, 1000, "std", set(), []),
        (1000, 720, "std", set(), []),
        (720, 1000, "pro", {("hint", "image", "image_below_output")}, ["720 px", "1080p"]),
        (1080, 1500, "pro", set(), []),
        (500, 800, "pro", {("hint", "image", "image_low_resolution")}, ["500 px", "720 px"]),
    ],
)
def test_image_sides(
    media: MediaCache, width: int, height: int, tier: str, expected: set[Key], texts: list[str]
) -> None:
    path = media.image(f"side_{width}x{height}.png", width, height)
    findings = image_findings(path, tier=tier)
    assert keys(findings) == expected
    for text in texts:
        assert text in findings[0].message


@pytest.mark.parametrize(
    ("width", "height", "expected", "texts"),
    [
        (70000, 40000, {("error", "image", "image_too_large")}, ["70000x40000", "65536 px"]),
        (40000, 70000, {("error", "image", "image_too_large")}, ["40000x70000", "65536 px"]),
        (65536, 2000, {("error", "image", "image_aspect")}, ["65536x2000", "2.5"]),
        (65536, 40000, {("error", "image", "image_too_many_pixels")}, ["65536x40000", "2621 megapixels", "179"]),
        (20000, 20000, {("error", "image", "image_too_many_pixels")}, ["20000x20000", "400 megapixels", "179"]),
    ],
)
def test_image_huge_sides_from_header(
    media: MediaCache, width: int, height: int, expected: set[Key], texts: list[str]
) -> None:
    path = media.file(f"fake_{width}x{height}.png", fake_png(width, height))
    info = probe_image(path)
    assert (info.width, info.height, info.format) == (width, height, "PNG")
    findings = check_image(info)
    assert keys(findings) == expected
    for text in texts:
        assert text in findings[0].message


def test_image_pixel_limit_is_read_from_limits(media: MediaCache) -> None:
    path = media.image("px_720x1280.png")
    limits = InputLimits(image_max_pixels=720 * 1280 - 1)
    assert keys(image_findings(path, limits=limits)) == {("error", "image", "image_too_many_pixels")}
    assert keys(image_findings(path, limits=replace(limits, image_max_pixels=720 * 1280))) == set()


# ---------------------------------------------------------------- image: aspect ratio


@pytest.mark.parametrize(
    ("width", "height", "expected", "texts"),
    [
        (720, 1800, set(), []),  # exactly 0.4 (1:2.5)
        (1800, 720, set(), []),  # exactly 2.5
        (720, 1801, {("error", "image", "image_aspect")}, ["0.3998", "720x1801", "0.4 (1:2.5)"]),
        (1801, 720, {("error", "image", "image_aspect")}, ["2.5014", "1801x720", "2.5 (2.5:1)"]),
        (400, 1000, {("hint", "image", "image_low_resolution")}, []),
        (400, 1001, {("error", "image", "image_aspect"), ("hint", "image", "image_low_resolution")}, []),
        (1001, 400, {("error", "image", "image_aspect"), ("hint", "image", "image_low_resolution")}, []),
    ],
)
def test_image_aspect(media: MediaCache, width: int, height: int, expected: set[Key], texts: list[str]) -> None:
    findings = image_findings(media.image(f"aspect_{width}x{height}.png", width, height))
    assert keys(findings) == expected
    for text in texts:
        assert text in only(findings, "image_aspect").message


def test_image_aspect_message_for_400x1001(media: MediaCache) -> None:
    finding = only(image_findings(media.image("aspect_400x1001.png", 400, 1001)), "image_aspect")
    assert "0.3996 (400x1001)" in finding.message
    assert "between 0.4 (1:2.5) and 2.5 (2.5:1)" in finding.message
    assert finding.fix


# ---------------------------------------------------------------- image: file size


def test_image_file_size_custom_limit(media: MediaCache) -> None:
    base = media.image("size_base.png", 720, 1280)
    limits = InputLimits(image_max_bytes=50_000)
    at = pad_png(base, 50_000)
    over = pad_png(base, 50_001)
    assert probe_image(over).width == 720  # still a valid picture
    assert keys(image_findings(at, limits=limits)) == set()
    findings = image_findings(over, limits=limits)
    assert keys(findings) == {("error", "image", "image_file_size")}
    assert "50,001 bytes" in findings[0].message and "50,000 bytes" in findings[0].message
    assert findings[0].auto_fix


def test_image_file_size_readable_units(media: MediaCache) -> None:
    path = pad_png(media.image("size_units.png", 720, 1280), 150_000)
    finding = only(image_findings(path, limits=InputLimits(image_max_bytes=100_000)), "image_file_size")
    assert finding.message == "Character image is 146.5 KB; the limit is 97.7 KB."


def test_image_file_size_real_default_10mb(media: MediaCache) -> None:
    assert LIMITS.image_max_bytes == 10 * MB
    base = media.image("size_10mb.png", 720, 1280)
    assert keys(image_findings(pad_png(base, 10 * MB))) == set()
    findings = image_findings(pad_png(base, 10 * MB + 1))
    assert keys(findings) == {("error", "image", "image_file_size")}
    assert "10,485,761 bytes" in findings[0].message and "10,485,760 bytes" in findings[0].message


# ---------------------------------------------------------------- image: EXIF, formats, animation


def _exif_jpeg(path: Path, width: int, height: int, orientation: int) -> Path:
    im = Image.new("RGB", (width, height), (120, 140, 160))
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(path, exif=exif)
    return path


def test_exif_orientation_6_is_measured_as_displayed(media: MediaCache) -> None:
    path = _exif_jpeg(media.root / "exif6_1280x720.jpg", 1280, 720, 6)
    info = probe_image(path)
    assert (info.width, info.height, info.stored_width, info.stored_height) == (720, 1280, 1280, 720)
    findings = check_image(info)
    assert keys(findings) == {("hint", "image", "image_exif_rotated")}
    assert "720x1280" in findings[0].message and "1280x720" in findings[0].message and "6" in findings[0].message


def test_exif_orientation_aspect_uses_displayed_size(media: MediaCache) -> None:
    path = _exif_jpeg(media.root / "exif6_1801x720.jpg", 1801, 720, 6)
    findings = image_findings(path)
    assert keys(findings) == {("hint", "image", "image_exif_rotated"), ("error", "image", "image_aspect")}
    assert "0.3998 (720x1801)" in only(findings, "image_aspect").message


def test_exif_orientation_pair_uses_displayed_shape(media: MediaCache) -> None:
    portrait_video = probe_video(media.video("pair_360x640.mp4", width=360, height=640, audio=False, source="color"))
    rotated = probe_image(_exif_jpeg(media.root / "exif6_pair.jpg", 1280, 720, 6))  # displays 720x1280
    upright = probe_image(_exif_jpeg(media.root / "exif1_pair.jpg", 1280, 720, 1))  # displays 1280x720
    assert check_pair(rotated, portrait_video) == []
    assert keys(check_pair(upright, portrait_video)) == {("warning", "pair", "pair_aspect_mismatch")}


@pytest.mark.parametrize("fmt", ["WEBP", "AVIF", "GIF", "BMP", "TIFF"])
def test_convertible_formats_are_fixable_errors(media: MediaCache, fmt: str) -> None:
    path = media.image(f"format.{fmt.lower()}", 720, 1280, fmt=fmt)
    findings = image_findings(path)
    assert keys(findings) == {("error", "image", "image_format")}
    assert findings[0].auto_fix
    assert fmt in findings[0].message and "JPEG or PNG" in findings[0].message


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_images(media: MediaCache, fmt: str) -> None:
    frames = [Image.new("RGB", (720, 1280), c) for c in ("blue", "green")]
    path = media.image(f"animated.{fmt.lower()}", 720, 1280, fmt=fmt, save_all=True, append_images=frames)
    info = probe_image(path)
    assert info.frames == 3
    findings = check_image(info)
    assert keys(findings) == {("error", "image", "image_format"), ("warning", "image", "image_animated")}
    assert "3 frames" in only(findings, "image_animated").message


def test_jpeg_named_png_is_a_hint(media: MediaCache) -> None:
    findings = image_findings(media.image("jpeg_named.png", 720, 1280, fmt="JPEG"))
    assert keys(findings) == {("hint", "image", "image_extension_mismatch")}
    assert "'.png'" in findings[0].message and "JPEG" in findings[0].message


@pytest.mark.parametrize("name", ["plain.jpg", "plain.jpeg", "plain.png", "UPPER.JPG"])
def test_accepted_image_files_have_no_findings(media: MediaCache, name: str) -> None:
    assert image_findings(media.image(name, 720, 1280)) == []


# ---------------------------------------------------------------- video: duration x orientation


# (seconds, frame rate, frames): frame counts and rates chosen so the clip lasts exactly that long.
DURATIONS = {
    2.99: ("7200/299", 72),
    3.0: ("24", 72),
    10.0: ("24", 240),
    10.01: ("24000/1001", 240),
    30.0: ("24", 720),
    30.01: ("72000/3001", 720),
}
TOO_SHORT = {("error", "video", "video_too_short")}
TOO_LONG = {("error", "video", "video_too_long")}
DURATION_CASES = [
    (2.99, "video", TOO_SHORT, ["2.99 s", "3 s"]),
    (2.99, "image", TOO_SHORT, ["2.99 s", "3 s"]),
    (3.0, "video", set(), []),
    (3.0, "image", set(), []),
    (10.0, "video", set(), []),
    (10.0, "image", set(), []),
    (10.01, "video", set(), []),
    (10.01, "image", TOO_LONG, ["10.01 s", "'image'", "10 s"]),
    (30.0, "video", set(), []),
    (30.0, "image", TOO_LONG, ["30 s", "'image'", "10 s"]),
    (30.01, "video", TOO_LONG, ["30.01 s", "'video'", "30 s"]),
    (30.01, "image", TOO_LONG, ["30.01 s", "'image'", "10 s"]),
]


@pytest.mark.parametrize("shape", [(360, 640), (640, 360)], ids=["portrait", "landscape"])
@pytest.mark.parametrize(("seconds", "orientation", "expected", "texts"), DURATION_CASES)
def test_video_duration(
    media: MediaCache,
    shape: tuple[int, int],
    seconds: float,
    orientation: str,
    expected: set[Key],
    texts: list[str],
) -> None:
    rate, frames = DURATIONS[seconds]
    width, height = shape
    path = media.video(
        f"dur_{seconds}_{width}x{height}.mp4",
        width=width,
        height=height,
        seconds=seconds,
        fps=rate,
        audio=False,
        source="color",
        extra=["-frames:v", str(frames)],
    )
    info = probe_video(path)
    assert info.duration == seconds
    findings = check_video(info, orientation=orientation, keep_sound=False)
    assert keys(findings) == expected
    for text in texts:
        assert text in findings[0].message
    if expected == TOO_LONG:
        assert findings[0].auto_fix
    if orientation == "image" and expected == TOO_LONG:
        assert "switch orientation to 'video'" in findings[0].fix


# ---------------------------------------------------------------- video: sides


@pytest.mark.parametrize(
    ("width", "height", "expected", "texts"),
    [
        (339, 640, {("error", "video", "video_too_small")}, ["339x640", "340 px"]),
        (640, 339, {("error", "video", "video_too_small")}, ["640x339", "340 px"]),
        (340, 640, set(), []),
        (3850, 360, set(), []),
        (3851, 360, {("error", "video", "video_too_large")}, ["3851x360", "3850 px"]),
        (360, 3851, {("error", "video", "video_too_large")}, ["360x3851", "3850 px"]),
    ],
)
def test_video_sides(media: MediaCache, width: int, height: int, expected: set[Key], texts: list[str]) -> None:
    # testsrc keeps odd sizes (color/testsrc2 round them down); yuv444p lets H.264 encode them.
    path = media.video(
        f"side_{width}x{height}.mp4",
        width=width,
        height=height,
        audio=False,
        source="testsrc",
        extra=["-pix_fmt", "yuv444p"],
    )
    info = probe_video(path)
    assert (info.width, info.height, info.codec) == (width, height, "h264")
    findings = check_video(info, keep_sound=False)
    # yuv444p is itself worth a warning (browsers play only yuv420p): the preparation re-encodes it.
    assert keys(findings) == expected | {("warning", "video", "video_pixel_format")}
    sizes = [f.message for f in findings if f.code != "video_pixel_format"]
    for text in texts:
        assert text in sizes[0]


# ---------------------------------------------------------------- video: container and codec


CONTAINER = ("error", "video", "video_container")
CODEC = ("warning", "video", "video_codec")


@pytest.mark.parametrize(
    ("name", "codec", "expected", "texts"),
    [
        ("c_vp9.webm", "libvpx-vp9", {CONTAINER, CODEC}, ["WebM/Matroska", "MP4 or MOV", "VP9", "H.264"]),
        ("c_h264.mkv", "libx264", {CONTAINER}, ["WebM/Matroska", "MP4 or MOV"]),
        ("c_mpeg4.avi", "mpeg4", {CONTAINER, CODEC}, ["AVI", "MP4 or MOV", "MPEG4"]),
        ("c_h264.avi", "libx264", {CONTAINER}, ["AVI"]),
        ("c_h264.m4v", "libx264", {CONTAINER}, ["'.m4v'", ".mp4, .mov"]),
        ("c_hevc.mp4", "libx265", {CODEC}, ["HEVC", "H.264"]),
        ("c_vp9.mp4", "libvpx-vp9", {CODEC}, ["VP9"]),
        ("c_mpeg4.mp4", "mpeg4", {CODEC}, ["MPEG4"]),
        ("c_h264.mov", "libx264", set(), []),
        ("c_h264.MP4", "libx264", set(), []),
    ],
)
def test_video_container_and_codec(
    media: MediaCache, name: str, codec: str, expected: set[Key], texts: list[str]
) -> None:
    path = media.video(name, width=640, height=360, codec=codec, audio=False, source="color")
    findings = video_findings(path, keep_sound=False)
    assert keys(findings) == expected
    text = " ".join(f.message for f in findings)
    for snippet in texts:
        assert snippet in text
    assert all(f.auto_fix for f in findings)


def test_webm_named_mp4_names_the_real_container(media: MediaCache) -> None:
    webm = media.video("c_vp9.webm", width=640, height=360, codec="libvpx-vp9", audio=False, source="color")
    renamed = media.file("webm_inside.mp4", webm.read_bytes())
    findings = video_findings(renamed, keep_sound=False)
    assert keys(findings) == {CONTAINER, CODEC}
    assert "WebM/Matroska" in only(findings, "video_container").message


# ---------------------------------------------------------------- video: rotation, audio, fps


def _rotated(media: MediaCache, degrees: int) -> Path:
    import subprocess

    src = media.video("rot_src_640x360.mp4", width=640, height=360, audio=False, source="color")
    out = media.root / f"rot_{degrees}.mp4"
    if not out.exists():
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-c", "copy"]
        cmd += ["-metadata:s:v:0", f"rotate={degrees}", str(out)]
        subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.mark.parametrize(("degrees", "shown"), [(90, (360, 640)), (270, (360, 640)), (180, (640, 360))])
def test_video_rotation_swaps_displayed_sizes(media: MediaCache, degrees: int, shown: tuple[int, int]) -> None:
    info = probe_video(_rotated(media, degrees))
    assert (info.rotation, info.width, info.height, info.coded_width, info.coded_height) == (degrees, *shown, 640, 360)
    findings = check_video(info, keep_sound=False)
    assert keys(findings) == {("hint", "video", "video_rotated")}
    assert f"{degrees}°" in findings[0].message and f"{shown[0]}x{shown[1]}" in findings[0].message


def test_rotated_video_pairs_by_displayed_shape(media: MediaCache) -> None:
    portrait_image = probe_image(media.image("pair_720x1280.png", 720, 1280))
    assert check_pair(portrait_image, probe_video(_rotated(media, 90))) == []
    unrotated = probe_video(media.video("rot_src_640x360.mp4", width=640, height=360, audio=False, source="color"))
    assert keys(check_pair(portrait_image, unrotated)) == {("warning", "pair", "pair_aspect_mismatch")}


@pytest.mark.parametrize(
    ("audio", "keep_sound", "expected"),
    [
        (True, True, set()),
        (True, False, {("hint", "video", "video_audio_dropped")}),
        (False, True, {("hint", "video", "video_no_audio")}),
        (False, False, set()),
    ],
)
def test_audio_and_keep_sound(media: MediaCache, audio: bool, keep_sound: bool, expected: set[Key]) -> None:
    path = media.video(f"audio_{audio}.mp4", width=640, height=360, audio=audio, source="color")
    info = probe_video(path)
    assert info.has_audio is audio
    assert info.audio_codec == ("aac" if audio else "")
    assert keys(check_video(info, keep_sound=keep_sound)) == expected


@pytest.mark.parametrize(
    ("fps", "expected", "texts"),
    [
        (12, {("hint", "video", "video_low_fps")}, ["12 fps", "under 15"]),
        (15, set(), []),
        (60, set(), []),
        (100, {("hint", "video", "video_high_fps")}, ["100 fps", "over 60"]),
    ],
)
def test_frame_rate_hints(media: MediaCache, fps: int, expected: set[Key], texts: list[str]) -> None:
    path = media.video(f"fps_{fps}.mp4", width=640, height=360, fps=fps, audio=False, source="color")
    findings = video_findings(path, keep_sound=False)
    assert keys(findings) == expected
    for text in texts:
        assert text in findings[0].message


def test_video_file_size_limit(media: MediaCache) -> None:
    path = media.video("size_limit.mp4", width=640, height=360, audio=False, source="color")
    size = path.stat().st_size
    assert keys(video_findings(path, keep_sound=False, limits=InputLimits(video_max_bytes=size))) == set()
    findings = video_findings(path, keep_sound=False, limits=InputLimits(video_max_bytes=size - 1))
    assert keys(findings) == {("error", "video", "video_file_size")}
    assert f"{size:,} bytes" in findings[0].message and f"{size - 1:,} bytes" in findings[0].message
    assert LIMITS.video_max_bytes == 100 * MB


# ---------------------------------------------------------------- tier pro


@pytest.mark.parametrize(
    ("width", "height", "tier", "expected"),
    [
        (640, 360, "pro", {("hint", "video", "video_below_output")}),
        (640, 360, "std", set()),
        (1280, 720, "pro", set()),
        (720, 1280, "pro", set()),
    ],
)
def test_pro_tier_video_hint(media: MediaCache, width: int, height: int, tier: str, expected: set[Key]) -> None:
    path = media.video(f"tier_{width}x{height}.mp4", width=width, height=height, audio=False, source="color")
    findings = video_findings(path, keep_sound=False, tier=tier)
    assert keys(findings) == expected
    if expected:
        assert "360 px" in findings[0].message and "720 px" in findings[0].message and "1080p" in findings[0].message


# ---------------------------------------------------------------- pair


@pytest.mark.parametrize(
    ("video_size", "expected"),
    [
        ((960, 640), set()),  # aspect 1.5 vs a square image: exactly the 1.5x threshold
        ((962, 640), {("warning", "pair", "pair_aspect_mismatch")}),
        ((640, 960), set()),
        ((640, 962), {("warning", "pair", "pair_aspect_mismatch")}),
    ],
)
def test_pair_aspect_threshold(media: MediaCache, video_size: tuple[int, int], expected: set[Key]) -> None:
    image = probe_image(media.image("pair_square.png", 1000, 1000))
    w, h = video_size
    video = probe_video(media.video(f"pair_{w}x{h}.mp4", width=w, height=h, audio=False, source="color"))
    findings = check_pair(image, video)
    assert keys(findings) == expected
    if expected:
        assert "1000x1000" in findings[0].message and f"{w}x{h}" in findings[0].message
        assert "x apart, more than 1.5x" in findings[0].message


def test_pair_is_skipped_when_an_input_is_broken(media: MediaCache, tmp_path: Path) -> None:
    image = probe_image(media.image("pair_720x1280.png", 720, 1280))
    missing = probe_video(tmp_path / "nope.mp4")
    assert check_pair(image, missing) == [] and check_pair(None, None) == []


# ---------------------------------------------------------------- prompt


def test_prompt_length_boundary() -> None:
    assert check_prompt("a" * 2500) == []
    findings = check_prompt("a" * 2501)
    assert keys(findings) == {("error", "prompt", "prompt_too_long")}
    assert "2501 characters" in findings[0].message and "2500" in findings[0].message
    assert "by 1 character" in findings[0].fix


def test_prompt_counts_characters_not_bytes() -> None:
    assert check_prompt("日" * 2500) == []  # 7500 bytes in UTF-8, 2500 characters
    assert keys(check_prompt("日" * 2501)) == {("error", "prompt", "prompt_too_long")}


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("A woman dancing and jumping in the rain", "dancing, jumping"),
        ("He WAVES, then turns around", "turns, waves"),
        ("she raises her arms and spins", "raises, spins"),
    ],
)
def test_prompt_motion_words_hint(prompt: str, words: str) -> None:
    findings = check_prompt(prompt)
    assert keys(findings) == {("hint", "prompt", "prompt_describes_motion")}
    assert f"({words})" in findings[0].message


@pytest.mark.parametrize(
    "prompt",
    ["", "neon-lit street at night, cinematic lighting", "on a fashion runway, wavy hair, a moving train behind"],
)
def test_scene_prompts_have_no_motion_hint(prompt: str) -> None:
    assert check_prompt(prompt) == []


# ---------------------------------------------------------------- everything together


def test_check_all_orders_and_collects(media: MediaCache) -> None:
    image = probe_image(media.image("all_299x600.png", 299, 600))
    video = probe_video(media.video("rot_src_640x360.mp4", width=640, height=360, audio=False, source="color"))
    findings = check_all(image, video, prompt="dancing " + "x" * 2500, orientation="video", tier="pro")
    assert [(f.level, f.input, f.code) for f in findings] == [
        ("error", "image", "image_too_small"),
        ("error", "prompt", "prompt_too_long"),
        ("warning", "pair", "pair_aspect_mismatch"),
        ("hint", "prompt", "prompt_describes_motion"),
        ("hint", "video", "video_no_audio"),
        ("hint", "video", "video_below_output"),
    ]
    for f in findings:
        assert f.message.endswith(".") and f.fix, f


def test_clean_pair_has_no_findings(media: MediaCache) -> None:
    image = probe_image(media.image("clean_720x1280.jpg", 720, 1280))
    video = probe_video(media.video("clean_720x1280.mp4", width=720, height=1280, source="color"))
    assert check_all(image, video, prompt="soft studio light", tier="pro") == [
        Finding(
            "hint",
            "image",
            "image_below_output",
            "Character image's short side is 720 px, below Pro's 1080p output.",
            "A picture of 1080 px or more on the short side keeps Pro's extra detail.",
        )
    ]
    assert check_all(image, video, prompt="soft studio light", tier="std") == []
