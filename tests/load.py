"""Load harness shared by tests/test_load.py and bench/bench_load.py (a helper, not a test module).

N gradio_client users, each its own Gradio session, loop /check and /generate against the app,
whose official Kling backend talks to a loopback fake. Every user has its own character image
and its own result video at the fake (chosen by a `user-NN` tag in the prompt), so a result, a
record or a file that reached the wrong user is recognised by its content. Loops are bounded in
count and in time; everything stays on 127.0.0.1.

What is measured:
- every /generate submitted ends in a result or a clear error (nothing lost, nothing hung);
- each result (downloaded file, player links, record) is the submitting session's own;
- Gradio's queue never runs more events of one kind than its limit (`QueueSampler`, in the
  server's process) and the fake never sees more overlapping tasks than that (`PerUserKling`);
- /check latency (also from a watcher client that checks every `watch_every` seconds);
- the server's RSS over time.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import secrets
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file
from PIL.PngImagePlugin import PngInfo
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from kmc_ui.jobs import PollPolicy
from tests.fakes.kling import CDN_PREFIX, FakeKling, Scenario
from tests.media_factory import make_image, make_video
from tests.runstore import stored_records

USER_TAG = re.compile(r"\buser-(\d{2})\b")
FAIL_TAG = "[fail]"
FAIL_MSG = "Failure to pass the risk control system"
# Short task timelines at the fake, and a poll policy to match (the default polls every ~2 s).
FAST_POLL = PollPolicy(first=0.2, running=0.2, warmup=0.0, warmup_interval=0.2, queued=0.2, queued_far=0.5)
SCENARIO = Scenario(submitted_s=0.3, processing_s=0.7)
FAILED = Scenario(outcome="failed", failure_msg=FAIL_MSG, submitted_s=0.3, processing_s=0.3)


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def owner_of(client: Client) -> str:
    """The History owner the app gives an API client: the visitor id in the signed cookie it got
    with /config (kmc_ui/identity.py), which gradio_client sends with every call."""
    value = client.cookies.get("kmc_visitor", "")
    return value.split(".")[1] if value.count(".") == 2 else ""


# --------------------------------------------------------------------------- media per user
@dataclass(frozen=True)
class UserMedia:
    index: int
    tag: str  # user-NN
    image: Path  # this user's own character image
    result: Path  # what the fake returns for this user's tasks
    image_sha: str
    result_sha: str


@dataclass(frozen=True)
class Media:
    users: list[UserMedia]
    reference: Path  # a valid 3.5 s motion video shared by every user
    short: Path  # a 2 s video: /check reports video_too_short


def make_media(folder: Path, users: int) -> Media:
    """Files with a random tag inside: Gradio names uploads by content in a folder shared by every
    Gradio process on the machine, so byte-identical files from other runs must not be shared."""
    folder.mkdir(parents=True, exist_ok=True)
    run = secrets.token_hex(6)
    tagged = ["-metadata", f"comment=kmc-load-{run}"]
    reference = make_video(folder / "motion.mp4", 640, 360, seconds=3.5, fps=12, extra=tagged)
    short = make_video(folder / "short.mp4", 640, 360, seconds=2.0, fps=12, audio=False, extra=tagged)
    out = []
    for i in range(users):
        tag = f"user-{i:02d}"
        info = PngInfo()
        info.add_text("Comment", f"kmc-load-{run}")
        image = make_image(folder / f"{tag}.png", 480 + 2 * i, 854, fmt="PNG", pnginfo=info)
        # Same picture, own bytes: the title tells the files apart.
        result = make_video(
            folder / f"{tag}-result.mp4", 320, 240, seconds=1.0, fps=12, extra=[*tagged, "-metadata", f"title={tag}"]
        )
        out.append(UserMedia(i, tag, image, result, sha256(image), sha256(result)))
    assert len({u.result_sha for u in out}) == users, "result files must differ per user"
    return Media(out, reference, short)


# --------------------------------------------------------------------------- the fake provider
class PerUserKling(FakeKling):
    """The loopback Kling fake, returning each user's own result video (by the prompt's user tag)."""

    def __init__(self, media: Media) -> None:
        self.results = {u.tag: u.result for u in media.users}
        super().__init__(result_file=media.users[0].result)
        self.scenario = SCENARIO
        self.scenario_for = lambda body: FAILED if FAIL_TAG in str(body.get("prompt", "")) else None

    def reset_state(self) -> None:
        super().reset_state()
        self.scenario = SCENARIO
        self.scenario_for = lambda body: FAILED if FAIL_TAG in str(body.get("prompt", "")) else None

    async def _result(self, request: Request) -> Response:
        task = self.tasks.get(request.path_params["task_id"])
        name = request.path_params["name"]
        tag = USER_TAG.search(str(task.body.get("prompt", ""))) if task else None
        if (
            task is None
            or tag is None
            or task.status(self.clock())[0] != "succeed"
            or name not in (f"{task.video_id}.mp4", f"{task.video_id}-wm.mp4")
        ):
            return PlainTextResponse("<Error><Code>NoSuchKey</Code></Error>", status_code=404)
        return FileResponse(self.results[tag.group(0)], media_type="video/mp4")

    def task_spans(self) -> list[tuple[float, float]]:
        """(created, last request about it) per task: a lower bound of the app's job span."""
        with self._lock:
            requests = list(self.requests)
        last: dict[str, float] = {}
        for r in requests:
            parts = r.path.rstrip("/").split("/")
            for task_id in (parts[-1], parts[-2] if r.path.startswith(CDN_PREFIX) else ""):
                if task_id in self.tasks:
                    last[task_id] = max(last.get(task_id, 0.0), r.at)
        return [(t.created, last.get(t.task_id, t.created)) for t in list(self.tasks.values())]


def max_overlap(spans: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (an end at t closes before a start at t opens)."""
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda e: (e[0], e[1]))
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


# --------------------------------------------------------------------------- server-side sampler
def rss_mb(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class QueueSampler(threading.Thread):
    """In the server's process: Gradio's running and waiting events per endpoint, and the RSS.

    Reads Gradio's queue (private attributes, read only); if they move, the figures read None.
    """

    def __init__(self, demo: Any, every: float = 0.02, rss_every: float = 1.0) -> None:
        super().__init__(name="kmc-queue-sampler", daemon=True)
        self.demo, self.every, self.rss_every = demo, every, rss_every
        self.stop_event = threading.Event()
        self.names = {fn.concurrency_id: fn.api_name or fn.name for fn in demo.fns.values()}
        self.peak_running: dict[str, int] = {}
        self.peak_waiting: dict[str, int] = {}
        self.limits: dict[str, int | None] = {}
        self.rss: list[tuple[float, float]] = []  # (time.time(), MB)
        self.cpu: list[tuple[float, float]] = []  # (time.time(), CPU seconds of this process so far)
        self.samples = 0
        self.readable = True
        # How late each 20 ms wake-up of this thread came: the GIL held by other threads, or no CPU.
        self.lags: list[float] = []

    def read(self) -> dict[str, tuple[int | None, int, int]]:
        """name -> (limit, running, waiting)."""
        try:
            queues = dict(self.demo._queue.event_queue_per_concurrency_id)
            return {
                self.names.get(cid, cid): (q.concurrency_limit, q.current_concurrency, len(q.queue))
                for cid, q in queues.items()
            }
        except AttributeError:
            self.readable = False
            return {}

    def run(self) -> None:
        next_rss = 0.0
        last = time.monotonic()
        while not self.stop_event.is_set():
            now_m = time.monotonic()
            self.lags.append(max(0.0, now_m - last - self.every))
            last = now_m
            for name, (limit, running, waiting) in self.read().items():
                self.limits[name] = limit
                self.peak_running[name] = max(self.peak_running.get(name, 0), running)
                self.peak_waiting[name] = max(self.peak_waiting.get(name, 0), waiting)
            self.samples += 1
            now = time.time()
            if now >= next_rss:
                self.rss.append((now, rss_mb()))
                times = os.times()
                self.cpu.append((now, times.user + times.system))
                next_rss = now + self.rss_every
            self.stop_event.wait(self.every)

    def stop(self) -> dict[str, Any]:
        self.stop_event.set()
        self.join(timeout=5)
        return self.summary()

    def process_times(self) -> dict[str, dict[str, float]]:
        """Gradio's own count and mean processing time per endpoint (queue wait excluded)."""
        try:
            per_fn = dict(self.demo._queue.process_time_per_fn)
        except AttributeError:
            return {}
        return {
            str(fn.api_name or fn.name): {"count": t.count, "mean_s": round(t.avg_time, 4)} for fn, t in per_fn.items()
        }

    def summary(self) -> dict[str, Any]:
        return {
            "process": self.process_times(),
            "readable": self.readable,
            "samples": self.samples,
            "limits": self.limits,
            "peak_running": self.peak_running,
            "peak_waiting": self.peak_waiting,
            "now": {name: {"running": r, "waiting": w} for name, (_l, r, w) in self.read().items()},
            "rss": self.rss,
            "cpu": self.cpu,
            "wakeup_lag": percentiles(self.lags[1:]) | {"over_100ms": sum(1 for x in self.lags if x > 0.1)},
        }


# --------------------------------------------------------------------------- the users
@dataclass
class Outcome:
    user: int
    kind: str  # check | generate | fetch | watch
    started: float  # time.time()
    seconds: float
    ok: bool
    expected: str = ""  # success | failure | blocked (what the request was meant to produce)
    detail: str = ""


@dataclass
class UserReport:
    user: int
    owner: str = ""
    submitted: list[str] = field(default_factory=list)  # prompts of every /generate sent
    outcomes: list[Outcome] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # run ids the app returned to this user


def _status_texts(outputs: list[Any]) -> list[str]:
    return [o[0] for o in outputs if isinstance(o, (list, tuple)) and o and isinstance(o[0], str)]


def _fetch(base: str, url_path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base.rstrip("/") + url_path, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def run_user(
    url: str,
    media: Media,
    user: UserMedia,
    report: UserReport,
    *,
    start: threading.Barrier,
    deadline: Callable[[], float],
    max_rounds: int,
    job_timeout: float,
    download_dir: Path,
) -> None:
    """One user's bounded loop: /check (every third one on a too-short video), then /generate
    (every fourth one fails at the provider; users are staggered so every round has both).
    Each answer is checked against what this user sent."""
    client = Client(url, verbose=False, download_files=str(download_dir))
    report.owner = owner_of(client)
    rng = random.Random(user.index)
    try:
        start.wait(timeout=120)
        end = deadline()
        for n in range(max_rounds):
            if time.monotonic() >= end:
                break
            # ---- /check
            short = (n + user.index) % 3 == 2  # staggered: some users in every round
            t0, w0 = time.monotonic(), time.time()
            try:
                out = client.predict(
                    handle_file(str(user.image)),
                    handle_file(str(media.short if short else media.reference)),
                    f"{user.tag} check {n}",
                    "video",
                    "std",
                    True,
                    "v2.6",
                    "kling",
                    api_name="/check",
                )
                codes = {f["code"] for f in out["findings"]}
                ok = out["blocking"] is short and (("video_too_short" in codes) is short)
                detail = "" if ok else f"unexpected findings {sorted(codes)} blocking={out['blocking']}"
            except Exception as exc:  # recorded, not raised: the report says what went wrong
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            report.outcomes.append(
                Outcome(user.index, "check", w0, time.monotonic() - t0, ok, "blocked" if short else "success", detail)
            )
            if time.monotonic() >= end:
                break
            # ---- /generate
            fail = (n + user.index) % 4 == 3
            prompt = f"{user.tag} run {n:03d}" + (f" {FAIL_TAG}" if fail else "")
            report.submitted.append(prompt)
            t0, w0 = time.monotonic(), time.time()
            ok, detail = False, ""
            try:
                job = client.submit(
                    image=handle_file(str(user.image)),
                    video=handle_file(str(media.reference)),
                    prompt=prompt,

                    backend="kling",
                    api_name="/generate",
                )
                # (status, player, download, record, ...): the page may add outputs after these
                status, player, download, record = job.result(timeout=job_timeout)[:4]
                ok, detail = _check_generate(url, user, report, prompt, fail, job, status, player, download, record)
            except Exception as exc:
                detail = f"{type(exc).__name__}: {exc}"
            report.outcomes.append(
                Outcome(user.index, "generate", w0, time.monotonic() - t0, ok, "failure" if fail else "success", detail)
            )
            time.sleep(rng.uniform(0.0, 0.3))  # users do not move in lockstep
    finally:
        client.close()


def _check_generate(
    url: str,
    user: UserMedia,
    report: UserReport,
    prompt: str,
    fail: bool,
    job: Any,
    status: Any,
    player: Any,
    download: Any,
    record: Any,
) -> tuple[bool, str]:
    """(ok, why not): the answer is this user's own, and a success or a clear failure as expected."""
    if not isinstance(record, dict):
        return False, f"no run record in the answer: {str(record)[:200]}"
    run_id = str(record.get("run_id", ""))
    report.runs.append(run_id)
    problems = []
    if "owner" in record or "inputs" in record or "output" in record:
        problems.append(f"the record shows the owner or server paths: {sorted(record)}")
    if (record.get("settings") or {}).get("prompt") != prompt:
        problems.append("record prompt is another request's")
    if fail:
        texts = " ".join(_status_texts(job.outputs()))
        if record.get("status") != "failed" or FAIL_MSG not in str(record.get("error", "")):
            problems.append(f"expected a clear failure, got status={record.get('status')} error={record.get('error')}")
        if FAIL_MSG not in texts:
            problems.append("the status never said why it failed")
    else:
        if record.get("status") != "succeeded" or "Done" not in str(status):
            problems.append(f"expected success, got {record.get('status')}: {str(status)[:200]}")
        elif not download or sha256(download) != user.result_sha:
            problems.append("downloaded result is not this user's")
        elif report.owner in str(player) or "/runs/" in str(player):
            problems.append(f"player links name the owner or a run folder: {player}")
        else:
            code, body = _fetch(url, player["out"])  # the page's own link to the result, over HTTP
            if code != 200 or hashlib.sha256(body).hexdigest() != user.result_sha:
                problems.append(f"the player's result link answered {code} with other bytes")
    return not problems, "; ".join(problems)


def watch_checks(
    url: str,
    image: Path,
    video: Path,
    reports: list[Outcome],
    *,
    start: threading.Barrier,
    deadline: Callable[[], float],
    every: float,
) -> None:
    """A watcher session that checks a valid pair every `every` seconds: /check latency under load."""
    client = Client(url, verbose=False)
    try:
        start.wait(timeout=120)
        end = deadline()
        for _ in range(int((end - time.monotonic()) / every) + 1):
            if time.monotonic() >= end:
                break
            t0, w0 = time.monotonic(), time.time()
            try:
                out = client.predict(
                    handle_file(str(image)),
                    handle_file(str(video)),
                    "",
                    "video",
                    "std",
                    True,
                    "v2.6",
                    "kling",
                    api_name="/check",
                )
                ok, detail = out["blocking"] is False, ""
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            reports.append(Outcome(-1, "watch", w0, time.monotonic() - t0, ok, "success", detail))
            time.sleep(max(0.0, every - (time.monotonic() - t0)))
    finally:
        client.close()


@dataclass
class LoadResult:
    users: list[UserReport]
    watch: list[Outcome]
    started: float  # time.time() when the barrier opened
    ended: float
    steady: tuple[float, float]  # time.time() window while every user was still looping

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for u in self.users for o in u.outcomes]

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind] if kind != "watch" else self.watch


def run_load(
    url: str,
    media: Media,
    work: Path,
    *,
    users: int,
    duration: float,
    max_rounds: int = 1000,
    job_timeout: float = 120.0,
    watch_every: float = 0.5,
    on_start: Callable[[], None] | None = None,
) -> LoadResult:
    """Run `users` user loops (plus one watcher, unless `watch_every` is 0) for `duration` seconds;
    returns every outcome. Clients connect first; the clock starts when all of them are ready (a
    barrier), and `on_start` is called then."""
    reports = [UserReport(i) for i in range(users)]
    watch: list[Outcome] = []
    box = [0.0]

    def open_gate() -> None:
        box[0] = time.monotonic() + duration

    watching = watch_every > 0
    barrier = threading.Barrier(users + 1 + watching, action=open_gate)
    threads = [
        threading.Thread(
            target=run_user,
            args=(url, media, media.users[i], reports[i]),
            kwargs={
                "start": barrier,
                "deadline": lambda: box[0],
                "max_rounds": max_rounds,
                "job_timeout": job_timeout,
                "download_dir": work / f"downloads-{media.users[i].tag}",
            },
            name=f"load-user-{i}",
            daemon=True,
        )
        for i in range(users)
    ]
    if watching:
        threads.append(
            threading.Thread(
                target=watch_checks,
                args=(url, media.users[0].image, media.reference, watch),
                kwargs={"start": barrier, "deadline": lambda: box[0], "every": watch_every},
                name="load-watch",
                daemon=True,
            )
        )
    for t in threads:
        t.start()
    barrier.wait(timeout=120)
    started = time.time()
    if on_start is not None:
        on_start()
    if not threads:  # nobody looping here (a watcher elsewhere measures the baseline): just wait
        time.sleep(duration)
    for t in threads:
        t.join(timeout=duration + job_timeout + 60)
    ended = time.time()
    still = [t.name for t in threads if t.is_alive()]
    if still:
        raise RuntimeError(f"load threads still running after the time limit: {still}")
    # Steady state: every user is looping (from the start until the first user's last answer).
    lasts = [max((o.started + o.seconds for o in r.outcomes), default=ended) for r in reports]
    return LoadResult(reports, watch, started, ended, (started, min(lasts, default=started + duration)))


def history_problems(result: LoadResult, data_dir: Path, media: Media, fake: PerUserKling) -> list[str]:
    """Cross-checks after a run: History holds exactly each session's own runs, and the provider
    got exactly the requests that were sent (none lost, none doubled). Empty when all is well."""
    problems = []
    runs = Path(data_dir) / "runs"
    owners = {u.owner for u in result.users}
    found = {p.name for p in runs.iterdir() if p.is_dir()} if runs.is_dir() else set()
    if len(owners) != len(result.users):
        problems.append(f"{len(result.users)} sessions got {len(owners)} distinct owners")
    if found != owners:
        problems.append(f"owner folders {sorted(found ^ owners)} belong to no session or are missing")
    tags = {u.tag for u in media.users}
    for user in result.users:
        tag = media.users[user.user].tag
        records = stored_records(data_dir, user.owner)
        if not len(records) == len(user.submitted) == len(user.runs):
            problems.append(f"{tag}: {len(user.submitted)} sent, {len(user.runs)} answered, {len(records)} in History")
        for record in records:
            prompt = str((record.get("settings") or {}).get("prompt", ""))
            if record.get("owner") != user.owner or not prompt.startswith(tag + " "):
                problems.append(f"{tag}: History holds {record['run_id']} of {record.get('owner')} '{prompt}'")
            image = str((record.get("inputs") or {}).get("image", ""))
            if not Path(image).is_file() or sha256(image) != media.users[user.user].image_sha:
                problems.append(f"{tag}: {record['run_id']}'s input image is not this user's")
            if any(prompt.startswith(other + " ") for other in tags - {tag}):
                problems.append(f"{tag}: another user's run in History: {prompt}")
    sent = sorted(p for u in result.users for p in u.submitted)
    seen = sorted(str(t.body.get("prompt")) for t in list(fake.tasks.values()))
    if sent != seen:
        problems.append(f"the provider saw {len(seen)} creates for {len(sent)} generates sent")
    return problems


# --------------------------------------------------------------------------- figures
def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def to_json(data: Any) -> str:
    return json.dumps(data, indent=1, default=str)
