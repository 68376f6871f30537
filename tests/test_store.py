"""The run store behind History, for real: SQLite in the data folder and a PostgreSQL cluster this
test starts from Debian's package. The History API, the owner check, concurrent writers (threads
on both; two processes on SQLite), the import of an older version's record.json files, a full
database, and the operators' `python -m kmc_ui runs`."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from kmc_ui.history import ENDED, History, public_view
from kmc_ui.runs import RunRecord
from kmc_ui.storage import is_disk_full
from kmc_ui.store import store_url
from tests.runstore import env_without_database, postgres_missing, postgres_server, stored_records

REPO = Path(__file__).resolve().parents[1]
ALICE, BOB = "alice-0123", "bob-4567"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    missing = postgres_missing()
    if missing:
        pytest.skip(missing)
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """An empty URL (SQLite in the data folder) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    admin_url: str = request.getfixturevalue("postgres")
    name = "kmc_" + secrets.token_hex(4)
    admin = sa.create_engine(store_url(Path(), admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def test_a_record_keeps_every_key_exactly() -> None:
    record = {
        "run_id": "r1",
        "owner": ALICE,
        "status": "running",
        "task_id": None,  # a typed field holding another type stays as it was
        "created_at": 12,
        "updated_at": 1.5,
        "settings": {"tier": "std"},
        "something_new": [1, "two"],
    }
    typed = RunRecord.from_dict(record)
    assert typed.status == "running" and typed.updated_at == 1.5 and typed.task_id is None
    assert typed.extra == {"task_id": None, "created_at": 12, "settings": {"tier": "std"}, "something_new": [1, "two"]}
    assert typed.to_dict() == record


def test_the_history_api(tmp_path: Path, database: str) -> None:
    history = History(tmp_path, database)
    made = history.create(ALICE, {"provider": "kling", "settings": {"tier": "pro"}, "inputs": {"image": "/x/a.png"}})
    run_id = made["run_id"]
    assert made["status"] == "created" and made["owner"] == ALICE
    assert history.run_dir(ALICE, run_id).is_dir() and history.get(ALICE, run_id) == made
    assert history.pending(ALICE) == []
    changed = history.update(ALICE, run_id, task_id="T-1", status="running", output=tmp_path / "out.mp4")
    assert changed["output"] == tmp_path / "out.mp4"  # as given; the store keeps its text
    stored = history.get(ALICE, run_id)
    assert stored is not None and stored["output"] == str(tmp_path / "out.mp4") and stored["task_id"] == "T-1"
    assert stored["settings"] == {"tier": "pro"} and stored["updated_at"] >= stored["created_at"]
    assert [r["run_id"] for r in history.pending(ALICE)] == [run_id]
    older = history.create(ALICE, {"run_id": "20200101-000000-00000000", "created_at": 1.0})
    assert [r["run_id"] for r in history.list(ALICE)] == [run_id, older["run_id"]]  # newest first
    view = public_view(history.get(ALICE, run_id))
    assert view is not None and "owner" not in view and view["files"] == {"image": "a.png", "output": "out.mp4"}
    history.update(ALICE, run_id, status="succeeded")
    assert history.pending(ALICE) == [] and "succeeded" in ENDED
    # Another History on the same store (another process, a restart) sees the same records.
    assert History(tmp_path, database).get(ALICE, run_id) == history.get(ALICE, run_id)
    assert history.delete(ALICE, run_id) and not history.run_dir(ALICE, run_id).exists()
    assert history.get(ALICE, run_id) is None and not history.delete(ALICE, run_id)
    history.close()


def test_only_the_owner_sees_or_changes_a_run(tmp_path: Path, database: str) -> None:
    history = History(tmp_path, database)
    run_id = history.create(ALICE, {"provider": "local"})["run_id"]
    assert history.get(BOB, run_id) is None and history.list(BOB) == [] and not history.delete(BOB, run_id)
    with pytest.raises(ValueError):
        history.update(BOB, run_id, status="failed")
    with pytest.raises(ValueError):
        history.create(BOB, {"run_id": run_id})
    for bad in ("../alice", "", None, "a" * 65, "x/y"):
        assert history.get(ALICE, bad) is None and history.get(bad, run_id) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        history.list("../" + ALICE)
    record = history.get(ALICE, run_id)
    assert record is not None and record["status"] == "created" and "error" not in record
    history.close()


def test_concurrent_writers_never_lose_a_field(tmp_path: Path, database: str) -> None:
    history = History(tmp_path, database)
    run_id = history.create(ALICE, {"provider": "local"})["run_id"]
    writers, each = 6, 15

    def write(n: int) -> None:
        mine = History(tmp_path, database) if n % 2 else history  # shared and separate engines
        for i in range(each):
            mine.update(ALICE, run_id, **{f"w{n}_{i}": i}, status=f"step-{n}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record = history.get(ALICE, run_id)
    assert record is not None
    missing = [f"w{n}_{i}" for n in range(writers) for i in range(each) if f"w{n}_{i}" not in record]
    assert missing == [] and record["provider"] == "local" and record["status"].startswith("step-")
    history.close()


WRITER = """
import sys
from pathlib import Path
from kmc_ui.history import History
history = History(Path(sys.argv[1]))
for i in range(int(sys.argv[4])):
    history.update("{owner}", sys.argv[2], **{{f"p{{sys.argv[3]}}_{{i}}": i}})
"""


def test_two_processes_on_sqlite_never_lose_a_field(tmp_path: Path) -> None:
    history = History(tmp_path)
    run_id = history.create(ALICE, {"provider": "local"})["run_id"]
    script = WRITER.format(owner=ALICE)
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), run_id, str(p), "40"], cwd=REPO)
        for p in range(2)
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    record = history.get(ALICE, run_id)
    assert record is not None
    assert [f"p{p}_{i}" for p in range(2) for i in range(40) if f"p{p}_{i}" not in record] == []
    assert (tmp_path / "kmc.db").is_file() and sqlite_journal_mode(tmp_path / "kmc.db") == "wal"


def sqlite_journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def old_run(data: Path, owner: str, run_id: str, record: Any | None = None, text: str | None = None) -> Path:
    """A run folder as an older version left it: its files, and its record in record.json."""
    folder = data / "runs" / owner / run_id
    (folder / "inputs").mkdir(parents=True)
    (folder / "output.mp4").write_bytes(b"video")
    body = {"run_id": run_id, "owner": owner, "created_at": 5.0, "status": "succeeded", "task_id": "T"}
    (folder / "record.json").write_text(text if text is not None else json.dumps(record or body), "utf-8")
    return folder


def test_old_record_files_are_imported_once(tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    good = old_run(data, ALICE, "20250101-000000-aaaaaaaa")
    pending = old_run(data, ALICE, "20250101-000001-bbbbbbbb", {"created_at": 7.0, "status": "running", "task_id": "X"})
    other = old_run(data, BOB, "20250101-000002-cccccccc")
    torn = old_run(data, ALICE, "20250101-000003-dddddddd", text='{"run_id": "20250101-000003-dddd')
    foreign = old_run(data, ALICE, "20250101-000004-eeeeeeee", {"owner": BOB, "status": "succeeded"})
    listed = old_run(data, ALICE, "20250101-000005-ffffffff", text="[1, 2]")
    with caplog.at_level(logging.WARNING, logger="kmc_ui.history"):
        history = History(data, database)
    assert [r["run_id"] for r in history.list(ALICE)] == [pending.name, good.name]
    assert history.get(ALICE, pending.name) == {
        "run_id": pending.name, "owner": ALICE, "created_at": 7.0, "status": "running", "task_id": "X"
    }  # fmt: skip
    assert [r["run_id"] for r in history.pending(ALICE)] == [pending.name]
    assert [r["run_id"] for r in history.list(BOB)] == [other.name] and history.get(BOB, foreign.name) is None
    for folder in (good, pending, other):  # renamed, the run's files left where they are
        assert sorted(p.name for p in folder.iterdir()) == ["inputs", "output.mp4", "record.json.migrated"]
    for folder in (torn, foreign, listed):  # skipped, with a line in the log, left as they were
        assert (folder / "record.json").is_file() and folder.name in caplog.text
    # A second start imports nothing twice: a record.json put back does not overwrite the store.
    history.update(ALICE, good.name, status="deleted-later")
    (good / "record.json.migrated").rename(good / "record.json")
    again = History(data, database)
    assert len(again.list(ALICE)) == 2 and again.get(ALICE, good.name)["status"] == "deleted-later"  # type: ignore[index]
    assert not (good / "record.json").exists() and (good / "record.json.migrated").exists()
    history.close()
    again.close()


def test_a_full_database_is_a_full_disk(tmp_path: Path) -> None:
    """SQLite's SQLITE_FULL (here from a page limit; on a full disk the same code) and PostgreSQL's
    SQLSTATE 53100 are a full disk; History turns it into ENOSPC, as a record file's write was."""
    history = History(tmp_path)
    engine = history.store.engine
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    limited = sa.event.listens_for(engine, "connect")(
        lambda dbapi, _rec: dbapi.execute(f"PRAGMA max_page_count = {pages}")
    )
    engine.dispose()  # new connections, with the limit
    assert limited is not None
    try:
        history.create(ALICE, {"provider": "local", "blob": "x" * 200_000})
    except OSError as exc:
        assert is_disk_full(exc) and isinstance(exc.__cause__, sa.exc.OperationalError)
        assert "database or disk is full" in str(exc.__cause__)
    else:
        raise AssertionError("a record larger than the database's room was written")
    assert history.list(ALICE) == []
    assert is_disk_full(psycopg.errors.DiskFull("could not extend file")) and not is_disk_full(ValueError("x"))
    history.close()


def run_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = env_without_database(KMC_DATA_DIR=str(data), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "kmc_ui", "runs", *args], cwd=data.parent, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_operators_list_the_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history = History(data)
    done = history.create(ALICE, {"provider": "kling", "estimate_usd": 0.35})["run_id"]
    history.update(ALICE, done, task_id="TASK-9", status="succeeded")
    waiting = history.create(BOB, {"provider": "fal"})["run_id"]
    holder = "worker-host:4242:abcd"  # a worker on another machine holds Bob's run
    assert history.store.work.claim(waiting, holder, time.time() + 60, time.time(), alive=lambda _w: True)
    history.close()

    text = run_cli(data)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    columns = ["run_id", "owner", "backend", "status", "task_id", "created", "finished", "cost", "worker"]
    assert lines[0].split() == columns
    assert lines[-1] == "2 run(s)" and ALICE not in text.stdout and BOB not in text.stdout
    row = next(line.split() for line in lines if done in line)
    assert row[2:5] == ["kling", "succeeded", "TASK-9"] and row[7] == "$0.35" and len(row[1]) == 12

    listed = run_cli(data, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["run_id"]: r["status"] for r in rows} == {done: "succeeded", waiting: "created"}
    assert all(r["owner"] not in (ALICE, BOB) and len(r["owner"]) == 12 for r in rows)
    assert [r["finished"] is not None for r in rows if r["run_id"] == waiting] == [False]
    assert {r["run_id"]: r["worker"] for r in rows} == {done: None, waiting: holder}

    only = json.loads(run_cli(data, "--json", "--status", "succeeded").stdout)
    assert [r["run_id"] for r in only] == [done]
    assert stored_records(data, ALICE)[0]["task_id"] == "TASK-9"
