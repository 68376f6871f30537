"""The bind pose calibration (kmc_ui/engine/bind.py), the fused pose readings (motion.fuse_readings)
and the rig/render details that make the puppet read as its pose (hands, feathered cuts, shadow).

Geometry is tested on synthetic skeletons whose true joints are known; the calibration end to end
runs the real pose model on a drawn figure (tests/figures.py) whose elbow is known from the drawing.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kmc_ui.assets_draw import CHARACTER, STANDING, V
from kmc_ui.engine.bind import (
    CARRIER,
    MAX_STEP,
    SETTLED,
    along_limb,
    bind_steps,
    carry_back,
    moved,
    within_reach,
)
from kmc_ui.engine.deform import _shade, bone_transforms
from kmc_ui.engine.motion import MIRROR, fuse_readings
from kmc_ui.engine.rig import FINGER_REACH, feathered, hair_beside_hand, hand_shape, named_points
from kmc_ui.pose import landmarks as L
from tests.figures import make_character, make_dance, standing_skeleton


def posed(
    rest: np.ndarray, arm: float, leg: float, k: float = 1.5, shift: tuple[float, float] = (40, -20)
) -> np.ndarray:
    """The skeleton with its arms raised by `arm` and legs opened by `leg` (radians), scaled by k
    and moved: a target pose like the retargeted motion."""
    out = rest.copy()

    def turn(joint: int, children: tuple[int, ...], angle: float) -> None:
        c, s = math.cos(angle), math.sin(angle)
        rot = np.array([[c, -s], [s, c]])
        for ch in children:
            out[ch, :2] = out[joint, :2] + rot @ (out[ch, :2] - out[joint, :2])

    turn(11, (13, 15, 17, 19, 21), -arm)
    turn(12, (14, 16, 18, 20, 22), arm)
    turn(13, (15, 17, 19, 21), -0.5 * arm)
    turn(23, (25, 27, 29, 31), -leg)
    turn(24, (26, 28, 30, 32), leg)
    out[:, :2] = out[:, :2] * k + np.array(shift)
    return out


def forward(rest: np.ndarray, target: np.ndarray, k: float, points: dict[int, np.ndarray]) -> np.ndarray:
    """Where the renderer puts rest-picture points, each carried by its joint's bone: what a
    perfect detector sees."""
    seen = target.copy()
    mats = bone_transforms(named_points(rest), named_points(target), k)
    for j, p in points.items():
        m = mats[CARRIER[j]]
        seen[j, :2] = m[:, :2] @ p + m[:, 2]
    return seen


# ---------------------------------------------------------------- geometry


def test_carry_back_inverts_the_renderers_bone_transforms() -> None:
    rest = standing_skeleton()
    target = posed(rest, 0.9, 0.3)
    back = carry_back(rest, target, 1.5, target)
    for j in CARRIER:  # the drawn joints carried back are the bind joints
        assert back[j] == pytest.approx(rest[j, :2], abs=1e-3), L.NAMES[j]
    # a point next to the elbow in the picture comes back where it was, whatever the pose
    near = rest[13, :2] + np.array([6.0, -4.0])
    for arm in (0.0, 0.7, 1.6, 2.4):
        t = posed(rest, arm, 0.2)
        seen = forward(rest, t, 1.5, {13: near})
        assert carry_back(rest, t, 1.5, seen)[13] == pytest.approx(near, abs=1e-3)


def test_an_off_elbow_moves_to_where_the_detector_sees_it() -> None:
    """The bind elbow is 0.06 torso off the figure's true elbow (along the upper arm, as a puffy
    sleeve's cuff misleads the detector); a detector that sees the true elbow on every rendering
    pulls the bind elbow onto it. Misread frames (the whole figure collapsed) are ignored."""
    true = standing_skeleton()
    torso = L.torso_length(true)
    upper = (true[13, :2] - true[11, :2]) / np.linalg.norm(true[13, :2] - true[11, :2])
    bind = true.copy()
    bind[13, :2] += 0.06 * torso * upper
    k = 1.5
    targets, seen = [], []
    for arm in np.linspace(0.0, 2.2, 9):
        t = posed(bind, arm, 0.25 * math.sin(3 * arm))
        targets.append(t)
        seen.append(forward(bind, t, k, {13: true[13, :2]}))
    collapsed = targets[0].copy()
    collapsed[:, 0] = collapsed[:, 0].mean()  # read as seen from the side: every joint on one line
    targets += [targets[1], targets[2]]
    seen += [collapsed, None]
    calibrate = np.ones(33, bool)
    steps, used = bind_steps(bind, np.stack(targets), seen, k, calibrate, (2000, 2000))
    assert used == 9  # the collapsed frame and the frame with no pose are left out
    assert steps[13] == pytest.approx(true[13, :2] - bind[13, :2], abs=0.05)
    for j in (11, 12, 15, 16, 23, 24, 25, 26, 27, 28):  # the joints it saw where they are: no step
        assert np.linalg.norm(steps[j]) < 1e-3, L.NAMES[j]
    fixed = moved(bind, steps)
    assert np.linalg.norm(fixed[13, :2] - true[13, :2]) < 0.05
    # unseen joints are never moved, and no step exceeds MAX_STEP torso
    calibrate[13] = False
    assert 13 not in bind_steps(bind, np.stack(targets), seen, k, calibrate, (2000, 2000))[0]
    far = [forward(bind, t, k, {13: true[13, :2] + 5 * torso * upper}) for t in targets[:9]]
    big, _ = bind_steps(bind, np.stack(targets[:9]), far, k, np.ones(33, bool), (2000, 2000))
    assert np.linalg.norm(big[13]) == pytest.approx(MAX_STEP * torso, rel=1e-3)


def test_limb_joints_move_along_their_bone_and_no_joint_moves_far() -> None:
    lm = standing_skeleton()
    upper = lm[13, :2] - lm[11, :2]
    across = np.array([-upper[1], upper[0]])
    step = along_limb(13, 0.1 * upper + 0.2 * across, lm)
    assert step == pytest.approx(0.1 * upper, abs=1e-4)  # the part across the arm is dropped
    assert along_limb(11, np.array([3.0, 4.0]), lm) == pytest.approx([3.0, 4.0])  # shoulders: both ways
    start = lm.copy()
    now = lm.copy()
    now[13, :2] += (6.0, 0.0)  # already moved 6 px in an earlier round
    got = within_reach({13: np.array([6.0, 0.0]), 15: np.array([0.0, 2.0])}, now, start, 10.0)
    assert got[13] == pytest.approx([4.0, 0.0])  # stops 10 px from where calibration started
    assert got[15] == pytest.approx([0.0, 2.0])


def test_followers_move_with_their_joint() -> None:
    lm = standing_skeleton()
    out = moved(lm, {L.L_WRIST: np.array([3.0, -2.0]), L.NOSE: np.array([0.0, 5.0])})
    for i in (15, 17, 19, 21):
        assert out[i, :2] - lm[i, :2] == pytest.approx([3.0, -2.0])
    for i in range(11):
        assert out[i, :2] - lm[i, :2] == pytest.approx([0.0, 5.0])
    assert (out[16] == lm[16]).all()


# ---------------------------------------------------------------- fused readings


def test_fused_readings_outvote_one_misreading_and_relabel_mirrored_ones() -> None:
    truth = np.stack([posed(standing_skeleton(), a, 0.2, k=1.0, shift=(0, 0)) for a in np.linspace(0, 1.5, 6)])
    noise = np.random.default_rng(1).normal(0, 1.0, truth.shape).astype(np.float32)
    noise[..., 2:] = 0
    tracked = truth + noise
    tracked[2, :, :2] = tracked[2, :, :2].mean(axis=0)  # latched onto a misreading: all joints in one spot
    alone = truth - noise
    mirrored = truth[:, MIRROR].copy()  # the same pose labelled the other way round (left <-> right)
    mirrored[4] = np.nan  # nobody found in one frame
    fused = fuse_readings([tracked, alone, mirrored])
    joints = list(L.BODY_JOINTS)
    err = np.linalg.norm(fused[:, joints, :2] - truth[:, joints, :2], axis=2)
    assert err.max() < 2.5  # the misread frame is outvoted; relabelled readings agree
    assert np.isfinite(fused).all()
    only = fuse_readings([np.full_like(truth, np.nan), alone, np.full_like(truth, np.nan)])
    assert only[:, :, :2] == pytest.approx(alone[:, :, :2])  # one reading: kept as it is
    assert np.isnan(fuse_readings([np.full_like(truth, np.nan)] * 3)).all()


# ---------------------------------------------------------------- rig and render details


def test_the_hand_capsule_reaches_the_fingertips() -> None:
    lm = standing_skeleton()
    pts = named_points(lm)
    wrist, tips, radius = hand_shape(pts, "l", 50.0)
    knuckles = (pts["17"] + pts["19"]) / 2
    assert wrist == pytest.approx(pts["15"])
    assert tips == pytest.approx(pts["15"] + FINGER_REACH * (knuckles - pts["15"]))
    assert radius > 0.3 * np.linalg.norm(knuckles - wrist)


def test_hair_beside_a_raised_hand_stays_with_the_head() -> None:
    lm = standing_skeleton()
    lm[15, :2] = lm[0, :2] + V(45, 0)  # the left hand raised beside the face
    for i, d in ((17, (4, -12)), (19, (0, -14)), (21, (-4, -10))):
        lm[i, :2] = lm[15, :2] + V(*d)
    lm[13, :2] = lm[11, :2] + V(50, -10)
    pts = named_points(lm)
    hair = hair_beside_hand((800, 800), pts, "l", L.torso_length(lm), np.zeros(2))
    wrist, tips, _ = hand_shape(pts, "l", float(np.linalg.norm(pts["15"] - pts["13"])))
    mid = np.round((wrist + tips) / 2).astype(int)
    assert not hair[mid[1], mid[0]]  # the hand's core is left to the colour split
    side = np.round(pts["head_c"] + V(-30, 0)).astype(int)
    assert hair[side[1], side[0]]  # the other side of the head is hair
    assert not hair[700, 700]  # far from the head: nothing


def test_an_arm_cut_is_feathered_outward_only() -> None:
    region = np.zeros((60, 60), bool)
    region[20:40, 20:40] = True
    soft = feathered(region, 2.0)
    assert (soft[region] == 1.0).all()  # the arm itself stays opaque
    assert 0.2 < soft[30, 41] < 1.0 and soft[30, 43] < soft[30, 41]  # fading outside the cut
    assert soft[30, 55] == 0.0 and soft[5, 5] == 0.0


def test_an_arms_shadow_darkens_only_around_the_arm() -> None:
    frame = np.full((80, 80, 3), 200, np.uint8)
    alpha = np.zeros((80, 80), np.uint8)
    alpha[30:50, 30:50] = 255
    _shade(frame, alpha, 3.0, 0.45)
    assert frame[40, 52, 0] < 185  # just outside the arm: in its shadow
    assert frame[40, 40, 0] >= 200 * 0.55 - 1  # never darker than the strength allows
    assert frame[5, 5, 0] == 200  # far away: untouched


# ---------------------------------------------------------------- with the pose model


def drawn_left_elbow(width: int, height: int) -> np.ndarray:
    """The left elbow of tests/figures.make_character's drawing (kmc_ui/assets_draw.draw_figure)."""
    s = height / 10.0 * CHARACTER.size
    neck = np.array([width / 2, height * 0.52 - 2.6 * s])
    shoulder = neck + np.array([0.9 * s * CHARACTER.shoulders, 0.15 * s])
    angle = STANDING["lsh"]
    return shoulder + 1.25 * s * CHARACTER.arm_length * np.array([math.sin(angle), math.cos(angle)])


@pytest.mark.slow
def test_calibration_pulls_an_off_elbow_back_to_the_drawn_one(tmp_path: Path) -> None:
    from kmc_ui.engine.inpaint import background_plate
    from kmc_ui.engine.motion import track_motion
    from kmc_ui.engine.pipeline import _rig, calibrate, load_picture, place, plate_for, source_motion
    from kmc_ui.engine.segment import cut_out

    w, h = 360, 640
    picture = make_character(tmp_path / "character.png", w, h)
    dance = make_dance(tmp_path / "dance.mp4", w, h, seconds=1.5, fps=16, audio=False)
    cut = cut_out(load_picture(picture))
    assert cut is not None
    true = drawn_left_elbow(w, h)
    torso = L.torso_length(cut.landmarks)
    assert np.linalg.norm(cut.landmarks[13, :2] - true) < 0.1 * torso  # the model finds the drawn elbow
    upper = (true - cut.landmarks[11, :2]) / np.linalg.norm(true - cut.landmarks[11, :2])
    off = cut.landmarks.copy()
    off[13, :2] = true + 0.1 * torso * upper  # a bind elbow a tenth of the torso down the forearm
    off_cut = replace(cut, landmarks=off)
    track = track_motion(dance)
    motion = source_motion(track)
    placement, _ = place("video", "std", off_cut, motion, track)
    rig, work = _rig(off_cut, placement.work_scale)
    plate_work = background_plate(np.ascontiguousarray(work[0][..., ::-1]), work[1], work[2])
    plate = plate_for("video", plate_work, placement)
    calibrated, lm, report = calibrate(off_cut, placement, rig, motion, plate)
    old_textures = [id(layer.texture) for layer in rig.layers]
    assert all(id(layer.texture) not in old_textures for layer in calibrated.layers)  # the layers cut again
    assert calibrated.arms is rig.arms  # around the arms as the rig told them from the body
    before = float(np.linalg.norm(off[13, :2] - true))
    after = float(np.linalg.norm(lm[13, :2] - true))
    assert report.rounds and min(report.frames_used) >= 10
    assert max(report.rounds[0].values()) >= SETTLED and len(report.rounds) == 2  # not settled: round 2 ran
    # measured: 0.10 -> 0.06 torso. Not all the way: a puppet bent at the off pivot looks bent
    # there, so the detector partly follows the pivot it is shown
    assert after < 0.75 * before, (before, after)
    step = lm[13, :2] - off[13, :2]
    assert float(step @ (true - off[13, :2])) > 0.9 * np.linalg.norm(step) * before  # straight toward it
    for j in (11, 12, 23, 24):  # joints the model found right stay within 0.05 torso
        assert np.linalg.norm(lm[j, :2] - cut.landmarks[j, :2]) < 0.05 * torso, j


@pytest.mark.slow
def test_calibration_stops_when_a_round_moves_no_joint_far(shared_media: Path) -> None:
    """On a real photo the model finds the joints where the puppet's drawings are read: the first
    round moves none by SETTLED (measured on the woman: 0.049 torso at most, her right wrist), and
    the second round (12 more drawings, each read twice) is not run, nor the second cut of the
    layers."""
    from kmc_ui.engine.inpaint import background_plate
    from kmc_ui.engine.motion import track_motion
    from kmc_ui.engine.pipeline import _rig, calibrate, load_picture, place, plate_for, source_motion
    from kmc_ui.engine.segment import cut_out

    cut = cut_out(load_picture(shared_media / "person_woman_fullbody.png"))
    assert cut is not None
    track = track_motion(shared_media / "dance_fullbody_12s.mp4", max_seconds=4.0, stride=2)
    motion = source_motion(track)
    placement, _ = place("video", "std", cut, motion, track)
    rig, work = _rig(cut, placement.work_scale)
    plate = plate_for("video", background_plate(np.ascontiguousarray(work[0][..., ::-1]), work[1], work[2]), placement)
    calibrated, _, report = calibrate(cut, placement, rig, motion, plate)
    assert len(report.rounds) == 1 and min(report.frames_used) >= 10
    assert 0.0 < max(report.rounds[0].values()) < SETTLED
    # joints that moved that little keep the layers cut around them: rebound, not cut again
    assert [layer.texture is old.texture for layer, old in zip(calibrated.layers, rig.layers, strict=True)] == [
        True
    ] * len(rig.layers)
    assert not np.array_equal(calibrated.landmarks, rig.landmarks)


def test_a_rig_does_not_depend_on_what_ran_before(tmp_path: Path) -> None:
    """grabCut seeds its colour models from OpenCV's global random generator; the engine seeds it,
    so the same picture always gives the same cut and the same arm layers."""
    import cv2

    from kmc_ui.engine.pipeline import load_picture
    from kmc_ui.engine.rig import build_rig
    from kmc_ui.engine.segment import cut_out

    rgb = load_picture(make_character(tmp_path / "c.png", 360, 640))
    got = []
    for seed in (1, 99):
        cv2.setRNGSeed(seed)  # someone else's random draws before ours
        cv2.randu(np.zeros((64, 64), np.float32), 0, 1)
        cut = cut_out(rgb)
        assert cut is not None
        rig = build_rig(rgb, cut.alpha, cut.landmarks, cut.seen, 4.0)
        got.append((cut.alpha, [layer.texture[..., 3] for layer in rig.layers]))
    assert np.array_equal(got[0][0], got[1][0])
    assert all(np.array_equal(a, b) for a, b in zip(got[0][1], got[1][1], strict=True))
