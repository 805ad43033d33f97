"""Properties of the case rules, decided without I/O: the Belgian calendar day around midnight
and the summer-time changes, the date order of duos, the screening for work with minors,
the Today alert when a screening lapses during a duo, consent on follow-up calls, duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock, brussels_day
from shared.domain import DomainError, InvalidInput
from shared.duplicates import refuse_likely_duplicate
from shared.screening import EXTRACT, INSURANCE, LegalDates, first_lapse, gaps_on, last_valid_day
from services.followup.domain import FollowUpCall, screening_alert
from services.matching.domain import Duo, PairFacts

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC))


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def belgian_offset(moment: datetime) -> timedelta:
    """The EU rule, independently of any time-zone database: summer time (UTC+2) from the last
    Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC, else UTC+1."""
    year = moment.year
    start = datetime.combine(_last_sunday(year, 3), datetime.min.time(), UTC) + timedelta(hours=1)
    end = datetime.combine(_last_sunday(year, 10), datetime.min.time(), UTC) + timedelta(hours=1)
    return timedelta(hours=2) if start <= moment < end else timedelta(hours=1)


# ---------------------------------------------------------------------------- today in Brussels
@given(MOMENTS)
def test_today_is_the_belgian_calendar_day(moment: datetime) -> None:
    assert brussels_day(moment) == (moment + belgian_offset(moment)).date()
    assert FixedClock(moment).today() == brussels_day(moment)


@given(DAYS.filter(lambda d: d < date(2100, 12, 31)), st.integers(min_value=0, max_value=3 * 3600 - 1))
def test_around_midnight_the_belgian_day_turns_before_the_utc_day(day: date, seconds: int) -> None:
    """From 22:00 or 23:00 UTC (summer or winter time) it is already the next day in Brussels."""
    moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=21, seconds=seconds)
    turns_at = 24 - belgian_offset(moment).seconds // 3600  # 22 in summer, 23 in winter
    expected = day + timedelta(days=1) if moment.hour >= turns_at else day
    assert brussels_day(moment) == expected
    assert brussels_day(moment + timedelta(hours=3)) == day + timedelta(days=1)  # 00:00–02:59 UTC next day


@given(st.integers(min_value=2000, max_value=2100), st.sampled_from([3, 10]), st.integers(min_value=-180, max_value=180))
def test_the_summer_time_changes_keep_every_minute_on_its_day(year: int, month: int, minutes: int) -> None:
    """The clocks change at 01:00 UTC on the last Sunday of March and of October."""
    change = datetime.combine(_last_sunday(year, month), datetime.min.time(), UTC) + timedelta(hours=1)
    moment = change + timedelta(minutes=minutes)
    assert brussels_day(moment) == (moment + belgian_offset(moment)).date()
    if minutes >= -120:  # from 23:00 UTC the evening before: already the change day in Brussels
        assert brussels_day(moment) == change.date()
    # 22:00 UTC the evening before is 23:00 in March (winter time still) but 00:00 in October (summer time still).
    evening = change - timedelta(hours=3)
    assert brussels_day(evening) == (change.date() - timedelta(days=1) if month == 3 else change.date())


def test_known_instants() -> None:
    assert brussels_day(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == date(2026, 3, 29)  # winter: 00:30
    assert brussels_day(datetime(2026, 3, 29, 22, 30, tzinfo=UTC)) == date(2026, 3, 30)  # summer: 00:30
    assert brussels_day(datetime(2026, 10, 24, 21, 59, tzinfo=UTC)) == date(2026, 10, 24)  # 23:59 summer
    assert brussels_day(datetime(2026, 10, 24, 22, 0, tzinfo=UTC)) == date(2026, 10, 25)
    assert brussels_day(datetime(2026, 10, 25, 22, 59, tzinfo=UTC)) == date(2026, 10, 25)  # 23:59 winter
    with pytest.raises(ValueError):
        brussels_day(datetime(2026, 1, 1))


# ---------------------------------------------------------------------------- date order of duos
@given(referred=DAYS, available=st.one_of(st.none(), DAYS), day=DAYS)
def test_a_duo_is_never_dated_before_the_referral_or_the_availability(referred: date, available: date | None,
                                                                       day: date) -> None:
    pair = PairFacts(target_group="individual_adult", referred_on=referred, available_since=available)
    today = max(day, referred, available or day)
    broken = day < referred or (available is not None and day < available)
    for act, field in ((lambda: Duo("d-p").propose(project_id="p", volunteer_id="v", participant_id="pt",
                                                     proposed_on=day, today=today, pair=pair), "proposed_on"),
                       (lambda: Duo("d-s").start(project_id="p", volunteer_id="v", participant_id="pt", started_on=day,
                                                 agreed_contacts_per_month=2, today=today, pair=pair), "started_on")):
        if broken:
            with pytest.raises(InvalidInput) as refused:
                act()
            assert refused.value.field == field
            conflicting = referred if day < referred else available
            assert day.isoformat() in refused.value.message and conflicting.isoformat() in refused.value.message
        else:
            [event] = act()
            assert event.duo_id.startswith("d-")


# ---------------------------------------------------------------------------- screening for minors
LIMIT = st.integers(min_value=1, max_value=1000)
RECORD = st.builds(LegalDates, DAYS, st.one_of(st.none(), DAYS))


@given(extract=st.one_of(st.none(), RECORD), insurance=st.one_of(st.none(), RECORD), on=DAYS, limit=LIMIT)
def test_cleared_exactly_when_extract_is_recent_and_insurance_valid(extract: LegalDates | None,
                                                                    insurance: LegalDates | None, on: date,
                                                                    limit: int) -> None:
    legal = {k: v for k, v in ((EXTRACT, extract), (INSURANCE, insurance)) if v is not None}
    extract_ok = extract is not None and extract.dated <= on and (on - extract.dated).days <= limit and (
        extract.valid_until is None or on <= extract.valid_until)
    insurance_ok = insurance is not None and insurance.dated <= on and (
        insurance.valid_until is None or on <= insurance.valid_until)
    gaps = gaps_on(legal, on, limit)
    assert (not gaps) == (extract_ok and insurance_ok)
    assert {g.item for g in gaps} == {i for i, ok in ((EXTRACT, extract_ok), (INSURANCE, insurance_ok)) if not ok}
    for gap in gaps:  # every gap names the item and the date that conflicts
        assert gap.reason == "missing" or (gap.day is not None and gap.day.isoformat() in gap.en)


@given(record=RECORD, limit=LIMIT)
def test_the_last_valid_day_is_where_the_extract_stops_clearing(record: LegalDates, limit: int) -> None:
    last = last_valid_day(EXTRACT, record, limit)
    assert last is not None
    legal = {EXTRACT: record, INSURANCE: LegalDates(date(2000, 1, 1))}
    if record.dated <= last and last < date(2100, 12, 31):
        assert not gaps_on(legal, last, limit)
        assert gaps_on(legal, last + timedelta(days=1), limit)


@given(extract=RECORD, insurance=RECORD, limit=LIMIT, today=DAYS, notice=st.integers(min_value=0, max_value=90),
       target_group=st.sampled_from(["individual_adult", "family", "child", "youth"]))
def test_the_today_alert_follows_the_item_that_lapses_first(extract: LegalDates, insurance: LegalDates, limit: int,
                                                            today: date, notice: int, target_group: str) -> None:
    legal = {EXTRACT: extract, INSURANCE: insurance}
    alert = screening_alert(target_group=target_group, legal=legal, today=today, extract_max_age_days=limit,
                            notice_days=notice)
    if target_group == "individual_adult":
        assert alert is None
        return
    lapse = first_lapse(legal, limit)
    if lapse is None or lapse[1] is None:
        assert lapse is None and alert is None
        return
    item, last = lapse
    if last < today:
        assert alert is not None and (alert.item, alert.state, alert.days) == (item, "expired", (today - last).days)
        assert last.isoformat() in alert.message()["en"]
    elif (last - today).days <= notice:
        assert alert is not None and (alert.state, alert.days) == ("expiring", (last - today).days)
    else:
        assert alert is None


def test_a_missing_item_is_an_alert_and_a_refusal() -> None:
    alert = screening_alert(target_group="youth", legal={INSURANCE: LegalDates(date(2026, 1, 1))},
                            today=date(2026, 2, 1), extract_max_age_days=365, notice_days=30)
    assert alert is not None and (alert.item, alert.state) == (EXTRACT, "missing")
    pair = PairFacts(target_group="child", referred_on=None, available_since=None,
                     legal={INSURANCE: LegalDates(date(2026, 1, 1))})
    with pytest.raises(DomainError) as refused:
        Duo("d-1").propose(project_id="p", volunteer_id="v", participant_id="pt", proposed_on=date(2026, 2, 1),
                           today=date(2026, 2, 1), pair=pair)
    assert refused.value.status_code == 409 and "model 2" in refused.value.message


def test_a_start_registered_after_the_fact_needs_screening_then_and_now() -> None:
    """Valid on the day the duo started but expired by today: still refused, naming today's gap."""
    legal = {EXTRACT: LegalDates(date(2025, 1, 10)), INSURANCE: LegalDates(date(2025, 1, 10))}
    pair = PairFacts(target_group="family", referred_on=date(2025, 1, 1), available_since=date(2025, 1, 5), legal=legal)
    with pytest.raises(DomainError) as refused:
        Duo("d-2").start(project_id="p", volunteer_id="v", participant_id="pt", started_on=date(2025, 6, 1),
                         agreed_contacts_per_month=2, today=date(2026, 2, 1), pair=pair)
    assert "2025-01-10" in refused.value.message and "2026-02-01" in refused.value.message
    [started] = Duo("d-3").start(project_id="p", volunteer_id="v", participant_id="pt", started_on=date(2025, 6, 1),
                                 agreed_contacts_per_month=2, today=date(2025, 12, 1), pair=pair)
    assert started.started_on == date(2025, 6, 1)


# ---------------------------------------------------------------------------- consent and duplicates
def _scheduled_call() -> FollowUpCall:
    call = FollowUpCall("call-d-1-3m")
    for event in call.schedule(duo_id="d-1", project_id="p", ended_on=date(2026, 1, 1), months_after_end=3):
        call.apply(event)
    return call


def test_reached_needs_consent_and_a_cancelled_call_takes_nothing() -> None:
    from services.followup.domain import CallAnswers
    from shared.contracts.followup import CallCancelReason, FollowUpCallOutcome
    call = _scheduled_call()
    with pytest.raises(DomainError) as refused:
        call.complete(outcome=FollowUpCallOutcome.reached, completed_on=date(2026, 4, 2), answers=CallAnswers(wellbeing=7),
                      today=date(2026, 4, 2), consent_to_call=False)
    assert refused.value.code == "no_consent"
    # Declined or not reached may still be recorded (nobody was asked anything).
    assert call.complete(outcome=FollowUpCallOutcome.declined, completed_on=date(2026, 4, 2), answers=None,
                         today=date(2026, 4, 2), consent_to_call=False)
    [cancelled] = call.cancel(cancelled_on=date(2026, 3, 1), reason=CallCancelReason.consent_withdrawn)
    call.apply(cancelled)
    assert call.cancel(cancelled_on=date(2026, 3, 2), reason=CallCancelReason.consent_withdrawn) == []
    with pytest.raises(DomainError):
        call.attempt(attempted_on=date(2026, 4, 2), today=date(2026, 4, 2), max_attempts=3)


@settings(max_examples=50)
@given(st.lists(st.sampled_from(["v-1", "v-2", "v-3"]), max_size=4), st.booleans())
def test_a_likely_duplicate_is_refused_with_the_existing_file_unless_confirmed(existing: list[str],
                                                                              confirmed: bool) -> None:
    if not existing or confirmed:
        refuse_likely_duplicate(existing, confirmed_other_person=confirmed, what_nl="vrijwilliger", what_en="volunteer")
        return
    with pytest.raises(DomainError) as refused:
        refuse_likely_duplicate(existing, confirmed_other_person=confirmed, what_nl="vrijwilliger", what_en="volunteer")
    assert refused.value.details["existing_file"] == min(existing)
    assert all(v in refused.value.message for v in existing)
