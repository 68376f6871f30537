"""Stored and reflected XSS in a real Chromium: script-bearing prompts, file names and URLs go
through every place the page shows user text (findings, facts, the side-by-side player's
description and labels, the URL fetch note, History, Batch's plan), and nothing runs.

Each payload would set `window.__kmc_xss` (or call alert) if the browser ran it; the page must
show the text instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import shots_dir, studio_in_chromium
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling
from tests.media_factory import make_video

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.browser

PROMPT = '<img src=x onerror="window.__kmc_xss=\'prompt\'"><script>window.__kmc_xss="script"</script> "quoted"'
IMAGE_NAME = '"><img src=x onerror=window.__kmc_xss=7>.png'
VIDEO_NAME = "<svg onload=window.__kmc_xss=8>.mp4"
URL = "http://<img src=x onerror=window.__kmc_xss=9>/a.mp4"
TRAP = "window.__kmc_xss = undefined; window.alert = (m) => { window.__kmc_xss = 'alert:' + m; };"


@pytest.fixture(scope="module")
def page(kling_server: FakeKling, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("xss") / "data"
    with studio_in_chromium(lambda port: kling_app_settings(kling_server, f"http://127.0.0.1:{port}", data), TRAP) as p:
        yield p


def ran(page: Any) -> Any:
    return page.evaluate("window.__kmc_xss")


def wait_text(page: Any, selector: str, text: str, timeout: int) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s) || {}).innerText?.includes(t)", arg=[selector, text], timeout=timeout
    )


def text_of(page: Any, selector: str) -> str:
    return page.evaluate(f"(document.querySelector('{selector}') || {{}}).innerText || ''")


def test_the_detector_catches_a_payload_that_does_run(page: Any) -> None:
    """Positive control: the same payload put into the DOM unescaped does run and is seen."""
    page.evaluate(
        "(h) => { const d = document.createElement('div'); d.innerHTML = h; document.body.append(d); }",
        PROMPT,
    )
    page.wait_for_function("window.__kmc_xss !== undefined", timeout=5000)
    page.evaluate("window.__kmc_xss = undefined; document.body.lastElementChild.remove()")


def test_user_text_never_runs_anywhere_on_the_page(
    page: Any, kling_server: FakeKling, character_image: Path, reference_video: Path, tmp_path: Path
) -> None:
    kling_server.reset()
    image = Path(shutil.copy(character_image, tmp_path / IMAGE_NAME))
    # 11 s with orientation `image` (at most 10 s): the clip is trimmed, so "What will be sent" shows.
    video = make_video(tmp_path / VIDEO_NAME, 640, 360, seconds=11.0, fps=12)
    shots = shots_dir("browser-xss")

    # A pasted URL that is not one: the note quotes it as text.
    page.fill("#kmc-video-url textarea, #kmc-video-url input", URL)
    page.click("#kmc-fetch")
    wait_text(page, "#kmc-fetch-note", "Video URL", 30000)
    assert ran(page) is None

    # Hostile file names and prompt: findings, facts, what will be sent.
    page.locator("#kmc-image input[type=file]").set_input_files(str(image))
    page.locator("#kmc-video input[type=file]").set_input_files(str(video))
    page.fill("#kmc-prompt textarea", PROMPT)
    page.locator("#kmc-prompt textarea").blur()
    wait_text(page, "#kmc-findings", "px", 60000)
    page.get_by_label("image: keep the picture's orientation, up to 10 s").check()
    page.wait_for_selector("#kmc-prepare", state="visible", timeout=60000)
    page.click("#kmc-prepare")
    wait_text(page, "#kmc-prepared-info", "Sent", 60000)
    assert ran(page) is None

    # Generate through the fake official API: the player describes the result with the prompt.
    page.click("#kmc-generate")
    page.wait_for_function("(document.querySelector('#kmc-status')||{}).innerText?.includes('Done')", timeout=90000)
    page.wait_for_function(
        "(document.querySelector('#kmc-player .kmc-desc')||{}).innerText?.includes('onerror')", timeout=30000
    )
    description = text_of(page, "#kmc-player .kmc-desc")
    assert "<img src=x onerror=" in description and "<script>" in description  # shown as text
    injected = page.locator("#kmc-player .kmc-sync img, #kmc-player .kmc-sync script, #kmc-player .kmc-sync svg")
    assert injected.count() == 0, page.inner_html("#kmc-player")[:3000]
    aria = page.get_attribute("#kmc-player video.kmc-out", "aria-label") or ""
    assert "onerror" in aria and '"quoted"' in aria  # the attribute holds the whole text, quotes and all
    page.wait_for_function(
        "(document.querySelector('#kmc-report')||{}).innerText?.length > 0", timeout=120000
    )  # the report re-renders the player with the same description
    page.screenshot(path=str(shots / "1-studio.png"), full_page=True)
    assert ran(page) is None

    # History: the run opens with its record; Batch: the plan lists the hostile file names.
    page.get_by_role("tab", name="History").click()
    page.wait_for_function(
        "(document.querySelector('#kmc-history-table')||{}).innerText?.includes('Finished')", timeout=30000
    )
    page.get_by_role("tab", name="Batch").click()
    page.locator("#kmc-b-img input[type=file]").set_input_files(str(image))
    page.locator("#kmc-b-vid input[type=file]").set_input_files(str(video))
    page.click("#kmc-b-plan")
    page.wait_for_function("(document.querySelector('#kmc-b-plan-out')||{}).innerText?.includes('.png')", timeout=60000)
    assert "img src=x onerror=window.__kmc_xss=7" in text_of(page, "#kmc-b-plan-out")  # the name, as text
    page.screenshot(path=str(shots / "2-batch.png"), full_page=True)
    page.wait_for_timeout(500)
    assert ran(page) is None
