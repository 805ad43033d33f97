"""The private servers of a fault test, which the test may restart, crash and wipe.

* ``FaultRedis``: an ``EmbeddedRedis`` with its append-only file on (fsync every second),
  on a fixed free port so a restart comes back at the same address. ``restart()`` is a
  clean shutdown (SIGTERM: the AOF is flushed), ``crash()`` a SIGKILL (up to a second of
  writes may be gone), ``lose_data()`` a SIGKILL and the data files deleted.
* ``FaultPostgres``: the tests' ``PrivatePostgres`` (``tests/conftest.py``) that can also be
  restarted on the same port and data folder: ``fast`` (SIGINT, PostgreSQL's fast shutdown:
  clients are disconnected) or ``immediate`` (SIGQUIT: no checkpoint, WAL recovery at the next
  start, what a crash looks like to PostgreSQL).

Start, restart and stop them from the main thread: the children are tied to the thread
that started them (``die_with_parent``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from shared.embedded import EmbeddedRedis, die_with_parent, free_port, terminate
from tests.conftest import PrivatePostgres, _render

KEEP = {"redis.log", "redis.lock"}


class FaultRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.server = EmbeddedRedis(self.data_dir, port=free_port(), persistent=True)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> "FaultRedis":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def _kill(self) -> None:
        pid = self.server.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.server.stop()  # reaps the child

    def restart(self, down_s: float) -> None:
        """Clean shutdown (the AOF is complete), down for a while, start on the same port."""
        self.server.stop()
        time.sleep(down_s)
        self.server.start()

    def crash(self, down_s: float) -> None:
        """SIGKILL, then start again from the AOF (fsync every second: the last writes may be gone)."""
        self._kill()
        time.sleep(down_s)
        self.server.start()

    def lose_data(self, down_s: float) -> None:
        """SIGKILL and delete every data file: the server comes back empty (no streams, no groups)."""
        self._kill()
        for path in self.data_dir.iterdir():
            if path.name in KEEP:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        time.sleep(down_s)
        self.server.start()


class FaultPostgres(PrivatePostgres):
    """A private PostgreSQL that can be restarted in place."""

    admin_url: str = ""
    # synchronous_commit on, as in production: with it off an immediate shutdown loses
    # transactions already confirmed, and the events the relay had published with them
    # (a producer that lost events, which consumers detect and stop on). fsync stays off:
    # only the server crashes here, and the operating system's cache survives that.
    server_settings = tuple(s for s in PrivatePostgres.server_settings if not s.startswith("synchronous_commit"))

    def start(self) -> str:
        self.admin_url = super().start()
        return self.admin_url

    def _spawn(self) -> None:
        # the command of PrivatePostgres.start (same folder, same port, same settings)
        with self.logfile.open("ab") as log:
            self.proc = subprocess.Popen(
                self.server_command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(signal.SIGINT),
                **self._popen_kwargs(),  # type: ignore[arg-type]
            )

    def restart(self, mode: str, down_s: float) -> None:
        """``fast`` (SIGINT) or ``immediate`` (SIGQUIT, crash recovery on start), then start again."""
        sig = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        if self.proc is not None:
            terminate(self.proc, sig, timeout=30)
        time.sleep(down_s)
        self._spawn()
        from sqlalchemy.engine import make_url

        self._wait_ready(make_url(self.admin_url), timeout=60)

    def create_database(self, name: str) -> str:
        """An empty database; its URL (``postgresql+psycopg://``)."""
        import psycopg
        from sqlalchemy.engine import make_url

        admin = make_url(self.admin_url)
        with psycopg.connect(_render(admin.set(drivername="postgresql")), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return _render(admin.set(database=name))

    def url_via(self, port: int, database: str) -> str:
        """The URL of ``database`` through a proxy listening on ``port``."""
        from sqlalchemy.engine import make_url

        return _render(make_url(self.admin_url).set(port=port, database=database))
