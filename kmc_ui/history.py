"""Run records on disk: one folder per run, scoped to the browser that made it.

    <data_dir>/runs/<owner>/<run_id>/record.json   settings, provider, task id, status, cost, timings
    <data_dir>/runs/<owner>/<run_id>/...           inputs' thumbnails, result video, report

A record is written *before* the task is submitted and updated with the task id the moment
the provider returns it, so a paid task is never lost, even if the app stops mid-poll.
Records never hold secrets: only what the UI may show.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_lock = threading.Lock()


def new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)


def safe_id(value: str) -> str:
    if not _SAFE_ID.match(value or ""):
        raise ValueError("invalid id")
    return value


class History:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "runs"

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
        with _lock:
            record = self.get(owner, run_id) or {"run_id": run_id, "owner": owner}
            record.update(changes)
            record["updated_at"] = time.time()
            self._write(owner, run_id, record)
        return record

    def get(self, owner: str, run_id: str) -> dict[str, Any] | None:
        path = self.run_dir(owner, run_id) / "record.json"
        try:
            return json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None

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
        folder = self.run_dir(owner, run_id)
        if not folder.is_dir():
            return False
        shutil.rmtree(folder)
        return True

    def _write(self, owner: str, run_id: str, record: dict[str, Any]) -> None:
        path = self.run_dir(owner, run_id) / "record.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1, default=str), "utf-8")
        os.replace(tmp, path)
