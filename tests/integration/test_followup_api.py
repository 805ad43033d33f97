"""The follow-up API on a real Redis: roster from matching's events, contacts with drafts,
corrections and retractions, buddies limited to their own duo, coaching, boundary
signals, goals, evaluations, policy signals; readable 4xx for every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.auth import Principal
from shared.events.envelope import Actor, Role
from shared.eventstore.tables import events
from tests.integration.test_followup_support import (
    ADMIN,
    AUDITOR,
    COORDINATOR,
    OTHER_PRO,
    PRO,
    PROJECT,
    FakeMatching,
    clock_at,
    contact,
    followup_settings,
    make_app,
    matching,  # noqa: F401  (fixture)
    ok,
    wait_consumed,
)

TODAY = date(2026, 3, 2)
STARTED = date(2026, 1, 5)
DUO, OTHER_DUO, VOLUNTEER = "d-api-1", "d-api-2", "v-api-1"


class World:
    def __init__(self, client: TestClient, app: Any, fake: FakeMatching) -> None:
        self.client, self.app, self.fake = client, app, fake

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def post(self, path: str, body: Any = None, headers: dict[str, str] = PRO) -> Any:
        return self.client.post(path, json=body, headers=headers)

    def put(self, path: str, body: Any = None, headers: dict[str, str] = PRO) -> Any:
        return self.client.put(path, json=body, headers=headers)

    def get(self, path: str, headers: dict[str, str] = PRO, **params: Any) -> Any:
        return self.client.get(path, headers=headers, params=params)

    def as_principal(self, token: str, principal: Principal) -> dict[str, str]:
        """A token for a principal the dev table cannot express (a buddy bound to a volunteer id)."""
        self.runtime.authenticator._dev[token] = principal
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(settings_factory, database_url: str, matching: FakeMatching) -> Iterator[World]:  # noqa: F811
    """Follow-up with three duos learned from matching, on SQLite and on PostgreSQL."""
    matching.start(DUO, volunteer_id=VOLUNTEER, participant_id="pt-api-1", started_on=STARTED)
    matching.start(OTHER_DUO, volunteer_id="v-api-2", participant_id="pt-api-2", started_on=STARTED)
    matching.start("d-brugge", volunteer_id="v-api-3", participant_id="pt-api-3", started_on=STARTED,
                   project_id="demo-brugge")
    app = make_app(followup_settings(settings_factory, database_url), clock_at(TODAY))
    with TestClient(app) as client:
        matching.publish_now()
        wait_consumed(app, matching.head())
        yield World(client, app, matching)


def buddy(volunteer_id: str) -> Principal:
    return Principal(actor=Actor(id=volunteer_id, role=Role.buddy), projects=frozenset({PROJECT}))


# ----------------------------------------------------------------------------- roster and contacts
def test_a_duo_started_in_matching_receives_contacts(world: World) -> None:
    duo = ok(world.get(f"/duos/{DUO}"))
    assert duo["status"] == "active" and duo["started_on"] == STARTED.isoformat()
    assert duo["agreed_contacts_per_month"] == 2
    made = ok(world.post(f"/duos/{DUO}/contacts", contact(TODAY - timedelta(days=1))), 201)
    assert made["status"] == "logged" and made["contact_id"].startswith("c-")
    listed = ok(world.get(f"/duos/{DUO}/contacts"))
    assert listed["total"] == 1 and listed["items"][0]["logged_by"] == "professional"
    roster = ok(world.get(f"/projects/{PROJECT}/duos"))
    assert {d["duo_id"] for d in roster["items"]} == {DUO, OTHER_DUO}


def test_drafts_count_only_once_submitted(world: World) -> None:
    draft = ok(world.post(f"/duos/{DUO}/contact-drafts", contact(TODAY, minutes=30, note="Eerste versie")), 201)
    cid = draft["contact_id"]
    assert ok(world.get(f"/duos/{DUO}/figures"))["months"] == {}
    assert ok(world.get(f"/duos/{DUO}"))["contacts"]["draft"] == 1
    submitted = ok(world.post(f"/duos/{DUO}/contacts/{cid}/submission", contact(TODAY, minutes=45)))
    assert submitted["status"] == "logged"
    months = ok(world.get(f"/duos/{DUO}/figures"))["months"]
    assert months == {"2026-03": {"contacts": 1, "minutes": 45, "by_mode": {"in_person": 1},
                                  "by_activity": {"walk": 1}}}
    # the draft's note stays with the contact it became
    assert ok(world.get(f"/duos/{DUO}/contacts/{cid}"))["note"] == "Eerste versie"
    # a submitted draft is no draft any more
    resp = world.post(f"/duos/{DUO}/contacts/{cid}/submission")
    assert resp.status_code == 409 and "not a draft" in resp.json()["detail"]
    # a discarded draft never counts
    other = ok(world.post(f"/duos/{DUO}/contact-drafts", contact(TODAY)), 201)["contact_id"]
    assert ok(world.post(f"/duos/{DUO}/contacts/{other}/discard"))["status"] == "discarded"
    assert ok(world.get(f"/duos/{DUO}/figures"))["months"]["2026-03"]["contacts"] == 1
    assert world.post(f"/duos/{DUO}/contacts/{other}/discard").status_code == 409


def test_corrections_and_retractions_are_new_events(world: World) -> None:
    cid = ok(world.post(f"/duos/{DUO}/contacts", contact(date(2026, 2, 27), minutes=30, note="Oud")), 201)["contact_id"]
    corrected = ok(world.post(f"/duos/{DUO}/contacts/{cid}/correction",
                              contact(date(2026, 3, 1), minutes=90, mode="phone", activities=["shopping"])))
    assert corrected["version"] == 2
    months = ok(world.get(f"/duos/{DUO}/figures"))["months"]
    assert months == {"2026-03": {"contacts": 1, "minutes": 90, "by_mode": {"phone": 1},
                                  "by_activity": {"shopping": 1}}}
    view = ok(world.get(f"/duos/{DUO}/contacts/{cid}"))
    assert view["corrections"] == 1 and view["note"] == "Oud"  # the note is kept unless replaced
    same = world.post(f"/duos/{DUO}/contacts/{cid}/correction",
                      contact(date(2026, 3, 1), minutes=90, mode="phone", activities=["shopping"]))
    assert same.status_code == 409 and "changes nothing" in same.json()["detail"]
    ok(world.post(f"/duos/{DUO}/contacts/{cid}/retraction", {"reason": "duplicate"}))
    assert ok(world.get(f"/duos/{DUO}/figures"))["months"] == {}
    assert ok(world.get(f"/duos/{DUO}/contacts", status="retracted"))["total"] == 1
    again = world.post(f"/duos/{DUO}/contacts/{cid}/retraction", {"reason": "duplicate"})
    assert again.status_code == 409 and "already retracted" in again.json()["detail"]
    # the log kept every step: logged, corrected, retracted
    with world.runtime.engine.connect() as conn:
        types = list(conn.execute(select(events.c.type).where(events.c.stream_id == DUO)
                                  .order_by(events.c.version)).scalars())
    assert types == ["ContactLogged", "ContactCorrected", "ContactRetracted"]


def test_contact_dates_are_checked(world: World) -> None:
    for day, word in ((TODAY + timedelta(days=1), "future"), (STARTED - timedelta(days=1), "before")):
        resp = world.post(f"/duos/{DUO}/contacts", contact(day))
        assert resp.status_code == 422 and word in resp.json()["detail"]
        assert resp.json()["errors"][0]["field"] == "contact_date"
    assert world.post("/duos/d-unknown/contacts", contact(TODAY)).status_code == 404


# ----------------------------------------------------------------------------- buddies
def test_a_buddy_logs_contacts_only_for_their_own_duo(world: World) -> None:
    mine = world.as_principal("buddy-own", buddy(VOLUNTEER))
    stranger = world.as_principal("buddy-stranger", buddy("v-someone-else"))
    made = ok(world.post(f"/duos/{DUO}/contacts", contact(TODAY), headers=mine), 201)
    assert ok(world.get(f"/duos/{DUO}/contacts/{made['contact_id']}"))["logged_by"] == "buddy"
    refused = world.post(f"/duos/{OTHER_DUO}/contacts", contact(TODAY), headers=mine)
    assert refused.status_code == 403 and "own duo" in refused.json()["detail"]
    assert world.post(f"/duos/{DUO}/contacts", contact(TODAY), headers=stranger).status_code == 403
    # the dev buddy has projects but is bound to no duo
    assert world.post(f"/duos/{DUO}/contacts", contact(TODAY), headers={"Authorization": "Bearer dev-buddy"}
                      ).status_code == 403
    # contacts only: nothing else for buddies, not even on their own duo
    assert world.post(f"/duos/{DUO}/boundary-signals", {"signal_type": "crisis", "severity": "high",
                                                        "raised_by": "buddy", "raised_on": TODAY.isoformat()},
                      headers=mine).status_code == 403
    assert world.get(f"/projects/{PROJECT}/duos", headers=mine).status_code == 403
    # their own duo's view, without the participant id; no private notes for buddies
    view = ok(world.get(f"/duos/{DUO}", headers=mine))
    assert "participant_id" not in view and view["contacts"]["logged"] == 1
    assert "note" not in ok(world.get(f"/duos/{DUO}/contacts/{made['contact_id']}", headers=mine))
    # a buddy corrects what a buddy logged, not what the professional logged
    pro_contact = ok(world.post(f"/duos/{DUO}/contacts", contact(TODAY)), 201)["contact_id"]
    assert world.post(f"/duos/{DUO}/contacts/{pro_contact}/retraction", {"reason": "duplicate"},
                      headers=mine).status_code == 403
    ok(world.post(f"/duos/{DUO}/contacts/{made['contact_id']}/correction", contact(TODAY, minutes=15), headers=mine))


def test_professionals_are_scoped_to_their_projects(world: World) -> None:
    assert world.post("/duos/d-brugge/contacts", contact(TODAY)).status_code == 403
    assert ok(world.post("/duos/d-brugge/contacts", contact(TODAY), headers=OTHER_PRO), 201)
    assert ok(world.post("/duos/d-brugge/contacts", contact(TODAY), headers=ADMIN), 201)
    for headers in (COORDINATOR, AUDITOR):
        assert world.post(f"/duos/{DUO}/contacts", contact(TODAY), headers=headers).status_code == 403
        assert world.get(f"/projects/{PROJECT}/boundary-signals", headers=headers).status_code == 403
    assert world.client.post(f"/duos/{DUO}/contacts", json=contact(TODAY)).status_code == 401
    assert world.get("/projects/demo-brugge/check-ins").status_code == 403


# ----------------------------------------------------------------------------- coaching, signals, goals
def test_coaching_sessions(world: World) -> None:
    made = ok(world.post(f"/projects/{PROJECT}/coaching-sessions", {
        "kind": "intervision", "session_date": TODAY.isoformat(), "minutes": 120,
        "themes": ["boundaries", "self_care"], "volunteer_ids": [VOLUNTEER, "v-api-2"]}), 201)
    ok(world.post(f"/projects/{PROJECT}/coaching-sessions", {
        "kind": "individual", "session_date": TODAY.isoformat(), "minutes": 45, "themes": ["role_of_the_buddy"],
        "volunteer_ids": ["v-api-2"]}), 201)
    assert ok(world.get(f"/projects/{PROJECT}/coaching-sessions", volunteer_id=VOLUNTEER))["items"][0]["session_id"] \
        == made["session_id"]
    assert ok(world.get(f"/projects/{PROJECT}/coaching-sessions"))["total"] == 2
    assert ok(world.get(f"/projects/{PROJECT}/coaching-sessions", kind="individual"))["total"] == 1
    bad = world.post(f"/projects/{PROJECT}/coaching-sessions", {
        "kind": "individual", "session_date": TODAY.isoformat(), "minutes": 45, "themes": ["boundaries"],
        "volunteer_ids": [VOLUNTEER, "v-api-2"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "volunteer_ids"
    unknown = world.post(f"/projects/{PROJECT}/coaching-sessions", {
        "kind": "group", "session_date": TODAY.isoformat(), "minutes": 45, "themes": ["boundaries"],
        "volunteer_ids": ["v-nobody"]})
    assert unknown.status_code == 404 and "v-nobody" in unknown.json()["detail"]


def test_boundary_signals_open_list_most_severe_and_oldest_first(world: World) -> None:
    def raise_(duo: str, severity: str, days_ago: int) -> str:
        return ok(world.post(f"/duos/{duo}/boundary-signals", {
            "signal_type": "money_or_goods_asked", "severity": severity, "raised_by": "buddy",
            "raised_on": (TODAY - timedelta(days=days_ago)).isoformat(), "note": "Vroeg om geld"}), 201)["signal_id"]

    low_old, high_new, high_old, critical = raise_(DUO, "low", 30), raise_(DUO, "high", 1), \
        raise_(OTHER_DUO, "high", 20), raise_(OTHER_DUO, "critical", 2)
    listed = [s["signal_id"] for s in ok(world.get(f"/projects/{PROJECT}/boundary-signals", status="open"))["items"]]
    assert listed == [critical, high_old, high_new, low_old]
    ok(world.post(f"/boundary-signals/{high_old}/follow-ups", {
        "action": "triangle_meeting", "followed_up_on": TODAY.isoformat(), "severity": "medium", "note": "Gesprek"}))
    ok(world.post(f"/boundary-signals/{critical}/resolution", {"resolution": "referred",
                                                              "resolved_on": TODAY.isoformat()}))
    listed = [s["signal_id"] for s in ok(world.get(f"/projects/{PROJECT}/boundary-signals", status="open"))["items"]]
    assert listed == [high_new, high_old, low_old]
    view = ok(world.get(f"/boundary-signals/{high_old}"))
    assert view["follow_ups"] == 1 and view["severity"] == "medium" and view["notes"] == ["Vroeg om geld", "Gesprek"]
    again = world.post(f"/boundary-signals/{critical}/follow-ups", {"action": "other",
                                                                    "followed_up_on": TODAY.isoformat()})
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    early = world.post(f"/boundary-signals/{low_old}/resolution", {
        "resolution": "resolved", "resolved_on": (TODAY - timedelta(days=31)).isoformat()})
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "resolved_on"
    assert world.get("/boundary-signals/bs-unknown").status_code == 404


def test_goals_and_evaluations(world: World) -> None:
    goal = ok(world.post(f"/duos/{DUO}/goals", {"domain": "social_network", "set_on": "2026-01-10", "baseline": 2,
                                                "target": 6, "description": "Wil een vriendin in de buurt"}),
              201)["goal_id"]
    assert ok(world.post(f"/goals/{goal}/progress", {"recorded_on": "2026-02-10", "score": 4}))["scores"] == [2, 4]
    ok(world.post(f"/goals/{goal}/closure", {"closed_on": TODAY.isoformat(), "outcome": "partly_achieved"}))
    view = ok(world.get(f"/goals/{goal}"))
    assert view["description"] == "Wil een vriendin in de buurt" and view["latest_score"] == 4
    assert world.post(f"/goals/{goal}/progress", {"recorded_on": TODAY.isoformat(), "score": 5}).status_code == 409
    assert ok(world.get(f"/duos/{DUO}/goals", status="closed"))["total"] == 1

    body = {"moment": "start", "evaluated_on": "2026-01-06", "wellbeing": 4, "network_size": 2,
            "participant_satisfaction": 4, "volunteer_satisfaction": 5}
    ok(world.post(f"/duos/{DUO}/evaluations", body), 201)
    again = world.post(f"/duos/{DUO}/evaluations", body)
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]
    early = world.post(f"/duos/{DUO}/evaluations", {**body, "moment": "mid", "evaluated_on": "2026-01-05"})
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "evaluated_on"
    ok(world.post(f"/duos/{DUO}/evaluations", {**body, "moment": "final", "evaluated_on": "2026-03-01",
                                               "wellbeing": 7, "network_size": 5}), 201)
    late_mid = world.post(f"/duos/{DUO}/evaluations", {**body, "moment": "mid", "evaluated_on": "2026-02-01"})
    assert late_mid.status_code == 409
    moments = [e["moment"] for e in ok(world.get(f"/duos/{DUO}/evaluations"))["items"]]
    assert moments == ["start", "final"]
    bad = world.post(f"/duos/{DUO}/evaluations", {**body, "wellbeing": 11})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "wellbeing"


# ----------------------------------------------------------------------------- policy signals
def test_a_policy_summary_reaches_the_bus_only_when_confirmed_and_clean(world: World) -> None:
    signal = ok(world.post(f"/projects/{PROJECT}/policy-signals", {
        "theme": "digital_barriers", "observed_on": TODAY.isoformat(),
        "description": "Mevrouw Janssens kon haar afspraak bij het OCMW enkel online maken"}), 201)["signal_id"]
    for summary, confirm, field in (
        ("Diensten enkel online bereikbaar", False, "confirm_no_personal_data"),
        ("x" * 281, True, "summary"),
        ("Bel haar op 0499 12 34 56", True, "summary"),
        ("Mail naar jan.janssens@example.org", True, "summary"),
        ("Rijksregisternummer 85.07.30-033.28 gevraagd", True, "summary"),
    ):
        resp = world.post(f"/policy-signals/{signal}/summary", {"summary": summary,
                                                                 "confirm_no_personal_data": confirm})
        assert resp.status_code == 422, (summary, resp.text)
        assert resp.json()["errors"][0]["field"] == field
    assert ok(world.get(f"/policy-signals/{signal}"))["status"] == "recorded"
    text = "Afspraken bij het OCMW kunnen enkel nog online: drempel voor wie geen computer heeft (2024)."
    ok(world.post(f"/policy-signals/{signal}/summary", {"summary": text, "confirm_no_personal_data": True}))
    view = ok(world.get(f"/policy-signals/{signal}"))
    assert view["summary"] == text and view["description"].startswith("Mevrouw Janssens")
    assert world.post(f"/policy-signals/{signal}/summary", {"summary": text, "confirm_no_personal_data": True}
                      ).status_code == 409
    listed = ok(world.get(f"/projects/{PROJECT}/policy-signals", theme="digital_barriers"))
    assert listed["total"] == 1 and "description" not in listed["items"][0]
    assert world.get(f"/policy-signals/{signal}", headers=OTHER_PRO).status_code == 403
    published = [row for row in world.runtime.store.read_after(0, 1000) if row.envelope.stream_id == signal]
    assert [r.envelope.type for r in published] == ["PolicySignalRecorded", "PolicySignalSummaryConfirmed"]
    assert "Janssens" not in repr([r.envelope for r in published])


def test_an_admin_shreds_a_signal_that_names_someone(world: World) -> None:
    """The description's key is destroyed and the summary dropped; the history still verifies."""
    signal = ok(world.post(f"/projects/{PROJECT}/policy-signals", {
        "theme": "housing", "observed_on": TODAY.isoformat(),
        "description": "Mevrouw Snorkelbaum kreeg geen huurwaarborg"}), 201)["signal_id"]
    slipped = "Huurwaarborg geweigerd voor de dame uit de Snorkelbaumhoek"  # names her; passes every check
    ok(world.post(f"/policy-signals/{signal}/summary", {"summary": slipped, "confirm_no_personal_data": True}))
    for headers in (PRO, OTHER_PRO, AUDITOR, COORDINATOR):
        assert world.post(f"/policy-signals/{signal}/shredding", headers=headers).status_code == 403
    assert world.post("/policy-signals/ps-nobody/shredding", headers=ADMIN).status_code == 404
    done = ok(world.post(f"/policy-signals/{signal}/shredding", headers=ADMIN))
    assert done["status"] == "shredded" and done["key_destroyed"] is True
    view = ok(world.get(f"/policy-signals/{signal}"))
    assert view["status"] == "shredded" and view["description"] is None and view["summary"] is None
    assert ok(world.get(f"/projects/{PROJECT}/policy-signals", status="shredded"))["total"] == 1
    assert world.post(f"/policy-signals/{signal}/shredding", headers=ADMIN).status_code == 409
    again = world.post(f"/policy-signals/{signal}/summary", {"summary": "Huurwaarborg", "confirm_no_personal_data": True})
    assert again.status_code == 409
    assert world.runtime.vault.is_erased(signal)
    [shredded] = [r.envelope for r in world.runtime.store.read_after(0, 1000) if r.envelope.type == "PolicySignalShredded"]
    assert shredded.stream_id == signal and shredded.actor.role == "admin" and "Snorkelbaum" not in str(shredded)
    assert world.runtime.store.verify().ok
    with world.runtime.engine.connect() as conn:  # no read model keeps the text
        for table in ("fu_policy_signals",):
            assert "Snorkelbaum" not in str(conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall())


def test_buddy_privacy_shred_signal_asks_follow_up(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from urllib.parse import urlsplit

    from typer.testing import CliRunner

    from shared.cli import app as cli

    def through_the_app(method: str, url: str, headers: dict[str, str], **_: Any) -> Any:
        return world.client.request(method, urlsplit(url).path, headers=headers)

    monkeypatch.setattr("httpx.request", through_the_app)
    signal = ok(world.post(f"/projects/{PROJECT}/policy-signals", {
        "theme": "housing", "observed_on": TODAY.isoformat(), "description": "Meneer Quibbleworth"}), 201)["signal_id"]
    refused = CliRunner().invoke(cli, ["privacy", "shred-signal", signal, "--token", "dev-professional"])
    assert refused.exit_code == 2 and ok(world.get(f"/policy-signals/{signal}"))["status"] == "recorded"
    done = CliRunner().invoke(cli, ["privacy", "shred-signal", signal, "--token", "dev-admin"])
    assert done.exit_code == 0 and "shredded" in done.output, done.output
    assert ok(world.get(f"/policy-signals/{signal}"))["description"] is None
    assert CliRunner().invoke(cli, ["privacy", "shred-signal", "ps-nobody", "--token", "dev-admin"]).exit_code == 2


def test_a_policy_summary_a_spreadsheet_would_run_is_refused(world: World) -> None:
    """A summary reaches the government report's exports: no formula start, no control character (PostgreSQL
    refused a NUL byte with a 500)."""
    signal = ok(world.post(f"/projects/{PROJECT}/policy-signals", {
        "theme": "housing", "observed_on": TODAY.isoformat(), "description": "Wachtlijst sociale woning"}), 201)["signal_id"]
    for summary in ('=HYPERLINK("http://example.org/x","Klik")', " =1+1", "+32 wachtlijst", "-2 plaatsen",
                    "@SUM(A1)", "\tTab vooraan", "Wacht\x00lijst", "\x00", "Sociale\x1bwoning"):
        resp = world.post(f"/policy-signals/{signal}/summary", {"summary": summary, "confirm_no_personal_data": True})
        assert resp.status_code == 422, (summary, resp.text)
        assert resp.json()["errors"][0]["field"] == "summary", resp.text
    assert ok(world.get(f"/policy-signals/{signal}"))["status"] == "recorded"
    ok(world.post(f"/policy-signals/{signal}/summary", {"summary": "Wachtlijst sociale woning: 2 jaar of meer",
                                                         "confirm_no_personal_data": True}))


def test_erasing_the_participant_in_matching_shreds_their_notes_here(world: World) -> None:
    cid = ok(world.post(f"/duos/{DUO}/contacts", contact(TODAY, note="Praat over haar schulden")), 201)["contact_id"]
    goal = ok(world.post(f"/duos/{DUO}/goals", {"domain": "housing", "set_on": TODAY.isoformat(), "baseline": 1,
                                                "description": "Een eigen woning"}), 201)["goal_id"]
    other = ok(world.post(f"/duos/{OTHER_DUO}/contacts", contact(TODAY, note="Andere deelnemer")), 201)["contact_id"]
    assert ok(world.get(f"/duos/{DUO}/contacts/{cid}"))["note"] == "Praat over haar schulden"
    world.fake.erase_participant("pt-api-1")
    world.fake.publish_now()
    wait_consumed(world.app, world.fake.head())
    assert ok(world.get(f"/duos/{DUO}/contacts/{cid}"))["note"] is None
    assert ok(world.get(f"/goals/{goal}"))["description"] is None
    assert ok(world.get(f"/duos/{OTHER_DUO}/contacts/{other}"))["note"] == "Andere deelnemer"
    assert world.runtime.store.verify().ok  # the history is intact


def test_paused_duos_are_not_overdue_and_resume_with_a_fresh_period(world: World) -> None:
    overdue = ok(world.get(f"/projects/{PROJECT}/check-ins", overdue=True))["items"]
    assert {d["duo_id"] for d in overdue} == {DUO, OTHER_DUO}  # no contact since the start two months ago
    world.fake.pause(DUO, date(2026, 2, 1))
    world.fake.publish_now()
    wait_consumed(world.app, world.fake.head())
    assert {d["duo_id"] for d in ok(world.get(f"/projects/{PROJECT}/check-ins", overdue=True))["items"]} == {OTHER_DUO}
    assert ok(world.get(f"/duos/{DUO}"))["check_in"]["rule"] == "paused"
    ok(world.post(f"/duos/{DUO}/contacts", contact(TODAY)), 201)  # a paused duo may still log a contact
    world.fake.resume(DUO, date(2026, 3, 1))
    world.fake.publish_now()
    wait_consumed(world.app, world.fake.head())
    view = ok(world.get(f"/duos/{DUO}"))
    assert (view["status"], view["check_in"]["overdue"], view["check_in"]["due_on"]) == ("active", False, "2026-04-02")


def test_the_read_models_equal_a_rebuild_from_the_log(world: World) -> None:
    from services.followup.projections import rebuild
    from services.followup.read_models import OWN_TABLES

    cid = ok(world.post(f"/duos/{DUO}/contacts", contact(TODAY, note="n")), 201)["contact_id"]
    ok(world.post(f"/duos/{DUO}/contacts/{cid}/correction", contact(TODAY, minutes=5)))
    draft = ok(world.post(f"/duos/{DUO}/contact-drafts", contact(TODAY)), 201)["contact_id"]
    ok(world.post(f"/duos/{DUO}/contacts/{draft}/discard"))
    signal = ok(world.post(f"/duos/{DUO}/boundary-signals", {"signal_type": "conflict", "severity": "low",
                                                             "raised_by": "participant", "raised_on": TODAY.isoformat(),
                                                             "note": "x"}), 201)["signal_id"]
    ok(world.post(f"/boundary-signals/{signal}/follow-ups", {"action": "other", "followed_up_on": TODAY.isoformat(),
                                                             "note": "y", "severity": "high"}))
    goal = ok(world.post(f"/duos/{DUO}/goals", {"domain": "leisure", "set_on": TODAY.isoformat(), "baseline": 2}),
              201)["goal_id"]
    ok(world.post(f"/goals/{goal}/progress", {"recorded_on": TODAY.isoformat(), "score": 3}))
    ok(world.put(f"/projects/{PROJECT}/cadence", {"first_period_days": 14, "first_period_contacts": 1,
                                                  "max_gap_days": 20}))
    ok(world.post(f"/projects/{PROJECT}/coaching-sessions", {"kind": "group", "session_date": TODAY.isoformat(),
                                                             "minutes": 90, "themes": ["boundaries"],
                                                             "volunteer_ids": [VOLUNTEER]}), 201)
    ok(world.post(f"/duos/{DUO}/evaluations", {"moment": "start", "evaluated_on": TODAY.isoformat(), "wellbeing": 5,
                                               "network_size": 1}), 201)
    ps = ok(world.post(f"/projects/{PROJECT}/policy-signals", {"theme": "mobility", "observed_on": TODAY.isoformat(),
                                                               "description": "d"}), 201)["signal_id"]
    ok(world.post(f"/policy-signals/{ps}/summary", {"summary": "Geen bus na 19 uur", "confirm_no_personal_data": True}))

    def snapshot() -> dict[str, list[dict[str, Any]]]:
        with world.runtime.engine.connect() as conn:
            return {t.name: sorted((dict(r) for r in conn.execute(select(t)).mappings()), key=repr) for t in OWN_TABLES}

    live = snapshot()
    assert all(live[t] for t in ("fu_contacts", "fu_boundary_signals", "fu_goals", "fu_cadences",
                                 "fu_coaching_sessions", "fu_evaluations", "fu_policy_signals"))
    assert rebuild(world.runtime.store) == world.runtime.store.head()[0]
    assert snapshot() == live
    assert ok(world.get(f"/duos/{DUO}/contacts/{cid}"))["note"] == "n"


def test_follow_up_calls_show_whether_the_participant_agreed_to_be_called(world: World) -> None:
    world.fake.consent("pt-api-1", ["matching", "data_processing", "followup_contact"])
    world.fake.consent("pt-api-2", ["matching", "data_processing"])
    for duo, volunteer, participant in ((DUO, VOLUNTEER, "pt-api-1"), (OTHER_DUO, "v-api-2", "pt-api-2")):
        world.fake.end(duo, volunteer_id=volunteer, participant_id=participant, ended_on=TODAY)
    world.fake.end("d-brugge", volunteer_id="v-api-3", participant_id="pt-api-3", ended_on=TODAY,
                   project_id="demo-brugge")
    world.fake.publish_now()
    wait_consumed(world.app, world.fake.head())
    listed = ok(world.get(f"/projects/{PROJECT}/follow-up-calls", limit=10))["items"]
    # Who did not agree to be called gets no calls; unknown consent (Brugge) still does.
    assert {(c["duo_id"], c["consent_to_call"]) for c in listed} == {(DUO, True)}
    assert len(listed) == 3
    brugge = ok(world.get("/projects/demo-brugge/follow-up-calls", headers=OTHER_PRO))["items"]
    assert [c["consent_to_call"] for c in brugge] == [None, None, None]  # nothing known about that consent
    assert ok(world.get(f"/follow-up-calls/call-{DUO}-6m"))["consent_to_call"] is True
    assert world.get("/follow-up-calls/call-d-brugge-6m").status_code == 403
    assert world.get("/follow-up-calls/call-nope-6m").status_code == 404


def test_vocabularies_have_dutch_and_english_labels(world: World) -> None:
    vocab = ok(world.get("/vocabularies"))
    assert vocab["activities"]["accompany_food_bank"] == {"nl": "begeleiding naar de voedselbank",
                                                          "en": "accompanying to the food bank"}
    assert set(vocab["policy_themes"]) == {"access_to_services", "digital_barriers", "finances", "housing",
                                           "mobility", "health_care", "education", "other"}
    for name, labels in vocab.items():
        for code, label in labels.items():
            assert label["nl"] and label["en"], (name, code)


def test_list_endpoints_page_and_refuse_bad_parameters(world: World) -> None:
    for day in range(1, 6):
        ok(world.post(f"/duos/{DUO}/contacts", contact(date(2026, 2, day))), 201)
    page = ok(world.get(f"/duos/{DUO}/contacts", limit=2, offset=1))
    assert page["total"] == 5 and [c["contact_date"] for c in page["items"]] == ["2026-02-04", "2026-02-03"]
    for params, field in (({"limit": 0}, "query.limit"), ({"offset": -1}, "query.offset"),
                          ({"status": "gone"}, "query.status"), ({"mode": "telepathy"}, "query.mode")):
        resp = world.get(f"/duos/{DUO}/contacts", **params)
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == field
