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


def tracking_under_way() -> bool:
    """Whether a tracking pass is under way (a report's reading may be too: not counted)."""
    return any(isinstance(key, tuple) and key[0] == "track" for key in list(pose_cache._FLIGHTS))


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch, clip: Path) -> list[str]:
    """Each tracking pass made of `clip` (its path), the pass itself run as it is. A reading ahead
    that an earlier test's check started ends first (another clip's: not counted either way)."""
    from kmc_ui.engine import pipeline

    pipeline._AHEAD.submit(lambda: None).result(timeout=120)
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
    while not tracking_under_way():  # the first reading is under way
        time.sleep(0.01)
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
    while not tracking_under_way():
        time.sleep(0.01)
    stop = threading.Event()
    stop.set()
    t0 = time.monotonic()
    with pytest.raises(EngineCancelled):
        motion.track_motion(clip, cache_dir=cache, stride=1, cancel=stop)
    assert time.monotonic() - t0 < 1.0 and first.is_alive()  # it did not wait for the reading to end
    first.join()
    assert len(readings) == 1 and not tracking_under_way()


def test_a_clip_checked_for_the_offline_engine_is_read_before_generate(
    clip: Path, shared_media: Path, tmp_path: Path, readings: list[str]
) -> None:
    from kmc_ui.engine import pipeline

    pose_cache.clear_memory()  # the clip never read (the tests above kept its track in memory)
    picture = shared_media / "person_man_fullbody.png"
    studio = Studio(Settings(data_dir=tmp_path / "data"), {})
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="local"))
    ahead = pipeline._AHEAD_WAITING[0]
    ahead.result(timeout=120)
    assert readings == [str(clip)]  # read ahead, by the engine's motion pass
    # the run (the engine as the offline backend runs it, with the studio's cache) reads no motion
    result = run_engine(EngineJob(picture, clip, "video"), tmp_path / "out.mp4", cache_dir=studio.cache_dir)
    assert readings == [str(clip)]
    assert result.frames >= 40
    # for a provider's backend, or with a trim window, nothing is read ahead
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="kling"))
    studio.body_check(Inputs(image=str(picture), video=str(clip), backend="local", trim_start=0.5))
    assert pipeline._AHEAD_WAITING[0] is ahead
