"""Matching's aggregates decide events from commands with no I/O: duos and participants.

The state machines drive any sequence of commands and check every answer against a
small model of the documented transitions; replaying the recorded events must rebuild
exactly the same aggregate.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from shared.contracts.common import AvailabilitySlot, Interest, TargetGroup
from shared.contracts.matching import (
    Consent,
    ConsentScope,
    DeclineReason,
    EndReason,
    LifeDomain,
    MatchingWeights,
    ParticipantReferred,
    ParticipantReferredV1,
    Party,
    PauseReason,
    ReferrerType,
    ReturnReason,
    WithdrawalReason,
)
from shared.domain import DomainError, InvalidInput, NotFound
from shared.events import REGISTRY
from services.matching.domain import Duo, DuoStatus, Participant, Placement, ProjectWeights

TODAY = date(2026, 11, 21)
STATE_SETTINGS = settings(max_examples=150, stateful_step_count=25, derandomize=True, deadline=None)


def state_of(aggregate: object) -> dict[str, object]:
    return {k: v for k, v in vars(aggregate).items()}


def replayed(cls: type, aggregate_id: str, events: list) -> object:  # type: ignore[type-arg]
    return cls.replay(aggregate_id, events)


# ---------------------------------------------------------------------------- duo: examples
def proposed(on: date = TODAY - timedelta(days=20)) -> Duo:
    d = Duo("d-1")
    for e in d.propose(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", proposed_on=on, today=TODAY):
        d.apply(e)
    return d


def accepted(on: date = TODAY - timedelta(days=20)) -> Duo:
    d = proposed(on)
    for party in Party:
        for e in d.accept(party=party):
            d.apply(e)
    return d


def test_a_duo_starts_only_after_both_accepted() -> None:
    d = proposed()
    with pytest.raises(DomainError, match="not yet accepted by: volunteer and participant"):
        d.kick_off(started_on=TODAY, agreed_contacts_per_month=2, expected_duration_months=6,
                   boundary_agreements_recorded=False)
    for e in d.accept(party=Party.participant):
        d.apply(e)
    with pytest.raises(DomainError, match="already accepted"):
        d.accept(party=Party.participant)
    with pytest.raises(DomainError, match="not yet accepted by: volunteer$"):
        d.kick_off(started_on=TODAY, agreed_contacts_per_month=2, expected_duration_months=6,
                   boundary_agreements_recorded=False)
    for e in d.accept(party=Party.volunteer):
        d.apply(e)
    [started] = d.kick_off(started_on=TODAY, agreed_contacts_per_month=3, expected_duration_months=12,
                           boundary_agreements_recorded=True, today=TODAY)
    assert started.after_proposal and started.boundary_agreements_recorded
    assert (started.volunteer_id, started.participant_id, started.project_id) == ("v-1", "pt-1", "p-1")
    d.apply(started)
    assert d.status is DuoStatus.active


def test_kick_off_dates_are_checked() -> None:
    d = accepted(on=TODAY - timedelta(days=5))
    with pytest.raises(InvalidInput, match="precede the proposal") as err:
        d.kick_off(started_on=TODAY - timedelta(days=6), agreed_contacts_per_month=2, expected_duration_months=None,
                   boundary_agreements_recorded=False)
    assert err.value.field == "started_on"
    with pytest.raises(InvalidInput, match="future"):
        d.kick_off(started_on=TODAY + timedelta(days=1), agreed_contacts_per_month=2, expected_duration_months=None,
                   boundary_agreements_recorded=False, today=TODAY)


def test_a_declined_proposal_is_closed_with_its_reason() -> None:
    d = proposed()
    [declined] = d.decline(party=Party.volunteer, reason=DeclineReason.distance)
    assert declined.reason == "distance"
    d.apply(declined)
    assert d.status is DuoStatus.declined and d.declined_by is Party.volunteer
    for command in (lambda: d.accept(party=Party.participant), lambda: d.decline(party=Party.participant, reason=DeclineReason.other),
                    lambda: d.kick_off(started_on=TODAY, agreed_contacts_per_month=2, expected_duration_months=None,
                                       boundary_agreements_recorded=False)):
        with pytest.raises(DomainError, match="Only an open proposal"):
            command()
    with pytest.raises(DomainError, match="never started"):
        d.end(ended_on=TODAY, reason=EndReason.other, planned=False)


def test_pause_resume_and_end_keep_their_dates_in_order() -> None:
    d = accepted(on=TODAY - timedelta(days=60))
    for e in d.kick_off(started_on=TODAY - timedelta(days=50), agreed_contacts_per_month=2, expected_duration_months=None,
                        boundary_agreements_recorded=False):
        d.apply(e)
    with pytest.raises(DomainError, match="Only a paused duo"):
        d.resume(resumed_on=TODAY)
    with pytest.raises(InvalidInput) as err:
        d.pause(paused_on=TODAY - timedelta(days=51))
    assert err.value.field == "paused_on"
    for e in d.pause(paused_on=TODAY - timedelta(days=20), reason=PauseReason.illness):
        d.apply(e)
    with pytest.raises(DomainError, match="already paused"):
        d.pause(paused_on=TODAY)
    with pytest.raises(InvalidInput, match="previous step"):
        d.end(ended_on=TODAY - timedelta(days=21), reason=EndReason.moved, planned=False)
    for e in d.resume(resumed_on=TODAY - timedelta(days=10)):
        d.apply(e)
    [ended] = d.end(ended_on=TODAY, reason=EndReason.goals_reached, planned=True, today=TODAY)
    d.apply(ended)
    assert d.status is DuoStatus.ended and ended.volunteer_id == "v-1"
    with pytest.raises(DomainError, match="already ended"):
        d.end(ended_on=TODAY, reason=EndReason.other, planned=True)


def test_a_duo_agreed_outside_the_system_can_be_registered_directly() -> None:
    d = Duo("d-2")
    [started] = d.start(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", started_on=TODAY,
                        agreed_contacts_per_month=2, today=TODAY)
    assert started.after_proposal is False
    d.apply(started)
    with pytest.raises(DomainError, match="already exists"):
        d.start(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", started_on=TODAY, agreed_contacts_per_month=2)
    with pytest.raises(DomainError, match="already exists"):
        d.propose(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", proposed_on=TODAY)


def test_commands_on_an_unknown_duo_are_not_found() -> None:
    for command in (lambda d: d.accept(party=Party.volunteer), lambda d: d.pause(paused_on=TODAY),
                    lambda d: d.end(ended_on=TODAY, reason=EndReason.other, planned=True)):
        with pytest.raises(NotFound):
            command(Duo("d-unknown"))


# ---------------------------------------------------------------------------- duo: state machine
class DuoLifecycle(RuleBasedStateMachine):
    """Any sequence of commands on one duo, against a model of the transition table."""

    def __init__(self) -> None:
        super().__init__()
        self.duo = Duo("d-sm")
        self.events: list = []  # type: ignore[type-arg]
        self.today = TODAY - timedelta(days=400)
        self.model = DuoStatus.new
        self.accepted: set[Party] = set()
        self.last: date | None = None

    def _try(self, decide, allowed: bool) -> bool:  # type: ignore[no-untyped-def]
        try:
            events = decide()
        except (DomainError, InvalidInput) as exc:
            assert not allowed or isinstance(exc, InvalidInput), f"refused an allowed command: {exc.message}"
            assert " / " in exc.message  # Dutch / English
            return False
        assert allowed, f"accepted a command the table forbids in {self.model}: {events}"
        for e in events:
            self.duo.apply(e)
            self.events.append(e)
        return True

    @rule(days=st.integers(min_value=0, max_value=40))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(back=st.integers(min_value=0, max_value=3))
    def propose(self, back: int) -> None:
        on = self.today - timedelta(days=back)
        if self._try(lambda: self.duo.propose(project_id="p-1", volunteer_id="v-1", participant_id="pt-1",
                                              proposed_on=on, today=self.today), self.model is DuoStatus.new):
            self.model, self.last = DuoStatus.proposed, on

    @rule(party=st.sampled_from(list(Party)))
    def accept(self, party: Party) -> None:
        if self._try(lambda: self.duo.accept(party=party),
                     self.model is DuoStatus.proposed and party not in self.accepted):
            self.accepted.add(party)

    @rule(party=st.sampled_from(list(Party)), reason=st.sampled_from(list(DeclineReason)))
    def decline(self, party: Party, reason: DeclineReason) -> None:
        if self._try(lambda: self.duo.decline(party=party, reason=reason), self.model is DuoStatus.proposed):
            self.model = DuoStatus.declined

    @rule(back=st.integers(min_value=-1, max_value=5), contacts=st.integers(min_value=1, max_value=8))
    def kick_off(self, back: int, contacts: int) -> None:
        on = self.today - timedelta(days=back)
        ok = (self.model is DuoStatus.proposed and self.accepted == set(Party)
              and on <= self.today and self.last is not None and on >= self.last)
        if self._try(lambda: self.duo.kick_off(started_on=on, agreed_contacts_per_month=contacts,
                                               expected_duration_months=None, boundary_agreements_recorded=False,
                                               today=self.today), ok):
            self.model, self.last = DuoStatus.active, on

    @rule(back=st.integers(min_value=0, max_value=3))
    def start_directly(self, back: int) -> None:
        on = self.today - timedelta(days=back)
        if self._try(lambda: self.duo.start(project_id="p-1", volunteer_id="v-1", participant_id="pt-1", started_on=on,
                                            agreed_contacts_per_month=2, today=self.today), self.model is DuoStatus.new):
            self.model, self.last = DuoStatus.active, on
            self.accepted = set(Party)

    @rule(back=st.integers(min_value=-1, max_value=5), reason=st.none() | st.sampled_from(list(PauseReason)))
    def pause(self, back: int, reason: PauseReason | None) -> None:
        on = self.today - timedelta(days=back)
        ok = self.model is DuoStatus.active and self.last is not None and self.last <= on <= self.today
        if self._try(lambda: self.duo.pause(paused_on=on, reason=reason, today=self.today), ok):
            self.model, self.last = DuoStatus.paused, on

    @rule(back=st.integers(min_value=-1, max_value=5))
    def resume(self, back: int) -> None:
        on = self.today - timedelta(days=back)
        ok = self.model is DuoStatus.paused and self.last is not None and self.last <= on <= self.today
        if self._try(lambda: self.duo.resume(resumed_on=on, today=self.today), ok):
            self.model, self.last = DuoStatus.active, on

    @rule(back=st.integers(min_value=-1, max_value=5), reason=st.sampled_from(list(EndReason)), planned=st.booleans())
    def end(self, back: int, reason: EndReason, planned: bool) -> None:
        on = self.today - timedelta(days=back)
        ok = (self.model in (DuoStatus.active, DuoStatus.paused) and self.last is not None
              and self.last <= on <= self.today)
        if self._try(lambda: self.duo.end(ended_on=on, reason=reason, planned=planned, today=self.today), ok):
            self.model, self.last = DuoStatus.ended, on

    @invariant()
    def status_follows_the_table(self) -> None:
        assert self.duo.status is self.model
        assert self.duo.accepted_by == frozenset(self.accepted) or self.model is not DuoStatus.proposed
        assert self.duo.version == len(self.events)

    @invariant()
    def replay_rebuilds_the_same_duo(self) -> None:
        assert state_of(replayed(Duo, "d-sm", self.events)) == state_of(self.duo)

    @invariant()
    def published_events_survive_a_round_trip(self) -> None:
        for e in self.events[-1:]:
            assert REGISTRY.decode(e.event_type, e.schema_version, e.model_dump(mode="json")) == e


TestDuoLifecycle = DuoLifecycle.TestCase
TestDuoLifecycle.settings = STATE_SETTINGS


# ---------------------------------------------------------------------------- participants
def referred(**overrides: object) -> Participant:
    p = Participant("pt-1")
    kwargs: dict[str, object] = dict(
        project_id="p-1", target_group=TargetGroup.family, referrer_type=ReferrerType.school,
        life_domains=[LifeDomain.poverty, LifeDomain.poverty], municipality_nis="11002", languages=["nl", "ar", "nl"],
        consent_recorded=True, birth_date=date(1990, 5, 1), today=TODAY,
        consent=Consent(scopes=[ConsentScope.matching, ConsentScope.data_processing], given_on=TODAY, recorded_by="pro-1"),
        interests=[Interest.cooking], availability=[AvailabilitySlot(day="mon", part="evening")],
    )
    kwargs.update(overrides)
    for e in p.refer(**kwargs):  # type: ignore[arg-type]
        p.apply(e)
    return p


def test_a_referral_carries_coarse_attributes_and_consent_only() -> None:
    p = Participant("pt-1")
    [event] = p.refer(project_id="p-1", target_group=TargetGroup.family, referrer_type=ReferrerType.youth_care,
                      life_domains=[LifeDomain.newcomer], municipality_nis="44021", languages=["ar", "nl", "ar"],
                      consent_recorded=True, birth_date=date(1990, 6, 1), today=TODAY,
                      consent=Consent(scopes=["matching", "data_processing"], given_on=TODAY, recorded_by="pro-7"))
    assert event.age_band.value == "35-44" and event.languages == ["ar", "nl"]
    assert event.consent.recorded_by == "pro-7" and event.referred_on == TODAY
    assert "birth" not in event.model_dump_json()
    with pytest.raises(InvalidInput) as err:
        Participant("pt-2").refer(project_id="p-1", target_group=TargetGroup.child, referrer_type=ReferrerType.self,
                                  life_domains=[LifeDomain.other], municipality_nis="11002", languages=["nl"],
                                  consent_recorded=True, birth_date=None, today=TODAY,
                                  consent=Consent(scopes=["matching"]))
    assert err.value.field == "consent_recorded"


def test_old_referrals_are_lifted_to_v2_with_their_consent() -> None:
    old = {"participant_id": "pt-1", "project_id": "p-1", "target_group": "family", "referrer_type": "school",
           "life_domains": ["poverty"], "municipality_nis": "11002", "languages": ["nl"], "consent_recorded": True}
    ParticipantReferredV1.model_validate(old)
    lifted = REGISTRY.decode("ParticipantReferred", 1, old)
    assert isinstance(lifted, ParticipantReferred)
    assert lifted.consent is not None and lifted.consent.allows_matching
    assert lifted.consent_recorded and lifted.interests == [] and lifted.availability == []
    refused = REGISTRY.decode("ParticipantReferred", 1, {**old, "consent_recorded": False})
    assert refused.consent is not None and not refused.consent.allows_matching
    p = Participant.replay("pt-1", [lifted])
    assert p.consent_allows_matching


def test_withdrawal_erasure_and_return_respect_the_placement() -> None:
    p = referred()
    with pytest.raises(DomainError, match="proposal for this participant is open"):
        p.withdraw(reason=WithdrawalReason.moved, withdrawn_on=TODAY, placement=Placement.proposed, today=TODAY)
    with pytest.raises(DomainError, match="running duo"):
        p.erase_personal_data(placement=Placement.in_duo, today=TODAY)
    with pytest.raises(DomainError, match="already on the waiting list"):
        p.return_to_waiting_list(reason=ReturnReason.new_request, placement=Placement.waiting)
    [withdrawn] = p.withdraw(reason=WithdrawalReason.other_support_found, withdrawn_on=TODAY, placement=Placement.waiting,
                             today=TODAY)
    p.apply(withdrawn)
    with pytest.raises(DomainError, match="already withdrawn"):
        p.withdraw(reason=WithdrawalReason.moved, withdrawn_on=TODAY, placement=Placement.withdrawn, today=TODAY)
    with pytest.raises(DomainError, match="has withdrawn"):
        p.record_intake(held_on=TODAY, has_private_notes=False, today=TODAY)
    for e in p.return_to_waiting_list(reason=ReturnReason.new_request, placement=Placement.withdrawn):
        p.apply(e)
    assert not p.withdrawn
    events = p.erase_personal_data(placement=Placement.waiting, today=TODAY)
    assert [e.event_type for e in events] == ["ParticipantWithdrawn", "ParticipantPersonalDataErased"]
    assert events[0].reason is WithdrawalReason.erasure_requested
    for e in events:
        p.apply(e)
    with pytest.raises(DomainError, match="already erased"):
        p.erase_personal_data(placement=Placement.withdrawn, today=TODAY)
    with pytest.raises(DomainError, match="erased"):
        p.return_to_waiting_list(reason=ReturnReason.other, placement=Placement.withdrawn)


def test_intake_and_withdrawal_dates_are_checked() -> None:
    p = referred(today=TODAY - timedelta(days=10), consent=Consent(scopes=["matching", "data_processing"]))
    with pytest.raises(InvalidInput, match="precede the referral"):
        p.record_intake(held_on=TODAY - timedelta(days=11), has_private_notes=False, today=TODAY)
    with pytest.raises(InvalidInput, match="future") as err:
        p.record_intake(held_on=TODAY + timedelta(days=1), has_private_notes=False, today=TODAY)
    assert err.value.field == "held_on"
    with pytest.raises(InvalidInput, match="precede the referral"):
        p.withdraw(reason=WithdrawalReason.moved, withdrawn_on=TODAY - timedelta(days=11), placement=Placement.waiting,
                   today=TODAY)


PLACEMENTS = list(Placement)


class ParticipantJourney(RuleBasedStateMachine):
    """Participant commands under every placement the read model can report."""

    def __init__(self) -> None:
        super().__init__()
        self.p = referred()
        self.events: list = []  # type: ignore[type-arg]
        self.placement = Placement.waiting
        self.withdrawn = self.erased = False

    def _try(self, decide, allowed: bool) -> list:  # type: ignore[no-untyped-def,type-arg]
        try:
            events = decide()
        except DomainError as exc:
            assert not allowed, exc.message
            return []
        assert allowed
        for e in events:
            self.p.apply(e)
            self.events.append(e)
        return events

    @rule(placement=st.sampled_from([Placement.proposed, Placement.in_duo, Placement.finished]))
    @precondition(lambda self: not self.withdrawn and not self.erased)
    def duo_moves(self, placement: Placement) -> None:
        self.placement = placement  # what duo events do to the read model

    @rule()
    def intake(self) -> None:
        self._try(lambda: self.p.record_intake(held_on=TODAY, has_private_notes=False, today=TODAY),
                  not self.withdrawn and not self.erased)

    @rule(scopes=st.lists(st.sampled_from(list(ConsentScope)), unique=True))
    def consent(self, scopes: list[ConsentScope]) -> None:
        if self._try(lambda: self.p.record_consent(consent=Consent(scopes=scopes), today=TODAY),
                     not self.withdrawn and not self.erased):
            assert self.p.consent_allows_matching == ({ConsentScope.matching, ConsentScope.data_processing} <= set(scopes))

    @rule(reason=st.sampled_from(list(WithdrawalReason)))
    def withdraw(self, reason: WithdrawalReason) -> None:
        ok = not self.withdrawn and not self.erased and self.placement not in (Placement.proposed, Placement.in_duo)
        if self._try(lambda: self.p.withdraw(reason=reason, withdrawn_on=TODAY, placement=self.placement, today=TODAY), ok):
            self.withdrawn, self.placement = True, Placement.withdrawn

    @rule(reason=st.sampled_from(list(ReturnReason)))
    def back_on_the_list(self, reason: ReturnReason) -> None:
        ok = not self.erased and self.placement in (Placement.finished, Placement.withdrawn)
        if self._try(lambda: self.p.return_to_waiting_list(reason=reason, placement=self.placement), ok):
            self.withdrawn, self.placement = False, Placement.waiting

    @rule()
    def erase(self) -> None:
        ok = not self.erased and self.placement not in (Placement.proposed, Placement.in_duo)
        if self._try(lambda: self.p.erase_personal_data(placement=self.placement, today=TODAY), ok):
            self.erased, self.withdrawn, self.placement = True, True, Placement.withdrawn

    @invariant()
    def state_matches(self) -> None:
        assert self.p.erased == self.erased and self.p.withdrawn == self.withdrawn
        assert state_of(Participant.replay("pt-1", [*_referral_events(), *self.events])) == state_of(self.p)


def _referral_events() -> list:  # type: ignore[type-arg]
    p = Participant("pt-1")
    return p.refer(project_id="p-1", target_group=TargetGroup.family, referrer_type=ReferrerType.school,
                   life_domains=[LifeDomain.poverty, LifeDomain.poverty], municipality_nis="11002",
                   languages=["nl", "ar", "nl"], consent_recorded=True, birth_date=date(1990, 5, 1), today=TODAY,
                   consent=Consent(scopes=[ConsentScope.matching, ConsentScope.data_processing], given_on=TODAY,
                                   recorded_by="pro-1"),
                   interests=[Interest.cooking], availability=[AvailabilitySlot(day="mon", part="evening")])


TestParticipantJourney = ParticipantJourney.TestCase
TestParticipantJourney.settings = STATE_SETTINGS


# ---------------------------------------------------------------------------- weights
def test_weights_are_recorded_only_when_they_change() -> None:
    w = ProjectWeights(ProjectWeights.stream_of("p-1"))
    chosen = MatchingWeights(interests=5, availability=1, distance=1, volunteer_waiting=0, participant_waiting=2)
    [event] = w.set(project_id="p-1", weights=chosen)
    w.apply(event)
    assert w.set(project_id="p-1", weights=chosen) == []
    with pytest.raises(InvalidInput, match="above zero"):
        w.set(project_id="p-1", weights=MatchingWeights(interests=0, availability=0, distance=0, volunteer_waiting=0,
                                                        participant_waiting=0))
    assert len(ProjectWeights.stream_of("p" * 100)) <= 100
