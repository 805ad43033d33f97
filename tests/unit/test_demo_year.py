"""The demo data's year in Antwerpen-Kempen: big enough for figures under the default
threshold, and every date one the services accept (checked on the plan, no services run)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from shared.contracts.recruitment import RecruitmentChannel
from shared.demo import CHANNELS, year_plan

TODAY = date(2026, 12, 8)
THRESHOLD = 10  # the default disclosure threshold


@pytest.mark.parametrize("today", [TODAY, date(2026, 3, 1), date(2028, 2, 29)])
def test_no_date_lies_in_the_future_and_no_step_precedes_the_one_before(today: date) -> None:
    plan = year_plan(today)
    for v in plan.volunteers:
        steps = [d for d in (v.received_on, v.intake_on, v.approved_on, v.coached_on, v.duo_on) if d is not None]
        assert steps == sorted(steps) and steps[-1] <= today, v
        assert all(v.duo_on is not None and v.duo_on <= c <= today for c in v.contacts), v
        if v.approved_on is None:  # stopped after the intake: no duo, no coaching
            assert v.coached_on is None and v.duo_on is None and not v.contacts
    in_duo = {v.index: v.duo_on for v in plan.volunteers if v.duo_on is not None}
    for session in plan.coaching:
        assert session.on <= today
        assert all(i in in_duo and in_duo[i] <= session.on for i in session.volunteers)  # buddies in a duo by then
        assert len(session.volunteers) >= (4 if session.kind == "intervision" else 2)


def test_the_year_shows_figures_under_the_default_threshold() -> None:
    plan = year_plan(TODAY)
    per_month = Counter(v.received_on.strftime("%Y-%m") for v in plan.volunteers)
    year_ago = TODAY - timedelta(days=365)
    months = [m for m in per_month if m > year_ago.strftime("%Y-%m")]
    assert len(months) >= 10
    # enough enquiries in most months of the dashboard's default year to show them month by month
    assert sum(per_month[m] >= THRESHOLD for m in months) >= 8, per_month
    assert plan.duos >= 8 * THRESHOLD and plan.contacts >= 20 * THRESHOLD
    stopped = sum(v.approved_on is None for v in plan.volunteers)
    assert THRESHOLD <= stopped < len(plan.volunteers) // 4
    assert len({c.on.strftime("%Y-%m") for c in plan.coaching}) >= 10
    coached = {i for c in plan.coaching for i in c.volunteers}
    assert len(coached) >= THRESHOLD


def test_the_plan_is_the_same_every_time_and_uses_the_known_channels() -> None:
    assert year_plan(TODAY) == year_plan(TODAY)
    assert {v.name for v in year_plan(TODAY).volunteers}  # invented names, drawn from the lists
    assert set(CHANNELS) <= {c.value for c in RecruitmentChannel}


@pytest.mark.parametrize("today", [TODAY, date(2026, 3, 29), date(2028, 2, 29)])
def test_every_duo_starts_after_its_referral_and_its_volunteers_availability(today: date) -> None:
    """Matching refuses a duo dated before either; the plan enters both with their real day."""
    plan = year_plan(today)
    in_duo = [v for v in plan.volunteers if v.duo_on is not None]
    assert len(plan.referrals) == len(in_duo) + plan.waiting_participants
    for v, referred_on in zip(in_duo, plan.referrals, strict=False):
        assert v.available_on is not None and v.approved_on is not None
        assert v.approved_on <= v.available_on <= v.duo_on  # type: ignore[operator]
        assert referred_on <= v.duo_on  # type: ignore[operator]
    assert all(r <= today for r in plan.referrals)
    # the waits are real: not every duo starts on its referral's or availability's day
    assert len({(v.duo_on - r).days for v, r in zip(in_duo, plan.referrals, strict=False)}) > 5  # type: ignore[operator]
