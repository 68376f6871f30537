"""A stand-alone app process for the resume test: `python -m tests.fakes.generate_worker '<json>'`.

It builds Settings from the JSON (keys, the fake provider's base URL, the data dir), serves its
prepared files on its own loopback media route (as the real app does), runs Studio.generate and
prints one line per progress step. The test kills it with SIGKILL while it polls.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from starlette.applications import Starlette

from kmc_ui.backends.registry import build_backends
from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
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
    inputs = Inputs(image=spec["image"], video=spec["video"], backend=spec["backend"])
    for step in studio.generate(inputs, owner=spec["owner"]):
        print(f"{step.stage}\t{step.task_id}\t{step.text}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
