"""Access in a real Chromium: every visible control has an accessible name, and the page works from
the keyboard (Tab reaches the controls, Enter on Generate runs the checks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, shots_dir

pytestmark = pytest.mark.browser

UNNAMED = """
() => {
  const seen = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const name = (el) => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
    const by = el.getAttribute('aria-labelledby');
    if (by) return by.split(' ').map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
    if (el.labels && el.labels.length) return [...el.labels].map(l => l.textContent).join(' ');
    if (el.closest('label')) return el.closest('label').textContent;
    return el.getAttribute('title') || el.getAttribute('placeholder') || el.textContent || el.value || '';
  };
  const els = [...document.querySelectorAll('button, input, textarea, select, [role=button], [role=tab]')];
  return els.filter(seen).filter(el => el.type !== 'file' && !name(el).trim()).map(el => el.outerHTML.slice(0, 160));
}
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    data: Path = tmp_path_factory.mktemp("a11y") / "data"
    demo = launch(Settings(data_dir=data), block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        p = browser.new_page(viewport={"width": 1400, "height": 1600})
        p.goto(demo.local_url)
        p.get_by_role("button", name="Generate").wait_for(timeout=20000)
        yield p
        browser.close()
    demo.close()


@pytest.mark.parametrize("tab", ["Studio", "History", "Batch", "Examples & Motion Library"])
def test_every_visible_control_has_a_name(page: Any, tab: str) -> None:
    page.get_by_role("tab", name=tab).click()
    page.wait_for_timeout(500)
    unnamed = page.evaluate(UNNAMED)
    assert unnamed == [], f"controls without an accessible name on {tab}: {unnamed}"


def test_keyboard_reaches_generate_and_runs_the_checks(page: Any) -> None:
    page.get_by_role("tab", name="Studio").click()
    page.locator("#kmc-prompt textarea").focus()
    reached = False
    for _ in range(80):  # Tab from the prompt forward until Generate has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id === 'kmc-generate'"):
            reached = True
            break
    assert reached, "Tab never reached the Generate button"
    page.keyboard.press("Enter")  # no inputs yet: the checks answer on the inputs themselves
    page.get_by_text("Add a character image.").first.wait_for(timeout=10000)
    page.screenshot(path=str(shots_dir("browser-a11y") / "keyboard-generate.png"), full_page=True)
