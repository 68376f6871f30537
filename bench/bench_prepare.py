"""Benchmark: the preparation step ("What will be sent").

    python bench/bench_prepare.py [--runs 21] [--keep DIR] [--skip-rss]

Prints:
  (a) ms for a conforming 1080p H.264 clip passing through (no re-encode), plus a stream-copy
      trim (12 s -> 10 s for orientation 'image') and a cache hit of that trim;
  (b) the speed of a required 1080p transcode (10 s VP9 WebM -> H.264 MP4) as x real time;
      target >= 2x real time on this 2-core machine;
  (c) peak RSS of a fresh process (VmHWM) and of its ffmpeg children (RUSAGE_CHILDREN) while it
      prepares a ~110 MB 1080p video (over the 100 MB limit, so it is re-encoded under it) and
      base64-encodes a ~8 MB character image; target under 500 MB each.
Inputs are generated with ffmpeg in a temp dir (the shared dance clip is used as the 1080p
source picture when ../shared/media is present, else a noisy test pattern).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.media.prepare import prepare_image, prepare_video
from kmc_ui.media.probe import probe_image, probe_video
from tests.media_factory import ffmpeg_exe

SHARED_CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "dance_fullbody_12s.mp4"
TARGET_SPEED = 2.0
TARGET_RSS_MB = 500.0


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def source_args(seconds: float) -> list[str]:
    """A 1080p picture with real motion when the shared clip is there, else noisy test pattern + tone."""
    if SHARED_CLIP.is_file():
        return ["-stream_loop", "-1", "-i", str(SHARED_CLIP), "-t", str(seconds)]
    return [
        "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=24", "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", str(seconds), "-vf", "noise=alls=20:allf=t",
    ]  # fmt: skip


def build_inputs(tmp: Path) -> dict[str, Path]:
    paths = {
        "conforming": tmp / "conforming_1080p_10s.mp4",
        "long": tmp / "long_1080p_12s.mp4",
        "vp9": tmp / "vp9_1080p_10s.webm",
        "big": tmp / "big_1080p_20s.mp4",
        "image": tmp / "character_4000x3000.jpg",
    }
    print("building inputs ...", flush=True)
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg(*source_args(10), *x264, "-g", "48", "-movflags", "+faststart", str(paths["conforming"]))
    ffmpeg(*source_args(12), *x264, "-g", "24", str(paths["long"]))
    ffmpeg(
        *source_args(10), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
        "-b:v", "6M", "-pix_fmt", "yuv420p", "-c:a", "libopus", str(paths["vp9"]),
    )  # fmt: skip
    # ~110 MB: noisy picture at a high bit rate (over the 100 MB limit on purpose)
    ffmpeg(
        *source_args(20), "-vf", "noise=alls=40:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
        "-b:v", "44M", "-maxrate", "44M", "-bufsize", "20M", "-pix_fmt", "yuv420p", "-c:a", "aac", str(paths["big"]),
    )  # fmt: skip
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=4000x3000,noise=alls=60:allf=t", "-frames:v", "1", "-q:v", "2",
        str(paths["image"]),
    )  # fmt: skip
    for name, p in paths.items():
        print(f"  {name:<10} {p.name:<28} {p.stat().st_size / 1e6:7.1f} MB")
    return paths


def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_pass_through(paths: dict[str, Path], out: Path, runs: int) -> None:
    info = probe_video(paths["conforming"])
    res = prepare_video(info, "video", out_dir=out)
    assert res.path == paths["conforming"] and not res.reencoded, res
    ms = median_ms(lambda: prepare_video(info, "video", out_dir=out), runs)
    print(f"(a) conforming 1080p 10 s H.264 passes through: {ms:.3f} ms (median of {runs}), no re-encode, same path")

    long_info = probe_video(paths["long"])
    t0 = time.perf_counter()
    res = prepare_video(long_info, "image", out_dir=out)
    trim_ms = (time.perf_counter() - t0) * 1000
    print(f"    stream-copy trim 12 s -> {res.info.duration:.2f} s: {trim_ms:.0f} ms ({'; '.join(res.actions)})")
    hit = median_ms(lambda: prepare_video(long_info, "image", out_dir=out), runs)
    print(f"    same request again (cache hit): {hit:.1f} ms (median of {runs})")


def bench_transcode(paths: dict[str, Path], out: Path) -> None:
    info = probe_video(paths["vp9"])
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    res = prepare_video(info, "video", out_dir=out)
    elapsed = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    speed = info.duration / elapsed
    verdict = "meets" if speed >= TARGET_SPEED else "MISSES"
    print(
        f"(b) 1080p VP9 -> H.264 ({info.width}x{info.height}, {info.duration:.1f} s): {elapsed:.2f} s = "
        f"{speed:.2f}x real time ({verdict} the {TARGET_SPEED:.0f}x target); "
        f"result {res.info.codec} {res.info.pix_fmt} {res.info.size_bytes / 1e6:.1f} MB"
    )
    print(
        f"    ffmpeg CPU time {cpu:.2f} s: {info.duration / (cpu / 2):.2f}x real time on 2 otherwise idle cores; "
        f"load average now {os.getloadavg()[0]:.1f} (other work on the machine slows the wall-clock figure)"
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_rss(paths: dict[str, Path], out: Path) -> None:
    """Run the memory case in a fresh process so its peak is not the benchmark's own."""
    cmd = [sys.executable, __file__, "--rss-child", str(paths["big"]), str(paths["image"]), str(out)]
    report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    ok = "meets" if max(report["self_mb"], report["children_mb"]) < TARGET_RSS_MB else "MISSES"
    print(
        f"(c) peak RSS preparing a {report['video_mb']:.0f} MB 1080p video ({report['seconds']:.1f} s: "
        f"{report['actions']}) -> {report['out_mb']:.1f} MB, and base64 of a {report['image_mb']:.1f} MB image: "
        f"python {report['self_mb']:.0f} MB, ffmpeg children {report['children_mb']:.0f} MB "
        f"({ok} the {TARGET_RSS_MB:.0f} MB target)"
    )


def rss_child(video: Path, image: Path, out: Path) -> None:
    t0 = time.perf_counter()
    res = prepare_video(probe_video(video), "video", out_dir=out)
    img = prepare_image(probe_image(image), out)
    encoded = base64.b64encode(img.path.read_bytes())
    seconds = time.perf_counter() - t0
    hwm_kb = next(
        int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM")
    )
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = {
        "self_mb": hwm_kb / 1024,
        "children_mb": children_kb / 1024,
        "video_mb": video.stat().st_size / 1e6,
        "out_mb": res.info.size_bytes / 1e6,
        "image_mb": image.stat().st_size / 1e6,
        "b64_mb": len(encoded) / 1e6,
        "seconds": seconds,
        "actions": "; ".join(res.actions),
    }
    print(json.dumps(report))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--keep", type=Path, help="build inputs here and keep them")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--rss-child", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    with tempfile.TemporaryDirectory(prefix="kmc-bench-prepare-") as tmp_name:
        tmp = args.keep or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        paths = build_inputs(tmp)
        bench_pass_through(paths, tmp / "out", args.runs)
        bench_transcode(paths, tmp / "out")
        if not args.skip_rss:
            bench_rss(paths, tmp / "out-rss")


if __name__ == "__main__":
    main()
