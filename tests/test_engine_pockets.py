"""The backdrop seen through a gap the segmentation model closed is backdrop, not character
(segment.backdrop_pockets): the armoured figure's arms hang close to its waist, the model joins
them over at the elbows, and the white between them went with the arm and stayed on the waist as
white patches once the arms moved. A white collar inside a jacket, or a white sleeve against busy
clouds, is not such a pocket.

Real code paths: drawn pictures for the rule, and the real photos in ../shared/media (skipped with
a reason when absent) cut out and rigged through mediapipe's bundled models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kmc_ui.engine import segment
from kmc_ui.engine.deform import AXIS_SAMPLES, GRID, Renderer
from kmc_ui.engine.pipeline import load_picture
from kmc_ui.engine.rig import past_pockets, see_through
from kmc_ui.engine.segment import backdrop_pockets
from tests.test_engine_pieces import _photo_rig

WALL, RED, WHITE = (240, 240, 238), (180, 30, 35), (244, 244, 242)  # RGB
TORSO = 200.0  # px: the drawn figure's torso length


def _figure() -> tuple[np.ndarray, np.ndarray]:
    """A 300x300 picture of a red torso (x 100-180) and a red arm (x 196-220) beside it on a pale
    wall, and the mask a model gives: the figure with the 16 px gap between arm and torso bridged
    from y 120 to 150 (the gap is open above and below). The torso carries a white collar
    (x 125-155, y 40-70), inside the red, and the arm a cuff with two white stripes 3 px high
    across its whole width (the man's red sleeve has such a cuff)."""
    rgb = np.zeros((300, 300, 3), np.uint8)
    rgb[:] = WALL
    rgb[30:280, 100:180] = RED
    rgb[40:70, 125:155] = WHITE
    rgb[40:250, 196:220] = RED
    rgb[200:203, 196:220] = WHITE
    rgb[207:210, 196:220] = WHITE
    mask = np.zeros((300, 300), bool)
    mask[30:280, 100:180] = True
    mask[40:250, 196:220] = True
    mask[120:150, 180:196] = True
    return rgb, mask


def test_the_backdrop_in_a_bridged_gap_is_a_pocket_and_the_figure_is_not() -> None:
    rgb, mask = _figure()
    got = backdrop_pockets(rgb, mask, TORSO)
    bridge = np.zeros_like(mask)
    bridge[120:150, 180:196] = True
    assert got[bridge].mean() > 0.95
    assert not got[mask & ~bridge].any()  # the red, the white collar inside it, the cuff's stripes


def test_a_white_part_against_a_busy_backdrop_is_not_a_pocket() -> None:
    """The arm's place bridged to the torso in white, against a backdrop of white and blue stripes
    (clouds in a sky): that backdrop is not one colour, so nothing is taken."""
    rgb, mask = _figure()
    rgb[120:150, 180:196] = WHITE
    for y in range(0, 300, 6):
        stripe = rgb[y : y + 3]
        stripe[~mask[y : y + 3]] = (60, 120, 220)
    assert not backdrop_pockets(rgb, mask, TORSO).any()


def test_a_pocket_reaches_only_near_the_masks_edge() -> None:
    """A wide white region joined to a white wall (a sheet the model took as figure) is taken only
    within POCKET_REACH torso lengths of the edge: the rest of the figure is left to the matte."""
    rgb, mask = _figure()
    mask[150:280, 180:290] = True  # the wall right of the arm's lower half, 70 px wide
    got = backdrop_pockets(rgb, mask, TORSO)
    assert got[200, 285] and got[155, 260]  # 5 px from the mask's edge
    assert not got[200, 250]  # 40 px from it (POCKET_REACH is 16 px here)


def _white(texture: np.ndarray) -> int:
    """Opaque near-white pixels of a layer's texture (premultiplied)."""
    a = texture[..., 3]
    colour = texture[..., :3] / np.maximum(a[..., None], 1e-6)
    return int(((a > 0.5) & (colour.min(axis=-1) > 225)).sum())


def test_the_armours_layers_carry_no_white_from_beside_its_waist(shared_media: Path) -> None:
    """The gaps between the armour's forearms and its waist, bridged at the elbows by the model, were
    white backdrop inside its mask (at (398, 314) and (219, 340)). In the rows beside the waist
    (y 290-400) the right arm's layer carried 1,168 opaque near-white pixels, the left arm's 30 and
    the body's 889: white patches beside a moving forearm and on the waist's side. Now they are
    backdrop: out of the mask, and no layer carries such white there (the armour's own white, its
    elbows' highlights and its chest light, lies above those rows)."""
    cut, rig = _photo_rig(shared_media / "character_armor_fullbody.png")
    assert cut.alpha[314, 398] < 0.5 and cut.alpha[340, 219] < 0.5
    white = {layer.name: _white(layer.texture[290:400]) for layer in rig.layers}
    assert set(white) == {"body", "left_arm", "right_arm"}
    assert sum(white.values()) < 40, white


def test_the_man_and_the_woman_lose_no_part_of_themselves(shared_media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the studio photos the rule takes nothing (0 px measured; a first version without the
    width test took 183 px of the man's white cuff stripes), on the armour its two pockets: the
    pockets the cut finds, counted as the real cut runs."""
    taken: list[int] = []
    rule = segment.backdrop_pockets

    def counted(rgb: np.ndarray, mask: np.ndarray, torso: float) -> np.ndarray:
        got = rule(rgb, mask, torso)
        taken.append(int(got.sum()))
        return got

    monkeypatch.setattr(segment, "backdrop_pockets", counted)
    for name in ("person_man_fullbody.png", "person_woman_fullbody.png", "character_armor_fullbody.png"):
        segment.cut_out(load_picture(shared_media / name))
    assert taken[0] < 30 and taken[1] < 30, taken
    assert taken[2] > 1000, taken


def _bent_arm() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 300x300 picture of a red torso (x 100-180) and a red arm bent at the elbow: the upper arm
    (x 200-224) joined to the torso down to y 120, the forearm (y 170-195) brought across in front
    of the torso. Between them (x 180-200, y 120-170) the backdrop shows, closed on every side,
    and the model's mask covers it. The backdrop is a sky that grows paler row by row (one colour
    along each row). Inside the torso, a patch of the sky's own colour: a collar (x 125-155,
    y 40-70) and a badge under the forearm (x 140-160, y 140-165). Returns the picture, the mask
    and the landmarks (picture px)."""
    rgb = np.zeros((300, 300, 3), np.uint8)
    for y in range(300):
        rgb[y] = (120 + y // 3, 190 + y // 10, 235)
    sky = rgb.copy()
    rgb[30:280, 100:180] = RED
    rgb[30:120, 180:200] = RED
    rgb[30:195, 200:224] = RED
    rgb[170:195, 130:224] = RED
    rgb[40:70, 125:155] = sky[40:70, 125:155]
    rgb[140:165, 140:160] = sky[140:165, 140:160]
    mask = np.zeros((300, 300), bool)
    mask[30:280, 100:180] = True
    mask[30:195, 180:224] = True
    mask[170:195, 130:224] = True
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 1.0
    joints = {0: (140, 10), 11: (212, 40), 12: (110, 40), 13: (212, 182), 14: (100, 160), 15: (135, 182)}
    joints.update({16: (100, 260), 23: (150, 270), 24: (110, 270)})
    for j, xy in joints.items():
        lm[j, :2] = xy
    return rgb, mask, lm


def test_the_backdrop_closed_in_an_arms_bend_is_a_pocket() -> None:
    """The half-figure's sky between her upper arm, her forearm and her waist has no path to the
    backdrop (backdrop_pockets needs one): segment.bend_pockets takes it by the colour of the sky
    across the arm on its own row, and only in an arm's bend. A collar and a badge of the sky's
    own colour inside the torso, and the gap itself painted white, are not taken."""
    rgb, mask, lm = _bent_arm()
    assert not backdrop_pockets(rgb, mask, TORSO).any()  # no path out: the older rule sees nothing
    got = segment.bend_pockets(rgb, mask, lm, TORSO)
    gap = np.zeros_like(mask)
    gap[120:170, 180:200] = True
    assert got[gap].mean() > 0.95
    assert not got[mask & ~gap].any()  # the red, the collar above the shoulders, the badge inside the torso
    white = rgb.copy()
    white[120:170, 180:200] = WHITE
    assert not segment.bend_pockets(white, mask, lm, TORSO).any()
    busy = rgb.copy()
    for y in range(0, 300, 6):
        stripe = busy[y : y + 3]
        stripe[~mask[y : y + 3]] = (250, 250, 250)
    assert not segment.bend_pockets(busy, mask, lm, TORSO)[gap].any()  # beside a striped backdrop
    far = lm.copy()
    far[[13, 15], 0] -= 150  # the same gap, far from the arm's bones: not a bend
    assert not segment.bend_pockets(rgb, mask, far, TORSO).any()


def _sky(texture: np.ndarray) -> int:
    """Opaque sky-blue pixels of a layer's texture (premultiplied BGR): blue over red by 30 or more."""
    a = texture[..., 3]
    colour = texture[..., :3] / np.maximum(a[..., None], 1e-6)
    return int(((a > 0.5) & (colour[..., 0] - colour[..., 2] > 30) & (colour[..., 1] > 150)).sum())


def test_the_half_figures_left_arm_carries_no_sky_from_its_bend(shared_media: Path) -> None:
    """The sky between the half-figure's left upper arm, her forearm and her waist went with that
    arm as a blue patch (681 opaque sky-blue pixels in its layer around the bend). It stays in the
    cut's mask (the rig is cut from the silhouette the model drew) and is see-through in every
    layer: the cut's `pockets`. Where her forearm's bone crosses it, the frame shows the backdrop
    as the picture does, and `breaks` does not count it."""
    cut, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    assert cut.pockets is not None and cut.pockets[360, 267] > 0.9
    assert cut.alpha[360, 267] > 0.5
    sky = {layer.name: _sky(layer.texture[330:390, 240:290]) for layer in rig.layers}
    assert sky["left_arm"] < 40, sky
    assert sum(sky.values()) < 60, sky
    # her forearm's bone, its elbow read high in the puffy sleeve, crosses that sky: `breaks` does
    # not count the picture's own backdrop on a limb's axis as a break (deform.open_axis)
    plate = np.full((rig.height, rig.width, 3), 255, np.uint8)
    counted = Renderer(rig, plate, 1.0, GRID)
    assert counted.open_axis.get((13, 15), np.zeros(1, bool)).any(), counted.open_axis
    assert counted.render(rig.landmarks.copy())[1].breaks == 0.0
    # what it leaves out lies in that sky, within the reach the renderer reads it at (GRID px at
    # k 1; a forearm swung out of it, counted without open_axis: tests/test_engine_sleeve.py). At
    # rest the sky's rim beside her sleeve's drawn outline is matted half opaque now
    # (segment.matte, MATTE_NEAR), so the frame covers it either way
    on = rig.landmarks[13, :2] + np.linspace(0.0, 1.0, AXIS_SAMPLES)[:, None] * (
        rig.landmarks[15, :2] - rig.landmarks[13, :2]
    )
    left_out = np.round(on[counted.open_axis[(13, 15)]])
    assert rig.pockets is not None
    ys, xs = np.nonzero(rig.pockets)
    gap = np.hypot(xs[None, :] - left_out[:, :1], ys[None, :] - left_out[:, 1:]).min(axis=1)
    assert gap.min() <= GRID, gap


def test_the_half_figures_side_runs_down_from_her_waist_past_the_sky_in_her_bend(shared_media: Path) -> None:
    """Below the sky in her left arm's bend her forearm hides her side down to her skirt. The
    body's outline there was guessed past her waist (outline.hidden_outline saw the bend's sky as
    arm, so no row there showed her waist): a bulge of fill out to x 340 beside it (1,182 opaque
    body pixels in x 265-339, y 360-419), a grey wedge by her corset once the arm rose. The sky now
    shows the outline as the backdrop does, and her side runs down from her waist."""
    _, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    body = rig.layer("body")
    assert body is not None
    past = int((body.texture[360:420, 265:340, 3] > 0.5).sum())
    assert past < 300, past
    assert (body.texture[360:420, 200:250, 3] > 0.5).mean() > 0.95  # her waist itself stays


def test_only_the_half_figure_has_a_bend_pocket(shared_media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bend_pockets on the real photos, counted as the cut runs: the half-figure's sky in her arm's
    bend (764 px), nothing on the others (the armour's helmet highlights, the anime figure's glow
    between her knees and the half-figure's white blouse by her other shoulder have the backdrop's
    colour on their rows, closed on every side, but lie in no arm's bend)."""
    taken: dict[str, int] = {}
    rule = segment.bend_pockets
    names = ("character_anime_upperbody.png", "character_anime_fullbody.jpg", "character_armor_fullbody.png")
    for name in (*names, "person_man_fullbody.png", "person_woman_fullbody.png"):
        def counted(rgb: np.ndarray, mask: np.ndarray, lm: np.ndarray, torso: float, name: str = name) -> np.ndarray:
            got = rule(rgb, mask, lm, torso)
            taken[name] = int(got.sum())
            return got

        monkeypatch.setattr(segment, "bend_pockets", counted)
        segment.cut_out(load_picture(shared_media / name))
    assert taken.pop("character_anime_upperbody.png") > 400, taken
    assert set(taken.values()) == {0}, taken


def test_an_arm_keeps_nothing_past_the_pocket_in_its_bend() -> None:
    """rig.see_through: the arm's region reached 2 px past the pocket onto the body's edge. With the
    pocket see-through, that rim was a pale line a pocket's width from the arm, moving with it; it
    goes, with its soft margin, and the arm's own edge beside the pocket stays."""
    pockets = np.zeros((100, 100), np.float32)
    pockets[30:70, 40:58] = 1.0
    pockets[30:70, 39] = pockets[30:70, 58] = 0.5  # the matte's soft rim
    arm = np.zeros((100, 100), np.float32)
    arm[25:75, 38:80] = 1.0  # the pocket, 2 px past it on its left, the arm on its right
    arm[25:75, 35:38] = (0.2, 0.4, 0.7)  # the arm's feathered margin
    out = see_through(arm, pockets)
    assert out[34:66, 30:58].max() == 0.0  # the rim and its margin (where it joins the arm, kept)
    assert (out[30:70, 60:80] == 1.0).all()  # the arm
    assert np.allclose(out[30:70, 58], 0.5)  # its edge beside the pocket, as the matte left it
    assert (out[20:25] == arm[20:25]).all() and (out[75:] == arm[75:]).all()  # away from the pocket


def test_what_lies_past_a_bends_backdrop_under_the_arm_is_not_body() -> None:
    """On the rows a bend's backdrop spans, what an arm covers beyond it (away from the torso's
    middle), and the backdrop's own pixels under the arm, are not body; the body beside the torso,
    and rows the backdrop does not span, are kept. Mirrored for a bend on the torso's other side."""
    pockets = np.zeros((40, 60), bool)
    pockets[10:20, 30:36] = True
    arm = np.zeros((40, 60), bool)
    arm[5:30, 34:50] = True
    out = past_pockets(pockets, arm, 10.0)
    assert out[10:20, 36:50].all() and out[10:20, 34:36].all()
    assert not out[:10].any() and not out[20:].any() and not out[:, :34].any()
    left = past_pockets(pockets[:, ::-1], arm[:, ::-1], 49.0)
    assert np.array_equal(left, out[:, ::-1])


def test_the_half_figures_body_leaves_no_window_past_the_sky_in_her_bend(shared_media: Path) -> None:
    """Beyond the sky in the half-figure's left bend, under her sleeve, the body's layer held a
    strip of fill (438 pixels at all opaque on the sky's rows, 387 half opaque or more). Once her
    arm moved it framed the sky like a window by her waist. The sky shows where her side is: none
    of it is body now."""
    _, rig = _photo_rig(shared_media / "character_anime_upperbody.png")
    body, arm = rig.layer("body"), rig.layer("left_arm")
    assert body is not None and arm is not None and rig.pockets is not None
    rows = np.flatnonzero(rig.pockets.any(axis=1))
    assert len(rows) > 30
    beyond = np.zeros_like(rig.pockets)
    for y in rows:
        beyond[y, np.flatnonzero(rig.pockets[y]).max() + 1 :] = True
    under = beyond & (arm.texture[..., 3] > 0.5)
    assert under.sum() > 300  # her sleeve lies there
    assert int((body.texture[..., 3][under] > 0.02).sum()) == 0

