"""The matching API in process (``build(settings, clock=...)`` + TestClient) on a real Redis.

Recruitment is not running: its events are handed to matching's subscriber exactly as
the consumer would (``on_event`` inside a transaction). Every command and query on the
happy path, and the refusals: 401 without a token, 403 for another project, 404 for
unknown ids, 409 for a transition or a broken hard constraint (a sentence in Dutch and
English), 422 naming the fields of bad input. Never a 500: the TestClient re-raises.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.clock import FixedClock
from shared.contracts import recruitment as rc
from shared.contracts.common import MatchingPreferences
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import EventStore
from shared.eventstore.db import reader
from shared.settings import Settings
from services.matching import projection
from services.matching.bootstrap import build
from services.matching.config import MatchingSettings
from services.matching.read_models import duos, participant_names, participants, weights
from services.matching.subscribers import on_event

ADMIN, PRO, PRO_OTHER, COORDINATOR, BUDDY = (
    "dev-admin", "dev-professional", "dev-professional-other", "dev-coordinator", "dev-buddy")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NO_FEEDS = {"recruitment": "http://127.0.0.1:9"}  # recruitment is not running; its catch-up fails quietly
P = "demo-antwerpen"
OTHER = "demo-brugge"


class MT:
    """A TestClient on the matching app, with recruitment's events delivered by hand."""

    def __init__(self, client: TestClient, clock: FixedClock) -> None:
        self.client, self.clock = client, clock
        self.position = 0

    @property
    def runtime(self):  # type: ignore[no-untyped-def]
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    @property
    def today(self) -> str:
        return self.clock.today().isoformat()

    def deliver(self, event: Any, event_type: str | None = None, payload: dict[str, Any] | None = None,
                occurred_at: datetime | None = None) -> None:
        """Deliver one of recruitment's events; ``occurred_at``: the day it happened, if entered after the fact."""
        self.position += 1
        env = Envelope(
            event_id=uuid.uuid4(), type=event_type or event.event_type,
            schema_version=event.schema_version if event is not None else 1, service="recruitment",
            stream_type=event.stream_type if event is not None else "project",
            stream_id=getattr(event, "volunteer_id", None) or getattr(event, "project_id", "x"), version=1,
            position=self.position, occurred_at=occurred_at or self.clock.now(), recorded_at=self.clock.now(), project_id=P,
            actor=Actor(id="pro-1", role=Role.professional), correlation_id=uuid.uuid4(),
            payload=payload if payload is not None else event.model_dump(mode="json"))
        with self.runtime.engine.begin() as conn:
            on_event(conn, env)

    def project(self, project_id: str = P, target_groups: tuple[str, ...] = ("individual_adult", "family")) -> None:
        self.deliver(rc.ProjectRegistered(project_id=project_id, name="P", organisation="O", municipality_nis="11002",
                                          region="antwerpen-kempen", target_groups=list(target_groups)))

    def volunteer(self, volunteer_id: str, project_id: str = P, *, nis: str = "11002", cleared: bool = True,
                  available_on: date | None = None, **prefs: Any) -> str:
        """A volunteer made available; ``cleared``: with a recent extract (model 2) and insurance on file."""
        self.deliver(rc.VolunteerEnquiryReceived(volunteer_id=volunteer_id, project_id=project_id, channel="website",
                                                 municipality_nis=nis))
        if cleared:
            self.legal(volunteer_id, "criminal_record_extract", self.clock.today() - timedelta(days=10), project_id)
            self.legal(volunteer_id, "insurance", self.clock.today() - timedelta(days=10), project_id)
        prefs.setdefault("target_groups", ["individual_adult"])
        self.deliver(rc.VolunteerMadeAvailable(volunteer_id=volunteer_id, project_id=project_id,
                                               preferences=MatchingPreferences(**prefs)),
                     occurred_at=datetime.combine(available_on, time.min, tzinfo=UTC) if available_on else None)
        return volunteer_id

    def legal(self, volunteer_id: str, item: str, dated: Any, project_id: str = P, valid_until: Any = None) -> None:
        self.deliver(rc.VolunteerLegalItemRecorded(volunteer_id=volunteer_id, project_id=project_id, item=item,
                                                   dated=dated, valid_until=valid_until))

    def call(self, method: str, path: str, token: str | None = PRO, body: Any = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        if body is not None:
            kwargs["json"] = body
        return self.client.request(method, path, **kwargs)

    def get(self, path: str, token: str | None = PRO, **params: Any) -> httpx.Response:
        return self.call("GET", path, token, **params)

    def post(self, path: str, body: Any = None, token: str | None = PRO) -> httpx.Response:
        return self.call("POST", path, token, body)

    @staticmethod
    def ok(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
        return resp.json()

    def refer(self, project_id: str = P, token: str = PRO, **body: Any) -> str:
        payload = {"target_group": "individual_adult", "referrer_type": "social_services", "life_domains": ["isolation"],
                   "municipality_nis": "11002", "consent_recorded": True,
                   "personal": {"first_name": "Test", "last_name": "Deelnemer"}}
        payload.update(body)
        return self.ok(self.post(f"/projects/{project_id}/participants", payload, token), 201)["participant_id"]

    def propose(self, volunteer_id: str, participant_id: str, project_id: str = P) -> str:
        return self.ok(self.post(f"/projects/{project_id}/proposals",
                                 {"volunteer_id": volunteer_id, "participant_id": participant_id}), 201)["duo_id"]

    def both_accept(self, duo_id: str) -> None:
        for party in ("volunteer", "participant"):
            self.ok(self.post(f"/duos/{duo_id}/acceptance", {"party": party}))

    def match(self, volunteer_id: str, participant_id: str, **kick_off: Any) -> str:
        duo_id = self.propose(volunteer_id, participant_id)
        self.both_accept(duo_id)
        self.ok(self.post(f"/duos/{duo_id}/start", {"started_on": self.today, **kick_off}))
        return duo_id

    def pool(self, **params: Any) -> dict[str, dict[str, Any]]:
        return {c["volunteer_id"]: c for c in self.ok(self.get(f"/projects/{P}/candidates", **params))["candidates"]}

    def participant(self, participant_id: str) -> dict[str, Any]:
        return self.ok(self.get(f"/participants/{participant_id}"))


def refused(resp: httpx.Response, status: int, *, mentions: str | None = None, fields: list[str] | None = None) -> dict[str, Any]:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    body = resp.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if status in (404, 409):
        assert re.search(r"\S.* / .*\S", body["detail"]), f"not 'Dutch / English': {body['detail']}"
    if mentions:
        assert mentions.lower() in body["detail"].lower(), body["detail"]
    if fields:
        named = {e["field"] for e in body.get("errors", [])}
        assert set(fields) <= named, (fields, body)
    return body


@pytest.fixture
def make(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., MT]]:
    clients: list[TestClient] = []

    def factory(config: MatchingSettings | None = None, **settings: Any) -> MT:
        clock = FixedClock(START)
        app = build(settings_factory(service_urls=NO_FEEDS, **settings), config=config, clock=clock)
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return MT(client, clock)

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def mt(make: Callable[..., MT]) -> MT:
    m = make()
    m.project()
    m.project(OTHER)
    return m


# ---------------------------------------------------------------------------- the whole journey
def test_from_referral_through_a_mismatch_to_a_new_duo(make: Callable[..., MT], database_url: str) -> None:
    """The lifecycle on SQLite and PostgreSQL: pool, suggestions, proposal, kick-off, pause, mismatch, again."""
    mt = make(database_url=database_url)
    mt.project()
    mt.volunteer("v-near", interests=["cooking", "walking"], availability=[{"day": "mon", "part": "evening"}])
    mt.volunteer("v-far", nis="13040", interests=["music"], travel="same_province")
    mt.clock.advance(days=30)
    pid = mt.refer(interests=["cooking"], availability=[{"day": "mon", "part": "evening"}], wishes=["company"],
                   languages=["nl", "ar"], personal={"first_name": "Émile", "last_name": "Dupont-Claes"})
    mt.clock.advance(days=10)

    ranked = mt.ok(mt.get(f"/participants/{pid}/suggestions"))
    assert [s["volunteer_id"] for s in ranked["suggestions"]] == ["v-near", "v-far"]
    why = {c["criterion"]: c["explanation"] for c in ranked["suggestions"][0]["criteria"]}
    assert why["interests"] == {"nl": "1 gedeelde interesse(s): koken", "en": "1 shared interest(s): cooking"}
    assert why["participant_waiting"]["en"] == "The participant has been waiting 10 day(s)"

    waiting = mt.ok(mt.get(f"/projects/{P}/waiting-list"))
    assert waiting["total"] == 1 and waiting["waiting"][0]["waiting_days"] == 10
    assert [s["volunteer_id"] for s in waiting["waiting"][0]["suggestions"]] == ["v-near", "v-far"]
    assert waiting["waiting"][0]["suggestions"][0]["why"]["nl"]

    duo_id = mt.propose("v-near", pid)
    assert mt.participant(pid)["status"] == "proposed"
    assert mt.pool()["v-near"]["capacity_left"] == 0  # the proposal holds the place
    refused(mt.post(f"/duos/{duo_id}/start", {"started_on": mt.today}), 409, mentions="not yet accepted by")
    mt.both_accept(duo_id)
    started = mt.ok(mt.post(f"/duos/{duo_id}/start", {"started_on": mt.today, "agreed_contacts_per_month": 3,
                                                      "expected_duration_months": 12,
                                                      "boundary_agreements": "Geen geld lenen; niet na 21u bellen."}))
    assert started["status"] == "active" and started["accepted_by"] == ["participant", "volunteer"]
    assert mt.participant(pid)["status"] == "in_duo"
    duo = mt.ok(mt.get(f"/duos/{duo_id}"))
    assert duo["boundary_agreements"] == "Geen geld lenen; niet na 21u bellen." and duo["after_proposal"] is True
    # the agreements are sealed, never in a published payload
    assert all("geld" not in str(s.envelope.payload) for s in mt.runtime.store.load(duo_id))

    mt.clock.advance(days=20)
    mt.ok(mt.post(f"/duos/{duo_id}/pause", {"paused_on": mt.today, "reason": "illness"}))
    refused(mt.post(f"/duos/{duo_id}/pause", {"paused_on": mt.today}), 409, mentions="already paused")
    mt.clock.advance(days=7)
    mt.ok(mt.post(f"/duos/{duo_id}/resume", {"resumed_on": mt.today}))
    mt.clock.advance(days=7)
    ended = mt.ok(mt.post(f"/duos/{duo_id}/end", {"ended_on": mt.today, "reason": "mismatch", "planned": False}))
    assert ended["status"] == "ended"

    # a mismatch: back on the waiting list, waiting anew; the volunteer's place is free again
    back = mt.participant(pid)
    assert back["status"] == "waiting" and back["times_returned"] == 1 and back["waiting_days"] == 0
    freed = mt.pool()["v-near"]
    assert freed["capacity_left"] == 1 and freed["waiting_days"] == 0  # waits again from the end of the duo
    assert mt.pool()["v-far"]["waiting_days"] == 74
    again = mt.ok(mt.get(f"/participants/{pid}/suggestions", include_excluded="true"))
    assert [s["volunteer_id"] for s in again["suggestions"]] == ["v-far"]  # not the same pair twice
    assert {"v-near": ["tried_before"]} == {e["volunteer_id"]: [v["code"] for v in e["violations"]]
                                             for e in again["excluded"]}
    refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-near", "participant_id": pid}), 409,
            mentions="did not work out")
    second = mt.match("v-far", pid)
    assert mt.ok(mt.get(f"/projects/{P}/duos", status="active"))["duos"][0]["duo_id"] == second
    history = mt.ok(mt.get(f"/projects/{P}/duos", participant_id=pid))
    assert history["total"] == 2


def test_the_pool_follows_recruitment(mt: MT) -> None:
    mt.volunteer("v-1", languages=["nl", "fr"], max_duos=2, interests=["sport"])
    assert mt.pool()["v-1"]["capacity_left"] == 2
    mt.deliver(rc.VolunteerPreferencesChanged(volunteer_id="v-1", project_id=P, preferences=MatchingPreferences(
        target_groups=["family"], languages=["fr"], max_duos=1, municipality_nis="44021", travel="anywhere")))
    changed = mt.pool()["v-1"]
    assert (changed["languages"], changed["target_groups"], changed["municipality_nis"], changed["travel"],
            changed["max_duos"]) == (["fr"], ["family"], "44021", "anywhere", 1)
    mt.deliver(rc.VolunteerPaused(volunteer_id="v-1", project_id=P))
    assert "v-1" not in mt.pool() and mt.pool(status="paused")["v-1"]["status"] == "paused"
    mt.deliver(rc.VolunteerResumed(volunteer_id="v-1", project_id=P))
    assert mt.pool()["v-1"]["status"] == "available"
    mt.deliver(None, "SomethingRecruitmentAddsLater", {"whatever": 1})  # unknown types are skipped
    mt.deliver(rc.VolunteerStopped(volunteer_id="v-1", project_id=P, reason="no_time"))
    assert "v-1" not in mt.pool() and mt.pool(status="all")["v-1"]["status"] == "stopped"
    mt.deliver(rc.VolunteerEnquiryReceived(volunteer_id="v-2", project_id=P, channel="website", municipality_nis="11002"))
    assert mt.pool(status="enquired")["v-2"]["max_duos"] == 0
    page = mt.ok(mt.get(f"/projects/{P}/candidates", status="all", limit=1, offset=1))
    assert page["total"] == 2 and len(page["candidates"]) == 1


def test_capacity_is_never_exceeded_and_a_decline_frees_the_place(mt: MT) -> None:
    mt.volunteer("v-1", max_duos=1)
    first, second = mt.refer(), mt.refer()
    duo_id = mt.propose("v-1", first)
    refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-1", "participant_id": second}), 409, mentions="no room")
    refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-1", "participant_id": second, "started_on": mt.today}),
            409, mentions="no room")
    declined = mt.ok(mt.post(f"/duos/{duo_id}/decline", {"party": "participant", "reason": "no_click"}))
    assert declined["status"] == "declined"
    assert mt.participant(first)["status"] == "waiting"
    assert mt.pool()["v-1"]["capacity_left"] == 1
    refused(mt.post(f"/duos/{duo_id}/acceptance", {"party": "volunteer"}), 409, mentions="only an open proposal")
    mt.match("v-1", second)
    assert mt.pool()["v-1"]["capacity_left"] == 0
    assignment = mt.ok(mt.get(f"/projects/{P}/assignment"))
    assert assignment["assigned"] == 0 and assignment["unassigned"][0]["participant_id"] == first
    assert assignment["unassigned"][0]["feasible_volunteers"] == 0


def test_hard_constraints_are_refused_with_their_reasons(mt: MT) -> None:
    mt.volunteer("v-fr", languages=["fr"], target_groups=["family"], travel="same_municipality", nis="11001")
    pid = mt.refer(languages=["nl"], consent_recorded=False)
    body = refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-fr", "participant_id": pid}), 409)
    for reason in ("consent", "target group", "share no language", "further away"):
        assert reason in body["detail"], body["detail"]
    assert mt.ok(mt.get(f"/participants/{pid}/suggestions"))["total"] == 0
    excluded = mt.ok(mt.get(f"/participants/{pid}/suggestions", include_excluded="true"))["excluded"]
    assert {v["code"] for v in excluded[0]["violations"]} == {"consent", "target_group", "common_language", "travel_range"}
    # consent recorded later makes the participant matchable
    mt.volunteer("v-nl")
    assert mt.ok(mt.get(f"/participants/{pid}/suggestions"))["total"] == 0
    recorded = mt.ok(mt.post(f"/participants/{pid}/consent", {"scopes": ["matching", "data_processing",
                                                                         "followup_contact"]}))
    assert recorded["version"] == 2
    view = mt.participant(pid)
    assert view["consent"] == {"allows_matching": True, "scopes": ["matching", "data_processing", "followup_contact"],
                               "given_on": mt.today, "recorded_by": PRO}
    assert [s["volunteer_id"] for s in mt.ok(mt.get(f"/participants/{pid}/suggestions"))["suggestions"]] == ["v-nl"]


def test_an_intake_can_be_required_before_matching(make: Callable[..., MT]) -> None:
    mt = make(config=MatchingSettings(require_intake=True))
    mt.project()
    mt.volunteer("v-1")
    pid = mt.refer()
    refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-1", "participant_id": pid}), 409, mentions="no intake")
    mt.ok(mt.post(f"/participants/{pid}/intake", {"held_on": mt.today, "notes": "Wil graag wandelen in het park."}))
    view = mt.participant(pid)
    assert view["intake_held_on"] == mt.today and view["intakes"] == [{"held_on": mt.today,
                                                                      "notes": "Wil graag wandelen in het park."}]
    mt.propose("v-1", pid)


def test_waiting_list_longest_first_paginated_and_filtered(mt: MT) -> None:
    mt.volunteer("v-1", target_groups=["individual_adult", "family"])
    ids = []
    for i in range(5):
        ids.append(mt.refer(target_group="family" if i % 2 else "individual_adult"))
        mt.clock.advance(days=1)
    first = mt.ok(mt.get(f"/projects/{P}/waiting-list", limit=2))
    assert first["total"] == 5 and [w["participant_id"] for w in first["waiting"]] == ids[:2]
    assert [w["waiting_days"] for w in first["waiting"]] == [5, 4]
    rest = mt.ok(mt.get(f"/projects/{P}/waiting-list", limit=2, offset=4))
    assert [w["participant_id"] for w in rest["waiting"]] == ids[4:]
    families = mt.ok(mt.get(f"/projects/{P}/waiting-list", target_group="family", suggestions=0))
    assert [w["participant_id"] for w in families["waiting"]] == [ids[1], ids[3]]
    assert families["waiting"][0]["suggestions"] == []
    mt.propose("v-1", ids[0])
    assert mt.ok(mt.get(f"/projects/{P}/waiting-list"))["total"] == 4
    assert mt.ok(mt.get(f"/projects/{P}/waiting-list", include_proposed="true"))["total"] == 5
    listed = mt.ok(mt.get(f"/projects/{P}/participants", status=["waiting", "proposed"], limit=10))
    assert listed["total"] == 5
    refused(mt.get(f"/projects/{P}/waiting-list", limit=0), 422, fields=["query.limit"])
    refused(mt.get(f"/projects/{P}/participants", status="asleep"), 422, fields=["query.status.0"])


def test_overall_assignment_respects_capacities_and_beats_greedy(mt: MT) -> None:
    # Greedy (longest waiting first) gives the first participant the shared favourite; the solver does better.
    mt.volunteer("v-both", interests=["cooking", "music"], max_duos=1)
    mt.volunteer("v-cook", interests=["cooking"], max_duos=2)
    mt.clock.advance(days=1)
    a = mt.refer(interests=["cooking", "music"])
    b = mt.refer(interests=["music"], languages=["nl"])
    c = mt.refer(interests=["cooking"])
    result = mt.ok(mt.get(f"/projects/{P}/assignment"))
    assert result["solver"] == "scipy.optimize.linear_sum_assignment"
    assert result["capacity"] == 3 and result["assigned"] == 3
    assert result["total_score"] >= result["greedy_total_score"]
    load: dict[str, int] = {}
    for pair in result["pairs"]:
        load[pair["volunteer_id"]] = load.get(pair["volunteer_id"], 0) + 1
        assert pair["criteria"] and pair["score"] > 0
    assert load == {"v-both": 1, "v-cook": 2}
    assert {p["participant_id"] for p in result["pairs"]} == {a, b, c}
    assert len(mt.ok(mt.get(f"/projects/{P}/assignment", limit=1))["pairs"]) == 1


def test_weights_per_project_are_events_with_configured_defaults(make: Callable[..., MT]) -> None:
    mt = make(config=MatchingSettings(weight_distance=7))
    mt.project()
    defaults = mt.ok(mt.get(f"/projects/{P}/weights"))
    assert defaults["source"] == "default" and defaults["weights"]["distance"] == 7
    chosen = {"interests": 1, "availability": 0, "distance": 5, "volunteer_waiting": 0, "participant_waiting": 4}
    put = mt.ok(mt.call("PUT", f"/projects/{P}/weights", PRO, chosen))
    assert put["source"] == "project" and put["set_by"] == PRO and put["weights"] == {k: float(v) for k, v in chosen.items()}
    assert mt.ok(mt.call("PUT", f"/projects/{P}/weights", PRO, chosen))["set_at"] == put["set_at"]  # no change, no event
    [stored] = mt.runtime.store.load(f"weights:{P}")
    assert stored.envelope.type == "MatchingWeightsSet"
    refused(mt.call("PUT", f"/projects/{P}/weights", PRO, {k: 0 for k in chosen}), 422)
    refused(mt.call("PUT", f"/projects/{P}/weights", PRO, {**chosen, "distance": 11}), 422, fields=["distance"])
    refused(mt.call("PUT", f"/projects/{P}/weights", PRO_OTHER, chosen), 403)
    mt.volunteer("v-1")
    pid = mt.refer()
    assert mt.ok(mt.get(f"/participants/{pid}/suggestions"))["weights"]["distance"] == 5


def test_withdrawal_return_and_erasure(mt: MT) -> None:
    mt.volunteer("v-1")
    pid = mt.refer(personal={"first_name": "Ottoline", "last_name": "Fizzlewick", "phone": "+32 488 27 18 28"})
    other = mt.refer(personal={"first_name": "Bob", "last_name": "Fizzlewick"})
    found = mt.ok(mt.get(f"/projects/{P}/participants", name="fizzlewick"))
    assert {p["participant_id"] for p in found["participants"]} == {pid, other}
    assert [p["participant_id"] for p in mt.ok(mt.get(f"/projects/{P}/participants", name="OTTOLINE fizzlewick"))
            ["participants"]] == [pid]
    duo_id = mt.match("v-1", pid, boundary_agreements="Ottoline belt nooit na 21u.")
    refused(mt.post(f"/participants/{pid}/withdrawal", {"reason": "moved", "withdrawn_on": mt.today}), 409,
            mentions="running duo")
    refused(mt.post(f"/participants/{pid}/erasure"), 409, mentions="running duo")
    mt.ok(mt.post(f"/duos/{duo_id}/end", {"ended_on": mt.today, "reason": "goals_reached", "planned": True}))
    assert mt.participant(pid)["status"] == "finished"
    assert mt.ok(mt.post(f"/participants/{pid}/waiting-list", {"reason": "new_request"}))["status"] == "waiting"
    withdrawn = mt.ok(mt.post(f"/participants/{pid}/withdrawal", {"reason": "other_support_found",
                                                                  "withdrawn_on": mt.today}))
    assert withdrawn["status"] == "withdrawn"
    refused(mt.post(f"/participants/{pid}/withdrawal", {"reason": "moved", "withdrawn_on": mt.today}), 409,
            mentions="already withdrawn")
    erased = mt.ok(mt.post(f"/participants/{pid}/erasure"))
    assert erased["personal_data_erased"] is True
    view = mt.participant(pid)
    assert view["personal"] is None and view["personal_data_erased"] is True
    assert mt.ok(mt.get(f"/duos/{duo_id}"))["boundary_agreements"] is None  # sealed under the participant's key
    assert mt.runtime.vault.is_erased(pid)
    assert [p["participant_id"] for p in mt.ok(mt.get(f"/projects/{P}/participants", name="fizzlewick"))
            ["participants"]] == [other]
    refused(mt.post(f"/participants/{pid}/erasure"), 409, mentions="already erased")
    refused(mt.post(f"/participants/{pid}/waiting-list", {"reason": "other"}), 409, mentions="erased")
    assert mt.runtime.store.verify().ok


def test_project_scoping_and_authentication(mt: MT) -> None:
    mt.volunteer("v-1")
    pid = mt.refer()
    duo_id = mt.propose("v-1", pid)
    reads = [f"/projects/{P}/candidates", f"/projects/{P}/waiting-list", f"/projects/{P}/participants",
             f"/projects/{P}/assignment", f"/projects/{P}/weights", f"/projects/{P}/duos", f"/participants/{pid}",
             f"/participants/{pid}/suggestions", f"/duos/{duo_id}"]
    writes = [(f"/projects/{P}/participants", {}), (f"/projects/{P}/proposals", {}), (f"/duos/{duo_id}/acceptance", {}),
              (f"/participants/{pid}/intake", {}), (f"/participants/{pid}/erasure", None)]
    for path in reads:
        refused(mt.get(path, None), 401, mentions="not signed in")
        refused(mt.get(path, "no-such-token"), 401)
        for token in (PRO_OTHER, COORDINATOR, BUDDY):
            refused(mt.get(path, token), 403)
        assert mt.get(path, ADMIN).status_code == 200
    for path, body in writes:
        refused(mt.post(path, body, None), 401)
    refused(mt.post(f"/duos/{duo_id}/acceptance", {"party": "volunteer"}, PRO_OTHER), 403)
    refused(mt.post(f"/participants/{pid}/withdrawal", {"reason": "moved", "withdrawn_on": mt.today}, PRO_OTHER), 403)
    refused(mt.post(f"/projects/{OTHER}/participants", {"target_group": "family", "referrer_type": "self",
                                                        "life_domains": ["other"], "municipality_nis": "31005",
                                                        "consent_recorded": True,
                                                        "personal": {"first_name": "A", "last_name": "B"}}), 403)
    # a volunteer of another project is unknown here
    mt.volunteer("v-brugge", OTHER)
    refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-brugge", "participant_id": pid}), 404,
            mentions="v-brugge")
    assert mt.get("/vocabularies", None).status_code == 401
    vocab = mt.ok(mt.get("/vocabularies"))
    assert vocab["decline_reason"]["no_click"] == {"nl": "geen klik", "en": "no click"}
    assert set(vocab) >= {"referrer_type", "life_domain", "wish", "interest", "end_reason", "withdrawal_reason",
                          "consent_scope", "pause_reason", "target_group"}


def test_unknown_ids_and_bad_input(mt: MT) -> None:
    for resp in (mt.get("/participants/pt-nope"), mt.get("/participants/pt-nope/suggestions"), mt.get("/duos/d-nope"),
                 mt.post("/duos/d-nope/acceptance", {"party": "volunteer"}),
                 mt.post("/duos/d-nope/start", {"started_on": mt.today}),
                 mt.post("/participants/pt-nope/withdrawal", {"reason": "moved", "withdrawn_on": mt.today}),
                 mt.post("/participants/pt-nope/erasure"), mt.get("/projects/p-nope/waiting-list", ADMIN),
                 mt.get("/projects/p-nope/assignment", ADMIN), mt.get("/projects/p-nope/weights", ADMIN),
                 mt.post("/projects/p-nope/proposals", {"volunteer_id": "v-1", "participant_id": "pt-1"}, ADMIN)):
        assert refused(resp, 404)["code"] == "not_found"
    for resp in (mt.get("/participants/" + "x" * 3000), mt.get("/participants/pt%20nope"), mt.get("/duos/d-%00x")):
        assert refused(resp, 422)["errors"][0]["field"] in ("path.participant_id", "path.duo_id")  # no id looks so
    pid = mt.refer()
    cases = [
        (f"/projects/{P}/participants", {"target_group": "pets"}, ["target_group"]),
        (f"/projects/{P}/participants", {"target_group": "family", "referrer_type": "self", "life_domains": ["other"],
                                         "municipality_nis": "11002", "consent_recorded": True, "languages": ["dutch"],
                                         "interests": ["knitting"], "availability": [{"day": "funday", "part": "noon"}],
                                         "personal": {"first_name": "A", "last_name": "B"}},
         ["languages.0", "interests.0", "availability.0.day", "availability.0.part"]),
        (f"/projects/{P}/proposals", {"volunteer_id": "x y", "participant_id": pid}, ["volunteer_id"]),
        (f"/participants/{pid}/intake", {"held_on": "soon"}, ["held_on"]),
        (f"/participants/{pid}/consent", {"scopes": ["everything"]}, ["scopes.0"]),
        (f"/participants/{pid}/withdrawal", {"reason": "bored", "withdrawn_on": mt.today}, ["reason"]),
        (f"/participants/{pid}/waiting-list", {"reason": "because"}, ["reason"]),
        ("/duos/d-x/decline", {"party": "neighbour", "reason": "hates_dogs"}, ["party", "reason"]),
        ("/duos/d-x/start", {"started_on": mt.today, "agreed_contacts_per_month": 0, "boundary_agreements": "x" * 5001},
         ["agreed_contacts_per_month", "boundary_agreements"]),
        ("/duos/d-x/pause", {"paused_on": mt.today, "reason": "boredom"}, ["reason"]),
    ]
    for path, body, fields in cases:
        refused(mt.post(path, body), 422, fields=fields)
    refused(mt.call("PUT", f"/participants/{pid}/preferences", PRO, {"municipality_nis": "99999", "languages": ["nl"]}),
            422, fields=["municipality_nis"])
    future = (mt.clock.today() + timedelta(days=2)).isoformat()
    refused(mt.post(f"/participants/{pid}/intake", {"held_on": future}), 422, fields=["held_on"], mentions="future")
    refused(mt.post(f"/projects/{P}/participants", {"target_group": "youth", "referrer_type": "school",
                                                    "life_domains": ["other"], "municipality_nis": "11002",
                                                    "consent_recorded": True,
                                                    "personal": {"first_name": "A", "last_name": "B"}}),
            422, fields=["target_group"], mentions="target group")  # the project works with adults and families


def test_preferences_change_what_is_suggested(mt: MT) -> None:
    mt.volunteer("v-gent", nis="44021", travel="same_arrondissement")
    pid = mt.refer()
    assert mt.ok(mt.get(f"/participants/{pid}/suggestions"))["total"] == 0
    changed = mt.ok(mt.call("PUT", f"/participants/{pid}/preferences", PRO,
                            {"municipality_nis": "44083", "languages": ["nl"], "interests": ["reading"]}))
    assert changed["version"] == 2
    [s] = mt.ok(mt.get(f"/participants/{pid}/suggestions"))["suggestions"]
    assert s["volunteer_id"] == "v-gent"
    assert {c["criterion"]: c["explanation"]["en"] for c in s["criteria"]}["distance"] == "Same arrondissement (Gent)"


def test_a_closed_project_takes_no_new_referrals_or_proposals(mt: MT) -> None:
    closed = getattr(rc, "ProjectClosed", None)
    if closed is None:
        pytest.skip("recruitment publishes no ProjectClosed yet")
    mt.volunteer("v-1")
    pid = mt.refer()
    mt.deliver(closed(project_id=P, closed_on=mt.clock.today(), reason="funding_ended"))
    refused(mt.post(f"/projects/{P}/participants", {"target_group": "family", "referrer_type": "self",
                                                    "life_domains": ["other"], "municipality_nis": "11002",
                                                    "consent_recorded": True,
                                                    "personal": {"first_name": "A", "last_name": "B"}}), 409,
            mentions="closed")
    refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-1", "participant_id": pid}), 409, mentions="closed")
    assert mt.ok(mt.get(f"/projects/{P}/waiting-list"))["total"] == 1  # still visible


def test_a_duo_agreed_outside_the_system_is_registered_directly(mt: MT) -> None:
    mt.volunteer("v-1")
    pid = mt.refer()
    started = mt.ok(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-1", "participant_id": pid,
                                                    "started_on": mt.today}), 201)
    assert started["status"] == "active"
    assert mt.ok(mt.get(f"/duos/{started['duo_id']}"))["after_proposal"] is False
    refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-1", "participant_id": pid, "started_on": "2099-01-01"}),
            422, fields=["started_on"])


def test_read_models_rebuild_from_the_log_exactly(mt: MT) -> None:
    mt.volunteer("v-1", max_duos=2)
    mt.volunteer("v-2")
    a = mt.refer(personal={"first_name": "Anna", "last_name": "Peeters"})
    b = mt.refer()
    mt.clock.advance(days=3)
    duo = mt.match("v-1", a)
    declined = mt.propose("v-2", b)
    mt.ok(mt.post(f"/duos/{declined}/decline", {"party": "volunteer", "reason": "distance"}))
    mt.ok(mt.post(f"/duos/{duo}/end", {"ended_on": mt.today, "reason": "mismatch", "planned": False}))
    mt.ok(mt.call("PUT", f"/projects/{P}/weights", PRO, {"interests": 2, "availability": 2, "distance": 2,
                                                        "volunteer_waiting": 2, "participant_waiting": 2}))
    mt.ok(mt.post(f"/participants/{b}/withdrawal", {"reason": "moved", "withdrawn_on": mt.today}))
    mt.ok(mt.post(f"/participants/{b}/erasure"))
    tables = (participants, duos, weights, participant_names)

    def dump() -> dict[str, list[tuple[Any, ...]]]:
        with reader(mt.runtime.engine).connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in tables}

    live = dump()
    with mt.runtime.engine.begin() as conn:
        applied = projection.rebuild(conn, EventStore(mt.runtime.engine, "matching"), mt.runtime.vault)
    assert applied == mt.runtime.store.head()[0]
    assert dump() == live
    assert live["mt_participant_names"] and all(row[0] == a for row in live["mt_participant_names"])


def test_concurrent_proposals_never_overfill_a_volunteer(make: Callable[..., MT], database_url: str) -> None:
    """Eight professionals at once for a volunteer with two places: two proposals, six clear refusals."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.auth import DEV_TOKENS
    from shared.domain import DomainError
    from services.matching.handlers import Decline, ProposeDuo, RecordIntake

    mt = make(database_url=database_url)
    mt.project()
    mt.volunteer("v-1", max_duos=2)
    people = [mt.refer() for _ in range(8)]
    handlers = mt.client.app.state.handlers  # type: ignore[attr-defined]
    principal = mt.client.app.state.runtime.access.resolve(DEV_TOKENS[PRO])  # type: ignore[attr-defined]

    def propose(pid: str) -> str:
        try:
            handlers.propose(P, ProposeDuo(volunteer_id="v-1", participant_id=pid), principal, uuid.uuid4())
            return "proposed"
        except DomainError as exc:
            assert "no room" in exc.message, exc.message
            return "refused"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(propose, people))
    assert sorted(outcomes) == ["proposed"] * 2 + ["refused"] * 6
    assert mt.pool()["v-1"]["capacity_left"] == 0

    # a decline (its projection updates the participant after appending) racing an intake (which
    # reads the participant first): the same lock order everywhere, so neither deadlocks
    proposed = [p for p in people if mt.participant(p)["status"] == "proposed"]
    duo_of = {p: mt.participant(p)["open_duo_id"] for p in proposed}

    def decline(pid: str) -> None:
        handlers.decline(duo_of[pid], Decline(party="volunteer", reason="other"), principal, uuid.uuid4())

    def intake(pid: str) -> None:
        handlers.record_intake(pid, RecordIntake(held_on=mt.clock.today()), principal, uuid.uuid4())

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(fn, pid) for pid in proposed for fn in (decline, intake)]
        for future in futures:
            future.result()
    assert all(mt.participant(p)["status"] == "waiting" and mt.participant(p)["intake_held_on"] for p in proposed)
    assert mt.runtime.store.verify().ok
