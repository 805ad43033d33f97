"""The follow-up aggregates decide events with no I/O: state machines and properties.

The central property: a contact logged and then corrected (any number of times, in any
order with other contacts) gives exactly the figures of a direct entry of its final
values — in the aggregate and in the read model the API answers from.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import create_engine, select

from shared.contracts.followup import (
    Activity,
    BoundaryFollowUpAction,
    BoundaryRaisedBy,
    BoundaryResolution,
    BoundarySeverity,
    BoundarySignalType,
    CoachingKind,
    CoachingTheme,
    ContactMode,
    ContactRetractionReason,
    EvaluationMoment,
    FollowUpCallOutcome,
    GoalDomain,
    GoalOutcome,
    NetworkChange,
    PolicyTheme,
)
from shared.domain import DomainError, InvalidInput, NotFound
from services.followup.domain import (
    BoundarySignal,
    Cadence,
    CallAnswers,
    CoachingSession,
    ContactStatus,
    ContactValues,
    DuoEvaluations,
    DuoLog,
    FollowUpCall,
    Goal,
    PolicySignal,
    ProjectCadence,
    add_months,
    call_id_for,
    check_in,
    contact_figures,
    personal_data_in,
    stream_key,
)
from services.followup.projections import Recorded, project
from services.followup.read_models import contacts, metadata

TODAY = date(2026, 6, 30)
STARTED = date(2026, 1, 1)
DERANDOMIZED = settings(max_examples=60, stateful_step_count=25, derandomize=True, deadline=None)

values_strategy = st.builds(
    ContactValues.of,
    contact_date=st.dates(min_value=STARTED, max_value=TODAY),
    minutes=st.integers(min_value=1, max_value=600),
    mode=st.sampled_from(list(ContactMode)),
    activities=st.lists(st.sampled_from(list(Activity)), min_size=1, max_size=3),
    has_private_note=st.booleans(),
)


def log_directly(log: DuoLog, contact_id: str, v: ContactValues, *, draft: bool = False) -> list[Any]:
    decided = log.log_contact(contact_id=contact_id, project_id="p-1", duo_active=True, started_on=STARTED,
                              contact_date=v.contact_date, minutes=v.minutes, mode=v.mode, activities=v.activities,
                              logged_by="professional", has_private_note=v.has_private_note, today=TODAY, draft=draft)
    for e in decided:
        log.apply(e)
    return decided


def apply_all(agg: Any, decided: list[Any]) -> list[Any]:
    for e in decided:
        agg.apply(e)
    return decided


# ----------------------------------------------------------------------------- read model harness
class ReadModel:
    """The follow-up read-model tables in memory, fed by the real projection."""

    def __init__(self) -> None:
        self.engine = create_engine("sqlite://")
        metadata.create_all(self.engine)
        self.position = 0

    def feed(self, decided: list[Any]) -> None:
        with self.engine.begin() as conn:
            for e in decided:
                self.position += 1
                project(conn, Recorded(e, self.position, "2026-06-30T10:00:00.000000+00:00", "prof-1"))

    def figures(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(contacts).where(contacts.c.status == "logged")).mappings().all()
        return contact_figures(ContactValues.of(date.fromisoformat(r["contact_date"]), r["minutes"], r["mode"],
                                                r["activities"], r["has_private_note"]) for r in rows)


# ----------------------------------------------------------------------------- contacts
@DERANDOMIZED
@given(entries=st.lists(st.tuples(values_strategy, st.lists(values_strategy, max_size=3)), min_size=1, max_size=8))
def test_corrected_figures_equal_those_of_a_direct_entry(entries: list[tuple[ContactValues, list[ContactValues]]]) -> None:
    corrected, direct = DuoLog("d-1"), DuoLog("d-1")
    corrected_rm, direct_rm = ReadModel(), ReadModel()
    for i, (first, corrections) in enumerate(entries):
        corrected_rm.feed(log_directly(corrected, f"c-{i}", first))
        final = first
        for v in corrections:
            if v == final:
                continue
            corrected_rm.feed(apply_all(corrected, corrected.correct_contact(
                contact_id=f"c-{i}", values=v, started_on=STARTED, today=TODAY)))
            final = v
        direct_rm.feed(log_directly(direct, f"c-{i}", final))
    assert corrected.figures() == direct.figures()
    assert corrected_rm.figures() == direct_rm.figures() == direct.figures()
    assert sum(m["contacts"] for m in direct.figures().values()) == len(entries)


def test_figures_per_month() -> None:
    log = DuoLog("d-1")
    log_directly(log, "c-1", ContactValues.of(date(2026, 2, 3), 60, ContactMode.in_person,
                                              [Activity.walk, Activity.coffee_or_chat, Activity.walk]))
    log_directly(log, "c-2", ContactValues.of(date(2026, 2, 20), 30, ContactMode.phone, [Activity.coffee_or_chat]))
    log_directly(log, "c-3", ContactValues.of(date(2026, 3, 1), 90, ContactMode.in_person,
                                              [Activity.accompany_food_bank]), draft=True)
    assert log.figures() == {"2026-02": {
        "contacts": 2, "minutes": 90, "by_mode": {"in_person": 1, "phone": 1},
        "by_activity": {"coffee_or_chat": 2, "walk": 1}}}


class ContactLifecycle(RuleBasedStateMachine):
    """Any sequence of contact commands: each status follows the documented transitions
    (draft → logged | discarded; logged → logged (corrected) | retracted), refusals are
    DomainErrors, replay of the events rebuilds the same state, and the figures are
    always those of the logged contacts' latest values."""

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.log = DuoLog("d-1")
        self.events: list[Any] = []
        self.model: dict[str, tuple[ContactStatus, ContactValues]] = {}
        self.counter = 0

    def _do(self, decide: Any) -> bool:
        try:
            decided = decide()
        except DomainError:
            return False
        self.events += apply_all(self.log, decided)
        return True

    @rule(target=ids, v=values_strategy, draft=st.booleans())
    def create(self, v: ContactValues, draft: bool) -> str:
        self.counter += 1
        cid = f"c-{self.counter}"
        assert self._do(lambda: self.log.log_contact(
            contact_id=cid, project_id="p-1", duo_active=True, started_on=STARTED, contact_date=v.contact_date,
            minutes=v.minutes, mode=v.mode, activities=v.activities, logged_by="buddy",
            has_private_note=v.has_private_note, today=TODAY, draft=draft))
        self.model[cid] = (ContactStatus.draft if draft else ContactStatus.logged, v)
        return cid

    @rule(cid=ids)
    def log_again(self, cid: str) -> None:
        v = self.model[cid][1]
        with pytest.raises(DomainError, match="already logged"):
            self.log.log_contact(contact_id=cid, project_id="p-1", duo_active=True, started_on=STARTED,
                                 contact_date=v.contact_date, minutes=v.minutes, mode=v.mode,
                                 activities=v.activities, logged_by="buddy", has_private_note=False, today=TODAY)

    @rule(cid=ids, v=st.none() | values_strategy)
    def submit(self, cid: str, v: ContactValues | None) -> None:
        status, current = self.model[cid]
        done = self._do(lambda: self.log.submit_draft(contact_id=cid, duo_active=True, started_on=STARTED,
                                                      today=TODAY, values=v))
        assert done == (status is ContactStatus.draft)
        if done:
            self.model[cid] = (ContactStatus.logged, v or current)

    @rule(cid=ids)
    def discard(self, cid: str) -> None:
        status, current = self.model[cid]
        done = self._do(lambda: self.log.discard_draft(contact_id=cid))
        assert done == (status is ContactStatus.draft)
        if done:
            self.model[cid] = (ContactStatus.discarded, current)

    @rule(cid=ids, v=values_strategy)
    def correct(self, cid: str, v: ContactValues) -> None:
        status, current = self.model[cid]
        done = self._do(lambda: self.log.correct_contact(contact_id=cid, values=v, started_on=STARTED, today=TODAY))
        assert done == (status is ContactStatus.logged and v != current)
        if done:
            self.model[cid] = (status, v)

    @rule(cid=ids, reason=st.sampled_from(list(ContactRetractionReason)))
    def retract(self, cid: str, reason: ContactRetractionReason) -> None:
        status, current = self.model[cid]
        done = self._do(lambda: self.log.retract_contact(contact_id=cid, reason=reason))
        assert done == (status is ContactStatus.logged)
        if done:
            self.model[cid] = (ContactStatus.retracted, current)

    @rule()
    def unknown_contact(self) -> None:
        with pytest.raises(NotFound):
            self.log.retract_contact(contact_id="c-unknown", reason=ContactRetractionReason.other)

    @invariant()
    def statuses_follow_the_model(self) -> None:
        assert {c: (k.status, k.values) for c, k in self.log.contacts.items()} == self.model

    @invariant()
    def figures_are_those_of_the_logged_contacts(self) -> None:
        logged = [v for s, v in self.model.values() if s is ContactStatus.logged]
        assert self.log.figures() == contact_figures(logged)

    @invariant()
    def replay_rebuilds_the_same_state(self) -> None:
        replayed = DuoLog.replay("d-1", self.events)
        assert replayed.contacts == self.log.contacts and replayed.version == self.log.version


TestContactLifecycle = ContactLifecycle.TestCase
TestContactLifecycle.settings = DERANDOMIZED


def test_contacts_need_a_running_duo_dates_within_its_life_and_an_author() -> None:
    log = DuoLog("d-1")
    base = dict(contact_id="c-1", project_id="p-1", duo_active=True, started_on=STARTED, minutes=30,
                mode=ContactMode.phone, activities=[Activity.walk], logged_by="buddy", has_private_note=False,
                today=TODAY)
    with pytest.raises(DomainError, match="not running"):
        log.log_contact(**{**base, "duo_active": False}, contact_date=TODAY)
    with pytest.raises(InvalidInput, match="after the duo ended") as caught:
        log.log_contact(**base, contact_date=TODAY, ended_on=TODAY - timedelta(days=1))
    assert caught.value.field == "contact_date"
    with pytest.raises(InvalidInput, match="Unknown author"):
        log.log_contact(**{**base, "logged_by": "someone"}, contact_date=TODAY)
    [logged] = log.log_contact(**base, contact_date=TODAY)
    log.apply(logged)
    # a correction after the end is fine (setting the record straight), but not to a date after the end
    with pytest.raises(InvalidInput, match="after the duo ended"):
        log.correct_contact(contact_id="c-1", values=ContactValues.of(TODAY, 45, ContactMode.phone, [Activity.walk]),
                            started_on=STARTED, today=TODAY + timedelta(days=5), ended_on=TODAY - timedelta(days=1))
    [fixed] = log.correct_contact(contact_id="c-1", started_on=STARTED, today=TODAY + timedelta(days=5),
                                  ended_on=TODAY, values=ContactValues.of(TODAY, 45, ContactMode.phone, [Activity.walk]))
    assert fixed.logged_by == "buddy" and fixed.minutes == 45


# ----------------------------------------------------------------------------- check-in cadence
def test_check_in_default_two_contacts_in_the_first_month_then_monthly() -> None:
    cadence, start = Cadence(), date(2026, 1, 5)

    def at(today: date, *contacts: date, **kw: Any) -> Any:
        return check_in(started_on=start, contact_dates=contacts, cadence=cadence, today=today, **kw)

    assert at(date(2026, 2, 4), date(2026, 1, 10)).overdue is False  # the due day itself is fine
    late = at(date(2026, 2, 5), date(2026, 1, 10))
    assert (late.rule, late.due_on, late.overdue, late.days_overdue) == ("first_period", date(2026, 2, 4), True, 1)
    two = at(date(2026, 2, 5), date(2026, 1, 10), date(2026, 1, 20))
    assert (two.rule, two.due_on, two.overdue) == ("max_gap", date(2026, 2, 20), False)
    after = at(date(2026, 3, 8), date(2026, 1, 10), date(2026, 2, 6))  # late, but a contact since: gap rule
    assert (after.rule, after.due_on, after.overdue) == ("max_gap", date(2026, 3, 9), False)
    assert at(date(2026, 3, 10), date(2026, 1, 10), date(2026, 2, 6)).days_overdue == 1
    assert at(date(2027, 1, 1), status="paused").overdue is False
    assert at(date(2027, 1, 1), status="ended").due_on is None
    resumed = at(date(2026, 3, 10), date(2026, 1, 10), date(2026, 1, 20), resumed_on=date(2026, 3, 1))
    assert (resumed.due_on, resumed.overdue) == (date(2026, 4, 1), False)
    strict = check_in(started_on=start, contact_dates=[date(2026, 1, 6)], cadence=Cadence(7, 1, 14),
                      today=date(2026, 1, 21))
    assert (strict.due_on, strict.overdue) == (date(2026, 1, 20), True)


@settings(max_examples=150, derandomize=True)
@given(contact_days=st.lists(st.integers(min_value=0, max_value=200), max_size=10),
       extra=st.integers(min_value=0, max_value=200), today_offset=st.integers(min_value=0, max_value=300),
       cadence=st.builds(Cadence, st.integers(1, 60), st.integers(0, 5), st.integers(1, 60)))
def test_check_in_properties(contact_days: list[int], extra: int, today_offset: int, cadence: Cadence) -> None:
    start = date(2026, 1, 1)
    today = start + timedelta(days=max([today_offset, *contact_days]))
    dates = [start + timedelta(days=d) for d in contact_days]
    before = check_in(started_on=start, contact_dates=dates, cadence=cadence, today=today)
    assert before.overdue == (today > before.due_on)
    assert before.due_on > (max(dates) if dates else start) or before.rule == "first_period"
    # one more contact (on or before today) never brings the due date forward
    more = start + timedelta(days=min(extra, (today - start).days))
    after = check_in(started_on=start, contact_dates=[*dates, more], cadence=cadence, today=today)
    assert after.due_on >= before.due_on or before.rule == "first_period"
    assert after.days_overdue <= before.days_overdue


def test_a_project_cadence_is_recorded_only_when_it_changes() -> None:
    agg = ProjectCadence("cadence-p-1")
    [event] = apply_all(agg, agg.set(project_id="p-1", cadence=Cadence(14, 3, 21)))
    assert (event.first_period_days, event.first_period_contacts, event.max_gap_days) == (14, 3, 21)
    assert agg.set(project_id="p-1", cadence=Cadence(14, 3, 21)) == []
    assert len(agg.set(project_id="p-1", cadence=Cadence(30, 2, 31))) == 1


# ----------------------------------------------------------------------------- follow-up calls
def test_calls_are_due_months_after_the_end_with_deterministic_ids() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2026, 3, 20), 12) == date(2027, 3, 20)
    assert call_id_for("d-1", 3) == "call-d-1-3m" == call_id_for("d-1", 3)
    long_id = call_id_for("d-" + "x" * 98, 12)
    assert len(long_id) <= 100 and long_id == call_id_for("d-" + "x" * 98, 12) != call_id_for("d-" + "x" * 98, 6)
    assert stream_key("cadence", "p-1") == "cadence-p-1"


class CallLifecycle(RuleBasedStateMachine):
    """scheduled ──unsuccessful attempt──▶ scheduled … the N-th ──▶ completed (not reachable);
    scheduled ──complete(reached with answers | declined | not reachable after ≥1 try)──▶ completed."""

    MAX = 3

    def __init__(self) -> None:
        super().__init__()
        self.call = FollowUpCall("call-d-1-3m")
        self.ended = date(2026, 1, 10)
        apply_all(self.call, self.call.schedule(duo_id="d-1", project_id="p-1", ended_on=self.ended,
                                                months_after_end=3))
        self.attempts, self.outcome = 0, None
        self.today = date(2026, 4, 15)

    @rule()
    def schedule_again(self) -> None:
        with pytest.raises(DomainError, match="already scheduled"):
            self.call.schedule(duo_id="d-1", project_id="p-1", ended_on=self.ended, months_after_end=3)

    @rule(days=st.integers(min_value=-5, max_value=100))
    def attempt(self, days: int) -> None:
        on = self.ended + timedelta(days=days)
        try:
            decided = self.call.attempt(attempted_on=on, today=self.today, max_attempts=self.MAX)
        except DomainError as refused:
            assert self.outcome is not None or isinstance(refused, InvalidInput)
            if isinstance(refused, InvalidInput):
                assert on < self.ended or on > self.today
            return
        assert self.outcome is None and self.ended <= on <= self.today
        apply_all(self.call, decided)
        self.attempts += 1
        if self.attempts == self.MAX:
            self.outcome = FollowUpCallOutcome.not_reachable
            assert decided[-1].outcome is FollowUpCallOutcome.not_reachable and decided[-1].attempts == self.MAX

    @rule(outcome=st.sampled_from(list(FollowUpCallOutcome)), with_answers=st.booleans())
    def complete(self, outcome: FollowUpCallOutcome, with_answers: bool) -> None:
        answers = CallAnswers(True, NetworkChange.grown, 7) if with_answers else None
        allowed = (self.outcome is None and with_answers == (outcome is FollowUpCallOutcome.reached)
                   and not (outcome is FollowUpCallOutcome.not_reachable and self.attempts == 0))
        try:
            decided = self.call.complete(outcome=outcome, completed_on=self.today, answers=answers, today=self.today)
        except DomainError:
            assert not allowed
            return
        assert allowed
        [done] = apply_all(self.call, decided)
        self.outcome = outcome
        if outcome is FollowUpCallOutcome.reached:
            assert (done.still_in_contact_with_buddy, done.wellbeing, done.attempts) == (True, 7, self.attempts + 1)

    @invariant()
    def state_matches_the_model(self) -> None:
        assert self.call.outcome == self.outcome
        assert self.call.completed == (self.outcome is not None)
        assert self.call.due_on == date(2026, 4, 10)


TestCallLifecycle = CallLifecycle.TestCase
TestCallLifecycle.settings = DERANDOMIZED


# ----------------------------------------------------------------------------- boundary signals and goals
class SignalLifecycle(RuleBasedStateMachine):
    """open ──follow up (0..n)──▶ open ──resolve──▶ resolved; nothing after resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.signal = BoundarySignal("bs-1")
        apply_all(self.signal, self.signal.raise_signal(
            duo_id="d-1", project_id="p-1", signal_type=BoundarySignalType.money_or_goods_asked,
            severity=BoundarySeverity.medium, raised_by=BoundaryRaisedBy.buddy, raised_on=date(2026, 3, 1),
            started_on=STARTED, has_private_note=True, today=TODAY))
        self.resolved, self.follow_ups, self.severity = False, 0, BoundarySeverity.medium

    @rule(severity=st.none() | st.sampled_from(list(BoundarySeverity)))
    def follow_up(self, severity: BoundarySeverity | None) -> None:
        try:
            [e] = self.signal.follow_up(action=BoundaryFollowUpAction.conversation_with_buddy,
                                        followed_up_on=date(2026, 3, 2), severity=severity,
                                        has_private_note=False, today=TODAY)
        except DomainError as refused:
            assert self.resolved and "already resolved" in refused.message
            return
        assert not self.resolved
        self.signal.apply(e)
        self.follow_ups += 1
        assert e.severity == (severity if severity != self.severity else None)
        self.severity = severity or self.severity

    @rule(resolution=st.sampled_from(list(BoundaryResolution)))
    def resolve(self, resolution: BoundaryResolution) -> None:
        try:
            decided = self.signal.resolve(resolution=resolution, resolved_on=date(2026, 3, 3), today=TODAY)
        except DomainError:
            assert self.resolved
            return
        apply_all(self.signal, decided)
        self.resolved = True

    @invariant()
    def matches(self) -> None:
        assert (self.signal.resolved, self.signal.follow_ups, self.signal.severity) == \
            (self.resolved, self.follow_ups, self.severity)


TestSignalLifecycle = SignalLifecycle.TestCase
TestSignalLifecycle.settings = DERANDOMIZED


def test_boundary_signal_dates() -> None:
    signal = BoundarySignal("bs-1")
    kwargs = dict(duo_id="d-1", project_id="p-1", signal_type=BoundarySignalType.crisis,
                  severity=BoundarySeverity.critical, raised_by=BoundaryRaisedBy.professional, started_on=STARTED,
                  has_private_note=False, today=TODAY)
    with pytest.raises(InvalidInput, match="before"):
        signal.raise_signal(raised_on=STARTED - timedelta(days=1), **kwargs)
    with pytest.raises(InvalidInput, match="future"):
        signal.raise_signal(raised_on=TODAY + timedelta(days=1), **kwargs)
    with pytest.raises(NotFound):
        signal.resolve(resolution=BoundaryResolution.resolved, resolved_on=TODAY, today=TODAY)


@settings(max_examples=60, derandomize=True)
@given(scores=st.lists(st.integers(0, 10), max_size=6), close_at=st.integers(0, 6),
       outcome=st.sampled_from(list(GoalOutcome)))
def test_goal_progress_until_closed(scores: list[int], close_at: int, outcome: GoalOutcome) -> None:
    goal = Goal("g-1")
    apply_all(goal, goal.set_goal(duo_id="d-1", project_id="p-1", domain=GoalDomain.social_network,
                                  set_on=date(2026, 2, 1), baseline=3, target=7, started_on=STARTED,
                                  has_private_description=True, today=TODAY))
    expected = [3]
    for i, score in enumerate(scores):
        if i == close_at:
            apply_all(goal, goal.close(closed_on=TODAY, outcome=outcome, today=TODAY))
        try:
            apply_all(goal, goal.record_progress(recorded_on=TODAY, score=score, today=TODAY))
            expected.append(score)
        except DomainError as refused:
            assert goal.closed and "already closed" in refused.message
    assert goal.scores == expected
    with pytest.raises(InvalidInput, match="target"):
        Goal("g-2").set_goal(duo_id="d-1", project_id="p-1", domain=GoalDomain.other, set_on=TODAY, baseline=5,
                             target=5, started_on=STARTED, has_private_description=False, today=TODAY)


def test_evaluations_once_each_and_in_order() -> None:
    agg = DuoEvaluations("eval-d-1")

    def record(moment: EvaluationMoment, on: date) -> Any:
        return apply_all(agg, agg.record(duo_id="d-1", project_id="p-1", moment=moment, evaluated_on=on, wellbeing=5,
                                         network_size=3, participant_satisfaction=None, volunteer_satisfaction=4,
                                         started_on=STARTED, today=TODAY))

    record(EvaluationMoment.start, date(2026, 1, 2))
    with pytest.raises(DomainError, match="already recorded"):
        record(EvaluationMoment.start, date(2026, 1, 3))
    with pytest.raises(InvalidInput, match="before the 'start'"):
        record(EvaluationMoment.mid, date(2026, 1, 1))
    record(EvaluationMoment.final, date(2026, 6, 1))
    with pytest.raises(DomainError, match="'final' evaluation is already recorded"):
        record(EvaluationMoment.mid, date(2026, 3, 1))


def test_coaching_sessions_check_who_took_part() -> None:
    base = dict(project_id="p-1", session_date=TODAY, minutes=60, themes=[CoachingTheme.boundaries], today=TODAY)
    with pytest.raises(InvalidInput, match="exactly one"):
        CoachingSession("cs-1").log(kind=CoachingKind.individual, volunteer_ids=["v-1", "v-2"], **base)
    with pytest.raises(InvalidInput, match="at least two"):
        CoachingSession("cs-1").log(kind=CoachingKind.intervision, volunteer_ids=["v-1", "v-1"], **base)
    [event] = CoachingSession("cs-1").log(kind=CoachingKind.group, volunteer_ids=["v-1", "v-2", "v-1"], **base)
    assert event.volunteer_ids == ["v-1", "v-2"]


# ----------------------------------------------------------------------------- policy signals
def recorded_signal() -> PolicySignal:
    signal = PolicySignal("ps-1")
    apply_all(signal, signal.record(project_id="p-1", theme=PolicyTheme.digital_barriers, observed_on=TODAY,
                                    has_private_description=True, today=TODAY))
    return signal


@pytest.mark.parametrize("text", [
    "mail an.peeters@example.be", "bel +32 499 12 34 56", "gsm 0499/12.34.56", "tel 03 123 45 67",
    "RRN 85.07.30-033.28", "rekening BE71 0961 2345 6769", "via info@ocmw.gent",
])
def test_summaries_with_obvious_personal_data_are_refused(text: str) -> None:
    assert personal_data_in(text) is not None
    with pytest.raises(InvalidInput, match="personal data") as caught:
        recorded_signal().confirm_summary(summary=f"Drempel: {text}", confirmed_no_personal_data=True, today=TODAY)
    assert caught.value.field == "summary"


@pytest.mark.parametrize("text", [
    "Mevrouw Peeters uit de Kerkstraat vindt geen bus", "mevr. Claes", "meneer De Smet", "dhr. Janssens",
    "de heer Wouters", "Madame Dubois", "Mr. Jones", "woont in de Kerkstraat 12", "Leuvensesteenweg 300 bus 2",
])
def test_summaries_naming_a_person_or_an_address_are_refused(text: str) -> None:
    assert personal_data_in(text) is not None
    with pytest.raises(InvalidInput, match="personal data") as caught:
        recorded_signal().confirm_summary(summary=f"Drempel: {text}", confirmed_no_personal_data=True, today=TODAY)
    assert caught.value.field == "summary"


@pytest.mark.parametrize("text", [
    "Sinds 2024 kunnen aanvragen enkel nog online; 3 op 10 deelnemers hebben geen computer.",
    "Wachttijd bij de schuldbemiddeling loopt op tot 6 maanden (2023-2024).",
    "Oudere mevrouwen en meneren in de wijk vinden de Kerkstraat onveilig om over te steken.",
])
def test_clean_summaries_pass(text: str) -> None:
    signal = recorded_signal()
    [event] = signal.confirm_summary(summary=f"  {text}  ", confirmed_no_personal_data=True, today=TODAY)
    assert event.summary == text and event.theme is PolicyTheme.digital_barriers


@settings(max_examples=60, derandomize=True)
@given(local=st.from_regex(r"[a-z][a-z0-9.]{0,10}[a-z]", fullmatch=True),
       domain=st.from_regex(r"[a-z]{2,8}\.(be|org|com)", fullmatch=True),
       before=st.text(alphabet="abc de", max_size=20))
def test_any_email_address_is_refused(local: str, domain: str, before: str) -> None:
    with pytest.raises(InvalidInput):
        recorded_signal().confirm_summary(summary=f"{before} {local}@{domain}", confirmed_no_personal_data=True,
                                          today=TODAY)


def test_a_summary_needs_the_confirmation_and_fits_280_characters() -> None:
    with pytest.raises(InvalidInput) as caught:
        recorded_signal().confirm_summary(summary="Drempel", confirmed_no_personal_data=False, today=TODAY)
    assert caught.value.field == "confirm_no_personal_data"
    with pytest.raises(InvalidInput, match="280"):
        recorded_signal().confirm_summary(summary="x" * 281, confirmed_no_personal_data=True, today=TODAY)
    signal = recorded_signal()
    apply_all(signal, signal.confirm_summary(summary="x" * 280, confirmed_no_personal_data=True, today=TODAY))
    with pytest.raises(DomainError, match="already confirmed"):
        signal.confirm_summary(summary="y", confirmed_no_personal_data=True, today=TODAY)
    with pytest.raises(NotFound):
        PolicySignal("ps-2").confirm_summary(summary="y", confirmed_no_personal_data=True, today=TODAY)
