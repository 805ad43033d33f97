"""What every benchmark needs: results with their peer, and private databases and Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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
    with postgres_databases(("store",)) as template:
        yield template.replace("{service}", "store")


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


# ---------------------------------------------------------------- running services

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def postgres_databases(names: tuple[str, ...]) -> Iterator[str]:
    """A ``BUDDY_DATABASE_URL`` template (``{service}`` in it) over one fresh database per name.

    Each service needs its own database (their tables share names); all are dropped afterwards.
    """
    admin = postgres_admin_url()
    if not admin:
        raise LookupError("no PostgreSQL: set BUDDY_BENCH_DATABASE_URL to an admin URL")
    url = make_url(admin).set(drivername="postgresql+psycopg")
    base = f"buddy_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    made: list[str] = []
    try:
        with engine.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{base}_{name}"'))
                made.append(f"{base}_{name}")
        yield url.set(database=f"{base}_SERVICE").render_as_string(hide_password=False).replace("SERVICE", "{service}")
    finally:
        with engine.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MiB; NaN where /proc is not there."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class ServiceProcesses:
    """Services as real ``buddy serve`` processes (uvicorn), each on a free port.

    Like the embedded default: one SQLite file per service in ``data_dir`` (or the given
    ``database_url`` template), a shared Redis under ``prefix``, logs in ``data_dir/logs``.
    """

    def __init__(self, names: tuple[str, ...], data_dir: Path, redis: str, prefix: str,
                 database_url: str | None = None, env: dict[str, str] | None = None) -> None:
        from shared.embedded import free_port

        self.names, self.data_dir = names, Path(data_dir)
        self.ports = {name: free_port() for name in names}
        self.procs: dict[str, "subprocess.Popen[bytes]"] = {}
        base = {k: v for k, v in os.environ.items() if not k.upper().startswith("BUDDY_")}
        self.env = base | {
            "BUDDY_REDIS_URL": redis, "BUDDY_STREAM_PREFIX": prefix, "BUDDY_DATA_DIR": str(self.data_dir),
            "BUDDY_SERVICE_URLS": json.dumps(self.urls), "BUDDY_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1",
            "BUDDY_DEV_TOKENS": "true",  # the load is sent with dev tokens, as on the embedded system
        } | ({"BUDDY_DATABASE_URL": database_url} if database_url else {}) | (env or {})

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def __enter__(self) -> "ServiceProcesses":
        from shared.embedded import die_with_parent

        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            for name in self.names:
                with (self.data_dir / "logs" / f"{name}.log").open("ab") as log:
                    self.procs[name] = subprocess.Popen(
                        [sys.executable, "-m", "shared.cli", "serve", name], cwd=REPO_ROOT,
                        env=self.env | {"BUDDY_PORT": str(self.ports[name])},
                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent(),
                    )
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout: float = 90) -> None:
        import httpx

        deadline, pending = time.monotonic() + timeout, set(self.names)
        with httpx.Client(timeout=2) as client:
            while pending and time.monotonic() < deadline:
                for name in sorted(pending):
                    if self.procs[name].poll() is not None:
                        raise RuntimeError(f"{name} exited: {self.log_tail(name)}")
                    try:
                        if client.get(f"{self.urls[name]}/readyz").status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                time.sleep(0.1)
        if pending:
            raise RuntimeError(f"not ready within {timeout:.0f} s: {sorted(pending)}")

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __exit__(self, *_: object) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
