"""The suggested trim window (kmc_ui/checks/trim.py): it ends before the first hard cut and starts
where the motion's pose best matches the character picture's. Real drawn media, encoded with
ffmpeg, analysed by the real body checks (mediapipe); the studio's body check carries it."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kmc_ui.assets_draw import CHARACTER, DANCER, Look, dance_pose, draw_figure, encode_frames, save_picture
from kmc_ui.checks.trim import suggest_trim, trim_for
from kmc_ui.messages import render
from kmc_ui.pose.detect import analyse_image, analyse_video
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from kmc_ui.ui.runtime_text import say_all
from tests.test_runtime_text import assert_rendered_chinese, english_left

W, H, FPS = 360, 640, 12
RAISED = {"lsh": 2.3, "rsh": 2.3, "lel": 0.2, "rel": 0.2}  # both arms up above the head: the picture
DOWN = {"lsh": 0.15, "rsh": 0.15, "lel": 0.05, "rel": 0.05}
OTHER_SHOT = Look(background=(40, 60, 40), floor=(20, 30, 20), shirt=(30, 60, 200), size=0.8)


def _blend(a: dict[str, float], b: dict[str, float], w: float) -> dict[str, float]:
    return {k: (1 - w) * a.get(k, 0.0) + w * b.get(k, 0.0) for k in set(a) | set(b)}


def raise_at_4s(t: float) -> dict[str, float]:
    """Arms hanging, swinging a little, raised above the head only around 4 s."""
    bump = math.exp(-(((t - 4.0) / 0.45) ** 2))
    sway = {"lsh": 0.15 + 0.1 * math.sin(2 * math.pi * t), "rsh": 0.15 + 0.1 * math.cos(2 * math.pi * t)}
    return _blend(DOWN | sway, RAISED, bump)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("trim")
    picture = save_picture(d / "raised.png", draw_figure(W, H, RAISED, CHARACTER))
    seconds = 9.0

    def with_cut():
        for i in range(round(seconds * FPS)):
            t = i / FPS
            if t < 6.0:
                yield draw_figure(W, H, dance_pose(t), DANCER)
            else:  # a hard cut at 6 s: another place, another framing
                yield draw_figure(W, H, dance_pose(t) | {"dx": -1.0}, OTHER_SHOT)

    cut = encode_frames(d / "cut6.mp4", with_cut(), W, H, FPS, seconds, preset="ultrafast", faststart=False)
    frames = (draw_figure(W, H, raise_at_4s(i / FPS), DANCER) for i in range(round(8.0 * FPS)))
    match = encode_frames(d / "match4.mp4", frames, W, H, FPS, 8.0, preset="ultrafast", faststart=False)
    return {"picture": picture, "cut": cut, "match": match, "dir": d}


def test_a_hard_cut_at_6s_gives_a_window_ending_before_it(media: dict[str, Path]) -> None:
    image = analyse_image(media["picture"], cache_dir=media["dir"])
    video = analyse_video(media["cut"], cache_dir=media["dir"], max_seconds=30.0)
    trim = suggest_trim(image, video, "video")
    assert trim is not None
    assert trim.cut is not None and abs(trim.cut - 6.0) < 0.2, trim
    assert trim.end < 6.0 and trim.end - trim.start >= 3.0, trim
    assert trim.needed  # a cut: trimming matters
    assert "It ends before the cut at 6.0 s." in trim.reason
    assert " ".join(render(m, "en") for m in trim.reason_msgs) == trim.reason
    zh = say_all(trim.reason_msgs, trim.reason, "zh")
    assert "它在 6.0 秒的剪辑切换之前结束。" in zh and assert_rendered_chinese([zh]) == 1


def test_the_window_starts_where_the_pose_matches_the_picture(media: dict[str, Path]) -> None:
    trim = trim_for(str(media["picture"]), str(media["match"]), "video", cache_dir=str(media["dir"]))
    assert trim is not None
    assert abs(trim.start - 4.0) <= 0.5, trim
    assert trim.end == pytest.approx(8.0, abs=0.1) and trim.cut is None
    assert trim.match is not None and trim.match < 0.3
    assert not trim.needed  # 8 s, no cut: the whole clip is sent as it is
    assert "closest to the picture's" in trim.reason
    assert assert_rendered_chinese([say_all(trim.reason_msgs, trim.reason, "zh")]) == 1
    # without a picture there is nothing to match: the window starts with the shot
    alone = trim_for(None, str(media["match"]), "video", cache_dir=str(media["dir"]))
    assert alone is not None and alone.start == 0.0 and alone.match is None


def test_the_studio_body_check_carries_the_suggestion(media: dict[str, Path], tmp_path: Path) -> None:
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    report = studio.body_check(Inputs(image=str(media["picture"]), video=str(media["cut"])), previews=False)
    assert report.trim is not None and report.trim.end < 6.0
    assert any(f.code == "pose_video_cut" for f in report.findings)
    assert np.isfinite(report.trim.start)


def test_prepare_ends_the_clip_before_the_cut(media: dict[str, Path], tmp_path: Path) -> None:
    """A 9 s clip with a cut at 6 s fits orientation `video` (30 s), yet what is sent ends before the
    cut: the window the body check suggests, applied by preparing and said in words."""
    from kmc_ui.media.probe import probe_video
    from kmc_ui.verdict import judge

    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    inputs = Inputs(image=str(media["picture"]), video=str(media["cut"]), orientation="video")
    body = studio.body_check(inputs, previews=False)
    verdict = judge(inputs, studio.check(inputs), body)
    assert verdict.trim.shown and not verdict.trim.over and verdict.trim.cut == pytest.approx(6.0, abs=0.2)
    assert verdict.changes  # "What will be sent" is shown
    start = verdict.trim.start or 0.0
    sent = studio.prepare(replace(inputs, trim_start=start))
    assert sent.video_path and sent.video_path != str(media["cut"])
    got = probe_video(sent.video_path)
    assert start + got.duration <= 6.0, (start, got.duration)
    assert got.duration >= 3.0 - 0.05
    assert any("ended before the cut" in a for a in sent.video_actions), sent.video_actions
    # the page renders the actions from their messages: the same English, Chinese from the catalogue
    assert [render(m, "en") for m in sent.video_action_msgs] == sent.video_actions
    zh = [render(m, "zh") for m in sent.video_action_msgs]
    assert "在视频的剪辑切换之前结束（第二个镜头会干扰动作迁移）" in zh
    assert not [t for t in zh if english_left(t)], zh


def test_a_start_after_the_cut_sends_the_rest_of_the_clip(media: dict[str, Path], tmp_path: Path) -> None:
    from kmc_ui.media.probe import probe_video
    from kmc_ui.verdict import judge

    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    whole = Inputs(image=str(media["picture"]), video=str(media["cut"]), orientation="video")
    assert studio.trim_end(whole, 9.0)[1]  # from the start: before the cut
    inputs = replace(whole, trim_start=6.0)
    assert studio.trim_end(inputs, 9.0) == (9.0, False)  # past the cut: the rest of the clip
    verdict = judge(inputs, studio.check(inputs), studio.body_check(inputs, previews=False))
    assert verdict.trim.shown  # the slider stays under the visitor's hand
    sent = studio.prepare(inputs)
    got = probe_video(sent.video_path)
    assert got.duration == pytest.approx(3.0, abs=0.15), got.duration
    assert not any("ended before the cut" in a for a in sent.video_actions), sent.video_actions
