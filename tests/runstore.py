"""Tests' view of the run store: what `runs/*/*/record.json` files were before the database.

`stored_records(data_dir)` reads every record the app stored under data_dir (all owners, or one),
as History returns them; `postgres_server()` and `redis_server()` start throwaway PostgreSQL and
Redis from Debian's packages.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kmc_ui.store import RunStore, store_url

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def stored_records(data_dir: Path | str, owner: str | None = None, database_url: str = "") -> list[dict[str, Any]]:
    """Every run record in data_dir's store (oldest first); [] when the app never stored one."""
    if not database_url and not (Path(data_dir) / "kmc.db").exists():
        return []
    store = RunStore(store_url(Path(data_dir), database_url))
    try:
        return [r.to_dict() for r in reversed(store.list(owner))]
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_missing() -> str:
    """Why no PostgreSQL can be started here, or "" when it can."""
    if not (PG_BIN / "initdb").is_file():
        return f"PostgreSQL 15 is not installed ({PG_BIN}/initdb is missing: apt-get install postgresql)"
    if shutil.which("runuser") is None:
        return "runuser is missing (PostgreSQL's initdb refuses to run as root)"
    return ""


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port, run as the `postgres` user; yields
    the URL of its `postgres` database (trust authentication) and removes the cluster at the end."""
    root = Path(tempfile.mkdtemp(prefix="kmc-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()

    def as_postgres(*args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    try:
        as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def env_without_database(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KMC_DATABASE_URL"}
    return env | extra


def redis_missing() -> str:
    return "" if shutil.which("redis-server") else "redis-server is not installed (apt-get install redis-server)"


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis on a free loopback port, nothing saved to disk; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
