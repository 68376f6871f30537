"""Real-browser helpers: Debian's chromium (/usr/bin/chromium) driven by Playwright.

Never `playwright install`: the browser comes from `apt-get install chromium` (scripts/install.sh).
Screenshots go under test-output/ at the repository root, one folder per test.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


def need_chromium() -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (bash scripts/install.sh --dev installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def studio_in_chromium(make_settings: Callable[[int], Any], init_script: str = "") -> Iterator[Any]:
    """The app launched on a free loopback port (`make_settings(port)` gives its Settings) and a page
    open on it in Debian's Chromium; `init_script` runs in the page before the app's own scripts."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    from kmc_ui.server import launch

    port = free_port()
    demo = launch(make_settings(port), block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            if init_script:
                page.add_init_script(init_script)
            page.goto(demo.local_url)
            yield page
            browser.close()
    finally:
        demo.close()


def shots_dir(name: str) -> Path:
    folder = OUTPUT / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def playing_together(player: str) -> str:
    """A page.wait_for_function body: both videos of the synchronized `player` play, past 0.2 s,
    within 0.15 s of each other (polled, because a loaded machine may stall one for a frame)."""
    return f"""() => {{
        const v = [...document.querySelectorAll('{player} video')];
        return v.length === 2 && v.every(x => !x.paused) && v[0].currentTime > 0.2
            && Math.abs(v[0].currentTime - v[1].currentTime) < 0.15;
    }}"""
