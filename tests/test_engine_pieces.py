"""The offline engine's arms as rigid cut-out pieces, its hands from the hand detector, and its
artefact measures (breaks, tears, exposed background).

Real code paths throughout: pieces are cut from a drawn arm texture and warped with OpenCV;
rigs are built from real pictures (a drawn character made here, and the real photos in
../shared/media, skipped with a reason when absent) through mediapipe's bundled models.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from kmc_ui.engine.deform import GRID, Renderer, bone_transforms
from kmc_ui.engine.pieces import arm_cuts, cut_pieces, draw_pieces
from kmc_ui.engine.pipeline import _rig, hand_sources, load_picture, picture_hands
from kmc_ui.engine.rig import Layer, bone_distance, capsule_mask, hand_mask, named_points
from kmc_ui.engine.segment import cut_out
from kmc_ui.pose import landmarks as L
from tests.test_body_hidden_hands import LEFT_HAND_BOX, RIGHT_HAND_BOX, WRIST_ROW, paint_into_pocket

RADIUS = 8


def _arm_points() -> dict[str, np.ndarray]:
    """A straight arm along x: shoulder 30, elbow 90, wrist 140, fingertips 160 (y = 60)."""
    lm = np.zeros((33, 4))
    lm[:, :2] = (60.0, 60.0)
    lm[11, :2], lm[13, :2], lm[15, :2] = (30, 60), (90, 60), (140, 60)
    lm[17, :2] = lm[19, :2] = (150, 60)  # the pose's hand points sit at the knuckles
    lm[21, :2] = (148, 56)
    pts = named_points(lm)
    pts["l_tip"] = np.array([160.0, 60.0])
    return pts


def _arm_layer(size: tuple[int, int] = (200, 120)) -> tuple[Layer, np.ndarray]:
    w, h = size
    alpha = np.zeros((h, w), np.float32)
    cv2.line(alpha, (26, 60), (164, 60), 1.0, 2 * RADIUS + 1)
    texture = np.zeros((h, w, 4), np.uint8)
    texture[..., 2] = np.clip(np.arange(w) * 255 // w, 0, 255)[None, :]  # a gradient: where each pixel came from
    texture[..., 1] = 80
    texture[..., :3] = (texture[..., :3] * alpha[..., None]).astype(np.uint8)
    texture[..., 3] = (alpha * 255).astype(np.uint8)
    bones = ("torso", "l_upper", "l_fore", "l_hand")
    no_mesh = (np.zeros((0, 2)), np.zeros((0, 3), np.int32), np.zeros((0, 4), np.float32))
    layer = Layer("left_arm", bones, texture.astype(np.float32) / 255.0, *no_mesh)
    return layer, texture


def _bent(pts: dict[str, np.ndarray], degrees: float) -> dict[str, np.ndarray]:
    """The forearm and hand turned about the elbow by `degrees` (image coordinates)."""
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    out = dict(pts)
    for name in ("15", "17", "19", "21", "l_tip"):
        out[name] = pts["13"] + rot @ (pts[name] - pts["13"])
    return out


def test_a_bent_elbow_stays_closed_and_its_edges_straight() -> None:
    pts = _arm_points()
    layer, texture = _arm_layer()
    cuts = arm_cuts("left_arm", pts, {"l_upper": RADIUS, "l_fore": RADIUS, "l_hand": RADIUS})
    pieces = cut_pieces(layer, texture, cuts)
    assert [p.bone for p in pieces] == ["l_upper", "l_fore", "l_hand"]
    target = _bent(pts, 90.0)  # the forearm now points down
    transforms = bone_transforms(pts, target, 1.0)
    canvas, (x0, y0) = draw_pieces(pieces, transforms, (200, 200), GRID)
    alpha = np.zeros((200, 200), np.uint8)
    alpha[y0 : y0 + canvas.shape[0], x0 : x0 + canvas.shape[1]] = canvas[: 200 - y0, : 200 - x0, 3]
    # whole: every point of the bent axis covered, and the elbow's outer corner closed by its round end
    for a, b in (("11", "13"), ("13", "15")):
        for t in np.linspace(0.05, 1.0, 30):
            x, y = np.round(target[a] + t * (target[b] - target[a])).astype(int)
            assert alpha[y, x] > 200, (a, b, t)
    corner = np.round(target["13"] + 0.6 * RADIUS * np.array([1.0, -1.0]) / np.sqrt(2)).astype(int)
    assert alpha[corner[1], corner[0]] > 200
    # the forearm's edges (vertical now) are straight lines: the edge column is the same on every
    # row (no stair-steps) and alpha goes from 0 to full within 3 px
    rows = range(round(target["13"][1]) + 2 * RADIUS, round(target["15"][1]) - 2)
    left_edges = [int(np.argmax(alpha[y] > 127)) for y in rows]
    assert max(left_edges) - min(left_edges) <= 1
    profile = alpha[(rows.start + rows.stop) // 2]
    ramp = np.nonzero((profile > 10) & (profile < 245))[0]
    assert len(ramp[ramp < 90]) <= 3


def _fold_left_arm(rig_lm: np.ndarray, degrees: float) -> np.ndarray:
    lm = rig_lm.copy().astype(np.float64)
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    for j in (15, 17, 19, 21):
        lm[j, :2] = lm[13, :2] + rot @ (lm[j, :2] - lm[13, :2])
    return lm


def test_the_tear_measure_sees_a_folded_mesh_arm_and_rigid_pieces_have_none(drawn_rig) -> None:
    rig, plate = drawn_rig
    target = _fold_left_arm(rig.landmarks, 150.0)  # the forearm folded back onto the upper arm
    _, mesh = Renderer(rig, plate, 1.0, GRID, rigid_arms=False).render(target)
    _, rigid = Renderer(rig, plate, 1.0, GRID).render(target)
    assert mesh.tears > 0.0  # the skinned arm folds: its texture jumps between neighbouring cells
    assert rigid.tears < mesh.tears
    assert rigid.breaks == 0.0
    # at rest nothing is broken, torn or exposed
    _, rest = Renderer(rig, plate, 1.0, GRID, filled=np.zeros((640, 360), bool)).render(rig.landmarks.copy())
    assert (rest.breaks, rest.tears, rest.exposed) == (0.0, 0.0, 0.0)


def test_breaks_and_exposed_background_are_measured(drawn_rig) -> None:
    rig, plate = drawn_rig
    filled = rig.alpha > 0.5  # the plate is "filled in" where the character stands
    moved = rig.landmarks.copy()
    moved[:, 0] += 120  # the whole figure steps aside: its old place shows
    _, away = Renderer(rig, plate, 1.0, GRID, filled=filled).render(moved)
    assert away.exposed > 0.02
    stretched = rig.landmarks.copy()
    stretched[15, :2] = stretched[13, :2] + 4.0 * (stretched[15, :2] - stretched[13, :2])  # a wrist far off
    _, broken = Renderer(rig, plate, 1.0, GRID).render(stretched)
    assert broken.breaks > 0.0


def _leg_coloured(renderer: Renderer, rig_lm: np.ndarray, hide: str = "") -> None:
    """The body texture's left leg painted red and its right leg blue (the nearer leg's bones
    decide each pixel below the hips), opacity kept; `hide` ("left"/"right") makes that leg
    see-through, to draw the other one alone."""
    tex = renderer.textures["body"]
    h, w = tex.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    pixels = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    pts = named_points(rig_lm)

    def to_leg(side: str) -> np.ndarray:
        return np.minimum(*(bone_distance(f"{side}_{b}", pixels, pts, 1.0) for b in ("thigh", "shin"))).reshape(h, w)

    below = ys > rig_lm[[23, 24], 1].mean()
    left_d, right_d = to_leg("l"), to_leg("r")
    for side, mine, colour in (
        ("left", below & (left_d < right_d), (0, 0, 255)),
        ("right", below & (right_d <= left_d), (255, 0, 0)),
    ):
        a = tex[..., 3]
        if side == hide:
            tex[mine] = 0
            continue
        for c in range(3):
            tex[..., c][mine] = (a[mine].astype(np.uint16) * colour[c] // 255).astype(np.uint8)
    renderer.alphas["body"][...] = tex[..., 3]  # the renderer keeps each texture's alpha apart too


def test_legs_crossing_draw_the_nearer_leg_whole_over_the_other(drawn_rig) -> None:
    """Where one leg passes over the other, the nearer one is drawn whole (no saw-tooth of the two
    legs' triangles along the seam) and its see-through margin opens no hole to the background in
    the other."""
    rig, plate = drawn_rig
    target = rig.landmarks.copy().astype(np.float64)
    for left, right in ((25, 26), (27, 28), (29, 30), (31, 32)):  # the left leg swings onto the right one
        target[left, 0] = target[right, 0] + 12.0
    red = lambda f: (f[..., 2] > 150) & (f[..., 0] < 80)  # noqa: E731
    blue = lambda f: (f[..., 0] > 150) & (f[..., 2] < 80)  # noqa: E731
    erode = lambda m: cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # noqa: E731

    def drawn(hide: str = "") -> np.ndarray:
        renderer = Renderer(rig, plate, 1.0, GRID)
        _leg_coloured(renderer, rig.landmarks, hide)
        return renderer.render(target)[0]

    for left_nearer in (True, False):
        target[[25, 27], 2] = -50.0 if left_nearer else 50.0
        target[[26, 28], 2] = 50.0 if left_nearer else -50.0
        near, far = ("left", "right") if left_nearer else ("right", "left")
        is_near, is_far = (red, blue) if left_nearer else (blue, red)
        frame = drawn()
        near_alone = erode(is_near(drawn(hide=far)))
        far_alone = erode(is_far(drawn(hide=near)))
        overlap = near_alone & far_alone
        assert overlap.sum() > 1000, near  # the legs do overlap
        assert is_near(frame)[near_alone].mean() > 0.99, near  # the nearer leg whole, nothing else in it
        rest_of_far = far_alone & ~cv2.dilate(near_alone.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        assert rest_of_far.sum() > 500, near
        assert is_far(frame)[rest_of_far].mean() > 0.99, near  # and the far leg beside it, no holes


# ---------------------------------------------------------------- real photos


def test_the_womans_legs_meeting_show_no_wedge_of_backdrop_in_the_farther_one(shared_media: Path) -> None:
    """The woman's left leg swung in about her hip onto her right one. Where the legs meet, the
    farther leg's edge triangle is mostly margin (not `opaque`), and the nearer leg's see-through
    margin drawn after it took the pixel: a wedge of backdrop bit into the farther shin (frame 48
    of the dance). Under a see-through triangle any one opaque there now wins, not only the
    `opaque` ones. Backdrop in the farther shin's middle (0.6 of its radius): 153 and 19 before."""
    _, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    plate = np.full((rig.height, rig.width, 3), (255, 0, 255), np.uint8)  # magenta: seen at once
    target = rig.landmarks.copy()
    turn = np.array([[np.cos(0.25), -np.sin(0.25)], [np.sin(0.25), np.cos(0.25)]])
    for j in (25, 27, 29, 31):
        target[j, :2] = rig.landmarks[23, :2] + turn @ (rig.landmarks[j, :2] - rig.landmarks[23, :2])
    for left_nearer, (a, b, bone), most in ((False, (25, 27, "l_shin"), 80), (True, (26, 28, "r_shin"), 5)):
        renderer = Renderer(rig, plate, 1.0, GRID)
        assert renderer.legs_meet(target)
        frame, stats = renderer.render(target.copy(), left_leg_nearer=left_nearer)
        backdrop = (frame[..., 1] < 60) & (frame[..., 0] > 200) & (frame[..., 2] > 200)
        middle = capsule_mask(backdrop.shape, target[a, :2], target[b, :2], 0.6 * rig.radii[bone])
        assert int((backdrop & middle).sum()) < most, (left_nearer, int((backdrop & middle).sum()))
        assert stats.holes == 0.0, left_nearer  # 0.0024 before with the left leg farther


def test_real_hands_are_cut_from_the_hand_detector_without_the_clothes_behind(shared_media: Path) -> None:
    cut = cut_out(load_picture(shared_media / "person_woman_fullbody.png"))
    assert cut is not None
    hands = picture_hands(cut)
    assert hand_sources(hands) == {"left": "detected", "right": "detected"}
    cut = replace(cut, hands=hands)
    rig, _ = _rig(cut, 1.0)
    rgb = cut.rgb.astype(int)
    denim = (rgb[..., 2] > rgb[..., 0] + 35) & (rgb[..., 2] > 90)  # the shorts' blue
    for name, side in (("left_arm", "l"), ("right_arm", "r")):
        layer = rig.layer(name)
        assert layer is not None
        hand = hands[side]
        box = np.zeros(denim.shape, bool)
        x0, y0 = np.floor(hand.min(axis=0)).astype(int)
        x1, y1 = np.ceil(hand.max(axis=0)).astype(int)
        box[y0:y1, x0:x1] = True
        opaque = layer.texture[..., 3] > 0.5
        assert (opaque & box).sum() > 300  # the hand is in the arm
        assert (opaque & box & denim).sum() < 0.02 * (opaque & box).sum()  # the shorts are not
    # The arms' faint outer edge is not left on the body as an outline that stays behind (a pale line
    # beside the hip once the arm moves): faint body pixels beside an arm, 5 px or more from the
    # opaque body: 1,037 before, 9 now.
    body = rig.layer("body").texture[..., 3]
    arms = np.maximum(*(rig.layer(n).texture[..., 3] for n in ("left_arm", "right_arm")))
    near_body = cv2.dilate((body >= 0.5).astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    near_arm = cv2.dilate((arms > 0.02).astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    assert int(((body > 0.02) & (body < 0.5) & ~near_body & near_arm).sum()) < 100


def enclosed_gaps(layer: Layer, hand: np.ndarray) -> int:
    """Pixels inside a hand's drawn outline (in the detector's shape) that are not opaque, or far
    darker (60 levels of Lab lightness) than the hand: what reads as holes, rings and dashes."""
    alpha = layer.texture[..., 3]
    colour = np.clip(layer.texture[..., :3] / np.maximum(alpha[..., None], 1e-3), 0, 255).astype(np.uint8)
    lightness = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    shape = hand_mask(alpha.shape, hand)
    hand_like = shape & (alpha >= 0.5)
    good = hand_like & (lightness >= np.median(lightness[hand_like]) - 60)
    _, ids = cv2.connectedComponents((~good).astype(np.uint8), connectivity=4)
    outside = np.unique(np.concatenate([ids[0], ids[-1], ids[:, 0], ids[:, -1]]))
    return int((~good & ~np.isin(ids, outside)).sum())


def test_clasped_hands_part_whole(shared_media: Path) -> None:
    """The half-figure's hands are clasped over her skirt, fingers interlaced. Her left arm's cut
    claims some of her right hand's shape first (its fingers lie there), and her right hand was left
    with holes where they lay: once the hands parted, it was pale specks and rings of nails (277
    pixels of its shape not opaque). The left arm keeps what it claimed (`ArmCut.lent`); the right
    hand is whole too, those pixels in its own colour read from the rest of the hand: 72 (the dark
    skirt between its own fingers stays out). No other photo's hands overlap: their rigs do not
    change.

    Each hand is also whole inside its outline: the other hand's fingers and the skirt between
    them, left dark or open, read as dark rings and dashes across the hand once they parted (inside
    the drawn outline 81 such pixels on the left hand and 64 on the right; now the gaps are the
    hand's colour, `rig.gaps_between_fingers`)."""
    cut, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    assert rig.arms is not None and set(rig.arms.lent) == {"right_arm"}
    hand = cut.hands["r"]
    assert hand is not None
    shape = hand_mask(rig.alpha.shape, hand)
    lent = rig.arms.lent["right_arm"]
    right = rig.layer("right_arm")
    left = rig.layer("left_arm")
    assert right is not None and left is not None
    assert int((right.texture[..., 3][shape] <= 0.5).sum()) < 120
    assert lent.sum() > 200 and (left.texture[..., 3][lent] > 0.5).mean() > 0.9  # the left hand keeps them
    colour = right.texture[..., :3][lent] / np.maximum(right.texture[..., 3][lent, None], 1e-6)
    skin = cut.rgb[shape & ~lent][:, ::-1].astype(np.float32)  # BGR, as the texture
    assert np.abs(np.median(colour, axis=0) - np.median(skin, axis=0)).max() < 40  # the hand's own colour
    for arm, side in ((left, "l"), (right, "r")):
        detected = cut.hands[side]
        assert detected is not None
        assert enclosed_gaps(arm, detected) <= 10, side
    for name in ("person_woman_fullbody.png", "person_man_fullbody.png", "character_anime_fullbody.jpg"):
        _, other = _photo_rig(shared_media / name)
        assert other.arms is not None and not other.arms.lent, name


def test_hands_in_pockets_are_not_drawn_from_the_pocket(shared_media: Path, tmp_path: Path) -> None:
    man = np.asarray(Image.open(shared_media / "person_man_fullbody.png").convert("RGB"))
    both = paint_into_pocket(paint_into_pocket(man, RIGHT_HAND_BOX, WRIST_ROW), LEFT_HAND_BOX, WRIST_ROW)
    cut = cut_out(both)
    assert cut is not None
    hands = picture_hands(cut)
    assert hand_sources(hands) == {"left": "hidden", "right": "hidden"}
    cut = replace(cut, hands=hands)
    rig, _ = _rig(cut, 1.0)
    below = np.zeros(man.shape[:2], bool)
    for x0, _y0, x1, y1 in (RIGHT_HAND_BOX, LEFT_HAND_BOX):
        below[WRIST_ROW + 25 : y1, x0:x1] = True  # well past the wrist: where the pocket was painted
    for name in ("left_arm", "right_arm"):
        layer = rig.layer(name)
        assert layer is not None
        assert (layer.texture[..., 3][below] > 0.5).sum() < 40  # the sleeve ends at the wrist


# ---------------------------------------------------------------- matting


def test_the_matte_follows_the_pictures_edge_not_a_sloppy_mask() -> None:
    from kmc_ui.engine.segment import matte

    rgb = np.full((200, 200, 3), 235, np.uint8)  # a pale backdrop
    cv2.circle(rgb, (100, 100), 50, (150, 40, 30), -1)  # the character: a dark red disc
    sloppy = np.zeros((200, 200), np.uint8)
    cv2.circle(sloppy, (100, 100), 54, 1, -1)  # the segmentation reached 4 px into the backdrop
    alpha = matte(rgb, sloppy)
    assert alpha[100, 100] > 0.99 and alpha[100, 5] < 0.01
    assert alpha[100, 153] < 0.3  # 3 px outside the real edge: backdrop, not character
    assert alpha[100, 146] > 0.7  # 4 px inside it: character


def test_a_thin_arm_beside_a_dark_torso_is_matted_opaque() -> None:
    """The matte's character colour is the arm's own (the nearest sure pixel), not a wide mean that
    mixes in the dark top beside it and makes the arm half see-through."""
    from kmc_ui.engine.segment import matte

    rgb = np.full((300, 300, 3), 232, np.uint8)  # a pale wall
    cv2.rectangle(rgb, (40, 20), (150, 280), (95, 90, 100), -1)  # the torso: a dark grey top
    cv2.rectangle(rgb, (163, 20), (185, 280), (225, 185, 160), -1)  # the arm: 23 px of pale skin, 12 px away
    mask = np.zeros((300, 300), np.uint8)
    mask[20:281, 40:151] = 1
    mask[20:281, 163:186] = 1
    alpha = matte(rgb, mask)
    assert alpha[150, 168:181].min() > 0.95, alpha[150, 160:190].round(2)  # the whole arm's width
    assert alpha[150, 157] < 0.05 and alpha[150, 100] > 0.99  # the gap stays wall, the torso body


def test_a_thin_arm_against_a_ruffle_is_matted_opaque() -> None:
    """An arm 6 px wide touching a grey ruffle, a pale wall on its other side (the woman's left
    elbow): the nearest sure pixel, past the band's inner edge, is the ruffle's, and the skin
    between it and the wall solved a third opaque (the raised arm showed the wall through a bite at
    its elbow). The colour just inside the mask's edge, the skin's own, explains those pixels: opaque
    now. The soft edge of a plain part (the ruffle against the wall above the arm) is as it was."""
    from kmc_ui.engine.segment import matte

    rgb = np.full((1000, 200, 3), 244, np.uint8)  # a pale wall; the band is 6 px at this size
    cv2.rectangle(rgb, (20, 20), (100, 980), (146, 140, 136), -1)  # the ruffle, grey
    cv2.rectangle(rgb, (101, 500), (106, 980), (240, 215, 200), -1)  # the arm: 6 px of pale skin against it
    mask = np.zeros((1000, 200), np.uint8)
    mask[20:981, 20:101] = 1
    mask[500:981, 101:107] = 1
    alpha = matte(rgb, mask)
    assert alpha[700, 101:106].min() > 0.9, alpha[700, 98:112].round(2)  # the arm's width, opaque
    assert alpha[700, 109] < 0.05  # the wall past it
    assert alpha[300, 95] > 0.99 and alpha[300, 104] < 0.05  # the ruffle's own edge above the arm


def test_the_womans_arms_are_not_see_through(shared_media: Path) -> None:
    """On the real photo (bare arms against a pale wall, beside a dark top) the cut-out is opaque
    inside its outline: 1,629 see-through pixels (< 0.9) 3 px or more inside it before the arm's own
    colour was its matte's (the nearest sure pixel), 269 with it, 91 with the colour just inside the
    edge tried too. Her left elbow, 7 px of skin between her ruffle's flare and the wall: 34 of its
    245 pixels under 0.6 (down to 0.26) with the ruffle's grey for its colour, none now (0.77 the
    least)."""
    cut = cut_out(load_picture(shared_media / "person_woman_fullbody.png"))
    assert cut is not None
    inside = cv2.erode((cut.alpha >= 0.5).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert int((cut.alpha[inside] < 0.9).sum()) < 180
    elbow = cut.alpha[292:327, 440:447]
    assert int((elbow < 0.6).sum()) < 10, int((elbow < 0.6).sum())


def _photo_rig(path: Path):
    cut = cut_out(load_picture(path))
    assert cut is not None
    cut = replace(cut, hands=picture_hands(cut))
    return cut, _rig(cut, 1.0)[0]


def arm_colours(rig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each arm layer's (opacity, colour as plain uint8 BGR, not premultiplied)."""
    out = []
    for name in ("left_arm", "right_arm"):
        arm = rig.layer(name)
        assert arm is not None
        a = arm.texture[..., 3]
        out.append((a, np.clip(arm.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)))
    return out


def test_an_arm_with_hair_over_its_shoulder_is_cut_along_its_own_middle(shared_media: Path) -> None:
    """The woman's right arm hangs against her body with her hair over its shoulder, and the pose
    put its bones along its inner edge (through the hair and the top): its radius measured twice
    the other arm's. Its elbow and wrist go onto the arm's middle, so the arm layer no longer takes
    the hair and the top's dark edge with it (dark pixels in it: 3,000 before, under 1,000 now); the
    other arm, and the man's arms, are left as the pose put them."""
    cut, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    moved = np.linalg.norm(rig.landmarks[:, :2] - cut.landmarks[:, :2], axis=1)
    assert moved[[L.R_ELBOW, L.R_WRIST]].min() > 5.0  # px, toward the arm's free edge
    assert rig.landmarks[L.R_ELBOW, 0] < cut.landmarks[L.R_ELBOW, 0]  # the wall is on the image's left
    assert moved[[L.L_SHOULDER, L.R_SHOULDER, L.L_ELBOW, L.L_WRIST, L.L_HIP, L.R_HIP]].max() == 0.0
    assert rig.radii["r_upper"] < 1.5 * rig.radii["l_upper"]
    arm = rig.layer("right_arm")
    assert arm is not None
    a = arm.texture[..., 3]
    colour = np.clip(arm.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)
    lightness = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB)[..., 0]
    dark = int(((a > 0.5) & (lightness < 100)).sum())
    assert dark < 1500, dark  # hair and the top: 3,000 when the arm was cut along the pose's line
    assert int((a > 0.5).sum()) > 6000  # the arm itself is all there
    man, man_rig = _photo_rig(shared_media / "person_man_fullbody.png")
    assert np.array_equal(man_rig.landmarks[:, :2], man.landmarks[:, :2].astype(np.float32))


def test_a_hand_on_the_hip_leaves_no_notch_and_an_arm_no_faint_outline() -> None:
    """The body layer where an arm was cut out: a notch a hand took out of the body's outline is
    body again (filled in), an arm hanging apart leaves none, and the arm's faint outer edge does not
    stay on the body as a pale line."""
    from kmc_ui.engine.rig import outline_notches, soft_orphans

    torso = 200.0
    body = np.zeros((400, 400), bool)
    body[50:350, 100:250] = True  # the body
    hand = np.zeros_like(body)
    hand[200:240, 230:275] = True  # a hand over the body's right edge
    arm = np.zeros_like(body)
    arm[50:350, 300:330] = True  # an arm hanging 50 px apart
    taken = hand | arm
    notch = outline_notches(body & ~taken, taken, torso)
    # the hand's bite out of the outline is body again: two thirds of its depth along its whole
    # length (the closing's arc sags a little into a bite this long), more than 70% of it in all
    assert notch[200:240, 230:243].all() and notch[200:240, 230:250].mean() > 0.7
    assert not notch[:, 250:].any()  # nothing past the body's outline, nothing of the hanging arm

    alpha = body.astype(np.float32)
    alpha[50:350, 331] = 0.2  # the arm's faint outer edge, left on the body's layer
    alpha[50:350, 251] = 0.3  # the body's own soft edge
    orphans = soft_orphans(alpha, arm, torso)
    assert orphans[50:350, 331].all() and not orphans[:, 251].any() and not orphans[body].any()


def test_a_fill_does_not_repeat_a_rim_as_stripes() -> None:
    """Where an arm lay over the body's edge, a row's hole has a few pixels of something else on one
    side (a cuff's rim, a hand's fringe) and the body's own texture on the other: the texture fills
    the hole, the rim is not repeated across it as stripes."""
    from kmc_ui.engine.inpaint import reflect_rows

    img = np.zeros((10, 60, 3), np.float32)
    img[:, 2:5] = (0, 128, 255)  # a 3 px orange rim
    img[:, 25:] = (120, 60, 20)  # denim
    hole = np.zeros((10, 60), bool)
    hole[:, 5:25] = True
    known = ~hole
    known[:, :2] = False  # the backdrop beyond the rim
    out, got = reflect_rows(img, hole, known)
    assert got[:, 5:25].all()
    assert np.allclose(out[:, 5:25], (120, 60, 20))  # all denim, no orange


def test_a_fill_longer_than_its_source_folds_back_without_a_jump() -> None:
    """A hole wider than the body's texture beside it is filled with that texture mirrored back
    and forth: the values run on without a jump (repeated, each restart was a seam, and the seams of
    rows with sources of different widths made a stair-step)."""
    from kmc_ui.engine.inpaint import reflect_rows

    img = np.zeros((1, 20, 3), np.float32)
    img[0, :4, :] = np.array([10.0, 20.0, 30.0, 40.0])[:, None]  # a 4 px ramp, then the hole
    hole = np.zeros((1, 20), bool)
    hole[0, 4:14] = True
    known = np.zeros((1, 20), bool)
    known[0, :4] = True  # nothing known on the hole's right (the background)
    out, got = reflect_rows(img, hole, known)
    assert got[0, 4:14].all()
    assert list(out[0, 4:14, 0]) == [40, 30, 20, 10, 10, 20, 30, 40, 40, 30]
    assert np.abs(np.diff(out[0, :14, 0])).max() <= 10  # the ramp's own step, never a jump


def test_the_backdrop_is_taken_out_of_a_soft_edge() -> None:
    from kmc_ui.engine.rig import decontaminate

    fg, bg = np.array([40.0, 60.0, 200.0]), np.array([240.0, 240.0, 240.0])
    alpha = np.array([[1.0, 0.5, 0.05]], np.float32)
    picture = alpha[..., None] * fg + (1 - alpha[..., None]) * bg  # what the camera saw
    out = decontaminate(picture.astype(np.float32), alpha, np.broadcast_to(bg, picture.shape))
    assert np.allclose(out[0, 0], fg, atol=0.5)
    assert np.allclose(out[0, 1], fg, atol=0.5)  # the half-covered pixel: the character's own colour
    assert np.allclose(out[0, 2], picture[0, 2])  # too little of the character to recover: left as is


def test_only_a_fill_inside_a_textured_backdrop_counts_as_a_smear() -> None:
    from kmc_ui.engine.inpaint import smear_prone

    hole = np.zeros((300, 300), bool)
    hole[60:240, 110:190] = True  # where the character stood
    shaded = np.repeat(np.linspace(60, 220, 300, dtype=np.float32)[:, None], 300, axis=1)
    plain = np.dstack([shaded] * 3).astype(np.uint8)  # a smoothly shaded wall: the row fill matches it
    noise = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    busy = cv2.GaussianBlur(noise, (0, 0), 1.0)  # foliage, crowds, fireworks: a row fill smears there
    assert not smear_prone(plain, hole).any()
    assert smear_prone(busy, hole).mean() / hole.mean() > 0.95
