"""The offline engine with a picture that cuts its character off at a side: a portrait's shoulders,
a body cut lengthwise. Its cut side edges stay at or past the frame's sides, as a picture without
feet keeps its bottom edge below the frame's bottom.

Real pictures (tests/figures.py drawn, ../shared/media cropped with PIL), read by mediapipe's
bundled pose model; real clips (PyAV) and the shared dance.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kmc_ui.engine.pipeline as pipeline
from kmc_ui.engine import EngineJob, run_engine
from kmc_ui.engine.deform import PIN_PAST, Renderer, bone_transforms, on_cut_side, side_fade, side_held
from kmc_ui.engine.motion import track_motion
from kmc_ui.engine.pipeline import (
    SIDE_REACH,
    Placement,
    cut_at_bottom,
    cut_at_sides,
    keep_side_edges,
    limbs_at_sides,
    load_picture,
    pinned_sides,
    place,
    to_output,
)
from kmc_ui.engine.rig import named_points
from kmc_ui.engine.segment import Cutout, cut_out
from kmc_ui.pose import landmarks as L
from tests.figures import make_character, make_dance
from tests.media_factory import ffmpeg_exe

SHARED = ("character_anime_fullbody.jpg", "character_anime_upperbody.png", "character_armor_fullbody.png")


def cropped(source: Path, box: tuple[float, float, float, float], path: Path) -> Cutout:
    """`source` cropped to `box` (shares of its width and height), saved at `path`, cut out."""
    im = Image.open(source).convert("RGB")
    x0, y0, x1, y1 = box
    im.crop((round(x0 * im.width), round(y0 * im.height), round(x1 * im.width), round(y1 * im.height))).save(path)
    cut = cut_out(load_picture(path))
    assert cut is not None
    return cut


@pytest.fixture(scope="module")
def dance_3s(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 3 s of the real dance."""
    clip = tmp_path_factory.mktemp("dance") / "dance_3s.mp4"
    source = shared_media / "dance_fullbody_12s.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-t", "3", "-an", str(clip)], check=True)
    return clip


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Cutout, Path]:
    """The drawn character cut lengthwise through its body's left side (the picture's right edge
    at x 200 of 360), and a drawn dance."""
    d = tmp_path_factory.mktemp("sides")
    full = make_character(d / "full.png", 360, 640)
    cut = cropped(full, (0.0, 0.0, 200 / 360, 1.0), d / "right_cut.png")
    dance = make_dance(d / "dance.mp4", 360, 640, seconds=1.5, fps=24, audio=False)
    return d / "right_cut.png", cut, dance


def test_a_picture_is_cut_off_at_a_side_only_where_the_character_runs_into_it(
    shared_media: Path, tmp_path: Path
) -> None:
    """The man cropped to a portrait (his shoulders cut by both sides) is cut off at both; the drawn
    character cut through its body at the right, at the right. The shared photos whole, and the
    people cut at the waist, are cut off at no side: nothing changes for them."""
    man = shared_media / "person_man_fullbody.png"
    portrait = cropped(man, (0.34, 0.0, 0.64, 0.34), tmp_path / "portrait.png")
    assert cut_at_sides(portrait) == (True, True) and cut_at_bottom(portrait)
    for name in (*SHARED, "person_man_fullbody.png", "person_woman_fullbody.png"):
        whole = cut_out(load_picture(shared_media / name))
        assert whole is not None and cut_at_sides(whole) == (False, False), name
    for name in ("person_man_fullbody.png", "person_woman_fullbody.png"):
        waist = cropped(shared_media / name, (0.0, 0.0, 1.0, 0.45), tmp_path / "waist.png")
        assert cut_at_sides(waist) == (False, False), name


def test_a_portrait_fills_the_frames_width_and_a_side_cut_sits_on_the_frames_side(
    shared_media: Path, tmp_path: Path, drawn
) -> None:
    """Placed for the dance, the man's portrait (cut off at both sides) is scaled up to the frame's
    width: at the dancer's size it was a bust 0.4 of the frame wide at its bottom, both its cut
    sides showing. So is the woman's (cut off at a side and the bottom). In a landscape frame the
    man's is placed as before. The drawn figure cut at the right, its feet in the picture, has that
    edge on the frame's right side; its left edge, not a cut, stays inside the frame."""
    dance = shared_media / "dance_fullbody_12s.mp4"
    track = track_motion(dance, max_seconds=3.0)
    motion = pipeline.source_motion(track)
    portrait = cropped(shared_media / "person_man_fullbody.png", (0.34, 0.0, 0.64, 0.34), tmp_path / "p.png")
    p, _ = place("video", "std", portrait, motion, track)
    k = p.k * p.work_scale
    ih, iw = portrait.alpha.shape
    assert p.offset[0] <= 0.0 and p.offset[0] + k * iw >= p.width - 1e-6
    assert k * iw == pytest.approx(p.width)  # no larger than it takes
    assert k * ih + p.offset[1] == pytest.approx(p.height, abs=1.0)  # its bottom edge on the frame's
    with pytest.MonkeyPatch.context() as mp:  # as placed before: by the torso, at the dancer's size
        mp.setattr(pipeline, "cut_at_sides", lambda _cut: (False, False))
        before, _ = place("video", "std", portrait, motion, track)  # (a half figure: made larger, zoom)
    assert before.k * before.work_scale / before.zoom * iw < 0.5 * p.width and p.sides == (True, True)
    # the woman's portrait is cut off at its right side and its bottom (a bust): as wide as the frame
    # too, held from moving either way; only its right edge has her on it, pinned
    bust = cropped(shared_media / "person_woman_fullbody.png", (0.35, 0.0, 0.65, 0.34), tmp_path / "w.png")
    assert cut_at_sides(bust) == (False, True) and cut_at_bottom(bust)
    b, _ = place("video", "std", bust, motion, track)
    assert b.k * b.work_scale * bust.alpha.shape[1] == pytest.approx(b.width) and b.offset[0] == pytest.approx(0.0)
    assert b.sides == (True, True) and pinned_sides(bust, b) == (False, True)
    # a landscape frame's width would put its head far above the frame: placed as before, sides shown
    wide_clip = make_dance(tmp_path / "wide.mp4", 640, 360, seconds=1.0, fps=24, audio=False)
    wide = track_motion(wide_clip)
    landscape, _ = place("video", "std", portrait, pipeline.source_motion(wide), wide)
    assert landscape.width > landscape.height and landscape.sides == (False, False)
    assert landscape.k * landscape.work_scale * ih <= landscape.height
    _, cut, clip = drawn
    small = track_motion(clip)
    p, _ = place("video", "std", cut, pipeline.source_motion(small), small)
    k = p.k * p.work_scale
    assert p.offset[0] + k * cut.alpha.shape[1] >= p.width - 1e-3  # its cut edge at or past the frame's side
    assert p.offset[0] > 0.0 and p.sides == (False, True)  # its left edge, not a cut, inside the frame


def test_a_figure_cut_off_at_a_side_never_moves_away_from_it(drawn) -> None:
    """keep_side_edges holds the root's sideways motion to what keeps a cut edge at or past the
    frame's side: the figure cut at the right never moves left of where that edge meets the
    frame's side, and moves right freely; every joint moves with its hips (with its nose, for a
    head and shoulders' motion)."""
    _, cut, _ = drawn
    rig, _ = pipeline._rig(cut, 1.0)
    width = 720
    offset = np.array([width - 2.0 * rig.width + 10.0, 0.0])  # its right edge 10 px past the frame's
    p = Placement(width, 1280, 2.0, offset, 1.0, (False, True))
    moves = np.array([0.0, -30.0, -5.0, 25.0, -10.0])
    targets = np.repeat(rig.landmarks[None].copy(), len(moves), axis=0)
    targets[:, :, 0] += moves[:, None] / p.k
    out = keep_side_edges(to_output(targets.copy(), p), p, rig)
    root = (out[:, L.L_HIP, 0] + out[:, L.R_HIP, 0]) / 2
    rest = p.k * L.midpoint(rig.landmarks, *L.HIPS)[0] + p.offset[0]
    assert np.allclose(root - rest, [0.0, -10.0, -5.0, 25.0, -10.0], atol=1e-3)
    assert np.allclose(out[:, L.NOSE, 0] - out[:, L.L_HIP, 0], out[0, L.NOSE, 0] - out[0, L.L_HIP, 0], atol=1e-3)
    # not kept out by the placement: the figure moves as its pose does
    free = keep_side_edges(to_output(targets.copy(), p), replace(p, sides=(False, False)), rig)
    assert np.allclose((free[:, L.L_HIP, 0] + free[:, L.R_HIP, 0]) / 2 - rest, moves, atol=1e-3)
    # kept out at the left too (its left edge 30 px past the frame's): at most 30 px right
    wide = replace(p, offset=np.array([-30.0, 0.0]), width=round(2.0 * rig.width - 40.0), sides=(True, True))
    both = keep_side_edges(to_output(targets.copy(), wide), wide, rig)
    rest = wide.k * L.midpoint(rig.landmarks, *L.HIPS)[0] + wide.offset[0]
    assert np.allclose((both[:, L.L_HIP, 0] + both[:, L.R_HIP, 0]) / 2 - rest, [0, -10, -5, 25, -10], atol=1e-3)
    # a head and shoulders' motion is rooted at its nose (motion_root): its nose's motion is held, however
    # its hips (a guess below the frame) swing; measured at the hips, swung 40 px toward the cut side, the
    # first frame's face was pushed 30 px the other way
    swung = targets.copy()
    swung[:, L.L_HIP, 0] -= 40.0 / p.k
    swung[:, L.R_HIP, 0] -= 40.0 / p.k
    nose = keep_side_edges(to_output(swung.copy(), p), p, rig, L.NOSE)[:, L.NOSE, 0]
    assert np.allclose(nose - (p.k * rig.landmarks[L.NOSE, 0] + p.offset[0]), [0, -10, -5, 25, -10], atol=1e-3)
    hips = keep_side_edges(to_output(swung.copy(), p), p, rig)[:, L.NOSE, 0]
    assert hips[0] - (p.k * rig.landmarks[L.NOSE, 0] + p.offset[0]) == pytest.approx(30.0, abs=1e-3)


def test_the_vertices_on_a_cut_side_are_held_past_the_frames_side(drawn) -> None:
    """Rendered moved 0.2 torso away from its cut side, the figure cut at the right has the
    vertices on that edge held past the frame's right side (deform.PIN_PAST) and draws the frame's
    last column. Not cut off there, the same rig leaves that column to the backdrop. An arm with
    vertices on the cut edge is a mesh pinned with the body, not rigid pieces, and the bones by
    that edge are not asked to cover their axis (side_held)."""
    _, cut, _ = drawn
    rig, _ = pipeline._rig(cut, 1.0)
    assert cut_at_sides(cut) == (False, True)
    plate = np.zeros((rig.height, rig.width, 3), np.uint8)
    target = rig.landmarks.copy()
    target[:, 0] -= 0.2 * rig.torso  # the whole figure moved away from its cut side
    drawn_rows = {}
    for sides in ((False, True), (False, False)):
        renderer = Renderer(replace(rig, cut_sides=sides), plate, 1.0)
        body = rig.layer("body")
        assert body is not None
        edge = body.rest[:, 0] >= rig.width - 1.5
        verts = renderer.deform(body, bone_transforms(renderer.rest, named_points(target), 1.0), target)
        if sides[1]:
            assert edge.sum() > 10 and (verts[edge, 0] >= rig.width + PIN_PAST - 1e-3).all()
        else:
            assert (verts[edge, 0] < rig.width - 0.1 * rig.torso).all()
        frame, _ = renderer.render(target)
        drawn_rows[sides] = int((frame[:, -1].max(axis=1) > 0).sum())
    assert drawn_rows[(False, True)] > 0.5 * rig.torso and drawn_rows[(False, False)] == 0, drawn_rows
    at_side = replace(rig, cut_sides=(False, True))
    touching = [layer.name for layer in rig.layers if layer.name != "body" and on_cut_side(layer, at_side)]
    renderer = Renderer(at_side, plate, 1.0)
    assert all(name not in renderer.pieces for name in touching)
    assert any(name in renderer.pieces for name in ("left_arm", "right_arm") if name not in touching)
    assert (L.L_HIP, L.L_KNEE) in side_held(at_side) or (L.R_HIP, L.R_KNEE) in side_held(at_side)
    assert not side_held(replace(rig, cut_sides=(False, False)))


def test_an_arm_a_kept_side_cuts_lengthwise_moves_with_the_body(shared_media: Path, tmp_path: Path) -> None:
    """The man's portrait: each upper arm runs into a side the placement keeps out, so it moves with
    the body's mesh (Renderer.on_body), and where arm and body meet they stay together: moved by its
    own bones, held and turned about its shoulder, an arm came away from the body, and a wedge of
    the backdrop opened between them at the frame's side. With the pose grown 15 % (no edge comes
    inside the frame, so no pin pulls), each arm vertex within 3 px of a body vertex at rest (5 or
    more an arm) moves as that vertex does within 1.5 px (0.61); by the arm's own bones one moved
    over 5 px off (17.4)."""
    portrait = cropped(shared_media / "person_man_fullbody.png", (0.34, 0.0, 0.64, 0.34), tmp_path / "p.png")
    rig, _ = pipeline._rig(portrait, 1.0)
    rig = replace(rig, cut_sides=(True, True))
    plate = np.zeros((rig.height, rig.width, 3), np.uint8)
    renderer = Renderer(rig, plate, 1.0)
    assert set(renderer.on_body) == {"left_arm", "right_arm"}
    target = rig.landmarks.copy()
    nose = target[L.NOSE, :2].copy()  # the pose grown 15 % about the nose: its sides and bottom move out
    target[:, :2] = (target[:, :2] - nose) * np.array([1.15, 1.15]) + nose
    transforms = bone_transforms(renderer.rest, named_points(target), 1.0)
    body = rig.layer("body")
    assert body is not None
    moved_body = renderer.deform(body, transforms, target)
    worst = {}
    for carried in (True, False):
        if not carried:
            renderer.on_body.clear()  # moved by the arm's own bones
        worst[carried] = 0.0
        for name in ("left_arm", "right_arm"):
            arm = rig.layer(name)
            assert arm is not None
            gap = np.linalg.norm(arm.rest[:, None, :] - body.rest[None, :, :], axis=2)
            near = np.flatnonzero(gap.min(axis=1) < 3.0)
            assert len(near) >= 5
            partner = gap[near].argmin(axis=1)
            moved = renderer.deform(arm, transforms, target)
            apart = (moved[near] - arm.rest[near]) - (moved_body[partner] - body.rest[partner])
            worst[carried] = max(worst[carried], float(np.linalg.norm(apart, axis=1).max()))
    assert worst[True] < 1.5 and worst[False] > 5.0, worst


def test_a_portrait_dances_with_its_cut_sides_out_of_sight(shared_media: Path, tmp_path: Path, dance_3s: Path) -> None:
    """The man's portrait with the first 3 s of the real dance: in every frame the frame's first
    and last columns show his jacket (red) over his shoulders' rows, not the studio's light
    backdrop beyond his picture's cut sides, and no limb breaks."""
    picture = tmp_path / "portrait.png"
    cropped(shared_media / "person_man_fullbody.png", (0.34, 0.0, 0.64, 0.34), picture)
    light: dict[tuple[int, int], int] = {}
    rows_seen: list[int] = []

    def look(i: int, frame: np.ndarray, _stats: object) -> None:
        for column in (0, frame.shape[1] - 1):
            side = frame[:, column].astype(np.int16)  # BGR
            red = np.flatnonzero((side[:, 2] > 60) & (side[:, 2] > 2 * side[:, 1]) & (side[:, 2] > 2 * side[:, 0]))
            rows_seen.append(len(red))
            if len(red):  # from where the jacket meets this side down to the frame's bottom
                pale = (side[red[0] :].min(axis=1) > 170).sum()
                light[(i, column)] = int(pale)

    result = run_engine(EngineJob(picture, dance_3s, "video", "std", False), tmp_path / "out.mp4", on_frame=look)
    assert result.frames > 60 and min(rows_seen) > 100  # the jacket on both sides of every frame
    assert max(light.values()) <= 0.02 * 1280, sorted(light.items(), key=lambda kv: -kv[1])[:5]
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0


def test_a_limb_by_a_kept_side_is_held_in_the_pictures_pose(
    shared_media: Path, tmp_path: Path, dance_3s: Path, drawn
) -> None:
    """A limb with a bone by a side edge the placement keeps out (limbs_at_sides) is held in the
    picture's own pose: moving with the dancer, the leg that the woman's picture (her left 60 %,
    cut down her middle) cuts lengthwise was pulled between its pinned edge and its knee into a
    zigzag. With the first 3 s of the dance the mesh's stretch stays at most 0.25 (0.149; 0.469
    with her limbs moving, their edge pinned) and no limb breaks. The drawn figure cut at the
    right holds its limbs by that side, none when no side is kept."""
    _, cut, _ = drawn
    rig, _ = pipeline._rig(cut, 1.0)
    arms, legs = limbs_at_sides(replace(rig, cut_sides=(False, True)))
    assert legs and set(arms) | set(legs) != {0, 1, 2, 3}
    assert limbs_at_sides(replace(rig, cut_sides=(False, False))) == ((), ())
    picture = tmp_path / "half.png"
    half = cropped(shared_media / "person_woman_fullbody.png", (0.0, 0.0, 0.6, 1.0), picture)
    assert cut_at_sides(half) == (False, True)
    result = run_engine(EngineJob(picture, dance_3s, "video", "std", False), tmp_path / "out.mp4")
    artefacts = result.summary()["artefacts"]
    assert artefacts["stretch"]["max"] <= 0.25 and artefacts["breaks"]["max"] == 0.0, artefacts


def test_a_talking_heads_face_stays_where_the_videos_face_is(shared_media: Path, tmp_path: Path) -> None:
    """The woman's head and shoulders, cut at her right shoulder by the picture's left side, with
    the first 3 s of the talking head in a landscape frame (padded to 1280 x 720). Keeping that cut
    out of the frame would move her a fifth of the frame's width from the video's face: it is not
    kept (the run says so; with the video's face further left, within SIDE_REACH, it is), and her
    nose is where the video's is in every frame, within 3 px. The motion was retargeted from the
    hips the pose model guesses below the frame, and a bust cut at the bottom held down where it
    started: her face 258 px to the side at the first frame and up to 113 px lower than the
    video's after."""
    clip = tmp_path / "wide.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(shared_media / "talking_head_12s.mp4"), "-t", "3", "-an",
         "-vf", "scale=720:720,pad=1280:720:280:0:color=gray", "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    picture = tmp_path / "bust.png"
    bust = cropped(shared_media / "person_woman_fullbody.png", (0.45, 0.0, 0.9, 0.35), picture)
    assert cut_at_sides(bust) == (True, False)
    track = track_motion(clip, stride=pipeline.motion_stride(clip))
    n, motion, _ = pipeline.drawn_motion(track, bust)
    p, _ = place("video", "std", bust, motion, track)
    assert p.width == 1280 and p.sides == (False, False)
    assert p.offset[0] > SIDE_REACH * p.width  # where her cut side would have had to move from
    sv = p.height / track.height
    nearer = motion.copy()  # the video's face further left: her cut side half SIDE_REACH inside the frame
    nearer[:, :, 0] -= (p.offset[0] - 0.5 * SIDE_REACH * p.width) / sv
    q, _ = place("video", "std", bust, nearer, track)
    assert q.sides == (True, False) and q.offset[0] == pytest.approx(0.0)  # moved to the frame's side: kept
    result = run_engine(EngineJob(picture, clip, "video", "std", False), tmp_path / "out.mp4")
    assert any("cuts the character off at its side" in str(note) for note in result.notes), result.notes
    off = np.linalg.norm(result.targets[:, L.NOSE, :2] - motion[:, L.NOSE, :2] * sv, axis=1)
    assert len(off) == n and off.max() <= 3.0, (off.max(), int(off.argmax()))
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0


def sharpest_column(frame: np.ndarray, start: int = 0) -> float:
    """The largest mean step between neighbouring pixels (grey levels) down one column of the
    frame's lower half, from column `start` on: a straight edge running down it gives one column far
    above the rest."""
    grey = frame[frame.shape[0] // 2 :, start:].astype(np.float32).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean(axis=0).max())


def test_side_fade_goes_from_nothing_at_the_cut_to_all_of_it_inside() -> None:
    assert side_fade(200, (0.0, 0.0)) is None
    fade = side_fade(200, (0.0, 30.0))
    assert fade is not None and fade.shape == (200,)
    assert fade[:170].min() == pytest.approx(1.0) and fade[-1] < 0.01
    assert np.all(np.diff(fade[170:]) < 0)  # fading all the way to the edge
    both = side_fade(200, (20.0, 30.0))
    assert both is not None and both[0] < 0.01 and both[-1] < 0.01
    assert both[20:170].min() == pytest.approx(1.0) and both[:20].max() < 1.0


def test_a_cut_side_that_shows_fades_out(shared_media: Path, tmp_path: Path) -> None:
    """The woman's portrait (her head and shoulders, her left shoulder cut off) with the talking head's
    first 3 s. Keeping her right side's cut out of the square frame would move her face further
    than SIDE_REACH from the video's, so that cut shows beside her face. Drawn as it was cut, it ran
    down her hair and her shoulder as a straight edge: one column of the frame's lower half had a
    mean step of 51-83 grey levels to the next in every frame. Faded out over SIDE_FADE of her head
    and shoulders' size, the sharpest column has 6-7."""
    clip = tmp_path / "talking.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(shared_media / "talking_head_12s.mp4"), "-t", "3", "-an",
         "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    picture = tmp_path / "portrait.png"
    portrait = cropped(shared_media / "person_woman_fullbody.png", (0.35, 0.0, 0.65, 0.34), picture)
    assert cut_at_sides(portrait)[1]  # her left shoulder
    steps: list[float] = []
    result = run_engine(
        EngineJob(picture, clip, "video", "std", False),
        tmp_path / "out.mp4",
        on_frame=lambda _i, frame, _stats: steps.append(sharpest_column(frame)),
    )
    assert any("cuts the character off at its side" in str(note) for note in result.notes), result.notes
    assert len(steps) == result.frames
    assert max(steps) < 15.0, (max(steps), int(np.argmax(steps)))
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0


def test_a_bust_dancing_in_a_landscape_frame_fills_its_height_where_the_dancer_is(
    shared_media: Path, tmp_path: Path, dance_3s: Path
) -> None:
    """The woman's portrait (cut off at her left shoulder and the bottom) and the man's (at both
    shoulders and the bottom) with the dance padded to 1280 x 720. At the dancer's size, their bottom
    edge on the frame's, they were busts 0.38 of the frame's height at its bottom, the frame empty
    above them, and the woman's went to the frame's right corner to keep her cut side out, 0.48 of
    its width from the dancer. Now each fills the frame's height with its face above the dancer's
    (as far as its head in the frame allows), its cut sides shown, faded out: right of the woman's
    face, the sharpest column of the frame's lower half has a mean step of 2-7 grey levels (15-53
    drawn as cut)."""
    clip = tmp_path / "wide.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(dance_3s), "-an",
         "-vf", "scale=-2:720,pad=1280:720:(ow-iw)/2:0:color=white", "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    track = track_motion(clip, stride=pipeline.motion_stride(clip))
    woman = tmp_path / "woman.png"
    beside = 0  # the first column right of the woman's face
    for source, box, picture in (
        ("person_woman_fullbody.png", (0.35, 0.0, 0.65, 0.34), woman),
        ("person_man_fullbody.png", (0.34, 0.0, 0.64, 0.34), tmp_path / "man.png"),
    ):
        bust = cropped(shared_media / source, box, picture)
        assert cut_at_bottom(bust) and cut_at_sides(bust)[1]
        _, motion, _ = pipeline.drawn_motion(track, bust)
        p, _ = place("video", "std", bust, motion, track)
        k = p.k * p.work_scale
        assert p.width == 1280 and k * bust.alpha.shape[0] == pytest.approx(p.height, abs=1.0)
        assert p.offset[1] == pytest.approx(0.0, abs=1.0)  # its top on the frame's, its bottom edge on the frame's
        nose = p.offset + k * bust.landmarks[L.NOSE, :2]
        dancer = motion[0][L.NOSE, :2] * p.height / track.height
        assert abs(nose[0] - dancer[0]) <= 0.01 * p.width and p.sides == (False, False), (nose, dancer, p.sides)
        if picture == woman:
            beside = round(nose[0]) + 20  # right of her face: her cut side, not her hair's own edge
    steps: list[float] = []
    result = run_engine(
        EngineJob(woman, clip, "video", "std", False),
        tmp_path / "out.mp4",
        on_frame=lambda _i, frame, _stats: steps.append(sharpest_column(frame, beside)),
    )
    assert any("cuts the character off at its side" in str(note) for note in result.notes), result.notes
    assert len(steps) == result.frames and max(steps) < 10.0, (max(steps), int(np.argmax(steps)))
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0
