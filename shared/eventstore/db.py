"""Engines and migrations for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


READ_ONLY = "buddy_read_only"
# How long a write waits for another transaction's write lock (the store head) before it
# gives up with StoreBusy: long enough for any command, short enough to answer a request.
LOCK_TIMEOUT_S = 10.0
_SQLITE_BUSY = 5  # SQLite's primary result code for a lock another connection holds
_PG_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ran out
# PostgreSQL rolled the transaction back so that another could go on: deadlock_detected
# (two transactions waiting for each other's locks) and serialization_failure.
_PG_ROLLED_BACK_FOR_ANOTHER = frozenset({"40P01", "40001"})
SQLITE_SYNCHRONOUS = "FULL"  # a committed event survives a power cut too (WAL mode: one sync per commit)


def reader(engine: Engine) -> Engine:
    """The same pool for reads that never write: on SQLite they do not queue behind writers."""
    return engine.execution_options(**{READ_ONLY: True})


def snapshot(engine: Engine) -> Engine:
    """Reads that see one consistent state across several queries (a report and its watermark).

    SQLite in WAL mode gives a read transaction one snapshot; PostgreSQL needs REPEATABLE READ.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ", **{READ_ONLY: True})
    return reader(engine)


class StoreBusy(OperationalError):
    """A write waited the whole lock timeout behind another transaction: nothing was written.

    Retryable: the other transaction ends, and the same write then goes through. An
    OperationalError, as the database's own lock errors are, so code that already treats
    those as passing trouble treats this alike; the services answer it 503 with Retry-After.
    """

    def __init__(self, statement: str | None, orig: BaseException, timeout_s: float) -> None:
        super().__init__(statement, None, orig)
        self.timeout_s = timeout_s

    def __str__(self) -> str:
        return (f"the store is busy with another write; try again in a moment (waited {self.timeout_s:g} s "
                "for its write lock; nothing was written)")

    def __reduce__(self) -> Any:
        return self.__class__, (self.statement, self.orig, self.timeout_s)


def lock_wait_timed_out(exc: BaseException) -> bool:
    """A database error (raw or as SQLAlchemy wraps it) saying a lock was not granted in time."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    return isinstance(orig, sqlite3.OperationalError) and (getattr(orig, "sqlite_errorcode", 0) & 0xFF) == _SQLITE_BUSY


def rolled_back_for_another(exc: BaseException) -> bool:
    """A database error saying the server rolled this transaction back to let another one finish.

    Nothing of it was written and the other transaction goes on, so running the same work
    again, from the start, succeeds or meets the other's outcome (a version conflict, say).
    Since the head lock is taken at the append (``EventStore.transaction``), a command holding
    row locks can wait for the head while the head's holder waits for one of those rows;
    PostgreSQL breaks that cycle after ``deadlock_timeout`` by rolling one of them back.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in _PG_ROLLED_BACK_FOR_ANOTHER


def lock_timeout_s(engine: Engine) -> float:
    """The engine's lock timeout (see ``make_engine``)."""
    return getattr(engine.dialect, "buddy_lock_timeout_s", LOCK_TIMEOUT_S)


class WriteLock:
    """One SQLite writer at a time in this process, queued on a lock instead of on SQLite.

    SQLite's busy handler polls with sleeps growing to 100 ms, so writers that meet at
    BEGIN IMMEDIATE wait far longer than the transaction they wait for: under load that
    was the whole tail of a command's latency. Queued here they start the moment the
    previous writer commits; SQLite's own lock still guards other processes.
    """

    def __init__(self, timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self._lock = threading.Lock()  # not an RLock: a rollback may run on another thread
        self._holder: int | None = None
        self.timeout_s = timeout_s

    def acquire(self, dbapi_conn: Any) -> None:
        if not self._lock.acquire(timeout=self.timeout_s):
            raise StoreBusy(None, sqlite3.OperationalError("database is locked (by another writer in this process)"),
                            self.timeout_s)
        self._holder = _identity(dbapi_conn)

    def release(self, dbapi_conn: Any) -> None:
        if self._holder == _identity(dbapi_conn):
            self._holder = None
            self._lock.release()

    @contextmanager
    def held(self, dbapi_conn: Any) -> Iterator[None]:
        self.acquire(dbapi_conn)
        try:
            yield
        finally:
            self.release(dbapi_conn)


def _identity(conn: Any) -> int:
    """The driver connection's id, whether given it or the pool's proxy of it."""
    return id(getattr(conn, "dbapi_connection", conn))


def write_lock(engine: Engine) -> WriteLock | None:
    """The engine's in-process SQLite write lock (None on PostgreSQL)."""
    return getattr(engine.dialect, "buddy_write_lock", None)


def make_engine(url: str, *, pool_size: int = 10, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Engine:
    """An engine whose transactions take the write lock up front on SQLite.

    SQLite's default deferred transactions fail with "database is locked" when two
    writers upgrade at once; BEGIN IMMEDIATE makes them queue on the busy timeout.
    A writer waits at most ``lock_timeout_s`` for the write lock, then gets StoreBusy
    (SQLite: the in-process queue and the busy timeout; PostgreSQL: the store's lock_timeout).

    PostgreSQL transactions are READ COMMITTED whatever the server's default: appends
    serialise on the head row's lock and must then see every append committed before.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": lock_timeout_s})
        lock = WriteLock(lock_timeout_s)
        dialect: Any = engine.dialect
        dialect.buddy_write_lock, dialect.buddy_lock_timeout_s = lock, lock_timeout_s
        commit, rollback, close = dialect.do_commit, dialect.do_rollback, dialect.do_close

        def do_commit(dbapi_conn: Any) -> None:
            try:
                commit(dbapi_conn)
            finally:
                lock.release(dbapi_conn)

        def do_rollback(dbapi_conn: Any) -> None:
            try:
                rollback(dbapi_conn)
            finally:
                lock.release(dbapi_conn)

        def do_close(dbapi_conn: Any) -> None:
            try:
                close(dbapi_conn)
            finally:
                lock.release(dbapi_conn)

        dialect.do_commit, dialect.do_rollback, dialect.do_close = do_commit, do_rollback, do_close

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cur.execute(f"PRAGMA busy_timeout={int(lock_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get(READ_ONLY, False):
                conn.exec_driver_sql("BEGIN")
                return
            dbapi_conn = conn.connection.dbapi_connection
            lock.acquire(dbapi_conn)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException as exc:
                lock.release(dbapi_conn)
                if lock_wait_timed_out(exc):  # another process held SQLite's own lock
                    raise StoreBusy("BEGIN IMMEDIATE", getattr(exc, "orig", exc), lock_timeout_s) from exc
                raise

        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                           isolation_level="READ COMMITTED")
    engine.dialect.buddy_lock_timeout_s = lock_timeout_s  # type: ignore[attr-defined]
    return engine


def alembic_config(engine: Engine, service: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(MIGRATIONS / "versions")]
    if service and (SERVICES_DIR / service / "migrations").is_dir():
        locations.append(str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, service: str | None = None) -> None:
    """Bring the database to the newest schema: the shared tables and the service's own."""
    command.upgrade(alembic_config(engine, service), "heads")
