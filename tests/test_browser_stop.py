"""Stop in a real Chromium, against the loopback fake of Kling's official API: a running
generation, a resume from History, a generation still waiting in the queue, and a batch.

Each Stop must leave the page saying what happened to the task, and nothing may overwrite that
afterwards (with Gradio's `cancels=` a late progress line did, in 1 Stop of 4)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, shots_dir
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling, Scenario
from tests.runstore import stored_records

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.browser

FOREVER = Scenario(processing_s=3600)  # the provider never finishes unless a test says so
STATUS = "#kmc-status"


@pytest.fixture(scope="module")
def app(kling_server: FakeKling, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, str]]:
    """The app with one generation at a time (so a second page's generation waits in the queue)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    import kmc_ui.server
    from kmc_ui.server import launch

    port = free_port()
    data = tmp_path_factory.mktemp("stop") / "data"
    settings = kling_app_settings(kling_server, f"http://127.0.0.1:{port}", data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kmc_ui.server, "QUEUE_CONCURRENCY", 1)
        demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser, data, demo.local_url
        browser.close()
    demo.close()


@pytest.fixture
def provider(kling_server: FakeKling) -> FakeKling:
    """The fake Kling, fresh, never finishing a task unless a test says so."""
    kling_server.reset()
    kling_server.scenario = FOREVER
    return kling_server


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(url)
    page.get_by_role("button", name="Generate").wait_for(timeout=20000)
    return page


def load_inputs(page: Any, image: Path, video: Path) -> None:
    page.locator("#kmc-image input[type=file]").set_input_files(str(image))
    page.locator("#kmc-video input[type=file]").set_input_files(str(video))
    page.wait_for_function("document.querySelector('#kmc-video-findings .kmc-ok, #kmc-video-findings li')")


def wait_text(page: Any, selector: str, text: str, timeout: float = 30000) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel) && document.querySelector(sel).innerText.includes(text)",
        arg=[selector, text],
        timeout=timeout,
        polling=100,
    )


def stays(page: Any, selector: str, text: str, ms: int = 2000) -> None:
    """`text` is still shown after `ms`: nothing overwrote it."""
    page.wait_for_timeout(ms)
    assert text in page.inner_text(selector), page.inner_text(selector)


def records(data: Path) -> list[dict[str, Any]]:
    return stored_records(data)


def test_stop_a_generation_then_resume_and_stop_again_then_finish(
    app: tuple[Any, Path, str], provider: FakeKling, character_image: Path, reference_video: Path
) -> None:
    browser, data, url = app
    shots = shots_dir("browser-stop")
    page = open_page(browser, url)
    try:
        load_inputs(page, character_image, reference_video)
        page.click("#kmc-generate")
        wait_text(page, STATUS, "Task id")  # accepted by the provider and on disk
        page.click("#kmc-stop")
        wait_text(page, STATUS, "No longer waiting; task")
        stays(page, STATUS, "keeps running at Kling")
        page.screenshot(path=str(shots / "1-generation-stopped.png"), full_page=True)
        assert provider.create_count == 1
        (record,) = [r for r in records(data) if r.get("task_id")][-1:]
        assert record["status"] == "stopped_waiting"
        assert record["task_id"] in page.inner_text(STATUS)

        # History: resume it (no second submit), stop again, then let the provider finish and resume.
        page.get_by_role("tab", name="History").click()
        page.click("#kmc-history-refresh")
        wait_text(page, "#kmc-history-table", "No longer watched; the task may still be running")
        wait_text(page, "#kmc-history-status", "can be resumed")
        page.click("#kmc-history-resume")
        wait_text(page, "#kmc-history-status", "Generating")
        page.click("#kmc-history-stop")
        wait_text(page, "#kmc-history-status", "No longer waiting; task")
        stays(page, "#kmc-history-status", "No longer waiting; task")
        page.screenshot(path=str(shots / "2-resume-stopped.png"), full_page=True)

        task = provider.task_by_external(record["run_id"])
        task.scenario = replace(task.scenario, processing_s=0.0)  # the provider finishes now
        page.click("#kmc-history-resume")
        wait_text(page, "#kmc-history-status", "Done", timeout=60000)
        assert provider.create_count == 1  # resumed twice, paid once
        done = next(r for r in records(data) if r["run_id"] == record["run_id"])
        assert done["status"] == "succeeded" and Path(done["output"]).is_file()
    finally:
        page.close()


def test_stop_a_generation_waiting_in_the_queue_sends_nothing(
    app: tuple[Any, Path, str], provider: FakeKling, character_image: Path, reference_video: Path
) -> None:
    browser, _data, url = app
    first, second = open_page(browser, url), open_page(browser, url)
    try:
        load_inputs(first, character_image, reference_video)
        load_inputs(second, character_image, reference_video)
        first.click("#kmc-generate")
        wait_text(first, STATUS, "Task id")  # holds the only generation slot
        second.click("#kmc-generate")
        wait_text(second, STATUS, "queue")  # Gradio's queue position: it has not started
        second.click("#kmc-stop")
        wait_text(second, STATUS, "Stopped before it started: nothing was sent.")
        first.click("#kmc-stop")  # frees the slot: the second page's job starts and ends at once
        wait_text(first, STATUS, "No longer waiting; task")
        wait_text(second, STATUS, "Nothing was sent, so nothing was charged.")
        stays(second, STATUS, "Nothing was sent")
        second.screenshot(path=str(shots_dir("browser-stop") / "3-queued-stopped.png"), full_page=True)
        assert provider.create_count == 1
    finally:
        first.close()
        second.close()


def test_stop_a_batch(
    app: tuple[Any, Path, str], provider: FakeKling, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    from tests.media_factory import make_image

    browser, _data, url = app
    other = make_image(tmp_path / "other.png", 600, 900, fmt="PNG")
    page = open_page(browser, url)
    try:
        page.get_by_role("tab", name="Batch").click()
        page.locator("#kmc-b-img input[type=file]").set_input_files([str(character_image), str(other)])
        page.locator("#kmc-b-vid input[type=file]").set_input_files([str(reference_video)])
        page.click("#kmc-b-run")
        wait_text(page, "#kmc-b-status", "⏳", timeout=60000)
        page.click("#kmc-b-stop")
        wait_text(page, "#kmc-b-status", "Batch stopped: items not started were not sent.")
        stays(page, "#kmc-b-status", "Batch stopped")
        page.screenshot(path=str(shots_dir("browser-stop") / "4-batch-stopped.png"), full_page=True)
        assert provider.create_count <= 2
    finally:
        page.close()


def test_a_reloaded_page_shows_its_run_live_then_its_result(
    app: tuple[Any, Path, str], provider: FakeKling, character_image: Path, reference_video: Path
) -> None:
    """Runs belong to the server: reloading the page during a run changes nothing for the run, and the
    new page (same browser) shows its progress live, then the result, and History lists it."""
    browser, data, url = app
    provider.scenario = Scenario(submitted_s=0.5, processing_s=8.0)
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    try:
        page.goto(url)
        load_inputs(page, character_image, reference_video)
        page.click("#kmc-generate")
        wait_text(page, STATUS, "Task id")
        page.reload()
        wait_text(page, STATUS, "Task id")  # the reopened page follows the same run
        wait_text(page, STATUS, "Done", timeout=60000)
        page.screenshot(path=str(shots_dir("browser-stop") / "4-reloaded-run-done.png"), full_page=True)
        assert provider.create_count == 1 and provider.requests_at("cancel") == []
        record = records(data)[-1]  # the newest run
        assert record["status"] == "succeeded" and Path(record["output"]).is_file()
        page.get_by_role("tab", name="History").click()
        page.click("#kmc-history-refresh")
        wait_text(page, "#kmc-history-table", record["run_id"])
    finally:
        context.close()
