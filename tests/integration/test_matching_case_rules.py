"""Case rules of matching through its HTTP API: who may be matched with a child, youth or
family, erased volunteers leaving the work, and dates that make sense.

Recruitment's events (legal items with their dates, erasures) are handed to matching's
subscriber as the consumer would; the clock is a ``FixedClock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from shared.contracts import recruitment as rc
from tests.integration.test_matching_api import MT, P, make, mt, refused  # noqa: F401 (fixtures)


def excluded_codes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["volunteer_id"]: {v["code"]: v for v in e["violations"]} for e in body["excluded"]}


def screening_pool(mt: MT) -> None:
    today = mt.clock.today()
    mt.volunteer("v-ok", target_groups=["family", "individual_adult"])
    mt.volunteer("v-none", target_groups=["family", "individual_adult"], cleared=False)
    mt.volunteer("v-old", target_groups=["family", "individual_adult"], cleared=False)
    mt.legal("v-old", "criminal_record_extract", today - timedelta(days=400))
    mt.legal("v-old", "insurance", today - timedelta(days=400))
    mt.volunteer("v-noins", target_groups=["family", "individual_adult"], cleared=False)
    mt.legal("v-noins", "criminal_record_extract", today - timedelta(days=30))
    mt.legal("v-noins", "insurance", today - timedelta(days=300), valid_until=today - timedelta(days=1))


def test_a_family_never_gets_an_unscreened_volunteer_in_suggestions(mt: MT) -> None:
    screening_pool(mt)
    family = mt.refer(target_group="family")
    adult = mt.refer(target_group="individual_adult")

    body = mt.ok(mt.get(f"/participants/{family}/suggestions", include_excluded="true"))
    assert [s["volunteer_id"] for s in body["suggestions"]] == ["v-ok"]
    why = excluded_codes(body)
    assert set(why) == {"v-none", "v-old", "v-noins"}
    assert "ontbreekt" in why["v-none"]["screening_minors"]["nl"]
    assert "is missing" in why["v-none"]["screening_minors"]["en"]
    old = (mt.clock.today() - timedelta(days=400)).isoformat()
    assert old in why["v-old"]["screening_minors"]["en"] and "older than 365 days" in why["v-old"]["screening_minors"]["en"]
    expired = (mt.clock.today() - timedelta(days=1)).isoformat()
    assert f"insurance was valid until {expired}" in why["v-noins"]["screening_minors"]["en"]

    # An adult needs no extract: all four are suggested.
    adults = mt.ok(mt.get(f"/participants/{adult}/suggestions"))
    assert {s["volunteer_id"] for s in adults["suggestions"]} == {"v-ok", "v-none", "v-old", "v-noins"}
    # The waiting list shows the same suggestions.
    waiting = {w["participant_id"]: w for w in mt.ok(mt.get(f"/projects/{P}/waiting-list", suggestions=5))["waiting"]}
    assert [s["volunteer_id"] for s in waiting[family]["suggestions"]] == ["v-ok"]
    # The pool says who is cleared and why not.
    pool = mt.pool()
    assert pool["v-ok"]["cleared_for_minors"] and not pool["v-none"]["cleared_for_minors"]
    assert {g["item"] for g in pool["v-none"]["screening_gaps"]} == {"criminal_record_extract", "insurance"}


def test_proposal_start_and_registration_are_refused_without_screening(mt: MT) -> None:
    screening_pool(mt)
    for target_group in ("family", "child", "youth"):
        mt.project(target_groups=("individual_adult", "family", "child", "youth"))
        mt.volunteer(f"v-{target_group}", target_groups=[target_group], cleared=False)
        person = mt.refer(target_group=target_group)
        refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": f"v-{target_group}", "participant_id": person}),
                409, mentions="model 2")
        refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": f"v-{target_group}", "participant_id": person,
                                                "started_on": mt.today}), 409, mentions="model 2")
    family = mt.refer(target_group="family")
    for volunteer in ("v-none", "v-old", "v-noins"):
        refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": volunteer, "participant_id": family}),
                409, mentions="minors")
    # The screened volunteer is proposed and started.
    duo = mt.match("v-ok", family)
    assert mt.ok(mt.get(f"/duos/{duo}"))["status"] == "active"


def test_an_extract_that_expires_between_proposal_and_kick_off_stops_the_start(mt: MT) -> None:
    today = mt.clock.today()
    mt.volunteer("v-soon", target_groups=["family"], cleared=False)
    mt.legal("v-soon", "criminal_record_extract", today - timedelta(days=360))
    mt.legal("v-soon", "insurance", today - timedelta(days=360))
    family = mt.refer(target_group="family")
    duo = mt.propose("v-soon", family)
    mt.both_accept(duo)
    mt.clock.advance(days=10)  # the extract is now 370 days old
    body = refused(mt.post(f"/duos/{duo}/start", {"started_on": mt.today}), 409, mentions="model 2")
    assert (today - timedelta(days=360)).isoformat() in body["detail"]
    # A renewed extract clears the way.
    mt.legal("v-soon", "criminal_record_extract", mt.clock.today())
    mt.ok(mt.post(f"/duos/{duo}/start", {"started_on": mt.today}))


def test_the_overall_assignment_never_pairs_a_family_with_an_unscreened_volunteer(mt: MT) -> None:
    screening_pool(mt)
    families = [mt.refer(target_group="family") for _ in range(4)]
    adults = [mt.refer(target_group="individual_adult") for _ in range(2)]
    body = mt.ok(mt.get(f"/projects/{P}/assignment"))
    pairs = {p["participant_id"]: p["volunteer_id"] for p in body["pairs"]}
    for family in families:
        assert pairs.get(family) in (None, "v-ok")
    assert sum(1 for f in families if f in pairs) == 1  # only one screened place for four families
    assert all(a in pairs for a in adults)  # adults are matched with the others
    assert body["assigned"] == 3


def test_erased_volunteers_leave_matching_and_lists_say_erased(mt: MT) -> None:
    mt.volunteer("v-stays", target_groups=["individual_adult"])
    mt.volunteer("v-gone", target_groups=["individual_adult"])
    mt.volunteer("v-duo", target_groups=["individual_adult"])
    person = mt.refer()
    other = mt.refer()
    duo = mt.match("v-duo", other)
    for volunteer in ("v-gone", "v-duo"):
        mt.deliver(rc.VolunteerPersonalDataErased(volunteer_id=volunteer, project_id=P))

    assert set(mt.pool()) == {"v-stays"}  # no longer offered, nor shown as waiting
    everyone = {c["volunteer_id"]: c for c in mt.ok(mt.get(f"/projects/{P}/candidates", status="all"))["candidates"]}
    assert everyone["v-gone"]["name_label"] == {"nl": "gewist", "en": "erased"}
    assert everyone["v-gone"]["waiting_since"] is None and "name_label" not in everyone["v-stays"]

    body = mt.ok(mt.get(f"/participants/{person}/suggestions", include_excluded="true"))
    assert [s["volunteer_id"] for s in body["suggestions"]] == ["v-stays"]
    assert "erased" in excluded_codes(body)["v-gone"]
    refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-gone", "participant_id": person}), 409,
            mentions="erased")
    assert all(p["volunteer_id"] != "v-gone" for p in mt.ok(mt.get(f"/projects/{P}/assignment"))["pairs"])
    # The running duo goes on; its lists say "gewist / erased" where the name was.
    listed = {d["duo_id"]: d for d in mt.ok(mt.get(f"/projects/{P}/duos"))["duos"]}
    assert listed[duo]["volunteer_personal_data_erased"] is True
    assert listed[duo]["volunteer_name_label"] == {"nl": "gewist", "en": "erased"}
    assert mt.ok(mt.get(f"/duos/{duo}"))["volunteer_name_label"] == {"nl": "gewist", "en": "erased"}


def test_duos_are_never_dated_before_the_referral_or_the_availability(mt: MT) -> None:
    mt.clock.advance(days=20)
    person = mt.refer()
    referred = mt.today
    early = (mt.clock.today() - timedelta(days=3)).isoformat()
    mt.volunteer("v-early", target_groups=["individual_adult"])
    body = refused(mt.post(f"/projects/{P}/proposals", {"volunteer_id": "v-early", "participant_id": person,
                                                        "proposed_on": early}), 422, fields=["proposed_on"])
    assert referred in body["detail"] and early in body["detail"] and "referral" in body["detail"]
    refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-early", "participant_id": person,
                                            "started_on": early}), 422, fields=["started_on"])

    # A volunteer made available later than the participant's referral: not before that day either.
    older = mt.refer()
    mt.clock.advance(days=5)
    mt.volunteer("v-late", target_groups=["individual_adult"])
    between = (mt.clock.today() - timedelta(days=2)).isoformat()
    body = refused(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-late", "participant_id": older,
                                                   "started_on": between}), 422, fields=["started_on"])
    assert mt.today in body["detail"] and "available" in body["detail"]
    mt.ok(mt.post(f"/projects/{P}/duos", {"volunteer_id": "v-late", "participant_id": older, "started_on": mt.today}), 201)


def test_a_second_referral_for_the_same_person_is_answered_with_the_existing_file(mt: MT) -> None:
    person = {"first_name": "Fatima", "last_name": "El Amrani", "birth_date": "2015-09-30"}
    first = mt.refer(target_group="family", personal=person)
    body = refused(mt.post(f"/projects/{P}/participants", {
        "target_group": "family", "referrer_type": "school", "life_domains": ["poverty"], "municipality_nis": "11002",
        "consent_recorded": True, "personal": {"first_name": "fatima", "last_name": "EL-AMRANI",
                                               "birth_date": "2015-09-30"}}), 409, mentions=first)
    assert body["code"] == "likely_duplicate" and body["existing_file"] == first
    assert mt.ok(mt.get(f"/projects/{P}/participants"))["total"] == 1
    # Another birth date, another project, or confirmed as someone else: a new file.
    mt.refer(personal={**person, "birth_date": "2016-09-30"})
    mt.refer(project_id="demo-brugge", token="dev-professional-other", personal=person)
    confirmed = mt.ok(mt.post(f"/projects/{P}/participants", {
        "target_group": "family", "referrer_type": "school", "life_domains": ["poverty"], "municipality_nis": "11002",
        "consent_recorded": True, "personal": person, "confirmed_other_person": True}), 201)["participant_id"]
    assert confirmed != first
    # An erased file no longer answers for anyone.
    for participant in (first, confirmed):
        mt.ok(mt.post(f"/participants/{participant}/erasure"))
    mt.refer(personal=person)


def test_an_index_from_before_identity_keys_is_rebuilt_at_start_up(mt: MT) -> None:
    """Migration 0103 empties the blind index; the service refills it from the sealed referrals."""
    from sqlalchemy import delete

    from services.matching.read_models import participant_names

    person = {"first_name": "Yusuf", "last_name": "Demir", "birth_date": "2012-02-29"}
    first = mt.refer(target_group="family", personal=person)
    gone = mt.refer(personal={"first_name": "Weg", "last_name": "Gewist", "birth_date": "2011-01-01"})
    mt.ok(mt.post(f"/participants/{gone}/erasure"))
    with mt.runtime.engine.begin() as conn:
        conn.execute(delete(participant_names))
    mt.runtime.migrate()
    body = refused(mt.post(f"/projects/{P}/participants", {
        "target_group": "family", "referrer_type": "school", "life_domains": ["poverty"], "municipality_nis": "11002",
        "consent_recorded": True, "personal": person}), 409, mentions=first)
    assert body["existing_file"] == first
    found = mt.ok(mt.get(f"/projects/{P}/participants", name="demir"))["participants"]
    assert [p["participant_id"] for p in found] == [first]
    assert mt.ok(mt.get(f"/projects/{P}/participants", name="gewist"))["total"] == 0  # the erased stay unfindable
