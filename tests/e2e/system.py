"""The four services as real subprocesses, for end-to-end tests.

``ServiceSystem`` starts ``python -m shared.cli serve <name>`` for every service, each on
its own free port, all pointing at the test Redis under one key prefix and at SQLite
files in one data folder. Every process writes stdout and stderr to
``<data_dir>/logs/<name>.log``. ``eventually`` polls for eventual consistency.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from shared.embedded import die_with_parent, free_port
from shared.settings import SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0

T = TypeVar("T")


def eventually(fn: Callable[[], T], timeout: float = 20, interval: float = 0.1) -> T:
    """Call ``fn`` until it returns something truthy without raising AssertionError.

    Returns that value; after ``timeout`` seconds fails with the last assertion error
    (or the last falsy value), so the failure says what was still wrong.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    last_value: Any = None
    while True:
        try:
            value = fn()
        except (AssertionError, httpx.TransportError) as exc:
            last_error, last_value = exc, None
        else:
            if value:
                return value
            last_error, last_value = None, value
        if time.monotonic() >= deadline:
            if last_error is not None:
                raise AssertionError(f"not true within {timeout} s: {last_error}") from last_error
            raise AssertionError(f"not true within {timeout} s; last value: {last_value!r}")
        time.sleep(interval)


def clean_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without inherited ``BUDDY_*`` settings (``BUDDY_TEST_*`` stays)."""
    source = os.environ if base is None else base
    return {
        k: v for k, v in source.items()
        if not k.upper().startswith("BUDDY_") or k.upper().startswith("BUDDY_TEST_")
    }


class ServiceSystem:
    """Recruitment, matching, followup and reporting as child processes."""

    def __init__(self, *, redis_url: str, key_prefix: str, data_dir: Path,
                 overrides: Mapping[str, str] | None = None, demo_staff: bool | Sequence[Any] = True) -> None:
        self.redis_url, self.key_prefix = redis_url, key_prefix
        # begin with the demo people's staff register (tests/staff.py), or the one given in its shape
        self.demo_staff = demo_staff
        self.data_dir = Path(data_dir)
        self.log_dir = self.data_dir / "logs"
        self.overrides = dict(overrides or {})
        self.ports: dict[str, int] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}

    # ------------------------------------------------------------------ addresses
    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in SERVICES}

    def log_file(self, service: str) -> Path:
        return self.log_dir / f"{service}.log"

    def log_text(self) -> str:
        """Every service's log, concatenated (decoded leniently)."""
        parts = []
        for name in SERVICES:
            path = self.log_file(name)
            if path.exists():
                parts.append(path.read_bytes().decode("utf-8", "replace"))
        return "\n".join(parts)

    def log_tail(self, service: str, lines: int = 40) -> str:
        path = self.log_file(service)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_bytes().decode("utf-8", "replace").splitlines()[-lines:]) or "(empty log)"

    # ------------------------------------------------------------------ lifecycle
    def _build_env(self) -> dict[str, str]:
        env = clean_environ()
        env.update({
            "BUDDY_REDIS_URL": self.redis_url,
            "BUDDY_STREAM_PREFIX": self.key_prefix,
            "BUDDY_DATA_DIR": str(self.data_dir),
            "BUDDY_SERVICE_URLS": json.dumps(self.urls),
            "BUDDY_LOG_FORMAT": "json",
            "BUDDY_CATCH_UP_INTERVAL_S": "0.5",
            "BUDDY_RELAY_INTERVAL_S": "0.05",
            "BUDDY_BODY_TIMEOUT_S": "2",
            "BUDDY_DEV_TOKENS": "true",  # the tests call as the dev identities, like on the embedded system
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.overrides)
        return env

    def start_all(self, attempts: int = 2) -> "ServiceSystem":
        """Start every service and wait until all answer /readyz with 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(attempts):
            # free_port() can race with another process binding the port: retry on new ports.
            self.ports = {name: free_port() for name in SERVICES}
            self.env = self._build_env()
            if self.demo_staff and attempt == 0:
                self._give_demo_staff()
            for name in SERVICES:
                self._spawn(name)
            problem = self._wait_ready(list(SERVICES))
            if problem is None:
                return self
            self.stop_all()
            if attempt == attempts - 1 or "address already in use" not in self.log_text().lower():
                raise RuntimeError(problem)
        raise AssertionError("unreachable")  # pragma: no cover

    def _give_demo_staff(self) -> None:
        """Each service's database, migrated, with the demo people's staff register, before it starts."""
        from shared.eventstore import make_engine, migrate
        from shared.settings import Settings
        from tests.staff import give_demo_staff

        settings = Settings(**{k[len("BUDDY_"):].lower(): v for k, v in self.env.items()
                               if k.startswith("BUDDY_") and not k.startswith("BUDDY_TEST_")
                               and k in ("BUDDY_DATA_DIR", "BUDDY_DATABASE_URL")})
        for name in SERVICES:
            engine = make_engine(settings.database_url_of(name))
            try:
                migrate(engine, name)
                give_demo_staff(engine, None if self.demo_staff is True else self.demo_staff)  # type: ignore[arg-type]
            finally:
                engine.dispose()

    def _spawn(self, name: str) -> None:
        env = dict(self.env)
        env["BUDDY_PORT"] = str(self.ports[name])
        with self.log_file(name).open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", name],
                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )

    def _wait_ready(self, names: list[str], timeout: float = READY_TIMEOUT_S) -> str | None:
        """None when all ``names`` are ready; else a description with the log tails."""
        deadline, pending = time.monotonic() + timeout, set(names)
        dead: list[str] = []
        with httpx.Client(timeout=2) as client:
            while pending and time.monotonic() < deadline and not dead:
                for name in sorted(pending):
                    proc = self.procs[name]
                    if proc.poll() is not None:
                        dead.append(f"{name} exited with {proc.returncode}")
                        continue
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(f"{self.url(name)}/readyz").status_code == 200:
                            pending.discard(name)
                if pending and not dead:
                    time.sleep(0.1)
        if not pending:
            return None
        why = "; ".join(dead) or f"not ready within {timeout:.0f} s: {', '.join(sorted(pending))}"
        tails = "\n".join(f"--- {name} ({self.log_file(name)}):\n{self.log_tail(name)}" for name in names)
        return f"services did not start ({why})\n{tails}"

    def start(self, service: str, **overrides: str) -> None:
        """(Re)start one service on its port; extra env overrides apply to it only."""
        proc = self.procs.get(service)
        if proc is not None and proc.poll() is None:
            raise RuntimeError(f"{service} is still running")
        saved = self.env
        self.env = {**self.env, **overrides}
        try:
            self._spawn(service)
        finally:
            self.env = saved
        problem = self._wait_ready([service])
        if problem is not None:
            raise RuntimeError(problem)

    def stop(self, service: str) -> int | None:
        """SIGTERM, then SIGKILL after a grace period; returns the exit code."""
        proc = self.procs.get(service)
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        return proc.returncode

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()

    def __enter__(self) -> "ServiceSystem":
        return self.start_all()

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


# ---------------------------------------------------------------------- API helpers
def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Api:
    """Thin httpx wrapper: ``api.post("recruitment", "/projects", token, body)``.

    The timeout is generous: these tests check answers, not speed (the benchmarks do), and a
    PDF export on a 2-core machine busy with other tests took over 10 s.
    """

    def __init__(self, system: ServiceSystem, timeout: float = 60) -> None:
        self.system = system
        self.client = httpx.Client(timeout=timeout)

    def request(self, method: str, service: str, path: str, token: str | None = None, body: Any = None,
                **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        headers = {**auth(token), **kwargs.pop("headers", {})}
        return self.client.request(method, f"{self.system.url(service)}{path}", headers=headers, **kwargs)

    def get(self, service: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", service, path, token, **kwargs)

    def post(self, service: str, path: str, token: str | None = None, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", service, path, token, body, **kwargs)

    def ok(self, resp: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
        return resp.json()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
