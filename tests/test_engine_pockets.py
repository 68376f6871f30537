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
from kmc_ui.engine.pipeline import load_picture
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
