"""Turning the face: the picture's face turned in depth as the reference turns its head.

The face is read from the picture by mediapipe's face mesh (468 points with depth, its models in
the wheel) on a crop around the head. A spread of its inner points (not its edge, where hair often
lies over the face) become vertices of the body's mesh. Each frame they are turned about the
head's vertical axis (behind the face) by the angle the reference's head is turned from its usual
facing, and held there as handles of the body's ARAP solve (kmc_ui/engine/arap.py); the face's
edge, the hair and the head's outline follow as rigid as they can. A picture whose face the mesh
cannot read (a helmet, a tiny face) keeps a still face.

The turn is read from the pose as the nose's place between the ears (yaw: 0 in the middle, 0.5
at the right ear; with the nose about a half ear span in front of the ears, tan(angle) = 2 yaw),
against the reference's median over the clip, so a picture that shows its character a little
turned keeps that facing while the reference looks ahead as usual.
"""

from __future__ import annotations

import cv2
import numpy as np

from kmc_ui.pose import landmarks as L
from kmc_ui.pose.model import face_mesher

CROP = 2.2  # the crop the face mesh reads: this many head radii either side of the head's centre
CROP_SIDE = 256  # px the crop is scaled to (the mesh's detector wants a face that fills it)
SPACING = 0.1  # face points kept as mesh vertices at least this share of the face's width apart
EDGE = 0.15  # ... and at least this share of the face's width inside its outline
AXIS_DEPTH = 0.6  # the turning axis: this share of the ear-to-ear span behind the face's mean depth
TURN_LIMIT = np.radians(20.0)  # the largest turn drawn (more folds the face over its far side)


def find_face(rgb: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray | None:
    """The face's 468 points (x, y in picture px; depth in px, larger = further) read on a crop of
    `rgb` around the head (centre, radius in picture px); None when no face is found."""
    h, w = rgb.shape[:2]
    half = CROP * radius
    x0, y0 = int(max(0, centre[0] - half)), int(max(0, centre[1] - half))
    x1, y1 = int(min(w, centre[0] + half)), int(min(h, centre[1] + half))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    crop = rgb[y0:y1, x0:x1]
    f = CROP_SIDE / max(crop.shape[:2])
    big = np.ascontiguousarray(cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR))
    found = face_mesher().process(big).multi_face_landmarks
    if not found:
        return None
    pts = np.array([[p.x, p.y, p.z] for p in found[0].landmark], np.float64)
    bh, bw = big.shape[:2]
    out = np.empty_like(pts)
    out[:, 0] = pts[:, 0] * bw / f + x0
    out[:, 1] = pts[:, 1] * bh / f + y0
    out[:, 2] = pts[:, 2] * bw / f  # mediapipe's depth is in the crop's width units
    return out


def inner_points(face: np.ndarray) -> np.ndarray:
    """A spread of the face's points for mesh vertices: EDGE inside its outline, SPACING apart."""
    width = float(np.ptp(face[:, 0]))
    hull = cv2.convexHull(face[:, :2].astype(np.float32))
    depth = np.array([cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in face[:, :2]])
    kept: list[int] = []
    for i in np.flatnonzero(depth >= EDGE * width):
        if not kept or np.min(np.linalg.norm(face[kept, :2] - face[i, :2], axis=1)) >= SPACING * width:
            kept.append(int(i))
    return face[kept]


def yaw(lm: np.ndarray) -> float:
    """The nose's place between the ears along the ear-to-ear line: 0 in the middle, +0.5 at the
    right ear (landmark 8), -0.5 at the left; nan when the ears coincide."""
    xy = np.asarray(lm, np.float64)[:, :2]
    ears = xy[L.R_EAR] - xy[L.L_EAR]
    span = float(ears @ ears)
    if not np.isfinite(span) or span < 1e-6:
        return float("nan")
    return float((xy[L.NOSE] - (xy[L.L_EAR] + xy[L.R_EAR]) / 2) @ ears / span)


def usual_yaw(targets: np.ndarray) -> float | None:
    """The median yaw of a clip's poses (T, 33, 4); None when no frame shows a face."""
    values = np.array([yaw(lm) for lm in targets])
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else None


def turn_angle(target_lm: np.ndarray, rest_lm: np.ndarray, usual: float | None) -> float:
    """The angle (radians) the head is turned this frame from the usual facing (the picture's own
    when None), toward the right ear (landmark 8) when positive, within TURN_LIMIT."""
    now = yaw(target_lm)
    base = yaw(rest_lm) if usual is None else usual
    if not (np.isfinite(now) and np.isfinite(base)):
        return 0.0
    return float(np.clip(np.arctan(2 * now) - np.arctan(2 * base), -TURN_LIMIT, TURN_LIMIT))


def turned(face: np.ndarray, rest_lm: np.ndarray, angle: float) -> np.ndarray:
    """How far each face point (K, 3) moves in the picture (K, 2) when the head turns by `angle`
    about its vertical axis: along the ear-to-ear line, a point moves by its depth in front of the
    axis times sin(angle), and its distance from the middle narrows by cos(angle)."""
    xy = np.asarray(rest_lm, np.float64)[:, :2]
    ears = xy[L.R_EAR] - xy[L.L_EAR]
    norm = float(np.linalg.norm(ears))
    if norm < 1e-6 or angle == 0.0 or not len(face):
        return np.zeros((len(face), 2))
    u = ears / norm
    centre = face[:, :2].mean(axis=0)
    axis_depth = face[:, 2].mean() + AXIS_DEPTH * norm
    along = (face[:, :2] - centre) @ u
    front = axis_depth - face[:, 2]  # > 0: in front of the axis
    moved = along * np.cos(angle) + front * np.sin(angle)
    return (moved - along)[:, None] * u[None, :]
