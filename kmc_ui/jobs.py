"""Run one job through a backend and yield progress. Long work is a generator so Stop works.

submit -> record task id in history -> poll (adaptive interval) -> download -> done.
Transient errors are retried here, in one place, with exponential backoff and jitter;
final errors end the run with the provider's reason and what to do.
Closing the generator (Stop, see kmc_ui/ui/stops.py) stops waiting at once and asks the provider to
cancel where it can; a task that cannot be cancelled stays in History to be resumed.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kmc_ui.backends.base import (
    AmbiguousSubmit,
    AuthError,
    Backend,
    BackendError,
    DownloadError,
    FindsTasks,
    JobRequest,
    KeepsTaskData,
    ReleasesFiles,
    SubmitUncertain,
    TaskState,
    TransientError,
)
from kmc_ui.cost import charge_fields
from kmc_ui.history import History
from kmc_ui.messages import Msg, Said, render
from kmc_ui.storage import is_disk_full

log = logging.getLogger(__name__)

T = TypeVar("T")
TICK = 0.25  # seconds between progress yields while waiting (Stop reacts within this)


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float = 1.0  # provider docs: first backoff delay >= 1 s
    factor: float = 2.0
    max_delay: float = 30.0
    attempts: int = 6  # attempts in all, including the first
    download_attempts: int = 3  # a refused/expired link or a cut-short transfer: 3 tries, then a clear error
    jitter: float = 0.25  # +- share of the delay
    spurious_auth_tolerance: int = 3  # 401s in a row tolerated while polling (re-signed each time)

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.max_delay, self.first_delay * self.factor ** (attempt - 1))
        return max(self.first_delay, base * (1 + rng.uniform(-self.jitter, self.jitter)))


@dataclass(frozen=True)
class PollPolicy:
    """Adaptive polling: slow while queued (slower far back), slow for the first `warmup` seconds of
    running (a motion-control render takes minutes, it does not end in its first seconds), then
    `running` apart.

    A task can only finish while running, so a finish after the warm-up is noticed within `running`
    seconds (1.8 s, under the 2 s target), and the warm-up and the queue keep the average over a
    3-minute task under one request every 2 s (bench/bench_backends.py prints both figures).
    """

    first: float = 2.0
    running: float = 1.8
    warmup: float = 45.0  # seconds of running polled at `warmup_interval`
    warmup_interval: float = 4.0
    queued: float = 4.0
    queued_far: float = 8.0  # queue position >= 5

    def next_delay(self, state: TaskState | None, running_for: float = 0.0) -> float:
        """Seconds until the next status check; `running_for`: seconds since the task was first seen running."""
        if state is None:
            return self.first
        if state.status == "queued":
            return self.queued_far if (state.queue_position or 0) >= 5 else self.queued
        if running_for < self.warmup:
            # never slower than while queued: a policy made fast for tests stays fast
            slow = max(self.running, min(self.warmup_interval, self.queued))
            return max(self.running, min(slow, self.warmup - running_for))
        return self.running


class LeaseLost(Exception):
    """Thrown into a run by its worker when another worker took the run over: this one stops
    driving it without cancelling or recording anything (the other one goes on)."""


@dataclass
class Progress:
    """One step of a run. `text` may be given as a structured message (kmc_ui/messages.py): `msg`
    keeps it and `text` is its English (what the CLI, the logs and the tests read); `event_msgs`
    are the retry notes in `events` as messages (None for one without). Stored as JSON by the
    worker with its code and parameters (kmc_ui.worker.progress_json), read back by progress_of."""

    stage: str  # preparing / submitting / queued / running / retrying / downloading / done / failed / stopped
    text: str
    elapsed: float = 0.0
    task_id: str = ""
    run_id: str = ""
    queue_position: int | None = None
    result_path: Path | None = None
    result_duration: float | None = None
    error: str = ""
    events: list[str] = field(default_factory=list)
    msg: Msg | None = field(default=None, compare=False)
    event_msgs: list[Msg | None] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.text, Msg):
            self.msg, self.text = self.text, render(self.text, "en")
        elif isinstance(self.text, Said):  # English that keeps its message
            self.msg, self.text = self.text.msg, str(self.text)
        elif isinstance(self.msg, dict):  # read back from the worker's JSON
            self.msg = Msg.from_dict(self.msg)
        self.event_msgs = [Msg.from_dict(m) if isinstance(m, dict) else m for m in self.event_msgs]

    @property
    def finished(self) -> bool:
        return self.stage in ("done", "failed", "stopped")


@dataclass
class Clock:
    """Injected so tests and benchmarks control time without mocking the network."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def run_job(
    backend: Backend,
    request: JobRequest,
    history: History,
    owner: str,
    *,
    resume_task_id: str = "",
    retry: RetryPolicy = RetryPolicy(),
    poll: PollPolicy = PollPolicy(),
    clock: Clock | None = None,
    rng: random.Random | None = None,
    wake: threading.Event | None = None,
) -> Iterator[Progress]:
    """`wake`: set when the provider said the task changed (a signed callback, kmc_ui/webhooks.py):
    the wait before the next status check ends at once. Polling stays the way results are read."""
    rng = rng or random.Random()
    clock = clock or Clock()
    # A backend that knows its own pace (the offline engine: seconds, progress every frame) brings
    # its own policy; it wins over the caller's, which is tuned for hosted providers.
    if backend.poll_policy is not None:
        poll = backend.poll_policy
    start = clock.now()
    run_id = request.run_id
    events: list[str] = []
    event_msgs: list[Msg | None] = []
    task_id = resume_task_id
    finished = False
    state: TaskState | None = None
    lease_lost = False
    submit_unsure = False  # a create whose answer was lost: the provider may hold a task needing the files

    def progress(stage: str, text: str | Msg, **kw: Any) -> Progress:
        return Progress(
            stage,
            text,  # type: ignore[arg-type]  # a Msg becomes Progress.msg, its English the text
            clock.now() - start,
            task_id,
            run_id,
            events=list(events),
            event_msgs=list(event_msgs),
            **kw,
        )

    def wait(
        seconds: float, stage: str, text: str | Msg, woken: threading.Event | None = None, **kw: Any
    ) -> Iterator[Progress]:
        end = clock.now() + seconds
        while True:
            left = end - clock.now()
            if left <= 0:
                return
            if woken is not None and woken.is_set():
                woken.clear()
                return
            yield progress(stage, text, **kw)
            clock.sleep(min(TICK, left))

    def attempt(
        what: str, fn: Callable[[], T], auth_tolerance: int = 0, attempts: int = retry.attempts
    ) -> Iterator[Progress | T]:
        """Call fn, retrying transient failures; yields progress, then the result last."""
        auth_failures = 0
        for n in range(1, attempts + 1):
            try:
                yield fn()
                return
            except AuthError as exc:
                auth_failures += 1
                if auth_failures > auth_tolerance or n == attempts:
                    raise
                reason: Msg | str = Msg("progress.re_signing", {"t_msg": exc.msg or exc.message})
            except BackendError as exc:
                if not exc.retryable or n == attempts:
                    raise
                reason = exc.msg or exc.message
            delay = retry.delay(n, rng)
            said = {"w_what": what, "t_reason": reason, "n": n, "m": attempts - 1, "d": f"{delay:.1f}"}
            note = Msg("progress.retry", said)
            events.append(render(note, "en"))
            event_msgs.append(note)
            yield from wait(delay, "retrying", note)
        raise TransientError(f"{what} kept failing")  # pragma: no cover - loop always returns or raises

    try:
        if not task_id:
            history.update(owner, run_id, status="submitting", provider=backend.name)
            yield progress("submitting", Msg("progress.submitting", {"w_label": backend.label}))
            submitter = _submitter(backend, request)

            def submit() -> str:
                nonlocal submit_unsure
                try:
                    return submitter()
                except (AmbiguousSubmit, SubmitUncertain):
                    submit_unsure = True
                    raise

            for item in attempt("Submit", submit):
                if isinstance(item, Progress):
                    yield item
                else:
                    task_id = str(item)
            # The task id (and the links needed to reach it) are on disk before the first poll:
            # a paid task is never lost.
            extra = {"task_data": backend.task_data(task_id)} if isinstance(backend, KeepsTaskData) else {}
            history.update(owner, run_id, task_id=task_id, status="submitted", submitted_at=time.time(), **extra)
        elif isinstance(backend, KeepsTaskData):
            data = (history.get(owner, run_id) or {}).get("task_data")
            if isinstance(data, dict):
                backend.restore_task(task_id, {str(k): str(v) for k, v in data.items()})
        running_since: float | None = None
        while True:
            label = _status_text(backend, state)
            yield from wait(
                poll.next_delay(state, 0.0 if running_since is None else clock.now() - running_since),
                state.status if state else "queued",
                label,
                wake,
                queue_position=state.queue_position if state else None,
            )
            for item in attempt("Status check", lambda: backend.poll(task_id), retry.spurious_auth_tolerance):
                if isinstance(item, Progress):
                    yield item
                else:
                    state = item  # type: ignore[assignment]
            assert state is not None
            if state.status == "running" and running_since is None:
                running_since = clock.now()
            # A run's end is recorded below, with its reason or its result: an ended status here
            # would tell watchers (and the sweeper) the run is over before its result is on disk.
            if not state.done and (state.status != "queued" or state.queue_position is not None):
                history.update(owner, run_id, status=state.status, provider_status=state.raw_status)
            if state.done:
                break
        if state.status != "succeeded":
            history.update(owner, run_id, status=state.status, error=state.message, provider_status=state.raw_status)
            finished = True
            reason = state.message or state.raw_status or state.status
            ended = Msg("progress.task_ended", {"w_s": state.raw_status or state.status, "t_reason": reason})
            yield progress("failed", ended, error=reason)
            return
        history.update(
            owner, run_id, status="downloading", result_duration=state.result_duration, provider_status=state.raw_status
        )
        yield progress("downloading", Msg("progress.downloading"))
        target = history.run_dir(owner, run_id) / "output.mp4"
        dest = target
        try:
            for item in attempt("Download", lambda: backend.download(state, target), 0, retry.download_attempts):
                if isinstance(item, Progress):
                    yield item
                else:
                    dest = Path(item)  # type: ignore[arg-type]
        except BackendError as exc:
            raise DownloadError(
                Msg("progress.download_failed", {"t_msg": exc.msg or exc.message}),
                fix=exc.fix_msg or exc.fix or Msg("progress.download_failed.fix"),
                task_id=task_id,
            ) from exc
        marked = yield from _watermarked(backend, request, state, history.run_dir(owner, run_id), progress)
        finished = True
        notes = result_notes(state.message)
        history.update(
            owner,
            run_id,
            **marked,
            **notes,
            status="succeeded",
            output=str(dest),
            finished_at=time.time(),
            result_duration=state.result_duration,
            **charge_fields(state.extra),  # what the provider says it charged, where it says
        )
        yield progress("done", ready_msg(state.message), result_path=dest, result_duration=state.result_duration)
    except BackendError as exc:
        finished = True
        if task_id and not exc.task_id:
            exc.task_id = task_id
        if not task_id:
            status = "submit_uncertain" if isinstance(exc, SubmitUncertain) else "submit_failed"
        else:
            status = "download_failed" if isinstance(exc, DownloadError) else "failed"
        said = exc.user_msg()  # kept with its code, so History renders it in a page's language
        history.update(owner, run_id, status=status, error=exc.user_text(), error_msg=said.to_dict())
        yield progress("failed", said, error=exc.user_text())
    except LeaseLost:
        finished = lease_lost = True  # another worker drives the run now: leave the task and its files to it
        return
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        finished = True
        full = Msg("progress.disk_full_result", {"task": task_id}) if task_id else Msg("progress.disk_full")
        text = render(full, "en")  # DISK_FULL_RESULT / DISK_FULL
        _end_on_full_disk(history, owner, run_id, "download_failed" if task_id else "failed", text, full)
        yield progress("failed", full, error=text)
    finally:
        canceled = False
        if not finished:  # closed from outside: Stop (kmc_ui/worker.py closes the run when Stop is asked for)
            canceled = _stop(backend, history, owner, run_id, task_id)
        # The links this app serves the run's files under end once the provider cannot need them:
        # it reported the task processing or over, canceled it, or never got a task. A task still
        # waiting in the queue (or a create whose answer was lost) keeps them until they expire.
        seen_working = state is not None and state.status != "queued"
        unneeded = seen_working or canceled or not (task_id or submit_unsure)
        if isinstance(backend, ReleasesFiles) and not lease_lost and unneeded:
            backend.release(run_id)


def _end_on_full_disk(
    history: History, owner: str, run_id: str, status: str, text: str, msg: Msg | None = None
) -> None:
    """Remove the run's partial result (which frees space), then record why the run ended. A task
    the provider accepted stays resumable ("download_failed"): its result is paid for."""
    output = history.run_dir(owner, run_id) / "output.mp4"
    for partial in (output, output.with_name(output.name + ".part")):
        partial.unlink(missing_ok=True)
    try:
        history.update(owner, run_id, status=status, error=text, **({"error_msg": msg.to_dict()} if msg else {}))
    except OSError as exc:  # not even a small record fits: the log keeps the reason
        log.error("run %s ended on a full disk and its record could not be updated (%s)", run_id, exc.strerror)


def _submitter(backend: Backend, request: JobRequest) -> Callable[[], str]:
    """backend.submit, made safe to retry after an ambiguous failure.

    When a create request may have reached the provider (connection reset or timeout after
    sending), the next attempt first asks the provider for a task with our run id
    (external_task_id) and takes it instead of paying for a second one.
    """
    maybe_created = False
    can_look_up = bool(request.run_id) and isinstance(backend, FindsTasks)

    def submit() -> str:
        nonlocal maybe_created
        if maybe_created and can_look_up:
            found = backend.find_task(request.run_id)  # type: ignore[attr-defined]
            if found:
                return found
        try:
            return backend.submit(request)
        except AmbiguousSubmit as exc:
            if not can_look_up:
                # The provider cannot look a task up by our id: sending again could pay twice.
                raise SubmitUncertain(
                    Msg("progress.submit_uncertain", {"t_msg": exc.msg or exc.message, "w_label": backend.label}),
                    fix=Msg("progress.submit_uncertain.fix", {"w_label": backend.label}),
                ) from None
            maybe_created = True
            raise

    return submit


def _status_text(backend: Backend, state: TaskState | None) -> Msg:
    if state is None:
        return Msg("progress.waiting", {"w_label": backend.label})
    if state.status == "queued":
        if state.queue_position is not None:
            return Msg("progress.queued_at", {"w_label": backend.label, "n": state.queue_position})
        return Msg("progress.queued", {"w_label": backend.label})
    said: dict[str, Any] = {}
    if state.progress is not None:
        said["p"] = f"{state.progress:.0%}"
    if state.message:  # e.g. the offline engine's "Rendering frame 12 of 96"
        said["t_detail"] = state.message
    code = {("p", "t_detail"): "generating_pct_detail", ("p",): "generating_pct", ("t_detail",): "generating_detail"}
    return Msg("progress." + code.get(tuple(said), "generating"), said)


def result_notes(said: str) -> dict[str, Any]:
    """What a backend says of its result (only the offline engine says anything: its notes), as a
    record keeps it: `notes` in English and, for a Said, `notes_msg` (a page says them in its
    language); {} for nothing said."""
    if not said:
        return {}
    return {"notes": str(said)} | ({"notes_msg": said.msg.to_dict()} if isinstance(said, Said) else {})


def ready_msg(notes: str | Msg | None) -> Msg:
    """A run's last step: its result ready, with what its backend said of it (result_notes)."""
    return Msg("progress.ready_notes", {"t_notes": notes}) if notes else Msg("progress.ready")


def record_notes(record: dict[str, Any]) -> Msg | str:
    """The notes a run's record keeps (result_notes): their message, else their English ("")."""
    return Msg.from_dict(record.get("notes_msg")) or str(record.get("notes") or "")


def _watermarked(
    backend: Backend, request: JobRequest, state: TaskState, folder: Path, progress: Callable[..., Progress]
) -> Generator[Progress, None, dict[str, str]]:
    """The watermarked copy, when it was asked for, downloaded beside the clean result (one try: the
    clean result is what matters). Returns the record fields to add (its path, or why it is missing)."""
    url = str(state.extra.get("watermark_url") or "")
    if not request.watermark:
        return {}
    if not url:
        return {"watermark_note": "The provider sent no watermarked copy."}
    yield progress("downloading", Msg("progress.downloading_watermarked"))
    marked = TaskState(task_id=state.task_id, status="succeeded", result_url=url)
    try:
        path = backend.download(marked, folder / "output_watermarked.mp4")
    except BackendError as exc:
        return {"watermark_note": f"The watermarked copy could not be downloaded: {exc.message}"}
    return {"output_watermarked": str(path)}


def stopped_text(record: dict[str, Any] | None, label: str) -> str:
    """What Stop did to a run, read from its record as `_stop` left it."""
    return render(stopped_msg(record, label), "en")


def stopped_msg(record: dict[str, Any] | None, label: str) -> Msg:
    """stopped_text as a message."""
    status, task_id = (record or {}).get("status", ""), (record or {}).get("task_id", "")
    if task_id and status == "canceled":  # (queued or already running: it stops there either way)
        return Msg("progress.stopped_cancelled", {"w_label": label, "task": task_id})
    if task_id:
        return Msg("progress.stopped_waiting", {"w_label": label, "task": task_id})
    return Msg("progress.nothing_sent")


def _stop(backend: Backend, history: History, owner: str, run_id: str, task_id: str) -> bool:
    """Record what Stop did; True when the provider cancelled the task."""
    if not task_id:
        history.update(owner, run_id, status="stopped")
        return False
    cancelled = False
    try:
        cancelled = backend.cancel(task_id)
    except BackendError:
        cancelled = False
    history.update(owner, run_id, status="canceled" if cancelled else "stopped_waiting")
    return cancelled
