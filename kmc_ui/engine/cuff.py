"""A cuff wider than the forearm: what of it the arm's cut left on the body beside the wrist.

An arm's region is cut around its bones (kmc_ui/engine/rig.py). A cuff, or a sleeve's end, can
reach past that: the half-figure's white cuff and the inner edge of her right sleeve lie against her
navy corset, and the cut left a strip of them on the body. Once the arm moved it stayed on the
corset as a white shard, and the body's fill under her hands read it into a light smear.

Beside the wrist (the forearm's last WRIST_SHARE, within CUFF_AROUND forearm radii of it) and within
CUFF_REACH of the arm's region, a body pixel is the arm's when its colour is near both the forearm's
own (the median along the forearm's lower half) and the arm's beside it, each within CUFF_CLOSER of
its distance from the body's colour away from the arm (CUFF_CORE torso from it): a white cuff on a
navy corset. Only pieces of at least CUFF_MIN_SIDE torso square are taken. A jacket's hem beside a
bare wrist is not the forearm's colour, and a forearm's soft edge against denim is a thin line.
"""

from __future__ import annotations

import cv2
import numpy as np

WRIST_SHARE = 0.3  # the forearm's share next to the wrist where a cuff is looked for
CUFF_AROUND = 2.0  # forearm radii around that share
CUFF_REACH = 0.03  # torso lengths from the arm's region
CUFF_CORE = 0.06  # torso lengths from the arm where the body's own colour is read
CUFF_CLOSER = 0.35  # a pixel's colour within this share of its distance from the body's colour
CUFF_MIN_SIDE = 0.04  # torso lengths: the side of the least square piece taken


def cuff_rim(
    rgb: np.ndarray,
    region: np.ndarray,
    body: np.ndarray,
    elbow: np.ndarray,
    wrist: np.ndarray,
    radius: float,
    torso: float,
) -> np.ndarray:
    """The pixels of `body` (the character outside both arms) beside an arm's wrist that are its
    cuff's (see above). region: the arm's pixels; radius: its forearm's."""
    out = np.zeros(region.shape, bool)
    if not region.any() or not body.any():
        return out
    r = max(1, round(CUFF_AROUND * radius))
    k = 2 * max(2, round(CUFF_CORE * torso)) + 1
    ends = [_pt(elbow + (1.0 - WRIST_SHARE) * (wrist - elbow)), _pt(wrist), _pt(elbow + 0.5 * (wrist - elbow))]
    # every test reads at most this far around the pixels beside the wrist (the body's colour
    # CUFF_CORE torso off the arm, averaged over k px): worked out in that box of the picture only
    reach = r + k // 2 + int(np.ceil(CUFF_CORE * torso)) + round(0.03 * torso) + 4
    xs, ys = [p[0] for p in ends], [p[1] for p in ends]
    h, w = region.shape
    x0, y0 = max(0, min(xs) - reach), max(0, min(ys) - reach)
    x1, y1 = min(w, max(xs) + reach + 1), min(h, max(ys) + reach + 1)
    if x1 <= x0 or y1 <= y0:
        return out
    box = (slice(y0, y1), slice(x0, x1))
    start, end, middle = ((x - x0, y - y0) for x, y in ends)
    out[box] = _cuff(rgb[box], region[box], body[box], (start, end, middle), r, k, torso)
    return out


def _cuff(
    rgb: np.ndarray,
    region: np.ndarray,
    body: np.ndarray,
    ends: tuple[tuple[int, int], tuple[int, int], tuple[int, int]],
    r: int,
    k: int,
    torso: float,
) -> np.ndarray:
    """cuff_rim in a box of the picture: `ends`, the wrist's share's start, the wrist and the
    forearm's middle (px in the box); r: the reach round them (CUFF_AROUND radii); k: the side of
    the box the colours beside a pixel are read in."""
    start, wrist, middle = ends
    out = np.zeros(region.shape, bool)
    near = np.zeros(region.shape, np.uint8)
    cv2.line(near, start, wrist, 1, 2 * r + 1)
    cv2.circle(near, wrist, r, 1, -1)
    from_arm = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 3)
    offered = body & (near > 0) & (from_arm <= max(2.0, CUFF_REACH * torso))
    lines = np.zeros(region.shape, np.uint8)
    cv2.line(lines, middle, wrist, 1, max(1, round(0.03 * torso)))
    samples = (lines > 0) & region
    if not offered.any() or samples.sum() < 10:
        return out
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    own = np.median(lab[samples], axis=0)
    core = body & (from_arm > CUFF_CORE * torso)
    (arm_beside, _), (body_beside, read) = _mean_near(lab, region, k), _mean_near(lab, core, k)
    far = np.where(read, np.linalg.norm(lab - body_beside, axis=2), 0.0)  # no body near: no telling
    got = (
        offered
        & (np.linalg.norm(lab - arm_beside, axis=2) < CUFF_CLOSER * far)
        & (np.linalg.norm(lab - own, axis=2) < CUFF_CLOSER * far)
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(got.astype(np.uint8), connectivity=8)
    big = np.zeros(count, bool)
    big[1:] = stats[1:, cv2.CC_STAT_AREA] >= (CUFF_MIN_SIDE * torso) ** 2
    return big[labels]


def _mean_near(lab: np.ndarray, where: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the mean colour of the `where` pixels in the k x k box around it, and whether
    the box holds any."""
    w = cv2.blur(where.astype(np.float32), (k, k))
    mean = cv2.blur(lab * where[..., None], (k, k)) / np.maximum(w, 1e-6)[..., None]
    return mean, w > 1e-6


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
