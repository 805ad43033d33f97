"""`buddy run` (what `make run` calls) on ports of its choosing, and never on someone else's.

* A port it needs is already taken (here by a plain socket): it refuses to start, naming
  the port and how to choose others, and starts nothing.
* ``--base-port N``: the services on N+1..N+4, the readiness checks, the demo data and
  the printed URLs all on those ports; Ctrl-C (SIGINT) stops everything.
* The readiness check counts only the services of this run: a process of another run
  answering on the port, even "ready", is not taken for ours.
"""

from __future__ import annotations

import http.server
import json
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import redis

from shared.demo import PROJECTS
from shared.settings import SERVICES
from shared.supervisor import service_ports, wait_ready
from tests.conftest import delete_keys_with_prefix
from tests.e2e.system import REPO_ROOT, clean_environ


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_base_port() -> int:
    """A base port N with N..N+4 free a moment ago."""
    for _ in range(200):
        base = random.randrange(20_000, 60_000, 10)
        if all(_bindable(base + i) for i in range(5)):
            return base
    raise AssertionError("no five free ports in a row")


@pytest.fixture
def run_env(tmp_path: Path, redis_url: str) -> Iterator[dict[str, str]]:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    yield clean_environ() | {"BUDDY_REDIS_URL": redis_url, "BUDDY_STREAM_PREFIX": prefix,
                             "BUDDY_DATA_DIR": str(tmp_path / "var"), "BUDDY_CATCH_UP_INTERVAL_S": "0.5"}
    client = redis.Redis.from_url(redis_url)
    try:
        delete_keys_with_prefix(client, prefix)
    finally:
        client.close()


def buddy_run(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "shared.cli", "run", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_busy_port_is_refused_by_name_and_nothing_starts(run_env: dict[str, str]) -> None:
    base = free_base_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base + 2))  # the matching service's port
        holder.listen()
        started = time.monotonic()
        proc = buddy_run(run_env, "--base-port", str(base), "--no-demo")
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 1, out
        assert time.monotonic() - started < 20, "refused before anything was started"
        assert f"{base + 2}" in out and "matching" in out
        assert "--base-port" in out and "BUDDY_BASE_PORT" in out
        assert "is running" not in out
        for port in (base + 1, base + 3, base + 4):
            assert _bindable(port), f"port {port} was left taken"
    assert not (Path(run_env["BUDDY_DATA_DIR"]) / "logs" / "recruitment.log").exists(), "no service was started"


def test_run_on_a_base_port_serves_loads_and_prints_there(run_env: dict[str, str]) -> None:
    base = free_base_port()
    proc = buddy_run(run_env, "--base-port", str(base))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 360  # start-up and the demo data's year of work, on a busy machine
        while not any("Ctrl-C" in line for line in lines):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        out = "".join(lines)
        printed = dict(re.findall(r"^\s+(recruitment|matching|followup|reporting)\s+(http://\S+)/docs$", out, re.M))
        assert printed == {name: f"http://127.0.0.1:{port}" for name, port in service_ports(base).items()}, out
        for name, url in printed.items():
            assert httpx.get(f"{url}/docs", timeout=5).status_code == 200
            assert httpx.get(f"{url}/healthz", timeout=5).json()["service"] == name
        # the demo data went into this system: its volunteers are in this recruitment service
        found = httpx.get(f"{printed['recruitment']}/projects/{PROJECTS[0][0]}", timeout=5,
                          headers={"Authorization": "Bearer dev-admin"})
        assert found.status_code == 200, found.text
        # ... with its duos started months ago, after their referrals and availabilities entered with
        # their real days, and their contacts since
        loaded = re.search(r"Demo data loaded: 3 projects, (\d+) volunteers, (\d+) duos, (\d+) contacts", out)
        assert loaded is not None, out
        assert int(loaded[2]) >= 80 and int(loaded[3]) >= 3 * 80, loaded[0]
        duos = httpx.get(f"{printed['matching']}/projects/{PROJECTS[0][0]}/duos", timeout=10, params={"limit": 500},
                         headers={"Authorization": "Bearer dev-professional"}).json()["duos"]
        starts = sorted(d["started_on"] for d in duos if d["started_on"])
        assert len(starts) >= 80 and (date.fromisoformat(starts[-1]) - date.fromisoformat(starts[0])).days > 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=5)
    assert "Everything stopped" in "".join(lines)
    for port in service_ports(base).values():
        assert _bindable(port), f"port {port} still taken after Ctrl-C"


class _OtherInstance(http.server.BaseHTTPRequestHandler):
    """What another run's service answers: ready, under another instance id."""

    def do_GET(self) -> None:  # noqa: N802 - the handler's protocol
        body = {"/healthz": {"status": "ok", "service": "recruitment", "instance": "someone-else"},
                "/readyz": {"status": "ready", "problems": []}}.get(self.path)
        payload = json.dumps(body).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_readiness_counts_only_this_run_s_services() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherInstance)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # alive, never answering
    try:
        port = server.server_address[1]
        broken = wait_ready({"recruitment": ours}, {"recruitment": port}, instance="ours", timeout=3)
        assert broken == "recruitment"
    finally:
        ours.kill()
        ours.wait()
        server.shutdown()
        server.server_close()


def test_the_default_ports_are_8001_to_8004() -> None:
    assert service_ports(8000) == dict(zip(SERVICES, (8001, 8002, 8003, 8004), strict=True))
