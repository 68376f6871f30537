"""mediapipe's native logging (glog/absl I0000/W0000 lines, TF Lite's INFO) stays out of stderr."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.figures import make_character, make_dance

pytestmark = pytest.mark.slow

NATIVE = re.compile(r"^(?:[IWE]\d{4} |WARNING: All log messages before absl|INFO: Created TensorFlow)", re.M)


def test_check_with_body_checks_prints_no_native_log_lines(tmp_path: Path) -> None:
    image = make_character(tmp_path / "c.png")
    video = make_dance(tmp_path / "d.mp4", seconds=3.1)
    env = {k: v for k, v in os.environ.items() if k not in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL")}
    env["KMC_DATA_DIR"] = str(tmp_path / "data")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-m", "kmc_ui", "check", str(image), str(video)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Cost:" in done.stdout  # the check really ran, body checks included (no --no-pose)
    assert not NATIVE.search(done.stderr), done.stderr
    assert "I0000" not in done.stderr and "W0000" not in done.stderr


FILTERED = "import os, sys\nfrom kmc_ui.native_logs import quiet_native_logs\nquiet_native_logs()\n"


def _env() -> dict[str, str]:
    """This environment with the filter on and the repository importable (a child that runs FILTERED)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env.pop("KMC_NATIVE_LOGS", None)
    return env


def test_the_filter_keeps_everything_but_the_informational_native_lines(tmp_path: Path) -> None:
    code = FILTERED + (
        "os.write(2, b'W0000 00:00:1796214953.328029   30876 inference_feedback_manager.cc:114] noise\\n')\n"
        "os.write(2, b'I0000 00:00:1796214953.187604   30860 task_runner.cc:85] GPU noise\\n')\n"
        "print('kept: python stderr', file=sys.stderr)\n"
        "os.write(2, b'E0000 00:00:1796214953.1 1 calculator.cc:3] a real native error\\n')\n"
        "raise SystemExit('the last words')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 1
    assert "noise" not in done.stderr
    assert "kept: python stderr" in done.stderr
    assert "a real native error" in done.stderr
    assert "the last words" in done.stderr


def test_progress_redrawn_with_carriage_returns_passes_as_it_comes_and_native_lines_after_it_do_not() -> None:
    # as the CLI draws its progress: "\r" + the line, no newline; a native line lands right after it
    code = FILTERED + (
        "print('\\r[ 1.0s] running step one', end='', file=sys.stderr, flush=True)\n"
        "os.write(2, b'I0000 00:00:1796569596.542473   10547 task_runner.cc:85] GPU noise\\n')\n"
        "print('\\r[ 2.0s] running step two', end='', file=sys.stderr, flush=True)\n"
        "sys.stdin.readline()  # held here until the test has seen step two\n"
        "print('\\r[ 3.0s] done', file=sys.stderr, flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert child.stdin is not None and child.stderr is not None
    seen = b""
    deadline = time.monotonic() + 30
    while b"step two" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([child.stderr], [], [], 0.5)
        if ready:
            seen += os.read(child.stderr.fileno(), 4096)
    child.stdin.write(b"go\n")
    child.stdin.close()
    seen += child.stderr.read()
    assert child.wait(timeout=30) == 0
    assert b"step two" in seen.split(b"done")[0]  # shown while the command still ran
    assert b"noise" not in seen
    assert seen.startswith(b"\r[ 1.0s] running step one\r[ 2.0s] running step two")
