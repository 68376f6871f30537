"""Cutting the character out of its picture: pose, a soft mask, refined where it matters.

The mask comes from the segmentation head of mediapipe's pose landmarker (the same
`pose_landmark_full` model the wheel ships, bundled offline by kmc_ui/pose/model.py). Measured
on the sample anime character it separates the figure from a busy night sky far better than
the wheel's `selfie_segmentation` (which kept fireworks and the road and lost the skirt), and
on the real dancer both agree; selfie segmentation is only the fallback when the pose model
gives no mask. The mask is then refined with grabCut (colour models from the confident
inside and outside, decided only in the uncertain band) and guided by the pose: the bones and
the hands are marked as foreground, because segmentation models lose fingers and thin wrists.
Where the model joined an arm to the waist over a gap, the plain backdrop in that gap is taken out
again (backdrop_pockets) before the edge is matted; the backdrop closed on every side in an arm's
bend is found too (bend_pockets) and made see-through in the rig's layers (Cutout.pockets).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from kmc_ui.engine.inpaint import grow_mask
from kmc_ui.engine.rig import named_points, segment_distance, torso_length, torso_quad
from kmc_ui.engine.rim import nearest_colour
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.detect import IMAGE_PADS

WORK_MAX_SIDE = 640  # grabCut runs at this size; the result is upsampled and re-thresholded
GRABCUT_SEED = 0x6B6D63  # see kmc_ui/engine/rig.GRABCUT_SEED
HAND_POINTS = {"left": (15, 17, 19, 21), "right": (16, 18, 20, 22)}


@dataclass(frozen=True)
class Cutout:
    """The character: RGB pixels, landmarks (33,4) and a soft mask (float32 0..1), all the same size."""

    rgb: np.ndarray
    landmarks: np.ndarray
    alpha: np.ndarray
    seen: np.ndarray  # (33,) landmarks really visible in the picture
    prob: np.ndarray  # (H, W) the model's own probability (float32): reaches into glow and hair wisps
    # per arm side ("l", "r"): the hand's 21 landmarks (picture px) where the hand detector found it;
    # None where no hand was found and the wrist rests against the body (a pocket: no hand is drawn);
    # absent where neither holds (the hand's shape is estimated from the pose)
    hands: dict[str, np.ndarray | None] = field(default_factory=dict)
    face: np.ndarray | None = None  # the face mesh's 468 points (x, y, depth; picture px), when read
    # float32 0..1, same size: how much of each pixel is backdrop seen in an arm's bend (bend_pockets),
    # left in `alpha` (the cut reads the silhouette as the model drew it) and see-through in the layers
    pockets: np.ndarray | None = None

    @property
    def mask(self) -> np.ndarray:
        return self.alpha >= 0.5


class _Local(threading.local):
    def __init__(self) -> None:
        self.landmarker: Any = None
        self.selfie: Any = None


_LOCAL = _Local()


def _landmarker() -> Any:
    """This thread's single-person landmarker with segmentation masks (IMAGE mode)."""
    if _LOCAL.landmarker is None:
        from mediapipe.tasks.python import BaseOptions, vision

        from kmc_ui.pose import model as pose_model
        from kmc_ui.pose.detect import default_cache_dir

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=pose_model.bundle_bytes(default_cache_dir())),
            running_mode=vision.RunningMode.IMAGE,
            num_poses=1,
            min_pose_detection_confidence=0.5,
            min_pose_presence_confidence=0.5,
            output_segmentation_masks=True,
        )
        _LOCAL.landmarker = vision.PoseLandmarker.create_from_options(options)
    return _LOCAL.landmarker


def detect_with_mask(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(landmarks (33,4), segmentation probability (H,W) float32) of the largest person, or None.

    The picture is padded (replicate border) as kmc_ui.pose does: figures touching the
    edges are otherwise often missed. A figure whose mask runs into the picture's bottom rows
    has its joints read again padded below (CUT_OFF_PAD); one whose mask comes near its top has
    its mask read again with nothing above (_read_to_top).
    """
    for pad in IMAGE_PADS:
        found = _detect_padded(rgb, (pad, pad, pad))
        if found is None:
            continue
        below = reaches_bottom(found[0], found[1] > 0.5)
        if below:
            again = _detect_padded(rgb, CUT_OFF_PAD)
            if again is not None:  # its joints; the mask of the even padding (see CUT_OFF_PAD)
                found = again[0], found[1]
        return _read_to_top(rgb, *found, pad, joints=not below)
    return None


# A figure the picture cuts off at its top (a head cropped through the hair). Padded above, the
# model sees the picture's top row smeared upward as a backdrop of streaks and ends its mask short
# of the edge: the night street's figure cropped at 16 % of her height had no mask in her picture's
# top 29 rows, and her hair and fingertips there stayed in the backdrop, her head cut flat below
# them. Where the mask's top comes within TOP_NEAR of the picture's height of its top, it is read
# again with nothing padded above; where that reading runs into the top rows (reaches_top), it is
# taken down to the first mask's top, fading out as far again below it. (The shared pictures' masks
# but the night street's start within TOP_NEAR, 23-41 rows down; read again, none runs into the top.)
# The joints differ from one padding to the next, and on such a crop one of them can be far off:
# padded evenly, the night street's figure cropped at 194 rows had her left wrist by her face, and
# the armour cropped through its helmet (76 rows), found only padded by half the picture, had its
# right elbow 0.19 torso inward, its arm's piece cut along the backdrop between arm and waist. So
# the picture is read with each of TOP_READS' paddings too, and the first reading, in the order
# tried (the even one, the one with nothing above, then the others), that another agrees with at
# every arm joint within AGREE is kept (agreed_reading): a misreading is seldom made twice the same
# way. On the four full-figure pictures cropped at 12-row steps from their hair to their nose (29
# crops, against each picture whole), the arms' worst joint came out 0.052 torso off on average
# and 0.16 at worst (3 crops over 0.1: the armour cropped 82-106 rows down, through its face
# plate); with the even reading or the one with nothing above, whichever's arms agreed better left
# and right (stop 65), 0.059 and 0.188 (5 over 0.1). The studio photos' crops keep their even
# reading (every reading agrees with it within 0.03), and the head and shoulders' size came out
# 8.5 % off against 8.7 %. The readings take about 0.04 s each. The closest agreeing pair wins only
# where none agree within AGREE: for a good crop it is chance (taken for the man's, it moved his
# heel 8 px; for the night street's, her ears 18 px closer, her talking head's face magnified past
# the frame's bottom).
TOP_NEAR = 0.08
TOP_REACH = 0.1  # torso lengths: the mask across the picture's top rows over this is cut off there
TOP_READS = ((0.15,) * 3, (0.25,) * 3, (0.35,) * 3, (0.5,) * 3, (0.0, 0.25, 0.25), (0.0, 0.5, 0.5))
ARM_JOINTS = slice(L.L_SHOULDER, L.R_WRIST + 1)
AGREE = 0.05  # torso lengths


def _read_to_top(
    rgb: np.ndarray, lm: np.ndarray, prob: np.ndarray, pad: float, joints: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(lm, prob) (read with `pad` on every side) with the mask of a figure cut off at the picture's
    top read again up to that edge (TOP_NEAR); and, when `joints`, the joints another padding agrees
    with (agreed_reading)."""
    h = prob.shape[0]
    rows = np.flatnonzero((prob > 0.5).any(axis=1))
    if not len(rows) or rows[0] > TOP_NEAR * h:
        return lm, prob
    tight = (0.0, pad, pad)
    again = _detect_padded(rgb, tight)
    if again is None or not reaches_top(lm, again[1] > 0.5):
        return lm, prob
    top = float(rows[0]) + 1.0
    weight = np.clip((2.0 * top - np.arange(h, dtype=np.float32)) / top, 0.0, 1.0)[:, None]
    if joints:
        others = (_detect_padded(rgb, p) for p in TOP_READS if p not in ((pad,) * 3, tight))
        lm = agreed_reading([lm, again[0], *(found[0] for found in others if found is not None)])
    return lm, np.maximum(prob, again[1] * weight)


def agreed_reading(readings: list[np.ndarray]) -> np.ndarray:
    """Of several readings of one picture, the first that another agrees with at every arm joint
    (shoulders, elbows, wrists) within AGREE of the first reading's torso; none agreeing so, the
    one with the closest agreement."""
    arms = np.stack([lm[ARM_JOINTS, :2] for lm in readings])
    apart = np.linalg.norm(arms[:, None] - arms[None], axis=-1).max(axis=-1) / torso_length(readings[0])
    np.fill_diagonal(apart, np.inf)
    nearest = apart.min(axis=1)
    agreed = np.flatnonzero(nearest <= AGREE)
    return readings[int(agreed[0]) if len(agreed) else int(np.argmin(nearest))]


# A figure the picture cuts off at the bottom (a half-figure, hands clasped over a skirt that runs
# out of the frame) padded as much below it as it is tall: the model then sees a whole figure and
# puts its joints where they are. Measured on the anime half-figure: padded evenly, its left wrist
# came out in the middle of the forearm (233, 400), its hand in the sleeve; padded below, at the
# cuff (190, 441). Its mask is not used: at the lower resolution of the taller picture it cut the
# top of the hair off flat. Top, bottom and sides, as shares of the picture's height and width.
CUT_OFF_PAD = (0.1, 1.0, 0.3)


def reaches_bottom(lm: np.ndarray, mask: np.ndarray) -> bool:
    """The character's mask runs into the picture's bottom rows over at least a third of its
    torso. (Padded evenly, the model put the anime half-figure's ankles inside the picture, so
    they are not asked about here; pipeline.cut_at_bottom asks about them.)"""
    rows = max(1, mask.shape[0] // 100)
    width = int(mask[-rows:].any(axis=0).sum())
    return width >= 0.33 * torso_length(lm)


def reaches_top(lm: np.ndarray, mask: np.ndarray) -> bool:
    """The character's mask runs into the picture's top rows over TOP_REACH of its torso (a head
    cropped through the hair, fingers raised past the edge)."""
    rows = max(1, mask.shape[0] // 100)
    return int(mask[:rows].any(axis=0).sum()) >= TOP_REACH * torso_length(lm)


def reaches_sides(lm: np.ndarray, mask: np.ndarray) -> tuple[bool, bool]:
    """Whether the character's mask runs into the picture's left and its right columns over at
    least a third of its torso (as reaches_bottom does the bottom rows): a portrait's shoulders,
    an arm the picture's side cuts off lengthwise."""
    cols = max(1, mask.shape[1] // 100)
    reach = 0.33 * torso_length(lm)
    return bool(mask[:, :cols].any(axis=1).sum() >= reach), bool(mask[:, -cols:].any(axis=1).sum() >= reach)


def _detect_padded(rgb: np.ndarray, pad: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray] | None:
    """detect_with_mask on the picture padded (replicate border) by `pad`: top, bottom, sides."""
    import mediapipe as mp

    h, w = rgb.shape[:2]
    top, bottom, side = round(h * pad[0]), round(h * pad[1]), round(w * pad[2])
    padded = np.ascontiguousarray(cv2.copyMakeBorder(rgb, top, bottom, side, side, cv2.BORDER_REPLICATE))
    hp, wp = padded.shape[:2]
    result = _landmarker().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=padded))
    if not result.pose_landmarks:
        return None
    person = result.pose_landmarks[0]
    lm = np.array([[p.x, p.y, p.z, p.visibility or 0.0] for p in person], dtype=np.float32)
    lm[:, 0] = lm[:, 0] * wp - side
    lm[:, 1] = lm[:, 1] * hp - top
    lm[:, 2] = lm[:, 2] * wp
    if result.segmentation_masks:
        prob = result.segmentation_masks[0].numpy_view()[top : top + h, side : side + w].astype(np.float32)
    else:
        prob = _selfie(rgb)
    return lm, np.ascontiguousarray(prob)


def _selfie(rgb: np.ndarray) -> np.ndarray:
    import mediapipe as mp

    if _LOCAL.selfie is None:
        _LOCAL.selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
    return np.asarray(_LOCAL.selfie.process(rgb).segmentation_mask, dtype=np.float32)


def guide_mask(lm: np.ndarray, shape: tuple[int, int], scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Pose-guided labels: (sure foreground along the bones, probable foreground around the hands)."""
    h, w = shape
    sure = np.zeros((h, w), np.uint8)
    hands = np.zeros((h, w), np.uint8)
    pts = lm[:, :2] * scale
    torso = L.body_scale(lm) * scale
    thick = max(1, round(0.03 * torso))
    for a, b in ((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (11, 12), (23, 24)):
        cv2.line(sure, _pt(pts[a]), _pt(pts[b]), 1, thick)
    quad = np.array([pts[i] for i in (11, 12, 24, 23)], dtype=np.float32)
    centre = quad.mean(axis=0)
    cv2.fillConvexPoly(sure, np.round(centre + 0.6 * (quad - centre)).astype(np.int32), 1)
    for idx in HAND_POINTS.values():
        hp = pts[list(idx)]
        centre = hp.mean(axis=0)
        reach = float(np.max(np.linalg.norm(hp - pts[idx[0]], axis=1)))
        forearm = float(np.linalg.norm(pts[idx[0]] - pts[idx[0] - 2]))
        radius = max(1, round(max(1.4 * reach, 0.3 * forearm)))
        cv2.circle(hands, _pt(centre), radius, 1, -1)
        cv2.line(sure, _pt(pts[idx[0]]), _pt(centre), 1, thick)
    return sure.astype(bool), hands.astype(bool)


MATTE_RADIUS = 0.006  # the band around the mask's edge that is matted, as a share of the picture's long side
MATTE_CONTRAST = 30.0  # RGB distance under which character and backdrop colours are too alike to matte
MATTE_PLAIN = 12.0  # RGB spread of the backdrop nearby above which it is too busy to be one colour
MATTE_NEAR = 2  # px inside the mask's edge: the character's colour there is tried too (a thin limb's own)
MATTE_BETTER = 5.0  # RGB: ... and kept where it leaves this much less of the pixel unexplained
# A pocket of backdrop inside the mask (the gap between an arm and the waist, bridged by the model):
# pixels within POCKET_COLOUR (RGB distance) of the plain backdrop's colour nearby (a mean over
# POCKET_SIGMA torso lengths), joined to the backdrop through such pixels, within POCKET_REACH torso
# lengths of the mask's edge, as wide as a gap (POCKET_WIDTH)
POCKET_COLOUR = 12.0
POCKET_SIGMA = 0.06
POCKET_REACH = 0.08
POCKET_WIDTH = 0.015  # torso lengths: a pocket holds a disc of this radius (a stripe on a cuff does not)
# A pocket closed on every side, in an arm's bend (the sky between an upper arm, a forearm brought
# in front of the body and the waist): its colour is the plain backdrop's seen across the arm on
# its own row (within POCKET_ROW_REACH torso lengths), and it lies within POCKET_BEND torso lengths
# of both the upper arm and the forearm, POCKET_BELOW_SHOULDERS or more below the shoulders, mostly
# off the torso's middle (its quad narrowed to POCKET_MIDDLE of its width)
POCKET_ROW_REACH = 0.4
POCKET_BEND = 0.12
POCKET_BELOW_SHOULDERS = 0.2
POCKET_MIDDLE = 0.7  # the torso's middle: its quad narrowed to this share of its width
POCKET_HAZE_COLOUR = 30.0  # RGB distance: the pocket's paler rim by the arm, taken with it ...
POCKET_HAZE_REACH = 0.06  # ... within this many torso lengths of the pocket


def refine_mask(rgb: np.ndarray, prob: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Soft mask (float32 0..1) from the model's probability, grabCut and the pose guide, and how
    much of each pixel is a pocket in an arm's bend (bend_pockets, matted as an edge; None when
    there is none). The pocket stays in the mask."""
    h, w = prob.shape
    f = min(1.0, WORK_MAX_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    p = cv2.resize(prob, (sw, sh), interpolation=cv2.INTER_AREA)
    sure, hands = guide_mask(lm, (sh, sw), f)
    labels = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    labels[p > 0.1] = cv2.GC_PR_BGD
    labels[p > 0.5] = cv2.GC_PR_FGD
    labels[hands & (labels == cv2.GC_BGD)] = cv2.GC_PR_BGD
    labels[hands & (p > 0.2)] = cv2.GC_PR_FGD
    labels[p > 0.95] = cv2.GC_FGD
    labels[sure] = cv2.GC_FGD
    fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    bg = (labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)
    refined = fg.astype(np.float32)
    if fg.sum() > 50 and bg.sum() > 50:
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.setRNGSeed(GRABCUT_SEED)  # its k-means start: the same cut whatever ran before
            cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), labels, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
            refined = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
        except cv2.error:
            pass  # a degenerate colour model: keep the thresholded probability
    # Back to full size: the smooth upsampled label, sharpened by the model's own probability.
    up = cv2.resize(refined, (w, h), interpolation=cv2.INTER_LINEAR)
    up = cv2.GaussianBlur(up, (0, 0), max(0.8, 0.6 / f))
    soft = np.clip(0.7 * up + 0.3 * prob, 0.0, 1.0)
    mask = (soft >= 0.5).astype(np.uint8)
    mask = _largest_components(mask, lm)
    torso = L.body_scale(lm)
    mask[backdrop_pockets(rgb, mask > 0, torso)] = 0
    alpha = matte(rgb, mask)
    bends = bend_pockets(rgb, mask > 0, lm, torso)
    if not bends.any():
        return alpha, None
    return alpha, np.clip(alpha - matte(rgb, mask & ~bends), 0.0, 1.0)


def backdrop_near(img: np.ndarray, backdrop: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backdrop's colour around each pixel (the mean of the `backdrop` pixels, Gaussian-weighted
    over `sigma` px), the weight of backdrop pixels it rests on, and the backdrop's own spread there
    (variance per channel)."""
    weight = cv2.GaussianBlur(backdrop.astype(np.float32), (0, 0), sigma)
    norm = np.maximum(weight, 1e-6)[..., None]
    mean = cv2.GaussianBlur(img * backdrop[..., None], (0, 0), sigma) / norm
    spread = cv2.GaussianBlur(img * img * backdrop[..., None], (0, 0), sigma) / norm - mean * mean
    return mean, weight, spread


def backdrop_pockets(rgb: np.ndarray, mask: np.ndarray, torso: float) -> np.ndarray:
    """The pixels of `mask` that are the plain backdrop seen through a gap the model closed: the
    space between an arm and the waist, joined over at the elbow. Their colour is the backdrop's
    own nearby (within POCKET_COLOUR) where that backdrop is one colour (spread under MATTE_PLAIN),
    they lie within POCKET_REACH torso lengths of the mask's edge, a path of such pixels joins
    them to the backdrop, and the pocket is as wide as a gap (it holds a disc of POCKET_WIDTH torso
    lengths). A white collar inside a jacket has no such path; a white stripe on a cuff is too thin;
    a white sleeve against clouds has no plain backdrop beside it. Once the arm moved, such a pocket
    was a white patch carried beside its forearm and left on the body's side."""
    outer = ~mask
    if not outer.any() or not mask.any():
        return np.zeros(mask.shape, bool)
    img = rgb.astype(np.float32)
    # the backdrop's colour from its pixels 2 px or more off the mask (not the figure's soft edge)
    far = cv2.erode(outer.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    bg, weight, spread = backdrop_near(img, far, max(1.0, POCKET_SIGMA * torso))
    near = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3) <= POCKET_REACH * torso
    alike = ((img - bg) ** 2).sum(axis=-1) < POCKET_COLOUR**2
    candidate = mask & near & alike & (weight > 0.02) & (spread.sum(axis=-1) < MATTE_PLAIN**2)
    if not candidate.any():
        return candidate
    _, ids = cv2.connectedComponents((candidate | outer).astype(np.uint8), connectivity=4)
    joined = np.isin(ids, np.unique(ids[outer])) & candidate
    # a pocket is wide (a gap's width): a pale stripe on a cuff, or the mask's own soft rim, is not
    r = max(2, round(POCKET_WIDTH * torso))
    wide = cv2.erode(joined.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    _, parts = cv2.connectedComponents(joined.astype(np.uint8), connectivity=8)
    return np.isin(parts, np.unique(parts[wide > 0])) & joined


def row_backdrop(far: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the column of the nearest `far` pixel on its own row to the left and to the right,
    -1 where there is none within `reach` px."""
    w = far.shape[1]
    xs = np.arange(w)[None, :]
    left = np.maximum.accumulate(np.where(far, xs, -1), axis=1)
    right = np.minimum.accumulate(np.where(far, xs, 2 * w)[:, ::-1], axis=1)[:, ::-1]
    left = np.where((left >= 0) & (xs - left <= reach), left, -1)
    right = np.where((right < w) & (right - xs <= reach), right, -1)
    return left, right


def bend_pockets(rgb: np.ndarray, mask: np.ndarray, lm: np.ndarray, torso: float) -> np.ndarray:
    """The pixels of `mask` that are backdrop seen through a gap closed on every side, in an arm's
    bend: the sky between the half-figure's upper arm, her forearm brought in front of her and her
    waist. backdrop_pockets needs a path to the backdrop; here there is none, so the pocket's colour
    is compared with the backdrop seen across the arm on its own row (skies and walls change colour
    with height, and a mean over a disc mixes in hills and clouds): within POCKET_COLOUR of the plain
    backdrop's colour (spread under MATTE_PLAIN) at the nearest backdrop pixel left or right, within
    POCKET_ROW_REACH torso lengths. The pocket is as wide as a gap (POCKET_WIDTH) and lies in the
    bend: within POCKET_BEND torso of both bones of one arm, below the shoulders, mostly off the
    torso's middle (torso_middle). A white collar, a helmet's highlight or a glow between the knees
    against a white or pink backdrop is not in an arm's bend. Left in, such a pocket went with the
    arm as a patch of sky wherever the arm moved."""
    out = np.zeros(mask.shape, bool)
    pts = named_points(lm)
    for bones in (("11", "13", "15"), ("12", "14", "16")):
        arm = np.array([pts[b] for b in bones])
        grow = np.array([POCKET_ROW_REACH * torso + 3, POCKET_BEND * torso + 3])
        x0, y0 = np.floor(arm.min(axis=0) - grow).astype(int).clip(0)
        x1, y1 = np.ceil(arm.max(axis=0) + grow).astype(int)
        box = (slice(y0, max(y0, y1)), slice(x0, max(x0, x1)))
        got = _bend_pocket(rgb[box], mask[box], pts, bones, np.array([x0, y0], np.float64), torso)
        out[box] |= got
    return out


def torso_middle(pts: dict[str, np.ndarray]) -> np.ndarray:
    """The torso's quad narrowed about its middle line to POCKET_MIDDLE of its width: the shoulder
    joints lie out past the waist, and the half-figure's bend, read with her hips lower, lay on
    the quad's edge."""
    quad = torso_quad(pts)
    for pair in ([0, 1], [3, 2]):  # the shoulders, the hips
        mid = quad[pair].mean(axis=0)
        quad[pair] = mid + POCKET_MIDDLE * (quad[pair] - mid)
    return quad


def _bend_pocket(
    rgb: np.ndarray,
    mask: np.ndarray,
    pts: dict[str, np.ndarray],
    bones: tuple[str, str, str],
    origin: np.ndarray,
    torso: float,
) -> np.ndarray:
    """bend_pockets in one arm's box (`origin` its top-left corner in the picture). The box's own
    edge counts as the backdrop's side: a part running out of the box is not closed."""
    out = np.zeros(mask.shape, bool)
    outer = ~mask
    if mask.size == 0 or not outer.any() or not mask.any():
        return out
    img = rgb.astype(np.float32)
    far = cv2.erode(outer.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    bg, _, spread = backdrop_near(img, far, 2.0)
    plain = spread.sum(axis=-1) < MATTE_PLAIN**2
    rows = np.arange(mask.shape[0])[:, None].repeat(mask.shape[1], axis=1)
    off = np.full(mask.shape, np.inf, np.float32)  # the colour's distance from the backdrop's beside it
    for cols in row_backdrop(far, POCKET_ROW_REACH * torso):
        ok = mask & (cols >= 0)
        y, x = rows[ok], cols[ok]
        d = np.sqrt(((img[ok] - bg[y, x]) ** 2).sum(axis=-1))
        off[ok] = np.minimum(off[ok], np.where(plain[y, x], d, np.inf))
    alike = off < POCKET_COLOUR
    open_side = outer.copy()
    open_side[[0, -1], :] = True
    open_side[:, [0, -1]] = True
    _, ids = cv2.connectedComponents((alike | open_side).astype(np.uint8), connectivity=4)
    closed = alike & ~np.isin(ids, np.unique(ids[open_side]))
    r = max(2, round(POCKET_WIDTH * torso))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    wide = cv2.erode(closed.astype(np.uint8), disc) > 0
    _, parts = cv2.connectedComponents(closed.astype(np.uint8), connectivity=8)
    quad = (torso_middle(pts) - origin).astype(np.float32)
    shoulders = min(pts["11"][1], pts["12"][1]) - origin[1]
    s, e, wr = (pts[b] - origin for b in bones)
    for i in np.unique(parts[wide]):
        comp = parts == i
        ys, xs = np.nonzero(comp)
        p = np.stack([xs, ys], axis=1).astype(np.float64)
        on_quad = np.mean([cv2.pointPolygonTest(quad, (float(a), float(b)), False) >= 0 for a, b in p[::5]])
        upper = segment_distance(p, s, e)[0].min()
        fore = segment_distance(p, e, wr)[0].min()
        if (
            ys.mean() - shoulders >= POCKET_BELOW_SHOULDERS * torso
            and on_quad <= 0.5
            and max(upper, fore) <= POCKET_BEND * torso
        ):
            out |= comp
    if out.any():
        # the pocket's haze by the arm's edge, paler than the sky across the arm: what lies within
        # POCKET_HAZE_COLOUR of it and within POCKET_HAZE_REACH torso of the pocket, joined to it
        near = grow_mask(out, max(1, round(POCKET_HAZE_REACH * torso)))
        haze = (off < POCKET_HAZE_COLOUR) & near
        _, ids = cv2.connectedComponents((haze | out).astype(np.uint8), connectivity=4)
        out |= haze & np.isin(ids, np.unique(ids[out]))
    return out


def matte(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A soft alpha from a hard mask that follows the picture's own colour edge. In a band of
    MATTE_RADIUS around the mask's edge each pixel's opacity is where its colour lies between the
    character colour F (the nearest sure pixel inside the band's inner edge: a thin arm's own
    colour) and the backdrop colour B (the mean of the sure pixels nearby outside it):
    alpha = (I - B).(F - B) / |F - B|^2, the compositing equation I = alpha F + (1 - alpha) B
    solved along F - B; where the colour just inside the mask's edge explains the pixel better, it
    is F (a thin arm beside a ruffle). A part thinner than the band keeps its mask. A mask that
    reached a few pixels into a plain backdrop no longer cuts a rim of backdrop out with the
    character (a halo once it moves); where F and B are too alike to tell apart, or the backdrop
    is busy (not one colour), the mask is kept."""
    h, w = mask.shape
    radius = max(2, round(MATTE_RADIUS * max(h, w)))
    hard = mask.astype(np.uint8)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inner = cv2.erode(hard, disc) > 0
    outer = cv2.dilate(hard, disc) == 0
    band = ~inner & ~outer
    alpha = hard.astype(np.float32)
    if band.any() and inner.any() and outer.any():
        img = rgb.astype(np.float32)
        fg, reach = nearest_colour(inner, cv2.GaussianBlur(img, (0, 0), 1.0))
        bg, wb, spread = backdrop_near(img, outer, 2.0 * radius)
        # a thin limb beside a part of another colour (an arm by a ruffle): the nearest sure pixel
        # is the ruffle's, and the skin between it and the backdrop solved half see-through. The
        # colour just inside the mask's edge is tried too, and kept where it explains the pixel
        # better (its compositing residual lower by MATTE_BETTER)
        near = cv2.erode(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * MATTE_NEAR + 1,) * 2)) > 0
        fg_near, _ = nearest_colour(near, img)
        at = np.nonzero(band)
        pixel, back = img[at], bg[at]
        a, dd, res = _unmix(pixel, fg[at], back)
        a_near, dd_near, res_near = _unmix(pixel, fg_near[at], back)
        better = (dd_near > MATTE_CONTRAST**2) & (res_near < res - MATTE_BETTER)
        a, dd = np.where(better, a_near, a), np.where(better, dd_near, dd)
        plain = spread[at].sum(axis=-1) < MATTE_PLAIN**2
        thin = reach[at] <= 2.0 * radius + 1.0  # a part thinner than the band: kept
        ok = plain & thin & (wb[at] > 0.02) & (dd > MATTE_CONTRAST**2)
        alpha[at[0][ok], at[1][ok]] = np.clip(a[ok], 0.0, 1.0)
    return np.clip(cv2.GaussianBlur(alpha, (0, 0), 0.6), 0.0, 1.0).astype(np.float32)


def _unmix(img: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel (colours along the last axis): the opacity solving I = a F + (1 - a) B along
    F - B, |F - B|^2, and how far (RGB) the pixel lies from that line's point for a (clipped to
    0..1): what the pair leaves unexplained."""
    d = fg - bg
    dd = (d * d).sum(axis=-1)
    a = ((img - bg) * d).sum(axis=-1) / np.maximum(dd, 1.0)
    res = np.linalg.norm(img - bg - np.clip(a, 0.0, 1.0)[..., None] * d, axis=-1)
    return a, dd, res


def _largest_components(mask: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Keep the connected parts that touch the body (bones) or are large; fill small holes."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    sure, _ = guide_mask(lm, mask.shape, 1.0)
    keep = np.zeros(n, bool)
    touching = np.unique(lab[sure & (mask > 0)])
    keep[touching] = True
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    keep[biggest] = True
    keep[0] = False
    out = keep[lab].astype(np.uint8)
    # holes smaller than 0.2% of the body area are segmentation noise, not gaps between limbs
    inv = (1 - out).astype(np.uint8)
    n2, lab2, stats2, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    small = np.zeros(n2, bool)
    limit = 0.002 * max(1, int(out.sum()))
    for i in range(1, n2):
        x, y, ww, hh, area = stats2[i]
        on_edge = x == 0 or y == 0 or x + ww == mask.shape[1] or y + hh == mask.shape[0]
        small[i] = area < limit and not on_edge
    out[small[lab2]] = 1
    return out


def cut_out(rgb: np.ndarray) -> Cutout | None:
    """The character's pose and mask, or None when no person is found in the picture."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    found = detect_with_mask(rgb)
    if found is None:
        return None
    lm, prob = found
    alpha, bends = refine_mask(rgb, prob, lm)
    h, w = rgb.shape[:2]
    seen = L.seen(lm, w, h, 0.5)
    return Cutout(rgb, lm, alpha, seen, prob, pockets=bends)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(np.clip(p[0], -1e5, 1e5))), round(float(np.clip(p[1], -1e5, 1e5)))
