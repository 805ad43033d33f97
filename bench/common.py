"""What every benchmark needs: results with their peer, and private databases and Redis."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@dataclass
class Result:
    group: str
    name: str
    value: float
    unit: str
    peer: str | None = None
    peer_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_value:
            return self.value / self.peer_value
        return None


def rate(n: int, fn: Callable[[], None]) -> float:
    """Operations per second of ``fn``, which performs ``n`` operations."""
    started = time.perf_counter()
    fn()
    return n / (time.perf_counter() - started)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="buddy-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def postgres_admin_url() -> str | None:
    return os.environ.get("BUDDY_BENCH_DATABASE_URL") or os.environ.get("BUDDY_TEST_DATABASE_URL")


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh database on the given server, dropped afterwards (only the one made here)."""
    admin = postgres_admin_url()
    if not admin:
        raise LookupError("no PostgreSQL: set BUDDY_BENCH_DATABASE_URL to an admin URL")
    url = make_url(admin).set(drivername="postgresql+psycopg")
    name = f"buddy_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@contextmanager
def redis_url() -> Iterator[tuple[str, str]]:
    """(url, key prefix): the given Redis, or a private one; only the prefix's keys are removed."""
    import redis

    from shared.embedded import EmbeddedRedis

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    given = os.environ.get("BUDDY_BENCH_REDIS_URL") or os.environ.get("BUDDY_TEST_REDIS_URL")
    if given:
        try:
            yield given, prefix
        finally:
            client = redis.Redis.from_url(given)
            for key in client.scan_iter(match=f"{prefix}:*", count=500):
                client.delete(key)
            client.close()
        return
    with tempfile.TemporaryDirectory(prefix="buddy-bench-redis-") as folder:
        server = EmbeddedRedis(folder, persistent=False).start()
        try:
            yield server.url, prefix
        finally:
            server.stop()
