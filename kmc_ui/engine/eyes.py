"""The eyes: the picture's eyes blink as the reference's do.

The reference's eyes are read with its mouth (kmc_ui/engine/expression.py's FaceReader): each eye's
lid gap over its width, the two eyes' mean. The face mesh reads a closed eye at about half its
usual gap, so the closing is measured against the clip's usual gap: none at the usual, whole at
CLOSED_AT of it.

The picture's eyes are closed by redrawing, each frame, a patch of the body's texture around each
eye: the upper lid (its lashes with it) slides down toward the lower lid, the skin above it
stretching down after it, and what it has not yet reached of the eye stays as it is. The patch is
in the picture's pixels, so the mesh carries it wherever the head goes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kmc_ui.engine.front import face_skin, is_skin
from kmc_ui.engine.smoothing import filled_in_time

# face mesh points: each eye's corners, its upper lid's edge and its lower lid's (corner to corner)
EYES = (
    (33, 133, [33, 246, 161, 160, 159, 158, 157, 173, 133], [33, 7, 163, 144, 145, 153, 154, 155, 133]),
    (263, 362, [263, 466, 388, 387, 386, 385, 384, 398, 362], [263, 249, 390, 373, 374, 380, 381, 382, 362]),
)
GAPS = ((159, 145, 33, 133), (386, 374, 263, 362))  # the lids' middles and the corners, for the gap
CLOSED_AT = 0.55  # a closed eye reads at this share of the clip's usual gap
FROM = 0.25  # closings below this are not drawn (a squint while talking is not a blink)
SKIN_REACH = 0.5  # the skin above the upper lid that stretches down with it: this share of the eye's width
READ_SHARE = 0.5  # a clip whose eyes are read on fewer of its frames keeps the picture's eyes open
# under each lower lid (0.12-0.3 of the eye's width below it) at least this share must be the
# face's skin, or the mesh's eye is not the picture's (a drawn eye larger than a real one: the
# anime half-figure's iris runs on below it, 0.02 and 0.12 skin; the photos' 0.75-1.0)
SKIN_BELOW = 0.5


def eye_gap(face: np.ndarray) -> float:
    """The two eyes' mean lid gap over their width, of 468 face points."""
    gaps = []
    for up, down, a, b in GAPS:
        width = float(np.linalg.norm(face[a, :2] - face[b, :2]))
        gaps.append(float(np.linalg.norm(face[up, :2] - face[down, :2])) / max(width, 1e-6))
    return float(np.mean(gaps))


def clip_closing(gaps: np.ndarray | None, times: np.ndarray, frames: int, fps: float) -> np.ndarray | None:
    """How far the reference's eyes are closed (0 open, 1 shut; MotionTrack.eyes sampled at `times`)
    at each of `frames` output frames; None when they were read on too few frames."""
    filled = filled_in_time(gaps, times, READ_SHARE)
    if filled is None:
        return None
    usual = float(np.median(filled))
    closing = np.clip((usual - filled) / max(usual * (1.0 - CLOSED_AT), 1e-6), 0.0, 1.0)
    drawn = np.clip((closing - FROM) / (1.0 - FROM), 0.0, 1.0)
    return np.interp(np.arange(frames) / fps, times, drawn).astype(np.float32)


@dataclass(frozen=True)
class Eye:
    """One of the picture's eyes in texture pixels: its frame (centre, across u, down n), its lids'
    edges as (s, t) curves, the skin above it that stretches, and its patch (x0, y0, x1, y1)."""

    centre: np.ndarray
    u: np.ndarray
    n: np.ndarray
    half: float
    upper: np.ndarray  # (K, 2) s, t of the upper lid's edge, s ascending
    lower: np.ndarray
    reach: float  # px of skin above the upper lid that stretches down with it
    box: tuple[int, int, int, int]

    def frame(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Each pixel of `box` (x0, y0, x1, y1) as s (across the eye) and t (down) from its centre."""
        x0, y0, x1, y1 = box
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xs - self.centre[0], ys - self.centre[1]
        return dx * self.u[0] + dy * self.u[1], dx * self.n[0] + dy * self.n[1]

    def draw(self, patch: np.ndarray, closing: float) -> np.ndarray:
        """The box's texture (premultiplied BGRA uint8) with the eye closed by `closing` (0-1)."""
        if closing <= 0.0:
            return patch
        x0, y0 = self.box[:2]
        s, t = self.frame(self.box)
        up = np.interp(s, self.upper[:, 0], self.upper[:, 1])
        down = np.maximum(np.interp(s, self.lower[:, 0], self.lower[:, 1]), up)
        inside = np.abs(s) < self.half
        lid = up + closing * (down - up)  # where the upper lid's edge is drawn
        top = up - self.reach
        # from the skin's top to the lid's new edge: the skin and the lid, stretched down
        stretch = (t >= top) & (t < lid) & inside
        src_t = np.where(stretch, top + (t - top) * (up - top) / np.maximum(lid - top, 1e-3), t)
        mx = (self.centre[0] + s * self.u[0] + src_t * self.n[0] - x0).astype(np.float32)
        my = (self.centre[1] + s * self.u[1] + src_t * self.n[1] - y0).astype(np.float32)
        return cv2.remap(patch, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def picture_eyes(face: np.ndarray | None, texture: np.ndarray) -> list[Eye]:
    """The picture's eyes from its face mesh's 468 points (texture px; `texture`, the body's,
    premultiplied BGRA uint8); none without a face, with eyes too small to close (under 6 px wide),
    or eyes the mesh does not outline (SKIN_BELOW)."""
    if face is None or len(face) < 468:
        return []
    xy = np.asarray(face[:, :2], np.float64)
    h, w = texture.shape[:2]
    rgb = cv2.cvtColor(np.ascontiguousarray(texture[..., :3]), cv2.COLOR_BGR2RGB)  # the face is opaque
    skin = face_skin(rgb, face)
    if skin is None:
        return []
    eyes: list[Eye] = []
    for a, b, upper_idx, lower_idx in EYES:
        left, right = (xy[a], xy[b]) if xy[a, 0] <= xy[b, 0] else (xy[b], xy[a])
        half = float(np.linalg.norm(right - left)) / 2
        if half < 3:
            return []
        u = (right - left) / (2 * half)
        n = np.array([-u[1], u[0]])
        if n @ (xy[152] - xy[10]) < 0:  # down: toward the chin
            n = -n
        centre = (left + right) / 2

        def st(idx: list[int], centre: np.ndarray = centre, u: np.ndarray = u, n: np.ndarray = n) -> np.ndarray:
            d = xy[idx] - centre
            pts = np.stack([d @ u, d @ n], axis=1)
            return pts[np.argsort(pts[:, 0])]

        upper, lower = st(upper_idx), st(lower_idx)
        reach = SKIN_REACH * 2 * half
        t0 = float(upper[:, 1].min()) - reach - 2
        t1 = float(lower[:, 1].max()) + 2
        corners = np.array([centre + sa * u + tb * n for sa in (-half - 2, half + 2) for tb in (t0, t1)])
        bx0, by0 = np.floor(corners.min(axis=0)).astype(int)
        bx1, by1 = np.ceil(corners.max(axis=0)).astype(int) + 1
        box = (max(0, int(bx0)), max(0, int(by0)), min(w, int(bx1)), min(h, int(by1)))
        if box[2] - box[0] < 4 or box[3] - box[1] < 4:
            return []
        eye = Eye(centre, u, n, half, upper, lower, reach, box)
        s, t = eye.frame(box)
        below = t - np.interp(s, lower[:, 0], lower[:, 1])
        band = (np.abs(s) < 0.6 * half) & (below > 0.24 * half) & (below < 0.6 * half)
        lab = cv2.cvtColor(rgb[box[1] : box[3], box[0] : box[2]], cv2.COLOR_RGB2LAB).astype(np.float64)
        if not band.any() or is_skin(lab[band], skin).mean() < SKIN_BELOW:
            return []
        eyes.append(eye)
    return eyes
