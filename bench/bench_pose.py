"""Benchmark of the pose pre-flight: prints its figures (targets from issue 4).

    python bench/bench_pose.py [--media DIR] [--work DIR] [--runs N]

- image analysis (target < 0.3 s): cold process, warm graphs, cached;
- a 30 s 1080p video (target < 2 s): the sample dance looped to 30 s, encoded twice, at a
  typical re-encode bit rate (~2 Mbps, CRF 20) and at a phone-like 16 Mbps;
- the 12 s 1080p sample through the app's body check (target < 2 s cold, issue 16);
- re-check after a setting change (target < 50 ms): pose_findings on cached analyses.
The 30 s clips are made once under --work (about 30 s of ffmpeg) and reused.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kmc_ui.checks.pose import pose_findings  # noqa: E402
from kmc_ui.pose import analyse_image, analyse_video, warm_up  # noqa: E402
from kmc_ui.pose import cache as pose_cache  # noqa: E402
from kmc_ui.pose.detect import THREADED_DECODE_BPS  # noqa: E402
from tests.media_factory import ffmpeg_exe  # noqa: E402

SHARED = ROOT.parent / "shared" / "media"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_clips(media: Path, work: Path) -> dict[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    dance = media / "dance_fullbody_12s.mp4"
    out = {"crf20 (~2 Mbps)": work / "dance30_crf20.mp4", "16 Mbps": work / "dance30_16m.mp4"}
    rates = {
        "crf20 (~2 Mbps)": ["-crf", "20"],
        "16 Mbps": ["-b:v", "16M", "-maxrate", "16M", "-bufsize", "32M"],
    }
    for name, path in out.items():
        if not path.is_file():
            print(f"making {path.name} (30 s, 1080x1920, H.264 {name}) ...", flush=True)
            cmd = [ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "2", "-i", str(dance), "-t", "30"]
            cmd += ["-c:v", "libx264", "-preset", "veryfast", *rates[name], "-pix_fmt", "yuv420p", "-an", str(path)]
            subprocess.run(cmd, check=True)
    return out


def cold_image(image: Path, cache_dir: Path) -> float:
    """First image analysis in a fresh interpreter (imports, bundle, graph, detection)."""
    code = (
        f"import time,sys; t=time.perf_counter(); sys.path.insert(0, {str(ROOT)!r});"
        f"from kmc_ui.pose import analyse_image; a=analyse_image({str(image)!r}, cache_dir={str(cache_dir)!r}, "
        "use_cache=False); print(time.perf_counter()-t)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(res.stdout.strip().splitlines()[-1])


def sample_12s(media: Path, work: Path, runs: int) -> None:
    """Issue 16's figure: the 12 s 1080p sample through the running app's body check (Studio.body_check
    on its pose worker, models warmed at start-up like the app does), cold: a fresh cache each run."""
    from kmc_ui.settings import Settings
    from kmc_ui.studio import Inputs, Studio

    clip, image = media / "dance_fullbody_12s.mp4", media / "character_anime_fullbody.jpg"
    print("\n== body check of the 12 s 1080p sample in the app (Studio.body_check, no previews), cold, target < 2 s")
    walls, cpus = [], []
    for k in range(runs):
        studio = Studio(Settings(data_dir=Path(tempfile.mkdtemp(prefix="kmc-bench-app-"))), {})
        studio.warm_up()
        studio._pose_pool.submit("", lambda: None).result()  # the warm-up finished
        pose_cache.clear_memory()
        load = os.getloadavg()[0]
        c, t = cpu(), time.perf_counter()
        report = studio.body_check(Inputs(image=str(image), video=str(clip)), previews=False)
        walls.append(time.perf_counter() - t)
        cpus.append(cpu() - c)
        window = f"{report.trim.start:.1f}-{report.trim.end:.1f} s" if report.trim else "none"
        print(
            f"  run {k + 1}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU (load average {load:.1f}); "
            f"{len(report.findings)} findings; suggested trim window {window}"
        )
    print(f"  median {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", type=Path, default=SHARED)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kmc-bench-pose")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only-12s", action="store_true", help="only the 12 s sample through the app's body check")
    args = ap.parse_args()
    if args.only_12s:
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        sample_12s(args.media, args.work, args.runs)
        return
    image = args.media / "character_anime_fullbody.jpg"
    if not image.is_file():
        sys.exit(f"sample media not found in {args.media}")
    clips = make_clips(args.media, args.work)
    cache_dir = args.work / "cache"

    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (other work shares the cores)")
    print("\n== image analysis (704x1216 JPEG), target < 0.3 s")
    empty_cache = Path(tempfile.mkdtemp(prefix="kmc-bench-cold-"))
    print(f"  cold process, no cached model bundle:   {cold_image(image, empty_cache):.3f} s (import + bundle + graph)")
    print(f"  cold process, bundle cached on disk:    {cold_image(image, empty_cache):.3f} s (import + graph)")
    print(f"  warm_up() on this thread:               {warm_up(cache_dir):.3f} s")
    times = []
    for _ in range(10):
        t = time.perf_counter()
        analyse_image(image, cache_dir=cache_dir, use_cache=False)
        times.append(time.perf_counter() - t)
    print(f"  warm graphs, not cached (median of 10): {statistics.median(times):.3f} s (min {min(times):.3f})")
    t = time.perf_counter()
    analyse_image(image, cache_dir=cache_dir)
    analyse_image(image, cache_dir=cache_dir)
    print(f"  cached (memory):                        {(time.perf_counter() - t) / 2 * 1000:.2f} ms")

    print("\n== 30 s 1080p video (1080x1920, 24 fps, 720 frames), target < 2 s")
    for name, path in clips.items():
        walls, cpus = [], []
        a = None
        for _ in range(args.runs):
            c, t = cpu(), time.perf_counter()
            a = analyse_video(path, cache_dir=cache_dir, use_cache=False)
            walls.append(time.perf_counter() - t)
            cpus.append(cpu() - c)
        assert a is not None
        size = path.stat().st_size * 8 / 30 / 1e6
        print(
            f"  {name:16s} {size:5.1f} Mbps: wall median {statistics.median(walls):.2f} s "
            f"(min {min(walls):.2f}, runs {', '.join(f'{w:.2f}' for w in walls)}), "
            f"CPU {statistics.median(cpus):.2f} s; "
            f"{a.frames_looked_at} frames looked at, {len(a.times)} pose frames, {len(a.people_times)} people counts"
        )
        # the parts, for the explanation: decode alone
        import av

        c, t = cpu(), time.perf_counter()
        with av.open(str(path)) as container:
            s = container.streams.video[0]
            s.thread_type = "AUTO"
            s.codec_context.thread_count = 0 if (s.bit_rate or 0) > THREADED_DECODE_BPS else 1
            s.codec_context.skip_frame = "NONREF"
            s.codec_context.options = {"skip_loop_filter": "all"}
            n = sum(1 for _ in container.decode(s))
        print(
            f"    decode only (same settings, {n} frames): {time.perf_counter() - t:.2f} s wall, {cpu() - c:.2f} s CPU"
        )

    sample_12s(args.media, args.work, args.runs)

    print("\n== re-check after a setting change, target < 50 ms")
    video = next(iter(clips.values()))
    pose_cache.clear_memory()
    t = time.perf_counter()
    pose_findings(image, video, "video", cache_dir=cache_dir)
    print(f"  first check after a restart (analyses from the disk cache): {(time.perf_counter() - t) * 1000:.1f} ms")
    times = []
    for i in range(20):
        t = time.perf_counter()
        pose_findings(image, video, ("image", "video")[i % 2], cache_dir=cache_dir)
        times.append(time.perf_counter() - t)
    print(f"  orientation flipped, analyses in memory (median of 20): {statistics.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
