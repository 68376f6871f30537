"""Benchmark of the motion-agreement report with its appearance checks: prints its figures.

    python bench/bench_report.py [--media DIR] [--work DIR] [--runs N]

Target (issue 16): the report within half the clip's duration on two cores, cold (nothing cached).
The reference is the 12 s 1080p sample dance; the result stands in for a provider's: the same
dance re-encoded at 720x1280 (a different file, so nothing of the reference is reused), with the
dance's first frame as the character picture. Each run gets a fresh cache folder and an empty
memory cache; the models are warm, as in the running app. Prints wall and CPU time of the whole
report, of the pose reading (both videos at once) and of the appearance checks.

Two cases: cold (nothing read before the report), and as the app runs it (the reference read by
`read_reference_ahead` when the run is submitted, while the result renders: its pose, then its side
of the appearance checks (its hands and limb regions), timed apart, then the report after the
result, which reads only the result). Also counts the hand detector's calls in each.
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

import kmc_ui.engine.agreement as agreement  # noqa: E402
import kmc_ui.engine.appearance as appearance  # noqa: E402
from kmc_ui.pose import cache as pose_cache  # noqa: E402
from kmc_ui.pose import hands as pose_hands  # noqa: E402
from tests.media_factory import ffmpeg_exe  # noqa: E402

SHARED = ROOT.parent / "shared" / "media"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_inputs(media: Path, work: Path) -> tuple[Path, Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    reference = media / "dance_fullbody_12s.mp4"
    result, picture = work / "result_720x1280.mp4", work / "character_first_frame.png"
    if not result.is_file():
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(reference), "-vf", "scale=720:1280"]
        subprocess.run([*cmd, "-c:v", "libx264", "-preset", "veryfast", "-crf", "22", "-an", str(result)], check=True)
    if not picture.is_file():
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-i", str(reference), "-frames:v", "1", str(picture)], check=True
        )
    return reference, result, picture


class Timer:
    """Wall and CPU time spent inside one function (wrapped where the report looks it up)."""

    def __init__(self, module: object, name: str) -> None:
        self.module, self.name, self.wall, self.cpu, self.calls = module, name, 0.0, 0.0, 0
        self.original = getattr(module, name)

        def timed(*args, **kwargs):
            c, t = cpu(), time.perf_counter()
            self.calls += 1
            try:
                return self.original(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - t
                self.cpu += cpu() - c

        setattr(module, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", type=Path, default=SHARED)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kmc-bench-report")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if not (args.media / "dance_fullbody_12s.mp4").is_file():
        sys.exit(f"sample media not found in {args.media}")
    reference, result, picture = make_inputs(args.media, args.work)
    from kmc_ui.pose import warm_up

    warm_up()
    print(f"machine: {os.cpu_count()} cores (other work shares them)")
    print("\n== motion-agreement report, 12 s 1080p reference vs a 720p result; target < 6.0 s (half the clip)")
    for ahead in (False, True):
        if ahead:
            print("-- the reference read ahead (read_reference_ahead at submit, as the result renders), then report")
        else:
            print("-- cold: nothing read before the report")
        walls = []
        for k in range(args.runs):
            cache_dir = Path(tempfile.mkdtemp(prefix="kmc-bench-report-cache-"))
            pose_cache.clear_memory()
            before = ""
            detector = Timer(pose_hands, "_detect")
            if ahead:
                load = os.getloadavg()[0]
                side = Timer(appearance, "_read_looks")
                c, t = cpu(), time.perf_counter()
                future = agreement.read_reference_ahead(reference, cache_dir)
                assert future is not None
                future.result()
                before = (
                    f"reference read ahead {time.perf_counter() - t:.2f} s wall / {cpu() - c:.2f} s CPU "
                    f"(load average {load:.1f}; its appearance side {side.wall:.2f} s wall / {side.cpu:.2f} s CPU, "
                    f"{detector.calls} hand-detector calls); then "
                )
                appearance._read_looks = side.original
                detector.calls = 0
            reading = Timer(agreement, "read_both")
            looks = Timer(appearance, "appearance_findings")
            load = os.getloadavg()[0]
            c, t = cpu(), time.perf_counter()
            report = agreement.agreement_report(reference, result, picture, cache_dir=cache_dir)
            walls.append(time.perf_counter() - t)
            total_cpu = cpu() - c
            agreement.read_both = reading.original
            appearance.appearance_findings = looks.original
            pose_hands._detect = detector.original
            found = ", ".join(f"{a['code']} {a['limb']} ({len(a['frames'])} frames)" for a in report.appearance)
            print(
                f"  run {k + 1}: {before}report (load average {load:.1f}): {walls[-1]:.2f} s wall, {total_cpu:.2f} s "
                f"CPU; pose reading {reading.wall:.2f} s wall / {reading.cpu:.2f} s CPU, appearance {looks.wall:.2f} s "
                f"wall / {looks.cpu:.2f} s CPU ({detector.calls} hand-detector calls); score {report.score:.1f}, "
                f"{report.output_frames} samples; appearance findings: {found or 'none'}"
                f"{'; error ' + report.error if report.error else ''}"
            )
        print(f"  median {statistics.median(walls):.2f} s wall (load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
