"""Round-trip figures of the Kling legacy backend against the loopback fake (no network).

    python bench/bench_backend_kling.py

Prints: JWT signing cost, submit / poll latency (the fake really fetches the video from
MediaHost and reads it with PyAV), result download throughput, MediaHost serving
throughput and range latency, and a whole run_job (fake clock, so waiting costs nothing).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.applications import Starlette

from kmc_ui.backends.base import JobRequest
from kmc_ui.backends.kling import KlingLegacyBackend
from kmc_ui.history import History
from kmc_ui.jobs import run_job
from kmc_ui.media.hosting import MediaHost, add_media_routes
from kmc_ui.settings import Settings
from tests.fakes import FakeClock, ServerThread
from tests.fakes.kling import FakeKling
from tests.media_factory import make_image, make_video


def ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.1f} ms, p90 {sorted(values)[int(len(values) * 0.9)] * 1000:.1f} ms"
    )


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="kmc-bench-"))
    video = make_video(root / "motion.mp4", 1280, 720, seconds=10.0, fps=30)
    image = make_image(root / "character.jpg", 720, 1280, fmt="JPEG")
    big = root / "result-big.mp4"
    big.write_bytes(os.urandom(50 * 1024 * 1024))
    print(f"inputs: video {video.stat().st_size / 1e6:.1f} MB (10 s 720p), image {image.stat().st_size / 1e3:.0f} kB")

    fake = FakeKling(result_file=big).start()
    app = Starlette()
    server = ServerThread(app)
    host = MediaHost(server.url, [root], allow_private=True)
    add_media_routes(app, host)
    server.start()
    settings = Settings(
        kling_access_key=fake.access_key, kling_secret_key=fake.secret_key, kling_api_base=fake.base_url
    )
    backend = KlingLegacyBackend(settings, host)
    try:
        n = 5000
        t = time.perf_counter()
        for _ in range(n):
            backend._token()
        print(f"JWT signing: {(time.perf_counter() - t) / n * 1e6:.0f} us per token")

        submits, polls = [], []
        ids = []
        for i in range(15):
            t = time.perf_counter()
            ids.append(backend.submit(JobRequest(image, video, run_id=f"bench-{i}")))
            submits.append(time.perf_counter() - t)
        for _ in range(100):
            t = time.perf_counter()
            state = backend.poll(random.choice(ids))
            polls.append(time.perf_counter() - t)
        print(f"submit (fake fetches {video.stat().st_size / 1e6:.1f} MB from MediaHost + PyAV): {ms(submits)}")
        print(f"poll: {ms(polls)}")

        speeds = []
        for i in range(3):
            t = time.perf_counter()
            backend.download(state, root / f"dl{i}.mp4")
            speeds.append(big.stat().st_size / (time.perf_counter() - t) / 1e6)
        print(f"download (50 MB, streamed, .part + rename): {statistics.median(speeds):.0f} MB/s")

        url = host.register(big)
        with httpx.Client() as client:
            t = time.perf_counter()
            size = len(client.get(url).content)
            print(f"MediaHost full GET (50 MB): {size / (time.perf_counter() - t) / 1e6:.0f} MB/s")
            ranges = []
            for _ in range(50):
                start = random.randrange(0, size - 65536)
                t = time.perf_counter()
                client.get(url, headers={"Range": f"bytes={start}-{start + 65535}"})
                ranges.append(time.perf_counter() - t)
            print(f"MediaHost 64 kB range GET: {ms(ranges)}")

        fake.result_file = video  # a normal-size result for whole runs
        history = History(root / "data")
        runs = []
        for i in range(5):
            clock = FakeClock()
            fake.clock = clock.now
            request = JobRequest(image, video, run_id=f"run-{i}")
            history.create("bench", {"run_id": request.run_id})
            t = time.perf_counter()
            steps = list(run_job(backend, request, history, "bench", clock=clock.clock()))
            runs.append(time.perf_counter() - t)
            assert steps[-1].stage == "done", steps[-1].text
        print(f"whole run_job (submit, 1 poll, download {video.stat().st_size / 1e6:.1f} MB): {ms(runs)}")
    finally:
        backend.close()
        fake.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
