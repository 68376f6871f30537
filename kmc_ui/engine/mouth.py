"""The mouth: the picture's mouth opens, and narrows or widens, as the reference's does (a
talking head talks: a rounded "o" is narrow, an "ee" or a smile wide).

The reference's mouth is read as the gap between its inner lips over its face's height
(forehead to chin), and as its width (corner to corner) over the face's width, by
kmc_ui/engine/expression.py's FaceReader, on every frame where the head is large enough to read
it (a talking head, not a dancer far off).

The picture's mouth is opened by redrawing, each frame, a small patch of the body's texture
around it: the lower lip and the jaw move down (the jaw's share fading out below the chin), the
upper lip a little up, and the gap between them is the inside of a mouth: dark, its colour taken
from the lips, with the upper teeth's edge as a lighter band when it is wide. The patch is in the
picture's pixels, so the mesh carries it wherever the head goes, turned or not. To narrow or
widen, the lips (and less and less of the cheeks, up to the nose and down to the chin) are pulled
in or out along the mouth's line, the corners as far as the reference's width changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kmc_ui.engine.smoothing import filled_in_time

UPPER_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]  # face mesh: upper lip's inner edge
LOWER_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]  # lower lip's inner edge
UPPER_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
BROW, CHIN, NOSE_TIP = 10, 152, 2
CORNERS = (61, 291)  # the lips' outer corners
CHEEKS = (234, 454)  # the face's sides
READ_SHARE = 0.5  # a clip whose mouth is read on fewer of its frames keeps the picture's mouth still
CLOSED_MAX = 0.03  # the reference's closed mouth: its 5th percentile opening, at most this
UP_SHARE = 0.3  # of the opening, the upper lip's share (it rises); the jaw drops the rest
JAW_WIDTH = 1.4  # the jaw's drop spreads this many mouth half-widths either side below the lips
JAW_PAST_CHIN = 0.6  # the drop fades to nothing this share of the lips-to-chin distance below the chin
SHAPE = 0.6  # the opening's profile across the mouth: (1 - (s / half) ** 2) ** SHAPE
GAIN = 1.3  # the picture's mouth opens this many times the reference's opening (its lips part wider)
INSIDE_DARK = (0.25, 0.5)  # the inside of the mouth: the lips' colour times this, at its top and bottom
TEETH = (205.0, 140.0)  # the upper teeth's edge (grey level), under the lip and at its lower edge
TEETH_TINT = (0.88, 0.95, 1.0)  # ... times this (B, G, R): ivory, not a grey that reads blue beside the lips
TEETH_FROM = 4.0  # ... shown where the opening is this many px deep or more
TEETH_DEPTH = (0.35, 0.12)  # ... at most this share of the opening deep, and of the mouth's width
TEETH_WIDTH = 0.75  # ... across this share of the mouth's width, fading out at its ends
WIDTH_RANGE = (0.8, 1.2)  # the mouth's width, as a share of the reference's usual, kept within these
CHEEK_REACH = 2.0  # as the mouth widens, the cheeks beside it move too, less and less to this many half-widths


def openness(face: np.ndarray) -> float:
    """The gap between the inner lips over the face's height (forehead to chin) of 468 face points."""
    height = float(np.linalg.norm(face[BROW, :2] - face[CHIN, :2]))
    return float(np.linalg.norm(face[13, :2] - face[14, :2])) / max(height, 1e-6)


def mouth_width(face: np.ndarray) -> float:
    """The mouth's width (corner to corner) over the face's (side to side) of 468 face points: a
    head turning narrows both alike."""
    across = float(np.linalg.norm(face[CHEEKS[0], :2] - face[CHEEKS[1], :2]))
    return float(np.linalg.norm(face[CORNERS[0], :2] - face[CORNERS[1], :2])) / max(across, 1e-6)


def _read_in_time(values: np.ndarray | None, times: np.ndarray) -> np.ndarray | None:
    """A mouth reading (sampled at `times`) filled in time and spared one frame's misreadings (a
    median of three: one frame is not a word); None when read on fewer than READ_SHARE frames."""
    filled = filled_in_time(values, times, READ_SHARE)
    if filled is None or len(filled) < 3:
        return filled
    return np.median(np.stack([np.r_[filled[:1], filled[:-1]], filled, np.r_[filled[1:], filled[-1:]]]), axis=0)


def clip_width(widths: np.ndarray | None, times: np.ndarray, frames: int, fps: float) -> np.ndarray | None:
    """The reference's mouth width (MotionTrack.mouth_width, sampled at `times`) at each of `frames`
    output frames, as a share of its usual (its median; within WIDTH_RANGE); None when it was read
    on too few frames."""
    filled = _read_in_time(widths, times)
    if filled is None:
        return None
    share = np.clip(filled / max(float(np.median(filled)), 1e-6), *WIDTH_RANGE)
    return np.interp(np.arange(frames) / fps, times, share).astype(np.float32)


def clip_opening(mouth: np.ndarray | None, times: np.ndarray, frames: int, fps: float) -> np.ndarray | None:
    """The reference's mouth opening (MotionTrack.mouth, sampled at `times`) at each of `frames`
    output frames, beyond its closed mouth; None when it was read on too few frames."""
    filled = _read_in_time(mouth, times)
    if filled is None:
        return None
    closed = min(float(np.percentile(filled, 5)), CLOSED_MAX)
    return np.interp(np.arange(frames) / fps, times, np.maximum(filled - closed, 0.0)).astype(np.float32)


@dataclass(frozen=True)
class Mouth:
    """The picture's mouth in texture pixels: its frame (centre, across u, down n), the inner lips'
    edges as (s, t) curves, and the patch of texture redrawn around it (box: x0, y0, x1, y1)."""

    centre: np.ndarray
    u: np.ndarray
    n: np.ndarray
    half: float  # half the mouth's inner width
    outer: float  # half its outer width (the lips' corners)
    upper: np.ndarray  # (K, 2) s, t of the upper lip's inner edge, s ascending
    lower: np.ndarray
    t_nose: float
    t_chin: float
    height: float  # the face's height (px)
    box: tuple[int, int, int, int]
    colour: np.ndarray  # the lips' colour (BGR)

    def gap(self, opening: float) -> float:
        """Pixels the mouth opens by, from the picture's own (closed, or a drawn smile already
        open), for a reference opening (share of the face's height; the reference's closed mouth
        is 0)."""
        return max(0.0, GAIN * opening) * self.height

    def across(self, s: np.ndarray, t: np.ndarray, widening: float) -> np.ndarray:
        """Where (s, along the mouth's line) a pixel at (s, t) takes its texture from, the mouth
        `widening` times as wide: the lips' corners move by (widening - 1) of their half-width, the
        lips between them in proportion, the cheeks beside them less and less to CHEEK_REACH of it;
        all of it less and less away from the lips, to nothing at the nose and at the chin."""
        if abs(widening - 1.0) < 0.005:
            return s
        line = float(np.median((self.upper[:, 1] + self.lower[:, 1]) / 2))
        near = np.where(
            t < line,
            np.clip((t - self.t_nose) / max(line - self.t_nose, 1.0), 0.0, 1.0),
            np.clip((self.t_chin - t) / max(self.t_chin - line, 1.0), 0.0, 1.0),
        )
        # a source point at s moves by a * s within the lips (a = (widening - 1) * near) and by
        # a * (reach - |s|) / (CHEEK_REACH - 1) beside them: inverted, for the output pixel at s
        a = (widening - 1.0) * near
        b = a / (CHEEK_REACH - 1.0)
        reach = CHEEK_REACH * self.outer
        far = np.abs(s)
        lips = far <= self.outer * (1.0 + a)
        cheeks = ~lips & (far < reach)
        source = np.where(lips, s / (1.0 + a), s)
        return np.where(cheeks, np.sign(s) * (far - b * reach) / (1.0 - b), source)

    def draw(self, patch: np.ndarray, gap: float, widening: float = 1.0) -> np.ndarray:
        """The box's texture (premultiplied BGRA uint8) with the mouth opened by `gap` px and its
        width `widening` times the picture's."""
        if gap < 0.5 and abs(widening - 1.0) < 0.005:
            return patch
        x0, y0, x1, y1 = self.box
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xs - self.centre[0], ys - self.centre[1]
        t = dx * self.n[0] + dy * self.n[1]
        s = self.across(dx * self.u[0] + dy * self.u[1], t, widening)
        top = np.interp(s, self.upper[:, 0], self.upper[:, 1])
        bottom = np.interp(s, self.lower[:, 0], self.lower[:, 1])
        line = (top + bottom) / 2
        lips = np.clip(1.0 - (s / self.half) ** 2, 0.0, 1.0) ** SHAPE
        jaw = np.clip(1.0 - (s / (JAW_WIDTH * self.half)) ** 2, 0.0, 1.0)
        rise = UP_SHARE * gap * lips
        drop_at_lips = (1.0 - UP_SHARE) * gap * lips
        # above the line: the upper lip rises, less and less up to the nose
        up_fall = np.clip((t - self.t_nose) / np.maximum(line - self.t_nose, 1.0), 0.0, 1.0)
        # below it: the lower lip and the jaw drop, the drop widening to the jaw's and fading out
        # below the chin
        end = self.t_chin + JAW_PAST_CHIN * (self.t_chin - float(np.median(line)))
        down = np.clip((t - line) / max(self.t_chin - float(np.median(line)), 1.0), 0.0, 1.0)
        fall = np.clip((end - t) / np.maximum(end - line, 1.0), 0.0, 1.0)
        drop = (1.0 - UP_SHARE) * gap * (lips + (jaw - lips) * down) * fall
        above = t < line
        src_t = np.where(above, t + rise * up_fall, t - drop)
        # back to texture pixels: the same s, the source t
        mx = (self.centre[0] + s * self.u[0] + src_t * self.n[0] - x0).astype(np.float32)
        my = (self.centre[1] + s * self.u[1] + src_t * self.n[1] - y0).astype(np.float32)
        out = cv2.remap(patch, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # the opening: between the risen upper lip and the dropped lower one
        upper_edge = line - rise
        lower_edge = line + drop_at_lips
        inside = np.clip(np.minimum(t - upper_edge, lower_edge - t) + 0.5, 0.0, 1.0)
        inside[lips <= 0] = 0.0
        depth = np.clip((t - upper_edge) / np.maximum(lower_edge - upper_edge, 1e-3), 0.0, 1.0)
        shade = INSIDE_DARK[0] + (INSIDE_DARK[1] - INSIDE_DARK[0]) * depth**2
        fill = self.colour[None, None, :] * shade[..., None]
        wide = lower_edge - upper_edge
        deep = np.minimum(TEETH_DEPTH[0] * wide, TEETH_DEPTH[1] * 2 * self.half)
        below = t - upper_edge
        across = np.clip((TEETH_WIDTH * self.half - np.abs(s)) / (0.15 * self.half), 0.0, 1.0)
        teeth = np.clip(deep - below + 0.5, 0.0, 1.0) * np.clip(wide - TEETH_FROM, 0.0, 1.0) * across
        grey = TEETH[0] + (TEETH[1] - TEETH[0]) * np.clip(below / np.maximum(deep, 1e-3), 0.0, 1.0)
        fill = fill + (grey[..., None] * np.array(TEETH_TINT, np.float32) - fill) * teeth[..., None]
        a = out[..., 3:4].astype(np.float32) / 255.0
        colour = out[..., :3].astype(np.float32)
        colour += (fill * a - colour) * inside[..., None]
        out[..., :3] = np.clip(np.round(colour), 0, 255).astype(np.uint8)
        return out


def picture_mouth(face: np.ndarray | None, texture: np.ndarray) -> Mouth | None:
    """The picture's Mouth from its face mesh's 468 points (texture px), or None (no face, or one
    too small to open a mouth on). `texture`: the body's (premultiplied BGRA uint8), for the lips'
    colour."""
    if face is None or len(face) < 468:
        return None
    xy = np.asarray(face[:, :2], np.float64)
    height = float(np.linalg.norm(xy[BROW] - xy[CHIN]))
    left, right = xy[78], xy[308]
    half = float(np.linalg.norm(right - left)) / 2
    if height < 24 or half < 2:
        return None
    u = (right - left) / (2 * half)
    outer = abs(float((xy[CORNERS[1]] - xy[CORNERS[0]]) @ u)) / 2
    n = np.array([-u[1], u[0]])
    if n @ (xy[CHIN] - xy[NOSE_TIP]) < 0:
        n = -n
    centre = (left + right) / 2

    def st(idx: list[int]) -> np.ndarray:
        d = xy[idx] - centre
        pts = np.stack([d @ u, d @ n], axis=1)
        return pts[np.argsort(pts[:, 0])]

    upper, lower = st(UPPER_INNER), st(LOWER_INNER)
    t_nose = float((xy[NOSE_TIP] - centre) @ n)
    t_chin = float((xy[CHIN] - centre) @ n)
    reach = max(JAW_WIDTH * half, CHEEK_REACH * outer) + 2
    end = t_chin + JAW_PAST_CHIN * t_chin + 2
    corners = np.array([centre + a * u + b * n for a in (-reach, reach) for b in (t_nose, end)])
    h, w = texture.shape[:2]
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
    box = (max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
    if box[2] - box[0] < 4 or box[3] - box[1] < 4:
        return None
    # the lips' colour: the texture between the outer and inner edges, opaque pixels
    lip_poly = np.vstack([xy[UPPER_OUTER], xy[LOWER_OUTER][::-1]]).astype(np.int32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [lip_poly], 1)
    a = texture[..., 3]
    sel = (mask > 0) & (a > 200)
    if sel.sum() < 4:
        return None
    colour = np.median(texture[sel][:, :3].astype(np.float32) * 255.0 / a[sel][:, None].astype(np.float32), axis=0)
    return Mouth(centre, u, n, half, outer, upper, lower, t_nose, t_chin, height, box, colour)
