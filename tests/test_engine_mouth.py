"""The offline engine's mouth opening as the reference's does (kmc_ui/engine/mouth.py).

Real code paths: mediapipe's face mesh (in the wheel) on the real talking-head clip and photos in
../shared/media (skipped with a reason when absent), the engine's motion read, its renderer, and
the encoded result read back by the same face mesh.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kmc_ui.engine import EngineJob, mouth, run_engine
from kmc_ui.engine.face import find_face
from kmc_ui.engine.motion import cached_track, track_motion
from kmc_ui.engine.pipeline import load_picture, picture_face
from kmc_ui.engine.segment import cut_out
from kmc_ui.pose import cache

TALK, DANCE = "talking_head_12s.mp4", "dance_fullbody_12s.mp4"


def _texture(rgb: np.ndarray) -> np.ndarray:
    """An opaque picture as the renderer holds a texture: premultiplied BGRA uint8."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])


def test_the_talking_heads_mouth_is_read_and_the_dancers_is_not(shared_media: Path) -> None:
    """The talking head's face fills its frame: its opening is read on most frames, near closed
    at times and wide at others. The dancer's head is too small to read: no frame is, and the
    clip's opening is None (the picture's mouth stays as it is)."""
    talking = track_motion(shared_media / TALK, max_seconds=30.0)
    assert talking.mouth is not None and len(talking.mouth) == talking.frames
    read = np.isfinite(talking.mouth)
    assert read.mean() >= 0.8, read.mean()
    low, high = np.percentile(talking.mouth[read], [5, 95])
    assert low <= 0.02 and high >= 0.06, (low, high)
    opening = mouth.clip_opening(talking.mouth, talking.times, 250, talking.fps)
    assert opening is not None and opening.shape == (250,)
    assert opening.min() == 0.0 and opening.max() >= 0.05

    dance = track_motion(shared_media / DANCE, max_seconds=30.0)
    assert dance.mouth is not None and not np.isfinite(dance.mouth).any()
    assert mouth.clip_opening(dance.mouth, dance.times, 100, dance.fps) is None


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
    # read on fewer than half the frames, or not at all: no opening
    assert mouth.clip_opening(np.where(np.arange(10) < 6, np.nan, 0.05), times, 10, 10.0) is None
    assert mouth.clip_opening(None, times, 10, 10.0) is None


def test_the_opening_is_kept_in_the_motions_cache(shared_media: Path, tmp_path: Path) -> None:
    """Read once and written to the disk cache, the motion comes back with the same opening."""
    clip = shared_media / TALK
    first = track_motion(clip, max_seconds=2.0, cache_dir=tmp_path)
    cache.clear_memory()
    again = track_motion(clip, max_seconds=2.0, cache_dir=tmp_path)
    assert again.mouth is not None and first.mouth is not None
    assert np.array_equal(again.mouth, first.mouth, equal_nan=True)
    # an entry written before the mouth was read has none: the picture's mouth stays still
    arrays = {"times": first.times, "landmarks": first.landmarks}
    meta = {"w": 1, "h": 1, "fps": 25.0, "rate": "25/1", "duration": 2.0, "audio": False}
    assert cached_track(clip, arrays, meta).mouth is None


def test_a_real_mouth_opens_between_its_lips(shared_media: Path) -> None:
    """The woman's photo, her mouth closed: opened by 8 px, the face mesh reads her mouth open
    on the drawing (by at least half of it), the opening is dark and lies between her mouth's
    corners (little else darkens: a crease moved down with the jaw), and nothing outside the patch
    around the mouth changes. Opened by nothing, the
    patch is the picture's. The helmeted figure shows no face: no mouth to open."""
    cut = cut_out(load_picture(shared_media / "person_woman_fullbody.png"))
    assert cut is not None
    face = picture_face(cut)
    assert face is not None
    texture = _texture(cut.rgb)
    m = mouth.picture_mouth(face, texture.shape[:2], texture)
    assert m is not None and m.own < 0.02, m
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
    assert mouth.openness(read) >= m.own + 0.5 * 8.0 / m.height, (mouth.openness(read), m.own)

    armour = cut_out(load_picture(shared_media / "character_armor_fullbody.png"))
    assert armour is not None
    assert mouth.picture_mouth(picture_face(armour), armour.alpha.shape, _texture(armour.rgb)) is None


def test_the_result_talks_as_the_reference_does(shared_media: Path, tmp_path: Path) -> None:
    """The woman's photo with the talking head: her mouth in the encoded result, read back by the
    face mesh, opens and closes with the reference's (correlated over the clip). Her picture's own
    mouth is closed (0.005), so a still mouth reads near 0 all through."""
    clip = shared_media / TALK
    out = tmp_path / "talk.mp4"
    run_engine(EngineJob(shared_media / "person_woman_fullbody.png", clip, "video", "std", False), out)
    ref = track_motion(clip, max_seconds=30.0)
    got = track_motion(out, max_seconds=30.0)
    assert ref.mouth is not None and got.mouth is not None
    n = min(len(ref.mouth), len(got.mouth))
    both = np.isfinite(ref.mouth[:n]) & np.isfinite(got.mouth[:n])
    assert both.mean() >= 0.7, both.mean()
    assert np.percentile(got.mouth[:n][both], 90) >= 0.03, np.percentile(got.mouth[:n][both], 90)
    corr = float(np.corrcoef(ref.mouth[:n][both], got.mouth[:n][both])[0, 1])
    assert corr >= 0.6, corr
