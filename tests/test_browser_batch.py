"""The Batch tab in a real Chromium, offline engine: two characters, one motion. The results show
labelled as soon as they exist, the batch says its motion reports are still running while they are,
and says it is complete only when every report is ready."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, shots_dir
from tests.figures import make_character, make_dance

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_batch_says_done_only_when_its_reports_are_and_labels_its_results(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    first = make_character(tmp_path / "alice.png")
    second = make_character(tmp_path / "bob.png", width=400, height=700)
    clip = make_dance(tmp_path / "dance.mp4", seconds=3.1)
    demo = launch(
        Settings(data_dir=tmp_path / "data"), block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True
    )
    seen: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(demo.local_url)
            page.get_by_role("tab", name="Batch").click()
            page.locator("#kmc-b-img input[type=file]").set_input_files([str(first), str(second)])
            page.locator("#kmc-b-vid input[type=file]").set_input_files([str(clip)])
            page.click("#kmc-b-run")
            page.wait_for_function(
                "document.querySelector('#kmc-b-status').innerText.includes('Motion reports still running')",
                timeout=400000,
                polling=200,
            )
            seen.append(page.inner_text("#kmc-b-status"))
            assert "✅" not in seen[-1]
            # The results are there already, each labelled with its item.
            page.wait_for_function(
                "document.querySelectorAll('#kmc-b-gallery .caption-label, #kmc-b-gallery figcaption, "
                "#kmc-b-gallery [class*=caption]').length >= 1",
                timeout=30000,
            )
            captions = page.inner_text("#kmc-b-gallery")
            assert "alice.png" in captions, captions
            page.wait_for_function(
                "document.querySelector('#kmc-b-status').innerText.includes('Every motion report is ready')",
                timeout=400000,
                polling=500,
            )
            final = page.inner_text("#kmc-b-status")
            assert final.startswith("✅") and "2 done" in final, final
            page.screenshot(path=str(shots_dir("browser-batch") / "1-batch-done.png"), full_page=True)
            assert page.inner_text("#kmc-b-reports").count("Motion agreement") == 2
            table = page.inner_text("#kmc-b-table")
            assert "Result and motion report ready." in table, table
            browser.close()
    finally:
        demo.close()
