"""Whose project a person is in decides who may read their personal data, over HTTP on follow-up.

A person's project comes only from what owns them in a service (follow-up: the duo roster
learned from matching; elsewhere their own stream: an enquiry, a referral). Never from the
records of earlier reads, never from duo ids a caller passes as hints: a professional of
one project cannot open a person of another by naming a duo of their own, nor learn which
project a foreign duo is in, nor leave access records about people who are not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.contracts.audit import AccessKind, AccessReason, FollowupPersonalDataAccessed, access_stream_id
from shared.events.envelope import Actor, Role
from shared.eventstore import ANY_VERSION, NewEvent
from tests.integration.test_followup_support import (
    ADMIN,
    AUDITOR,
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

TODAY, STARTED = date(2026, 3, 2), date(2026, 1, 5)
BRUGGE = "demo-brugge"  # dev-professional-other's project; dev-professional has demo-antwerpen
DUO_A, PERSON_A = "d-proj-a", "pt-proj-a"
DUO_B, PERSON_B = "d-proj-b", "pt-proj-b"
B_NOTE = "Brugse notitie: vertelt over haar schuldbemiddeling"


class World:
    def __init__(self, client: TestClient, app: Any) -> None:
        self.client, self.app = client, app

    @property
    def store(self) -> Any:
        return self.app.state.runtime.store

    def export(self, subject: str, headers: dict[str, str], *duos: str) -> Any:
        return self.client.get(f"/personal-data/{subject}/export", headers=headers,
                               params=[("reason", "other"), *[("duo", d) for d in duos]])

    def access(self, subject: str, headers: dict[str, str]) -> Any:
        return self.client.post(f"/personal-data/{subject}/access", json={"reason": "other"}, headers=headers)

    def holdings(self, subject: str, headers: dict[str, str], *duos: str) -> Any:
        return self.client.get(f"/personal-data/{subject}", headers=headers, params=[("duo", d) for d in duos])

    def access_records(self) -> list[Any]:
        return [r.envelope for r in self.store.read_after(0, 10_000) if r.envelope.type == "FollowupPersonalDataAccessed"]


@pytest.fixture
def world(settings_factory, database_url: str, matching: FakeMatching) -> Iterator[World]:  # noqa: F811
    """One duo in demo-antwerpen (dev-professional's) and one in demo-brugge (dev-professional-other's)."""
    matching.start(DUO_A, volunteer_id="v-proj-a", participant_id=PERSON_A, started_on=STARTED)
    matching.start(DUO_B, volunteer_id="v-proj-b", participant_id=PERSON_B, started_on=STARTED, project_id=BRUGGE)
    app = make_app(followup_settings(settings_factory, database_url), clock_at(TODAY))
    with TestClient(app) as client:
        matching.publish_now()
        wait_consumed(app, matching.head())
        world = World(client, app)
        ok(client.post(f"/duos/{DUO_A}/contacts", json=contact(TODAY - timedelta(days=2), note="Antwerpse notitie"),
                       headers=PRO), 201)
        yield world


def test_a_hinted_duo_of_ones_own_project_opens_no_person_of_another(world: World) -> None:
    """The outside test's attack: export B's participant naming A's duo, then wait for B's notes."""
    before = len(world.access_records())
    assert world.export(PERSON_B, PRO, DUO_A).status_code == 403
    assert world.holdings(PERSON_B, PRO, DUO_A).status_code == 403
    assert world.access_records()[before:] == []  # a refused read leaves no record to build on
    ok(world.client.post(f"/duos/{DUO_B}/contacts", json=contact(TODAY - timedelta(days=1), note=B_NOTE),
                         headers=OTHER_PRO), 201)
    for resp in (world.export(PERSON_B, PRO, DUO_A), world.export(PERSON_B, PRO), world.access(PERSON_B, PRO)):
        assert resp.status_code == 403 and B_NOTE not in resp.text
    # B's own professional, admins and auditors still read it
    for headers in (OTHER_PRO, ADMIN, AUDITOR):
        body = ok(world.export(PERSON_B, headers))
        assert body["projects"] == [BRUGGE] and {"note": B_NOTE} in [i["data"] for i in body["personal_data"]]


def test_a_record_of_an_earlier_read_lends_no_project(world: World) -> None:
    """An access record filed under A about B's person (as the flaw wrote them) does not let A in."""
    stray = FollowupPersonalDataAccessed(subject_id=PERSON_B, access=AccessKind.export, reason=AccessReason.other,
                                         opened_positions=[], subject_erased=False, has_note=False)
    world.store.append(access_stream_id(PERSON_B), ANY_VERSION, [NewEvent(stray, project_id=PROJECT)],
                       actor=Actor(id="dev-professional", role=Role.professional))
    ok(world.client.post(f"/duos/{DUO_B}/contacts", json=contact(TODAY, note=B_NOTE), headers=OTHER_PRO), 201)
    for resp in (world.export(PERSON_B, PRO), world.access(PERSON_B, PRO), world.holdings(PERSON_B, PRO)):
        assert resp.status_code == 403 and B_NOTE not in resp.text
    assert ok(world.holdings(PERSON_B, OTHER_PRO))["projects"] == [BRUGGE]


def test_a_person_not_here_is_404_whatever_duo_is_named_and_nothing_is_recorded(world: World) -> None:
    before = len(world.access_records())
    for headers in (PRO, OTHER_PRO, ADMIN, AUDITOR):
        for duos in ((), (DUO_A,), (DUO_B,), (DUO_A, DUO_B)):
            assert world.export("pt-nobody", headers, *duos).status_code == 404, (headers, duos)
            assert world.holdings("pt-nobody", headers, *duos).status_code == 404, (headers, duos)
        assert world.access("pt-nobody", headers).status_code == 404
        # an access stream is no person either
        assert world.export(access_stream_id(PERSON_A), headers).status_code == 404
    assert world.access_records()[before:] == []


def test_a_hinted_duo_of_another_project_adds_nothing(world: World) -> None:
    """The hint may only add the events of the person's own project's duos: B's duo is not in A's export."""
    ok(world.client.post(f"/duos/{DUO_B}/contacts", json=contact(TODAY, note=B_NOTE), headers=OTHER_PRO), 201)
    for headers in (PRO, ADMIN):
        body = ok(world.export(PERSON_A, headers, DUO_A, DUO_B))
        assert body["projects"] == [PROJECT]
        duos = {e["payload"].get("duo_id") for e in body["events"]}
        assert DUO_A in duos and DUO_B not in duos, headers
        assert B_NOTE not in str(body)
    # and a professional of B learns nothing about A's person from naming B's duo
    assert world.export(PERSON_A, OTHER_PRO, DUO_B).status_code == 403
