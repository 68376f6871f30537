"""A stand-alone app process for the restart tests: `python -m tests.fakes.generate_worker '<json>'`.

It builds Settings from the JSON (keys, the fake provider's base URL, the data dir, workers...),
serves its prepared files on its own loopback media route (as the real app does), then either runs
Studio.generate and prints one line per progress step (the tests kill it with SIGKILL mid-run), or,
with "mode": "restart", only starts the app's workers, as an app started again does: no client,
no click. It prints "idle" and exits once no run is left to drive.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from starlette.applications import Starlette

from kmc_ui.backends.registry import build_backends
from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from kmc_ui.worker import ACTIVE
from tests.fakes.server import ServerThread


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    app = Starlette()
    server = ServerThread(app).start()
    settings = Settings(
        **spec["settings"], public_base_url=server.url, allow_private_urls=True, data_dir=Path(spec["data_dir"])
    )
    host = MediaHost(server.url, [settings.data_dir], allow_private=True)
    add_media_routes(app, host)
    studio = Studio(settings, build_backends(settings, host))
    if spec.get("mode") == "restart":
        studio.start_workers()
        while studio.history.store.list(statuses=ACTIVE):
            time.sleep(0.1)
        print("idle", flush=True)
        return 0
    inputs = Inputs(image=spec["image"], video=spec["video"], backend=spec["backend"])
    for step in studio.generate(inputs, owner=spec["owner"]):
        print(f"{step.stage}\t{step.task_id}\t{step.text}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
