"""Entries after the fact: a referral and an availability carry their real day, bounded
(not after the Belgian today, not before the system's floor), and a duo is then dated
against those days — so a past duo can be registered and its wait is what happened.

Decided in the aggregates, with no I/O.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.common import EARLIEST_DAY, MatchingPreferences, TargetGroup
from shared.contracts.matching import LifeDomain, ReferrerType
from shared.contracts.recruitment import RecruitmentChannel, ScreeningOutcome, TrainingKind
from shared.domain import InvalidInput, entered_day
from services.matching.domain import Duo, PairFacts, Participant
from services.recruitment.domain import Volunteer, VolunteerStatus

TODAY = date(2026, 12, 8)
PREFS = MatchingPreferences(target_groups=[TargetGroup.individual_adult])
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


# ---------------------------------------------------------------------------- the bound itself
@settings(max_examples=300, deadline=None)
@given(day=days, today=st.dates(min_value=EARLIEST_DAY, max_value=date(2040, 12, 31)),
       earliest=st.none() | st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31)))
def test_an_entered_day_is_accepted_exactly_within_its_bounds(day: date, today: date, earliest: date | None) -> None:
    floor = max(earliest or EARLIEST_DAY, EARLIEST_DAY)
    if floor <= day <= today:
        assert entered_day(day, today, "on", earliest=earliest) == day
        return
    with pytest.raises(InvalidInput) as err:
        entered_day(day, today, "on", earliest=earliest)
    assert err.value.field == "on"
    assert day.isoformat() in str(err.value)  # the refusal names the date
    assert ("toekomst" in str(err.value) and "future" in str(err.value)) if day > today else (
        floor.isoformat() in str(err.value) and "start of the project" in str(err.value))


# ---------------------------------------------------------------------------- referral
def refer(p: Participant, **kw: object) -> list:  # type: ignore[type-arg]
    return p.refer(project_id="p-1", target_group=TargetGroup.individual_adult, referrer_type=ReferrerType.self,
                   life_domains=[LifeDomain.isolation], municipality_nis="11002", languages=["nl"],
                   consent_recorded=False, birth_date=date(1990, 12, 20), today=TODAY, **kw)  # type: ignore[arg-type]


def test_a_referral_entered_after_the_fact_carries_its_day_and_the_age_then() -> None:
    [event] = refer(Participant("pt-1"), referred_on=date(2025, 12, 1))
    assert event.referred_on == date(2025, 12, 1)
    assert event.age_band.value == "25-34"  # 34 on the referral day, 35 today
    [today] = refer(Participant("pt-2"))
    assert today.referred_on == TODAY and today.age_band.value == "35-44"


@pytest.mark.parametrize("day,mentions", [(TODAY + timedelta(days=1), "2026-12-09"),
                                          (date(1999, 12, 31), "1999-12-31")])
def test_a_referral_in_the_future_or_before_the_floor_is_refused_naming_the_day(day: date, mentions: str) -> None:
    with pytest.raises(InvalidInput) as err:
        refer(Participant("pt-1"), referred_on=day)
    assert err.value.field == "referred_on" and mentions in str(err.value)


# ---------------------------------------------------------------------------- availability
def prepared(screened_on: date) -> Volunteer:
    v = Volunteer("v-1")
    enquiry = screened_on - timedelta(days=20)
    for e in v.receive_enquiry(project_id="p-1", channel=RecruitmentChannel.website, municipality_nis="11002",
                               birth_date=None, gender=None, today=TODAY, received_on=enquiry):
        v.apply(e, enquiry)
    for e in v.hold_intake(held_on=enquiry + timedelta(days=3), has_note=False, today=TODAY):
        v.apply(e, enquiry + timedelta(days=3))
    for e in v.screen(screened_on=screened_on, outcome=ScreeningOutcome.approved, refusal_reason=None,
                      has_note=False, today=TODAY):
        v.apply(e, screened_on)
    for e in v.record_training(session_on=screened_on, kind=TrainingKind.group_training, hours=2, today=TODAY):
        v.apply(e, screened_on)
    return v


def test_an_availability_entered_after_the_fact_dates_the_waiting() -> None:
    v = prepared(date(2026, 3, 1))
    on = date(2026, 3, 15)
    events = v.make_available(preferences=PREFS, available_on=on, today=TODAY)
    for e in events:
        v.apply(e, on)  # the handler dates the event on the entered day
    assert (v.status, v.waiting_since, v.stage_since) == (VolunteerStatus.available, on, on)


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(min_value=-400, max_value=400))
def test_an_availability_is_bounded_by_the_screening_and_today(offset: int) -> None:
    screened = date(2026, 6, 1)
    on = screened + timedelta(days=offset)
    v = prepared(screened)
    if screened <= on <= TODAY:
        [event] = v.make_available(preferences=PREFS, available_on=on, today=TODAY)
        assert event.preferences.target_groups == PREFS.target_groups
        return
    with pytest.raises(InvalidInput) as err:
        v.make_available(preferences=PREFS, available_on=on, today=TODAY)
    assert err.value.field == "available_on" and on.isoformat() in str(err.value)
    if on < screened:
        assert screened.isoformat() in str(err.value) and "approved screening" in str(err.value)


# ---------------------------------------------------------------------------- a past duo
@settings(max_examples=200, deadline=None)
@given(referred=st.integers(0, 400), available=st.integers(0, 400), started=st.integers(-5, 400))
def test_a_past_duo_starts_on_or_after_both_entered_days(referred: int, available: int, started: int) -> None:
    """Days are counted back from today; a start before either entered day is refused naming both."""
    referred_on, available_on = TODAY - timedelta(days=referred), TODAY - timedelta(days=available)
    started_on = TODAY - timedelta(days=started)
    pair = PairFacts(target_group="individual_adult", referred_on=referred_on, available_since=available_on)
    start = dict(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", started_on=started_on,
                 agreed_contacts_per_month=2, today=TODAY, pair=pair)
    if started_on > TODAY:
        with pytest.raises(InvalidInput, match="future"):
            Duo("d-1").start(**start)  # type: ignore[arg-type]
    elif started_on < referred_on:
        with pytest.raises(InvalidInput, match=referred_on.isoformat()):
            Duo("d-1").start(**start)  # type: ignore[arg-type]
    elif started_on < available_on:
        with pytest.raises(InvalidInput, match=available_on.isoformat()):
            Duo("d-1").start(**start)  # type: ignore[arg-type]
    else:
        [event] = Duo("d-1").start(**start)  # type: ignore[arg-type]
        assert event.started_on == started_on and (event.started_on - referred_on).days >= 0
