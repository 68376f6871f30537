"""The body's outline where an arm hid it (kmc_ui/engine/outline.py), and the body's fill there
read away from the arm's mixed edge (kmc_ui/engine/rig.py).

Real code paths: drawn masks for the rule itself, and the real woman's photo in ../shared/media
(skipped with a reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmc_ui.engine.outline import hidden_outline
from kmc_ui.pose import landmarks as L
from tests.test_engine_pieces import _photo_rig


def _body_and_arm(arm_rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A body x 100-199 (rows 0-399, its torso rows 50-250) and an arm x 185-229 lying over its
    right edge on `arm_rows`."""
    mask = np.zeros((400, 300), bool)
    mask[:, 100:200] = True
    arm = np.zeros_like(mask)
    arm[arm_rows[0] : arm_rows[1], 185:230] = True
    mask |= arm
    pts = {"11": np.array([180.0, 50.0]), "12": np.array([120.0, 50.0])}
    pts["23"], pts["24"] = np.array([180.0, 250.0]), np.array([120.0, 250.0])
    return mask, arm, pts


def test_a_hidden_side_runs_straight_between_where_it_shows() -> None:
    """Where the arm covers the body's side between two rows that show it, the arm's pixels inside
    that line are body and those outside are not, whatever the hull guessed: its guess past the
    edge (x 200-214) goes, its notch inside (x 185-189 on rows 240-259) is filled."""
    mask, arm, pts = _body_and_arm((200, 300))
    behind = arm.copy()
    behind[:, 215:] = False  # the hull's guess: 15 px past the body's edge
    behind[240:260, 185:190] = False  # and a notch it left inside
    out = hidden_outline(mask, arm, behind, pts, 200.0)
    assert out[200:300, 185:200].all()
    assert not out[200:300, 200:].any()
    assert np.array_equal(out[:200], behind[:200]) and np.array_equal(out[300:], behind[300:])


def test_the_side_is_left_to_the_hull_where_it_never_shows_above() -> None:
    """At the shoulder the arm joins the body: rows above the armpit (0.3 torso below the
    shoulders) do not bound a run, and a run longer than 0.8 torso is not carried either; the
    line never cuts inside the body's own pixels on a row."""
    mask, arm, pts = _body_and_arm((30, 150))  # from above the shoulders' line to below the armpit
    behind = arm & (np.arange(300) < 215)[None, :]
    assert np.array_equal(hidden_outline(mask, arm, behind, pts, 200.0), behind)
    mask, arm, pts = _body_and_arm((120, 300))  # shows above, but 180 rows > 0.8 x 200 torso
    behind = arm & (np.arange(300) < 215)[None, :]
    assert np.array_equal(hidden_outline(mask, arm, behind, pts, 200.0), behind)
    # the body's own pixels on the arm (a patch in front of it, x 205-209) keep what lies between
    # them and the body inside: no gap is cut between them
    mask, arm, pts = _body_and_arm((200, 300))
    arm[200:300, 205:210] = False
    behind = arm & (np.arange(300) < 215)[None, :]
    out = hidden_outline(mask, arm, behind, pts, 200.0)
    assert out[200:300, 185:205].all() and not out[200:300, 210:].any()


def test_the_shorts_under_her_hand_are_filled_with_denim(shared_media: Path) -> None:
    """The woman's right hand lies over the side of her shorts. The body layer there (from her hip
    down to just below the wrist, out to 0.3 torso beside it) was filled partly from the skin of
    her hand's soft edge (139 skin-coloured pixels: a skin wedge in the shorts once the hand moved);
    now it is denim (2 such pixels)."""
    cut, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    lm = cut.landmarks
    hip, wrist = lm[L.R_HIP, :2], lm[L.R_WRIST, :2]
    y0, y1 = int(hip[1]), int(wrist[1] + 0.1 * rig.torso)
    x0, x1 = int(wrist[0] - 0.3 * rig.torso), int(hip[0])
    t = body.texture[y0:y1, x0:x1]
    a = t[..., 3]
    colour = t[..., :3] / np.maximum(a[..., None], 1e-6)  # BGR
    opaque = a > 0.5
    skin = opaque & (colour[..., 2] > colour[..., 0] + 40)
    denim = opaque & (colour[..., 0] > colour[..., 2] + 20)
    assert int(skin.sum()) < 20, int(skin.sum())
    assert int(denim.sum()) > 1200, int(denim.sum())  # the shorts themselves are all there
