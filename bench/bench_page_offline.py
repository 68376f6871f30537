"""The offline preview as a visitor gets it: real photos and the real 12 s dance, in the page (real
Chromium), no keys, the default settings.

    python bench/bench_page_offline.py [--only man] [--runs 1] [--look 1]

Per photo, from the click on Generate (the photo and the clip already uploaded and checked, and
looked at for --look seconds: the studio reads the clip's motion for the engine meanwhile):
the first look at the puppet in the result's place (the player's poster: a calibration drawing,
then the latest frame drawn), the status turning to Done, the result playing beside the reference
(its <video> loaded), and the motion-agreement report shown. Each photo comes as a new visitor's
would: the pose cache emptied, so the clip is read anew (its checks on upload too); the first comes
once the launch has loaded the engine's models (a Space up a few seconds). Issue 17 measured 72-115 s
for a 12 s clip in the page before the engine was rebuilt. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port

SHARED = Path(__file__).resolve().parents[2] / "shared" / "media"
PHOTOS = (
    "person_man_fullbody.png",
    "person_woman_fullbody.png",
    "character_armor_fullbody.png",
    "character_anime_upperbody.png",
    "character_anime_fullbody.jpg",
)

# in-page clock marks: the first poster on the result's <video>, the status saying Done, that video
# loaded, and the motion report shown
WATCH = """() => {
  window.kmcMarks = {};
  const mark = k => { if (!(k in window.kmcMarks)) window.kmcMarks[k] = Date.now() / 1000; };
  new MutationObserver(() => {
    const v = document.querySelector('#kmc-player video.kmc-out');
    if (!v) return;
    if (v.getAttribute('poster')) mark('poster');
    if (v.getAttribute('src') && !v.kmcWatched) {
      v.kmcWatched = true;
      if (v.readyState >= 2) mark('playing'); else v.addEventListener('loadeddata', () => mark('playing'));
    }
    if (document.querySelector('#kmc-status').innerText.includes('Done')) mark('done');
    const report = document.querySelector('#kmc-report');
    if (report && report.innerText.includes('Motion agreement')) mark('report');
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def browser_aside() -> None:
    """Chromium's processes at nice 19, and their scheduler autogroup (Linux shares the CPU between
    sessions first; Chromium runs in a session of its own) at 19 too. Chromium sets its own
    processes' priorities at launch, so a `nice` wrapper round it does not hold."""
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and "chrom" in Path(f"/proc/{pid}/cmdline").read_text():
                os.setpriority(os.PRIO_PROCESS, int(pid), 19)
                Path(f"/proc/{pid}/autogroup").write_text("19")
        except OSError:
            continue


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="only the photos whose name contains this")
    parser.add_argument("--runs", type=int, default=1, help="runs per photo")
    parser.add_argument(
        "--look",
        type=float,
        default=1.0,
        help="seconds the visitor looks at the checks before pressing Generate (the motion is read ahead meanwhile)",
    )
    parser.add_argument(
        "--same-priority",
        action="store_true",
        help="Chromium at the server's priority (by default its processes and their scheduler group are reniced "
        "to 19: a visitor's browser is on their own machine; at the same priority it took 0.4-1.4 of the two cores)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from kmc_ui.backends import local
    from kmc_ui.engine.pipeline import forget_pictures
    from kmc_ui.pose import cache
    from kmc_ui.server import launch

    engine_runs: list[tuple[float, dict[str, float]]] = []  # (wall clock at its start, its timings)
    run_engine = local.run_engine

    def timed_run(*a: Any, **k: Any) -> Any:
        started = time.time()
        result = run_engine(*a, **k)
        engine_runs.append((started, result.timings))
        return result

    local.run_engine = timed_run  # the engine's own phases, beside what the page sees

    clip = SHARED / "dance_fullbody_12s.mp4"
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=tmp / "data")  # no keys: the offline engine, as a first visit
    port = free_port()
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    from kmc_ui.engine import pipeline

    warming = pipeline.warming()  # a visitor comes after the launch has loaded the models
    if warming is not None:
        print(f"models loaded at launch in {warming.result():.1f} s")
    where = "at the server's priority" if args.same_priority else "at nice 19"
    look = f"Generate pressed {args.look:g} s after the checks"
    print(f"offline preview in the page: {clip.name}, backend {settings.backend}, Chromium {where}, {look}")
    print(f"load average {load()}")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in PHOTOS:
                if args.only not in name:
                    continue
                for _ in range(args.runs):
                    cache.clear_memory()  # a new visitor with a clip and a picture never seen: nothing
                    forget_pictures()  # read of them yet
                    shutil.rmtree(settings.data_dir / "cache", ignore_errors=True)
                    page = browser.new_page(viewport={"width": 1400, "height": 1600})
                    page.goto(demo.local_url)
                    page.locator("#kmc-image input[type=file]").set_input_files(str(SHARED / name))
                    page.locator("#kmc-video input[type=file]").set_input_files(str(clip))
                    page.wait_for_selector("#kmc-video-findings .kmc-ok, #kmc-video-findings li", timeout=120000)
                    page.wait_for_selector("#kmc-image-findings .kmc-ok, #kmc-image-findings li", timeout=120000)
                    # the checks' last updates land, and the visitor looks at them, before the clock starts
                    page.wait_for_timeout(round(1000 * args.look))
                    if not args.same_priority:
                        browser_aside()
                    before = load()
                    page.evaluate(WATCH)
                    clicked = time.time()
                    page.click("#kmc-generate")
                    page.wait_for_function("'report' in window.kmcMarks", timeout=600000, polling=100)
                    marks = page.evaluate("window.kmcMarks")
                    since = {k: v - clicked for k, v in marks.items()}
                    since = {k: since.get(k, float("nan")) for k in ("poster", "done", "playing", "report")}
                    started, timings = engine_runs[-1]
                    print(
                        f"{name}: first look at the puppet {since['poster']:.1f} s, "
                        f"Done {since['done']:.1f} s, result playing {since['playing']:.1f} s, "
                        f"motion report {since['report']:.1f} s after Generate (load before {before}, after {load()})"
                    )
                    print(
                        f"   the engine started {started - clicked:.1f} s after Generate and took "
                        f"{timings['total']:.1f} s (cut-out {picture_phase(timings)}, "
                        f"pose of every frame {timings['motion']:.1f}, "
                        f"calibration {timings['bind']:.1f}, render {timings['render']:.1f})"
                    )
                    page.close()
            browser.close()
    finally:
        demo.close()


def picture_phase(timings: dict[str, float]) -> str:
    """The cut-out's seconds in a run, or how long the run waited for its picture read ahead."""
    if "cut_out" in timings:
        return f"{timings['cut_out']:.1f}"
    return f"read ahead, waited {timings['picture_wait']:.1f}"


if __name__ == "__main__":
    main()
