"""The offline engine as a backend: CPU motion transfer, no keys, the default with no provider.

submit() starts a render in a background thread and returns its task id at once; poll()
reports progress per frame; cancel() stops the render within one frame; download() moves the
finished MP4 to where the runner wants it. Renders run one at a time (the machine has few
cores): later tasks wait, reported as queued with their position.

Tasks live in memory: after a restart an unknown task id polls as failed with a plain
explanation (the render is cheap to run again, nothing was paid for).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kmc_ui.backends.base import DownloadError, JobRequest, NotConfigured, TaskState, Transport
from kmc_ui.engine.common import EngineCancelled, EngineError, says
from kmc_ui.engine.pipeline import EngineJob, EngineResult, run_engine
from kmc_ui.jobs import PollPolicy
from kmc_ui.messages import Msg, Said
from kmc_ui.providers import PROVIDERS
from kmc_ui.storage import DISK_FULL_RENDER, is_disk_full

READY_TEXT = Said(Msg("setup.local_ready"))
LOST_TEXT = (
    "This offline render is no longer known (the app restarted while it ran or before it was saved). Run it again."
)
_ids = itertools.count(1)
PREVIEW_EVERY_S = 0.5  # how often the latest frame is written for the page while rendering
PREVIEW_HEIGHT = 480  # px: enough for a glance, small to serve


class Preview:
    """run_engine's on_frame: the frame drawn is written to `path` (JPEG, at most PREVIEW_HEIGHT px
    high) at most every PREVIEW_EVERY_S, the first one at once; replaced atomically, so a reader
    never sees half a file. A full disk only costs the preview."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last = float("-inf")

    def __call__(self, index: int, frame: np.ndarray, _stats: object) -> None:
        self.show(frame)

    def show(self, frame: np.ndarray) -> None:
        """run_engine's on_preview (the puppet drawn while its joints are calibrated), and each frame."""
        now = time.monotonic()
        if now - self.last < PREVIEW_EVERY_S:
            return
        self.last = now
        h, w = frame.shape[:2]
        f = min(1.0, PREVIEW_HEIGHT / h)
        small = cv2.resize(frame, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            return
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_bytes(data.tobytes())
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)


@dataclass
class _Task:
    task_id: str
    job: EngineJob
    out_path: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    status: str = "queued"
    progress: float = 0.0
    message: str = ""
    result: EngineResult | None = None
    submitted: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None


# Shared by every LocalBackend object (the UI may build one per session): one render at a time
# on this machine, and any object can poll, cancel or download any task.
_TASKS: dict[str, _Task] = {}
_LOCK = threading.Lock()
_SLOT = threading.Semaphore(1)
_WAITING: list[str] = []


def rendering() -> bool:
    """Whether this machine is rendering or has renders waiting (any LocalBackend's)."""
    with _LOCK:
        return any(task.status in ("queued", "running") for task in _TASKS.values())


class LocalBackend:
    spec = PROVIDERS["local"]  # its row: keys, prices, statuses, model ids (kmc_ui/providers.py)
    name = spec.name
    label = spec.label
    needs_video_url = False
    # Renders take seconds and report every frame: poll often (cheap, in-process).
    poll_policy = PollPolicy(first=0.2, running=0.25, warmup=0.0, warmup_interval=0.25, queued=0.5, queued_far=1.0)

    def __init__(self, settings: Any = None, media_host: Any = None, *, work_dir: Path | None = None) -> None:
        data_dir = Path(getattr(settings, "data_dir", "") or tempfile.gettempdir())
        self.work_dir = Path(work_dir) if work_dir is not None else data_dir / "engine"
        self.cache_dir: Path | None = data_dir / "cache" if settings is not None else None
        self._tasks = _TASKS
        self._lock = _LOCK
        self._slot = _SLOT
        self._waiting = _WAITING

    # ------------------------------------------------------------------ protocol
    def ready(self) -> tuple[bool, str]:
        return True, READY_TEXT

    def video_transport(self, video_url: str = "") -> Transport:
        return Transport("local_file", Said(Msg("transport.local")))

    def close(self) -> None:
        """Nothing to close: renders and their threads are shared by the process."""

    def submit(self, request: JobRequest) -> str:
        for what, path in (("character image", request.image_path), ("motion video", request.video_path)):
            if not Path(path).is_file():
                raise NotConfigured(Msg("local.input_missing", {"w_what": what, "f": Path(path).name}))
        task_id = f"local-{int(time.time())}-{os.getpid()}-{next(_ids)}"
        try:
            self.work_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise NotConfigured(Msg("local.work_folder", {"w_why": why})) from None
        job = EngineJob(
            Path(request.image_path), Path(request.video_path), request.orientation, request.tier, request.keep_sound
        )
        task = _Task(task_id, job, self.work_dir / f"{task_id}.mp4")
        with self._lock:
            self._tasks[task_id] = task
            self._waiting.append(task_id)
        task.thread = threading.Thread(target=self._run, args=(task,), name=f"kmc-local-{task_id}", daemon=True)
        task.thread.start()
        return task_id

    def knows(self, task_id: str) -> bool:
        """The task was started in this process (tasks live in memory: a restart forgets them)."""
        with self._lock:
            return task_id in self._tasks

    def poll(self, task_id: str) -> TaskState:
        with self._lock:
            task = self._tasks.get(task_id)
            position = self._waiting.index(task_id) if task is not None and task_id in self._waiting else None
        if task is None:
            return TaskState(task_id, "failed", message=LOST_TEXT, raw_status="unknown")
        state = TaskState(
            task_id,
            task.status,  # type: ignore[arg-type]
            message=task.message,
            queue_position=position if task.status == "queued" else None,
            progress=task.progress,
            raw_status=task.status,
        )
        if task.result is not None:
            state.result_duration = task.result.duration
            state.result_url = str(task.out_path)
            state.extra = {"engine": task.result.summary()}
        return state

    def download(self, state: TaskState, dest: Path) -> Path:
        with self._lock:
            task = self._tasks.get(state.task_id)
        if task is None or task.result is None or not task.out_path.is_file():
            raise DownloadError(Msg("local.result_gone"), task_id=state.task_id)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(task.out_path, dest)
        except OSError:
            shutil.copyfile(task.out_path, dest)
            task.out_path.unlink(missing_ok=True)
        task.out_path = dest
        return dest

    def cancel(self, task_id: str) -> bool:
        """Stop a render: it ends before the next frame is drawn. True when the task existed."""
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            return False
        task.cancel.set()
        return True

    # ------------------------------------------------------------------ extras
    def preview_path(self, task_id: str) -> Path:
        """The latest frame drawn of a render still going (a JPEG, replaced about twice a second):
        the page shows it before the video is done. Task ids are made here; anything else has none."""
        name = task_id if task_id.startswith("local-") and task_id.replace("-", "").isalnum() else "none"
        return self.work_dir / f"{name}.preview.jpg"

    def result(self, task_id: str) -> EngineResult | None:
        """The engine's own figures for a finished task (size, torn frames, timings, targets)."""
        task = self._tasks.get(task_id)
        return task.result if task is not None else None

    def wait(self, task_id: str, timeout: float | None = None) -> TaskState:
        """Block until the task ends (tests, CLI)."""
        task = self._tasks.get(task_id)
        if task is not None and task.thread is not None:
            task.thread.join(timeout)
        return self.poll(task_id)

    # ------------------------------------------------------------------ worker
    def _run(self, task: _Task) -> None:
        try:
            while not self._slot.acquire(timeout=0.1):
                if task.cancel.is_set():
                    self._finish(task, "canceled", says("stopped_before"))
                    return
            try:
                with self._lock:
                    if task.task_id in self._waiting:
                        self._waiting.remove(task.task_id)
                task.status = "running"
                if task.cancel.is_set():
                    raise EngineCancelled(says("stopped_before"))

                def progress(fraction: float, text: str) -> None:
                    task.progress = fraction
                    task.message = text

                preview = Preview(self.preview_path(task.task_id))
                task.result = run_engine(
                    task.job,
                    task.out_path,
                    progress=progress,
                    cancel=task.cancel,
                    cache_dir=self.cache_dir,
                    on_frame=preview,
                    on_preview=preview.show,
                )
                task.progress = 1.0
                notes = [getattr(n, "msg", n) for n in task.result.notes]
                task.message = Said(Msg("common.sentences", {"parts": notes}))
                self.preview_path(task.task_id).unlink(missing_ok=True)
                task.status = "succeeded"
            finally:
                self._slot.release()
        except EngineCancelled as exc:
            self._finish(task, "canceled", exc.said())
        except Exception as exc:  # a bug must still end the task with a readable reason
            if is_disk_full(exc):
                text = DISK_FULL_RENDER
            elif isinstance(exc, EngineError):
                text = exc.said()
            else:
                text = says("unexpected", exc=f"{type(exc).__name__}: {exc}")
            self._finish(task, "failed", text)

    def _finish(self, task: _Task, status: str, message: str) -> None:
        with self._lock:
            if task.task_id in self._waiting:
                self._waiting.remove(task.task_id)
        task.out_path.unlink(missing_ok=True)
        self.preview_path(task.task_id).unlink(missing_ok=True)
        task.message = message
        task.status = status
