"""Work done in a box, or with a thing kept from call to call, gives the pixels the whole picture
gives: the engine's speed-ups change no output.

- the cuff beside a wrist (kmc_ui/engine/cuff.py) and an arm's own rim (kmc_ui/engine/rim.py) are
  worked out in the box of the picture they read, not on all of it;
- an arm's piece is warped into the rows of its canvas its box spans, as far right as it reaches,
  and put over the canvas in that box (kmc_ui/engine/pieces.draw_pieces), not over the whole canvas;
- the coarse warp map is filled through flat indices, each coefficient gathered on its own
  (kmc_ui/engine/deform._coarse_map);
- the renderer keeps each texture's opacity apart, redrawn with the face (Renderer.alphas), takes
  an alpha channel out with extractChannel (deform._blend, pieces.over) and holds a map on the
  picture's last row with OpenCV's per-channel minimum (Renderer._on_the_picture), where OpenCV's
  bindings copied the strided channel at every look;
- the motion's frames are scaled by a swscale context kept from frame to frame
  (kmc_ui/engine/motion.pose_frame), not one made for every frame.

Each is checked against the way before, written out here, on drawn pictures with noise in them
(so every blur and colour distance has something to tell apart) and on frames decoded by PyAV
from clips ffmpeg makes.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest

import kmc_ui.engine.rig as rig_module
from kmc_ui.engine import deform
from kmc_ui.engine.cuff import CUFF_AROUND, CUFF_CORE, WRIST_SHARE, _cuff, _pt, cuff_rim
from kmc_ui.engine.deform import GRID, Renderer, _blend, _coarse_map
from kmc_ui.engine.motion import pose_frame
from kmc_ui.engine.pieces import arm_cuts, cut_pieces, draw_pieces, over, piece_texture
from kmc_ui.engine.pipeline import _rig, cut_out, load_picture, picture_face, picture_hands
from kmc_ui.engine.rig import _dilate, feathered
from kmc_ui.engine.rim import _own_rim, own_rim
from kmc_ui.media.ffmpeg import ffmpeg_exe
from tests.test_engine_cuff import NAVY, WHITE
from tests.test_engine_pieces import RADIUS, _arm_layer, _arm_points, _photo_rig

TORSO = 200.0


def _noisy(rgb: np.ndarray, seed: int, spread: float = 12.0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, spread, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def _cuffed_arm(width: int, height: int, dx: int, dy: int):
    """A white forearm and cuff against a navy corset (tests/test_engine_cuff's picture) drawn
    into a larger picture at (dx, dy), with noise: its region, the body beside it, the elbow and
    the wrist."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:, dx + 160 :] = NAVY
    rgb[dy : dy + 170, dx + 135 : dx + 165] = WHITE
    rgb[dy + 140 : dy + 165, dx + 135 : dx + 171] = WHITE
    region = np.zeros((height, width), bool)
    region[dy : dy + 170, dx + 135 : dx + 165] = True
    body = np.zeros_like(region)
    body[:, dx + 160 :] = True
    body &= ~region
    return _noisy(rgb, dx + dy), region, body, np.array([dx + 150.0, dy + 40.0]), np.array([dx + 150.0, dy + 160.0])


@pytest.mark.parametrize("place", [(300, 250), (0, 0), (520, 430)])  # inside; at the top left edge; the bottom right
def test_a_cuff_worked_out_in_its_box_is_the_one_the_whole_picture_gives(place: tuple[int, int]) -> None:
    width, height = 700, 600
    rgb, region, body, elbow, wrist = _cuffed_arm(width, height, *place)
    got = cuff_rim(rgb, region, body, elbow, wrist, 15.0, TORSO)
    assert got.sum() > 40  # the cuff's edge on the corset is found
    # the way before: every test on the whole picture
    ends = (_pt(elbow + (1.0 - WRIST_SHARE) * (wrist - elbow)), _pt(wrist), _pt(elbow + 0.5 * (wrist - elbow)))
    k = 2 * max(2, round(CUFF_CORE * TORSO)) + 1
    whole = _cuff(rgb, region, body, ends, round(CUFF_AROUND * 15.0), k, TORSO)
    assert np.array_equal(got, whole)


def test_an_arms_own_rim_worked_out_in_its_box_is_the_one_the_whole_picture_gives() -> None:
    """The rim test's arm (skin between navy shorts and a tan top), placed in a larger picture
    with noise and a second arm far from it: the opacity and the colours are the same to the bit."""
    rng = np.random.default_rng(3)
    bgr = np.full((400, 500, 3), 230.0, np.float32)
    bgr[50:200, 160:200], bgr[50:300, 200:230], bgr[50:200, 230:270] = (70, 40, 35), (160, 185, 225), (150, 175, 215)
    bgr[100:300, 400:420] = (160, 185, 225)  # the other arm, not this layer's
    bgr += rng.normal(0.0, 6.0, bgr.shape).astype(np.float32)
    character = np.zeros((400, 500), bool)
    character[50:200, 160:270] = True
    character[200:300, 200:230] = True
    character[100:300, 400:420] = True
    region = np.zeros_like(character)
    region[50:300, 200:230] = True
    grown = _dilate(region, 1) > 0
    soft = (feathered(grown, 2.0) * character).astype(np.float32)
    out, colour = own_rim(bgr, grown, region, soft, character)
    assert (out != soft).sum() > 100  # the feather on the shorts went
    whole = _own_rim(bgr, grown, region, soft, character)
    assert whole is not None
    assert np.array_equal(out, whole[0]) and np.array_equal(colour, whole[1])


@pytest.mark.parametrize("picture", ["character_anime_upperbody.png", "person_man_fullbody.png"])
def test_on_real_photos_the_cuffs_and_rims_in_their_boxes_are_those_of_the_whole_picture(
    shared_media: Path, picture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The half-figure (her white cuffs on a navy corset) and the man rigged for real: each call of
    cuff_rim and own_rim the rig makes gives what the way before gives on the whole picture."""
    calls: list[tuple[str, tuple]] = []

    def record(name, fn):
        def wrapped(*args):
            calls.append((name, args))
            return fn(*args)

        return wrapped

    monkeypatch.setattr(rig_module, "cuff_rim", record("cuff", cuff_rim))
    monkeypatch.setattr(rig_module, "own_rim", record("rim", own_rim))
    _photo_rig(shared_media / picture)
    assert sorted(name for name, _ in calls) == ["cuff", "cuff", "rim", "rim"]
    found = 0
    for name, args in calls:
        if name == "cuff":
            rgb, region, body, elbow, wrist, radius, torso = args
            got = cuff_rim(*args)
            ends = (_pt(elbow + (1.0 - WRIST_SHARE) * (wrist - elbow)), _pt(wrist), _pt(elbow + 0.5 * (wrist - elbow)))
            k = 2 * max(2, round(CUFF_CORE * torso)) + 1
            assert np.array_equal(got, _cuff(rgb, region, body, ends, max(1, round(CUFF_AROUND * radius)), k, torso))
            found += int(got.sum())
        else:
            out, colour = own_rim(*args)
            whole = _own_rim(*args)
            want = (args[3], args[0]) if whole is None else whole
            assert np.array_equal(out, want[0]) and np.array_equal(colour, want[1])
            found += int((out != args[3]).sum())
    assert found > 0  # something was taken or dropped: the comparison compares something


def _canvas_whole(pieces, transforms, size, grid):
    """draw_pieces as it was: each piece warped into the whole canvas and put over all of it."""
    canvas, (x0, y0) = draw_pieces(pieces, transforms, size, grid)  # its box and origin
    out = np.zeros_like(canvas)
    for piece in pieces:
        m = transforms[piece.bone]
        shift = m[:, :2] @ piece.origin + m[:, 2] - (x0, y0)
        warped = cv2.warpAffine(
            piece_texture(piece, transforms),
            np.c_[m[:, :2], shift].astype(np.float64),
            (canvas.shape[1], canvas.shape[0]),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        over(out, warped)
    return canvas, out


@pytest.mark.parametrize("degrees", [0.0, 17.0, 63.0, 90.0, 151.0, -120.0])
def test_an_arm_drawn_piece_by_piece_in_their_boxes_is_the_arm_drawn_over_its_whole_canvas(degrees: float) -> None:
    """The drawn arm's three pieces, its textures noisy, turned about the shoulder and bent at the
    elbow and the wrist by turns that are no multiple of a right angle, shifted by fractions of a
    pixel: the canvas is the same to the bit."""
    pts = _arm_points()
    layer, texture = _arm_layer()
    texture = texture.copy()
    noisy = _noisy(texture[..., :3].astype(np.float64), 11, 20.0)
    texture[..., :3] = np.minimum(noisy, texture[..., 3:4])  # premultiplied: colour never past opacity
    cuts = arm_cuts("left_arm", pts, {"l_upper": RADIUS, "l_fore": RADIUS, "l_hand": RADIUS})
    pieces = cut_pieces(layer, texture, cuts)
    assert len(pieces) == 3

    def turn(deg: float, about: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
        a = np.radians(deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        return np.c_[rot, about + np.asarray(shift) - rot @ about]

    upper = turn(degrees, pts["11"], (40.3, 57.7))
    fore = upper @ np.vstack([turn(0.6 * degrees + 9.0, pts["13"], (0.0, 0.0)), [0, 0, 1]])
    hand = fore @ np.vstack([turn(-23.0, pts["15"], (0.0, 0.0)), [0, 0, 1]])
    transforms = {"torso": np.eye(2, 3), "l_upper": upper, "l_fore": fore, "l_hand": hand}
    canvas, whole = _canvas_whole(pieces, transforms, (400, 400), 4)
    assert (canvas[..., 3] > 0).sum() > 1000
    assert np.array_equal(canvas, whole)


def test_the_coarse_map_filled_through_flat_indices_is_the_one_filled_by_rows_and_columns() -> None:
    rng = np.random.default_rng(5)
    ids = rng.integers(-1, 40, (37, 53)).astype(np.int32)
    aff = rng.normal(0.0, 1.0, (40, 2, 2))
    d0, r0 = rng.uniform(0, 200, (40, 2)), rng.uniform(0, 200, (40, 2))
    got = _coarse_map(ids, aff, d0, r0, (7, 11), 4)
    ys, xs = np.nonzero(ids >= 0)
    t = ids[ys, xs]
    dx = (xs + 7 + 0.5) * 4 - 0.5 - d0[t, 0]
    dy = (ys + 11 + 0.5) * 4 - 0.5 - d0[t, 1]
    want = np.full((*ids.shape, 2), got[ids < 0][0, 0], np.float32)  # the sentinel where no triangle is
    want[ys, xs, 0] = r0[t, 0] + aff[t, 0, 0] * dx + aff[t, 0, 1] * dy
    want[ys, xs, 1] = r0[t, 1] + aff[t, 1, 0] * dx + aff[t, 1, 1] * dy
    assert np.array_equal(got, want)


@pytest.mark.parametrize("pixels", [0, 1, 6, 25])
def test_a_mask_grown_in_its_box_is_the_mask_grown_on_the_whole_picture(pixels: int) -> None:
    """rig._dilate grows a mask in the mask's own box: a blob inside, one touching each edge of the
    picture, a single pixel in a corner and an empty mask grow as cv2.dilate grows them on all of it."""
    rng = np.random.default_rng(pixels)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    masks = [np.zeros((90, 140), np.uint8) for _ in range(4)]
    masks[0][30:50, 60:75] = rng.random((20, 15)) > 0.4
    masks[1][:12, 100:] = 1
    masks[1][70:, :9] = 1
    masks[2][89, 139] = 1
    for mask in masks:
        assert np.array_equal(_dilate(mask > 0, pixels), cv2.dilate(mask, disc))


def _clip(path: Path, size: str, frames: int = 12) -> Path:
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24"]
    cmd += ["-frames:v", str(frames), "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def test_frames_scaled_by_a_kept_scaler_are_the_frames_scaled_one_by_one(tmp_path: Path) -> None:
    """A 1080x1920 clip scaled to 640 px, then a smaller one the same thread scales after it (the
    kept context follows the new size), then one that needs no scaling: the same pixels as PyAV's
    to_ndarray scaling each frame with a context of its own."""
    for name, size in (("tall.mp4", "1080x1920"), ("wide.mp4", "854x480"), ("small.mp4", "320x240")):
        with av.open(str(_clip(tmp_path / name, size))) as container:
            for frame in container.decode(video=0):
                rgb, _, shown = pose_frame(frame)
                h, w = rgb.shape[:2]
                assert max(h, w) <= 640 and shown == (frame.width, frame.height)
                want = np.ascontiguousarray(frame.to_ndarray(width=w, height=h, format="rgb24"))
                assert np.array_equal(rgb, want)


def _turned(lm: np.ndarray, degrees: float, about: int, joints: list[int]) -> None:
    """`joints` of the landmarks (33, 4) turned by `degrees` about joint `about`, in place."""
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    lm[joints, :2] = (lm[joints, :2] - lm[about, :2]) @ rot.T + lm[about, :2]


@pytest.mark.parametrize("name", ["person_woman_fullbody.png", "character_anime_upperbody.png"])
def test_frames_drawn_with_the_opacity_kept_apart_are_those_read_from_the_textures(
    shared_media: Path, name: str
) -> None:
    """The woman (photographed eyes) and the half-figure (drawn eyes; her picture cuts her off at
    its bottom, so her maps are held on its last row): poses with the arms turned up and out and a
    knee bent, her mouth opening and her eyes shutting as they go. Drawn by a renderer that keeps
    each texture's opacity apart, redrawn with the face, the frames are those of one that reads
    the opacity from the textures themselves (a view of their alpha channel, the way before), to
    the bit."""
    cut = cut_out(load_picture(shared_media / name))
    assert cut is not None
    cut = replace(cut, hands=picture_hands(cut), face=picture_face(cut))
    assert cut.face is not None
    scale = 0.6
    rig = _rig(cut, scale)[0]
    plate = np.random.default_rng(1).integers(0, 255, (rig.height, rig.width, 3), np.uint8)
    kept = Renderer(rig, plate, 1.0, GRID, face_mesh=cut.face * scale)
    viewed = Renderer(rig, plate, 1.0, GRID, face_mesh=cut.face * scale)
    assert kept.expression is not None and viewed.expression is not None
    viewed.alphas = {name: texture[..., 3] for name, texture in viewed.textures.items()}
    viewed.expression.opacity = None  # its views see the face redrawn in the texture
    faces = ((0.0, 0.0), (0.08, 0.5), (0.05, 1.0), (0.0, 0.0))
    for i, (angle, (opening, closing)) in enumerate(zip((0.0, 40.0, 95.0, 150.0), faces, strict=True)):
        pose = rig.landmarks.astype(np.float64).copy()
        _turned(pose, -angle, 11, [13, 15, 17, 19, 21])
        _turned(pose, angle * 0.7, 12, [14, 16, 18, 20, 22])
        _turned(pose, 12.0 * i, 25, [27, 29, 31])
        got, _ = kept.render(pose, opening=opening, closing=closing)
        want, _ = viewed.render(pose, opening=opening, closing=closing)
        assert np.array_equal(got, want), (angle, opening, closing)
        assert cv2.absdiff(got, plate).max() > 0
    assert rig.cut_bottom == (name == "character_anime_upperbody.png")


def test_a_blend_and_an_over_with_the_alpha_taken_out_are_those_read_through_a_view() -> None:
    """deform._blend and pieces.over, on noisy premultiplied pictures (views into larger ones, as
    the renderer passes them, written into in place), give what they gave with the alpha read
    through a view of it and the sum copied in; nothing outside the view changes."""
    rng = np.random.default_rng(7)
    src = rng.integers(0, 256, (90, 130, 4), np.uint8)
    src[..., :3] = np.minimum(src[..., :3], src[..., 3:4])  # premultiplied: colour never past opacity
    frame = rng.integers(0, 256, (120, 160, 3), np.uint8)
    before = frame.copy()
    _blend(frame[10:100, 20:150], src)
    inv = cv2.cvtColor(cv2.bitwise_not(src[..., 3]), cv2.COLOR_GRAY2BGR)  # the way before
    want = cv2.add(cv2.multiply(before[10:100, 20:150], inv, scale=1.0 / 255.0), cv2.cvtColor(src, cv2.COLOR_BGRA2BGR))
    assert np.array_equal(frame[10:100, 20:150], want)
    assert np.array_equal(frame[:10], before[:10]) and np.array_equal(frame[:, :20], before[:, :20])
    canvas = rng.integers(0, 256, (100, 140, 4), np.uint8)
    canvas[..., :3] = np.minimum(canvas[..., :3], canvas[..., 3:4])
    old = canvas.copy()
    over(canvas[5:95, 5:135], src)
    inv4 = cv2.merge([cv2.bitwise_not(src[..., 3])] * 4)
    assert np.array_equal(canvas[5:95, 5:135], cv2.add(cv2.multiply(old[5:95, 5:135], inv4, scale=1.0 / 255.0), src))
    canvas[5:95, 5:135] = old[5:95, 5:135]
    assert np.array_equal(canvas, old)  # nothing outside the view changed


def test_a_map_held_on_the_pictures_last_row_is_numpys_minimum_of_its_rows() -> None:
    """Renderer._on_the_picture on a map and on a view into one (the layer's box cut to the frame):
    the texture rows past the last one held on it, the columns as they were, as numpy's minimum of
    the strided channel gave; nothing held for a picture that does not cut its character off. Cut
    off at its top too (Rig.cut_top): the rows above the first held on it, and where no triangle
    lands (SENTINEL) the column stays off the texture, so nothing is drawn there."""
    rng = np.random.default_rng(9)
    texture = np.zeros((300, 200, 4), np.uint8)
    cut = SimpleNamespace(rig=SimpleNamespace(cut_bottom=True, cut_top=False))
    for shape, view in (((60, 50, 2), (slice(None), slice(None))), ((80, 70, 2), (slice(3, 71), slice(0, 41)))):
        whole = rng.uniform(-50.0, 400.0, shape).astype(np.float32)
        whole[::7, ::5] = deform.SENTINEL
        want = whole.copy()
        np.minimum(want[view][..., 1], 299, out=want[view][..., 1])
        Renderer._on_the_picture(cut, whole[view], texture)
        assert np.array_equal(whole, want)
        assert (want[view][..., 1] == 299).any() and (want[..., 0] > 299).any()
    uncut = SimpleNamespace(rig=SimpleNamespace(cut_bottom=False, cut_top=False))
    whole = rng.uniform(-50.0, 400.0, (20, 20, 2)).astype(np.float32)
    same = whole.copy()
    Renderer._on_the_picture(uncut, whole, texture)
    assert np.array_equal(whole, same)
    both = SimpleNamespace(rig=SimpleNamespace(cut_bottom=True, cut_top=True))
    whole[::7, ::5] = deform.SENTINEL
    Renderer._on_the_picture(both, whole, texture)
    want = same.copy()
    want[..., 1] = np.clip(want[..., 1], 0.0, 299.0)
    want[::7, ::5] = (deform.SENTINEL, 0.0)
    assert np.array_equal(whole, want) and (same[..., 1] < 0).any()
    drawn = cv2.remap(np.full((300, 200), 255, np.uint8), whole[..., 0], whole[..., 1], cv2.INTER_LINEAR, borderValue=0)
    assert (drawn[::7, ::5] == 0).all()
