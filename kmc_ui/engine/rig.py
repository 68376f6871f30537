"""The character's rig: bones, body-part layers, a triangle mesh per layer and skinning weights.

Layers (drawn back to front): the body (torso, head, legs) and one layer per arm. Arms get
their own layers because they move across the body: with one sheet, a raised arm would drag
the torso along or tear it. Where an arm covered the body in the picture, the body layer is
filled in (inpainted) so nothing shows a ghost arm when the arm moves away; where a rule, not
the matte, gave the body layer's opacity there, its edge is drawn between the pixels
(`smooth_cut`), so it shows no steps when the picture is scaled up. The arm layer fades out over
the shoulder, where the body layer carries the same pixels, so the seam is soft.

Each layer gets a mesh: Delaunay triangles over points on its (slightly grown) outline and a
grid inside it, with joints as vertices. Vertices are bound to the layer's bones with linear
blend skinning weights from inverse distance (power 4), so neighbouring bones blend smoothly
at elbows, knees, hips, the neck and the shoulders.

Coordinates are the working picture's pixels (x right, y down); "left" is the person's left
(mediapipe's landmarks 11, 13, 15, ...), usually on the picture's right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from kmc_ui.engine.cuff import cuff_rim
from kmc_ui.engine.face import inner_points
from kmc_ui.engine.front import Reading, face_skin, in_front, of_backdrop
from kmc_ui.engine.inpaint import fill_inside
from kmc_ui.engine.outline import hidden_outline
from kmc_ui.engine.rim import own_rim
from kmc_ui.pose import landmarks as L

# name -> (kind, a, b, radius range as shares of the torso length)
# kinds: torso (affine from the shoulder/hip quad), head (similarity from the face points),
# segment (rotates and stretches along the bone), rigid (rotates, keeps its length).
BONES: dict[str, tuple[str, str, str, tuple[float, float]]] = {
    "torso": ("torso", "neck", "root", (0.0, 0.0)),
    "head": ("head", "neck", "head_c", (0.0, 0.0)),
    "l_upper": ("segment", "11", "13", (0.05, 0.15)),
    "l_fore": ("segment", "13", "15", (0.04, 0.12)),
    "l_hand": ("rigid", "15", "l_tip", (0.05, 0.14)),
    "r_upper": ("segment", "12", "14", (0.05, 0.15)),
    "r_fore": ("segment", "14", "16", (0.04, 0.12)),
    "r_hand": ("rigid", "16", "r_tip", (0.05, 0.14)),
    "l_thigh": ("segment", "23", "25", (0.08, 0.22)),
    "l_shin": ("segment", "25", "27", (0.05, 0.16)),
    "l_foot": ("rigid", "27", "31", (0.04, 0.12)),
    "r_thigh": ("segment", "24", "26", (0.08, 0.22)),
    "r_shin": ("segment", "26", "28", (0.05, 0.16)),
    "r_foot": ("rigid", "28", "32", (0.04, 0.12)),
}
BONE_NAMES = tuple(BONES)
ARM_BONES = {"left_arm": ("l_upper", "l_fore", "l_hand"), "right_arm": ("r_upper", "r_fore", "r_hand")}
LAYER_BONES: dict[str, tuple[str, ...]] = {
    "body": ("torso", "head", "l_thigh", "l_shin", "l_foot", "r_thigh", "r_shin", "r_foot"),
    "left_arm": ("torso", "l_upper", "l_fore", "l_hand"),
    "right_arm": ("torso", "r_upper", "r_fore", "r_hand"),
}
# Triangles are drawn in this order inside a layer (later wins where a layer folds over itself).
DRAW_RANK = {
    "l_foot": 0,
    "r_foot": 0,
    "l_shin": 1,
    "r_shin": 1,
    "l_thigh": 2,
    "r_thigh": 2,
    "torso": 3,
    "head": 4,
    "l_upper": 5,
    "r_upper": 5,
    "l_fore": 6,
    "r_fore": 6,
    "l_hand": 7,
    "r_hand": 7,
}
HEAD_POINTS = (0, 2, 5, 7, 8)
SHOULDER_FADE = (-0.05, 0.12)  # the arm layer fades in over these shares of the upper arm
NOTCH = 0.4  # the widest notch (torso lengths) an arm can take out of the body's outline and have filled
SOLID_SHARE = 0.25  # a triangle is opaque when this share of its pixels is (opacity 0.5 or more)
SPLIT_REACH = 1.5  # a centred arm's region: this many times its radius around its new line
OFF_CENTRE = 2.0  # an arm whose radii measure this many times the other's may lie off its bones
WIDE_ARM = 1.3  # an arm free on both sides this many times wider than its radius is split at its own width
WIDE_SECTIONS = 3  # of middle_shift's 8 cross-sections, at least this many free on both sides
ORPHAN_REACH = 0.02  # a faint body pixel beside an arm farther than this (torso lengths) from the opaque body
ORPHAN_FAINT = 0.02  # arm opacity above which a pixel counts as the arm's, for the orphan test
TORSO_NEAR = 0.05  # torso lengths around an arm's pixels where the torso's own colour is read
TORSO_UNLIKE = 40.0  # Lab distance (OpenCV's 8-bit units) from it that makes an arm's pixel not the torso's
SIDE_ROWS = 0.1  # torso lengths of rows over which the torso's side beside an upper arm is smoothed
HULL_GROWTH = 1.2  # the body's hull: the torso's quad grown this many times about its middle
SIDE_IN = 0.7  # the torso's side at the armpit: this many upper-arm radii inside the shoulder joint
SHOULDER_CAP = 1.2  # the body keeps a disc of this many upper-arm radii around each shoulder
# An arm layer's cut through the character (a sleeve split from the body) fades out over this
# share of the torso outside the arm's region instead of ending on the pixel grid: stretched by
# the warp, a hard binary cut showed as a stair-stepped edge (docs/engine.md, frame 144).
FEATHER = 0.008
# The body layer's edges where a rule, not the matte, gave its opacity (what an arm took, what is
# filled in under it), within CUT_BAND px of those pixels: their outline smoothed over this many px
# and drawn with a 1 px ramp (smooth_cut); an opacity within BINARY of 0 or 1 is not a matte's
CUT_SMOOTH = 1.5
CUT_BAND = 3
BINARY = 0.02
GAP_REACH = 0.05  # torso lengths around a patch in front of an arm where the body inside the arm's width joins it
ELBOW_REACH = 2.5  # radii around the elbow and the forearm where a sleeve's bulge past a bent elbow is looked for
CORE_INSET = 2  # px a bone's core points keep inside its layer's opaque part (core_points)
BAY = 0.04  # torso lengths: a bay of the body in an arm's outline this narrow is looked at as in front of it
SPECK = 0.05  # torso lengths: a piece of an arm's region apart from its arm, smaller than this squared, is the body's
SEAM = 2  # px: an arm's edge this thin between a patch in front of it and the body is the body's
RING = 0.012  # torso lengths of the body's pixels beside an arm that are filled in with what the arm hid
WEIGHT_POWER = 4.0
# grabCut seeds its colour models with k-means on OpenCV's global random generator: seeded before
# each call so a rig does not depend on what ran before it in the process (measured: the sample
# pair's arm layers, and so its figures, changed when the fixture pair had been rendered first)
GRABCUT_SEED = 0x6B6D63
POCKET_RIM = 2  # px: see_through's thin rim past the backdrop in an arm's bend


def named_points(lm: np.ndarray) -> dict[str, np.ndarray]:
    """The 33 landmarks by index (as strings) plus the virtual points the bones use; (33, 4)
    landmarks give (2,) points, (33, N, 4) give (N, 2) points."""
    xy = np.asarray(lm, dtype=np.float64)[..., :2]
    pts = {str(i): xy[i] for i in range(33)}
    pts["neck"] = (xy[L.L_SHOULDER] + xy[L.R_SHOULDER]) / 2
    pts["root"] = (xy[L.L_HIP] + xy[L.R_HIP]) / 2
    pts["l_tip"] = (xy[17] + xy[19]) / 2
    pts["r_tip"] = (xy[18] + xy[20]) / 2
    pts["head_c"] = head_centre(xy)
    return pts


def head_centre(xy: np.ndarray) -> np.ndarray:
    return (xy[0] + xy[7] + xy[8]) / 3


def torso_length(lm: np.ndarray) -> float:
    return max(float(L.body_scale(np.asarray(lm, dtype=np.float64))), 1.0)


@dataclass
class Layer:
    name: str
    bones: tuple[str, ...]
    texture: np.ndarray  # (H, W, 4) float32, premultiplied BGR + alpha, working picture size
    rest: np.ndarray  # (N, 2) vertices, working picture pixels
    triangles: np.ndarray  # (M, 3) int32, in draw order
    weights: np.ndarray  # (N, len(bones)) float32, rows sum to 1
    area: float = 0.0  # rest area of the mesh (px^2)
    tri_area: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) signed rest areas
    opaque: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (M,) see SOLID_SHARE
    # the body's pixels in front of an arm (kmc_ui/engine/front.py), as `texture` and drawn over the arms
    front: np.ndarray | None = None
    # an arm's `texture` with its rim on the body in the arm's own colour (kmc_ui/engine/rim.py):
    # drawn where the arm has left the place it lay in
    rim: np.ndarray | None = None


@dataclass(frozen=True)
class ArmCut:
    """The arms told from the body (cut_arms): each arm's pixels, before the islands between them
    are assigned and a cuff's rim is added, and the points they were told apart around."""

    regions: dict[str, np.ndarray]  # "left_arm" / "right_arm" -> (H, W) bool
    points: dict[str, np.ndarray]  # named_points of the landmarks, the arms centred (centred_arms)
    # what of an arm's detected hand the other arm claimed first (hands clasped, fingers interlaced)
    lent: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Rig:
    width: int
    height: int
    landmarks: np.ndarray  # (33, 4) rest pose in working pixels
    seen: np.ndarray  # (33,) bool
    layers: list[Layer]
    radii: dict[str, float]  # bone -> capsule radius (px)
    torso: float  # torso length (px)
    alpha: np.ndarray  # (H, W) float32 soft mask of the whole character
    # hole check: per layer, points of the character along its bones' middles that must stay
    # covered (working px), with their skinning weights; bones the picture does not show have none
    core_points: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # layer -> (tri, bary)
    face: np.ndarray | None = None  # (K, 3) the face's points that are body mesh vertices (x, y, depth; working px)
    # (H, W) bool: the backdrop seen in an arm's bend, see-through in every layer (Cutout.pockets)
    pockets: np.ndarray | None = None
    arms: ArmCut | None = None  # how the arms were told from the body (a rebuild on moved joints reuses it)
    cut_bottom: bool = False  # the picture cuts the character off at its bottom edge (pipeline.cut_at_bottom)
    # the picture cuts the character off at its left edge, at its right (pipeline.cut_at_sides)
    cut_sides: tuple[bool, bool] = (False, False)
    # the picture cuts the character off at its top edge and the placement keeps that edge out of the
    # frame (pipeline.cut_at_top, Placement.top)
    cut_top: bool = False

    def layer(self, name: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.name == name), None)


# ---------------------------------------------------------------- geometry helpers


def segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points p (N,2) to the segment a-b, and the projection parameter t (unclipped)."""
    ab = b - a
    denom = max(float(ab @ ab), 1e-9)
    t = ((p - a) @ ab) / denom
    closest = a + np.clip(t, 0.0, 1.0)[:, None] * ab
    return np.linalg.norm(p - closest, axis=1), t


def polygon_distance(p: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """0 inside the convex polygon, else the distance to its outline."""
    inside = np.ones(len(p), bool)
    dist = np.full(len(p), np.inf)
    n = len(poly)
    area = 0.5 * sum(poly[i, 0] * poly[(i + 1) % n, 1] - poly[(i + 1) % n, 0] * poly[i, 1] for i in range(n))
    sign = 1.0 if area >= 0 else -1.0
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        d, _ = segment_distance(p, a, b)
        dist = np.minimum(dist, d)
        cross = (b[0] - a[0]) * (p[:, 1] - a[1]) - (b[1] - a[1]) * (p[:, 0] - a[0])
        inside &= sign * cross >= 0
    return np.where(inside, 0.0, dist)


def torso_quad(pts: dict[str, np.ndarray]) -> np.ndarray:
    return np.array([pts["11"], pts["12"], pts["24"], pts["23"]], dtype=np.float64)


def grown_torso(quad: np.ndarray) -> np.ndarray:
    """The torso's quad grown HULL_GROWTH times about its middle: the body's hull's torso."""
    centre = quad.mean(axis=0)
    return centre + HULL_GROWTH * (quad - centre)


def head_radius(pts: dict[str, np.ndarray], torso: float) -> float:
    ears = float(np.linalg.norm(pts["7"] - pts["8"]))
    return max(0.5 * ears, 0.18 * torso)


def bone_distance(name: str, p: np.ndarray, pts: dict[str, np.ndarray], torso: float) -> np.ndarray:
    kind, a, b, _ = BONES[name]
    if kind == "torso":
        return polygon_distance(p, torso_quad(pts))
    if kind == "head":
        centre = pts["head_c"]
        return np.maximum(np.linalg.norm(p - centre, axis=1) - head_radius(pts, torso), 0.0)
    d, _ = segment_distance(p, pts[a], pts[b])
    return d


# ---------------------------------------------------------------- building


def limb_radii(mask: np.ndarray, pts: dict[str, np.ndarray], torso: float) -> dict[str, float]:
    """Capsule radius of each limb bone: the mask's half width along the bone's middle, clamped."""
    dt = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    h, w = mask.shape
    out: dict[str, float] = {}
    for name, (kind, a, b, (lo, hi)) in BONES.items():
        if kind in ("torso", "head"):
            continue
        ts = np.linspace(0.3, 0.7, 9)
        samples = pts[a][None] + ts[:, None] * (pts[b] - pts[a])[None]
        xs = np.clip(np.round(samples[:, 0]).astype(int), 0, w - 1)
        ys = np.clip(np.round(samples[:, 1]).astype(int), 0, h - 1)
        measured = float(np.median(dt[ys, xs]))
        out[name] = float(np.clip(measured * 1.1, lo * torso, hi * torso))
    return out


def past_pockets(pockets: np.ndarray, arm: np.ndarray, middle: float) -> np.ndarray:
    """The pixels of `arm` (where an arm covers the picture) in the backdrop in an arm's bend or
    beyond it, seen from the torso's middle column `middle`, on the rows it spans. The backdrop
    there shows where the body's side is: what the body's layer held beyond it, under the arm, is
    not body (the half-figure's fill under her sleeve framed the bend's sky like a window once her
    arm moved)."""
    out = np.zeros(pockets.shape, bool)
    count, labels = cv2.connectedComponents(pockets.astype(np.uint8), connectivity=8)
    xs = np.arange(pockets.shape[1])[None, :]
    for i in range(1, count):
        ys, cols = np.nonzero(labels == i)
        rows = np.unique(ys)
        if cols.mean() > middle:  # outward is to the right
            edge = np.array([cols[ys == y].max() for y in rows])
            out[rows] |= xs > edge[:, None]
        else:
            edge = np.array([cols[ys == y].min() for y in rows])
            out[rows] |= xs < edge[:, None]
    return (out | pockets) & arm


def see_through(arm: np.ndarray, pockets: np.ndarray) -> np.ndarray:
    """An arm's opacity with the backdrop in its bend (`pockets`, how much of each pixel it is)
    taken out. The arm's region reached a pixel or two past the pocket onto the body's edge: that
    thin rim, cut off from the arm by the pocket, goes too (else a pale line followed the arm a
    pocket's width from it). What is thin is what an opening of POCKET_RIM px takes off; within
    3 POCKET_RIM px of the pocket it goes, with its soft margin. The arm's own soft edge beside the
    pocket (within 1.5 POCKET_RIM px of its opaque part) stays."""
    out = arm * (1.0 - pockets)
    k = 2 * POCKET_RIM + 1
    thick = cv2.morphologyEx(
        (out > 0.5).astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    near = _dilate(pockets > 0.5, 3 * POCKET_RIM) > 0
    out[near & ~(_dilate(thick, round(1.5 * POCKET_RIM)) > 0)] = 0.0
    return out


def capsule_mask(shape: tuple[int, int], a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    r = max(1, round(radius))
    cv2.line(m, _pt(a), _pt(b), 1, 2 * r + 1, cv2.LINE_8)
    cv2.circle(m, _pt(a), r, 1, -1)
    cv2.circle(m, _pt(b), r, 1, -1)
    return m.astype(bool)


# mediapipe's pose hand points (pinky 17/18, index 19/20, thumb 21/22) sit near the knuckles;
# the fingertips reach about this many times as far from the wrist (measured on the sample
# character's open hands: 2.2-2.4; an adult hand is ~1.9x its wrist-to-knuckle length)
FINGER_REACH = 2.3
HAND_WIDTH = 0.9  # the hand capsule's radius, as a share of the wrist-to-knuckle length
HAND_CORE = 0.75  # share of that radius kept as "probably the hand" next to the head
HAIR_REACH = 2.2  # head radii from the head's centre that hair reaches (the sample character: ~2.1)


def hand_shape(pts: dict[str, np.ndarray], side: str, forearm: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(wrist, estimated fingertips, radius): the capsule that holds the whole hand, fingers too."""
    idx = (15, 17, 19, 21) if side == "l" else (16, 18, 20, 22)
    hp = np.array([pts[str(i)] for i in idx])
    wrist = hp[0]
    knuckles = hp[1:3].mean(axis=0)
    palm = float(np.linalg.norm(knuckles - wrist))
    spread = float(np.max(np.linalg.norm(hp[1:] - hp[1:].mean(axis=0), axis=1)))
    tips = wrist + FINGER_REACH * (knuckles - wrist)
    return wrist, tips, max(HAND_WIDTH * palm, 1.3 * spread, 0.12 * forearm)


# the hand detector's 21 points: the palm's outline, and each finger from its base to its tip
PALM = (0, 1, 2, 5, 9, 13, 17)
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
FINGER_RADIUS = 0.16  # a finger's half-width, as a share of the palm's length (wrist to middle knuckle)
EDGE_ALPHA = 0.15  # below this opacity an edge pixel's own colour is not recovered (too little of it)
HAND_COLOUR_SIGMA = 3.0  # how far in colour (standard deviations) a pixel of the hand's shape may be
FINGER_GAP = 3  # px: the widest gap between interlaced fingers closed over
FINGER_GAP_DARK = 60.0  # Lab lightness (OpenCV's 0..255) under the hand's that is a gap between interlaced fingers


def decontaminate(bgr: np.ndarray, alpha: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The character's own colour at its soft edge: a pixel there is alpha * F + (1 - alpha) * B,
    so F = (I - (1 - alpha) * B) / alpha with B the background plate (the compositing equation
    solved for F, clipped). Where alpha is tiny the pixel is left as it is."""
    a = alpha[..., None].astype(np.float32)
    edge = (alpha > EDGE_ALPHA) & (alpha < 0.99)
    if not edge.any():
        return bgr
    fg = (bgr - (1.0 - a) * backdrop.astype(np.float32)) / np.maximum(a, EDGE_ALPHA)
    out = bgr.copy()
    out[edge] = np.clip(fg[edge], 0.0, 255.0)
    return out


def hand_mask(shape: tuple[int, int], hand: np.ndarray) -> np.ndarray:
    """The hand as the hand detector sees it: the palm's hull plus each finger drawn as a thick
    line through its joints (a finger's width from the palm's length), fingertips rounded."""
    palm = max(float(np.linalg.norm(hand[9] - hand[0])), 2.0)
    r = max(1, round(FINGER_RADIUS * palm))
    m = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.round(hand[list(PALM)]).astype(np.int32)), 1)
    for finger in FINGERS:
        line = np.round(hand[list(finger)]).astype(np.int32)
        cv2.polylines(m, [line], False, 1, 2 * r + 1, cv2.LINE_8)
        for p in line:
            cv2.circle(m, (int(p[0]), int(p[1])), r, 1, -1)
    return m.astype(bool)


def finger_lines(shape: tuple[int, int], hand: np.ndarray) -> np.ndarray:
    """The hand's own colour's samples: a line from the wrist along each finger."""
    lines = np.zeros(shape, np.uint8)
    for finger in FINGERS:
        cv2.polylines(lines, [np.round(hand[[0, *finger]]).astype(np.int32)], False, 1, 1)
    return lines > 0


def not_hand(rgb: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """What of the detector's hand shape is not the hand: the pixels far in colour from the hand's
    own colour, sampled along its finger and palm lines (skin, or a glove): the shorts or the thigh
    behind the fingers, a pocket's edge."""
    m = hand_mask(rgb.shape[:2], hand)
    return unlike(rgb, m, finger_lines(m.shape, hand) & m)


def gaps_between_fingers(
    rgb: np.ndarray, held: np.ndarray, other: np.ndarray, hand: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Where a hand whose fingers were interlaced with the other's is to take its own colour: in
    its shape (the detector's; within the silhouette `mask`), what a closing of FINGER_GAP px
    closes between the pixels the arm holds (`held`) and the other hand's fingers there (what the
    `other` arm holds), and what it holds much darker than the hand (FINGER_GAP_DARK of Lab
    lightness under its median along the finger lines) a pixel in from that closed outline: the
    skirt between the fingers and the lines between them. The arm's edge is feathered a pixel over
    the first, so its colour shows there too. Once the hands parted, those pixels read as dark
    rings and dashes across each hand."""
    shape = hand_mask(held.shape, hand)
    own = shape & held
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    samples = lightness[finger_lines(held.shape, hand) & own]
    if len(samples) < 10:
        return np.zeros(held.shape, bool)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * FINGER_GAP + 1, 2 * FINGER_GAP + 1))
    near = cv2.dilate(shape.astype(np.uint8), disc) > 0  # a crack just past the shape's edge too
    closed = cv2.morphologyEx((near & (held | (other & shape))).astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0
    inner = cv2.erode(closed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    dark = lightness < float(np.median(samples)) - FINGER_GAP_DARK
    return (closed & near & mask & ~held) | (inner & own & dark)


def not_arm(rgb: np.ndarray, region: np.ndarray, pts: dict[str, np.ndarray], side: str, torso: float) -> np.ndarray:
    """What of an arm's upper arm is not the arm: far in colour from the arm's own colour, sampled
    along its bones (skin, or a sleeve): hair that fell over the shoulder, the edge of the top the
    arm hung beside. Only beside the upper arm (a forearm's shaded edge is the forearm); the caller
    keeps the hand and the bones' core."""
    return unlike(rgb, region, bone_lines(region.shape, pts, side, torso) & region) & upper_part(region, pts, side)


def bone_lines(shape: tuple[int, int], pts: dict[str, np.ndarray], side: str, torso: float) -> np.ndarray:
    """An arm's bones drawn as lines (the upper arm from 0.3 of the way down): its own colour's samples."""
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    lines = np.zeros(shape, np.uint8)
    thick = max(1, round(0.03 * torso))
    for a, b in ((pts[s] + 0.3 * (pts[e] - pts[s]), pts[e]), (pts[e], pts[wr])):
        cv2.line(lines, _pt(a), _pt(b), 1, thick)
    return lines > 0


def inner_gap(
    body: np.ndarray, front: np.ndarray, pts: dict[str, np.ndarray], side: str, radius: float, torso: float
) -> np.ndarray:
    """The body's pixels inside an upper arm's width (`radius` around its bone), on its inner half
    (the torso's side of the bone) and near a patch in `front` of it (within GAP_REACH torso):
    strands of hair between the patch and the arm's own edge."""
    s, e = ("11", "13") if side == "l" else ("12", "14")
    tube = capsule_mask(body.shape, pts[s], pts[e], radius) & body
    near = _dilate(front, max(1, round(GAP_REACH * torso))) > 0
    ys, xs = np.nonzero(tube & near)
    out = np.zeros(body.shape, bool)
    if not len(ys):
        return out
    u = pts[e] - pts[s]
    normal = np.array([-u[1], u[0]])
    centre = torso_quad(pts).mean(axis=0)
    inward = np.sign(float(normal @ (centre - pts[s]))) or 1.0
    across = (np.stack([xs, ys], axis=1) - pts[s]) @ normal * inward
    keep = across > 0
    out[ys[keep], xs[keep]] = True
    return out


def front_notch(
    region: np.ndarray, body: np.ndarray, torso: float, read: Callable[[np.ndarray, np.ndarray], Reading]
) -> np.ndarray:
    """The `body` pixels in a bay of an arm's `region` (a closing of BAY torso lengths fills it)
    that lie in front of the arm as `read` (in_front for one arm, given its region and the body
    beside it) reads them with the bay in the arm: the half-figure's bow tail, cut out of her sleeve's top (a
    notch that showed the sky once her arm rose)."""
    r = max(1, round(BAY * torso))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    bay = (cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0) & body
    if not bay.any():
        return bay
    got, _ = read(region | bay, body & ~bay)
    _, patch = cv2.connectedComponents(got.astype(np.uint8))
    return np.isin(patch, np.unique(patch[got & bay]))


def elbow_corner(shape: tuple[int, int], pts: dict[str, np.ndarray], side: str, radii: dict[str, float]) -> np.ndarray:
    """The outer corner of a bent elbow: within ELBOW_REACH radii of the elbow or the forearm, past
    the elbow along the upper arm and on the forearm's far side from the torso. A puffy sleeve
    bulges there beyond the arm's capsules (more so where the pose read the elbow high)."""
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    out = capsule_mask(shape, pts[e], pts[e], ELBOW_REACH * radii[f"{side}_upper"])
    out |= capsule_mask(shape, pts[e], pts[wr], ELBOW_REACH * radii[f"{side}_fore"])
    ys, xs = np.nonzero(out)
    p = np.stack([xs, ys], axis=1).astype(np.float64)
    up, fore = pts[e] - pts[s], pts[wr] - pts[e]
    normal = np.array([-fore[1], fore[0]])
    centre = torso_quad(pts).mean(axis=0)
    far = np.sign((p - pts[e]) @ normal) == -np.sign(float((centre - pts[e]) @ normal))
    past = (p - pts[e]) @ up > 0
    out[ys, xs] = far & past
    return out


def upper_part(region: np.ndarray, pts: dict[str, np.ndarray], side: str) -> np.ndarray:
    """The pixels of an arm's region nearer its upper arm than its forearm."""
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    ys, xs = np.nonzero(region)
    p = np.stack([xs, ys], axis=1).astype(np.float64)
    upper = np.zeros(region.shape, bool)
    upper[ys, xs] = segment_distance(p, pts[s], pts[e])[0] < segment_distance(p, pts[e], pts[wr])[0]
    return upper


def beside_upper_arm(region: np.ndarray, pts: dict[str, np.ndarray], side: str) -> np.ndarray:
    """The pixels of `region` nearer the upper arm than the forearm and level with it, not past the
    elbow (a puffy sleeve's bulge below a bent elbow lies against the waist, where the body goes on)."""
    s, e = ("11", "13") if side == "l" else ("12", "14")
    out = upper_part(region, pts, side)
    ys, xs = np.nonzero(out)
    _, t = segment_distance(np.stack([xs, ys], axis=1).astype(np.float64), pts[s], pts[e])
    out[ys[t >= 1.0], xs[t >= 1.0]] = False
    return out


def unlike_torso(rgb: np.ndarray, past: np.ndarray, body: np.ndarray, torso: float) -> np.ndarray:
    """The pixels of `past` far in colour (Lab distance over TORSO_UNLIKE) from the median of the
    body's own pixels within TORSO_NEAR torso of them on their row (and 2 rows either side): a bare
    arm beside a top. A sleeve of the shirt's colour gives none (where the torso ends under it does
    not show), nor does a row with no body pixel near it. Row by row, not `unlike`'s one colour model:
    beside an upper arm the body's pixels mix a top with the skin above and below it, and one model
    of them all found the woman's bare arm like her grey top."""
    out = np.zeros(past.shape, bool)
    near = (_dilate(past, max(1, round(TORSO_NEAR * torso))) > 0) & body & ~past
    ys, xs = np.nonzero(past | near)
    if not len(ys):
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB).astype(np.float32)
    past, near = past[y0:y1, x0:x1], near[y0:y1, x0:x1]
    for y in np.flatnonzero(past.any(axis=1)):
        band = slice(max(0, y - 2), y + 3)
        if near[band].sum() < 3:
            continue
        torso_colour = np.median(lab[band][near[band]], axis=0)
        far = np.linalg.norm(lab[y] - torso_colour, axis=1) > TORSO_UNLIKE
        out[y0 + y, x0:x1] = past[y] & far
    return out


def as_a_side(level: np.ndarray, unlike: np.ndarray, outward: float, torso: float) -> np.ndarray:
    """The pixels of `level` past the torso's side, with that side a line: on each row, the split
    across it (`outward`: +1 when the arm lies to the right of the torso, -1 to the left) with the
    most `unlike` pixels outside it and the fewest inside, its position smoothed down the rows (a
    running median over SIDE_ROWS torso lengths). Pixel by pixel, a sleeve in the jacket's red, its
    shading and a drawstring across it came out as stripes of "past" and "not": the body was filled
    in between them and hung below a raised arm as a ragged tab. A row where nothing reads unlike
    has no say (beside the woman's top's corner her torso is skin, as her arm is): it takes the
    line of the rows around it that can tell; none of it is past when no row within reach can."""
    out = np.zeros(level.shape, bool)
    rows = np.flatnonzero(level.any(axis=1))
    if not len(rows):
        return out
    split = np.full(len(rows), np.nan)  # per row: pixels with outward * x above it are past
    for i, y in enumerate(rows):
        xs = np.flatnonzero(level[y])
        order = np.argsort(-outward * xs, kind="stable")  # outermost first
        xs = xs[order]
        if not unlike[y, xs].any():
            continue  # nothing here reads unlike: no say (the torso beside is skin, as the arm is)
        gain = np.cumsum(np.where(unlike[y, xs], 1, -1))
        k = int(np.argmax(gain)) + 1 if gain.max() > 0 else 0  # the first k pixels are past
        split[i] = outward * (xs[k - 1] - 0.5 * outward) if k else outward * xs[0] + 0.5
    half = max(1, round(SIDE_ROWS * torso / 2))
    for y in rows:
        near = split[np.abs(rows - y) <= half]
        near = near[np.isfinite(near)]
        if len(near):
            xs = np.flatnonzero(level[y])
            out[y, xs] = outward * xs > float(np.median(near))
    return out


def unlike(rgb: np.ndarray, inside: np.ndarray, sure: np.ndarray) -> np.ndarray:
    """The pixels of `inside` far in colour (Lab, Mahalanobis > HAND_COLOUR_SIGMA) from the `sure`
    pixels' colours, or cut off from them by such pixels. Computed in a crop around `inside`."""
    shape = inside.shape
    ys, xs = np.nonzero(inside)
    if len(ys) < 20:
        return np.zeros(shape, bool)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    inside, sure = inside[y0:y1, x0:x1], sure[y0:y1, x0:x1]
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB).astype(np.float64)
    samples = lab[sure]
    if len(samples) < 10:
        return np.zeros(shape, bool)
    mean = samples.mean(axis=0)
    cov = np.cov(samples.T) + np.eye(3) * 9.0  # at least 3 Lab units of spread per channel
    diff = lab - mean
    d2 = np.einsum("...i,ij,...j->...", diff, np.linalg.inv(cov), diff)
    like = (d2 <= HAND_COLOUR_SIGMA**2) & inside
    like = cv2.morphologyEx(like.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    _, lab_ids = cv2.connectedComponents((like | sure).astype(np.uint8), connectivity=8)
    keep = np.isin(lab_ids, np.unique(lab_ids[sure])) & inside
    other = np.zeros(shape, bool)
    other[y0:y1, x0:x1] = inside & ~keep
    return other


def arm_core(
    shape: tuple[int, int], pts: dict[str, np.ndarray], radii: dict[str, float], side: str, hand: np.ndarray | None
) -> np.ndarray:
    """What stays with an arm whatever its colour: half a limb radius around its bones (a cuff, a
    bracelet; the thinner arm's radius: an arm that touches the body measures wider than it is),
    and its hand (the detector's shape, else the pose's estimate)."""
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    upper, fore = (0.5 * min(radii[f"l_{b}"], radii[f"r_{b}"]) for b in ("upper", "fore"))
    core = capsule_mask(shape, pts[s], pts[e], upper)
    core |= capsule_mask(shape, pts[e], pts[wr], fore)
    return core | hand_area(shape, pts, side, hand)


def hand_area(shape: tuple[int, int], pts: dict[str, np.ndarray], side: str, hand: np.ndarray | None) -> np.ndarray:
    """Where a hand is: the detector's shape, else the pose's estimate (wrist to fingertips)."""
    if hand is not None:
        return hand_mask(shape, hand)
    e, wr = ("13", "15") if side == "l" else ("14", "16")
    wrist, tips, r = hand_shape(pts, side, float(np.linalg.norm(pts[wr] - pts[e])))
    return capsule_mask(shape, wrist, tips, r)


def arm_region(
    shape: tuple[int, int],
    pts: dict[str, np.ndarray],
    radii: dict[str, float],
    side: str,
    torso: float,
    hull: np.ndarray,
    hands: dict[str, np.ndarray | None] | None = None,
) -> np.ndarray:
    """Pixels that move with an arm: its capsules and hand, plus (outside the body) whatever is
    nearer to this arm's bones than to any other bone, up to 2.2 limb radii (sleeves, cuffs).
    The hand is the detector's hand where it found one (`hands`, see Cutout.hands), none where
    the hand is hidden against the body (the sleeve ends at the wrist), else the pose's estimate."""
    s = "11" if side == "l" else "12"
    e = "13" if side == "l" else "14"
    wr = "15" if side == "l" else "16"
    region = capsule_mask(shape, pts[s], pts[e], radii[f"{side}_upper"])
    region |= capsule_mask(shape, pts[e], pts[wr], radii[f"{side}_fore"])
    forearm = float(np.linalg.norm(pts[wr] - pts[e]))
    hands = hands or {}
    if side not in hands:
        wrist, tips, r = hand_shape(pts, side, forearm)
        region |= capsule_mask(shape, wrist, tips, r)
    elif hands[side] is not None:
        region |= hand_mask(shape, hands[side])
    # nearest-bone test, only around the arm and outside the body
    own = (f"{side}_upper", f"{side}_fore", f"{side}_hand")
    reach = capsule_mask(shape, pts[s], pts[e], 2.2 * radii[own[0]]) | capsule_mask(
        shape, pts[e], pts[wr], 2.2 * radii[own[1]]
    )
    reach &= ~hull
    ys, xs = np.nonzero(reach)
    if len(ys):
        p = np.stack([xs, ys], axis=1).astype(np.float64)
        best_own = np.full(len(p), np.inf)
        best_other = np.full(len(p), np.inf)
        for name in BONE_NAMES:
            kind = BONES[name][0]
            scale = radii.get(name, 0.15 * torso) if kind not in ("torso", "head") else 0.15 * torso
            q = bone_distance(name, p, pts, torso) / max(scale, 1.0)
            if name in own:
                best_own = np.minimum(best_own, q)
            else:
                best_other = np.minimum(best_other, q)
        near = (best_own < best_other) & (best_own <= 2.2)
        region[ys[near], xs[near]] = True
    return region


def body_hull(shape: tuple[int, int], pts: dict[str, np.ndarray], radii: dict[str, float], torso: float) -> np.ndarray:
    """Where the body is behind an arm: the torso (grown), the head and the legs."""
    hull = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(hull, np.round(grown_torso(torso_quad(pts))).astype(np.int32), 1)
    cv2.circle(hull, _pt(pts["head_c"]), max(1, round(2.0 * head_radius(pts, torso))), 1, -1)
    cv2.line(hull, _pt(pts["neck"]), _pt(pts["head_c"]), 1, max(1, round(0.3 * torso)))
    out = hull.astype(bool)
    for side in ("l", "r"):
        hip, knee, ankle = ("23", "25", "27") if side == "l" else ("24", "26", "28")
        out |= capsule_mask(shape, pts[hip], pts[knee], 1.2 * radii[f"{side}_thigh"])
        out |= capsule_mask(shape, pts[knee], pts[ankle], 1.2 * radii[f"{side}_shin"])
    return out


def torso_sides(shape: tuple[int, int], pts: dict[str, np.ndarray], radii: dict[str, float]) -> np.ndarray:
    """What the body's hull (grown_torso) holds beside the torso's sides as
    they run from SIDE_IN upper-arm radii inside each shoulder joint (the torso's side at the
    armpit: the joint is the arm's, outside the chest) straight down to the grown hips."""
    quad = torso_quad(pts)
    wide = grown_torso(quad)
    narrow = wide.copy()
    across = quad[0] - quad[1]
    width = float(np.linalg.norm(across))
    out = np.zeros(shape, bool)
    if width < 1.0:
        return out
    across /= width
    for corner, bone, sign in ((0, "l_upper", 1.0), (1, "r_upper", -1.0)):
        inward = sign * float((wide[corner] - quad[corner]) @ across) + SIDE_IN * radii[bone]
        narrow[corner] -= sign * max(inward, 0.0) * across
    drawn = [np.zeros(shape, np.uint8) for _ in range(2)]
    for canvas, poly in zip(drawn, (wide, narrow), strict=True):
        cv2.fillConvexPoly(canvas, np.round(poly).astype(np.int32), 1)
    return (drawn[0] > 0) & (drawn[1] == 0)


def feathered(region: np.ndarray, sigma: float) -> np.ndarray:
    """float32 opacity: 1 on `region`, falling smoothly to 0 over ~2 sigma outside it (never inside)."""
    blurred = cv2.GaussianBlur(region.astype(np.float32), (0, 0), sigma)
    soft = np.clip(2.0 * blurred, 0.0, 1.0)
    soft[region] = 1.0
    soft[soft < 1.0 / 255.0] = 0.0
    return soft


def shoulder_fade(region: np.ndarray, pts: dict[str, np.ndarray], radii: dict[str, float], side: str) -> np.ndarray:
    """Opacity of an arm layer: 0 just inside the shoulder joint rising to 1 an eighth of the way down the
    upper arm, for the pixels that belong to the upper arm; 1 for the rest of the arm (a hand
    raised beside the head projects 'before' the shoulder but must stay opaque)."""
    out = region.astype(np.float32)
    ys, xs = np.nonzero(region)
    if len(ys) == 0:
        return out
    p = np.stack([xs, ys], axis=1).astype(np.float64)
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    d_up, t = segment_distance(p, pts[s], pts[e])
    d_fore, _ = segment_distance(p, pts[e], pts[wr])
    d_hand, _ = segment_distance(p, pts[wr], pts[f"{side}_tip"])
    upper = (d_up <= d_fore) & (d_up <= d_hand)
    lo, hi = SHOULDER_FADE
    x = np.clip((t - lo) / (hi - lo), 0.0, 1.0)
    out[ys, xs] = np.where(upper, x * x * (3 - 2 * x), 1.0)
    return out


def apart_from_torso(mask: np.ndarray, pts: dict[str, np.ndarray], radii: dict[str, float], side: str) -> np.ndarray:
    """On an upper arm's rows (from below the shoulder's cap to the elbow's round end), what of
    the character lies past the first gap of backdrop going outward from the torso's middle:
    nothing of the torso lies there, so it is the arm's, with no body under it. (The armour's
    shadowed inner upper arm, beyond the white gap between its arm and its chest, was read as
    body in front of the arm, stayed on the body and hung beside its side as a flap once the arm
    rose.)"""
    out = np.zeros(mask.shape, bool)
    s, e, o = ("11", "13", "12") if side == "l" else ("12", "14", "11")
    middle = round(0.5 * float(pts[s][0] + pts[o][0]))
    if not 0 <= middle < mask.shape[1]:
        return out
    outward = 1 if float(pts[s][0]) > middle else -1
    y0 = max(0, int(pts[s][1] + SHOULDER_CAP * radii[f"{side}_upper"]))
    y1 = min(mask.shape[0], int(pts[e][1] + radii[f"{side}_upper"]))  # to the elbow's round end
    for y in range(y0, y1):
        row = mask[y, middle:] if outward > 0 else mask[y, middle::-1]
        if not row[0]:
            continue
        gap = int(np.argmin(row))  # the torso's run ends here
        if not gap:
            continue
        xs = np.flatnonzero(row[gap:]) + gap
        out[y, middle + outward * xs] = True
    return out


def assign_islands(mask: np.ndarray, regions: dict[str, np.ndarray], hull: np.ndarray, torso: float) -> None:
    """Pieces of the character left floating once the arms are taken out (a sleeve's far edge, a
    cuff, a held object) go with the nearest arm, when one is within a torso length. Thin lines
    (glow, outlines) are cut off the body first by a morphological opening."""
    arms = np.zeros(mask.shape, bool)
    for r in regions.values():
        arms |= r
    rest = (mask & ~arms).astype(np.uint8)
    if not rest.any():
        return
    k = max(3, round(0.05 * torso) | 1)
    opened = cv2.morphologyEx(rest, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, lab = cv2.connectedComponents(opened, connectivity=8)
    body = np.zeros(n, bool)
    inside = hull & (opened > 0)
    ids, counts = np.unique(lab[opened > 0], return_counts=True)
    in_hull = np.bincount(lab[inside], minlength=n)
    for i, c in zip(ids, counts, strict=True):
        body[i] = i > 0 and in_hull[i] >= 0.3 * c
    # grow the body parts back over what the opening shaved off them
    body_mask = cv2.dilate(body[lab].astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 2, k + 2)))
    loose = (rest > 0) & ~(body_mask > 0) & ~hull
    if not loose.any():
        return
    names = [name for name, r in regions.items() if r.any()]
    if not names:
        return
    dts = np.stack([cv2.distanceTransform((~regions[n]).astype(np.uint8), cv2.DIST_L2, 3) for n in names])
    nearest = np.argmin(dts, axis=0)
    near_enough = np.min(dts, axis=0) <= torso
    for i, name in enumerate(names):
        regions[name] |= loose & near_enough & (nearest == i)


def specks(region: np.ndarray, torso: float, hand: np.ndarray) -> np.ndarray:
    """The pieces of an arm's region apart from the arm and its hand, each smaller than SPECK
    torso lengths squared: a few pixels of the armpit's gap that the split's rules gave the arm.
    Skinned to the arm, such a piece floated beside it as a speck once the arm moved; it stays on
    the body. (A fingertip apart from its hand is the hand's: nothing meeting `hand` is a speck.)"""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(region.astype(np.uint8), connectivity=8)
    if n <= 2:
        return np.zeros(region.shape, bool)
    areas = stats[:, cv2.CC_STAT_AREA].copy()
    small = areas < (SPECK * torso) ** 2
    small[0] = False
    small[int(np.argmax(areas[1:])) + 1] = False
    small[np.unique(lab[hand])] = False
    return small[lab]


def outline_notches(body: np.ndarray, taken: np.ndarray, torso: float) -> np.ndarray:
    """Pixels `taken` by an arm in a notch of the body's outline: what a closing of the body (a disc
    of NOTCH torso lengths) adds, where the body lies on both sides of it (above and below, or left
    and right) within that reach. A hand on the hip leaves a notch; an arm hanging beside the body,
    or in the corner where a cuff meets a thinner thigh, does not (the caller offers only what is
    near the hands: under a shoulder guard that sticks out, the upper arm's place is no notch)."""
    k = max(3, round(NOTCH * torso) | 1)
    out = np.zeros(body.shape, bool)
    ys, xs = np.nonzero(taken)
    if len(ys) == 0:
        return out
    # in a crop around what was offered (the closing's disc is large: the whole picture took ~0.5 s)
    y0, x0 = max(0, ys.min() - k), max(0, xs.min() - k)
    y1, x1 = min(body.shape[0], ys.max() + k + 1), min(body.shape[1], xs.max() + k + 1)
    body, taken = body[y0:y1, x0:x1], taken[y0:y1, x0:x1]
    solid = body.astype(np.uint8)
    f = max(1, k // 40)  # the closing at a scale where its disc is ~40 px: the notch needs no finer
    small = cv2.resize(
        solid.astype(np.float32),
        (max(1, solid.shape[1] // f), max(1, solid.shape[0] // f)),
        interpolation=cv2.INTER_AREA,
    )
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k // f | 1, k // f | 1))
    shut = cv2.morphologyEx((small >= 0.5).astype(np.uint8), cv2.MORPH_CLOSE, disc)
    closed = cv2.resize(shut, (solid.shape[1], solid.shape[0]), interpolation=cv2.INTER_NEAREST) > 0

    def reach(kernel: tuple[int, int], anchor: tuple[int, int]) -> np.ndarray:
        return cv2.dilate(solid, np.ones(kernel, np.uint8), anchor=anchor) > 0

    above, below = reach((k, 1), (0, k - 1)), reach((k, 1), (0, 0))
    before, after = reach((1, k), (k - 1, 0)), reach((1, k), (0, 0))
    enclosed = (above & below) | (before & after)
    out[y0:y1, x0:x1] = closed & ~body & taken & enclosed
    return out


def soft_orphans(alpha: np.ndarray, arms: np.ndarray, torso: float) -> np.ndarray:
    """The body layer's faint pixels (opacity under one half) beside an arm with no opaque body pixel
    near them: the soft outer edge of an arm that went to the arm's layer, which left on the body
    stays behind as a faint outline (a pale line beside the hip) once the arm moves."""
    k = max(3, round(ORPHAN_REACH * torso) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    near_body = cv2.dilate((alpha >= 0.5).astype(np.uint8), disc) > 0
    beside_arm = cv2.dilate(arms.astype(np.uint8), disc) > 0
    return (alpha > 0.0) & (alpha < 0.5) & ~near_body & beside_arm


def smooth_cut(alpha: np.ndarray, bgr: np.ndarray, decided: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`alpha` with its edges where `decided` (pixels given 0 or 1 by a rule: what an arm took, what
    is filled in under it) drawn with sub-pixel coverage. A binary edge along a slanted line is a
    staircase of whole pixels, and a picture scaled up 4x (a talking head on a full-body picture)
    showed it as steps of 4 px where a raised hand had been. The opaque part's signed distance to
    its edge is smoothed (CUT_SMOOTH px) and the edge drawn as a 1 px ramp across that smoothed line,
    within CUT_BAND px of `decided` and only where the opacity is 0 or 1 (a matted edge keeps its
    own). No pixel crosses one half either way, so what is opaque stays so (no thin part is cut,
    no gap closed). The pixels it makes partly opaque take the colour of the opaque ones beside
    them (not the backdrop's, nor the arm's, behind them in `bgr`)."""
    solid = alpha >= 0.5
    binary = (alpha <= BINARY) | (alpha >= 1.0 - BINARY)
    band = (_dilate(decided, CUT_BAND) > 0) & binary
    if not band.any():
        return alpha, bgr
    ys, xs = np.nonzero(band)
    pad = round(4 * CUT_SMOOTH) + CUT_BAND
    y0, y1 = max(0, ys.min() - pad), min(alpha.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(alpha.shape[1], xs.max() + pad + 1)
    inside = solid[y0:y1, x0:x1].astype(np.uint8)
    to_out = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    to_in = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    signed = cv2.GaussianBlur(np.where(inside > 0, 0.5 - to_out, to_in - 0.5), (0, 0), CUT_SMOOTH)
    ramp = np.clip(0.5 - signed, 0.0, 1.0)
    ramp = np.where(inside > 0, np.maximum(ramp, 0.5), np.minimum(ramp, 0.499)).astype(np.float32)
    here = band[y0:y1, x0:x1]
    alpha = alpha.copy()
    crop = alpha[y0:y1, x0:x1]
    crop[here] = ramp[here]
    gained = here & (inside == 0) & (crop > BINARY)
    if gained.any():
        weight = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), CUT_SMOOTH)
        source = bgr[y0:y1, x0:x1].astype(np.float32) * inside[..., None]
        colour = cv2.GaussianBlur(source, (0, 0), CUT_SMOOTH)
        bgr = bgr.copy()
        fill = colour[gained] / np.maximum(weight[gained], 1e-6)[:, None]
        bgr[y0:y1, x0:x1][gained] = np.clip(fill, 0, 255).astype(bgr.dtype)
    return alpha, bgr


def surrounded(solid: np.ndarray) -> np.ndarray:
    """The pixels outside `solid` that it surrounds: no 4-connected path through non-solid pixels to
    the picture's edge."""
    free = np.pad(~solid, 1, constant_values=True).astype(np.uint8)
    _, labels = cv2.connectedComponents(free, connectivity=4)
    return ((labels != labels[0, 0]) & (free > 0))[1:-1, 1:-1]


def hair_beside_hand(
    shape: tuple[int, int], pts: dict[str, np.ndarray], side: str, torso: float, off: np.ndarray
) -> np.ndarray:
    """Around the head (HAIR_REACH head radii) everything but the hand's and forearm's core: hair
    a raised hand lay on stays with the head instead of moving with the hand as a pale patch."""
    e, wr = ("13", "15") if side == "l" else ("14", "16")
    near_head = np.zeros(shape, np.uint8)
    cv2.circle(near_head, _pt(pts["head_c"] - off), max(1, round(HAIR_REACH * head_radius(pts, torso))), 1, -1)
    forearm = float(np.linalg.norm(pts[wr] - pts[e]))
    wrist, tips, r = hand_shape(pts, side, forearm)
    core = capsule_mask(shape, wrist - off, tips - off, HAND_CORE * r)
    core |= capsule_mask(shape, pts[e] - off, wrist - off, HAND_CORE * r)
    return (near_head > 0) & ~core


def refine_arm(
    rgb: np.ndarray,
    region: np.ndarray,
    mask: np.ndarray,
    pts: dict[str, np.ndarray],
    side: str,
    torso: float,
    hand: np.ndarray | bool | None = True,
    maybe: np.ndarray | None = None,
) -> np.ndarray:
    """Split an arm from what lies under it by colour (grabCut in a crop around the arm): the
    arm's bones are sure arm, the body's core (face, torso middle) sure not, the geometric arm
    region probable arm. Keeps hair beside a raised hand with the head, the hand with the arm.
    `maybe`: pixels outside the region that grabCut may still give to the arm (probably not arm)."""
    allowed = region if maybe is None else region | maybe
    ys, xs = np.nonzero(allowed)
    if np.count_nonzero(region) < 50:
        return region
    h, w = mask.shape
    pad = round(0.15 * torso)
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    crop = np.ascontiguousarray(cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2BGR))
    labels = np.full((y1 - y0, x1 - x0), cv2.GC_PR_BGD, np.uint8)
    labels[~mask[y0:y1, x0:x1]] = cv2.GC_BGD
    labels[region[y0:y1, x0:x1]] = cv2.GC_PR_FGD
    off = np.array([x0, y0], np.float64)
    sure_bg = np.zeros(labels.shape, np.uint8)
    cv2.circle(sure_bg, _pt(pts["head_c"] - off), max(1, round(1.6 * head_radius(pts, torso))), 1, -1)
    quad = torso_quad(pts)
    centre = quad.mean(axis=0)
    cv2.fillConvexPoly(sure_bg, np.round(centre + 0.5 * (quad - centre) - off).astype(np.int32), 1)
    labels[sure_bg > 0] = cv2.GC_BGD
    labels[hair_beside_hand(labels.shape, pts, side, torso, off)] = cv2.GC_BGD
    sure_fg = np.zeros(labels.shape, np.uint8)
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    thick = max(1, round(0.03 * torso))
    for a, b in ((pts[s] + 0.3 * (pts[e] - pts[s]), pts[e]), (pts[e], pts[wr])):
        cv2.line(sure_fg, _pt(a - off), _pt(b - off), 1, thick)
    if isinstance(hand, np.ndarray):  # the detector's fingers are sure hand
        for finger in FINGERS:
            line = np.round(hand[[0, *finger]] - off).astype(np.int32)
            cv2.polylines(sure_fg, [line], False, 1, thick)
    elif hand is True:  # the pose's estimate: wrist to fingertips
        cv2.line(sure_fg, _pt(pts[wr] - off), _pt(pts[f"{side}_tip"] - off), 1, thick)
    labels[(sure_fg > 0) & mask[y0:y1, x0:x1]] = cv2.GC_FGD
    fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    if fg.sum() < 30 or (~fg).sum() < 30:
        return region
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.setRNGSeed(GRABCUT_SEED)
        cv2.grabCut(crop, labels, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return region
    out = np.zeros_like(region)
    got = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)) & allowed[y0:y1, x0:x1]
    # keep the part connected to the arm's bones (grabCut may leave specks)
    _, lab = cv2.connectedComponents(got.astype(np.uint8), connectivity=8)
    keep = np.unique(lab[(sure_fg > 0) & got])
    keep = keep[keep > 0]
    out[y0:y1, x0:x1] = np.isin(lab, keep) if len(keep) else got
    return out


def cross_sections(mask: np.ndarray, a: np.ndarray, b: np.ndarray, torso: float) -> list[tuple[int, int, int]]:
    """The foreground's extent across the bone a-b at 8 places along it (0.2-0.9 of the way), where
    the bone lies on it: (first, last, reach) px off the bone on each side, looked at up to `reach`
    (0.25 torso) each way; first == -reach or last == reach where it runs on that far."""
    reach = max(4, round(0.25 * torso))
    h, w = mask.shape
    ks = np.arange(-reach, reach + 1)
    u = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
    n = np.array([-u[1], u[0]])
    out = []
    for t in np.linspace(0.2, 0.9, 8):
        q = np.round(a + t * (b - a) + ks[:, None] * n).astype(int)
        inside = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
        fg = np.zeros(len(ks), bool)
        fg[inside] = mask[q[inside, 1], q[inside, 0]]
        if not fg[reach]:
            continue
        gaps = np.flatnonzero(~fg)
        lo = gaps[gaps < reach].max() + 1 if (gaps < reach).any() else 0
        hi = gaps[gaps > reach].min() - 1 if (gaps > reach).any() else len(ks) - 1
        out.append((int(lo - reach), int(hi - reach), reach))
    return out


def _across(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The unit vector across the bone a-b (the side cross_sections counts as positive)."""
    u = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
    return np.array([-u[1], u[0]])


def middle_shift(mask: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float, torso: float) -> np.ndarray | None:
    """How far to move the bone a-b (px, across it) to lie on the middle of a limb `radius` wide
    whose foreground runs on into the body on one side of the bone and ends at the limb's free edge
    on the other (cross_sections, 0.25 torso each way); None when both sides or neither run on, or
    the move is under half the radius."""
    edges = cross_sections(mask, a, b, torso)
    if len(edges) < 5:
        return None
    lo, hi, reach = np.array(edges, float).T
    runs_lo, runs_hi = (lo <= -reach).mean() >= 0.75, (hi >= reach).mean() >= 0.75
    if runs_lo == runs_hi:  # free on both sides, or on neither: no telling which edge is the limb's
        return None
    shift = float(np.median(hi) - radius) if runs_lo else float(np.median(lo) + radius)
    return _across(a, b) * shift if abs(shift) >= 0.5 * radius else None


def own_width(mask: np.ndarray, a: np.ndarray, b: np.ndarray, torso: float) -> tuple[np.ndarray, float] | None:
    """(the move across it onto the limb's middle, its half width) for a limb that the background
    bounds on both sides of the bone a-b (at WIDE_SECTIONS cross-sections or more), else None."""
    free = [(lo, hi) for lo, hi, reach in cross_sections(mask, a, b, torso) if -reach < lo and hi < reach]
    if len(free) < WIDE_SECTIONS:
        return None
    lo, hi = np.array(free, float).T
    return _across(a, b) * float(np.median((lo + hi) / 2)), float(np.median(hi - lo + 1)) / 2


def centred_arms(
    mask: np.ndarray, lm: np.ndarray, radii: dict[str, float], torso: float
) -> tuple[np.ndarray, dict[str, float], dict[str, np.ndarray]]:
    """Where the pose put an arm's bones along its edge: the landmarks with that arm's elbow, wrist
    and hand points moved onto the arm's middle, its radii, and the points its split from the body
    uses (the shoulder moved too, for the split only: the torso keeps its shoulders). Unchanged
    otherwise.

    An arm hanging against the body with hair over its shoulder (the woman's right arm): the pose's
    bone line runs along the arm's inner edge, through the hair and the top, and the mask's half
    width there (the radius) comes out twice the other arm's, so the arm's region, colour samples
    and core took the hair and the top for arm, and the top's dark edge went along with the arm.
    When both of an arm's bones measure OFF_CENTRE times the other arm's or more, and on the
    cross-sections the foreground runs on into the body on one side only, the arm's middle is its
    free edge less the other arm's radius.

    An arm the background bounds on both sides, much wider than its radius (_wide_arm): its split
    points move onto its middle and its radii grow to its half width; its joints stay."""
    out = np.array(lm, np.float32, copy=True)
    radii_out = dict(radii)
    pts = named_points(lm)
    shoulders: dict[str, np.ndarray] = {}  # shoulder -> its move for the split
    for side, other in (("l", "r"), ("r", "l")):
        s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
        bones = ((f"{side}_upper", s, e), (f"{side}_fore", e, wr))
        if any(radii[bone] < OFF_CENTRE * radii[other + bone[1:]] for bone, _, _ in bones):
            continue
        moves = [middle_shift(mask, pts[a], pts[b], radii[other + bone[1:]], torso) for bone, a, b in bones]
        if moves[0] is None or moves[1] is None:
            continue
        hand = [17, 19, 21] if side == "l" else [18, 20, 22]
        out[int(e), :2] += 0.5 * (moves[0] + moves[1])
        out[[int(wr), *hand], :2] += moves[1]
        shoulders[s] = moves[0]
        radii_out.update({bone: radii[other + bone[1:]] for bone, _, _ in bones})
    split = named_points(out)
    for s, move in shoulders.items():
        split[s] = split[s] + move
    for side in ("l", "r"):
        _wide_arm(mask, split, radii_out, side, torso)
    return out, radii_out, split


def _wide_arm(mask: np.ndarray, split: dict[str, np.ndarray], radii: dict[str, float], side: str, torso: float) -> None:
    """An arm free of the body on both sides and much wider than its radius (an armour's plates,
    a puffy sheer sleeve: the pose's bones along its inner side, the radius the half width from
    there to the gap): its split points moved onto its middle and its radii to its own half width
    (in place). Its capsules took the inner half of the armour's arm; the outer plate of his upper
    arm stayed on the body and hung from his shoulder once the arm rose."""
    s, e, wr = ("11", "13", "15") if side == "l" else ("12", "14", "16")
    moves: dict[str, np.ndarray] = {}
    for bone, a, b in ((f"{side}_upper", s, e), (f"{side}_fore", e, wr)):
        got = own_width(mask, split[a], split[b], torso)
        if got is not None and got[1] > WIDE_ARM * radii[bone]:
            moves[bone] = got[0]
            radii[bone] = min(got[1], BONES[bone][3][1] * torso)
    upper, fore = moves.get(f"{side}_upper"), moves.get(f"{side}_fore")
    if upper is not None:
        split[s] = split[s] + upper
    if upper is not None or fore is not None:
        split[e] = split[e] + np.mean([m for m in (upper, fore) if m is not None], axis=0)
    if fore is not None:
        for j in (wr, *(("17", "19", "21") if side == "l" else ("18", "20", "22"))):
            split[j] = split[j] + fore


def cut_arms(
    rgb: np.ndarray, mask: np.ndarray, lm: np.ndarray, hands: dict[str, np.ndarray | None] | None = None
) -> ArmCut:
    """Each arm's pixels told from the body around the landmarks `lm` (working px): the arm's
    capsules around its bones (centred on the arm's middle), refined by colour (grabCut), without
    the clothing behind the fingers, the hair and the top beside the arm; arms crossing in the
    picture keep what the first one claimed (what of the second's hand that was: `ArmCut.lent`)."""
    h, w = mask.shape
    torso = torso_length(lm)
    # an arm whose bones the pose put along its edge is moved onto its middle (centred_arms);
    # `apts`, the points its split from the body uses
    measured = limb_radii(mask, named_points(lm), torso)
    lm, radii, apts = centred_arms(mask, lm, measured, torso)
    # a centred arm's region reaches past its new radius to its old line (its inner edge); grabCut
    # and the colour test then take what is not arm back to the body
    split_radii = {bone: SPLIT_REACH * r if r < measured[bone] else r for bone, r in radii.items()}
    hull = body_hull((h, w), named_points(lm), radii, torso)
    regions: dict[str, np.ndarray] = {}
    lent: dict[str, np.ndarray] = {}
    covered = np.zeros((h, w), bool)
    for side, name in (("l", "left_arm"), ("r", "right_arm")):
        region = arm_region((h, w), apts, split_radii, side, torso, hull, hands) & mask
        # a sleeve's bulge past a bent elbow (the pose reads a puffy sleeve's elbow high) is the
        # arm's when grabCut finds it the arm's and its colour is the arm's (not a jacket's front)
        maybe = elbow_corner((h, w), apts, side, split_radii) & mask & ~region
        region = refine_arm(rgb, region, mask, apts, side, torso, (hands or {}).get(side, True), maybe)
        if maybe.any():
            region &= ~(unlike(rgb, region, bone_lines((h, w), apts, side, torso) & region) & maybe)
        hand = (hands or {}).get(side)
        if hand is not None:  # clothing behind the fingers stays with the body (the wrist with the arm)
            wrist = capsule_mask((h, w), apts["13" if side == "l" else "14"], hand[0], 0.8 * radii[f"{side}_fore"])
            region &= ~(not_hand(rgb, hand) & ~wrist)
        # hair over the shoulder, the top beside the arm: left with the body (the hand and the bones'
        # core stay with the arm whatever their colour)
        core = arm_core((h, w), apts, radii, side, hand)
        region &= ~(not_arm(rgb, region, apts, side, torso) & ~core)
        # what the other arm already claimed stays with it (arms crossing in the picture)
        if hand is not None:  # fingers interlaced with the other hand's: the arm that claimed them holds them
            lent[name] = region & covered & hand_mask((h, w), hand)
        region &= ~covered
        covered |= region
        regions[name] = region
    return ArmCut(regions, apts, {name: m for name, m in lent.items() if m.any()})


def build_rig(
    rgb: np.ndarray,
    alpha: np.ndarray,
    lm: np.ndarray,
    seen: np.ndarray,
    margin: float,
    hands: dict[str, np.ndarray | None] | None = None,
    backdrop: np.ndarray | None = None,
    face: np.ndarray | None = None,
    pockets: np.ndarray | None = None,
    arms: ArmCut | None = None,
) -> Rig:
    """Layers, meshes and weights for a character (RGB, soft mask, landmarks in the same pixels;
    `hands` as Cutout.hands, in the same pixels; `backdrop`, the background plate (BGR), takes the
    background's colour out of the character's soft edge: no halo once it moves elsewhere;
    `face`, the face mesh's points (Cutout.face, same pixels): its inner points join the body's
    mesh so the face can turn, kmc_ui/engine/face.py; `pockets`, how much of each pixel is
    backdrop seen in an arm's bend (Cutout.pockets): the rig is cut with it, as the model drew the
    silhouette, and every layer is see-through there); `arms`, the arms as told from the body
    before (Rig.arms, same pixels), else cut_arms around `lm`.

    A rig rebuilt on a calibrated bind pose takes the arms as told from the body around the
    still's own detection: a calibrated elbow is where the pose model reads the moved puppet's,
    which can be far up a puffy sleeve (the half-figure's: 0.1 torso above the still's reading,
    itself high); cut around it, the forearm's core ran across her corset, and a tab of it went
    with the arm. The cut is also the rig's costliest part (grabCut, ~0.45 s on the half-figure).

    margin: how far (px) the meshes reach past the mask, so the renderer's coarse grid never
    cuts the character's outline.
    """
    h, w = alpha.shape
    mask = alpha >= 0.5
    split = cut_arms(rgb, mask, lm, hands) if arms is None else arms
    apts = split.points  # the points the arms' split from the body used
    torso = torso_length(lm)
    lm, radii, _ = centred_arms(mask, lm, limb_radii(mask, named_points(lm), torso), torso)
    pts = named_points(lm)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.float32)
    if backdrop is not None:  # the edge against a pocket in an arm's bend too (the opacity it leaves)
        bgr = decontaminate(bgr, alpha if pockets is None else np.clip(alpha - pockets, 0.0, 1.0), backdrop)
    hull = body_hull((h, w), pts, radii, torso)
    regions = {name: region.copy() for name, region in split.regions.items()}
    assign_islands(mask, regions, hull, torso)
    # past a gap of backdrop beside the torso, an upper arm's rows hold no body: the arm's alone
    apart = {name: apart_from_torso(mask, apts, radii, side) for side, name in (("l", "left_arm"), ("r", "right_arm"))}
    for name, other in (("left_arm", "right_arm"), ("right_arm", "left_arm")):
        regions[name] |= apart[name] & ~regions[other]
    # a cuff wider than the forearm's capsule: its edge, left on the body by the wrist, is the arm's
    rest = mask & ~regions["left_arm"] & ~regions["right_arm"]
    for side, name in (("l", "left_arm"), ("r", "right_arm")):
        e, wr = ("13", "15") if side == "l" else ("14", "16")
        cuff = cuff_rim(rgb, regions[name], rest, apts[e], apts[wr], radii[f"{side}_fore"], torso)
        regions[name] |= cuff
        rest &= ~cuff
    # what of the body lies in front of an upper arm stays the body's, drawn over the arm; the arm
    # under it takes its own colour (kmc_ui/engine/front.py)
    front = np.zeros((h, w), bool)
    bays = np.zeros((h, w), bool)  # what of `front` lay in a bay of an arm's outline
    skin = face_skin(rgb, face)
    arm_bgr = bgr
    outside = mask & ~regions["left_arm"] & ~regions["right_arm"]
    for side, name in (("l", "left_arm"), ("r", "right_arm")):
        region = regions[name]
        hand = hand_area((h, w), apts, side, (hands or {}).get(side))

        def read(arm: np.ndarray, beside: np.ndarray, side: str = side, hand: np.ndarray = hand) -> Reading:
            radius = radii[f"{side}_upper"]
            return in_front(rgb, arm, beside, apts, side, radius, torso, hand, upper_part(arm, apts, side), skin)

        got, like = read(region, outside)
        bay = front_notch(region, outside & ~got, torso, read)
        got = (got | bay) & ~apart[name]  # nothing of the body lies past the gap, in front or not
        bay &= got
        if backdrop is not None:  # the backdrop between the arm and the body is not in front
            through = of_backdrop(got, outside & ~got, rgb[..., ::-1].astype(np.float32), backdrop)
            got, bay = got & ~through, bay & ~through
        bays |= bay
        if got.any():
            regions[name] = region = region | got
            # what lies between such a patch and the arm's inner edge (the upper arm's own width
            # around its bone) is in front too, and the arm whole under it: else the arm's inner
            # edge followed the hair's strands, ragged once the arm rose
            gap = inner_gap(outside, got, apts, side, radii[f"{side}_upper"], torso)
            got |= gap
            regions[name] = region = region | gap
            # read from the arm's own colour away from its mixed edge with what lay over it; that
            # edge beside the patch is filled too (it followed the arm as a dashed line of the top's edge)
            edge = _dilate(region & ~like, 2) > 0
            patch_edge = edge & region & (_dilate(got, 2) > 0)
            arm_bgr = fill_inside(arm_bgr, got | patch_edge, like & ~got & ~edge)
            front |= got
    for side, name in (("l", "left_arm"), ("r", "right_arm")):
        regions[name] &= ~specks(regions[name], torso, hand_area((h, w), apts, side, (hands or {}).get(side)))
    arm_alpha: dict[str, np.ndarray] = {}
    arm_colour: dict[str, np.ndarray] = {}
    own = {"left_arm": arm_bgr, "right_arm": arm_bgr}  # each arm's colour
    solid = np.zeros((h, w), bool)  # arm pixels with no body layer under them at all
    for side, name in (("l", "left_arm"), ("r", "right_arm")):
        detected = (hands or {}).get(side)
        if split.lent and detected is not None:
            # the hands' fingers were interlaced: the arm that claimed the other's fingers keeps them,
            # and each hand is whole, what the other's took from it and the gaps between them in its
            # own colour (else it parted with holes in it, and dark rings and dashes across it)
            lent = split.lent.get(name, np.zeros((h, w), bool))
            held = regions[name] | lent
            other = regions["right_arm" if side == "l" else "left_arm"]
            gaps = gaps_between_fingers(rgb, held, other, detected, mask) | lent
            hand = hand_area((h, w), apts, side, detected)
            own[name] = fill_inside(arm_bgr, gaps, held & hand & ~gaps)
            regions[name] = held
        grown = _dilate(regions[name], 1) > 0
        soft = feathered(grown, max(1.0, FEATHER * torso))
        fade = shoulder_fade(soft > 0.0, pts, radii, side)
        # its feather on the body, in the body's colour, is the body's (rim.py)
        arm_alpha[name], arm_colour[name] = own_rim(own[name], grown, regions[name], soft * alpha * fade, mask)
        solid |= grown & (fade > 0.999)

    # The body: everything but the arms; where an arm lay over the body, the body is filled in.
    # Over the shoulder the body stays opaque with its own pixels and the arm fades in over it
    # ("over" compositing of an opaque body and an arm of opacity a is a true cross-fade; a body
    # of opacity 1 - a would let the background through at the seam). Elsewhere the body has no
    # thin leftover rim around the arm (it would stay behind as an outline when the arm moves).
    arm_max = np.maximum(arm_alpha["left_arm"], arm_alpha["right_arm"])
    arms = arm_max > 0.5
    # an upper arm hanging beside the chest hides the torso's side: the hull's guess put that side
    # past the shoulder joint, and the fill stuck out beside a camisole once the arm rose. What of
    # an upper arm lies past the torso's side (torso_sides), in a colour unlike the torso's beside
    # it (a bare arm by a top, not a sleeve by its shirt), is the arm's alone, no body under it.
    beside = torso_sides((h, w), pts, radii) & ~front
    past = np.zeros((h, w), bool)
    for side, name in (("l", "left_arm"), ("r", "right_arm")):
        level = beside_upper_arm(beside & (arm_alpha[name] > 0.5), apts, side)
        shoulder, other = (apts["11"], apts["12"]) if side == "l" else (apts["12"], apts["11"])
        outward = 1.0 if float(shoulder[0] - other[0]) > 0 else -1.0  # the arm's side of the torso, across the picture
        past |= as_a_side(level, unlike_torso(rgb, level, outside & ~(front & ~bays), torso), outward, torso)
    for name in apart:
        past |= apart[name] & regions[name]
    solid |= past
    behind = arms & hull & ~front & ~past
    # The shoulders stay on the body as round caps (the arm's pieces turn over them, as a cut-out's
    # do): without them a raised arm lowered in the dance left the body open at the shoulder.
    caps = np.zeros((h, w), np.uint8)
    for j, bone in ((L.L_SHOULDER, "l_upper"), (L.R_SHOULDER, "r_upper")):
        cv2.circle(caps, _pt(pts[str(j)]), max(1, round(SHOULDER_CAP * radii[bone])), 1, -1)
    taken = solid & ~behind & (caps == 0) & ~front
    # A hand that lay across the body's outline (on the hip, the shorts' edge) took a notch out of
    # it: the notch is body, filled in like the rest of what the arm covered.
    near_hands = np.zeros((h, w), bool)
    for side in ("l", "r"):
        near_hands |= hand_area((h, w), pts, side, (hands or {}).get(side))
    notch = outline_notches(mask & ~taken, taken & _dilate(near_hands, round(0.05 * torso)).astype(bool), torso)
    behind |= notch
    # where the outline shows above and below a hidden stretch of the body's side, it runs straight
    # across it: no patch of fill past it, no notch inside it (kmc_ui/engine/outline.py)
    arm_only = arms & ~front
    # the backdrop in an arm's bend (and its matted rim) shows the body's side as the backdrop does
    bend = np.zeros((h, w), bool) if pockets is None else _dilate(pockets > 0.5, POCKET_RIM + 1) > 0
    carried = hidden_outline(mask & ~bend, arm_only & ~bend, behind, pts, torso)
    added = carried & ~behind
    behind = carried
    taken = solid & ~behind & (caps == 0) & ~front
    body_alpha = np.where(taken, 0.0, np.where(notch | added, 1.0, alpha)).astype(np.float32)
    body_alpha[soft_orphans(body_alpha, arm_max > ORPHAN_FAINT, torso)] = 0.0
    # what an arm took from the character where the body's layer surrounds it (a gap between the
    # hull's edge and the hands clasped in front of a skirt) is body too, filled in: else the
    # backdrop showed through the skirt once the arm moved
    inside = surrounded(body_alpha >= 0.5) & taken
    # so is the arm's thin edge (SEAM px) between a patch in front of it and the body beside: the
    # patch (hair over the arm's inner edge) lay outside the torso's hull, and a line of the backdrop
    # showed down the woman's side between it and her top once her arm rose
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * SEAM + 1, 2 * SEAM + 1))
    closed = cv2.morphologyEx((body_alpha >= 0.5).astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0
    inside |= closed & taken & (_dilate(front, SEAM) > 0)
    if inside.any():
        behind |= inside
        body_alpha[inside] = 1.0
    # the body's pixels just beside what is filled carry the arm's colour mixed in (its soft edge):
    # filled too, and not read from (mirrored into the fill they made skin-coloured stripes)
    ring = max(2, round(RING * torso))
    mixed = (_dilate(arm_only, ring) > 0) & ~arm_only & mask
    hole = behind | (mixed & ~front & (_dilate(behind, ring) > 0))
    body_bgr = fill_inside(bgr, hole, ((mask & ~arms) | front) & ~mixed)
    body_alpha, body_bgr = smooth_cut(body_alpha, body_bgr, taken | notch | added | inside)

    if pockets is not None:
        body_alpha *= 1.0 - pockets
        body_alpha[past_pockets(pockets > 0.0, arm_max > 0.5, float(torso_quad(pts)[:, 0].mean()))] = 0.0
        for name in arm_alpha:
            arm_alpha[name] = see_through(arm_alpha[name], pockets)
    layers: list[Layer] = []
    face_pts = None if face is None or not len(face) else inner_points(face)
    specs = [("body", body_bgr, body_alpha)] + [(n, own[n], a) for n, a in arm_alpha.items()]
    for name, colour, a in specs:
        if float(a.sum()) < 16.0:
            continue
        points = [] if face_pts is None or name != "body" else list(face_pts[:, :2])
        layer = _make_layer(name, colour, a, pts, torso, margin, radii, points)
        if layer is not None and name == "body" and front.any():
            layer = replace(layer, front=layer.texture * front[..., None])
        if layer is not None and name in arm_colour:
            layer = replace(layer, rim=np.dstack([arm_colour[name] * a[..., None], a]).astype(np.float32))
        if layer is not None:
            layers.append(layer)
    owners = {"left_arm": ARM_BONES["left_arm"], "right_arm": ARM_BONES["right_arm"]}
    layer_alpha = {layer.name: layer.texture[..., 3] for layer in layers}
    found: dict[str, list[np.ndarray]] = {}
    for name in BONE_NAMES:
        owner = next((lay for lay, bones in owners.items() if name in bones), "body")
        if owner not in layer_alpha:
            continue
        # an arm's along the bones its split from the body used: those lie on the arm the layer holds
        got = core_points(name, pts if owner == "body" else apts, radii, torso, layer_alpha[owner], seen)
        if got is not None:
            found.setdefault(owner, []).append(got)
    core: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for owner, chunks in found.items():
        layer = next(layer for layer in layers if layer.name == owner)
        bound = bind_points(layer, np.vstack(chunks).astype(np.float64))
        if bound is not None:
            core[owner] = bound
    bends = None if pockets is None else pockets > 0.5
    lm = np.asarray(lm, np.float32)
    return Rig(
        w, h, lm, seen, layers, radii, torso, alpha.astype(np.float32), core, face_pts, pockets=bends, arms=split
    )


def rebind(rig: Rig, lm: np.ndarray) -> Rig:
    """The same layers and meshes bound to moved joints: new rest landmarks and skinning weights
    (what the renderer's bone transforms and blending depend on), without redoing the cut into
    layers. Cheap (milliseconds); bind-pose calibration uses it between rounds."""
    pts = named_points(lm)
    torso = torso_length(lm)
    layers = [
        replace(layer, weights=skin_weights(layer.rest.astype(np.float64), layer.bones, pts, torso))
        for layer in rig.layers
    ]
    return replace(rig, landmarks=np.asarray(lm, np.float32), layers=layers, torso=torso)


def _make_layer(
    name: str,
    bgr: np.ndarray,
    alpha: np.ndarray,
    pts: dict[str, np.ndarray],
    torso: float,
    margin: float,
    radii: dict[str, float],
    points: list[np.ndarray] | None = None,
) -> Layer | None:
    """One layer's texture and mesh. The mesh covers every visible pixel plus `margin` px around
    them (checked by rasterising it), and triangles that cover nothing visible are dropped, so a
    gap between two limbs bridged by the mesh can never hide a limb when the mesh folds. `points`:
    more mesh vertices (the face's)."""
    bones = LAYER_BONES[name]
    visible = (alpha > 0.02).astype(np.uint8)
    need_px = max(1, round(margin))
    step = max(4.0, torso / (9.0 if name == "body" else 14.0))  # arms bend more: a finer mesh
    needed = _dilate(visible, need_px)
    region = _dilate(visible, need_px + round(0.6 * step))
    extra = [pts[BONES[b][1]] for b in bones] + [pts[BONES[b][2]] for b in bones] + list(points or [])
    rest, tris = np.zeros((0, 2)), np.zeros((0, 3), np.int32)
    for _attempt in range(4):
        rest, tris = triangulate(region, step, extra)
        if len(tris) == 0:
            return None
        ids = rasterise_ids(rest, tris, region.shape)
        missing = (needed > 0) & (ids < 0)
        if not missing.any():
            break
        ys, xs = np.nonzero(missing)
        cells = _dedupe_points(np.stack([xs, ys], axis=1).astype(np.float64), max(2.0, step / 4))
        extra = extra + [p for p in cells]
    ids = rasterise_ids(rest, tris, region.shape)
    inside = ids >= 0
    count = np.bincount(ids[inside], minlength=len(tris))
    touched = np.bincount(ids[inside & (needed > 0)], minlength=len(tris)) > 0
    centroid_ok = _lookup(needed, rest[tris].mean(axis=1)) > 0
    keep = touched | ((count == 0) & centroid_ok)
    # "opaque": a triangle with a real share of solid pixels. A thin ankle's triangles are mostly
    # margin (their mean opacity under one half) and must still win over another leg's margin.
    solid_sum = np.bincount(ids[inside], weights=alpha[inside] >= 0.5, minlength=len(tris))
    solid = solid_sum / np.maximum(count, 1) >= SOLID_SHARE
    tris, solid = tris[keep], solid[keep]
    weights = skin_weights(rest, bones, pts, torso)
    # draw order: see-through triangles first (they must never hide an opaque one), then by the
    # dominant bone (hands over forearms over upper arms; head over torso over legs)
    dom = np.argmax(weights[tris].mean(axis=1), axis=1)
    key = np.array([solid[i] * 100 + DRAW_RANK[bones[d]] for i, d in enumerate(dom)])
    order = np.argsort(key, kind="stable")
    tris, solid = tris[order], solid[order]
    texture = np.empty((*alpha.shape, 4), np.float32)
    texture[..., :3] = bgr * alpha[..., None]
    texture[..., 3] = alpha
    signed = _signed_areas(rest, tris)
    return Layer(
        name,
        bones,
        texture,
        rest.astype(np.float32),
        tris.astype(np.int32),
        weights,
        float(abs(signed).sum()),
        signed,
        solid,
    )


def _dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    """`mask` (uint8) grown by a disc of `pixels`, worked out in its box grown by as much (nothing
    outside it can be reached: the same pixels as on the whole picture, in a fraction of the time
    for an arm's mask)."""
    pad = max(0, pixels)
    m = mask.astype(np.uint8)
    x, y, bw, bh = cv2.boundingRect(m)
    out = np.zeros_like(m)
    if bw == 0 or bh == 0:
        return out
    h, w = m.shape
    box = (slice(max(0, y - pad), min(h, y + bh + pad)), slice(max(0, x - pad), min(w, x + bw + pad)))
    out[box] = cv2.dilate(m[box], cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1, 2 * pad + 1)))
    return out


def _lookup(img: np.ndarray, p: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    xi = np.clip(np.round(p[:, 0]).astype(int), 0, w - 1)
    yi = np.clip(np.round(p[:, 1]).astype(int), 0, h - 1)
    return img[yi, xi]


def rasterise_ids(verts: np.ndarray, tris: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Triangle index per pixel (-1 outside the mesh); later triangles win where they overlap."""
    ids = np.full(shape, -1, np.int32)
    fixed = np.round(verts[tris] * 16).astype(np.int32)
    for t in range(len(tris)):
        cv2.fillConvexPoly(ids, fixed[t], t, cv2.LINE_8, 4)
    return ids


def triangulate(region: np.ndarray, step: float, extra: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Delaunay mesh of a binary region: outline points every ~0.6 step px, an interior grid
    every `step` px, and extra points (joints, patches). Triangles outside the region go."""
    h, w = region.shape
    points: list[np.ndarray] = []
    contours, _ = cv2.findContours(region, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    for c in contours:
        c = c[:, 0, :].astype(np.float64)
        if len(c) < 3:
            continue
        seg = np.linalg.norm(np.diff(np.vstack([c, c[:1]]), axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])[:-1]
        n = max(3, int(arc[-1] // (0.6 * step)))
        picks = np.searchsorted(arc, np.linspace(0, arc[-1], n, endpoint=False)) if arc[-1] > 0 else np.zeros(1, int)
        points.append(c[np.unique(np.clip(picks, 0, len(c) - 1))])
    inner = cv2.erode(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)), iterations=max(1, round(step / 3)))
    ys, xs = np.mgrid[step / 2 : h : step, step / 2 : w : step]
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    points.append(grid[_lookup(inner, grid) > 0])
    for p in extra:
        if 0 <= p[0] < w and 0 <= p[1] < h and region[int(p[1]), int(p[0])]:
            points.append(np.asarray(p, np.float64)[None])
    pts = np.vstack(points) if points else np.zeros((0, 2))
    pts = _dedupe_points(pts, 0.2 * step)
    if len(pts) < 3:
        return pts, np.zeros((0, 3), np.int32)
    subdiv = cv2.Subdiv2D((-1, -1, w + 2, h + 2))
    as32 = pts.astype(np.float32)
    subdiv.insert([(float(x), float(y)) for x, y in as32])
    tri_list = subdiv.getTriangleList().reshape(-1, 3, 2)
    index = {(float(x), float(y)): i for i, (x, y) in enumerate(as32)}
    tris = []
    for t in tri_list.astype(np.float32):
        ids = [index.get((float(x), float(y))) for x, y in t]
        if None not in ids:
            tris.append(ids)
    tris_arr = np.array(tris, dtype=np.int32).reshape(-1, 3)
    if len(tris_arr):
        p = pts[tris_arr]
        edges = np.stack([np.linalg.norm(p[:, i] - p[:, (i + 1) % 3], axis=1) for i in range(3)], axis=1)
        ok = (_lookup(region, p.mean(axis=1)) > 0) & (edges.max(axis=1) <= 3.0 * step)
        ok &= np.abs(_signed_areas(pts, tris_arr)) > 1e-3
        tris_arr = tris_arr[ok]
    used = np.unique(tris_arr)
    remap = np.full(len(pts), -1, np.int32)
    remap[used] = np.arange(len(used))
    return pts[used], remap[tris_arr]


def _dedupe_points(pts: np.ndarray, min_dist: float) -> np.ndarray:
    if len(pts) == 0:
        return pts
    cell = np.floor(pts / max(min_dist, 1e-6)).astype(np.int64)
    _, keep = np.unique(cell, axis=0, return_index=True)
    return pts[np.sort(keep)]


def _signed_areas(pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    if len(tris) == 0:
        return np.zeros(0)
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def skin_weights(verts: np.ndarray, bones: tuple[str, ...], pts: dict[str, np.ndarray], torso: float) -> np.ndarray:
    """(N, B) linear blend skinning weights: inverse distance to each bone, power 4, normalised."""
    eps = 0.04 * torso
    d = np.stack([bone_distance(b, verts, pts, torso) for b in bones], axis=1)
    wts = 1.0 / (d + eps) ** WEIGHT_POWER
    wts /= wts.sum(axis=1, keepdims=True)
    return wts.astype(np.float32)


def rest_triangles(layer: Layer, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's rest triangle (-1 outside the mesh) and its barycentric coordinates there (0
    outside), so it moves exactly as the rendered mesh moves it."""
    h, w = layer.texture.shape[:2]
    ids = rasterise_ids(layer.rest.astype(np.float64), layer.triangles, (h, w))
    t = _lookup(ids, points).astype(np.int32)
    bary = np.zeros((len(points), 3))
    inside = t >= 0
    v = layer.rest.astype(np.float64)[layer.triangles[t[inside]]]  # (P,3,2)
    m = np.stack([v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]], axis=2)  # (P,2,2)
    b12 = np.linalg.solve(m, (points[inside] - v[:, 0])[..., None])[..., 0]
    bary[inside] = np.c_[1.0 - b12.sum(axis=1), b12]
    return t, bary


def bind_points(layer: Layer, points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each point's rest triangle and barycentric coordinates (rest_triangles; points outside the
    mesh dropped, None when fewer than 10 lie on it)."""
    t, bary = rest_triangles(layer, points)
    keep = t >= 0
    if keep.sum() < 10:
        return None
    return t[keep], bary[keep].astype(np.float32)


TWIN = {"l_thigh": "r_thigh", "r_thigh": "l_thigh", "l_shin": "r_shin", "r_shin": "l_shin"}


def core_points(
    name: str, pts: dict[str, np.ndarray], radii: dict[str, float], torso: float, alpha: np.ndarray, seen: np.ndarray
) -> np.ndarray | None:
    """Sample points of a bone's core (see core_mask) where its own layer is opaque at rest, or
    None when the picture does not show the bone (joints unseen, or under 10 points)."""
    kind, a, b, _ = BONES[name]
    joints = [int(x) for x in (a, b) if x.isdigit()]
    if kind == "torso":
        joints = [11, 12, 23, 24]
    if kind == "head":
        joints = [0, 7, 8]
    if not all(seen[j] for j in joints):
        return None
    # CORE_INSET px inside the layer's opaque part: a point on its very edge reads as background
    # once the coverage is sampled a grid cell at a time (an arm's bone along its edge: the
    # half-figure's forearm, its elbow read high)
    inside = _dilate(alpha <= 0.9, CORE_INSET) == 0
    core = core_mask(alpha.shape, name, pts, radii, torso) & inside
    ys, xs = np.nonzero(core)
    if len(ys) == 0:
        return None
    step = max(2.0, torso / 40.0)
    p = _dedupe_points(np.stack([xs, ys], axis=1).astype(np.float64), step)
    twin = TWIN.get(name)
    if twin is not None and len(p):
        # legs touching in the picture: a leg's radius (from the mask's distance transform) spans
        # both, so its core would reach into the other leg; only points nearer its own bone count
        own = segment_distance(p, pts[BONES[name][1]], pts[BONES[name][2]])[0]
        other = segment_distance(p, pts[BONES[twin][1]], pts[BONES[twin][2]])[0]
        p = p[own <= other]
    return p.astype(np.float32) if len(p) >= 10 else None


def core_mask(
    shape: tuple[int, int], name: str, pts: dict[str, np.ndarray], radii: dict[str, float], torso: float
) -> np.ndarray:
    """The thin middle of a bone where the character must always cover the background."""
    kind, a, b, _ = BONES[name]
    if kind == "torso":
        quad = torso_quad(pts)
        centre = quad.mean(axis=0)
        m = np.zeros(shape, np.uint8)
        cv2.fillConvexPoly(m, np.round(centre + 0.6 * (quad - centre)).astype(np.int32), 1)
        return m.astype(bool)
    if kind == "head":
        m = np.zeros(shape, np.uint8)
        cv2.circle(m, _pt(pts["head_c"]), max(1, round(0.5 * head_radius(pts, torso))), 1, -1)
        return m.astype(bool)
    pa, pb = pts[a], pts[b]
    # leave the joints out: the middle 60% of the bone, half the limb's radius
    return capsule_mask(shape, pa + 0.2 * (pb - pa), pa + 0.8 * (pb - pa), 0.5 * radii[name])


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(np.clip(p[0], -1e5, 1e5))), round(float(np.clip(p[1], -1e5, 1e5)))
