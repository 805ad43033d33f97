"""Replay as of a moment, on a scripted history with known answers.

Recruitment runs in process on a ``FixedClock``:

* 2026-03-02: project registered; volunteers V1, V2, V3 enquire and become available
  (enquiry, intake, screening, training, availability: 5 events each) — 16 events.
* 2026-03-09: V3 pauses, V2 stops, V4 enquires and becomes available — 7 more, 23 in all.

So as of 2026-03-05 the log has 16 events and 3 volunteers are available; as of the end
of 2026-03-09 it has 23 and 2 are available (V1, V4). ``buddy audit replay`` must give
exactly that, for recruitment's store and read models and for the reports, in separate
databases, with the live database untouched and the replayed chain verifying.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from shared.cli import app as cli
from shared.clock import FixedClock
from shared.eventstore import EventStore, make_engine, migrate
from shared.eventstore.db import reader
from shared.eventstore.tables import vault_keys
from shared.settings import Settings
from services.recruitment.read_models import name_index, volunteers

T1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
PRO, ADMIN = "dev-professional", "dev-admin"
P = "demo-antwerpen"


@pytest.fixture
def scripted(settings_factory: Callable[..., Settings], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from services.recruitment.bootstrap import build

    settings = settings_factory(service_urls={"matching": "http://127.0.0.1:9"})
    clock = FixedClock(T1)
    with TestClient(build(settings, clock=clock)) as client:
        def post(path: str, body: Any = None, token: str = PRO, status: int = 200) -> dict[str, Any]:
            resp = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == status, f"POST {path} -> {resp.status_code}: {resp.text}"
            return resp.json()

        def available(name: str) -> str:
            day = clock.today().isoformat()
            vid = post(f"/projects/{P}/volunteers", {"channel": "website", "municipality_nis": "11002",
                                                     "personal": {"first_name": name, "last_name": "Replay"}},
                       status=201)["volunteer_id"]
            post(f"/volunteers/{vid}/intake", {"held_on": day})
            post(f"/volunteers/{vid}/screening", {"screened_on": day, "outcome": "approved"})
            post(f"/volunteers/{vid}/training", {"session_on": day, "kind": "individual_coaching", "hours": 2})
            post(f"/volunteers/{vid}/availability", {"target_groups": ["individual_adult"]})
            return vid

        post("/projects", {"project_id": P, "name": "Buddywerking", "organisation": "Testvzw",
                           "municipality_nis": "11002", "region": "antwerpen-kempen",
                           "target_groups": ["individual_adult"]}, ADMIN, status=201)
        ids = {name: available(name) for name in ("V1", "V2", "V3")}
        clock.set(T2)
        post(f"/volunteers/{ids['V3']}/pause", {})
        post(f"/volunteers/{ids['V2']}/stop", {"reason": "no_time"})
        ids["V4"] = available("V4")
    for service in ("matching", "followup"):  # producers with nothing recorded yet
        engine = make_engine(settings.database_url_of(service))
        migrate(engine, service)
        engine.dispose()
    for var in [v for v in os.environ if v.startswith("BUDDY_") and not v.startswith("BUDDY_TEST_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("BUDDY_DATA_DIR", str(tmp_path))
    return {"settings": settings, "ids": ids}


def live_state(settings: Settings) -> tuple[int, str, int]:
    engine = make_engine(settings.database_url_of("recruitment"))
    try:
        position, digest = EventStore(engine, "recruitment").head()
        with reader(engine).connect() as conn:
            keys = conn.execute(select(func.count()).select_from(vault_keys)).scalar_one()
        return position, digest, keys
    finally:
        engine.dispose()


def replay(*args: str) -> Any:
    return CliRunner().invoke(cli, ["audit", "replay", *args])


@pytest.mark.parametrize(("as_of", "events", "available"), [
    ("2026-03-05", 16, {"V1", "V2", "V3"}),
    ("2026-03-09T08:59:59", 16, {"V1", "V2", "V3"}),
    ("2026-03-09", 23, {"V1", "V4"}),
])
def test_recruitment_as_of_a_moment(scripted: dict[str, Any], tmp_path: Path, as_of: str, events: int,
                                    available: set[str]) -> None:
    settings, ids = scripted["settings"], scripted["ids"]
    names = {v: k for k, v in ids.items()}
    before = live_state(settings)
    into = f"sqlite:///{tmp_path / 'replay.db'}"
    done = replay("--as-of", as_of, "--service", "recruitment", "--into", into)
    assert done.exit_code == 0, done.output
    assert "recruitment as of " in done.output and f"{events} events copied" in done.output
    assert f"read models rebuilt from {events} events" in done.output
    assert f"replayed chain ok — {events} events" in done.output
    assert live_state(settings) == before, "the live database was only read"

    engine = make_engine(into)
    try:
        store = EventStore(engine, "recruitment")
        assert store.verify().ok and store.head()[0] == events
        with reader(engine).connect() as conn:
            rows = conn.execute(select(volunteers.c.volunteer_id, volunteers.c.status)).all()
            assert {names[v] for v, s in rows if s == "available"} == available
            # no personal data comes along: no keys, so no blind index either
            assert conn.execute(select(func.count()).select_from(vault_keys)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(name_index)).scalar_one() == 0
        live = EventStore(make_engine(settings.database_url_of("recruitment")), "recruitment")
        copied = [(r.envelope, r.hash, r.sealed) for r in store.read_after(0, 1000)]
        original = [(r.envelope, r.hash, r.sealed) for r in live.read_after(0, events)]
        assert copied == original, "copied byte for byte, sealed blobs included"
        live.engine.dispose()
    finally:
        engine.dispose()


def test_replay_refuses_a_database_that_is_not_empty(scripted: dict[str, Any], tmp_path: Path) -> None:
    into = f"sqlite:///{tmp_path / 'replay.db'}"
    assert replay("--as-of", "2026-03-05", "--service", "recruitment", "--into", into).exit_code == 0
    again = replay("--as-of", "2026-03-05", "--service", "recruitment", "--into", into)
    assert again.exit_code != 0 and "already holds events" in again.output
    live = replay("--as-of", "2026-03-05", "--service", "recruitment", "--into",
                  scripted["settings"].database_url_of("recruitment"))
    assert live.exit_code != 0 and "live database" in live.output


@pytest.mark.parametrize(("as_of", "available", "watermark"), [
    ("2026-03-05", 3, 16),
    ("2026-03-09", 2, 23),
])
def test_the_reports_as_of_a_moment(scripted: dict[str, Any], tmp_path: Path, as_of: str, available: int,
                                    watermark: int) -> None:
    from services.reporting.reports import compute

    into = f"sqlite:///{tmp_path / 'reports.db'}"
    done = replay("--as-of", as_of, "--service", "reporting", "--into", into, "--from-stores")
    assert done.exit_code == 0, done.output
    assert f"recruitment up to {watermark}, matching up to 0, followup up to 0" in done.output
    engine = make_engine(into)
    try:
        with reader(engine).connect() as conn:
            summary = compute(conn, "project_summary", {"project_id": P, "threshold": 1, "rounding_base": 1})
    finally:
        engine.dispose()
    assert summary["figures"]["available_volunteers"]["value"] == available
    assert summary["figures"]["active_duos"]["suppressed"] is True  # none: below any threshold


def test_before_the_project_existed_there_is_nothing_to_report(scripted: dict[str, Any], tmp_path: Path) -> None:
    from shared.domain import NotFound
    from services.reporting.reports import compute

    into = f"sqlite:///{tmp_path / 'reports.db'}"
    done = replay("--as-of", "2026-03-01", "--service", "reporting", "--into", into, "--from-stores")
    assert done.exit_code == 0 and "recruitment up to 0" in done.output
    engine = make_engine(into)
    try:
        with reader(engine).connect() as conn, pytest.raises(NotFound):
            compute(conn, "project_summary", {"project_id": P, "threshold": 1, "rounding_base": 1})
    finally:
        engine.dispose()


def test_a_report_published_on_the_5th_reproduces_after_the_world_moved_on(scripted: dict[str, Any]) -> None:
    """Published from the projections as of 2026-03-05 (3 available, recruitment at 16); the log has
    23 events now, yet `buddy audit reproduce` gets the same content, hash for hash."""
    import asyncio

    from sqlalchemy import update

    from shared.bus import StoreFeed
    from services.reporting import records
    from services.reporting.read_models import reports
    from services.reporting.rebuild import rebuild
    from services.reporting.reports import compute

    settings = scripted["settings"]
    stores = {s: EventStore(make_engine(settings.database_url_of(s)), s) for s in ("recruitment", "matching",
                                                                                  "followup")}
    live = make_engine(settings.database_url_of("reporting"))
    try:
        watermark = {"recruitment": 16, "matching": 0, "followup": 0}
        asyncio.run(rebuild(live, StoreFeed(stores), watermark=watermark))
        parameters = {"project_id": P, "threshold": 1, "rounding_base": 1}
        with live.begin() as conn:
            content = compute(conn, "project_summary", parameters)
            report = records.record(conn, kind="project_summary", parameters=parameters, watermark=watermark,
                                    content=content, created_at=datetime(2026, 3, 5, 12, tzinfo=UTC),
                                    created_by="dev-admin")
        assert content["figures"]["available_volunteers"]["value"] == 3
        assert stores["recruitment"].head()[0] == 23

        done = CliRunner().invoke(cli, ["audit", "reproduce", report["report_id"], "--from-stores"])
        assert done.exit_code == 0, done.output
        assert f"{report['report_id']}: reproduced — hash {report['content_hash']}" in done.output

        with live.begin() as conn:  # a doctored record no longer matches what the history gives
            conn.execute(update(reports).where(reports.c.report_id == report["report_id"])
                         .values(content_hash="0" * 64))
        doctored = CliRunner().invoke(cli, ["audit", "reproduce", report["report_id"], "--from-stores"])
        assert doctored.exit_code == 1
        assert f"NOT reproduced — stored {'0' * 64}, replay gives {report['content_hash']}" in doctored.output
        missing = CliRunner().invoke(cli, ["audit", "reproduce", "r-nope", "--from-stores"])
        assert missing.exit_code == 2 and "does not exist" in missing.output
    finally:
        live.dispose()
        for store in stores.values():
            store.engine.dispose()
