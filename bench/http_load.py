"""Commands per second and latency per service over HTTP, on SQLite and PostgreSQL.

The four services run as real ``buddy serve`` processes (uvicorn, as in production) with
their own databases and a private Redis prefix. After a short set-up through the public
APIs (a project, available volunteers, duos that followup has learned), a load generator
on the same machine sends one representative command per service at a fixed number of
connections for a fixed time. The peer is ``GET /healthz`` of the same process under the
same load: the framework's own floor. Every answer's status is counted; non-2xx answers
are reported, since a fast run of refusals means nothing. Afterwards the peak resident
memory (VmHWM) of each process is read.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import loadgen
from bench.common import Result, ServiceProcesses, peak_rss_mb, postgres_admin_url, postgres_databases, redis_url

SERVICES = ("recruitment", "matching", "followup", "reporting")
PROJECT = "demo-antwerpen"  # in the scope of the dev token `dev-professional`
ADMIN, PRO = "dev-admin", "dev-professional"


def _ok(resp: httpx.Response, expected: int = 200) -> dict[str, Any]:
    if resp.status_code != expected:
        raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text[:300]}")
    return resp.json()


def _until(fn: Callable[[], httpx.Response], expected: int, timeout: float = 60) -> dict[str, Any]:
    """Retry while the service has not yet learned what it needs from another service's events."""
    deadline = time.monotonic() + timeout
    while True:
        resp = fn()
        if resp.status_code == expected or time.monotonic() > deadline:
            return _ok(resp, expected)
        time.sleep(0.1)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _keyed(request: httpx.Request) -> None:
    """Every command with its own Idempotency-Key, as every client of the services sends it."""
    if request.method != "GET":
        request.headers.setdefault("Idempotency-Key", str(uuid.uuid4()))


def enquiry_body() -> dict[str, Any]:
    return {"channel": "website", "municipality_nis": "11002",
            "personal": {"first_name": "Bench", "last_name": "Vrijwilliger", "birth_date": "1980-02-03"},
            "confirmed_other_person": True}  # the same name every time: the duplicate check runs, then is overruled


def referral_body() -> dict[str, Any]:
    return {"target_group": "individual_adult", "referrer_type": "social_services", "life_domains": ["isolation"],
            "municipality_nis": "11002", "consent_recorded": True,
            "personal": {"first_name": "Bench", "last_name": "Deelnemer"}}


def contact_body() -> dict[str, Any]:
    day = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    return {"contact_date": day, "minutes": 60, "mode": "in_person", "activities": ["walk"]}


def register_project(urls: dict[str, str]) -> None:
    """The project, and ``dev-professional`` as its professional in the staff register (as an admin would)."""
    admin = {**_auth(ADMIN)}
    _ok(httpx.post(f"{urls['recruitment']}/projects", headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
                   timeout=30, json={
        "project_id": PROJECT, "name": "Benchproject", "organisation": "Benchvzw", "municipality_nis": "11002",
        "region": "antwerpen-kempen", "target_groups": ["individual_adult", "family"]}), 201)
    staff = _ok(httpx.post(f"{urls['recruitment']}/staff", headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
                           timeout=30, json={"name": "Bench Begeleider", "email": "bench@example.org",
                                             "subject": PRO}), 201)["staff_id"]
    _ok(httpx.post(f"{urls['recruitment']}/staff/{staff}/projects", timeout=30,
                   headers={**admin, "Idempotency-Key": str(uuid.uuid4())}, json={"project_id": PROJECT}))
    for service, path in (("matching", f"/projects/{PROJECT}/candidates"), ("followup", f"/projects/{PROJECT}/duos")):
        if service in urls:  # learned from the bus: wait until the professional is let in
            _until(lambda url=f"{urls[service]}{path}": httpx.get(url, headers=_auth(PRO), timeout=30), 200)


def set_up_duos(urls: dict[str, str], count: int) -> list[str]:
    """``count`` running duos that followup knows, made through the public APIs.

    Each started two weeks ago, so every step before it is entered with its real, earlier day
    (a duo never starts before the referral or the volunteer's availability)."""
    def ago(days: int) -> str:
        return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()

    duos = []
    with httpx.Client(headers=_auth(PRO), timeout=30, event_hooks={"request": [_keyed]}) as client:
        rec, mat = urls["recruitment"], urls["matching"]
        for _ in range(count):
            volunteer = _ok(client.post(f"{rec}/projects/{PROJECT}/volunteers",
                                        json={**enquiry_body(), "received_on": ago(40)}), 201)["volunteer_id"]
            _ok(client.post(f"{rec}/volunteers/{volunteer}/intake", json={"held_on": ago(35)}))
            _ok(client.post(f"{rec}/volunteers/{volunteer}/screening", json={"screened_on": ago(30), "outcome": "approved"}))
            _ok(client.post(f"{rec}/volunteers/{volunteer}/training",
                            json={"session_on": ago(25), "kind": "individual_coaching", "hours": 2}))
            _ok(client.post(f"{rec}/volunteers/{volunteer}/availability",
                            json={"target_groups": ["individual_adult"], "languages": ["nl"], "available_on": ago(21)}))
            participant = _until(lambda: client.post(f"{mat}/projects/{PROJECT}/participants",
                                                     json={**referral_body(), "referred_on": ago(21)}),
                                 201)["participant_id"]
            duos.append(_until(lambda: client.post(f"{mat}/projects/{PROJECT}/duos", json={
                "volunteer_id": volunteer, "participant_id": participant, "started_on": ago(14)}), 201)["duo_id"])
        for duo in duos:
            _until(lambda: client.get(f"{urls['followup']}/duos/{duo}"), 200)
    return duos


def workloads(duos: list[str]) -> dict[str, tuple[str, str, list[str], str, dict[str, Any] | None]]:
    """Per service: (what, method, paths, token, body) of its representative request."""
    return {
        "recruitment": ("record a volunteer's enquiry", "POST", [f"/projects/{PROJECT}/volunteers"], PRO,
                        enquiry_body()),
        "matching": ("refer a participant", "POST", [f"/projects/{PROJECT}/participants"], PRO, referral_body()),
        "followup": (f"log a contact (over {len(duos)} duos)", "POST", [f"/duos/{d}/contacts" for d in duos], PRO,
                     contact_body()),
        "reporting": ("project summary from the live projections (read)", "GET",
                      [f"/reports/projects/{PROJECT}/summary"], ADMIN, None),
    }


@contextlib.contextmanager
def running(database: str, folder: Path, redis: str, prefix: str,
            env: dict[str, str] | None = None) -> Iterator[ServiceProcesses]:
    """The four services on SQLite files in ``folder`` or on private PostgreSQL databases."""
    if database == "SQLite":
        with ServiceProcesses(SERVICES, folder, redis, prefix, env=env) as system:
            yield system
    else:
        with postgres_databases(SERVICES) as template, \
                ServiceProcesses(SERVICES, folder, redis, prefix, database_url=template, env=env) as system:
            yield system


def measure(database: str, *, duration_s: float, connections: int, duos: int, generator: str | None) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="buddy-bench-http-") as folder, redis_url() as (redis, prefix), \
            running(database, Path(folder), redis, prefix) as system:
        urls = system.urls
        register_project(urls)
        made = set_up_duos(urls, duos)
        for service, (what, method, paths, token, body) in workloads(made).items():
            load = loadgen.Load(urls[service], method, paths, token, body, connections, duration_s)
            ours = loadgen.run(load, generator)
            floor = loadgen.run(loadgen.Load(urls[service], "GET", ["/healthz"], token, None, connections, duration_s),
                                generator)
            group = f"HTTP {'commands' if method == 'POST' else 'reads'}, {database}"
            how = f"{ours.generator}, {connections} connections, {duration_s:.0f} s"
            checked = "all 2xx" if not ours.failed else f"NOT ALL 2xx: {ours.failed:,} failed"
            results.append(Result(group, f"{service}: {what}", ours.per_second, "req/s",
                                  "GET /healthz, same process", floor.per_second,
                                  f"{how}; {ours.describe()} ({checked}); p50 {ours.p50_ms:.1f} ms"))
            results.append(Result(group, f"{service}: p99 latency", ours.p99_ms * 1000, "µs",
                                  "GET /healthz p99", floor.p99_ms * 1000,
                                  f"p50 {ours.p50_ms:.1f} ms (healthz {floor.p50_ms:.1f} ms); target p99 < 25 ms"))
        for service in SERVICES:
            results.append(Result(f"peak memory, {database}", f"{service} after the HTTP load",
                                  peak_rss_mb(system.pid(service)), "MiB", note="VmHWM; target < 300 MiB"))
    return results


def run(quick: bool, scale: float) -> list[Result]:
    duration_s = max(1.0, round((2 if quick else 10) * min(scale, 1.0)))
    duos = max(2, round((4 if quick else 20) * min(scale, 1.0) ** 0.5))
    databases = ["SQLite"] + (["PostgreSQL"] if postgres_admin_url() and not quick else [])
    results: list[Result] = []
    for database in databases:
        results.extend(measure(database, duration_s=duration_s, connections=8, duos=duos, generator=None))
    return results
