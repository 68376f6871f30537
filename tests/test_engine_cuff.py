"""A cuff wider than the forearm's cut: its edge left on the body beside the wrist is the arm's
(kmc_ui/engine/cuff.py), and nothing else is: a jacket's hem beside a bare wrist, a bare wrist
beside a bare waist.

Real code paths: drawn pictures for the rule, and the real photos in ../shared/media (skipped with
a reason when absent) cut out and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine.cuff import cuff_rim
from tests.test_engine_pieces import _photo_rig

NAVY, WHITE, SKIN, RED, DENIM = (30, 35, 60), (240, 240, 236), (225, 180, 150), (190, 50, 45), (50, 80, 140)
TORSO = 200.0
ELBOW, WRIST = np.array([150.0, 40.0]), np.array([150.0, 160.0])


def _arm(forearm: tuple[int, int, int], beside: tuple[int, int, int], cuff: tuple[int, int, int]):
    """A 200x300 picture: a body of colour `beside` (x 160-300) and a vertical forearm (x 135-164,
    its bone x 150 from y 40 to the wrist at y 160) of colour `forearm` over its edge, whose last 20 px
    above the wrist are a `cuff` reaching 6 px further right (to x 170). The arm's region is cut at
    the forearm's capsule (x 135-164): the cuff's 6 px past it lie on the body."""
    rgb = np.zeros((200, 300, 3), np.uint8)
    rgb[:, 160:] = beside
    rgb[:170, 135:165] = forearm
    rgb[140:165, 135:171] = cuff
    region = np.zeros((200, 300), bool)
    region[:170, 135:165] = True
    body = np.zeros_like(region)
    body[:, 160:] = True
    body &= ~region
    return rgb, region, body


def test_a_white_cuff_left_on_a_navy_corset_is_the_arms() -> None:
    """The half-figure's case: a white sleeve and cuff against navy. The cuff's edge on the body is
    taken, and only it: not the corset, not what lies above the forearm's last third."""
    rgb, region, body = _arm(WHITE, NAVY, WHITE)
    got = cuff_rim(rgb, region, body, ELBOW, WRIST, 15.0, TORSO)
    assert got[142:163, 166:170].all()
    assert not got[:, 171:].any() and not got[:100].any()


def test_a_hem_beside_a_bare_wrist_or_a_bare_waist_is_not() -> None:
    """A bare forearm beside a red jacket whose hem reaches past the cut: the hem is not the
    forearm's colour, so nothing is taken (the man's jacket). A bare forearm beside bare skin: the
    body there is the arm's colour, no telling whose it is, so it stays the body's. A cuff of the
    forearm's colour past the cut on denim is taken (that rule's counterpart)."""
    rgb, region, body = _arm(SKIN, RED, RED)
    assert not cuff_rim(rgb, region, body, ELBOW, WRIST, 15.0, TORSO).any()
    rgb, region, body = _arm(SKIN, SKIN, SKIN)
    assert not cuff_rim(rgb, region, body, ELBOW, WRIST, 15.0, TORSO).any()
    rgb, region, body = _arm(SKIN, DENIM, SKIN)
    assert cuff_rim(rgb, region, body, ELBOW, WRIST, 15.0, TORSO)[142:163, 166:170].all()
    # far from the wrist (the cuff moved up to the elbow) nothing is looked at
    rgb, region, body = _arm(WHITE, NAVY, NAVY)
    rgb[40:65, 135:171] = WHITE
    assert not cuff_rim(rgb, region, body, ELBOW, WRIST, 15.0, TORSO).any()


def _white_on_body(path: Path) -> int:
    _, rig = _photo_rig(path)
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = np.clip(body.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)
    lightness = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB)[..., 0]
    return int(((a[380:470, 100:300] > 0.5) & (lightness[380:470, 100:300] > 200)).sum())


def test_the_half_figures_corset_keeps_no_white_from_her_right_cuff(shared_media: Path) -> None:
    """Her right cuff and sleeve's inner edge reach past her forearm's cut onto her navy corset: 56
    white pixels stayed on the body around her hands (x 100-299, y 380-469), a white shard once the
    arm moved. Now none."""
    assert _white_on_body(shared_media / "character_anime_upperbody.png") == 0
