"""Body pre-flight findings: do the character picture and the motion video fit together?

`pose_findings(image_path, video_path, orientation)` analyses both files (cached by content,
so a re-check after changing orientation or tier costs a few ms) and returns findings in the
same format as checks/rules.py. `findings_from(image_analysis, video_analysis, ...)` is the
pure part: analyses in, findings out; `image_facts` / `video_facts` give the measured
numbers (for tests, the UI's summary and the CLI's --json).

Codes (stable): pose_image_no_person, pose_image_subject_hidden, pose_image_hidden_limbs,
pose_subject_small_image, pose_subject_small_video, pose_extreme_orientation,
pose_framing_mismatch, pose_motion_clipping, pose_video_no_person, pose_video_person_lost,
pose_video_people, pose_video_cut, pose_camera_motion, pose_fast_motion,
pose_orientation_advice, pose_check_skipped.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kmc_ui.findings import Finding, sort_findings
from kmc_ui.limits import LIMITS, POSE, PoseThresholds
from kmc_ui.messages import Msg
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.detect import (
    CHECK_BUDGET_S,
    ImageAnalysis,
    VideoAnalysis,
    VideoSampling,
    analyse_image,
    analyse_video,
)
from kmc_ui.pose.hands import MISSING
from kmc_ui.pose.retarget import retarget

Add = Callable[[str, str, str, Msg, Msg], None]  # level, input, code, message, fix
MAX_PAIR_DT = 0.25  # two samples this close (s) form a speed pair (a frame and the next one looked at)
# A hand the detector did not find (pose/hands.py) counts as hidden only when its wrist rests
# against the body, where pockets, the small of the back and crossed arms put it: between the
# chest and the upper thigh (depth along the torso, 0 = shoulders, 1 = hips) and at most
# TUCK_REACH torso lengths outside the torso's outline. Measured (pose/hands.py's crops):
# painted-in pockets 0.19 and 0.19 outside at depth 0.93; hands hanging beside the body 0.13-0.28
# (found by the detector); an armoured figure's fists, which the detector misses, 0.33 and 0.36.
TUCK_DEPTH = (0.15, 1.5)
TUCK_REACH = 0.25
RAISED_FRACTION = 0.05  # the warning says how often the motion raises a hidden hand from this share on


# ---------------------------------------------------------------- measured facts


@dataclass(frozen=True)
class ImageFacts:
    found: bool  # a body (or a close-up face) was found
    face_only: bool = False
    framing: str = ""  # one of landmarks.FRAMINGS, "" when nobody was found
    area: float = 0.0  # subject box / picture area
    angle: float = 0.0  # torso from upright, degrees
    seen: np.ndarray = field(default_factory=lambda: np.zeros(33, dtype=bool))
    people: int = 0
    # per arm of landmarks.ARMS (left, right): "shown"; "out" (the pose does not see the wrist or
    # elbow: hidden or outside the picture); "tucked" (the hand detector found no hand and the
    # wrist rests against the body: a pocket, behind the back, crossed arms); "" (no body)
    hands: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class VideoFacts:
    samples: int
    found: np.ndarray  # (K,) bool
    framing: str = ""
    area: float = 0.0  # median subject box / frame area
    extreme_fraction: float = 0.0  # share of found samples lying or upside down
    upside_down_fraction: float = 0.0
    people_fraction: float = 0.0  # share of counted frames with 2+ people
    max_people: int = 0
    cuts: tuple[float, ...] = ()
    pan: float = 0.0  # background travel, share of the frame (largest axis)
    pan_dx: float = 0.0  # signed accumulated horizontal travel (content moving right > 0)
    zoom: float = 0.0  # accumulated log-zoom range
    camera_known: float = 0.0  # share of sample pairs where the background could be measured
    speeds: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (pairs,) torso lengths / s
    speed_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fast_fraction: float = 0.0
    back_fraction: float = 0.0  # share of found samples with the back to the camera
    lost_spans: tuple[tuple[float, float], ...] = ()


def image_facts(a: ImageAnalysis, th: PoseThresholds = POSE) -> ImageFacts:
    pose = a.pose
    if pose is None:
        if (
            a.face_box is not None
            and a.height
            and (a.face_box[3] - a.face_box[1]) / a.height >= th.face_close_up_min_height
        ):
            area = L.box_area_fraction(a.face_box, a.width, a.height)
            return ImageFacts(True, face_only=True, framing="close_up", area=area, people=1)
        return ImageFacts(False)
    seen = pose.seen(th.min_visibility)
    box = L.subject_box(pose.landmarks, seen, a.width, a.height, th.subject_box_pad)
    return ImageFacts(
        True,
        framing=L.framing(seen),
        area=L.box_area_fraction(box, a.width, a.height),
        angle=L.torso_angle(pose.landmarks),
        seen=seen,
        people=len(a.people),
        hands=hand_states(pose.landmarks, seen, a.hands),
    )


def hand_states(lm: np.ndarray, seen: np.ndarray, verdicts: tuple[int, int]) -> tuple[str, str]:
    """ "shown" / "out" / "tucked" for the left and right arm (see ImageFacts.hands)."""
    states: list[str] = []
    for (elbow, wrist), verdict in zip(L.ARMS.values(), verdicts, strict=True):
        depth, reach = L.wrist_on_torso(lm, wrist)
        if not (seen[wrist] and seen[elbow]):
            states.append("out")
        elif verdict == MISSING and TUCK_DEPTH[0] <= depth <= TUCK_DEPTH[1] and reach <= TUCK_REACH:
            states.append("tucked")
        else:
            states.append("shown")
    return states[0], states[1]


def _spans(times: np.ndarray, flags: np.ndarray) -> tuple[tuple[float, float], ...]:
    spans: list[tuple[float, float]] = []
    start = None
    for t, f in zip(times, flags, strict=True):
        if f and start is None:
            start = float(t)
        if not f and start is not None:
            spans.append((start, float(t)))
            start = None
    if start is not None:
        spans.append((start, float(times[-1])))
    return tuple(spans)


def detect_cuts(v: VideoAnalysis, th: PoseThresholds = POSE) -> tuple[float, ...]:
    """Times of hard cuts: a change score above the floor and `cut_ratio` x its neighbours."""
    score = np.asarray(v.frame_diff, dtype=np.float64) + np.asarray(v.hist_diff, dtype=np.float64)
    t = np.asarray(v.frame_times, dtype=np.float64)
    if len(score) < 2:
        return ()
    cuts: list[float] = []
    for i in np.nonzero(score >= th.cut_min_score)[0]:
        if i == 0:
            continue
        lo, hi = np.searchsorted(t, t[i] - th.cut_window_s), np.searchsorted(t, t[i] + th.cut_window_s, "right")
        nbrs = [j for j in range(max(1, lo), hi) if j != i]
        ref = float(np.mean(score[nbrs])) if nbrs else 0.0
        if score[i] >= th.cut_ratio * ref and not (cuts and t[i] - cuts[-1] < th.cut_window_s):
            cuts.append(float(t[i]))
    return tuple(cuts)


def pair_speeds(v: VideoAnalysis, th: PoseThresholds = POSE) -> tuple[np.ndarray, np.ndarray]:
    """Per speed pair: the second-fastest seen body joint, in torso lengths per second."""
    speeds, times = [], []
    lms, t = v.landmarks, v.times
    for k in range(1, len(t)):
        dt = float(t[k] - t[k - 1])
        a, b = lms[k - 1], lms[k]
        if not (0 < dt <= MAX_PAIR_DT) or not (L.is_pose(a) and L.is_pose(b)):
            continue
        both = L.seen(a, v.width, v.height, th.min_visibility) & L.seen(b, v.width, v.height, th.min_visibility)
        joints = [j for j in L.BODY_JOINTS if both[j]]
        if len(joints) < 2:
            continue
        scale = (L.body_scale(a) + L.body_scale(b)) / 2.0
        d = np.sort(np.linalg.norm(b[joints, :2] - a[joints, :2], axis=1)) / scale / dt
        speeds.append(float(d[-2]))
        times.append(float(t[k - 1]))
    return np.asarray(speeds), np.asarray(times)


def camera_travel(v: VideoAnalysis, cuts: tuple[float, ...] = ()) -> tuple[float, float, float, float]:
    """(pan range, signed horizontal travel, zoom range, share of pairs measured).

    Shifts are accumulated over the samples (pairs across a cut are left out); the range of
    the accumulated path is how far the background travelled.
    """
    bg = np.asarray(v.bg_motion, dtype=np.float64)
    if len(bg) < 2:
        return 0.0, 0.0, 0.0, 0.0
    steps = bg[1:].copy()
    t = np.asarray(v.times)
    for c in cuts:
        across = (t[:-1] < c) & (t[1:] >= c)
        steps[across] = 0.0
    known = np.isfinite(steps[:, 0])
    steps[~known] = 0.0
    path = np.vstack([np.zeros((1, 3)), np.cumsum(steps, axis=0)])
    rng = path.max(axis=0) - path.min(axis=0)
    return float(max(rng[0], rng[1])), float(path[-1, 0]), float(rng[2]), float(known.mean())


def video_facts(v: VideoAnalysis, th: PoseThresholds = POSE) -> VideoFacts:
    k = len(v.times)
    found = np.array([L.is_pose(lm) for lm in v.landmarks], dtype=bool) if k else np.zeros(0, dtype=bool)
    cuts = detect_cuts(v, th)
    pan, pan_dx, zoom, known = camera_travel(v, cuts)
    counts = np.asarray(v.people_counts)
    people_fraction = float((counts >= 2).mean()) if len(counts) else 0.0
    max_people = int(counts.max()) if len(counts) else 0
    if not found.any():
        return VideoFacts(
            k,
            found,
            cuts=cuts,
            pan=pan,
            pan_dx=pan_dx,
            zoom=zoom,
            camera_known=known,
            people_fraction=people_fraction,
            max_people=max_people,
        )
    framings, areas, angles, facing = [], [], [], []
    for lm in v.landmarks[found]:
        seen = L.seen(lm, v.width, v.height, th.min_visibility)
        framings.append(L.framing(seen))
        areas.append(
            L.box_area_fraction(L.subject_box(lm, seen, v.width, v.height, th.subject_box_pad), v.width, v.height)
        )
        angles.append(L.torso_angle(lm))
        facing.append(L.facing(lm))
    ang = np.asarray(angles)
    speeds, speed_times = pair_speeds(v, th)
    return VideoFacts(
        samples=k,
        found=found,
        framing=_widest_common(framings),
        area=float(np.median(areas)),
        extreme_fraction=float((ang >= th.lying_angle).mean()),
        upside_down_fraction=float((ang >= th.upside_down_angle).mean()),
        people_fraction=people_fraction,
        max_people=max_people,
        cuts=cuts,
        pan=pan,
        pan_dx=pan_dx,
        zoom=zoom,
        camera_known=known,
        speeds=speeds,
        speed_times=speed_times,
        fast_fraction=float((speeds > th.fast_speed).mean()) if len(speeds) else 0.0,
        back_fraction=float((np.asarray(facing) < th.back_facing).mean()),
        lost_spans=_spans(np.asarray(v.times), ~found),
    )


def _widest_common(framings: list[str]) -> str:
    """The most common framing (ties go to the wider one)."""
    counts = Counter(framings)
    return max(L.FRAMINGS, key=lambda f: (counts.get(f, 0), L.FRAMINGS.index(f)))


# ---------------------------------------------------------------- findings


def findings_from(
    image: ImageAnalysis | None,
    video: VideoAnalysis | None,
    orientation: str = "video",
    th: PoseThresholds = POSE,
) -> list[Finding]:
    """Pure: analyses in, findings out (sorted like the other checks)."""
    out: list[Finding] = []

    def add(level: str, where: str, code: str, message: Msg, fix: Msg) -> None:
        out.append(Finding.of(level, where, code, message, fix))  # type: ignore[arg-type]

    img = vid = None
    if image is not None and image.error:
        add(
            "hint",
            "image",
            "pose_check_skipped",
            Msg("pose.skipped_image", {"t_err": image.error}),
            Msg("pose.skipped_image.fix"),
        )
    elif image is not None:
        img = image_facts(image, th)
        _image_findings(img, image, add, th)
    if video is not None and video.error:
        add(
            "hint",
            "video",
            "pose_check_skipped",
            Msg("pose.skipped_video", {"t_err": video.error}),
            Msg("pose.skipped_video.fix"),
        )
    elif video is not None:
        vid = video_facts(video, th)
        _video_findings(vid, video, add, th)
        if video.cut_short:
            add(
                "hint",
                "video",
                "pose_check_skipped",
                Msg("pose.cut_short", {"t": f"{video.analysed_until:.1f}", "t_why": video.cut_short}),
                Msg("pose.cut_short.fix"),
            )
    if img is not None and vid is not None and image is not None and video is not None:
        _pair_findings(img, vid, image, video, orientation, add, th)
    elif img is not None and vid is None:
        _hidden_hands_hint(img, add)
    if vid is not None and orientation == "image":
        turns = vid.back_fraction >= th.turn_fraction
        camera = vid.pan >= th.camera_pan or vid.zoom >= th.camera_zoom
        if turns or camera:
            what = "turn_camera" if turns and camera else "turn" if turns else "camera"
            add("hint", "pair", "pose_orientation_advice", Msg(f"pose.orientation_{what}"), Msg("pose.orientation.fix"))
    return sort_findings(out)


def _image_findings(f: ImageFacts, a: ImageAnalysis, add: Add, th: PoseThresholds) -> None:
    if not f.found:
        add(
            "warning",
            "image",
            "pose_image_no_person",
            Msg("pose.image_no_person"),
            Msg("pose.image_no_person.fix"),
        )
        return
    if f.face_only:
        return
    missing = []
    if not f.seen[[L.NOSE, *L.EYES]].any():
        missing.append("the face")
    if not f.seen[list(L.SHOULDERS)].all():
        missing.append("a shoulder")
    if missing:
        add(
            "warning",
            "image",
            "pose_image_subject_hidden",
            Msg("pose.image_subject_hidden", {"w_part": " and ".join(missing)}),
            Msg("pose.image_subject_hidden.fix"),
        )
    if f.area < th.image_subject_min_area:
        add(
            "warning",
            "image",
            "pose_subject_small_image",
            Msg("pose.subject_small_image", {"p": float(f.area), "q": float(th.image_subject_min_area)}),
            Msg("pose.subject_small_image.fix"),
        )
    if f.angle >= th.upside_down_angle:
        add(
            "warning",
            "image",
            "pose_extreme_orientation",
            Msg("pose.image_upside_down", {"a": f"{f.angle:.0f}"}),
            Msg("pose.image_upside_down.fix"),
        )
    elif f.angle >= th.lying_angle:
        add(
            "warning",
            "image",
            "pose_extreme_orientation",
            Msg("pose.image_lying", {"a": f"{f.angle:.0f}"}),
            Msg("pose.image_lying.fix"),
        )


def _video_findings(f: VideoFacts, v: VideoAnalysis, add: Add, th: PoseThresholds) -> None:
    if f.samples and not f.found.any():
        add(
            "warning",
            "video",
            "pose_video_no_person",
            Msg("pose.video_no_person", {"n": int(f.samples)}),
            Msg("pose.video_no_person.fix"),
        )
    elif f.samples:
        lost = 1.0 - float(f.found.mean())
        if lost >= th.person_lost_fraction:
            add(
                "warning",
                "video",
                "pose_video_person_lost",
                Msg(
                    "pose.video_person_lost",
                    {"p": lost, "spans": [[float(a), float(b)] for a, b in f.lost_spans[:3]]},
                ),
                Msg("pose.video_person_lost.fix"),
            )
        if f.area < th.video_subject_min_area:
            add(
                "warning",
                "video",
                "pose_subject_small_video",
                Msg("pose.subject_small_video", {"p": float(f.area), "q": float(th.video_subject_min_area)}),
                Msg("pose.subject_small_video.fix"),
            )
        if f.extreme_fraction >= th.video_extreme_fraction:
            what = "upside down" if f.upside_down_fraction >= f.extreme_fraction / 2 else "lying down or on the side"
            add(
                "warning",
                "video",
                "pose_extreme_orientation",
                Msg("pose.video_extreme_orientation", {"w_what": what, "p": float(f.extreme_fraction)}),
                Msg("pose.video_extreme_orientation.fix"),
            )
        if len(f.speeds) and f.fast_fraction >= th.fast_fraction:
            peak = int(np.argmax(f.speeds))
            add(
                "warning",
                "video",
                "pose_fast_motion",
                Msg(
                    "pose.fast_motion",
                    {
                        "s": f"{th.fast_speed:g}",
                        "p": float(f.fast_fraction),
                        "pk": f"{f.speeds[peak]:.1f}",
                        "t": f"{f.speed_times[peak]:.1f}",
                    },
                ),
                Msg("pose.fast_motion.fix"),
            )
    if f.people_fraction >= th.people_fraction:
        add(
            "warning",
            "video",
            "pose_video_people",
            Msg("pose.video_people", {"n": int(f.max_people), "p": float(f.people_fraction)}),
            Msg("pose.video_people.fix"),
        )
    if f.cuts:
        add(
            "warning",
            "video",
            "pose_video_cut",
            Msg("pose.video_cut", {"n": len(f.cuts), "at": [float(t) for t in f.cuts]}),
            Msg("pose.video_cut.fix"),
        )
    if f.pan >= th.camera_pan or f.zoom >= th.camera_zoom:
        zoom = float(np.expm1(f.zoom))
        pan = None
        if f.pan >= th.camera_pan:
            direction = "_left" if f.pan_dx > 0 else "_right" if f.pan_dx < 0 else ""
            pan = Msg(f"pose.camera_pan{direction}", {"p": float(f.pan)})
        if pan is not None and f.zoom >= th.camera_zoom:
            said = Msg("pose.camera_motion_zoom", {"t_pan": pan, "z": zoom})
        else:
            said = Msg("pose.camera_motion", {"t_part": pan or Msg("pose.camera_zoom", {"z": zoom})})
        add("warning", "video", "pose_camera_motion", said, Msg("pose.camera_motion.fix"))


def _pair_findings(
    img: ImageFacts,
    vid: VideoFacts,
    image: ImageAnalysis,
    video: VideoAnalysis,
    orientation: str,
    add: Add,
    th: PoseThresholds,
) -> None:
    if img.found and vid.found.any() and img.framing and vid.framing and img.framing != vid.framing:
        il, vl = L.FRAMING_LABELS[img.framing], L.FRAMING_LABELS[vid.framing]
        wider_motion = L.FRAMINGS.index(vid.framing) > L.FRAMINGS.index(img.framing)
        consequence = (
            Msg("pose.framing_wider_motion", {"w_parts": UNSEEN_BELOW[img.framing]})
            if wider_motion
            else Msg("pose.framing_narrower_motion")
        )
        add(
            "warning",
            "pair",
            "pose_framing_mismatch",
            Msg("pose.framing_mismatch", {"w_il": il, "w_vl": vl, "t_why": consequence}),
            Msg("pose.framing_mismatch.fix", {"w_pic": L.FRAMING_PICTURES[vid.framing], "w_il": il}),
        )
    pose = image.pose
    if pose is None or img.face_only or not vid.found.any():
        return
    _hidden_limbs(img, video, add, th)
    _clipping(img, image, video, add, th)


UNSEEN_BELOW = {  # what a wider motion shows below the picture's framing
    "close_up": "the arms and the body below the chest",
    "upper_body": "the legs",
    "three_quarter": "the lower legs and feet",
}
HIDDEN_WHY = {  # why a hand is not shown, by the states of the hands named
    ("out",): "hidden or outside the picture",
    ("tucked",): "no hand was found at the end of the arm: it rests against the body, as in a pocket, behind the "
    "back or under crossed arms",
    ("tucked", "tucked"): "no hand was found at the end of either arm: they rest against the body, as in pockets, "
    "behind the back or under crossed arms",
    ("out", "tucked"): "one is hidden or outside the picture, and no hand was found at the end of the other arm",
}
HIDDEN_HANDS_FIX = Msg("pose.hidden_hands.fix")


def _hands_named(img: ImageFacts, arms: list[str]) -> tuple[str, str]:
    """("both hands" / "the left hand" / "the right hand", why they are not shown)."""
    names = "both hands" if len(arms) == 2 else f"the {arms[0].replace(' arm', ' hand')}"
    states = dict(zip(L.ARMS, img.hands, strict=True))
    key = tuple(sorted(states[a] for a in arms))
    return names, HIDDEN_WHY.get(key, HIDDEN_WHY[("out",)])


def _hidden_hands_hint(img: ImageFacts, add: Add) -> None:
    """No motion video yet: name the hands the picture does not show, softly."""
    if not img.found or img.face_only or img.framing == "close_up":
        return
    arms = [a for a, state in zip(L.ARMS, img.hands, strict=True) if state in ("out", "tucked")]
    if arms:
        names, why = _hands_named(img, arms)
        add(
            "hint",
            "image",
            "pose_image_hidden_limbs",
            Msg("pose.hidden_hands_hint", {"w_names": names, "w_why": why}),
            HIDDEN_HANDS_FIX,
        )


def _hidden_limbs(img: ImageFacts, video: VideoAnalysis, add: Add, th: PoseThresholds) -> None:
    if img.framing == "close_up":
        return
    hidden: list[tuple[str, float, float, float]] = []  # arm, share of frames showing the hand, travel, raised
    for (name, (_, wrist)), state in zip(L.ARMS.items(), img.hands, strict=True):
        if state not in ("out", "tucked"):
            continue
        seen_frac, travel, raised = _limb_use(video, wrist, th)
        if seen_frac >= th.limb_seen_fraction and travel >= th.limb_motion:
            hidden.append((name, seen_frac, travel, raised))
    if not hidden:
        return
    names, why = _hands_named(img, [h[0] for h in hidden])
    it = "it" if len(hidden) == 1 else "them"
    shown = min(h[1] for h in hidden)
    travel = max(h[2] for h in hidden)
    raised = max(h[3] for h in hidden)
    params = {
        "w_names": names,
        "w_why": why,
        "w_it": it,
        "p": float(shown),
        "t": f"{travel:.1f}",
        "w_what": "the hand" if len(hidden) == 1 else "the hands",
    }
    if raised >= RAISED_FRACTION:
        said = Msg("pose.hidden_hands_raised", params | {"q": float(raised)})
    else:
        said = Msg("pose.hidden_hands", params)
    add("warning", "image", "pose_image_hidden_limbs", said, HIDDEN_HANDS_FIX)


def _limb_use(v: VideoAnalysis, wrist: int, th: PoseThresholds) -> tuple[float, float, float]:
    """Share of samples showing the wrist, its travel relative to the neck (torso lengths) and the
    share of samples showing it above its shoulder."""
    shoulder = wrist - 4  # 15 -> 11, 16 -> 12
    rel, raised, n = [], 0, 0
    for lm in v.landmarks:
        if not L.is_pose(lm):
            continue
        n += 1
        if L.seen(lm, v.width, v.height, th.min_visibility)[wrist]:
            rel.append((lm[wrist, :2] - L.midpoint(lm, *L.SHOULDERS)) / L.body_scale(lm))
            raised += int(lm[wrist, 1] < lm[shoulder, 1])
    if not n or not rel:
        return 0.0, 0.0, 0.0
    arr = np.asarray(rel)
    return len(rel) / n, float(np.ptp(arr, axis=0).max()), raised / n


def clip_overshoot(target: np.ndarray, joints: list[int], width: int, height: int) -> tuple[np.ndarray, list[set[str]]]:
    """Per sample: how far (share of the picture) the joints reach past its edges, and which edges."""
    over = np.zeros(len(target))
    edges: list[set[str]] = []
    for k, lm in enumerate(target):
        e: set[str] = set()
        if L.is_pose(lm) and joints:
            x, y = lm[joints, 0], lm[joints, 1]
            parts = {
                "left": float(np.max(-x)) / width,
                "right": float(np.max(x - (width - 1))) / width,
                "top": float(np.max(-y)) / height,
                "bottom": float(np.max(y - (height - 1))) / height,
            }
            over[k] = max(0.0, *parts.values())
            e = {name for name, val in parts.items() if val > 0}
        edges.append(e)
    return over, edges


def _clipping(img: ImageFacts, image: ImageAnalysis, video: VideoAnalysis, add: Add, th: PoseThresholds) -> None:
    pose = image.pose
    assert pose is not None
    target = retarget(video.landmarks, pose, img.seen)
    joints = [j for j in L.BODY_JOINTS if img.seen[j]]
    found = np.array([L.is_pose(lm) for lm in video.landmarks])
    if not found.any() or not joints:
        return
    # only joints the motion itself shows in that frame count
    over = np.zeros(len(target))
    edges: list[set[str]] = [set() for _ in target]
    for k, lm in enumerate(video.landmarks):
        if not found[k]:
            continue
        src_seen = L.seen(lm, video.width, video.height, th.min_visibility)
        js = [j for j in joints if src_seen[j]]
        o, e = clip_overshoot(target[k : k + 1], js, image.width, image.height)
        over[k], edges[k] = o[0], e[0]
    clipped = over > th.clip_margin
    frac = float(clipped[found].mean())
    if frac >= th.clip_fraction:
        sides = Counter(s for k in np.nonzero(clipped)[0] for s in edges[k])
        names = [s for s, _ in sides.most_common()]
        add(
            "warning",
            "pair",
            "pose_motion_clipping",
            Msg("pose.motion_clipping", {"where": names, "p": frac, "q": float(over.max())}),
            Msg("pose.motion_clipping.fix", {"s": names}),
        )


# ---------------------------------------------------------------- entry point


def window_seconds(orientation: str) -> float:
    """The longest clip preparation sends for this orientation (the body checks look at no more)."""
    return LIMITS.video_max_seconds.get(orientation, LIMITS.video_max_seconds["video"])


def superseded_finding() -> Finding:
    """The answer to a body check that a newer one from the same visitor replaced before it ran."""
    return Finding.of("hint", "pair", "pose_check_skipped", Msg("pose.superseded"), Msg("pose.superseded.fix"))


def pose_findings(
    image_path: str | Path | None,
    video_path: str | Path | None,
    orientation: str = "video",
    *,
    cache_dir: str | Path | None = None,
    thresholds: PoseThresholds = POSE,
    sampling: VideoSampling | None = None,
    cancel: threading.Event | None = None,
    trim_start: float = 0.0,
    budget_s: float = CHECK_BUDGET_S,
) -> list[Finding]:
    """Analyse (cached) and check. Never raises; safe to call from any thread.

    Only the part of the video preparation would send is analysed: from `trim_start`, at most
    the orientation's longest clip. The work stops after `budget_s` seconds, with a hint saying
    so. `cancel` (optional) stops a running video analysis early; the result is then [] (the
    caller has moved on to newer inputs).
    """
    deadline = time.monotonic() + budget_s
    try:
        image = analyse_image(image_path, cache_dir=cache_dir) if image_path else None
        video = None
        if video_path:
            video = analyse_video(
                video_path,
                sampling=sampling,
                cache_dir=cache_dir,
                cancel=cancel,
                start=trim_start,
                max_seconds=window_seconds(orientation),
                deadline=deadline,
            )
        if cancel is not None and cancel.is_set():
            return []
        return findings_from(image, video, orientation, thresholds)
    except Exception as exc:  # last line of defence: the page must never see a traceback
        return [
            Finding.of(
                "hint",
                "pair",
                "pose_check_skipped",
                Msg("pose.crashed", {"exc": type(exc).__name__}),
                Msg("pose.crashed.fix"),
            )
        ]
