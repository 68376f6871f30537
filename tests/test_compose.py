"""Comparison export: real clips made with ffmpeg, exported, then probed and decoded.

Each panel is a solid colour (or a two-colour split for the rotation test) so the layout can be
checked from the decoded pixels, and each source has its own tone so the chosen audio can be
told apart by its frequency.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import av
import numpy as np
import pytest

from kmc_ui.media.compose import (
    ComposeCancelled,
    ComposeError,
    export_comparison,
    export_plan,
    find_font,
    plan_comparison,
)
from kmc_ui.media.probe import probe_video
from tests.media_factory import ffmpeg_exe, make_image

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 128, 0)  # ffmpeg colour names


def clip(
    path: Path,
    size: tuple[int, int],
    *,
    fps: float = 24,
    seconds: float = 2.0,
    color: str = "red",
    tone: int | None = 440,
    rotate: int = 0,
    split: str = "",
    sar: str = "",
    pix_fmt: str = "yuv420p",
    acodec: str = "aac",
) -> Path:
    """A solid-colour clip (or left half `color`, right half `split`), with an optional sine tone."""
    w, h = size
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={color}:s={w}x{h}:r={fps}:d={seconds}"]
    graph = "[0:v]"
    if split:
        cmd += ["-f", "lavfi", "-i", f"color=c={split}:s={w // 2}x{h}:r={fps}:d={seconds}"]
        graph = f"[0:v][1:v]overlay=x={w - w // 2}:y=0"
    if sar:
        graph += ("," if split else "") + f"setsar={sar}"
    if tone:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:d={seconds}"]
    if graph == "[0:v]":
        cmd += ["-map", "0:v"]
    else:
        cmd += ["-filter_complex", graph + "[v]", "-map", "[v]"]
    if tone:
        cmd += ["-map", f"{2 if split else 1}:a", "-c:a", acodec]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", pix_fmt, "-t", str(seconds)]
    plain = path.with_name(f"plain-{path.name}") if rotate else path
    subprocess.run([*cmd, str(plain)], check=True, capture_output=True)
    if rotate:  # a phone-style display matrix on the stored picture (stream copy, as in test_prepare)
        tag = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={rotate}"]
        subprocess.run([*tag, str(path)], check=True, capture_output=True)
    return path


def frame_at(path: Path, t: float = 0.5) -> np.ndarray:
    """The displayed RGB picture at about `t` seconds (rotation applied, as a player shows it)."""
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time is not None and frame.time >= t:
                rgb = frame.to_ndarray(format="rgb24")
                return np.rot90(rgb, k=round(frame.rotation / 90) % 4) if frame.rotation else rgb
    raise AssertionError(f"no frame at {t} s in {path.name}")


def near(pixel: np.ndarray, color: tuple[int, int, int], tol: int = 40) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(color)) < tol))


def tone_of(path: Path) -> float:
    """The dominant audio frequency (Hz) of a file's first audio track."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate = stream.rate
        chunks = [f.to_ndarray()[0] for f in c.decode(stream)]
    samples = np.concatenate(chunks).astype(float)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def faststart(path: Path) -> bool:
    """moov before mdat, read from the raw top-level box headers."""
    order = []
    data = path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        order.append(kind)
        pos += size if size >= 8 else len(data)
    return order.index(b"moov") < order.index(b"mdat")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("compose")
    return {
        "ref": clip(d / "ref.mp4", (640, 360), fps=30, seconds=3.0, color="red", tone=440),
        "out": clip(d / "out.mp4", (320, 240), fps=12, seconds=2.5, color="blue", tone=1000),
        "mute": clip(d / "mute.mp4", (480, 270), fps=25, seconds=2.0, color="green", tone=None),
        "rotated": clip(
            d / "rot.mp4", (640, 360), fps=24, seconds=2.0, color="red", split="blue", rotate=90, tone=None
        ),
        "portrait": clip(d / "portrait.mp4", (360, 640), fps=24, seconds=2.0, color="blue", tone=1000),
        "skeleton": clip(d / "skel.mp4", (320, 180), fps=10, seconds=1.5, color="green", tone=None),
        "odd": clip(d / "odd.mp4", (639, 359), fps=24, seconds=2.0, color="red", pix_fmt="yuv444p"),
        "anamorphic": clip(d / "ana.mp4", (640, 480), fps=24, seconds=2.0, color="red", sar="4/3"),
    }


def check_standards(path: Path, width: int, height: int, audio: bool) -> None:
    info = probe_video(path)
    assert info.ok, info.error
    assert (info.codec, info.pix_fmt, info.rotation) == ("h264", "yuv420p", 0)
    assert (info.width, info.height) == (width, height)
    assert width % 2 == 0 and height % 2 == 0
    assert info.has_audio is audio
    if audio:
        assert info.audio_codec == "aac"
    assert faststart(path)


def test_two_panels_equal_heights_labels_audio_and_duration(clips: dict[str, Path], tmp_path: Path) -> None:
    ref, out = clips["ref"], clips["out"]
    dest = export_comparison(ref, out, tmp_path / "cmp.mp4")
    # common height = the smaller input's (240); 640x360 -> 426.7 -> 426 (even), 320x240 stays
    check_standards(dest, 426 + 320, 240, audio=True)
    info = probe_video(dest)
    assert info.duration == pytest.approx(2.5, abs=0.1)  # the shorter of the two
    assert info.fps == pytest.approx(12, abs=0.01)  # the result's frame rate
    assert abs(tone_of(dest) - 440) < 20  # the reference's sound (the default)
    frame = frame_at(dest, 1.0)
    assert near(frame[200, 213], RED) and near(frame[200, 426 + 160], BLUE)  # reference | result
    # Labels are drawn where the plain export is plain.
    plain = export_comparison(ref, out, tmp_path / "plain.mp4", labels=None)
    assert (frame_at(plain, 1.0)[8:30, 8:60] != frame[8:30, 8:60]).any()
    assert near(frame_at(plain, 1.0)[20, 30], RED)


def test_audio_choice(clips: dict[str, Path], tmp_path: Path) -> None:
    ref, out, mute = clips["ref"], clips["out"], clips["mute"]
    from_output = export_comparison(ref, out, tmp_path / "a.mp4", audio="output", labels=None)
    check_standards(from_output, 746, 240, audio=True)
    assert abs(tone_of(from_output) - 1000) < 20
    silent = export_comparison(ref, out, tmp_path / "b.mp4", audio="none", labels=None)
    check_standards(silent, 746, 240, audio=False)
    # The chosen source has no sound: a silent export, and the plan says why.
    plan = plan_comparison(mute, out, audio="reference", labels=None)
    assert plan.audio_panel is None
    assert "The reference video has no audio track: the export is silent." in plan.notes
    check_standards(export_plan(plan, tmp_path / "c.mp4"), plan.width, plan.height, audio=False)
    # AAC stereo is copied as it is; anything else (here Opus in Matroska) is encoded to AAC.
    assert plan_comparison(ref, out).audio_copy is True
    opus = clip(tmp_path / "opus.mkv", (320, 240), seconds=2.0, color="red", tone=880, acodec="libopus")
    plan = plan_comparison(opus, out, labels=None)
    assert plan.audio_panel == 0 and plan.audio_copy is False
    dest = export_plan(plan, tmp_path / "d.mp4")
    check_standards(dest, plan.width, plan.height, audio=True)
    assert abs(tone_of(dest) - 880) < 20
    with pytest.raises(ComposeError, match="Audio must be one of reference, output, none"):
        plan_comparison(ref, out, audio="both")


def test_rotated_reference_comes_out_upright(clips: dict[str, Path], tmp_path: Path) -> None:
    rotated, portrait = clips["rotated"], clips["portrait"]
    src = probe_video(rotated)
    assert src.rotation in (90, 270) and (src.width, src.height) == (360, 640)
    upright = frame_at(rotated)  # what a player shows: PyAV's display matrix, not ffmpeg's CLI
    assert upright.shape[:2] == (640, 360)
    top, bottom = upright[40, 180], upright[600, 180]
    assert not near(top, tuple(bottom))  # the split runs across the displayed picture
    dest = export_comparison(rotated, portrait, tmp_path / "rot.mp4", labels=None)
    check_standards(dest, 360 + 360, 640, audio=False)  # the rotated source has no tone
    frame = frame_at(dest)
    assert near(frame[40, 180], tuple(top)) and near(frame[600, 180], tuple(bottom))
    assert near(frame[320, 540], BLUE)


def test_sizes_frame_rates_odd_and_non_square_pixels(clips: dict[str, Path], tmp_path: Path) -> None:
    # 639x359 yuv444p (odd, not 4:2:0) beside 360x640 portrait at another frame rate.
    plan = plan_comparison(clips["odd"], clips["portrait"], labels=None)
    assert plan.height == 358  # the smaller height, made even
    assert [p.width for p in plan.panels] == [2 * round(358 * 639 / 359 / 2), 2 * round(358 * 360 / 640 / 2)]
    dest = export_plan(plan, tmp_path / "odd.mp4")
    check_standards(dest, plan.width, 358, audio=True)
    assert probe_video(dest).fps == pytest.approx(24, abs=0.01)
    # 640x480 stored with 4:3 pixels shows as 853x480: its panel keeps the shown shape.
    plan = plan_comparison(clips["anamorphic"], clips["ref"], labels=None)
    assert plan.height == 360
    assert [p.width for p in plan.panels] == [640, 640]
    dest = export_plan(plan, tmp_path / "ana.mp4")
    check_standards(dest, 1280, 360, audio=True)
    assert probe_video(dest).fps == pytest.approx(30, abs=0.01)  # the result's rate (here 30)


def test_three_panels_with_a_skeleton_video(clips: dict[str, Path], tmp_path: Path) -> None:
    ref, out, skeleton = clips["ref"], clips["out"], clips["skeleton"]
    plan = plan_comparison(ref, out, skeleton=skeleton)
    assert [p.role for p in plan.panels] == ["reference", "output", "skeleton"]
    assert [p.label for p in plan.panels] == ["Reference", "Result", "Skeleton"]
    assert plan.height == 180  # the skeleton clip is the smallest
    assert [p.width for p in plan.panels] == [320, 240, 320]
    assert any("skeleton video is shorter" in n for n in plan.notes)
    dest = export_plan(plan, tmp_path / "three.mp4")
    check_standards(dest, 880, 180, audio=True)
    assert probe_video(dest).duration == pytest.approx(2.5, abs=0.1)  # skeleton (1.5 s) holds its last frame
    frame = frame_at(dest, 2.2)
    assert near(frame[120, 160], RED) and near(frame[120, 320 + 120], BLUE) and near(frame[120, 560 + 160], GREEN)


def test_explicit_height_and_the_1080p_fit(clips: dict[str, Path], tmp_path: Path) -> None:
    dest = export_comparison(clips["ref"], clips["out"], tmp_path / "h.mp4", height=481, labels=None)
    check_standards(dest, 2 * round(482 * 16 / 9 / 2) + 2 * round(482 * 4 / 3 / 2), 482, audio=True)
    with pytest.raises(ComposeError, match=r"wider than 4096 px\. Fix: pick a height of \d+ px or less"):
        plan_comparison(clips["ref"], clips["out"], height=2000)
    # Without a height, two 1920x1080 panels are fitted into the 1920x720 box (960x540 each).
    big = tmp_path / "big.mp4"
    clip(big, (1920, 1080), fps=24, seconds=1.0, tone=None)
    plan = plan_comparison(big, big, labels=None)
    assert (plan.width, plan.height) == (1920, 540)
    tall = tmp_path / "tall.mp4"  # two 1080x1920 phone videos: 720 px high (406 px wide each)
    clip(tall, (1080, 1920), fps=24, seconds=1.0, tone=None)
    plan = plan_comparison(tall, tall, labels=None)
    assert (plan.width, plan.height) == (812, 720)
    assert "-skip_loop_filter" in plan.ffmpeg_args(tmp_path / "x.mp4")  # shown at 37%: no deblocking


def test_labels_with_special_characters_and_no_covering_font(clips: dict[str, Path], tmp_path: Path) -> None:
    labels = ("Ref: it's [50%], a,b; c\\d", "结果 (result)")
    plan = plan_comparison(clips["ref"], clips["out"], labels=labels)
    assert plan.panels[0].label == labels[0] and plan.panels[0].font
    if find_font(labels[1]):  # a CJK font is installed here: the label is drawn
        assert plan.panels[1].label == labels[1]
    else:  # none is: that label is left off, the export still works, and the plan says so
        assert plan.panels[1].label == ""
        assert any("No installed font has every character of '结果 (result)'" in n for n in plan.notes)
    dest = export_plan(plan, tmp_path / "labels.mp4")
    check_standards(dest, 746, 240, audio=True)


def test_errors_name_the_input_and_the_fix(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ComposeError) as err:
        export_comparison(tmp_path / "gone.mp4", clips["out"], tmp_path / "x.mp4")
    assert err.value.input == "reference"
    assert "Reference video: the file does not exist" in str(err.value) and "gone.mp4" in str(err.value)
    assert "Fix:" in str(err.value)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ComposeError) as err:
        export_comparison(clips["ref"], junk, tmp_path / "x.mp4")
    assert err.value.input == "output" and str(err.value).startswith("Result video:") and "Fix:" in str(err.value)
    picture = make_image(tmp_path / "still.png", 320, 240, fmt="PNG")
    with pytest.raises(ComposeError) as err:
        export_comparison(clips["ref"], clips["out"], tmp_path / "x.mp4", skeleton=picture)
    assert err.value.input == "skeleton" and "Fix:" in str(err.value)
    with pytest.raises(ComposeError, match=r"Label font: nofont\.ttf does not exist"):
        plan_comparison(clips["ref"], clips["out"], font=tmp_path / "nofont.ttf")
    assert not (tmp_path / "x.mp4").exists()


def test_an_export_refusal_is_a_message_in_both_languages(clips: dict[str, Path], tmp_path: Path) -> None:
    """What a visitor's export can run into (a run's file gone, a damaged one, a stop) is a message:
    str() is its English, and a Chinese page renders it whole, the file's role included."""
    from kmc_ui.messages import render
    from tests.test_runtime_text import assert_rendered_chinese

    refused = []
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    for reference, output in ((tmp_path / "gone.mp4", clips["out"]), (clips["ref"], junk)):
        with pytest.raises(ComposeError) as err:
            export_comparison(reference, output, tmp_path / "x.mp4")
        refused.append(err.value)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ComposeCancelled) as err:
        export_comparison(clips["ref"], clips["out"], tmp_path / "stopped.mp4", cancel=cancel)
    refused.append(err.value)
    assert all(e.msg is not None and render(e.msg, "en") == str(e) for e in refused)
    zh = [render(e.msg, "zh") for e in refused if e.msg is not None]
    assert zh[0] == (
        "参考视频：文件不存在（可能已被移动或删除）（gone.mp4）。修复：请重新选择文件；从历史记录中删除的运行会一并删除其文件。"
    )
    assert zh[1].startswith("结果视频：") and zh[2] == "对比视频导出已停止。"
    assert assert_rendered_chinese(zh) == 3


def test_cancel_stops_the_export_and_leaves_no_file(clips: dict[str, Path], tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ComposeCancelled):
        export_comparison(clips["ref"], clips["out"], tmp_path / "stopped.mp4", cancel=cancel)
    assert list(tmp_path.iterdir()) == []
