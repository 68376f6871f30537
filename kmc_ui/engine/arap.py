"""As-rigid-as-possible deformation of a mesh layer (libigl's ARAP), as in Meta's AnimatedDrawings.

Linear blend skinning alone stretches and shears the flesh between the bones it blends: the hips
and the skirt when the legs spread, the thighs' insides, a layer's edge where two bones meet. Here
the skinned vertices only place the handles: the vertices nearest the joints and those along the
limbs' axes (so a limb follows its bone, never buckles sideways when the pose foreshortens it);
every other vertex is solved by libigl's ARAP (local rotations, global solve, started from the
skinned mesh) so each triangle keeps its rest shape as well as the handles let it.
"""

from __future__ import annotations

import igl
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kmc_ui.engine.rig import BONES, Layer, Rig, named_points, segment_distance

ITERATIONS = 2  # local/global rounds per frame, started from the skinned mesh
AXIS_BAND = 0.3  # vertices within this share of a bone's radius of its axis are handles
AXIS_STEPS = 9  # points along each bone whose nearest vertex is a handle (a coarse mesh has few in the band)
JOINTS = (0, 2, 5, 7, 8, 11, 12, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32)  # landmarks
FACE_JOINTS = (0, 2, 5, 7, 8)  # the pose's face points: not handles where the face mesh's points are


def nearest(rest: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The index of the vertex (rest, (N, 2)) nearest each point ((K, 2))."""
    d = np.linalg.norm(rest[None, :, :] - np.asarray(points, np.float64).reshape(-1, 2)[:, None, :], axis=2)
    return np.argmin(d, axis=1) if len(rest) else np.zeros(0, np.int64)


def face_vertices(layer: Layer, rig: Rig) -> np.ndarray:
    """The layer's vertex nearest each of the rig's face points (kmc_ui/engine/face.py), or none."""
    if rig.face is None or "head" not in layer.bones or not len(layer.rest):
        return np.zeros(0, np.int64)
    return nearest(layer.rest.astype(np.float64), rig.face[:, :2])


def handles(layer: Layer, rig: Rig) -> np.ndarray:
    """The layer's vertices that follow the skinning (sorted indices): the nearest to each joint
    the picture shows (the face's own points instead of the pose's where it turns), those along
    its limbs' axes, and every vertex of a piece of mesh (or a lone vertex) that has none of these,
    which would otherwise float free."""
    rest = layer.rest.astype(np.float64)
    n = len(rest)
    pts = named_points(rig.landmarks)
    chosen = np.zeros(n, bool)
    if n == 0:
        return np.zeros(0, np.int32)
    faces = face_vertices(layer, rig)
    chosen[faces] = True
    joints = [j for j in JOINTS if rig.seen[j] and not (len(faces) and j in FACE_JOINTS)]
    chosen[nearest(rest, np.array([pts[str(j)] for j in joints]))] = True
    for name in layer.bones:
        kind, a, b, _ = BONES[name]
        if kind not in ("segment", "rigid") or not (rig.seen[int(a)] and (not b.isdigit() or rig.seen[int(b)])):
            continue
        d, _ = segment_distance(rest, pts[a], pts[b])
        chosen |= d < AXIS_BAND * rig.radii.get(name, 0.0)
        steps = np.linspace(0.0, 1.0, AXIS_STEPS)[:, None]
        chosen[nearest(rest, pts[a] + steps * (pts[b] - pts[a]))] = True
    tri = layer.triangles
    edges = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, piece = connected_components(graph, directed=False)
    used = np.zeros(n, bool)
    used[tri.ravel()] = True
    anchored = np.zeros(piece.max() + 1, bool)
    anchored[piece[chosen & used]] = True
    chosen |= ~anchored[piece] | ~used
    return np.flatnonzero(chosen).astype(np.int32)


class Arap:
    """One layer's ARAP solve, prepared once (the system is factored for its handles)."""

    def __init__(self, layer: Layer, rig: Rig, k: float, iterations: int = ITERATIONS) -> None:
        """k: output px per working px (the rest shape the solve keeps is the picture's, scaled)."""
        self.handles = handles(layer, rig)
        place = {int(v): i for i, v in enumerate(self.handles)}
        self.face_at = np.array([place[int(v)] for v in face_vertices(layer, rig)], np.int64)  # per face point
        self.data = igl.ARAPData()
        self.data.max_iter = iterations
        self.data.energy = igl.ARAP_ENERGY_TYPE_SPOKES_AND_RIMS
        rest = np.ascontiguousarray(layer.rest.astype(np.float64) * k)
        triangles = np.ascontiguousarray(layer.triangles.astype(np.int64))
        igl.arap_precomputation(rest, triangles, 2, self.handles, self.data)

    def solve(self, skinned: np.ndarray, moves: np.ndarray | None = None) -> np.ndarray:
        """The layer's vertices for this frame: handles where the skinning put them (the face's
        points moved by `moves`, (K, 2) output px, when given), the rest as rigid as they can be;
        the skinned mesh itself if the solve gives no finite answer."""
        start = np.ascontiguousarray(skinned, dtype=np.float64)
        fixed = start[self.handles]
        if moves is not None and len(self.face_at):
            fixed[self.face_at] += moves
        out = igl.arap_solve(np.ascontiguousarray(fixed), self.data, start)
        return out if np.isfinite(out).all() else skinned


def prepare(layer: Layer, rig: Rig, k: float) -> Arap | None:
    """The layer's ARAP solve, or None where libigl cannot factor it (the layer is then skinned)."""
    if len(layer.triangles) == 0:
        return None
    try:
        return Arap(layer, rig, k)
    except RuntimeError:
        return None
