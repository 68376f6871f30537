"""The run store: one table `runs` in SQLite (default) or PostgreSQL (KMC_DATABASE_URL).

    runs(run_id PK, owner, status, provider, task_id, created_at, updated_at, data)

    run_work(run_id PK, worker, lease_until, enqueued_at, stop, progress)

    run_wake(run_id PK, at)

The typed columns are what is queried; `data` is the rest of the record as JSON text. A change is a
read-modify-write inside one transaction that holds the row (PostgreSQL: SELECT ... FOR UPDATE;
SQLite: BEGIN IMMEDIATE, the database's write lock), so two writers never lose each other's fields,
whether they are threads or processes. SQLite runs in WAL mode with a busy timeout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from kmc_ui.runs import TYPED, RunRecord

log = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another one's transaction (SQLite)
# SQLite copies the WAL back into the database after every commit, and the next writer reuses the
# WAL from its start: changing a record takes no new disk space (as replacing its file did), so a
# full disk stops only what grows (a new run, a longer record).
CHECKPOINT_PAGES = 1

metadata = sa.MetaData()
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String),
    sa.Column("provider", sa.String),
    sa.Column("task_id", sa.String),
    sa.Column("created_at", sa.Float),
    sa.Column("updated_at", sa.Float),
    sa.Column("data", sa.Text, nullable=False),
)
# Who drives a run now (kmc_ui/worker.py): a lease a worker renews while it works, the Stop flag,
# and the worker's last progress step (JSON) that pages watching the run show.
work = sa.Table(
    "run_work",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("worker", sa.String(200)),  # the lease holder ("host:pid:token"), None when nobody holds it
    sa.Column("lease_until", sa.Float),  # epoch seconds
    sa.Column("enqueued_at", sa.Float),
    sa.Column("stop", sa.Boolean, nullable=False, default=False),
    sa.Column("progress", sa.Text),
)
# A provider's callback for a run (kmc_ui/webhooks.py) received by a process other than its worker's:
# the worker holding the run sees the newer time and polls at once (its own table, so an older
# database gains it without a migration).
wakes = sa.Table(
    "run_wake",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds of the latest callback
)
# The owner's money (kmc_ui/spend.py): one row per run on the owner's keys, and each refused run.
spend = sa.Table(
    "spend",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("visitor", sa.String(64), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False),  # a keyed hash of the client address
    sa.Column("day", sa.String(10), nullable=False, index=True),  # UTC, YYYY-MM-DD
    sa.Column("provider", sa.String),
    sa.Column("reserved_usd", sa.Float, nullable=False),
    sa.Column("charged_usd", sa.Float),  # set when the run ended
    sa.Column("state", sa.String(10), nullable=False),  # reserved / charged / released
    sa.Column("charge_note", sa.Text),  # what the provider reported, or "estimate"
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("settled_at", sa.Float),
)
refusals = sa.Table(
    "spend_refusals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("visitor", sa.String(64), nullable=False),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),  # budget / visitor_usd / visitor_runs
)
# Kling identity Elements (kmc_ui/elements.py): one row per visitor, provider account and set of pictures,
# so the same pictures make one Element, reused by later runs.
elements = sa.Table(
    "elements",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(32), primary_key=True),  # a short hash naming the provider account
    sa.Column("digest", sa.String(64), primary_key=True),  # SHA-256 of the pictures, in order
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("task_id", sa.String(64)),  # the creation task, recorded before it is polled
    sa.Column("element_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # creating / ready / failed / deleted
    sa.Column("pictures", sa.Integer, nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
STOPPED_HOLDER = "stopped"  # the holder of a run Stop took while no worker held it: nobody claims it


class OtherOwner(ValueError):
    """The run id belongs to another owner's run: it is never read or changed for this one."""


def store_url(data_dir: Path, url: str = "") -> str:
    """The SQLAlchemy URL: `url` (a PostgreSQL URL is driven by psycopg 3), else <data_dir>/kmc.db."""
    if not url:
        return f"sqlite:///{Path(data_dir).resolve() / 'kmc.db'}"
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy, not the driver, says BEGIN
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


class RunStore:
    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.engine = _sqlite_engine(url) if self.sqlite else sa.create_engine(url, pool_pre_ping=True)
        with self._begin(write=True) as conn:
            metadata.create_all(conn)
        self.work = WorkStore(self)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _begin(self, write: bool = False) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(write=write)
            with conn.begin():
                yield conn

    # ------------------------------------------------------------------ reads
    def get(self, run_id: str) -> RunRecord | None:
        with self._begin() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
        return _record(row) if row else None

    def list(
        self, owner: str | None = None, status: str | None = None, statuses: Iterable[str] = ()
    ) -> list[RunRecord]:
        """Runs, newest first: one owner's, or everyone's (for operators); of one status or of several."""
        query = sa.select(runs).order_by(runs.c.created_at.desc(), runs.c.run_id.desc())
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        if status is not None:
            query = query.where(runs.c.status == status)
        if statuses:
            query = query.where(runs.c.status.in_(list(statuses)))
        with self._begin() as conn:
            return [_record(row) for row in conn.execute(query)]

    # ----------------------------------------------------------------- writes
    def change(self, run_id: str, owner: str, edit: Callable[[RunRecord | None], RunRecord | None]) -> RunRecord | None:
        """Read the owner's run under a lock, `edit` it (None: no record yet) and write what edit
        returns (None: write nothing), all in one transaction. OtherOwner for another owner's run."""
        for attempt in range(3):
            try:
                with self._begin(write=True) as conn:
                    query = sa.select(runs).where(runs.c.run_id == run_id).with_for_update()
                    row = conn.execute(query).first()
                    old = _record(row) if row else None
                    if old is not None and old.owner != owner:
                        raise OtherOwner(f"run {run_id} belongs to another owner")
                    new = edit(old)
                    if new is not None:
                        values = _values(new)
                        if old is None:
                            conn.execute(runs.insert().values(**values))
                        else:
                            conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))
                    return new
            except sa.exc.IntegrityError:  # PostgreSQL: another writer inserted that run first
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def delete(self, run_id: str, owner: str) -> bool:
        with self._begin(write=True) as conn:
            done = conn.execute(runs.delete().where(runs.c.run_id == run_id, runs.c.owner == owner))
        return bool(done.rowcount)


class WorkStore:
    """The run_work table: leases, Stop flags and live progress, in the run store's database."""

    def __init__(self, store: RunStore) -> None:
        self._begin = store._begin

    def _row(self, conn: Connection, run_id: str) -> sa.Row[Any] | None:
        return conn.execute(sa.select(work).where(work.c.run_id == run_id).with_for_update()).first()

    def _put(self, conn: Connection, run_id: str, exists: bool, **values: Any) -> None:
        if exists:
            conn.execute(work.update().where(work.c.run_id == run_id).values(**values))
        else:
            conn.execute(work.insert().values(run_id=run_id, **{"stop": False} | values))

    def enqueued(self, run_id: str, now: float, fresh: bool = False) -> None:
        """The run was put on the queue; `fresh` (a new run, a resume) clears an old Stop."""
        with self._begin(write=True) as conn:
            row = self._row(conn, run_id)
            extra: dict[str, Any] = {"stop": False} if fresh else {}
            if fresh and row is not None and row.worker == STOPPED_HOLDER:  # (a live holder keeps its lease)
                extra |= {"worker": None, "lease_until": None, "progress": None}
            self._put(conn, run_id, row is not None, enqueued_at=now, **extra)

    def claim(self, run_id: str, worker: str, until: float, now: float, alive: Callable[[str], bool]) -> bool:
        """Take the run for `worker` until `until`, unless another live worker holds it or it was stopped."""
        with self._begin(write=True) as conn:
            row = self._row(conn, run_id)
            if row is not None and (row.stop or (row.worker not in (None, worker) and _held(row, now, alive))):
                return False
            self._put(conn, run_id, row is not None, worker=worker, lease_until=until)
            return True

    def beat(self, run_id: str, worker: str, until: float, progress: str | None) -> tuple[bool, bool]:
        """Renew the lease (and publish progress): (still held by `worker`, Stop asked for)."""
        with self._begin(write=True) as conn:
            row = self._row(conn, run_id)
            if row is None or row.worker != worker:
                return False, bool(row is not None and row.stop)
            values: dict[str, Any] = {"lease_until": until}
            if progress is not None:
                values["progress"] = progress
            self._put(conn, run_id, True, **values)
            return True, bool(row.stop)

    def release(self, run_id: str, worker: str, progress: str | None = None) -> None:
        with self._begin(write=True) as conn:
            row = self._row(conn, run_id)
            if row is not None and row.worker == worker:
                values: dict[str, Any] = {"worker": None, "lease_until": None}
                self._put(conn, run_id, True, **values | ({"progress": progress} if progress else {}))

    def request_stop(self, run_id: str, now: float, alive: Callable[[str], bool]) -> bool:
        """Raise the run's Stop flag. True when a live worker holds the run (it ends the run itself);
        False when none does: the run is now held as stopped, and the caller records it so."""
        with self._begin(write=True) as conn:
            row = self._row(conn, run_id)
            held = row is not None and row.worker != STOPPED_HOLDER and _held(row, now, alive)
            values: dict[str, Any] = {"stop": True}
            if not held:
                values |= {"worker": STOPPED_HOLDER, "lease_until": None}
            self._put(conn, run_id, row is not None, **values)
            return held

    def wake(self, run_id: str, now: float) -> None:
        """A callback said the run's task changed: its worker polls at once (see `woken_at`)."""
        for attempt in range(2):
            try:
                with self._begin(write=True) as conn:
                    row = conn.execute(sa.select(wakes).where(wakes.c.run_id == run_id).with_for_update()).first()
                    if row is None:
                        conn.execute(wakes.insert().values(run_id=run_id, at=now))
                    else:
                        conn.execute(wakes.update().where(wakes.c.run_id == run_id).values(at=max(now, row.at)))
                return
            except sa.exc.IntegrityError:  # PostgreSQL: another callback inserted the row first
                if attempt:
                    raise

    def woken_at(self, run_id: str) -> float | None:
        """When a callback last woke the run (epoch seconds), None if never."""
        with self._begin() as conn:
            return conn.execute(sa.select(wakes.c.at).where(wakes.c.run_id == run_id)).scalar()

    def get(self, run_id: str) -> dict[str, Any] | None:
        with self._begin() as conn:
            row = conn.execute(sa.select(work).where(work.c.run_id == run_id)).first()
        return dict(row._mapping) if row else None

    def all(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not run_ids:
            return {}
        with self._begin() as conn:
            rows = conn.execute(sa.select(work).where(work.c.run_id.in_(run_ids)))
            return {row.run_id: dict(row._mapping) for row in rows}


def _held(row: sa.Row[Any], now: float, alive: Callable[[str], bool]) -> bool:
    """Someone holds the run: Stop did, or a worker whose lease runs and that is alive."""
    if row.worker == STOPPED_HOLDER:
        return True
    return bool(row.worker) and (row.lease_until or 0) > now and alive(row.worker)


def _values(record: RunRecord) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(record, name) for name in TYPED}
    values |= {"run_id": record.run_id, "owner": record.owner, "data": json.dumps(record.extra, default=str)}
    return values


def _record(row: sa.Row[Any]) -> RunRecord:
    typed = {name: getattr(row, name) for name in TYPED}
    return RunRecord(run_id=row.run_id, owner=row.owner, extra=json.loads(row.data), **typed)
