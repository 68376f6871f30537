"""The result's frames draw a magnified picture from sharpened textures.

A talking head's video shows a head and shoulders, so the picture's face is magnified 4-5 times,
and drawn bilinear it came out soft. The result's frames (`Renderer(fine=True)`, what the pipeline
asks for) draw the body, the pixels in front of the arms and the arms' pieces from textures
sharpened once (deform.sharpened) where the picture is magnified deform.SHARPEN_FROM times or
more; below that (the dance's pictures, 1-2 times), and in the calibration's drawings, they are
drawn as before.

Real code paths: the drawn character's rig (tests/figures.py, through mediapipe's bundled models)
rendered by the engine's Renderer, its arms by pieces.draw_pieces.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from kmc_ui.engine.deform import GRID, SHARPEN_FROM, Renderer, sharpened


def _frames(rig, k: float) -> tuple[np.ndarray, np.ndarray]:
    """The rig in its own pose magnified k times, bilinear and fine, cropped to its upper half, on
    a magenta plate (the arms' shadows keep it without green; the character has green in it)."""
    height, width = round(rig.height * k * 0.5), round(rig.width * k)
    plate = np.zeros((height - height % 2, width - width % 2, 3), np.uint8)
    plate[..., 0] = plate[..., 2] = 200
    pose = rig.landmarks.astype(np.float64).copy()
    pose[:, :2] *= k
    plain, _ = Renderer(rig, plate, k, GRID).render(pose)
    fine, _ = Renderer(rig, plate, k, GRID, fine=True).render(pose)
    return plain, fine


def _textured(rig):
    """The rig with a fine texture (a checkerboard of 2-px squares, as a face's lashes and hair are
    fine) on every layer, where it is opaque."""
    layers = []
    for layer in rig.layers:
        h, w = layer.texture.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w]
        checker = np.where((ys // 2 + xs // 2) % 2 == 0, 60.0, 200.0).astype(np.float32)
        texture = layer.texture.copy()
        texture[..., :3] = checker[..., None] * texture[..., 3:4]  # premultiplied, as the layers' colours are
        layers.append(replace(layer, texture=texture))
    return replace(rig, layers=layers)


def _drawn(frame: np.ndarray) -> np.ndarray:
    """Where the character is: green in it, or far from the plate's magenta (its dark pupils)."""
    return (frame[..., 1] > 12) | (np.abs(frame.astype(int) - (200, 0, 200)).max(axis=2) > 60)


def _sharpness(frame: np.ndarray, where: np.ndarray) -> float:
    """The mean absolute Laplacian of the frame's grey `where`: how crisp its detail is."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[where].mean())


def test_a_magnified_picture_is_drawn_sharper(drawn_rig) -> None:
    """At 4 times (a talking head's face), a fine texture's detail is crisper drawn fine than
    as it is (the mean absolute Laplacian inside the character 15 % higher or more), on the body
    and on the arms' pieces alike, and the character is where it was (what is drawn the same but
    within 4 px of its edge, a texel magnified)."""
    rig, _ = drawn_rig
    plain, fine = _frames(_textured(rig), 4.0)
    assert not np.array_equal(plain, fine)
    inside = cv2.erode(_drawn(plain).astype(np.uint8), np.ones((9, 9), np.uint8))
    # the arms' layers where the rig's own pose puts them: their opacity magnified as the frame is
    arms = np.zeros_like(inside)
    for layer in rig.layers[1:]:
        alpha = cv2.resize(layer.texture[..., 3], None, fx=4.0, fy=4.0, interpolation=cv2.INTER_LINEAR)
        arms |= (alpha[: arms.shape[0], : arms.shape[1]] > 0.99).astype(np.uint8)
    for part in (inside & ~arms, inside & arms):
        assert part.sum() > 500, part.sum()
        sharp, soft = _sharpness(fine, part > 0), _sharpness(plain, part > 0)
        assert sharp >= 1.15 * soft, (sharp, soft)
    plain, fine = _frames(rig, 4.0)  # the drawn character's own flat colours
    drawn_plain, drawn_fine = _drawn(plain), _drawn(fine)
    assert drawn_plain.mean() > 0.1
    differ = drawn_plain ^ drawn_fine
    band = np.ones((9, 9), np.uint8)  # 4 px either side: a texel, magnified 4 times
    edge = cv2.dilate(drawn_plain.astype(np.uint8), band) - cv2.erode(drawn_plain.astype(np.uint8), band)
    assert not (differ & (edge == 0)).any()  # only at the edge's soft pixels


def test_below_the_magnification_the_frames_are_as_before(drawn_rig) -> None:
    """At 1.5 times, under SHARPEN_FROM (the dance's pictures), fine or not, the same frame."""
    rig, _ = drawn_rig
    assert SHARPEN_FROM > 1.5
    plain, fine = _frames(rig, 1.5)
    assert np.array_equal(plain, fine)


def test_sharpening_keeps_a_premultiplied_texture_valid() -> None:
    """A sharpened texture's opacity is its own, no colour rises over it (a light fringe at the
    edge), a flat texture stays flat, and an edge inside it gets steeper."""
    texture = np.zeros((40, 40, 4), np.uint8)
    texture[8:32, 8:32] = (200, 180, 160, 255)
    texture[8:32, 20:32, :3] = (60, 50, 40)
    texture[7, 8:32] = (100, 90, 80, 128)  # a soft top edge, premultiplied
    out = sharpened(texture)
    assert np.array_equal(out[..., 3], texture[..., 3])
    assert (out[..., :3] <= out[..., 3:4]).all()
    assert np.array_equal(out[12:28, 10:16], texture[12:28, 10:16])  # flat: as it was
    assert int(out[20, 19, 0]) > 200 and int(out[20, 20, 0]) < 60  # the light side lighter, the dark darker
