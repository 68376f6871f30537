"""Probe facts on real files: what the header says, measured as displayed, without decoding pixels."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from kmc_ui.checks.rules import check_all
from kmc_ui.media.probe import probe_image, probe_video
from tests.conftest import MediaCache
from tests.media_factory import ffmpeg_exe
from tests.test_rules import fake_png, keys


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# ---------------------------------------------------------------- images


def test_png_facts(media: MediaCache) -> None:
    path = media.image("facts.png", 720, 1280)
    info = probe_image(path)
    assert info.ok and info.error == "" and not info.missing
    assert (info.format, info.extension, info.mode, info.bit_depth, info.frames) == ("PNG", ".png", "RGB", 8, 1)
    assert (info.width, info.height, info.stored_width, info.stored_height) == (720, 1280, 720, 1280)
    assert info.size_bytes == path.stat().st_size
    assert info.aspect == pytest.approx(0.5625)
    assert info.to_dict()["width"] == 720


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_exif_orientations_that_swap_sides(media: MediaCache, orientation: int) -> None:
    im = Image.new("RGB", (1280, 720), "gray")
    exif = im.getexif()
    exif[0x0112] = orientation
    path = media.root / f"exif_{orientation}.jpg"
    im.save(path, exif=exif)
    info = probe_image(path)
    assert (info.exif_orientation, info.width, info.height) == (orientation, 720, 1280)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4])
def test_exif_orientations_that_keep_sides(media: MediaCache, orientation: int) -> None:
    im = Image.new("RGB", (1280, 720), "gray")
    exif = im.getexif()
    exif[0x0112] = orientation
    path = media.root / f"exif_keep_{orientation}.jpg"
    im.save(path, exif=exif)
    info = probe_image(path)
    assert (info.exif_orientation, info.width, info.height) == (orientation, 1280, 720)


def test_png_exif_orientation_is_read_from_the_header(media: MediaCache) -> None:
    im = Image.new("RGB", (1280, 720), "gray")
    exif = im.getexif()
    exif[0x0112] = 6
    path = media.root / "exif6.png"
    im.save(path, exif=exif)
    info = probe_image(path)
    assert (info.format, info.exif_orientation, info.width, info.height) == ("PNG", 6, 720, 1280)


def test_sixteen_bit_pngs_report_their_depth(media: MediaCache) -> None:
    for name, pix in (("rgb48.png", "rgb48be"), ("gray16.png", "gray16be")):
        out = media.root / name
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=720x1280", "-frames:v", "1"]
        subprocess.run([*cmd, "-pix_fmt", pix, str(out)], check=True, capture_output=True)
    rgb, gray = probe_image(media.root / "rgb48.png"), probe_image(media.root / "gray16.png")
    assert (rgb.mode, rgb.bit_depth) == ("RGB", 16)  # Pillow would show 8-bit RGB
    assert (gray.mode, gray.bit_depth) == ("I;16", 16)


def test_huge_header_is_measured_and_file_handles_are_closed(media: MediaCache) -> None:
    path = media.file("fd_70000.png", fake_png(70000, 40000))
    before = _open_fds()
    for _ in range(20):
        info = probe_image(path)
        assert (info.width, info.height) == (70000, 40000)
    assert _open_fds() == before


def test_video_probe_closes_its_files(media: MediaCache) -> None:
    path = media.video("fd.mp4", width=640, height=360, source="color")
    before = _open_fds()
    for _ in range(20):
        assert probe_video(path).ok
    assert _open_fds() == before


# ---------------------------------------------------------------- videos


def test_mp4_facts(media: MediaCache) -> None:
    path = media.video("facts.mp4", width=640, height=360, seconds=3.0, fps=25, extra=["-movflags", "+faststart"])
    info = probe_video(path)
    assert info.ok and info.has_video and info.decodable and not info.variable_fps
    assert info.container == "mov,mp4,m4a,3gp,3g2,mj2" and info.is_mp4_family
    assert (info.codec, info.pix_fmt, info.width, info.height, info.rotation) == ("h264", "yuv420p", 640, 360, 0)
    assert (info.fps, info.duration, info.frames) == (25.0, 3.0, 75)
    assert (info.has_audio, info.audio_codec) == (True, "aac")
    assert info.bit_rate > 0
    # faststart: the last packet listed in the index ends at the very end of the file
    assert info.expected_bytes == info.size_bytes


@pytest.mark.parametrize(
    ("name", "codec", "container"),
    [
        ("idx_moov_end.mp4", "libx264", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("idx.mkv", "libx264", "matroska,webm"),
        ("idx.webm", "libvpx-vp9", "matroska,webm"),
        ("idx.avi", "mpeg4", "avi"),
    ],
)
def test_complete_files_end_after_their_last_indexed_packet(
    media: MediaCache, name: str, codec: str, container: str
) -> None:
    info = probe_video(media.video(name, width=640, height=360, codec=codec, source="color"))
    assert (info.container, info.has_audio) == (container, True)
    assert info.duration == pytest.approx(3.0, abs=0.05)  # without stream durations: the longest track
    assert 0 < info.expected_bytes <= info.size_bytes


def test_variable_frame_rate_is_detected(media: MediaCache) -> None:
    out = media.root / "vfr.mp4"
    # 2 s at 30 fps, then 20 frames spaced for 10 fps: one file, two frame rates.
    setpts = "setpts='if(lt(N,60),N/(30*TB),(2+(N-60)/10)/TB)'"
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-frames:v", "80"]
    cmd += ["-vf", setpts, "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([*cmd, str(out)], check=True, capture_output=True)
    info = probe_video(out)
    assert info.variable_fps
    assert info.frames == 80
    assert 19 < info.fps < 21  # 80 frames over about 4 s


# ---------------------------------------------------------------- the shared sample media


def test_shared_sample_video(shared_media: Path) -> None:
    info = probe_video(shared_media / "dance_fullbody_12s.mp4")
    assert (info.width, info.height, info.codec, info.fps, info.duration) == (1080, 1920, "h264", 24.0, 12.0)
    assert info.has_audio and info.audio_codec == "aac" and info.decodable and not info.variable_fps
    assert info.expected_bytes <= info.size_bytes


def test_shared_sample_pair_findings(shared_media: Path) -> None:
    image = probe_image(shared_media / "character_anime_fullbody.jpg")
    video = probe_video(shared_media / "dance_fullbody_12s.mp4")
    assert (image.format, image.width, image.height) == ("JPEG", 704, 1216)
    assert keys(check_all(image, video, orientation="video")) == {("hint", "image", "image_low_resolution")}
    assert keys(check_all(image, video, orientation="image")) == {
        ("hint", "image", "image_low_resolution"),
        ("error", "video", "video_too_long"),
    }


def test_why_a_file_cannot_be_read_is_a_message_in_both_languages(tmp_path: Path) -> None:
    """The probe says why it could not read a file as a message (kmc_ui/catalogue/probe.py): its
    English is `error` word for word, and a Chinese page renders it, alone and in its finding."""
    from kmc_ui.messages import render
    from kmc_ui.ui.render import image_facts, video_facts
    from kmc_ui.ui.runtime_text import finding_said
    from tests.media_factory import make_video
    from tests.test_runtime_text import assert_rendered_chinese

    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture at all")
    (tmp_path / "folder.mp4").mkdir()
    (tmp_path / "text.mp4").write_text("not a video at all " * 50)
    whole = make_video(tmp_path / "whole.mp4", seconds=2).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 3])  # the index (moov) is at the end: lost
    images = [probe_image(tmp_path / n) for n in ("gone.png", "empty.png", "text.png")]
    videos = [probe_video(tmp_path / n) for n in ("folder.mp4", "text.mp4", "cut.mp4")]
    codes = []
    for info in [*images, *videos]:
        assert not info.ok and info.error_msg is not None
        assert render(info.error_msg, "en") == info.error
        assert "error_msg" not in info.to_dict() and info.to_dict()["error"] == info.error
        codes.append(info.error_msg.code)
    assert codes == [
        "probe.missing",
        "probe.empty",
        "probe.image_unknown",
        "probe.not_regular",
        "probe.invalid_data",
        "probe.moov_missing",
    ], codes
    zh = [image_facts(i, "zh") for i in images] + [video_facts(v, "zh") for v in videos]
    assert zh[0] == "图片：文件不存在（可能已被移动或删除）"
    assert zh[5].startswith("视频：MP4 索引（moov box）缺失或不完整")
    found = check_all(images[2], videos[1], "", "video", "std", True)
    said = [text for f in found if f.level == "error" for text in finding_said(f, "zh")]
    assert "角色图片：该文件不是可读取的图片（内容未知或已损坏）。" in said
    assert assert_rendered_chinese(zh + said, verbatim=["moov box"]) >= 8
