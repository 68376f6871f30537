"""The Studio page's layout in a real Chromium at a desktop (1440x900) and a phone (390x844) size:
Generate, the cost and the run's status stay in view after both uploads, nothing overflows sideways,
"What will be sent" shows only when preparing will change a file, and Generate prepares by itself and
says what it sent, the video URL box shows its placeholder whole, and the video box its toolbar whole.
Screenshots go to docs/ (the page as a first visitor sees it, and the URL box with Fetch at each size)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from kmc_ui.settings import Settings
from tests.browser import shots_dir, studio_in_chromium
from tests.figures import make_character, make_dance

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DOCS = Path(__file__).resolve().parents[1] / "docs"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}

IN_VIEW = """sel => { const r = document.querySelector(sel).getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1; }"""
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
# The video URL box's placeholder shown whole: as the box's value it does not scroll, and its text
# (measured in the box's font) fits the box's inner width.
PLACEHOLDER_FITS = """() => { const box = document.querySelector('#kmc-video-url input, #kmc-video-url textarea');
    const css = getComputedStyle(box), pen = document.createElement('canvas').getContext('2d');
    pen.font = css.font;
    const inner = box.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
    const kept = box.value; box.value = box.placeholder;
    const fits = {placeholder: box.placeholder, scrolls: box.scrollWidth > box.clientWidth,
                  text: Math.ceil(pen.measureText(box.placeholder).width), inner: Math.floor(inner)};
    box.value = kept; return fits; }"""

# The report plot as shown: its scale (shown / drawn width) and its right edge.
PLOT_SHOWN = """() => { const img = document.querySelector('#kmc-report-plot img'), r = img.getBoundingClientRect();
    const scale = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);  // (object-fit: contain)
    return {scale: scale, right: r.right, drawn: img.naturalWidth}; }"""
# An upload box's edges against its clip's and its source toolbar's (top, bottom), in page pixels.
TOOLBAR_INSIDE = """sel => { const edges = e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
    const root = document.querySelector(sel), select = root.querySelector('[data-testid=source-select]');
    return {block: edges(root), video: edges(root.querySelector('video')), select: select && edges(select)}; }"""


@pytest.mark.parametrize("size", list(SIZES))
def test_generate_stays_in_view_and_nothing_overflows(size: str, tmp_path: Path) -> None:
    width, height = SIZES[size]
    image = make_character(tmp_path / "character.png")
    clip = make_dance(tmp_path / "dance.mp4", seconds=3.2)
    long_clip = make_dance(tmp_path / "long.mp4", seconds=12.0)
    shots = shots_dir("browser-layout")
    with studio_in_chromium(lambda port: Settings(data_dir=tmp_path / "data")) as page:
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        page.wait_for_selector("#kmc-generate")
        page.locator("#kmc-image input[type=file]").set_input_files(str(image))
        page.locator("#kmc-video input[type=file]").set_input_files(str(clip))
        page.wait_for_function("document.querySelector('#kmc-video-findings .kmc-ok, #kmc-video-findings li')")
        page.wait_for_function("document.querySelector('#kmc-cost').innerText.includes('free')", timeout=30000)
        page.evaluate("window.scrollTo(0, 0)")
        # The action bar is in view at the top of the page: Generate and the cost without scrolling.
        assert page.evaluate(IN_VIEW, "#kmc-generate"), size
        assert page.evaluate(IN_VIEW, "#kmc-cost"), size
        assert page.evaluate(SIDEWAYS) <= 1, f"{size}: the page scrolls sideways"
        # The video box shows its loaded clip and, under it, its upload/webcam toolbar whole.
        box = page.evaluate(TOOLBAR_INSIDE, "#kmc-video")
        assert box["select"] and box["select"][1] <= box["block"][1] + 1, (size, box)
        assert box["video"][0] >= box["block"][0] - 1 and box["video"][1] <= box["select"][0] + 1, (size, box)
        url = page.evaluate(PLACEHOLDER_FITS)
        assert url["placeholder"] and not url["scrolls"] and url["text"] <= url["inner"], (size, url)
        page.locator("#kmc-video-url").scroll_into_view_if_needed()
        box, fetch = (page.locator(sel).bounding_box() for sel in ("#kmc-video-url", "#kmc-fetch"))
        assert box and fetch
        left, top = min(box["x"], fetch["x"]) - 8, min(box["y"], fetch["y"]) - 8
        right, bottom = max(box["x"] + box["width"], fetch["x"] + fetch["width"]) + 8, box["y"] + box["height"] + 8
        clip = {"x": max(0, left), "y": max(0, top), "width": right - max(0, left), "height": bottom - max(0, top)}
        page.screenshot(path=str(DOCS / f"screenshot-video-url-{size}.png"), clip=clip)  # the URL box and Fetch
        page.evaluate("window.scrollTo(0, 0)")
        bar = page.evaluate("document.querySelector('#kmc-actions').getBoundingClientRect().height")
        assert bar <= 0.2 * height, f"{size}: the action bar takes {bar:.0f} px of {height}"
        # Nothing to change: no "What will be sent" section.
        assert not page.is_visible("#kmc-sent")
        page.screenshot(path=str(shots / f"{size}-ready.png"))
        if size == "desktop":
            page.screenshot(path=str(DOCS / "screenshot.png"))
        else:
            page.screenshot(path=str(DOCS / "screenshot-phone.png"))

        # A clip too long for orientation `image`: "What will be sent" appears (the trim window), and
        # Generate is not blocked: it trims by itself and says what it sent.
        page.locator("#kmc-video button[aria-label='Clear']").click()  # the loaded clip away, then the long one
        page.locator("#kmc-video input[type=file]").set_input_files(str(long_clip))
        page.locator("#kmc-orientation label", has_text="image").click()
        page.wait_for_selector("#kmc-sent", state="visible", timeout=60000)
        # One findings list: the finding under its input only; the summary links there.
        page.wait_for_selector("#kmc-video-findings [data-code=video_too_long]")
        # exactly one on the page; counted once the findings are drawn (a later check's result draws
        # them again, and a count taken in between read 0)
        expect(page.locator("[data-code=video_too_long]")).to_have_count(1)
        page.click("#kmc-findings a[href='#kmc-video']")
        assert page.evaluate("document.querySelector('#kmc-video').getBoundingClientRect().top") < height
        page.evaluate("window.scrollTo(0, 0)")
        page.click("#kmc-generate")
        page.wait_for_function(
            "document.querySelector('#kmc-status').innerText.includes('Done')", timeout=240000, polling=500
        )
        # The player's controls fit: the time on one line, nothing past the bar's edge.
        fits = page.evaluate(
            """() => { const bar = document.querySelector('#kmc-player .kmc-sync-bar');
                const time = bar.querySelector('.kmc-time');
                const line = parseFloat(getComputedStyle(time).lineHeight) || 20;
                const edge = bar.getBoundingClientRect().right;
                return {oneLine: time.getBoundingClientRect().height < 1.6 * line,
                        inside: [...bar.children].every(c => c.getBoundingClientRect().right <= edge + 1)}; }"""
        )
        assert fits == {"oneLine": True, "inside": True}, (size, fits)
        said = page.inner_text("#kmc-status")
        assert "Sent after preparing" in said and "trimmed" in said, said
        assert page.evaluate(SIDEWAYS) <= 1
        # The report's plot, once there, is shown at least at half its size (its lettering is drawn
        # large for that) and inside the screen.
        page.wait_for_selector("#kmc-report-plot img", state="attached", timeout=180000)
        page.locator("#kmc-report-plot").scroll_into_view_if_needed()  # (the image loads lazily)
        page.wait_for_function("document.querySelector('#kmc-report-plot img').naturalWidth > 0", timeout=30000)
        plot = page.evaluate(PLOT_SHOWN)
        assert plot["scale"] >= 0.5 and plot["right"] <= width + 1, (size, plot)
        assert page.evaluate(SIDEWAYS) <= 1
        page.screenshot(path=str(shots / f"{size}-done.png"), full_page=True)

        # History, with the run just made: its runs fit the screen's width (a list on a phone, whose
        # every run wraps within the screen; the table on a desktop), nothing scrolls sideways.
        page.evaluate("window.scrollTo(0, 0)")
        page.get_by_role("tab", name="History").click()
        runs = "#kmc-history-list" if size == "phone" else "#kmc-history-table"
        page.wait_for_function(
            "sel => document.querySelector(sel).innerText.includes('Finished')", arg=runs, timeout=30000, polling=200
        )
        assert page.is_visible(runs) and not page.is_visible(
            "#kmc-history-table" if size == "phone" else "#kmc-history-list"
        )
        assert page.evaluate(SIDEWAYS) <= 1, f"{size}: History scrolls sideways"
        inside = page.evaluate(
            """sel => { const box = document.querySelector(sel);
                const all = [box, ...box.querySelectorAll(sel === '#kmc-history-list' ? 'li' : 'table')];
                return all.every(e => { const r = e.getBoundingClientRect();
                    return r.width > 0 && r.left >= -1 && r.right <= window.innerWidth + 1; }); }""",
            runs,
        )
        assert inside, f"{size}: History's runs go past the screen's edge"
        page.screenshot(path=str(shots / f"{size}-history.png"), full_page=False)
