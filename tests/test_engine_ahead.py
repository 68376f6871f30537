"""The offline engine's motion read ahead: a visitor's clip, once checked for the offline engine, is
read by the engine's motion pass before Generate is pressed, and the run finds it read.

Real code paths: the real dance's first seconds cut by ffmpeg, the real mediapipe tracking pass,
the Studio's real body check, the real engine. The reading is counted (motion._run wrapped, not
replaced), never skipped.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from kmc_ui.engine import motion
from kmc_ui.engine.common import EngineCancelled
from kmc_ui.engine.pipeline import EngineJob, run_engine
from kmc_ui.pose import cache as pose_cache
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.figures import make_character


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, shared_media: Path) -> Path:
    """The real dance's first 2 seconds (its own encoding: the pose cache knows it by content)."""
    source = shared_media / "dance_fullbody_12s.mp4"
    if not source.is_file():
        pytest.skip("the shared dance is needed")
    out = tmp_path_factory.mktemp("ahead") / "dance_2s.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-t", "2", "-vf", "scale=-2:640"]
    subprocess.run([*cmd, "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(out)], check=True)
    return out


def under_way(kind: str) -> bool:
    """Whether a reading of this kind ("track": a tracking pass, "picture") is under way (a
    report's reading may be too: not counted)."""
    return any(isinstance(key, tuple) and key[0] == kind for key in list(pose_cache._FLIGHTS))


def wait_until_under_way(kind: str) -> None:
    while not under_way(kind):
        time.sleep(0.005)


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch, clip: Path) -> list[str]:
    """Each tracking pass made of `clip` (its path), the pass itself run as it is. A reading ahead
    that an earlier test's check started ends first (another clip's: not counted either way)."""
    from kmc_ui.engine import pipeline

    pipeline._MOTION_AHEAD.pool.submit(lambda: None).result(timeout=120)
    made: list[str] = []
    real = motion._run

    def counted(container, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(container.name) == str(clip):
            made.append(str(container.name))
        return real(container, *args, **kwargs)

    monkeypatch.setattr(motion, "_run", counted)
    return made


def test_a_second_reading_of_a_clip_joins_the_one_under_way(clip: Path, tmp_path: Path, readings: list[str]) -> None:
    cache = tmp_path / "cache"
    got: dict[str, object] = {}
    told: list[tuple[int, int]] = []

    def read(name: str, **kw: object) -> None:
        got[name] = motion.track_motion(clip, max_seconds=30.0, cache_dir=cache, stride=2, **kw)  # type: ignore[arg-type]

    first = threading.Thread(target=read, args=("first",))
    first.start()
    wait_until_under_way("track")  # the first reading is under way
    read("second", progress=lambda i, n: told.append((i, n)))
    first.join()
    assert len(readings) == 1, readings  # one tracking pass for both
    a, b = got["first"], got["second"]
    assert (a.landmarks == b.landmarks).all() and a.frames == b.frames  # type: ignore[attr-defined]
    assert told and told[-1][0] == told[-1][1] == a.frames  # type: ignore[attr-defined]
    # other parameters are another reading
    motion.track_motion(clip, max_seconds=1.0, cache_dir=cache, stride=2)
    assert len(readings) == 2


def test_a_caller_waiting_on_a_reading_can_be_stopped(clip: Path, tmp_path: Path, readings: list[str]) -> None:
    cache = tmp_path / "cache"
    first = threading.Thread(target=motion.track_motion, args=(clip,), kwargs={"cache_dir": cache, "stride": 1})
    first.start()
    wait_until_under_way("track")
    stop = threading.Event()
    stop.set()
    t0 = time.monotonic()
    with pytest.raises(EngineCancelled):
        motion.track_motion(clip, cache_dir=cache, stride=1, cancel=stop)
    assert time.monotonic() - t0 < 1.0 and first.is_alive()  # it did not wait for the reading to end
    first.join()
    assert len(readings) == 1 and not under_way("track")


def test_a_clip_checked_for_the_offline_engine_is_read_before_generate(
    clip: Path, shared_media: Path, tmp_path: Path, readings: list[str]
) -> None:
    from kmc_ui.engine import pipeline

    pose_cache.clear_memory()  # the clip never read (the tests above kept its track in memory)
    picture = shared_media / "person_man_fullbody.png"
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="local"))
    ahead = pipeline._MOTION_AHEAD.waiting[0]
    ahead.result(timeout=120)
    assert readings == [str(clip)]  # read ahead, by the engine's motion pass
    # the run (the engine as the offline backend runs it, with the studio's cache) reads no motion
    result = run_engine(EngineJob(picture, clip, "video"), tmp_path / "out.mp4", cache_dir=studio.cache_dir)
    assert readings == [str(clip)]
    assert result.frames >= 40
    # for a provider's backend, or with a trim window, nothing is read ahead
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="kling"))
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="local", trim_start=0.5))
    assert pipeline._MOTION_AHEAD.waiting[0] is ahead


# ---------------------------------------------------------------- the picture read ahead


@pytest.fixture
def cuts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each cut-out the engine makes (the picture's path), the cut-out itself run as it is; no
    picture read before. A reading ahead that an earlier test started ends first."""
    from kmc_ui.engine import pipeline

    pipeline._PICTURE_AHEAD.pool.submit(lambda: None).result(timeout=120)
    pipeline.forget_pictures()
    made: list[str] = []
    real = pipeline.cut_picture

    def counted(image: Path):  # type: ignore[no-untyped-def]
        made.append(str(image))
        return real(image)

    monkeypatch.setattr(pipeline, "cut_picture", counted)
    return made


def frames_of(result_path: Path) -> list[bytes]:
    import av

    with av.open(str(result_path)) as container:
        return [f.to_ndarray(format="rgb24").tobytes() for f in container.decode(video=0)]


def test_a_picture_checked_for_the_offline_engine_is_read_before_generate(
    clip: Path, shared_media: Path, tmp_path: Path, cuts: list[str]
) -> None:
    """The body check of a picture for the offline engine cuts it out and builds its rig; the run
    then cuts nothing, its puppet drawn at once, and its frames are the frames of a run that read
    the picture itself."""
    from kmc_ui.engine import pipeline

    picture = shared_media / "person_woman_fullbody.png"
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    studio.body_check(Inputs(image=str(picture), backend="local", orientation="image"))  # no clip yet
    pipeline._PICTURE_AHEAD.waiting[0].result(timeout=120)
    assert cuts == [str(picture)]
    job = EngineJob(picture, clip, "image")
    ahead = run_engine(job, tmp_path / "ahead.mp4")
    assert cuts == [str(picture)]  # not cut again
    assert ahead.timings["picture_wait"] < 0.5 and "cut_out" not in ahead.timings
    pipeline.forget_pictures()
    cold = run_engine(job, tmp_path / "cold.mp4")
    assert cuts == [str(picture)] * 2 and cold.timings["cut_out"] > 0
    assert frames_of(ahead.path) == frames_of(cold.path)  # the same puppet, the same frames
    # for a provider's backend nothing is read ahead
    waiting = pipeline._PICTURE_AHEAD.waiting[0]
    studio.body_check(Inputs(image=str(picture), backend="kling", orientation="video"))
    assert pipeline._PICTURE_AHEAD.waiting[0] is waiting


def test_a_run_joins_the_picture_reading_under_way_and_can_stop_waiting(
    clip: Path, tmp_path: Path, cuts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run started while its picture is read ahead waits for that reading and cuts nothing; a
    run stopped while it waits stops at once; a reading that failed is made again by the run, which
    says what is wrong with the picture."""
    from kmc_ui.engine import pipeline
    from kmc_ui.engine.common import EngineError

    picture = make_character(tmp_path / "drawn.png", 800, 1200)  # worked on at 1 (video), 0.9 (image)
    release, counted = threading.Event(), pipeline.cut_picture

    def held(image: Path):  # type: ignore[no-untyped-def]
        release.wait(30)  # the reading ahead is under way until the test lets it go on
        return counted(image)

    monkeypatch.setattr(pipeline, "cut_picture", held)
    pipeline.read_picture_ahead(picture, "video", "std")
    wait_until_under_way("picture")
    stop = threading.Event()
    stop.set()
    t0 = time.monotonic()
    with pytest.raises(EngineCancelled):
        pipeline.read_picture(picture, "video", "std", stop)
    assert time.monotonic() - t0 < 1.0 and not cuts
    release.set()
    read, made = pipeline.read_picture(picture, "video", "std")
    assert not made and cuts == [str(picture)]  # joined (or found) the reading ahead
    assert list(read.early) == [pipeline.likely_work_scale("video", "std", read.cut)]
    # the same picture for the image orientation: no cut-out, only the rig at that working scale
    again, made = pipeline.read_picture(picture, "image", "std")
    assert again.cut is read.cut and not made and sorted(again.early) == [0.9, 1.0] and cuts == [str(picture)]
    assert pipeline.read_picture(picture, "image", "std")[0] is again  # kept with both rigs
    # a picture with no one in it: the reading ahead fails quietly, the run reads it and says why
    empty = tmp_path / "empty.png"
    from PIL import Image

    Image.new("RGB", (360, 640), (200, 210, 220)).save(empty)
    pipeline.read_picture_ahead(empty, "video", "std").result(timeout=60)  # type: ignore[union-attr]
    with pytest.raises(EngineError, match="No person was found in the character picture"):
        run_engine(EngineJob(empty, clip, "video"), tmp_path / "out.mp4")
    assert cuts.count(str(empty)) == 2


def test_the_pictures_kept_hold_at_most_their_budget(
    tmp_path: Path, cuts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pictures read are kept, newest first, while they hold no more than PICTURES_BYTES (the
    newest always); an older one dropped is read again."""
    from kmc_ui.engine import pipeline

    a, b = make_character(tmp_path / "a.png"), make_character(tmp_path / "b.png", 300, 560)
    first, _ = pipeline.read_picture(a, "video", "std")
    size = pipeline.held_bytes(first)
    assert size > first.cut.rgb.nbytes  # the rig's layers counted
    monkeypatch.setattr(pipeline, "PICTURES_BYTES", size + 1)
    pipeline.read_picture(b, "video", "std")  # over the budget with both: a is dropped
    assert pipeline.read_picture(b, "video", "std")[1] is False
    assert pipeline.read_picture(a, "video", "std")[1] is True
    assert cuts == [str(a), str(b), str(a)]


def test_the_picture_read_ahead_is_the_one_a_run_sends(clip: Path, tmp_path: Path, cuts: list[str]) -> None:
    """A phone's picture stored on its side with an EXIF rotation is sent upright (prepare): the
    picture read ahead is that upright file, so the run of what the studio sends cuts nothing."""
    from PIL import Image

    from kmc_ui.engine import pipeline

    upright = Image.open(make_character(tmp_path / "drawn.png")).convert("RGB")
    phone = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(phone, quality=95, exif=exif)
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    inputs = Inputs(image=str(phone), video=str(clip), backend="local", orientation="video")
    studio.body_check(inputs)
    pipeline._PICTURE_AHEAD.waiting[0].result(timeout=120)
    sent = studio.prepare(inputs).image_path
    assert sent and Path(sent) != phone and cuts == [sent]  # the upright copy, read ahead
    result = run_engine(EngineJob(Path(sent), clip, "video"), tmp_path / "out.mp4")
    assert cuts == [sent] and "cut_out" not in result.timings


def test_a_large_picture_read_ahead_with_its_clip_is_rigged_at_the_placements_scale(
    clip: Path, tmp_path: Path, cuts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """For the video orientation the working scale depends on the motion (the character sized to
    the clip's person), so before the motion is read a picture over EARLY_MAX_SIDE gets no rig, and
    a smaller one a guess. Read ahead with its clip, the picture waits for the motion reading and is
    rigged at the placement's own scale: the run builds no rig before its calibration."""
    from kmc_ui.engine import pipeline

    picture = make_character(tmp_path / "large.png", 900, 1600)
    assert pipeline.EARLY_MAX_SIDE < 1600
    builds: list[float] = []
    real = pipeline._rig

    def counted(cut, s, *args, **kwargs):  # type: ignore[no-untyped-def]
        builds.append(round(s, 4))
        return real(cut, s, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_rig", counted)
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="local", orientation="video"))
    pipeline._PICTURE_AHEAD.waiting[0].result(timeout=120)
    assert len(builds) == 1 and builds[0] < 1.0  # the character larger than the clip's person
    steps: list[str] = []
    result = run_engine(
        EngineJob(picture, clip, "video"),
        tmp_path / "out.mp4",
        cache_dir=studio.cache_dir,
        progress=lambda _f, text: steps.append(f"{len(builds)} {text}"),
    )
    calibrating = next(step for step in steps if "alibrat" in step)
    assert calibrating.startswith("1 "), calibrating  # no rig built before the calibration
    assert cuts == [str(picture)] and "cut_out" not in result.timings and result.frames > 40
