"""A text file renamed .mp4, uploaded in a real Chromium (English and Chinese): the page says what is
wrong with the motion video and how to fix it, and no errno text, temporary path or exception name
appears anywhere on it; the finding stays inside its box."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.settings import Settings
from kmc_ui.ui.scrub import leaks
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, shots_dir
from tests.figures import make_character

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from kmc_ui.server import launch

    data = tmp_path_factory.mktemp("visitor-page") / "data"
    demo = launch(Settings(data_dir=data), block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield demo.local_url, data
    demo.close()


@pytest.mark.parametrize(("locale", "wrong"), [("en-US", "Motion video"), ("zh-CN", "动作视频")])
def test_a_text_file_renamed_mp4_says_what_is_wrong_and_nothing_internal(
    app: tuple[str, Path], tmp_path: Path, locale: str, wrong: str
) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    url, data = app
    image = make_character(tmp_path / "character.png")
    notes = tmp_path / "notes.mp4"
    notes.write_text("a text file renamed .mp4\n" * 40)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page: Any = browser.new_page(locale=locale, viewport={"width": 1440, "height": 900})
        page.goto(url)
        page.locator("#kmc-image input[type=file]").set_input_files(str(image))
        page.locator("#kmc-video input[type=file]").set_input_files(str(notes))
        page.wait_for_function("document.querySelector('#kmc-video-findings li.kmc-error')", timeout=60000, polling=200)
        # the body checks answer too (their "skipped" hint once quoted FFmpeg's errno and the temp path)
        page.wait_for_function("!document.querySelector('#kmc-findings .kmc-pending')", timeout=90000, polling=250)
        page.wait_for_timeout(1000)
        findings = page.inner_text("#kmc-video-findings")
        assert wrong in findings, findings
        shown = page.inner_text("body")
        assert not leaks(shown, str(data), str(tmp_path)), leaks(shown, str(data), str(tmp_path))
        assert "Error:" not in shown.replace("Error: Motion", "")  # no "SomethingError: ..." text
        wide = page.evaluate(
            "[...document.querySelectorAll('.kmc-findings li')].filter(li => li.scrollWidth > li.clientWidth + 1)"
            ".length"
        )
        assert wide == 0  # nothing overflows its box
        page.screenshot(path=str(shots_dir("browser-visitor-text") / f"{locale}.png"), full_page=True)
        browser.close()
