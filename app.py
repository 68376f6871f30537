"""kmc: Kling Motion Control Studio. `python app.py` starts the page (also the Hugging Face Space entry)."""

from __future__ import annotations

from kmc_ui.server import launch

if __name__ == "__main__":
    launch()
