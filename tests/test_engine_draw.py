"""The renderer's drawing steps made cheaper (kmc_ui/engine/deform.py): the bones' transforms for
every frame at once, a fold's second look only under the fold, seams redrawn patch by patch.

Real code paths: the drawn character's rig (tests/figures.py, cut out by mediapipe's bundled
models), posed and drawn by the renderer; a folded strip of triangles rasterised by OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kmc_ui.engine import deform
from kmc_ui.engine.deform import GRID, Renderer, bone_transforms, bone_transforms_many, fold_cells
from kmc_ui.engine.rig import BONES, named_points
from kmc_ui.pose import landmarks as L
from tests.test_engine_arap import _spread, _turned


def _poses(rest: np.ndarray, count: int = 40) -> np.ndarray:
    """(count + 3, 33, 4): the rest pose jostled, and three awkward ones: a forearm of no length,
    the body turned to its back (shoulders and hips swapped), the face shrunk to a point."""
    rng = np.random.default_rng(7)
    torso = L.torso_length(rest)
    poses = rest[None].astype(np.float64) * 1.2 + rng.normal(0.0, 0.15 * torso, (count, 33, 4))
    still = poses[0].copy()
    still[L.L_WRIST, :2] = still[L.L_ELBOW, :2]
    back = poses[1].copy()
    for a, b in ((L.L_SHOULDER, L.R_SHOULDER), (L.L_HIP, L.R_HIP)):
        back[[a, b]] = back[[b, a]]
    point = poses[2].copy()
    point[:11, :2] = point[0, :2]
    return np.concatenate([poses, [still, back, point]])


def test_every_frames_bone_transforms_at_once_are_each_frames_own(drawn_rig) -> None:
    """bone_transforms_many on 43 poses gives, for each, what bone_transforms gives for it alone
    (awkward poses included); each limb's transform carries its rest joint onto the pose's, a
    stretched bone's end onto the pose's end, the torso's middle onto the pose's middle; and a
    frame drawn with the transforms handed in is the frame drawn without them, to the bit."""
    rig, plate = drawn_rig
    rest = named_points(rig.landmarks)
    poses = _poses(rig.landmarks)
    k = 1.3
    many = bone_transforms_many(rest, named_points(np.moveaxis(poses, 0, 1)), k)
    assert set(many) == set(BONES) and all(m.shape == (len(poses), 2, 3) for m in many.values())
    for i, pose in enumerate(poses):
        target = named_points(pose)
        alone = bone_transforms(rest, target, k)
        for name, (kind, a, b, _) in BONES.items():
            m = many[name][i]
            assert np.allclose(m, alone[name], rtol=0, atol=1e-9), (i, name)
            if kind in ("torso", "head"):
                continue
            assert np.allclose(m[:, :2] @ rest[a] + m[:, 2], target[a], atol=1e-6), (i, name)
            along = np.linalg.norm(target[b] - target[a]) / np.linalg.norm(rest[b] - rest[a])
            if kind != "rigid" and 0.25 * k < along < 1.6 * k:
                assert np.allclose(m[:, :2] @ rest[b] + m[:, 2], target[b], atol=1e-6), (i, name)
        m = many["torso"][i]
        corners = ("11", "12", "24", "23")
        middle = np.mean([rest[c] for c in corners], axis=0)
        assert np.allclose(m[:, :2] @ middle + m[:, 2], np.mean([target[c] for c in corners], axis=0), atol=1e-6)
    renderer = Renderer(rig, plate, 1.0, GRID)
    pose = _spread(rig.landmarks)
    moves = bone_transforms_many(renderer.rest, named_points(pose[:, None]), 1.0)
    drawn, _ = renderer.render(pose)
    given, _ = renderer.render(pose, transforms={name: m[0] for name, m in moves.items()})
    assert np.array_equal(drawn, given)


def _strip(fold_at: float, length: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A strip of 2 x `length` squares of 4 coarse cells, as triangles (corners in 1/16 cells, as
    the renderer rasterises them), folded back on itself at x = fold_at: (fixed, flipped)."""
    xs, ys = np.meshgrid(np.arange(length + 1, dtype=np.float64), np.arange(3, dtype=np.float64))
    folded = np.where(xs > fold_at, 2 * fold_at - xs, xs)
    verts = np.stack([folded.ravel(), ys.ravel()], axis=1) * 4 + 4
    rest = np.stack([xs.ravel(), ys.ravel()], axis=1)
    tris = []
    for y in range(2):
        for x in range(length):
            i = y * (length + 1) + x
            tris += [(i, i + 1, i + length + 1), (i + 1, i + length + 2, i + length + 1)]
    tris = np.array(tris)

    def turn(p: np.ndarray) -> np.ndarray:
        e1, e2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
        return np.sign(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])

    flipped = np.flatnonzero(turn(verts[tris]) != turn(rest[tris]))
    return np.round(verts[tris] * 16).astype(np.int32), flipped


def _covered_inside(fixed: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) how many triangles hold each cell's centre strictly inside (shared edges not counted)."""
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    p = np.stack([xs, ys], axis=-1).astype(np.float64)
    count = np.zeros(shape, int)
    for tri in fixed.astype(np.float64) / 16:
        sides = []
        for j in range(3):
            a, b = tri[j], tri[(j + 1) % 3]
            sides.append((b[0] - a[0]) * (p[..., 1] - a[1]) - (b[1] - a[1]) * (p[..., 0] - a[0]))
        sides = np.stack(sides)
        count += ((sides > 1e-6).all(axis=0) | (sides < -1e-6).all(axis=0)).astype(int)
    return count


@pytest.mark.parametrize("fold_at", [9.0, 10.5])
def test_a_fold_is_looked_at_again_only_under_its_flipped_triangles(fold_at: float) -> None:
    """A strip folded back over itself: every cell it covers twice lies in fold_cells (the
    flipped triangles' cells grown by one), and fold_cells leaves out the strip's unfolded part
    (where a drawn-last see-through triangle no longer sends the renderer looking for an opaque
    one under it: the half-figure sample drew 4 of its 24 ms a frame there)."""
    fixed, flipped = _strip(fold_at)
    assert len(flipped) > 0
    shape = (20, 60)
    twice = _covered_inside(fixed, shape) >= 2
    cells = fold_cells(fixed, flipped, shape)
    assert twice.sum() >= 8
    assert not (twice & ~cells).any()
    strip = _covered_inside(fixed, shape) >= 1
    assert (cells & strip).sum() < 0.8 * strip.sum()
    assert not fold_cells(fixed, np.array([], int), shape).any()


def test_seams_redrawn_patch_by_patch_draw_what_one_box_around_them_drew(
    drawn_rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crossed legs and a bent arm give seams in separate patches. Drawn at full resolution patch
    by patch, each in its own box, the frame is the one drawn with one box around them all (the
    way before: up to 7 times the pixels), to the bit."""
    rig, plate = drawn_rig
    pose = rig.landmarks.astype(np.float64).copy()
    _turned(pose, L.L_HIP, (25, 27, 29, 31), 30.0)
    _turned(pose, L.R_HIP, (26, 28, 30, 32), -30.0)
    _turned(pose, L.L_SHOULDER, (13, 15, 17, 19, 21), 150.0)
    boxes: list[tuple[int, int, int, int]] = []
    by_patch = deform._full_resolution_box

    def counted(fmap, cells, g, box, *args) -> None:
        boxes.append(box)
        by_patch(fmap, cells, g, box, *args)

    monkeypatch.setattr(deform, "_full_resolution_box", counted)
    patched, _ = Renderer(rig, plate, 1.0, GRID).render(pose)
    assert len(boxes) >= 2, boxes

    def one_box(fmap, cells, g, origin, d, r0, aff, tex, opaque, order) -> None:
        ys, xs = np.nonzero(cells)
        box = (int(xs.min()) * g, int(ys.min()) * g, (int(xs.max()) + 1) * g, (int(ys.max()) + 1) * g)
        box = (box[0], box[1], min(fmap.shape[1], box[2]), min(fmap.shape[0], box[3]))
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        bounds = (d.min(axis=1), d.max(axis=1))
        by_patch(fmap, cells, g, box, origin, d, bounds, r0, aff, tex, opaque, rank)

    monkeypatch.setattr(deform, "_full_resolution", one_box)
    whole, _ = Renderer(rig, plate, 1.0, GRID).render(pose)
    assert np.array_equal(patched, whole)
    assert cv2.absdiff(patched, plate).max() > 0  # the figure was drawn
