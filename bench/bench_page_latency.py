"""From the provider reporting success to the result playing in the page (real Chromium).

    python bench/bench_page_latency.py [--runs 3]

The loopback fake Kling finishes each task at a known time (scenario timeline on the wall
clock). The page records when the result <video> can play (loadeddata). Printed per run:
  finish -> first poll that says succeed (the polling delay, bounded by the poll interval),
  that poll -> result playing in the page (target < 1.5 s plus the download itself),
  and the download time (from the fake's log of the result request).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.fakes.kling import FakeKling, Scenario
from tests.media_factory import make_image, make_video

WATCH = """
window.__kmcReady = null;
new MutationObserver(() => {
  const v = document.querySelector('#kmc-player video.kmc-out');
  if (v && v.getAttribute('src') && !v.__kmcWatched) {
    v.__kmcWatched = true;
    const mark = () => { if (window.__kmcReady === null) window.__kmcReady = Date.now() / 1000; };
    if (v.readyState >= 2) mark(); else v.addEventListener('loadeddata', mark);
  }
}).observe(document.body, {subtree: true, childList: true, attributes: true});
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processing", type=float, default=5.0, help="seconds the fake task runs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    tmp = Path(tempfile.mkdtemp())
    image = make_image(tmp / "character.png", 480, 854, fmt="PNG")
    video = make_video(tmp / "motion.mp4", 640, 360, seconds=3.5, fps=12)
    result = make_video(tmp / "result.mp4", 720, 1280, seconds=3.5, fps=24)
    fake = FakeKling(result_file=result).start()
    fake.clock = time.time  # the scenario timeline runs on the wall clock, so times compare with the page's
    port = free_port()
    settings = Settings(
        backend="kling",
        kling_access_key=fake.access_key,
        kling_secret_key=fake.secret_key,
        kling_api_base=fake.base_url,
        public_base_url=f"http://127.0.0.1:{port}",
        allow_private_urls=True,
        data_dir=tmp / "data",
    )
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(demo.local_url)
            page.locator("#kmc-image input[type=file]").set_input_files(str(image))
            page.locator("#kmc-video input[type=file]").set_input_files(str(video))
            page.wait_for_selector("#kmc-video-findings .kmc-ok, #kmc-video-findings li", timeout=60000)
            for _ in range(args.runs):
                fake.reset()
                fake.clock = time.time
                fake.scenario = Scenario(submitted_s=1.0, processing_s=args.processing)
                page.evaluate(WATCH)
                page.click("#kmc-generate")
                page.wait_for_function("window.__kmcReady !== null", timeout=120000, polling=50)
                ready = page.evaluate("window.__kmcReady")
                task = next(iter(fake.tasks.values()))
                finish = task.created + fake.scenario.submitted_s + fake.scenario.processing_s
                polls = [r.at for r in fake.requests_at("poll") if r.at >= finish]
                results = [r.at for r in fake.requests_at("result")]
                first_ok = polls[0]
                download = (results[-1] - results[0]) if len(results) > 1 else 0.0
                rows.append((first_ok - finish, ready - first_ok, download))
                page.wait_for_timeout(2500)  # let the report finish before the next run
            browser.close()
    finally:
        demo.close()
        fake.stop()
    for i, (lag, page_s, _download) in enumerate(rows, 1):
        print(
            f"run {i}: finish -> succeed seen {lag:5.2f} s | succeed seen -> playing in page {page_s:5.2f} s "
            f"(download included; result {result.stat().st_size / 1e6:.1f} MB)"
        )
    med = statistics.median(r[1] for r in rows)
    print(
        f"median succeed seen -> playing: {med:.2f} s (target < 1.5 s plus the download) "
        f"{'OK' if med < 1.5 else 'MISSED'}; median polling delay {statistics.median(r[0] for r in rows):.2f} s "
        "(bounded by the 2 s running poll interval)"
    )


if __name__ == "__main__":
    main()
