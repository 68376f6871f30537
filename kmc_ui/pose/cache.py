"""Analysis results cached by file content: in memory (LRU) and on disk (.npz).

A key is the file's content hash plus the analysis parameters and version, so renaming or
re-uploading the same file hits, and any change to the file or the parameters misses.
Hashing a file is remembered per (path, size, mtime), so a re-check after a setting change
reads nothing from disk at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_LOCK = threading.Lock()
_HASHES: dict[tuple[str, int, int], str] = {}
_MEMORY: OrderedDict[str, Any] = OrderedDict()
MEMORY_ENTRIES = 64


def content_hash(path: str | os.PathLike[str]) -> str:
    """sha256 of the file's bytes (hex), remembered per (path, size, mtime_ns)."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _LOCK:
        known = _HASHES.get(key)
    if known:
        return known
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            digest.update(chunk)
    value = digest.hexdigest()
    with _LOCK:
        _HASHES[key] = value
    return value


def make_key(kind: str, file_hash: str, params: dict[str, Any]) -> str:
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return f"{kind}-{file_hash[:32]}-{hashlib.sha256(blob).hexdigest()[:12]}"


def memory_get(key: str) -> Any:
    with _LOCK:
        value = _MEMORY.get(key)
        if value is not None:
            _MEMORY.move_to_end(key)
        return value


def memory_put(key: str, value: Any) -> None:
    with _LOCK:
        _MEMORY[key] = value
        _MEMORY.move_to_end(key)
        while len(_MEMORY) > MEMORY_ENTRIES:
            _MEMORY.popitem(last=False)


def clear_memory() -> None:
    """Forget everything held in memory (tests use it to prove the disk cache works)."""
    with _LOCK:
        _MEMORY.clear()
        _HASHES.clear()


def disk_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "pose" / f"{key}.npz"


def disk_get(cache_dir: Path | None, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    if cache_dir is None:
        return None
    path = disk_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
            meta = json.loads(str(data["__meta__"]))
        return arrays, meta
    except Exception:  # a torn or foreign file is a miss, never an error
        return None


def disk_put(cache_dir: Path | None, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    if cache_dir is None:
        return
    path = disk_path(cache_dir, key)
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        packed = io.BytesIO()  # packed in memory: a full disk fails the write, not numpy's zip file
        np.savez(packed, __meta__=np.array(json.dumps(meta)), **arrays)
        with os.fdopen(fd, "wb") as fh:
            fh.write(packed.getbuffer())
        os.replace(tmp, path)
    except OSError:  # caching is an optimisation: a read-only dir or a full disk just means no disk cache
        if tmp:
            Path(tmp).unlink(missing_ok=True)


@dataclass
class Flight:
    """A reading under way, for the callers that find it (see `board`): how far it got (frames, of
    how many), and, once `done` is set, its result or its error."""

    done: threading.Event = field(default_factory=threading.Event)
    at: tuple[int, int] = (0, 0)
    result: Any = None
    error: BaseException | None = None


_FLIGHTS: dict[Any, Flight] = {}


def board(key: Any) -> tuple[Flight, bool]:
    """The reading of `key` under way, and whether the caller is the one to make it (True: no one
    was; it must `land` it). A caller that is not waits on `done`: one reading of the same content
    with the same parameters at a time."""
    with _LOCK:
        flight = _FLIGHTS.get(key)
        if flight is not None:
            return flight, False
        flight = _FLIGHTS[key] = Flight()
        return flight, True


def land(key: Any, flight: Flight, result: Any = None, error: BaseException | None = None) -> None:
    """End the reading `board` gave the caller: its result (or error) to those waiting on it."""
    flight.result, flight.error = result, error
    with _LOCK:
        _FLIGHTS.pop(key, None)
    flight.done.set()
