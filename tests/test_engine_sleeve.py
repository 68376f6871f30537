"""A puffy sleeve's bulge past a bent elbow goes with the arm (rig.elbow_corner), and a hole whose
only source beside it is a sliver is filled smoothly, not with the sliver repeated (inpaint).

Real code paths: drawn joints and rows for the rules themselves, and the real anime half-figure in
../shared/media (skipped with a reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine.deform import GRID, Renderer
from kmc_ui.engine.inpaint import fill_inside, reflect_rows
from kmc_ui.engine.pipeline import _rig
from kmc_ui.engine.rig import ELBOW_REACH, elbow_corner, torso_length
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


def test_the_half_figures_calibrated_elbow_takes_no_corset_with_her_forearm(shared_media: Path) -> None:
    """Calibration moves the half-figure's left elbow 0.1 torso further up her puffy sleeve (where
    the pose model reads the moved puppet's), and the layers are cut again around it. Her forearm's
    bone then ran across her corset's corner and its core held a dark tab of it, which went with
    the arm in every frame (281 dark opaque pixels in the arm's layer there). The arms are told
    from the body as the still's rig told them (`arms`): 3 such pixels. Her forearm's bone lies
    along its edge then: its core points keep inside the layer, and where the bone runs off the
    arm, `breaks` does not count it once the forearm swings out."""
    cut, _ = _photo_rig(shared_media / "character_anime_upperbody.png")
    lm = cut.landmarks.copy()
    up = lm[11, :2] - lm[13, :2]
    lm[13, :2] += 0.1 * torso_length(lm) * up / np.linalg.norm(up)  # as calibration moved it
    box = (slice(330, 420), slice(200, 300))  # her inner elbow and the corset's corner beside it

    def dark(rig) -> int:
        layer = rig.layer("left_arm")
        a = layer.texture[..., 3]
        colour = layer.texture[..., :3] / np.maximum(a[..., None], 1e-6)
        return int(((a[box] > 0.5) & (colour[box].mean(axis=2) < 90)).sum())

    assert dark(_rig(replace(cut, landmarks=lm), 1.0)[0]) > 200  # cut around the moved elbow
    still = _rig(cut, 1.0)[0]
    rig = _rig(replace(cut, landmarks=lm), 1.0, arms=still.arms)[0]
    assert dark(rig) < 30
    assert rig.arms is still.arms  # the arms' split from the body is taken, not cut again
    assert np.allclose(rig.landmarks[13, :2], lm[13, :2])  # she still bends at the calibrated elbow

    arm = rig.layer("left_arm")
    tri, bary = rig.core_points["left_arm"]
    core = np.round(np.einsum("pk,pki->pi", bary, arm.rest[arm.triangles[tri]])).astype(int)
    thin = cv2.dilate((arm.texture[..., 3] <= 0.9).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert len(core) > 100 and not thin[core[:, 1], core[:, 0]].any()

    target = rig.landmarks.copy()
    turn = np.array([[np.cos(1.2), np.sin(1.2)], [-np.sin(1.2), np.cos(1.2)]])
    for j in (15, 17, 19, 21):  # her forearm and hand swung out about the elbow
        target[j, :2] = target[13, :2] + turn @ (target[j, :2] - target[13, :2])
    drawn = Renderer(rig, np.full((rig.height, rig.width, 3), 255, np.uint8), 1.0, GRID)
    assert drawn.open_axis[(13, 15)].any()
    assert drawn.render(target.copy())[1].breaks == 0.0
    drawn.open_axis = {}
    assert drawn.render(target.copy())[1].breaks > 0.05


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
