"""An arm's soft rim without the body's colour (kmc_ui/engine/rim.py): the feathered pixels of an arm
layer that lie on the body in a colour far from the arm's are left to the body's layer; over the
backdrop, or in the arm's own colour, the feather stays. What the arm keeps of such a rim has a
second colour, the arm's own, which a piece takes once it has moved from where it lay
(kmc_ui/engine/pieces.py).

Real code paths: a drawn arm for the rule and the pieces, and the man's and the woman's photos in
../shared/media (skipped with a reason when absent) cut and rigged through mediapipe's bundled
models, the woman's drawn by the real renderer.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from kmc_ui.engine.deform import GRID, Renderer
from kmc_ui.engine.pieces import RIM_SPAN, RIM_STILL, arm_cuts, cut_pieces, draw_pieces, moved_from_place, piece_texture
from kmc_ui.engine.rig import Rig, _dilate, feathered
from kmc_ui.engine.rim import RIM_EDGE, RIM_FAR, nearest_colour, own_rim
from kmc_ui.pose import landmarks as L
from tests.test_engine_pieces import RADIUS, _arm_layer, _arm_points, _photo_rig, arm_colours

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
    out, colour = own_rim(bgr, grown, region, soft, character)
    assert np.array_equal(out[region], soft[region])  # the arm itself is whole
    rows = slice(10, 140)
    assert soft[rows, 96:99].min() > 0.2  # the feather reached onto the shorts ...
    assert out[rows, 96:98].max() == 0.0  # ... and is gone there
    assert out[rows, 98].min() > 0.0 and out[rows, 98].max() <= RIM_EDGE  # the pixel beside its edge: half
    assert np.array_equal(out[rows, 131:136], soft[rows, 131:136])  # on the tan top: kept
    assert np.array_equal(out[160:, :], soft[160:, :])  # below the body nothing is on the character
    # what the arm keeps on the shorts (its grown pixel, opaque, and the half one) has the arm's own
    # colour as its second colour; the shorts elsewhere, the arm, the top and the backdrop keep theirs
    assert np.array_equal(colour[rows, 98:100], np.broadcast_to(SKIN, (130, 2, 3)))
    assert soft[rows, 99].min() > 0.9  # the grown pixel is opaque in the arm's layer
    kept = np.ones(character.shape, bool)
    kept[:150, 98:100] = False
    assert np.array_equal(colour[kept], bgr[kept])


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


def test_an_arm_piece_takes_its_own_rim_colour_once_it_leaves_its_place() -> None:
    """A drawn arm cut into pieces with a second texture (its rim in its own colour): drawn where
    it lay (every bone moved as the torso is) a piece shows the picture's colours; moved RIM_STILL
    + RIM_SPAN px or more from there, its own; in between, a mix."""
    pts = _arm_points()
    layer, texture = _arm_layer()
    rim = texture.copy()
    rim[..., 1] = np.where(texture[..., 3] > 0, 200, 0)  # a different colour, same opacity
    cuts = arm_cuts("left_arm", pts, {"l_upper": RADIUS, "l_fore": RADIUS, "l_hand": RADIUS})
    pieces = cut_pieces(layer, texture, cuts, rim)
    assert all(p.rim is not None and p.rim.shape == p.texture.shape for p in pieces)
    still = {bone: np.eye(2, 3) for bone in layer.bones}  # every bone where it was
    assert max(moved_from_place(p, still) for p in pieces) < 1e-6
    assert all(piece_texture(p, still) is p.texture for p in pieces)

    def shifted(dx: float) -> dict[str, np.ndarray]:
        out = {k: m.copy() for k, m in still.items()}
        for bone in ("l_upper", "l_fore", "l_hand"):
            out[bone][0, 2] += dx
        return out

    far, near = shifted(RIM_STILL + RIM_SPAN + 0.5), shifted(RIM_STILL + 0.5 * RIM_SPAN)
    assert all(piece_texture(p, far) is p.rim for p in pieces)
    for p in pieces:
        mixed = piece_texture(p, near)[..., 1].astype(np.int32)
        on = p.texture[..., 3] > 200
        assert (mixed[on] > p.texture[..., 1][on]).all() and (mixed[on] < 200).all()
    canvas, _ = draw_pieces(pieces, far, (200, 200), GRID)
    assert canvas[..., 1][canvas[..., 3] > 250].min() > 150  # drawn in its own colour
    canvas, _ = draw_pieces(cut_pieces(layer, texture, cuts), far, (200, 200), GRID)
    assert canvas[..., 1][canvas[..., 3] > 250].max() < 100  # without one: the picture's, as before


def test_the_womans_raised_arm_carries_no_dark_line_of_her_hair(shared_media: Path) -> None:
    """The woman's right upper arm hung with her hair and her side's shadow along its inner edge:
    raised straight out over the wall it carried them as a dark line along its underside. With its
    rim in its own colour once moved, the arm's band holds 38 dark pixels (L* under 100 of 255),
    against 171 with its rim in the picture's colours; at rest the frame is the same either way."""
    _, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    plate = np.full((rig.height, rig.width, 3), 255, np.uint8)
    before = replace(rig, layers=[replace(layer, rim=None) for layer in rig.layers])
    assert rig.layer("right_arm") is not None and rig.layer("right_arm").rim is not None

    def frame(r: Rig, lm: np.ndarray) -> np.ndarray:
        return Renderer(r, plate, 1.0, GRID).render(lm)[0]

    rest = rig.landmarks.copy()
    assert np.array_equal(frame(rig, rest), frame(before, rest))
    raised = rig.landmarks.copy()
    shoulder = raised[L.R_SHOULDER, :2].copy()
    turn = np.array([[0.0, -1.0], [1.0, 0.0]])  # a quarter turn: the arm points out over the wall
    for j in (L.R_ELBOW, L.R_WRIST, 18, 20, 22):  # and the pose's hand points
        raised[j, :2] = shoulder + turn @ (raised[j, :2] - shoulder)
    band = np.zeros(plate.shape[:2], np.uint8)
    for a, b in ((L.R_SHOULDER, L.R_ELBOW), (L.R_ELBOW, L.R_WRIST)):
        cv2.line(band, _px(raised[a, :2]), _px(raised[b, :2]), 1, 50)
    band[:, int(shoulder[0]) - 25 :] = 0  # off the body

    def dark(r: Rig) -> int:
        lightness = cv2.cvtColor(frame(r, raised), cv2.COLOR_BGR2LAB)[..., 0]
        return int(((band > 0) & (lightness < 100)).sum())

    now, then = dark(rig), dark(before)
    assert then > 100 and now < 0.4 * then, (now, then)


def _px(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def test_an_arms_outermost_pixel_beside_the_body_takes_its_own_colour_once_moved() -> None:
    """A white sleeve (x 100-129) whose outermost column on each side is a dark mixed pixel, as a
    drawn outline or a photo's anti-aliasing leaves it: its left lay against a black skirt (x
    60-99), its right against the backdrop. In the second colour the pixel beside the skirt is the
    sleeve's own white; beside the backdrop, and everywhere in the picture's colours, it stays dark.
    Its opacity is not changed."""
    white, dark = (235.0, 235.0, 240.0), (90.0, 90.0, 95.0)
    bgr = np.full((200, 240, 3), 255.0, np.float32)
    bgr[:, 60:100] = (20.0, 20.0, 25.0)
    bgr[:, 100:130] = white
    bgr[:, 100], bgr[:, 129] = dark, dark
    character = np.zeros((200, 240), bool)
    character[:, 60:130] = True
    region = np.zeros_like(character)
    region[:, 100:130] = True
    grown = _dilate(region, 1) > 0
    soft = feathered(grown, 2.0) * character
    out, colour = own_rim(bgr, grown, region, soft, character)
    assert np.array_equal(colour[:, 100], np.broadcast_to(white, (200, 3)))  # beside the skirt: its own
    assert np.array_equal(colour[:, 129], np.broadcast_to(dark, (200, 3)))  # beside the backdrop: kept
    assert np.array_equal(colour[:, 101:129], bgr[:, 101:129])  # inside: the picture's
    assert np.array_equal(out[region], soft[region])  # the sleeve's opacity is whole


def test_the_half_figures_raised_sleeve_carries_no_dashed_line_of_her_skirt(shared_media: Path) -> None:
    """The half-figure's left forearm and cuff lay across her black corset and skirt, and the
    outermost pixels of her sleeve there are mixed with them: raised over the sky, the sleeve
    carried them as a dashed dark line. Of the arm layer's outer two opaque pixels beside the body,
    those more than RIM_FAR from the sleeve three pixels in: 580 in the picture's colours, 325 in the
    second colour when only the grown pixel took the arm's own, 122 now."""
    _, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    arm = rig.layer("left_arm")
    assert arm is not None and arm.rim is not None
    a = arm.texture[..., 3]
    body = rig.layer("body")
    assert body is not None
    opaque = (a > 0.999).astype(np.uint8)
    core = cv2.erode(opaque, np.ones((7, 7), np.uint8)) > 0  # three pixels in
    band = (opaque > 0) & ~(cv2.erode(opaque, np.ones((5, 5), np.uint8)) > 0)  # its outer two pixels
    body_only = (body.texture[..., 3] > 0.5) & (opaque == 0)
    beside_body = band & (cv2.dilate(body_only.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0)

    def unlike(texture: np.ndarray) -> int:
        colour = texture[..., :3] / np.maximum(texture[..., 3:], 1e-6)
        deep, _ = nearest_colour(core, colour)
        return int((beside_body & (np.linalg.norm(colour - deep, axis=-1) > RIM_FAR)).sum())

    picture, now = unlike(arm.texture), unlike(arm.rim)
    assert picture > 300 and now < 0.3 * picture, (now, picture)
