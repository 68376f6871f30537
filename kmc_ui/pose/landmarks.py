"""The 33 BlazePose landmarks (mediapipe pose), the skeleton's bones and small pure helpers.

Every function here works on one landmark array of shape (33, 4): x_px, y_px, z, visibility,
in the pixel coordinates of the frame the pose was found in. A row of NaN means "no pose".
"""

from __future__ import annotations

import numpy as np

N_LANDMARKS = 33
NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
IDX = {name: i for i, name in enumerate(NAMES)}

NOSE = 0
HEAD = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
EYES = (2, 5)
L_EAR, R_EAR = 7, 8
L_SHOULDER, R_SHOULDER = 11, 12
L_ELBOW, R_ELBOW = 13, 14
L_WRIST, R_WRIST = 15, 16
L_HIP, R_HIP = 23, 24
L_KNEE, R_KNEE = 25, 26
L_ANKLE, R_ANKLE = 27, 28
SHOULDERS = (L_SHOULDER, R_SHOULDER)
HIPS = (L_HIP, R_HIP)
ELBOWS = (L_ELBOW, R_ELBOW)
WRISTS = (L_WRIST, R_WRIST)
KNEES = (L_KNEE, R_KNEE)
ANKLES = (L_ANKLE, R_ANKLE)
HANDS = (15, 16, 17, 18, 19, 20, 21, 22)
FEET = (27, 28, 29, 30, 31, 32)
# The joints that carry the motion (used for reach, speed and clipping); face details and
# finger tips are left out, they jitter most and add nothing the wrist does not say.
BODY_JOINTS = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
ARMS = {"left arm": (L_ELBOW, L_WRIST), "right arm": (R_ELBOW, R_WRIST)}

# Bones drawn in previews (mediapipe's POSE_CONNECTIONS without the face mesh lines).
CONNECTIONS: tuple[tuple[int, int], ...] = (
    (11, 12),
    (11, 13),
    (13, 15),
    (15, 17),
    (15, 19),
    (15, 21),
    (17, 19),
    (12, 14),
    (14, 16),
    (16, 18),
    (16, 20),
    (16, 22),
    (18, 20),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (27, 29),
    (29, 31),
    (27, 31),
    (24, 26),
    (26, 28),
    (28, 30),
    (30, 32),
    (28, 32),
    (0, 2),
    (0, 5),
    (2, 7),
    (5, 8),
    (9, 10),
)

# Framing classes, ordered from tightest to widest (the codes are stable: assets' metadata keeps them).
FRAMINGS = ("close_up", "upper_body", "three_quarter", "full_body")
FRAMING_LABELS = {
    "close_up": "close-up (head and shoulders)",
    "upper_body": "upper body (waist up)",
    "three_quarter": "three-quarter (knees up)",
    "full_body": "full body",
}
FRAMING_PICTURES = {  # "Use ... picture"
    "close_up": "a head-and-shoulders",
    "upper_body": "an upper-body (waist-up)",
    "three_quarter": "a three-quarter (knees-up)",
    "full_body": "a full-body",
}


def empty() -> np.ndarray:
    return np.full((N_LANDMARKS, 4), np.nan, dtype=np.float32)


def is_pose(lm: np.ndarray) -> bool:
    return bool(np.isfinite(lm[:, 0]).all())


def seen(lm: np.ndarray, width: int, height: int, min_visibility: float, edge_tolerance: float = 0.0) -> np.ndarray:
    """Landmarks that are visible (not occluded) and inside the frame: a (33,) bool mask.

    mediapipe predicts every landmark, also those outside the picture or hidden; its
    visibility says "in frame and not occluded", but padding the picture before detection
    makes off-picture points look visible, so the frame test is done here on the real size.
    """
    if not np.isfinite(lm[:, 0]).all():
        return np.zeros(N_LANDMARKS, dtype=bool)
    tol_x, tol_y = edge_tolerance * width, edge_tolerance * height
    inside = (
        (lm[:, 0] >= -tol_x) & (lm[:, 0] <= width - 1 + tol_x) & (lm[:, 1] >= -tol_y) & (lm[:, 1] <= height - 1 + tol_y)
    )
    return inside & (lm[:, 3] >= min_visibility)


def midpoint(lm: np.ndarray, a: int, b: int) -> np.ndarray:
    return (lm[a, :2] + lm[b, :2]) / 2.0


def torso_length(lm: np.ndarray) -> float:
    """Shoulder midpoint to hip midpoint, in pixels (the body's most stable length)."""
    return float(np.linalg.norm(midpoint(lm, *SHOULDERS) - midpoint(lm, *HIPS)))


def body_scale(lm: np.ndarray) -> float:
    """A size for normalising distances: the torso, or 1.6 x shoulder width when the torso is
    foreshortened (bending towards the camera); never 0."""
    shoulders = float(np.linalg.norm(lm[L_SHOULDER, :2] - lm[R_SHOULDER, :2]))
    return max(torso_length(lm), 1.6 * shoulders, 1.0)


def torso_angle(lm: np.ndarray) -> float:
    """Angle in degrees between the hips->shoulders axis and 'up' in the picture.

    0 = upright, 90 = lying flat, 180 = upside down.
    """
    v = midpoint(lm, *SHOULDERS) - midpoint(lm, *HIPS)
    norm = float(np.linalg.norm(v))
    if norm < 1e-6:
        return 0.0
    cos = float(np.clip(-v[1] / norm, -1.0, 1.0))  # picture y grows downwards
    return float(np.degrees(np.arccos(cos)))


def facing(lm: np.ndarray) -> float:
    """Signed shoulder width over torso length: > 0 facing the camera, < 0 back to it, ~0 side on.

    For a person facing the camera their left shoulder is on the picture's right.
    """
    return float((lm[L_SHOULDER, 0] - lm[R_SHOULDER, 0]) / body_scale(lm))


def framing(mask: np.ndarray) -> str:
    """The framing class from the landmarks in frame: full_body when an ankle or foot shows,
    three_quarter (knees up) when a knee does, upper_body (waist up) when a hip or an elbow
    does, else close_up (head and shoulders)."""
    if mask[list(FEET)].any():
        return "full_body"
    if mask[list(KNEES)].any():
        return "three_quarter"
    if mask[list(HIPS)].any() or mask[list(ELBOWS)].any():
        return "upper_body"
    return "close_up"


def wrist_on_torso(lm: np.ndarray, wrist: int) -> tuple[float, float]:
    """Where a wrist sits against the torso: (depth, reach).

    depth: along the torso, 0 at the shoulders' midpoint, 1 at the hips' (beyond 1: the thighs);
    reach: how far the wrist lies outside the torso's outline, in torso lengths (negative:
    inside it). The outline narrows straight from the shoulders' width to the hips' and keeps
    the hips' width below them. Measured across the torso's own axis, so a leaning body works.
    """
    top, bottom = midpoint(lm, *SHOULDERS), midpoint(lm, *HIPS)
    axis = bottom - top
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        return float("nan"), float("nan")
    down = axis / length
    across = np.array([-down[1], down[0]])
    rel = lm[wrist, :2] - top
    depth = float(rel @ down) / length
    half_top = abs(float((lm[L_SHOULDER, :2] - lm[R_SHOULDER, :2]) @ across)) / 2
    half_bottom = abs(float((lm[L_HIP, :2] - lm[R_HIP, :2]) @ across)) / 2
    half = half_top + (half_bottom - half_top) * min(max(depth, 0.0), 1.0)
    return depth, (abs(float(rel @ across)) - half) / length


def subject_box(
    lm: np.ndarray, mask: np.ndarray, width: int, height: int, pad: float
) -> tuple[float, float, float, float]:
    """Box around the seen landmarks, grown by `pad` x its height on each side (landmarks sit
    inside the body outline: the top of the head, hair and clothes reach past them), clipped
    to the frame. Returns (x0, y0, x1, y1) in pixels; all zeros when nothing is seen."""
    if not mask.any():
        return (0.0, 0.0, 0.0, 0.0)
    pts = lm[mask, :2]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    grow = pad * max(y1 - y0, x1 - x0)
    return (
        float(max(0.0, x0 - grow)),
        float(max(0.0, y0 - grow)),
        float(min(width, x1 + grow)),
        float(min(height, y1 + grow)),
    )


def box_area_fraction(box: tuple[float, float, float, float], width: int, height: int) -> float:
    x0, y0, x1, y1 = box
    if width <= 0 or height <= 0:
        return 0.0
    return max(0.0, x1 - x0) * max(0.0, y1 - y0) / float(width * height)
