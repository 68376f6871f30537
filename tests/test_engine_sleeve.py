"""A puffy sleeve's bulge past a bent elbow goes with the arm (rig.elbow_corner), an arm much wider
than the pose's radius is split at its own width (rig._wide_arm), and a hole whose only source
beside it is a sliver is filled smoothly, not with the sliver repeated (inpaint).

Real code paths: drawn joints and rows for the rules themselves, and the real anime half-figure in
../shared/media (skipped with a reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from kmc_ui.engine.deform import GRID, Renderer
from kmc_ui.engine.inpaint import fill_inside, reflect_rows
from kmc_ui.engine.pipeline import _rig
from kmc_ui.engine.rig import (
    ELBOW_REACH,
    SPECK,
    centred_arms,
    elbow_corner,
    limb_radii,
    named_points,
    own_width,
    specks,
    torso_length,
)
from tests.figures import standing_skeleton
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
    the arm in every frame (281 dark opaque pixels in the arm's layer there; 32 since her pose is
    read on the picture without its light bottom row, pipeline.trim_border, which reads her hips
    lower and her shoulder wider). The arms are told from the body as the still's rig told them
    (`arms`): 3 such pixels. Her forearm's bone lies along its edge then: its core points keep
    inside the layer, and where the bone runs off the arm, `breaks` does not count it once the
    forearm swings out."""
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


def _arm_beside_a_torso(gap: bool) -> tuple[np.ndarray, np.ndarray]:
    """(mask, landmarks): a torso block and a right arm 60 px wide whose pose bones run 5 px inside
    its inner edge; the arm is free of the torso below the shoulder (`gap`: background between
    them) or runs into it."""
    lm = standing_skeleton(200.0, 300.0, 500.0)  # right shoulder (220, 300), elbow (180, 400), wrist (160, 490)
    mask = np.zeros((700, 600), np.uint8)
    cv2.rectangle(mask, (235, 290), (365, 520), 1, -1)
    s, e, wr = lm[12, :2], lm[14, :2], lm[16, :2]
    for a, b in ((s, e), (e, wr)):
        u = (b - a) / np.linalg.norm(b - a)
        out = np.array([u[1], -u[0]])  # away from the torso (-x)
        if out[0] > 0:
            out = -out
        p, q = a + 25.0 * out, b + 25.0 * out
        cv2.line(mask, tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int)), 1, 61)
        cv2.circle(mask, tuple(np.round(q).astype(int)), 30, 1, -1)
    if not gap:
        cv2.rectangle(mask, (170, 330), (240, 520), 1, -1)
    return mask.astype(bool), lm


def test_a_wide_arm_free_of_the_body_is_split_at_its_own_width() -> None:
    """The armour's arms: plates twice as wide as the pose's radius says, the pose's bones along their
    inner side. Where the background bounds the arm on both sides (_wide_arm), the split's points move
    onto its middle and its radii grow to its half width (the joints stay); an arm running into the
    body is left as it was."""
    mask, lm = _arm_beside_a_torso(gap=True)
    torso = torso_length(lm)
    radii = limb_radii(mask, named_points(lm), torso)
    assert radii["r_upper"] < 15 and radii["r_fore"] < 15  # the half width from the bones to the gap
    out, wide, split = centred_arms(mask, lm, radii, torso)
    assert np.array_equal(out, lm)  # the rig bends where the pose put the joints
    assert 27 <= wide["r_upper"] <= 34 and 27 <= wide["r_fore"] <= 34, wide  # 30 px drawn
    for j in ("14", "16"):  # about 25 px out, onto the arm's middle
        moved = split[j] - named_points(lm)[j]
        assert 20 <= np.linalg.norm(moved) <= 30 and moved[0] < 0, (j, moved)
    assert wide["l_upper"] == radii["l_upper"]  # the other arm, not drawn: unchanged

    pts = named_points(lm)
    assert own_width(mask, pts["12"], pts["14"], torso) is not None
    mask, _ = _arm_beside_a_torso(gap=False)
    assert own_width(mask, pts["12"], pts["14"], torso) is None  # no telling the arm's inner edge


def test_the_armours_outer_plate_goes_with_its_arm(shared_media: Path) -> None:
    """The armour's right upper arm: the pose's bone runs along its inner side, and its capsule took
    the inner half; the outer plate (x 168-195, y 215-269) stayed on the body, and hung from the
    shoulder pad once the arm rose (752 of its 1192 pixels on the body, 509 on the arm). Split at
    the arm's own width, the arm takes it."""
    picture = shared_media / "character_armor_fullbody.png"
    if not picture.is_file():
        pytest.skip("the shared armour picture is needed")
    cut, rig = _photo_rig(picture)
    box = (slice(215, 270), slice(168, 196))
    inside = cut.alpha[box] >= 0.5
    assert inside.sum() > 1000
    on = {name: int(((rig.layer(name).texture[..., 3][box] > 0.5) & inside).sum()) for name in ("body", "right_arm")}
    assert on["right_arm"] >= 0.95 * inside.sum() and on["body"] <= 0.05 * inside.sum(), on


def test_a_speck_apart_from_an_arm_is_no_piece_of_it() -> None:
    """Of an arm's region, a piece apart from the arm smaller than SPECK torso lengths squared is a
    speck; a larger piece (a cuff, a held object) is not, nor is a small piece at the hand (a
    fingertip apart from its hand)."""
    torso = 200.0
    side = round(SPECK * torso) - 1  # a square of side**2 pixels: just under the speck's size
    region = np.zeros((300, 300), bool)
    region[100:140, 20:200] = True  # the arm
    region[160 : 160 + side, 40 : 40 + side] = True  # a speck below it
    region[160 : 160 + side + 2, 120 : 120 + side + 2] = True  # a piece just too large to be one
    region[110:115, 215:220] = True  # a fingertip past the end of the arm, in the hand's place
    hand = np.zeros_like(region)
    hand[100:140, 190:240] = True
    got = specks(region, torso, hand)
    assert got[160 : 160 + side, 40 : 40 + side].all()
    assert got.sum() == side * side
    assert not specks(region[:150], torso, hand[:150]).any()  # an arm and its fingertip: no speck


@pytest.mark.parametrize("picture_name", ["character_armor_fullbody.png", "character_anime_fullbody.jpg"])
def test_each_arm_of_the_photos_is_one_piece(shared_media: Path, picture_name: str) -> None:
    """The armour's left arm took 39 pixels of the body's outline in its armpit (x 381-387, y
    285-291), apart from the arm: skinned to it, they floated beside its elbow as a dark speck once
    it rose; the anime full-body character's left arm took 2 such pixels. They stay on the body now:
    each arm layer's opaque part is one piece."""
    picture = shared_media / picture_name
    if not picture.is_file():
        pytest.skip("the shared photos are needed")
    cut, rig = _photo_rig(picture)
    for name in ("left_arm", "right_arm"):
        opaque = (rig.layer(name).texture[..., 3] > 0.5).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(opaque, connectivity=8)
        assert n == 2, (name, sorted(stats[1:, cv2.CC_STAT_AREA].tolist()))
    if picture_name.startswith("character_armor"):
        box = (slice(285, 292), slice(381, 388))
        inside = cut.alpha[box] >= 0.5
        assert inside.sum() >= 10
        assert (rig.layer("body").texture[..., 3][box][inside] >= 0.5).all()
