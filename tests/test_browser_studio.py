"""The studio in a real Chromium: inline findings, orientation switch, what will be sent,
generate through the (loopback fake) official API, synchronized side by side, history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import playing_together, shots_dir, studio_in_chromium
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling
from tests.media_factory import make_video

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def studio_page(kling_server: FakeKling, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("browser") / "data"
    with studio_in_chromium(lambda port: kling_app_settings(kling_server, f"http://127.0.0.1:{port}", data)) as page:
        yield page


def codes(page: Any, selector: str) -> set[str]:
    return set(page.eval_on_selector_all(f"{selector} li", "els => els.map(e => e.dataset.code)"))


def wait_codes(page: Any, selector: str, present: str | None = None, absent: str | None = None) -> None:
    page.wait_for_function(
        """([sel, present, absent]) => {
            const got = [...document.querySelectorAll(sel + ' li')].map(e => e.dataset.code);
            return (!present || got.includes(present)) && (!absent || !got.includes(absent));
        }""",
        arg=[selector, present, absent],
        timeout=30000,
    )


def video_times(page: Any, player: str) -> list[float]:
    return page.evaluate(f"""[...document.querySelectorAll('{player} video')].map(v => v.currentTime)""")


def test_studio_flow_in_a_real_browser(
    studio_page: Any, character_image: Path, tmp_path: Path, kling_server: FakeKling
) -> None:
    page = studio_page
    shots = shots_dir("browser-studio")
    kling_server.reset()
    long_clip = make_video(tmp_path / "dance12.mp4", 360, 640, seconds=12, fps=12)

    # 1. Upload: findings appear inline on the input they belong to.
    page.locator("#kmc-image input[type=file]").set_input_files(str(character_image))
    page.locator("#kmc-video input[type=file]").set_input_files(str(long_clip))
    page.get_by_label("image: keep the picture's orientation, up to 10 s").check()
    # Settled: the body check for these settings is in (an earlier one, for orientation `video`, may land first).
    page.wait_for_function(
        "document.querySelector('#kmc-video-findings [data-code=video_too_long]')"
        " && !document.querySelector('#kmc-findings .kmc-pending')",
        timeout=120000,
        polling=100,
    )
    assert "video_too_long" not in codes(page, "#kmc-image-findings")
    assert "12 s" in page.inner_text("#kmc-video-findings")
    page.screenshot(path=str(shots / "1-findings-image-orientation.png"), full_page=True)

    # 2. Switching orientation to 'video' (30 s) clears the duration error.
    page.get_by_label("video: follow the video, up to 30 s").check()
    wait_codes(page, "#kmc-video-findings", absent="video_too_long")
    page.screenshot(path=str(shots / "2-findings-video-orientation.png"), full_page=True)

    # 3. Back to 'image': Generate needs the fix to be reviewed; Prepare shows what will be sent.
    page.get_by_label("image: keep the picture's orientation, up to 10 s").check()
    wait_codes(page, "#kmc-video-findings", present="video_too_long")
    page.click("#kmc-prepare")
    page.wait_for_function(
        "document.querySelector('#kmc-prepared-info') && "
        "document.querySelector('#kmc-prepared-info').innerText.includes('trimmed')",
        timeout=60000,
    )
    assert "no changes needed" in page.inner_text("#kmc-prepared-info").lower()  # the PNG is sent as it is
    page.screenshot(path=str(shots / "3-what-will-be-sent.png"), full_page=True)

    # 4. Generate through the fake official API; the result plays beside the reference.
    page.click("#kmc-generate")
    page.wait_for_function(
        "document.querySelector('#kmc-status') && document.querySelector('#kmc-status').innerText.includes('Done')",
        timeout=60000,
    )
    page.wait_for_function(
        """[...document.querySelectorAll('#kmc-player video')].length === 2 &&
           [...document.querySelectorAll('#kmc-player video')].every(v => v.readyState >= 2)""",
        timeout=30000,
    )
    assert len(kling_server.requests_at("create")) == 1
    body = kling_server.requests_at("create")[0].json
    assert body["character_orientation"] == "image"

    # 5. One control drives both videos: play, then seek one timeline and the other follows.
    page.click("#kmc-player .kmc-play")
    page.wait_for_function(playing_together("#kmc-player"), timeout=10000, polling=50)
    page.click("#kmc-player .kmc-play")  # pause: both stop on the same frame
    ref_t, out_t = video_times(page, "#kmc-player")
    out_end = page.evaluate("document.querySelectorAll('#kmc-player video')[1].duration")
    # the fake's result lasts 1 s: past its end it holds its last frame while the reference goes on
    assert ref_t > 0.2 and abs(min(ref_t, out_end) - out_t) < 0.05, (ref_t, out_t, out_end)
    page.fill("#kmc-player .kmc-seek", "0.6")
    page.dispatch_event("#kmc-player .kmc-seek", "input")
    page.wait_for_timeout(400)
    ref_t, out_t = video_times(page, "#kmc-player")
    assert ref_t == pytest.approx(0.6, abs=0.05) and out_t == pytest.approx(0.6, abs=0.05)
    page.screenshot(path=str(shots / "4-side-by-side.png"), full_page=True)

    # 6. The run is in History with its task id.
    page.get_by_role("tab", name="History").click()
    page.wait_for_function(
        "document.querySelector('#kmc-history-table') && "
        "document.querySelector('#kmc-history-table').innerText.includes('Finished')",
        timeout=20000,
    )
    task_id = kling_server.requests_at("create")[0]
    assert task_id is not None
    page.screenshot(path=str(shots / "5-history.png"), full_page=True)


def test_chinese_ui_text_follows_the_browser_language(
    studio_page: Any, character_image: Path, tmp_path: Path, kling_server: FakeKling
) -> None:
    """Static labels (gr.I18n) and run-time text (findings, what is sent, progress, the result's
    description) are Chinese for a zh-CN browser, computed on the server from Accept-Language."""
    page = studio_page
    kling_server.reset()
    long_clip = make_video(tmp_path / "dance12-zh.mp4", 360, 640, seconds=12, fps=12)
    context = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1600})
    zh = context.new_page()
    try:
        zh.goto(page.url)
        zh.get_by_role("button", name="生成").wait_for(timeout=20000)
        assert zh.get_by_role("tab", name="历史记录").count() == 1
        assert zh.get_by_text("角色图片（谁）").count() >= 1
        # a bad input: its finding is in Chinese, under the input it belongs to
        zh.locator("#kmc-image input[type=file]").set_input_files(str(character_image))
        zh.locator("#kmc-video input[type=file]").set_input_files(str(long_clip))
        zh.get_by_label("image：保持图片朝向，最长 10 秒").check()
        wait_codes(zh, "#kmc-video-findings", present="video_too_long")
        findings = zh.inner_text("#kmc-video-findings")
        assert "错误" in findings and "动作视频时长 12 秒；朝向为“image”时上限为 10 秒。" in findings, findings
        assert "修复：请截取到 10 秒" in findings and "Motion video" not in findings
        panel = zh.inner_text("#kmc-findings")
        assert "检查结果" in panel and "像素" in panel, panel
        zh.screenshot(path=str(shots_dir("browser-studio") / "6-chinese-findings.png"), full_page=True)
        # what will be sent, then a run through the fake official API: the progress box is Chinese
        zh.click("#kmc-prepare")
        zh.wait_for_function(
            "document.querySelector('#kmc-prepared-info') && "
            "document.querySelector('#kmc-prepared-info').innerText.includes('截取到')",
            timeout=60000,
        )
        assert "无需修改" in zh.inner_text("#kmc-prepared-info")
        zh.click("#kmc-generate")
        zh.wait_for_function(
            "document.querySelector('#kmc-status') && document.querySelector('#kmc-status').innerText.includes('完成')",
            timeout=60000,
        )
        status = zh.inner_text("#kmc-status")
        assert "结果已就绪。" in status and "已用时间" in status and "任务 ID" in status, status
        assert "Done" not in status and "Elapsed" not in status
        zh.wait_for_function(
            "document.querySelector('#kmc-player .kmc-desc') && "
            "document.querySelector('#kmc-player .kmc-desc').innerText.includes('视频')",
            timeout=30000,
        )
        assert "上传图片中的角色" in zh.inner_text("#kmc-player .kmc-desc")
        assert len(kling_server.requests_at("create")) == 1
        zh.screenshot(path=str(shots_dir("browser-studio") / "6-chinese.png"), full_page=True)
        # History: the run's status and the table's headers in Chinese
        zh.get_by_role("tab", name="历史记录").click()
        zh.wait_for_function(
            "document.querySelector('#kmc-history-table') && "
            "document.querySelector('#kmc-history-table').innerText.includes('完成')",
            timeout=60000,
        )
        assert "状态" in zh.inner_text("#kmc-history-table")
    finally:
        context.close()


def test_english_browser_keeps_the_english_run_time_text(
    studio_page: Any, character_image: Path, tmp_path: Path
) -> None:
    long_clip = make_video(tmp_path / "dance12-en.mp4", 360, 640, seconds=12, fps=12)
    context = studio_page.context.browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1600})
    en = context.new_page()
    try:
        en.goto(studio_page.url)
        en.get_by_role("button", name="Generate").wait_for(timeout=20000)
        en.locator("#kmc-image input[type=file]").set_input_files(str(character_image))
        en.locator("#kmc-video input[type=file]").set_input_files(str(long_clip))
        en.get_by_label("image: keep the picture's orientation, up to 10 s").check()
        wait_codes(en, "#kmc-video-findings", present="video_too_long")
        findings = en.inner_text("#kmc-video-findings")
        assert "Error: Motion video lasts 12 s; with orientation 'image' the limit is 10 s." in findings, findings
        assert "Fix: Trim it to 10 s" in findings and "动作视频" not in findings
        assert "Findings" in en.inner_text("#kmc-findings")
    finally:
        context.close()
