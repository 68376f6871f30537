"""Examples in a real Chromium: a click shows the pre-rendered result at once, with zero backend calls."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.examples import load_examples, load_library
from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, need_chromium, shots_dir
from tests.runstore import stored_records

pytestmark = pytest.mark.browser


class CountingBackend:
    """Wraps the real offline backend and counts every call a generation would make."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.name, self.label, self.needs_video_url = inner.name, inner.label, inner.needs_video_url

    def ready(self) -> tuple[bool, str]:
        return self.inner.ready()

    def submit(self, request: Any) -> str:
        self.calls += 1
        return self.inner.submit(request)

    def poll(self, task_id: str) -> Any:
        self.calls += 1
        return self.inner.poll(task_id)

    def download(self, state: Any, dest: Path) -> Path:
        self.calls += 1
        return self.inner.download(state, dest)

    def cancel(self, task_id: str) -> bool:
        self.calls += 1
        return self.inner.cancel(task_id)


@pytest.fixture(scope="module")
def examples_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, CountingBackend, Path]]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import build, launch  # noqa: F401 - launch builds through build()
    from kmc_ui.ui.blocks import build_demo
    from kmc_ui.ui.i18n import I18N
    from kmc_ui.ui.render import CSS
    from kmc_ui.ui.studio_tab import StudioHandlers

    data = tmp_path_factory.mktemp("examples") / "data"
    _, studio, _ = build(Settings(data_dir=data))
    # A loaded server: the page load's own events (follow a run, then its report) answer late, after
    # the example's click has shown its report; they must leave that report alone.
    slow = pytest.MonkeyPatch()
    slow.setattr(StudioHandlers, "follow_run", late(StudioHandlers.follow_run, 2.0))
    counting = CountingBackend(studio.backends["local"])
    studio.backends["local"] = counting
    demo = build_demo(studio)
    from kmc_ui.server import file_access

    allowed, blocked = file_access(data)
    demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=free_port(),
        quiet=True,
        css=CSS,
        i18n=I18N,
        allowed_paths=allowed,
        blocked_paths=blocked,
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(demo.local_url)
        yield page, counting, data
        browser.close()
    demo.close()
    slow.undo()


def late(handler: Any, seconds: float) -> Any:
    """`handler` (a generator method) answering `seconds` late, as on a loaded server."""

    def answer(self: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        yield from handler(self, *args, **kwargs)

    answer.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return answer


def test_example_click_shows_the_prerendered_result_without_backend_calls(examples_page: Any) -> None:
    page, counting, data = examples_page
    examples = load_examples()
    assert examples, "assets/examples is empty: run scripts/make_assets.py"
    page.get_by_role("tab", name="Examples & Motion Library").click()
    page.locator("#kmc-examples tbody tr").first.click()
    page.wait_for_function(
        """[...document.querySelectorAll('#kmc-player video')].length === 2 &&
           [...document.querySelectorAll('#kmc-player video')].every(v => v.readyState >= 2)""",
        timeout=30000,
    )
    src = page.get_attribute("#kmc-player video.kmc-out", "src") or ""
    # the pre-rendered result, as a content-named copy in Gradio's cache
    shown = page.request.get(page.url.rstrip("/") + src)
    assert src.startswith("/gradio_api/file=") and shown.body() == examples[0].result.read_bytes()
    page.wait_for_function(
        "document.querySelector('#kmc-report').innerText.includes('Motion agreement')", timeout=30000, polling=100
    )
    page.wait_for_timeout(3000)  # let the input change events (checks) and the page load's events settle
    assert "Motion agreement" in page.inner_text("#kmc-report")  # still there: nothing blanked it
    page.screenshot(path=str(shots_dir("browser-examples") / "1-example.png"), full_page=True)
    assert counting.calls == 0
    assert stored_records(data) == []


def test_example_in_a_chinese_browser_shows_its_report_in_chinese(examples_page: Any) -> None:
    page, counting, _data = examples_page
    context = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1600})
    zh = context.new_page()
    try:
        zh.goto(page.url)
        zh.get_by_role("tab", name="示例与动作库").click()
        zh.locator("#kmc-examples tbody tr").first.click()
        zh.wait_for_function(
            "document.querySelector('#kmc-report') && "
            "document.querySelector('#kmc-report').innerText.includes('动作一致度')",
            timeout=30000,
        )
        zh.wait_for_timeout(3000)  # the page load's late events
        assert "动作一致度" in zh.inner_text("#kmc-report")
        assert "示例" in zh.inner_text("#kmc-status")
        assert "预先渲染" in zh.inner_text("#kmc-player .kmc-desc")
        assert counting.calls == 0
    finally:
        context.close()


def test_a_silent_library_clip_turns_keep_sound_off(examples_page: Any) -> None:
    page, counting, _data = examples_page
    silent = next(m for m in load_library() if not m.has_audio)
    page.reload()
    assert page.locator("#kmc-sound input[type=checkbox]").is_checked()  # on by default
    page.get_by_role("tab", name="Examples & Motion Library").click()
    page.click("#kmc-library-pick input")
    page.get_by_role("option").filter(has_text=silent.title).first.click()
    page.click("#kmc-library-use")
    page.wait_for_function(
        "!document.querySelector('#kmc-sound input[type=checkbox]').checked", timeout=20000, polling=100
    )
    assert counting.calls == 0
