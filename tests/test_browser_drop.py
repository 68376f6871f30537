"""A text file dropped (or chosen) on the character image box, in a real Chromium: one toast that
names the file and what the box takes, nothing else (a visitor reported the same toast twice), and
the box stays empty with no finding for a file that never arrived."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmc_ui.settings import Settings
from tests.browser import studio_in_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOASTS = "[...document.querySelectorAll('[data-testid=toast-body]')].map(e => e.innerText.replace(/\\s+/g, ' '))"
# A drop as the browser delivers it: dragenter, dragover, drop with the file in a DataTransfer.
DROP = """sel => { const target = document.querySelector(sel);
    const dt = new DataTransfer(); dt.items.add(new File(['hello'], 'notes.txt', {type: 'text/plain'}));
    for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt})); } }"""


def test_a_text_file_on_the_image_box_gives_one_toast(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with studio_in_chromium(lambda port: Settings(data_dir=tmp_path / "data")) as page:
        page.wait_for_selector("#kmc-generate")
        for give in ("drop", "choose"):
            if give == "drop":
                page.evaluate(DROP, "#kmc-image button")
            else:
                page.locator("#kmc-image input[type=file]").set_input_files(str(text))
            page.wait_for_function(f"{TOASTS}.length > 0", timeout=10000)
            page.wait_for_timeout(2000)  # a second toast would come within this
            toasts = page.evaluate(TOASTS)
            assert len(toasts) == 1, (give, toasts)
            assert "notes.txt" in toasts[0] and "image" in toasts[0], (give, toasts)
            assert page.inner_text("#kmc-image-findings").strip() == "", give  # nothing arrived, nothing checked
            page.locator("[data-testid=toast-close]").first.click()
            page.wait_for_function(f"{TOASTS}.length === 0", timeout=10000)
