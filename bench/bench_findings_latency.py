"""From an upload finishing to its findings shown in the page (real Chromium, the offline default).

    python bench/bench_findings_latency.py [--runs 3]

The page records, with a MutationObserver, when the summary first shows the clip's checked facts (the
limit findings are drawn in the same update) and when the body findings replace its "checking the
body" line. Each run uploads the
character image first, then a fresh clip; the clock starts when the browser has sent the clip (the
upload request's answer arrived). Printed per run and as medians:
  upload -> limit findings shown   (target < 0.5 s)
  upload -> body findings shown    (as soon as they are ready: the body check's own time plus showing it)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.figures import make_character, make_dance

WATCH = """
window.__kmc = {limits: null, body: null};
new MutationObserver(() => {
  const now = performance.now();
  const panel = document.querySelector('#kmc-findings');
  const text = panel ? panel.innerText : '';
  // The summary's facts line names the clip's frame rate once the clip is checked.
  if (window.__kmc.limits === null && text.includes('fps')) window.__kmc.limits = now;
  const pending = panel && panel.querySelector('.kmc-pending');
  if (window.__kmc.body === null && text.includes('fps') && !pending) window.__kmc.body = now;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    work = Path(tempfile.mkdtemp(prefix="kmc-latency-"))
    image = make_character(work / "character.png")
    demo = launch(
        Settings(data_dir=work / "data"), block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True
    )
    limits: list[float] = []
    bodies: list[float] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for run in range(args.runs):
                clip = make_dance(work / f"dance-{run}.mp4", seconds=4.0 + run * 0.4)  # new content: no cache
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(demo.local_url)
                page.wait_for_selector("#kmc-generate")
                page.locator("#kmc-image input[type=file]").set_input_files(str(image))
                page.wait_for_function("document.querySelector('#kmc-image-findings').innerText.trim()")
                page.evaluate(WATCH)
                with page.expect_response(lambda r: "/gradio_api/upload" in r.url):
                    page.locator("#kmc-video input[type=file]").set_input_files(str(clip))
                sent = page.evaluate("performance.now()")
                page.wait_for_function("window.__kmc.body !== null", timeout=120000, polling=50)
                marks = page.evaluate("window.__kmc")
                limits.append((marks["limits"] - sent) / 1000)
                bodies.append((marks["body"] - sent) / 1000)
                print(
                    f"run {run + 1}: upload -> limit findings {limits[-1]:.2f} s, -> body findings {bodies[-1]:.2f} s"
                )
                page.close()
            browser.close()
    finally:
        demo.close()
    print(
        f"median: limit findings {statistics.median(limits):.2f} s (target < 0.5 s), "
        f"body findings {statistics.median(bodies):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
