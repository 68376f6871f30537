"""A run in words (History and Batch): status sentences in English and Chinese, and only the actions
that make sense for each status."""

from __future__ import annotations

import time

import pytest

from kmc_ui.history import run_actions, status_sentence, when_text
from kmc_ui.ui.scrub import leaks

NOW = time.mktime((2026, 12, 2, 14, 3, 0, 0, 0, -1))
FILES = {"image": "/srv/data/runs/o/r/image.png", "video": "/srv/data/runs/o/r/video.mp4"}


def record(status: str, provider: str = "local", **more: object) -> dict[str, object]:
    return {
        "run_id": "20261202-140300-abcd1234",
        "status": status,
        "provider": provider,
        "created_at": NOW - 60,
        "finished_at": NOW,
        "settings": {"tier": "std", "orientation": "video", "model": "v2.6"},
        "inputs": FILES,
        **more,
    }


def test_a_finished_run_reads_as_a_sentence() -> None:
    r = record("succeeded", result_duration=5.0, output="/srv/data/runs/o/r/output.mp4", task_id="local-1")
    assert status_sentence(r) == "Finished 2 Dec 14:03 — 5 s, Standard 720p, offline preview"
    assert status_sentence(r, "zh") == "12月2日 14:03 完成 — 5 秒，标准 720p，离线预览"
    assert when_text(NOW, "en", now=NOW + 400 * 86400) == "2 Dec 2026 14:03"  # another year: said


@pytest.mark.parametrize(
    ("status", "provider", "task", "en"),
    [
        ("canceled", "local", "local-1", "Stopped by you; the task was cancelled, so there is no result"),
        ("stopped", "kling", "", "Stopped by you before anything was sent"),
        ("stopped_waiting", "kling", "t1", "No longer watched; the task may still be running at Kling"),
        ("download_failed", "fal", "t1", "Finished at fal.ai, but the result could not be downloaded"),
        ("running", "kling2", "t1", "Running at Kling API 2.0 since"),
        ("queued", "kling", "", "Waiting for its turn"),
        ("failed", "replicate", "t1", "Failed 2 Dec 14:03"),
    ],
)
def test_every_status_is_a_sentence_in_both_languages(status: str, provider: str, task: str, en: str) -> None:
    r = record(status, provider, task_id=task)
    said = status_sentence(r)
    assert said.startswith(en), said
    assert status not in said.split()  # never the bare status word
    zh = status_sentence(r, "zh")
    assert zh and zh != said and not leaks(zh) and not leaks(said)


def test_only_the_actions_that_fit_the_run_are_offered() -> None:
    done_offline = run_actions(record("succeeded", output="/x/output.mp4", task_id="local-1"))
    assert done_offline == {"resume": False, "stop": False, "rerun": True, "delete": True, "download": True}
    cancelled_offline = run_actions(record("canceled", task_id="local-1"))
    assert not cancelled_offline["resume"] and not cancelled_offline["stop"] and cancelled_offline["delete"]
    cancelled_hosted = run_actions(record("canceled", "kling", task_id="t1"))
    assert not cancelled_hosted["resume"]
    finished_hosted = run_actions(record("succeeded", "kling", task_id="t1", output="/x/output.mp4"))
    assert not finished_hosted["resume"]
    for status in ("stopped_waiting", "download_failed", "running", "submit_uncertain"):
        assert run_actions(record(status, "kling", task_id="t1"))["resume"], status
    assert not run_actions(record("stopped_waiting", "local", task_id="local-1"))["resume"]
    assert not run_actions(record("running", "kling", task_id="t1"))["delete"]  # not while it goes on
    assert not any(run_actions(None).values())
