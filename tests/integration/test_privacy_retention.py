"""Retention on a scripted timeline: personal data is erased N years after a trajectory ends.

Recruitment and matching run in process with one ``FixedClock`` that the script moves;
their stores share a data folder. ``apply_retention`` (what ``buddy privacy retention``
runs, now and on its schedule) is then asked about given days:

    volunteers                                    participants
    V1 stopped 2019-03-04                         P1 withdrawn 2019-03-04
    V2 still active                               P2 duo ended 2020-03-04 (goals reached)
    V3 stopped 2022-03-04                         P3 still waiting
    V4 stopped 2019-03-04 while in a duo          P4 duo ended 2020-03-04 in a mismatch:
       that ended 2021-03-04                         back on the waiting list

With five years: nothing is due on 2024-03-03; V1 and P1 on 2024-03-04; on 2026-03-04
also V4 and P2 (never V2, P3, P4; V3 only from 2027-03-04).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shared.cli import app as cli
from shared.clock import FixedClock
from shared.contracts import recruitment as rc
from shared.contracts.common import MatchingPreferences
from shared.contracts.matching import DuoEnded, DuoStarted, EndReason
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import EventStore, make_engine
from shared.privacy import RetentionSettings, apply_retention, due_for_erasure
from shared.settings import Settings
from shared.vault import Vault

T0 = datetime(2019, 3, 4, 9, 0, tzinfo=UTC)
PRO, ADMIN = "dev-professional", "dev-admin"
P = "demo-antwerpen"
FIVE = RetentionSettings(years=5)


def on(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)


class Client:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def runtime(self) -> Any:
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    def post(self, path: str, body: Any = None, token: str = PRO, status: int = 200) -> dict[str, Any]:
        resp: httpx.Response = self.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == status, f"POST {path} -> {resp.status_code}: {resp.text}"
        return resp.json()

    def deliver(self, event: Any, service: str, stream_id: str, clock: FixedClock) -> None:
        """Another service's event, handed to this service's subscriber as its consumer would."""
        env = Envelope(event_id=uuid.uuid4(), type=event.event_type, schema_version=event.schema_version,
                       service=service, stream_type=event.stream_type, stream_id=stream_id, version=1, position=1,
                       occurred_at=clock.now(), recorded_at=clock.now(), project_id=P,
                       actor=Actor(id="pro-1", role=Role.professional), correlation_id=uuid.uuid4(),
                       payload=event.model_dump(mode="json"))
        with self.runtime.engine.begin() as conn:
            self.runtime.handler(conn, env)


def enquire(r: Client) -> str:
    return r.post(f"/projects/{P}/volunteers", {"channel": "website", "municipality_nis": "11002",
                                                 "personal": {"first_name": "Retentia", "last_name": "Vrijwilliger"}},
                  status=201)["volunteer_id"]


def refer(m: Client) -> str:
    return m.post(f"/projects/{P}/participants", {
        "target_group": "individual_adult", "referrer_type": "social_services", "life_domains": ["isolation"],
        "municipality_nis": "11002", "consent_recorded": True,
        "personal": {"first_name": "Retentia", "last_name": "Deelnemer"}}, status=201)["participant_id"]


@pytest.fixture
def history(settings_factory: Callable[..., Settings], key_prefix: str) -> tuple[Settings, dict[str, str]]:
    """The scripted timeline, recorded in both stores; the apps are stopped again afterwards."""
    from services.matching.bootstrap import build as build_matching
    from services.recruitment.bootstrap import build as build_recruitment

    clock = FixedClock(T0)
    ids: dict[str, str] = {}
    # recruitment on a stream prefix of its own: matching below gets recruitment's facts by hand
    recruitment_settings = settings_factory(stream_prefix=f"{key_prefix}:r",
                                            service_urls={"matching": "http://127.0.0.1:9"})
    with TestClient(build_recruitment(recruitment_settings, clock=clock)) as client:
        r = Client(client)
        r.post("/projects", {"project_id": P, "name": "Buddywerking", "organisation": "Testvzw",
                             "municipality_nis": "11002", "region": "antwerpen-kempen",
                             "target_groups": ["individual_adult"]}, ADMIN, status=201)
        for name in ("V1", "V2", "V3", "V4"):
            ids[name] = enquire(r)
        r.post(f"/volunteers/{ids['V1']}/stop", {"reason": "no_time"})
        r.deliver(DuoStarted(duo_id="d-v4", project_id=P, volunteer_id=ids["V4"], participant_id="p-x",
                             started_on=clock.today(), agreed_contacts_per_month=2), "matching", "d-v4", clock)
        r.post(f"/volunteers/{ids['V4']}/stop", {"reason": "moved"})
        clock.set(on("2021-03-04"))
        r.deliver(DuoEnded(duo_id="d-v4", project_id=P, volunteer_id=ids["V4"], participant_id="p-x",
                           ended_on=clock.today(), reason=EndReason.goals_reached, planned=True), "matching", "d-v4",
                  clock)
        clock.set(on("2022-03-04"))
        r.post(f"/volunteers/{ids['V3']}/stop", {"reason": "health"})

    clock.set(T0)
    matching_settings = settings_factory(service_urls={"recruitment": "http://127.0.0.1:9"})
    with TestClient(build_matching(matching_settings, clock=clock)) as client:
        m = Client(client)
        m.deliver(rc.ProjectRegistered(project_id=P, name="Buddywerking", organisation="Testvzw",
                                       municipality_nis="11002", region="antwerpen-kempen",
                                       target_groups=["individual_adult"]), "recruitment", P, clock)
        for volunteer in ("v-m2", "v-m4"):
            m.deliver(rc.VolunteerEnquiryReceived(volunteer_id=volunteer, project_id=P, channel="website",
                                                  municipality_nis="11002"), "recruitment", volunteer, clock)
            m.deliver(rc.VolunteerMadeAvailable(volunteer_id=volunteer, project_id=P, preferences=MatchingPreferences(
                target_groups=["individual_adult"])), "recruitment", volunteer, clock)
        for name in ("P1", "P2", "P3", "P4"):
            ids[name] = refer(m)
        m.post(f"/participants/{ids['P1']}/withdrawal", {"reason": "no_longer_needed",
                                                         "withdrawn_on": clock.today().isoformat()})
        duos = {name: m.post(f"/projects/{P}/duos", {"volunteer_id": volunteer, "participant_id": ids[name],
                                                     "started_on": clock.today().isoformat()}, status=201)["duo_id"]
                for name, volunteer in (("P2", "v-m2"), ("P4", "v-m4"))}
        clock.set(on("2020-03-04"))
        for name, reason in (("P2", "goals_reached"), ("P4", "mismatch")):
            m.post(f"/duos/{duos[name]}/end", {"ended_on": clock.today().isoformat(), "reason": reason,
                                               "planned": reason != "mismatch"})
    return matching_settings, ids


def due(settings: Settings, day: str) -> dict[str, str]:
    """Who is due on a day, as {name: service}."""
    found = apply_retention(settings, clock=FixedClock(on(day)), retention=FIVE)
    assert all(o.action == "due" for o in found)
    return {o.subject_id: o.service for o in found}


def test_personal_data_is_erased_five_years_after_the_end_of_a_trajectory(
        history: tuple[Settings, dict[str, str]]) -> None:
    settings, ids = history
    name = {v: k for k, v in ids.items()}
    assert due(settings, "2024-03-03") == {}
    assert {name[s] for s in due(settings, "2024-03-04")} == {"V1", "P1"}
    assert {name[s] for s in due(settings, "2026-03-04")} == {"V1", "P1", "V4", "P2"}
    assert {name[s] for s in due(settings, "2027-03-04")} == {"V1", "P1", "V4", "P2", "V3"}

    ran = apply_retention(settings, clock=FixedClock(on("2026-03-04")), retention=FIVE, apply=True)
    assert [(name[o.subject_id], o.ended_on.isoformat(), o.due_on.isoformat(), o.action) for o in ran] == [
        ("V1", "2019-03-04", "2024-03-04", "erased"), ("V4", "2021-03-04", "2026-03-04", "erased"),
        ("P1", "2019-03-04", "2024-03-04", "erased"), ("P2", "2020-03-04", "2025-03-04", "erased"),
    ]
    assert due(settings, "2026-03-04") == {}, "a second run the same day finds nobody"

    for service, erased, kept in (("recruitment", ("V1", "V4"), ("V2", "V3")),
                                  ("matching", ("P1", "P2"), ("P3", "P4"))):
        engine = make_engine(settings.database_url_of(service))
        try:
            store = EventStore(engine, service)
            vault = Vault(engine, settings.key_bytes("master_key"), settings.key_bytes("blind_index_key"))
            assert [n for n in erased + kept if vault.is_erased(ids[n])] == list(erased)
            assert store.verify().ok
            erasures = [s.envelope for s in store.read_after(0, 10_000)
                        if s.envelope.type.endswith("PersonalDataErased")]
            assert sorted(e.stream_id for e in erasures) == sorted(ids[n] for n in erased)
            assert {(e.actor.id, e.recorded_at.date()) for e in erasures} == {("retention", date(2026, 3, 4))}
            assert due_for_erasure(service, store, date(2026, 3, 4), 5) == []
        finally:
            engine.dispose()


def test_the_command_lists_who_is_due_and_erases_on_request(history: tuple[Settings, dict[str, str]],
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings, ids = history
    for var in [v for v in os.environ if v.startswith("BUDDY_") and not v.startswith("BUDDY_TEST_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("BUDDY_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    preview = runner.invoke(cli, ["privacy", "retention", "--today", "2024-03-04"])
    assert preview.exit_code == 0, preview.output
    assert f"recruitment {ids['V1']} (project {P}): trajectory ended 2019-03-04, due 2024-03-04: due" in preview.output
    assert f"matching {ids['P1']} (project {P}): trajectory ended 2019-03-04, due 2024-03-04: due" in preview.output
    assert "2024-03-04: 2 due after 5 years, 0 erased, 0 failed" in preview.output

    monkeypatch.setenv("BUDDY_RETENTION_YEARS", "7")
    applied = runner.invoke(cli, ["privacy", "retention", "--today", "2027-03-04", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "2027-03-04: 3 due after 7 years, 3 erased, 0 failed" in applied.output  # V1, P1 and P2
    again = runner.invoke(cli, ["privacy", "retention", "--today", "2027-03-04", "--apply"])
    assert "0 due after 7 years" in again.output
