"""History across an app restart, in a real Chromium: launch, run, stop the app, launch it again on
the same data folder and port: the browser finds its run and file; another browser sees nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, shots_dir
from tests.figures import make_character, make_dance
from tests.runstore import stored_records

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def history_text(page: Any, expect: str = "") -> str:
    """The History table after a refresh: once it shows `expect`, or after 1.5 s when nothing is expected."""
    page.get_by_role("tab", name="History").click()
    page.click("#kmc-history-refresh")
    if expect:
        page.wait_for_function(
            "t => document.querySelector('#kmc-history-table').innerText.includes(t)", arg=expect, timeout=30000
        )
    else:
        page.wait_for_timeout(1500)
    return page.inner_text("#kmc-history-table")


def test_history_survives_an_app_restart_and_stays_private(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    data, port = tmp_path / "data", free_port()
    image = make_character(tmp_path / "character.png")
    clip = make_dance(tmp_path / "dance.mp4", seconds=3.1)
    shots = shots_dir("browser-restart")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        mine = browser.new_context(viewport={"width": 1400, "height": 1600})
        page = mine.new_page()

        demo = launch(Settings(data_dir=data), block=False, server_name="127.0.0.1", server_port=port, quiet=True)
        try:
            page.goto(demo.local_url)
            page.locator("#kmc-image input[type=file]").set_input_files(str(image))
            page.locator("#kmc-video input[type=file]").set_input_files(str(clip))
            page.wait_for_function("document.querySelector('#kmc-video-findings .kmc-ok, #kmc-video-findings li')")
            page.click("#kmc-generate")
            page.wait_for_function(
                "document.querySelector('#kmc-status').innerText.includes('Done')", timeout=180000, polling=500
            )
        finally:
            demo.close()
        records = stored_records(data)
        outputs = list((data / "runs").glob("*/*/output.mp4"))
        assert len(records) == 1 and len(outputs) == 1

        demo = launch(Settings(data_dir=data), block=False, server_name="127.0.0.1", server_port=port, quiet=True)
        try:
            page.reload()
            table = history_text(page, expect="Finished")
            assert "Finished" in table and records[0]["run_id"] in table
            page.screenshot(path=str(shots / "1-after-restart.png"), full_page=True)
            other = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            other.goto(demo.local_url)
            assert records[0]["run_id"] not in history_text(other)
            other.screenshot(path=str(shots / "2-other-browser.png"), full_page=True)
        finally:
            demo.close()
        browser.close()
    assert outputs[0].is_file()  # the result file is still on disk after both runs of the app
