"""The offline engine end to end: character picture + motion video -> a rendered MP4.

    cut out the character (segment) -> pose of every motion frame (motion, cached)
    -> smooth it (One Euro) -> retarget it to the character's bones (kmc_ui/pose/retarget)
    -> place it in the output frame (orientation) -> rig (layers, meshes, weights)
    -> calibrate the rig's bind pose by looking at the puppet (bind)
    -> for each frame: skin, warp, composite over the background plate -> ffmpeg (streamed)

Nothing is downloaded: every model comes from the mediapipe wheel. Long work checks `cancel`
once per frame, and `progress(fraction, text)` is called once per frame.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from kmc_ui.checks.pose import hand_states
from kmc_ui.engine.bind import Calibration, calibrate_bind
from kmc_ui.engine.common import EngineCancelled, EngineError, says
from kmc_ui.engine.deform import GRID, FrameStats, Renderer, bone_transforms_many, side_held
from kmc_ui.engine.encode import VideoWriter
from kmc_ui.engine.eyes import clip_closing
from kmc_ui.engine.face import find_face, usual_yaw
from kmc_ui.engine.inpaint import background_plate, plate_hole, scene_beyond, scene_fill, smeared, with_fill
from kmc_ui.engine.motion import MotionTrack, track_motion
from kmc_ui.engine.mouth import clip_opening, clip_width
from kmc_ui.engine.rig import ArmCut, Rig, build_rig, head_radius, named_points, torso_length
from kmc_ui.engine.segment import Cutout, cut_out, reaches_bottom, reaches_sides, reaches_top
from kmc_ui.engine.smoothing import OneEuro, fill_gaps, smooth_offline
from kmc_ui.limits import LIMITS, ORIENTATIONS, TIER_HEIGHT
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.cache import board, content_hash, land
from kmc_ui.pose.hands import FOUND, MISSING, hand_points
from kmc_ui.pose.retarget import (
    LIMBS,
    ROOT,
    arms_off_the_picture,
    hands_by_head,
    hold_limbs,
    hold_unshown_limbs,
    raised_arms,
    retarget,
    unshown_limbs,
)

WORK_MAX_SIDE = 2048  # the character picture is never worked on larger than this
# a picture up to this size has its rig built while the motion is still read, at the working size
# the placement will most likely give (a wrong guess costs that build, ~1 s at this size)
EARLY_MAX_SIDE = 1280
# how far (working px) the meshes reach past the mask: two of the renderer's grid cells (GRID output
# px each) at k = 1, the smallest k a placement gives (work_scale <= the picture's scale to the frame)
MARGIN = 2.0 * GRID + 2.0
# shares of the picture's longer side: the blur that parts a plate's shading from its detail, along
# the picture's edge and across it (the shading at the edge is the edge's own, not its surroundings')
PLATE_SHADING, PLATE_EDGE = 0.02, 0.002
SCENE_SHADING = 0.1  # beside a scene only its broadest shade runs on: its clouds are mirrored, not drawn out
# beside a scene its mirrored detail fades out over this share of the picture's longer side (e^-1
# there): a cloud at its edge goes on a little, a tower or a cat further in is not repeated
SCENE_DETAIL = 0.03
# further out (e^-1 at SCENE_NEAR of that side) its shade turns to its broadest (blurred over
# SCENE_FAR of it): the shade at its edge run on across a landscape frame drew a cloud there out
# into a white band
SCENE_NEAR, SCENE_FAR = 0.2, 0.25
# a frame reaching past a scene by this share of its longer side or more shows the scene continued
# there (continued_scene: PatchMatch), not that shade; SEAM: the share of that side over which the
# picture mirrored past its edge gives way to the continuation (e^-1 there, e^-4 at twice it)
BEYOND_MIN, SEAM = 0.02, 0.03
# in torso lengths; chosen on synthetic dance signals (0.3-1.5 Hz) with 3% detector noise: the mean
# error drops below the noise and frame-to-frame jitter by 3-5x (bench/bench_engine.py, tests)
SMOOTHING = OneEuro(min_cutoff=3.0, beta=1.0, d_cutoff=1.0)
MOTION_STRIDE, MOTION_STRIDE_FPS = 2, 20.0
# the farthest (share of the frame's width) the placement moves a head and shoulders cut off at a
# side to keep that cut out of the frame: the woman's, cut at one shoulder, went 0.19 of a landscape
# frame away from the talking head's face (and down, of the frame's height, to keep a cut top out)
SIDE_REACH = 0.05
# how far in a side (or top) edge that cuts the character off and shows in the frame (a head and
# shoulders further than SIDE_REACH from keeping it out, a bust in a landscape frame) fades out, as a share of
# the character's head_and_shoulders: drawn as cut, it ran down the hair and the shoulder as a
# straight edge. With a talking head, the same share of the video's head whatever the picture.
SIDE_FADE = 0.2
# a half figure with a dance (its bottom edge held on the frame's) is made larger, its face up to
# where the dancer's is, as far as its shoulders then span at most this share of the frame's width:
# at the dancer's size, the studio photos cut at the waist stood at the frame's bottom, their faces
# 0.66-0.70 of the way down a portrait frame, the wall above them
HALF_SHOULDERS = 0.5
# and as far as its top (the hair's top row) then stays this share of the frame's height below the
# frame's top: with its face where the dancer's is, the anime half-figure's large head and its rose
# went out of the frame at the top
HALF_HEADROOM = 0.05
# but a half figure the motion lifts by more than this share of its torso (head_lift: read bent over,
# or misread) keeps the dancer's size: the armour cut at the waist, read with its hips inside the
# picture and stood up by the dance, had its helmet out of the frame, larger
HALF_UPRIGHT = 0.5
MIN_FOUND_SHARE = 0.3  # below this share of frames with a person, the motion is refused
PHASES = {"motion": (0.0, 0.35), "rig": (0.35, 0.4), "render": (0.4, 0.995)}

ProgressFn = Callable[[float, str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class EngineJob:
    image: Path
    video: Path
    orientation: str = "video"
    tier: str = "std"
    keep_sound: bool = True
    rigid_arms: bool = True  # False: arms as skinned meshes, the engine before (bench/bench_engine.py)
    arap: bool = True  # False: the body skinned without the as-rigid-as-possible solve (the engine before)


@dataclass(frozen=True)
class Placement:
    """Output frame and where the character goes in it: out = k * working_px + offset."""

    width: int
    height: int
    k: float
    offset: np.ndarray  # (2,)
    work_scale: float  # working px per original picture px
    # the picture's side edges kept at or past the frame's sides (left, right): those that cut the
    # character off (cut_at_sides) as far as the placement can, and both of a bust scaled to the
    # frame's width (keep_side_edges; the vertices on them: pinned_sides, Rig.cut_sides)
    sides: tuple[bool, bool] = (False, False)
    # the picture's top edge, which cuts the character off (cut_at_top), kept at or above the
    # frame's top (its vertices: Rig.cut_top)
    top: bool = False
    # how many times the dancer's size the character is drawn (a half figure made larger to fill the
    # frame, HALF_SHOULDERS): its travel in the frame is the dancer's (travel_as_dancer)
    zoom: float = 1.0


@dataclass
class EngineResult:
    path: Path
    width: int
    height: int
    fps: float
    rate: str
    frames: int
    duration: float
    has_audio: bool
    orientation: str
    tier: str
    targets: np.ndarray  # (T, 33, 4) the pose drawn on each frame, output pixels
    holes: np.ndarray  # (T,) share of the body's core showing background
    flipped: np.ndarray  # (T,) share of mesh area folded over
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    calibration: Calibration = field(default_factory=Calibration)  # how the bind pose was moved
    bind_pose: np.ndarray | None = None  # (33, 4) the calibrated bind pose, character picture px
    # artefact measures per frame (kmc_ui/engine/deform.FrameStats): limb axis uncovered, texture
    # tears, filled-in background uncovered, mesh stretch, cut-off arms' cut ends shown; and how
    # each hand was cut (hand_sources)
    breaks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    tears: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    exposed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    stretch: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    cut_ends: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    hands: dict[str, str] = field(default_factory=dict)

    @property
    def torn_frames(self) -> int:
        stats = [FrameStats(float(h), float(f)) for h, f in zip(self.holes, self.flipped, strict=True)]
        return sum(s.torn for s in stats)

    def artefacts(self) -> dict[str, object]:
        """The artefact measures over the clip: mean, 95th percentile and the worst frame."""

        def spread(x: np.ndarray) -> dict[str, float]:
            if len(x) == 0:
                return {"mean": 0.0, "p95": 0.0, "max": 0.0}
            values = {"mean": x.mean(), "p95": np.percentile(x, 95), "max": x.max()}
            return {k: round(float(v), 4) for k, v in values.items()}

        return {
            "breaks": spread(self.breaks),
            "tears": spread(self.tears),
            "exposed": spread(self.exposed),
            "stretch": spread(self.stretch),
            "cut_ends": spread(self.cut_ends),
            "hands": dict(self.hands),
        }

    def summary(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "size": f"{self.width}x{self.height}",
            "fps": round(self.fps, 3),
            "frames": self.frames,
            "duration": round(self.duration, 3),
            "audio": self.has_audio,
            "torn_frames": self.torn_frames,
            "artefacts": self.artefacts(),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "bind": self.calibration.summary(),
            "notes": list(self.notes),
        }


def even(x: float) -> int:
    return max(2, round(x / 2.0) * 2)


def output_size(aspect: float, tier: str) -> tuple[int, int]:
    """Short side = the tier's height (720 / 1080), long side from the aspect, both even."""
    short = TIER_HEIGHT.get(tier, TIER_HEIGHT["std"])
    if aspect >= 1.0:
        return even(short * aspect), even(short)
    return even(short), even(short / aspect)


def load_picture(path: Path) -> np.ndarray:
    """The picture as RGB, turned as its EXIF says, a line drawn along an edge trimmed off
    (trim_border), and made WORK_MAX_SIDE on its longer side when larger: no rig is ever built
    larger, and a phone's 2456 x 3688 photo took 22.5 s to cut out at its own size (its backdrop's
    blurs grow with the picture's area and with their reach)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im) or im
            rgb = np.asarray(im.convert("RGB"))
    except Exception as exc:
        raise EngineError(says("picture_undecodable", exc=type(exc).__name__)) from None
    rgb = trim_border(rgb)
    h, w = rgb.shape[:2]
    if max(h, w) > WORK_MAX_SIDE:
        f = WORK_MAX_SIDE / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return rgb


BORDER_MAX = 4  # px: the thickest line along a picture's edge that is trimmed off
BORDER_FLAT = 4.0  # RGB standard deviation along a line at most this: drawn in one colour
BORDER_STEP = 30.0  # mean RGB difference between such a line and the one inside it at least this


def trim_border(rgb: np.ndarray) -> np.ndarray:
    """`rgb` without the lines of one colour along its edges (BORDER_MAX px thick at most) that
    stand out from the picture inside them: a frame line or an encoder's pad. The half-figure's
    bottom row is light grey under her black skirt: the skirt's layer carried it, a white line
    under the skirt at the frame's bottom. A plain backdrop runs on inside its edge: kept."""
    h, w = rgb.shape[:2]
    if min(h, w) <= 4 * BORDER_MAX:
        return rgb
    n, ends = BORDER_MAX + 1, slice(BORDER_MAX, -BORDER_MAX)  # a line's ends: where the next edge's line crosses it
    img = rgb.astype(np.float32)
    top = _border(img[:n, ends])
    bottom = _border(img[::-1][:n, ends])
    left = _border(img[ends, :n].swapaxes(0, 1))
    right = _border(img[ends, ::-1][:, :n].swapaxes(0, 1))
    return rgb[top : h - bottom, left : w - right]


def _border(lines: np.ndarray) -> int:
    """How many of `lines` (the edge's first) are a border: one colour, the line after them not."""
    k = 0
    while k < BORDER_MAX and lines[k].std(axis=0).mean() <= BORDER_FLAT:
        if np.abs(lines[k] - lines[0]).mean() > BORDER_FLAT:
            break
        k += 1
    if k and np.abs(lines[k] - lines[k - 1]).mean() >= BORDER_STEP:  # a plain backdrop runs on: no step
        return k
    return 0


def motion_stride(video: Path) -> int:
    """Read the pose on every MOTION_STRIDE-th frame of a clip of MOTION_STRIDE_FPS or more (the
    frames between are interpolated after smoothing, which keeps motion up to ~5 Hz): the motion
    pass was the engine's largest cost. Slower clips are read frame by frame."""
    try:
        from kmc_ui.media.probe import probe_video

        fps = probe_video(video).fps or 0.0
    except Exception:
        return 1
    return MOTION_STRIDE if fps >= MOTION_STRIDE_FPS else 1


def every_frame(motion: np.ndarray, times: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """The smoothed motion (sampled at `times`) at each of `frames` frames (linear in time)."""
    if len(times) == frames and np.allclose(times, np.arange(frames) / fps, atol=0.5 / fps):
        return motion
    t = np.arange(frames) / fps
    flat = motion.reshape(len(times), -1)
    out = np.empty((frames, flat.shape[1]), np.float32)
    for c in range(flat.shape[1]):
        out[:, c] = np.interp(t, times, flat[:, c])
    return out.reshape(frames, *motion.shape[1:])


def source_motion(track: MotionTrack) -> np.ndarray:
    """The motion's landmarks with gaps filled and smoothed (One Euro in torso units, run
    forward and backward: no lag)."""
    found = track.found
    if found.sum() < max(1, MIN_FOUND_SHARE * track.frames):
        share = 100.0 * found.sum() / max(1, track.frames)
        raise EngineError(says("person_share", p=f"{share:.0f}"))
    filled, _ = fill_gaps(track.landmarks)
    scale = float(np.median([L.body_scale(lm) for lm in track.landmarks[found]]))
    smoothed = filled.copy()
    smoothed[:, :, :3] = smooth_offline(filled[:, :, :3] / scale, track.times, SMOOTHING) * scale
    return smoothed.astype(np.float32)


def drawn_motion(track: MotionTrack, cut: Cutout) -> tuple[int, np.ndarray, tuple[int, ...]]:
    """The number of frames drawn (every frame of the motion), the pose drawn on each, before
    retargeting: the limbs the video does not show, and the arms the character's picture cuts off,
    held where the picture has them; and those arms held (indices into LIMBS)."""
    n = max(1, round(track.duration * track.fps))
    motion = every_frame(source_motion(track), track.times, n, track.fps)
    held = arms_off_the_picture(cut.landmarks, *cut.alpha.shape[::-1])
    unshown = unshown_limbs(motion, track.width, track.height)
    still = tuple(sorted(set(held) | {i for i in unshown if i < 2}))
    return n, hold_unshown_limbs(motion, cut.landmarks, track.width, track.height, held, unshown), still


def hips_in_frame(motion: np.ndarray, height: int) -> bool:
    """The video shows its person's hips: both inside the frame in at least half its frames (a
    talking head's hips are the pose model's guess, below the frame)."""
    hips = motion[:, list(L.HIPS), 1]
    return bool(((hips < height).all(axis=1)).mean() >= 0.5)


def motion_root(motion: np.ndarray, height: int) -> int:
    """The joint the motion is retargeted from (retarget's root): the hips, or the nose when the
    video is a head and shoulders (its hips a guess below the frame; place() puts the face where
    the video's is)."""
    return ROOT if hips_in_frame(motion, height) else L.NOSE


def head_and_shoulders(lms: np.ndarray) -> float:
    """The size a head-and-shoulders video is matched by: the geometric mean of the head's width
    (ear to ear) and the shoulders' (median over the frames). The video's hips are the pose model's
    guess below the frame, and a torso measured to them made the anime half-figure 1.4 times too
    large (her skirt filled the frame); the head alone makes an anime head (large against its
    shoulders) a person's size and a person's head larger than the video's, the shoulders alone a
    person small."""
    head = np.linalg.norm(lms[:, L.L_EAR, :2] - lms[:, L.R_EAR, :2], axis=1)
    shoulders = np.linalg.norm(lms[:, L.L_SHOULDER, :2] - lms[:, L.R_SHOULDER, :2], axis=1)
    return float(np.sqrt(np.median(head) * np.median(shoulders)))


def place(
    orientation: str, tier: str, cut: Cutout, motion: np.ndarray, track: MotionTrack
) -> tuple[Placement, np.ndarray]:
    """Output size and the picture -> output transform; also the motion's root at frame 0."""
    ih, iw = cut.alpha.shape
    zoom = 1.0  # at the dancer's size (a half figure with a dance: larger, half_zoom)
    if orientation == "video":
        out_w, out_h = output_size(track.width / max(1, track.height), tier)
        sv = out_h / max(1, track.height)
        src_torso = float(
            np.median([np.linalg.norm(L.midpoint(m, *L.SHOULDERS) - L.midpoint(m, *L.HIPS)) for m in motion])
        )
        char_torso = float(np.linalg.norm(L.midpoint(cut.landmarks, *L.SHOULDERS) - L.midpoint(cut.landmarks, *L.HIPS)))
        k_orig = sv * src_torso / max(char_torso, 1.0)
        anchor, anchor_out = L.midpoint(cut.landmarks, *L.HIPS), L.midpoint(motion[0], *L.HIPS) * sv
        talking = not hips_in_frame(motion, track.height)
        if talking:  # a head and shoulders: its face where the person's is
            k_orig = sv * head_and_shoulders(motion) / max(head_and_shoulders(cut.landmarks[None]), 1.0)
            anchor, anchor_out = cut.landmarks[L.NOSE, :2], motion[0][L.NOSE, :2] * sv
        left, right = cut_at_sides(cut)
        bottom = cut_at_bottom(cut)  # a picture without feet
        spans = False  # the picture scaled to the frame's width
        bust = (left and right) or ((left or right) and bottom)
        if bust and k_orig * iw < out_w:  # cut off at both sides, or at a side and the bottom (a
            # portrait, a bust): as wide as the frame, scaled about the anchor, both its sides on the
            # frame's, when it is then no taller than the frame (its head in it; a landscape frame's
            # width would put it far above): else a side cut shows where it cannot be kept out
            if out_w / iw * ih <= out_h + 0.5:
                k_orig = out_w / iw
                left = right = spans = True
            else:
                if not talking and bottom:  # a bust with a dance in a landscape frame: its
                    # face where the dancer's is, as far as its bottom edge on the frame's and its
                    # head in the frame allow (at the dancer's size, its edge held there, a portrait
                    # was a bust 0.38 of the frame's height at its bottom, the frame empty above)
                    anchor, anchor_out = cut.landmarks[L.NOSE, :2], motion[0][L.NOSE, :2] * sv
                    fills = (out_h - anchor_out[1]) / max(ih - anchor[1], 1.0)
                    k_orig = min(out_w / iw, out_h / ih, max(k_orig, fills))
                if left and right:
                    left = right = False
        elif bottom and not talking and anchor_out[1] - k_orig * anchor[1] + k_orig * ih < out_h:
            # a half figure whose bottom edge, at the dancer's size, lies above the frame's (held
            # there, it stood at the frame's bottom, the frame empty above it): made larger, its
            # face towards the dancer's (half_zoom)
            zoom = half_zoom(cut, motion, k_orig, motion[0][L.NOSE, :2] * sv, (out_w, out_h))
            if zoom > 1.0:
                anchor, anchor_out = cut.landmarks[L.NOSE, :2], motion[0][L.NOSE, :2] * sv
                k_orig *= zoom
        offset = anchor_out - k_orig * anchor
        top = cut_at_top(cut)  # a head cropped through the hair: its cut never below the frame's top
        if top and not (talking or bottom) and offset[1] > 0:  # a full figure made taller about its
            # feet, its cut on the frame's top and its feet where they were (moved up instead, the man
            # cropped through his hair had his feet 0.17 of the frame's height above the dancer's)
            feet = float(np.flatnonzero((cut.alpha >= 0.5).any(axis=1))[-1]) + 1.0
            k_orig = (offset[1] + k_orig * feet) / feet
            offset = anchor_out - k_orig * anchor
            offset[1] = 0.0
        if (talking or bottom) and not spans:  # a side edge that cuts a head and
            # shoulders or a bust off stays at or past the frame's side when that moves it SIDE_REACH
            # of the frame's width at most: further, the face stays where the video's is and the cut
            # shows, at a shoulder, faded out (SIDE_FADE; run_engine says so). The woman's portrait
            # with the dance in a landscape frame went to the frame's corner, 0.48 of its width from
            # the dancer. A full figure's cut runs down its whole side: kept out however far, as its
            # bottom edge is.
            left = left and offset[0] <= SIDE_REACH * out_w
            right = right and out_w - k_orig * iw - offset[0] <= SIDE_REACH * out_w
        if left:
            offset[0] = min(offset[0], 0.0)
        if right:
            offset[0] = max(offset[0], out_w - k_orig * iw)
        if bottom:  # the picture's bottom edge never above the frame's: no floating half-figure
            # (below it, as when the video is a head and shoulders, the edge is out of sight and the
            # figure stays where the video's person is: pinned there, her skirt filled the frame)
            offset[1] = max(offset[1], out_h - k_orig * ih)
        # a bust or a head and shoulders cut at its top is moved up to keep that cut out, where its
        # bottom edge, kept down, allows; a head and shoulders SIDE_REACH of the frame's height at
        # most (further, its face stays where the video's is and the cut shows)
        top = top and (offset[1] <= SIDE_REACH * out_h or not talking) and (not bottom or k_orig * ih >= out_h)
        if top:
            offset[1] = min(offset[1], 0.0)
    else:  # the frame is the picture's shape: its edges on the frame's
        out_w, out_h = output_size(iw / max(1, ih), tier)
        k_orig = out_w / iw
        offset = np.zeros(2)
        left, right = cut_at_sides(cut)
        top = cut_at_top(cut)
    work_scale = min(1.0, k_orig, WORK_MAX_SIDE / max(iw, ih))
    k = k_orig / work_scale
    return Placement(out_w, out_h, k, np.asarray(offset, np.float64), work_scale, (left, right), top, zoom), offset


def half_zoom(cut: Cutout, motion: np.ndarray, k: float, nose_out: np.ndarray, size: tuple[int, int]) -> float:
    """How many times larger than the dancer's size `k` a half figure (cut off at its bottom, with a
    dance) is drawn: its nose at the dancer's `nose_out` with its bottom edge on the frame's (of
    `size`), as far as its shoulders span HALF_SHOULDERS of the frame's width and its hair's top,
    lifted as far as the motion lifts its head (head_lift), stays HALF_HEADROOM under the frame's
    top; 1 (at the dancer's size) for one the motion lifts by more than HALF_UPRIGHT of its torso."""
    lm, (ih, _), (out_w, out_h) = cut.landmarks, cut.alpha.shape, size
    lift = head_lift(cut, motion)
    if lift > HALF_UPRIGHT * L.torso_length(lm):
        return 1.0
    fills = (out_h - nose_out[1]) / max(ih - lm[L.NOSE, 1], 1.0)
    shoulders = float(np.linalg.norm(lm[L.L_SHOULDER, :2] - lm[L.R_SHOULDER, :2]))
    hair = float(np.flatnonzero((cut.alpha >= 0.5).any(axis=1))[0]) - lift
    most = min(HALF_SHOULDERS * out_w / max(shoulders, 1.0), (1.0 - HALF_HEADROOM) * out_h / max(ih - hair, 1.0))
    return max(1.0, min(fills, most) / k)


def head_lift(cut: Cutout, motion: np.ndarray) -> float:
    """How far (picture px) the character's nose, the motion retargeted onto it, rises at most over
    its hips above where the picture has it: a half figure made larger keeps its hair's top in the
    frame all through (its hips' own rises are taken out, keep_bottom_edge). The armour cut at the
    waist, read bent over (its hips inside the picture, its torso short), stood up as the dancer
    did: with its hair's top under the frame's top as the picture has it, its helmet went out."""
    t = retarget(motion, cut.landmarks, cut.seen)
    over = root_point(t)[:, 1] - t[:, L.NOSE, 1]  # the nose's height over the hips
    rest = float(root_point(cut.landmarks)[1] - cut.landmarks[L.NOSE, 1])
    return float(max(0.0, np.nanmax(over) - rest)) if np.isfinite(over).any() else 0.0


def cut_at_bottom(cut: Cutout) -> bool:
    """The picture cuts the character off at its bottom edge (no feet: the ankles are not seen
    and the character's mask runs into the bottom rows, segment.reaches_bottom)."""
    if cut.seen[L.L_ANKLE] and cut.seen[L.R_ANKLE]:
        return False
    return reaches_bottom(cut.landmarks, cut.alpha >= 0.5)


def cut_at_top(cut: Cutout) -> bool:
    """The picture cuts the character off at its top edge: the mask runs into the top rows
    (segment.reaches_top; a head cropped through the hair)."""
    return reaches_top(cut.landmarks, cut.alpha >= 0.5)


def cut_at_sides(cut: Cutout) -> tuple[bool, bool]:
    """Whether the picture cuts the character off at its left edge, and at its right (the mask
    runs into that side's columns, segment.reaches_sides): a portrait's shoulders."""
    return reaches_sides(cut.landmarks, cut.alpha >= 0.5)


def pinned_sides(cut: Cutout, p: Placement) -> tuple[bool, bool]:
    """The side edges whose vertices are held past the frame's side (Rig.cut_sides): those the
    picture cuts the character off at, of those the placement keeps out (a bust's uncut side, at
    the frame's side too, has none of the character on it)."""
    left, right = cut_at_sides(cut)
    return left and p.sides[0], right and p.sides[1]


def root_point(lms: np.ndarray, root: int = ROOT) -> np.ndarray:
    """The motion's root (retarget's `root`: the hips' middle, or a landmark) in each pose of
    `lms` ((..., 33, >=2) -> (..., 2))."""
    return (lms[..., L.L_HIP, :2] + lms[..., L.R_HIP, :2]) / 2 if root == ROOT else lms[..., root, :2]


def keep_side_edges(targets: np.ndarray, p: Placement, rig: Rig, root: int = ROOT) -> np.ndarray:
    """A character cut off at a side never moves away from that side (its cut edge would show
    inside the frame): the root's sideways motion (motion_root's) is held to what keeps the
    picture's cut edges that the placement keeps out (`p.sides`; at rest at p.offset and p.offset +
    the picture's width) at or past the frame's sides (in place; returned)."""
    left_x, right_x = p.offset[0], p.offset[0] + p.k * rig.width
    lo = p.width - right_x if p.sides[1] else -np.inf
    hi = -left_x if p.sides[0] else np.inf
    moved = root_point(targets, root)[:, 0] - (p.k * root_point(rig.landmarks, root)[0] + p.offset[0])
    targets[:, :, 0] += (np.clip(moved, min(lo, hi), hi) - moved)[:, None]
    return targets


def limbs_at_sides(rig: Rig) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The arms and the legs (indices into retarget.LIMBS) with a bone by a side edge that the
    placement keeps out of the frame (Rig.cut_sides, deform.side_held): held in the picture's own
    pose, as an arm the picture cuts off is. Moving with the dancer, a leg cut lengthwise by the
    woman's picture's side was pulled between its pinned edge and its knee into a zigzag."""
    by_side = side_held(rig)
    limbs = [i for i, (first, second, third, *_) in enumerate(LIMBS) if {(first, second), (second, third)} & by_side]
    return tuple(i for i in limbs if i < 2), tuple(i for i in limbs if i >= 2)


def travel_as_dancer(poses: np.ndarray, zoom: float, root: int = ROOT) -> np.ndarray:
    """The video's poses for a character drawn `zoom` times the dancer's size (Placement.zoom): the
    root's motion from the first frame divided by `zoom`, every joint moved with it, so the
    character, retargeted at its size, travels as far in the frame as the dancer does (in place;
    returned). Multiplied with the figure, it took the man cut at the waist, 1.75 times the dancer's
    size, to the frame's side, part of his jacket out of it, when she stepped aside. `root`:
    motion_root's."""
    at = root_point(poses, root)
    found = np.isfinite(at).all(axis=1)
    if zoom > 1.0 and found.any():  # from the first frame with a root, as retarget's
        moved = np.nan_to_num(at - at[int(np.argmax(found))])
        poses[:, :, :2] -= (1.0 - 1.0 / zoom) * moved[:, None, :]
    return poses


def keep_bottom_edge(targets: np.ndarray, room: float = 0.0, root: int = ROOT) -> np.ndarray:
    """A character cut off at the bottom never rises more than `room` px above where it started
    (how far its cut edge then lies below the frame's bottom; further, that edge would show): the
    vertical root motion upward past it is taken out, frame by frame (in place; returned). A talking
    head's bust starts with its edge below the frame: held where it started, its face stayed down
    when the video's rose, 50-110 px below it in a 720p frame. `root`: motion_root's."""
    root_y = root_point(targets, root)[:, 1]
    rise = np.minimum(root_y - root_y[0] + max(0.0, room), 0.0)
    targets[:, :, 1] -= rise[:, None]
    return targets


def plate_for(orientation: str, plate_work: np.ndarray, p: Placement, scene: bool = False) -> np.ndarray:
    """The background plate in the output frame. For `image` it is the picture scaled. For
    `video` the picture moves with the character at the character's own scale, so the filled-in
    place where the character stood stays under the character (zooming the plate to cover the
    frame made that hole larger than the figure: an exposed silhouette around it, measured as
    `exposed`); what the picture does not cover continues its edge: the picture's shading (blurred
    over PLATE_SHADING of its longer side) runs on as it is at the edge, its detail mirrored
    outward. (Mirrored whole, a studio floor's shadow, darkest at the picture's bottom edge, grew
    light again below it: a ledge under the figure; and beside it the smooth fill where the figure
    stood came back as its ghost.) Beside a `scene` (filled by PatchMatch: textured, no smooth
    ghost) only its broadest shade runs on (SCENE_SHADING), and its mirrored detail fades out
    with the distance from the picture (SCENE_DETAIL), its shade further out turning to its
    broadest (SCENE_NEAR, SCENE_FAR): a finer shade run on drew its clouds out into streaks, and
    its detail mirrored on at full strength repeated its tower and its cat on either side of a
    landscape frame. A mask (bool) is mirrored as it is (beside a scene, only
    where its detail is still half there)."""
    mask = plate_work.dtype == bool
    if mask:
        plate_work = plate_work.astype(np.uint8) * 255
    if orientation != "video":
        placed = cv2.resize(
            plate_work, (p.width, p.height), interpolation=cv2.INTER_AREA if p.k < 1 else cv2.INTER_LINEAR
        )
        return placed > 127 if mask else placed
    m = np.array([[p.k, 0, p.offset[0]], [0, p.k, p.offset[1]]], np.float32)

    def warp(a: np.ndarray, border: int) -> np.ndarray:
        return cv2.warpAffine(a, m, (p.width, p.height), flags=cv2.INTER_LINEAR, borderMode=border)

    h, w = plate_work.shape[:2]
    if mask:
        placed = warp(plate_work, cv2.BORDER_REFLECT_101) > 127
        if scene:  # beside a scene the detail fades out (below), what it mirrored of the mask with it
            placed &= detail_fade(p, w, h, SCENE_DETAIL * max(h, w)) >= 0.5
        return placed
    src = plate_work.astype(np.float32)
    along, across = PLATE_SHADING * max(h, w), PLATE_EDGE * max(h, w)
    # beside the picture (and inside it) its columns' shading (blurred along them), above and below
    # it its rows' (worked out only when the frame reaches there)
    side = SCENE_SHADING * max(h, w) if scene else along
    fade = detail_fade(p, w, h, SCENE_DETAIL * max(h, w)) if scene else None
    placed = warp_parts(src, cv2.GaussianBlur(src, (0, 0), across, sigmaY=side), warp, fade)
    ys = (np.arange(p.height, dtype=np.float64) - p.offset[1]) / p.k
    beyond = (ys < 0) | (ys > h - 1)
    if beyond.any():
        rows = warp_parts(src, cv2.GaussianBlur(src, (0, 0), along, sigmaY=across), warp, fade)
        placed[beyond] = rows[beyond]
    if fade is not None and fade.min() < 1.0:  # the frame reaches past the scene: its broadest shade
        near = detail_fade(p, w, h, SCENE_NEAR * max(h, w))[..., None]
        far = warp(broad_blur(src, SCENE_FAR * max(h, w)), cv2.BORDER_REPLICATE)
        placed = placed * near + far * (1.0 - near)
    return np.clip(np.rint(placed), 0, 255).astype(np.uint8)


def frame_box(p: Placement) -> tuple[float, float, float, float]:
    """What the output frame shows, in the working picture's pixels: (x0, y0, x1, y1)."""
    return (-p.offset[0] / p.k, -p.offset[1] / p.k, (p.width - p.offset[0]) / p.k, (p.height - p.offset[1]) / p.k)


def continued_scene(plate: np.ndarray, plate_work: np.ndarray, p: Placement) -> np.ndarray:
    """`plate` (plate_for's, `video` beside a scene) with what the frame shows past the picture,
    BEYOND_MIN of its longer side or more, the scene continued (inpaint.scene_beyond: PatchMatch,
    sky from sky, street from street), scaled up into the frame; the picture itself as it is, and
    mirrored past its edge, giving way to the continuation over SEAM of its longer side: the
    continuation met the picture in a line down the frame (a cloud cut off at the picture's edge,
    the stars stopping there, a balustrade stepping). Beside a portrait picture in a landscape frame
    plate_for's broadest shade covered two thirds of the frame: a haze. The render's plate only:
    the calibration draws the puppet over plate_for's (no PatchMatch before it), whose readings a
    backdrop's detail far from the figure hardly moves."""
    h, w = plate_work.shape[:2]
    box = frame_box(p)
    if max(-box[0], -box[1], box[2] - w, box[3] - h) < BEYOND_MIN * max(h, w):
        return plate
    got = scene_beyond(plate_work, box)
    if got is None:
        return plate
    canvas, to_picture = got
    to_frame = np.array([[p.k, 0.0, p.offset[0]], [0.0, p.k, p.offset[1]], [0.0, 0.0, 1.0]]) @ np.vstack(
        [to_picture, [0, 0, 1]]
    )
    beyond = cv2.warpAffine(
        canvas, to_frame[:2], (p.width, p.height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    m = np.array([[p.k, 0, p.offset[0]], [0, p.k, p.offset[1]]], np.float32)
    mirrored = cv2.warpAffine(
        plate_work, m, (p.width, p.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    # e^-(d / SEAM)^2: the mirror as it is near the edge and gone further out, where e^(-d / SEAM)
    # still showed a ghost of the night street's tower (50 px in from her picture's edge)
    d = distance_out(p, w, h)[..., None]
    near = np.exp(-np.square(d / (SEAM * max(h, w))))
    out = np.clip(np.rint(mirrored * near + beyond * (1.0 - near)), 0, 255).astype(np.uint8)
    return np.where(d == 0.0, plate, out)  # on the picture, plate_for's pixels


def warp_parts(
    src: np.ndarray,
    shading: np.ndarray,
    warp: Callable[[np.ndarray, int], np.ndarray],
    fade: np.ndarray | None = None,
) -> np.ndarray:
    """`src` placed by `warp`: past its edge `shading` runs on as it is there, the rest mirrored
    (times `fade`, per output pixel, when given)."""
    detail = warp(src - shading, cv2.BORDER_REFLECT_101)
    if fade is not None:
        detail *= fade[..., None]
    return detail + warp(shading, cv2.BORDER_REPLICATE)


def broad_blur(src: np.ndarray, sigma: float) -> np.ndarray:
    """`src` (float32) blurred by `sigma` px, worked out on a copy 1/(sigma / 8) of its size (a
    blur of 300 px at full size took 1.4 s)."""
    h, w = src.shape[:2]
    f = min(1.0, 8.0 / sigma)
    small = cv2.resize(src, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma * small.shape[1] / w)
    return cv2.resize(blurred, (w, h), interpolation=cv2.INTER_CUBIC)


def detail_fade(p: Placement, w: int, h: int, length: float) -> np.ndarray:
    """Per output pixel, e^(-d / length): d its distance_out; 1 on the picture."""
    return np.exp(-distance_out(p, w, h) / length).astype(np.float32)


def distance_out(p: Placement, w: int, h: int) -> np.ndarray:
    """Per output pixel, its distance (picture px) from the `w` x `h` picture as `p` places it
    (float32; 0 on the picture)."""
    xs = (np.arange(p.width, dtype=np.float32) - p.offset[0]) / p.k
    ys = (np.arange(p.height, dtype=np.float32) - p.offset[1]) / p.k
    dx = np.maximum(0.0, np.maximum(-xs, xs - (w - 1)))
    dy = np.maximum(0.0, np.maximum(-ys, ys - (h - 1)))
    return np.hypot(dy[:, None], dx[None, :])


class _Progress:
    def __init__(self, fn: ProgressFn | None) -> None:
        self.fn = fn

    def __call__(self, phase: str, done: float, text: str) -> None:
        if self.fn is None:
            return
        lo, hi = PHASES[phase]
        self.fn(lo + (hi - lo) * min(1.0, max(0.0, done)), text)


def run_engine(
    job: EngineJob,
    out_path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    cache_dir: Path | None = None,
    on_frame: Callable[[int, np.ndarray, FrameStats], None] | None = None,
    on_preview: Callable[[np.ndarray], None] | None = None,
) -> EngineResult:
    """Render `job` to `out_path` (MP4). Raises EngineError (clear text) or EngineCancelled.
    on_frame gets each frame drawn; on_preview each drawing of the puppet while its joints are
    calibrated (smaller, in the motion's poses), before the first frame."""
    if job.orientation not in ORIENTATIONS:
        raise EngineError(says("orientation", o=job.orientation, l=", ".join(ORIENTATIONS)))
    report = _Progress(progress)
    cancel = cancel or threading.Event()
    timings: dict[str, float] = {}
    notes: list[str] = []
    started = time.perf_counter()

    # The motion is read on its own thread while the picture is cut out: two cores, two jobs.
    stop_motion = threading.Event()
    smearing: Future[np.ndarray] | None = None  # the smear's measure of the fill (below)
    reading = _MOTION.submit(
        _timed,
        track_motion,
        job.video,
        max_seconds=LIMITS.video_max_seconds[job.orientation],
        cache_dir=cache_dir,
        progress=lambda i, n: report("motion", i / max(1, n), says("reading_motion", i=i, n=n)),
        cancel=stop_motion,
        stride=motion_stride(job.video),
    )
    try:
        # the picture read ahead while its visitor looked at the checks, or read now
        picture, made = read_picture(job.image, job.orientation, job.tier, cancel)
        timings.update(picture.seconds if made else {"picture_wait": time.perf_counter() - started})
        cut, scene = picture.cut, picture.scene
        scale = likely_work_scale(job.orientation, job.tier, cut)
        early = None if scale is None else picture.early.get(scale)
        if early is not None:  # with the smear's measure of its plate (below), made beside
            smearing = early.smear
        t0 = time.perf_counter()
        track, timings["motion"] = _wait(reading, cancel, stop_motion)
        timings["motion_wait"] = time.perf_counter() - t0
    except BaseException:
        stop_motion.set()  # never leave the reading running: nothing may be inside mediapipe at exit
        wait([reading] if smearing is None else [reading, smearing])  # its own error is not the one raised
        raise
    # (an error raised from here to the calibration leaves the smear's measure to end on its own
    # thread, in a second at most: it holds no model and writes nothing)
    n, motion, still = drawn_motion(track, cut)
    opening = clip_opening(track.mouth, track.face_times, n, track.fps)
    closing = clip_closing(track.eyes, track.face_times, n, track.fps)
    widening = clip_width(track.mouth_width, track.face_times, n, track.fps)

    t0 = time.perf_counter()
    report("rig", 0.0, says("building"))
    placement, _ = place(job.orientation, job.tier, cut, motion, track)
    root = motion_root(motion, track.height)
    motion = travel_as_dancer(motion, placement.zoom, root)  # (calibrated on as it is drawn)
    if early is None or early.scale != placement.work_scale:
        if smearing is not None:
            smearing.result()  # the early rig's, at a working size the placement did not give
        # one built at the placement's working size (a picture read ahead with its run's motion)
        early = picture.early.get(placement.work_scale)
        smearing = None if early is None else early.smear
    if early is not None:
        rig, work, plates = early.rig, early.work, early.plates
    else:
        rig, work = _rig(cut, placement.work_scale)
        plates = _plates(work, scene)
    work_bgr, hole, plate_work = plates
    rig = replace(rig, cut_sides=pinned_sides(cut, placement), cut_top=placement.top)
    plate = plate_for(job.orientation, plate_work, placement, scene=scene is not None)
    timings["rig"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report("rig", 0.5, says("calibrating"))
    # the filled-in background that shows as a smear when uncovered (a plain backdrop's fill does
    # not, nor PatchMatch's on a scene), told apart while the motion was read (the early rig's, at
    # the placement's working size) or beside the calibration
    if smearing is None:
        smearing = _BESIDE.submit(smeared, work_bgr, hole, plate_work)
    # and the scene continued where the frame reaches past it (the render's plate)
    extending = None
    if scene is not None and job.orientation == "video":
        extending = _BESIDE.submit(continued_scene, plate, plate_work, placement)
    # a held arm's hand raised by the face is kept there, in the calibration's drawings as in the render
    by_head = raised_arms(rig.landmarks, tuple(i for i in still if i not in limbs_at_sides(rig)[0]))
    try:
        rig, bind_pose, calibration = calibrate(
            cut, placement, rig, motion, plate, on_preview, job.arap, work[3], root, by_head
        )
    finally:
        smear = smearing.result()
    # (an error raised by the calibration leaves the scene's continuation to end on its own thread,
    # as the smear's measure: it holds no model and writes nothing)
    plate = plate if extending is None else extending.result()
    filled = plate_for(job.orientation, smear.astype(bool), placement, scene=scene is not None)
    # an arm the picture cuts off is held as the calibrated bind pose has it: as the picture is drawn
    held = arms_off_the_picture(cut.landmarks, *cut.alpha.shape[::-1])
    motion = hold_limbs(motion, rig.landmarks, held, turn=True)
    arms, legs = limbs_at_sides(rig)  # and a limb a kept side edge holds: its pins would fight its motion
    motion = hold_limbs(hold_limbs(motion, rig.landmarks, arms, turn=True), rig.landmarks, legs)
    by_head = tuple(i for i in by_head if i not in arms)
    targets = hands_by_head(retarget(motion, rig.landmarks, rig.seen, root), rig.landmarks, by_head)
    targets = to_output(targets, placement)
    if job.orientation == "video" and cut_at_bottom(cut):
        below = placement.offset[1] + placement.k * rig.height - placement.height  # its edge below the frame
        targets = keep_bottom_edge(targets, below, root)
    if any(placement.sides):
        targets = keep_side_edges(targets, placement, rig, root)
    timings["bind"] = time.perf_counter() - t0
    report("rig", 1.0, says("ready"))

    audio = job.video if (job.keep_sound and track.has_audio) else None
    if job.keep_sound and not track.has_audio:
        notes.append(says("no_sound"))
    if _header_duration(track) > track.duration + 0.5 / track.fps:
        notes.append(says("first_seconds", d=f"{track.duration:.1f}", o=job.orientation))
    if held:  # the picture's own left and right
        arm = ("left arm", "right arm")[held[0]]
        notes.append(says("arms_held") if len(held) == 2 else says("arm_held", w_arm=arm))
    shown = [c and not kept for c, kept in zip(cut_at_sides(cut), placement.sides, strict=True)]
    if any(shown):  # a bust too far from the frame's side, or too narrow for the frame (place)
        notes.append(says("side_shown"))
    top_shown = job.orientation == "video" and cut_at_top(cut) and not placement.top
    if top_shown:  # a head and shoulders too far below the frame's top, a bust shorter than the frame
        notes.append(says("top_shown"))
    notes.append(says("prompt_unused"))

    t0 = time.perf_counter()
    yaw = usual_yaw(targets)
    read = opening is not None or closing is not None or widening is not None
    face_mesh = None if cut.face is None or not read else cut.face * placement.work_scale
    options = {"rigid_arms": job.rigid_arms, "arap": job.arap, "usual_yaw": yaw, "face_mesh": face_mesh}
    options["shadow_on_character"] = True  # none on the backdrop (the calibration's drawings keep it there)
    options["fine"] = True  # a magnified picture's textures sharpened (the calibration's drawings as they are)
    band = SIDE_FADE * head_and_shoulders(rig.landmarks[None])  # the calibration's drawings: as cut
    options["fade_sides"] = (band if shown[0] else 0.0, band if shown[1] else 0.0)
    options["fade_top"] = band if top_shown else 0.0
    renderers = [Renderer(rig, plate, placement.k, GRID, filled, **options) for _ in range(RENDER_THREADS)]
    nearer = [renderers[0].left_leg_nearer(t) for t in targets]  # in order: it remembers the frame before
    moves = bone_transforms_many(renderers[0].rest, named_points(np.moveaxis(targets, 0, 1)), placement.k)
    holes, flipped, breaks, tears, exposed, stretch, cut_ends = (np.zeros(n, np.float32) for _ in range(7))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = VideoWriter(out_path, placement.width, placement.height, track.rate, n / track.fps, audio)
    # Frames are drawn on RENDER_THREADS threads, frame i by renderer i % RENDER_THREADS (one frame
    # at a time each), and go down the encoder's pipe in order on a thread of their own. Frame i's
    # buffer is drawn again (frame i + FRAME_BUFFERS) only once frame i was written.
    buffers = [np.empty((placement.height, placement.width, 3), np.uint8) for _ in range(FRAME_BUFFERS)]

    def draw(i: int) -> FrameStats:
        renderer = renderers[i % RENDER_THREADS]
        transforms = {bone: m[i] for bone, m in moves.items()}
        face = {"opening": 0.0 if opening is None else float(opening[i])}
        face["closing"] = 0.0 if closing is None else float(closing[i])
        face["widening"] = 1.0 if widening is None else float(widening[i])
        buffer = buffers[i % FRAME_BUFFERS]
        renderer.render(targets[i], buffer, left_leg_nearer=nearer[i], transforms=transforms, **face)
        return renderer.last_stats

    drawing: deque[tuple[int, Future[FrameStats]]] = deque()
    writing: Future[None] | None = None

    def written(j: int, stats: FrameStats) -> None:
        nonlocal writing
        holes[j], flipped[j] = stats.holes, stats.flipped
        breaks[j], tears[j], exposed[j], stretch[j] = stats.breaks, stats.tears, stats.exposed, stats.stretch
        cut_ends[j] = stats.cut_ends
        if writing is not None:
            writing.result()
        frame = buffers[j % FRAME_BUFFERS]
        writing = _WRITE.submit(writer.write, frame)
        if on_frame is not None:
            on_frame(j, frame, stats)
        report("render", (j + 1) / n, says("rendering", i=j + 1, n=n))

    try:
        for i in range(n):
            if cancel.is_set():
                raise EngineCancelled(says("stopped"))
            if len(drawing) == RENDER_THREADS:  # its renderer is free once the oldest frame is done
                j, done = drawing.popleft()
                written(j, done.result())
            drawing.append((i, _RENDER.submit(draw, i)))
        while drawing:
            j, done = drawing.popleft()
            written(j, done.result())
        if writing is not None:
            writing.result()
        writer.close()
    except BaseException:
        wait([f for _, f in drawing] + ([writing] if writing is not None else []))
        writer.abort()
        raise
    timings["render"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return EngineResult(
        out_path,
        placement.width,
        placement.height,
        track.fps,
        track.rate,
        n,
        n / track.fps,
        audio is not None,
        job.orientation,
        job.tier,
        targets,
        holes,
        flipped,
        timings,
        notes,
        calibration,
        bind_pose,
        breaks,
        tears,
        exposed,
        stretch,
        cut_ends,
        hand_sources(cut.hands),
    )


_MOTION = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-engine-motion")
# the picture's cut-out, hands and face: their models' graphs are per thread, built once on this one
_CUT = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-engine-cut")
# the scene's fill beside the rig's build, the smear's measure beside the calibration
_BESIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmc-engine-beside")
_WRITE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kmc-engine-write")  # one per render at a time
RENDER_THREADS = 2  # frames drawn at once (OpenCV and NumPy leave the GIL): the renderer sets the pace, not x264
FRAME_BUFFERS = RENDER_THREADS + 2  # drawing, being written, and one to spare
_RENDER = ThreadPoolExecutor(max_workers=2 * RENDER_THREADS, thread_name_prefix="kmc-engine-render")  # 2 at once


class _Ahead:
    """Readings ahead of a run, one at a time on a thread of their own, only the newest one waiting:
    a newer submit drops one still waiting (one already reading goes on: a run may be joining it)."""

    def __init__(self, name: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.waiting: list[Future[None]] = []
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., object], *args: Any) -> Future[None] | None:
        try:
            with self.lock:
                for older in self.waiting:
                    older.cancel()
                self.waiting[:] = [self.pool.submit(_quietly, fn, *args)]
                return self.waiting[0]
        except Exception:  # (a pool shut down at exit)
            return None


def _quietly(fn: Callable[..., object], *args: Any) -> None:
    with suppress(Exception):  # the run reads it again and says what is wrong with it
        fn(*args)


_MOTION_AHEAD = _Ahead("kmc-engine-ahead")  # a run's motion (read_motion_ahead)
_PICTURE_AHEAD = _Ahead("kmc-engine-picture")  # a run's picture (read_picture_ahead)


def read_motion_ahead(video: str | Path, orientation: str, cache_dir: Path | None) -> Future[None] | None:
    """Start the motion pass that a run of `video` in `orientation` will make (track_motion with
    the engine's parameters, into cache_dir) on a thread of its own: called once a visitor's clip
    is checked for the offline engine, seconds before they press Generate. The run then finds the
    track cached, or joins this reading where it got to (track_motion reads a clip once at a
    time). Never raises: a clip that cannot be read ends it quietly (the run says why)."""
    return _MOTION_AHEAD.submit(_read_motion, Path(video), orientation, cache_dir)


def _read_motion(video: Path, orientation: str, cache_dir: Path | None) -> MotionTrack:
    """The motion pass a run of `video` in `orientation` makes (run_engine's parameters)."""
    limit = LIMITS.video_max_seconds.get(orientation, max(LIMITS.video_max_seconds.values()))
    return track_motion(video, max_seconds=limit, cache_dir=cache_dir, stride=motion_stride(video))


def read_picture_ahead(
    image: str | Path | Callable[[], Path],
    orientation: str,
    tier: str,
    video: str | Path | None = None,
    cache_dir: Path | None = None,
) -> Future[None] | None:
    """Start the reading of `image` that a run in `orientation` and `tier` will make (read_picture:
    the cut-out, the scene's fill, the early rig) on a thread of its own: called once a visitor's
    picture is checked for the offline engine. The run then finds it read, or joins the reading.
    `image` is the picture's path, or a function giving it on that thread (the studio's: the
    picture a run will send, fixed where it needs to be). With the run's clip, `video` (its motion
    read into cache_dir, as read_motion_ahead reads it), the rig is built at the placement's own
    working scale. Never raises (the run says what is wrong with the picture)."""
    return _PICTURE_AHEAD.submit(_read_picture_ahead, image, orientation, tier, video, cache_dir)


def _read_picture_ahead(
    image: str | Path | Callable[[], Path],
    orientation: str,
    tier: str,
    video: str | Path | None,
    cache_dir: Path | None,
) -> None:
    motion = None if video is None else partial(_read_motion, Path(video), orientation, cache_dir)
    read_picture(Path(image() if callable(image) else image), orientation, tier, motion=motion)


def forget_pictures() -> None:
    """Forget the pictures read (benchmarks measure a picture never seen)."""
    with _PICTURES_LOCK:
        _PICTURES.clear()


def _timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    t0 = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - t0


def _wait(reading: Future[tuple[T, float]], cancel: threading.Event, stop: threading.Event) -> tuple[T, float]:
    """The reading's result; the caller's `cancel` is passed on to it while it runs."""
    while True:
        try:
            return reading.result(timeout=0.1)
        except FutureTimeout:
            if cancel.is_set():
                stop.set()


def cut_picture(image: Path) -> Cutout:
    """The character cut out of the picture at `image`, with its hands and its face read."""
    cut = cut_out(load_picture(image))
    if cut is None:
        raise EngineError(says("no_person_picture"))
    return replace(cut, hands=picture_hands(cut), face=picture_face(cut))


_WARMING: Future[float] | None = None
_WARMING_LOCK = threading.Lock()


def warm_up(cache_dir: Path | None = None) -> Future[float]:
    """Load the engine's models in the background, once a process (the seconds it took, when done).

    A process's first run otherwise pays for importing mediapipe and starting its models: measured
    on the night street, 13.3-15.3 s end to end cold against 12.0-12.4 s after this, the puppet first
    drawn after 6.5-7.3 s against 4.9-5.2 s (bench/bench_engine.py --first). The models are started
    on the threads that will run them (`_CUT`, `_MOTION`)."""
    global _WARMING
    with _WARMING_LOCK:
        if _WARMING is None:
            _WARMING = _MOTION.submit(_warm, cache_dir)
        return _WARMING


def warming() -> Future[float] | None:
    """warm_up's future, once it was asked for."""
    return _WARMING


def _warm(cache_dir: Path | None) -> float:
    from kmc_ui.engine.motion import fresh_landmarker
    from kmc_ui.engine.segment import detect_with_mask
    from kmc_ui.pose.model import face_mesher, hand_detector

    started = time.perf_counter()
    # the package whole first, on one thread: two threads importing mediapipe's parts at once can
    # deadlock (Python's import locks taken in opposite orders)
    import mediapipe  # noqa: F401

    blank = np.zeros((64, 64, 3), np.uint8)

    def on_cut() -> None:
        detect_with_mask(blank)
        hand_detector().process(blank)
        face_mesher().process(blank)

    cutting = _CUT.submit(on_cut)
    fresh_landmarker(cache_dir).close()
    cutting.result()
    return time.perf_counter() - started


def picture_hands(cut: Cutout) -> dict[str, np.ndarray | None]:
    """Cutout.hands: each hand the detector finds at the end of its arm; no hand where none is
    found and the wrist rests against the body (checks/pose.hand_states: "tucked"), so a pocket
    never becomes a hand; otherwise (a hand the detector cannot read) the pose's estimate."""
    found = hand_points(cut.rgb, cut.landmarks)
    verdicts = tuple(FOUND if hand is not None else MISSING for hand in found)
    states = hand_states(cut.landmarks, cut.seen, verdicts)
    out: dict[str, np.ndarray | None] = {}
    for side, hand, state in zip(("l", "r"), found, states, strict=True):
        if hand is not None:
            out[side] = hand
        elif state == "tucked":
            out[side] = None
    return out


def picture_face(cut: Cutout) -> np.ndarray | None:
    """Cutout.face: the face mesh's points, read on a crop around the head the pose found (none
    when the pose sees no face: nose and both ears)."""
    if not cut.seen[[L.NOSE, L.L_EAR, L.R_EAR]].all():
        return None
    pts = named_points(cut.landmarks)
    return find_face(cut.rgb, pts["head_c"], head_radius(pts, torso_length(cut.landmarks)))


def hand_sources(hands: dict[str, np.ndarray | None]) -> dict[str, str]:
    """How each hand was cut: "detected" (the hand detector's shape), "hidden" (none found, the
    wrist against the body: the sleeve ends at the wrist), "estimated" (from the pose alone)."""
    out = {}
    for side, name in (("l", "left"), ("r", "right")):
        if side not in hands:
            out[name] = "estimated"
        else:
            out[name] = "hidden" if hands[side] is None else "detected"
    return out


def calibrate(
    cut: Cutout,
    p: Placement,
    rig: Rig,
    motion: np.ndarray,
    plate: np.ndarray,
    show: Callable[[np.ndarray], None] | None = None,
    arap: bool = True,
    backdrop: np.ndarray | None = None,
    root: int = ROOT,
    by_head: tuple[int, ...] = (),
) -> tuple[Rig, np.ndarray, Calibration]:
    """The rig rebuilt on a bind pose calibrated on the puppet itself (kmc_ui/engine/bind.py),
    starting from the cut-out's detected pose, for this placement and background plate (in the
    output frame; `backdrop`, the same in working px as `_rig` gives it, when at hand: the rig
    rebuilt takes it, as it does not depend on the joints); root: the motion's (motion_root);
    by_head: the arms whose hands are kept by the head (hands_by_head), as the render keeps them."""
    # the layers are cut again around the calibrated joints when one moved by SETTLED or more:
    # without it, the legs' mesh bound to the moved hips and knees tore between touching legs (the
    # anime sample pair: 20+ frames). The arms keep the rig's split from the body (build_rig).
    return calibrate_bind(
        cut.landmarks,
        lambda lm: replace(
            _rig(replace(cut, landmarks=lm), p.work_scale, arms=rig.arms, plate=backdrop)[0],
            cut_sides=pinned_sides(cut, p),
            cut_top=p.top,
        ),
        rig,
        motion,
        lambda t: to_output(t, p),
        plate,
        p.k,
        p.work_scale,
        show=show,
        arap=arap,
        root=root,
        by_head=by_head,
    )


def to_output(targets: np.ndarray, p: Placement) -> np.ndarray:
    """Retargeted targets (working px) in output pixels (in place; returned)."""
    targets[:, :, :2] = targets[:, :, :2] * p.k + p.offset
    targets[:, :, 2] *= p.k
    return targets


def _header_duration(track: MotionTrack) -> float:
    try:
        from kmc_ui.media.probe import probe_video

        return probe_video(track.path).duration or track.duration
    except Exception:
        return track.duration


def _plates(
    work: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], scene: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The working pictures `_rig` gave: the picture (BGR), the hole the character leaves in it,
    and the background plate (the hole filled by the row fill, or by PatchMatch's `scene`)."""
    work_bgr, hole = cv2.cvtColor(work[0], cv2.COLOR_RGB2BGR), plate_hole(work[1], work[2])
    return work_bgr, hole, work[3] if scene is None else with_fill(work_bgr, hole, scene)


def likely_work_scale(orientation: str, tier: str, cut: Cutout) -> float | None:
    """The working scale `place` will give, before the motion is read: exact for the image
    orientation (the frame fits the picture); for the video orientation the picture's own cap,
    right when its character is no larger than the video's person in the frame, guessed for a
    picture up to EARLY_MAX_SIDE only (None for a larger one)."""
    ih, iw = cut.alpha.shape
    cap = min(1.0, WORK_MAX_SIDE / max(iw, ih))
    if orientation == "image":
        return min(cap, output_size(iw / max(1, ih), tier)[0] / iw)
    return cap if max(iw, ih) <= EARLY_MAX_SIDE else None


@dataclass(frozen=True)
class EarlyRig:
    """The rig built before the motion is read, at the working scale the placement will most likely
    give (likely_work_scale): its working pictures (_rig), their plates (_plates) and the smear's
    measure of the plate, made beside."""

    scale: float
    rig: Rig
    work: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    plates: tuple[np.ndarray, np.ndarray, np.ndarray]
    smear: Future[np.ndarray]


@dataclass(frozen=True)
class PictureRead:
    """A character picture read for the engine: its cut-out (hands and face read), the scene
    behind it filled by PatchMatch (None: a plain backdrop), the rigs built early by working scale,
    and the seconds its reading took (cut_out, scene, rig_early). Never changed once made: a run
    of it finds it as it was read."""

    cut: Cutout
    scene: np.ndarray | None
    early: dict[float, EarlyRig]
    seconds: dict[str, float]


# the pictures last read, kept in memory for their runs up to this many bytes of arrays, the newest
# always (a rig holds each layer's RGBA at the working size: 62-91 MB for the shared photos)
PICTURES_BYTES = 512 * 1024 * 1024
_PICTURES: OrderedDict[Any, tuple[PictureRead, int]] = OrderedDict()
_PICTURES_LOCK = threading.Lock()


def read_picture(
    image: Path,
    orientation: str,
    tier: str,
    cancel: threading.Event | None = None,
    motion: Callable[[], MotionTrack] | None = None,
) -> tuple[PictureRead, bool]:
    """The picture at `image` read for a run in `orientation` and `tier`, and whether this call read
    it. A picture read before (by read_picture_ahead or a run; the last ones, up to PICTURES_BYTES,
    known by content) is not read again: only its early rig is built when another working scale is
    likely. A caller that finds the same picture's reading under way waits for it (`cancel` stops
    the wait: EngineCancelled); should that reading fail, the caller reads the picture itself.
    `motion`: the run's motion, to be waited for (a reading ahead of a run whose clip is known):
    the rig is built at the placement's working scale, which likely_work_scale may only guess."""
    scale_of = partial(_work_scale, orientation, tier, motion)
    try:
        key = ("picture", content_hash(image))
    except OSError:
        return _read_picture(image, scale_of), True  # cut_picture says what is wrong with the file
    while True:
        with _PICTURES_LOCK:
            known = _PICTURES[key][0] if key in _PICTURES else None
            if known is not None:
                _PICTURES.move_to_end(key)
        if known is not None:
            scale = scale_of(known.cut)
            if scale is not None and scale not in known.early:
                early = _early(known.cut, scale, known.scene)
                if early is not None:
                    known = replace(known, early={**known.early, scale: early})
                    _keep(key, known)
            return known, False
        flight, mine = board(key)
        if mine:
            break
        while not flight.done.wait(0.1):
            if cancel is not None and cancel.is_set():
                raise EngineCancelled(says("stopped"))
    try:
        picture = _read_picture(image, scale_of)
    except BaseException as exc:
        land(key, flight, error=exc)
        raise
    _keep(key, picture)
    land(key, flight, result=picture)
    return picture, True


def _keep(key: Any, picture: PictureRead) -> None:
    """Keep `picture` as the newest read, dropping the oldest while they hold over PICTURES_BYTES."""
    held = held_bytes(picture)
    with _PICTURES_LOCK:
        _PICTURES[key] = (picture, held)
        _PICTURES.move_to_end(key)
        while len(_PICTURES) > 1 and sum(size for _, size in _PICTURES.values()) > PICTURES_BYTES:
            _PICTURES.popitem(last=False)


def held_bytes(value: object) -> int:
    """The bytes of the arrays `value` holds (in dataclasses, tuples, lists and dicts)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if is_dataclass(value) and not isinstance(value, type):
        value = [getattr(value, f.name) for f in fields(value)]
    elif isinstance(value, dict):
        value = list(value.values())
    return sum(held_bytes(v) for v in value) if isinstance(value, (list, tuple)) else 0


def _work_scale(
    orientation: str, tier: str, motion: Callable[[], MotionTrack] | None, cut: Cutout
) -> float | None:
    """The working scale to build `cut`'s rig at before the run: the placement's, given the run's
    motion for the video orientation; else likely_work_scale's."""
    if motion is None or orientation != "video":
        return likely_work_scale(orientation, tier, cut)
    try:
        track = motion()
    except Exception:  # (the run reads the clip and says what is wrong with it)
        return likely_work_scale(orientation, tier, cut)
    return place(orientation, tier, cut, drawn_motion(track, cut)[1], track)[0].work_scale


def _read_picture(image: Path, scale_of: Callable[[Cutout], float | None]) -> PictureRead:
    """Cut the picture out (on the thread its models live on); then the scene behind the character
    filled by PatchMatch (its library leaves the GIL) while the rig is built at the working size
    scale_of gives (the placement's, or the one it will most likely give)."""
    started = time.perf_counter()
    cut = _CUT.submit(cut_picture, image).result()
    seconds = {"cut_out": time.perf_counter() - started}
    bgr = cv2.cvtColor(cut.rgb, cv2.COLOR_RGB2BGR)
    filling = _BESIDE.submit(_timed, scene_fill, bgr, cut.alpha >= 0.5, cut.prob)
    t0 = time.perf_counter()
    try:
        scale = scale_of(cut)
        built = None if scale is None else _early_rig(cut, scale)
    finally:
        seconds["rig_early"] = time.perf_counter() - t0
        scene, seconds["scene"] = filling.result()
    early = {} if built is None else {built[0]: _with_plates(*built, scene)}
    return PictureRead(cut, scene, early, seconds)


def _early(cut: Cutout, scale: float, scene: np.ndarray | None) -> EarlyRig | None:
    built = _early_rig(cut, scale)
    return None if built is None else _with_plates(*built, scene)


def _early_rig(
    cut: Cutout, scale: float
) -> tuple[float, Rig, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None:
    """(scale, rig, working pictures) built at `scale`, or None (the picture too small there: the
    build after the placement says so)."""
    try:
        return (scale, *_rig(cut, scale))
    except EngineError:
        return None


def _with_plates(
    scale: float, rig: Rig, work: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], scene: np.ndarray | None
) -> EarlyRig:
    plates = _plates(work, scene)
    return EarlyRig(scale, rig, work, plates, _BESIDE.submit(smeared, *plates))


def _rig(
    cut: Cutout, s: float, arms: ArmCut | None = None, plate: np.ndarray | None = None
) -> tuple[Rig, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The rig in working pixels (the picture scaled by s, the placement's work_scale), and (RGB,
    mask, the model's probability, the background plate) in the same pixels. arms: the arms as
    told from the body by a rig at the same scale (Rig.arms), when not cut around these landmarks;
    plate: the background plate a rig at the same scale gave (it does not depend on the joints)."""
    if s < 0.999:
        h, w = cut.alpha.shape
        size = (max(8, round(w * s)), max(8, round(h * s)))
        rgb = cv2.resize(cut.rgb, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(cut.alpha, size, interpolation=cv2.INTER_AREA)
        prob = cv2.resize(cut.prob, size, interpolation=cv2.INTER_AREA)
        pockets = None if cut.pockets is None else cv2.resize(cut.pockets, size, interpolation=cv2.INTER_AREA)
    else:
        rgb, alpha, prob, pockets = cut.rgb, cut.alpha, cut.prob, cut.pockets
    lm = cut.landmarks.copy()
    lm[:, :3] *= s
    hands = {side: None if hand is None else hand * s for side, hand in cut.hands.items()}
    face = None if cut.face is None else cut.face * s
    if torso_length(lm) < 8:
        raise EngineError(says("too_small"))
    if plate is None:
        plate = background_plate(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), alpha >= 0.5, prob)
    rig = build_rig(
        rgb, alpha, lm, cut.seen, MARGIN, hands, backdrop=plate, face=face, pockets=pockets, arms=arms
    )
    if not rig.layers:
        raise EngineError(says("no_mask"))
    return replace(rig, cut_bottom=cut_at_bottom(cut)), (rgb, alpha >= 0.5, prob, plate)
