"""Benchmark: how fast each bad-input corpus file gets its answer (probe + checks), and what it is.

    python bench/bench_corpus.py [--runs 7] [--dir DIR] [--prepare]

Builds (or reuses) the corpus of tests/corpus/make_corpus.py, then for every case times
`Studio.check` on the case paired with its clean companion (median and worst of --runs, after a
warm-up), and for videos also `probe_video(decode=True)` + `check_video` (what the file that will
be sent gets). `--prepare` also times one `Studio.prepare` per case (fresh output folder, no cache).
Target: every answer under 1000 ms. Prints a table: case, input, ms, codes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmc_ui.checks.rules import check_video
from kmc_ui.media.probe import probe_video
from kmc_ui.settings import Settings
from kmc_ui.studio import Inputs, Studio
from tests.corpus.make_corpus import DEFAULT_DIR, Case, build_corpus, companions

TARGET_MS = 1000.0


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median ms, worst ms) of `runs` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def inputs_for(case: Case, folder: Path) -> Inputs:
    image, video = companions(folder)
    return Inputs(
        image=str(case.path if case.input == "image" else image),
        video=str(case.path if case.input == "video" else video),
        orientation=case.orientation,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="corpus folder (made or reused)")
    parser.add_argument("--prepare", action="store_true", help="also time one Studio.prepare per case")
    args = parser.parse_args()

    made: list[str] = []
    start = time.perf_counter()
    cases = build_corpus(args.dir, made=made)
    print(f"corpus: {len(cases)} cases in {args.dir}; {len(made)} files made in {time.perf_counter() - start:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        studio = Studio(Settings(data_dir=Path(tmp)), {})
        head = f"{'case':30} {'input':5} {'check ms':>9} {'worst':>7} {'decode ms':>9}"
        head += f" {'prepare ms':>10}" if args.prepare else ""
        print(head + "  codes (Studio.check)")
        rows: list[float] = []
        for case in cases:
            if case.skip:
                print(f"{case.name:30} {case.input:5} {'skipped: ' + case.skip}")
                continue
            inputs = inputs_for(case, args.dir)
            med, worst = timed(lambda inputs=inputs: studio.check(inputs), args.runs)
            rows.append(worst)
            decode = "-"
            if case.input == "video":

                def full(case: Case = case) -> object:
                    return check_video(probe_video(case.path, decode=True), case.orientation)

                d_med, d_worst = timed(full, args.runs)
                rows.append(d_worst)
                decode = f"{d_med:.1f}"
            line = f"{case.name:30} {case.input:5} {med:9.1f} {worst:7.1f} {decode:>9}"
            if args.prepare:
                t0 = time.perf_counter()
                report = studio.prepare(inputs)
                outcome = "refused" if report.error else "blocked" if report.blocking else "ok"
                line += f" {(time.perf_counter() - t0) * 1000:8.0f} {outcome[0]}"
            codes = sorted(f.code for f in studio.check(inputs).findings)
            print(f"{line}  {', '.join(codes) or '(none)'}")
    over = [ms for ms in rows if ms >= TARGET_MS]
    print(
        f"slowest answer {max(rows):.1f} ms, median {statistics.median(rows):.1f} ms over {len(rows)} timings; "
        f"{len(over)} at or over the {TARGET_MS:.0f} ms target ({'OK' if not over else 'MISSED'})"
    )
    if args.prepare:
        print("prepare outcome: o = prepared or sent as-is, r = refused (PreparationError), b = still blocked")


if __name__ == "__main__":
    main()
