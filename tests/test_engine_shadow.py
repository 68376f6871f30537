"""An arm's soft shadow falls on the character only; on the backdrop it is a contact shadow.

The wide shadow (deform.SHADOW_BLUR) reads as an arm in front of the body, but on a pale wall it
rang a held-out arm with a grey glow, a halo. The result's frames (`backdrop_shadow=True`, what
the pipeline asks for) keep it on the character and blur it by BACKDROP_SHADOW_BLUR only where the
backdrop shows; the calibration's drawings (read by the pose model) keep it wide everywhere.

Real code paths: OpenCV's blurs on drawn opacities, and the drawn character's rig (tests/figures.py,
through mediapipe's bundled models) rendered by the engine's Renderer.
"""

from __future__ import annotations

import cv2
import numpy as np

from kmc_ui.engine.deform import BACKDROP_SHADOW_BLUR, GRID, SHADOW_BLUR, SHADOW_STRENGTH, Renderer, _shade


def _square() -> tuple[np.ndarray, np.ndarray]:
    frame = np.full((80, 120, 3), 200, np.uint8)
    alpha = np.zeros((80, 120), np.uint8)
    alpha[30:50, 50:70] = 255
    return frame, alpha


def test_on_the_character_the_shadow_is_the_wide_one_and_beside_it_the_contact_one() -> None:
    wide, contact = 6.0, 2.0
    plain, alpha = _square()
    _shade(plain, alpha, wide, SHADOW_STRENGTH)
    split, _ = _square()
    on = np.zeros((80, 120), np.uint8)
    on[:, :60] = 255  # the character's pixels: the left half
    _shade(split, alpha, wide, SHADOW_STRENGTH, on, contact)
    # on the character, as wide as ever: 6 px left of the square darkened as much as before
    assert abs(int(split[40, 44, 0]) - int(plain[40, 44, 0])) <= 1
    assert plain[40, 44, 0] < 185
    # on the backdrop 6 px right of it, untouched (it was darkened), and still a contact shadow
    # 1 px beside its edge
    assert plain[40, 75, 0] < 185 and split[40, 75, 0] >= 199
    assert split[40, 70, 0] < 185
    # nowhere darker than the strength allows
    assert split.min() >= int(200 * (1 - SHADOW_STRENGTH)) - 1


def _arms_out(lm: np.ndarray) -> np.ndarray:
    """The left arm held out level at shoulder height, the right forearm across the waist."""
    out = lm.copy().astype(np.float64)
    shoulder, elbow = out[11, :2].copy(), out[13, :2]
    reach = np.linalg.norm(elbow - shoulder)
    for j in (13, 15, 17, 19, 21):
        d = np.linalg.norm(out[j, :2] - shoulder)
        out[j, :2] = shoulder + np.array([d, 0.0]) * np.sign(shoulder[0] - out[12, 0])
    r_elbow = out[14, :2].copy()
    for j in (16, 18, 20, 22):
        v = out[j, :2] - r_elbow
        out[j, :2] = r_elbow + np.array([np.linalg.norm(v), 0.0]) * np.sign(out[11, 0] - out[12, 0])
    assert reach > 10
    return out


def test_a_held_out_arm_leaves_no_halo_on_the_backdrop(drawn_rig) -> None:
    rig, _ = drawn_rig
    k = 1.5  # the rig drawn at 1.5x, in a frame wide enough for the held-out arm
    plate = np.zeros((960, 720, 3), np.uint8)
    plate[..., 1] = 200  # green: a shadow keeps it green; the character is never that pure
    pose = _arms_out(rig.landmarks)
    pose[:, :2] *= k
    now, _ = Renderer(rig, plate, k, GRID, backdrop_shadow=True).render(pose)
    before, _ = Renderer(rig, plate, k, GRID).render(pose)
    character = now[..., [0, 2]].max(axis=2) > 8
    assert 0.05 < character.mean() < 0.5
    away = cv2.distanceTransform((~character).astype(np.uint8), cv2.DIST_L2, 5)
    contact = BACKDROP_SHADOW_BLUR * rig.torso * k
    wide = SHADOW_BLUR * rig.torso * k
    ring = (away > 2.5 * contact) & (away < 1.5 * wide)
    assert ring.sum() > 500
    # before: a glow around the arms, past where their contact shadow ends
    assert (before[..., 1][ring] < 196).sum() > 300
    # now: the backdrop there is the plate, to a level
    assert int(200 - now[..., 1][ring].min()) <= 1
    # the contact shadow is still there, right beside the character
    assert (now[..., 1][(away > 0) & (away <= 2)] < 190).sum() > 50
    # on the character (away from its outline) the shadow is the wide one, as before: lighter on
    # 18 of 93,238 pixels (the character's opacity is known per 4-px cell), darker on 231 (right
    # at an arm's edge, where the contact shadow is the darker of the two)
    inner = cv2.erode(character.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    change = now[inner].astype(int) - before[inner].astype(int)
    assert (change.max(axis=1) > 1).sum() < 0.001 * inner.sum()
    assert (change.min(axis=1) < -1).sum() < 0.005 * inner.sum()
