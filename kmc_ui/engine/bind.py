"""The bind pose: where the puppet's joints sit in the character's picture, calibrated by looking.

The rig bends the picture around the joints the pose model found on the still. On a stylised
character those are uncertain (a puffy sleeve hides the elbow, a skirt the hips), and the same
model, looking at the moved puppet, reads the joints a little elsewhere: on the sample anime
character the elbows 0.04-0.07 of the torso further in along the upper arm, the nose 0.07 off
(bench/bench_engine.py). The puppet then bends around points that nobody sees as its elbows.

Calibration by analysis and synthesis: render the puppet in a few of the motion's poses, detect
the pose on each rendering (mediapipe's landmarker, IMAGE mode, the frames scaled as the motion
pass scales them; each read as it is and mirrored, as the agreement report reads frames), carry
every detected joint back into the picture through the exact inverse of the transform the
renderer applied to that joint's bone, and move each joint of the bind pose to the median of what
was seen (joints the picture shows only; limb joints along their bone; at most MAX_STEP torso per
round and MAX_TOTAL from the still's detection). This is test-time augmentation of the still
with known geometric transforms (the puppet's own bone warps instead of flips and crops);
renderings the detector misread as a whole are left out. The targets are then retargeted to the
calibrated skeleton, so the drawn pose, the rig and the measurement all use it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import cv2
import numpy as np

from kmc_ui.engine.deform import GRID, Renderer, bone_transforms
from kmc_ui.engine.face import usual_yaw
from kmc_ui.engine.motion import MIRROR, read_pose
from kmc_ui.engine.rig import Rig, named_points, rebind
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.retarget import ROOT, hands_by_head, retarget

# poses sampled evenly over the motion per round; each is rendered at 640 px (~8 ms) and read
# twice (~20 ms each): ~1.2 s a round on the shared machine
CALIBRATION_FRAMES = 12
# measured on the sample pair: round 1 moves joints by up to 0.1 torso, rounds 2 and 3 by
# 0.02-0.04 (the medians of 48 readings settle)
CALIBRATION_ROUNDS = 2
# a round that moves no joint further than this (torso lengths; half the detector's tolerance)
# ends the calibration: on the real photos round 1 moves joints by 0.04 at most and round 2 by
# 0.016, the medians' noise; a stylised character's round 1 moves them by 0.1 and round 2 runs
SETTLED = 0.05
MAX_STEP = 0.1  # torso lengths a joint may move per round (the detector's tolerance is 0.1)
# torso lengths a joint may end from the still picture's detection. The legs' pivots (and the
# hips) moved further than ~0.06 made crossing legs fold the body mesh over their own core
# (measured on the sample pair: 22-48 of 240-288 frames torn with 0.08 or no bound, 0-1 with
# 0.06); the face and the arms, in their own layers or at the body's top, can follow the
# detector further (the sample's nose wants 0.07-0.13)
MAX_TOTAL = 0.06
MAX_TOTAL_FREE = 0.12
FREE_JOINTS = (L.NOSE, L.L_ELBOW, L.R_ELBOW, L.L_WRIST, L.R_WRIST)
MIN_FRAMES = 5  # fewer usable detections than this: the joint keeps its place
# a rendering whose detection has fewer than this share of the body joints within FRAME_NEAR
# torso of the drawn pose was misread as a whole (seen from the side, limbs collapsed): left out
FRAME_AGREEMENT = 0.5
FRAME_NEAR = 0.2
MIRRORED = True  # each rendering is also read mirrored (as the agreement report reads frames)
LOOKS = (False, True) if MIRRORED else (False,)
_LOOKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kmc-engine-look")  # graphs built once
DETECT_MAX_SIDE = 640  # as kmc_ui/engine/motion.POSE_MAX_SIDE: the detector sees what the report sees

# joint -> the bone whose transform carries it (the renderer's names in rig.BONES)
CARRIER: dict[int, str] = {
    L.NOSE: "head",
    L.L_SHOULDER: "torso",
    L.R_SHOULDER: "torso",
    L.L_HIP: "torso",
    L.R_HIP: "torso",
    L.L_ELBOW: "l_upper",
    L.R_ELBOW: "r_upper",
    L.L_WRIST: "l_fore",
    L.R_WRIST: "r_fore",
    L.L_KNEE: "l_thigh",
    L.R_KNEE: "r_thigh",
    L.L_ANKLE: "l_shin",
    L.R_ANKLE: "r_shin",
}
# limb joints: calibrated along the bone from this parent only (see along_limb)
LIMB_PARENT: dict[int, int] = {
    L.L_ELBOW: L.L_SHOULDER,
    L.R_ELBOW: L.R_SHOULDER,
    L.L_WRIST: L.L_ELBOW,
    L.R_WRIST: L.R_ELBOW,
    L.L_KNEE: L.L_HIP,
    L.R_KNEE: L.R_HIP,
    L.L_ANKLE: L.L_KNEE,
    L.R_ANKLE: L.R_KNEE,
}
# landmarks that move with a calibrated joint (the face with the nose, a hand with its wrist, a
# foot with its ankle), so the head, hand and foot bones keep their shapes
FOLLOWERS: dict[int, tuple[int, ...]] = {
    L.NOSE: tuple(range(1, 11)),
    L.L_WRIST: (17, 19, 21),
    L.R_WRIST: (18, 20, 22),
    L.L_ANKLE: (29, 31),
    L.R_ANKLE: (30, 32),
}
JOINTS = list(L.BODY_JOINTS)


@dataclass
class Calibration:
    """What calibration did: per round, each moved joint's step (torso lengths)."""

    rounds: list[dict[str, float]] = field(default_factory=list)
    frames_used: list[int] = field(default_factory=list)

    def summary(self) -> str:
        if not self.rounds:
            return "bind pose not calibrated"
        steps = [max(r.values(), default=0.0) for r in self.rounds]
        return "bind pose calibrated: largest step per round " + ", ".join(f"{s:.3f}" for s in steps) + " torso"


# ---------------------------------------------------------------- geometry (pure, tested)


def carry_back(rest_lm: np.ndarray, target_lm: np.ndarray, k: float, seen_lm: np.ndarray) -> np.ndarray:
    """(33, 2): each calibrated joint of `seen_lm` (output px) carried back into the rest picture
    (working px) through the inverse of the transform the renderer applies to its carrier bone
    for the pose `target_lm`; NaN for joints that are not calibrated or not seen."""
    mats = bone_transforms(named_points(rest_lm), named_points(target_lm), k)
    out = np.full((33, 2), np.nan)
    for j, bone in CARRIER.items():
        p = np.asarray(seen_lm[j, :2], np.float64)
        m = mats[bone]
        lin = m[:, :2]
        if not np.isfinite(p).all() or abs(np.linalg.det(lin)) < 1e-9:
            continue
        out[j] = np.linalg.solve(lin, p - m[:, 2])
    return out


def aligned_labels(seen_lm: np.ndarray, target_lm: np.ndarray) -> np.ndarray:
    """The detection with left/right labels as they fit the drawn pose best."""
    direct = np.nanmean(np.linalg.norm(seen_lm[JOINTS, :2] - target_lm[JOINTS, :2], axis=1))
    swapped = np.nanmean(np.linalg.norm(seen_lm[MIRROR][JOINTS, :2] - target_lm[JOINTS, :2], axis=1))
    return seen_lm[MIRROR] if swapped < direct else seen_lm


def frame_agrees(seen_lm: np.ndarray, target_lm: np.ndarray) -> bool:
    torso = max(L.torso_length(target_lm), 1.0)
    d = np.linalg.norm(seen_lm[JOINTS, :2] - target_lm[JOINTS, :2], axis=1) / torso
    return bool(np.mean(d <= FRAME_NEAR) >= FRAME_AGREEMENT)


def bind_steps(
    rest_lm: np.ndarray,
    targets: np.ndarray,
    seen: list[np.ndarray | None],
    k: float,
    calibrate: np.ndarray,
    frame_size: tuple[int, int],
) -> tuple[dict[int, np.ndarray], int]:
    """Per calibrated joint, the step (working px) from the bind pose to the median of where the
    detector saw it, carried back; and how many renderings were used. `calibrate`: (33,) bool,
    the joints the picture really shows; frame_size (w, h) of the renderings."""
    w, h = frame_size
    carried: list[np.ndarray] = []
    for target, lm in zip(targets, seen, strict=True):
        if lm is None or not np.isfinite(lm[:, :2]).all():
            continue
        lm = aligned_labels(lm, target)
        if not frame_agrees(lm, target):
            continue
        back = carry_back(rest_lm, target, k, lm)
        inside = (target[:, 0] >= 0) & (target[:, 0] < w) & (target[:, 1] >= 0) & (target[:, 1] < h)
        back[~inside] = np.nan
        carried.append(back)
    torso = max(L.torso_length(rest_lm), 1.0)
    steps: dict[int, np.ndarray] = {}
    if not carried:
        return steps, 0
    stack = np.stack(carried)  # (F, 33, 2)
    for j in CARRIER:
        if not calibrate[j]:
            continue
        pts = stack[:, j]
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) < MIN_FRAMES:
            continue
        step = along_limb(j, np.median(pts, axis=0) - rest_lm[j, :2], rest_lm)
        size = float(np.linalg.norm(step))
        if size > MAX_STEP * torso:
            step *= MAX_STEP * torso / size
        steps[j] = step
    return steps, len(carried)


def along_limb(joint: int, step: np.ndarray, rest_lm: np.ndarray) -> np.ndarray:
    """A limb joint's step kept along its bone (the parent joint to it): a pivot moved across a
    thin forearm or shin swings the limb's pixels off its own core when it turns (measured on the
    sample pair in `image` framing: 48 of 240 frames showed background through a shin, a foot or
    a forearm; 4 with the steps kept along the limbs, 5 before calibration), while the detector's
    misreadings are mostly along the limb (a sleeve's cuff taken for the elbow)."""
    parent = LIMB_PARENT.get(joint)
    if parent is None:
        return step
    bone = rest_lm[joint, :2].astype(np.float64) - rest_lm[parent, :2]
    length = float(np.linalg.norm(bone))
    if length < 1e-6:
        return step
    unit = bone / length
    return float(step @ unit) * unit


def reach(torso: float) -> np.ndarray:
    """(33,) how far (px) each joint may end from where calibration started (MAX_TOTAL*)."""
    out = np.full(33, MAX_TOTAL * torso)
    out[list(FREE_JOINTS)] = MAX_TOTAL_FREE * torso
    return out


def within_reach(
    steps: dict[int, np.ndarray], lm: np.ndarray, start: np.ndarray, limit: np.ndarray | float
) -> dict[int, np.ndarray]:
    """Steps shortened so no joint ends further than `limit` px (per joint, or one for all) from
    where calibration started."""
    limits = np.broadcast_to(np.asarray(limit, np.float64), (33,))
    out: dict[int, np.ndarray] = {}
    for j, step in steps.items():
        end = lm[j, :2] + step - start[j, :2]
        size = float(np.linalg.norm(end))
        if size > limits[j]:
            end *= limits[j] / size
        out[j] = start[j, :2] + end - lm[j, :2]
    return out


def moved(lm: np.ndarray, steps: dict[int, np.ndarray]) -> np.ndarray:
    """The landmarks with each joint moved by its step (and its followers with it)."""
    out = np.array(lm, np.float32, copy=True)
    for j, step in steps.items():
        for i in (j, *FOLLOWERS.get(j, ())):
            out[i, :2] += step.astype(np.float32)
    return out


# ---------------------------------------------------------------- looking at the puppet


def detect_frame(bgr: np.ndarray, mirrored: bool = False) -> np.ndarray | None:
    """(33, 4) landmarks in the frame's pixels, or None (IMAGE mode, the frame as given, or its
    mirror image with the result mapped back: x mirrored, left/right labels swapped)."""
    return read_pose(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), mirrored)


def sample_indices(frames: int, count: int = CALIBRATION_FRAMES) -> np.ndarray:
    """`count` frame indices spread evenly over the clip (all of them for a short clip)."""
    if frames <= count:
        return np.arange(frames)
    return np.unique(np.round(np.linspace(0, frames - 1, count)).astype(int))


def _look(
    renderer: Renderer, targets: np.ndarray, f: float, show: Callable[[np.ndarray], None] | None = None
) -> list[np.ndarray | None]:
    """The pose read on the puppet drawn at each target (output px; drawn scaled by f), as it is
    and (MIRRORED) mirrored: one or two readings per target, in output px. The readings run on
    two threads while the next target is drawn. `show` gets each drawing (the page's first look
    at the puppet moving, seconds before the render starts)."""
    frame = np.empty_like(renderer.plate)
    readings: list[Future[np.ndarray | None]] = []
    for target in targets:
        scaled = target.copy()
        scaled[:, :3] *= f
        renderer.render(scaled, out=frame)
        shot = frame.copy()
        readings += [_LOOKERS.submit(detect_frame, shot, mirrored) for mirrored in LOOKS]
        if show is not None:
            show(shot)
    wait(readings)  # all of them ended before anything is raised: none is left inside mediapipe
    seen: list[np.ndarray | None] = []
    for reading in readings:
        got = reading.result()
        if got is not None:
            got[:, :3] /= f
        seen.append(got)
    return seen


def calibrate_bind(
    picture_lm: np.ndarray,
    rebuild: Callable[[np.ndarray], Rig] | None,
    rig: Rig,
    motion: np.ndarray,
    place: Callable[[np.ndarray], np.ndarray],
    plate: np.ndarray,
    k: float,
    work_scale: float,
    rounds: int = CALIBRATION_ROUNDS,
    show: Callable[[np.ndarray], None] | None = None,
    arap: bool = True,
    root: int = ROOT,
    by_head: tuple[int, ...] = (),
) -> tuple[Rig, np.ndarray, Calibration]:
    """The rig rebuilt on a calibrated bind pose, that pose (picture px), and what was done.

    picture_lm: the bind pose in the picture's pixels; rebuild(lm) builds the rig on a bind pose
    given in picture pixels (None: the rig rebound between rounds is kept); rig: the one already
    built on picture_lm; motion: the smoothed source motion; place(targets) maps retargeted
    targets (working px) to output px in place; plate: the background in the output frame; k:
    output px per working px; show: gets each drawing of the puppet (see _look); arap: the puppet
    drawn as the render will draw it (kmc_ui/engine/arap.py), or skinned alone; root: the motion's
    root (retarget's); by_head: the arms whose hands the render keeps by the head (hands_by_head)."""
    report = Calibration()
    lm = np.array(picture_lm, np.float32, copy=True)
    picks = sample_indices(len(motion))
    h, w = plate.shape[:2]
    # rendered straight at the size the detector works at (as the motion pass scales frames)
    f = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(plate, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
    start = rig.landmarks.copy()
    for _ in range(max(0, rounds)):
        targets = place(hands_by_head(retarget(motion[picks], rig.landmarks, rig.seen, root), rig.landmarks, by_head))
        drawn = Renderer(rig, small, k * f, GRID, arap=arap, usual_yaw=usual_yaw(targets))
        seen = _look(drawn, targets, f, show)
        per_frame = 2 if MIRRORED else 1
        steps, used = bind_steps(rig.landmarks, np.repeat(targets, per_frame, axis=0), seen, k, rig.seen, (w, h))
        report.frames_used.append(used)
        if not steps:
            break
        torso = max(L.torso_length(rig.landmarks), 1.0)
        steps = within_reach(steps, rig.landmarks, start, reach(torso))
        report.rounds.append({L.NAMES[j]: float(np.linalg.norm(s)) / torso for j, s in steps.items()})
        lm = moved(lm, {j: s / work_scale for j, s in steps.items()})
        rig = rebind(rig, moved(rig.landmarks, steps))  # between rounds: same layers, new joints
        if max(report.rounds[-1].values(), default=0.0) < SETTLED:
            break
    far = float(np.nanmax(np.linalg.norm(rig.landmarks[:, :2] - start[:, :2], axis=1))) / max(
        L.torso_length(start), 1.0
    )
    if report.rounds and rebuild is not None and far >= SETTLED:
        # the layers cut again around the calibrated joints; joints that all moved less than
        # SETTLED keep the layers cut around them (the real photos: ~0.7 s saved)
        rig = rebuild(lm)
    # the bind pose in picture px as the rig has it (an arm the rig centred on its middle included)
    lm = np.array(rig.landmarks, np.float32, copy=True)
    lm[:, :3] /= work_scale
    return rig, lm, report
