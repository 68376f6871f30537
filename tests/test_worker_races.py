"""kmc_ui/worker.py under races the load test met (tests/test_load.py): a new run the sweeper reads
before Generate put it on the queue, and a run's second queue message arriving while a worker of
the same process drives it. Real Studio, real store and queue, the loopback Kling fake."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.backends.registry import build_backends
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.fakes.faults import Fault
from tests.fakes.kling import FakeKling
from tests.load import FAST_POLL

pytest_plugins = ["tests.fakes.fixtures"]


def studio_for(fake: FakeKling, media_server: Any, data_dir: Path) -> Studio:
    """A studio with no worker threads: the test drives the runs itself."""
    settings = Settings(
        backend="kling",
        kling_access_key=fake.access_key,
        kling_secret_key=fake.secret_key,
        kling_api_base=fake.base_url,
        public_base_url=media_server.url,
        allow_private_urls=True,
        data_dir=data_dir,
        workers=0,
    )
    return Studio(settings, build_backends(settings, media_server.host), poll=FAST_POLL)


def queued_run(studio: Studio, inputs: Inputs, owner: str) -> str:
    """Generate up to the run being on the queue; the page then goes away (the run stays)."""
    steps = studio.generate(inputs, owner)
    try:
        for step in steps:
            if step.stage == "queued" and step.run_id:
                return step.run_id
    finally:
        steps.close()
    raise AssertionError("the run never reached the queue")


@pytest.fixture
def kling(kling_server: FakeKling) -> FakeKling:
    kling_server.reset()
    return kling_server


def test_the_sweeper_leaves_a_new_run_to_generate_and_recovers_a_forgotten_one(
    kling: FakeKling, media_server: Any, tmp_path: Path
) -> None:
    studio = studio_for(kling, media_server, tmp_path / "data")
    workers = studio.workers
    # Generate wrote the record; the sweeper reads it before Generate put the run on the queue.
    studio.history.create("ann", {"run_id": "new-run", "status": "queued", "provider": "kling"})
    assert workers.sweep() == []
    assert studio.history.store.work.get("new-run") is None  # left for Generate to queue
    # A run whose process died between its record and the queue is put on it once it is stale.
    old = time.time() - workers.stale - 1
    studio.history.create("ann", {"run_id": "lost-run", "status": "queued", "provider": "kling", "created_at": old})
    assert workers.sweep() == ["lost-run"]
    studio.close()


def test_a_second_message_for_a_run_being_driven_is_dropped(
    kling: FakeKling,
    media_server: Any,
    tmp_path: Path,
    character_image: Path,
    reference_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The run is held in its create (the record says `submitting`) when the same process is told
    to drive it again: the second call returns at once; one create, one driver, the run succeeds."""
    studio = studio_for(kling, media_server, tmp_path / "data")
    workers = studio.workers
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling")
    run_id = queued_run(studio, inputs, "ann")
    kling.inject("create", Fault.delay(1.5))
    first = threading.Thread(target=workers.execute, args=(run_id,))
    first.start()
    deadline = time.monotonic() + 10
    while (studio.history.get("ann", run_id) or {}).get("status") != "submitting":
        assert time.monotonic() < deadline, "the first worker never started the create"
        time.sleep(0.01)
    seen = len(kling.requests)
    with caplog.at_level(logging.WARNING, logger="kmc_ui.worker"):
        workers.execute(run_id)  # the duplicate
        assert len(kling.requests) == seen  # it asked the provider nothing (no lookup, no create)
        first.join(30)
    assert not first.is_alive()
    assert studio.history.get("ann", run_id)["status"] == "succeeded"
    assert kling.create_count == 1
    assert "taken over" not in caplog.text
    studio.close()
