"""Case rules of follow-up through its HTTP API: consent to be called after the duo, and the
Today list's alert when a buddy's screening for minors lapses while a duo with a child, youth
or family runs.

Matching's events come from its stand-in over the real bus; recruitment's legal items are
handed to follow-up's subscriber as its consumer would (inside a transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.contracts import recruitment as rc
from shared.contracts.matching import Consent, ParticipantReferred
from shared.events.envelope import Actor, Envelope, Role
from tests.integration.test_followup_support import (
    PRO,
    PROJECT,
    FakeMatching,
    clock_at,
    followup_settings,
    make_app,
    matching,  # noqa: F401  (fixture)
    ok,
    wait_consumed,
)

TODAY = date(2026, 3, 2)
STARTED = date(2026, 1, 5)
CALLED = ["matching", "data_processing", "followup_contact"]


class Case:
    def __init__(self, client: TestClient, app: Any, fake: FakeMatching) -> None:
        self.client, self.app, self.fake = client, app, fake
        self.position = 0

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=PRO, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, json=body, headers=PRO)

    def sync(self) -> None:
        self.fake.publish_now()
        wait_consumed(self.app, self.fake.head())

    def refer(self, participant_id: str, target_group: str, scopes: list[str]) -> None:
        self.fake._append(participant_id, ParticipantReferred(
            participant_id=participant_id, project_id=PROJECT, target_group=target_group, referrer_type="self",
            life_domains=["isolation"], municipality_nis="11002", consent_recorded=True,
            consent=Consent(scopes=scopes)), PROJECT)

    def legal(self, volunteer_id: str, item: str, dated: date, valid_until: date | None = None) -> None:
        """Recruitment's VolunteerLegalItemRecorded, applied as follow-up's consumer applies it."""
        self.position += 1
        event = rc.VolunteerLegalItemRecorded(volunteer_id=volunteer_id, project_id=PROJECT, item=item, dated=dated,
                                              valid_until=valid_until)
        runtime = self.app.state.runtime
        env = Envelope(event_id=uuid.uuid4(), type=event.event_type, schema_version=event.schema_version,
                       service="recruitment", stream_type="volunteer", stream_id=volunteer_id, version=self.position,
                       position=self.position, occurred_at=runtime.clock.now(), recorded_at=runtime.clock.now(),
                       project_id=PROJECT, actor=Actor(id="pro-1", role=Role.professional),
                       correlation_id=uuid.uuid4(), payload=event.model_dump(mode="json"))
        with runtime.engine.begin() as conn:
            runtime.handler(conn, env)

    def today_items(self, kind: str) -> list[dict[str, Any]]:
        return [i for i in ok(self.get(f"/projects/{PROJECT}/today"))["items"] if i["kind"] == kind]


@pytest.fixture
def case(settings_factory, database_url: str, matching: FakeMatching) -> Iterator[Case]:  # noqa: F811
    app = make_app(followup_settings(settings_factory, database_url), clock_at(TODAY))
    with TestClient(app) as client:
        yield Case(client, app, matching)


# ----------------------------------------------------------------------------- consent
def test_a_call_is_not_completed_as_reached_without_consent(case: Case) -> None:
    case.refer("pt-yes", "individual_adult", CALLED)
    case.refer("pt-later-no", "individual_adult", CALLED)
    for duo, participant in (("d-yes", "pt-yes"), ("d-later-no", "pt-later-no")):
        case.fake.start(duo, volunteer_id=f"v-{duo}", participant_id=participant, started_on=STARTED)
        case.fake.end(duo, volunteer_id=f"v-{duo}", participant_id=participant, ended_on=STARTED + timedelta(days=20))
    case.sync()
    answers = {"still_in_contact_with_buddy": True, "network_change": "grown", "wellbeing": 7}
    ok(case.post("/follow-up-calls/call-d-yes-3m/completion",
                 {"outcome": "reached", "completed_on": TODAY.isoformat(), "answers": answers}))

    # Consent withdrawn before the call: the calls still to be made are cancelled ...
    case.fake.consent("pt-later-no", ["matching", "data_processing"])
    case.sync()
    calls = ok(case.get(f"/projects/{PROJECT}/follow-up-calls", duo_id="d-later-no"))["items"]
    assert [(c["status"], c["consent_to_call"]) for c in calls] == [("cancelled", False)] * 3
    assert all(c["call_id"] != "call-d-later-no-3m" for c in ok(case.get(
        f"/projects/{PROJECT}/follow-up-calls/overdue"))["items"])
    # ... and none of them can be completed, with answers or without.
    refused = case.post("/follow-up-calls/call-d-later-no-3m/completion",
                        {"outcome": "reached", "completed_on": TODAY.isoformat(), "answers": answers})
    assert refused.status_code == 409 and "consent" in refused.json()["detail"]
    refused = case.post("/follow-up-calls/call-d-later-no-6m/attempts", {"attempted_on": TODAY.isoformat()})
    assert refused.status_code == 409 and "geannuleerd" in refused.json()["detail"]
    # The call already made stays as it was.
    done = ok(case.get("/follow-up-calls/call-d-yes-3m"))
    assert (done["status"], done["outcome"]) == ("completed", "reached")


def test_who_never_agreed_to_be_called_gets_no_calls_and_no_reached_call(case: Case) -> None:
    case.refer("pt-no", "individual_adult", ["matching", "data_processing"])
    case.fake.start("d-no", volunteer_id="v-no", participant_id="pt-no", started_on=STARTED)
    case.fake.end("d-no", volunteer_id="v-no", participant_id="pt-no", ended_on=STARTED + timedelta(days=20))
    case.sync()
    assert ok(case.get(f"/projects/{PROJECT}/follow-up-calls", duo_id="d-no"))["total"] == 0
    # Consent given later does not bring back calls that were never due, and a withdrawal
    # after a later duo cancels that duo's calls.
    case.fake.consent("pt-no", CALLED)
    case.fake.start("d-no-2", volunteer_id="v-no", participant_id="pt-no", started_on=STARTED + timedelta(days=21))
    case.fake.end("d-no-2", volunteer_id="v-no", participant_id="pt-no", ended_on=STARTED + timedelta(days=30))
    case.sync()
    assert ok(case.get(f"/projects/{PROJECT}/follow-up-calls", duo_id="d-no-2", status="scheduled"))["total"] == 3
    case.fake.consent("pt-no", [])
    case.sync()
    assert ok(case.get(f"/projects/{PROJECT}/follow-up-calls", duo_id="d-no-2", status="cancelled"))["total"] == 3
    feed = ok(case.client.get("/events", headers={"Authorization": "Bearer dev-auditor"}, params={"after": 0}))
    assert [e["payload"]["reason"] for e in feed["events"] if e["type"] == "FollowUpCallCancelled"] == \
        ["consent_withdrawn"] * 3


# ----------------------------------------------------------------------------- screening during a duo
def test_an_extract_that_expires_during_a_duo_with_a_family_raises_an_alert_on_today(case: Case) -> None:
    case.refer("pt-family", "family", CALLED)
    case.refer("pt-adult", "individual_adult", CALLED)
    case.fake.start("d-family", volunteer_id="v-fam", participant_id="pt-family", started_on=STARTED)
    case.fake.start("d-adult", volunteer_id="v-adult", participant_id="pt-adult", started_on=STARTED)
    case.sync()
    extract_on = TODAY - timedelta(days=300)
    for volunteer in ("v-fam", "v-adult"):
        case.legal(volunteer, "criminal_record_extract", extract_on)
        case.legal(volunteer, "insurance", extract_on)
    assert case.today_items("screening") == []  # 65 days left: nothing yet

    clock = case.app.state.runtime.clock
    clock.set(clock_at(TODAY + timedelta(days=40)).now())  # 25 days left: a notice
    [soon] = case.today_items("screening")
    last = (extract_on + timedelta(days=365)).isoformat()
    assert (soon["duo_id"], soon["item"], soon["state"], soon["last_valid_day"], soon["days"]) == (
        "d-family", "criminal_record_extract", "expiring", last, 25)
    assert last in soon["message"]["nl"] and last in soon["message"]["en"]

    clock.set(clock_at(TODAY + timedelta(days=70)).now())  # lapsed five days ago
    body = ok(case.get(f"/projects/{PROJECT}/today"))
    [lapsed] = [i for i in body["items"] if i["kind"] == "screening"]
    assert (lapsed["state"], lapsed["days"], lapsed["volunteer_id"]) == ("expired", 5, "v-fam")
    assert body["items"][0] == lapsed  # the most urgent first
    assert body["counts"]["screening"] == 1 and body["counts"]["check_in"] == 2  # no contacts logged: both overdue
    assert "model 2" in lapsed["message"]["en"]

    # Insurance ending sooner than the extract is what lapses first.
    case.legal("v-fam", "criminal_record_extract", clock.today())
    case.legal("v-fam", "insurance", clock.today() - timedelta(days=10), valid_until=clock.today() - timedelta(days=1))
    [lapsed] = case.today_items("screening")
    assert (lapsed["item"], lapsed["state"]) == ("insurance", "expired")
    case.legal("v-fam", "insurance", clock.today())
    assert case.today_items("screening") == []

    # A paused duo still runs; an ended one is no longer on the list.
    case.legal("v-fam", "insurance", clock.today(), valid_until=clock.today() - timedelta(days=0))
    case.fake.pause("d-family", clock.today())
    case.sync()
    clock.advance(days=2)
    assert [i["duo_id"] for i in case.today_items("screening")] == ["d-family"]
    case.fake.end("d-family", volunteer_id="v-fam", participant_id="pt-family", ended_on=clock.today())
    case.sync()
    assert case.today_items("screening") == []


def test_today_counts_in_belgian_days(case: Case) -> None:
    """A call due on 2 June is overdue from midnight in Brussels, not from midnight UTC."""
    case.refer("pt-b", "individual_adult", CALLED)
    case.fake.start("d-b", volunteer_id="v-b", participant_id="pt-b", started_on=date(2026, 1, 5))
    case.fake.end("d-b", volunteer_id="v-b", participant_id="pt-b", ended_on=date(2026, 3, 1))
    case.sync()
    clock = case.app.state.runtime.clock
    from datetime import UTC, datetime
    clock.set(datetime(2026, 6, 1, 21, 59, tzinfo=UTC))  # 23:59 in Brussels (summer time), 1 June
    assert case.today_items("follow_up_call") == []
    clock.set(datetime(2026, 6, 1, 22, 0, tzinfo=UTC))  # 00:00 on 2 June in Brussels, still 1 June in UTC
    [call] = case.today_items("follow_up_call")
    assert (call["call_id"], call["due_on"], call["days"]) == ("call-d-b-3m", "2026-06-01", 1)
    assert ok(case.get(f"/projects/{PROJECT}/today"))["today"] == "2026-06-02"
