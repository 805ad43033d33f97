"""Entries after the fact through the HTTP APIs: a referral and an availability take their
real day, bounded with a 422 that names the date, and a past duo is then registered
against those days, its waits counted from what happened."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from shared.eventstore.db import reader
from shared.eventstore.tables import events as event_log
from tests.integration.test_matching_api import MT, P, make, mt, refused  # noqa: F401 (fixtures)
from tests.integration.test_recruitment_api import ANTWERPEN, RC, check, clock, rc  # noqa: F401 (fixtures)


def occurred_days(runtime, event_type: str) -> list[str]:  # type: ignore[no-untyped-def]
    with reader(runtime.engine).connect() as conn:
        return [str(t)[:10] for t in conn.execute(select(event_log.c.occurred_at).where(event_log.c.type == event_type)
                                                  .order_by(event_log.c.position)).scalars()]


# ---------------------------------------------------------------------------- recruitment: availability
def test_an_availability_entered_after_the_fact_dates_the_waiting(rc: RC) -> None:
    rc.project()
    today = rc.clock.today()
    vid = rc.enquire(received_on=(today - timedelta(days=90)).isoformat())
    rc.step(vid, "intake", {"held_on": (today - timedelta(days=85)).isoformat()})
    rc.step(vid, "screening", {"screened_on": (today - timedelta(days=80)).isoformat(), "outcome": "approved"})
    rc.step(vid, "training", {"session_on": (today - timedelta(days=75)).isoformat(), "kind": "group_training",
                              "hours": 2})
    body = {"target_groups": ["individual_adult"]}

    # In the future, before the approved screening, before the system's floor: 422 naming the date.
    tomorrow = (today + timedelta(days=1)).isoformat()
    check(rc.post(f"/volunteers/{vid}/availability", {**body, "available_on": tomorrow}), 422, mentions=tomorrow,
          fields=["available_on"])
    early = (today - timedelta(days=81)).isoformat()
    refused_early = check(rc.post(f"/volunteers/{vid}/availability", {**body, "available_on": early}), 422,
                          mentions=early, fields=["available_on"])
    assert (today - timedelta(days=80)).isoformat() in refused_early["detail"]
    check(rc.post(f"/volunteers/{vid}/availability", {**body, "available_on": "1999-12-31"}), 422,
          fields=["available_on"])
    assert rc.status(vid) == "in_preparation"  # nothing recorded by the refusals

    on = today - timedelta(days=70)
    rc.step(vid, "availability", {**body, "available_on": on.isoformat()})
    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert view["status"] == "available" and view["waiting_since"] == on.isoformat()
    assert occurred_days(rc.runtime, "VolunteerMadeAvailable") == [on.isoformat()]  # what matching learns
    board = rc.ok(rc.get(f"/projects/{ANTWERPEN}/waiting-board"))
    assert [(p["volunteer_id"], p["days_waiting"]) for p in board["longest_waiting"]] == [(vid, 70)]


def test_an_availability_without_a_day_is_today(rc: RC) -> None:
    rc.project()
    vid = rc.enquire()
    rc.available(vid)
    assert rc.ok(rc.get(f"/volunteers/{vid}"))["waiting_since"] == rc.today


# ---------------------------------------------------------------------------- matching: referral and a past duo
def test_a_referral_entered_after_the_fact_and_a_past_duo_against_it(mt: MT) -> None:
    mt.clock.advance(days=300)
    today = mt.clock.today()
    tomorrow = (today + timedelta(days=1)).isoformat()
    body = refused(mt.post(f"/projects/{P}/participants", {
        "target_group": "individual_adult", "referrer_type": "self", "life_domains": ["isolation"],
        "municipality_nis": "11002", "consent_recorded": True, "referred_on": tomorrow,
        "personal": {"first_name": "Later", "last_name": "Deelnemer"}}), 422, fields=["referred_on"])
    assert tomorrow in body["detail"]
    refused(mt.post(f"/projects/{P}/participants", {
        "target_group": "individual_adult", "referrer_type": "self", "life_domains": ["isolation"],
        "municipality_nis": "11002", "consent_recorded": True, "referred_on": "1999-12-31",
        "personal": {"first_name": "Oud", "last_name": "Deelnemer"}}), 422, fields=["referred_on"])

    referred_on = today - timedelta(days=200)
    person = mt.refer(referred_on=referred_on.isoformat())
    view = mt.participant(person)
    assert view["referred_at"][:10] == referred_on.isoformat() and view["waiting_days"] == 200
    assert view["consent"]["given_on"] == referred_on.isoformat()  # consent given at the referral
    waiting = mt.ok(mt.get(f"/projects/{P}/waiting-list"))["waiting"]
    assert [(w["participant_id"], w["waiting_days"]) for w in waiting] == [(person, 200)]

    # The volunteer became available 150 days ago (recruitment dated the event on that day).
    available_on = today - timedelta(days=150)
    mt.volunteer("v-past", available_on=available_on)
    assert mt.pool()["v-past"]["waiting_days"] == 150

    before = (today - timedelta(days=160)).isoformat()
    body = refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-past", "participant_id": person,
                                                   "started_on": before}), 422, fields=["started_on"])
    assert before in body["detail"] and available_on.isoformat() in body["detail"]
    too_early = (referred_on - timedelta(days=1)).isoformat()
    body = refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-past", "participant_id": person,
                                                   "started_on": too_early}), 422, fields=["started_on"])
    assert referred_on.isoformat() in body["detail"]

    started_on = today - timedelta(days=120)
    duo = mt.ok(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-past", "participant_id": person,
                                                "started_on": started_on.isoformat()}), 201)["duo_id"]
    assert mt.ok(mt.get(f"/duos/{duo}"))["started_on"] == started_on.isoformat()
    assert mt.participant(person)["status"] == "in_duo"


def test_a_proposal_entered_after_the_fact_follows_the_referral(mt: MT) -> None:
    mt.clock.advance(days=100)
    today = mt.clock.today()
    person = mt.refer(referred_on=(today - timedelta(days=60)).isoformat())
    mt.volunteer("v-1", available_on=today - timedelta(days=90))
    duo = mt.ok(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-1", "participant_id": person,
                                                     "proposed_on": (today - timedelta(days=50)).isoformat()}),
                201)["duo_id"]
    mt.both_accept(duo)
    mt.ok(mt.post(f"/duos/{duo}/start", {"started_on": (today - timedelta(days=45)).isoformat()}))
    assert mt.ok(mt.get(f"/duos/{duo}"))["status"] == "active"
    assert date.fromisoformat(mt.ok(mt.get(f"/duos/{duo}"))["started_on"]) == today - timedelta(days=45)


def test_the_bound_is_the_belgian_day_around_midnight(mt: MT, rc: RC) -> None:
    """At 23:30 UTC it is already the next day in Brussels: that day is today, not the future."""
    from datetime import UTC, datetime

    rc.project()
    for clock in (mt.clock, rc.clock):
        clock.set(datetime(2026, 10, 24, 22, 30, tzinfo=UTC))  # 00:30 on 25 October in Brussels (summer time)
    belgian, next_day = "2026-10-25", "2026-10-26"
    person = mt.refer(referred_on=belgian)
    assert mt.participant(person)["referred_at"][:10] == belgian
    refused(mt.post(f"/projects/{P}/participants", {
        "target_group": "individual_adult", "referrer_type": "self", "life_domains": ["isolation"],
        "municipality_nis": "11002", "consent_recorded": True, "referred_on": next_day,
        "personal": {"first_name": "Morgen", "last_name": "Deelnemer"}}), 422, mentions=next_day, fields=["referred_on"])
    vid = rc.enquire(received_on=belgian)
    rc.prepare(vid)
    rc.step(vid, "availability", {"target_groups": ["individual_adult"], "available_on": belgian})
    assert rc.ok(rc.get(f"/volunteers/{vid}"))["waiting_since"] == belgian
