"""The embedded default: one command runs Redis and the four services as local processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.auth import dev_principals
from shared.bus.connect import parse_redis_url
from shared.embedded import die_with_parent, redis_url_or_embedded
from shared.settings import DEFAULT_PORTS, SERVICES, Settings

WEB = "web"  # the web front, started with the services; its address is printed first


def _port(name: str) -> int:
    if name == WEB:
        from services.web.config import WebSettings

        return WebSettings().port
    return DEFAULT_PORTS[name]


def _wait_ready(procs: dict[str, subprocess.Popen[bytes]], timeout: float = 90) -> str | None:
    """None when every service answers /readyz; else the name of one that died or hangs."""
    deadline, pending = time.monotonic() + timeout, set(procs)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            if procs[name].poll() is not None:
                return name
            try:
                if httpx.get(f"http://127.0.0.1:{_port(name)}/readyz", timeout=1).status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    return next(iter(pending), None)


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


def run_system(settings: Settings, *, demo: bool) -> int:
    data_dir = Path(settings.data_dir).resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    redis_url, redis = redis_url_or_embedded(settings, data_dir)
    env = os.environ | {"BUDDY_REDIS_URL": redis_url, "BUDDY_DATA_DIR": str(data_dir)}
    env.pop("BUDDY_PORT", None)
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
        broken = _wait_ready(procs)
        if broken:
            print(f"De dienst {broken!r} start niet / The service {broken!r} did not start: see {data_dir / 'logs' / (broken + '.log')}",
                  file=sys.stderr)
            return 1
        if demo:
            from shared.demo import load_demo

            print(load_demo({n: f"http://127.0.0.1:{p}" for n, p in DEFAULT_PORTS.items()}))
        print("\nBuddywerking draait / is running:")
        print(f"  {'web':<12} http://127.0.0.1:{_port(WEB)}/   <- open dit / open this")
        print(f"  Redis        {parse_redis_url(redis_url).redacted()}")
        for name in SERVICES:
            print(f"  {name:<12} http://127.0.0.1:{DEFAULT_PORTS[name]}/docs")
        print(f"  data         {data_dir}  (logs in {data_dir / 'logs'})")
        print("\nDev tokens (Authorization: Bearer <token>), only on this embedded default:")
        for token, principal in dev_principals().items():
            scope = ", ".join(sorted(principal.projects | principal.regions)) or "-"
            print(f"  {token:<24} {principal.role.value:<13} {scope}")
        print("\nCtrl-C stopt alles / stops everything.")
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
