"""Are the character's hands in the picture? Evidence beyond the pose model's own guess.

The pose model places a wrist and three finger points at the end of every arm, with a high
visibility even for a hand in a pocket or behind the back: it guesses where the hand would be
(measured: 0.92-0.96 for both wrists of a real photo whose hands were painted into the pockets).
So each hand the pose puts inside the picture is looked for with mediapipe's hand detector
(palm detection + hand landmarks, both shipped inside the mediapipe wheel) on a square crop
around that guess: 2 forearm lengths a side, resized to 256 px, then 3 forearm lengths. A hand
found anywhere in the crop counts (with clasped hands both are in each crop).

The detector misses some hands that are there (gauntlets, mittens, flat drawings, motion
blur), so a miss alone proves nothing: checks/pose.py also asks where the wrist sits (against
the body, as in a pocket, behind the back or under crossed arms) before it says a hand is hidden.
"""

from __future__ import annotations

import cv2
import numpy as np

from kmc_ui.pose import landmarks as L
from kmc_ui.pose import model as _model

FOUND, MISSING, UNJUDGED = 1, 0, -1
HAND_POINTS = ((L.L_WRIST, 17, 19, 21), (L.R_WRIST, 18, 20, 22))  # the body's left, then right hand
FOREARMS = ((L.L_ELBOW, L.L_WRIST), (L.R_ELBOW, L.R_WRIST))
CROP_PX = 256  # the palm detector works at 192 px: a hand fills a good part of the crop
SCALES = (1.0, 1.5)  # crop half-side in forearm lengths, tried in turn
MIN_HALF_PX = 32  # a smaller crop (a tiny figure) says nothing either way: UNJUDGED


def hand_crop(rgb: np.ndarray, centre: np.ndarray, half: float, size: int = CROP_PX) -> np.ndarray:
    """A square of side 2*half around `centre`, grey beyond the picture, resized to size x size."""
    h, w = rgb.shape[:2]
    x0, y0 = round(float(centre[0]) - half), round(float(centre[1]) - half)
    side = max(2, round(2 * half))
    pad = [max(0, -y0), max(0, y0 + side - h), max(0, -x0), max(0, x0 + side - w)]
    src = cv2.copyMakeBorder(rgb, *pad, cv2.BORDER_CONSTANT, value=(127, 127, 127)) if any(pad) else rgb
    crop = src[y0 + pad[0] : y0 + pad[0] + side, x0 + pad[2] : x0 + pad[2] + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(crop, (size, size), interpolation=interp))


def find_hands(
    rgb: np.ndarray,
    lm: np.ndarray,
    scales: tuple[float, ...] = SCALES,
    sides: tuple[bool, bool] = (True, True),
    complexity: int = 1,
) -> tuple[int, int]:
    """(left, right): FOUND, MISSING or UNJUDGED for each hand of the pose `lm` (pixels of `rgb`);
    `scales`: the crops' half-sides in forearm lengths, tried in turn; `sides`: which hands to look
    for (the other is UNJUDGED); `complexity`: 1 the full hand models, 0 the lite ones (about half the time)."""
    if not L.is_pose(lm):
        return UNJUDGED, UNJUDGED
    h, w = rgb.shape[:2]
    inside = L.seen(lm, w, h, 0.0)
    torso = L.body_scale(lm)
    out: list[int] = []
    for points, (elbow, wrist), wanted in zip(HAND_POINTS, FOREARMS, sides, strict=True):
        forearm = max(float(np.linalg.norm(lm[wrist, :2] - lm[elbow, :2])), 0.3 * torso)
        if not wanted or not inside[wrist] or forearm < MIN_HALF_PX:
            out.append(UNJUDGED)
            continue
        centre = lm[list(points), :2].mean(axis=0)
        found = any(_detect(hand_crop(rgb, centre, k * forearm), complexity) for k in scales)
        out.append(FOUND if found else MISSING)
    return out[0], out[1]


def _detect(crop: np.ndarray, complexity: int = 1) -> bool:
    result = _model.hand_detector(complexity).process(crop)
    return bool(result.multi_hand_landmarks)


def hand_points(rgb: np.ndarray, lm: np.ndarray, scales: tuple[float, ...] = SCALES) -> list[np.ndarray | None]:
    """The 21 hand landmarks (picture px, (21, 2)) of each of the pose's hands (body's left, then
    right), or None where the hand detector finds no hand whose wrist lies near the pose's wrist
    (a hand in a pocket, behind the back, or one the detector cannot read). Same crops as
    find_hands; of several hands in a crop, the one whose wrist is nearest the pose's wrist."""
    if not L.is_pose(lm):
        return [None, None]
    h, w = rgb.shape[:2]
    inside = L.seen(lm, w, h, 0.0)
    torso = L.body_scale(lm)
    out: list[np.ndarray | None] = []
    for points, (elbow, wrist) in zip(HAND_POINTS, FOREARMS, strict=True):
        forearm = max(float(np.linalg.norm(lm[wrist, :2] - lm[elbow, :2])), 0.3 * torso)
        found = None
        if inside[wrist] and forearm >= MIN_HALF_PX:
            centre = lm[list(points), :2].mean(axis=0)
            for k in scales:
                half = k * forearm
                found = _nearest_hand(hand_crop(rgb, centre, half), centre, half, lm[wrist, :2], 0.5 * forearm)
                if found is not None:
                    break
        out.append(found)
    return out


def _nearest_hand(
    crop: np.ndarray, centre: np.ndarray, half: float, wrist: np.ndarray, reach: float
) -> np.ndarray | None:
    result = _model.hand_detector(1).process(crop)
    best, best_d = None, reach
    side = max(2, round(2 * half))
    origin = np.array([round(float(centre[0]) - half), round(float(centre[1]) - half)], np.float64)
    for hand in result.multi_hand_landmarks or []:
        xy = np.array([[p.x, p.y] for p in hand.landmark], np.float64) * side + origin
        d = float(np.linalg.norm(xy[0] - wrist))
        if d <= best_d:
            best, best_d = xy, d
    return best
