"""Flaps: pieces of the body layer hanging beside the torso's side under an upper arm.

Where an arm hid the body, the body layer is filled in under it (kmc_ui/engine/rig.py). When that
fill, or a piece of the picture the arm's cut left on the body, lies past the torso's side with
the backdrop between them, it hangs there once the arm rises: the man's red tab under his raised
right arm (stop 50), the armour's flap under its pauldron. None of the per-frame measures sees it
(the body covers its own axis, nothing tears, nothing of the filled backdrop shows), so it is
measured on the rig: on each row from below the shoulder's cap to the elbow, going outward from
the torso's middle, does the body layer's opaque part start again after a gap?
"""

from __future__ import annotations

import numpy as np

from kmc_ui.engine.rig import SHOULDER_CAP, Rig
from kmc_ui.pose import landmarks as L

UPPER_ARMS = {
    "left upper arm": (L.L_SHOULDER, L.L_ELBOW, "l_upper"),
    "right upper arm": (L.R_SHOULDER, L.R_ELBOW, "r_upper"),
}


def flap_rows(rig: Rig) -> dict[str, tuple[int, int]]:
    """Per upper arm: (rows looked at, rows where the body layer has opaque pixels past a gap)."""
    body = rig.layer("body")
    if body is None:
        return {}
    return rows_past_a_gap(body.texture[..., 3] > 0.5, rig.landmarks, rig.radii)


def rows_past_a_gap(opaque: np.ndarray, landmarks: np.ndarray, radii: dict[str, float]) -> dict[str, tuple[int, int]]:
    """flap_rows on a body's opacity mask, its pose landmarks (33, >=2) and the bones' radii."""
    out: dict[str, tuple[int, int]] = {}
    lm = landmarks
    middle = round(0.5 * float(lm[L.L_SHOULDER, 0] + lm[L.R_SHOULDER, 0]))
    for name, (shoulder, elbow, bone) in UPPER_ARMS.items():
        sx, sy = lm[shoulder, :2]
        y0 = max(0, int(sy + SHOULDER_CAP * radii[bone]))
        y1 = min(opaque.shape[0], int(lm[elbow, 1]))
        rows = opaque[y0:y1, middle:] if sx > middle else opaque[y0:y1, middle::-1]
        starts = (np.diff(rows.astype(np.int8), axis=1) == 1).sum(axis=1) + rows[:, 0]
        out[name] = (max(0, y1 - y0), int((starts > 1).sum()))
    return out
