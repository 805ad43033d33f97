"""The aggregates decide events from commands with no I/O; tested directly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.common import AgeBand, MatchingPreferences, TargetGroup, age_band
from shared.contracts.followup import Activity, ContactMode
from shared.contracts.matching import EndReason
from shared.contracts.recruitment import RecruitmentChannel, ScreeningOutcome, StopReason
from shared.domain import DomainError, NotFound
from services.followup.domain import DuoLog
from services.matching.domain import Duo, DuoStatus
from services.recruitment.domain import Project, Volunteer

TODAY = date(2026, 11, 21)


def enquired() -> Volunteer:
    v = Volunteer("v-1")
    for e in v.receive_enquiry(project_id="p-1", channel=RecruitmentChannel.website, municipality_nis="11002",
                               birth_date=date(1990, 1, 1), gender=None, today=TODAY):
        v.apply(e)
    return v


def test_enquiry_carries_only_an_age_band() -> None:
    v = Volunteer("v-1")
    [event] = v.receive_enquiry(project_id="p-1", channel=RecruitmentChannel.website, municipality_nis="11002",
                                birth_date=date(1990, 6, 1), gender=None, today=TODAY)
    assert event.age_band is AgeBand.age_35_44
    assert "birth" not in event.model_dump_json()


@pytest.mark.parametrize(("born", "band"), [
    (date(2010, 11, 22), AgeBand.under_18), (date(2008, 11, 21), AgeBand.age_18_24),
    (date(2001, 11, 22), AgeBand.age_18_24), (date(1961, 11, 21), AgeBand.age_65_plus),
])
def test_age_bands_turn_on_the_birthday(born: date, band: AgeBand) -> None:
    assert age_band(born, TODAY) is band


def test_invalid_transitions_are_refused_with_a_sentence() -> None:
    v = enquired()
    for e in v.hold_intake(held_on=TODAY, has_note=False, today=TODAY):
        v.apply(e)
    for e in v.screen(screened_on=TODAY, outcome=ScreeningOutcome.approved, refusal_reason=None, has_note=False,
                      today=TODAY):
        v.apply(e)
    for e in v.make_available(preferences=MatchingPreferences(target_groups=[TargetGroup.family])):
        v.apply(e)
    with pytest.raises(DomainError, match="already available"):
        v.make_available(preferences=MatchingPreferences(target_groups=[TargetGroup.family]))
    for e in v.stop(reason=StopReason.no_time):
        v.apply(e)
    with pytest.raises(DomainError, match="has stopped"):
        v.make_available(preferences=MatchingPreferences(target_groups=[TargetGroup.family]))
    with pytest.raises(DomainError, match="already stopped"):
        v.stop(reason=StopReason.other)
    with pytest.raises(NotFound):
        Volunteer("v-unknown").stop(reason=StopReason.other)


def test_a_project_is_registered_once() -> None:
    p = Project("p-1")
    for e in p.register(name="X", organisation="Y", municipality_nis="11002", region="r", target_groups=[TargetGroup.child],
                        funded_from=None, funded_until=None):
        p.apply(e)
    with pytest.raises(DomainError, match="already exists"):
        p.register(name="X", organisation="Y", municipality_nis="11002", region="r", target_groups=[TargetGroup.child],
                   funded_from=None, funded_until=None)


# The volunteer journey as a state machine: tests/unit/test_recruitment_domain.py.


def started_duo(on: date = TODAY - timedelta(days=10)) -> Duo:
    d = Duo("d-1")
    for e in d.start(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", started_on=on,
                     agreed_contacts_per_month=2):
        d.apply(e)
    return d


def test_a_duo_ends_once_and_not_before_it_started() -> None:
    d = started_duo()
    with pytest.raises(DomainError, match="before it started"):
        d.end(ended_on=TODAY - timedelta(days=11), reason=EndReason.moved, planned=False)
    for e in d.end(ended_on=TODAY, reason=EndReason.goals_reached, planned=True):
        d.apply(e)
    assert d.status is DuoStatus.ended
    with pytest.raises(DomainError, match="already ended"):
        d.end(ended_on=TODAY, reason=EndReason.other, planned=True)


@settings(max_examples=80, derandomize=True)
@given(offset=st.integers(min_value=-30, max_value=30), active=st.booleans())
def test_contacts_only_for_a_running_duo_and_within_its_life(offset: int, active: bool) -> None:
    started = TODAY - timedelta(days=10)
    contact_date = TODAY + timedelta(days=offset)
    log = DuoLog("d-1")
    kwargs = dict(contact_id="c-1", project_id="p-1", duo_active=active, started_on=started,
                  contact_date=contact_date, minutes=60, mode=ContactMode.phone, activities=[Activity.walk],
                  logged_by="buddy", has_private_note=False, today=TODAY)
    ok = active and started <= contact_date <= TODAY
    if ok:
        [event] = log.log_contact(**kwargs)
        log.apply(event)
        with pytest.raises(DomainError, match="already logged"):
            log.log_contact(**kwargs)
    else:
        with pytest.raises(DomainError):
            log.log_contact(**kwargs)


def test_old_made_available_events_are_lifted_to_the_current_contract() -> None:
    from shared.contracts.recruitment import VolunteerMadeAvailable
    from shared.events import REGISTRY

    old = {"volunteer_id": "v-1", "project_id": "p-1", "target_groups": ["family"], "languages": ["nl", "ar"], "max_duos": 2}
    lifted = REGISTRY.decode("VolunteerMadeAvailable", 1, old)
    assert isinstance(lifted, VolunteerMadeAvailable)
    assert lifted.preferences == MatchingPreferences(target_groups=[TargetGroup.family], languages=["nl", "ar"], max_duos=2)
