"""The recruitment aggregates, without I/O: the volunteer journey against its transition table.

The state machine drives a volunteer with every command (and the facts learned from
matching) in any order and on a moving calendar. After every step:

* an accepted command started in a state the table lists for it and ended in a state the
  table allows from there, deciding only the events the table names;
* a refused command was refused because the table forbids it there, or because of a rule
  the test knows (too few sessions, personal data after erasure, bad dates) — and with a
  readable sentence (409 Dutch / English, or 422 naming a field);
* replaying the events recorded so far rebuilds exactly the same state.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shared.contracts.common import MatchingPreferences, TargetGroup
from shared.contracts.recruitment import (
    KeepWarmKind,
    LegalItem,
    ProjectCloseReason,
    RecruitmentChannel,
    ScreeningOutcome,
    ScreeningRefusal,
    StopReason,
    TrainingKind,
)
from shared.domain import DomainError, InvalidInput, NotFound
from shared.events.registry import DomainEvent
from services.recruitment.domain import (
    ACTIVE,
    RECORDED,
    TRANSITIONS,
    LegalRecord,
    LegalState,
    Project,
    ProjectStatus,
    Volunteer,
    VolunteerStatus,
    keep_warm_due,
    legal_findings,
    legal_state,
    transition_table_markdown,
)

S = VolunteerStatus
DAY0 = date(2026, 1, 5)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "recruitment.md"
PREFS = [MatchingPreferences(target_groups=[TargetGroup.individual_adult]),
         MatchingPreferences(target_groups=[TargetGroup.child, TargetGroup.family], max_duos=2),
         MatchingPreferences(target_groups=[TargetGroup.youth], languages=["nl", "fr"])]


def enquired(on: date = DAY0) -> Volunteer:
    v = Volunteer("v-1")
    for e in v.receive_enquiry(project_id="p-1", channel=RecruitmentChannel.website, municipality_nis="11002",
                               birth_date=date(1990, 1, 1), gender=None, today=on):
        v.apply(e, on)
    return v


def run(v: Volunteer, events: list[DomainEvent], on: date) -> None:
    for e in events:
        v.apply(e, on)


class VolunteerJourney(RuleBasedStateMachine):
    """Any sequence of commands: only the documented transitions happen; replay rebuilds the state."""

    @initialize()
    def start(self) -> None:
        self.today = DAY0
        self.v = enquired(DAY0)
        self.log: list[tuple[DomainEvent, date]] = []
        self.log.extend((e, DAY0) for e in Volunteer("v-1").receive_enquiry(
            project_id="p-1", channel=RecruitmentChannel.website, municipality_nis="11002",
            birth_date=date(1990, 1, 1), gender=None, today=DAY0))
        self.sessions = 0

    # -- the checker every command goes through ------------------------------------------
    def attempt(self, transition: str | tuple[str, ...], decide, *, guard_ok: bool = True,  # type: ignore[no-untyped-def]
                valid_input: bool = True) -> list[DomainEvent] | None:
        names = (transition,) if isinstance(transition, str) else transition
        before = self.v.status
        listed = any(before in TRANSITIONS[n].sources for n in names)
        try:
            events = decide()
        except InvalidInput as exc:
            assert not valid_input, f"422 on valid input: {exc.message}"
            assert exc.field, "a 422 names its field"
            assert " / " in exc.message
            return None
        except DomainError as exc:
            assert exc.status_code == 409 and not isinstance(exc, NotFound)
            assert not (listed and guard_ok and valid_input), f"{names} refused from {before}: {exc.message}"
            assert " / " in exc.message and exc.message.strip() == exc.message, exc.message
            return None
        assert listed, f"{names} accepted from {before}, which the table does not list"
        assert guard_ok, f"{names} accepted although a rule forbids it"
        assert valid_input, f"{names} accepted invalid input"
        allowed_types = {t for n in names for t in TRANSITIONS[n].events}
        assert {e.event_type for e in events} <= allowed_types
        run(self.v, events, self.today)
        self.log.extend((e, self.today) for e in events)
        if events:
            targets = set().union(*(TRANSITIONS[n].moves.get(before, frozenset()) for n in names))
            assert self.v.status in targets, f"{names}: {before} -> {self.v.status}, table allows {targets}"
        return events

    # -- progress: the natural next step, so that runs reach the later states --------------
    @rule(prefs=st.sampled_from(PREFS), refuse=st.sampled_from([None, None, None, ScreeningRefusal.safety_concern]))
    def next_step(self, prefs: MatchingPreferences, refuse: ScreeningRefusal | None) -> None:
        if self.v.status is S.enquired:
            self.hold_intake(note=False, back=0)
        elif self.v.status is S.intake_held:
            self.screen(ScreeningOutcome.not_approved if refuse else ScreeningOutcome.approved, refuse, note=False)
        elif self.v.status is S.in_preparation and self.sessions == 0:
            self.train(TrainingKind.individual_coaching, 2.0)
        elif self.v.status is S.in_preparation:
            self.make_available(prefs, min_sessions=1)
        elif self.v.status is S.paused:
            self.resume()

    # -- time ----------------------------------------------------------------------------
    @rule(days=st.integers(min_value=0, max_value=30))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    # -- the journey ---------------------------------------------------------------------
    @rule(note=st.booleans(), back=st.integers(min_value=0, max_value=3))
    def hold_intake(self, note: bool, back: int) -> None:
        on = self.today - timedelta(days=back)
        valid = self.v.stage_since is None or on >= self.v.stage_since or self.v.status is not S.enquired
        self.attempt("hold_intake", lambda: self.v.hold_intake(held_on=on, has_note=note, today=self.today),
                     guard_ok=not (note and self.v.erased), valid_input=valid)

    @rule(outcome=st.sampled_from(list(ScreeningOutcome)),
          reason=st.none() | st.sampled_from(list(ScreeningRefusal)), note=st.booleans())
    def screen(self, outcome: ScreeningOutcome, reason: ScreeningRefusal | None, note: bool) -> None:
        consistent = (reason is None) == (outcome is ScreeningOutcome.approved)
        name = "screen_approved" if outcome is ScreeningOutcome.approved else "screen_not_approved"
        events = self.attempt(name, lambda: self.v.screen(screened_on=self.today, outcome=outcome, refusal_reason=reason,
                                                          has_note=note, today=self.today),
                              guard_ok=not (note and self.v.erased),
                              valid_input=consistent or self.v.status is not S.intake_held)
        if events and outcome is ScreeningOutcome.not_approved:
            assert self.v.stop_reason is StopReason.not_approved

    @rule(kind=st.sampled_from(list(TrainingKind)), hours=st.sampled_from([0.5, 1.0, 2.5, 8.0]))
    def train(self, kind: TrainingKind, hours: float) -> None:
        before = self.v.training_hours
        if self.attempt("record_training", lambda: self.v.record_training(session_on=self.today, kind=kind, hours=hours,
                                                                         today=self.today)):
            self.sessions += 1
            assert self.v.training_hours == pytest.approx(before + hours)

    @rule(prefs=st.sampled_from(PREFS), min_sessions=st.integers(min_value=0, max_value=2))
    def make_available(self, prefs: MatchingPreferences, min_sessions: int) -> None:
        self.attempt("make_available", lambda: self.v.make_available(preferences=prefs, min_sessions=min_sessions),
                     guard_ok=self.sessions >= min_sessions)

    @rule(prefs=st.sampled_from(PREFS))
    def change_preferences(self, prefs: MatchingPreferences) -> None:
        self.attempt("change_preferences", lambda: self.v.change_preferences(preferences=prefs))

    @rule(until=st.none() | st.integers(min_value=-1, max_value=20))
    def pause(self, until: int | None) -> None:
        day = None if until is None else self.today + timedelta(days=until)
        self.attempt("pause", lambda: self.v.pause(until=day, today=self.today),
                     valid_input=day is None or day > self.today or self.v.status not in (S.available, S.in_duo))

    @rule()
    def resume(self) -> None:
        self.attempt("resume", self.v.resume)

    @rule(duo=st.sampled_from(["d-1", "d-2", "d-3"]), dice=st.integers(min_value=0, max_value=3))
    def duo_started(self, duo: str, dice: int) -> None:
        if self.v.status not in (S.available, S.in_duo) and dice:
            return  # matching starts duos with available volunteers; other states only now and then
        known = duo in self.v.duos
        events = self.attempt("join_duo", lambda: self.v.join_duo(duo_id=duo, joined_on=self.today))
        assert events is not None, "a fact from matching is never refused"
        assert (events == []) == known, "each duo is recorded once"

    @rule(duo=st.sampled_from(["d-1", "d-2", "d-3"]))
    def duo_ended(self, duo: str) -> None:
        known = duo in self.v.duos
        events = self.attempt("leave_duo", lambda: self.v.leave_duo(duo_id=duo, left_on=self.today))
        assert events is not None, "a fact from matching is never refused"
        assert (events == []) == (not known)

    @rule(item=st.sampled_from(list(LegalItem)), valid_days=st.none() | st.integers(min_value=-5, max_value=400))
    def legal_item(self, item: LegalItem, valid_days: int | None) -> None:
        until = None if valid_days is None else self.today + timedelta(days=valid_days)
        self.attempt("record_legal_item", lambda: self.v.record_legal_item(item=item, dated=self.today, valid_until=until,
                                                                           today=self.today),
                     valid_input=until is None or until >= self.today or self.v.status is S.stopped)

    @rule(kind=st.sampled_from(list(KeepWarmKind)), note=st.booleans())
    def keep_warm(self, kind: KeepWarmKind, note: bool) -> None:
        self.attempt("keep_warm", lambda: self.v.keep_warm(contacted_on=self.today, kind=kind, has_note=note,
                                                          today=self.today),
                     guard_ok=not (note and self.v.erased) or self.v.status is S.stopped)

    @rule()
    def change_personal_data(self) -> None:
        self.attempt("change_personal_data", self.v.change_personal_data, guard_ok=not self.v.erased)

    @rule(reason=st.sampled_from(list(StopReason)), dice=st.integers(min_value=0, max_value=3))
    def stop(self, reason: StopReason, dice: int) -> None:
        if dice and self.v.status is not S.stopped:
            return  # stopping ends the interesting part: only one time in four
        self.attempt("stop", lambda: self.v.stop(reason=reason))

    @rule(dice=st.integers(min_value=0, max_value=3))
    def erase(self, dice: int) -> None:
        if dice and not self.v.erased:
            return
        self.attempt("erase_personal_data", self.v.erase_personal_data, guard_ok=not self.v.erased)

    # -- what always holds ---------------------------------------------------------------
    @invariant()
    def state_is_one_the_table_knows(self) -> None:
        assert self.v.status in RECORDED
        assert self.v.stage_since is not None

    @invariant()
    def duos_and_status_agree(self) -> None:
        if self.v.status is S.in_duo:
            assert self.v.duos
        if self.v.status is S.available:
            assert not self.v.duos and self.v.waiting_since is not None
        if self.v.status is not S.available:
            assert self.v.waiting_since is None and self.v.warm_since is None

    @invariant()
    def replay_rebuilds_the_same_state(self) -> None:
        replayed = Volunteer.replay_dated("v-1", self.log)
        assert replayed.snapshot() == self.v.snapshot()


TestVolunteerJourney = VolunteerJourney.TestCase
TestVolunteerJourney.settings = settings(max_examples=200, stateful_step_count=40, derandomize=True, deadline=None)


# ------------------------------------------------------------------------------------- the table


def test_the_table_covers_every_state_and_the_docs_show_it() -> None:
    reachable = {s for t in TRANSITIONS.values() for targets in t.moves.values() for s in targets}
    assert reachable == set(RECORDED)
    assert all(TRANSITIONS[name].sources <= set(VolunteerStatus) for name in TRANSITIONS)
    assert TRANSITIONS["stop"].sources == ACTIVE
    assert transition_table_markdown() in DOCS.read_text(), "docs/recruitment.md shows an outdated transition table"


@pytest.mark.parametrize(("status", "command", "mentions"), [
    (S.enquired, "make_available", "only enquired"),
    (S.intake_held, "make_available", "waits for the screening"),
    (S.stopped, "make_available", "has stopped"),
    (S.available, "make_available", "already available"),
    (S.stopped, "stop", "already stopped"),
    (S.enquired, "record_training", "after an approved screening"),
    (S.enquired, "screen", "can only follow the intake interview"),
    (S.available, "resume", "only a paused volunteer"),
    (S.paused, "pause", "already paused"),
])
def test_refusals_say_why_in_dutch_and_english(status: VolunteerStatus, command: str, mentions: str) -> None:
    from services.recruitment.domain import refusal

    message = refusal(command, status).message
    nl, en = message.split(" / ")
    assert mentions in en and nl
    assert refusal(command, status).status_code == 409


def test_the_journey_step_by_step() -> None:
    v = enquired(DAY0)
    with pytest.raises(DomainError, match="only enquired"):
        v.make_available(preferences=PREFS[0])
    with pytest.raises(InvalidInput) as before_enquiry:
        v.hold_intake(held_on=DAY0 - timedelta(days=1), has_note=False, today=DAY0)
    assert before_enquiry.value.field == "held_on"
    run(v, v.hold_intake(held_on=DAY0 + timedelta(days=2), has_note=True, today=DAY0 + timedelta(days=3)), DAY0)
    assert (v.status, v.stage_since) == (S.intake_held, DAY0 + timedelta(days=2))
    with pytest.raises(InvalidInput) as no_reason:
        v.screen(screened_on=DAY0 + timedelta(days=3), outcome=ScreeningOutcome.not_approved, refusal_reason=None,
                 has_note=False, today=DAY0 + timedelta(days=3))
    assert no_reason.value.field == "refusal_reason"
    run(v, v.screen(screened_on=DAY0 + timedelta(days=5), outcome=ScreeningOutcome.approved, refusal_reason=None,
                    has_note=False, today=DAY0 + timedelta(days=5)), DAY0 + timedelta(days=5))
    with pytest.raises(DomainError, match="0 of the 1"):
        v.make_available(preferences=PREFS[0], min_sessions=1)
    run(v, v.record_training(session_on=DAY0 + timedelta(days=6), kind=TrainingKind.group_training, hours=3,
                             today=DAY0 + timedelta(days=6)), DAY0 + timedelta(days=6))
    day = DAY0 + timedelta(days=10)
    run(v, v.make_available(preferences=PREFS[1], min_sessions=1), day)
    assert (v.status, v.waiting_since, v.works_with_minors) == (S.available, day, True)
    run(v, v.join_duo(duo_id="d-1", joined_on=day + timedelta(days=5)), day + timedelta(days=6))
    assert (v.status, v.stage_since, v.waiting_since) == (S.in_duo, day + timedelta(days=5), None)
    run(v, v.pause(until=None, today=day + timedelta(days=7)), day + timedelta(days=7))
    run(v, v.leave_duo(duo_id="d-1", left_on=day + timedelta(days=8)), day + timedelta(days=8))
    assert v.status is S.paused and not v.duos
    run(v, v.resume(), day + timedelta(days=9))
    assert (v.status, v.waiting_since) == (S.available, day + timedelta(days=9))


def test_not_approved_stops_the_journey() -> None:
    v = enquired()
    run(v, v.hold_intake(held_on=DAY0, has_note=False, today=DAY0), DAY0)
    events = v.screen(screened_on=DAY0, outcome=ScreeningOutcome.not_approved,
                      refusal_reason=ScreeningRefusal.safety_concern, has_note=True, today=DAY0)
    assert [e.event_type for e in events] == ["VolunteerScreened", "VolunteerStopped"]
    run(v, events, DAY0)
    assert (v.status, v.stop_reason, v.refusal_reason) == (S.stopped, StopReason.not_approved, ScreeningRefusal.safety_concern)


def test_after_erasure_no_new_personal_data() -> None:
    v = enquired()
    run(v, v.erase_personal_data(), DAY0)
    with pytest.raises(DomainError, match="erased") as refused:
        v.keep_warm(contacted_on=DAY0, kind=KeepWarmKind.call, has_note=True, today=DAY0)
    assert refused.value.code == "personal_data_erased"
    assert v.keep_warm(contacted_on=DAY0, kind=KeepWarmKind.call, has_note=False, today=DAY0)
    with pytest.raises(DomainError, match="already erased"):
        v.erase_personal_data()
    with pytest.raises(DomainError, match="erased"):
        v.change_personal_data()


def test_an_unknown_volunteer_is_not_found() -> None:
    for decide in (lambda v: v.stop(reason=StopReason.other), lambda v: v.resume(), lambda v: v.erase_personal_data(),
                   lambda v: v.join_duo(duo_id="d-1", joined_on=None)):
        with pytest.raises(NotFound):
            decide(Volunteer("v-unknown"))


# ------------------------------------------------------------------------------------- keeping up


@pytest.mark.parametrize(("valid_until", "state"), [
    (None, LegalState.ok), (DAY0 - timedelta(days=1), LegalState.expired), (DAY0, LegalState.expiring),
    (DAY0 + timedelta(days=30), LegalState.expiring), (DAY0 + timedelta(days=31), LegalState.ok),
])
def test_legal_items_expire_within_the_horizon(valid_until: date | None, state: LegalState) -> None:
    assert legal_state(LegalRecord(DAY0 - timedelta(days=300), valid_until), today=DAY0, horizon_days=30) is state
    assert legal_state(None, today=DAY0, horizon_days=30) is LegalState.missing


def test_the_extract_is_required_only_for_work_with_minors() -> None:
    legal = {LegalItem.information_notice: LegalRecord(DAY0, None), LegalItem.insurance: LegalRecord(DAY0, None)}
    assert legal_findings(legal, works_with_minors=False, today=DAY0, horizon_days=30) == []
    [finding] = legal_findings(legal, works_with_minors=True, today=DAY0, horizon_days=30)
    assert (finding["item"], finding["state"]) == (LegalItem.criminal_record_extract, LegalState.missing)


@pytest.mark.parametrize(("days", "due"), [(0, False), (21, False), (22, True)])
def test_keep_warm_is_due_after_more_than_n_days(days: int, due: bool) -> None:
    assert keep_warm_due(DAY0, DAY0 + timedelta(days=days), 21) is due
    assert keep_warm_due(None, DAY0 + timedelta(days=days), 21) is False


def test_a_keep_warm_contact_restarts_the_count() -> None:
    v = enquired()
    for step in (v.hold_intake(held_on=DAY0, has_note=False, today=DAY0),):
        run(v, step, DAY0)
    run(v, v.screen(screened_on=DAY0, outcome=ScreeningOutcome.approved, refusal_reason=None, has_note=False,
                    today=DAY0), DAY0)
    run(v, v.make_available(preferences=PREFS[0]), DAY0)
    run(v, v.keep_warm(contacted_on=DAY0 - timedelta(days=0), kind=KeepWarmKind.call, has_note=False, today=DAY0), DAY0)
    assert v.warm_since == DAY0
    later = DAY0 + timedelta(days=15)
    run(v, v.keep_warm(contacted_on=later, kind=KeepWarmKind.activity_invitation, has_note=False, today=later), later)
    assert v.warm_since == later and not keep_warm_due(v.warm_since, later + timedelta(days=21), 21)


# ------------------------------------------------------------------------------------- projects


def registered() -> Project:
    p = Project("p-1")
    for e in p.register(name="Buddy Gent", organisation="CAW", municipality_nis="44021", region="oost-vlaanderen",
                        target_groups=[TargetGroup.family], funded_from=date(2025, 1, 1), funded_until=date(2027, 12, 31)):
        p.apply(e)
    return p


def test_a_project_is_registered_changed_and_closed() -> None:
    p = registered()
    with pytest.raises(DomainError, match="already exists"):
        p.register(name="X", organisation="Y", municipality_nis="11002", region="r", target_groups=[TargetGroup.child],
                   funded_from=None, funded_until=None)
    assert p.change(name="Buddy Gent") == []  # nothing changes, no event
    [changed] = p.change(name="Buddy Gent+", target_groups=[TargetGroup.family, TargetGroup.youth])
    assert (changed.title, changed.region, changed.funded_until) == ("Buddy Gent+", "oost-vlaanderen", date(2027, 12, 31))
    p.apply(changed)
    assert (p.name, p.target_groups) == ("Buddy Gent+", [TargetGroup.family, TargetGroup.youth])
    with pytest.raises(InvalidInput) as backwards:
        p.change(funded_until=date(2024, 1, 1))
    assert backwards.value.field == "funded_until"
    with pytest.raises(InvalidInput):
        p.close(closed_on=DAY0 + timedelta(days=1), reason=ProjectCloseReason.funding_ended, today=DAY0)
    for e in p.close(closed_on=DAY0, reason=ProjectCloseReason.funding_ended, today=DAY0):
        p.apply(e)
    assert p.status is ProjectStatus.closed
    with pytest.raises(DomainError, match="no new enquiries"):
        p.require_open()
    with pytest.raises(DomainError, match="already closed"):
        p.close(closed_on=DAY0, reason=ProjectCloseReason.other, today=DAY0)
    with pytest.raises(DomainError, match="closed and can no longer change"):
        p.change(name="Other")
    with pytest.raises(NotFound):
        Project("p-unknown").require_open()
