"""The offline engine's placement of a picture without feet, and its motion read at half rate.

Real pictures drawn here (tests/figures.py) and cropped with PIL, read by mediapipe's bundled
pose model; real clips made with PyAV.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kmc_ui.engine.pipeline as pipeline
from kmc_ui.assets_draw import DANCER
from kmc_ui.engine import EngineJob, run_engine
from kmc_ui.engine.deform import PIN_PAST, Renderer, bone_transforms
from kmc_ui.engine.motion import track_motion
from kmc_ui.engine.pipeline import (
    BORDER_MAX,
    EARLY_MAX_SIDE,
    cut_at_bottom,
    every_frame,
    head_and_shoulders,
    hips_in_frame,
    keep_bottom_edge,
    likely_work_scale,
    load_picture,
    motion_stride,
    place,
    source_motion,
    trim_border,
)
from kmc_ui.engine.rig import named_points
from kmc_ui.engine.segment import cut_out, reaches_bottom
from kmc_ui.media.probe import probe_video
from kmc_ui.pose import landmarks as L
from tests.figures import make_character, make_dance


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("placement")
    full = make_character(d / "full.png", 360, 640)
    cut = cut_out(load_picture(full))
    assert cut is not None
    knees = float(np.mean(cut.landmarks[[L.L_KNEE, L.R_KNEE], 1]))
    half = d / "no_feet.png"
    Image.open(full).crop((0, 0, 360, round(knees))).save(half)  # cut off at the knees
    dance = make_dance(d / "dance.mp4", 360, 640, seconds=1.5, fps=24, audio=False)
    return full, half, dance


def test_a_picture_cut_off_at_the_knees_keeps_its_bottom_edge_on_the_frames(pictures) -> None:
    full, half, dance = pictures
    whole, cropped = cut_out(load_picture(full)), cut_out(load_picture(half))
    assert whole is not None and cropped is not None
    assert not cut_at_bottom(whole)
    assert cut_at_bottom(cropped)
    track = track_motion(dance)
    motion = source_motion(track)
    p, _ = place("video", "std", cropped, motion, track)
    bottom = p.k * p.work_scale * cropped.alpha.shape[0] + p.offset[1]
    assert bottom == pytest.approx(p.height, abs=1.0)  # the picture's bottom edge on the frame's
    # the whole figure is still placed by its hips, as the video's person is
    pw, _ = place("video", "std", whole, motion, track)
    assert pw.offset[1] != pytest.approx(pw.height - pw.k * pw.work_scale * whole.alpha.shape[0], abs=1.0)


def test_a_figure_cut_off_at_the_bottom_never_rises_above_where_it_started() -> None:
    t = np.zeros((5, 33, 4), np.float32)
    t[:, :, 1] = 500.0
    t[:, L.L_HIP, 1] = t[:, L.R_HIP, 1] = [500, 480, 520, 450, 505]  # a jump up at frames 1 and 3
    out = keep_bottom_edge(t.copy())
    hips = out[:, L.L_HIP, 1]
    assert hips.tolist() == [500, 500, 520, 500, 505]  # up is taken out, down is kept
    assert out[3, 0, 1] == pytest.approx(550.0)  # the whole figure moves with its hips
    # a talking head's bust starts with its cut edge 30 px below the frame: it may rise that far
    roomy = keep_bottom_edge(t.copy(), room=30.0)[:, L.L_HIP, 1]
    assert roomy.tolist() == [500, 480, 520, 470, 505]


def test_motion_read_at_half_rate_gives_every_frame_of_the_clip(pictures, tmp_path: Path) -> None:
    full, _, dance = pictures
    assert motion_stride(dance) == 2  # 24 fps
    half = track_motion(dance, stride=2)
    every = track_motion(dance)
    assert half.frames == (every.frames + 1) // 2
    assert half.duration == pytest.approx(every.duration)
    n = round(half.duration * half.fps)
    assert n == every.frames
    motion = every_frame(source_motion(half), half.times, n, half.fps)
    reference = source_motion(every)
    torso = float(np.median([L.torso_length(m) for m in reference]))
    err = np.linalg.norm(motion[:, L.BODY_JOINTS, :2] - reference[:, L.BODY_JOINTS, :2], axis=2) / torso
    assert float(np.median(err)) < 0.03  # interpolated between readings: close to reading every frame
    result = run_engine(EngineJob(full, dance, "video", "std", False), tmp_path / "out.mp4")
    assert result.frames == every.frames
    info = probe_video(result.path)
    assert info.duration == pytest.approx(every.frames / every.fps, abs=0.05)


def test_a_half_figure_is_read_padded_below(shared_media: Path) -> None:
    """The anime half-figure (its skirt runs out of the picture, its hands clasped over it) read
    with the picture padded evenly put its left wrist in the middle of the forearm (233, 400) and
    its ankles inside the picture, so it was not even taken as cut off at the bottom. Its mask
    reaches the bottom rows, so its joints are read again padded below as far as it is tall: the
    wrist comes to the cuff (190, 441), the ankles below the picture. The mask stays the evenly
    padded one, which keeps the top of the hair (row 35); the full-body photos are read once."""
    cut = cut_out(load_picture(shared_media / "character_anime_upperbody.png"))
    assert cut is not None
    wrist = cut.landmarks[L.L_WRIST, :2]
    assert wrist[0] < 205 and wrist[1] > 425, wrist
    assert cut_at_bottom(cut)
    assert int(np.flatnonzero((cut.alpha >= 0.5).any(axis=1))[0]) < 45
    for name in ("person_woman_fullbody.png", "character_anime_fullbody.jpg"):
        whole = cut_out(load_picture(shared_media / name))
        assert whole is not None and not reaches_bottom(whole.landmarks, whole.alpha >= 0.5), name


def test_a_head_and_shoulders_video_puts_the_face_where_the_persons_is(shared_media: Path) -> None:
    """The talking head shows a person from the chest up: its hips are the pose model's guess below
    the frame. The anime half-figure was scaled to that guessed torso (7.1 times) with her picture's
    bottom edge (her thighs) pinned to the frame's bottom: her head went 2,500 px above the frame,
    and the frame showed her skirt. Now such a video is matched by the head's and the shoulders'
    width (`head_and_shoulders`), the figure's nose put on the person's, and the bottom edge is
    pinned only where it would be above the frame's bottom (the dance clip: as before)."""
    cut = cut_out(load_picture(shared_media / "character_anime_upperbody.png"))
    assert cut is not None and cut_at_bottom(cut)
    for clip, whole in (("talking_head_12s.mp4", False), ("dance_fullbody_12s.mp4", True)):
        track = track_motion(shared_media / clip, max_seconds=30.0)
        motion = source_motion(track)
        assert hips_in_frame(motion, track.height) == whole, clip
        p, _ = place("video", "std", cut, motion, track)
        k = p.k * p.work_scale
        bottom = k * cut.alpha.shape[0] + p.offset[1]
        if whole:
            assert bottom == pytest.approx(p.height, abs=1.0), clip
            continue
        sv = p.height / track.height
        assert k == pytest.approx(sv * head_and_shoulders(motion) / head_and_shoulders(cut.landmarks[None]))
        assert k < 6.0  # the guessed torso gave 7.1
        nose = k * cut.landmarks[L.NOSE, :2] + p.offset
        assert np.allclose(nose, motion[0, L.NOSE, :2] * sv, atol=1.0), nose
        assert 0.3 * p.height < nose[1] < 0.7 * p.height
        assert bottom > 2 * p.height  # out of sight


def test_the_rig_is_built_while_the_motion_is_read_at_the_scale_the_placement_gives(
    pictures, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rig is built right after the cut-out, while the motion is still read, at the working
    scale `place` will give: exact for the image orientation, the picture's own for the video
    orientation when its character is no larger than the video's person in the frame. A wrong
    guess is built again after the placement; a picture over EARLY_MAX_SIDE is built only then."""
    full, _, dance = pictures
    events: list[str] = []
    for name in ("_rig", "place", "calibrate"):
        real = getattr(pipeline, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            events.append(_name if _name != "_rig" else f"rig {args[1]:.3f}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(pipeline, name, spy)

    def run(picture: Path, clip: Path, orientation: str) -> list[str]:
        events.clear()
        pipeline.forget_pictures()  # each run reads its picture (no other run's reading kept)
        run_engine(EngineJob(picture, clip, orientation, "std", False), tmp_path / "out.mp4")
        return events[: events.index("calibrate")]  # the calibration may cut the layers again

    cut = cut_out(load_picture(full))
    assert cut is not None
    track = track_motion(dance)
    for orientation in ("video", "image"):
        want = place(orientation, "std", cut, source_motion(track), track)[0].work_scale
        assert likely_work_scale(orientation, "std", cut) == want
    # the drawn 360 x 640 character beside a dancer of its size, in a 720 x 1280 frame: k 2, scale 1
    assert run(full, dance, "video") == ["rig 1.000", "place"]
    # a picture over EARLY_MAX_SIDE: no guess for the video orientation, the exact scale for the image
    big = tmp_path / "big.png"
    Image.open(full).resize((750, 1334)).save(big)
    assert EARLY_MAX_SIDE < 1334
    got = run(big, dance, "video")
    assert got[0] == "place" and len(got) == 2 and got[1].startswith("rig ")
    assert run(big, dance, "image") == ["rig 0.960", "place"]
    # its character larger than a small dancer's in the frame: the guess (1) is wrong, built again
    small = make_dance(
        tmp_path / "small.mp4", 360, 640, seconds=1.0, fps=24, audio=False, look=replace(DANCER, size=0.6)
    )
    large = make_character(tmp_path / "large.png", 720, 1280)
    got = run(large, small, "video")
    assert got[:2] == ["rig 1.000", "place"] and len(got) == 3 and float(got[2].split()[1]) < 0.9


def test_a_picture_larger_than_any_rig_is_loaded_at_the_largest_size_a_rig_takes(tmp_path: Path) -> None:
    """No rig is built over WORK_MAX_SIDE, so a larger picture (a phone's) is loaded at that size,
    its shape kept; a picture up to it is loaded at its own size."""
    big = make_character(tmp_path / "big.png", 1200, 2600)
    assert load_picture(big).shape == (pipeline.WORK_MAX_SIDE, round(1200 * pipeline.WORK_MAX_SIDE / 2600), 3)
    assert load_picture(make_character(tmp_path / "small.png", 900, 1600)).shape == (1600, 900, 3)


def test_a_line_drawn_along_a_pictures_edge_is_trimmed_off(pictures, tmp_path: Path) -> None:
    """A line of one colour along an edge (up to BORDER_MAX px), unlike the picture inside it, is
    trimmed off as the picture is loaded: a frame line, an encoder's pad. A plain backdrop running
    on to the edge, a scene, and a frame thicker than BORDER_MAX are kept."""
    full, _, _ = pictures
    rgb = np.asarray(Image.open(full).convert("RGB")).copy()
    h, w = rgb.shape[:2]
    assert load_picture(full).shape == rgb.shape  # a plain light backdrop to every edge
    framed = rgb.copy()
    framed[-1] = 240  # the half-figure's light bottom row
    framed[:, -2:] = (90, 90, 90)  # two grey columns
    framed[:3] = 0  # three black rows
    Image.fromarray(framed).save(tmp_path / "framed.png")
    assert np.array_equal(load_picture(tmp_path / "framed.png"), rgb[3 : h - 1, : w - 2])
    thick = rgb.copy()
    thick[-(BORDER_MAX + 1) :] = 0  # thicker than a drawn line: the picture's own
    assert np.array_equal(trim_border(thick), thick)
    scene = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    assert np.array_equal(trim_border(scene), scene)
    scene[:, :1] = 255
    assert trim_border(scene).shape == (h, w - 1, 3)


def test_the_half_figures_light_bottom_row_is_trimmed_and_her_hips_read_below_her_waist(shared_media: Path) -> None:
    """The half-figure's picture ends in a light grey row under her black skirt and two grey
    columns at its right. With them the pose model read her hips at y 414 and her left knee at
    y 433, just under them, as seen; her skirt, pinned to the frame's bottom, carried the row as a
    white line under it. Trimmed: her hips read at her skirt's waistband (y 430-434), her knees
    under the skirt, not seen."""
    path = shared_media / "character_anime_upperbody.png"
    assert np.asarray(Image.open(path)).shape[:2] == (615, 463)
    cut = cut_out(load_picture(path))
    assert cut is not None and cut.alpha.shape == (614, 461)
    hips = cut.landmarks[[L.L_HIP, L.R_HIP], 1]
    assert (hips > 425).all(), hips
    assert not cut.seen[L.L_KNEE] and not cut.seen[L.R_KNEE]
    assert cut_at_bottom(cut)


def test_a_picture_cut_off_at_the_bottom_keeps_that_edge_below_the_frames(pictures) -> None:
    """Rendered with its hips raised, a figure cut off at the knees has the vertices on the
    picture's bottom edge held below the frame's bottom (Rig.cut_bottom, deform.PIN_PAST): its
    cut edge never shows. A rig not cut off is drawn where its pose puts it."""
    _, half, _ = pictures
    cut = cut_out(load_picture(half))
    assert cut is not None
    rig, _ = pipeline._rig(cut, 1.0)
    assert rig.cut_bottom
    plate = np.zeros((rig.height, rig.width, 3), np.uint8)
    target = rig.landmarks.copy()
    target[:, 1] -= 0.2 * rig.torso  # the whole figure raised
    for cut_bottom in (True, False):
        renderer = Renderer(replace(rig, cut_bottom=cut_bottom), plate, 1.0)
        body = rig.layer("body")
        assert body is not None
        edge = body.rest[:, 1] >= rig.height - 1.5
        verts = renderer.deform(body, bone_transforms(renderer.rest, named_points(target), 1.0), target)
        if cut_bottom:
            assert edge.sum() > 3 and (verts[edge, 1] >= rig.height + PIN_PAST).all()
        else:
            assert (verts[edge, 1] < rig.height - 0.1 * rig.torso).all()
        frame, _ = renderer.render(target)
        covered = frame[-1].max(axis=1) > 0  # the character drawn on the frame's last row
        assert covered.any() == cut_bottom


def test_the_half_figures_skirt_never_lifts_off_the_frames_bottom(shared_media: Path, tmp_path: Path) -> None:
    """The half-figure with the real dance: her legs turning lifted her skirt's bottom edge off the
    frame's bottom, and her picture's own light bottom row showed under it (82 of 288 frames, up to
    74 columns). On the frame's last rows, between the skirt's outermost dark columns, no light
    pixel in any frame but a sliver: where the skirt's sheared side meets the frame's bottom, its
    soft edge over the light fill there reads as 1 light column in 1 frame (184)."""
    lifted: dict[int, int] = {}

    def look(i: int, frame: np.ndarray, _stats: object) -> None:
        rows = frame[-3:].astype(np.int16).mean(axis=2)
        dark = np.flatnonzero((rows < 80).all(axis=0))
        if len(dark):
            span = rows[:, dark[0] : dark[-1] + 1]
            if (n := int((span > 150).any(axis=0).sum())) > 0:
                lifted[i] = n

    job = EngineJob(shared_media / "character_anime_upperbody.png", shared_media / "dance_fullbody_12s.mp4")
    result = run_engine(replace(job, keep_sound=False), tmp_path / "out.mp4", on_frame=look)
    assert result.frames > 200
    assert len(lifted) <= 2 and max(lifted.values(), default=0) <= 2, lifted


def test_a_half_figure_with_a_dance_fills_the_frame_up_to_the_dancers_face(shared_media: Path, tmp_path: Path) -> None:
    """A picture cut off at its bottom, with a dance, was placed at the dancer's size with its
    bottom edge pulled down to the frame's: the studio photos cut at the waist stood at the bottom of
    the portrait frame, their noses 0.70 and 0.66 of the way down, the wall above them (the anime
    half-figure's 0.41). Now it is made larger (`Placement.zoom`), its face up to the dancer's, its
    bottom edge still on the frame's, as far as its shoulders then span half the frame's width at
    most (HALF_SHOULDERS) and its hair's top, lifted as the dance lifts its head (head_lift), stays
    HALF_HEADROOM under the frame's top. A whole figure, a half figure with the talking head, and one
    the dance stands up from bent over (HALF_UPRIGHT) keep their sizes."""
    track = track_motion(shared_media / "dance_fullbody_12s.mp4", max_seconds=30.0)
    talk = track_motion(shared_media / "talking_head_12s.mp4", max_seconds=30.0)
    motion, talking = source_motion(track), source_motion(talk)
    sv = 1280 / track.height
    for name, crop, nose_below in (
        ("person_man_fullbody.png", 0.45, 0.5),
        ("person_woman_fullbody.png", 0.45, 0.4),
        ("character_anime_upperbody.png", 1.0, 0.32),
    ):
        with Image.open(shared_media / name) as im:
            im.convert("RGB").crop((0, 0, im.width, round(crop * im.height))).save(tmp_path / name)
        cut = cut_out(load_picture(tmp_path / name))
        assert cut is not None and cut_at_bottom(cut), name
        p, _ = place("video", "std", cut, motion, track)
        assert p.height == 1280 and p.zoom > 1.15, (name, p.zoom)
        k = p.k * p.work_scale
        assert k * cut.alpha.shape[0] + p.offset[1] == pytest.approx(p.height, abs=1.0), name  # bottom edge
        nose = k * cut.landmarks[L.NOSE, :2] + p.offset
        assert motion[0, L.NOSE, 1] * sv - 1.0 <= nose[1] < nose_below * p.height, (name, nose)
        shoulders = k * np.linalg.norm(cut.landmarks[L.L_SHOULDER, :2] - cut.landmarks[L.R_SHOULDER, :2])
        assert shoulders <= pipeline.HALF_SHOULDERS * p.width + 1.0, (name, shoulders)
        hair = k * np.flatnonzero((cut.alpha >= 0.5).any(axis=1))[0] + p.offset[1]
        assert hair >= pipeline.HALF_HEADROOM * p.height - 1.0, (name, hair)
        assert place("video", "std", cut, talking, talk)[0].zoom == 1.0, name  # a talking head: its face
        assert pipeline.head_lift(cut, motion) < 0.25 * L.torso_length(cut.landmarks), name  # stands upright
    whole = cut_out(load_picture(shared_media / "person_man_fullbody.png"))
    assert whole is not None and place("video", "std", whole, motion, track)[0].zoom == 1.0
    # the armour cut at the waist is read bent over (its hips inside the picture): the dance stands
    # it up, its head lifted 0.87 of its torso; made larger, its helmet went out of the frame
    with Image.open(shared_media / "character_armor_fullbody.png") as im:
        im.convert("RGB").crop((0, 0, im.width, round(0.45 * im.height))).save(tmp_path / "armour.png")
    armour = cut_out(load_picture(tmp_path / "armour.png"))
    assert armour is not None and cut_at_bottom(armour)
    assert pipeline.head_lift(armour, motion) > pipeline.HALF_UPRIGHT * L.torso_length(armour.landmarks)
    assert place("video", "std", armour, motion, track)[0].zoom == 1.0


def test_a_half_figure_made_larger_travels_as_far_as_the_dancer() -> None:
    """Its root's motion multiplied with its size took the man cut at the waist, 1.75 times the
    dancer's size, to the frame's side when she stepped aside: the video's poses given it
    move 1 / zoom as far as the dancer's root, from its first frame (the first with a pose)."""
    t = np.zeros((3, 33, 4), np.float32)
    t[:, :, 0] = np.arange(33)[None, :] + 300.0
    t[:, :, 1] = 500.0
    t[1, :, 0] += 100.0  # a step aside
    t[2, :, 1] += 40.0  # a bob down
    out = pipeline.travel_as_dancer(t.copy(), 2.0)
    assert np.allclose(out[0], t[0])
    assert np.allclose(out[1, :, 0] - t[0, :, 0], 50.0) and np.allclose(out[2, :, 1] - t[0, :, 1], 20.0)
    assert np.array_equal(pipeline.travel_as_dancer(t.copy(), 1.0), t)
    t[0] = np.nan  # a first frame without a pose: from the first with one
    out = pipeline.travel_as_dancer(t.copy(), 2.0)
    assert np.isnan(out[0]).all() and np.allclose(out[1], t[1])
    assert np.allclose(out[2, :, :2] - t[1, :, :2], [-50.0, 20.0])  # its step back and its bob, halved


def test_the_man_cut_at_the_waist_dances_high_and_travels_as_the_dancer(shared_media: Path, tmp_path: Path) -> None:
    """The man cut at the waist with the real dance, through the engine: his dark hair's top row lies
    in the frame's top half in every frame (0.62-0.69 of the way down before), and his red jacket's
    middle travels across the frame about as far as the dancer's hips do (0.26 of its width against
    her 0.25; 0.35 with his travel multiplied by his size)."""
    with Image.open(shared_media / "person_man_fullbody.png") as im:
        im.convert("RGB").crop((0, 0, im.width, round(0.45 * im.height))).save(tmp_path / "waist.png")
    tops: list[float] = []
    middles: list[float] = []

    def look(_i: int, frame: np.ndarray, _stats: object) -> None:
        bgr = frame.astype(np.int16)
        dark = (bgr.max(axis=2) < 90).sum(axis=1) >= 12
        tops.append(np.flatnonzero(dark)[0] / frame.shape[0] if dark.any() else 1.0)
        red = (bgr[:, :, 2] > 150) & (bgr[:, :, 1] < 90) & (bgr[:, :, 0] < 90)
        cols = np.flatnonzero(red.any(axis=0))
        middles.append((cols[0] + cols[-1]) / 2 / frame.shape[1] if len(cols) else -1.0)

    job = EngineJob(tmp_path / "waist.png", shared_media / "dance_fullbody_12s.mp4", keep_sound=False)
    result = run_engine(job, tmp_path / "out.mp4", on_frame=look)
    assert result.frames > 200 and result.height == 1280
    assert max(tops) < 0.5, max(tops)
    track = track_motion(job.video, max_seconds=30.0)
    hips = source_motion(track)[:, list(L.HIPS), 0].mean(axis=1) / track.width
    assert min(middles) > 0.0 and np.ptp(middles) < 1.25 * np.ptp(hips), (np.ptp(middles), np.ptp(hips))
