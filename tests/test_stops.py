"""Stop, done by the job itself (kmc_ui/ui/stops.py), on real runs against the loopback fake of
Kling's official API, with the job consumed by another thread the way Gradio's queue does it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.jobs import PollPolicy, Progress
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from kmc_ui.ui.render import stopped_md
from kmc_ui.ui.stops import STOPPED_QUEUED, STOPPING, Stops, ended_by_itself, stop_answer
from tests.fakes.kling import FakeKling, Scenario
from tests.media_factory import make_video

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "stopper"
PAGE = "page-1"
FAST = PollPolicy(first=0.05, running=0.05, warmup=0.0, warmup_interval=0.05, queued=0.05, queued_far=0.05)


@pytest.fixture
def studio(kling_settings: Settings, media_server: Any) -> Iterator[Studio]:
    backend = KlingLegacyBackend(kling_settings, media_server.host)
    yield Studio(kling_settings, {"kling": backend}, poll=FAST)
    backend.close()


def inputs(image: Path, video: Path) -> Inputs:
    return Inputs(image=str(image), video=str(video), backend="kling", tier="std", model="v2.6")


class Consumer(threading.Thread):
    """Drives a job's pairs to the end on its own thread, as Gradio's queue does."""

    def __init__(self, pairs: Iterator[tuple[Progress | None, str]]) -> None:
        super().__init__(daemon=True)
        self.pairs = pairs
        self.seen: list[tuple[Progress | None, str]] = []
        self.task_on_disk = threading.Event()

    def run(self) -> None:
        for pair in self.pairs:
            self.seen.append(pair)
            if pair[0] is not None and pair[0].task_id:
                self.task_on_disk.set()


def generation(stops: Stops, studio: Studio, image: Path, video: Path) -> Iterator[tuple[Progress | None, str]]:
    """A generation of `image` and `video` on PAGE, run the way the Generate button runs it."""

    def closing(last: Progress | None) -> str:
        record = studio.history.get(OWNER, last.run_id) if last and last.run_id else None
        return stopped_md(record, "Kling", last, "en")

    return stops.run(
        PAGE, lambda stop: studio.generate(inputs(image, video), OWNER, cancel=stop), ended_by_itself, closing
    )


def test_stop_ends_a_waiting_run_and_answers_with_its_own_closing_text(
    studio: Studio, fake_kling: FakeKling, character_image: Path, reference_video: Path
) -> None:
    fake_kling.scenario = Scenario(processing_s=3600)
    stops = Stops()
    job = Consumer(generation(stops, studio, character_image, reference_video))
    job.start()
    assert job.task_on_disk.wait(60)
    answer = stops.stop(PAGE)
    job.join(10)
    assert not job.is_alive()
    last_step, closing = job.seen[-1]
    assert last_step is None and closing == answer  # the page's last line and Stop's answer agree
    record = studio.history.list(OWNER)[0]
    assert record["status"] == "stopped_waiting"
    assert f"No longer waiting; task {record['task_id']} keeps running at Kling." in answer
    assert fake_kling.create_count == 1
    assert stops.stop(PAGE) is None  # nothing runs now: a late click keeps what the page shows
    assert stop_answer(None, "en") == gr.skip()


def test_a_finished_run_says_how_long_it_took(
    studio: Studio, fake_kling: FakeKling, character_image: Path, reference_video: Path
) -> None:
    fake_kling.scenario = Scenario(processing_s=1.0)
    steps = list(studio.generate(inputs(character_image, reference_video), OWNER))
    assert steps[-1].stage == "done"
    worked = max(s.elapsed for s in steps[:-1])
    assert steps[-1].elapsed >= worked > 0  # the worker's count, not "Elapsed: 0 s"
    (again,) = studio.resume(OWNER, steps[-1].run_id)  # asked again once done: the record's count
    assert again.stage == "done" and again.elapsed >= worked


def test_stop_while_queued_ends_the_job_at_its_first_step_before_anything_is_sent(
    studio: Studio, fake_kling: FakeKling, character_image: Path, reference_video: Path
) -> None:
    stops = Stops()
    stops.expect(PAGE)  # the validator ran: the job waits in Gradio's queue
    assert stops.stop(PAGE) == STOPPED_QUEUED
    assert stop_answer(STOPPED_QUEUED, "zh") == "⏹️ 在开始之前已停止：没有发送任何内容。"
    pairs = list(generation(stops, studio, character_image, reference_video))
    assert pairs[-1][0] is None and "Nothing was sent, so nothing was charged." in pairs[-1][1]
    assert all(p is None or p.stage == "preparing" for p, _ in pairs)
    assert fake_kling.create_count == 0 and studio.history.list(OWNER) == []


def test_a_new_job_after_a_stop_is_not_stopped(
    studio: Studio, fake_kling: FakeKling, character_image: Path, reference_video: Path
) -> None:
    stops = Stops()
    stops.expect(PAGE)
    stops.stop(PAGE)
    stops.expect(PAGE)  # the next click, after the Stop
    pairs = list(generation(stops, studio, character_image, reference_video))
    assert pairs[-1][0] is not None and pairs[-1][0].stage == "done" and pairs[-1][1] == ""
    assert fake_kling.create_count == 1


def test_a_run_that_ends_as_stop_is_pressed_keeps_its_result() -> None:
    stops = Stops()

    def steps(_stop: threading.Event) -> Iterator[Progress]:
        yield Progress("running", "Generating…")
        stops._pages[PAGE].live.stop.set()  # Stop lands while the last step is on its way
        yield Progress("done", "The result is ready.")

    pairs = list(stops.run(PAGE, steps, ended_by_itself, lambda _p: "stopped"))
    assert [(p.stage if p else None, text) for p, text in pairs] == [("running", ""), ("done", "")]


def test_stop_waits_for_the_current_step_and_says_so_when_it_is_slow() -> None:
    stops = Stops(wait=0.2)
    release = threading.Event()
    closed = threading.Event()

    def steps(_stop: threading.Event) -> Iterator[Progress]:
        try:
            yield Progress("running", "Uploading…")
            release.wait(10)  # a step that cannot be interrupted (an upload)
            yield Progress("running", "Generating…")
        finally:
            closed.set()

    job = Consumer(stops.run(PAGE, steps, ended_by_itself, lambda _p: "⏹️ Stopped."))
    job.start()
    while not job.seen:
        threading.Event().wait(0.01)
    assert stops.stop(PAGE) == ""  # the step has not returned within the wait
    assert stop_answer("", "en") == f"⏳ {STOPPING}"
    release.set()
    job.join(10)
    assert closed.is_set() and job.seen[-1] == (None, "⏹️ Stopped.")


def test_a_page_that_goes_away_leaves_its_run_running(
    studio: Studio, fake_kling: FakeKling, character_image: Path, reference_video: Path
) -> None:
    """A page that goes away: Gradio closes the generator; the run is not stopped, only unwatched."""
    fake_kling.scenario = Scenario(processing_s=3600)
    stops = Stops()
    pairs = generation(stops, studio, character_image, reference_video)
    for step, _ in pairs:
        if step is not None and step.task_id:
            break
    live = stops._pages[PAGE].live
    pairs.close()
    assert live is not None and live.ended.is_set()
    time.sleep(1.0)  # the worker goes on polling
    record = studio.history.list(OWNER)[0]
    assert record["status"] in ("submitted", "running"), record
    assert fake_kling.requests_at("cancel") == [] and fake_kling.create_count == 1


def test_stop_interrupts_a_transcode_and_nothing_is_sent(
    studio: Studio, fake_kling: FakeKling, character_image: Path, tmp_path: Path
) -> None:
    """The preparing step is stopped at once: ffmpeg is killed, no record, no submit."""
    clip = make_video(
        tmp_path / "long.webm",
        1280,
        720,
        seconds=20,
        fps=24,
        codec="libvpx-vp9",
        audio=False,
        extra=["-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M"],
    )
    stop = threading.Event()
    steps = studio.generate(inputs(character_image, clip), OWNER, cancel=stop)
    assert next(steps).stage == "preparing"
    threading.Timer(0.3, stop.set).start()
    last = next(steps)  # VP9 is re-encoded to H.264: the transcode is under way when Stop lands
    assert last.stage == "stopped" and last.text == "Nothing was sent, so nothing was charged."
    assert list(steps) == []
    assert fake_kling.create_count == 0 and studio.history.list(OWNER) == []
    assert not [p for p in studio.work_dir.iterdir() if p.suffix == ".mp4"]  # no half-written file left
