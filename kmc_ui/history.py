"""Run records on disk: one folder per run, scoped to the browser that made it.

    <data_dir>/runs/<owner>/<run_id>/record.json   settings, provider, task id, status, cost, timings
    <data_dir>/runs/<owner>/<run_id>/...           inputs' thumbnails, result video, report

A record is written *before* the task is submitted and updated with the task id the moment
the provider returns it, so a paid task is never lost, even if the app stops mid-poll.
Records never hold secrets: only what the UI may show.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from kmc_ui.storage import FULL_ERRNOS

RESERVE_BYTES = 64 * 1024  # a few dozen record writes
# Statuses that end a run (or leave it waiting for the visitor): recorded even on a full disk.
ENDED = frozenset(
    {"succeeded", "failed", "canceled", "download_failed", "submit_failed", "submit_uncertain", "stopped_waiting"}
)
log = logging.getLogger(__name__)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_lock = threading.Lock()


def new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)


def safe_id(value: str) -> str:
    if not _SAFE_ID.match(value or ""):
        raise ValueError("invalid id")
    return value


# What a page or an API client may see of a record: never the owner, never a server path.
PUBLIC_FIELDS = (
    "run_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "status",
    "provider",
    "provider_status",
    "task_id",
    "settings",
    "estimate_usd",
    "estimate_units",
    "billed_seconds_estimate",
    "result_duration",
    "error",
)


def public_view(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record as shown to its owner: plain facts, file names instead of paths, no owner id."""
    if not record:
        return None
    view = {k: record[k] for k in PUBLIC_FIELDS if k in record}
    inputs = record.get("inputs") or {}
    files = {"image": inputs.get("image"), "video": inputs.get("video"), "output": record.get("output")}
    view["files"] = {k: Path(str(v)).name for k, v in files.items() if v}
    if isinstance(record.get("report"), dict):
        view["report"] = {k: v for k, v in record["report"].items() if k != "plot_path"}
    return view


class History:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "runs"
        self.reserve = self.root / ".reserve"
        self._keep_reserve()

    def run_dir(self, owner: str, run_id: str) -> Path:
        return self.root / safe_id(owner) / safe_id(run_id)

    def create(self, owner: str, record: dict[str, Any]) -> dict[str, Any]:
        run_id = record.get("run_id") or new_id()
        record = {"run_id": run_id, "owner": owner, "created_at": time.time(), "status": "created", **record}
        record["run_id"] = run_id
        self.run_dir(owner, run_id).mkdir(parents=True, exist_ok=True)
        self._write(owner, run_id, record)
        return record

    def update(self, owner: str, run_id: str, **changes: Any) -> dict[str, Any]:
        """Change a record. On a full disk a task id and the end of a run use the space held back
        for records; a progress note (a status on the way) is skipped, the record staying as it was."""
        precious = "task_id" in changes or changes.get("status") in ENDED or "output" in changes
        with _lock:
            record = self.get(owner, run_id) or {"run_id": run_id, "owner": owner}
            record.update(changes)
            record["updated_at"] = time.time()
            try:
                self._write(owner, run_id, record, precious)
            except OSError as exc:
                if precious or exc.errno not in FULL_ERRNOS:
                    raise
                log.warning("the disk is full: run %s's progress note was not saved", run_id)
        return record

    def get(self, owner: str, run_id: str) -> dict[str, Any] | None:
        """The owner's record of that run; None for any other run, or for a value that is not an id."""
        try:
            path = self.run_dir(owner, run_id) / "record.json"
            record = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError, TypeError):
            return None
        return record if isinstance(record, dict) and record.get("owner", owner) == owner else None

    def list(self, owner: str) -> list[dict[str, Any]]:
        folder = self.root / safe_id(owner)
        records = []
        if folder.is_dir():
            for run in folder.iterdir():
                record = self.get(owner, run.name) if _SAFE_ID.match(run.name) else None
                if record:
                    records.append(record)
        return sorted(records, key=lambda r: r.get("created_at", 0), reverse=True)

    def pending(self, owner: str) -> list[dict[str, Any]]:
        """Runs with a task id whose result is not yet on disk: they can be resumed."""
        return [r for r in self.list(owner) if r.get("task_id") and r.get("status") not in ("succeeded", "failed")]

    def delete(self, owner: str, run_id: str) -> bool:
        if self.get(owner, run_id) is None:
            return False
        folder = self.run_dir(owner, run_id)
        if not folder.is_dir():
            return False
        shutil.rmtree(folder)
        return True

    def _write(self, owner: str, run_id: str, record: dict[str, Any], precious: bool = False) -> None:
        path = self.run_dir(owner, run_id) / "record.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        text = json.dumps(record, indent=1, default=str)
        for attempt in range(2):
            try:
                tmp.write_text(text, "utf-8")
                os.replace(tmp, path)
                break
            except OSError as exc:  # the old record stays whole: no half-written copy is left
                tmp.unlink(missing_ok=True)
                # A full disk: give up the reserve so a task id, or why a run ended, is saved.
                if attempt or not precious or exc.errno not in FULL_ERRNOS or not self._release_reserve():
                    raise
        if not self.reserve.exists():
            self._keep_reserve()

    def _keep_reserve(self) -> None:
        """Space held back for records: a full disk must not keep a run from saying how it ended."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not self.reserve.exists() and shutil.disk_usage(self.root).free > 16 * RESERVE_BYTES:
                with self.reserve.open("wb") as fh:
                    fh.write(b"\0" * RESERVE_BYTES)
        except OSError:
            self.reserve.unlink(missing_ok=True)

    def _release_reserve(self) -> bool:
        try:
            self.reserve.unlink()
        except OSError:
            return False
        log.warning("the disk is full: the space held back for run records is being used")
        return True
