"""A full disk, recognised wherever it shows up, and said in plain words.

A write can fail for lack of space in Python (OSError ENOSPC, EDQUOT or EFBIG), in the run store
(SQLite's SQLITE_FULL "database or disk is full", PostgreSQL's SQLSTATE 53100 disk_full) or inside an
ffmpeg child (its stderr says "No space left on device"). All are told apart from other failures here, so
a run ends with the cause named, its partial files removed, and its record saying so, instead of
Gradio's bare "Error" and a run left "running".
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

from kmc_ui.messages import Msg, Said

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
SQLITE_FULL = 13  # sqlite3's primary result code (extended codes keep it in the low byte)
PG_DISK_FULL = "53100"  # PostgreSQL's SQLSTATE disk_full (psycopg.errors.DiskFull)
FULL_WORDS = ("No space left on device", "Disk quota exceeded", "File too large")

# What a visitor reads (English that keeps its message: kmc_ui/messages.py Said).
DISK_FULL = Said(Msg("progress.disk_full"))
DISK_FULL_PREPARE = Said(Msg("prepare.disk_full"))
DISK_FULL_RENDER = Said(Msg("engine.disk_full"))
DISK_FULL_RESULT = (
    "The server's disk is full, so the result of task {task_id} could not be saved; the partial file was "
    "removed. The task stays in History: free some space, then resume it there without paying again."
)


def says_disk_full(lines: Iterable[str]) -> bool:
    """True when a tool's messages (e.g. ffmpeg's stderr) report a full disk."""
    return any(words in line for line in lines for words in FULL_WORDS)


def is_disk_full(exc: BaseException | None) -> bool:
    """True for an error caused, at any depth of its chain, by a full disk."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
            return True
        if getattr(exc, "disk_full", False):
            return True
        code = getattr(exc, "sqlite_errorcode", None)  # sqlite3.Error, Python 3.11+
        if (isinstance(code, int) and code & 0xFF == SQLITE_FULL) or getattr(exc, "sqlstate", None) == PG_DISK_FULL:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
