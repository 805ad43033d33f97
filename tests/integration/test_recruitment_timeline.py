"""Waiting board, keep-warm alerts and the legal list on a scripted timeline.

The app runs on a ``FixedClock`` that the test moves day by day; every event is recorded
at the clock's time and every board is computed for the clock's "today". Day 0 is
Monday 2 March 2026. The duo of one volunteer is learned from matching's events, fed to
the service's own subscriber in a transaction as the consumer would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.contracts.matching import DuoEnded, DuoStarted, EndReason
from shared.events.envelope import Actor, Envelope, Role
from shared.settings import Settings
from tests.integration.test_recruitment_api import ANTWERPEN, NO_FEEDS, PRO, RC, START, make_rc

DAY0 = START.date()


def day(n: int) -> str:
    return (DAY0 + timedelta(days=n)).isoformat()


def at(rc: RC, n: int) -> None:
    rc.clock.set(START + timedelta(days=n))


def matching_event(event: DuoStarted | DuoEnded, position: int) -> Envelope:
    moment = datetime.now(UTC)
    return Envelope(event_id=uuid.uuid4(), type=event.event_type, schema_version=event.schema_version,
                    service="matching", stream_type="duo", stream_id=event.duo_id, version=1, position=position,
                    occurred_at=moment, recorded_at=moment, project_id=event.project_id,
                    actor=Actor(id="prof-1", role=Role.professional), correlation_id=uuid.uuid4(),
                    payload=event.model_dump(mode="json"))


def feed(rc: RC, env: Envelope) -> None:
    """Apply one of matching's events as the consumer does: the subscriber inside a transaction."""
    with rc.runtime.engine.begin() as conn:
        rc.runtime.handler(conn, env)


def board(rc: RC) -> dict[str, Any]:
    return rc.ok(rc.get(f"/projects/{ANTWERPEN}/waiting-board"))


def stages(body: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    return {s["stage"]: [(p["name"], p["days"]) for p in s["people"]] for s in body["stages"]}


def alerts(rc: RC) -> list[tuple[str, int, int]]:
    body = rc.ok(rc.get(f"/projects/{ANTWERPEN}/keep-warm-alerts"))
    return [(a["name"], a["days_waiting"], a["days_without_contact"]) for a in body["items"]]


@pytest.fixture
def rc(settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    yield from make_rc(settings_factory(service_urls=NO_FEEDS), FixedClock(START))


def test_waiting_board_and_keep_warm_alerts_on_a_timeline(rc: RC) -> None:
    rc.project()
    people: dict[str, str] = {}

    def enquire(name: str) -> None:
        people[name] = rc.enquire(first=name, last="Test")

    def available(name: str, target: str = "individual_adult") -> None:
        rc.available(people[name], target_groups=[target])

    # day 0: Anna, Bart and Emma enquire; day 1: Chris and Dirk; Fien on day 2
    for name in ("Anna", "Bart", "Emma"):
        enquire(name)
    at(rc, 1)
    enquire("Chris"), enquire("Dirk")
    at(rc, 2)
    enquire("Fien")
    rc.step(people["Anna"], "intake", {"held_on": day(2)})
    at(rc, 3)
    for name in ("Bart", "Emma", "Fien"):
        available(name)
    at(rc, 4)
    rc.step(people["Dirk"], "intake", {"held_on": day(4)})
    at(rc, 5)
    rc.step(people["Anna"], "screening", {"screened_on": day(5), "outcome": "approved"})
    at(rc, 6)
    rc.step(people["Anna"], "training", {"session_on": day(6), "kind": "group_training", "hours": 4})
    at(rc, 7)
    rc.step(people["Anna"], "availability", {"target_groups": ["family"]})
    at(rc, 10)
    rc.step(people["Emma"], "pause", {"until": day(30)})
    at(rc, 12)
    started = DuoStarted(duo_id="d-1", project_id=ANTWERPEN, volunteer_id=people["Fien"], participant_id="pt-1",
                         started_on=DAY0 + timedelta(days=12), agreed_contacts_per_month=2)
    feed(rc, matching_event(started, 1))
    feed(rc, matching_event(started, 2))  # a duplicate (new envelope, same duo): no second effect
    assert [e["type"] for e in rc.ok(rc.get(f"/volunteers/{people['Fien']}/history"))["items"]].count(
        "VolunteerJoinedDuo") == 1

    # day 24: Bart and Emma... Bart has waited 21 days: not yet "more than 21"
    at(rc, 24)
    assert alerts(rc) == []
    body = board(rc)
    assert stages(body) == {
        "enquired": [("Chris Test", 23)],
        "intake_held": [("Dirk Test", 20)],
        "in_preparation": [],
        "available": [("Bart Test", 21), ("Anna Test", 17)],
        "in_duo": [("Fien Test", 12)],
        "paused": [("Emma Test", 14)],
    }
    assert [(s["stage"], s["count"], s["longest_days"]) for s in body["stages"]] == [
        ("enquired", 1, 23), ("intake_held", 1, 20), ("in_preparation", 0, None), ("available", 2, 21),
        ("in_duo", 1, 12), ("paused", 1, 14)]
    assert [(w["name"], w["days_waiting"]) for w in body["longest_waiting"]] == [("Bart Test", 21), ("Anna Test", 17)]
    assert body["alerts"] == {"count": 0, "items": []} and body["today"] == day(24) and body["keep_warm_days"] == 21

    # day 25: Bart crosses the line
    at(rc, 25)
    assert alerts(rc) == [("Bart Test", 22, 22)]
    assert board(rc)["alerts"]["count"] == 1
    assert rc.ok(rc.get(f"/volunteers/{people['Bart']}"))["keep_warm_due"] is True
    rc.step(people["Bart"], "keep-warm", {"contacted_on": day(25), "kind": "call"})
    assert alerts(rc) == []
    # the longest waiting is still Bart: a keep-warm contact is no match
    assert board(rc)["longest_waiting"][0]["name"] == "Bart Test"

    # day 29: Anna (available since day 7) crosses it; a contact logged late, dated day 20, covers her
    at(rc, 29)
    assert alerts(rc) == [("Anna Test", 22, 22)]
    rc.step(people["Anna"], "keep-warm", {"contacted_on": day(20), "kind": "meeting_place_invitation"})
    assert alerts(rc) == []

    # day 30: Emma comes back from her pause: available again, counting from today
    at(rc, 30)
    rc.ok(rc.post(f"/volunteers/{people['Emma']}/resume"))
    # day 40: Fien's duo ends: available again, counting from the end of the duo
    at(rc, 40)
    ended = DuoEnded(duo_id="d-1", project_id=ANTWERPEN, volunteer_id=people["Fien"], participant_id="pt-1",
                     ended_on=DAY0 + timedelta(days=38), reason=EndReason.goals_reached, planned=True)
    feed(rc, matching_event(ended, 3))
    assert rc.status(people["Fien"]) == "available"
    assert rc.ok(rc.get(f"/volunteers/{people['Fien']}"))["waiting_since"] == day(38)

    # day 47: Bart's contact (day 25) is 22 days old; Anna's (day 20) 27; Emma waits 17; Fien 9
    at(rc, 47)
    assert alerts(rc) == [("Anna Test", 40, 27), ("Bart Test", 44, 22)]
    body = board(rc)
    assert stages(body)["available"] == [("Bart Test", 44), ("Anna Test", 40), ("Emma Test", 17), ("Fien Test", 9)]
    assert stages(body)["in_duo"] == [] and stages(body)["paused"] == []
    assert [w["name"] for w in board(rc)["longest_waiting"]] == ["Bart Test", "Anna Test", "Emma Test", "Fien Test"]
    top = rc.ok(rc.get(f"/projects/{ANTWERPEN}/waiting-board", top=1, per_stage=1))
    assert [w["name"] for w in top["longest_waiting"]] == ["Bart Test"]
    assert [len(s["people"]) for s in top["stages"]] == [1, 1, 0, 1, 0, 0] and top["stages"][3]["count"] == 4
    page = rc.ok(rc.get(f"/projects/{ANTWERPEN}/keep-warm-alerts", limit=1, offset=1))
    assert (page["total"], [a["name"] for a in page["items"]]) == (2, ["Bart Test"])

    # a stopped volunteer leaves the board
    rc.step(people["Chris"], "stop", {"reason": "waited_too_long"})
    assert stages(board(rc))["enquired"] == []


def test_the_alert_threshold_is_a_setting(settings_factory: Callable[..., Settings],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDDY_RECRUITMENT_KEEP_WARM_DAYS", "7")
    for rc in make_rc(settings_factory(service_urls=NO_FEEDS), FixedClock(START)):
        rc.project()
        vid = rc.enquire(first="Gert", last="Test")
        rc.available(vid)
        at(rc, 7)
        assert alerts(rc) == []
        at(rc, 8)
        assert alerts(rc) == [("Gert Test", 8, 8)]
        assert rc.ok(rc.get(f"/projects/{ANTWERPEN}/keep-warm-alerts"))["keep_warm_days"] == 7


def test_legal_items_missing_or_expiring_within_30_days(rc: RC) -> None:
    rc.project()
    adult = rc.enquire(first="Ilse", last="Volwassen")
    minors = rc.enquire(first="Jef", last="Kinderen")
    waiting = rc.enquire(first="Karel", last="Aangemeld")  # not approved yet: not checked
    rc.available(adult)
    rc.available(minors, target_groups=["child", "family"])

    def listed(**params: Any) -> dict[str, list[tuple[str, str]]]:
        body = rc.ok(rc.get(f"/projects/{ANTWERPEN}/legal-items", **params))
        return {v["name"]: [(f["item"], f["state"]) for f in v["findings"]] for v in body["items"]}

    assert listed() == {
        "Ilse Volwassen": [("information_notice", "missing"), ("insurance", "missing")],
        "Jef Kinderen": [("information_notice", "missing"), ("insurance", "missing"),
                         ("criminal_record_extract", "missing")],
    }
    for vid in (adult, minors):
        rc.step(vid, "legal-items", {"item": "information_notice", "dated": day(0)})
        rc.step(vid, "legal-items", {"item": "insurance", "dated": day(0), "valid_until": day(60)})
    rc.step(minors, "legal-items", {"item": "criminal_record_extract", "dated": day(-300)})  # valid 365 days: day 65
    assert listed() == {}

    at(rc, 29)  # insurance ends on day 60: 31 days away
    assert listed() == {}
    at(rc, 30)  # 30 days away: expiring
    assert listed() == {"Ilse Volwassen": [("insurance", "expiring")], "Jef Kinderen": [("insurance", "expiring")]}
    at(rc, 36)  # and the extract ends on day 65
    assert listed()["Jef Kinderen"] == [("insurance", "expiring"), ("criminal_record_extract", "expiring")]
    assert listed(item="criminal_record_extract") == {"Jef Kinderen": [("criminal_record_extract", "expiring")]}
    at(rc, 61)
    assert listed(state="expired") == {"Ilse Volwassen": [("insurance", "expired")],
                                       "Jef Kinderen": [("insurance", "expired")]}
    view = rc.ok(rc.get(f"/volunteers/{minors}"))
    assert {(i["item"], i["state"]) for i in view["legal_attention"]} == {
        ("insurance", "expired"), ("criminal_record_extract", "expiring")}
    rc.step(minors, "legal-items", {"item": "insurance", "dated": day(61), "valid_until": day(426)})
    rc.step(minors, "legal-items", {"item": "criminal_record_extract", "dated": day(60)})
    assert listed() == {"Ilse Volwassen": [("insurance", "expired")]}
    page = rc.ok(rc.get(f"/projects/{ANTWERPEN}/legal-items", limit=1))
    assert (page["total"], page["today"], page["horizon_days"]) == (1, day(61), 30)
    # the waiting volunteer was never listed; once their target groups include minors, the extract is needed
    assert rc.status(waiting) == "enquired"
    rc.ok(rc.call("PUT", f"/volunteers/{adult}/preferences", PRO, {"target_groups": ["youth"]}))
    assert listed(item="criminal_record_extract") == {"Ilse Volwassen": [("criminal_record_extract", "missing")]}
    assert date.fromisoformat(rc.today) == DAY0 + timedelta(days=61)
