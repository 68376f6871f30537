"""The offline engine's mouth opening, narrowing and widening, and eyes blinking as the
reference's do (kmc_ui/engine/expression.py, mouth.py, eyes.py).

Real code paths: mediapipe's face mesh (in the wheel) on the real talking-head clip and photos in
../shared/media (skipped with a reason when absent), the engine's motion read, its renderer, and
the encoded result read back by the same face mesh.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kmc_ui.engine import EngineJob, eyes, mouth, run_engine
from kmc_ui.engine.expression import Expression
from kmc_ui.engine.face import find_face
from kmc_ui.engine.motion import MotionTrack, cached_track, track_motion
from kmc_ui.engine.pipeline import load_picture, motion_stride, picture_face
from kmc_ui.engine.segment import cut_out
from kmc_ui.pose import cache

TALK, DANCE = "talking_head_12s.mp4", "dance_fullbody_12s.mp4"


def _texture(rgb: np.ndarray) -> np.ndarray:
    """An opaque picture as the renderer holds a texture: premultiplied BGRA uint8."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])


def _woman(shared_media: Path) -> tuple[np.ndarray, np.ndarray]:
    """The woman's photo: her face mesh's points and her picture as a texture."""
    cut = cut_out(load_picture(shared_media / "person_woman_fullbody.png"))
    assert cut is not None
    face = picture_face(cut)
    assert face is not None
    return face, _texture(cut.rgb)


def _engine_track(clip: Path, cache_dir: Path | None = None) -> MotionTrack:
    """The motion as the engine reads it (its stride: the pose on every other frame at 25 fps)."""
    return track_motion(clip, max_seconds=30.0, cache_dir=cache_dir, stride=motion_stride(clip))


def test_every_frame_of_the_talking_head_has_its_face_read_the_same_way_each_time(shared_media: Path) -> None:
    """Its head is readable from its first frame: every frame's face is read (the pose on every
    other), in order, and two reads give the same readings to the bit. (The frame reader, a thread
    up to 8 frames ahead, decided which of the frames the stride skips to pass on: it skipped some
    after the head was seen, more or fewer by the threads' timing, and the result's frames moved
    from run to run.)"""
    runs = []
    for _ in range(2):
        cache.clear_memory()  # read again, not from memory
        runs.append(_engine_track(shared_media / TALK))
    talking = runs[0]
    assert talking.face_times is not None
    every = round(talking.duration * talking.fps)
    assert talking.frames == -(-every // 2) and len(talking.face_times) == every
    assert np.allclose(np.diff(talking.face_times), 1.0 / talking.fps, atol=0.1 / talking.fps)
    for name in ("face_times", "mouth", "eyes", "mouth_width"):
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name), equal_nan=True), name


def test_the_talking_heads_face_is_read_on_every_frame_and_the_dancers_not_at_all(shared_media: Path) -> None:
    """The talking head's face fills its frame: though its pose is read on every other frame (25
    fps), its mouth and eyes are read on every frame, the mouth near closed at times and wide at
    others, the eyes' gap halved in its three blinks (frames 42-44, 117-119, 169-171). The dancer's
    head is too small to read: no frame is, and the clip has no opening or closing (the picture's
    face stays as it is)."""
    talking = _engine_track(shared_media / TALK)
    assert talking.face_times is not None and talking.mouth is not None and talking.eyes is not None
    assert motion_stride(shared_media / TALK) == 2 and len(talking.face_times) >= 1.9 * talking.frames
    assert len(talking.mouth) == len(talking.eyes) == len(talking.face_times)
    read = np.isfinite(talking.mouth)
    assert read.mean() >= 0.8, read.mean()
    low, high = np.percentile(talking.mouth[read], [5, 95])
    assert low <= 0.02 and high >= 0.06, (low, high)
    n = round(talking.duration * talking.fps)
    opening = mouth.clip_opening(talking.mouth, talking.face_times, n, talking.fps)
    assert opening is not None and opening.shape == (n,)
    assert opening.min() == 0.0 and opening.max() >= 0.05
    assert talking.mouth_width is not None and len(talking.mouth_width) == len(talking.face_times)
    widening = mouth.clip_width(talking.mouth_width, talking.face_times, n, talking.fps)
    assert widening is not None and widening.shape == (n,)
    assert np.median(widening) == pytest.approx(1.0, abs=0.02)  # its usual width
    low, high = np.percentile(widening, [5, 95])
    assert low <= 0.93 and high >= 1.07, (low, high)  # rounded "o"s and wide vowels: +-7 % and more
    closing = eyes.clip_closing(talking.eyes, talking.face_times, n, talking.fps)
    assert closing is not None
    shut = set(np.flatnonzero(closing >= 0.75))
    blinks = [set(range(41, 46)), set(range(116, 121)), set(range(168, 173))]
    assert all(shut & blink for blink in blinks), shut  # each blink shuts her eyes...
    assert shut <= set().union(*blinks), shut  # ... and nothing else does

    dance = _engine_track(shared_media / DANCE)
    assert dance.mouth is not None and dance.eyes is not None and dance.face_times is not None
    assert not np.isfinite(dance.mouth).any() and len(dance.face_times) == dance.frames  # no frame more
    assert mouth.clip_opening(dance.mouth, dance.face_times, 100, dance.fps) is None
    assert mouth.clip_width(dance.mouth_width, dance.face_times, 100, dance.fps) is None
    assert eyes.clip_closing(dance.eyes, dance.face_times, 100, dance.fps) is None


def test_the_opening_is_measured_from_the_references_closed_mouth_and_spared_one_frame_misreadings() -> None:
    times = np.arange(10) / 10.0
    read = np.array([0.01, 0.01, np.nan, 0.08, 0.09, 0.30, 0.09, 0.01, 0.01, 0.01], np.float32)
    got = mouth.clip_opening(read, times, 20, 20.0)  # output at twice the rate
    assert got is not None and got.shape == (20,)
    assert got[0] == pytest.approx(0.0)  # the closed mouth (its 5th percentile) is the zero
    assert got[10] == pytest.approx(0.08)  # frame 5's 0.30 alone: the median of its neighbours
    assert got[2] == pytest.approx(0.0)
    assert got[4] == pytest.approx(0.035)  # the frame not read (2): filled in time from its neighbours
    assert got[6] == pytest.approx(0.07)
    assert got[7] == pytest.approx(0.075)  # between two readings, in time
    # a mouth that is never closed: its lowest opening counts as closed only up to CLOSED_MAX
    assert mouth.clip_opening(np.full(10, 0.1, np.float32), times, 10, 10.0)[0] == pytest.approx(0.07)


def test_the_closing_is_measured_from_the_references_usual_eyes_and_squints_are_not_blinks() -> None:
    times = np.arange(10) / 10.0
    gaps = np.array([0.30, 0.30, np.nan, 0.30, 0.165, 0.30, 0.275, 0.30, 0.30, 0.30], np.float32)
    got = eyes.clip_closing(gaps, times, 10, 10.0)
    assert got is not None
    assert got[4] == pytest.approx(1.0)  # read at CLOSED_AT of the usual gap: shut
    assert got[0] == got[2] == got[3] == 0.0  # the usual gap (the median), and a frame not read
    assert got[6] == pytest.approx(0.0)  # 0.275: a squint (closing 0.19, under FROM) is not drawn
    half = np.float32(0.30 - 0.5 * 0.45 * 0.30)  # closing 0.5 read: drawn from FROM up
    assert eyes.clip_closing(np.where(np.arange(10) == 4, half, 0.30), times, 10, 10.0)[4] == pytest.approx(
        (0.5 - eyes.FROM) / (1.0 - eyes.FROM), abs=1e-3
    )


def test_the_width_is_measured_from_the_references_usual_mouth_within_its_range() -> None:
    times = np.arange(10) / 10.0
    read = np.array([0.36, 0.36, np.nan, 0.32, 0.31, 0.60, 0.40, 0.36, 0.36, 0.36], np.float32)
    got = mouth.clip_width(read, times, 10, 10.0)
    assert got is not None
    assert got[0] == pytest.approx(1.0)  # the usual width (the median)
    assert got[4] == pytest.approx(0.32 / 0.36)  # a rounded mouth
    assert got[5] == pytest.approx(0.40 / 0.36)  # frame 5's 0.60 alone: the median of its neighbours
    assert got[2] == pytest.approx(0.34 / 0.36)  # not read: filled in time
    broad = np.full(10, 0.36, np.float32)
    broad[4:7] = 0.72  # three frames at twice the usual
    wide = mouth.clip_width(broad, times, 10, 10.0)
    assert wide is not None and wide.max() == pytest.approx(mouth.WIDTH_RANGE[1])  # within its range


@pytest.mark.parametrize(
    ("clip", "value"), [(mouth.clip_opening, 0.05), (eyes.clip_closing, 0.3), (mouth.clip_width, 0.36)]
)
def test_a_face_read_on_too_few_frames_is_not_drawn(clip, value: float) -> None:
    """Read on fewer than half the frames, or not at all: no opening, closing or width (the
    picture's face stays as it is)."""
    times = np.arange(10) / 10.0
    assert clip(np.where(np.arange(10) < 6, np.nan, value), times, 10, 10.0) is None
    assert clip(None, times, 10, 10.0) is None


def test_the_face_readings_are_kept_in_the_motions_cache(shared_media: Path, tmp_path: Path) -> None:
    """Read once and written to the disk cache, the motion comes back with the same readings."""
    clip = shared_media / TALK
    first = track_motion(clip, max_seconds=2.0, cache_dir=tmp_path, stride=2)
    cache.clear_memory()
    again = track_motion(clip, max_seconds=2.0, cache_dir=tmp_path, stride=2)
    for name in ("face_times", "mouth", "eyes", "mouth_width"):
        a, b = getattr(first, name), getattr(again, name)
        assert a is not None and b is not None and np.array_equal(a, b, equal_nan=True), name
    # an entry written before the face was read has none: the picture's face stays as it is
    arrays = {"times": first.times, "landmarks": first.landmarks}
    meta = {"w": 1, "h": 1, "fps": 25.0, "rate": "25/1", "duration": 2.0, "audio": False}
    back = cached_track(clip, arrays, meta)
    assert back.face_times is None and back.mouth is None and back.eyes is None and back.mouth_width is None


def test_a_real_mouth_opens_between_its_lips(shared_media: Path) -> None:
    """The woman's photo, her mouth closed: opened by 8 px, the face mesh reads her mouth open
    on the drawing (by at least half of it), the opening is dark and lies between her mouth's
    corners (little else darkens: a crease moved down with the jaw), and nothing outside the patch
    around the mouth changes. Opened by nothing, the patch is the picture's. The helmeted figure
    shows no face: no mouth to open."""
    face, texture = _woman(shared_media)
    m = mouth.picture_mouth(face, texture)
    own = mouth.openness(face)
    assert m is not None and own < 0.02, (m, own)
    x0, y0, x1, y1 = m.box
    still = texture[y0:y1, x0:x1].copy()
    assert np.array_equal(m.draw(still, 0.0), still)

    opened = texture.copy()
    opened[y0:y1, x0:x1] = m.draw(still, 8.0)
    changed = np.argwhere((opened != texture).any(axis=2))
    assert len(changed) and changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
    assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1
    grey = cv2.cvtColor(opened[..., :3], cv2.COLOR_BGR2GRAY).astype(np.float32)
    before = cv2.cvtColor(texture[..., :3], cv2.COLOR_BGR2GRAY).astype(np.float32)
    dark = (grey < 0.5 * float(m.colour.mean())) & (before >= 0.5 * float(m.colour.mean()))
    ys, xs = np.nonzero(dark)
    st = np.stack([xs, ys], axis=1) - m.centre
    inside = (np.abs(st @ m.u) <= m.half + 1.0) & (np.abs(st @ m.n) <= 8.0 + 2.0)
    assert inside.sum() >= 60, inside.sum()  # a mouth 2 x 12 px wide, opened 8 px: ~ an ellipse's area
    # elsewhere only a crease or a strand beside the jaw, moved down with it
    assert (~inside).sum() <= 0.05 * inside.sum(), st[~inside]

    rgb = cv2.cvtColor(opened[..., :3], cv2.COLOR_BGR2RGB)
    head = face[:, :2].mean(axis=0)
    radius = float(np.ptp(face[:, 1])) * 0.6
    read = find_face(rgb, head, radius)
    assert read is not None
    assert mouth.openness(read) >= own + 0.5 * 8.0 / m.height, (mouth.openness(read), own)

    armour = cut_out(load_picture(shared_media / "character_armor_fullbody.png"))
    assert armour is not None
    assert mouth.picture_mouth(picture_face(armour), _texture(armour.rgb)) is None


def test_a_real_mouth_narrows_and_widens(shared_media: Path) -> None:
    """The woman's photo: her mouth drawn 0.8 and 1.2 times as wide (and a little open, as a
    rounded "o" and a wide vowel are), the face mesh reads its width on the drawing narrower and
    wider than her own (by 6 and 7 %: the mesh, reading one still picture, keeps a mouth's corners
    near its usual place), and nothing outside the patch around the mouth changes; drawn as wide
    as it is and closed, the patch is the picture's."""
    face, texture = _woman(shared_media)
    m = mouth.picture_mouth(face, texture)
    assert m is not None
    x0, y0, x1, y1 = m.box
    still = texture[y0:y1, x0:x1].copy()
    assert np.array_equal(m.draw(still, 0.0, 1.0), still)

    def width(widening: float) -> float:
        drawn = texture.copy()
        drawn[y0:y1, x0:x1] = m.draw(still, 3.0, widening)
        changed = np.argwhere((drawn != texture).any(axis=2))
        assert changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
        assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1
        rgb = cv2.cvtColor(drawn[..., :3], cv2.COLOR_BGR2RGB)
        read = find_face(rgb, face[:, :2].mean(axis=0), float(np.ptp(face[:, 1])) * 0.6)
        assert read is not None
        return mouth.mouth_width(read)

    own, narrow, wide = width(1.0), width(0.8), width(1.2)
    assert narrow <= 0.96 * own and wide >= 1.04 * own, (narrow, own, wide)


def test_real_eyes_close_under_their_lids(shared_media: Path) -> None:
    """The woman's photo: closed all the way, the face mesh reads her eyes' gap on the drawing at
    under 0.8 of her open eyes' (the mesh reads a real blink at about half), and nothing outside
    the two patches changes; half closed, between the two; not closed, the picture's. Redrawn in
    place by Expression and opened again, the texture is the picture's. Dark glasses drawn over
    her eyes (past the mesh's lower lids): no eye to close, not the lens taken for a drawn eye."""
    face, texture = _woman(shared_media)
    found = eyes.picture_eyes(face, texture)
    assert len(found) == 2

    def closed(closing: float) -> np.ndarray:
        return _closed(texture, found, closing)

    def gap(drawn: np.ndarray) -> float:
        rgb = cv2.cvtColor(drawn[..., :3], cv2.COLOR_BGR2RGB)
        read = find_face(rgb, face[:, :2].mean(axis=0), float(np.ptp(face[:, 1])) * 0.6)
        assert read is not None
        return eyes.eye_gap(read)

    assert np.array_equal(closed(0.0), texture)
    shut = closed(1.0)
    _changed_in_the_boxes_only(texture, shut, found)
    open_gap, half_gap, shut_gap = gap(texture), gap(closed(0.5)), gap(shut)
    assert shut_gap < 0.8 * open_gap and shut_gap < half_gap < open_gap, (open_gap, half_gap, shut_gap)

    drawn = texture.copy()
    expression = Expression(face, drawn)
    assert expression.mouth is not None and len(expression.eyes) == 2
    expression.draw(0.08, 1.0)
    assert not np.array_equal(drawn, texture)
    expression.draw(0.0, 0.0)
    assert np.array_equal(drawn, texture)

    for width in (1.2, 2.0):  # a lens within the drawn eye's reach across, one past it
        assert eyes.picture_eyes(face, _glasses(texture, face, width, 0.9, 0)) == []


def test_the_opacity_kept_apart_follows_the_mouth_and_eyes_redrawn(shared_media: Path) -> None:
    """The renderer keeps each texture's alpha apart (Renderer.alphas: OpenCV's bindings copied it
    out of the BGRA texture at every look); the mouth and eyes redrawn in the body's texture redraw
    it too. Across the woman's face every other row is half see-through (premultiplied): as her
    mouth opens and her eyes shut the rows move, and the alpha kept apart is the texture's at every
    step, and the picture's again once they are back."""
    face, texture = _woman(shared_media)
    x0, y0 = np.floor(face[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(face[:, :2].max(axis=0)).astype(int)
    rows = texture[y0:y1:2, x0:x1]
    rows[..., :3] //= 2
    rows[..., 3] = 128
    drawn = texture.copy()
    opacity = np.ascontiguousarray(drawn[..., 3])
    expression = Expression(face, drawn, opacity)
    for opening, closing in ((0.08, 1.0), (0.05, 0.5), (0.0, 0.0)):
        expression.draw(opening, closing)
        assert np.array_equal(opacity, drawn[..., 3]), (opening, closing)
        if closing:
            assert not np.array_equal(drawn[..., 3], texture[..., 3])  # the rows moved
    assert np.array_equal(drawn, texture) and np.array_equal(opacity, texture[..., 3])


def test_drawn_eyes_larger_than_the_meshs_close(shared_media: Path) -> None:
    """The anime half-figure: her eyes are larger than the face mesh's (her iris runs on under its
    lower lid), so they are found by their darkness (DrawnEye). Closed all the way, what was dark
    in them (iris, lashes, outline) is gone but for the lid's line (2.35 px thick at her eyes'
    size: 3.5 px a column at most, its soft edge with it); nothing outside the two patches changes;
    half closed, between the two; not closed, the picture's. A flat dark lens drawn over them is
    not taken for an eye."""
    half = cut_out(load_picture(shared_media / "character_anime_upperbody.png"))
    assert half is not None
    face, texture = picture_face(half), _texture(half.rgb)
    found = eyes.picture_eyes(face, texture)
    assert len(found) == 2 and all(isinstance(eye, eyes.DrawnEye) for eye in found), found
    # a flat dark lens over each, a little wider than the mesh's eye: not an eye
    assert eyes.picture_eyes(face, _glasses(texture, face, 1.3, 1.0, 2)) == []

    def closed(closing: float) -> np.ndarray:
        return _closed(texture, found, closing)

    assert np.array_equal(closed(0.0), texture)
    lightness = float(np.median(cv2.cvtColor(half.rgb, cv2.COLOR_RGB2LAB)[..., 0][_face_inside(face, half.rgb)]))

    def dark(drawn: np.ndarray, eye: eyes.DrawnEye) -> int:
        x0, y0, x1, y1 = eye.box
        light = cv2.cvtColor(drawn[y0:y1, x0:x1, :3], cv2.COLOR_BGR2LAB)[..., 0].astype(np.float64)
        s, t = eye.frame(eye.box)
        across = (s > eye.ends[0] + 1) & (s < eye.ends[1] - 1)
        down = (t >= np.polyval(eye.top, s)) & (t <= np.interp(s, eye.columns, eye.bottom) + eyes.EDGE)
        return int(((light < lightness - eyes.DARK_BY) & across & down).sum())

    shut, halfway = closed(1.0), closed(0.5)
    for eye in found:
        width = eye.ends[1] - eye.ends[0] - 2
        before, middle, after = dark(texture, eye), dark(halfway, eye), dark(shut, eye)
        assert before >= 8 * width, (before, width)  # an eye's dark: 8 px or more down each column
        assert after <= 3.5 * width, (after, width)  # the lid's line
        assert after < middle < before, (before, middle, after)
    _changed_in_the_boxes_only(texture, shut, found)

    drawn = texture.copy()
    expression = Expression(face, drawn)
    assert len(expression.eyes) == 2
    expression.draw(0.0, 1.0)
    assert not np.array_equal(drawn, texture)
    expression.draw(0.0, 0.0)
    assert np.array_equal(drawn, texture)


def test_a_drawn_eye_shut_is_skin_to_under_its_line_and_fades_into_the_face(shared_media: Path) -> None:
    """The half-figure's drawn eyes closed all the way: the skin drawn over them reaches under the
    lid's line (before, it stopped at the line and her iris's gold rim showed below it), and it
    fades into the face over eyes.SOFT px above the eye's top and past its ends (before, over 1 px:
    a flat oval patch with a crisp edge, the lashes' wings beside it). How much of each pixel the
    closing draws is read by drawing it over a black and over a white patch."""
    half = cut_out(load_picture(shared_media / "character_anime_upperbody.png"))
    assert half is not None
    found = eyes.picture_eyes(picture_face(half), _texture(half.rgb))
    assert len(found) == 2 and all(isinstance(eye, eyes.DrawnEye) for eye in found), found
    for eye in found:
        x0, y0, x1, y1 = eye.box
        black = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        black[..., 3] = 255
        white = np.full_like(black, 255)
        cover = 1.0 - (eye.draw(white, 1.0)[..., 0].astype(float) - eye.draw(black, 1.0)[..., 0]) / 255.0
        s, t = eye.frame(eye.box)
        top, bottom = np.polyval(eye.top, s), np.interp(s, eye.columns, eye.bottom)
        lid = bottom + eyes.EDGE
        within = (s > eye.ends[0] + 1) & (s < eye.ends[1] - 1)
        # under the lid's line, as far as the line is thick: skin, all of it
        under = within & (t > lid + 0.5) & (t < lid + eye.thick)
        assert under.sum() >= eye.ends[1] - eye.ends[0] - 2, under.sum()  # a row or two a column
        assert cover[under].min() > 0.99, cover[under].min()
        # above the top: from all of it 1 px above, fading out by SOFT px further up
        assert cover[within & (t > top - 1.0) & (t < lid)].min() > 0.99
        ramp = within & (t > top - 1.0 - 0.75 * eyes.SOFT) & (t < top - 1.0 - 0.25 * eyes.SOFT)
        assert ramp.any() and cover[ramp].min() > 0.1 and cover[ramp].max() < 0.9
        assert cover[within & (t < top - 1.5 - eyes.SOFT)].max() < 0.01
        # past its ends likewise, at the eye's middle height, and all of it inside the box
        middle = (t > top + 1.0) & (t < bottom - 1.0)
        beyond = middle & (np.minimum(s - eye.ends[0], eye.ends[1] - s) < -0.25 * eyes.SOFT)
        beyond &= np.minimum(s - eye.ends[0], eye.ends[1] - s) > -0.75 * eyes.SOFT
        assert beyond.any() and cover[beyond].min() > 0.1 and cover[beyond].max() < 0.9
        assert cover[:, [0, -1]].max() < 0.01 and cover[[0, -1], :].max() < 0.01


def _closed(texture: np.ndarray, found: list, closing: float) -> np.ndarray:
    """`texture` with each of the eyes `found` drawn closed by `closing`."""
    out = texture.copy()
    for eye in found:
        x0, y0, x1, y1 = eye.box
        out[y0:y1, x0:x1] = eye.draw(texture[y0:y1, x0:x1].copy(), closing)
    return out


def _changed_in_the_boxes_only(texture: np.ndarray, drawn: np.ndarray, found: list) -> None:
    changed = (drawn != texture).any(axis=2)
    inside = np.zeros_like(changed)
    for eye in found:
        x0, y0, x1, y1 = eye.box
        inside[y0:y1, x0:x1] = True
    assert changed.any() and not (changed & ~inside).any()


def _glasses(texture: np.ndarray, face: np.ndarray, across: float, down: float, lower: int) -> np.ndarray:
    """`texture` with a flat dark lens drawn over each of the face mesh's eyes: an ellipse `across`
    and `down` times the eye's half-width, `lower` px below its middle."""
    out = texture.copy()
    for a, b in ((33, 133), (263, 362)):
        centre = (face[a, :2] + face[b, :2]) / 2
        half_width = float(np.linalg.norm(face[a, :2] - face[b, :2])) / 2
        axes = (round(across * half_width), round(down * half_width))
        cv2.ellipse(out, (round(centre[0]), round(centre[1]) + lower), axes, 0, 0, 360, (30, 25, 25, 255), -1)
    return out


def _face_inside(face: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The pixels inside the face mesh's outline."""
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, cv2.convexHull(np.round(face[:, :2]).astype(np.int32)), 1)
    return inside > 0


def test_the_result_talks_and_blinks_as_the_reference_does(shared_media: Path, tmp_path: Path) -> None:
    """The woman's photo with the talking head, her face read back from the encoded result by
    the face mesh: her mouth opens and closes with the reference's (correlated over the clip; her
    picture's own mouth is closed, 0.005, so a still one reads near 0 all through) and narrows and
    widens with it (correlated; the bench: +0.70, +0.03 still, +0.02 with the opening alone), and
    her eyes' gap drops in the reference's blinks (by a sixth or more of her usual, on average) and
    nowhere else as much."""
    clip = shared_media / TALK
    out = tmp_path / "talk.mp4"
    run_engine(EngineJob(shared_media / "person_woman_fullbody.png", clip, "video", "std", False), out)
    ref, got = _engine_track(clip), _engine_track(out)
    times = np.arange(round(ref.duration * ref.fps)) / ref.fps
    ref_mouth, got_mouth = ref.face_at(ref.mouth, times), got.face_at(got.mouth, times)
    both = np.isfinite(ref_mouth) & np.isfinite(got_mouth)
    assert both.mean() >= 0.7, both.mean()
    assert np.percentile(got_mouth[both], 90) >= 0.03, np.percentile(got_mouth[both], 90)
    corr = float(np.corrcoef(ref_mouth[both], got_mouth[both])[0, 1])
    assert corr >= 0.6, corr
    ref_width, got_width = ref.face_at(ref.mouth_width, times), got.face_at(got.mouth_width, times)
    both = np.isfinite(ref_width) & np.isfinite(got_width)
    assert both.mean() >= 0.7, both.mean()
    wide = float(np.corrcoef(ref_width[both], got_width[both])[0, 1])
    assert wide >= 0.4, wide

    ref_eyes, got_eyes = ref.face_at(ref.eyes, times), got.face_at(got.eyes, times)
    blink = ref_eyes < 0.75 * np.nanmedian(ref_eyes)
    usual = np.nanmedian(got_eyes)
    assert blink.sum() >= 6, blink.sum()
    assert np.nanmean(got_eyes[blink]) <= (1 - 1 / 6) * usual, (np.nanmean(got_eyes[blink]), usual)
    elsewhere = got_eyes[~blink & np.isfinite(got_eyes)]
    assert np.mean(elsewhere < (1 - 1 / 6) * usual) <= 0.02
