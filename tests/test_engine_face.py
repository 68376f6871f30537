"""The offline engine's face turning as the reference's head turns (kmc_ui/engine/face.py).

Real code paths: mediapipe's face mesh (in the wheel) on the real photos in ../shared/media
(skipped with a reason when absent), the rig and the ARAP solve it feeds, frames drawn by the
renderer and read back by the pose model.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kmc_ui.engine import face
from kmc_ui.engine.bind import detect_frame
from kmc_ui.engine.deform import GRID, Renderer
from kmc_ui.engine.pipeline import _rig, load_picture, picture_face, picture_hands
from kmc_ui.engine.segment import cut_out


def _pose(yaw: float) -> np.ndarray:
    """Ears at x 80 (left, 7) and 120 (right, 8), the nose `yaw` of the span toward the right."""
    lm = np.zeros((33, 4))
    lm[7, :2], lm[8, :2] = (80.0, 50.0), (120.0, 50.0)
    lm[0, :2] = (100.0 + 40.0 * yaw, 60.0)
    return lm


def test_the_turn_is_read_from_the_nose_between_the_ears_and_kept_within_the_limit() -> None:
    assert face.yaw(_pose(0.25)) == pytest.approx(0.25)
    assert np.isnan(face.yaw(np.zeros((33, 4))))  # ears on one point: no reading
    rest = _pose(0.05)  # the picture's own facing, a little turned
    assert face.turn_angle(_pose(0.05), rest, None) == pytest.approx(0.0)
    assert face.turn_angle(_pose(0.2), rest, None) == pytest.approx(np.arctan(0.4) - np.arctan(0.1))
    assert face.turn_angle(_pose(-0.45), rest, None) == pytest.approx(-face.TURN_LIMIT)
    # against the reference's usual facing (its median over the clip), not the picture's
    usual = face.usual_yaw(np.stack([_pose(y) for y in (0.1, 0.2, 0.3, np.nan)]))
    assert usual == pytest.approx(0.2)
    assert face.turn_angle(_pose(0.2), rest, usual) == pytest.approx(0.0)
    # a point in front of the turning axis moves toward the ear the head turns to, one behind it away
    points = np.array([[100.0, 60.0, -20.0], [100.0, 40.0, 40.0]])  # a nose, a point far back
    moved = face.turned(points, rest, np.radians(10.0))
    assert moved[0, 0] > 2.0 and moved[1, 0] < moved[0, 0]
    assert np.allclose(moved[:, 1], 0.0)  # along the ear-to-ear line only
    assert np.allclose(face.turned(points, rest, 0.0), 0.0)


def test_a_real_face_turns_inside_the_head(shared_media: Path) -> None:
    """The man's photo: the face mesh reads his face on a crop around the head; its inner points
    become handles of the body's solve. Drawn with his head turned toward his right ear, then his
    left, the pose model reads the drawings turned those ways (the still one in between);
    the helmeted figure's face is not read, and its face stays still."""
    cut = cut_out(load_picture(shared_media / "person_man_fullbody.png"))
    assert cut is not None
    cut = replace(cut, hands=picture_hands(cut), face=picture_face(cut))
    assert cut.face is not None and cut.face.shape == (468, 3)
    h, w = cut.alpha.shape
    rig, _ = _rig(cut, 1.0)
    assert rig.face is not None and len(rig.face) >= 15
    plate = np.full((h, w, 3), 235, np.uint8)
    renderer = Renderer(rig, plate, 1.0, GRID)
    assert len(renderer.arap["body"].face_at) == len(rig.face)
    still = rig.landmarks.astype(np.float64).copy()
    read = {}
    for name, toward in (("left", -0.3), ("still", 0.0), ("right", 0.3)):
        pose = still.copy()
        pose[0, :2] += toward * (still[8, :2] - still[7, :2])  # the nose toward the right (left) ear
        frame, stats = renderer.render(pose)
        assert stats.breaks == 0.0 and not stats.torn
        seen = detect_frame(frame)
        assert seen is not None
        read[name] = face.yaw(seen)
    # both ways, as the pose model reads a single frame's yaw only to a few hundredths (one way alone
    # measured 0.097, then 0.056-0.084 as the body's fill changed beside it; both ways 0.124, then
    # 0.099, then 0.086 with the fill smoothed up and down, the head's pixels the same to the last)
    assert read["right"] > read["still"] > read["left"], read
    assert read["right"] - read["left"] > 0.07, read  # 0.030 with the face held still
    armour = cut_out(load_picture(shared_media / "character_armor_fullbody.png"))
    assert armour is not None
    assert picture_face(armour) is None
