"""The offline engine's as-rigid-as-possible deformation of the body (kmc_ui/engine/arap.py, libigl).

Real code paths: rigs built from a drawn character and from the real photos in ../shared/media
(skipped with a reason when absent) through mediapipe's bundled models, posed and drawn by the
renderer with libigl's ARAP solve, against the same renderer with skinning alone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kmc_ui.engine import arap
from kmc_ui.engine.deform import GRID, Renderer, bone_transforms
from kmc_ui.engine.rig import named_points
from tests.test_engine_pieces import _photo_rig


def _turned(lm: np.ndarray, centre: int, joints: tuple[int, ...], degrees: float) -> None:
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    for j in joints:
        lm[j, :2] = lm[centre, :2] + rot @ (lm[j, :2] - lm[centre, :2])


def _spread(rest: np.ndarray, degrees: float = 35.0) -> np.ndarray:
    """Both legs swung out from the hips by `degrees`."""
    lm = rest.astype(np.float64).copy()
    _turned(lm, 23, (25, 27, 29, 31), -degrees)
    _turned(lm, 24, (26, 28, 30, 32), degrees)
    return lm


def test_arap_keeps_the_body_nearer_its_rest_shape_than_skinning(drawn_rig) -> None:
    """Legs spread, one knee bent: the skinned body shears its hips and thighs; the ARAP solve
    keeps the triangles nearer their rest shape (stretch 0.216 -> 0.122 and 0.225 -> 0.153 when
    measured), the limbs still covered and nothing torn. At rest both are the picture itself."""
    rig, plate = drawn_rig
    bent = _spread(rig.landmarks)
    _turned(bent, 25, (27, 29, 31), 70.0)
    for pose in (_spread(rig.landmarks), bent):
        _, skinned = Renderer(rig, plate, 1.0, GRID, arap=False).render(pose)
        _, solved = Renderer(rig, plate, 1.0, GRID).render(pose)
        assert skinned.stretch > 0.15
        assert solved.stretch < 0.8 * skinned.stretch
        assert (solved.breaks, solved.tears, solved.torn) == (0.0, 0.0, False)
    renderer = Renderer(rig, plate, 1.0, GRID)
    _, rest = renderer.render(rig.landmarks.copy())
    assert rest.stretch == pytest.approx(0.0, abs=1e-4)
    body = rig.layer("body")
    assert body is not None and "body" in renderer.arap
    still = renderer.deform(body, bone_transforms(renderer.rest, named_points(rig.landmarks), 1.0))
    assert np.abs(still - body.rest).max() < 1e-3


def test_the_handles_follow_the_skinning_and_the_rest_is_solved(drawn_rig) -> None:
    """The vertex nearest each joint and those along the legs' axes are where the skinning puts
    them; the others move to where the solve puts them."""
    rig, plate = drawn_rig
    body = rig.layer("body")
    assert body is not None
    renderer = Renderer(rig, plate, 1.0, GRID)
    pose = _spread(rig.landmarks)
    transforms = bone_transforms(renderer.rest, named_points(pose), 1.0)
    skinned = Renderer(rig, plate, 1.0, GRID, arap=False).deform(body, transforms)
    solved = renderer.deform(body, transforms)
    fixed = renderer.arap["body"].handles
    for joint in (11, 12, 23, 24, 25, 26, 27, 28):
        assert np.argmin(np.linalg.norm(body.rest - rig.landmarks[joint, :2], axis=1)) in fixed
    assert np.abs(solved[fixed] - skinned[fixed]).max() < 1e-6
    free = np.setdiff1d(np.arange(len(body.rest)), fixed)
    assert len(free) > len(fixed)
    assert np.linalg.norm(solved[free] - skinned[free], axis=1).max() > 2.0  # px


def test_a_loose_piece_of_mesh_and_a_lone_vertex_follow_the_skinning(drawn_rig) -> None:
    """A piece of mesh with no joint on it (a lock of hair cut off by the mask) and a vertex no
    triangle uses would float free in the solve: they follow the skinning, and the layer is solved."""
    rig, plate = drawn_rig
    body = rig.layer("body")
    assert body is not None
    n = len(body.rest)
    far = np.array([[5.0, 5.0], [25.0, 5.0], [5.0, 25.0], [340.0, 10.0]])  # a triangle and a lone vertex
    loose = replace(
        body,
        rest=np.vstack([body.rest, far]).astype(body.rest.dtype),
        triangles=np.vstack([body.triangles, [[n, n + 1, n + 2]]]).astype(body.triangles.dtype),
        weights=np.vstack([body.weights, np.tile(body.weights[:1], (4, 1))]),
    )
    fixed = arap.handles(loose, rig)
    assert {n, n + 1, n + 2, n + 3} <= set(fixed.tolist())
    assert arap.prepare(replace(body, triangles=body.triangles[:0]), rig, 1.0) is None  # nothing to solve
    solve = arap.prepare(loose, rig, 1.0)
    assert solve is not None
    renderer = Renderer(rig, plate, 1.0, GRID, arap=False)
    skinned = renderer.deform(loose, bone_transforms(renderer.rest, named_points(_spread(rig.landmarks)), 1.0))
    solved = solve.solve(skinned)
    assert np.isfinite(solved).all()
    assert np.abs(solved[n:] - skinned[n:]).max() < 1e-6


def test_a_real_photos_legs_stay_on_their_bones(shared_media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The man's photo with his legs swung out: with the legs' axes as handles the solve keeps each
    leg on its bone (no break) and less stretched than skinning; with the joints alone as handles
    (AnimatedDrawings' choice, for drawings whose bone lengths never change) the legs lag behind
    their bones and a quarter of the limbs' axes is left uncovered."""
    _, rig = _photo_rig(shared_media / "person_man_fullbody.png")
    h, w = rig.alpha.shape
    plate = np.full((h, w, 3), 200, np.uint8)
    pose = _spread(rig.landmarks, 30.0)
    _, skinned = Renderer(rig, plate, 1.0, GRID, arap=False).render(pose)
    _, solved = Renderer(rig, plate, 1.0, GRID).render(pose)
    assert solved.breaks == 0.0
    assert solved.stretch < 0.9 * skinned.stretch
    monkeypatch.setattr(arap, "AXIS_BAND", 0.0)
    monkeypatch.setattr(arap, "AXIS_STEPS", 0)
    _, joints_only = Renderer(rig, plate, 1.0, GRID).render(pose)
    assert joints_only.breaks > 0.1
