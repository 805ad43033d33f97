"""The embedded default: one command runs Redis and the four services as local processes.

The web front listens on a base port (``--base-port`` or ``BUDDY_BASE_PORT``, default
8000) and the services on the base + 1 to + 4 (8001–8004). Before anything starts,
every one of those ports must be free: a port in use is named, with how to
choose others, and nothing is started. A service counts as started only when the
process answering on its port is this run's (its ``/healthz`` carries the instance id
this run gave it) and ready, so a second run never takes another run's services for
its own, nor loads its demo data into them.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.auth import dev_principals
from shared.bus.connect import parse_redis_url
from shared.embedded import die_with_parent, redis_url_or_embedded
from shared.settings import PORT_OFFSETS, SERVICES, Settings

WEB = "web"  # the web front, started with the services; its address is printed first


def service_ports(base_port: int) -> dict[str, int]:
    """Each service's port for a base port."""
    return {name: base_port + PORT_OFFSETS[name] for name in SERVICES}


def system_ports(base_port: int) -> dict[str, int]:
    """Every port a run listens on: the web front on the base, the services above it."""
    return {WEB: base_port, **service_ports(base_port)}


def port_in_use(host: str, port: int) -> bool:
    """True when a server could not listen on ``host:port`` now (the services' own bind)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a TIME_WAIT is no obstacle
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def busy_ports(host: str, ports: dict[str, int]) -> dict[str, int]:
    return {name: port for name, port in ports.items() if port_in_use(host, port)}


def busy_message(host: str, busy: dict[str, int], base_port: int) -> str:
    """Which ports are taken, and how to start on others (a base whose ports are free now)."""
    named = ", ".join(f"{port} ({name})" for name, port in busy.items())
    other = next((b for b in range(base_port + 10, 65_535 - 4, 10) if not busy_ports(host, system_ports(b))),
                 base_port + 10)
    return (f"Poort in gebruik / Port in use: {named} (another `buddy run`?).\n"
            f"Stop what holds it, or start on other ports: `buddy run --base-port {other}` "
            f"(`make run BASE_PORT={other}`) or BUDDY_BASE_PORT={other}; the web front then listens on "
            f"{other} and the services on {other + 1}–{other + 4}. A second run also needs its own BUDDY_DATA_DIR.")


def _ours(url: str, instance: str) -> bool:
    """The process answering at ``url`` is this run's and ready."""
    try:
        alive = httpx.get(f"{url}/healthz", timeout=1)
        if alive.status_code != 200 or alive.json().get("instance") != instance:
            return False
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except (httpx.HTTPError, ValueError):
        return False


def wait_ready(procs: dict[str, subprocess.Popen[bytes]], ports: dict[str, int], *, instance: str,
               timeout: float = 90) -> str | None:
    """None when every service of this run answers ready on its port; else the name of one that died or hangs."""
    deadline, pending = time.monotonic() + timeout, set(procs)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            if procs[name].poll() is not None:
                return name
            if _ours(f"http://127.0.0.1:{ports[name]}", instance):
                pending.discard(name)
        time.sleep(0.3)
    return next(iter(sorted(pending)), None)


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_system(settings: Settings, *, demo: bool, base_port: int | None = None) -> int:
    base = settings.base_port if base_port is None else base_port
    ports = system_ports(base)
    busy = busy_ports(settings.host, ports)
    if busy:
        print(busy_message(settings.host, busy, base), file=sys.stderr)
        return 1
    data_dir = Path(settings.data_dir).resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    redis_url, redis = redis_url_or_embedded(settings, data_dir)
    instance = secrets.token_hex(8)
    env = os.environ | {"BUDDY_REDIS_URL": redis_url, "BUDDY_DATA_DIR": str(data_dir), "BUDDY_BASE_PORT": str(base),
                        "BUDDY_WEB_PORT": str(base), "BUDDY_INSTANCE_ID": instance}
    env.pop("BUDDY_PORT", None)
    env.pop("BUDDY_SERVICE_URLS", None)  # the feeds are this run's services, on its ports
    urls = {name: f"http://127.0.0.1:{port}" for name, port in service_ports(base).items()}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name in (*SERVICES, WEB):
            log = (data_dir / "logs" / f"{name}.log").open("ab")
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", name], env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
            )
        broken = wait_ready(procs, ports, instance=instance)
        if broken:
            taken = busy_ports(settings.host, {broken: ports[broken]}) if procs[broken].poll() is not None else {}
            if taken:  # taken between the check and the service's own bind
                print(busy_message(settings.host, taken, base), file=sys.stderr)
            else:
                print(f"De dienst {broken!r} start niet / The service {broken!r} did not start: "
                      f"see {data_dir / 'logs' / (broken + '.log')}", file=sys.stderr)
            return 1
        refusals = settings.dev_token_refusals()
        if demo and refusals:
            print("Demo data skipped: it is loaded with the dev tokens / demo overgeslagen", file=sys.stderr)
        elif demo:
            from shared.demo import load_demo

            print(load_demo(urls))
        print("\nBuddywerking draait / is running:")
        print(f"  {'web':<12} http://127.0.0.1:{ports[WEB]}/   <- open dit / open this")
        print(f"  Redis        {parse_redis_url(redis_url).redacted()}")
        for name in SERVICES:
            print(f"  {name:<12} {urls[name]}/docs")
        print(f"  data         {data_dir}  (logs in {data_dir / 'logs'})")
        if refusals:
            print("\nDev tokens refused / geweigerd: " + "; ".join(refusals))
        else:
            print("\nDev tokens (Authorization: Bearer <token>), only on this embedded default:")
            from shared.demo import DEMO_STAFF

            assigned = {subject: ", ".join(projects + regions) for subject, _, _, _, projects, regions in DEMO_STAFF}
            for token, principal in dev_principals().items():
                scope = assigned.get(token, "-") if demo else "-"
                print(f"  {token:<24} {principal.role.value:<13} {scope or '-'}")
            if not demo:
                print("  (zonder demo: enkel dev-admin heeft rechten / without the demo only dev-admin may act)")
        print("\nCtrl-C stopt alles / stops everything.", flush=True)
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} stopped unexpectedly (exit {proc.returncode}); stopping everything", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        _stop(procs)
        if redis is not None:
            redis.stop()
        print("Alles gestopt / Everything stopped.")
