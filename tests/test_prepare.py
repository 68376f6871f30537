"""The preparation step on real media: every output is probed and held to the sending standards.

Inputs are generated here (PIL, ffmpeg lavfi); outputs are checked for codec, pixel format,
even sizes, duration, AAC audio, size limit and faststart (moov before mdat, read from the
file's top-level boxes). Stream-copy claims are checked by comparing packet bytes.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from kmc_ui.checks.rules import check_image, check_video
from kmc_ui.limits import LIMITS
from kmc_ui.media import image_convert, video_encode
from kmc_ui.media.ffmpeg import FFmpegError, run_ffmpeg
from kmc_ui.media.prepare import (
    NO_CHANGES,
    PreparationCancelled,
    PreparationError,
    keyframe_at_or_before,
    needs_preparation,
    plan_image,
    plan_video,
    planned_fixes,
    prepare_image,
    prepare_video,
)
from kmc_ui.media.probe import probe_image, probe_video
from kmc_ui.messages import render
from tests.media_factory import ffmpeg_exe, make_image, make_video
from tests.test_runtime_text import english_left


def said_in_chinese(exc: PreparationError) -> str:
    """A preparation error as a Chinese page shows it: from its message, the same English as str()."""
    assert exc.msg is not None and render(exc.msg, "en") == str(exc)
    return render(exc.msg, "zh")


SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
GOP24 = ["-g", "24", "-keyint_min", "24", "-sc_threshold", "0"]  # a keyframe every second at 24 fps
FAST_VP9 = ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prepare-src")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "prepared"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, capture_output=True)


def top_level_boxes(path: Path) -> list[str]:
    """The MP4/MOV top-level box types in file order."""
    boxes: list[str] = []
    with open(path, "rb") as fh:
        while header := fh.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                fh.seek(size - 16, io.SEEK_CUR)
            elif size == 0:
                boxes.append(kind.decode("latin-1"))
                break
            else:
                fh.seek(size - 8, io.SEEK_CUR)
            boxes.append(kind.decode("latin-1"))
    return boxes


def assert_sendable(path: Path, *, audio: bool, max_seconds: float = 30.0, max_bytes: int = LIMITS.video_max_bytes):
    """What every video we write must be: H.264 yuv420p, even sizes, AAC, +faststart, within limits."""
    info = probe_video(path)
    assert info.ok, info.error
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert info.extension in (".mp4", ".mov")
    assert info.has_audio is audio
    if audio:
        assert info.audio_codec == "aac"
    assert 3.0 <= info.duration <= max_seconds
    assert info.size_bytes <= max_bytes
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    with av.open(str(path)) as c:  # the container's own duration (audio included) is within the limit too
        assert c.duration / av.time_base <= max_seconds + 0.005
    return info


def video_packets(path: Path, count: int = 3, at: float | None = None) -> list[bytes]:
    """Bytes of the first `count` video packets (from the keyframe at or before `at`)."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        if at:
            c.seek(int(at / vs.time_base), stream=vs, backward=True, any_frame=False)
        got = []
        for pkt in c.demux(vs):
            if pkt.size:
                got.append(bytes(pkt))
            if len(got) == count:
                break
        return got


def first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def codes(findings: list) -> set[str]:
    return {f.code for f in findings}


# ----------------------------------------------------------------------------- plans


def test_needs_preparation_from_findings(src: Path) -> None:
    ok = probe_image(make_image(src / "plan_ok.jpg", 720, 1280))
    webp = probe_image(make_image(src / "plan.webp", 720, 1280))
    assert not needs_preparation(check_image(ok))
    assert plan_image(ok) == []
    fixes = planned_fixes(check_image(webp))
    assert [f.code for f in fixes] == ["image_format"]
    assert needs_preparation(check_image(webp))
    assert plan_image(webp) == ["convert WEBP to PNG (JPEG if PNG would be over 10.0 MB)"]


def test_plan_refuses_what_it_cannot_fix(src: Path) -> None:
    tiny = probe_image(make_image(src / "tiny.png", 200, 200))
    with pytest.raises(PreparationError, match=r"Character image is 200x200 px.*Fix: Use a larger picture"):
        plan_image(tiny)
    short = probe_video(make_video(src / "short.mp4", seconds=1.5, audio=False))
    with pytest.raises(PreparationError, match=r"Motion video lasts 1\.5.*Fix: Use a longer clip"):
        prepare_video(short, "video")


# ----------------------------------------------------------------------------- images


def test_conforming_jpeg_is_sent_untouched(src: Path, out: Path) -> None:
    path = make_image(src / "ok.jpg", 720, 1280, quality=92)
    res = prepare_image(probe_image(path), out)
    assert res.path == path and not res.changed
    assert res.actions == [] and res.summary() == NO_CHANGES
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("name", "fmt", "save"),
    [
        ("char.webp", "WEBP", {"quality": 90}),
        ("char.bmp", "BMP", {}),
        ("char.avif", "AVIF", {"quality": 80}),
        ("char.tiff", "TIFF", {}),
    ],
)
def test_other_formats_become_png(src: Path, out: Path, name: str, fmt: str, save: dict) -> None:
    path = make_image(src / name, 480, 640, fmt=fmt, **save)
    info = probe_image(path)
    assert info.format == fmt
    res = prepare_image(info, out)
    assert res.path.suffix == ".png" and res.path.parent == out
    assert res.info.format == "PNG" and (res.info.width, res.info.height) == (480, 640)
    assert res.info.mode == "RGB"
    assert res.actions == [f"converted {fmt} to PNG"]
    assert not needs_preparation(check_image(res.info))
    with Image.open(path) as a, Image.open(res.path) as b:  # same picture
        diff = np.abs(np.asarray(a.convert("RGB"), dtype=int) - np.asarray(b, dtype=int))
        assert diff.max() == 0


def test_heic_becomes_png(src: Path, out: Path) -> None:
    pytest.importorskip("pillow_heif", reason="pillow-heif is not installed")
    path = make_image(src / "char.heic", 480, 640, fmt="HEIF", quality=90)
    info = probe_image(path)
    assert info.format == "HEIF"
    res = prepare_image(info, out)
    assert res.info.format == "PNG" and (res.info.width, res.info.height) == (480, 640)
    assert res.actions == ["converted HEIF to PNG"]


def test_animated_gif_first_frame(src: Path, out: Path) -> None:
    frames = [Image.new("RGB", (400, 500), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    path = src / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    res = prepare_image(probe_image(path), out)
    assert res.info.format == "PNG" and res.info.frames == 1
    assert res.actions == [
        "kept the first of 3 pictures (animated GIF)",
        "converted GIF to PNG",
        "expanded the colour palette to RGB",
    ]
    with Image.open(res.path) as im:
        assert im.convert("RGB").getpixel((200, 250)) == (255, 0, 0)


def test_multi_picture_jpeg_becomes_a_plain_jpeg(src: Path, out: Path) -> None:
    im = Image.new("RGB", (400, 600), (200, 40, 40))
    path = src / "camera.jpg"
    im.save(path, format="MPO", save_all=True, append_images=[Image.new("RGB", (400, 600))])
    info = probe_image(path)
    assert (info.format, info.frames) == ("MPO", 2)
    assert plan_image(info) == ["take the first of 2 pictures, save it as a plain JPEG"]
    res = prepare_image(info, out)
    assert res.info.format == "JPEG" and res.info.frames == 1 and res.path.suffix == ".jpg"
    assert res.actions == ["kept the first of 2 pictures (a multi-picture camera JPEG)", "converted MPO to JPEG"]


def test_exif_rotated_jpeg_is_sent_upright(src: Path, out: Path) -> None:
    im = Image.new("RGB", (400, 600), (40, 40, 200))
    im.paste((255, 0, 0), (0, 0, 100, 100))  # red block at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise
    path = src / "rotated.jpg"
    im.save(path, quality=95, exif=exif)
    info = probe_image(path)
    assert (info.width, info.height, info.exif_orientation) == (600, 400, 6)
    res = prepare_image(info, out)
    assert res.path.suffix == ".jpg"
    assert (res.info.width, res.info.height, res.info.exif_orientation) == (600, 400, 1)
    assert res.actions == ["applied EXIF orientation 6 (the picture is sent upright)"]
    with Image.open(res.path) as up:
        r, g, b = up.getpixel((550, 50))  # clockwise: stored top-left -> displayed top-right
        assert r > 200 and g < 60 and b < 60
        assert up.getpixel((50, 50))[2] > 150  # the displayed top-left is the blue background


def test_cmyk_jpeg_becomes_rgb(src: Path, out: Path) -> None:
    path = src / "cmyk.jpg"
    Image.new("CMYK", (400, 400), (0, 255, 255, 0)).save(path, quality=95)  # pure red in CMYK
    info = probe_image(path)
    assert info.mode == "CMYK"
    assert "image_color_mode" in codes(planned_fixes(check_image(info)))
    res = prepare_image(info, out)
    assert res.info.mode == "RGB" and res.info.format == "JPEG"
    assert res.actions == ["converted CMYK colours to RGB"]
    with Image.open(res.path) as im:
        r, g, b = im.getpixel((200, 200))
        assert r > 240 and g < 20 and b < 20


def test_16bit_png_becomes_8bit(src: Path, out: Path) -> None:
    arr = np.full((400, 400), 40000, dtype=np.uint16)
    path = src / "grey16.png"
    Image.fromarray(arr).save(path)
    info = probe_image(path)
    assert info.mode.startswith("I;16")
    res = prepare_image(info, out)
    assert res.info.mode == "L" and res.info.format == "PNG"
    assert res.actions == ["converted 16-bit greyscale to 8-bit"]
    with Image.open(res.path) as im:
        assert im.getpixel((10, 10)) == 40000 // 257


def test_palette_png_with_transparency_becomes_rgba(src: Path, out: Path) -> None:
    im = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    im.paste((10, 200, 30, 255), (100, 100, 300, 300))
    path = src / "pal.png"
    im.convert("P", palette=Image.Palette.ADAPTIVE).save(path, transparency=0)
    info = probe_image(path)
    assert info.mode == "P"
    res = prepare_image(info, out)
    assert res.info.mode == "RGBA"
    assert res.actions == ["expanded the colour palette to RGBA"]


def test_wrong_extension_is_copied_byte_for_byte(src: Path, out: Path) -> None:
    path = make_image(src / "really_png.jpg", 500, 600, fmt="PNG")
    res = prepare_image(probe_image(path), out)
    assert res.path.suffix == ".png" and res.info.format == "PNG"
    assert res.path.read_bytes() == path.read_bytes()
    assert res.actions == ["sent as .png: the content is PNG but the name said '.jpg' (not re-encoded)"]


def test_heavy_image_becomes_jpeg_then_smaller(src: Path, out: Path) -> None:
    rng = np.random.default_rng(1)
    path = src / "noise.png"
    Image.fromarray(rng.integers(0, 255, (900, 900, 3), dtype=np.uint8)).save(path)
    limits = replace(LIMITS, image_max_bytes=150_000)
    info = probe_image(path)
    assert "image_file_size" in codes(check_image(info, limits=limits))
    res = prepare_image(info, out, limits=limits)
    assert res.info.format == "JPEG" and res.info.size_bytes <= 150_000
    assert res.info.width < 900 and min(res.info.width, res.info.height) >= LIMITS.image_min_side
    assert res.actions[0].startswith("saved as JPEG quality 90 (a PNG would be ")
    assert res.actions[1].startswith("downscaled 900x900 -> ")
    assert not [f for f in check_image(res.info, limits=limits) if f.level == "error"]


def test_over_long_side_is_downscaled_with_draft(src: Path, out: Path) -> None:
    path = make_image(src / "wide.jpg", 2400, 1200, quality=90)
    limits = replace(LIMITS, image_max_side=1000)
    res = prepare_image(probe_image(path), out, limits=limits)
    assert (res.info.width, res.info.height) == (1000, 500)
    assert res.actions == ["downscaled 2400x1200 -> 1000x500"]


def test_16bit_rgb_png_becomes_8bit(src: Path, out: Path) -> None:
    path = src / "rgb48.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=400x400", "-frames:v", "1", "-pix_fmt", "rgb48be", str(path))
    info = probe_image(path)
    if getattr(info, "bit_depth", 8) != 16:
        pytest.skip("this probe does not report PNG bit depth")
    res = prepare_image(info, out)
    assert res.actions == ["converted 16-bit RGB to 8-bit"]
    assert getattr(res.info, "bit_depth", 8) == 8 and res.info.mode == "RGB"
    with Image.open(res.path) as im:
        r, g, b = im.getpixel((5, 5))
        assert r >= 250 and g <= 3 and b <= 3


def test_decoding_stays_within_the_pixel_budget(src: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_convert, "DECODE_MAX_PIXELS", 200_000)
    bmp = probe_image(make_image(src / "budget.bmp", 500, 500, fmt="BMP"))  # 250k pixels, no reduced decode
    with pytest.raises(PreparationError, match=r"^Character image is 500x500 px: too large to convert safely") as err:
        prepare_image(bmp, out)
    assert said_in_chinese(err.value) == (
        "角色图片为 500x500 像素：太大，无法在这里安全转换（最多 0 百万像素）。修复：请在图片编辑器中缩小尺寸。"
    )
    im = Image.new("RGB", (800, 800), (90, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 3
    im.save(src / "budget.jpg", quality=90, exif=exif)  # 640k pixels: the JPEG decoder reduces it by 2
    res = prepare_image(probe_image(src / "budget.jpg"), out)
    assert (res.info.width, res.info.height) == (400, 400)
    assert res.actions == [
        "downscaled 800x800 -> 400x400",
        "applied EXIF orientation 3 (the picture is sent upright)",
    ]


def test_corrupt_image_gives_a_clear_error(src: Path, out: Path) -> None:
    good = make_image(src / "cut.bmp", 500, 500, fmt="BMP")
    path = src / "cut_short.bmp"
    path.write_bytes(good.read_bytes()[:20_000])
    with pytest.raises(PreparationError) as err:
        prepare_image(probe_image(path), out)
    text = str(err.value)
    assert text.startswith("Character image could not be decoded (the file is truncated)")
    assert "Fix: export or download it again" in text and "Traceback" not in text
    assert said_in_chinese(err.value) == "角色图片无法解码（文件被截断了）。修复：请重新导出或下载为 JPEG 或 PNG。"


def test_same_image_request_reuses_the_cached_result(src: Path, out: Path) -> None:
    path = make_image(src / "again.webp", 480, 640, fmt="WEBP")
    first = prepare_image(probe_image(path), out)
    mtime = first.path.stat().st_mtime_ns
    second = prepare_image(probe_image(path), out)
    assert second.cached and not first.cached
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime
    assert second.actions == first.actions


# ----------------------------------------------------------------------------- videos


def test_conforming_mp4_is_sent_untouched(src: Path, out: Path) -> None:
    path = make_video(src / "ok.mp4", seconds=4)
    info = probe_video(path)
    assert not needs_preparation(check_video(info, "video"))
    res = prepare_video(info, "video", out_dir=out)
    assert res.path == path and not res.reencoded and res.actions == []
    assert res.summary() == NO_CHANGES and res.window is None
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture(scope="module")
def long_h264(src: Path) -> Path:
    """12 s, keyframe every second, with AAC sound: too long for orientation 'image' (10 s)."""
    return make_video(src / "long12.mp4", seconds=12, extra=GOP24)


def test_keyframes_come_from_the_index(long_h264: Path) -> None:
    assert keyframe_at_or_before(long_h264, 0.0) == 0.0
    assert keyframe_at_or_before(long_h264, 3.2) == pytest.approx(3.0)
    assert keyframe_at_or_before(long_h264, 5.0) == pytest.approx(5.0)


def test_long_video_is_trimmed_by_stream_copy(long_h264: Path, out: Path) -> None:
    info = probe_video(long_h264)
    assert "video_too_long" in codes(planned_fixes(check_video(info, "image")))
    res = prepare_video(info, "image", out_dir=out)
    assert not res.reencoded and res.path.parent == out
    got = assert_sendable(res.path, audio=True, max_seconds=10.0)
    assert got.duration >= 9.8
    assert res.window is not None and res.window[0] == 0.0 and res.window[1] == pytest.approx(got.duration)
    assert res.actions == [f"trimmed to 0.00-{res.window[1]:.2f} s (cut at keyframes, no re-encode)"]
    # codec copy: the packets are the source's own bytes
    assert video_packets(res.path, 5) == video_packets(long_h264, 5)


def test_trim_window_follows_the_start_slider(long_h264: Path, out: Path) -> None:
    info = probe_video(long_h264)
    res = prepare_video(info, "image", start=1.3, out_dir=out)  # keyframe at 1.0 s is 0.3 s before
    assert not res.reencoded
    got = assert_sendable(res.path, audio=True, max_seconds=10.0)
    assert res.window == (pytest.approx(1.0), pytest.approx(1.0 + got.duration))
    assert res.actions[0].startswith("trimmed to 1.00-")
    assert video_packets(res.path, 3) == video_packets(long_h264, 3, at=1.0)


def test_far_keyframe_means_an_exact_re_encode(src: Path, out: Path) -> None:
    path = make_video(src / "gop48.mp4", seconds=15, extra=["-g", "48", "-keyint_min", "48", "-sc_threshold", "0"])
    info = probe_video(path)
    assert plan_video(info, "image", 2.3).copy  # keyframe at 2.0 s, 0.3 s early: copy
    plan = plan_video(info, "image", 9.0)  # clamped to 5.0; keyframe at 4.0 is 1 s early
    assert plan.encode and plan.trim_start == 5.0
    res = prepare_video(info, "image", start=3.2, out_dir=out)
    assert res.reencoded
    got = assert_sendable(res.path, audio=True, max_seconds=10.0)
    assert got.duration == pytest.approx(10.0, abs=0.01)
    assert res.window == (3.2, pytest.approx(13.2, abs=0.01))
    assert res.actions[:2] == [
        "trimmed to 3.20-13.20 s (re-encoded)",
        "re-encoded to start exactly at 3.20 s (the nearest keyframe is at 2.00 s)",
    ]


def test_rotated_copy_keeps_its_rotation(src: Path, long_h264: Path, out: Path) -> None:
    path = src / "long12_rot.mp4"
    ffmpeg("-i", str(long_h264), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))
    info = probe_video(path)
    assert info.rotation in (90, 270)
    res = prepare_video(info, "image", out_dir=out)
    assert not res.reencoded
    assert probe_video(res.path).rotation == info.rotation


def test_mov_is_trimmed_into_a_mov(src: Path, out: Path) -> None:
    path = make_video(src / "long12.mov", seconds=12, extra=GOP24)
    res = prepare_video(probe_video(path), "image", out_dir=out)
    assert not res.reencoded and res.path.suffix == ".mov"
    assert_sendable(res.path, audio=True, max_seconds=10.0)


def test_a_copy_that_does_not_conform_falls_back_to_re_encoding(
    long_h264: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = video_encode.video_problems

    def copies_fail(got, plan, limits, encoded):  # type: ignore[no-untyped-def]
        return real(got, plan, limits, encoded) if encoded else ["simulated: the copy lost its keyframe"]

    monkeypatch.setattr(video_encode, "video_problems", copies_fail)
    res = prepare_video(probe_video(long_h264), "image", start=1.3, out_dir=out)
    assert res.reencoded
    assert res.window == (1.3, pytest.approx(11.3, abs=0.01))  # the wanted start, exactly
    assert res.actions == [
        "trimmed to 1.30-11.30 s (re-encoded)",
        "re-encoded because a stream copy did not conform (simulated: the copy lost its keyframe)",
    ]
    assert_sendable(res.path, audio=True, max_seconds=10.0)


def test_webm_vp9_becomes_h264_mp4(src: Path, out: Path) -> None:
    path = make_video(src / "clip.webm", seconds=3.5, codec="libvpx-vp9", extra=FAST_VP9)
    info = probe_video(path)
    assert (info.codec, info.audio_codec) == ("vp9", "opus")
    res = prepare_video(info, "video", out_dir=out)
    assert res.reencoded and res.path.suffix == ".mp4"
    got = assert_sendable(res.path, audio=True)
    assert (got.width, got.height) == (640, 360)
    assert got.duration == pytest.approx(3.5, abs=0.05)
    assert res.actions == ["transcoded VP9 to H.264", "audio OPUS -> AAC"]


def test_hevc_mov_becomes_h264(src: Path, out: Path) -> None:
    path = make_video(
        src / "clip_hevc.mov", seconds=3, codec="libx265", extra=["-preset", "ultrafast", "-tag:v", "hvc1"]
    )
    info = probe_video(path)
    assert info.codec == "hevc"
    res = prepare_video(info, "video", out_dir=out)
    got = assert_sendable(res.path, audio=True)
    assert res.actions == ["transcoded HEVC to H.264"]
    assert got.duration == pytest.approx(3.0, abs=0.05)


def test_4k_plus_is_downscaled_to_even_3840(src: Path, out: Path) -> None:
    path = make_video(src / "big.mp4", 4000, 2250, seconds=3, fps=5, audio=False)
    info = probe_video(path)
    assert "video_too_large" in codes(planned_fixes(check_video(info, "video", keep_sound=False)))
    res = prepare_video(info, "video", out_dir=out, keep_sound=False)
    got = assert_sendable(res.path, audio=False)
    assert (got.width, got.height) == (3840, 2160)
    assert res.actions == ["downscaled 4000x2250 -> 3840x2160"]


def test_odd_size_becomes_even(src: Path, out: Path) -> None:
    # testsrc2 rounds sizes to even numbers; testsrc keeps 641x361
    extra = [*FAST_VP9, "-pix_fmt", "yuv420p"]
    path = make_video(
        src / "odd.webm", 641, 361, seconds=3, codec="libvpx-vp9", audio=False, extra=extra, source="testsrc"
    )
    info = probe_video(path)
    assert (info.width, info.height) == (641, 361)
    res = prepare_video(info, "video", out_dir=out, keep_sound=False)
    got = assert_sendable(res.path, audio=False)
    assert (got.width, got.height) == (640, 360)
    assert "cropped 641x361 -> 640x360 (H.264 needs even sizes)" in res.actions


def test_variable_frame_rate_becomes_constant(src: Path, out: Path) -> None:
    path = src / "vfr.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "5",
        "-vf", "setpts='if(lt(N,60),N/30,2+(N-60)/10)/TB'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    info = probe_video(path)
    assert info.variable_fps
    res = prepare_video(info, "video", out_dir=out, keep_sound=False)
    got = assert_sendable(res.path, audio=False)
    assert not got.variable_fps and got.fps == 30.0
    assert got.frames == round(got.duration * 30)
    assert got.duration == pytest.approx(info.duration, abs=0.1)
    assert res.actions[0].startswith("made the frame rate constant at 30 fps (the source varies, average ")


def test_rotated_video_is_re_encoded_upright(src: Path, out: Path) -> None:
    plain, path = src / "plain_mpeg4.mp4", src / "rot_mpeg4.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=blue:size=640x360:rate=24,drawbox=x=0:y=0:w=160:h=90:color=red:t=fill",
        "-t", "3", "-c:v", "mpeg4", "-q:v", "3", str(plain),
    )  # fmt: skip
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))  # MPEG-4 part 2: re-encoded
    info = probe_video(path)
    assert info.rotation in (90, 270) and (info.width, info.height) == (360, 640)
    with av.open(str(path)) as c:  # what a player shows: the decoded frame turned by its display matrix
        frame = next(c.decode(video=0))
        shown = np.rot90(frame.to_ndarray(format="rgb24"), k=round(frame.rotation / 90) % 4)
    res = prepare_video(info, "video", out_dir=out, keep_sound=False)
    got = assert_sendable(res.path, audio=False)
    assert got.rotation == 0 and (got.width, got.height) == (360, 640)
    assert f"applied the {info.rotation}° rotation: the result is upright (rotation 0)" in res.actions
    upright = first_frame(res.path)
    assert upright.shape == shown.shape
    red = (upright[..., 0] > 180) & (upright[..., 2] < 80)
    red_shown = (shown[..., 0] > 180) & (shown[..., 2] < 80)
    assert (red == red_shown).mean() > 0.98  # the red corner is where the player shows it
    assert red.sum() > 0.8 * 160 * 90


def test_oversize_video_is_re_encoded_under_the_limit(src: Path, out: Path) -> None:
    path = src / "noisy.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24", "-f", "lavfi", "-i", "sine", "-t", "4",
        "-vf", "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10",
        "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )  # fmt: skip
    limit = 500_000
    info = probe_video(path)
    assert info.size_bytes > 2 * limit
    limits = replace(LIMITS, video_max_bytes=limit)
    assert "video_file_size" in codes(planned_fixes(check_video(info, limits=limits)))
    res = prepare_video(info, "video", out_dir=out, limits=limits)
    assert res.reencoded
    assert_sendable(res.path, audio=True, max_bytes=limit)
    assert res.actions[0] == "re-encoded at a capped bit rate to fit under 0.5 MB"


def test_mkv_h264_is_remuxed_without_re_encoding(src: Path, out: Path) -> None:
    path = make_video(src / "clip.mkv", seconds=3.5)
    info = probe_video(path)
    res = prepare_video(info, "video", out_dir=out)
    assert not res.reencoded and res.path.suffix == ".mp4"
    assert_sendable(res.path, audio=True)
    assert res.actions == ["remuxed MKV to MP4 (H.264 kept, no re-encode)"]
    assert video_packets(res.path, 4) == video_packets(path, 4)


def test_sound_off_drops_the_audio_when_writing(src: Path, long_h264: Path, out: Path) -> None:
    res = prepare_video(probe_video(long_h264), "image", out_dir=out, keep_sound=False)
    assert_sendable(res.path, audio=False, max_seconds=10.0)
    assert res.actions[-1] == "left out the audio track ('Keep original sound' is off)"


def test_same_video_request_is_cached_and_options_are_not_mixed(long_h264: Path, out: Path) -> None:
    info = probe_video(long_h264)
    first = prepare_video(info, "image", start=0.0, out_dir=out)
    again = prepare_video(info, "image", start=0.0, out_dir=out)
    other = prepare_video(info, "image", start=2.0, out_dir=out)
    assert again.cached and again.path == first.path and again.window == first.window
    assert again.actions == first.actions
    assert other.path != first.path and other.window[0] == pytest.approx(2.0)


@pytest.mark.parametrize("kind", ["junk", "truncated"])
def test_corrupt_video_gives_a_clear_error(src: Path, out: Path, kind: str) -> None:
    path = src / f"bad_{kind}.mp4"
    if kind == "junk":
        path.write_bytes(np.random.default_rng(2).integers(0, 255, 50_000, dtype=np.uint8).tobytes())
    else:
        whole = make_video(src / "whole.mp4", seconds=3).read_bytes()  # moov at the end (no faststart)
        path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(PreparationError) as err:
        prepare_video(probe_video(path), "video", out_dir=out)
    text = str(err.value)
    assert text.startswith("Motion video") and "Fix: " in text and "Traceback" not in text


def test_truncated_webm_says_how_much_could_be_read(src: Path, out: Path) -> None:
    whole = make_video(src / "whole.webm", seconds=5, codec="libvpx-vp9", extra=FAST_VP9).read_bytes()
    path = src / "cut.webm"
    path.write_bytes(whole[: len(whole) // 2])  # the header still announces 5 s
    info = probe_video(path)
    assert info.duration == pytest.approx(5.0, abs=0.05)
    with pytest.raises(PreparationError) as err:
        prepare_video(info, "video", out_dir=out)
    assert re.fullmatch(
        r"Motion video: only \d\.\d\d s of the 5\.0\d s its header announces could be read; the file is "
        r"damaged or cut short\. Fix: download or export it again\.",
        str(err.value),
    )
    zh = said_in_chinese(err.value)
    assert (
        zh.startswith("动作视频：文件头声明了 5.0") and zh.endswith("修复：请重新下载或导出。") and not english_left(zh)
    )


def test_ffmpeg_failure_names_the_input_and_the_fix(src: Path, out: Path) -> None:
    path = make_video(src / "gone.webm", seconds=3, codec="libvpx-vp9", audio=False, extra=FAST_VP9)
    info = probe_video(path)
    broken = src / "broken.webm"
    broken.write_bytes(b"\x1aE\xdf\xa3" + b"\x00" * 4000)  # the probe said VP9; the bytes are junk now
    with pytest.raises(PreparationError) as err:
        prepare_video(replace(info, path=str(broken)), "video", out_dir=out, keep_sound=False)
    text = str(err.value)
    assert text.startswith("Motion video could not be converted (ffmpeg failed (exit code 1)")
    assert str(src) not in text  # paths are cut to file names
    assert text.endswith("Fix: export it again as an H.264 MP4, or try another file.")
    zh = said_in_chinese(err.value)  # ffmpeg's own words stay as they are
    assert zh.startswith("动作视频无法转换（ffmpeg failed (exit code 1)") and zh.endswith(
        "修复：请重新导出为 H.264 MP4，或换一个文件。"
    )
    assert not [p for p in out.iterdir() if p.suffix == ".mp4"]  # no half-written result left behind


def test_cancel_and_timeout_stop_ffmpeg(src: Path, out: Path) -> None:
    path = make_video(src / "cancel.webm", seconds=3, codec="libvpx-vp9", audio=False, extra=FAST_VP9)
    info = probe_video(path)
    stop = threading.Event()
    stop.set()
    with pytest.raises(PreparationCancelled, match="Motion video: preparing was stopped") as stopped:
        prepare_video(info, "video", out_dir=out, keep_sound=False, cancel=stop)
    assert said_in_chinese(stopped.value) == "动作视频：准备已停止。"
    with pytest.raises(PreparationError, match=r"took longer than 0 s and was stopped\. Fix: trim the clip") as err:
        prepare_video(info, "video", out_dir=out, keep_sound=False, timeout=0.05)
    assert (
        said_in_chinese(err.value) == "动作视频：转换耗时超过 0 秒，已被停止。修复：请截短片段或降低分辨率，然后重试。"
    )


def test_progress_reaches_one(src: Path, out: Path) -> None:
    path = make_video(src / "progress.webm", seconds=3, codec="libvpx-vp9", audio=False, extra=FAST_VP9)
    seen: list[float] = []
    prepare_video(probe_video(path), "video", out_dir=out, keep_sound=False, progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0.0 <= x <= 1.0 for x in seen)


def test_run_ffmpeg_reports_its_last_words(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.mp4"
    with pytest.raises(FFmpegError) as err:
        run_ffmpeg(["-i", str(missing), str(tmp_path / "y.mp4")], timeout=30)
    assert err.value.detail == "x.mp4: No such file or directory"


def test_shared_dance_clip_in_image_mode(out: Path) -> None:
    clip = SHARED_MEDIA / "dance_fullbody_12s.mp4"
    if not clip.is_file():
        pytest.skip(f"shared sample media not found at {SHARED_MEDIA}")
    info = probe_video(clip)
    assert prepare_video(info, "video", out_dir=out).path == clip  # 12 s is fine for 'video'
    res = prepare_video(info, "image", out_dir=out)
    assert not res.reencoded
    got = assert_sendable(res.path, audio=True, max_seconds=10.0)
    assert got.duration > 9.5 and (got.width, got.height) == (1080, 1920)


def test_unreadable_and_unfixable_inputs_say_so_in_both_languages(src: Path) -> None:
    from kmc_ui.media.prepare_common import refuse_unfixable, result_stem

    with pytest.raises(PreparationError) as err:
        result_stem(src / "gone.png", {}, "Character image")
    assert str(err.value) == "Character image: cannot read the file (No such file or directory). Fix: upload it again."
    assert said_in_chinese(err.value) == "角色图片：无法读取文件（没有该文件或目录）。修复：请重新上传。"
    small = probe_image(make_image(src / "small.png", 120, 120, fmt="PNG"))
    with pytest.raises(PreparationError) as err:
        refuse_unfixable(check_image(small))
    assert str(err.value).startswith("Character image is 120x120 px; each side must be at least 300 px. Fix: Use")
    zh = said_in_chinese(err.value)
    assert zh.startswith("角色图片为 120x120 像素；每边至少需要 300 像素。修复：请使用更大的图片")
    assert not english_left(zh)
