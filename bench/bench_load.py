"""Load: N concurrent gradio_client users against the app and the loopback Kling fake (no network).

    python bench/bench_load.py                       # 20 users, 3 minutes
    python bench/bench_load.py --users 20 --seconds 60 --watch-every 0.5

The app runs in its own process (`python app.py`'s code path: kmc_ui.server.launch, with a fast
poll policy to match the fake's short task timeline), so its RSS is its own; the fake provider
and the users run here. Each user is its own Gradio session looping /check (every third one on
a too-short video) and /generate (every fourth one fails at the provider); a watcher session in
a process of its own checks a valid pair every 0.5 s. Printed: answers and their correctness, /check latency
(p50/p95/max, overall and while every user is looping), Gradio's queue (limit, peak running,
peak waiting, per endpoint) and the provider's view of overlapping tasks, History isolation,
and the server's RSS over time. The machine's load average is printed too: other work on
these 2 cores shows up in the latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.load import (
    FAST_POLL,
    LoadResult,
    Media,
    Outcome,
    PerUserKling,
    QueueSampler,
    history_problems,
    make_media,
    max_overlap,
    percentiles,
    run_load,
    watch_checks,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------- the server process
def serve(config_path: str) -> None:
    """The app in this process until stdin closes; then the queue/RSS summary goes to a file."""
    from kmc_ui.server import launch
    from kmc_ui.settings import Settings

    cfg = json.loads(Path(config_path).read_text())
    settings = Settings(
        backend="kling",
        kling_access_key=cfg["access_key"],
        kling_secret_key=cfg["secret_key"],
        kling_api_base=cfg["api_base"],
        public_base_url=f"http://127.0.0.1:{cfg['port']}",
        allow_private_urls=True,
        data_dir=Path(cfg["data_dir"]),
    )
    demo = launch(settings, block=False, poll=FAST_POLL, server_name="127.0.0.1", server_port=cfg["port"], quiet=True)
    if cfg.get("check_limit") is not None:  # an experiment: /check with its own limit (0 = none)
        for fn in demo.fns.values():
            if fn.api_name == "check":
                fn.concurrency_limit = cfg["check_limit"] or None
    sampler = QueueSampler(demo, every=0.02, rss_every=1.0)
    sampler.start()
    print("READY", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    Path(cfg["summary"]).write_text(json.dumps(sampler.stop()))
    demo.close()


def watch(config_path: str) -> None:
    """A separate process checking every `watch_every` s from "go" on stdin for `seconds`: /check
    latency as a browser sees it, without sharing a Python interpreter with the 20 users."""
    cfg = json.loads(Path(config_path).read_text())
    out: list[Outcome] = []
    gate = threading.Barrier(1)
    print("READY", flush=True)
    sys.stdin.readline()
    end = time.monotonic() + cfg["seconds"]
    watch_checks(
        cfg["url"], Path(cfg["image"]), Path(cfg["video"]), out, start=gate, deadline=lambda: end, every=cfg["every"]
    )
    print(json.dumps([o.__dict__ for o in out]), flush=True)


# --------------------------------------------------------------------------- the bench
def run(users: int, seconds: float, watch_every: float, work: Path, check_limit: int | None = None) -> int:
    print(f"load: {users} users for {seconds:.0f} s, watcher every {watch_every} s; cores {os.cpu_count()}")
    if check_limit is not None:
        print(f"EXPERIMENT: /check concurrency limit {check_limit or 'none'} (the app's is the queue default)")
    t0 = time.monotonic()
    media = make_media(work / "media", max(users, 1))  # --users 0: the watcher alone, a baseline
    fake = PerUserKling(media).start()
    port = free_port()
    config = work / "server.json"
    summary_path = work / "server-summary.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "access_key": fake.access_key,
                "secret_key": fake.secret_key,
                "api_base": fake.base_url,
                "data_dir": str(work / "data"),
                "summary": str(summary_path),
                "check_limit": check_limit,
            }
        )
    )
    server_log = (work / "server.log").open("w")  # mediapipe and Gradio chatter, kept out of the figures
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=server_log,
        text=True,
        cwd=work,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if "READY" not in line:
            server_log.flush()
            tail = (work / "server.log").read_text()[-3000:]
            raise RuntimeError(f"the app did not start: {line!r}\n{tail}")
        print(f"set-up (media, fake, app start): {time.monotonic() - t0:.1f} s; load average {loadavg()}")
        url = f"http://127.0.0.1:{port}/"
        watch_cfg = work / "watch.json"
        watch_cfg.write_text(
            json.dumps(
                {
                    "url": url,
                    "image": str(media.users[0].image),
                    "video": str(media.reference),
                    "seconds": seconds,
                    "every": watch_every,
                }
            )
        )
        watcher = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--watch", str(watch_cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdout is not None and watcher.stdin is not None
        if "READY" not in watcher.stdout.readline():
            raise RuntimeError("the watcher did not start")

        def go() -> None:
            assert watcher.stdin is not None
            watcher.stdin.write("go\n")
            watcher.stdin.flush()

        cpu0 = os.times()
        result = run_load(url, media, work, users=users, duration=seconds, watch_every=0, on_start=go)
        cpu1 = os.times()
        watched, _ = watcher.communicate(timeout=120)
        result.watch = [Outcome(**o) for o in json.loads(watched.strip().splitlines()[-1])]
        used = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (result.ended - result.started)
        print(f"load average after the run: {loadavg()}; this process (users + fake) used {used:.2f} cores")
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        fake.stop()
        server_log.close()
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return report(result, summary, media, fake, work / "data")


def report(result: LoadResult, queue: dict[str, Any], media: Media, fake: PerUserKling, data_dir: Path) -> int:
    span = result.ended - result.started
    steady = result.steady
    gens = result.of("generate")
    checks = result.of("check")
    watch = result.of("watch")
    bad = [o for o in result.outcomes + watch if not o.ok]

    def fmt(p: dict[str, float]) -> str:
        return f"n={p['n']:4d}  p50 {p['p50']:.3f} s  p95 {p['p95']:.3f} s  max {p['max']:.3f} s"

    print(f"\nran {span:.1f} s; steady window (all users looping) {steady[1] - steady[0]:.1f} s")
    print("\n== answers")
    ok_success = sum(1 for o in gens if o.ok and o.expected == "success")
    ok_failure = sum(1 for o in gens if o.ok and o.expected == "failure")
    sent = sum(len(u.submitted) for u in result.users)
    print(f"generate sent {sent}, answered {len(gens)}: {ok_success} own results, {ok_failure} clear failures")
    print(f"  wrong or lost: {sum(1 for o in gens if not o.ok)}; throughput {len(gens) / span * 60:.1f} a minute")
    blocked = sum(1 for o in checks if o.expected == "blocked")
    wrong = sum(not o.ok for o in checks)
    print(f"check answered {len(checks)} ({blocked} too-short videos reported blocking), wrong {wrong}")
    print(f"watcher checks {len(watch)}, wrong {sum(not o.ok for o in watch)}")
    for o in bad[:10]:
        print(f"  ! user {o.user} {o.kind}: {o.detail[:300]}")

    print("\n== latency (client side: uploads + queue + work + answer)")
    in_steady = [o.seconds for o in checks + watch if steady[0] <= o.started <= steady[1]]
    all_checks = [o.seconds for o in checks + watch]
    print(f"/check, whole run        {fmt(percentiles(all_checks))}")
    print(f"/check, steady window    {fmt(percentiles(in_steady))}")
    print(f"/check watcher only      {fmt(percentiles([o.seconds for o in watch]))}")
    under = sum(1 for s in in_steady if s < 1.0) / max(1, len(in_steady))
    print(f"/check under 1 s in the steady window: {under:.1%}")
    print(f"/generate (queue wait included) {fmt(percentiles([o.seconds for o in gens]))}")

    print("\n== queue (sampled in the server every 20 ms)")
    for name in sorted(queue.get("limits", {})):
        print(
            f"{name:10s} limit {queue['limits'][name]}  peak running {queue['peak_running'].get(name)}  "
            f"peak waiting {queue['peak_waiting'].get(name)}  at the end {queue['now'].get(name)}"
        )
    print(f"provider's view: at most {max_overlap(fake.task_spans())} tasks overlapping ({len(fake.tasks)} tasks)")
    lag = queue.get("wakeup_lag")
    if lag:
        print(
            f"server thread wake-up lag (20 ms sleeps; GIL held elsewhere or no CPU): p50 {lag['p50'] * 1000:.1f} ms"
            f"  p95 {lag['p95'] * 1000:.1f} ms  max {lag['max'] * 1000:.0f} ms  over 100 ms: {lag['over_100ms']}"
        )
    for name, t in sorted(queue.get("process", {}).items()):
        print(f"server-side processing (Gradio's own mean, queue wait excluded) {name:10s} {t}")

    print("\n== isolation")
    problems = history_problems(result, data_dir, media, fake)
    owners = [u.owner for u in result.users]
    print(f"{len(set(owners))} sessions -> {len(set(owners))} History folders (api-<32 hex of the session id>)")
    print("History and provider cross-check: " + ("OK" if not problems else f"{len(problems)} problems"))
    for p in problems[:10]:
        print(f"  ! {p}")

    print("\n== server RSS (MB) over time")
    rss = queue.get("rss", [])
    if rss:
        t_start = rss[0][0]
        marks = [r for r in rss if r[0] >= result.started]
        step = max(1, len(marks) // 12)
        print("  ".join(f"{t - t_start:5.0f}s {mb:6.0f}" for t, mb in [*marks[::step], marks[-1]]))
        values = [mb for _, mb in marks]
        early = [mb for t, mb in marks if t <= result.started + 30] or values[:1]
        late = [mb for t, mb in marks if t >= result.ended - 30] or values[-1:]
        print(
            f"idle {rss[0][1]:.0f}  first 30 s max {max(early):.0f}  last 30 s max {max(late):.0f}  "
            f"peak {max(values):.0f}  end {values[-1]:.0f}"
        )
    cpu = [(t, c) for t, c in queue.get("cpu", []) if steady[0] <= t <= steady[1]]
    if len(cpu) > 1:
        used = (cpu[-1][1] - cpu[0][1]) / (cpu[-1][0] - cpu[0][0])
        print(f"server CPU in the steady window: {used:.2f} cores (of {os.cpu_count()}, shared with the users here)")
    violations = len(bad) + len(problems)
    limits_ok = all(queue["peak_running"].get(n, 0) <= (lim or 10**9) for n, lim in queue.get("limits", {}).items())
    violations += 0 if limits_ok else 1
    print(f"\nviolations: {violations}")
    return 1 if violations else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--watch-every", type=float, default=0.5)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--check-limit", type=int, help="experiment: give /check this concurrency limit (0: none)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--watch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.watch:
        watch(args.watch)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        sys.exit(run(args.users, args.seconds, args.watch_every, args.keep.resolve(), args.check_limit))
    with tempfile.TemporaryDirectory(prefix="kmc-load-") as tmp:
        sys.exit(run(args.users, args.seconds, args.watch_every, Path(tmp), args.check_limit))


if __name__ == "__main__":
    main()
