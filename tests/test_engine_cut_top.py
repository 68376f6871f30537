"""The offline engine with a picture that cuts its character off at its top: a head cropped through
the hair, fingers raised past the edge. Its mask is read up to that edge, and the edge stays at or
above the frame's top (the placement, the pins), as a picture without feet keeps its bottom edge
below the frame's bottom; a head and shoulders that cannot keep it out has it faded out.

Real pictures (../shared/media cropped with PIL), read by mediapipe's bundled pose model; the
shared clips cut with ffmpeg, read with PyAV.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kmc_ui.engine.pipeline as pipeline
from kmc_ui.engine import EngineJob, run_engine
from kmc_ui.engine.deform import PIN_PAST, Renderer, bone_transforms, core_at, faded, side_fade
from kmc_ui.engine.motion import track_motion
from kmc_ui.engine.pipeline import EngineResult, cut_at_top, load_picture, place
from kmc_ui.engine.rig import named_points
from kmc_ui.engine.segment import ARM_JOINTS, TOP_REACH, Cutout, _detect_padded, agreed_reading, cut_out
from kmc_ui.pose import landmarks as L
from kmc_ui.pose.landmarks import torso_length
from tests.media_factory import ffmpeg_exe

WHOLE = (
    "character_anime_fullbody.jpg",
    "character_anime_upperbody.png",
    "character_armor_fullbody.png",
    "person_man_fullbody.png",
    "person_woman_fullbody.png",
)
THROUGH_THE_HAIR = 50  # rows of the studio photos: their heads start 23-25 rows down (of 913, 922)


def cropped_at_top(source: Path, rows: int, path: Path) -> Cutout:
    """`source` with its top `rows` cropped off, saved at `path`, cut out."""
    im = Image.open(source).convert("RGB")
    im.crop((0, rows, im.width, im.height)).save(path)
    cut = cut_out(load_picture(path))
    assert cut is not None
    return cut


def dance_cropped(
    source: Path, rows: int, dance: Path, tmp_path: Path, colour: Callable[[np.ndarray], np.ndarray]
) -> tuple[EngineResult, list[int]]:
    """`source` cropped at `rows` through the engine with `dance`; and, for every frame, how many of
    its columns have a pixel of `colour` (top three rows, BGR as int16 -> bool) in them."""
    cropped_at_top(source, rows, tmp_path / "crop.png")
    columns: list[int] = []

    def look(_i: int, frame: np.ndarray, _stats: object) -> None:
        columns.append(int(colour(frame[:3].astype(np.int16)).any(axis=0).sum()))

    result = run_engine(
        EngineJob(tmp_path / "crop.png", dance, "video", "std", False), tmp_path / "out.mp4", on_frame=look
    )
    assert len(columns) == result.frames
    return result, columns


def first_seconds(source: Path, seconds: float, path: Path) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-t", str(seconds), "-an", str(path)], check=True
    )
    return path


@pytest.fixture(scope="module")
def clips(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first 3 s of the real dance and of the talking head, no sound."""
    d = tmp_path_factory.mktemp("clips")
    dance = first_seconds(shared_media / "dance_fullbody_12s.mp4", 3, d / "dance_3s.mp4")
    return dance, first_seconds(shared_media / "talking_head_12s.mp4", 3, d / "talk_3s.mp4")


def test_a_picture_cropped_through_the_hair_has_its_mask_read_up_to_its_top(shared_media: Path, tmp_path: Path) -> None:
    """The night street's figure cropped at 16 % of her height (194 rows: through the top of her hair
    and her raised fingers): padded evenly above, as every picture is read first, the model's mask
    stops short of the picture's top (none in its top 20 rows; cropped a row lower, it starts at
    row 1: the model's reading there is that fragile); read again with nothing above, her mask
    runs into the top rows, and the picture is cut off at its top. The man cropped through his hair
    too. The shared pictures whole are cut off at no top: nothing changes for them."""
    night = cropped_at_top(shared_media / "character_anime_fullbody.jpg", 194, tmp_path / "night.png")
    _, prob = _detect_padded(night.rgb, (0.25, 0.25, 0.25))
    assert (prob[:20] <= 0.5).all()
    top_rows = (night.alpha[:10] >= 0.5).any(axis=0).sum()
    assert top_rows >= 2 * TOP_REACH * torso_length(night.landmarks), top_rows
    assert cut_at_top(night)
    man = cropped_at_top(shared_media / "person_man_fullbody.png", THROUGH_THE_HAIR, tmp_path / "man.png")
    assert cut_at_top(man)
    for name in WHOLE:
        whole = cut_out(load_picture(shared_media / name))
        assert whole is not None and not cut_at_top(whole), name


def test_of_the_readings_of_a_picture_cut_at_its_top_the_one_another_agrees_with_is_kept(
    shared_media: Path, tmp_path: Path
) -> None:
    """Two crops whose even reading misplaces an arm: the night street's figure cropped at 194 rows
    (padded evenly, the model puts her left wrist by her face) and the armour cropped through its
    helmet at 76 rows (found only padded by half the picture, its right elbow read 0.19 torso inward,
    in the backdrop between arm and waist). The reading kept, the first another padding agrees with
    (agreed_reading), has every arm joint within a tenth of the torso of where the whole picture's
    reading has it. The man cropped through his hair, whose readings all agree, keeps his even one.
    agreed_reading on drawn readings: one whose elbows and wrists lie apart from the others' is not
    kept; of two that agree, the first is; none agreeing, the first of the closest pair."""
    for name, rows, pad, joint, off in (
        ("character_anime_fullbody.jpg", 194, 0.25, L.L_WRIST, 0.25),
        ("character_armor_fullbody.png", 76, 0.5, L.R_ELBOW, 0.15),
    ):
        crop = cropped_at_top(shared_media / name, rows, tmp_path / "crop.png")
        whole = cut_out(load_picture(shared_media / name))
        assert whole is not None
        arms = whole.landmarks[ARM_JOINTS, :2] - (0.0, rows)
        torso = torso_length(whole.landmarks)
        even, _ = _detect_padded(crop.rgb, (pad, pad, pad))
        assert np.linalg.norm(even[joint, :2] - whole.landmarks[joint, :2] + (0.0, rows)) > off * torso, name
        kept = np.linalg.norm(crop.landmarks[ARM_JOINTS, :2] - arms, axis=1)
        assert kept.max() < 0.1 * torso, (name, kept / torso)
    man = cropped_at_top(shared_media / "person_man_fullbody.png", THROUGH_THE_HAIR, tmp_path / "man.png")
    assert np.array_equal(man.landmarks, _detect_padded(man.rgb, (0.25, 0.25, 0.25))[0])
    drawn = np.zeros((33, 4))
    drawn[ARM_JOINTS, :2] = [[1.0, 0.0], [-1.0, 0.0], [3.0, 0.0], [-3.0, 0.0], [5.0, 0.0], [-5.0, 0.0]]
    astray = drawn.copy()
    astray[[L.L_ELBOW, L.R_ELBOW, L.L_WRIST, L.R_WRIST], 1] = 2.0
    near = drawn.copy()
    near[ARM_JOINTS, 0] += 0.1
    assert agreed_reading([astray, drawn, near]) is drawn
    assert agreed_reading([astray, near, drawn]) is near
    wide = drawn.copy()
    wide[ARM_JOINTS, 0] *= 1.2  # its wrists 1 from the others': 0.31 of the torso (1.6 shoulder widths, 3.2)
    assert agreed_reading([astray, wide, drawn]) is wide
    assert agreed_reading([drawn, astray, wide]) is drawn


def test_a_full_figure_cut_at_its_top_is_made_taller_about_its_feet(
    shared_media: Path, tmp_path: Path, clips: tuple[Path, Path]
) -> None:
    """The man cropped through his hair, with the dance: his picture's top edge on the frame's top
    (moved up there, his feet were 0.17 of the frame's height above the dancer's), his feet where the
    whole man's are, within 2 % of the frame's height, and his figure taller. The whole man is placed
    as before; in the image orientation the cropped picture's top is the frame's."""
    dance, _ = clips
    track = track_motion(dance, stride=pipeline.motion_stride(dance))
    man = cropped_at_top(shared_media / "person_man_fullbody.png", THROUGH_THE_HAIR, tmp_path / "man.png")
    whole = cut_out(load_picture(shared_media / "person_man_fullbody.png"))
    assert whole is not None

    def feet(cut: Cutout) -> tuple[pipeline.Placement, float]:
        _, motion, _ = pipeline.drawn_motion(track, cut)
        p, _ = place("video", "std", cut, motion, track)
        lowest = float(np.flatnonzero((cut.alpha >= 0.5).any(axis=1))[-1]) + 1.0
        return p, p.offset[1] + p.k * p.work_scale * lowest

    p, man_feet = feet(man)
    q, whole_feet = feet(whole)
    assert p.top and p.offset[1] == 0.0
    assert not q.top and q.offset[1] > 0.0  # the whole man's head below the frame's top, as before
    assert abs(man_feet - whole_feet) <= 0.02 * p.height, (man_feet, whole_feet)
    assert p.k * p.work_scale > 1.05 * q.k * q.work_scale  # the same man drawn larger
    _, motion, _ = pipeline.drawn_motion(track, man)
    image, _ = place("image", "std", man, motion, track)
    assert image.top and image.offset[1] == 0.0


def test_a_top_edge_that_cuts_the_character_off_stays_above_the_frames_top(shared_media: Path, tmp_path: Path) -> None:
    """Drawn with the whole figure lowered by a fifth of its torso, the man cropped through his hair
    has the vertices on his picture's top edge held above the frame's top (Rig.cut_top, PIN_PAST),
    the pull spread over a band below it: his hair reaches the frame's first row. Not cut off, the
    edge comes down with him and the first row is empty."""
    man = cropped_at_top(shared_media / "person_man_fullbody.png", THROUGH_THE_HAIR, tmp_path / "man.png")
    rig, _ = pipeline._rig(man, 1.0)
    body = rig.layer("body")
    assert body is not None
    plate = np.zeros((rig.height, rig.width, 3), np.uint8)
    target = rig.landmarks.copy()
    target[:, 1] += 0.2 * rig.torso
    edge = body.rest[:, 1] <= 0.5
    assert edge.sum() > 3
    for cut_top in (True, False):
        renderer = Renderer(replace(rig, cut_top=cut_top), plate, 1.0)
        verts = renderer.deform(body, bone_transforms(renderer.rest, named_points(target), 1.0), target)
        if cut_top:
            assert (verts[edge, 1] <= -PIN_PAST + 1e-6).all()
            (axis, sign, on_edge, (band, _, weight)), *_ = renderer.edge_pins["body"]
            assert (axis, sign) == (1, -1) and np.array_equal(on_edge, np.flatnonzero(edge))
            spread = band[(weight > 0.0) & (weight < 1.0)]
            assert len(spread) > len(on_edge)  # vertices below the edge take part of its pull
            assert (body.rest[spread, 1] > 0.5).all() and (body.rest[spread, 1] < 0.4 * rig.torso).all()
        else:
            assert (verts[edge, 1] > 0.15 * rig.torso).all()
        frame, _ = renderer.render(target)
        assert (frame[0].max(axis=1) > 0).any() == cut_top


def test_the_night_streets_figure_cropped_through_her_hair_and_fingers_dances_whole(
    shared_media: Path, tmp_path: Path, clips: tuple[Path, Path]
) -> None:
    """The night street's figure cropped at 194 rows, with 3 s of the dance: nothing breaks (the
    engine before kept her left hand by her face while her arm danced, `breaks` up to 0.046), and
    her hair runs across the frame's top rows in every frame."""
    dance, _ = clips
    result, lit = dance_cropped(  # her blonde hair against the night sky
        shared_media / "character_anime_fullbody.jpg",
        194,
        dance,
        tmp_path,
        lambda top: (top[..., 2] > 150) & (top[..., 1] > 120),
    )
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0, result.summary()["artefacts"]["breaks"]
    assert min(lit) >= 20, (min(lit), int(np.argmin(lit)))


def test_the_armour_cropped_through_its_helmet_dances_with_its_arms_whole(
    shared_media: Path, tmp_path: Path, clips: tuple[Path, Path]
) -> None:
    """The armour cropped through its helmet (76 rows), with 3 s of the dance: nothing breaks. Read
    with its even padding, its right upper arm's piece was cut along the backdrop between arm and
    waist: 3 of that bone's 9 axis points uncovered in nearly every frame, `breaks` 0.068 in all of
    them. Its helmet runs across the frame's top rows in every frame."""
    dance, _ = clips
    result, helmet = dance_cropped(  # the helmet's red and gold on white
        shared_media / "character_armor_fullbody.png",
        76,
        dance,
        tmp_path,
        lambda top: (top[..., 2] > 150) & (top[..., 0] < top[..., 2] - 40),
    )
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0, result.summary()["artefacts"]["breaks"]
    assert min(helmet) >= 20, (min(helmet), int(np.argmin(helmet)))


def test_the_man_cropped_through_his_hair_dances_with_his_hair_at_the_frames_top(
    shared_media: Path, tmp_path: Path, clips: tuple[Path, Path]
) -> None:
    """The man cropped through his hair, with 3 s of the dance: his dark hair runs across the frame's
    top rows in every frame (25 columns or more; the engine before drew his picture's cut edge inside
    the frame, the light backdrop continued above it: 0 columns in every frame), nothing breaks, and
    the run says nothing of a cut."""
    dance, _ = clips
    result, dark = dance_cropped(  # his dark hair
        shared_media / "person_man_fullbody.png", THROUGH_THE_HAIR, dance, tmp_path, lambda top: top.mean(axis=2) < 110
    )
    assert min(dark) >= 20, (min(dark), int(np.argmin(dark)))
    assert result.summary()["artefacts"]["breaks"]["max"] == 0.0
    assert not any("cuts the character off" in str(note) for note in result.notes), result.notes


def test_a_head_and_shoulders_whose_cut_top_cannot_be_kept_out_has_it_faded(
    shared_media: Path, tmp_path: Path, clips: tuple[Path, Path]
) -> None:
    """The woman cropped through her hair, with 3 s of the talking head: keeping her cut top out
    would move her face further than SIDE_REACH from the video's, so it shows, faded out (SIDE_FADE),
    and the run says so. Drawn as cut, it ran across her hair as a straight edge: between
    neighbouring rows of the frame's top third a mean step of 17.8 grey levels at most; faded, 1.6."""
    _, talk = clips
    cropped_at_top(shared_media / "person_woman_fullbody.png", THROUGH_THE_HAIR, tmp_path / "woman.png")
    steps: list[float] = []

    def look(_i: int, frame: np.ndarray, _stats: object) -> None:
        top = frame[: frame.shape[0] // 3].astype(np.float32).mean(axis=2)
        steps.append(float(np.abs(np.diff(top, axis=0)).mean(axis=1).max()))

    job = EngineJob(tmp_path / "woman.png", talk, "video", "std", False)
    result = run_engine(job, tmp_path / "out.mp4", on_frame=look)
    assert any("cuts the character off at its top" in str(note) for note in result.notes), result.notes
    assert len(steps) == result.frames and max(steps) < 5.0, max(steps)


def test_a_faded_top_is_not_counted_as_a_hole(shared_media: Path, tmp_path: Path, clips: tuple[Path, Path]) -> None:
    """The armour cropped through its helmet, with 3 s of the talking head: its helmet's top shows,
    faded out, and the run says so. The core points that fade draws less than half of (faded) are
    not holes: no frame is torn (counted, up to 5.7 % of its core points showed the backdrop in every
    frame, all "torn"). faded marks only points within the band, and none where no edge fades."""
    _, talk = clips
    armour = cropped_at_top(shared_media / "character_armor_fullbody.png", 76, tmp_path / "armour.png")
    result = run_engine(EngineJob(tmp_path / "armour.png", talk, "video", "std", False), tmp_path / "out.mp4")
    assert any("cuts the character off at its top" in str(note) for note in result.notes), result.notes
    assert result.torn_frames == 0 and result.holes.max() == 0.0, result.holes.max()
    rig, _ = pipeline._rig(armour, 1.0)
    body = rig.layer("body")
    assert body is not None
    band = 0.3 * rig.torso
    marked = faded(rig, "body", None, side_fade(rig.height, (band, 0.0)))
    rest = core_at(body.rest, body.triangles, *rig.core_points["body"])
    assert marked.any() and (rest[marked, 1] < band).all() and not (marked & (rest[:, 1] > band)).any()
    assert not faded(rig, "body", None, None).any()
