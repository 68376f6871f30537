"""Prune the app's own temporary files under the data folder; History's runs are never touched.

    <data_dir>/prepared/    prepared copies and skeleton previews (a cache: made again on demand)
    <data_dir>/downloads/   videos fetched from a pasted URL (Gradio copies them to its own cache)
    <data_dir>/cache/pose/  pose landmarks per file content (a cache)
    <data_dir>/engine/      the offline engine's unfinished renders (a finished one moves to its run)
    <data_dir>/runs/        History: NEVER pruned here (a run's inputs are hard links of its own)

Gradio's own temporary folder (uploads, the copies of outputs it serves: GRADIO_TEMP_DIR,
default /tmp/gradio) is pruned the same way. Both are pruned by age (the later of the file's
modification and status-change times: Gradio re-touches a copy it hands out again), at start and
then periodically while the server runs (`lifespan`, wired in kmc_ui/server.py).

Why not Gradio's `delete_cache=(frequency, age)`: besides the age rule, it deletes *every* file
the app ever created when the server stops. Gradio's folder is shared by every Gradio process on
the machine and named by content, so two apps given the same file share one path, and one app
stopping deletes files another running app still serves (measured: uploads vanished mid-request
while other processes here stopped their apps). Pruning by age only has no such side effect, and
it also catches files left behind by a crash, which the in-memory delete_cache never sees.

Models kept at the top of cache/ (the pose bundle) are not temporary and are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("kmc.cleanup")

# Folders under the data dir whose files are temporary. Anything else (runs/, the pose model
# bundle at the top of cache/, files an operator put there) is left alone.
TEMP_DIRS = ("prepared", "downloads", "engine", "cache/pose")
MAX_AGE = 6 * 3600.0  # seconds a temporary file is kept after its last change
EVERY = 3600.0  # seconds between two prunes while the server runs


@dataclass
class PruneReport:
    files: int = 0  # files deleted
    bytes: int = 0  # their size
    dirs: int = 0  # empty folders removed
    errors: int = 0  # files that could not be deleted (in use, permissions): tried again next time

    def __str__(self) -> str:
        return f"{self.files} files ({self.bytes / 1e6:.1f} MB), {self.dirs} empty folders, {self.errors} errors"


def prune(data_dir: str | os.PathLike[str], max_age: float = MAX_AGE, now: float | None = None) -> PruneReport:
    """Delete files older than `max_age` seconds in the data folder's temporary folders."""
    report = PruneReport()
    for name in TEMP_DIRS:
        prune_folder(Path(data_dir) / name, max_age, now, report)
    return report


def prune_folder(
    folder: str | os.PathLike[str],
    max_age: float = MAX_AGE,
    now: float | None = None,
    report: PruneReport | None = None,
) -> PruneReport:
    """Delete files older than `max_age` seconds under `folder`, then the folders left empty.

    Symbolic links are removed as links and never followed, so nothing outside `folder` can be
    reached. Never raises on a file system error: it is counted and tried again next time.
    """
    top = Path(folder)
    cutoff = (time.time() if now is None else now) - max_age
    report = report if report is not None else PruneReport()
    if top.is_symlink() or not top.is_dir():
        return report
    for here, dirnames, filenames in os.walk(top, topdown=False, followlinks=False):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(here, d))]:
            path = os.path.join(here, name)
            try:
                st = os.lstat(path)
                if max(st.st_mtime, st.st_ctime) >= cutoff:
                    continue
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError:
                report.errors += 1
                continue
            report.files += 1
            report.bytes += st.st_size
        for name in dirnames:
            path = os.path.join(here, name)
            try:
                st = os.lstat(path)
                # Only an empty folder that is itself old: one just made is about to be written to.
                if not os.path.islink(path) and max(st.st_mtime, st.st_ctime) < cutoff:
                    os.rmdir(path)  # refuses a folder that is not empty
                    report.dirs += 1
            except OSError:
                continue
    return report


def prune_all(
    data_dir: str | os.PathLike[str], gradio_dir: str | os.PathLike[str] | None, max_age: float = MAX_AGE
) -> PruneReport:
    """The data folder's temporary folders and Gradio's temporary folder, in one report."""
    report = prune(data_dir, max_age)
    if gradio_dir:
        prune_folder(gradio_dir, max_age, report=report)
    return report


def lifespan(
    data_dir: str | os.PathLike[str],
    gradio_dir: str | os.PathLike[str] | None = None,
    max_age: float = MAX_AGE,
    every: float = EVERY,
    on_prune: Callable[[PruneReport], None] | None = None,
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A Starlette/FastAPI lifespan: prune at start, then every `every` seconds, until shutdown.

    Pass it to Gradio as `launch(app_kwargs={"lifespan": ...})`; Gradio chains it with its own.
    """

    async def loop() -> None:
        while True:
            try:
                report = await asyncio.to_thread(prune_all, data_dir, gradio_dir, max_age)
            except Exception:  # a bug here must never take the server down
                log.exception("pruning temporary files failed")
            else:
                if report.files or report.errors:
                    log.info("pruned temporary files: %s", report)
                if on_prune is not None:
                    on_prune(report)
            await asyncio.sleep(every)

    @contextlib.asynccontextmanager
    async def span(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(loop(), name="kmc-cleanup")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return span
