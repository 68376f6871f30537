"""Run records: one row per run in the run store (kmc_ui/store.py), scoped to the browser that made it.

    <data_dir>/kmc.db                              the records (or PostgreSQL, with KMC_DATABASE_URL)
    <data_dir>/runs/<owner>/<run_id>/...           the run's files: inputs, result video, report

A record is written *before* the task is submitted and updated with the task id the moment
the provider returns it, so a paid task is never lost, even if the app stops mid-poll.
Records never hold secrets: only what the UI may show. Records of an older version
(`runs/<owner>/<run_id>/record.json`) are imported once, then renamed `record.json.migrated`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import re
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kmc_ui.runs import RunRecord
from kmc_ui.storage import FULL_ERRNOS, is_disk_full
from kmc_ui.store import RunStore, store_url

RESERVE_BYTES = 64 * 1024  # a few dozen record writes
# Statuses that end a run (or leave it waiting for the visitor): recorded even on a full disk.
ENDED = frozenset(
    {"succeeded", "failed", "canceled", "download_failed", "submit_failed", "submit_uncertain", "stopped_waiting"}
)
log = logging.getLogger(__name__)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
    "charge_units",
    "charge_usd",
    "charge_note",
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
    def __init__(self, data_dir: Path, database_url: str = "") -> None:
        self.root = Path(data_dir) / "runs"
        self.reserve = self.root / ".reserve"
        self.root.mkdir(parents=True, exist_ok=True)
        self._keep_reserve()
        self.store = RunStore(store_url(data_dir, database_url))
        self._migrate()

    def close(self) -> None:
        self.store.close()

    def run_dir(self, owner: str, run_id: str) -> Path:
        return self.root / safe_id(owner) / safe_id(run_id)

    def create(self, owner: str, record: dict[str, Any]) -> dict[str, Any]:
        run_id = record.get("run_id") or new_id()
        record = {"run_id": run_id, "owner": owner, "created_at": time.time(), "status": "created", **record}
        record["run_id"] = run_id
        self.run_dir(owner, run_id).mkdir(parents=True, exist_ok=True)
        self._write(owner, run_id, lambda _old: RunRecord.from_dict(record, owner))
        return record

    def update(self, owner: str, run_id: str, **changes: Any) -> dict[str, Any]:
        """Change a record. On a full disk a task id and the end of a run use the space held back
        for records; a progress note (a status on the way) is skipped, the record staying as it was."""
        precious = "task_id" in changes or changes.get("status") in ENDED or "output" in changes
        record: dict[str, Any] = {}

        def edit(old: RunRecord | None) -> RunRecord:
            record.clear()
            record.update(old.to_dict() if old else {"run_id": run_id, "owner": owner})
            record.update(changes)
            record["updated_at"] = time.time()
            return RunRecord.from_dict(record, owner)

        try:
            self._write(owner, run_id, edit, precious)
        except OSError as exc:
            if precious or exc.errno not in FULL_ERRNOS:
                raise
            log.warning("the disk is full: run %s's progress note was not saved", run_id)
        return record

    def get(self, owner: str, run_id: str) -> dict[str, Any] | None:
        """The owner's record of that run; None for any other run, or for a value that is not an id."""
        try:
            self.run_dir(owner, run_id)
        except (ValueError, TypeError):
            return None
        record = self.store.get(run_id)
        return record.to_dict() if record and record.owner == owner else None

    def list(self, owner: str) -> list[dict[str, Any]]:
        records = [r.to_dict() for r in self.store.list(safe_id(owner))]
        return sorted(records, key=lambda r: r.get("created_at", 0), reverse=True)

    def pending(self, owner: str) -> list[dict[str, Any]]:
        """Runs with a task id whose result is not yet on disk: they can be resumed."""
        return [r for r in self.list(owner) if r.get("task_id") and r.get("status") not in ("succeeded", "failed")]

    def delete(self, owner: str, run_id: str) -> bool:
        if self.get(owner, run_id) is None:
            return False
        folder = self.run_dir(owner, run_id)
        if folder.is_dir():
            shutil.rmtree(folder)
        return self.store.delete(run_id, owner)

    def _write(
        self, owner: str, run_id: str, edit: Callable[[RunRecord | None], RunRecord | None], precious: bool = False
    ) -> None:
        """One transaction in the store; a full disk is an OSError (ENOSPC), as it was for files."""
        safe_id(owner)  # ValueError for a value that is not an id
        safe_id(run_id)
        for attempt in range(2):
            try:
                self.store.change(run_id, owner, edit)
                break
            except Exception as exc:  # the database rolled back: the old record stays whole
                if not is_disk_full(exc):
                    raise
                # A full disk: give up the reserve so a task id, or why a run ended, is saved.
                if attempt or not precious or not self._release_reserve():
                    raise OSError(errno.ENOSPC, "No space left on device (the run store)") from exc
        if not self.reserve.exists():
            self._keep_reserve()

    def _migrate(self) -> None:
        """Import the record files of an older version once each, then rename them `.migrated`.
        A record already in the store is not imported again; an unreadable or foreign file is skipped."""
        for path in sorted(self.root.glob("*/*/record.json")):
            owner, run_id = path.parent.parent.name, path.parent.name
            try:
                record = json.loads(path.read_text("utf-8"))
                if not (isinstance(record, dict) and _SAFE_ID.match(owner) and _SAFE_ID.match(run_id)):
                    raise ValueError("not a run record")
                if record.get("owner", owner) != owner or record.get("run_id", run_id) != run_id:
                    raise ValueError("the record names another run")
                new = RunRecord.from_dict({**record, "run_id": run_id, "owner": owner}, owner)
                self.store.change(run_id, owner, lambda old, new=new: None if old else new)
            except (OSError, ValueError, TypeError) as exc:  # (a run id of another owner is a ValueError)
                log.warning("run record %s was not imported into the run store: %s", run_id, exc)
                continue
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                log.warning("the disk is full: old run records stay to be imported at the next start")
                return
            with contextlib.suppress(OSError):  # (another process renamed it first)
                path.rename(path.with_name("record.json.migrated"))

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
