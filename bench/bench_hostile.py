"""Peak memory and time per hostile input: probe, checks and body check, each input in a fresh process.

    python bench/bench_hostile.py

The inputs are tests/media_factory.py's HOSTILE files (made once into $TMPDIR/kmc-hostile), each
paired with a clean companion. Every child imports the app, warms the pose models, then runs
probe + the limit checks + the body check (with previews) and reports its peak RSS (VmHWM)
before and after. The target: the process stays under 1.5 GB on every input.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.media_factory import HOSTILE, hostile_files, make_image, make_video  # noqa: E402

CHILD = """
import json, re, sys, time
from kmc_ui.media.probe import probe_image, probe_video
from kmc_ui.pose import warm_up
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio

path, kind, image, video, data = sys.argv[1:6]
studio = Studio(Settings(data_dir=data), {})
warm_up(studio.cache_dir)
# VmHWM: this process's own peak; ru_maxrss would carry the parent's (Linux keeps it across execve)
peak = lambda: int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
out = {"base_mb": peak()}
t = time.perf_counter()
probe_image(path) if kind == "image" else probe_video(path)
out["probe_s"] = time.perf_counter() - t
inputs = Inputs(image=path if kind == "image" else image, video=path if kind == "video" else video)
t = time.perf_counter()
report = studio.check(inputs)
out["check_s"] = time.perf_counter() - t
t = time.perf_counter()
body = studio.body_check(inputs)
out["body_s"] = time.perf_counter() - t
out["peak_mb"] = peak()
out["findings"] = sorted({f.code for f in report.findings + body.findings})
print(json.dumps(out))
"""


def main() -> int:
    files = hostile_files()
    with tempfile.TemporaryDirectory() as tmp:
        image = make_image(Path(tmp) / "companion.png")
        video = make_video(Path(tmp) / "companion.mp4", 360, 640, seconds=4.0)
        runs = [(name, kind) for name, (_, kind) in HOSTILE.items()] + [("hostile_10000_frames.gif", "video")]
        print(f"{'input':34} {'as':6} {'probe s':>8} {'check s':>8} {'body s':>7} {'base MB':>8} {'peak MB':>8}")
        worst = 0.0
        for name, kind in runs:
            args = [str(files[name]), kind, str(image), str(video), str(Path(tmp) / f"data-{name}-{kind}")]
            res = subprocess.run(
                [sys.executable, "-c", CHILD, *args], cwd=REPO, capture_output=True, text=True, timeout=600
            )
            if res.returncode:
                print(f"{name:34} {kind:6} FAILED\n{res.stderr[-2000:]}")
                continue
            r = json.loads(res.stdout.strip().splitlines()[-1])
            worst = max(worst, r["peak_mb"])
            print(
                f"{files[name].name:34} {kind:6} {r['probe_s']:8.3f} {r['check_s']:8.3f} {r['body_s']:7.2f} "
                f"{r['base_mb']:8.0f} {r['peak_mb']:8.0f}   {', '.join(r['findings'])}"
            )
        print(f"worst peak: {worst:.0f} MB (target < 1500 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
