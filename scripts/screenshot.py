"""Take the README screenshot: start the app, upload the sample pair, capture the page.

    python scripts/screenshot.py IMAGE VIDEO docs/screenshot.png
Uses Debian's chromium (/usr/bin/chromium) through Playwright; never downloads a browser.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def main(image: str, video: str, out: str, orientation: str = "image") -> None:
    os.environ.setdefault("KMC_DATA_DIR", tempfile.mkdtemp())
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    demo = launch(block=False, server_port=0 or None, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(demo.local_url)
            page.locator("#kmc-image input[type=file]").set_input_files(image)
            page.locator("#kmc-video input[type=file]").set_input_files(video)
            if orientation == "image":
                page.get_by_label("image: keep the picture's orientation, up to 10 s").check()
            page.locator("#kmc-video-findings li").first.wait_for(timeout=30000)
            page.locator("#kmc-character-skeleton img").first.wait_for(timeout=90000)  # body checks done
            page.wait_for_timeout(2500)
            page.screenshot(path=out, full_page=True)
            browser.close()
    finally:
        demo.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
