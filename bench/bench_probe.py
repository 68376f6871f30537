"""Benchmark: header-only probe + checks on a ~100 MB and a ~1 MB clip of the same length and size.

    python bench/bench_probe.py [--runs 21] [--keep DIR]

Builds two 30 s 1080p H.264 + AAC files with ffmpeg (a noisy test pattern at a high bit rate,
ultrafast preset, and the same picture at a low bit rate), then times probe_video + check_all
(median of --runs) on each, and opening the same file with moviepy's VideoFileClip.
Targets: probe + checks under 50 ms, and the 100 MB file within 2x of the 1 MB one.
The probe decodes exactly one frame (the first keyframe: rotation, true pixel format, "does it
decode"), so its cost follows that keyframe's size; the header/index part is printed apart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.checks.rules import check_all
from kmc_ui.media.probe import _indexed_end, _open_video, probe_image, probe_video
from tests.media_factory import ffmpeg_exe, make_image

SECONDS = 30
TARGET_MS = 50.0
TARGET_RATIO = 2.0


def build(path: Path, video_kbps: int) -> Path:
    """30 s of 1080p noisy test pattern at about `video_kbps`, with a sine tone in AAC."""
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=24"]
    cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(SECONDS)]
    cmd += ["-vf", "noise=alls=30:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-b:v", f"{video_kbps}k", "-maxrate", f"{video_kbps}k", "-bufsize", f"{video_kbps * 2}k"]
    cmd += ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: imports, page cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def probe_and_check(video: Path, image: Path) -> Callable[[], object]:
    def run() -> object:
        return check_all(probe_image(image), probe_video(video), prompt="soft light", orientation="video")

    return run


def header_only(video: Path) -> Callable[[], object]:
    """The size-independent part of the probe: open the MP4 index, read the stream facts."""

    def run() -> object:
        with _open_video(video, fast=True) as container:
            stream = container.streams.video[0]
            return stream.codec_context.width, stream.frames, _indexed_end(container)

    return run


def first_keyframe_bytes(video: Path) -> int:
    with _open_video(video, fast=True) as container:
        return next(e.size for e in container.streams.video[0].index_entries if e.is_keyframe)


def moviepy_open(video: Path) -> Callable[[], object]:
    from moviepy import VideoFileClip  # its import calls load_dotenv: harmless here

    def run() -> object:
        clip = VideoFileClip(str(video))
        facts = (clip.size, clip.duration, clip.fps)
        clip.close()
        return facts

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the clips in this folder and keep them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        big, small = folder / "bench_100mb.mp4", folder / "bench_1mb.mp4"
        start = time.perf_counter()
        for path, kbps in ((big, 26_500), (small, 200)):
            if not path.exists():
                build(path, kbps)
        image = make_image(folder / "bench_character.jpg", 720, 1280)
        print(f"built the clips in {time.perf_counter() - start:.1f} s (cached when --keep reuses them)")

        results = {}
        for label, path in (("100MB", big), ("1MB", small)):
            info = probe_video(path)
            findings = check_all(probe_image(image), info)
            assert not [f for f in findings if f.level == "error"], findings
            ours = median_ms(probe_and_check(path, image), args.runs)
            header = median_ms(header_only(path), args.runs)
            theirs = median_ms(moviepy_open(path), max(5, args.runs // 4))
            results[label] = (ours, header)
            print(
                f"{label:>5}: {info.size_bytes / 1e6:6.1f} MB, {info.width}x{info.height}, {info.duration:.1f} s, "
                f"{info.bit_rate / 1e6:.1f} Mbit/s, first keyframe {first_keyframe_bytes(path) / 1e3:.0f} kB"
            )
            print(
                f"       probe+checks median {ours:6.2f} ms (target < {TARGET_MS:.0f} ms: "
                f"{'OK' if ours < TARGET_MS else 'MISSED'}); of which header/index {header:5.2f} ms and "
                f"first-keyframe decode about {max(ours - header, 0):5.2f} ms"
            )
            print(f"       moviepy VideoFileClip {theirs:7.1f} ms = {theirs / ours:5.1f}x slower than probe+checks")
        ratio = results["100MB"][0] / results["1MB"][0]
        header_ratio = results["100MB"][1] / results["1MB"][1]
        print(
            f"ratio 100MB/1MB: probe+checks {ratio:.2f}x (target within {TARGET_RATIO:.0f}x: "
            f"{'OK' if ratio <= TARGET_RATIO else 'MISSED'}); header/index alone {header_ratio:.2f}x"
        )
        print(f"image probe alone (720x1280 JPEG): {median_ms(lambda: probe_image(image), args.runs):.2f} ms")


if __name__ == "__main__":
    main()
