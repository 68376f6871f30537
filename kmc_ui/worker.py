"""Runs are server-side jobs: a queue, workers that drive runs, and leases so no run is lost.

    Generate -> run record (the store) -> run id on the queue -> a worker claims the run (a lease
    in run_work), drives it with jobs.run_job (submit, poll, download), renews the lease and
    publishes each progress step; pages only watch the store (Studio.watch).

The queue is Huey (SQLite in the data folder by default, Redis with KMC_QUEUE_URL). Every app
process runs `settings.workers` worker threads unless that is 0; `python -m kmc_ui worker` runs
them alone on any machine that shares the store, the queue and the data folder.

A run is never lost and never created twice at the provider:
- a worker holds a run by a lease it renews while it works (between steps, and from a side thread
  while a step blocks, e.g. a long upload); only the holder drives it;
- a sweeper in every worker process puts back on the queue each unfinished run that nobody holds
  (its worker died: SIGKILL, a crash, a lost machine; or a restart) and each run that has waited
  on the queue too long (a run just recorded is Generate's to queue); a duplicate on the queue is
  harmless, as only one worker claims the run and a process drives a run once at a time;
- a run picked up again continues from its record: a recorded task id is polled, never created
  again; a run that died while its create was being sent is first looked up at the provider by
  our run id (external_task_id); a provider that cannot look tasks up gets no second create, the
  run is marked uncertain instead; an offline render forgotten by a restart renders again (free);
- Stop is a flag in the store: the holder closes the run (cancelling or keeping the task, as
  before); a run no worker holds is recorded stopped by the one who pressed Stop.

A visitor's own pasted key lives in the memory of the app process only (never in the store), so
such a run is driven by a thread of that process; if that process dies the run waits in History
for the visitor to resume it with the key (no run of theirs is ever charged to the owner's key).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from kmc_ui import elements
from kmc_ui.backends.base import Backend, BackendError, FindsTasks, JobRequest
from kmc_ui.jobs import LeaseLost, Progress, run_job
from kmc_ui.messages import Msg
from kmc_ui.settings import Settings
from kmc_ui.store import STOPPED_HOLDER

if TYPE_CHECKING:
    from kmc_ui.studio import Studio

log = logging.getLogger(__name__)

# Statuses of a run somebody must still drive (the others ended, or wait for the visitor).
ACTIVE = frozenset({"created", "queued", "submitting", "submitted", "running", "downloading", "retrying"})
BEAT_S = 1.0  # a worker renews its lease and publishes progress at least this often
WATCH_TICK = 0.25  # a watching page reads the store this often
NEEDS_KEY = (
    "This run was started with your own key, which this server never stores, and the app restarted "
    "while it ran. Open History and press Resume with your key to collect the result (it is not paid again)."
)
UNCERTAIN = (
    "The app stopped while it was sending this run to {label}, which cannot look a task up by our id: "
    "it was not sent again, so you are not charged twice. Check your {label} dashboard for the task."
)
_LIVE_TOKENS: set[str] = set()  # workers alive in this process
_STARTED: weakref.WeakSet[Workers] = weakref.WeakSet()  # for close_all (tests end each one's threads)


def new_worker_id() -> str:
    token = secrets.token_hex(4)
    _LIVE_TOKENS.add(token)
    return f"{socket.gethostname()}:{os.getpid()}:{token}"


def alive(worker: str) -> bool:
    """Whether a lease holder may still be working: always, for another machine (its lease says);
    on this machine only while its process (and, in this process, that worker) lives."""
    host, _, rest = worker.partition(":")
    pid, _, token = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return token in _LIVE_TOKENS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_huey(settings: Settings) -> Huey:
    """The run queue: Redis at KMC_QUEUE_URL, else an SQLite file in the data folder."""
    if settings.queue_url:
        return RedisHuey("kmc-runs", url=settings.queue_url, results=False, blocking=True, read_timeout=1)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return SqliteHuey("kmc-runs", filename=str(Path(settings.data_dir) / "queue.db"), results=False, timeout=30)


class _ThreadConsumer(Consumer):
    """Huey's consumer run from a background thread: it must not take over the process's signals."""

    def _set_signal_handlers(self) -> None:
        pass


def progress_json(p: Progress) -> str:
    data = asdict(p)
    data["result_path"] = str(p.result_path) if p.result_path else None
    return json.dumps(data | {"at": time.time()})


def progress_of(text: str | None) -> Progress | None:
    if not text:
        return None
    try:
        data = json.loads(text)
        data.pop("at", None)
        path = data.pop("result_path", None)
        return Progress(**data, result_path=Path(path) if path else None)
    except (ValueError, TypeError):
        return None


def request_of(record: dict[str, Any]) -> JobRequest:
    """What a worker sends for a run: everything from its record (the files live in the run's folder)."""
    settings = record.get("settings") or {}
    inputs = record.get("inputs") or {}
    return JobRequest(
        image_path=Path(str(inputs.get("image") or "")),
        video_path=Path(str(inputs.get("video") or "")),
        prompt=str(settings.get("prompt") or ""),
        orientation=str(settings.get("orientation") or "video"),
        tier=str(settings.get("tier") or "std"),
        model=str(settings.get("model") or "v2.6"),
        keep_sound=bool(settings.get("keep_sound", True)),
        run_id=str(record["run_id"]),
        video_url=str(record.get("video_url") or ""),
        duration=record.get("video_duration"),
        watermark=bool(settings.get("watermark", False)),
        element_id=str((record.get("element") or {}).get("element_id") or ""),
        callback_url=str(record.get("callback_url") or ""),
    )


class Workers:
    """This process's workers: Huey consumer threads taking runs off the queue, a pool for runs that
    must stay in this process (a visitor's own key), and the sweeper. Started by Studio.workers."""

    def __init__(self, studio: Studio, threads: int, lease: float) -> None:
        self.studio = studio
        self.store = studio.history.store
        self.lease = lease
        self.sweep_every = max(0.5, min(5.0, lease / 4))
        self.stale = max(60.0, 4 * lease)  # a run waiting on the queue this long is put on it again
        self.id = new_worker_id()
        self.token = self.id.rsplit(":", 1)[-1]
        try:
            self.huey: Huey | None = make_huey(studio.settings)
            self.task: Any = self.huey.task(name="kmc.run")(self.execute)
        except Exception as exc:  # a full disk, Redis away: runs are driven in this process meanwhile
            log.warning("the run queue cannot be opened (%s): runs are driven in this process", exc)
            self.huey = self.task = None
        self.threads = threads
        self._here = ThreadPoolExecutor(max_workers=64, thread_name_prefix="kmc-run-here")
        self._session: dict[str, Backend] = {}  # run id -> a backend holding a visitor's own key
        self._driving: set[str] = set()  # runs this process drives now: a second message for one is dropped
        self._driving_lock = threading.Lock()
        self._consumer: Consumer | None = None
        self._stop = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    # -------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the consumer threads and the sweeper (again, after close)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stop = threading.Event()
            _LIVE_TOKENS.add(self.token)
        _STARTED.add(self)
        if self.threads:
            threading.Thread(target=self._sweeper, args=(self._stop,), name="kmc-sweeper", daemon=True).start()
        if self.threads and self.huey is not None:
            self._consumer = _ThreadConsumer(
                self.huey,
                workers=self.threads,
                periodic=False,
                initial_delay=0.05,
                backoff=1.5,
                max_delay=1.0,
                check_worker_health=False,
            )
            self._consumer.start()

    @staticmethod
    def started() -> set[Workers]:
        return set(_STARTED)

    @staticmethod
    def close_all(keep: set[Workers] | None = None) -> None:
        """Close every started Workers object of this process (but those in `keep`)."""
        for workers in list(_STARTED):
            if workers not in (keep or set()):
                workers.close()

    def close(self) -> None:
        """Stop taking runs. Runs being driven here are left to other workers (their leases lapse)."""
        with self._lock:
            self._started = False
            self._stop.set()
            _LIVE_TOKENS.discard(self.token)
            _STARTED.discard(self)
            if self._consumer is not None:
                self._consumer.stop()
                self._consumer = None

    # ---------------------------------------------------------------- queuing
    def enqueue(self, run_id: str, backend: Backend | None = None, fresh: bool = True) -> None:
        """Put a run on the queue; a run with a visitor's own `backend` is driven in this process."""
        self.store.work.enqueued(run_id, time.time(), fresh=fresh)
        if backend is not None:
            self._session[run_id] = backend
        else:
            self.start()
            if self._put(run_id):
                return
        self._here.submit(self.execute, run_id)

    def _put(self, run_id: str) -> bool:
        """Put the run on the queue; False when the queue cannot take it (a full disk, Redis away)."""
        if self.task is None:
            return False
        try:
            self.task(run_id)
        except Exception as exc:
            log.warning("run %s could not be put on the queue (%s): it is driven in this process", run_id, exc)
            return False
        return True

    # -------------------------------------------------------------- execution
    def execute(self, run_id: str) -> None:
        """Drive one run to its end, if nobody else does (a Huey task; also called for recovery)."""
        with self._driving_lock:  # the lease is this process's: a duplicate must not drive the run twice
            if run_id in self._driving:
                return
            self._driving.add(run_id)
        try:
            self._execute(run_id)
        finally:
            with self._driving_lock:
                self._driving.discard(run_id)

    def _execute(self, run_id: str) -> None:
        record = self.store.get(run_id)
        if record is None or record.status not in ACTIVE:
            return
        if not self.store.work.claim(run_id, self.id, time.time() + self.lease, time.time(), alive):
            return
        last: Progress | None = None
        done = threading.Event()
        threading.Thread(target=self._keep_lease, args=(run_id, done), name=f"kmc-lease-{run_id}", daemon=True).start()
        try:
            record = self.store.get(run_id)  # as the last holder left it
            if record is not None and record.status in ACTIVE:
                last = self._drive(record.to_dict())
        except Exception as exc:  # a bug must not kill the worker, nor come back at every sweep
            log.exception("run %s stopped on an unexpected error", run_id)
            self._give_up(run_id, exc)
        finally:
            done.set()
            if last is not None and last.finished and (own := self._session.pop(run_id, None)) is not None:
                own.close()  # a visitor's own-key backend lives as long as its run
            self.store.work.release(run_id, self.id, progress_json(last) if last else None)
            self.studio.settle(run_id)

    def _keep_lease(self, run_id: str, done: threading.Event) -> None:
        """Renew the lease while a step blocks (a long upload, a slow provider): only a dead worker
        loses its runs. Progress and Stop are handled between steps (_follow)."""
        while not done.wait(self.lease / 3):
            try:
                held, _stop = self.store.work.beat(run_id, self.id, time.time() + self.lease, None)
            except Exception:  # the database away for a moment: the next turn tries again
                continue
            if not held:
                return

    def _give_up(self, run_id: str, exc: Exception) -> None:
        """End a run that failed on an unexpected error: resumable from History if the provider has
        its task (nothing paid is lost), failed otherwise."""
        record = self.store.get(run_id)
        if record is None:
            return
        status = "stopped_waiting" if record.task_id else "failed"
        text = f"The run stopped on an unexpected error ({type(exc).__name__}). " + (
            "Its task is kept: resume it from History." if record.task_id else "Nothing was sent: generate again."
        )
        self.studio.history.update(record.owner, run_id, status=status, error=text)

    def _drive(self, record: dict[str, Any]) -> Progress | None:
        run_id, owner = str(record["run_id"]), str(record["owner"])
        history = self.studio.history
        backend = self._session.get(run_id)
        if backend is None and record.get("key_source") == "visitor":
            history.update(owner, run_id, status="stopped_waiting", error=NEEDS_KEY)
            return None
        name = str(record.get("provider") or "")
        backend = backend or self.studio.backends.get(name)
        if backend is None:
            text = f"This run was made with the '{name}' backend, which is not available here now."
            history.update(owner, run_id, status="stopped_waiting", error=text)
            return None
        task_id = str(record.get("task_id") or "")
        knows = getattr(backend, "knows", None)
        if task_id and callable(knows) and not knows(task_id):  # an offline render a restart forgot
            task_id = ""
        elif not task_id and record.get("status") == "submitting" and name != "local":
            # The last worker died while sending the create: the provider may hold the task.
            if not isinstance(backend, FindsTasks):
                history.update(owner, run_id, status="submit_uncertain", error=UNCERTAIN.format(label=backend.label))
                return None
            try:
                task_id = backend.find_task(run_id) or ""
            except BackendError as exc:  # ask again at the next sweep
                log.warning("run %s: looking its task up failed (%s)", run_id, exc.message)
                return None
            if task_id:
                history.update(owner, run_id, task_id=task_id, status="submitted")
        if not task_id and record.get("element") and not record["element"].get("element_id"):
            ended = self._element(backend, record)
            if ended is not None:
                return ended
        from kmc_ui import webhooks

        # A run that asked for Kling's signed callbacks is polled at once when one arrives (kmc_ui/webhooks.py).
        wake = webhooks.waker(run_id) if record.get("callback_url") else None
        try:
            steps = run_job(
                backend, request_of(record), history, owner, resume_task_id=task_id, poll=self.studio.poll, wake=wake
            )
            return self._follow(run_id, steps, wake)
        finally:
            if wake is not None:
                webhooks.forget(run_id, wake)

    def _element(self, backend: Backend, record: dict[str, Any]) -> Progress | None:
        """Make (or reuse) the run's identity Element before its create; fills record["element"]. A
        Progress when the run ends here: the Element failed or Stop was pressed (nothing was paid)."""
        run_id, owner = str(record["run_id"]), str(record["owner"])
        history = self.studio.history
        started = time.monotonic()

        def tick(text: str | Msg) -> bool:
            step = Progress("submitting", text, time.monotonic() - started, run_id=run_id)  # type: ignore[arg-type]
            return self.store.work.beat(run_id, self.id, time.time() + self.lease, progress_json(step))[1]

        try:
            element_id = elements.ensure(backend, self.studio.elements, owner, record["element"], run_id, tick)
        except elements.ElementStopped:
            history.update(owner, run_id, status="stopped")
            return Progress("stopped", Msg("progress.element_stopped"))  # type: ignore[arg-type]
        except elements.ElementError as exc:
            said = exc.user_msg()
            history.update(owner, run_id, status="failed", error=exc.user_text(), error_msg=said.to_dict())
            return Progress("failed", said, error=exc.user_text(), run_id=run_id)  # type: ignore[arg-type]
        record["element"] = dict(record["element"], element_id=element_id)
        history.update(owner, run_id, element=record["element"])
        return None

    def _follow(self, run_id: str, steps: Any, wake: threading.Event | None = None) -> Progress | None:
        """Step the run, renewing the lease and publishing progress; Stop or a lost lease ends it.
        `wake`: set when a callback for the run reached another process (the store's run_wake row)."""
        last: Progress | None = None
        beat = 0.0
        woken = time.time()
        for step in steps:
            changed = last is None or step.stage != last.stage or step.finished
            last = step
            if not changed and time.monotonic() - beat < BEAT_S:
                continue
            beat = time.monotonic()
            held, stop = self.store.work.beat(run_id, self.id, time.time() + self.lease, progress_json(step))
            if wake is not None:
                woken = self._woken(run_id, wake, woken)
            if step.finished:
                break
            if not held:
                log.warning("run %s was taken over by another worker: this one leaves it", run_id)
                with contextlib.suppress(StopIteration):
                    steps.throw(LeaseLost())
                return None
            if stop:
                steps.close()  # jobs.run_job cancels the task or keeps it for resuming, and records which
                return last
        return last

    def _woken(self, run_id: str, wake: threading.Event, seen: float) -> float:
        """Wake the run's wait when a callback newer than `seen` was recorded; the newest time seen."""
        try:
            at = self.store.work.woken_at(run_id) or 0.0
        except Exception:  # the database away for a moment: the poll goes on at its pace
            return seen
        if at > seen:
            wake.set()
        return max(at, seen)

    # -------------------------------------------------------------- recovery
    def _sweeper(self, stop: threading.Event) -> None:
        while not stop.wait(self.sweep_every):
            try:
                self.sweep()
            except Exception:  # the database may be away for a moment: try again at the next turn
                log.exception("the run sweeper failed; it tries again in %.0f s", self.sweep_every)

    def sweep(self) -> list[str]:
        """Queue again every unfinished run nobody holds; the run ids it queued."""
        now = time.time()
        records = self.store.list(statuses=ACTIVE)
        work = self.store.work.all([r.run_id for r in records])
        queued = []
        for record in records:
            row = work.get(record.run_id) or {}
            holder, until = row.get("worker"), row.get("lease_until") or 0
            if holder == STOPPED_HOLDER or (holder and until > now and alive(holder)):
                continue
            if not holder and now - (row.get("enqueued_at") or record.created_at or 0) < self.stale:
                continue  # waiting on the queue, or just recorded: Generate is putting it there
            self.store.work.enqueued(record.run_id, now)
            if record.run_id in self._session or not self._put(record.run_id):
                self._here.submit(self.execute, record.run_id)
            queued.append(record.run_id)
        if queued:
            log.info("put %d unfinished run(s) back on the queue: %s", len(queued), ", ".join(queued))
        for run_id in self.studio.ledger.reserved_runs():  # a run that ended while its worker died
            self.studio.settle(run_id)
        return queued


def main(settings: Settings, media_port: int | None = None) -> int:
    """`python -m kmc_ui worker`: drive runs from the shared queue until interrupted (SIGINT/SIGTERM).

    Providers that read the video from a URL fetch it from the process that registered it, so a
    worker sending such runs serves them itself on `media_port` (KMC_PUBLIC_BASE_URL must reach it)."""
    import signal

    from kmc_ui.backends.registry import build_backends
    from kmc_ui.media.hosting import MediaHost
    from kmc_ui.studio import Studio

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = MediaHost.from_settings(settings, [settings.data_dir])
    studio = Studio(settings, build_backends(settings, host), media_host=host)
    if media_port:
        _serve_media(host, media_port, studio)
    workers = studio.workers
    workers.start()
    kind = "Redis" if settings.queue_url else f"SQLite in {settings.data_dir}"
    log.info("worker %s: %d threads, queue on %s", workers.id, workers.threads, kind)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    workers.sweep()
    done.wait()
    log.info("worker %s stops; runs it drove continue on another worker", workers.id)
    workers.close()
    studio.history.close()
    return 0


def _serve_media(host: Any, port: int, studio: Studio | None = None) -> None:
    """The media route, and Kling's callback route (kmc_ui/webhooks.py) when KMC_PUBLIC_BASE_URL names this worker."""
    import uvicorn
    from starlette.applications import Starlette

    from kmc_ui.media.hosting import media_routes
    from kmc_ui.webhooks import callback_routes

    routes = media_routes(host) + (callback_routes(studio) if studio is not None else [])
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="0.0.0.0", port=port))
    threading.Thread(target=server.run, name="kmc-media", daemon=True).start()
