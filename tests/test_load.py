"""20 concurrent gradio_client users against the app and the loopback Kling fake (a short load run).

Each user is its own Gradio session looping /check and /generate for ~40 s (bench/bench_load.py
runs the same harness for minutes and prints the figures). Asserted: every /generate ends in the
user's own result or a clear error, nothing reaches another session, Gradio's queue never runs
more than its limit of one kind of event, and /check keeps answering (a generous hang guard;
the bench reports the real latencies).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.server import QUEUE_CONCURRENCY, launch
from kmc_ui.settings import Settings
from tests.load import (
    FAST_POLL,
    LoadResult,
    PerUserKling,
    QueueSampler,
    history_problems,
    make_media,
    max_overlap,
    percentiles,
    run_load,
)
from tests.runstore import stored_records

USERS = 20
SECONDS = 40.0
CHECK_HANG_GUARD = 15.0  # seconds: the bench measures real latencies; this only catches a hang

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("load")
    media = make_media(work / "media", USERS)
    fake = PerUserKling(media).start()
    port = free_port()
    settings = Settings(
        backend="kling",
        kling_access_key=fake.access_key,
        kling_secret_key=fake.secret_key,
        kling_api_base=fake.base_url,
        public_base_url=f"http://127.0.0.1:{port}",
        allow_private_urls=True,
        data_dir=work / "data",
    )
    demo = launch(settings, block=False, poll=FAST_POLL, server_name="127.0.0.1", server_port=port, quiet=True)
    sampler = QueueSampler(demo)
    sampler.start()
    try:
        result = run_load(demo.local_url, media, work, users=USERS, duration=SECONDS, job_timeout=90.0)
        queue = sampler.stop()
        checks = [o.seconds for o in [*result.of("check"), *result.of("watch")]]
        print(  # shown with -s: the figures behind the asserts
            f"\nload: {len(result.of('generate'))} generates, {len(checks)} checks"
            f" in {result.ended - result.started:.0f} s;"
            f" /check {percentiles(checks)}; queue peaks {queue['peak_running']} waiting {queue['peak_waiting']}"
        )
        yield {"result": result, "queue": queue, "fake": fake, "settings": settings, "media": media}
    finally:
        sampler.stop_event.set()
        demo.close()
        fake.stop()


def failures(result: LoadResult, kind: str) -> list[str]:
    return [f"user {o.user}: {o.detail}" for o in result.of(kind) if not o.ok]


def test_every_generate_ends_in_the_users_own_result_or_a_clear_error(loaded: dict[str, Any]) -> None:
    result: LoadResult = loaded["result"]
    gens = result.of("generate")
    assert len(gens) == sum(len(u.submitted) for u in result.users)  # every submit has an answer
    assert len(gens) >= USERS * 2, f"too few rounds under load: {len(gens)}"
    assert not failures(result, "generate")
    assert {o.expected for o in gens} == {"success", "failure"}  # both kinds were exercised


def test_checks_answer_and_say_the_right_thing(loaded: dict[str, Any]) -> None:
    result: LoadResult = loaded["result"]
    assert not failures(result, "check")
    assert not failures(result, "watch")
    slowest = max(o.seconds for o in [*result.of("check"), *result.of("watch")])
    assert slowest < CHECK_HANG_GUARD


def test_history_holds_exactly_each_sessions_own_runs(loaded: dict[str, Any]) -> None:
    """Each session's History folder holds its own runs and nothing else; the provider saw each
    request once (no lost and no doubled submits)."""
    settings: Settings = loaded["settings"]
    assert history_problems(loaded["result"], settings.data_dir, loaded["media"], loaded["fake"]) == []


def test_queue_limit_is_respected(loaded: dict[str, Any]) -> None:
    queue = loaded["queue"]
    fake: PerUserKling = loaded["fake"]
    assert queue["readable"], "Gradio's queue internals moved: update tests/load.py QueueSampler"
    assert queue["limits"]["generate"] == QUEUE_CONCURRENCY
    assert queue["peak_running"]["generate"] <= QUEUE_CONCURRENCY
    assert queue["peak_running"]["check"] <= QUEUE_CONCURRENCY
    assert queue["peak_waiting"]["generate"] > 0  # the limit was really binding
    assert max_overlap(fake.task_spans()) <= QUEUE_CONCURRENCY  # seen from the provider too
    # Nothing left behind in the queue.
    assert all(v["running"] == 0 and v["waiting"] == 0 for v in queue["now"].values())


def test_prepared_and_downloads_stay_out_of_history(loaded: dict[str, Any]) -> None:
    """Runs keep their own copies of the inputs: pruning prepared/ never breaks History."""
    settings: Settings = loaded["settings"]
    for record in stored_records(settings.data_dir):
        folder = Path(settings.data_dir, "runs", record["owner"], record["run_id"])
        assert (folder / "inputs").is_dir()
        assert all(p.resolve().is_relative_to(folder.resolve()) for p in (folder / "inputs").iterdir())
