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
    "prepared_changes",
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
    "notes",
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
    files["output_watermarked"] = record.get("output_watermarked")
    view["files"] = {k: Path(str(v)).name for k, v in files.items() if v}
    if isinstance(record.get("element"), dict) and record["element"].get("element_id"):
        view["element_id"] = str(record["element"]["element_id"])  # the identity lock's Kling Element
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


# ---------------------------------------------------------------- a run in words (History, Batch)

# Statuses whose task may still be fetched from its provider ("Resume": polled and downloaded again,
# never paid twice). The offline engine's tasks live in the process that ran them: never resumable.
RESUMABLE = frozenset({"submitted", "queued", "running", "stopped_waiting", "downloading", "download_failed"})
GOING = frozenset({"created", "queued", "submitting", "submitted", "running", "downloading", "retrying"})
PROVIDER_NAMES = {
    "local": ("offline preview", "离线预览"),
    "kling": ("Kling", "可灵"),
    "kling2": ("Kling API 2.0", "可灵 API 2.0"),
    "fal": ("fal.ai", "fal.ai"),
    "replicate": ("Replicate", "Replicate"),
}
TIER_NAMES = {"std": ("Standard 720p", "标准 720p"), "pro": ("Pro 1080p", "专业 1080p")}
_MONTHS_ZH = "一二三四五六七八九十"


def _pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def when_text(seconds: Any, lang: str = "en", now: float | None = None) -> str:
    """'2 Dec 14:03' (the year too when it is not this year's); Chinese '12月2日 14:03'."""
    try:
        t = time.localtime(float(seconds))
    except (TypeError, ValueError, OverflowError):
        return ""
    this_year = time.localtime(now if now is not None else time.time()).tm_year
    year = "" if t.tm_year == this_year else f" {t.tm_year}"
    if lang == "zh":
        return f"{'' if not year else f'{t.tm_year}年'}{t.tm_mon}月{t.tm_mday}日 {t.tm_hour:02d}:{t.tm_min:02d}"
    return f"{t.tm_mday} {time.strftime('%b', t)}{year} {t.tm_hour:02d}:{t.tm_min:02d}"


def provider_name(record: dict[str, Any], lang: str = "en") -> str:
    name = str(record.get("provider") or "")
    en, zh = PROVIDER_NAMES.get(name, (name, name))
    return _pick(lang, en, zh)


def _facts(record: dict[str, Any], lang: str) -> str:
    """'5 s, Standard 720p, offline preview'."""
    settings = record.get("settings") or {}
    parts = []
    seconds = record.get("result_duration")
    if isinstance(seconds, int | float) and seconds > 0:
        parts.append(_pick(lang, f"{seconds:.0f} s", f"{seconds:.0f} 秒"))
    tier = TIER_NAMES.get(str(settings.get("tier") or ""))
    if tier:
        parts.append(_pick(lang, *tier))
    if record.get("provider"):
        parts.append(provider_name(record, lang))
    return _pick(lang, ", ", "，").join(parts)


def status_sentence(record: dict[str, Any], lang: str = "en") -> str:
    """The run's status as a sentence a visitor reads, e.g. 'Finished 2 Dec 14:03 — 5 s, Standard
    720p, offline preview' or 'Stopped by you; the task was cancelled'. No raw status word, no error
    class or path (the error sentence the run recorded is kept for 'Failed: ...', by its caller)."""
    status = str(record.get("status") or "")
    at = when_text(record.get("finished_at") or record.get("updated_at") or record.get("created_at"), lang)
    facts = _facts(record, lang)
    where = provider_name(record, lang)
    task = bool(record.get("task_id"))
    if status == "succeeded":
        return _pick(lang, f"Finished {at} — {facts}", f"{at} 完成 — {facts}")
    if status == "canceled":
        return _pick(
            lang,
            "Stopped by you; the task was cancelled, so there is no result",
            "已由你停止；任务已取消，因此没有结果",
        )
    if status == "stopped":
        return _pick(lang, "Stopped by you before anything was sent", "已由你停止，尚未发送任何内容")
    if status == "stopped_waiting":
        return _pick(
            lang,
            f"No longer watched; the task may still be running at {where}: Resume fetches its result without "
            "paying again",
            f"已停止等待；任务可能仍在 {where} 运行：点击“继续”即可获取结果，无需再次付费",
        )
    if status == "download_failed":
        return _pick(
            lang,
            f"Finished at {where}, but the result could not be downloaded: Resume tries again without paying again",
            f"已在 {where} 完成，但结果无法下载：点击“继续”重新下载，无需再次付费",
        )
    if status == "submit_uncertain":
        return _pick(
            lang,
            f"Sent to {where}, but its answer was lost: Resume looks the task up",
            f"已发送到 {where}，但没有收到答复：点击“继续”查找该任务",
        )
    if status == "submit_failed":
        return _pick(lang, f"Not accepted by {where}", f"{where} 未接受此运行")
    if status == "failed":
        return _pick(lang, f"Failed {at}", f"{at} 失败")
    if status in ("queued", "created", "submitting"):
        return _pick(lang, "Waiting for its turn", "正在排队")
    if status in GOING:
        if task:
            return _pick(lang, f"Running at {where} since {at}", f"自 {at} 起在 {where} 运行中")
        return _pick(lang, "Running", "运行中")
    return _pick(lang, "Unknown state", "状态未知")


def run_actions(record: dict[str, Any] | None) -> dict[str, bool]:
    """Which History buttons make sense for this run: Resume only for a task that can still be fetched
    (never an offline run, nor a finished or cancelled one), Re-run when its inputs are kept, Download
    when there is a result, Delete for a run not going on."""
    if not record:
        return {"resume": False, "stop": False, "rerun": False, "delete": False, "download": False}
    status = str(record.get("status") or "")
    hosted = str(record.get("provider") or "") not in ("", "local")
    resumable = hosted and bool(record.get("task_id")) and status in RESUMABLE | {"submit_uncertain"}
    inputs = record.get("inputs") or {}
    return {
        "resume": resumable,
        "stop": False,  # shown only while a resume started on this page is going on
        "rerun": bool(inputs.get("image") and inputs.get("video")),
        "delete": status not in GOING or not record.get("task_id"),
        "download": status == "succeeded" and bool(record.get("output")),
    }
