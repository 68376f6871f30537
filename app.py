"""kmc: Kling Motion Control Studio. `python app.py` starts the page (also the Hugging Face Space entry)."""

from __future__ import annotations

from kmc_ui.server import launch

if __name__ == "__main__":
    from kmc_ui.native_logs import quiet_native_logs

    quiet_native_logs()  # mediapipe's I0000/W0000 lines stay out of the server's log
    launch()
