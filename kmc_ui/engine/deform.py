"""Posing the rig and drawing a frame: bone transforms, skinning, a dense warp, compositing.

For each frame every bone gets a 2x3 affine transform from the rest pose (working pixels) to
the target pose (output pixels). Each mesh layer's vertices move by linear blend skinning, which
places the handles of its as-rigid-as-possible solve (kmc_ui/engine/arap.py) for the rest; the
arms are rigid pieces (kmc_ui/engine/pieces.py).
The deformed mesh is then rasterised on a coarse grid (every GRID output pixels) into a map
"output pixel -> texture pixel" (each triangle carries its own affine map, so the map is exact
inside triangles and continuous across shared edges); the map is upsampled bilinearly and
cv2.remap pulls the layer's premultiplied texture through it. There are no per-bone pieces to
tear apart: neighbouring triangles share vertices, so a bent knee stretches, never cracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import cv2
import numpy as np

from kmc_ui.engine import face
from kmc_ui.engine.arap import Arap, prepare
from kmc_ui.engine.expression import Expression
from kmc_ui.engine.pieces import Piece, arm_cuts, cut_pieces, draw_pieces, move_points, run_slope
from kmc_ui.engine.rig import (
    ARM_BONES,
    BONES,
    HEAD_POINTS,
    Layer,
    Rig,
    named_points,
    rest_triangles,
    segment_distance,
)
from kmc_ui.pose import landmarks as L

GRID = 4  # output pixels between samples of the warp map
RUN_ON = 0.6  # torso lengths an arm the picture's bottom edge cuts off goes on past it (pieces.run_on)
PIN_BAND = 0.35  # torso lengths inside a pinned edge (bottom or side) its pull out is spread over (pin_band)
PIN_PAST = 1.0  # px past the frame a cut-off edge is held at, at least (its last row out of sight)
SENTINEL = -1.0e6  # map value where no triangle lands (remaps to transparent)
# Where the picture is magnified SHARPEN_FROM times or more, the result's frames (Renderer(fine=True))
# draw it from textures sharpened once (an unsharp mask: SHARPEN_AMOUNT of the detail finer than
# a blur by SHARPEN_SIGMA texels added): drawn bilinear, a talking head's face (4-5 times) came out
# soft. Bicubic drawing was as crisp but cost 10 ms a 720x720 frame against 1.7 (a talking head's
# render 10 -> 21 ms a frame); the sharpened textures cost nothing a frame. The dance's pictures,
# at 1-2 times, and the calibration's drawings are drawn as they are.
SHARPEN_FROM = 2.0
SHARPEN_SIGMA = 0.8
SHARPEN_AMOUNT = 0.6
HOLE_LIMIT = 0.01  # a frame with more than this share of its core points showing background is "torn"
# A soft shadow under each arm layer (what a 2D animator draws so a limb reads in front of the
# body): the arm's warped opacity, blurred by SHADOW_BLUR torso lengths, darkens what lies under
# it by at most SHADOW_STRENGTH. Measured on the sample pair: a pale arm over the pale skirt is
# otherwise lost to the pose detector (right wrist found in 56% of frames).
SHADOW_STRENGTH = 0.45
SHADOW_BLUR = 0.025
# In the result's frames that shadow falls on the character only, never on the backdrop: there the
# wide one rang a held-out arm with a grey glow on a pale wall (a halo), and a narrower contact
# shadow (stop 50) still drew a dark outline round it, which the picture's own arm never had. The
# calibration's drawings keep the wide one everywhere: the pose model reads them, and reads a pale
# arm on a pale wall worse without it.


# Artefact measures (docs/engine.md "Seeing the failures"): a limb axis point the character does
# not cover is a break; a grid cell whose texture coordinate jumps from its neighbour's by more
# than TEAR_JUMP times the expected step is a tear (a fold drawn from two places: stair-steps,
# pulled-in hair); the filled-in background where the character stood, left uncovered where its
# surroundings are not one plain colour (there the row fill shows as a smear), is exposed;
# how far the mesh layers' triangles are stretched or squashed from their rest shape is stretch.
TEAR_JUMP = 6.0
LIMB_CHAINS = ((11, 13, 15), (12, 14, 16), (23, 25, 27), (24, 26, 28))
LEGS = ((23, 25), (25, 27), (24, 26), (26, 28))  # the legs' bones, as joint pairs
# a limb bone's joints -> the layer that holds it (open_axis); not an upper arm's: it fades into the
# body at the shoulder, and calibration moves an elbow only along it (bind.along_limb)
AXIS_LAYER = {(13, 15): "left_arm", (14, 16): "right_arm"} | dict.fromkeys(LEGS, "body")
AXIS_SAMPLES = 9  # points per bone, joints included
LEG_SIDE = {"l_thigh": 1, "l_shin": 1, "l_foot": 1, "r_thigh": 2, "r_shin": 2, "r_foot": 2}
# the leg drawn in front changes only when the other one is nearer by this share of the torso:
# legs at about the same depth do not swap on every frame
LEG_SWAP = 0.05
LEG_REACH = 1.5  # legs this many times their bones' radii apart (the mesh's margin) may overlap


@dataclass(frozen=True)
class FrameStats:
    holes: float  # share of the body's core area where the background shows through
    flipped: float  # share of the mesh's rest area in inverted triangles
    breaks: float = 0.0  # share of the limbs' axis points (joint to joint) left uncovered
    tears: float = 0.0  # share of the mesh layers' drawn cells at a texture jump
    exposed: float = 0.0  # share of the frame showing the filled-in background where it smears, uncovered
    stretch: float = 0.0  # the mesh layers' distortion: area-weighted mean of |log(stretch)| over both axes
    cut_ends: float = 0.0  # share of the arms the picture's bottom edge cuts off whose cut end shows in the frame

    @property
    def torn(self) -> bool:
        """Background shows through the character's core. Folded triangles (the inside of a
        sharply bent elbow) are reported in `flipped` but are not a tear by themselves."""
        return self.holes > HOLE_LIMIT


# ---------------------------------------------------------------- bone transforms


def _rotations(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N, 2, 2): the rotation turning direction u (2,) onto each of v (N, 2)."""
    a = np.arctan2(v[:, 1], v[:, 0]) - np.arctan2(u[1], u[0])
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, -s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)


def _clamp_linear(m: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Keep affines' (N, 2, 2) singular values within [lo, hi] (no collapse, no blow-up), keep their rotations."""
    u, s, vt = np.linalg.svd(m)
    s = np.clip(s, lo, hi)
    mirrored = np.linalg.det(u @ vt) < 0  # a mirrored torso (turned to the back): keep it unmirrored
    u[mirrored, :, 1] *= -1
    return (u * s[:, None, :]) @ vt


def _similarities(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares rotation+scale+translation mapping src points (P, 2) onto each of dst (N, P, 2)
    (Umeyama): (N, 2, 2) linear parts and (N, 2) shifts."""
    ms, md = src.mean(axis=0), dst.mean(axis=1)
    a, b = src - ms, dst - md[:, None]
    var = float((a**2).sum())
    if var < 1e-9:
        return np.broadcast_to(np.eye(2), (len(dst), 2, 2)).copy(), md - ms
    cov = np.swapaxes(b, 1, 2) @ a / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones((len(dst), 2))
    d[np.linalg.det(u @ vt) < 0, 1] = -1
    r = (u * d[:, None, :]) @ vt
    scale = (s * d).sum(axis=1) / (var / len(src))
    m = r * scale[:, None, None]
    return m, md - m @ ms


def bone_transforms(rest: dict[str, np.ndarray], target: dict[str, np.ndarray], k: float) -> dict[str, np.ndarray]:
    """2x3 affine per bone: rest (working px) -> target (output px). k = output px per working px."""
    many = bone_transforms_many(rest, {name: np.asarray(p)[None] for name, p in target.items()}, k)
    return {name: m[0] for name, m in many.items()}


def bone_transforms_many(
    rest: dict[str, np.ndarray], targets: dict[str, np.ndarray], k: float
) -> dict[str, np.ndarray]:
    """bone_transforms for N poses at once (`targets`: named_points of (33, N, 4) landmarks, each
    point (N, 2)): (N, 2, 3) per bone. The frames' transforms are worked out in one go before they
    are drawn: done per frame, their small NumPy steps held the GIL the two drawing threads share."""
    out: dict[str, np.ndarray] = {}
    n = len(targets["0"])
    for name, (kind, a, b, _) in BONES.items():
        if kind == "torso":
            src = np.array([rest[i] for i in ("11", "12", "24", "23")])
            dst = np.stack([targets[i] for i in ("11", "12", "24", "23")], axis=1)
            sm, dm = src.mean(axis=0), dst.mean(axis=1)
            m = np.linalg.pinv(src - sm) @ (dst - dm[:, None])  # least squares, as lstsq
            lin = _clamp_linear(np.swapaxes(m, 1, 2), 0.6 * k, 1.4 * k)
            out[name] = np.concatenate([lin, (dm - lin @ sm)[..., None]], axis=2)
            continue
        if kind == "head":
            src = np.array([rest[str(i)] for i in HEAD_POINTS])
            dst = np.stack([targets[str(i)] for i in HEAD_POINTS], axis=1)
            m, t = _similarities(src, dst)
            scale = np.sqrt(np.abs(np.linalg.det(m)))
            fix = scale > 1e-9
            if fix.any():
                c = src.mean(axis=0)
                m[fix] *= (np.clip(scale[fix], 0.8 * k, 1.25 * k) / scale[fix])[:, None, None]
                t[fix] = dst[fix].mean(axis=1) - m[fix] @ c
            out[name] = np.concatenate([m, t[..., None]], axis=2)
            continue
        pa, pb, qa, qb = rest[a], rest[b], targets[a], targets[b]
        u, v = pb - pa, qb - qa
        lu, lv = float(np.linalg.norm(u)), np.linalg.norm(v, axis=1)
        if lu < 1e-6:
            lin = np.broadcast_to(np.eye(2) * k, (n, 2, 2))
            out[name] = np.concatenate([lin, (qa - k * pa)[..., None]], axis=2)
            continue
        still = lv < 1e-6
        v = np.where(still[:, None], u, v)
        lv = np.where(still, lu * k * 0.25, lv)
        rot = _rotations(u, v)
        if kind == "rigid":
            lin = rot * k
        else:
            ux = u / lu
            basis = np.array([[ux[0], -ux[1]], [ux[1], ux[0]]])  # columns: along, across
            along = np.clip(lv / lu, 0.25 * k, 1.6 * k)
            stretch = np.zeros((n, 2, 2))
            stretch[:, 0, 0], stretch[:, 1, 1] = along, k
            lin = rot @ basis @ stretch @ basis.T
        out[name] = np.concatenate([lin, (qa - lin @ pa)[..., None]], axis=2)
    return out


# ---------------------------------------------------------------- rendering


def open_axis(rig: Rig, reach: float = 0.0) -> dict[tuple[int, int], np.ndarray]:
    """Per limb bone, which of its AXIS_SAMPLES points lie, at rest, where the picture shows none
    of that limb, or within `reach` px of such a place (the coverage is read a grid cell at a
    time): in the backdrop seen in an arm's bend (Rig.pockets), or off the limb's own layer (under
    half opaque; AXIS_LAYER: a forearm's, a leg's). Moving cannot break what was not there. The
    half-figure's forearm, its elbow read high in a puffy sleeve and calibrated higher still, runs
    across the sky between her arm and her waist and across her corset's corner, the body's; her
    thighs, guessed under her skirt, run past its outline where her sleeve hid it. Only bones that
    cross such a place are listed."""
    r = max(0, int(np.ceil(reach)))
    grow = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    pockets = np.zeros((rig.height, rig.width), np.uint8) if rig.pockets is None else rig.pockets.astype(np.uint8)
    pockets = cv2.dilate(pockets, grow) > 0
    h, w = pockets.shape
    t = np.linspace(0.0, 1.0, AXIS_SAMPLES)[:, None]
    off: dict[str, np.ndarray] = {}
    out: dict[tuple[int, int], np.ndarray] = {}
    for chain in LIMB_CHAINS:
        for a, b in pairwise(chain):
            away = pockets
            name = AXIS_LAYER.get((a, b), "")
            if (layer := rig.layer(name)) is not None:
                if name not in off:
                    off[name] = cv2.dilate((layer.texture[..., 3] < 0.5).astype(np.uint8), grow) > 0
                away = away | off[name]
            p = np.round(rig.landmarks[a, :2] + t * (rig.landmarks[b, :2] - rig.landmarks[a, :2])).astype(int)
            inside = (p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)
            hit = np.zeros(len(p), bool)
            hit[inside] = away[p[inside, 1], p[inside, 0]]
            if hit.any():
                out[(a, b)] = hit
    return out


class Renderer:
    """Draws frames of one rig over one background plate at one output size."""

    def __init__(
        self,
        rig: Rig,
        plate: np.ndarray,
        k: float,
        grid: int = GRID,
        filled: np.ndarray | None = None,
        rigid_arms: bool = True,
        arap: bool = True,
        usual_yaw: float | None = None,
        face_mesh: np.ndarray | None = None,
        shadow_on_character: bool = False,
        fine: bool = False,
        fade_sides: tuple[float, float] = (0.0, 0.0),
        fade_top: float = 0.0,
    ) -> None:
        """filled: where the plate is filled in behind the character (output size), for `exposed`;
        rigid_arms=False draws the arms as skinned meshes too, arap=False leaves the mesh layers
        skinned and the face still (the engine before; bench/bench_engine.py); usual_yaw: the
        reference's usual facing, the face turns from it (face.usual_yaw; None: the picture's);
        face_mesh: the picture's face mesh (468 points, working px), its mouth opened and its eyes
        closed as render is told (kmc_ui/engine/expression.py); shadow_on_character: an arm's
        shadow falls on the character only, none on the backdrop (the result's frames), else on
        both (the calibration's drawings); fine: the textures
        sharpened where the picture is magnified SHARPEN_FROM times or more (the result's frames; a
        talking head's face, magnified 4-5 times, came out soft); fade_sides: how far in (working px) the
        picture's left and right edges fade out (side_fade; 0: drawn as cut); fade_top: the same for
        its top edge."""
        self.rig = rig
        self.plate = np.ascontiguousarray(plate)
        self.height, self.width = plate.shape[:2]
        self.k = k
        self.grid = grid
        self.rest = named_points(rig.landmarks)
        self.usual_yaw = usual_yaw
        self.cw = -(-self.width // grid)
        self.ch = -(-self.height // grid)
        # textures as premultiplied BGRA uint8: remap and blend run on bytes
        scale = np.array([1, 1, 1, 255], np.float32)
        sharpen = fine and k >= SHARPEN_FROM

        fade = side_fade(rig.width, fade_sides)
        fade_rows = side_fade(rig.height, (fade_top, 0.0))

        def texture(layer_texture: np.ndarray, x0: int = 0, y0: int = 0) -> np.ndarray:
            if fade is not None:  # premultiplied: every channel
                layer_texture = layer_texture * fade[x0 : x0 + layer_texture.shape[1], None]
            if fade_rows is not None:
                layer_texture = layer_texture * fade_rows[y0 : y0 + layer_texture.shape[0], None, None]
            premultiplied = np.clip(np.round(layer_texture * scale), 0, 255).astype(np.uint8)
            return sharpened(premultiplied) if sharpen else premultiplied

        self.textures = {layer.name: texture(layer.texture) for layer in rig.layers}
        # their opacity on its own (contiguous; Expression redraws it with the face): OpenCV's
        # bindings copied a texture's alpha channel out of its BGRA whole at every look at it, five
        # a frame (the night street timed call by call: 2.9 ms of a frame's 22.6 in them, 0.6 now)
        self.alphas = {name: np.ascontiguousarray(tex[..., 3]) for name, tex in self.textures.items()}
        # the body's pixels in front of an arm (Layer.front), cropped to each patch's box (one by each
        # arm: one box around both was a torso wide): drawn over the arms
        self.fronts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for layer in rig.layers:
            if layer.front is None:
                continue
            near = cv2.dilate((layer.front[..., 3] > 0).astype(np.uint8), np.ones((3 * grid, 3 * grid), np.uint8))
            count, _, boxes, _ = cv2.connectedComponentsWithStats(near)
            for x0, y0, bw, bh, _ in boxes[1:count]:
                crop = texture(layer.front[y0 : y0 + bh, x0 : x0 + bw], x0, y0)
                self.fronts.setdefault(layer.name, []).append((crop, np.array([x0, y0], np.float32)))
        self._maps: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {}  # this frame's maps of a layer with a front
        # an arm with vertices on a side edge that cuts the character off (Rig.cut_sides; a portrait's
        # upper arm, cut lengthwise) is a mesh carried by the body's, as if never told from it: as rigid
        # pieces it turned with the shoulders; as a mesh on its own bones, held and turned about its
        # shoulder, it came away from the body, and a wedge of the backdrop opened between them at the
        # frame's side
        self.on_body: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._body: tuple[dict[str, np.ndarray], np.ndarray] | None = None
        body_layer = rig.layer("body")
        for layer in rig.layers:
            if body_layer is not None and layer.name in ARM_BONES and on_cut_side(layer, rig):
                self.on_body[layer.name] = bind_to_mesh(layer.rest, body_layer)
        # arms are drawn as rigid pieces (kmc_ui/engine/pieces.py); the body as a skinned mesh
        self.pieces: dict[str, list[Piece]] = {}
        self.arm_core: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # layer -> (rest points, piece index)
        # an arm the picture's bottom edge cuts off: the two ends of its cut (past its run-on), piece index
        self.cut_ends: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for layer in rig.layers:
            if layer.name not in ARM_BONES or not rigid_arms or layer.name in self.on_body:
                continue
            cuts = arm_cuts(layer.name, self.rest, rig.radii)
            rim = None if layer.rim is None else texture(layer.rim)
            # a forearm the picture's bottom edge cuts off (its wrist past that edge) goes on below it
            wrist = self.rest[BONES[ARM_BONES[layer.name][1]][2]]
            below = round(RUN_ON * rig.torso) if rig.cut_bottom and wrist[1] >= rig.height - 1 else 0
            self.pieces[layer.name] = cut_pieces(layer, self.textures[layer.name], cuts, rim, below)
            if rig.cut_bottom and (ends := cut_end(self.alphas[layer.name], below)) is not None:
                self.cut_ends[layer.name] = (ends, cuts.piece_of(ends))
            if layer.name in rig.core_points:
                rest = core_at(layer.rest, layer.triangles, *rig.core_points[layer.name])
                self.arm_core[layer.name] = (rest, cuts.piece_of(rest))
        self.mesh_area = sum(layer.area for layer in rig.layers if layer.name not in self.pieces) or 1.0
        # the mesh layers' as-rigid-as-possible solves (kmc_ui/engine/arap.py), skinning places their handles
        self.arap: dict[str, Arap] = {}
        for layer in rig.layers if arap else ():
            if layer.name not in self.pieces and (solve := prepare(layer, rig, k)) is not None:
                self.arap[layer.name] = solve
        self.rest_frames = {layer.name: _rest_frames(layer, k) for layer in rig.layers if layer.name not in self.pieces}
        # per mesh layer, its triangles' draw order with the left leg nearer, and with the right
        self.leg_orders = {layer.name: leg_orders(layer) for layer in rig.layers if layer.name not in self.pieces}
        # a picture that cuts the character off at its bottom: the vertices on that edge never come
        # above the frame's bottom (a leg turning lifted the half-figure's skirt off it)
        self.pinned: dict[str, np.ndarray] = {}
        self.pin_band: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for layer in rig.layers if rig.cut_bottom else ():
            if layer.name not in self.pieces:
                self.pinned[layer.name] = np.flatnonzero(layer.rest[:, 1] >= rig.height - 1.5)
                self.pin_band[layer.name] = pin_band(layer.rest, self.pinned[layer.name], PIN_BAND * rig.torso)
        # a picture that cuts the character off at a side (a portrait's shoulders) or at its top (a
        # head cropped through the hair): the vertices on that edge never come inside the frame's
        # side or below its top, pulled out as the bottom edge's are down (axis 0 the sides, 1 the
        # top; sign -1 the left edge or the top, +1 the right; pin_band on the points turned so
        # that edge is the bottom)
        self.edge_pins: dict[str, list[tuple[int, int, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]]] = {}
        edges = [(0, sign) for sign, cut in zip((-1, 1), rig.cut_sides, strict=True) if cut]
        for layer in rig.layers:
            for axis, sign in edges + ([(1, -1)] if rig.cut_top else []):
                if layer.name in self.pieces:
                    continue
                along, across = layer.rest[:, axis], layer.rest[:, 1 - axis]
                last = (rig.width, rig.height)[axis] - 1.5
                on_edge = np.flatnonzero(along <= 0.5 if sign < 0 else along >= last)
                turned = np.column_stack([across, sign * along])
                band = pin_band(turned, on_edge, PIN_BAND * rig.torso)
                self.edge_pins.setdefault(layer.name, []).append((axis, sign, on_edge, band))
        body = self.textures.get("body")
        self.expression = None
        if body is not None and face_mesh is not None:
            self.expression = Expression(face_mesh, body, self.alphas["body"])
        self.shadow_sigma = max(1.0, SHADOW_BLUR * rig.torso * k)
        self.shadow_on_character = shadow_on_character
        g = grid
        self.filled = None if filled is None else np.ascontiguousarray(filled[g // 2 :: g, g // 2 :: g] > 0)
        self.open_axis = open_axis(rig, grid / k)
        self.side_held = side_held(rig)
        # the core points a faded edge (fade_sides, fade_top) draws less than half of: not holes
        self.faded_core = {name: faded(rig, name, fade, fade_rows) for name in rig.core_points}
        self._tear_cells = 0
        self._drawn_cells = 0
        self._left_leg_nearer = False
        self.last_stats = FrameStats(0.0, 0.0)

    def left_leg_nearer(self, target_lm: np.ndarray) -> bool:
        """Whether the left leg is drawn in front: the pose puts its knee and ankle nearer the
        camera than the right ones (by LEG_SWAP torso to change sides from the frame before)."""
        ahead = float(np.nanmean(target_lm[[26, 28], 2]) - np.nanmean(target_lm[[25, 27], 2]))
        if np.isfinite(ahead) and abs(ahead) > LEG_SWAP * max(L.torso_length(target_lm), 1.0):
            self._left_leg_nearer = ahead > 0
        return self._left_leg_nearer

    def legs_meet(self, target_lm: np.ndarray) -> bool:
        """Whether the legs come near enough for one to be drawn over the other: a shin within
        LEG_REACH times the two bones' radii of the other leg's shin or thigh (the thighs always
        meet at the hips, so they alone do not count)."""
        t = np.linspace(0.0, 1.0, AXIS_SAMPLES)[:, None]
        pts = named_points(target_lm)
        for one, other in (("l_shin", "r_shin"), ("l_shin", "r_thigh"), ("r_shin", "l_thigh")):
            (_, a, b, _), (_, c, d, _) = BONES[one], BONES[other]
            reach = LEG_REACH * (self.rig.radii.get(one, 0.0) + self.rig.radii.get(other, 0.0)) * self.k
            if np.nanmin(segment_distance(pts[a] + t * (pts[b] - pts[a]), pts[c], pts[d])[0]) < reach:
                return True
        return False

    def layer_order(self, target_lm: np.ndarray) -> list[Layer]:
        """Body first, then the arm further from the camera, then the nearer one."""
        z = {
            "left_arm": float(np.nanmean(target_lm[[13, 15], 2])),
            "right_arm": float(np.nanmean(target_lm[[14, 16], 2])),
        }
        body = [layer for layer in self.rig.layers if layer.name == "body"]
        arms = [layer for layer in self.rig.layers if layer.name != "body"]
        arms.sort(key=lambda layer: -z.get(layer.name, 0.0))
        return body + arms

    def deform(
        self, layer: Layer, transforms: dict[str, np.ndarray], target_lm: np.ndarray | None = None
    ) -> np.ndarray:
        """A mesh layer's vertices (output px): skinned, then solved as rigid as possible, its face
        turned as target_lm's head is (when given) from the usual facing (an arm in on_body: carried
        by the body's mesh); then pulled past the frame's edges that cut the character off."""
        carried = None
        if layer.name in self.on_body:  # an arm a kept side cuts lengthwise: carried by the body's mesh
            verts = self._carried(layer.name, transforms, target_lm)
            carried = verts.copy()
        else:
            verts = _skin(layer.rest, layer.weights, [transforms[b] for b in layer.bones])
        solve = None if carried is not None else self.arap.get(layer.name)
        if solve is not None:
            moves = None
            if target_lm is not None and len(solve.face_at) and self.rig.face is not None:
                angle = face.turn_angle(target_lm, self.rig.landmarks, self.usual_yaw)
                moves = face.turned(self.rig.face, self.rig.landmarks, angle) @ transforms["head"][:, :2].T
            verts = solve.solve(verts, moves)
        pinned = self.pinned.get(layer.name)
        if pinned is not None and len(pinned):
            # how far each pinned vertex is pulled down to the frame's bottom, spread up the band
            # above it (the pinned row alone stretched one row of triangles, and a striped shirt's
            # stripes bent into chevrons there)
            lift = np.maximum(0.0, self.height + PIN_PAST - verts[pinned, 1])
            if lift.any():
                band, nearest, weight = self.pin_band[layer.name]
                verts[band, 1] += lift[nearest] * weight
        for axis, sign, on_edge, (band, nearest, weight) in self.edge_pins.get(layer.name, ()):
            if len(on_edge):  # how far inside the frame's side (or top) each vertex on the edge came
                edge = -PIN_PAST if sign < 0 else (self.width, self.height)[axis] + PIN_PAST
                inside = np.maximum(0.0, sign * (edge - verts[on_edge, axis]))
                if inside.any():
                    verts[band, axis] += sign * inside[nearest] * weight
        if layer.name == "body":
            self._body = (transforms, verts)
        elif carried is not None:  # what lies on the body's mesh stays on it (the body's own pins moved it)
            inside = self.on_body[layer.name][0] >= 0
            verts[inside] = carried[inside]
        return verts

    def _carried(self, name: str, transforms: dict[str, np.ndarray], target_lm: np.ndarray | None) -> np.ndarray:
        """An arm layer's vertices moved with the body's mesh (see on_body): each inside a body
        triangle at rest by its barycentric weights there, the others with their nearest body
        vertex. The body's vertices for these `transforms` are deformed first when not at hand."""
        body = self.rig.layer("body")
        assert body is not None
        if self._body is None or self._body[0] is not transforms:
            self.deform(body, transforms, target_lm)
        assert self._body is not None
        moved = self._body[1]
        tri, bary, nearest, offset = self.on_body[name]
        verts = moved[nearest] + offset
        inside = tri >= 0
        corners = moved[body.triangles[tri[inside]]]  # (n, 3, 2)
        verts[inside] = np.einsum("nk,nki->ni", bary[inside], corners)
        return verts

    def render(
        self,
        target_lm: np.ndarray,
        out: np.ndarray | None = None,
        left_leg_nearer: bool | None = None,
        transforms: dict[str, np.ndarray] | None = None,
        opening: float = 0.0,
        closing: float = 0.0,
        widening: float = 1.0,
    ) -> tuple[np.ndarray, FrameStats]:
        """One frame (BGR uint8, output size) with the rig posed at target_lm (33,4) output pixels.
        `left_leg_nearer`: which leg is in front, when the caller decided it (frames drawn out of
        order); else this renderer decides from the frames it drew before. `transforms`: the
        bones' for this pose, when the caller worked them out (bone_transforms_many). `opening`: the
        reference's mouth opening (mouth.clip_opening), the picture's mouth opens as far; `closing`:
        its eyes' (eyes.clip_closing), the picture's close as far; `widening`: its mouth's width
        (mouth.clip_width), the picture's narrows or widens as much."""
        if out is None:
            frame = self.plate.copy()
        else:
            np.copyto(out, self.plate)
            frame = out
        target = named_points(target_lm)
        if transforms is None:
            transforms = bone_transforms(self.rest, target, self.k)
        if self.expression is not None:
            self.expression.draw(opening, closing, widening)
        coverage = np.zeros((self.ch, self.cw), np.float32)
        flipped = stretch = 0.0
        self._tear_cells = self._drawn_cells = 0
        self._maps.clear()
        deformed: dict[str, np.ndarray] = {}
        legs_meet = self.legs_meet(target_lm)
        for layer in self.layer_order(target_lm):
            if layer.name in self.pieces:
                self._draw_arm(frame, layer.name, transforms, coverage)
                continue
            deformed[layer.name] = self.deform(layer, transforms, target_lm)
            nearer = self.left_leg_nearer(target_lm) if left_leg_nearer is None else left_leg_nearer
            order = self.leg_orders[layer.name][int(nearer)]
            flipped += self._draw_layer(frame, layer, deformed[layer.name], coverage, order, legs_meet)
            stretch += _stretch(deformed[layer.name], layer.triangles, *self.rest_frames[layer.name])
        for name in self.fronts:
            self._draw_front(frame, name)
        moved = {name: self._core_of(name, deformed.get(name), transforms) for name in self.rig.core_points}
        self.last_stats = FrameStats(
            self._holes(moved, coverage),
            flipped / self.mesh_area,
            self._breaks(target_lm, coverage),
            self._tear_cells / max(1, self._drawn_cells),
            self._exposed(coverage),
            stretch / self.mesh_area,
            self._cut_ends_shown(transforms),
        )
        return frame, self.last_stats

    def _cut_ends_shown(self, transforms: dict[str, np.ndarray]) -> float:
        """Share of the arms the picture's bottom edge cuts off whose cut end (the ends of that
        edge across the arm, moved as the arm's pieces are) lies inside the frame, above its bottom row."""
        if not self.cut_ends:
            return 0.0
        shown = 0
        for name, (ends, idx) in self.cut_ends.items():
            moved = move_points(ends, idx, ARM_BONES[name], transforms)
            inside = (moved[:, 0] >= 0) & (moved[:, 0] < self.width) & (moved[:, 1] < self.height - 1)
            shown += bool(inside.any())
        return shown / len(self.cut_ends)

    def _breaks(self, target_lm: np.ndarray, coverage: np.ndarray) -> float:
        """Share of points along the limbs' axes (shoulder-elbow-wrist, hip-knee-ankle; bones the
        picture shows, inside the frame) where the character does not cover the background. A
        point that lies, at rest, in the backdrop the picture shows in an arm's bend (open_axis)
        is not counted: the picture does not cover it either. Nor is a bone that a cut-off side
        holds (side_held): its pixels stay at the frame's side, off its axis."""
        t = np.linspace(0.0, 1.0, AXIS_SAMPLES)[:, None]
        pts = []
        for chain in LIMB_CHAINS:
            for a, b in pairwise(chain):
                if self.rig.seen[a] and self.rig.seen[b] and (a, b) not in self.side_held:
                    on = target_lm[a, :2] + t * (target_lm[b, :2] - target_lm[a, :2])
                    pts.append(on[~self.open_axis[(a, b)]] if (a, b) in self.open_axis else on)
        if not pts:
            return 0.0
        c = np.round((np.vstack(pts) + 0.5) / self.grid - 0.5).astype(int)
        ok = (c[:, 0] >= 0) & (c[:, 0] < self.cw) & (c[:, 1] >= 0) & (c[:, 1] < self.ch)
        c = c[ok]
        return float((coverage[c[:, 1], c[:, 0]] < 0.5).mean()) if len(c) else 0.0

    def _exposed(self, coverage: np.ndarray) -> float:
        if self.filled is None:
            return 0.0
        f = self.filled[: coverage.shape[0], : coverage.shape[1]]
        return float((f & (coverage[: f.shape[0], : f.shape[1]] < 0.5)).mean())

    def _draw_arm(self, frame: np.ndarray, name: str, transforms: dict[str, np.ndarray], coverage: np.ndarray) -> None:
        """An arm from its rigid pieces, over its own shadow; its opacity joins the coverage."""
        pieces = self.pieces[name]
        got = draw_pieces(pieces, transforms, (self.width, self.height), self.grid) if pieces else None
        if got is None:
            return
        canvas, (x0, y0) = got
        g = self.grid
        ch, cw = canvas.shape[0] // g, canvas.shape[1] // g
        cov = canvas[g // 2 :: g, g // 2 :: g, 3][:ch, :cw].astype(np.float32) / 255.0  # at cell centres, as layers
        view = coverage[y0 // g : y0 // g + ch, x0 // g : x0 // g + cw]
        x1, y1 = min(self.width, x0 + canvas.shape[1]), min(self.height, y0 + canvas.shape[0])
        canvas = canvas[: y1 - y0, : x1 - x0]
        self._shadow(frame, cv2.extractChannel(canvas, 3), x0, y0, coverage)  # on what was drawn before this arm
        np.maximum(view, cov[: view.shape[0], : view.shape[1]], out=view)
        _blend(frame[y0:y1, x0:x1], canvas)

    def _draw_front(self, frame: np.ndarray, name: str) -> None:
        """A layer's pixels in front of the arms (kmc_ui/engine/front.py), where the layer's own map
        put them this frame, drawn over everything drawn before."""
        if name not in self._maps:
            return
        fmap, cmap, x0, y0 = self._maps[name]
        g = self.grid
        for tex, origin in self.fronts[name]:
            th, tw = tex.shape[:2]
            # the cells whose texture point falls near the patch's box (the coarse map: a 64th of
            # the pixels), grown by a cell, give the part of the full map to draw it through
            u, v = cmap[..., 0] - origin[0], cmap[..., 1] - origin[1]
            hit = (u > -g) & (u < tw + g) & (v > -g) & (v < th + g)
            rows, cols = np.flatnonzero(hit.any(axis=1)), np.flatnonzero(hit.any(axis=0))
            if not len(rows):
                continue
            r0, r1 = max(0, (rows[0] - 1) * g), min(fmap.shape[0], (rows[-1] + 2) * g)
            c0, c1 = max(0, (cols[0] - 1) * g), min(fmap.shape[1], (cols[-1] + 2) * g)
            sub = fmap[r0:r1, c0:c1] - origin
            warped = cv2.remap(tex, sub, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            _blend(frame[y0 + r0 : y0 + r1, x0 + c0 : x0 + c1], warped)

    def _core_of(self, name: str, verts: np.ndarray | None, transforms: dict[str, np.ndarray]) -> np.ndarray | None:
        """A layer's core points where this frame puts them (output px), or None."""
        if name in self.arm_core:
            rest, idx = self.arm_core[name]
            return move_points(rest, idx, ARM_BONES[name], transforms)
        layer = self.rig.layer(name)
        if layer is None or verts is None:
            return None
        return core_at(verts, layer.triangles, *self.rig.core_points[name])

    def _draw_layer(
        self,
        frame: np.ndarray,
        layer: Layer,
        verts: np.ndarray,
        coverage: np.ndarray,
        order: np.ndarray,
        legs_meet: bool = False,
    ) -> float:
        """Draws a mesh layer, its triangles in `order` (later ones win where it folds over itself
        or one leg passes over the other: legs_meet)."""
        g = self.grid
        c = (verts + 0.5) / g - 0.5  # coarse-grid coordinates of the deformed vertices
        lo = np.floor(c.min(axis=0)).astype(int) - 1
        hi = np.ceil(c.max(axis=0)).astype(int) + 2
        cx0, cy0 = max(0, lo[0]), max(0, lo[1])
        cx1, cy1 = min(self.cw, hi[0]), min(self.ch, hi[1])
        tris = layer.triangles
        d = verts[tris]  # (M,3,2) deformed
        r = layer.rest[tris].astype(np.float64)
        e1, e2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]
        det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        signed_rest = layer.tri_area
        flips = np.sign(det) != np.sign(signed_rest)
        flipped = float(np.abs(signed_rest[flips]).sum())
        if cx1 <= cx0 or cy1 <= cy0:
            return flipped
        fixed = np.round((c[tris] - [cx0, cy0]) * 16).astype(np.int32)
        shape = (cy1 - cy0, cx1 - cx0)
        ids = _rasterise(fixed, order, shape)
        # per-triangle affine output -> texture: r0 + [r1-r0, r2-r0] @ inv([e1, e2]) @ (p - d0)
        safe = np.where(np.abs(det) < 1e-9, 1e-9, det)
        inv = np.empty((len(tris), 2, 2))
        inv[:, 0, 0], inv[:, 0, 1] = e2[:, 1] / safe, -e2[:, 0] / safe
        inv[:, 1, 0], inv[:, 1, 1] = -e1[:, 1] / safe, e1[:, 0] / safe
        rr = np.stack([r[:, 1] - r[:, 0], r[:, 2] - r[:, 0]], axis=2)  # (M,2,2) columns
        aff = rr @ inv
        origin = (cx0, cy0)
        cmap = _coarse_map(ids, aff, d[:, 0], r[:, 0], origin, g)
        tex, opacity = self.textures[layer.name], self.alphas[layer.name]
        self._on_the_picture(cmap, tex)
        alpha_c = cv2.remap(opacity, cmap[..., 0], cmap[..., 1], cv2.INTER_LINEAR, borderValue=0)
        weak = (ids >= 0) & (alpha_c < 128)
        # Where the mesh folds over itself or one leg passes over the other, the triangle drawn
        # last may be a see-through one (a margin, the gap the legs had between them in the
        # picture, the inside of a knee): there, an opaque one wins.
        solid = order[layer.opaque[order]][::-1] if flipped > 0 or legs_meet else order[:0]
        if flipped > 0 and not legs_meet:  # a fold alone: only under its folded triangles (fold_cells)
            weak &= fold_cells(fixed, np.flatnonzero(flips), shape)
            solid = solid[_over_cells(fixed[solid], weak)]
        if len(solid) and weak.any():
            under = _rasterise(fixed, solid, shape)
            take = weak & (under >= 0)
            if take.any():
                cmap2 = _coarse_map(np.where(take, under, -1), aff, d[:, 0], r[:, 0], origin, g)
                self._on_the_picture(cmap2, tex)
                alpha2 = cv2.remap(opacity, cmap2[..., 0], cmap2[..., 1], cv2.INTER_LINEAR, borderValue=0)
                better = take & (alpha2 > alpha_c)
                cmap[better] = cmap2[better]
                alpha_c[better] = alpha2[better]
        seams = self._count_tears(cmap, alpha_c >= 128, ids >= 0, g / self.k)
        # full-size map for the layer's box, then the warp and the blend
        bw, bh = (cx1 - cx0) * g, (cy1 - cy0) * g
        fmap = cv2.resize(cmap, (bw, bh), interpolation=cv2.INTER_LINEAR)
        x0, y0 = cx0 * g, cy0 * g
        x1, y1 = min(self.width, x0 + bw), min(self.height, y0 + bh)
        if seams.any():  # where the texture jumps (legs meeting, a fold), the map at full resolution
            _full_resolution(fmap, seams, g, (x0, y0), d, r[:, 0], aff, opacity, layer.opaque, order)
            centres = np.ascontiguousarray(fmap[g // 2 :: g, g // 2 :: g])  # as drawn, at the cells' centres
            fine = cv2.remap(opacity, centres[..., 0], centres[..., 1], cv2.INTER_LINEAR, borderValue=0)
            alpha_c[seams] = fine[seams]
        under = coverage.copy() if layer.name != "body" and self.shadow_on_character else coverage
        cov = coverage[cy0:cy1, cx0:cx1]
        np.maximum(cov, alpha_c.astype(np.float32) / 255.0, out=cov)
        fmap = fmap[: y1 - y0, : x1 - x0]
        self._on_the_picture(fmap, tex)
        if layer.name in self.fronts:
            self._maps[layer.name] = (fmap, cmap, x0, y0)
        warped = cv2.remap(tex, fmap, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if layer.name != "body" and layer.name not in self.on_body:  # a carried arm lies on the body as drawn
            self._shadow(frame, cv2.extractChannel(warped, 3), x0, y0, under)
        _blend(frame[y0:y1, x0:x1], warped)
        return flipped

    def _on_the_picture(self, cmap: np.ndarray, tex: np.ndarray) -> None:
        """A map's texture rows past the bottom edge of a picture that cuts the character off there
        (Rig.cut_bottom) held on its last row, in place: the character goes on below that edge (and
        above a top edge that cuts it off, Rig.cut_top, on its first row). A
        fold of the mesh beside the edge's pinned vertices (a leg turning) reached 1-2 rows past
        it, where the texture is clear, and the backdrop showed through the skirt's bottom rows in
        specks of 3x3 px."""
        if self.rig.cut_bottom:  # OpenCV's per-channel min: numpy's on the strided channel took 4x as long
            cv2.min(cmap, (np.inf, float(tex.shape[0] - 1), 0.0, 0.0), dst=cmap)
        if self.rig.cut_top:  # and rows above a top edge that cuts it off (Rig.cut_top) on its first
            cv2.max(cmap, (-np.inf, 0.0, 0.0, 0.0), dst=cmap)

    def _shadow(self, frame: np.ndarray, alpha: np.ndarray, x0: int, y0: int, coverage: np.ndarray) -> None:
        """An arm's soft shadow (its opacity `alpha`, placed at x0, y0) under it, on the frame as
        drawn so far; `coverage`: the character's opacity drawn so far, per grid cell. With
        shadow_on_character, none falls where the backdrop shows."""
        if SHADOW_STRENGTH <= 0:
            return
        g = self.grid  # x0, y0 are multiples of it
        # the shadow reaches two blurs past the arm's box, in whole cells: cut at the box, it drew a
        # straight edge across the shoulder above the arm's top (which fades in over it)
        pad = -(-int(np.ceil(2.0 * self.shadow_sigma)) // g) * g
        h, w = alpha.shape
        px0, py0 = max(0, x0 - pad), max(0, y0 - pad)
        px1, py1 = min(frame.shape[1], x0 + w + pad), min(frame.shape[0], y0 + h + pad)
        padded = np.zeros((py1 - py0, px1 - px0), np.uint8)
        padded[y0 - py0 : y0 - py0 + h, x0 - px0 : x0 - px0 + w] = alpha
        alpha, x0, y0, (h, w) = padded, px0, py0, padded.shape
        box = frame[y0 : y0 + h, x0 : x0 + w]
        if not self.shadow_on_character:
            _shade(box, alpha, self.shadow_sigma, SHADOW_STRENGTH)
            return
        cells = coverage[y0 // g : y0 // g + -(-h // g), x0 // g : x0 // g + -(-w // g)]
        on = cv2.resize(np.round(cells * 255).astype(np.uint8), (cells.shape[1] * g, cells.shape[0] * g))
        _shade(box, alpha, self.shadow_sigma, SHADOW_STRENGTH, on[:h, :w])

    def _count_tears(self, cmap: np.ndarray, drawn: np.ndarray, mapped: np.ndarray, step: float) -> np.ndarray:
        """Counts the cells whose texture coordinate jumps from the next cell's (right or below,
        both drawn) by more than TEAR_JUMP expected steps; returns the cells next to any such jump
        between mapped cells (drawn or not), grown by one: where the coarse map cannot be upsampled."""
        limit = (TEAR_JUMP * step) ** 2
        torn = np.zeros(drawn.shape, bool)
        seams = np.zeros(drawn.shape, bool)
        for axis in (0, 1):
            a = [slice(None), slice(None)]
            b = [slice(None), slice(None)]
            a[axis], b[axis] = slice(None, -1), slice(1, None)
            d = cmap[tuple(a)] - cmap[tuple(b)]
            jump = d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] > limit  # as .sum(axis=-1), 3x faster
            torn[tuple(a)] |= drawn[tuple(a)] & drawn[tuple(b)] & jump
            pair = mapped[tuple(a)] & mapped[tuple(b)] & jump
            seams[tuple(a)] |= pair
            seams[tuple(b)] |= pair
        self._tear_cells += int(torn.sum())
        self._drawn_cells += int(drawn.sum())
        if not seams.any():
            return seams
        return cv2.dilate(seams.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0

    def _holes(self, points: dict[str, np.ndarray | None], coverage: np.ndarray) -> float:
        """Share of the core points (carried by the mesh or the arm's pieces) where the background shows."""
        g = self.grid
        bad = total = 0
        for name, moved in points.items():
            if moved is None:
                continue
            c = np.round((moved[~self.faded_core[name]] + 0.5) / g - 0.5).astype(int)
            ok = (c[:, 0] >= 0) & (c[:, 0] < self.cw) & (c[:, 1] >= 0) & (c[:, 1] < self.ch)
            c = c[ok]  # off-frame points are not holes
            total += len(c)
            bad += int((coverage[c[:, 1], c[:, 0]] < 0.5).sum())
        return bad / total if total else 0.0


def _full_resolution(
    fmap: np.ndarray,
    cells: np.ndarray,
    g: int,
    origin: tuple[int, int],
    d: np.ndarray,
    r0: np.ndarray,
    aff: np.ndarray,
    opacity: np.ndarray,
    opaque: np.ndarray,
    order: np.ndarray,
) -> None:
    """fmap (the layer box's output -> texture map, from `origin` in output px) recomputed pixel by
    pixel inside `cells` (coarse cells of the box): the triangles overlapping them rasterised at full
    resolution, drawn in `order`, an opaque one winning over a see-through one as on the coarse grid
    (and, failing that, any triangle opaque there); `opacity`: the layer texture's alpha (uint8).
    Upsampling the coarse map across a seam (two legs meeting, a fold) swept the texture between
    the two sides and drew stair-steps. Each patch of touching cells is done in its own box: one
    box around them all (a fold at the hips and a knee meeting the other leg) held 7 times their
    pixels (the half-figure sample: 2,444 cells' box for 325 cells, 4 of a frame's 24 ms)."""
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    lo, hi = d.min(axis=1), d.max(axis=1)
    count, _, boxes, _ = cv2.connectedComponentsWithStats(cells.astype(np.uint8), connectivity=8)
    for cx, cy, cw, ch, _ in boxes[1:count]:
        # cells of another patch inside this box get the same values twice (every triangle over them is near)
        box = (int(cx) * g, int(cy) * g, min(fmap.shape[1], int(cx + cw) * g), min(fmap.shape[0], int(cy + ch) * g))
        _full_resolution_box(fmap, cells, g, box, origin, d, (lo, hi), r0, aff, opacity, opaque, rank)


def _full_resolution_box(
    fmap: np.ndarray,
    cells: np.ndarray,
    g: int,
    box: tuple[int, int, int, int],
    origin: tuple[int, int],
    d: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    r0: np.ndarray,
    aff: np.ndarray,
    opacity: np.ndarray,
    opaque: np.ndarray,
    rank: np.ndarray,
) -> None:
    """_full_resolution inside one box (px0, py0, px1, py1) of fmap; `bounds`: the triangles'
    lowest and highest corners, `rank`: each triangle's place in the draw order."""
    px0, py0, px1, py1 = box
    if px1 <= px0 or py1 <= py0:
        return
    ox, oy = origin[0] + px0, origin[1] + py0
    lo, hi = bounds
    box_x = (hi[:, 0] >= ox - 1) & (lo[:, 0] <= ox + px1 - px0)
    near = np.flatnonzero(box_x & (hi[:, 1] >= oy - 1) & (lo[:, 1] <= oy + py1 - py0))
    if len(near) == 0:
        return
    near = near[np.argsort(rank[near])]  # in draw order
    shape = (py1 - py0, px1 - px0)
    fixed = np.round((d[near] - [ox, oy]) * 16).astype(np.int32)
    local = _rasterise(fixed, range(len(near)), shape)
    ids = np.where(local >= 0, near[np.maximum(local, 0)], -1)
    full = _coarse_map(ids, aff, d[:, 0], r0, (ox, oy), 1)
    alpha = cv2.remap(opacity, full[..., 0], full[..., 1], cv2.INTER_LINEAR, borderValue=0)
    # where the triangle drawn last is see-through, one beneath that is opaque there wins: the
    # opaque triangles first, then any. A leg's edge triangle is mostly margin (not `opaque`): under
    # the other leg's margin, where the legs met, a wedge of the backdrop showed through the leg
    weak = (ids >= 0) & (alpha < 128)
    for candidates in (np.flatnonzero(opaque[near]), np.arange(len(near))):
        still = weak & (alpha < 128)
        if not still.any():
            break
        under_local = _rasterise(fixed, candidates[::-1], shape)  # the first drawn wins
        under = np.where(under_local >= 0, near[np.maximum(under_local, 0)], -1)
        take = still & (under >= 0)
        if take.any():
            full2 = _coarse_map(np.where(take, under, -1), aff, d[:, 0], r0, (ox, oy), 1)
            alpha2 = cv2.remap(opacity, full2[..., 0], full2[..., 1], cv2.INTER_LINEAR, borderValue=0)
            better = take & (alpha2 > alpha)
            full[better] = full2[better]
            alpha[better] = alpha2[better]
    inside = np.repeat(np.repeat(cells[py0 // g : -(-py1 // g), px0 // g : -(-px1 // g)], g, axis=0), g, axis=1)
    inside = inside[: py1 - py0, : px1 - px0]
    view = fmap[py0:py1, px0:px1]
    view[inside] = full[inside]


def leg_orders(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """A mesh layer's triangle draw orders with the right leg nearer the camera ([0]) and with the
    left leg nearer ([1]): the layer's own order (see-through triangles first, then by bone: feet,
    shins, thighs, torso, head), except that the farther leg's triangles all come before the nearer
    leg's. With both legs at one rank their triangles interleaved, and where the legs crossed, the
    seam between them was a saw-tooth of the two (the anime sample's legs coming together)."""
    dom = np.argmax(layer.weights[layer.triangles].mean(axis=1), axis=1)
    side = np.array([LEG_SIDE.get(layer.bones[b], 0) for b in dom], np.int8)  # 1 left, 2 right
    see_through = ~layer.opaque if len(layer.opaque) == len(side) else np.zeros(len(side), bool)
    orders = []
    for near in (2, 1):
        phase = np.where(side == near, 1, np.where(side == 0, 2, 0))  # far leg, near leg, the rest
        key = np.where(see_through, 0, 1) * 3 + phase
        orders.append(np.argsort(key, kind="stable").astype(np.int64))
    return orders[0], orders[1]


def _rest_frames(layer: Layer, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Per triangle of a mesh layer: the inverse of its rest edge matrix (output px) and its area
    (working px, as Layer.area), for _stretch; degenerate triangles weigh nothing."""
    p = layer.rest[layer.triangles].astype(np.float64) * k
    edges = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], axis=-1)  # columns: the two edges
    det = np.linalg.det(edges) if len(edges) else np.zeros(0)
    ok = np.abs(det) > 1e-9
    inverse = np.zeros_like(edges)
    inverse[ok] = np.linalg.inv(edges[ok])
    return inverse, np.where(ok, np.abs(det) / (2 * k * k), 0.0)


def _stretch(verts: np.ndarray, triangles: np.ndarray, inverse: np.ndarray, area: np.ndarray) -> float:
    """Sum over triangles of rest area x (|log s1| + |log s2|), s the singular values of the map from
    the rest triangle (scaled to the output) to the drawn one: 0 for a layer moved rigidly."""
    if len(triangles) == 0:
        return 0.0
    q = verts[triangles]
    jac = np.stack([q[:, 1] - q[:, 0], q[:, 2] - q[:, 0]], axis=-1) @ inverse
    # a 2x2 map's singular values in closed form (s1^2 + s2^2 = |J|^2, s1 s2 = |det J|): ~8x
    # faster than np.linalg.svd on a stack of them
    norm = (jac * jac).sum(axis=(1, 2))
    det = np.abs(jac[:, 0, 0] * jac[:, 1, 1] - jac[:, 0, 1] * jac[:, 1, 0])
    s1 = np.sqrt((norm + np.sqrt(np.maximum(norm * norm - 4.0 * det * det, 0.0))) / 2.0)
    s2 = det / np.maximum(s1, 1e-12)
    logs = np.abs(np.log(np.maximum(s1, 1e-3))) + np.abs(np.log(np.maximum(s2, 1e-3)))
    return float((logs * area).sum())


def cut_end(alpha: np.ndarray, below: int) -> np.ndarray | None:
    """The two ends (working px) of an arm's cut along the picture's bottom edge, its outermost
    opaque pixels on the last row, moved to the end of its run-on (`below` rows past the edge along
    its slant, pieces.run_on); None when the arm does not reach that edge."""
    cols = np.flatnonzero(alpha[-1] > 127)
    if not len(cols):
        return None
    ends = np.array([[cols[0], alpha.shape[0] - 0.5], [cols[-1] + 1.0, alpha.shape[0] - 0.5]], np.float64)
    if below > 0:
        ends += (run_slope(alpha) * below, float(below))
    return ends


def on_cut_side(layer: Layer, rig: Rig) -> bool:
    """A layer with vertices on a picture's side edge that cuts the character off (Rig.cut_sides):
    an arm the side cuts lengthwise is drawn as a mesh carried by the body's (Renderer.on_body),
    not as rigid pieces (they turned with the shoulders, and the cut and the backdrop beyond
    showed as a bunched fold at the man's shoulder)."""
    x = layer.rest[:, 0]
    left, right = rig.cut_sides
    return bool((left and (x <= 0.5).any()) or (right and (x >= rig.width - 1.5).any()))


def bind_to_mesh(points: np.ndarray, mesh: Layer) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each point (rest, working px) bound to `mesh` at rest: the triangle it lies in (-1 for none)
    with its barycentric weights there (rig.rest_triangles), and its nearest mesh vertex with its
    offset from it."""
    tri, bary = rest_triangles(mesh, points.astype(np.float64))
    nearest = np.argmin(((points[:, None, :] - mesh.rest[None, :, :]) ** 2).sum(axis=2), axis=1)
    return tri, bary, nearest, (points - mesh.rest[nearest]).astype(np.float64)


def side_fade(width: int, bands: tuple[float, float]) -> np.ndarray | None:
    """(width,) float32: how much of each column of the picture is drawn, fading from 1 to 0 over
    `bands` (px: its left edge's, its right's; 0, none) towards that edge; None for no band."""
    if max(bands) <= 0:
        return None
    x = np.arange(width, dtype=np.float32) + 0.5
    fade = np.ones(width, np.float32)
    if bands[0] > 0:
        fade = np.minimum(fade, x / max(1.0, bands[0]))
    if bands[1] > 0:
        fade = np.minimum(fade, (width - x) / max(1.0, bands[1]))
    fade = np.clip(fade, 0.0, 1.0)
    return fade * fade * (3.0 - 2.0 * fade)  # smoothstep: no crease where the fade starts or ends


def core_at(points: np.ndarray, triangles: np.ndarray, tri: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """A layer's core points (Rig.core_points: triangle, barycentric weights) on `points`, its
    vertices at rest or deformed."""
    return np.einsum("pk,pki->pi", bary.astype(np.float64), points[triangles[tri]].astype(np.float64))


def faded(rig: Rig, name: str, columns: np.ndarray | None, rows: np.ndarray | None) -> np.ndarray:
    """Which of a layer's core points (Rig.core_points) the picture's faded edges draw less than
    half of: `columns` and `rows` side_fade's weights, None where no edge fades. (The armour cropped
    through its helmet, with a talking head, has its forehead in the faded top: up to 7.5 % of its
    core points, every frame "torn".)"""
    layer = rig.layer(name)
    if layer is None or (columns is None and rows is None):
        return np.zeros(len(rig.core_points[name][0]), bool)
    rest = core_at(layer.rest, layer.triangles, *rig.core_points[name])
    x = np.clip(rest[:, 0].astype(int), 0, rig.width - 1)
    y = np.clip(rest[:, 1].astype(int), 0, rig.height - 1)
    drawn = (1.0 if columns is None else columns[x]) * (1.0 if rows is None else rows[y])
    return np.asarray(drawn < 0.5)


def side_held(rig: Rig) -> set[tuple[int, int]]:
    """The limbs' bones (joint pairs of LIMB_CHAINS) lying, at rest, within the pin band of a
    picture's side edge that cuts the character off (a leg cut lengthwise): the pins hold that
    side's pixels at the frame's side, so the bone's axis may move off them."""
    band = PIN_BAND * rig.torso
    x = rig.landmarks[:, 0]
    near = np.zeros(len(x), bool)
    if rig.cut_sides[0]:
        near |= x <= band
    if rig.cut_sides[1]:
        near |= x >= rig.width - 1 - band
    return {(a, b) for chain in LIMB_CHAINS for a, b in pairwise(chain) if near[a] or near[b]}


def pin_band(rest: np.ndarray, pinned: np.ndarray, band: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vertices (rest, working px) within `band` above a pinned bottom edge, the pinned vertex
    nearest across to each, and the share of that one's pull down each takes: 1 on the edge (the
    pinned row itself), easing to 0 at the band's top and `band` across from the nearest pinned."""
    if not len(pinned) or band <= 0:
        return pinned, np.arange(len(pinned)), np.ones(len(pinned))
    edge = float(rest[pinned, 1].min())
    near_edge = np.flatnonzero(rest[:, 1] > edge - band)
    across = np.abs(rest[near_edge, 0][:, None] - rest[pinned, 0][None, :])
    nearest = across.argmin(axis=1)
    up = np.clip((rest[near_edge, 1] - (edge - band)) / band, 0.0, 1.0)
    side = np.clip(1.0 - across[np.arange(len(near_edge)), nearest] / band, 0.0, 1.0)
    weight = up * up * (3.0 - 2.0 * up) * side  # smoothstep: no kink where the band begins
    weight[np.isin(near_edge, pinned)] = 1.0
    keep = weight > 0
    return near_edge[keep], nearest[keep], weight[keep]


def _skin(points: np.ndarray, weights: np.ndarray, mats: list[np.ndarray]) -> np.ndarray:
    """Linear blend skinning of (N,2) points with (N,B) weights and B 2x3 transforms."""
    m = np.stack(mats)  # (B,2,3)
    moved = np.einsum("bij,nj->nbi", m[:, :, :2], points.astype(np.float64)) + m[None, :, :, 2]
    return np.einsum("nb,nbi->ni", weights.astype(np.float64), moved)


def fold_cells(fixed: np.ndarray, flips: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: the coarse cells a fold of the mesh can cover twice, those under its flipped
    triangles (`fixed`: the triangles' corners in 1/16 cells), grown by one cell. The triangles over
    a point, each counted +1 or -1 by the way it turns, add up to the outline's winding number
    around it, 0 or 1 where no two parts of the outline cross (legs meeting): so a point covered
    twice lies under a flipped triangle."""
    cells = np.zeros(shape, np.uint8)
    for t in flips:
        cv2.fillConvexPoly(cells, fixed[t], 1, cv2.LINE_8, 4)
    return cv2.dilate(cells, np.ones((3, 3), np.uint8)) > 0


def _over_cells(fixed: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(M,) bool: the triangles (corners in 1/16 cells) whose box meets the box of `cells`."""
    if not cells.any():
        return np.zeros(len(fixed), bool)
    ys, xs = np.nonzero(cells)
    lo, hi = fixed.min(axis=1) // 16 - 1, fixed.max(axis=1) // 16 + 1
    return (hi[:, 0] >= xs.min()) & (lo[:, 0] <= xs.max()) & (hi[:, 1] >= ys.min()) & (lo[:, 1] <= ys.max())


def _rasterise(fixed: np.ndarray, order: Any, shape: tuple[int, int]) -> np.ndarray:
    """Triangle index per coarse pixel (-1: none); triangles drawn in `order`, later ones win."""
    ids = np.full(shape, -1, np.int32)
    fill, line = cv2.fillConvexPoly, cv2.LINE_8
    order = np.asarray(order, np.int64)
    # the corners gathered in draw order at once, the indices as Python ints: less of the loop's
    # time holds the GIL, which the other frame's thread waits for
    for t, corners in zip(order.tolist(), fixed[order], strict=True):
        fill(ids, corners, t, line, 4)
    return ids


def _coarse_map(
    ids: np.ndarray, aff: np.ndarray, d0: np.ndarray, r0: np.ndarray, origin: tuple[int, int], g: int
) -> np.ndarray:
    """(h, w, 2) float32 texture coordinates for each coarse pixel (SENTINEL where ids < 0)."""
    cmap = np.full((*ids.shape, 2), SENTINEL, np.float32)
    at = np.flatnonzero(ids >= 0)  # flat indices: gathered and scattered ~2x faster than (ys, xs)
    if len(at) == 0:
        return cmap
    ys, xs = np.divmod(at, ids.shape[1])
    t = ids.ravel()[at]
    # each coefficient gathered on its own (a quarter less time than the (N, 2, 2) gather), the
    # sums in the same order
    dx = (xs + origin[0] + 0.5) * g - 0.5 - d0[:, 0].take(t)
    dy = (ys + origin[1] + 0.5) * g - 0.5 - d0[:, 1].take(t)
    flat = cmap.reshape(-1, 2)
    flat[at, 0] = r0[:, 0].take(t) + aff[:, 0, 0].take(t) * dx + aff[:, 0, 1].take(t) * dy
    flat[at, 1] = r0[:, 1].take(t) + aff[:, 1, 0].take(t) * dx + aff[:, 1, 1].take(t) * dy
    return cmap


def sharpened(texture: np.ndarray) -> np.ndarray:
    """A premultiplied BGRA uint8 texture's colours with an unsharp mask (SHARPEN_AMOUNT of what
    a blur by SHARPEN_SIGMA texels takes away added back), kept within its opacity (premultiplied:
    no colour over its alpha, so no light fringe at its edge); its opacity as it is."""
    colour = texture[..., :3].astype(np.float32)
    colour += SHARPEN_AMOUNT * (colour - cv2.GaussianBlur(colour, (0, 0), SHARPEN_SIGMA))
    alpha = texture[..., 3:4].astype(np.float32)
    out = texture.copy()
    out[..., :3] = np.clip(np.round(np.minimum(colour, alpha)), 0, 255).astype(np.uint8)
    return out


def _shade(
    dst: np.ndarray,
    alpha: np.ndarray,
    sigma: float,
    strength: float,
    on: np.ndarray | None = None,
) -> None:
    """dst (BGR uint8 view) darkened in place under a blurred copy of `alpha` (uint8). With `on`
    (uint8, dst's size: how much of each pixel is the character), it falls only there, in that
    measure."""
    soft = _soft(alpha, sigma)
    # none where the arm itself is half drawn: its top fades in over the shoulder, and the shadow
    # under it showed through as a dark band with a straight edge across the shoulder at rest
    clear = cv2.subtract(np.full_like(alpha, 255), alpha)
    soft = cv2.multiply(soft, cv2.multiply(clear, clear, scale=1.0 / 255.0), scale=1.0 / 255.0)
    if on is not None:
        soft = cv2.multiply(soft, on, scale=1.0 / 255.0)
    keep = cv2.subtract(np.full_like(soft, 255), cv2.multiply(soft, np.full_like(soft, 1), scale=strength))
    dst[...] = cv2.multiply(dst, cv2.cvtColor(keep, cv2.COLOR_GRAY2BGR), scale=1.0 / 255.0)


def _soft(alpha: np.ndarray, sigma: float, by: int = 4) -> np.ndarray:
    """`alpha` (uint8) blurred by `sigma` px; a blur of `by` px or more at 1/`by` of the size (the
    same soft shadow for ~1/10 of the cost)."""
    if sigma >= by:
        h, w = alpha.shape
        small = cv2.resize(alpha, (max(1, w // by), max(1, h // by)), interpolation=cv2.INTER_AREA)
        return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / by), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(alpha, (0, 0), sigma)


def _blend(dst: np.ndarray, src_pm: np.ndarray) -> None:
    """dst (BGR uint8, may be rows and columns of the frame: OpenCV writes into them) = dst * (1 - a)
    + premultiplied src, in place.

    OpenCV's saturating uint8 arithmetic in SIMD: about 4x faster than the same in numpy. (The
    alpha taken out by extractChannel: a strided view, `src_pm[..., 3]`, is copied by OpenCV's
    bindings at a third of the speed.)"""
    inv = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(src_pm, 3)), cv2.COLOR_GRAY2BGR)
    kept = cv2.multiply(dst, inv, scale=1.0 / 255.0)
    cv2.add(kept, cv2.cvtColor(src_pm, cv2.COLOR_BGRA2BGR), dst=dst)
