"""An arm's soft rim without the body's colour (kmc_ui/engine/rim.py): the feathered pixels of an arm
layer that lie on the body in a colour far from the arm's are left to the body's layer; over the
backdrop, or in the arm's own colour, the feather stays.

Real code paths: a drawn arm for the rule, and the man's photo in ../shared/media (skipped with a
reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine.rig import _dilate, feathered
from kmc_ui.engine.rim import RIM_EDGE, nearest_colour, own_rim
from tests.test_engine_pieces import _photo_rig, arm_colours

SKIN, NAVY, TAN = (160.0, 185.0, 225.0), (70.0, 40.0, 35.0), (150.0, 175.0, 215.0)  # BGR


def test_an_arms_feather_on_the_body_is_the_bodys_unless_it_is_the_arms_colour() -> None:
    """A skin arm (x 100-129) hanging between navy shorts (its left, x 60-99) and a tan top (its
    right, x 130-169), over the backdrop below y 150. Its feather on the shorts goes (but for half
    of the pixel right beside its edge); on the backdrop and on the tan top (the arm's colour) it
    stays as it was."""
    bgr = np.zeros((200, 240, 3), np.float32)
    bgr[:, 60:100], bgr[:, 100:130], bgr[:, 130:170] = NAVY, SKIN, TAN
    character = np.zeros((200, 240), bool)
    character[:150, 60:170] = True
    character[150:, 100:130] = True  # the arm alone below the body
    region = np.zeros_like(character)
    region[:, 100:130] = True
    grown = _dilate(region, 1) > 0
    soft = feathered(grown, 2.0) * character
    out = own_rim(bgr, grown, region, soft, character)
    assert np.array_equal(out[region], soft[region])  # the arm itself is whole
    rows = slice(10, 140)
    assert soft[rows, 96:99].min() > 0.2  # the feather reached onto the shorts ...
    assert out[rows, 96:98].max() == 0.0  # ... and is gone there
    assert out[rows, 98].min() > 0.0 and out[rows, 98].max() <= RIM_EDGE  # the pixel beside its edge: half
    assert np.array_equal(out[rows, 131:136], soft[rows, 131:136])  # on the tan top: kept
    assert np.array_equal(out[160:, :], soft[160:, :])  # below the body nothing is on the character


def test_the_mans_hands_carry_no_halo_of_his_shorts(shared_media: Path) -> None:
    """The man's hands hang against his navy shorts and his jacket's hem: his arm layers' feather
    carried them, a dark halo around his hands once they rose over the wall. Summed over both arm
    layers, the opacity of their soft pixels (0.02-0.99, on the character) more than 30 Lab units from
    the nearest opaque pixel of the arm: 1,434 before, 866 now."""
    cut, rig = _photo_rig(shared_media / "person_man_fullbody.png")
    total = 0.0
    for a, colour in arm_colours(rig):
        lab = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB).astype(np.float32)
        core = cv2.erode((a > 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        nearest, _ = nearest_colour(core, lab)
        soft = (a > 0.02) & (a < 0.99) & (cut.alpha > 0.5)
        unlike = soft & (np.linalg.norm(lab - nearest, axis=-1) > 30)
        total += float(a[unlike].sum())
    assert total < 1050, round(total, 1)
