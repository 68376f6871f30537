"""What an arm hid on the body, filled: the body's texture continues into the hole, but what stands
out of it (a button, a cuff's edge) is not mirrored again and again across it (inpaint.tame; a
shade between two sides of one material is blended across, a material the median does not match
among them); rows mirrored from a ragged edge do not show as streaks (inpaint.smooth_fill); and
what an arm took from inside the body's outline is body again, never a window onto the backdrop
(rig.surrounded).

Real code paths: drawn pictures for the rules, and the real photos in ../shared/media (skipped with a
reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kmc_ui.engine.inpaint import _material, blend_rows, carry_rows, fill_inside, reflect_rows
from kmc_ui.engine.rig import surrounded
from tests.test_engine_pieces import _photo_rig

NAVY, GOLD = (60.0, 40.0, 35.0), (60.0, 150.0, 200.0)  # BGR


def _corset(stripes: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 240x400 body: navy, with gold buttons 15 px across (or, with `stripes`, white stripes 4 px
    high every 8 px) left of a hole from x 160 to 280, y 30 to 210 (an arm's place; the half-figure's
    corset has these proportions) with navy beyond it to x 400."""
    img = np.zeros((240, 400, 3), np.float32)
    img[:] = NAVY
    if stripes:
        for y in range(0, 240, 8):
            img[y : y + 4] = (235.0, 235.0, 235.0)
    else:
        yy, xx = np.ogrid[:240, :400]
        for cy in (50, 120, 190):
            for cx in (60, 125):
                img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 7**2] = GOLD
    hole = np.zeros((240, 400), bool)
    hole[30:210, 160:280] = True
    return img, hole, ~hole


def _gold(px: np.ndarray) -> np.ndarray:
    return np.abs(px - np.array(GOLD)).max(axis=-1) < 60


def test_a_fill_mirrors_the_texture_but_not_the_buttons_beside_it() -> None:
    """Mirrored row by row, the buttons beside the hole came back in it as gold streaks (the
    half-figure's corset: a patchwork of its own buttons); now the fill is the navy around them."""
    img, hole, source = _corset(stripes=False)
    mirrored, got = reflect_rows(img, hole, source)
    assert _gold(mirrored[hole & got]).sum() > 200  # the plain mirror: buttons in the hole
    filled = fill_inside(img, hole, source)
    assert _gold(filled[hole]).sum() == 0
    assert np.abs(filled[hole] - np.array(NAVY)).max(axis=1).mean() < 10.0


def test_a_fill_keeps_stripes_that_run_all_over_their_source() -> None:
    """A striped shirt's stripes are its texture, not something standing out of it: they continue."""
    img, hole, source = _corset(stripes=True)
    filled = fill_inside(img, hole, source)
    rows = filled[32:208, 220, 0]  # down the middle of the hole
    assert (rows[2::8] > 200).all() and (rows[6::8] < 100).all()


def test_the_half_figures_corset_keeps_its_four_buttons(shared_media: Path) -> None:
    """The anime half-figure's forearms crossed her corset beside its four gold buttons: the fill of
    what they hid showed eight (four mirrored into it); now her four alone."""
    _, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = np.clip(body.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)
    hue, sat, val = cv2.split(cv2.cvtColor(colour, cv2.COLOR_BGR2HSV))
    gold = (a > 0.5) & (hue >= 8) & (hue <= 30) & (sat > 90) & (val > 110)
    count, _, stats, _ = cv2.connectedComponentsWithStats(gold.astype(np.uint8))
    buttons = [tuple(stats[i, :2]) for i in range(1, count) if stats[i, 4] > 20]
    assert len(buttons) == 4, buttons


def test_what_the_body_surrounds_is_found() -> None:
    ring = np.zeros((40, 40), bool)
    ring[5:35, 5:35] = True
    ring[12:28, 12:28] = False  # a hole inside: surrounded
    assert surrounded(ring)[20, 20] and not surrounded(ring)[2, 2] and not surrounded(ring)[8, 8]
    ring[18:22, 5:12] = False  # opened to the outside: no longer surrounded
    assert not surrounded(ring)[20, 20]


@pytest.mark.parametrize("name", ["character_armor_fullbody.png", "person_woman_fullbody.png"])
def test_the_body_has_no_window_where_an_arm_lay_inside_it(shared_media: Path, name: str) -> None:
    """The arm layer took pixels the body surrounds (the armour's gauntlet against its waist, 28 px;
    the woman's arm beside her hair, 9-11 px each; the half-figure's clasped hands over her skirt
    with the calibrated joints, 55 px): the backdrop showed through the body there once the arm moved.
    Now every pixel of the character the body's layer surrounds is the body's."""
    _, rig = _photo_rig(shared_media / name)
    body = rig.layer("body")
    assert body is not None
    windows = surrounded(body.texture[..., 3] >= 0.5) & (rig.alpha >= 0.5)
    assert windows.sum() == 0


def test_a_row_with_no_side_wide_enough_is_mirrored_from_its_column() -> None:
    """Clasped hands over a pleated skirt: on the rows under them only a 3 px sliver of skirt shows
    on each side, too narrow to mirror, and those rows were a smooth fill, the pleats blurred into
    one grey band across the body. Now they are mirrored from above and below: the pleats go on."""
    img = np.zeros((100, 100, 3), np.float32)
    img[:, (np.arange(100) // 4) % 2 == 1] = 200.0  # pleats: 4 px light, 4 px dark, down the skirt
    hole = np.zeros((100, 100), bool)
    hole[40:60, 3:97] = True
    _, got = reflect_rows(img, hole, ~hole)
    assert not got.any()  # the rows alone leave it to the smooth fill
    filled = fill_inside(img, hole, ~hole)
    assert np.abs(filled[hole] - img[hole]).max() < 1.0


def test_the_half_figures_skirt_under_her_hands_is_not_a_blurred_band(shared_media: Path) -> None:
    """Under the half-figure's clasped hands (x 150-300) the body's fill was a blur on the rows
    y 434-452 (a horizontal detail of 1.1-1.5 levels a pixel, a light band across her skirt once
    the hands moved); the rows around it and the skirt below have 2 or more. Now every row from
    y 430 to 456 has its texture. The detail is taken between two opaque pixels: the figures
    above (2.1-3.8 on those rows before stop 40) counted the step from the skirt's edge into the
    clear pixel beside it, which held the hand's colour (one pixel a row, 0.26-1.60 of those
    figures) and now holds the skirt's (rig.smooth_cut). Between opaque pixels alone the rows have
    1.67-2.63, before and now."""
    _, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = body.texture[..., :3] / np.maximum(a[..., None], 1e-6)
    detail = np.abs(np.diff(colour, axis=1)).max(axis=2)
    both = (a[:, :-1] > 0.5) & (a[:, 1:] > 0.5)
    rows = [float(detail[y, 150:299][both[y, 150:299]].mean()) for y in range(430, 457, 2)]
    assert min(rows) > 1.6, [round(r, 2) for r in rows]


def test_a_pixel_much_nearer_the_source_below_is_mirrored_from_its_column() -> None:
    """A hand over a body's side (x 20), across a cuff's slanted lower edge, its fingertips a little
    way onto the thigh below it. Its rows under the cuff's edge see, beside the hole, only the cuff
    at the hand's far side: mirrored along them, the cuff ran as a band across the thigh. A pixel whose
    source below is much nearer than its row's is mirrored from its column: the thigh is skin, and
    the cuff stays the cuff."""
    skin, denim = (150.0, 175.0, 225.0), (120.0, 70.0, 40.0)  # BGR
    img = np.zeros((120, 200, 3), np.float32)
    img[:] = skin
    yy, xx = np.mgrid[:120, :200]
    edge = 58 + 0.15 * xx  # the cuff's lower edge falls to the right: y 61 at the body's side, 70 at x 80
    img[yy < edge] = denim
    hole = np.zeros((120, 200), bool)
    hole[20:80, 20:80] = True
    source = ~hole & (xx >= 20)  # the backdrop left of x 20
    mirrored, got = reflect_rows(img, hole, source)
    under = hole & (yy > edge + 2)  # the thigh under the hand, clear of the cuff's edge
    assert (np.abs(mirrored - denim).max(axis=-1) < 1.0)[under & got].sum() > 0.5 * under.sum()  # the band
    filled = fill_inside(img, hole, source)
    assert (np.abs(filled - skin).max(axis=-1) < 1.0)[under].mean() > 0.95
    cuff = hole & (yy < edge - 2)
    assert (np.abs(filled - denim).max(axis=-1) < 1.0)[cuff].mean() > 0.95


def test_the_womans_thigh_under_her_hand_has_no_band_of_her_cuff(shared_media: Path) -> None:
    """The woman's right hand hangs over her shorts' right cuff and the thigh below it. The cuff's
    lower edge lies at y 483-487 left of the hand and y 491-495 right of it; on the rows under it the
    body's fill was a band of blue and pink-grey (the cuff's edge and its shadow, mirrored along each
    row from the right): 155 blue pixels in x 295-349, y 492-516. Now the thigh there is mirrored
    from below (skin): 22, along the cuff's edge; 39 since the hand's edge is matted fuller (the
    colour just inside the mask's edge, segment.matte): the hole reaches a little further right
    along the cuff, and its dark edge is mirrored a row deeper there."""
    _, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = body.texture[..., :3] / np.maximum(a[..., None], 1e-6)
    box = (slice(492, 517), slice(295, 350))
    blue = (colour[box][..., 0] > colour[box][..., 2]) & (a[box] > 0.5)
    assert blue.sum() < 50, int(blue.sum())
    assert (a[box] > 0.5).mean() > 0.9  # the thigh is there


def test_the_womans_thigh_under_her_cuff_is_shaded_without_a_block(shared_media: Path) -> None:
    """Under her shorts' right cuff, where her hand lay, `tame`'s median (of denim and skin) made her
    lit thigh right of the hand stand out: it was left out of the source, and the thigh was mirrored
    again from its thin shaded edge by the wall alone. A flat dark tan block with a hard right edge:
    on 14 of the 15 rows y 492-506 a step of 67-95 in L* (8-bit) between two neighbouring columns in
    x 300-365 (the thigh below, y 515-529: at most 23). Now the lit thigh is a source (a material,
    reaching the body's edge) and the run is blended from the shaded edge to it: 1 row over 30."""
    _, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = np.clip(body.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)
    lightness = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    assert (a[492:507, 300:366] > 0.5).all()  # the thigh is there
    step = np.abs(np.diff(lightness[492:507, 300:366], axis=1)).max(axis=1)
    assert (step > 30).sum() <= 3, step.astype(int).tolist()
    below = np.abs(np.diff(lightness[515:530, 300:366], axis=1)).max(axis=1)
    assert below.max() < 30  # the photo's own thigh, for scale


def test_a_shade_is_blended_across_a_run_but_an_edge_between_materials_is_not() -> None:
    """`tame`'s redo of a run with one material on both sides (a shaded and a lit skin) is a straight
    blend from one side's colour to the other's: mirrored from the nearer side, the halves met in a
    step. Between two materials (denim and skin) the run is left to the mirror."""
    shaded, lit, denim = (104.0, 133.0, 180.0), (191.0, 211.0, 237.0), (120.0, 70.0, 40.0)
    img = np.zeros((2, 60, 3), np.float32)
    img[:, :20] = shaded
    img[:, 40:] = lit
    img[1, 40:] = denim
    hole = np.zeros((2, 60), bool)
    hole[:, 20:40] = True
    out, got = blend_rows(img, hole, ~hole)
    assert got[0, 20:40].all() and not got[1].any()
    assert np.abs(out[0, 20] - shaded).max() < 5.0 and np.abs(out[0, 39] - lit).max() < 5.0
    assert (np.diff(out[0, 19:41, 2]) >= 0).all()  # red rises evenly from the shade to the light
    assert np.abs(np.diff(out[0, 19:41], axis=0)).max() < 6.0  # no step (87 from shaded to lit)


def test_a_run_with_a_source_on_one_side_only_carries_that_sides_colour() -> None:
    """`tame`'s last redo before its median: a dropped run with source pixels on one side only takes
    their colour (the median of up to 3 px beside it); a run with both sides, or none, is left, and so
    is a run wider than TAME_CARRY (9 px: carried flat, it was a block)."""
    skin, grey = (150.0, 170.0, 210.0), (110.0, 105.0, 115.0)
    img = np.zeros((4, 40, 3), np.float32)
    img[:, :10] = skin
    img[:, 10:] = grey  # what the median put there
    hole = np.zeros((4, 40), bool)
    hole[:3, 10:18] = True  # 8 px
    hole[3, 10:30] = True  # 20 px
    source = np.zeros((4, 40), bool)
    source[0, :10] = True  # row 0: the skin on the left only
    source[1, :10] = source[1, 18:] = True  # row 1: both sides
    source[3, :10] = True  # row 3: one side, but the run is wide
    out, got = carry_rows(img, hole, source)  # row 2: no side
    assert got[0, 10:18].all() and not got[1:].any()
    assert np.abs(out[0, 10:18] - skin).max() < 1e-3
    assert np.abs(out[1:] - img[1:]).max() == 0.0


def test_the_womans_bare_waist_under_her_arm_is_not_the_tops_grey(shared_media: Path) -> None:
    """Under her left arm's inner edge, between her top's ruffle and her shorts, a strip of her body
    is filled. Her bare waist there is a band narrower than `tame`'s median's span, so the median was
    her top's grey; it stood out, and so did the strip mirrored from it: dropped, with no source left
    beside it, the strip became the median, a grey column hanging from the ruffle once the arm rose.
    The waist now counts as a material (it reaches what is dropped) and the strip carries its colour
    on from that side: grey pixels of the body's layer where the picture is coloured, x 418-445,
    y 300-352: 59 -> 21."""
    cut, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = np.clip(body.texture[..., :3] / np.maximum(a[..., None], 1e-6), 0, 255).astype(np.uint8)
    lab = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB).astype(np.float32)
    picture = cv2.cvtColor(cut.rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    box = (slice(300, 352), slice(418, 445))
    grey = (np.hypot(lab[..., 1] - 128, lab[..., 2] - 128) < 10) & (a > 0.5)
    coloured = np.hypot(picture[..., 1] - 128, picture[..., 2] - 128) > 10
    assert int(grey[box].sum()) > 100  # her top's ruffle is in the box
    assert int((grey & coloured)[box].sum()) < 35, int((grey & coloured)[box].sum())


def test_what_stands_out_wide_and_reaches_the_bodys_edge_is_a_material_a_button_is_not() -> None:
    """Known pixels that stand out of `tame`'s median are left out of its redo's source (a button
    mirrored again is a button again), unless they stand out in a patch wide across that reaches the
    body's edge: a lit thigh beside the denim, a material the median does not match."""
    body = np.zeros((120, 200), bool)
    body[:, :160] = True  # the backdrop past x 160
    stand = np.zeros((120, 200), bool)
    yy, xx = np.ogrid[:120, :200]
    stand[(yy - 40) ** 2 + (xx - 60) ** 2 <= 12**2] = True  # a button 25 px across, inside the body
    stand[70:110, 120:160] = True  # the lit thigh, out to the body's edge
    stand[20:22, 140:160] = True  # a seam 2 px thin, out to the edge too
    material = _material(stand, body, k=69)
    assert material[90, 140] and material[75, 158]
    assert not material[40, 60] and not material[21, 145]
    assert not material[40, 40:81].any()


def _row_to_row(img: np.ndarray, where: np.ndarray) -> float:
    """The mean difference (largest channel) between a pixel of `where` and the one below it."""
    down = np.abs(np.diff(img, axis=0)).max(axis=2)
    return float(down[where[:-1] & where[1:]].mean())


def test_a_fill_mirrored_from_a_ragged_edge_has_no_streaks() -> None:
    """A plain fabric with folds down it (every row the same) and a hole whose edge is ragged, as an
    arm's cut is: each row is mirrored from its own place in the folds, so the fill changed from row to
    row in steps (streaks across the corset). Now it is smoothed up and down within its colours: the
    steps go, the folds stay."""
    rng = np.random.default_rng(0)
    img = np.zeros((160, 240, 3), np.float32)
    img[:] = NAVY
    img += (8.0 * np.sin(np.arange(240, dtype=np.float32) / 5.0))[None, :, None]
    hole = np.zeros((160, 240), bool)
    edge = 80 + rng.integers(0, 12, 160)
    for y in range(20, 140):
        hole[y, edge[y] : 200] = True
    mirrored, got = reflect_rows(img, hole, ~hole)
    assert got[hole].all()
    assert _row_to_row(mirrored, hole) > 2.0  # the plain mirror: steps from row to row (the source has none)
    filled = fill_inside(img, hole, ~hole)
    assert _row_to_row(filled, hole) < 0.3  # 1.18 with the mirror and `tame` alone
    across = np.abs(np.diff(filled, axis=1)).max(axis=2)[hole[:, :-1] & hole[:, 1:]].mean()
    assert across > 0.5  # the folds (1.02 in the source) go on


@pytest.mark.parametrize(("name", "most"), [("character_anime_upperbody.png", 4.0), ("person_woman_fullbody.png", 7.0)])
def test_the_body_under_the_arms_is_not_streaked(shared_media: Path, name: str, most: float) -> None:
    """What the arms hid on the body, filled, changed from one row to the next by 5.8 levels on the
    half-figure (her corset and skirt streaked across) and 9.0 on the woman (the band beside her
    top). Now 3.0 and 5.9."""
    _, rig = _photo_rig(shared_media / name)
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    colour = body.texture[..., :3] / np.maximum(a[..., None], 1e-6)
    left, right = rig.layer("left_arm"), rig.layer("right_arm")
    assert left is not None and right is not None
    under = (np.maximum(left.texture[..., 3], right.texture[..., 3]) > 0.5) & (a > 0.5)
    assert under.sum() > 5000
    assert _row_to_row(colour, under) < most
