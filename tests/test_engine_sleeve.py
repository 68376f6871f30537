"""A puffy sleeve's bulge past a bent elbow goes with the arm (rig.elbow_corner), and a hole whose
only source beside it is a sliver is filled smoothly, not with the sliver repeated (inpaint).

Real code paths: drawn joints and rows for the rules themselves, and the real anime half-figure in
../shared/media (skipped with a reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine.inpaint import fill_inside, reflect_rows
from kmc_ui.engine.rig import ELBOW_REACH, elbow_corner
from tests.test_engine_pieces import _photo_rig


def test_the_corner_of_a_bent_elbow_is_past_it_and_away_from_the_torso() -> None:
    """A left arm hangs from (100, 50) to its elbow (100, 150), its forearm bent in across the body to
    (50, 200): the corner is below the elbow on the forearm's outer side, not on the torso's side of
    the forearm, not above the elbow, and not beyond ELBOW_REACH radii."""
    pts = {
        "11": np.array([100.0, 50.0]),
        "12": np.array([20.0, 50.0]),
        "13": np.array([100.0, 150.0]),
        "15": np.array([50.0, 200.0]),
        "23": np.array([90.0, 200.0]),
        "24": np.array([30.0, 200.0]),
    }
    radii = {"l_upper": 15.0, "l_fore": 12.0}
    corner = elbow_corner((260, 200), pts, "l", radii)
    assert corner[185, 110] and corner[170, 100]  # below and outside the elbow
    assert corner[215, 70]  # beside the forearm's far side, near the wrist
    assert not corner[150, 70]  # the torso's side of the forearm
    assert not corner[120, 110]  # above the elbow: the upper arm's own side
    assert not corner[150, 100 + round(ELBOW_REACH * 15) + 3]  # out of reach


def test_the_half_figures_puffy_sleeve_moves_with_her_arm(shared_media: Path) -> None:
    """The anime half-figure's left forearm crosses her corset to her clasped hands, and the pose
    read its elbow high, so the lower half of the puffy sleeve lay outside the arm's capsules: it
    stayed on the body, a white flap on the skirt once the arm moved (3,501 light opaque pixels of
    the body layer around it before). Now grabCut may take the elbow's outer corner for the arm
    when its colour is the arm's: under 300 such pixels stay on the body, and the arm holds the
    sleeve (3,069 light pixels there before, over 5,000 now)."""
    _, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    box = (slice(380, 460), slice(230, 335))  # below the read elbow (294, 359), beside the forearm

    def light(name: str) -> int:
        layer = rig.layer(name)
        assert layer is not None
        a = layer.texture[..., 3]
        colour = np.clip(layer.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)
        lightness = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB)[..., 0]
        return int(((a[box] > 0.5) & (lightness[box] > 200)).sum())

    assert light("body") < 300
    assert light("left_arm") > 5000


def test_a_hole_beside_only_a_sliver_is_filled_smoothly() -> None:
    """Rows 10-29 of the body have a hole from x 32 to the body's edge (x 60, nothing known past it);
    the only known pixels beside it are a 2 px white sliver (a cuff's edge) with the other arm (not
    a source) beyond it. Mirrored, the sliver repeated across the hole as white stripes; now those
    rows get the smooth fill, which reads the body's dark pixels above and below."""
    dark, white = (90.0, 40.0, 30.0), (250.0, 250.0, 250.0)
    img = np.zeros((40, 80, 3), np.float32)
    img[:, :60] = dark
    img[10:30, 30:32] = white
    hole = np.zeros((40, 80), bool)
    hole[10:30, 32:60] = True
    source = np.zeros((40, 80), bool)
    source[:10, :60] = source[30:, :60] = True  # the body's own pixels above and below
    source[10:30, 30:32] = True  # the sliver; x 0-30 on those rows is the other arm
    _, got = reflect_rows(img, hole, source)
    assert not got[10:30].any()
    filled = fill_inside(img, hole, source)[hole]
    assert np.abs(filled - np.array(dark)).max(axis=1).mean() < 40.0  # dark, not white stripes
