"""Efficiency figures of the hosted backends against their loopback fakes (no network).

    python bench/bench_backends.py            # all three parts
    python bench/bench_backends.py a b        # a subset

(a) success -> file ready: real time from the moment the backend learns the task succeeded to the
    moment run_job has the output file on disk, split into the download itself and the rest
    (history writes, the result body read, the rename). Target: rest < 1.5 s.
(b) polling load over a simulated 3-minute task with the real PollPolicy and a FakeClock shared by
    the runner and the fake: status requests per 2 s on average (target <= 1) and how late the
    finish is noticed (target <= 2 s); then a sweep over finish times 10 s .. 10 min.
(c) a 200 MB result streamed to disk: throughput and the peak RSS growth of the process.
"""

from __future__ import annotations

import gc
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.applications import Starlette

from kmc_ui.backends.base import JobRequest, TaskState
from kmc_ui.history import History
from kmc_ui.jobs import PollPolicy, run_job
from kmc_ui.media.hosting import MediaHost, add_media_routes
from tests.fakes import FakeClock, ServerThread
from tests.fakes.fal import FakeFal
from tests.fakes.kling import FakeKling
from tests.fakes.kling2 import FakeKling2
from tests.fakes.providers import KITS, NAMES, Kit
from tests.fakes.replicate import FakeReplicate
from tests.media_factory import make_image, make_video

FAKES = {"kling": FakeKling, "kling2": FakeKling2, "fal": FakeFal, "replicate": FakeReplicate}


class Timed:
    """Delegates to a backend; notes when a poll returned success and when the download ran."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.name, self.label, self.needs_video_url = backend.name, backend.label, backend.needs_video_url
        self.success_at = self.dl_start = self.dl_end = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def poll(self, task_id: str) -> TaskState:
        state = self.backend.poll(task_id)
        if state.status == "succeeded" and not self.success_at:
            self.success_at = time.perf_counter()
        return state

    def download(self, state: TaskState, dest: Path) -> Path:
        self.dl_start = time.perf_counter()
        try:
            return self.backend.download(state, dest)
        finally:
            self.dl_end = time.perf_counter()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def part_a(kits: dict[str, Kit], root: Path, host: MediaHost, image: Path, video: Path) -> None:
    print("\n(a) success reported -> output file ready (real time, FakeClock for the waits)")
    big = root / "result-20mb.mp4"
    big.write_bytes(random.randbytes(20 * 1024 * 1024))
    for name, kit in kits.items():
        kit.fake.result_file = big
        rest, downloads = [], []
        for i in range(5):
            clock = FakeClock()
            kit.fake.clock = clock.now
            kit.scenario(submitted_s=3, processing_s=20)
            backend = Timed(kit.backend(kit.settings(host.public_base_url, root / "data"), host))
            history = History(root / "data")
            request = JobRequest(image, video, run_id=f"a-{name}-{i}")
            history.create("bench", {"run_id": request.run_id})
            steps = run_job(backend, request, history, "bench", clock=clock.clock())  # type: ignore[arg-type]
            for step in steps:
                if step.stage == "done":
                    ready = time.perf_counter()
                    assert step.result_path and step.result_path.stat().st_size == big.stat().st_size
                elif step.finished:
                    raise RuntimeError(step.text)
            download = backend.dl_end - backend.dl_start
            downloads.append(download)
            rest.append(ready - backend.success_at - download)
            backend.close()
        print(
            f"  {name:9} 20 MB result: download median {statistics.median(downloads) * 1000:6.1f} ms; "
            f"everything else median {statistics.median(rest) * 1000:5.1f} ms, max {max(rest) * 1000:5.1f} ms "
            f"(target < 1500 ms)"
        )


def simulate(kit: Kit, host: MediaHost, root: Path, image: Path, video: Path, **scenario: Any) -> dict[str, float]:
    clock = FakeClock()
    kit.fake.clock = clock.now
    with kit.fake._lock:
        kit.fake.requests.clear()
    kit.scenario(**scenario)
    backend = kit.backend(kit.settings(host.public_base_url, root / "data"), host)
    history = History(root / "data")
    request = JobRequest(image, video, run_id=f"b-{kit.name}-{time.perf_counter_ns()}")
    history.create("bench", {"run_id": request.run_id})
    steps = list(run_job(backend, request, history, "bench", clock=clock.clock()))
    backend.close()
    if steps[-1].stage != "done":
        raise RuntimeError(steps[-1].text)
    finish = scenario.get("submitted_s", 0) + scenario["processing_s"]
    polls = [r.at for r in kit.fake.requests_at("poll")]
    extra = len(kit.fake.requests_at("response"))  # fal reads the result body once
    return {
        "finish": finish,
        "polls": len(polls),
        "extra": extra,
        "per_2s": (len(polls) + extra) / (polls[-1] / 2),
        "late": polls[-1] - finish,
    }


def part_b(kits: dict[str, Kit], root: Path, host: MediaHost, image: Path, video: Path) -> None:
    policy = PollPolicy()
    print(
        f"\n(b) polling load, real PollPolicy (first {policy.first} s, queued {policy.queued}/{policy.queued_far} s, "
        f"running {policy.warmup_interval} s for the first {policy.warmup:g} s, then {policy.running} s)"
    )
    for name, kit in kits.items():
        for label, scenario in (
            ("3 min running", {"processing_s": 180.0}),
            ("30 s queued + 150 s", {"submitted_s": 30.0, "processing_s": 150.0, "queue_position": 8}),
        ):
            r = simulate(kit, host, root, image, video, **scenario)
            print(
                f"  {name:9} {label:20}: {r['polls']:3d} status requests"
                f"{' + ' + str(int(r['extra'])) + ' result read' if r['extra'] else ''}, "
                f"{r['per_2s']:.2f} per 2 s (target <= 1), finish noticed {r['late']:.2f} s late (target <= 2)"
            )
    kit = kits["kling2"]
    lates, loads = [], []
    finishes = [10 + 7.3 * i for i in range(81)]  # 10 s .. 10 min, not aligned with the poll grid
    for finish in finishes:
        r = simulate(kit, host, root, image, video, submitted_s=0.0, processing_s=finish)
        lates.append((finish, r["late"]))
        loads.append(r["per_2s"])
    after = [late for f, late in lates if f >= policy.warmup]
    before = [late for f, late in lates if f < policy.warmup]
    print(
        f"  sweep of {len(finishes)} finish times 10 s .. 10 min (kling2): finish noticed at most "
        f"{max(after):.2f} s late when it ends after the {policy.warmup:g} s warm-up, at most {max(before):.2f} s "
        f"late before it; load {min(loads):.2f} .. {max(loads):.2f} requests per 2 s"
    )


def part_c(kits: dict[str, Kit], root: Path, host: MediaHost, image: Path, video: Path) -> None:
    print("\n(c) 200 MB result streamed to disk (fake CDN in this process, FileResponse in 64 kB chunks)")
    big = root / "result-200mb.mp4"
    with big.open("wb") as fh:
        for _ in range(200):
            fh.write(random.randbytes(1024 * 1024))
    for name, kit in kits.items():
        kit.fake.result_file = big
        clock = FakeClock()
        kit.fake.clock = clock.now
        kit.scenario()
        backend = kit.backend(kit.settings(host.public_base_url, root / "data"), host)
        state = backend.poll(backend.submit(JobRequest(image, video, run_id=f"c-{name}")))
        gc.collect()
        dest = root / f"dl-{name}.mp4"
        before_peak, before_now = peak_rss_mb(), current_rss_mb()
        t = time.perf_counter()
        backend.download(state, dest)
        took = time.perf_counter() - t
        after_peak, after_now = peak_rss_mb(), current_rss_mb()
        size = dest.stat().st_size
        assert size == big.stat().st_size
        print(
            f"  {name:9} {size / 2**20:.0f} MiB in {took:.2f} s ({size / took / 2**20:.0f} MiB/s); "
            f"RSS {before_now:.0f} -> {after_now:.0f} MB, peak RSS growth {after_peak - before_peak:+.1f} MB "
            f"(peak {after_peak:.0f} MB)"
        )
        dest.unlink()
        backend.close()


def main(parts: list[str]) -> None:
    root = Path(tempfile.mkdtemp(prefix="kmc-bench-backends-"))
    video = make_video(root / "motion.mp4", 640, 360, seconds=3.5, fps=12)
    image = make_image(root / "character.png", 480, 854, fmt="PNG")
    app = Starlette()
    server = ServerThread(app).start()
    host = MediaHost(server.url, [root], allow_private=True)
    add_media_routes(app, host)
    fakes = {name: FAKES[name](result_file=video).start() for name in NAMES}
    kits = {name: KITS[name](fake) for name, fake in fakes.items()}
    print(f"python {sys.version.split()[0]}, {len(kits)} providers: {', '.join(kits)}")
    try:
        if "a" in parts:
            part_a(kits, root, host, image, video)
        if "b" in parts:
            part_b(kits, root, host, image, video)
        if "c" in parts:
            part_c(kits, root, host, image, video)
    finally:
        for fake in fakes.values():
            fake.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["a", "b", "c"])
