"""The motion-agreement score: 0 = no motion (a pose held still), 100 = the reference's own
motion. Used by kmc_ui/engine/agreement.py.

Per limb (elbow + wrist, knee + ankle), on root-centred, torso-normalised skeletons, over the
result frames that could be compared with the reference:

    limb score = 100 * clamp(1 - sum(result error) / sum(still error), 0, 1) * compared / frames

The result error of a frame is the distance of the limb's joints from the reference's
(retargeted) pose at the aligned time; the still error is the distance a pose held still would
have there, summed over the same frames, for the better of two still poses: the reference's
first pose (a result frozen on its first frame) and the reference's median pose (a result that
stays near, or wanders around, the reference's typical pose without following it, like the
reference played backwards). Both are measured on the same frames as the result, so no choice of
frames makes a still result score. A limb the reference barely moves is normalised by at least
MIN_MOTION torso a frame. A frame that cannot be compared (no person, the limb invisible, a
frame the time alignment could not place) is a failure: it scores 0 (the `compared / frames`
factor).

The headline is the limbs' mean weighted by how much the reference moves each limb (its mean
still error over the clip), so joints that barely move cannot carry it and no limb's value can
contradict it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmc_ui.engine.motion import MIRROR
from kmc_ui.pose import landmarks as L

LIMB_JOINTS: dict[str, tuple[int, int]] = {
    "left_arm": (L.L_ELBOW, L.L_WRIST),
    "right_arm": (L.R_ELBOW, L.R_WRIST),
    "left_leg": (L.L_KNEE, L.L_ANKLE),
    "right_leg": (L.R_KNEE, L.R_ANKLE),
}
DISTANCE_CAP = 2.0  # torso lengths: one misread joint cannot outweigh a whole clip
MIN_MOTION = 0.05  # torso lengths a frame: the least still error a limb is normalised by
STILL_WEIGHT = 1e-3  # below this mean motion (torso) every limb counts the same
LIMB_JOINTS_LIST = list(LIMB_JOINTS.values())
_JOINTS = np.array([j for pair in LIMB_JOINTS.values() for j in pair])  # (8,) limb by limb


def _per_limb(dist: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(N,8) joint distances -> (4,) per-limb sums of the limb's mean distance over `ok` frames."""
    per = dist.reshape(len(dist), len(LIMB_JOINTS), 2).mean(axis=2)
    return np.where(ok[:, None], per, 0.0).sum(axis=0)


@dataclass
class LimbSums:
    result: float = 0.0  # summed result error over the compared frames (torso lengths)
    first: float = 0.0  # summed error of the reference's first pose held, same frames
    median: float = 0.0  # summed error of the reference's median pose held, same frames
    compared: int = 0
    failed: int = 0  # frames that could not be compared (they score 0)

    def score(self) -> float | None:
        return _limb_score(self.result, self.first, self.median, self.compared, self.failed)


def _limb_score(result: float, first: float, median: float, compared: int, failed: int) -> float | None:
    if compared + failed == 0:
        return None
    if compared == 0:
        return 0.0
    still = max(min(first, median), compared * MIN_MOTION)
    return 100.0 * float(np.clip(1.0 - result / still, 0.0, 1.0)) * compared / (compared + failed)


def _capped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances (torso lengths, capped) between two (..., 2) point sets."""
    return np.minimum(np.linalg.norm(a - b, axis=-1), DISTANCE_CAP)


def _limb_error(a: np.ndarray, b: np.ndarray, joints: tuple[int, int]) -> float:
    """Mean distance (torso lengths, capped) of a limb's joints between two (33, 2) skeletons."""
    return float(np.mean(_capped(a[list(joints)], b[list(joints)])))


class ScoreTally:
    """Collects per-frame limb errors against the reference; `scores()` gives the result.

    `targets`: (T, 33, 2) the reference retargeted, root-centred, torso-normalised;
    `shows`: (T, 4) whether the reference shows each limb (LIMB_JOINTS order) at each frame;
    `start`: the index of the reference's first pose."""

    def __init__(self, targets: np.ndarray, shows: np.ndarray, start: int) -> None:
        self.targets = targets
        self.shows = shows
        self.first_pose = targets[start]
        self.median_pose = np.nanmedian(targets, axis=0)
        self.motion = {
            name: min(self._mean_error(k, self.first_pose), self._mean_error(k, self.median_pose))
            for k, name in enumerate(LIMB_JOINTS)
        }
        self.sums = {name: LimbSums() for name in LIMB_JOINTS}

    def _mean_error(self, k: int, still: np.ndarray) -> float:
        """Limb k's mean distance from `still` over the reference frames that show it."""
        errs = [_limb_error(t, still, LIMB_JOINTS_LIST[k]) for t in self.targets[self.shows[:, k]]]
        return float(np.mean(errs)) if errs else 0.0

    def frame(self, j: int, pose: np.ndarray | None, lost: set[str]) -> None:
        """Result frame aligned with reference frame j: `pose` (33, 2) or None (nobody found);
        `lost`: limbs the result does not show there (failures)."""
        target = self.targets[j]
        for k, (name, joints) in enumerate(LIMB_JOINTS.items()):
            sums = self.sums[name]
            if not self.shows[j, k]:
                continue  # the reference does not show this limb either
            if pose is None or name in lost:
                sums.failed += 1
                continue
            sums.result += _limb_error(pose, target, joints)
            sums.first += _limb_error(self.first_pose, target, joints)
            sums.median += _limb_error(self.median_pose, target, joints)
            sums.compared += 1

    def failure(self) -> None:
        """A result frame that could not be compared at all (not aligned with the reference)."""
        for sums in self.sums.values():
            sums.failed += 1

    def quick_score(self, poses: np.ndarray, idx: np.ndarray, ok: np.ndarray) -> float:
        """The headline if result frame i (`poses`: (N,33,2)) showed reference frame idx[i]
        (frames where `ok` is False are failures), for choosing the alignment: no visibilities,
        each frame's labels read the way that fits best."""
        target = self.targets[idx][:, _JOINTS]  # (N,8,2)
        plain = _capped(poses[:, _JOINTS], target)
        mirrored = _capped(poses[:, MIRROR][:, _JOINTS], target)
        res = np.where((mirrored.sum(axis=1) < plain.sum(axis=1))[:, None], mirrored, plain)
        sums = [_per_limb(res, ok)]
        sums += [_per_limb(_capped(still[_JOINTS][None], target), ok) for still in (self.first_pose, self.median_pose)]
        compared, failed = int(ok.sum()), int((~ok).sum())
        limbs = [_limb_score(r, f, m, compared, failed) or 0.0 for r, f, m in zip(*sums, strict=True)]
        weights = np.array([self.motion[name] for name in LIMB_JOINTS]) + STILL_WEIGHT
        return float((weights * np.array(limbs)).sum() / weights.sum())

    def scores(self) -> tuple[float, dict[str, float | None], dict[str, float]]:
        """(headline, per-limb scores (None: never compared), per-limb weights summing to 1)."""
        limbs = {name: sums.score() for name, sums in self.sums.items()}
        scored = [name for name, s in limbs.items() if s is not None]
        if not scored:
            return 0.0, limbs, dict.fromkeys(LIMB_JOINTS, 0.0)
        raw = {name: self.motion[name] if name in scored else 0.0 for name in LIMB_JOINTS}
        if sum(raw.values()) < STILL_WEIGHT:
            raw = {name: 1.0 if name in scored else 0.0 for name in LIMB_JOINTS}
        total = sum(raw.values())
        weights = {name: w / total for name, w in raw.items()}
        headline = sum(weights[name] * (limbs[name] or 0.0) for name in scored)
        return float(headline), limbs, weights
