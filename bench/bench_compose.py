"""Benchmark: the side-by-side comparison export (kmc_ui/media/compose.py).

    python bench/bench_compose.py [--runs 3] [--keep DIR] [--skip-moviepy]

For each 10 s 1080p pair below, prints the export's wall time (median and best of --runs), its
speed as x real time (target >= 5x on this 2-core machine), the CPU seconds ffmpeg used (and the
speed they allow when both cores are free: the machine is shared, so wall times vary), the layout and
the bit rate written, and the decode floor (both inputs decoded to nothing with the same flags:
no export of that pair can beat it); then the same realistic pair through moviepy frame piping (clips_array,
resized, write_videofile at the same height with preset ultrafast and 2 threads) for comparison,
with what each file turned out to be (pixel format, audio codec, faststart).

Pairs (made with ffmpeg in a temp dir, or reused from --keep):
  dance     1080x1920 24 fps: the shared dance clip (../shared/media, ~1.7 Mb/s, a typical
            downloaded dance video) beside a mirrored, re-coloured copy at 5 Mb/s (a 1080p result)
  portrait  1080x1920 30 fps test patterns (testsrc2 | mandelbrot) at 8 Mb/s each
  landscape 1920x1080 30 fps, the same at 8 Mb/s each
  phone     1080x1920 30 fps, grainy pictures at 16 Mb/s each (what a phone camera records): the
            worst case. Decoding dominates: two 1080p streams cost ~2-4 s of CPU to decode here,
            whatever is done with the frames afterwards.
The load average is printed too: other work on the machine slows every figure.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.media.compose import ComparisonPlan, export_plan, moov_first, plan_comparison
from kmc_ui.media.probe import probe_video
from tests.media_factory import ffmpeg_exe

SHARED_CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "dance_fullbody_12s.mp4"
SECONDS = 10.0
TARGET_SPEED = 5.0


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def x264(rate: str = "", crf: int = 20) -> list[str]:
    args = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    if rate:
        return [*args, "-b:v", rate, "-maxrate", rate, "-bufsize", rate]
    return [*args, "-crf", str(crf)]


def lavfi(source: str, size: str, rate: int, extra: str = "") -> list[str]:
    return ["-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}{extra}"]


def tone(freq: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000"]


def make(path: Path, *args: str) -> Path:
    """ffmpeg <args> <path>, unless a --keep folder has it already (inputs take ~2 min to make)."""
    if not (path.is_file() and probe_video(path).ok):
        ffmpeg(*args, str(path))
    return path


def build_pairs(tmp: Path) -> dict[str, tuple[Path, Path]]:
    t = ["-t", str(SECONDS)]
    aac = ["-c:a", "aac", "-shortest"]
    pairs: dict[str, tuple[Path, Path]] = {}
    if SHARED_CLIP.is_file():
        pairs["dance"] = (
            make(tmp / "dance_ref.mp4", "-i", str(SHARED_CLIP), *t, "-c", "copy"),
            make(tmp / "dance_out.mp4", "-i", str(SHARED_CLIP), *t, "-vf", "hflip,hue=h=90", *x264("5M"), *aac),
        )
    else:
        print(f"(no {SHARED_CLIP}: the dance pair is skipped)")
    for name, size in (("portrait", "1080x1920"), ("landscape", "1920x1080")):
        pairs[name] = (
            make(tmp / f"{name}_ref.mp4", *lavfi("testsrc2", size, 30), *tone(440), *t, *x264("8M"), *aac),
            make(tmp / f"{name}_out.mp4", *lavfi("mandelbrot", size, 30), *tone(660), *t, *x264("8M"), *aac),
        )
    grain = ["-vf", "noise=alls=6:allf=t"]
    pairs["phone"] = (
        make(tmp / "phone_ref.mp4", *lavfi("testsrc2", "1080x1920", 30), *tone(440), *t, *grain, *x264("16M"), *aac),
        make(tmp / "phone_out.mp4", *lavfi("mandelbrot", "1080x1920", 30), *tone(660), *t, *grain, *x264("16M"), *aac),
    )
    return pairs


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def describe(path: Path) -> str:
    info = probe_video(path)
    mbps = path.stat().st_size * 8 / max(info.duration, 0.001) / 1e6
    return (
        f"{info.width}x{info.height} {info.codec} {info.pix_fmt}, audio {info.audio_codec or 'none'}, "
        f"faststart {'yes' if moov_first(path) else 'no'}, {info.duration:.2f} s, {mbps:.1f} Mb/s"
    )


def bench_ours(name: str, ref: Path, out: Path, dest: Path, runs: int) -> float:
    plan = plan_comparison(ref, out)
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, t0 = children_cpu(), time.perf_counter()
        export_plan(plan, dest)
        walls.append(time.perf_counter() - t0)
        cpus.append(children_cpu() - cpu0)
    wall = statistics.median(walls)
    speed, best = SECONDS / wall, SECONDS / min(walls)
    verdict = "ok" if speed >= TARGET_SPEED else "BELOW TARGET"
    print(
        f"{name:9s} {ref.name} | {out.name}: median {wall:5.2f} s = {speed:4.1f}x real time, best {best:4.1f}x "
        f"(runs {', '.join(f'{w:.2f}' for w in walls)} s; preset {plan.preset})  [{verdict}, target >= "
        f"{TARGET_SPEED:g}x]"
    )
    cpu = statistics.median(cpus)
    print(
        f"{'':9s} ffmpeg used {cpu:.2f} s of CPU: {SECONDS / (cpu / 2):.1f}x real time is the ceiling with both "
        f"cores free (load average now {os.getloadavg()[0]:.2f})"
    )
    print(f"{'':9s} -> {describe(dest)}")
    floor = decode_floor(plan)
    print(
        f"{'':9s} decoding the two inputs alone (same flags, frames thrown away): {floor:.2f} s wall = "
        f"{SECONDS / floor:.1f}x real time, the ceiling for any export of this pair"
    )
    return speed


def decode_floor(plan: ComparisonPlan) -> float:
    """Wall time of decoding every panel's input to nothing, with the export's decode flags."""
    args = [ffmpeg_exe(), "-v", "error"]
    for panel in plan.panels:
        args += [*panel.decode_args(), "-t", f"{SECONDS:g}", "-i", panel.info.path]
    for i in range(len(plan.panels)):
        args += ["-map", f"{i}:v:0", "-f", "null", "-"]
    walls = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run(args, check=True)
        walls.append(time.perf_counter() - t0)
    return min(walls)


def bench_moviepy(ref: Path, out: Path, dest: Path, height: int) -> float:
    from moviepy import VideoFileClip, clips_array

    t0 = time.perf_counter()
    a, b = VideoFileClip(str(ref)), VideoFileClip(str(out))
    duration = min(a.duration, b.duration)
    a2 = a.resized(height=height).subclipped(0, duration)
    b2 = b.resized(height=height).subclipped(0, duration)
    both = clips_array([[a2, b2]]).with_audio(a2.audio)
    both.write_videofile(str(dest), preset="ultrafast", threads=2, logger=None)
    for c in (a, b, both):
        c.close()
    wall = time.perf_counter() - t0
    print(f"moviepy   frame piping, same pair and height: {wall:5.2f} s  = {SECONDS / wall:4.1f}x real time")
    print(f"{'':9s} -> {describe(dest)}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the inputs and exports in this folder")
    parser.add_argument("--skip-moviepy", action="store_true")
    args = parser.parse_args()
    tmp_ctx = tempfile.TemporaryDirectory(prefix="bench-compose-") if args.keep is None else None
    tmp = Path(tmp_ctx.name) if tmp_ctx else args.keep
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        print(f"cores: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.2f}")
        t0 = time.perf_counter()
        pairs = build_pairs(tmp)
        print(f"inputs made in {time.perf_counter() - t0:.1f} s:")
        for ref, out in pairs.values():
            print(f"  {ref.name}: {describe(ref)}\n  {out.name}: {describe(out)}")
        print(f"\none ffmpeg filter graph (export_comparison defaults), {SECONDS:g} s pairs:")
        ours: dict[str, float] = {}
        for name, (ref, out) in pairs.items():
            ours[name] = bench_ours(name, ref, out, tmp / f"cmp_{name}.mp4", args.runs)
        if not args.skip_moviepy:
            name = "dance" if "dance" in pairs else "portrait"
            ref, out = pairs[name]
            plan = plan_comparison(ref, out)
            print(f"\nmoviepy ({name} pair, {plan.width}x{plan.height}):")
            wall = bench_moviepy(ref, out, tmp / f"moviepy_{name}.mp4", plan.height)
            print(f"ffmpeg filter graph is {ours[name] * wall / SECONDS:.1f}x faster than moviepy frame piping")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        if tmp_ctx:
            tmp_ctx.cleanup()


if __name__ == "__main__":
    main()
