"""Arms as rigid cut-out pieces: upper arm, forearm, hand, each moved by its own bone.

A skinned mesh bends an arm by blending the bones' transforms: where an elbow bends sharply the
mesh folds over itself, the coarse warp map picks one fold or the other per grid cell, and the
arm shows stair-steps, pulled-in hair and see-through patches (docs/engine.md, before/after).
A 2D cut-out animator does it differently: each segment is a rigid piece, cut at the joint along
the bisector of the two bones and given a round end (a disc of the limb's radius) so the joint
stays closed at any angle; the piece further down the arm is drawn over the one above it. Each
piece is warped at full resolution with one affine (`cv2.warpAffine`, bilinear), so its edges
stay smooth, and the pieces are composited into one arm before the arm goes over the body (its
shadow is cast once, by the whole arm).

A piece also carries its rim in the arm's own colour (Layer.rim, kmc_ui/engine/rim.py): where the
arm lay against the body, its edge pixels are the body's colours (hair, a shadow, the shorts under
a hand), right while the piece lies where it lay over the body and a dark or blue line along it
once it has moved. A piece moved RIM_STILL px or less from where the torso would put it is drawn
in the picture's colours, one moved RIM_STILL + RIM_SPAN px or more in its own, in between a mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kmc_ui.engine.rig import ARM_BONES, BONES, Layer

OVERLAP = 2.0  # px each piece reaches past its cut, so straight joints show no seam
EDGE_SOFTEN = 0.7  # px of blur on a piece's cut (its outline stays the layer's own)
RIM_STILL = 1.0  # output px a piece may lie from its place on the body and keep the picture's rim
RIM_SPAN = 2.0  # output px past that over which its rim turns to the arm's own colour


@dataclass(frozen=True)
class Piece:
    bone: str
    texture: np.ndarray  # (h, w, 4) uint8 premultiplied BGRA: the piece's crop of the layer
    origin: np.ndarray  # (2,) the crop's top-left corner in working px
    rim: np.ndarray | None = None  # `texture` with its rim in the arm's own colour (Layer.rim)


@dataclass(frozen=True)
class Cuts:
    """The joints between an arm's pieces: position, cut normal (pointing down the arm), radius."""

    joints: tuple[np.ndarray, ...]
    normals: tuple[np.ndarray, ...]
    radii: tuple[float, ...]

    def piece_of(self, p: np.ndarray) -> np.ndarray:
        """Index of the piece each point (N,2) belongs to: how many cuts it lies past, in order."""
        idx = np.zeros(len(p), np.int32)
        for j, (joint, normal) in enumerate(zip(self.joints, self.normals, strict=True)):
            past = (p - joint) @ normal > 0
            idx = np.where((idx == j) & past, j + 1, idx)
        return idx


def arm_cuts(layer_name: str, pts: dict[str, np.ndarray], radii: dict[str, float]) -> Cuts:
    """Cuts at the elbow and the wrist, each along the bisector of the two bones meeting there."""
    bones = ARM_BONES[layer_name]
    chain = [pts[BONES[bones[0]][1]]] + [pts[BONES[b][2]] for b in bones]  # shoulder, elbow, wrist, tip
    joints, normals, rads = [], [], []
    for i in (1, 2):
        a = _unit(chain[i] - chain[i - 1])
        b = _unit(chain[i + 1] - chain[i])
        n = a + b
        n = _unit(n) if np.linalg.norm(n) > 1e-3 else a
        joints.append(np.asarray(chain[i], np.float64))
        normals.append(n)
        rads.append(float(max(radii.get(bones[i - 1], 1.0), radii.get(bones[i], 1.0))))
    return Cuts(tuple(joints), tuple(normals), tuple(rads))


def cut_pieces(
    layer: Layer, texture: np.ndarray, cuts: Cuts, rim: np.ndarray | None = None, below: int = 0
) -> list[Piece]:
    """The layer's premultiplied BGRA texture (uint8, working px) split into its bones' pieces;
    `rim`, the same with its rim in the arm's own colour (same opacity), split alike. An arm that
    runs into the texture's bottom edge goes on `below` rows past it (run_on)."""
    rows, cols = np.nonzero(texture[..., 3])
    if len(rows) == 0:
        return []
    by0, bx0 = int(rows.min()), int(cols.min())
    reaches = int(rows.max()) == texture.shape[0] - 1
    box = (slice(by0, rows.max() + 1), slice(bx0, cols.max() + 1))
    texture = texture[box]  # work on the layer's own box
    rim = None if rim is None else rim[box]
    if below > 0 and reaches:
        slope = run_slope(texture[..., 3])
        pad = int(np.ceil(abs(slope) * below)) + 1
        texture = run_on(texture, below, slope, pad)
        rim = None if rim is None else run_on(rim, below, slope, pad)
        bx0 -= pad
    h, w = texture.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    grid = np.stack([xs.ravel() + bx0, ys.ravel() + by0], axis=1).astype(np.float64)
    signed = [((grid - j) @ n).reshape(h, w) for j, n in zip(cuts.joints, cuts.normals, strict=True)]
    discs = [((grid - j) ** 2).sum(axis=1).reshape(h, w) <= r * r for j, r in zip(cuts.joints, cuts.radii, strict=True)]
    pieces: list[Piece] = []
    count = len(layer.bones) - 1  # the layer's bones: torso, then the arm's three
    for i in range(count):
        keep = np.ones((h, w), bool)
        if i > 0:  # past the cut above it, plus that joint's round end
            keep &= (signed[i - 1] > -OVERLAP) | discs[i - 1]
        if i < count - 1:  # before the cut below it, plus that joint's round end
            keep &= (signed[i] < OVERLAP) | discs[i]
        soft = cv2.GaussianBlur(keep.astype(np.float32), (0, 0), EDGE_SOFTEN) if EDGE_SOFTEN > 0 else keep
        alpha = texture[..., 3].astype(np.float32) * soft
        on = alpha > 1.0
        if on.sum() < 4:
            continue
        rows, cols = np.nonzero(on)
        y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        tex = _crop(texture, soft, y0, y1, x0, x1)
        own = None if rim is None else _crop(rim, soft, y0, y1, x0, x1)
        pieces.append(Piece(layer.bones[i + 1], tex, np.array([bx0 + x0 - 1.0, by0 + y0 - 1.0]), own))
    return pieces


RUN_FIT = 24  # bottom rows of an arm cut off by the picture whose middles give its direction on (run_on)
RUN_SLOPE = 1.5  # at most this many px sideways a row: a forearm lying nearer level than this is cut across


def run_slope(alpha: np.ndarray) -> float:
    """Px sideways per row of an arm's last RUN_FIT rows: the line through each row's middle
    (opacity-weighted), clamped to RUN_SLOPE; 0 when too few rows show it."""
    rows = alpha[-RUN_FIT:].astype(np.float64)
    weight = rows.sum(axis=1)
    seen = weight > 255.0
    if seen.sum() < 4:
        return 0.0
    xs = np.arange(alpha.shape[1], dtype=np.float64)
    middle = (rows @ xs)[seen] / weight[seen]
    slope = float(np.polyfit(np.flatnonzero(seen).astype(np.float64), middle, 1)[0])
    return float(np.clip(slope, -RUN_SLOPE, RUN_SLOPE))


def run_on(texture: np.ndarray, below: int, slope: float, pad: int) -> np.ndarray:
    """The texture (h, w, 4) with `pad` clear columns either side and `below` rows under it, each
    its last row moved `slope` px sideways a row further (bilinear): an arm the picture cuts off
    at its bottom edge goes on past it in its own direction, so one that rises (a held arm turning
    as the body leans) shows more forearm, not its cut end."""
    wide = cv2.copyMakeBorder(texture, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=0)
    last = np.ascontiguousarray(wide[-1:])
    steps = np.arange(1, below + 1, dtype=np.float32)[:, None]
    map_x = np.arange(wide.shape[1], dtype=np.float32)[None, :] - slope * steps
    map_y = np.zeros_like(map_x)
    run = cv2.remap(last, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.concatenate([wide, run], axis=0)


def _crop(texture: np.ndarray, soft: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """A piece's crop of a texture (uint8 BGRA) with its cut's soft edge, and a clear pixel round it
    (bilinear sampling fades at the crop's edge)."""
    crop = texture[y0:y1, x0:x1].astype(np.float32) * soft[y0:y1, x0:x1, None]
    tex = np.clip(np.round(crop), 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(tex, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)


def moved_from_place(piece: Piece, transforms: dict[str, np.ndarray], anchor: str = "torso") -> float:
    """How far (output px) the piece's box corners lie from where the `anchor` bone would put them:
    0 while the arm hangs where it hung on the body."""
    ph, pw = piece.texture.shape[:2]
    corners = np.array([[0, 0], [pw, 0], [0, ph], [pw, ph]], np.float64) + piece.origin
    m, a = transforms[piece.bone], transforms[anchor]
    return float(np.linalg.norm(corners @ (m[:, :2] - a[:, :2]).T + (m[:, 2] - a[:, 2]), axis=1).max())


def piece_texture(piece: Piece, transforms: dict[str, np.ndarray]) -> np.ndarray:
    """The texture to draw a piece with this frame: the picture's colours while it lies where it
    lay, its rim in the arm's own colour once it has moved away (RIM_STILL, RIM_SPAN)."""
    if piece.rim is None or "torso" not in transforms:
        return piece.texture
    t = min(1.0, max(0.0, (moved_from_place(piece, transforms) - RIM_STILL) / RIM_SPAN))
    if t <= 0.0:
        return piece.texture
    if t >= 1.0:
        return piece.rim
    return cv2.addWeighted(piece.texture, 1.0 - t, piece.rim, t, 0.0)


def draw_pieces(
    pieces: list[Piece], transforms: dict[str, np.ndarray], size: tuple[int, int], grid: int
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The arm composited from its pieces (premultiplied BGRA uint8) and its top-left corner in the
    output frame (a multiple of `grid`), or None when it lands outside the frame. Later pieces are
    drawn over earlier ones: the forearm over the upper arm, the hand over the forearm."""
    width, height = size
    boxes = []
    for piece in pieces:
        m = transforms[piece.bone]
        ph, pw = piece.texture.shape[:2]
        corners = np.array([[0, 0], [pw, 0], [0, ph], [pw, ph]], np.float64) + piece.origin
        moved = corners @ m[:, :2].T + m[:, 2]
        boxes.append((moved.min(axis=0), moved.max(axis=0)))
    lo = np.min([b[0] for b in boxes], axis=0)
    hi = np.max([b[1] for b in boxes], axis=0)
    x0 = max(0, int(np.floor(lo[0] / grid)) * grid)
    y0 = max(0, int(np.floor(lo[1] / grid)) * grid)
    x1 = min(-(-width // grid) * grid, int(np.ceil(hi[0] / grid) + 1) * grid)
    y1 = min(-(-height // grid) * grid, int(np.ceil(hi[1] / grid) + 1) * grid)
    if x1 <= x0 or y1 <= y0:
        return None
    canvas = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
    for piece, (plo, phi) in zip(pieces, boxes, strict=True):
        m = transforms[piece.bone]
        # drawn in the rows of the canvas its box spans and put over the canvas in its box (a
        # pixel's bilinear reach round it): outside it is clear, and "over" a clear pixel keeps it
        r0 = min(max(0, int(np.floor(plo[1])) - y0 - 2), y1 - y0)
        r1 = min(max(r0, int(np.ceil(phi[1])) - y0 + 3), y1 - y0)
        c0 = min(max(0, int(np.floor(plo[0])) - x0 - 2), x1 - x0)
        c1 = min(max(c0, int(np.ceil(phi[0])) - x0 + 3), x1 - x0)
        if r1 <= r0 or c1 <= c0:
            continue
        # the frame-to-texture map worked out as warpAffine works it out, its rows then offset by
        # r0 and its columns cut at c1: the same sampling as warping the whole canvas (an offset
        # of its columns would round each pixel's position otherwise)
        shift = m[:, :2] @ piece.origin + m[:, 2] - (x0, y0)
        inverse = cv2.invertAffineTransform(np.c_[m[:, :2], shift].astype(np.float64))
        inverse[:, 2] += inverse[:, 1] * r0
        warped = cv2.warpAffine(
            piece_texture(piece, transforms),
            inverse,
            (c1, r1 - r0),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        over(canvas[r0:r1, c0:c1], warped[:, c0:c1])
    return canvas, (x0, y0)


def over(dst: np.ndarray, src: np.ndarray) -> None:
    """Premultiplied BGRA `src` over premultiplied BGRA `dst` (uint8, same size), in place (`dst`:
    rows and columns of a C-contiguous picture, which OpenCV writes into; it refuses any other
    layout with an error)."""
    inv = cv2.merge([cv2.bitwise_not(cv2.extractChannel(src, 3))] * 4)
    cv2.add(cv2.multiply(dst, inv, scale=1.0 / 255.0), src, dst=dst)


def move_points(
    points: np.ndarray, piece_index: np.ndarray, bones: tuple[str, ...], transforms: dict[str, np.ndarray]
) -> np.ndarray:
    """Rest points (N,2) moved by the transform of the bone whose piece each lies in
    (`bones`: the arm's bones, upper arm first; `piece_index` from Cuts.piece_of)."""
    out = np.empty((len(points), 2), np.float64)
    for i, bone in enumerate(bones):
        sel = piece_index == i
        if sel.any():
            m = transforms[bone]
            out[sel] = points[sel] @ m[:, :2].T + m[:, 2]
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return np.asarray(v, np.float64) / n if n > 1e-9 else np.array([0.0, 1.0])
