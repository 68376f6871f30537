"""The body's outline where an arm hid it (kmc_ui/engine/outline.py), the body's fill there
read away from the arm's mixed edge, and that outline drawn with sub-pixel coverage
(kmc_ui/engine/rig.py, smooth_cut).

Real code paths: drawn masks for the rule itself, and the real woman's photo in ../shared/media
(skipped with a reason when absent) cut and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kmc_ui.engine.flaps import flap_rows, rows_past_a_gap
from kmc_ui.engine.outline import UP, hidden_outline
from kmc_ui.engine.pipeline import load_picture
from kmc_ui.engine.rig import (
    CUT_BAND,
    SIDE_IN,
    apart_from_torso,
    as_a_side,
    beside_upper_arm,
    named_points,
    smooth_cut,
    torso_sides,
    unlike_torso,
)
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
    shoulders, row 110) do not bound a run, and a run longer than 0.8 torso is not carried straight
    across either; the line never cuts inside the body's own pixels on a row. What such a run keeps
    of the hull's guess is its rows above the armpit, and more than UP torso (100 rows) above where
    the side shows below it: nearer, the side is carried up from below (the next test)."""
    mask, arm, pts = _body_and_arm((30, 150))  # from above the shoulders' line to below the armpit
    behind = arm & (np.arange(300) < 215)[None, :]
    out = hidden_outline(mask, arm, behind, pts, 200.0)
    assert np.array_equal(out[:110], behind[:110])
    assert not out[110:150, 200:].any() and out[110:150, 185:200].all()
    mask, arm, pts = _body_and_arm((120, 300))  # shows above, but 180 rows > 0.8 x 200 torso
    behind = arm & (np.arange(300) < 215)[None, :]
    out = hidden_outline(mask, arm, behind, pts, 200.0)
    top = 300 - round(UP * 200)
    assert np.array_equal(out[:top], behind[:top])
    assert not out[top:300, 200:].any() and out[top:300, 185:200].all()
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


def test_no_denim_is_filled_past_her_shorts_side_under_her_hanging_arm(shared_media: Path) -> None:
    """The woman's left arm hangs against her body from the armpit to her hand on her thigh, so her
    shorts' side shows only below the hand. Carried up from there 0.3 torso, the side left the hull's
    guess above it: a sliver of her arm beside her hip was filled with the shorts' denim, a blue
    blob beside her shorts once the arm rose (79 blue pixels of the body's layer where the picture
    is not blue, x 440-479, y 360-439). Carried up UP = 0.5 torso, none."""
    _, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    box = (slice(360, 440), slice(440, 480))
    a = body.texture[box][..., 3]
    colour = body.texture[box][..., :3] / np.maximum(a[..., None], 1e-6)  # BGR
    picture = cv2.cvtColor(load_picture(shared_media / "person_woman_fullbody.png"), cv2.COLOR_RGB2BGR)[box]
    blue = (a > 0.5) & (colour[..., 0] > colour[..., 2])
    assert int((blue & ~(picture[..., 0] > picture[..., 2])).sum()) == 0
    assert int(blue.sum()) > 600  # the shorts themselves are there


def _frontal_points() -> dict[str, np.ndarray]:
    """Shoulders at x 140 and 260 (y 100), elbows straight below them (y 200), wrists at y 290,
    hips at x 170 and 230 (y 300)."""
    lm = np.zeros((33, 4))
    lm[:, :2] = (200.0, 60.0)
    lm[L.L_SHOULDER, :2], lm[L.R_SHOULDER, :2] = (260, 100), (140, 100)
    lm[L.L_ELBOW, :2], lm[L.R_ELBOW, :2] = (262, 200), (138, 200)
    lm[L.L_WRIST, :2], lm[L.R_WRIST, :2] = (262, 290), (138, 290)
    lm[L.L_HIP, :2], lm[L.R_HIP, :2] = (230, 300), (170, 300)
    return named_points(lm)


def test_the_torsos_side_under_a_hanging_arm_is_inside_the_shoulder_joint() -> None:
    """The hull grows the torso's quad 1.2 times about its middle, which put the body's side 12 px
    past each shoulder joint here. `torso_sides` is what lies between that and the side running
    from SIDE_IN upper-arm radii inside the joint down to the grown hips: at the shoulders' line
    from 260 - 0.7 x 10 = 253 out to 272 on the left, mirrored on the right; nothing at the hips."""
    pts = _frontal_points()
    radii = {"l_upper": 10.0, "r_upper": 10.0}
    sides = torso_sides((400, 400), pts, radii)
    inner = round(260 - SIDE_IN * 10)
    row = sides[101]
    assert row[inner + 1 : 267].all() and not row[200 : inner - 1].any() and not row[271:].any()
    assert row[134 : 400 - inner - 1].all() and not row[:130].any()  # the right side, mirrored
    assert not row[150:250].any()
    assert not sides[320:].any() and sides[300:].sum() < 60  # the two sides meet at the grown hips
    # an arm's pixels beside the torso are the upper arm's only when level with it (not past the elbow)
    arm = np.zeros((400, 400), bool)
    arm[100:300, 250:275] = True
    upper = beside_upper_arm(arm, pts, "l")
    assert upper[110:190, 250:275].all() and not upper[205:].any()


def test_only_an_arm_unlike_the_torso_beside_it_is_taken_off_the_torso() -> None:
    """A bare arm (skin) past the torso's side beside a grey top is the arm's; a sleeve of the
    shirt's colour is not known to end anywhere, and rows with no torso pixel near keep the hull's
    guess."""
    grey, skin = (110, 110, 115), (230, 190, 170)
    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[:, :40] = grey
    rgb[:, 40:60] = skin
    past = np.zeros((60, 80), bool)
    past[10:50, 42:55] = True
    body = np.zeros_like(past)
    body[:, :40] = True
    out = unlike_torso(rgb, past, body, 100.0)  # the torso's colour read within 5 px
    assert out[10:50, 42:55].all() and not out[~past].any()
    sleeve = rgb.copy()
    sleeve[:, 40:60] = grey
    assert not unlike_torso(sleeve, past, body, 100.0).any()
    body[30:] = False
    out = unlike_torso(rgb, past, body, 100.0)
    assert out[10:30, 42:55].all() and not out[36:].any()


def test_the_torsos_side_beside_an_upper_arm_is_a_line_not_stripes() -> None:
    """Past the torso's side is decided pixel by pixel by colour; where that is noisy (a sleeve in
    the jacket's red, its shading, a drawstring) the stripes of "past" and "not" are made one
    line down the rows: on each row, what lies outside it is past, what lies inside is not.
    (SIDE_ROWS of 100 px torso lengths: a running median over 11 rows.)"""
    rng = np.random.default_rng(7)
    level = np.zeros((120, 100), bool)
    level[10:110, 40:70] = True
    unlike = np.zeros_like(level)
    unlike[:, 55:70] = True  # the outer half (the arm lies to the right) unlike the torso
    noise = rng.random(level.shape) < 0.2
    unlike ^= noise  # a fifth of the pixels read the other way
    unlike[:, 60:62] = False  # and a drawstring down the outer half reads like the torso
    unlike &= level
    out = as_a_side(level, unlike, 1.0, 100.0)
    assert not out[~level].any()
    for y in range(10, 110):
        past = np.flatnonzero(out[y])
        assert len(past) and past[-1] == 69 and np.array_equal(past, np.arange(past[0], 70)), y  # one run, outside
        assert 52 <= past[0] <= 63, (y, past[0])  # at the unlike half's inner edge or the drawstring
    # the same, the arm to the left: the mirror image
    assert np.array_equal(as_a_side(level[:, ::-1], unlike[:, ::-1], -1.0, 100.0), out[:, ::-1])
    # nothing unlike: nothing past; all unlike: all of it
    assert not as_a_side(level, np.zeros_like(level), 1.0, 100.0).any()
    assert np.array_equal(as_a_side(level, level, 1.0, 100.0), level)
    # rows where nothing reads unlike (the woman's bare arm beside her skin above her top's edge)
    # have no say: the few next to rows that can tell take their line, those far from any stay
    # the body's; a row that reads the arm like the torso outside and unlike inside says none
    top = level & unlike
    top[10:26] = False  # rows 10-25 read nothing unlike
    out = as_a_side(level, top, 1.0, 100.0)
    assert out[21:26].any(axis=1).all() and not out[10:15].any()
    inward = level.copy()
    inward[:, 55:] = False  # unlike inside, like outside: no side there
    assert not as_a_side(level, inward, 1.0, 100.0).any()


def test_nothing_of_the_mans_body_hangs_beside_his_side_under_his_arm(shared_media: Path) -> None:
    """The man's right sleeve is the jacket's red. Beside the torso under it, the colour read half
    of it as unlike the torso and half as like, in stripes; the body was filled in on the stripes
    and hung below his raised arm as a ragged red tab, cut off from his side by the backdrop. From
    below the shoulder's cap to the elbow, rows where the body layer has opaque pixels past a gap
    from the middle outward (flaps.flap_rows): 37 of 97 before, 3 now (at the cap's lower edge)."""
    _, rig = _photo_rig(shared_media / "person_man_fullbody.png")
    rows, flaps = flap_rows(rig)["right upper arm"]
    assert rows > 60 and flaps <= 6, (flaps, rows)
    assert flap_rows(rig)["left upper arm"][1] <= 6


def test_the_flap_measure_counts_the_rows_a_piece_hangs_past_a_gap() -> None:
    """A body 100 px wide (x 100-199) and, past a 10 px gap, a piece x 210-224 on rows 80-119,
    beside a right upper arm from the shoulder (y 40, radius 10: looked at from y 52) to the elbow
    (y 160): 40 of 108 rows. The other side, with nothing past its edge: none."""
    opaque = np.zeros((300, 300), bool)
    opaque[:, 100:200] = True
    opaque[80:120, 210:225] = True
    lm = np.zeros((33, 4))
    lm[L.L_SHOULDER, :2], lm[L.R_SHOULDER, :2] = (190, 40), (110, 40)
    lm[L.L_ELBOW, :2], lm[L.R_ELBOW, :2] = (200, 160), (100, 160)
    radii = {"l_upper": 10.0, "r_upper": 10.0}
    found = rows_past_a_gap(opaque, lm, radii)
    assert found == {"left upper arm": (108, 40), "right upper arm": (108, 0)}


def test_past_a_gap_beside_the_torso_an_upper_arms_rows_hold_no_body(shared_media: Path) -> None:
    """On an upper arm's rows, what of the character lies past the first gap of backdrop going out
    from the torso's middle is the arm's (rig.apart_from_torso): drawn, the arm's block past the
    gap, not the torso, not rows above the shoulder's cap or below the elbow's round end. On the
    armour, the shadowed inner side of its right upper arm lay past such a gap and stayed on the
    body, drawn in front of the arm: it hung beside its side as a flap once the arm rose (48 of 61
    rows by the flap measure; 10 now)."""
    mask = np.zeros((300, 300), bool)
    mask[:, 100:200] = True  # the torso
    mask[40:200, 210:240] = True  # an arm past a 10 px gap
    pts = {"11": np.array([195.0, 40.0]), "12": np.array([105.0, 40.0]), "13": np.array([225.0, 150.0])}
    got = apart_from_torso(mask, pts, {"l_upper": 10.0}, "l")
    assert got[52:160, 210:240].all() and not got[:, :200].any()
    assert not got[:52].any() and not got[160:].any()
    _, armour = _photo_rig(shared_media / "character_armor_fullbody.png")
    rows, flaps = flap_rows(armour)["right upper arm"]
    assert rows > 50 and flaps <= 15, (flaps, rows)


def test_her_top_ends_where_her_arm_hid_its_side(shared_media: Path) -> None:
    """The woman's left arm hangs beside her camisole. The body layer under the upper arm (from
    below the shoulder's cap to the elbow, past the shoulder joint) was filled out to the hull's
    guess, 12 px past the joint: a grey column beside her top once the arm rose (1,128 opaque
    pixels there; 646 now, mostly her ruffle's own edge). Her skin there is unlike the grey top
    beside it, so the arm there is hers alone; the ruffle in front of it stays with the body, as
    does her right side, where her hair lies in front (1,201 both times)."""
    _, rig = _photo_rig(shared_media / "person_woman_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3]
    xs = np.arange(a.shape[1])[None, :]

    def past_the_joint(shoulder: int, elbow: int, radius: str) -> int:
        sx, sy = rig.landmarks[shoulder, :2]
        y0, y1 = int(sy + 1.2 * rig.radii[radius]), int(rig.landmarks[elbow, 1])
        outward = 1.0 if sx > rig.landmarks[L.NOSE, 0] else -1.0
        return int(((a[y0:y1] > 0.5) & (outward * (xs - sx) > 0)).sum())

    left = past_the_joint(L.L_SHOULDER, L.L_ELBOW, "l_upper")
    assert 300 < left < 900, left
    right = past_the_joint(L.R_SHOULDER, L.R_ELBOW, "r_upper")
    assert right > 1000, right


def test_a_hidden_side_widens_no_faster_than_a_body_does() -> None:
    """A waist (x 100-199) above a skirt's flare (x 100-269 from row 300), an arm over the side
    between them (rows 200-299): the straight line from the waist to the flare was a wedge of fill
    past the waist (x 234 on row 250). The side now runs down from the waist widening by SLOPE a
    row at most, and steps out to the flare at its top."""
    mask = np.zeros((400, 320), bool)
    mask[:300, 100:200] = True
    mask[300:, 100:270] = True
    arm = np.zeros_like(mask)
    arm[200:300, 185:290] = True
    mask |= arm
    pts = {"11": np.array([180.0, 50.0]), "12": np.array([120.0, 50.0])}
    pts["23"], pts["24"] = np.array([180.0, 250.0]), np.array([120.0, 250.0])
    out = hidden_outline(mask, arm, arm.copy(), pts, 200.0)
    assert out[250, 185:224].all() and not out[250, 226:].any()  # 199 + 0.5 x 51 rows
    assert out[298, 185:248].all() and not out[298, 250:].any()


def test_a_side_hidden_down_from_the_armpit_is_carried_up_from_below() -> None:
    """An arm hangs against the body from above the shoulders (row 20) down to its hand (row 249),
    and the body's side (x 199) shows only below it: no row above bounds the run, so the hull's
    guess (15 px past the side) stayed, a bulge beside the hips once the hands moved. The side is
    carried straight up from below for UP torso (100 rows): the guess past it goes. It only trims:
    where the hull gave the body less (x 185-192 on rows 200-219), nothing is added."""
    mask, arm, pts = _body_and_arm((20, 250))
    behind = arm & (np.arange(300) < 215)[None, :]
    behind[200:220, 193:] = False
    out = hidden_outline(mask, arm, behind, pts, 200.0)
    top = 250 - round(UP * 200)
    assert not out[top:250, 200:].any()  # the guess past the side, up to 100 rows above the hand's end
    assert out[top:200, 185:200].all() and out[220:250, 185:200].all()
    assert not out[200:220, 193:].any()  # not widened
    assert np.array_equal(out[:top], behind[:top])  # higher up the hull's guess stays


def test_a_side_hidden_down_to_the_pictures_bottom_edge_is_the_other_side_mirrored() -> None:
    """A waist-up picture: the arm hangs against the body's right side (x 199) down to the
    picture's last row, so no row below shows the side, and the hull's guess (15 px past it) stayed:
    a bulge of fill beside the waist once the held arm turned. The body's left side (x 100) shows
    on every row: mirrored across the axis (x 150) it trims the guess from the armpit (0.3 torso
    below the shoulders, row 110) down; it only trims (nothing added where the hull gave less),
    and above the armpit the guess stays. Hidden on both sides alike, nothing is mirrored."""
    for start in (200, 30):
        mask, arm, pts = _body_and_arm((start, 400))
        behind = arm & (np.arange(300) < 215)[None, :]
        behind[300:320, 193:] = False
        out = hidden_outline(mask, arm, behind, pts, 200.0)
        first = max(start, 110)
        assert not out[first:400, 201:].any(), start  # the guess past the mirrored side
        assert out[first:300, 185:200].all() and out[320:400, 185:200].all()
        assert not out[300:320, 193:].any()  # not widened
        assert np.array_equal(out[:first], behind[:first])
    mask, arm, pts = _body_and_arm((30, 400))
    left = np.zeros_like(mask)
    left[30:400, 70:115] = True  # the other arm against the left side, down to the edge too
    mask |= left
    behind = (arm | left) & ((np.arange(300) < 215) & (np.arange(300) > 85))[None, :]
    out = hidden_outline(mask, arm | left, behind, pts, 200.0)
    assert np.array_equal(out, behind)


def test_the_mans_shorts_have_no_bulge_where_his_hands_hung(shared_media: Path) -> None:
    """The man's arms hang against his body from the armpits to his hands, which lie over the sides
    of his shorts; below them the shorts' sides show (x 216 and 394). The body under his hands was
    the hull's guess, a rounded bulge 15-20 px past each side (812 and 770 opaque body pixels in
    x 190-215 and x 394-419, rows 480-549). Now the sides run straight up from below: only the
    side's own column is left in those boxes (70 rows)."""
    _, rig = _photo_rig(shared_media / "person_man_fullbody.png")
    body = rig.layer("body")
    assert body is not None
    a = body.texture[..., 3] > 0.5
    left, right = int(a[480:550, 190:216].sum()), int(a[480:550, 394:420].sum())
    assert left < 150 and right < 150, (left, right)
    assert a[480:540, 230:380].all()  # the shorts themselves


def _stair_corners(alpha: np.ndarray) -> int:
    """2x2 blocks of pixels all fully opaque or fully clear (within 0.02) with one or three of them
    opaque: the corners of an edge drawn on the pixel grid in steps, which the renderer's scaling
    shows as steps of k output px. A straight edge along a row or column has none."""
    binary = (alpha <= 0.02) | (alpha >= 0.98)
    every = binary[:-1, :-1] & binary[1:, :-1] & binary[:-1, 1:] & binary[1:, 1:]
    o = (alpha >= 0.5).astype(np.int32)
    opaque = o[:-1, :-1] + o[1:, :-1] + o[:-1, 1:] + o[1:, 1:]
    return int((every & ((opaque == 1) | (opaque == 3))).sum())


def test_an_edge_drawn_by_a_rule_has_sub_pixel_coverage() -> None:
    """A body's edge given by a rule (alpha 1 below a slanted line, 0 above: what is filled in
    under an arm) was a staircase of whole pixels: each column's coverage (its summed opacity) off
    the straight line through them by 0.25 px on average, with 54 stair corners. smooth_cut draws
    it along its smoothed outline: 0.043 px off the line, no corner. No pixel crosses one half, so
    the opaque part is the same. The pixels it makes partly opaque (54 in x < 90) take the body's
    colour (blue), not the backdrop's (green) behind them; where the matte, not a rule, gave the
    opacity (x 100 on, past CUT_BAND) nothing changes."""
    h, w = 200, 200
    ys, xs = np.mgrid[0:h, 0:w]
    inside = ys + 0.5 > 0.3 * (xs + 0.5) + 40.25
    alpha = inside.astype(np.float32)
    bgr = np.zeros((h, w, 3), np.uint8)
    bgr[inside], bgr[~inside] = (200, 60, 40), (0, 255, 0)
    decided = xs < 100
    out, colour = smooth_cut(alpha, bgr, decided)

    def off_the_line(a: np.ndarray, cols: slice) -> float:
        cover = a[:, cols].sum(axis=0)
        x = np.arange(len(cover))
        return float(np.abs(cover - np.polyval(np.polyfit(x, cover, 1), x)).mean())

    assert off_the_line(alpha, slice(10, 90)) > 0.2, off_the_line(alpha, slice(10, 90))
    assert off_the_line(out, slice(10, 90)) < 0.06, off_the_line(out, slice(10, 90))
    assert _stair_corners(alpha[:, :90]) > 20 and _stair_corners(out[:, :90]) == 0
    assert np.array_equal(out >= 0.5, inside)
    gained = (out > 0.02) & ~inside
    assert gained[:, :90].sum() > 40
    assert (colour[gained][:, 1] < 100).all() and (colour[gained][:, 0] > 150).all()
    assert np.array_equal(out[:, 100 + CUT_BAND + 1 :], alpha[:, 100 + CUT_BAND + 1 :])
    assert np.array_equal(colour[:, 100 + CUT_BAND + 1 :], bgr[:, 100 + CUT_BAND + 1 :])


@pytest.mark.parametrize(("photo", "before"), [("character_anime_fullbody.jpg", 203), ("person_man_fullbody.png", 322)])
def test_the_body_layers_outline_has_no_stair_corners(shared_media: Path, photo: str, before: int) -> None:
    """Where an arm took the body's pixels, or the body is filled in under it, its layer's opacity
    was set 0 or 1 pixel by pixel: `before` stair corners on these two photos, steps of 4-5 px where
    a talking head scales the anime figure's head up (her raised hand's place in her hair). Now
    none is left (the arms' layers have 0-1: FEATHER)."""
    _, rig = _photo_rig(shared_media / photo)
    body = rig.layer("body")
    assert body is not None
    corners = _stair_corners(body.texture[..., 3])
    assert corners < 10, (corners, before)
