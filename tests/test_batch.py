"""Batch runs against the loopback fake Kling API (real HTTP, real JWTs, real media served to it).

The fake decides each task's fate from its create request (`FakeKling.scenario_for`): the
character whose picture has a given size fails at the provider, the others succeed. Timelines
are a second or two of real time and the Studio polls every 50 ms.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.batch import MAX_ITEMS, BatchError, BatchProgress, plan_batch, run_batch
from kmc_ui.jobs import PollPolicy
from kmc_ui.limits import CONCURRENCY, KLING_ERRORS, PRICES
from kmc_ui.media.probe import probe_video
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.conftest import MediaCache
from tests.fakes.kling import FakeKling, Scenario, kling_error

pytest_plugins = ["tests.fakes.fixtures"]

OWNER = "batch-owner"
FAST = PollPolicy(first=0.05, running=0.05, warmup=0.0, warmup_interval=0.05, queued=0.05, queued_far=0.05)
RISK = "Failure to pass the risk control system"
COMMON = Inputs(backend="kling", tier="std", model="v2.6")


@pytest.fixture
def studio(kling_settings: Settings, media_server: Any) -> Iterator[Studio]:
    backend = KlingLegacyBackend(kling_settings, media_server.host)
    yield Studio(kling_settings, {"kling": backend}, poll=FAST)
    backend.close()


@pytest.fixture
def characters(media: MediaCache) -> list[Path]:
    """Three different characters; the sizes tell them apart inside the fake."""
    return [media.image(f"batch-char-{w}.png", w, h, fmt="PNG") for w, h in ((480, 854), (500, 880), (520, 900))]


def image_size(body: dict[str, Any]) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(body["image_url"]))) as im:
        return im.size


def fail_character(size: tuple[int, int], timeline: Scenario) -> Callable[[dict[str, Any]], Scenario | None]:
    """The fake's per-request scenario: the character of this size fails with the provider's reason."""

    def pick(body: dict[str, Any]) -> Scenario | None:
        if image_size(body) == size:
            return Scenario(
                outcome="failed",
                failure_msg=RISK,
                submitted_s=timeline.submitted_s,
                processing_s=timeline.processing_s,
                max_concurrent=timeline.max_concurrent,
            )
        return None

    return pick


def provider_peak(fake: FakeKling) -> int:
    """Most tasks the provider held at once (a task holds a slot from creation until it ends)."""
    edges = []
    for t in fake.tasks.values():
        edges += [(t.created, 1), (t.created + t.scenario.submitted_s + t.scenario.processing_s, -1)]
    peak = busy = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):  # an end before a start at the same instant
        busy += step
        peak = max(peak, busy)
    return peak


def test_three_characters_one_motion_one_fails_at_the_provider(
    studio: Studio, fake_kling: FakeKling, characters: list[Path], reference_video: Path
) -> None:
    timeline = Scenario(submitted_s=0.2, processing_s=1.5, max_concurrent=2)  # a third at once gets 1303
    fake_kling.scenario = timeline
    fake_kling.scenario_for = fail_character((500, 880), timeline)

    plan = plan_batch(studio, [str(p) for p in characters], [str(reference_video)], COMMON)
    assert plan.kind == "characters" and len(plan.runnable) == 3 and not plan.skipped
    assert [i.label for i in plan.items] == [f"Character {n}: {p.name}" for n, p in enumerate(characters, 1)]
    # The whole batch's cost is the sum of its items' estimates: 3 x 4 s (3.5 s billed as 4 s) x $0.07 (0.5 units/s).
    price = PRICES["kling"]["v2.6"]["std"]
    assert price is not None
    assert plan.total_usd == pytest.approx(sum(i.estimate.usd for i in plan.items if i.estimate))
    assert plan.total_usd == pytest.approx(3 * 4 * price.usd_per_second)
    assert plan.total_units == pytest.approx(3 * 4 * 0.5)
    assert plan.total_text() == "3 videos, 12.0 s in all: $0.84 (6.00 units) at most."
    assert plan.concurrency == CONCURRENCY["kling"]

    steps = list(run_batch(studio, plan, OWNER, concurrency=2))
    last = steps[-1]
    assert last.finished
    by_index = {i.index: i for i in last.items}
    failed = by_index[2]
    assert failed.stage == "failed" and RISK in failed.error and failed.task_id
    record = studio.history.get(OWNER, failed.run_id)
    assert record is not None and record["status"] == "failed" and RISK in record["error"]
    for n in (1, 3):
        item = by_index[n]
        assert item.stage == "done", item.text
        assert item.result_path is not None and item.result_path.is_file()
        info = probe_video(item.result_path)
        assert info.ok and info.codec == "h264" and info.duration > 0
        record = studio.history.get(OWNER, item.run_id)
        assert record is not None
        assert (record["status"], record["output"], record["task_id"]) == (
            "succeeded",
            str(item.result_path),
            item.task_id,
        )
    assert [r.index for r in last.results] == [1, 3]
    # Within the limit at every moment: ours (workers) and the provider's (its own task timelines),
    # and no create was ever refused with 1303 and sent again.
    assert last.peak_running == 2
    assert max(s.running for s in steps) <= 2
    assert provider_peak(fake_kling) <= 2
    assert fake_kling.create_count == 3
    assert not any("1303" in e or "concurrency" in e for s in steps for e in s.events)
    assert last.text() == "2 done, 1 failed (of 3; at most 2 at a time)"
    assert json.loads(json.dumps(last.to_dict()))["items"][0]["result_path"] == str(by_index[1].result_path)
    assert json.loads(json.dumps(plan.to_dict()))["total_usd"] == pytest.approx(plan.total_usd)


def test_problem_items_are_listed_and_skipped_not_fatal(
    studio: Studio, fake_kling: FakeKling, characters: list[Path], reference_video: Path, tmp_path: Path
) -> None:
    fake_kling.scenario = Scenario(submitted_s=0.1, processing_s=0.2)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a picture" * 50)
    copy = tmp_path / "same-as-first.png"
    shutil.copyfile(characters[0], copy)
    images = [str(characters[0]), str(broken), str(copy)]

    plan = plan_batch(studio, images, [str(reference_video)], COMMON)
    assert [i.runnable for i in plan.items] == [True, False, False]
    assert "image" in plan.items[1].skip_reason.lower() and "Fix:" in plan.items[1].skip_reason
    assert plan.items[2].skip_reason.startswith("The same file as item 1")
    assert plan.total_usd == pytest.approx(plan.items[0].estimate.usd)  # skipped items cost nothing
    assert plan.total_text().endswith("(2 skipped): $0.28 (2.00 units) at most.")  # 3.5 s billed as 4 s

    last = list(run_batch(studio, plan, OWNER))[-1]
    assert [i.stage for i in last.items] == ["done", "skipped", "skipped"]
    assert last.items[1].text == plan.items[1].skip_reason
    assert fake_kling.create_count == 1


def test_a_refused_submit_does_not_stop_the_next_item(
    studio: Studio, fake_kling: FakeKling, characters: list[Path], reference_video: Path
) -> None:
    fake_kling.scenario = Scenario(submitted_s=0.1, processing_s=0.2)
    fake_kling.inject("create", kling_error(1301))  # the first create is refused (content safety)
    plan = plan_batch(studio, [str(p) for p in characters[:2]], [str(reference_video)], COMMON)
    last = list(run_batch(studio, plan, OWNER, concurrency=1))[-1]  # one at a time: item 1 goes first
    first, second = last.items
    assert first.stage == "failed" and KLING_ERRORS[1301].advice in first.error
    assert second.stage == "done" and second.result_path is not None and probe_video(second.result_path).ok
    assert fake_kling.create_count == 2


def test_one_character_several_motions_costs_each_motion(
    studio: Studio, characters: list[Path], reference_video: Path, media: MediaCache
) -> None:
    longer = media.video("batch-motion-5s.mp4", width=640, height=360, seconds=5.0, fps=12)
    common = Inputs(backend="kling", tier="pro", model="v3")
    plan = plan_batch(studio, [str(characters[0])], [str(reference_video), str(longer)], common)
    assert plan.kind == "motions"
    assert [i.label for i in plan.items] == [f"Motion 1: {reference_video.name}", "Motion 2: batch-motion-5s.mp4"]
    assert [i.report.billed_seconds for i in plan.items] == pytest.approx([4.0, 5.0])  # whole seconds (Kling)
    assert plan.total_seconds == pytest.approx(9.0)
    assert plan.total_usd == pytest.approx(9 * 0.168)
    assert plan.total_units == pytest.approx(9 * 1.2)
    assert plan.to_dict()["total_text"] == "2 videos, 9.0 s in all: $1.51 (10.80 units) at most."
    assert all(f.input == "image" for f in plan.shared_findings)  # the one character's, listed once
    assert plan.shared_findings == [f for f in plan.items[1].report.findings if f.input == "image"]


def test_batches_that_cannot_be_planned(studio: Studio, characters: list[Path], reference_video: Path) -> None:
    images, video = [str(p) for p in characters], str(reference_video)
    with pytest.raises(BatchError, match="one motion with several characters, or one character with several"):
        plan_batch(studio, images, [video, video], COMMON)
    with pytest.raises(BatchError, match="Add at least one motion video"):
        plan_batch(studio, images, [], COMMON)
    with pytest.raises(BatchError, match=f"at most {MAX_ITEMS} items"):
        plan_batch(studio, images[:1] * (MAX_ITEMS + 1), [video], COMMON)
    motions = plan_batch(studio, images[:1], [video, video], COMMON)
    with pytest.raises(BatchError, match="A pasted video URL stands for one motion"):
        next(run_batch(studio, motions, OWNER, video_url="https://example.com/dance.mp4"))


def test_backend_not_set_up_fails_every_item_without_a_request(
    fake_kling: FakeKling, media_server: Any, characters: list[Path], reference_video: Path, tmp_path: Path
) -> None:
    settings = Settings(backend="kling", kling_api_base=fake_kling.base_url, data_dir=tmp_path / "data")
    backend = KlingLegacyBackend(settings, media_server.host)
    studio = Studio(settings, {"kling": backend}, poll=FAST)
    try:
        plan = plan_batch(studio, [str(p) for p in characters[:2]], [str(reference_video)], COMMON)
        assert plan.blocking and "KLING_ACCESS_KEY" in plan.backend_ready[1]
        last = list(run_batch(studio, plan, OWNER))[-1]
        assert [i.stage for i in last.items] == ["failed", "failed"]
        assert all("KLING_ACCESS_KEY" in i.error for i in last.items)
        assert fake_kling.requests == []
        # A per-session backend holding the user's own keys (as the UI's key box builds) runs it.
        fake_kling.scenario = Scenario(submitted_s=0.1, processing_s=0.2)
        keyed = KlingLegacyBackend(
            replace(settings, kling_access_key=fake_kling.access_key, kling_secret_key=fake_kling.secret_key),
            media_server.host,
        )
        try:
            plan = plan_batch(studio, [str(characters[0])], [str(reference_video)], COMMON, backend=keyed)
            assert not plan.blocking
            last = list(run_batch(studio, plan, OWNER, backend=keyed))[-1]
            assert [i.stage for i in last.items] == ["done"]
        finally:
            keyed.close()
    finally:
        backend.close()


def test_stop_leaves_unstarted_items_unsubmitted(
    studio: Studio, fake_kling: FakeKling, characters: list[Path], reference_video: Path
) -> None:
    fake_kling.scenario = Scenario(submitted_s=0.1, processing_s=60)
    plan = plan_batch(studio, [str(p) for p in characters], [str(reference_video)], COMMON)
    stop = threading.Event()
    steps = run_batch(studio, plan, OWNER, concurrency=1, cancel=stop)
    seen: BatchProgress | None = None
    for seen in steps:
        if seen.items[0].stage == "running":
            break
    assert seen is not None and seen.items[0].task_id
    stop.set()  # the UI's Stop: the flag, then the page's job is closed
    steps.close()
    run_id = seen.items[0].run_id
    deadline = time.monotonic() + 10
    while (studio.history.get(OWNER, run_id) or {}).get("status") != "stopped_waiting":
        assert time.monotonic() < deadline, studio.history.get(OWNER, run_id)
        time.sleep(0.05)
    time.sleep(0.5)  # room for a wrongly started item to reach the provider
    assert fake_kling.create_count == 1  # items 2 and 3 were never sent
    assert studio.history.get(OWNER, run_id)["task_id"] == seen.items[0].task_id  # resumable from History


def test_body_checks_join_each_items_findings(studio: Studio, characters: list[Path], reference_video: Path) -> None:
    images = [str(p) for p in characters[:2]]
    plain = plan_batch(studio, images, [str(reference_video)], COMMON)
    plan = plan_batch(studio, images, [str(reference_video)], COMMON, body=True)
    for with_body, without in zip(plan.items, plain.items, strict=True):
        added = [f for f in with_body.report.findings if f not in without.report.findings]
        assert added, "the pose pre-flight found nothing to say about a test-pattern 'dance'"
        assert with_body.runnable == (not with_body.blocking_findings)  # skipped only for an unfixable error
