"""The eyes: the picture's eyes blink as the reference's do.

The reference's eyes are read with its mouth (kmc_ui/engine/expression.py's FaceReader): each eye's
lid gap over its width, the two eyes' mean. The face mesh reads a closed eye at about half its
usual gap, so the closing is measured against the clip's usual gap: none at the usual, whole at
CLOSED_AT of it.

The picture's eyes are closed by redrawing, each frame, a patch of the body's texture around each
eye: the upper lid (its lashes with it) slides down toward the lower lid, the skin above it
stretching down after it, and what it has not yet reached of the eye stays as it is. The patch is
in the picture's pixels, so the mesh carries it wherever the head goes.

A drawn eye larger than the mesh's (an anime face's: its iris runs on below the mesh's lower lid)
is found by its darkness instead (DrawnEye): it closes as a drawn eye does, the face's skin
coming down over it from its upper lashes to its lower edge, a lid's dark line at the front.
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
# A drawn eye: its pixels (iris, lashes, outline) are DARK_BY or more darker than the face's skin
# (Lab L, OpenCV's 0-255). Each column across the mesh's eye is looked at from UPPER_REACH of the
# eye's half-width above the mesh's upper lid down to LOWER_REACH below its lower lid: the eye's
# top is its first dark pixel, its bottom the last of the dark run from there (lighter gaps of
# DARK_GAP px at most: a highlight, the iris's pale rim). DRAWN_COLUMNS of the columns must show
# it, and under it (as under a real eye) half or more must not be dark. Its top and bottom are
# parabolas through the columns' readings. Closed, its lid's line is LASH of the half-width thick
# (at least 1.5 px), in its upper lashes' colour.
DARK_BY = 40.0
UPPER_REACH = 0.4
LOWER_REACH = 1.2
DARK_GAP = 3
DRAWN_COLUMNS = 0.6
# Lab L's spread (standard deviation) inside a drawn eye at least: the half-figure's 44 and 51 (iris,
# lashes, highlights); a flat dark lens drawn over them 24-26
FLATTEST = 30.0
DRAWN_WIDTH = 1.4  # a drawn eye's lashes may run on past the mesh's corners: up to this many half-widths out
LASH = 0.2
EDGE = 2.0  # px past a drawn eye's bottom that its lid comes down to (its outline's soft edge)
SOFT = 3.0  # px over which a drawn eye's closing skin fades into the face at its top and its ends


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
        return _frame(self.centre, self.u, self.n, box)

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


def _frame(
    centre: np.ndarray, u: np.ndarray, n: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xs - centre[0], ys - centre[1]
    return dx * u[0] + dy * u[1], dx * n[0] + dy * n[1]


@dataclass(frozen=True)
class DrawnEye:
    """A drawn eye (found by its darkness around the mesh's eye) in texture pixels: the mesh eye's
    frame (centre, across u, down n), its ends (s0, s1), its top (its upper lashes) as a parabola
    t = a s^2 + b s + c, its bottom (its lower edge) as t at each of `columns` (s), the colours of
    the skin above and below it and of its lashes (BGR), and its patch."""

    centre: np.ndarray
    u: np.ndarray
    n: np.ndarray
    ends: tuple[float, float]
    top: np.ndarray
    columns: np.ndarray
    bottom: np.ndarray
    above: np.ndarray
    below: np.ndarray
    lash: np.ndarray
    thick: float
    box: tuple[int, int, int, int]

    def frame(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Each pixel of `box` (x0, y0, x1, y1) as s (across the eye) and t (down), as Eye.frame."""
        return _frame(self.centre, self.u, self.n, box)

    def draw(self, patch: np.ndarray, closing: float) -> np.ndarray:
        """The box's texture (premultiplied BGRA uint8, the face opaque) with the eye closed by
        `closing` (0-1): from its top down to where the lid has come, the skin (from the colour
        above it to the colour below it, down the eye), the lid's line last."""
        if closing <= 0.0:
            return patch
        s, t = self.frame(self.box)
        top, bottom = np.polyval(self.top, s), np.interp(s, self.columns, self.bottom) + EDGE
        lid = top + closing * (bottom - top)
        down = np.clip((t - top) / np.maximum(bottom - top, 1.0), 0.0, 1.0)[..., None]
        skin = self.above * (1.0 - down) + self.below * down
        # the skin fades into the face over SOFT px past the eye's ends and above its top (a crisp
        # edge drew the closed eye as a flat patch), and as the lid comes down it reaches under its
        # line (the iris's rim showed below it)
        across = np.clip((np.minimum(s - self.ends[0], self.ends[1] - s) + SOFT) / SOFT, 0.0, 1.0)
        from_top = np.clip((t - (top - 1.0 - SOFT)) / SOFT, 0.0, 1.0)
        under = closing**2 * (self.thick + 2.0)
        cover = (np.clip(lid + under - t + 0.5, 0.0, 1.0) * from_top * across)[..., None]
        line = (np.clip(t - (lid - self.thick) + 0.5, 0.0, 1.0) * np.clip(lid - t + 0.5, 0.0, 1.0))[..., None]
        colour = np.concatenate([skin * (1.0 - line) + self.lash * line, np.full_like(line, 255.0)], axis=-1)
        out = patch.astype(np.float32) * (1.0 - cover) + colour * cover
        return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _curve(ss: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """A parabola t(s) through the columns' readings, those 2 px or more off a first fit left out."""
    fit = np.polyfit(ss, ts, 2)
    near = np.abs(np.polyval(fit, ss) - ts) < 2.0
    return np.polyfit(ss[near], ts[near], 2) if near.sum() >= 5 else fit


def drawn_eye(eye: Eye, rgb: np.ndarray, skin: tuple[np.ndarray, np.ndarray]) -> DrawnEye | None:
    """The drawn eye around the mesh's `eye` on `rgb` (the texture's colours), found by its darkness
    (DARK_BY under the face's `skin`) on the columns across it, as far out as they show it (at most
    DRAWN_WIDTH of the mesh eye's half-width); None when too few of the mesh eye's columns show one
    (DRAWN_COLUMNS), what lies under it is dark too, or it is flat (FLATTEST) or dark on and on
    across (a lens, hair)."""
    h, w = rgb.shape[:2]
    half = eye.half
    ss = np.arange(-np.floor(DRAWN_WIDTH * half), np.floor(DRAWN_WIDTH * half) + 1.0)
    t0 = float(eye.upper[:, 1].min()) - UPPER_REACH * half - 4
    t1 = float(eye.lower[:, 1].max()) + (LOWER_REACH + 0.6) * half + 4
    ts = np.arange(np.floor(t0), np.ceil(t1) + 1.0)
    grid_s, grid_t = np.meshgrid(ss, ts)
    mx = (eye.centre[0] + grid_s * eye.u[0] + grid_t * eye.n[0]).astype(np.float32)
    my = (eye.centre[1] + grid_s * eye.u[1] + grid_t * eye.n[1]).astype(np.float32)
    if mx.min() < 0 or my.min() < 0 or mx.max() > w - 1 or my.max() > h - 1:
        return None
    sampled = cv2.remap(rgb, mx, my, cv2.INTER_LINEAR)
    lab = cv2.cvtColor(sampled, cv2.COLOR_RGB2LAB).astype(np.float64)
    dark = lab[..., 0] < float(skin[0][0]) - DARK_BY
    top, bottom = np.full(len(ss), np.nan), np.full(len(ss), np.nan)
    under: list[bool] = []
    for j, sj in enumerate(ss):
        first = float(np.interp(sj, eye.upper[:, 0], eye.upper[:, 1])) - UPPER_REACH * half
        lower = float(np.interp(sj, eye.lower[:, 0], eye.lower[:, 1]))
        rows = np.flatnonzero(dark[:, j] & (ts >= first) & (ts <= lower))
        if not len(rows):
            continue
        last = rows[0]
        for i in range(rows[0] + 1, len(ts)):
            if ts[i] > lower + LOWER_REACH * half or i - last > DARK_GAP:
                break
            last = i if dark[i, j] else last
        top[j], bottom[j] = ts[rows[0]], ts[last]
        if abs(sj) <= half:
            under.extend(~dark[(ts > ts[last] + 0.24 * half) & (ts < ts[last] + 0.6 * half), j])
    seen = np.isfinite(top)
    mid = np.abs(ss) <= half
    if seen[mid].mean() < DRAWN_COLUMNS or not under or np.mean(under) < SKIN_BELOW:
        return None
    # its ends: the run of columns that show it, out from the middle (a column's gap bridged)
    bridged = seen | (np.roll(seen, 1) & np.roll(seen, -1))
    centre_j = int(np.argmin(np.abs(ss)))
    j0 = j1 = centre_j
    while j0 > 0 and bridged[j0 - 1]:
        j0 -= 1
    while j1 < len(ss) - 1 and bridged[j1 + 1]:
        j1 += 1
    run = seen & (np.arange(len(ss)) >= j0) & (np.arange(len(ss)) <= j1)
    if run.sum() < 5 or (j0 == 0 and j1 == len(ss) - 1):  # dark on and on across: dark glasses, hair
        return None
    top_fit = _curve(ss[run], top[run])
    # its bottom: a parabola through the columns' readings, lowered to leave three quarters of them
    # above it (a column that stopped short at the iris's pale rim pulls it up)
    columns = ss[j0 : j1 + 1]
    fit = _curve(ss[run], bottom[run])
    lowered = max(0.0, float(np.percentile(bottom[run] - np.polyval(fit, ss[run]), 75)))
    bottom_at = np.polyval(fit, columns) + lowered
    # the colours: the face's skin 2-7 px above its top and 3-8 px below its bottom (the face's own
    # where too little of it is), its lashes 0-2 px under its top
    away = grid_t - np.polyval(top_fit, grid_s)
    beneath = grid_t - np.interp(grid_s, columns, bottom_at)
    within = (grid_s >= ss[j0]) & (grid_s <= ss[j1])
    face = is_skin(lab.reshape(-1, 3), skin).reshape(dark.shape)
    own_lab = np.clip(skin[0], 0, 255).astype(np.uint8)[None, None]
    own = cv2.cvtColor(own_lab, cv2.COLOR_LAB2BGR)[0, 0].astype(np.float32)

    def skin_in(part: np.ndarray) -> np.ndarray:
        part = part & face
        return np.median(sampled[part], axis=0)[::-1].astype(np.float32) if part.sum() >= 5 else own

    above = skin_in(within & (away >= -7) & (away <= -2))
    below = skin_in(within & (beneath >= 3) & (beneath <= 8))
    lashes = within & dark & (away >= 0) & (away <= 2)
    inside = within & (away >= 0) & (beneath <= 0)
    if not lashes.any() or lab[..., 0][inside].std() < FLATTEST:  # an eye has its white, its highlights; a lens none
        return None
    lash = np.median(sampled[lashes], axis=0)[::-1].astype(np.float32)  # BGR
    ends = (float(ss[j0]), float(ss[j1]))
    thick = max(1.5, LASH * half)
    # the box holds what closing draws: SOFT px past its ends and above its top, the lid's line and
    # the skin under it past its bottom (DrawnEye.draw)
    corners = [
        eye.centre + sa * eye.u + tb * eye.n
        for sa in (ends[0] - SOFT - 2, ends[1] + SOFT + 2)
        for tb in (float(top[run].min()) - SOFT - 4, float(bottom_at.max()) + EDGE + thick + 4)
    ]
    bx0, by0 = np.floor(np.min(corners, axis=0)).astype(int)
    bx1, by1 = np.ceil(np.max(corners, axis=0)).astype(int) + 1
    box = (max(0, int(bx0)), max(0, int(by0)), min(w, int(bx1)), min(h, int(by1)))
    return DrawnEye(eye.centre, eye.u, eye.n, ends, top_fit, columns, bottom_at, above, below, lash, thick, box)


def picture_eyes(face: np.ndarray | None, texture: np.ndarray) -> list[Eye | DrawnEye]:
    """The picture's eyes from its face mesh's 468 points (texture px; `texture`, the body's,
    premultiplied BGRA uint8); none without a face, with eyes too small to close (under 6 px wide),
    or eyes the mesh does not outline (SKIN_BELOW) and no drawn eye is found around (DrawnEye)."""
    if face is None or len(face) < 468:
        return []
    xy = np.asarray(face[:, :2], np.float64)
    h, w = texture.shape[:2]
    rgb = cv2.cvtColor(np.ascontiguousarray(texture[..., :3]), cv2.COLOR_BGR2RGB)  # the face is opaque
    skin = face_skin(rgb, face)
    if skin is None:
        return []
    eyes: list[Eye | DrawnEye] = []
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
            drawn = drawn_eye(eye, rgb, skin)
            if drawn is None:
                return []
            eyes.append(drawn)
            continue
        eyes.append(eye)
    return eyes
