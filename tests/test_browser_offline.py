"""The offline default in a real Chromium: no keys, generate on the CPU engine, both videos side by
side and playing, the motion-agreement report, Stop a running job, reload and find the run in History."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.media.probe import probe_video
from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, playing_together, shots_dir
from tests.figures import make_character, make_dance
from tests.runstore import stored_records

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def offline_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    data = tmp_path_factory.mktemp("offline") / "data"
    settings = Settings(data_dir=data)  # no keys at all: the offline engine is the default
    assert settings.backend == "local"
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        page.goto(demo.local_url)
        yield page, data
        browser.close()
    demo.close()


def status_text(page: Any) -> str:
    return page.inner_text("#kmc-status")


def test_offline_generate_stop_reload_history(offline_page: tuple[Any, Path], tmp_path: Path) -> None:
    page, data = offline_page
    shots = shots_dir("browser-offline")
    image = make_character(tmp_path / "character.png")
    clip = make_dance(tmp_path / "dance.mp4", seconds=3.2)

    page.locator("#kmc-image input[type=file]").set_input_files(str(image))
    page.locator("#kmc-video input[type=file]").set_input_files(str(clip))
    page.wait_for_function("document.querySelector('#kmc-video-findings .kmc-ok, #kmc-video-findings li')")
    assert "prompt" in page.inner_text("#kmc-backend-info").lower()  # says the prompt is not used offline

    # Generate on the engine: the frames drawn show in the result's place while it renders (the
    # first within a second of the render starting), then the result plays beside the reference
    # and the report arrives.
    page.evaluate(
        """() => { window.kmcPoster = ''; new MutationObserver(() => {
            const v = document.querySelector('#kmc-player video.kmc-out');
            const status = document.querySelector('#kmc-status').innerText;
            if (v && v.getAttribute('poster') && !window.kmcPoster)
                window.kmcPoster = v.getAttribute('poster') + '|' + status;
        }).observe(document.querySelector('#kmc-player'), {subtree: true, attributes: true, childList: true}); }"""
    )
    page.click("#kmc-generate")
    page.wait_for_function(
        "document.querySelector('#kmc-status').innerText.includes('Done')", timeout=180000, polling=500
    )
    poster, _, status_then = page.evaluate("window.kmcPoster").partition("|")
    assert poster.startswith("/gradio_api/file=") and poster.endswith(".jpg"), poster
    assert "Done" not in status_then, status_then  # shown while rendering, before the result
    got = page.request.get(page.url.rstrip("/") + poster)
    assert got.ok and got.body()[:2] == b"\xff\xd8"  # a JPEG frame
    assert page.get_attribute("#kmc-player video.kmc-out", "poster") == ""  # the result replaced it
    page.wait_for_function(
        """[...document.querySelectorAll('#kmc-player video')].every(v => v.readyState >= 2)""", timeout=30000
    )
    assert "preview-quality puppet" in page.inner_text("#kmc-player")
    # While the report is measured its progress shows on the report alone: the result is not greyed out.
    covered = """sel => { const el = document.querySelector(sel); const box = el.closest('.block') || el;
        return box.classList.contains('pending') || !!box.querySelector('.eta-bar, .progress-text'); }"""
    if not page.evaluate("document.querySelector('#kmc-report').innerText.includes('Motion agreement')"):
        assert page.evaluate(covered, "#kmc-report")  # the detector sees a pending output (positive control)
        assert not page.evaluate(covered, "#kmc-player")
        page.click("#kmc-player .kmc-play")  # and it plays at once
        page.wait_for_function("[...document.querySelectorAll('#kmc-player video')].some(v => !v.paused)", timeout=5000)
        page.click("#kmc-player .kmc-play")
    page.wait_for_function(
        "document.querySelector('#kmc-report').innerText.includes('Motion agreement')", timeout=120000
    )
    page.click("#kmc-player .kmc-play")
    page.wait_for_function(playing_together("#kmc-player"), timeout=10000, polling=50)
    page.click("#kmc-player .kmc-play")  # pause: both stop on the same frame
    times = page.evaluate("[...document.querySelectorAll('#kmc-player video')].map(v => v.currentTime)")
    assert times[0] > 0.2 and abs(times[0] - times[1]) < 0.05, times
    page.screenshot(path=str(shots / "1-offline-result.png"), full_page=True)

    # Export reference | result as one video (one ffmpeg filter graph), probed.
    page.get_by_text("Export a comparison video").click()
    page.click("#kmc-export")
    page.wait_for_function(
        "document.querySelector('#kmc-export-file') && document.querySelector('#kmc-export-file a')", timeout=60000
    )
    exports = list((data / "runs").glob("*/*/comparison.mp4"))
    assert len(exports) == 1
    info = probe_video(exports[0])
    assert info.codec == "h264" and info.pix_fmt == "yuv420p" and info.has_audio
    assert info.width > info.height  # two portrait panels side by side

    # Stop a running job: the page says so at once and the run is recorded as stopped/canceled.
    page.click("#kmc-generate")
    page.wait_for_function(
        "['Rendering', 'Queued at', 'Generating', 'Running', 'Waiting for Offline']"  # the render has a task
        ".some(w => document.querySelector('#kmc-status').innerText.includes(w))",
        timeout=60000,
        polling=200,
    )
    page.click("#kmc-stop")
    page.wait_for_function("document.querySelector('#kmc-status').innerText.includes('Stopped')", timeout=30000)
    page.wait_for_timeout(1500)  # nothing overwrites it afterwards
    assert "cancelled task local-" in status_text(page), status_text(page)
    page.screenshot(path=str(shots / "2-stopped.png"), full_page=True)

    # Reload: the runs are still there, in this browser's History.
    page.reload()
    page.get_by_role("tab", name="History").click()
    page.click("#kmc-history-refresh")
    page.wait_for_function("document.querySelector('#kmc-history-table').innerText.includes('Finished')", timeout=20000)
    table = page.inner_text("#kmc-history-table")
    assert "offline preview" in table and "Stopped by you; the task was cancelled" in table, table
    assert "canceled" not in table and "succeeded" not in table  # sentences, not bare status words
    page.screenshot(path=str(shots / "3-history-after-reload.png"), full_page=True)
    records = stored_records(data)
    assert len(records) == 2
    assert sorted(r["status"] for r in records) == ["canceled", "succeeded"]

    # The newest run (the cancelled one) opens by itself: in words, with only the actions that fit.
    page.wait_for_function(
        "document.querySelector('#kmc-history-status').innerText.includes('Stopped by you')", timeout=20000
    )
    assert not page.locator("#kmc-history-resume").is_visible()  # an offline task cannot be fetched again
    assert not page.locator("#kmc-history-stop").is_visible()
    assert page.locator("#kmc-history-rerun").is_visible() and page.locator("#kmc-history-delete").is_visible()
    summary = page.inner_text("#kmc-history-record")
    assert "Settings" in summary and "Run id" in summary, summary
    assert "{" not in summary and str(data) not in summary and "/tmp/" not in summary, summary

    # The finished run reopened: its result plays and its motion report is there, no Resume offered.
    page.click("#kmc-history-pick input")
    page.get_by_role("option").filter(has_text="Finished").first.click()
    page.wait_for_function(
        "document.querySelector('#kmc-history-report').innerText.includes('Motion agreement')", timeout=120000
    )
    page.wait_for_function(
        """[...document.querySelectorAll('#kmc-history-player video')].every(v => v.readyState >= 2)""",
        timeout=30000,
    )
    assert "Finished" in page.inner_text("#kmc-history-status")
    assert not page.locator("#kmc-history-resume").is_visible()
    assert ".mp4" in page.inner_text("#kmc-history-record")  # files by their names
    page.screenshot(path=str(shots / "4-history-reopened.png"), full_page=True)
