"""Filling holes: the background behind the character, and the body behind the arms.

Background plate: the character's outline (grown, so its glow and its edge pixels go too) is
filled row by row, each row blending from the colour left of the hole to the colour right of
it, at a quarter of the size, then smoothed vertically. Measured on the sample night-street
picture against cv2.inpaint (Telea, Navier-Stokes) and xphoto's FSR: diffusion drags the
bright edge colours into the middle and leaves a pale ghost of the figure; rows keep the
horizontal structure that most backdrops have (sky gradient, horizon, floor) and leave a
soft vertical smear where a tall object stands next to the figure.

A backdrop with texture (a scene: a hedge, a crowd, a starry sky) shows that row fill as a smear
where the character stood once the character moves away. There the background drawn behind the
character is filled by PatchMatch instead (`scene_fill`; the PyPatchMatch wheel), with the
patches drawn from about the same height (a regularity map of the row): the hedge continues as
hedge, the wall as wall. A standing structure beside the hole that does not repeat along its row (a
tower) is held back from it (`lone_uprights`): continued along its rows it became a row of towers.
On a plain or smoothly shaded backdrop PatchMatch copies what is there
(the woman's cast shadow became a dark silhouette), so the row fill stays. The row fill is also
what the cut-out's edges are decontaminated against (rig.decontaminate): the colour behind a
half-transparent edge is the local colour, not whatever patch PatchMatch chose.

Inside the character (what an arm hid, `fill_inside`): only the body's own pixels are read. They
are mirrored across the hole's edge, row by row, or column by column where the body above or below
is much nearer (`reflect_rows`); what stands out of the texture (a button) is mirrored again without
it, or blended across between two sides of one material (`tame`); the fill is then smoothed up
and down within its colours, so rows mirrored from a ragged edge do not show as streaks
(`smooth_fill`). A push-pull fill (a mean-colour pyramid) is left only where no row or column has
body beside the hole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import cv2
import numpy as np
from scipy.signal import savgol_filter

try:
    from patchmatch import patch_match
except ImportError:  # no wheel for the platform (Intel macOS): a scene keeps the row fill
    patch_match = None

PLATE_SCALE = 0.25
SHADE_ROWS = 17  # rows (of the fill's quarter size) each quadratic of the picture's shade down its rows spans
PLATE_PROB = 0.05  # the model's probability above which a pixel goes with the character
PLATE_GROW = 0.03  # share of the picture's height the hole is grown by (edge pixels, glow)


def grow_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    if pixels <= 0:
        return mask.astype(bool)
    k = 2 * pixels + 1
    return cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)


def _fill_rows(img: np.ndarray, hole: np.ndarray, band: int) -> np.ndarray:
    out = img.copy()
    w = hole.shape[1]
    for y in np.flatnonzero(hole.any(axis=1)):
        row = hole[y].astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row, [0]])))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            left = img[y, max(0, s - band) : s].mean(axis=0) if s > 0 else None
            right = img[y, e : min(w, e + band)].mean(axis=0) if e < w else None
            if left is None and right is None:
                continue
            left = right if left is None else left
            right = left if right is None else right
            t = np.linspace(0.0, 1.0, e - s)[:, None]
            out[y, s:e] = left * (1 - t) + right * t
    return out


def plate_hole(mask: np.ndarray, prob: np.ndarray | None = None) -> np.ndarray:
    """Where background_plate fills in: the character's mask, the model's faint parts, grown."""
    hole = mask.astype(bool)
    if prob is not None:
        hole = hole | (prob > PLATE_PROB)
    return grow_mask(hole, max(2, round(PLATE_GROW * mask.shape[0])))


SMEAR_SPREAD = 6.0  # RGB texture of the backdrop around a hole above which a row fill shows as a smear
SMEAR_SIGMA = 0.04  # the neighbourhood that spread is measured over, as a share of the picture's height


def _texture(img: np.ndarray, weight: np.ndarray, sigma: float, fine: float) -> np.ndarray:
    """The local energy (RMS over colour channels) of img's detail finer than `fine`, averaged over
    the `weight`ed pixels within `sigma` (normalised convolution)."""
    img = img.astype(np.float32)
    detail = img - cv2.GaussianBlur(img, (0, 0), fine)  # texture, not gradients (a row fill keeps those)
    w = weight.astype(np.float32)
    norm = np.maximum(cv2.GaussianBlur(w, (0, 0), sigma), 1e-6)
    return np.sqrt(cv2.GaussianBlur((detail * detail).sum(axis=-1) * w, (0, 0), sigma) / norm)


def smear_prone(bgr: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The hole's pixels whose surroundings have texture (the local energy of the backdrop's fine
    detail above SMEAR_SPREAD): there the row fill shows as a smear once uncovered. On a plain or
    smoothly shaded backdrop the fill cannot be told from it. Measured over the known pixels only
    (normalised convolution)."""
    return hole & (_texture(bgr, ~hole, max(2.0, SMEAR_SIGMA * hole.shape[0]), 2.0) > SMEAR_SPREAD)


SMEAR_KEEP = 0.5  # a fill with under this share of its surroundings' texture shows as a smear
TEXTURED_SHARE = 0.05  # share of the hole beside texture above which the scene is filled by PatchMatch
SCENE_SIDE = 1024  # a picture larger than this (longer side, px) has its texture judged on a smaller copy
PATCH_SIDE = 320  # the picture's longer side (px) PatchMatch works at (400: 2.4 s, 320: 1.3 s on the half-figure)
PATCH_RADIUS = 3  # PatchMatch's patches: (2 * 3 + 1) px square at PATCH_SIDE
PATCH_ROWS = 4.0  # weight of the row guide against the patches' colour distance
# the picture's longer side (px) a scene is continued past its edges at (its canvas, a landscape
# frame's, is 3x the picture's: 320 took 2.1-2.7 s, 256 1.5-1.8 s, about as sharp once scaled up)
BEYOND_SIDE = 256
# ... and its canvas's longer side at most this (px): a small picture in a large frame is continued
# on a smaller copy, not on a canvas many times the picture (PatchMatch's time grows with the canvas)
BEYOND_CANVAS = 640
# shares of the picture's longer side: how far out a scene continued takes its edge's shade, and
# over how much of its edge that shade is blurred; EDGE_COLUMNS: canvas px either side of the edge read
BEYOND_SHADE, BEYOND_ALONG, EDGE_COLUMNS = 0.08, 0.03, 4
UPRIGHT_EDGE = 30.0  # a vertical edge's blurred Sobel response (at PATCH_SIDE) that lone_uprights looks at
UPRIGHT_LAG = 6  # px (at PATCH_SIDE): the shortest shift an upright's row is matched against itself at
# ... which repeats when the match reaches this share of the row's own (measured: a drawn brick
# wall's rows 0.62-0.81; the night street's, where its tower stands, 0.30-0.46)
UPRIGHT_REPEAT = 0.55
UPRIGHT_TALL = 6  # px (at PATCH_SIDE): an upright's connected edge at least this tall (a star's is not)
_PATCH_LOCK = threading.Lock()  # the library's random seed is global: one fill at a time, repeatable


def smeared(bgr: np.ndarray, hole: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """The hole's pixels where `plate`, the picture with the hole filled, shows as a smear once
    uncovered: the surroundings have texture (smear_prone) and the fill there keeps under SMEAR_KEEP
    of it. Both are measured at the size PatchMatch works at (its fill is that fine, not finer)."""
    prone = smear_prone(bgr, hole)
    if not prone.any():
        return prone
    sigma = max(2.0, SMEAR_SIGMA * hole.shape[0])
    fine = 2.0 * max(1.0, max(hole.shape) / PATCH_SIDE)
    around = _texture(bgr, ~hole, sigma, fine)
    inside = _texture(plate, hole, sigma, fine)
    return prone & (inside < SMEAR_KEEP * around)


def scene_fill(bgr: np.ndarray, mask: np.ndarray, prob: np.ndarray | None = None) -> np.ndarray | None:
    """The picture with the character's place filled by PatchMatch, PATCH_SIDE px on its longer
    side, its patches guided to come from about the same row: for a backdrop with texture (more than
    TEXTURED_SHARE of the hole is smear_prone, judged at SCENE_SIDE at most). None for a plain
    backdrop (background_plate's row fill is as good there) or when too little of it is left.
    `with_fill` puts it into the picture at any size."""
    if not patchmatch_ready():
        return None
    h, w = mask.shape
    f = min(1.0, SCENE_SIDE / max(h, w))
    if f < 1.0:  # a phone photo's 4000 px: its texture is judged on a smaller copy
        size = (max(8, round(w * f)), max(8, round(h * f)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
        prob = None if prob is None else cv2.resize(prob, size, interpolation=cv2.INTER_AREA)
    hole = plate_hole(mask, prob)
    if not hole.any() or smear_prone(bgr, hole).sum() <= TEXTURED_SHARE * hole.sum():
        return None
    h, w = hole.shape
    f = min(1.0, PATCH_SIDE / max(h, w))
    size = (max(8, round(w * f)), max(8, round(h * f)))
    small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    if small_hole.mean() > 1 - TEXTURED_SHARE:
        return None
    return _patch_match(small, small_hole)


def scene_beyond(bgr: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray] | None:
    """The scene `bgr` (a background plate, the character's place filled) continued past its edges
    over `box` (x0, y0, x1, y1 in its pixels: what a frame shows, reaching past it) by PatchMatch,
    as scene_fill fills the character's place: on a canvas at BEYOND_SIDE on the picture's longer
    side (BEYOND_CANVAS on its own at most), holding the picture and the box, the patches drawn
    from about the same row (the sky goes on as sky, a skyline as skyline, the street as street)
    and never from a lone upright (a tower). The canvas (BGR) and the 2x3 transform from its
    pixels to the picture's; None without PatchMatch."""
    if not patchmatch_ready():
        return None
    h, w = bgr.shape[:2]
    reach = max(max(float(w), box[2]) - min(0.0, box[0]), max(float(h), box[3]) - min(0.0, box[1]))
    s = min(1.0, BEYOND_SIDE / max(h, w), BEYOND_CANVAS / reach)
    size = (max(8, round(w * s)), max(8, round(h * s)))
    sx, sy = size[0] / w, size[1] / h
    left, top = round(max(0.0, -box[0]) * sx), round(max(0.0, -box[1]) * sy)
    right, bottom = round(max(0.0, box[2] - w) * sx), round(max(0.0, box[3] - h) * sy)
    canvas = np.zeros((top + size[1] + bottom, left + size[0] + right, 3), np.uint8)
    canvas[top : top + size[1], left : left + size[0]] = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    hole = np.ones(canvas.shape[:2], bool)
    hole[top : top + size[1], left : left + size[0]] = False
    filled = _shade_on(canvas, _patch_match(canvas, hole), (top, top + size[1], left, left + size[0]))
    # a canvas pixel's centre u is the picture's (u - left + 0.5) / sx - 0.5 (cv2.resize's centres)
    to_picture = np.array([[1 / sx, 0, (0.5 - left) / sx - 0.5], [0, 1 / sy, (0.5 - top) / sy - 0.5]])
    return filled, to_picture


def _shade_on(canvas: np.ndarray, filled: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """PatchMatch's `filled` canvas with its shade beside the picture (rows y0:y1, columns x0:x1
    of `canvas`) made the picture's at its edge, the difference fading out over BEYOND_SHADE of the
    picture's longer side: PatchMatch drew the sky beside the half-figure from its darker blue,
    not from the light cloud at her picture's edge, and a step ran down the frame there."""
    y0, y1, x0, x1 = rect
    pic, out = canvas.astype(np.float32), filled.astype(np.float32)
    fade = BEYOND_SHADE * max(y1 - y0, x1 - x0)
    along = BEYOND_ALONG * max(y1 - y0, x1 - x0)
    _shade_sides(pic, out, (y0, y1, x0, x1), fade, along)  # left and right of the picture, row by row
    _shade_sides(pic.swapaxes(0, 1), out.swapaxes(0, 1), (x0, x1, y0, y1), fade, along)  # above and below it
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _shade_sides(pic: np.ndarray, out: np.ndarray, rect: tuple[int, int, int, int], fade: float, along: float) -> None:
    """_shade_on left and right of the picture (in place in `out`): each row's step between the
    picture's last EDGE_COLUMNS columns and the fill's next as many (rows past the picture's take
    its nearest row's), blurred over `along` rows (a firework or a roof at the edge is detail, not
    shade: run on, it drew a streak), added to the fill, e^(-d / fade) of it d columns out."""
    y0, y1, x0, x1 = rect
    rows = np.clip(np.arange(out.shape[0]), y0, y1 - 1)
    n = EDGE_COLUMNS
    for edge, beside, cols, d in (
        (slice(x0, x0 + n), slice(max(0, x0 - n), x0), slice(0, x0), np.arange(x0)[::-1]),
        (slice(x1 - n, x1), slice(x1, x1 + n), slice(x1, out.shape[1]), np.arange(out.shape[1] - x1)),
    ):
        if not len(d):
            continue
        step = pic[rows][:, edge].mean(axis=1) - out[:, beside].mean(axis=1)
        step = cv2.GaussianBlur(step[:, None, :], (1, 0), sigmaX=0.1, sigmaY=along)[:, 0, :]
        out[:, cols] += step[:, None, :] * np.exp(-d / fade).astype(np.float32)[None, :, None]


def _patch_match(bgr: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """`bgr` (uint8) with its `hole` filled by PatchMatch, its patches drawn from about the same
    row (a regularity map of the row, PATCH_ROWS), never from a lone upright (lone_uprights)."""
    rows = np.zeros((*hole.shape, 3), np.float32)
    rows[..., 0] = np.arange(hole.shape[0], dtype=np.float32)[:, None]
    lone = lone_uprights(bgr, hole)
    with _PATCH_LOCK:
        patch_match.set_random_seed(0)
        return patch_match.inpaint_regularity(
            np.ascontiguousarray(bgr),
            hole.astype(np.uint8) * 255,
            rows,
            global_mask=lone.astype(np.uint8) * 255 if lone.any() else None,
            patch_size=PATCH_RADIUS,
            guide_weight=PATCH_ROWS,
        )


def lone_uprights(bgr: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The known pixels PatchMatch must neither copy from nor match the hole's edge against: the
    vertical edges of a standing structure that does not repeat along its row (a tower, a pole, a
    tree's trunk), grown by 4 px. Along a row the fill continues what it finds beside the hole, and
    a tower there was continued into a row of towers (the night street's Eiffel tower, five times).
    Uprights: the Sobel response across over twice the one down, blurred over 1.5 px, above
    UPRIGHT_EDGE (at PATCH_SIDE), in connected edges UPRIGHT_TALL px tall or more (a star's few
    pixels are the sky's texture). They repeat where their profile along the row (7 rows
    together) matches itself shifted by UPRIGHT_LAG px or more (a third of the width at most) to
    UPRIGHT_REPEAT of its own energy or more: a brick wall's joints, a fence's pickets, whose
    repeats are what the scene shows. Horizontal edges (a hedge's top, a wall, the horizon) are
    never held back."""
    known = ~hole
    lum = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    across = np.abs(cv2.Sobel(lum, cv2.CV_32F, 1, 0))
    down = np.abs(cv2.Sobel(lum, cv2.CV_32F, 0, 1))
    upright = known & (cv2.GaussianBlur(np.maximum(across - 2.0 * down, 0.0), (0, 0), 1.5) > UPRIGHT_EDGE)
    rows = np.ones((7, 1), np.float32)
    profile = cv2.filter2D(upright.astype(np.float32), -1, rows, borderType=cv2.BORDER_CONSTANT)
    power = np.maximum((profile * profile).sum(axis=1), 1e-6)
    repeat = np.zeros(len(profile), np.float32)
    for lag in range(UPRIGHT_LAG, hole.shape[1] // 3):
        repeat = np.maximum(repeat, (profile[:, :-lag] * profile[:, lag:]).sum(axis=1) / power)
    lone = upright & (repeat < UPRIGHT_REPEAT)[:, None]
    # and stand: a star's or a spark's few pixels are the sky's texture, left to copy
    _, labels, stats, _ = cv2.connectedComponentsWithStats(lone.astype(np.uint8), connectivity=8)
    tall = stats[:, cv2.CC_STAT_HEIGHT] >= UPRIGHT_TALL
    tall[0] = False
    lone = tall[labels]
    return (cv2.dilate(lone.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0) & known


def patchmatch_ready() -> bool:
    """PyPatchMatch is installed with its native library (a wheel for this platform)."""
    return patch_match is not None and bool(patch_match.patchmatch_available)


def with_fill(bgr: np.ndarray, hole: np.ndarray, fill: np.ndarray, rim: float = 2.0) -> np.ndarray:
    """`bgr` (uint8) with its `hole` replaced by `fill`, a smaller copy of it filled (scene_fill's,
    or the row fill's at a quarter size), scaled up, blended over a rim of `rim` px."""
    h, w = hole.shape
    up = cv2.resize(fill, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    m = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), rim)[..., None]
    return np.clip(bgr.astype(np.float32) * (1 - m) + up * m, 0, 255).astype(np.uint8)


def background_plate(bgr: np.ndarray, mask: np.ndarray, prob: np.ndarray | None = None) -> np.ndarray:
    """The picture with the character removed (uint8 BGR, same size). `prob`, the segmentation
    model's probability, widens the hole to the faint parts (glow, wisps) the mask leaves out."""
    h, w = mask.shape
    hole = plate_hole(mask, prob)
    if not hole.any():
        return bgr.copy()
    f = min(1.0, max(PLATE_SCALE, 64.0 / max(1, min(h, w))))
    small = cv2.resize(
        bgr.astype(np.float32), (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA
    )
    sh = cv2.resize(hole.astype(np.float32), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA) > 0
    if sh.all():  # nothing to read from: a flat grey
        return np.full_like(bgr, 127)
    filled = _fill_rows(small, sh, 3)
    if not (~sh).any(axis=1).all():  # rows entirely inside the hole: fill them from above/below
        filled = _fill_rows(filled.transpose(1, 0, 2), (sh & ~(~sh).any(axis=1)[:, None]).T, 3).transpose(1, 0, 2)
    return with_fill(bgr, hole, smoothed_down(filled, sh), rim=3.0)


def smoothed_down(filled: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The row fill (float32) smoothed up and down: each row is read from a few pixels beside the
    hole, so neighbouring rows differ in steps. It is smoothed about the picture's shade down its
    rows (each row's mean outside the hole, fitted by a quadratic over SHADE_ROWS rows so that a
    texture's rows do not come back as streaks), so a shading down the picture is kept as it is (a
    studio floor's shadow, darker and darker to the bottom edge, smoothed with it came out lighter
    than the floor beside it)."""
    known = ~hole
    rows = np.flatnonzero(known.any(axis=1))
    means = (filled * known[..., None]).sum(axis=1)[rows] / known.sum(axis=1)[rows, None]
    every = np.arange(hole.shape[0])
    shade = np.stack([np.interp(every, rows, means[:, c]) for c in range(filled.shape[2])], axis=1)
    if len(every) > SHADE_ROWS:
        shade = savgol_filter(shade, SHADE_ROWS, 2, axis=0, mode="interp")
    shade = shade[:, None, :].astype(np.float32)
    return cv2.GaussianBlur(filled - shade, (0, 0), sigmaX=1.0, sigmaY=4.0) + shade


def push_pull(img: np.ndarray, known: np.ndarray, min_side: int = 4) -> np.ndarray:
    """Every pixel gets the mean colour of the nearest known pixels (a smooth fill, float32)."""
    img = img.astype(np.float32)
    wts = known.astype(np.float32)
    pyramid = [(img * wts[..., None], wts)]
    while min(pyramid[-1][1].shape) > min_side:
        v, k = pyramid[-1]
        hh, ww = k.shape
        size = (max(1, (ww + 1) // 2), max(1, (hh + 1) // 2))
        pyramid.append(
            (cv2.resize(v, size, interpolation=cv2.INTER_AREA), cv2.resize(k, size, interpolation=cv2.INTER_AREA))
        )
    v, k = pyramid[-1]
    colour = v / np.maximum(k, 1e-6)[..., None]
    if not (k > 0).any():
        return img
    colour[k <= 0] = (v.reshape(-1, 3).sum(axis=0) / max(float(k.sum()), 1e-6)) if k.sum() > 0 else 0
    for v, k in reversed(pyramid[:-1]):
        up = cv2.resize(colour, (k.shape[1], k.shape[0]), interpolation=cv2.INTER_LINEAR)
        own = v / np.maximum(k, 1e-6)[..., None]
        a = np.clip(k * 4.0, 0.0, 1.0)[..., None]  # trust a level's own mean once it has some support
        colour = own * a + up * (1 - a)
    return colour


def fill_inside(bgr: np.ndarray, hole: np.ndarray, source: np.ndarray) -> np.ndarray:
    """bgr (float32) with `hole` pixels replaced by a fill read from `source` pixels only: each
    pixel mirrored from the source beside it on its row (reflect_rows), or on its column where that
    source is much nearer (COLUMN_NEARER), a run whose row and column have no side wide enough
    mirrored from its column with the rows' fill, and what none reaches a smooth fill (push_pull)."""
    out = bgr.astype(np.float32).copy()
    if not hole.any() or not source.any():
        return out
    ys, xs = np.nonzero(hole)
    pad = max(8, int(0.25 * max(np.ptp(ys) + 1, np.ptp(xs) + 1)))
    y0, y1 = max(0, ys.min() - pad), min(hole.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(hole.shape[1], xs.max() + pad + 1)
    crop_known = source[y0:y1, x0:x1] & ~hole[y0:y1, x0:x1]
    if not crop_known.any():
        crop_known = source & ~hole
        y0, y1, x0, x1 = 0, hole.shape[0], 0, hole.shape[1]
    crop = out[y0:y1, x0:x1]
    fill = push_pull(crop, crop_known)
    region = hole[y0:y1, x0:x1]
    reflected, got, far = _reflect(crop, region, crop_known)
    # a pixel much nearer the source above or below it than beside it (the thigh under a hand that
    # lay across a cuff's slanted edge) is mirrored from its column: from its row it repeated the
    # row's few pixels of the cuff's shadow as a band across the thigh
    cols, down, far_down = (a.swapaxes(0, 1) for a in _reflect(crop.swapaxes(0, 1), region.T, crop_known.T))
    near = down & (far_down < COLUMN_NEARER * far)
    reflected[near] = cols[near]
    got |= down
    fill[got] = reflected[got]
    rest = region & ~got
    if rest.any():
        # a row with no side wide enough (the skirt's sliver between clasped hands and a cuff) is
        # mirrored from its column, above and below, the rows' fill with the known pixels: the
        # smooth fill there was a blurred band across the body
        base = np.where(got[..., None], reflected, crop)
        cols, down = reflect_rows(base.transpose(1, 0, 2), rest.T, (crop_known | got).T)
        down = down.T
        fill[down] = cols.transpose(1, 0, 2)[down]
        got |= down
    if got.any():
        fill = tame(fill, np.where(crop_known[..., None], crop, fill), crop_known, got)
    fill = smooth_fill(np.where(crop_known[..., None], crop, fill), region, crop_known | region)
    out[y0:y1, x0:x1][region] = fill[region]
    return out


SMOOTH_COLOUR = 60.0  # the fill's smoothing: colours this far apart (summed over B, G, R) mostly keep apart
SMOOTH_SPACE = 12.0  # ... over about this many px up and down (in the rig's working pixels)


def smooth_fill(img: np.ndarray, hole: np.ndarray, body: np.ndarray) -> np.ndarray:
    """`img` (float32) with its `hole` pixels smoothed up and down within each colour (a bilateral
    filter along the columns, over the `body` pixels only). Each row of a fill is mirrored from
    its own place in the source, and where the source's edge is ragged the rows differ in steps:
    streaks across a plain material (the half-figure's corset and skirt, the band beside the
    woman's top). They are evened out; what lies far apart in colour (skin and denim, a striped
    shirt's stripes, a cuff's edge) stays apart, and what runs down the body (pleats) is kept."""
    img = img.astype(np.float32)
    ys, xs = np.nonzero(hole)
    if not len(ys):
        return img
    own = img[ys, xs]
    total = np.zeros_like(own)
    weight = np.zeros(len(ys), np.float32)
    reach = int(2 * SMOOTH_SPACE)
    for k in range(-reach, reach + 1):
        yk = np.clip(ys + k, 0, hole.shape[0] - 1)
        other = img[yk, xs]
        far = np.abs(other - own).sum(axis=1)
        w = np.exp(-0.5 * (k / SMOOTH_SPACE) ** 2 - 0.5 * (far / SMOOTH_COLOUR) ** 2) * (body[yk, xs] & (yk == ys + k))
        total += w[:, None] * other
        weight += w
    out = img.copy()
    out[ys, xs] = total / np.maximum(weight, 1e-6)[:, None]
    return out


TAME_SIZE = 0.15  # share of the hole's box (its longer side) the local median of a fill spans
TAME_REACH = 2.0  # a pixel stands out beyond this many times the known pixels' mean detail near it
TAME_MATERIAL = 1 / 8  # known pixels standing out over this share of the median's span across are a material
TAME_SIDE = 3  # px beside a run a blended fill takes its colour from (their median)
TAME_LIKE = 0.1  # ... when the two sides' chromaticities (B, G, R over their sum) are this near: one material
TAME_CARRY = 9  # px: the widest run carried on from one side (wider, a flat block)


def tame(fill: np.ndarray, whole: np.ndarray, known: np.ndarray, got: np.ndarray) -> np.ndarray:
    """The mirrored fill (`got` pixels of `fill`) without what stands out of the texture. A pixel
    stands out where its detail (its difference from the local median of `whole`, the picture with
    the fill in its hole) is more than TAME_REACH times the `known` pixels' own mean detail around
    it. Denim's grain and a shirt's stripes (all over their source) do not; a button or a cuff's
    stitching does. The fill's pixels that stand out are mirrored again from the rows beside them
    with what stands out left out of the source (the local median where a row has too little), or
    blended across where both sides are of one material (`blend_rows`), a material that stands out
    of the median (`_material`) among them, or carried on from the one side that has any
    (`carry_rows`): the median is the last resort (of two materials, it can be neither)."""
    h, w = got.shape
    k = max(5, int(TAME_SIZE * max(h, w)) | 1)
    img = np.clip(whole, 0, 255).astype(np.uint8)
    base = np.stack([cv2.medianBlur(np.ascontiguousarray(img[..., c]), k) for c in range(3)], axis=2).astype(np.float32)
    detail = whole.astype(np.float32) - base
    size = np.abs(detail).max(axis=2)
    # the mean detail of the known pixels around, drawn towards the whole box's where few are known
    # (beside the hole's far end a handful of edge pixels would set it)
    overall = float(size[known].mean()) if known.any() else 0.0
    weight = cv2.blur(known.astype(np.float32), (k, k))
    usual = (cv2.blur(np.where(known, size, 0.0).astype(np.float32), (k, k)) + overall) / (weight + 1.0)
    stand = size > TAME_REACH * usual
    # with the pixels around what stands out (a button's rim is part of it)
    salient = _dilate5(stand)
    drop = salient & got
    out = fill.copy()
    out[drop] = base[drop]
    if drop.any():
        source = (known | got) & ~salient
        again, redone = reflect_rows(whole, drop, source)
        out[drop & redone] = again[drop & redone]
        # a run with one material on both sides is a blend from one side's shade to the other's, a
        # material the median does not match among them: the lit thigh beside the denim under the
        # woman's hand stands out, and her thigh was mirrored again from its thin shaded edge alone (a
        # block). Mirrored from, such a material ran into the fill (a pink highlight into a red plate).
        # reaching the body's edge or what is dropped: the woman's bare waist between her top and
        # her shorts (a band narrower than the median's span, so it stands out of it), beside a
        # strip under her arm's edge that the median made the top's grey
        material = _material(stand & known, (known | got) & ~drop, k) & known
        blend, blended = blend_rows(whole, drop, source | material)
        out[drop & blended] = blend[drop & blended]
        left = drop & ~redone & ~blended
        if left.any():
            carried, on = carry_rows(whole, left, material)
            out[left & on] = carried[left & on]
    return out


def _material(stand: np.ndarray, body: np.ndarray, k: int) -> np.ndarray:
    """The known pixels that stand out (`stand`) in patches wide across (TAME_MATERIAL of the median's
    span `k`) and reaching the body's edge (past `body`), with the pixels around them: a material the
    median (of two materials) does not match, not a detail (the lit thigh beside the denim under the
    woman's hand). A button is inside its material: a detail however wide."""
    across = max(3, round(TAME_MATERIAL * k) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (across, across))
    wide = cv2.morphologyEx(stand.astype(np.uint8), cv2.MORPH_OPEN, disc) > 0
    edge = cv2.dilate((~body).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    _, patch = cv2.connectedComponents(stand.astype(np.uint8))
    kept = np.intersect1d(patch[wide], patch[edge & stand])
    return _dilate5(np.isin(patch, kept))


def _chroma_gap(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference of two colours' chromaticities (B, G, R over their sum)."""
    return float(np.abs(a / max(float(a.sum()), 1.0) - b / max(float(b.sum()), 1.0)).max())


def _dilate5(mask: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0


def blend_rows(img: np.ndarray, hole: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each run of `hole` pixels on a row with `source` pixels of one material on both sides (their
    chromaticities within TAME_LIKE) filled with a straight blend from the colour just left of it to
    the colour just right of it (the median of up to TAME_SIDE px each side): a shade, not an edge
    between two materials, is blended. Returns (filled image, the pixels filled)."""
    out = img.copy()
    got = np.zeros(hole.shape, bool)
    for y, s, e, left, right in _side_runs(hole, source):
        if not (left and right):
            continue
        a, b = np.median(img[y, s - left : s], axis=0), np.median(img[y, e : e + right], axis=0)
        if _chroma_gap(a, b) > TAME_LIKE:
            continue
        t = ((np.arange(e - s) + 1) / (e - s + 1))[:, None]
        out[y, s:e] = a * (1 - t) + b * t
        got[y, s:e] = True
    return out, got


def carry_rows(img: np.ndarray, hole: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each run of `hole` pixels on a row with `source` pixels on one side only filled with that
    side's colour (the median of up to TAME_SIDE px). Returns (filled image, the pixels filled)."""
    out = img.copy()
    got = np.zeros(hole.shape, bool)
    for y, s, e, left, right in _side_runs(hole, source):
        if bool(left) == bool(right) or e - s > TAME_CARRY:
            continue
        side = img[y, s - left : s] if left else img[y, e : e + right]
        out[y, s:e] = np.median(side, axis=0)
        got[y, s:e] = True
    return out, got


def _side_runs(hole: np.ndarray, source: np.ndarray) -> Iterator[tuple[int, int, int, int, int]]:
    """Each run of `hole` pixels on a row: (row, start, end, how many `source` pixels just left of
    it, just right of it, up to TAME_SIDE each)."""
    for y in np.flatnonzero(hole.any(axis=1)):
        row, ok = hole[y], source[y]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            yield int(y), int(s), int(e), min(TAME_SIDE, _run_length(ok[:s][::-1])), min(TAME_SIDE, _run_length(ok[e:]))


MIN_SOURCE_PX = 4  # a row's known run beside a hole narrower than this (px) ...
MIN_SOURCE_SHARE = 0.25  # ... or than this share of the hole's run fills it only when nothing else can
COLUMN_NEARER = 0.5  # a hole's pixel is mirrored from its column where that source is this much nearer than its row's


def reflect_rows(img: np.ndarray, hole: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each run of `hole` pixels on a row filled with the `known` pixels beside it, mirrored
    across the run's edge (from the nearer side that has any; a narrow source repeats): the
    body's own texture (stripes, folds, denim) continues under where an arm lay, instead of a
    blur. Returns (filled image, the pixels filled)."""
    out, got, _ = _reflect(img, hole, known)
    return out, got


def _reflect(img: np.ndarray, hole: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """reflect_rows, with each filled pixel's distance (px) from the edge of the source it was
    mirrored from (inf where not filled)."""
    out = img.copy()
    got = np.zeros(hole.shape, bool)
    far = np.full(hole.shape, np.inf, np.float32)
    w = hole.shape[1]
    for y in np.flatnonzero(hole.any(axis=1)):
        row, ok = hole[y], known[y]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            left = _run_length(ok[:s][::-1])  # known pixels just left of the run
            right = _run_length(ok[e:])
            # a side too narrow to carry the texture (a rim, a seam's few pixels) would repeat as
            # stripes: the other side fills the run alone
            least = max(MIN_SOURCE_PX, MIN_SOURCE_SHARE * (e - s))
            if left < least and right >= least:
                left = 0
            elif right < least and left >= least:
                right = 0
            if max(left, right) < least:  # no side wide enough: the smooth fill, not a sliver repeated
                continue
            d = np.arange(e - s)
            from_left = (d < (e - s) / 2) if (left and right) else np.full(e - s, bool(left))
            # mirrored back and forth (s-1, s-2, ..., s-left, ..., s-1, ...): a source shorter than the
            # run repeats without a jump (repeated, each row's restart showed as a stair-step)
            src = np.where(
                from_left,
                s - 1 - _fold(d, max(left, 1)),
                e + _fold(e - s - 1 - d, max(right, 1)),
            )
            out[y, s:e] = img[y, np.clip(src, 0, w - 1)]
            got[y, s:e] = True
            far[y, s:e] = np.where(from_left, d + 1, e - s - d)
    return out, got, far


def _fold(d: np.ndarray, n: int) -> np.ndarray:
    """0, 1, ..., n-1, n-1, ..., 0, 0, 1, ...: d folded back and forth into [0, n)."""
    m = d % (2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def _run_length(flags: np.ndarray) -> int:
    """How many leading entries of `flags` are True."""
    off = np.flatnonzero(~flags)
    return int(off[0]) if len(off) else len(flags)
