"""What of the body lies in front of an arm in the picture: the edge of a top hanging over the
upper arm, hair fallen over it.

Those pixels lie inside the arm's outline, so the arm's cut took them, and they went with the arm
(a grey strip of the top travelled on the woman's raised arm) while the body's fill left a
stair-stepped patch where they had been. They are the body's: they stay on the body layer and are
drawn over the arms (kmc_ui/engine/deform.py), and the arm under them is filled from its own
colour, so it is whole once it moves away.

A patch is in front when the upper arm hangs along the body, and the patch is far in colour from
the arm (its colour sampled along its bones, the odd samples trimmed), touches the body outside the
arm and is of its colour there, lies on the arm's inner half, and has the arm's own colour further
out across the arm (the arm goes on behind it). A fold's shadow in a sleeve is not (its colour is as
far from the jacket beside it as from the sleeve), nor a short sleeve or a shoulder guard (the
arm's whole width).
"""

from __future__ import annotations

import cv2
import numpy as np

FRONT_SIGMA = 3.0  # farther than this (Mahalanobis, Lab) from the arm's colour is not the arm
FRONT_TRIM = 0.7  # the arm's colour from this share of its samples nearest their median
FRONT_MIN_SIDE = 0.05  # a patch smaller than this square (torso lengths) is the arm's shading, not the body
FRONT_OUTWARD = 2.5  # how far out (upper-arm radii) the arm's own colour is looked for across the arm
FRONT_SHARE = 0.5  # the share of a patch's pixels that must have the arm's colour further out
FRONT_TOUCH = 3  # pixels a patch must share with the body outside the arm
FRONT_ALONG = 0.7  # an upper arm at most ~45 degrees from the body's axis (cosine) hangs along it
FRONT_CLOSE = 0.02  # torso lengths: the gaps inside a patch closed over before its extent is read
FRONT_INNER = 0.25  # a patch 9 tenths of whose pixels lie no farther out than this (radii) past the bone line
FRONT_CLOSER = 0.5  # a patch's colour this much nearer (Lab distance) the body beside it than the arm
FRONT_BACKDROP = 40.0  # RGB distance from the background plate within which a pixel is the backdrop's colour
FRONT_BACKDROP_SHARE = 0.5  # a patch more of whose pixels beside the body than this are of the backdrop's colour
Reading = tuple[np.ndarray, np.ndarray]  # in_front's: (what lies in front of the arm, the arm's own colour)
SKIN_SPREAD = 3.0  # within this many median deviations (Lab, per channel, summed in squares) of the face is skin
SKIN_FLOOR = np.array([6.0, 2.0, 2.0])  # the least deviation per Lab channel (a flat-shaded face)


def arm_like(rgb: np.ndarray, region: np.ndarray, s: np.ndarray, e: np.ndarray, wr: np.ndarray) -> np.ndarray:
    """The pixels of an arm's `region` near in colour to the arm's own colour, sampled along its
    bones (from 0.3 of the upper arm to the wrist). The samples farthest from their median (an edge
    of the top the bone line runs through) are left out of the colour's model."""
    lines = np.zeros(region.shape, np.uint8)
    for a, b in ((s + 0.3 * (e - s), e), (e, wr)):
        cv2.line(lines, _pt(a), _pt(b), 1, 1)
    ys, xs = np.nonzero(region)
    if len(ys) < 20:
        return region.copy()
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB).astype(np.float64)
    samples = lab[(lines[y0:y1, x0:x1] > 0) & region[y0:y1, x0:x1]]
    if len(samples) < 10:
        return region.copy()
    near = np.linalg.norm(samples - np.median(samples, axis=0), axis=1)
    kept = samples[near <= np.quantile(near, FRONT_TRIM)]
    mean = kept.mean(axis=0)
    cov = np.cov(kept.T) + np.eye(3) * 9.0  # at least 3 Lab units of spread per channel
    diff = lab - mean
    d2 = np.einsum("...i,ij,...j->...", diff, np.linalg.inv(cov), diff)
    out = np.zeros(region.shape, bool)
    out[y0:y1, x0:x1] = (d2 <= FRONT_SIGMA**2) & region[y0:y1, x0:x1]
    return out


def in_front(
    rgb: np.ndarray,
    region: np.ndarray,
    body: np.ndarray,
    pts: dict[str, np.ndarray],
    side: str,
    radius: float,
    torso: float,
    hand: np.ndarray,
    upper: np.ndarray,
    skin: tuple[np.ndarray, np.ndarray] | None = None,
) -> Reading:
    """(the pixels of the arm's `region` that are the body's, in front of the upper arm; the arm's
    own-coloured pixels). `body`: the character's pixels outside both arms; `radius`: the upper
    arm's; `hand`: where the hand is (never in front of itself); `upper`: the region's pixels
    nearer the upper arm than the forearm; `skin`: the face's colour (face_skin), when read."""
    s, e, wr = (pts["11"], pts["13"], pts["15"]) if side == "l" else (pts["12"], pts["14"], pts["16"])
    like = arm_like(rgb, region, s, e, wr)
    front = np.zeros(region.shape, bool)
    ys, xs = np.nonzero(region & upper & ~like & ~hand)
    bone = e - s
    if len(ys) == 0 or float(np.linalg.norm(bone)) < 1.0:
        return front, like
    # only an upper arm that hangs along the body has an inner side the body can lie over (a
    # raised arm's sheer sleeve is the arm's)
    neck, hips = (pts["11"] + pts["12"]) / 2, (pts["23"] + pts["24"]) / 2
    spine = neck - hips
    along = abs(float(bone @ spine)) / max(float(np.linalg.norm(bone) * np.linalg.norm(spine)), 1e-6)
    if along < FRONT_ALONG:
        return front, like
    p = np.stack([xs, ys], axis=1).astype(np.float64)
    candidates = np.zeros(region.shape, np.uint8)
    candidates[ys, xs] = 1
    # across the arm, away from the body's middle: where the arm goes on behind a patch over it
    out = np.array([-bone[1], bone[0]]) / float(np.linalg.norm(bone))
    if float(out @ (s - neck)) < 0:
        out = -out
    h, w = region.shape
    beyond = np.zeros(len(p), bool)
    for step in range(1, max(2, round(FRONT_OUTWARD * radius)) + 1):
        q = np.round(p + step * out).astype(int)
        ok = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
        beyond[ok] |= like[q[ok, 1], q[ok, 0]]
    count, ids = cv2.connectedComponents(candidates, connectivity=8)
    label = ids[ys, xs]
    size = np.bincount(label, minlength=count)
    share = np.bincount(label, weights=beyond, minlength=count) / np.maximum(size, 1)
    touching = cv2.dilate(body.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    touch = np.bincount(ids[touching & (ids > 0)], minlength=count)
    least = (FRONT_MIN_SIDE * torso) ** 2
    chosen = (size >= least) & (share >= FRONT_SHARE) & (touch >= FRONT_TOUCH)
    chosen[0] = False
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float64)
    arm = lab[like].mean(axis=0) if like.any() else None
    r = max(1, round(FRONT_CLOSE * torso))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    for i in np.flatnonzero(chosen):
        mine = label == i
        # on the inner half: a patch reaching across the bone line (a shoulder guard) is the arm's.
        # Read with the arm-coloured specks inside it closed over: a shaded ruffle is one piece,
        # not a comb of its folds (which was cut in front on the inner half, the rest left to the
        # arm: claws of the ruffle left on the body once the arm rose); so it is taken
        whole = (cv2.morphologyEx((ids == i).astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0) & region
        wy, wx = np.nonzero(whole)
        offset = (np.stack([wx, wy], axis=1) - s) @ out  # across the arm from its bone line, outward positive
        inner = np.quantile(offset, 0.9) <= FRONT_INNER * radius
        # the colour of the body it joins (the top's edge, the hair), not the arm's own shade (a
        # sleeve's fold is as far from the body beside it as from the arm)
        beside = (cv2.dilate((ids == i).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & body
        colour = lab[ys[mine], xs[mine]].mean(axis=0)
        joins = (
            arm is not None
            and beside.any()
            and float(np.linalg.norm(colour - lab[beside].mean(axis=0)))
            < FRONT_CLOSER * float(np.linalg.norm(colour - arm))
        )
        chosen[i] = inner and joins
        if chosen[i]:
            front |= whole  # in one piece, its specks with it
    if skin is not None and arm is not None and front.any() and is_skin(arm[None], skin)[0]:
        front[front] = ~is_skin(lab[front], skin)
    return front, like


def of_backdrop(front: np.ndarray, body: np.ndarray, bgr: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The patches of `front` that touch the `body` through the backdrop's colour: more than
    FRONT_BACKDROP_SHARE of their pixels beside the body lie within FRONT_BACKDROP (RGB) of the
    background plate (`backdrop`; `bgr`, the picture as float). They are the backdrop seen between
    an arm and the body, which the model joined over, with the arm's own edge beside it, not the body
    in front of the arm (the armour's: a white wedge under its armpit and its arm's dark edge, left
    hanging beside its torso once the arm rose)."""
    count, ids = cv2.connectedComponents(front.astype(np.uint8), connectivity=8)
    if count < 2:
        return np.zeros(front.shape, bool)
    alike = np.linalg.norm(bgr - backdrop.astype(np.float32), axis=2) < FRONT_BACKDROP
    beside = front & (cv2.dilate(body.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    share = np.bincount(ids[beside], weights=alike[beside], minlength=count) / np.maximum(
        np.bincount(ids[beside], minlength=count), 1
    )
    share[0] = 0.0
    return share[ids] > FRONT_BACKDROP_SHARE


def face_skin(rgb: np.ndarray, face: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The face's colour: the median Lab of the pixels inside the face mesh's outline (shrunk by
    2 px) and their median deviation per channel (at least SKIN_FLOOR); None without a face."""
    if face is None or len(face) < 3:
        return None
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, cv2.convexHull(np.round(face[:, :2]).astype(np.int32)), 1)
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8)) > 0
    if inside.sum() < 50:
        return None
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float64)[inside]
    median = np.median(lab, axis=0)
    return median, np.maximum(np.median(np.abs(lab - median), axis=0), SKIN_FLOOR)


def is_skin(lab: np.ndarray, skin: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Which of the (N, 3) Lab colours are the face's skin (within SKIN_SPREAD deviations)."""
    median, spread = skin
    return (((lab - median) / spread) ** 2).sum(axis=-1) <= SKIN_SPREAD**2


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
