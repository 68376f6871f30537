"""More than one machine: two web apps and worker processes sharing PostgreSQL (the run store),
Redis (the run queue) and one data folder, all real processes and real services from Debian's
packages, started and stopped here.

Both apps serve pages only (KMC_WORKERS=0); a worker process drives the run. A run started through
app A is watched through app B by the same browser; the worker is killed with SIGKILL mid-run and
a second worker, started afterwards, finishes it: one task at the provider, one result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.fal import FakeFal, Scenario
from tests.raw_queue import call, config, generate_then_leave
from tests.runstore import free_port, postgres_missing, postgres_server, redis_missing, redis_server, stored_records

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kmc_ui", *args], cwd=REPO, env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


def wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            if httpx.get(f"{url}/config", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not start: {log.read_text(errors='replace')[-3000:]}")


def on_load(dep: dict[str, Any]) -> bool:
    return any(target[1] == "load" for target in dep.get("targets") or [])


def test_two_apps_and_workers_share_one_store_and_queue(
    fal_server: FakeFal, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    for missing in (postgres_missing(), redis_missing()):
        if missing:
            pytest.skip(missing)
    fal_server.reset()
    fal_server.scenario = Scenario(submitted_s=1.0, processing_s=8.0)
    data = tmp_path / "shared-data"
    with postgres_server() as database_url, redis_server() as queue_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KMC_", "FAL_", "KLING_", "REPLICATE_"))}
        env |= {
            "PYTHONPATH": str(REPO),
            "KMC_DATA_DIR": str(data),
            "KMC_DATABASE_URL": database_url,
            "KMC_QUEUE_URL": queue_url,
            "KMC_ALLOW_PRIVATE_URLS": "1",
            "KMC_LEASE_SECONDS": "4",
            "FAL_KEY": fal_server.key,
            "FAL_QUEUE_BASE": fal_server.base_url,
        }
        web = env | {"KMC_WORKERS": "0"}
        port_a, port_b = free_port(), free_port()
        a_url, b_url = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        with (
            process(
                ["serve", "--port", str(port_a)], web | {"GRADIO_SERVER_NAME": "127.0.0.1"}, tmp_path / "a.log"
            ) as a,
            process(
                ["serve", "--port", str(port_b)], web | {"GRADIO_SERVER_NAME": "127.0.0.1"}, tmp_path / "b.log"
            ) as b,
            process(["worker", "--threads", "2"], env, tmp_path / "w1.log") as w1,
        ):
            wait_up(a_url, a, tmp_path / "a.log")
            wait_up(b_url, b, tmp_path / "b.log")
            # One browser: its cookie (signed with the shared data folder's secret) is good at both apps.
            with httpx.Client(base_url=a_url, timeout=60) as browser:
                gen = generate_then_leave(  # the page on app A goes away once the task exists
                    browser, character_image, reference_video, "fal", lambda: fal_server.create_count > 0
                )
                deadline = time.monotonic() + 60
                while True:
                    (record,) = stored_records(data, database_url=database_url)
                    if record.get("task_id") and record["status"] in ("running", "queued", "submitted"):
                        break
                    assert time.monotonic() < deadline, record
                    time.sleep(0.2)
                w1.send_signal(signal.SIGKILL)  # the worker dies mid-run
                w1.wait(10)
                with process(["worker", "--threads", "2"], env, tmp_path / "w2.log"):
                    # The same browser opens app B: the page shows the run live, then its result.
                    browser.base_url = httpx.URL(b_url)
                    page_b = config(browser).dependencies
                    (watch,) = [d for d in page_b if on_load(d) and d["outputs"] == gen["outputs"]]
                    answer = call(browser, watch, [], timeout=120)
                    assert answer.success, answer.text()
                    status, _player, _download, shown, _pending = answer.outputs
                    assert "Done" in status, status
                    assert shown["status"] == "succeeded" and shown["run_id"] == record["run_id"]
                    progress = [m for m in answer.messages if m.get("msg") == "process_generating"]
                    assert progress, "app B showed no live progress before the result"
        (final,) = stored_records(data, database_url=database_url)
        assert final["status"] == "succeeded" and Path(final["output"]).is_file()
        assert fal_server.create_count == 1, "one run, one task at the provider"
        assert fal_server.requests_at("cancel") == []
        workers_log = (tmp_path / "w2.log").read_text(errors="replace")
        assert record["run_id"] in workers_log, workers_log[-2000:]  # the second worker picked it up
        assert json.dumps(final).count(fal_server.key) == 0
