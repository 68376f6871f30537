"""Shared parts of the preparation step: its errors and the on-disk result cache.

Prepared files are named `<source stem>-<key>.<ext>` in the output folder, where the key hashes
the source's content and the options; a JSON sidecar beside each result records what was done.
Files are written under a temporary name and renamed into place, so a half-written file is never
mistaken for a result (also when two sessions prepare the same file at once).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import uuid
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from kmc_ui.findings import Finding
from kmc_ui.limits import InputLimits
from kmc_ui.messages import Msg

ALGO_VERSION = 1  # bump when the output for the same request changes (invalidates cached results)
DEFAULT_OUT_DIR = Path(tempfile.gettempdir()) / "kmc-prepared"
MB = 1024 * 1024


class PreparationError(Exception):
    """The input cannot be prepared. The text names the input and the fix; show it as-is. Made from
    a message (kmc_ui/catalogue/prepare.py), kept as `msg` for a page in another language; str()
    is its English."""

    def __init__(self, said: Msg | str) -> None:
        self.msg: Msg | None = said if isinstance(said, Msg) else None
        super().__init__(said.en() if isinstance(said, Msg) else said)


def failed(what: Msg, fix: str, **params: object) -> Msg:
    """What could not be done and its fix ("... Fix: ..."): `fix` is a prepare.fix_* code."""
    return Msg("common.with_fix", {"what": what, "fix": Msg(f"prepare.fix_{fix}", params)})


class PreparationCancelled(PreparationError):
    """Preparing was stopped on request (the `cancel` event was set)."""


def refuse_unfixable(findings: list[Finding]) -> None:
    """Raise for the first error the preparation step cannot fix (its text is the rule's own)."""
    for f in findings:
        if f.level == "error" and not f.auto_fix:
            if f.msg is None:  # a finding made without its message
                raise PreparationError(f"{f.message} Fix: {f.fix}" if f.fix else f.message)
            fix = f.fix_msg or f.fix
            raise PreparationError(Msg("common.with_fix", {"what": f.msg, "fix": fix}) if f.fix else f.msg)


def ensure_dir(out_dir: Path | str | None) -> Path:
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    return out


def result_stem(source: Path, params: dict[str, object], what: str) -> str:
    """`<stem>-<16 hex>`: the same content prepared with the same options gets the same name."""
    try:
        st = source.stat()
        digest = _file_digest(str(source), st.st_size, st.st_mtime_ns)
    except OSError as exc:
        said = Msg("prepare.cannot_read", {"w_what": what, "w_why": exc.strerror})
        raise PreparationError(failed(said, "upload_again")) from None
    blob = json.dumps({"v": ALGO_VERSION, "src": digest, **params}, sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", source.stem)[:40] or "file"
    return f"{stem}-{key}"


@lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of the content; remembered per (path, size, mtime) so a repeat costs nothing."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return f"{h.hexdigest()}:{size}"


def cache_lookup(out: Path, stem: str) -> tuple[Path, dict[str, object]] | None:
    meta_path = out / f"{stem}.json"
    try:
        meta = json.loads(meta_path.read_text())
        path = out / str(meta["file"])
        if path.stat().st_size != meta["size"]:
            return None
        return path, meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cache_store(out: Path, stem: str, path: Path, meta: dict[str, object]) -> None:
    record = {**meta, "file": path.name, "size": path.stat().st_size}
    tmp = tmp_name(out / f"{stem}.json")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, out / f"{stem}.json")


def tmp_name(final: Path) -> Path:
    """A unique hidden name beside `final`, keeping its extension (ffmpeg picks muxers by it)."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")


def limit_fields(limits: InputLimits, prefix: str) -> dict[str, object]:
    return {k: v for k, v in asdict(limits).items() if k.startswith(prefix)}


def mb(n: float) -> str:
    return f"{n / MB:.1f} MB"


def elapsed_ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)
