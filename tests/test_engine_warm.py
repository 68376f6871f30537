"""The engine's models are loaded before the first run (pipeline.warm_up, called at launch), on the
threads that run them, and a run started while they load neither waits on a deadlock nor builds
them again on its caller's thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.engine import EngineJob, pipeline, run_engine, segment
from kmc_ui.pose import model
from tests.figures import make_character, make_dance

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _graphs() -> tuple[Any, Any, Any]:
    """This thread's cut-out landmarker, hand detectors and face mesh (None where not built)."""
    return segment._LOCAL.landmarker, model._LOCAL.hands, model._LOCAL.face_mesh


def test_warm_up_starts_the_models_on_the_threads_that_run_them(tmp_path: Path) -> None:
    took = pipeline.warm_up(tmp_path).result(timeout=180)
    assert took > 0
    assert pipeline.warm_up() is pipeline.warming()  # once a process
    landmarker, hands, face_mesh = pipeline._CUT.submit(_graphs).result()
    assert landmarker is not None and hands and face_mesh is not None


def test_a_run_cuts_the_picture_out_with_the_warmed_models(tmp_path: Path) -> None:
    pipeline.warm_up().result(timeout=180)
    warmed = pipeline._CUT.submit(_graphs).result()
    image = make_character(tmp_path / "c.png")
    video = make_dance(tmp_path / "d.mp4", seconds=1.0, audio=False)
    seen: dict[str, Any] = {}

    def run() -> None:  # on a thread of its own, as the local backend runs each task
        seen["result"] = run_engine(EngineJob(image, video, "video", "std", False), tmp_path / "out.mp4")
        seen["caller"] = _graphs()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=300)
    assert seen["result"].frames > 0
    assert seen["caller"] == (None, None, None)  # nothing built on the caller's thread
    after = pipeline._CUT.submit(_graphs).result()
    assert after[0] is warmed[0] and after[2] is warmed[2]  # the same graphs, not built again


LAUNCH_AND_RUN = """
import json, socket, sys
from pathlib import Path
from kmc_ui.engine import EngineJob, pipeline, run_engine
from kmc_ui.server import launch

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
demo = launch(block=False, server_name="127.0.0.1", server_port=port, quiet=True)
warming = pipeline.warming()
started = warming is not None and not warming.done()
# straight away, as a first visitor's run would: mediapipe is being imported by the warm-up meanwhile
result = run_engine(EngineJob(Path(sys.argv[1]), Path(sys.argv[2]), "video", "std", False), Path(sys.argv[3]))
took = warming.result(timeout=120)
demo.close()
print(json.dumps({"warming": started, "took": took, "frames": result.frames}))
"""


def test_launch_warms_the_engine_and_a_run_at_once_still_runs(tmp_path: Path) -> None:
    image = make_character(tmp_path / "c.png")
    video = make_dance(tmp_path / "d.mp4", seconds=1.0, audio=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "FAL_", "REPLICATE_"))}
    env |= {"KMC_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH_AND_RUN, str(image), str(video), str(tmp_path / "out.mp4")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["warming"] is True  # launch started it, in the background
    assert got["took"] > 0 and got["frames"] > 0
