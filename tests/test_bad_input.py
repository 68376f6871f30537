"""Bad input: every broken, odd or hostile file gets a clear finding on the right input.

Never an exception, never a hang: each probe + check is timed against a generous guard (real
timings live in bench/bench_probe.py).
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from kmc_ui.checks.rules import check_all, check_image, check_video
from kmc_ui.findings import Finding
from kmc_ui.media.probe import ImageInfo, VideoInfo, probe_image, probe_video
from tests.conftest import MediaCache
from tests.media_factory import ffmpeg_exe
from tests.test_rules import keys, png_chunk

HANG_GUARD_S = 5.0
REPO = Path(__file__).resolve().parents[1]


def image_check(path: Path) -> tuple[ImageInfo, list[Finding]]:
    start = time.perf_counter()
    info = probe_image(path)
    findings = check_image(info)
    assert time.perf_counter() - start < HANG_GUARD_S
    return info, findings


def video_check(path: Path, keep_sound: bool = False) -> tuple[VideoInfo, list[Finding]]:
    start = time.perf_counter()
    info = probe_video(path)
    findings = check_video(info, keep_sound=keep_sound)
    assert time.perf_counter() - start < HANG_GUARD_S
    return info, findings


def clip(media: MediaCache, faststart: bool) -> Path:
    extra = ["-movflags", "+faststart"] if faststart else []
    name = "bad_faststart.mp4" if faststart else "bad_moov_end.mp4"
    return media.video(name, width=640, height=360, seconds=3.0, extra=extra)


def cut(media: MediaCache, src: Path, fraction: float) -> Path:
    data = src.read_bytes()
    return media.file(f"{src.stem}_cut{int(fraction * 100)}.mp4", data[: int(len(data) * fraction)])


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "not a picture " * 50)
    return buf.getvalue()


# ---------------------------------------------------------------- missing, empty, junk


def test_missing_files(tmp_path: Path) -> None:
    info, findings = image_check(tmp_path / "nope.png")
    assert keys(findings) == {("error", "image", "image_missing")} and info.missing
    assert "does not exist" in findings[0].message
    info, findings = video_check(tmp_path / "nope.mp4")
    assert keys(findings) == {("error", "video", "video_missing")} and info.missing


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    _, findings = image_check(tmp_path)
    assert keys(findings) == {("error", "image", "image_missing")}
    assert "not a regular file" in findings[0].message
    _, findings = video_check(tmp_path)
    assert keys(findings) == {("error", "video", "video_missing")}


def test_zero_byte_files(media: MediaCache) -> None:
    _, findings = image_check(media.file("empty.png", b""))
    assert keys(findings) == {("error", "image", "image_empty")}
    assert "empty (0 bytes)" in findings[0].message
    _, findings = video_check(media.file("empty.mp4", b""))
    assert keys(findings) == {("error", "video", "video_empty")}


@pytest.mark.parametrize(
    ("name", "data", "texts"),
    [
        ("random.png", random.Random(1).randbytes(5000), ["not an image we can read"]),
        ("random.jpg", random.Random(2).randbytes(300), ["not an image we can read"]),
        ("archive.png", zip_bytes(), ["not an image we can read"]),
        ("text.png", b"hello, this is text\n" * 20, ["not an image we can read"]),
    ],
)
def test_junk_images(media: MediaCache, name: str, data: bytes, texts: list[str]) -> None:
    info, findings = image_check(media.file(name, data))
    assert keys(findings) == {("error", "image", "image_unreadable")}
    assert not info.missing and info.size_bytes == len(data)
    for text in texts:
        assert text in findings[0].message
    assert findings[0].fix == "Upload a JPEG or PNG picture of the character."


@pytest.mark.parametrize(
    ("name", "data", "texts"),
    [
        ("random.mp4", random.Random(3).randbytes(5000), ["not a video we can read"]),
        ("text.mp4", b"this is not a video\n" * 20, ["not a video we can read"]),
        ("archive.mp4", zip_bytes(), ["not a video we can read"]),
        # a concat list would make FFmpeg open other local files: refused unread
        ("list.mp4", b"ffconcat version 1.0\nfile other.mp4\n", ["not in a video format we accept"]),
    ],
)
def test_junk_videos(media: MediaCache, name: str, data: bytes, texts: list[str]) -> None:
    _, findings = video_check(media.file(name, data))
    assert keys(findings) == {("error", "video", "video_unreadable")}
    for text in texts:
        assert text in findings[0].message


def test_concat_list_never_reads_the_file_it_names(media: MediaCache) -> None:
    real = media.video("concat_target.mp4", width=640, height=360, audio=False, source="color")
    listing = media.file("concat_list.mp4", f"ffconcat version 1.0\nfile {real.name}\n".encode())
    info, findings = video_check(listing)
    assert not info.has_video and info.width == 0
    assert keys(findings) == {("error", "video", "video_unreadable")}


def test_image_given_as_video_and_video_given_as_image(media: MediaCache) -> None:
    png = media.image("bad_picture.png", 720, 1280)
    _, findings = video_check(media.file("picture.mp4", png.read_bytes()))
    assert keys(findings) == {("error", "video", "video_unreadable")}
    assert "not in a video format we accept" in findings[0].message
    mp4 = clip(media, faststart=True)
    _, findings = image_check(media.file("video.jpg", mp4.read_bytes()))
    assert keys(findings) == {("error", "image", "image_unreadable")}


# ---------------------------------------------------------------- truncated videos


@pytest.mark.parametrize("fraction", [0.3, 0.6])
def test_truncated_faststart_mp4(media: MediaCache, fraction: float) -> None:
    """The header survives, the end of the clip does not: caught from the sample tables."""
    path = cut(media, clip(media, faststart=True), fraction)
    info, findings = video_check(path, keep_sound=True)
    assert info.ok and info.duration == 3.0  # the header still promises 3 s
    assert keys(findings) == {("error", "video", "video_truncated")}
    message = findings[0].message
    assert "cut short" in message and "3 s" in message
    assert f"{info.size_bytes / 1024:.1f} KB" in message and f"{info.expected_bytes / 1024:.1f} KB" in message


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.99])
def test_truncated_moov_at_end_mp4(media: MediaCache, fraction: float) -> None:
    path = cut(media, clip(media, faststart=False), fraction)
    _, findings = video_check(path)
    assert keys(findings) == {("error", "video", "video_unreadable")}
    assert "moov" in findings[0].message and "cut short" in findings[0].message


def test_mp4_cut_inside_its_index(media: MediaCache) -> None:
    data = clip(media, faststart=True).read_bytes()
    ftyp_size = struct.unpack(">I", data[:4])[0]
    assert data[ftyp_size + 4 : ftyp_size + 8] == b"moov"
    _, findings = video_check(media.file("cut_in_moov.mp4", data[: ftyp_size + 64]))
    assert keys(findings) == {("error", "video", "video_unreadable")}
    assert "moov box) is missing or incomplete" in findings[0].message


def test_complete_mp4s_are_not_flagged(media: MediaCache) -> None:
    for faststart in (True, False):
        _, findings = video_check(clip(media, faststart), keep_sound=True)
        assert findings == []


def test_corrupt_picture_data(media: MediaCache) -> None:
    """A perfect header over zeroed picture data: the first frame does not decode."""
    data = bytearray(clip(media, faststart=True).read_bytes())
    ftyp_size = struct.unpack(">I", data[:4])[0]
    moov_size = struct.unpack(">I", data[ftyp_size : ftyp_size + 4])[0]
    start = ftyp_size + moov_size + 16  # inside mdat, past its header
    data[start:] = bytes(len(data) - start)
    path = media.file("zeroed.mp4", bytes(data))
    header_only = probe_video(path)  # the instant check reads the index only: it cannot see this
    assert header_only.decodable and header_only.ok
    info = probe_video(path, decode=True)  # the file that will be sent is decoded once
    findings = check_video(info)
    assert not info.decodable
    assert keys(findings) == {("error", "video", "video_undecodable")}
    assert "H264" in findings[0].message or "h264" in findings[0].message


# ---------------------------------------------------------------- odd but real media


def test_audio_only_mp4(media: MediaCache) -> None:
    out = media.root / "audio_only.mp4"
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    subprocess.run([*cmd, "-t", "3", "-c:a", "aac", str(out)], check=True, capture_output=True)
    info, findings = video_check(out)
    assert info.has_audio and not info.has_video
    assert keys(findings) == {("error", "video", "video_no_stream")}
    assert "no picture track (AAC audio only)" in findings[0].message


def test_one_frame_video(media: MediaCache) -> None:
    path = media.video("one_frame.mp4", width=640, height=360, audio=False, source="color", extra=["-frames:v", "1"])
    info, findings = video_check(path)
    assert info.frames == 1
    assert keys(findings) == {("error", "video", "video_too_short")}
    assert "0.042 s (1 frame)" in findings[0].message and "at least 3 s" in findings[0].message


def test_variable_frame_rate_video(media: MediaCache) -> None:
    """2 s at 30 fps joined to 2 s at 10 fps, kept variable (as a phone records in low light)."""
    out = media.root / "vfr_concat.mp4"
    cmd = [ffmpeg_exe(), "-v", "error", "-y"]
    for rate in (30, 10):
        cmd += ["-f", "lavfi", "-t", "2", "-i", f"testsrc2=size=640x360:rate={rate}"]
    cmd += ["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0", "-fps_mode", "vfr"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    info, findings = video_check(out)
    assert info.variable_fps and info.frames == 80
    assert 3.8 <= info.duration <= 4.05  # 60 frames over 2 s, then 20 frames 0.1 s apart
    assert keys(findings) == {("warning", "video", "video_variable_fps")}
    assert "variable frame rate (average 2" in findings[0].message and "constant rate" in findings[0].message
    assert findings[0].auto_fix


def test_cmyk_jpeg(media: MediaCache) -> None:
    info, findings = image_check(media.image("cmyk.jpg", 720, 1280, mode="CMYK"))
    assert (info.format, info.mode) == ("JPEG", "CMYK")
    assert keys(findings) == {("warning", "image", "image_color_mode")}
    assert "CMYK" in findings[0].message and "8-bit RGB" in findings[0].message


@pytest.mark.parametrize(("pix", "what"), [("rgb48be", "16-bit RGB"), ("gray16be", "I;16")])
def test_sixteen_bit_png(media: MediaCache, pix: str, what: str) -> None:
    out = media.root / f"deep_{pix}.png"
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=720x1280", "-frames:v", "1"]
    subprocess.run([*cmd, "-pix_fmt", pix, str(out)], check=True, capture_output=True)
    _, findings = image_check(out)
    assert keys(findings) == {("warning", "image", "image_color_mode")}
    assert what in findings[0].message and "8-bit RGB" in findings[0].message


def test_png_named_jpg(media: MediaCache) -> None:
    _, findings = image_check(media.image("really_png.jpg", 720, 1280, fmt="PNG"))
    assert keys(findings) == {("hint", "image", "image_extension_mismatch")}
    assert "'.jpg'" in findings[0].message and "PNG" in findings[0].message


def test_truncated_jpeg_header_is_still_measured(media: MediaCache) -> None:
    data = media.image("whole.jpg", 720, 1280).read_bytes()
    info, findings = image_check(media.file("half.jpg", data[: len(data) // 2]))
    assert (info.width, info.height) == (720, 1280)  # the header is intact; pixels are never read
    assert findings == []


# ---------------------------------------------------------------- decompression bomb


def _bomb_png(path: Path, width: int, height: int) -> Path:
    """A real, valid 1-bit PNG of width x height, compressed row by row (about 50 KB on disk)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_decompression_bomb_is_measured_without_decoding(media: MediaCache) -> None:
    path = _bomb_png(media.root / "bomb_20000.png", 20000, 20000)
    assert path.stat().st_size < 200_000
    with pytest.raises(Image.DecompressionBombError):  # a real PNG that Pillow itself refuses to open
        Image.open(path)
    # Measured in a fresh process: peak memory must not grow by the 400 MB the pixels would take.
    script = (
        "import json, re, sys, time\n"
        "from kmc_ui.media.probe import probe_image\n"
        "from kmc_ui.checks.rules import check_image\n"
        # VmHWM, this process's own peak (kB): ru_maxrss would start at the parent's (kept across execve)
        "hwm = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "before = hwm()\n"
        "t = time.perf_counter()\n"
        "info = probe_image(sys.argv[1])\n"
        "found = [(f.level, f.input, f.code, f.message) for f in check_image(info)]\n"
        "took = time.perf_counter() - t\n"
        "grew = hwm() - before\n"
        "print(json.dumps({'w': info.width, 'h': info.height, 'found': found, 'kb': grew, 's': took}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, check=True, capture_output=True, text=True, timeout=60
    )
    result = json.loads(out.stdout)
    assert (result["w"], result["h"]) == (20000, 20000)
    assert [tuple(f[:3]) for f in result["found"]] == [("error", "image", "image_too_many_pixels")]
    assert "20000x20000" in result["found"][0][3] and "179 megapixels" in result["found"][0][3]
    assert result["kb"] < 50 * 1024, result  # decoding would add about 400 MB
    assert result["s"] < HANG_GUARD_S


# ---------------------------------------------------------------- property: nothing ever raises


EXTENSIONS = [".png", ".jpg", ".gif", ".webp", ".mp4", ".mov", ".webm", ".mkv"]


def _never_raises(path: Path) -> None:
    start = time.perf_counter()
    image, video = probe_image(path), probe_video(path)
    findings = check_all(image, video, prompt="", orientation="image", tier="pro", keep_sound=True)
    assert time.perf_counter() - start < HANG_GUARD_S
    assert all(isinstance(f, Finding) and f.message and f.input in ("image", "video", "pair") for f in findings)
    # a file that could not be read is always reported as an error on its own input
    if image.error:
        assert ("error", "image") in {(f.level, f.input) for f in findings}
    if video.error:
        assert ("error", "video") in {(f.level, f.input) for f in findings}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes_never_raise(media: MediaCache, data: bytes, ext: str) -> None:
    path = media.root / f"hypo_random{ext}"
    path.write_bytes(data)
    _never_raises(path)


@pytest.fixture(scope="module")
def real_files(media: MediaCache) -> list[Path]:
    return [
        clip(media, faststart=True),
        clip(media, faststart=False),
        media.video("hypo.webm", width=360, height=640, seconds=3.0, codec="libvpx-vp9", source="color"),
        media.image("hypo.png", 720, 1280),
        media.image("hypo.jpg", 720, 1280),
        media.image("hypo.gif", 720, 1280, fmt="GIF"),
        media.image("hypo.webp", 720, 1280, fmt="WEBP"),
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 6),
    fraction=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=6),
)
def test_truncated_and_damaged_real_files_never_raise(
    media: MediaCache, real_files: list[Path], which: int, fraction: float, flips: list[tuple[int, int]]
) -> None:
    src = real_files[which]
    data = bytearray(src.read_bytes()[: int(src.stat().st_size * fraction)])
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    path = media.root / f"hypo_cut{src.suffix}"
    path.write_bytes(bytes(data))
    _never_raises(path)
