"""The recruitment API, in process (``build(settings, clock)`` + TestClient) on a real Redis.

Every command and query once on the happy path, and each with its refusals: 401 without a
valid token, 403 for a professional of another project (or the wrong role), 404 for
unknown ids, 409 for a transition the journey does not allow (a sentence in Dutch and
English), 422 naming the fields of bad input. Never a 500: the TestClient re-raises any
server error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.clock import FixedClock
from shared.contracts.common import AgeBand, Interest, PartOfDay, TargetGroup, TravelRange, Weekday
from shared.contracts.recruitment import (
    Gender,
    KeepWarmKind,
    LegalItem,
    ProjectCloseReason,
    RecruitmentChannel,
    ScreeningOutcome,
    ScreeningRefusal,
    StopReason,
    TrainingKind,
)
from shared.eventstore.db import reader
from shared.settings import Settings
from services.recruitment.bootstrap import build
from services.recruitment.config import RecruitmentSettings
from services.recruitment.domain import LegalState, VolunteerStatus
from services.recruitment.projection import rebuild
from services.recruitment.read_models import name_index, projects, volunteers

ADMIN, PRO, PRO_OTHER, COORDINATOR, AUDITOR, BUDDY = (
    "dev-admin", "dev-professional", "dev-professional-other", "dev-coordinator", "dev-auditor", "dev-buddy",
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NO_FEEDS = {"matching": "http://127.0.0.1:9"}  # no matching here; its catch-up just fails quietly
ANTWERPEN, GENT, BRUGGE = "demo-antwerpen", "demo-gent", "demo-brugge"


class RC:
    """A TestClient on the recruitment app with the steps of the journey."""

    def __init__(self, client: TestClient, clock: FixedClock) -> None:
        self.client, self.clock = client, clock
        self.app = client.app
        self.born = 0

    @property
    def runtime(self):  # type: ignore[no-untyped-def]
        return self.app.state.runtime  # type: ignore[attr-defined]

    @property
    def today(self) -> str:
        return self.clock.today().isoformat()

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

    def project(self, project_id: str = ANTWERPEN, *, nis: str = "11002", region: str = "antwerpen-kempen",
                target_groups: list[str] | None = None) -> dict[str, Any]:
        return self.ok(self.post("/projects", {
            "project_id": project_id, "name": f"Buddywerking {project_id}", "organisation": "Testvzw",
            "municipality_nis": nis, "region": region, "target_groups": target_groups or ["individual_adult", "family"],
            "funded_from": "2025-01-01", "funded_until": "2027-12-31"}, ADMIN), 201)

    def enquire(self, project_id: str = ANTWERPEN, *, token: str = PRO, first: str = "Test", last: str = "Vrijwilliger",
                **extra: Any) -> str:
        self.born += 1  # the same name and birth date twice in a project is a likely duplicate
        body = {"channel": "website", "municipality_nis": "11002",
                "personal": {"first_name": first, "last_name": last,
                             "birth_date": (date(1980, 1, 1) + timedelta(days=self.born % 360)).isoformat()}, **extra}
        return self.ok(self.post(f"/projects/{project_id}/volunteers", body, token), 201)["volunteer_id"]

    def step(self, volunteer_id: str, path: str, body: Any = None, token: str = PRO) -> dict[str, Any]:
        return self.ok(self.post(f"/volunteers/{volunteer_id}/{path}", body, token))

    def prepare(self, volunteer_id: str, token: str = PRO) -> None:
        self.step(volunteer_id, "intake", {"held_on": self.today}, token)
        self.step(volunteer_id, "screening", {"screened_on": self.today, "outcome": "approved"}, token)
        self.step(volunteer_id, "training", {"session_on": self.today, "kind": "individual_coaching", "hours": 2}, token)

    def available(self, volunteer_id: str, token: str = PRO, **prefs: Any) -> dict[str, Any]:
        self.prepare(volunteer_id, token)
        return self.step(volunteer_id, "availability", {"target_groups": ["individual_adult"], **prefs}, token)

    def status(self, volunteer_id: str, token: str = PRO) -> str:
        return self.ok(self.get(f"/volunteers/{volunteer_id}", token))["status"]


def make_rc(settings: Settings, clock: FixedClock, options: RecruitmentSettings | None = None) -> Iterator[RC]:
    with TestClient(build(settings, clock=clock, options=options)) as client:
        yield RC(client, clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def rc(settings_factory: Callable[..., Settings], clock: FixedClock) -> Iterator[RC]:
    yield from make_rc(settings_factory(service_urls=NO_FEEDS), clock)


def check(resp: httpx.Response, status: int, *, mentions: str | None = None, fields: list[str] | None = None) -> dict[str, Any]:
    where = f"{resp.request.method} {resp.request.url}"
    assert resp.status_code == status, f"{where} -> {resp.status_code} (wanted {status}): {resp.text}"
    body = resp.json()
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    if status in (404, 409):
        assert re.search(r"\S.* / .*\S", body["detail"]), f"not 'Dutch / English': {body['detail']}"
    if mentions:
        assert mentions.lower() in body["detail"].lower(), f"{where}: {body['detail']!r} lacks {mentions!r}"
    if fields is not None:
        named = {e["field"] for e in body.get("errors", [])}
        assert set(fields) <= named, f"{where}: errors name {sorted(named)}, wanted {fields}"
    return body


# ------------------------------------------------------------------------------------- every route


VOLUNTEER_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("GET", "/history", None),
    ("POST", "/intake", {"held_on": "2026-03-02"}),
    ("POST", "/screening", {"screened_on": "2026-03-02", "outcome": "approved"}),
    ("POST", "/training", {"session_on": "2026-03-02", "kind": "group_training", "hours": 3}),
    ("POST", "/availability", {"target_groups": ["individual_adult"]}),
    ("PUT", "/preferences", {"target_groups": ["family"]}),
    ("POST", "/pause", {}),
    ("POST", "/resume", None),
    ("POST", "/stop", {"reason": "no_time"}),
    ("POST", "/legal-items", {"item": "insurance", "dated": "2026-03-01"}),
    ("POST", "/keep-warm", {"contacted_on": "2026-03-02", "kind": "call"}),
    ("PUT", "/personal", {"first_name": "Nieuwe", "last_name": "Naam"}),
    ("POST", "/erasure", None),
]
PROJECT_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("PATCH", "", {"name": "Anders"}),
    ("POST", "/close", {"closed_on": "2026-03-01", "reason": "funding_ended"}),
    ("POST", "/volunteers", {"channel": "website", "municipality_nis": "11002",
                             "personal": {"first_name": "A", "last_name": "B"}}),
    ("GET", "/volunteers", None),
    ("GET", "/waiting-board", None),
    ("GET", "/keep-warm-alerts", None),
    ("GET", "/legal-items", None),
]
ADMIN_ONLY = {("PATCH", ""), ("POST", "/close")}


def all_routes(project_id: str, volunteer_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return ([(m, f"/projects/{project_id}{p}", b) for m, p, b in PROJECT_ROUTES]
            + [(m, f"/volunteers/{volunteer_id}{p}", b) for m, p, b in VOLUNTEER_ROUTES]
            + [("POST", "/projects", {"project_id": "p-new", "name": "N", "organisation": "O", "municipality_nis": "11002",
                                      "region": "antwerpen-kempen", "target_groups": ["family"]}),
               ("GET", "/projects", None), ("GET", "/vocabularies", None)])


def test_without_a_valid_token_every_route_is_401(rc: RC) -> None:
    rc.project()
    volunteer_id = rc.enquire()
    for method, path, body in all_routes(ANTWERPEN, volunteer_id):
        for token in (None, "not-a-token", "a.b.c"):
            resp = rc.call(method, path, token, body)
            check(resp, 401, mentions="not signed in")
            assert resp.headers["www-authenticate"].startswith("Bearer")
    assert rc.ok(rc.get(f"/volunteers/{volunteer_id}"))["version"] == 1, "nothing changed"


def test_unknown_ids_are_404(rc: RC) -> None:
    rc.project()
    for method, path, body in VOLUNTEER_ROUTES:
        for unknown in ("v-does-not-exist", ANTWERPEN):  # a project id is no volunteer id
            check(rc.call(method, f"/volunteers/{unknown}{path}", ADMIN, body), 404, mentions="does not exist")
        for impossible in ("x" * 300, "bad%20id", "v-%00x"):  # no id looks like that: the caller's error
            check(rc.call(method, f"/volunteers/{impossible}{path}", ADMIN, body), 422, mentions="not a valid id",
                  fields=["path.volunteer_id"])
    for method, path, body in PROJECT_ROUTES:
        check(rc.call(method, f"/projects/p-does-not-exist{path}", ADMIN, body), 404, mentions="does not exist")


def test_a_professional_of_another_project_gets_403_everywhere(rc: RC) -> None:
    """Must show: a professional of project A cannot see or change anything of project B."""
    rc.project(ANTWERPEN)
    rc.project(BRUGGE, nis="31005", region="west-vlaanderen")
    theirs = rc.enquire(ANTWERPEN, first="Marie", last="Peeters")
    rc.available(theirs, interests=["walking"])
    rc.step(theirs, "keep-warm", {"contacted_on": rc.today, "kind": "call", "note": "belde even"})
    mine = rc.enquire(BRUGGE, token=PRO_OTHER, first="Marie", last="Peeters")  # the same name, in their own project
    before = rc.ok(rc.get(f"/volunteers/{theirs}/history"))

    for method, path, body in all_routes(ANTWERPEN, theirs):
        if path in ("/projects", "/vocabularies"):
            continue
        admin_only = path.startswith("/projects/") and (method, path.removeprefix(f"/projects/{ANTWERPEN}")) in ADMIN_ONLY
        check(rc.call(method, path, PRO_OTHER, body), 403, mentions="with this role" if admin_only else "no access")
        for token in (COORDINATOR, AUDITOR, BUDDY):  # no volunteer data for other roles either
            if not (method == "GET" and path == f"/projects/{ANTWERPEN}" and token in (COORDINATOR, AUDITOR)):
                check(rc.call(method, path, token, body), 403)
    # a project B's professional cannot probe project ids either: 403 before 404
    check(rc.get("/projects/p-does-not-exist", PRO_OTHER), 403)
    check(rc.post("/projects/p-does-not-exist/volunteers", PROJECT_ROUTES[3][2], PRO_OTHER), 403)

    # what they can see: their own project and volunteer, and only that
    listed = rc.ok(rc.get("/projects", PRO_OTHER))
    assert [p["project_id"] for p in listed["items"]] == [BRUGGE] and listed["total"] == 1
    found = rc.ok(rc.get(f"/projects/{BRUGGE}/volunteers", PRO_OTHER, name="Peeters"))
    assert [v["volunteer_id"] for v in found["items"]] == [mine]
    board = rc.ok(rc.get(f"/projects/{BRUGGE}/waiting-board", PRO_OTHER))
    assert sum(s["count"] for s in board["stages"]) == 1 and board["longest_waiting"] == []
    assert rc.ok(rc.get(f"/volunteers/{mine}", PRO_OTHER))["personal"]["first_name"] == "Marie"

    # and project A is exactly as it was
    assert rc.ok(rc.get(f"/volunteers/{theirs}/history")) == before
    assert rc.status(theirs) == "available"
    assert rc.ok(rc.get(f"/projects/{ANTWERPEN}", ADMIN))["name"] == f"Buddywerking {ANTWERPEN}"
    # the coordinator of antwerpen-kempen sees the register entry, not the volunteers
    assert rc.ok(rc.get(f"/projects/{ANTWERPEN}", COORDINATOR))["region"] == "antwerpen-kempen"
    check(rc.get(f"/projects/{BRUGGE}", COORDINATOR), 403)


# ------------------------------------------------------------------------------------- projects


def test_projects_are_registered_changed_and_closed_by_admins(rc: RC) -> None:
    created = rc.project()
    assert created == {"project_id": ANTWERPEN, "status": "open", "version": 1}
    check(rc.post("/projects", {"project_id": ANTWERPEN, "name": "X", "organisation": "Y",
                                "municipality_nis": "11002", "region": "limburg", "target_groups": ["family"]}, ADMIN),
          409, mentions="already exists")
    check(rc.post("/projects", {"project_id": "p-2", "name": "X", "organisation": "Y", "municipality_nis": "11002",
                                "region": "limburg", "target_groups": ["family"]}, PRO), 403)
    # regions are a fixed list: another code is refused with a sentence naming the field, when registering or changing
    for refused in (rc.post("/projects", {"project_id": "p-2", "name": "X", "organisation": "Y",
                                          "municipality_nis": "11002", "region": "r", "target_groups": ["family"]},
                            ADMIN),
                    rc.call("PATCH", f"/projects/{ANTWERPEN}", ADMIN, {"region": "kempen"})):
        check(refused, 422, mentions="Unknown region")
        assert refused.json()["errors"][0]["field"] == "region"

    changed = rc.ok(rc.call("PATCH", f"/projects/{ANTWERPEN}", ADMIN, {"name": "Buddy's Antwerpen",
                                                                     "target_groups": ["family", "child"]}))
    assert changed["version"] == 2
    unchanged = rc.ok(rc.call("PATCH", f"/projects/{ANTWERPEN}", ADMIN, {"name": "Buddy's Antwerpen"}))
    assert unchanged["version"] == 2, "nothing changed, no event"
    view = rc.ok(rc.get(f"/projects/{ANTWERPEN}"))
    assert (view["name"], view["target_groups"], view["status"]) == ("Buddy's Antwerpen", ["family", "child"], "open")
    assert view["funded_until"] == "2027-12-31" and view["status_label"] == {"nl": "Lopend", "en": "Open"}
    check(rc.call("PATCH", f"/projects/{ANTWERPEN}", PRO, {"name": "Mine"}), 403)
    for body, fields in (({"name": None}, ["name"]), ({"name": ""}, ["name"]), ({"municipality_nis": "99999"},
                         ["municipality_nis"]), ({"funded_until": "2020-01-01"}, ["funded_until"]),
                         ({"target_groups": []}, ["target_groups"]), ({"colour": "red"}, ["colour"])):
        check(rc.call("PATCH", f"/projects/{ANTWERPEN}", ADMIN, body), 422, fields=fields)

    volunteer_id = rc.enquire()
    check(rc.post(f"/projects/{ANTWERPEN}/close", {"closed_on": "2026-03-09", "reason": "funding_ended"}, ADMIN),
          422, fields=["closed_on"], mentions="future")
    check(rc.post(f"/projects/{ANTWERPEN}/close", {"closed_on": "2026-03-01", "reason": "bored"}, ADMIN),
          422, fields=["reason"])
    check(rc.post(f"/projects/{ANTWERPEN}/close", {"closed_on": "2026-03-01", "reason": "funding_ended"}, PRO), 403)
    closed = rc.ok(rc.post(f"/projects/{ANTWERPEN}/close", {"closed_on": "2026-03-01", "reason": "funding_ended"}, ADMIN))
    assert closed == {"project_id": ANTWERPEN, "status": "closed", "version": 3}
    assert rc.ok(rc.get(f"/projects/{ANTWERPEN}"))["closed_on"] == "2026-03-01"
    check(rc.post(f"/projects/{ANTWERPEN}/volunteers", PROJECT_ROUTES[3][2]), 409, mentions="takes no new enquiries")
    check(rc.post(f"/projects/{ANTWERPEN}/close", {"closed_on": "2026-03-01", "reason": "other"}, ADMIN),
          409, mentions="already closed")
    check(rc.call("PATCH", f"/projects/{ANTWERPEN}", ADMIN, {"name": "Y"}), 409, mentions="closed")
    rc.prepare(volunteer_id)  # the journeys of its volunteers can still be closed off
    assert rc.status(volunteer_id) == "in_preparation"

    types = [s.envelope.type for s in rc.runtime.store.load(ANTWERPEN)]
    assert types == ["ProjectRegistered", "ProjectChanged", "ProjectClosed"]
    assert rc.runtime.store.load(ANTWERPEN)[1].envelope.payload["title"] == "Buddy's Antwerpen"


def test_project_lists_are_scoped_filtered_and_paginated(rc: RC) -> None:
    rc.project(ANTWERPEN)
    rc.project(GENT, nis="44021", region="oost-vlaanderen")
    rc.project(BRUGGE, nis="31005", region="west-vlaanderen")
    rc.ok(rc.post(f"/projects/{BRUGGE}/close", {"closed_on": "2026-03-01", "reason": "merged"}, ADMIN))

    def ids(token: str, **params: Any) -> list[str]:
        return [p["project_id"] for p in rc.ok(rc.get("/projects", token, **params))["items"]]

    assert ids(ADMIN) == [ANTWERPEN, BRUGGE, GENT] and ids(AUDITOR) == ids(ADMIN)
    assert ids(PRO) == [ANTWERPEN, GENT] and ids(PRO_OTHER) == [BRUGGE]
    assert ids(COORDINATOR) == [ANTWERPEN]
    assert ids(ADMIN, status="closed") == [BRUGGE] and ids(ADMIN, region="oost-vlaanderen") == [GENT]
    page = rc.ok(rc.get("/projects", ADMIN, limit=2, offset=1))
    assert ([p["project_id"] for p in page["items"]], page["total"], page["limit"], page["offset"]) == (
        [BRUGGE, GENT], 3, 2, 1)
    check(rc.get("/projects", BUDDY), 403)
    check(rc.get("/projects", ADMIN, limit=0), 422, fields=["query.limit"])
    check(rc.get("/projects", ADMIN, status="sleeping"), 422, fields=["query.status"])


# ------------------------------------------------------------------------------------- the journey


def test_every_command_on_the_happy_path(rc: RC) -> None:
    rc.project()
    vid = rc.enquire(gender="x", channel="volunteer_platform", received_on="2026-02-27")
    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert (view["status"], view["enquired_on"], view["days_in_stage"], view["age_band"], view["gender"],
            view["channel"]) == ("enquired", "2026-02-27", 3, "45-54", "x", "volunteer_platform")
    assert view["status_label"] == {"nl": "Aangemeld", "en": "Enquired"}

    steps: list[tuple[str, dict[str, Any] | None, str]] = [
        ("intake", {"held_on": "2026-02-28", "note": "Gemotiveerd, wil met gezinnen werken"}, "intake_held"),
        ("screening", {"screened_on": "2026-03-01", "outcome": "approved", "note": "Referenties ok"}, "in_preparation"),
        ("training", {"session_on": "2026-03-01", "kind": "group_training", "hours": 3}, "in_preparation"),
        ("training", {"session_on": "2026-03-02", "kind": "individual_coaching", "hours": 1.5}, "in_preparation"),
        ("legal-items", {"item": "information_notice", "dated": "2026-03-01"}, "in_preparation"),
        ("availability", {"target_groups": ["family", "individual_adult"], "languages": ["nl", "ar"],
                          "interests": ["cooking", "walking"], "availability": [{"day": "wed", "part": "afternoon"}],
                          "municipality_nis": "11002", "travel": "same_arrondissement", "max_duos": 2}, "available"),
        ("keep-warm", {"contacted_on": "2026-03-02", "kind": "activity_invitation", "note": "Uitgenodigd op de barbecue"},
         "available"),
        ("legal-items", {"item": "criminal_record_extract", "dated": "2026-02-20"}, "available"),
        ("legal-items", {"item": "insurance", "dated": "2026-03-01", "valid_until": "2026-12-31"}, "available"),
        ("pause", {"until": "2026-04-01"}, "paused"),
        ("resume", None, "available"),
    ]
    for version, (path, body, status) in enumerate(steps, start=2):
        assert rc.step(vid, path, body) == {"volunteer_id": vid, "status": status, "version": version}, path
    prefs = {"target_groups": ["family"], "interests": ["games"], "max_duos": 1}
    assert rc.ok(rc.call("PUT", f"/volunteers/{vid}/preferences", PRO, prefs))["version"] == 13
    assert rc.ok(rc.call("PUT", f"/volunteers/{vid}/preferences", PRO, prefs))["version"] == 13, "unchanged: no event"
    personal = {"first_name": "Leila", "last_name": "Haddad", "email": "leila@example.org", "phone": "+32 470 00 00 00",
                "address": "Kerkstraat 1, 2000 Antwerpen", "birth_date": "1980-02-03", "notes": "Spreekt Arabisch"}
    assert rc.ok(rc.call("PUT", f"/volunteers/{vid}/personal", PRO, personal))["version"] == 14

    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert view["personal"] == personal
    assert view["training"] == {"sessions": 2, "hours": 4.5}
    assert view["preferences"]["target_groups"] == ["family"] and view["preferences"]["max_duos"] == 1
    assert (view["waiting_since"], view["last_kept_warm"], view["keep_warm_due"]) == ("2026-03-02", "2026-03-02", False)
    legal = {i["item"]: (i["state"], i["valid_until"]) for i in view["legal"]}
    assert legal == {"information_notice": ("ok", None), "insurance": ("ok", "2026-12-31"),
                     "criminal_record_extract": ("ok", "2027-02-20")}  # default validity: 365 days
    assert view["legal_attention"] == []

    history = rc.ok(rc.get(f"/volunteers/{vid}/history"))
    assert [e["type"] for e in history["items"]] == [
        "VolunteerEnquiryReceived", "VolunteerIntakeHeld", "VolunteerScreened", "VolunteerTrained", "VolunteerTrained",
        "VolunteerLegalItemRecorded", "VolunteerMadeAvailable", "VolunteerKeptWarm", "VolunteerLegalItemRecorded",
        "VolunteerLegalItemRecorded", "VolunteerPaused", "VolunteerResumed", "VolunteerPreferencesChanged",
        "VolunteerPersonalDataChanged"]
    notes = {e["type"]: e.get("note") for e in history["items"] if "note" in e}
    assert notes == {"VolunteerIntakeHeld": "Gemotiveerd, wil met gezinnen werken",
                     "VolunteerScreened": "Referenties ok", "VolunteerKeptWarm": "Uitgenodigd op de barbecue"}
    assert history["items"][1]["occurred_at"].startswith("2026-02-28")
    assert history["items"][1]["recorded_at"].startswith("2026-03-02T09:00")
    page = rc.ok(rc.get(f"/volunteers/{vid}/history", limit=2, offset=2))
    assert [e["version"] for e in page["items"]] == [3, 4] and page["total"] == 14

    # nothing personal in the public events
    public = repr([s.envelope.payload for s in rc.runtime.store.load(vid)])
    for secret in ("Leila", "Haddad", "leila@", "Kerkstraat", "1980-02-03", "Gemotiveerd", "barbecue", "Arabisch"):
        assert secret not in public

    assert rc.step(vid, "stop", {"reason": "moved"}) == {"volunteer_id": vid, "status": "stopped", "version": 15}
    assert rc.ok(rc.get(f"/volunteers/{vid}"))["stop_reason"] == "moved"


def test_screening_not_approved_stops_with_a_reason(rc: RC) -> None:
    rc.project()
    vid = rc.enquire()
    rc.step(vid, "intake", {"held_on": rc.today})
    check(rc.post(f"/volunteers/{vid}/screening", {"screened_on": rc.today, "outcome": "not_approved"}), 422,
          fields=["refusal_reason"])
    result = rc.step(vid, "screening", {"screened_on": rc.today, "outcome": "not_approved",
                                        "refusal_reason": "profile_does_not_fit", "note": "Eerst zelf hulp nodig"})
    assert result["status"] == "stopped" and result["version"] == 4
    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert (view["screening"], view["refusal_reason"], view["stop_reason"]) == (
        "not_approved", "profile_does_not_fit", "not_approved")


def test_invalid_transitions_are_409_saying_why(rc: RC) -> None:
    rc.project()
    vid = rc.enquire()
    refused = [
        ("screening", {"screened_on": rc.today, "outcome": "approved"}, "can only follow the intake interview"),
        ("training", {"session_on": rc.today, "kind": "group_training", "hours": 2}, "after an approved screening"),
        ("availability", {"target_groups": ["family"]}, "only enquired"),
        ("pause", {}, "only a volunteer who is available or in a duo"),
        ("resume", None, "only a paused volunteer"),
    ]
    for path, body, why in refused:
        body_out = check(rc.post(f"/volunteers/{vid}/{path}", body), 409, mentions=why)
        assert body_out["code"] == "invalid_transition"
    check(rc.call("PUT", f"/volunteers/{vid}/preferences", PRO, {"target_groups": ["family"]}), 409,
          mentions="once the volunteer was made available")
    rc.step(vid, "intake", {"held_on": rc.today})
    check(rc.post(f"/volunteers/{vid}/intake", {"held_on": rc.today}), 409, mentions="already recorded")
    check(rc.post(f"/volunteers/{vid}/availability", {"target_groups": ["family"]}), 409, mentions="waits for the screening")
    rc.step(vid, "screening", {"screened_on": rc.today, "outcome": "approved"})
    body = check(rc.post(f"/volunteers/{vid}/availability", {"target_groups": ["family"]}), 409,
                 mentions="0 of the 1 coaching or training sessions")
    assert body["code"] == "preparation_incomplete"
    rc.step(vid, "training", {"session_on": rc.today, "kind": "individual_coaching", "hours": 1})
    rc.step(vid, "availability", {"target_groups": ["family"]})
    check(rc.post(f"/volunteers/{vid}/availability", {"target_groups": ["family"]}), 409, mentions="already available")
    rc.step(vid, "pause", {})
    check(rc.post(f"/volunteers/{vid}/pause", {}), 409, mentions="already paused")
    rc.step(vid, "stop", {"reason": "health"})
    check(rc.post(f"/volunteers/{vid}/stop", {"reason": "health"}), 409, mentions="already stopped")
    check(rc.post(f"/volunteers/{vid}/availability", {"target_groups": ["family"]}), 409, mentions="has stopped")
    for path, body in (("keep-warm", {"contacted_on": rc.today, "kind": "call"}),
                       ("legal-items", {"item": "insurance", "dated": rc.today}), ("resume", None)):
        check(rc.post(f"/volunteers/{vid}/{path}", body), 409, mentions="has stopped")
    rc.ok(rc.post(f"/volunteers/{vid}/erasure"))
    check(rc.post(f"/volunteers/{vid}/erasure"), 409, mentions="already erased")
    check(rc.call("PUT", f"/volunteers/{vid}/personal", PRO, {"first_name": "A", "last_name": "B"}), 409,
          mentions="was erased")


BAD_INPUT: list[tuple[str, str, Any, list[str]]] = [
    ("POST", "/intake", {"held_on": "yesterday"}, ["held_on"]),
    ("POST", "/intake", {"held_on": "2026-03-03"}, ["held_on"]),  # the future
    ("POST", "/intake", {"held_on": "2026-02-01"}, ["held_on"]),  # before the enquiry
    ("POST", "/intake", {"held_on": "2026-03-02", "note": "x" * 5001}, ["note"]),
    ("POST", "/intake", {}, ["held_on"]),
    ("POST", "/screening", {"screened_on": "2026-03-02", "outcome": "maybe", "refusal_reason": "bored"},
     ["outcome", "refusal_reason"]),
    ("POST", "/training", {"session_on": "2026-03-02", "kind": "yoga", "hours": 0}, ["kind", "hours"]),
    ("POST", "/training", {"session_on": "2026-03-02", "kind": "group_training", "hours": 25}, ["hours"]),
    ("POST", "/availability", {"target_groups": []}, ["target_groups"]),
    ("POST", "/availability", {"target_groups": ["family"], "max_duos": 9, "languages": ["Dutch"]},
     ["max_duos", "languages.0"]),
    ("POST", "/availability", {"target_groups": ["family"], "availability": [{"day": "someday", "part": "noon"}]},
     ["availability.0.day", "availability.0.part"]),
    ("POST", "/availability", {"target_groups": ["family"], "municipality_nis": "99999"}, ["municipality_nis"]),
    ("POST", "/availability", {"target_groups": ["family"], "travel": "moon", "interests": ["skydiving"]},
     ["travel", "interests.0"]),
    ("PUT", "/preferences", {"target_groups": "family"}, ["target_groups"]),
    ("POST", "/pause", {"until": "2026-03-01"}, ["until"]),
    ("POST", "/pause", {"until": "soon"}, ["until"]),
    ("POST", "/stop", {"reason": "bored"}, ["reason"]),
    ("POST", "/legal-items", {"item": "passport", "dated": "x"}, ["item", "dated"]),
    ("POST", "/legal-items", {"item": "insurance", "dated": "2026-03-01", "valid_until": "2026-02-01"}, ["valid_until"]),
    ("POST", "/legal-items", {"item": "insurance", "dated": "2026-04-01"}, ["dated"]),
    ("POST", "/keep-warm", {"contacted_on": "2026-03-02", "kind": "telepathy"}, ["kind"]),
    ("POST", "/keep-warm", {"contacted_on": "2026-03-05", "kind": "call"}, ["contacted_on"]),
    ("PUT", "/personal", {"first_name": "", "email": "not-an-address"}, ["first_name", "last_name", "email"]),
    ("PUT", "/personal", {"first_name": "A", "last_name": "B", "birth_date": "2030-01-01"}, ["birth_date"]),
]


def test_bad_input_is_422_naming_the_fields(rc: RC) -> None:
    rc.project()
    enquired = rc.enquire()
    ready = rc.enquire()
    rc.available(ready)
    for method, path, body, fields in BAD_INPUT:
        target = ready if path in ("/pause", "/legal-items", "/keep-warm", "/preferences") else enquired
        if path == "/availability":
            target = rc.enquire()
            rc.prepare(target)
        body_out = check(rc.call(method, f"/volunteers/{target}{path}", PRO, body), 422, fields=fields)
        assert body_out["code"] == "invalid_input"
    for body, fields in (
        ({"channel": "pigeon", "municipality_nis": "1", "personal": {"first_name": "A"}},
         ["channel", "municipality_nis", "personal.last_name"]),
        ({"channel": "website", "municipality_nis": "99999", "personal": {"first_name": "A", "last_name": "B"}},
         ["municipality_nis"]),
        ({"channel": "website", "municipality_nis": "11002", "received_on": "2026-04-01",
          "personal": {"first_name": "A", "last_name": "B"}}, ["received_on"]),
        ({"channel": "website", "municipality_nis": "11002",
          "personal": {"first_name": "A", "last_name": "B", "birth_date": "2027-01-01"}}, ["personal.birth_date"]),
    ):
        check(rc.post(f"/projects/{ANTWERPEN}/volunteers", body), 422, fields=fields)
    project = {"project_id": "p-new", "name": "N", "organisation": "O", "municipality_nis": "11002",
               "region": "antwerpen-kempen", "target_groups": ["family"]}
    for body, fields in (({**project, "municipality_nis": "99999"}, ["municipality_nis"]),
                         ({**project, "funded_from": "2026-01-01", "funded_until": "2025-01-01"}, ["funded_until"]),
                         ({**project, "project_id": "has spaces", "target_groups": ["pets"]},
                          ["project_id", "target_groups.0"]),
                         ({"name": "only a name"}, ["project_id", "organisation", "municipality_nis", "region"])):
        check(rc.post("/projects", body, ADMIN), 422, fields=fields)
    check(rc.get(f"/projects/{ANTWERPEN}/volunteers", status="sleeping"), 422, fields=["query.status.0"])
    check(rc.get(f"/projects/{ANTWERPEN}/keep-warm-alerts", limit=501), 422, fields=["query.limit"])
    check(rc.get(f"/projects/{ANTWERPEN}/volunteers", name="--"), 422, fields=["name"])
    check(rc.get(f"/projects/{ANTWERPEN}/legal-items", item="passport"), 422, fields=["query.item"])
    check(rc.get(f"/projects/{ANTWERPEN}/waiting-board", per_stage=0), 422, fields=["query.per_stage"])
    check(rc.get(f"/volunteers/{enquired}/history", offset=-1), 422, fields=["query.offset"])
    assert rc.ok(rc.get(f"/volunteers/{enquired}"))["version"] == 1, "nothing was recorded"


# ------------------------------------------------------------------------------------- queries


def test_volunteer_lists_filter_paginate_and_find_names(rc: RC) -> None:
    rc.project()
    emile = rc.enquire(first="Émile", last="Dupont-Claes")
    jan = rc.enquire(first="Jan", last="Dupont", channel="word_of_mouth")
    rc.enquire(first="An", last="Claeys")
    rc.available(jan)

    def names(**params: Any) -> list[str | None]:
        return sorted(v["name"] for v in rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", **params))["items"])

    assert names(name="dupont") == sorted(["Émile Dupont-Claes", "Jan Dupont"])
    assert names(name="EMILE") == ["Émile Dupont-Claes"]
    assert names(name="claes émile") == ["Émile Dupont-Claes"]  # every part must match, in any order
    assert names(name="Dup") == [] and names(name="Claeys Dupont") == []
    assert names(status="available") == ["Jan Dupont"]
    assert names(status=["enquired", "available"], channel="word_of_mouth") == ["Jan Dupont"]
    page = rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", limit=2, offset=2))
    assert page["total"] == 3 and len(page["items"]) == 1 and page["limit"] == 2
    with reader(rc.runtime.engine).connect() as conn:
        tokens = conn.execute(select(name_index.c.token).where(name_index.c.volunteer_id == emile)).scalars().all()
    # three name parts and one identity key (name with birth date, for likely duplicates)
    assert len(tokens) == 4 and all(re.fullmatch(r"[0-9a-f]{64}", t) for t in tokens), "only keyed hashes"

    # a new name replaces the old tokens
    rc.ok(rc.call("PUT", f"/volunteers/{emile}/personal", PRO, {"first_name": "Emiel", "last_name": "Janssens"}))
    assert names(name="dupont") == ["Jan Dupont"] and names(name="janssens") == ["Emiel Janssens"]


def test_vocabularies_label_every_code_in_dutch_and_english(rc: RC) -> None:
    vocabularies = rc.ok(rc.get("/vocabularies", COORDINATOR))
    expected = {"recruitment_channel": RecruitmentChannel, "gender": Gender, "age_band": AgeBand,
                "target_group": TargetGroup, "interest": Interest, "weekday": Weekday, "part_of_day": PartOfDay,
                "travel_range": TravelRange, "volunteer_status": VolunteerStatus, "screening_outcome": ScreeningOutcome,
                "screening_refusal": ScreeningRefusal, "training_kind": TrainingKind, "legal_item": LegalItem,
                "legal_state": LegalState, "keep_warm_kind": KeepWarmKind, "stop_reason": StopReason,
                "project_close_reason": ProjectCloseReason}
    for name, enum in expected.items():
        assert set(vocabularies[name]) == {m.value for m in enum}, name
        for code, labels in vocabularies[name].items():
            assert set(labels) == {"nl", "en"} and labels["nl"].strip() and labels["en"].strip(), (name, code)
    assert vocabularies["volunteer_status"]["available"] == {"nl": "Beschikbaar voor matching",
                                                             "en": "Available for matching"}


def test_the_read_models_rebuild_from_the_log(rc: RC) -> None:
    rc.project()
    rc.project(GENT, nis="44021", region="oost-vlaanderen")
    a, b, c = rc.enquire(first="Anna", last="Aerts"), rc.enquire(GENT, first="Bert", last="Baert"), rc.enquire()
    rc.available(a)
    rc.step(a, "keep-warm", {"contacted_on": rc.today, "kind": "call"})
    rc.clock.advance(days=3)
    rc.step(b, "intake", {"held_on": rc.today})
    rc.step(c, "stop", {"reason": "no_time"})
    rc.ok(rc.post(f"/volunteers/{c}/erasure"))
    rc.ok(rc.call("PATCH", f"/projects/{GENT}", ADMIN, {"region": "gent-meetjesland"}))

    def dump() -> dict[str, list[dict[str, Any]]]:
        with reader(rc.runtime.engine).connect() as conn:
            return {t.name: sorted((dict(r) for r in conn.execute(select(t)).mappings()), key=repr)
                    for t in (projects, volunteers, name_index)}

    before = dump()
    with rc.runtime.engine.begin() as conn:
        assert rebuild(conn, rc.runtime.store, rc.runtime.vault) == rc.runtime.store.head()[0]
    assert dump() == before
    # two name parts and one identity key for each of the two volunteers not erased
    assert len(before["rc_name_index"]) == 6 and len(before["rc_volunteers"]) == 3


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_journey_on_both_databases(database: str, settings_factory: Callable[..., Settings], clock: FixedClock,
                                       request: pytest.FixtureRequest) -> None:
    url = None if database == "sqlite" else request.getfixturevalue("make_postgres_db")()
    overrides: dict[str, Any] = {"service_urls": NO_FEEDS}
    if url:
        overrides["database_url"] = url
    for rc in make_rc(settings_factory(**overrides), clock, RecruitmentSettings(min_preparation_sessions=0)):
        rc.project()
        vid = rc.enquire(first="Zoë", last="Vermeulen")
        rc.step(vid, "intake", {"held_on": rc.today})
        rc.step(vid, "screening", {"screened_on": rc.today, "outcome": "approved"})
        assert rc.step(vid, "availability", {"target_groups": ["youth"]})["status"] == "available"  # no sessions needed
        assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", name="zoe"))["total"] == 1
        check(rc.get("/volunteers/%00%FF"), 422, fields=["path.volunteer_id"])
        rc.ok(rc.post(f"/volunteers/{vid}/erasure"))
        assert rc.ok(rc.get(f"/volunteers/{vid}"))["personal"] is None
        assert rc.runtime.store.verify().ok


def test_a_store_from_before_the_read_models_is_projected_on_start(settings_factory: Callable[..., Settings],
                                                                 clock: FixedClock) -> None:
    """An upgraded store (thin-slice events, v1 availability) gets its read models and name index on start."""
    from shared.contracts.recruitment import ProjectRegistered, VolunteerEnquiryReceived, VolunteerMadeAvailableV1
    from shared.events.envelope import Actor, Role
    from shared.eventstore import EventStore, NewEvent, make_engine, migrate
    from shared.vault import Vault

    settings = settings_factory(service_urls=NO_FEEDS)
    engine = make_engine(settings.database_url_of("recruitment"))
    migrate(engine)  # the shared tables only, as before this service had read models
    store, vault = EventStore(engine, "recruitment"), Vault(engine, settings.key_bytes("master_key"),
                                                            settings.key_bytes("blind_index_key"))
    actor = Actor(id="dev-admin", role=Role.admin)
    store.append(ANTWERPEN, 0, [NewEvent(ProjectRegistered(
        project_id=ANTWERPEN, name="Oud", organisation="O", municipality_nis="11002", region="antwerpen-kempen",
        target_groups=[TargetGroup.family]), project_id=ANTWERPEN)], actor=actor)
    with store.transaction() as conn:
        sealed = vault.seal(conn, "v-old", {"first_name": "Oude", "last_name": "Getrouwe"})
        store.append("v-old", 0, [
            NewEvent(VolunteerEnquiryReceived(volunteer_id="v-old", project_id=ANTWERPEN,
                                              channel=RecruitmentChannel.website, municipality_nis="11002"),
                     project_id=ANTWERPEN, subject_id="v-old", sealed=sealed, occurred_at=START - timedelta(days=40)),
            NewEvent(VolunteerMadeAvailableV1(volunteer_id="v-old", project_id=ANTWERPEN,
                                              target_groups=[TargetGroup.family]),
                     project_id=ANTWERPEN, occurred_at=START - timedelta(days=30)),
        ], actor=actor, conn=conn)
    engine.dispose()

    for rc in make_rc(settings, clock):
        found = rc.ok(rc.get(f"/projects/{ANTWERPEN}/volunteers", name="getrouwe"))["items"]
        assert [(v["volunteer_id"], v["status"], v["days_in_stage"]) for v in found] == [("v-old", "available", 30)]
        assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/keep-warm-alerts"))["total"] == 1
        assert rc.ok(rc.get(f"/volunteers/v-old"))["preferences"]["target_groups"] == ["family"]
