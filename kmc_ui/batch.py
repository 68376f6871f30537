"""Batch: one motion with several characters, or one character with several motions, as one request.

    plan = plan_batch(studio, images=[a, b, c], videos=[dance], common=Inputs(backend="kling"))
    plan.total_text()                       # "3 videos, 10.5 s in all: $0.74 (5.25 units) at most"
    for p in run_batch(studio, plan, owner):    # Iterator[BatchProgress]
        show(p.items)                       # per item: stage, text, task id, run id, result path

Every item is checked with Studio.check before anything is paid. An item with an error the
preparation step cannot fix (or a duplicate of another item) is listed with its reason and
skipped; the others still run. The batch costs the sum of the runnable items' estimates.

Items are started from threads, each through Studio.generate (prepare, record in History, then a
server-side run that a worker submits, polls and downloads), at most `concurrency` at a time: the
provider's per-account limit from limits.CONCURRENCY unless told otherwise. A failure, an exception
or a refused item never stops the others. Stop (`cancel`) stops the batch: items not yet started
are never submitted, and each running item is stopped the way a single run is (its task cancelled,
or kept in History to be resumed). A page that goes away leaves started items running.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from kmc_ui.backends.base import Backend
from kmc_ui.cost import Estimate
from kmc_ui.findings import Finding
from kmc_ui.jobs import Progress
from kmc_ui.limits import CONCURRENCY
from kmc_ui.messages import Msg
from kmc_ui.studio import CheckReport, Inputs, Studio
from kmc_ui.verdict import unfixable

MAX_ITEMS = 20  # one request; more is a job for the CLI in a loop, not one click
REFRESH = 0.5  # seconds between progress yields when nothing changes (elapsed times move on)

BatchKind = Literal["characters", "motions", "single"]
WAITING = Msg("batch.waiting")
SHARED = Msg("batch.preparing_shared")
FINISHED = ("done", "failed", "stopped", "skipped")


class BatchError(ValueError):
    """The batch as a whole cannot be planned (no inputs, too many, both lists long). Show as-is.
    Made from a message (kmc_ui/catalogue/batch.py), kept as `msg`; str() is its English."""

    def __init__(self, what: Msg, fix: str = "") -> None:
        self.msg = Msg("common.with_fix", {"what": what, "fix": Msg(f"batch.fix_{fix}")}) if fix else what
        super().__init__(self.msg.en())


@dataclass
class BatchItem:
    index: int  # 1-based position in the batch
    label: str  # "Character 2: alice.png"
    inputs: Inputs
    report: CheckReport
    skip_reason: str = ""  # "" = it will run
    skip_msg: Msg | None = field(default=None, compare=False)  # skip_reason as a message, when it has one
    label_msg: Msg | None = field(default=None, compare=False)  # label as a message

    @property
    def runnable(self) -> bool:
        return not self.skip_reason

    @property
    def estimate(self) -> Estimate | None:
        return self.report.estimate

    @property
    def blocking_findings(self) -> list[Finding]:
        """Errors the preparation step cannot fix: they make the item skipped (Verdict.blocking)."""
        return unfixable(self.report.findings)

    def to_dict(self) -> dict[str, object]:
        est = self.estimate
        return {
            "index": self.index,
            "label": self.label,
            "image": self.inputs.image,
            "video": self.inputs.video,
            "runnable": self.runnable,
            "skip_reason": self.skip_reason,
            "findings": [f.to_dict() for f in self.report.findings],
            "estimate_usd": est.usd if est else None,
            "estimate_units": est.units if est else None,
            "billed_seconds": self.report.billed_seconds,
        }


@dataclass
class BatchPlan:
    kind: BatchKind  # what varies: characters (one motion) / motions (one character) / single
    common: Inputs  # the settings every item shares (its image/video fields are not used)
    items: list[BatchItem]
    concurrency: int  # the backend's limit (limits.CONCURRENCY)
    backend_ready: tuple[bool, str] = (True, "")

    @property
    def runnable(self) -> list[BatchItem]:
        return [i for i in self.items if i.runnable]

    @property
    def skipped(self) -> list[BatchItem]:
        return [i for i in self.items if not i.runnable]

    @property
    def blocking(self) -> bool:
        """Nothing in the batch can run: every item is skipped, or the backend is not set up."""
        return not self.runnable or not self.backend_ready[0]

    @property
    def shared_findings(self) -> list[Finding]:
        """Findings on the input every item shares (the one motion, or the one character), once."""
        shared = {"characters": "video", "motions": "image"}.get(self.kind)
        if not shared or not self.items:
            return []
        return [f for f in self.items[0].report.findings if f.input == shared]

    @property
    def total_seconds(self) -> float:
        return round(sum(i.report.billed_seconds for i in self.runnable), 2)

    @property
    def total_usd(self) -> float | None:
        """Sum of the runnable items' estimates; None when a price is not published."""
        values = [i.estimate.usd if i.estimate else None for i in self.runnable]
        return None if any(v is None for v in values) else round(sum(v for v in values if v is not None), 4)

    @property
    def total_units(self) -> float | None:
        values = [i.estimate.units if i.estimate else None for i in self.runnable]
        return None if any(v is None for v in values) else round(sum(v for v in values if v is not None), 4)

    def total_text(self) -> str:
        return self.total_msg().en()

    def total_msg(self) -> Msg:
        """What the runnable items come to: how many, how long, at most what cost."""
        n = len(self.runnable)
        if not n:
            return Msg("batch.nothing")
        usd = self.total_usd
        if self.common.backend == "local":
            cost = Msg("batch.cost_free")
        elif usd is None:
            cost = Msg("batch.cost_unknown")
        elif self.total_units is not None:
            cost = Msg("batch.cost_units", {"usd": f"{usd:.2f}", "u": f"{self.total_units:.2f}"})
        else:
            cost = Msg("batch.cost_usd", {"usd": f"{usd:.2f}"})
        said = {"n": n, "s": f"{self.total_seconds:.1f}", "cost": cost}
        if self.skipped:
            return Msg("batch.total_skipped", said | {"k": len(self.skipped)})
        return Msg("batch.total", said)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "items": [i.to_dict() for i in self.items],
            "runnable": len(self.runnable),
            "skipped": len(self.skipped),
            "total_seconds": self.total_seconds,
            "total_usd": self.total_usd,
            "total_units": self.total_units,
            "total_text": self.total_text(),
            "shared_findings": [f.to_dict() for f in self.shared_findings],
            "concurrency": self.concurrency,
            "backend_ready": list(self.backend_ready),
            "blocking": self.blocking,
        }


@dataclass
class ItemProgress:
    index: int
    label: str
    stage: str  # waiting / skipped / preparing / submitting / queued / running / retrying / downloading / done / ...
    text: str
    task_id: str = ""
    run_id: str = ""
    result_path: Path | None = None
    error: str = ""
    elapsed: float = 0.0
    msg: Msg | None = field(default=None, compare=False)  # the last step's message (Progress.msg), if any
    label_msg: Msg | None = field(default=None, compare=False)  # label as a message

    @property
    def finished(self) -> bool:
        return self.stage in FINISHED

    def said(self) -> tuple[Msg | None, str]:
        """What the item's row says (its error, else its step) and that as a message when it has one."""
        shown = self.error or self.text
        return (self.msg if self.msg is not None and self.msg.en() == shown else None), shown

    def to_dict(self) -> dict[str, object]:
        d = {**asdict(self), "result_path": str(self.result_path) if self.result_path else None}
        del d["msg"], d["label_msg"]
        return d


@dataclass
class BatchProgress:
    items: list[ItemProgress]  # a snapshot: safe to keep
    elapsed: float
    running: int  # items holding a slot now (preparing .. downloading)
    peak_running: int  # the most that ever held a slot at once
    concurrency: int
    events: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return all(i.finished for i in self.items)

    def count(self, stage: str) -> int:
        return sum(1 for i in self.items if i.stage == stage)

    @property
    def results(self) -> list[ItemProgress]:
        return [i for i in self.items if i.stage == "done" and i.result_path is not None]

    def to_dict(self) -> dict[str, object]:
        return {
            "items": [i.to_dict() for i in self.items],
            "elapsed": round(self.elapsed, 2),
            "running": self.running,
            "peak_running": self.peak_running,
            "concurrency": self.concurrency,
            "finished": self.finished,
            "text": self.text(),
        }

    def text(self) -> str:
        return self.text_msg().en()

    def text_msg(self) -> Msg:
        """The tally: "2 done, 1 running (of 3; at most 2 at a time)"."""
        parts = [["done", self.count("done")]]
        parts += [[stage, self.count(stage)] for stage in ("failed", "stopped", "skipped") if self.count(stage)]
        if self.running:
            parts.append(["running", self.running])
        if self.count("waiting"):
            parts.append(["waiting", self.count("waiting")])
        return Msg("batch.tally", {"parts": parts, "n": len(self.items), "c": self.concurrency})


# ------------------------------------------------------------------------------------ plan
def plan_batch(
    studio: Studio,
    images: Sequence[str],
    videos: Sequence[str],
    common: Inputs,
    *,
    body: bool = False,
    backend: Backend | None = None,
) -> BatchPlan:
    """Check every item of the batch before anything is paid. Raises BatchError for a batch that
    cannot be planned at all; per-item problems make that item skipped, not the batch fail.

    body=True adds the pose pre-flight findings (Studio.body_check, no previews) to each item's
    report: seconds per item, the shared file's analysis is cached by content. `backend` replaces
    the configured one (a per-session backend holding the user's own key), as in Studio.generate."""
    images = [str(p) for p in images if p and str(p).strip()]
    videos = [str(p) for p in videos if p and str(p).strip()]
    if not images or not videos:
        raise BatchError(Msg("batch.add_image" if not images else "batch.add_video"))
    if len(images) > 1 and len(videos) > 1:
        raise BatchError(Msg("batch.both_lists", {"a": len(images), "b": len(videos)}), "one_list")
    kind: BatchKind = "characters" if len(images) > 1 else "motions" if len(videos) > 1 else "single"
    count = max(len(images), len(videos))
    if count > MAX_ITEMS:
        raise BatchError(Msg("batch.too_many", {"m": MAX_ITEMS, "c": count}), "split")

    items: list[BatchItem] = []
    seen: dict[tuple[int, str], int] = {}
    for n in range(count):
        image = images[n] if kind == "characters" else images[0]
        video = videos[n] if kind == "motions" else videos[0]
        inputs = replace(common, image=image, video=video)
        varying = video if kind == "motions" else image
        code = "batch.label_motion" if kind == "motions" else "batch.label_character"
        label = Msg(code, {"n": n + 1, "f": Path(varying).name})
        verdict = studio.verdict(inputs, studio.body_check(inputs, previews=False) if body else None)
        item = BatchItem(n + 1, label.en(), inputs, verdict.report, label_msg=label)
        if verdict.blocked:
            item.skip_msg = Msg("finding.sentences", {"parts": [f.text_msg() for f in verdict.blocking]})
            item.skip_reason = item.skip_msg.en()  # " ".join(f.text() ...)
        elif kind != "single":
            key = _content_key(varying)
            if key is not None and key in seen:
                same = Msg("batch.duplicate", {"n": seen[key]})
                item.skip_msg = Msg("common.with_fix", {"what": same, "fix": Msg("batch.fix_remove_one")})
                item.skip_reason = item.skip_msg.en()
            elif key is not None:
                seen[key] = item.index
        items.append(item)

    backend = backend or studio.backends.get(common.backend)
    ready = backend.ready() if backend is not None else (False, f"Unknown backend '{common.backend}'.")
    return BatchPlan(kind, common, items, CONCURRENCY.get(common.backend, 1), ready)


def _content_key(path: str, sample: int = 1 << 20) -> tuple[int, str] | None:
    """(size, digest of the first and last MiB): equal for copies of one file, cheap for 100 MB videos."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            digest = hashlib.sha256(fh.read(sample))
            if size > sample:
                fh.seek(max(sample, size - sample))
                digest.update(fh.read(sample))
    except OSError:
        return None
    return size, digest.hexdigest()


# ------------------------------------------------------------------------------------- run
def run_batch(
    studio: Studio,
    plan: BatchPlan,
    owner: str,
    concurrency: int | None = None,
    *,
    video_url: str = "",
    backend: Backend | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[BatchProgress]:
    """Run the plan's runnable items, at most `concurrency` at a time (default: the backend's
    limit from limits.CONCURRENCY). Yields aggregated progress; ends when every item is finished.
    `cancel` set (Stop) stops the batch: its runs are stopped, items not started are not sent.
    Closing the iterator without it only stops watching: items already started go on as
    server-side runs (see History); items not started yet are not started.

    video_url (a public URL the user gave for the one motion) and backend (a per-session backend)
    go to every item's Studio.generate. Raises BatchError for a URL in a several-motions batch."""
    if video_url and plan.kind == "motions":
        raise BatchError(Msg("batch.url_several"), "url")
    limit = max(1, int(concurrency if concurrency is not None else plan.concurrency))
    start = time.monotonic()
    state = {
        item.index: ItemProgress(
            item.index,
            item.label,
            "waiting" if item.runnable else "skipped",
            WAITING.en() if item.runnable else item.skip_reason,
            msg=WAITING if item.runnable else item.skip_msg,
            label_msg=item.label_msg,
        )
        for item in plan.items
    }
    runnable = plan.runnable
    events: list[str] = []
    updates: queue.Queue[tuple[int, Progress | None]] = queue.Queue()
    stop = threading.Event()  # no more watching: Stop, or the iterator was closed
    cancel = cancel or threading.Event()
    lock = threading.Lock()
    running = 0
    peak = 0

    def snapshot() -> BatchProgress:
        with lock:
            items = [replace(state[i.index]) for i in plan.items]
            return BatchProgress(items, time.monotonic() - start, running, peak, limit, list(events))

    def work(item: BatchItem) -> None:
        nonlocal running, peak
        if stop.is_set() or cancel.is_set():
            updates.put((item.index, Progress("stopped", Msg("batch.not_started"))))
            updates.put((item.index, None))
            return
        with lock:
            running += 1
            peak = max(peak, running)
        steps = studio.generate(item.inputs, owner, video_url=video_url, backend=backend, cancel=cancel)
        last: Progress | None = None
        try:
            for last in steps:
                updates.put((item.index, last))
                if stop.is_set() and not last.finished:  # (Stop itself reaches the run through `cancel`)
                    break
        except Exception as exc:  # a bug in one item must not stop the others
            said = Msg("batch.unexpected", {"exc": f"{type(exc).__name__}: {exc}"})
            last = Progress("failed", said, error=said.en())
            updates.put((item.index, last))
        finally:
            steps.close()  # with `cancel` set the run is stopped like a single run; else it goes on
            with lock:
                running -= 1
            if last is None or not last.finished:
                task_id = last.task_id if last else ""
                said = Msg("batch.stopped_resumable" if task_id else "batch.stopped")
                updates.put((item.index, Progress("stopped", said, task_id=task_id)))
            updates.put((item.index, None))  # this worker is done

    def apply(index: int, p: Progress | None) -> None:
        if p is None:
            return
        with lock:
            cur = state[index]
            cur.stage, cur.text, cur.elapsed, cur.msg = p.stage, p.text, p.elapsed, p.msg
            cur.task_id = p.task_id or cur.task_id
            cur.run_id = p.run_id or cur.run_id
            cur.result_path = p.result_path or cur.result_path
            cur.error = p.error or cur.error
            if p.stage in ("done", "failed", "stopped"):
                events.append(f"{cur.label}: {p.stage}" + (f" ({p.error})" if p.error else ""))

    if not plan.backend_ready[0]:
        why = plan.backend_ready[1]
        for item in runnable:
            state[item.index].stage, state[item.index].text, state[item.index].error = "failed", why, why
        yield snapshot()
        return

    pool = ThreadPoolExecutor(max_workers=min(limit, max(1, len(runnable))), thread_name_prefix="kmc-batch")
    left = len(runnable)
    try:
        yield snapshot()
        if plan.kind == "characters" and runnable:
            # Every item sends the same motion: prepare it once (transcode/trim) before the items
            # start, so N workers do not convert the same video N times at once.
            with lock:
                for item in runnable:
                    state[item.index].stage = "preparing"
                    state[item.index].text, state[item.index].msg = SHARED.en(), SHARED
            warm = pool.submit(studio.prepare, runnable[0].inputs)
            while True:
                try:
                    warm.result(timeout=REFRESH)
                    break
                except TimeoutError:
                    yield snapshot()
                except Exception:  # each item prepares again and reports its own problem
                    break
            with lock:
                for item in runnable:
                    state[item.index].stage, state[item.index].text = "waiting", WAITING.en()
                    state[item.index].msg = WAITING
        for item in runnable:
            pool.submit(work, item)
        while left:
            changed = False
            try:
                index, p = updates.get(timeout=REFRESH)
                while True:
                    apply(index, p)
                    changed = True
                    left -= p is None
                    index, p = updates.get_nowait()
            except queue.Empty:
                pass
            if changed or left:
                yield snapshot()
    finally:
        stop.set()  # closed early: workers stop at their next step and close their own runs
        pool.shutdown(wait=False, cancel_futures=True)
