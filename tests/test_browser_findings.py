"""The findings and skeleton previews in a real Chromium: no Gradio "processing" timer ever flashes
inside the findings boxes (neither on upload nor when the body check's answer arrives), and replacing
only the motion clip keeps the character's skeleton preview on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.settings import Settings
from tests.browser import shots_dir, studio_in_chromium
from tests.figures import make_character, make_dance

pytestmark = pytest.mark.browser

BOXES = ("#kmc-image-findings", "#kmc-video-findings")

# Every 100 ms for `ms`: what of Gradio's loading status showed inside the findings boxes at any sample:
# a progress timer, an ETA bar or a progress level that is rendered (it has a box; a faded-out one
# counts too: a screen reader and the page's text still find it), or a "processing" text.
SAMPLE_PROGRESS = """([boxes, ms]) => new Promise(done => {
    const seen = new Set();
    const look = () => {
        for (const sel of boxes) {
            const box = document.querySelector(sel);
            if (!box) continue;
            for (const el of box.querySelectorAll('.progress-text, .eta-bar, .progress-level, .loader')) {
                if (el.getClientRects().length) seen.add(sel + ': ' + el.className.replace(/svelte-\\w+/g, '').trim());
            }
            if (/processing|queue:/i.test(box.innerText || '')) seen.add(sel + ': processing');
        }
    };
    const every = setInterval(look, 100);
    setTimeout(() => { clearInterval(every); look(); done([...seen]); }, ms);
})"""

PREVIEW_SHOWN = """() => { const img = document.querySelector('#kmc-character-skeleton img');
    return !!img && !!img.getAttribute('src') && img.complete && img.naturalWidth > 0; }"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("findings") / "data"
    with studio_in_chromium(lambda port: Settings(data_dir=data)) as page:
        yield page


def body_settled(page: Any) -> None:
    """The body check's answer for the current inputs is on the page (no "on its way" note)."""
    page.wait_for_function(
        "document.querySelector('#kmc-video-findings .kmc-ok, #kmc-video-findings li')"
        " && document.querySelector('#kmc-findings') && !document.querySelector('#kmc-findings .kmc-pending')",
        timeout=120000,
        polling=100,
    )


def test_no_processing_timer_flashes_in_the_findings(page: Any, tmp_path: Path) -> None:
    image = make_character(tmp_path / "character.png")
    clip = make_dance(tmp_path / "dance.mp4", seconds=3.0)
    page.locator("#kmc-image input[type=file]").set_input_files(str(image))
    page.locator("#kmc-video input[type=file]").set_input_files(str(clip))
    # From the uploads on, through the limit findings and the body check's answer (2-4 s later).
    seen = page.evaluate(SAMPLE_PROGRESS, [list(BOXES), 6000])
    assert seen == [], f"a progress timer showed inside the findings: {seen}"
    body_settled(page)
    page.screenshot(path=str(shots_dir("browser-findings") / "1-settled.png"), full_page=True)


def test_replacing_the_clip_keeps_the_character_preview(page: Any, tmp_path: Path) -> None:
    page.reload()
    image = make_character(tmp_path / "character.png")
    first = make_dance(tmp_path / "first.mp4", seconds=3.0)
    second = make_dance(tmp_path / "second.mp4", seconds=2.4, fps=20)
    page.locator("#kmc-image input[type=file]").set_input_files(str(image))
    page.locator("#kmc-video input[type=file]").set_input_files(str(first))
    page.wait_for_function(PREVIEW_SHOWN, timeout=120000, polling=100)
    page.wait_for_function("document.querySelector('#kmc-motion-skeleton video')", timeout=120000, polling=100)
    body_settled(page)

    # Only the motion clip changes: the character (and its skeleton) is the same, so its preview
    # stays on the page throughout (sampled every 100 ms), through the clip's removal and the new check.
    page.evaluate(
        """preview => { window.kmcEmpty = 0;
            window.kmcWatch = setInterval(() => { if (!eval(preview)()) window.kmcEmpty++; }, 100); }""",
        PREVIEW_SHOWN,
    )
    page.locator("#kmc-video button[aria-label='Clear']").click()
    page.wait_for_function("!document.querySelector('#kmc-video-findings').innerText.trim()", timeout=30000)
    page.wait_for_timeout(4000)  # a visitor picking the next clip: the check of the picture alone answers
    page.locator("#kmc-video input[type=file]").set_input_files(str(second))
    page.wait_for_function(
        "document.querySelector('#kmc-findings').innerText.includes('2.40 s')", timeout=120000, polling=100
    )
    body_settled(page)
    page.wait_for_timeout(1500)  # any late answer for the clip's way out (the cleared video)
    empty = page.evaluate("clearInterval(window.kmcWatch), window.kmcEmpty")
    shots = shots_dir("browser-findings")
    page.screenshot(path=str(shots / "2-clip-replaced.png"), full_page=True)
    assert page.evaluate(PREVIEW_SHOWN), "the character's skeleton preview went empty"
    assert empty == 0, f"the character's skeleton preview was empty for {empty} samples of 100 ms"
    assert page.locator("#kmc-motion-skeleton video").count() == 1
