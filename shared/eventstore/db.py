"""Engines and migrations for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


READ_ONLY = "buddy_read_only"


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


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine whose transactions take the write lock up front on SQLite.

    SQLite's default deferred transactions fail with "database is locked" when two
    writers upgrade at once; BEGIN IMMEDIATE makes them queue on the busy timeout.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


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
