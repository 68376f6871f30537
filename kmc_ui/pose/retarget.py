"""Retargeting: the motion's skeleton with the character's proportions, placed on the character.

`retarget(source_seq, character)` walks a kinematic tree rooted at the hip midpoint. For
every bone it keeps the source's direction (and its foreshortening relative to the source
bone's typical length) and uses the character's bone length; the root follows the source's
root displacement scaled by the ratio of the two torsos. The offline engine reuses it.

All arrays are (33, 4) / (T, 33, 4): x_px, y_px, z, visibility. Output is in the
character image's pixel coordinates; a source frame without a pose gives a NaN row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kmc_ui.pose import landmarks as L

ROOT, NECK = 33, 34  # virtual joints: hip midpoint, shoulder midpoint
PARENT: dict[int, int] = {
    L.L_HIP: ROOT,
    L.R_HIP: ROOT,
    L.L_KNEE: L.L_HIP,
    L.R_KNEE: L.R_HIP,
    L.L_ANKLE: L.L_KNEE,
    L.R_ANKLE: L.R_KNEE,
    29: L.L_ANKLE,
    30: L.R_ANKLE,
    31: L.L_ANKLE,
    32: L.R_ANKLE,
    NECK: ROOT,
    L.L_SHOULDER: NECK,
    L.R_SHOULDER: NECK,
    L.L_ELBOW: L.L_SHOULDER,
    L.R_ELBOW: L.R_SHOULDER,
    L.L_WRIST: L.L_ELBOW,
    L.R_WRIST: L.R_ELBOW,
    17: L.L_WRIST,
    19: L.L_WRIST,
    21: L.L_WRIST,
    18: L.R_WRIST,
    20: L.R_WRIST,
    22: L.R_WRIST,
    L.NOSE: NECK,
    **{i: L.NOSE for i in range(1, 11)},
}


def _order() -> tuple[int, ...]:
    done, out = {ROOT}, []
    while len(out) < len(PARENT):
        for child, parent in PARENT.items():
            if child not in done and parent in done:
                done.add(child)
                out.append(child)
    return tuple(out)


ORDER: tuple[int, ...] = _order()  # parents before children
MIN_TRUSTED = 0.6  # a character bone shorter than this share of its expected length is foreshortened
MAX_STRETCH = 1.2  # a source bone may look at most this much longer than its typical length
# A limb the video does not show (its end outside the frame or read with visibility under SHOWN_VIS
# in all but SHOWN_SHARE of the frames: a talking head's hands, guessed below the frame) is held in
# the character's own pose instead of following the pose model's guesses
SHOWN_VIS = 0.5
SHOWN_SHARE = 0.2
RAISED = 0.25  # of the torso: a held arm's wrist this far above its shoulder is by the head (hands_by_head)
LIMBS: tuple[tuple[int, ...], ...] = (
    (L.L_SHOULDER, L.L_ELBOW, L.L_WRIST, 17, 19, 21),
    (L.R_SHOULDER, L.R_ELBOW, L.R_WRIST, 18, 20, 22),
    (L.L_HIP, L.L_KNEE, L.L_ANKLE, 29, 31),
    (L.R_HIP, L.R_KNEE, L.R_ANKLE, 30, 32),
)


def _extended(lm: np.ndarray) -> np.ndarray:
    """(..., 35, 2): the 33 points plus the root and the neck."""
    xy = lm[..., :2]
    root = (xy[..., L.L_HIP, :] + xy[..., L.R_HIP, :]) / 2.0
    neck = (xy[..., L.L_SHOULDER, :] + xy[..., L.R_SHOULDER, :]) / 2.0
    return np.concatenate([xy, root[..., None, :], neck[..., None, :]], axis=-2)


def bone_lengths(lm: np.ndarray) -> dict[int, float]:
    """Length (px) of the bone ending at each joint (keyed by the child joint)."""
    ext = _extended(lm)
    return {c: float(np.linalg.norm(ext[c] - ext[p])) for c, p in PARENT.items()}


def _as_array(seq: Any) -> np.ndarray:
    if isinstance(seq, np.ndarray):
        arr = seq.astype(np.float32, copy=False)
        return arr[None] if arr.ndim == 2 else arr
    rows = []
    for item in seq:
        if item is None:
            rows.append(L.empty())
        elif isinstance(item, np.ndarray):
            rows.append(item.astype(np.float32))
        else:
            rows.append(np.asarray(item.landmarks, dtype=np.float32))
    return np.stack(rows) if rows else np.zeros((0, 33, 4), np.float32)


def arms_off_the_picture(character: np.ndarray, width: int, height: int) -> tuple[int, ...]:
    """The arms (indices into LIMBS: 0 the left, 1 the right) that a `width` x `height` picture cuts
    off at its edge: an elbow, wrist or hand point of theirs (the character's (33, 4) landmarks, the
    pose model's guess there) lies outside it. A waist-up photo's forearms end at its bottom edge."""
    xy = character[:, :2]
    outside = (xy[:, 0] < 0) | (xy[:, 0] > width - 1) | (xy[:, 1] < 0) | (xy[:, 1] > height - 1)
    return tuple(i for i, (_, *rest) in enumerate(LIMBS[:2]) if outside[list(rest)].any())


def hold_unshown_limbs(
    source: np.ndarray,
    character: np.ndarray,
    width: int,
    height: int,
    held: tuple[int, ...] = (),
    unshown: tuple[int, ...] | None = None,
) -> np.ndarray:
    """The motion (T, 33, 4, video pixels of a `width` x `height` video) with each limb the video
    does not show (see SHOWN_VIS), and each of `held` (indices into LIMBS), held in the character's
    own pose (hold_limbs; `held` turning with the shoulders). A talking head's arms are the pose
    model's guesses below the frame (visibility 0.03-0.05), and following them raised the
    character's hand to its chin in the first half second; an arm the picture cuts off
    (arms_off_the_picture) showed its cut end, a stump, once it moved, and held still beside a body
    that leant it came away from it. `unshown`: unshown_limbs' answer, when the caller has it."""
    unshown = unshown_limbs(source, width, height) if unshown is None else unshown
    out = hold_limbs(source, character, tuple(i for i in unshown if i not in held))
    return hold_limbs(out, character, held, turn=True)


def unshown_limbs(source: np.ndarray, width: int, height: int) -> tuple[int, ...]:
    """The limbs (indices into LIMBS) a `width` x `height` video does not show: the wrist or ankle
    inside the frame with visibility SHOWN_VIS or more in under SHOWN_SHARE of the frames."""
    xy, vis = source[..., :2], source[..., 3]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < width) & (xy[..., 1] >= 0) & (xy[..., 1] < height)
    shown = inside & (vis >= SHOWN_VIS)
    return tuple(i for i, (_, *rest) in enumerate(LIMBS) if shown[:, rest[1]].mean() < SHOWN_SHARE)  # wrist, ankle


def raised_arms(character: np.ndarray, arms: tuple[int, ...]) -> tuple[int, ...]:
    """Those of `arms` (indices into LIMBS) whose wrist the character's picture has RAISED above its
    shoulder: a hand by the head (framing the face, a wave, a peace sign)."""
    torso = L.torso_length(character)
    return tuple(i for i in arms if character[LIMBS[i][2], 1] < character[LIMBS[i][0], 1] - RAISED * torso)


def hands_by_head(targets: np.ndarray, character: np.ndarray, arms: tuple[int, ...]) -> np.ndarray:
    """Retargeted targets (T, 33, 4, the character's px) with the hand of each of `arms` (indices
    into LIMBS; held in the picture's pose, raised_arms) kept where the picture has it against the
    head: moved with the nose and turned with the eyes' line, its elbow bent between the shoulder and
    the wrist (IK, the picture's bone lengths and side of the bend); drawn back towards the shoulder
    where the arm cannot reach (in place; returned). Held against the shoulders, the anime figure's
    hand raised beside her face lay over her eye with a talking head, whose shoulders drift under it."""
    if not arms:
        return targets
    eyes = character[L.EYES[0], :2] - character[L.EYES[1], :2]
    across = targets[:, L.EYES[0], :2] - targets[:, L.EYES[1], :2]
    angle = np.arctan2(across[:, 1], across[:, 0]) - np.arctan2(eyes[1], eyes[0])
    # the line's turn, within a quarter turn: eyes read swapped (a head turned away) flip no hand
    angle = np.where(np.abs(angle) > np.pi / 2, (angle + np.pi / 2) % np.pi - np.pi / 2, angle)
    cos, sin = np.cos(angle), np.sin(angle)
    turn = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (T, 2, 2)
    nose = targets[:, L.NOSE, :2]
    for i in arms:
        shoulder, elbow, wrist, *hand = LIMBS[i]
        s0, e0, w0 = character[shoulder, :2], character[elbow, :2], character[wrist, :2]
        upper, fore = float(np.linalg.norm(e0 - s0)), float(np.linalg.norm(w0 - e0))
        (ax, ay), (bx, by) = w0 - s0, e0 - s0
        side = 1.0 if ax * by - ay * bx >= 0 else -1.0  # the elbow's side of the line shoulder-wrist
        points = [wrist, *hand]
        placed = nose[:, None] + np.einsum("tij,pj->tpi", turn, character[points, :2] - character[L.NOSE, :2])
        s = targets[:, shoulder, :2]
        reach = placed[:, 0] - s
        d = np.linalg.norm(reach, axis=1)
        within = np.clip(d, abs(upper - fore) + 1e-3, 0.999 * (upper + fore))
        unit = reach / np.maximum(d, 1e-6)[:, None]
        placed += (s + unit * within[:, None] - placed[:, 0])[:, None]  # the hand drawn back (or out) to reach
        along = (upper**2 - fore**2 + within**2) / (2 * within)
        up = np.sqrt(np.maximum(upper**2 - along**2, 0.0))
        normal = np.stack([-unit[:, 1], unit[:, 0]], -1)
        targets[:, elbow, :2] = s + unit * along[:, None] + side * normal * up[:, None]
        targets[:, points, :2] = placed
    return targets


def hold_limbs(source: np.ndarray, character: np.ndarray, limbs: tuple[int, ...], turn: bool = False) -> np.ndarray:
    """The motion (T, 33, 4) with each of `limbs` (indices into LIMBS) put in the character's own pose
    (its (33, 4) landmarks, in any pixels) from the limb's first joint on, at the motion's scale (the
    torsos' ratio): retargeted on those landmarks, the limb keeps their pose. With `turn`, that pose
    turns as the motion's shoulders do, frame by frame (an arm held against a body that leans)."""
    out = source.copy()
    s_torso = float(np.median([L.torso_length(lm) for lm in source]))
    c_torso = L.torso_length(character)
    if not np.isfinite(s_torso) or c_torso < 1.0:
        return out
    scale = s_torso / c_torso
    rotations = np.broadcast_to(np.eye(2), (len(source), 2, 2))
    if turn:
        across = source[:, L.L_SHOULDER, :2] - source[:, L.R_SHOULDER, :2]
        own = character[L.L_SHOULDER, :2] - character[L.R_SHOULDER, :2]
        angle = np.nan_to_num(np.arctan2(across[:, 1], across[:, 0]) - np.arctan2(own[1], own[0]))
        cos, sin = np.cos(angle), np.sin(angle)
        rotations = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    for i in limbs:
        first, *rest = LIMBS[i]
        for j in rest:
            offset = (character[j, :2] - character[first, :2]) * scale
            out[:, j, :2] = out[:, first, :2] + rotations @ offset
    return out


def retarget(
    source_seq: Sequence[Any] | np.ndarray,
    character: Any,
    character_seen: np.ndarray | None = None,
    root: int = ROOT,
) -> np.ndarray:
    """Motion landmarks (T,33,4) -> the same motion on the character, in its pixel coordinates.

    source_seq: (T,33,4) array, or a sequence of Pose / (33,4) arrays / None.
    character: the character's Pose or (33,4) array. character_seen: optional (33,) mask of
    the character's landmarks that are really visible; unseen bones take the source's length
    scaled by the torso ratio instead of the character's (guessed) length. root: the joint that
    starts where the character's is and follows the source's displacement (ROOT, the hips; the
    nose for a head and shoulders, whose hips are the pose model's guess below the frame: rooted
    at them, a few degrees' difference between the two guessed torsos put the talking head's face
    a fifth of a landscape frame away from the video's).
    """
    src = _as_array(source_seq)
    char = np.asarray(getattr(character, "landmarks", character), dtype=np.float32)
    if character_seen is None and hasattr(character, "seen"):
        character_seen = character.seen()
    seen_ext = np.ones(35, dtype=bool)
    if character_seen is not None:
        seen_ext[:33] = character_seen
        seen_ext[ROOT] = bool(character_seen[L.L_HIP] or character_seen[L.R_HIP])
        seen_ext[NECK] = bool(character_seen[L.L_SHOULDER] or character_seen[L.R_SHOULDER])
    out = np.full(src.shape, np.nan, dtype=np.float32)
    valid = np.isfinite(src[:, :, 0]).all(axis=1)
    if not valid.any() or not np.isfinite(char[:, :2]).all():
        return out
    s_ext = _extended(src[valid])  # (V,35,2)
    c_ext = _extended(char)  # (35,2)
    parents = np.array([PARENT[c] for c in ORDER])
    children = np.array(ORDER)
    s_vec = s_ext[:, children] - s_ext[:, parents]  # (V,B,2)
    s_len = np.linalg.norm(s_vec, axis=2)  # (V,B)
    s_ref = np.maximum(np.median(s_len, axis=0), 1e-6)  # typical length of each source bone
    c_len = np.linalg.norm(c_ext[children] - c_ext[parents], axis=1)  # (B,)
    torso_i = ORDER.index(NECK)
    scale = float(max(c_len[torso_i], 1e-6) / s_ref[torso_i])  # character torso / source torso
    expected = s_ref * scale
    trusted = seen_ext[children] & seen_ext[parents] & (c_len >= MIN_TRUSTED * expected)
    target_len = np.where(trusted, c_len, expected)
    ratio = np.minimum(s_len / s_ref, MAX_STRETCH)  # keep the source's foreshortening
    unit = s_vec / np.maximum(s_len, 1e-6)[..., None]
    bone = unit * (target_len * ratio)[..., None]  # (V,B,2)

    res = np.zeros_like(s_ext)
    first = s_ext[0, ROOT]
    res[:, ROOT] = c_ext[ROOT] + (s_ext[:, ROOT] - first) * scale
    for b, (c, p) in enumerate(zip(children, parents, strict=True)):
        res[:, c] = res[:, p] + bone[:, b]
    if root != ROOT:
        res += (c_ext[root] + (s_ext[:, root] - s_ext[0, root]) * scale - res[:, root])[:, None, :]
    tgt = np.empty((int(valid.sum()), 33, 4), dtype=np.float32)
    tgt[:, :, :2] = res[:, :33]
    tgt[:, :, 2] = src[valid][:, :, 2] * scale
    tgt[:, :, 3] = src[valid][:, :, 3]
    out[valid] = tgt
    return out
