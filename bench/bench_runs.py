"""Runs as server-side jobs: N concurrent runs driven by two `python -m kmc_ui worker` processes.

    python bench/bench_runs.py                  # 10 runs, then 50 runs (fresh workers and data each)
    python bench/bench_runs.py --runs 50 --threads 30

The loopback fal fake (here; fal needs no media hosting) queues each task 1 s and runs it 2 s. This
process records, enqueues (its Studio has workers=0) and watches, one thread per run calling
Studio.generate; the workers (SQLite queue and store in a temporary folder, lease 10 s) poll with the
default PollPolicy (after 2 s, then every 4 s). Printed: runs finished (stored succeeded, file on
disk) / lost / duplicated (more than one task at the fake for a run, by prompt), runs per minute,
queue latency (created_at to a worker's first progress as a watcher saw it, +-0.25 s; and to
submitted_at, after uploads and create) and worker memory, VmHWM read just before SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.backends.registry import build_backends
from kmc_ui.settings import Settings
from kmc_ui.studio import WAITING_FOR_WORKER, Inputs, Studio
from tests.fakes.fal import FakeFal, Scenario
from tests.media_factory import make_image, make_video
from tests.runstore import stored_records

ROOT = Path(__file__).resolve().parents[1]
LEASE = 10.0


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def fmt(xs: list[float]) -> str:
    if not xs:
        return "n=0"
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
    return f"n={len(xs)} p50 {statistics.median(xs):.2f} s  p95 {p95:.2f} s  max {xs[-1]:.2f} s"


def stop(proc: subprocess.Popen[bytes]) -> int | str:
    proc.send_signal(signal.SIGTERM)  # kmc_ui.worker.main stops on SIGTERM
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return f"killed after 30 s ({proc.wait()})"


def start_workers(fake: FakeFal, data: Path, threads: int) -> list[subprocess.Popen[bytes]]:
    env = os.environ | {
        "KMC_DATA_DIR": str(data), "FAL_KEY": fake.key, "FAL_QUEUE_BASE": fake.base_url, "KMC_BACKEND": "fal",
        "KMC_ALLOW_PRIVATE_URLS": "1", "KMC_LEASE_SECONDS": str(LEASE), "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    logs, procs = [data.parent / f"worker-{data.name}-{i}.log" for i in range(2)], []
    for log in logs:
        with log.open("wb") as out:  # the worker logs to stderr
            cmd = [sys.executable, "-m", "kmc_ui", "worker", "--threads", str(threads)]
            procs.append(subprocess.Popen(cmd, env=env, cwd=data.parent, stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    for log, proc in zip(logs, procs, strict=True):  # ready once it logged its threads and queue
        while b"queue on" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                for p in procs:
                    stop(p)
                raise RuntimeError(f"a worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
    return procs


def phase(n: int, threads: int, work: Path, fake: FakeFal, image: Path, video: Path) -> None:
    (data := work / f"data-{n}").mkdir()
    fake.reset()
    fake.scenario = Scenario(submitted_s=1.0, processing_s=2.0)
    procs = start_workers(fake, data, threads)
    idle = [proc_kb(p.pid, "VmRSS") for p in procs]
    settings = Settings(
        backend="fal", fal_key=fake.key, fal_queue_base=fake.base_url, allow_private_urls=True,
        data_dir=data, workers=0, lease_seconds=LEASE,
    )  # fmt: skip
    studio = Studio(settings, build_backends(settings, None))
    seen: dict[int, dict[str, object]] = {}

    def one(i: int) -> None:
        info: dict[str, object] = {"prompt": f"bench run {i:03d}: a dancer on a rooftop at dusk"}
        seen[i] = info
        inputs = Inputs(image=str(image), video=str(video), prompt=str(info["prompt"]), backend="fal")
        for step in studio.generate(inputs, owner="bench"):
            info["run_id"], info["last"] = step.run_id or info.get("run_id"), step
            from_worker = step.run_id and step.stage != "preparing" and step.text != WAITING_FOR_WORKER
            if from_worker and "claimed" not in info:
                info["claimed"] = time.time()
                row = studio.history.store.work.get(str(step.run_id)) or {}
                info["worker"] = str(row.get("worker") or "?:?").split(":")[1]

    t0 = time.time()
    try:
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(one, range(n)))
        hwm, rss = [proc_kb(p.pid, "VmHWM") for p in procs], [proc_kb(p.pid, "VmRSS") for p in procs]
    finally:
        codes = [stop(p) for p in procs]
    studio.close()
    studio.history.close()

    records = {r["run_id"]: r for r in stored_records(data)}
    ok = [r for r in records.values() if r["status"] == "succeeded" and Path(str(r.get("output"))).is_file()]
    span = max([r.get("finished_at") or time.time() for r in records.values()], default=time.time()) - t0
    told = Counter(getattr(s.get("last"), "stage", "none") for s in seen.values())
    wrong = [s for s in seen.values() if getattr(s.get("last"), "stage", "") != "done"]
    tasks = Counter(str(t.body.get("prompt")) for t in fake.tasks.values())
    dup = sum(1 for s in seen.values() if tasks[str(s["prompt"])] > 1)
    claim = [float(s["claimed"]) - records[str(s["run_id"])]["created_at"] for s in seen.values() if "claimed" in s]
    submit = [r["submitted_at"] - r["created_at"] for r in records.values() if r.get("submitted_at")]
    by_worker = Counter(str(s.get("worker")) for s in seen.values())

    print(f"\n== {n} concurrent runs, 2 workers x {threads} threads ({span:.1f} s)")
    print(f"runs finished {len(ok)} / lost {n - len(ok)} / duplicated {dup} (stored: succeeded with the result file)")
    print(f"tasks at the fake {len(fake.tasks)} for {len(records)} run records; creates sent {fake.create_count}")
    print(f"what the watchers were told at the end: {dict(told)}")
    for s in wrong[:3]:
        last, stored = s.get("last"), (records.get(str(s.get("run_id"))) or {}).get("status")
        print(f"  ! {s['run_id']}: told {getattr(last, 'stage', '')} {getattr(last, 'text', '')!r}, stored {stored}")
    print(f"runs per minute {len(ok) / span * 60:.1f}; runs per worker pid (? = ended before seen) {dict(by_worker)}")
    print(f"queue latency, created -> first worker progress  {fmt(claim)}")
    print(f"queue latency, created -> submitted_at (+uploads, create) {fmt(submit)}")
    for p, a, b, c in zip(procs, idle, rss, hwm, strict=True):
        print(f"worker pid {p.pid}: VmRSS idle {a / 1024:.0f} MB, end {b / 1024:.0f} MB; VmHWM {c / 1024:.0f} MB")
    print(f"worker exit codes after SIGTERM {codes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, nargs="*", default=[10, 50])
    parser.add_argument("--threads", type=int, default=30, help="threads per worker process")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    with tempfile.TemporaryDirectory(prefix="kmc-bench-runs-") as tmp:
        work = Path(tmp)
        image = make_image(work / "character.png", 480, 854, fmt="PNG")
        video = make_video(work / "motion.mp4", 640, 360, seconds=3.5, fps=12)
        fake = FakeFal(result_file=make_video(work / "result.mp4", 320, 240, seconds=1.0, fps=12)).start()
        try:
            for n in args.runs:
                phase(n, args.threads, work, fake, image, video)
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
