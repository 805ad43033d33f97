"""Command handlers of follow-up: load, decide, append with read models and vault writes
in one transaction.

Who may do what:

* professionals of the duo's project (and admins) may do everything here;
* buddies (role ``buddy``) may log, draft, submit, discard, correct and retract
  contacts of *their own* duo only — the duo whose ``DuoStarted.volunteer_id`` equals
  the buddy's actor id (the ``sub`` of their token) — and correct or retract only the
  contacts a buddy logged;
* everyone else gets 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from shared.auth import Principal, require_project, require_role
from shared.contracts.common import Day, Id, Minutes, Text
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
from shared.domain import Aggregate, NotFound, Repository
from shared.events.envelope import Role
from shared.events.registry import DomainEvent
from shared.eventstore import NewEvent
from shared.service import ServiceRuntime
from services.followup.config import FollowupSettings
from services.followup.domain import (
    BoundarySignal,
    Cadence,
    CallAnswers,
    CoachingSession,
    ContactValues,
    DuoEvaluations,
    DuoLog,
    FollowUpCall,
    Goal,
    PolicySignal,
    ProjectCadence,
    cadence_stream,
    evaluations_stream,
)
from services.followup.projections import project_all
from services.followup.read_models import boundary_signals, calls, goals, participants, policy_signals, roster

NOT_YOUR_DUO = "Je kan alleen contacten van je eigen duo registreren / You can only record contacts of your own duo"
NOT_YOUR_CONTACT = ("Een buddy kan alleen contacten verbeteren die een buddy logde / "
                    "A buddy can only change contacts a buddy logged")


# --------------------------------------------------------------------------- commands (request bodies)
class LogContact(BaseModel):
    contact_date: Day
    minutes: Minutes
    mode: ContactMode
    activities: list[Activity] = Field(min_length=1)
    note: Text | None = Field(None, max_length=5000, description="Private note, kept encrypted; never reported.")

    def values(self, has_private_note: bool) -> ContactValues:
        return ContactValues.of(self.contact_date, self.minutes, self.mode, self.activities, has_private_note)


class CorrectContact(LogContact):
    """The contact's values as they should have been; the note is kept unless replaced or removed."""

    remove_note: bool = Field(False, description="Remove the private note (ignored when a new note is given).")


class RetractContact(BaseModel):
    reason: ContactRetractionReason


class SetCadence(BaseModel):
    first_period_days: int = Field(ge=1, le=120, description="Length of the first period, in days.")
    first_period_contacts: int = Field(ge=0, le=31, description="Contacts expected in the first period.")
    max_gap_days: int = Field(ge=1, le=366, description="Afterwards: at most this many days between contacts.")


class LogCoaching(BaseModel):
    kind: CoachingKind
    session_date: Day
    minutes: Minutes
    themes: list[CoachingTheme] = Field(min_length=1)
    volunteer_ids: list[Id] = Field(min_length=1, max_length=50)


class RaiseBoundarySignal(BaseModel):
    signal_type: BoundarySignalType
    severity: BoundarySeverity
    raised_by: BoundaryRaisedBy
    raised_on: Day
    note: Text | None = Field(None, max_length=5000, description="Private note, kept encrypted.")


class FollowUpBoundarySignal(BaseModel):
    action: BoundaryFollowUpAction
    followed_up_on: Day
    severity: BoundarySeverity | None = Field(None, description="Reassessed severity, if it changed.")
    note: Text | None = Field(None, max_length=5000, description="Private note, kept encrypted.")


class ResolveBoundarySignal(BaseModel):
    resolution: BoundaryResolution
    resolved_on: Day


class SetGoal(BaseModel):
    domain: GoalDomain
    set_on: Day
    baseline: int = Field(ge=0, le=10, description="Where the participant stands now, 0–10.")
    target: int | None = Field(None, ge=0, le=10, description="Where they want to get, 0–10.")
    description: Text | None = Field(None, max_length=2000,
                                    description="The goal in the participant's words; kept encrypted.")


class RecordProgress(BaseModel):
    recorded_on: Day
    score: int = Field(ge=0, le=10)


class CloseGoal(BaseModel):
    closed_on: Day
    outcome: GoalOutcome


class RecordEvaluation(BaseModel):
    moment: EvaluationMoment
    evaluated_on: Day
    wellbeing: int = Field(ge=0, le=10)
    network_size: int = Field(ge=0, le=200, description="How many people the participant can count on.")
    participant_satisfaction: int | None = Field(None, ge=1, le=5)
    volunteer_satisfaction: int | None = Field(None, ge=1, le=5)


class AttemptCall(BaseModel):
    attempted_on: Day


class CallAnswersBody(BaseModel):
    still_in_contact_with_buddy: bool | None = None
    network_change: NetworkChange | None = None
    wellbeing: int | None = Field(None, ge=0, le=10)


class CompleteCall(BaseModel):
    outcome: FollowUpCallOutcome
    completed_on: Day
    answers: CallAnswersBody | None = Field(None, description="Required when reached, absent otherwise.")


class RecordPolicySignal(BaseModel):
    theme: PolicyTheme
    observed_on: Day
    description: Text = Field(min_length=1, max_length=5000,
                             description="What was observed; kept encrypted, never published.")


class ConfirmSummary(BaseModel):
    summary: Text = Field(min_length=1, max_length=2000,
                         description="Short anonymised summary (at most 280 characters) that may reach reports.")
    confirm_no_personal_data: bool = Field(description="The professional confirms the summary holds no personal data.")


# --------------------------------------------------------------------------- handlers
def _day(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class FollowupHandlers:
    def __init__(self, runtime: ServiceRuntime, config: FollowupSettings | None = None) -> None:
        self.runtime = runtime
        self.config = config or FollowupSettings()
        # One repository per aggregate type for the service's life: each keeps its aggregates
        # between commands (a throwaway one would keep them for nobody).
        self.logs = Repository(runtime.store, DuoLog)
        self.cadences = Repository(runtime.store, ProjectCadence)
        self.signals = Repository(runtime.store, BoundarySignal)
        self.goals = Repository(runtime.store, Goal)
        self.evaluations = Repository(runtime.store, DuoEvaluations)
        self.calls = Repository(runtime.store, FollowUpCall)
        self.policy_signals = Repository(runtime.store, PolicySignal)

    @property
    def today(self) -> date:
        return self.runtime.clock.today()

    # -- shared steps
    def _duo(self, conn: Connection, duo_id: str) -> Mapping[str, Any]:
        duo = conn.execute(select(roster).where(roster.c.duo_id == duo_id)).mappings().first()
        if duo is None:
            raise NotFound("Duo", "Duo", duo_id)
        return duo

    @staticmethod
    def authorise_duo(principal: Principal, duo: Mapping[str, Any], *, buddy: bool = False) -> None:
        """Professionals of the project and admins; with ``buddy``, also the duo's own buddy."""
        if buddy and principal.role is Role.buddy:
            if principal.actor.id != duo["volunteer_id"]:
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NOT_YOUR_DUO)
            return
        require_project(principal, duo["project_id"])

    def _save(self, conn: Connection, aggregate: Aggregate, decided: Sequence[DomainEvent], *, project_id: str,
              principal: Principal, correlation_id: uuid.UUID, occurred_on: date | None = None,
              subject_id: str | None = None, private: Mapping[str, str] | None = None) -> None:
        """Append what the aggregate decided, seal ``private`` beside the first event, project all of them."""
        sealed = None
        if private:
            assert subject_id is not None and self.runtime.vault is not None
            sealed = self.runtime.vault.seal(conn, subject_id, dict(private))
        news = [NewEvent(e, occurred_at=_day(occurred_on) if occurred_on else None, project_id=project_id,
                         subject_id=subject_id if (sealed and i == 0) else None, sealed=sealed if i == 0 else None)
                for i, e in enumerate(decided)]
        appended = self.runtime.store.append(aggregate.id, aggregate.version, news, actor=principal.actor,
                                             correlation_id=correlation_id, conn=conn)
        project_all(conn, appended, decided)
        for e in decided:
            aggregate.apply(e)

    def _done(self) -> None:
        self.runtime.recorded()

    # -- contacts
    def log_contact(self, duo_id: str, cmd: LogContact, principal: Principal, correlation_id: uuid.UUID,
                    *, draft: bool = False) -> str:
        require_role(principal, Role.professional, Role.buddy, Role.admin)
        contact_id = f"c-{uuid.uuid4().hex}"
        with self.runtime.store.transaction() as conn:
            duo = self._duo(conn, duo_id)
            self.authorise_duo(principal, duo, buddy=True)
            log = self.logs.get(duo_id, conn)
            decided = log.log_contact(
                contact_id=contact_id, project_id=duo["project_id"], duo_active=duo["status"] != "ended",
                started_on=date.fromisoformat(duo["started_on"]), contact_date=cmd.contact_date, minutes=cmd.minutes,
                mode=cmd.mode, activities=cmd.activities,
                logged_by="buddy" if principal.role is Role.buddy else "professional",
                has_private_note=bool(cmd.note), today=self.today, draft=draft,
            )
            # the note is about the participant: erasing them shreds it
            self._save(conn, log, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.contact_date,
                       subject_id=duo["participant_id"], private={"note": cmd.note} if cmd.note else None)
        self._done()
        return contact_id

    def _contact_command(self, duo_id: str, contact_id: str, principal: Principal, decide: Any,
                         correlation_id: uuid.UUID, *, note: str | None = None) -> dict[str, Any]:
        require_role(principal, Role.professional, Role.buddy, Role.admin)
        with self.runtime.store.transaction() as conn:
            duo = self._duo(conn, duo_id)
            self.authorise_duo(principal, duo, buddy=True)
            log = self.logs.get(duo_id, conn)
            contact = log.contacts.get(contact_id)
            if contact is None:
                raise NotFound("Contact", "Contact", contact_id)
            if principal.role is Role.buddy and contact.logged_by != "buddy":
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NOT_YOUR_CONTACT)
            decided = decide(log, duo, contact)
            self._save(conn, log, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, subject_id=duo["participant_id"],
                       private={"note": note} if note else None)
            result = {"contact_id": contact_id, "status": str(log.contacts[contact_id].status), "version": log.version}
        self._done()
        return result

    def submit_draft(self, duo_id: str, contact_id: str, cmd: LogContact | None, principal: Principal,
                     correlation_id: uuid.UUID) -> dict[str, Any]:
        def decide(log: DuoLog, duo: Mapping[str, Any], contact: Any) -> list:
            values = None
            if cmd is not None:
                values = cmd.values(bool(cmd.note) or contact.values.has_private_note)
            return log.submit_draft(contact_id=contact_id, duo_active=duo["status"] != "ended",
                                    started_on=date.fromisoformat(duo["started_on"]), today=self.today, values=values)

        return self._contact_command(duo_id, contact_id, principal, decide, correlation_id,
                                     note=cmd.note if cmd else None)

    def discard_draft(self, duo_id: str, contact_id: str, principal: Principal,
                      correlation_id: uuid.UUID) -> dict[str, Any]:
        return self._contact_command(duo_id, contact_id, principal,
                                     lambda log, duo, contact: log.discard_draft(contact_id=contact_id),
                                     correlation_id)

    def correct_contact(self, duo_id: str, contact_id: str, cmd: CorrectContact, principal: Principal,
                        correlation_id: uuid.UUID) -> dict[str, Any]:
        def decide(log: DuoLog, duo: Mapping[str, Any], contact: Any) -> list:
            keeps = contact.values.has_private_note and not cmd.remove_note
            ended_on = date.fromisoformat(duo["ended_on"]) if duo["ended_on"] else None
            return log.correct_contact(contact_id=contact_id, values=cmd.values(bool(cmd.note) or keeps),
                                       started_on=date.fromisoformat(duo["started_on"]), today=self.today,
                                       ended_on=ended_on, note_changed=bool(cmd.note))

        return self._contact_command(duo_id, contact_id, principal, decide, correlation_id, note=cmd.note)

    def retract_contact(self, duo_id: str, contact_id: str, cmd: RetractContact, principal: Principal,
                        correlation_id: uuid.UUID) -> dict[str, Any]:
        return self._contact_command(duo_id, contact_id, principal,
                                     lambda log, duo, contact: log.retract_contact(contact_id=contact_id,
                                                                                   reason=cmd.reason),
                                     correlation_id)

    # -- cadence
    def set_cadence(self, project_id: str, cmd: SetCadence, principal: Principal,
                    correlation_id: uuid.UUID) -> dict[str, Any]:
        require_project(principal, project_id)
        with self.runtime.store.transaction() as conn:
            agg = self.cadences.get(cadence_stream(project_id), conn)
            decided = agg.set(project_id=project_id, cadence=Cadence(cmd.first_period_days, cmd.first_period_contacts,
                                                                     cmd.max_gap_days))
            self._save(conn, agg, decided, project_id=project_id, principal=principal, correlation_id=correlation_id)
        self._done()
        return {"project_id": project_id, **cmd.model_dump(), "source": "project", "changed": bool(decided)}

    # -- coaching
    def log_coaching(self, project_id: str, cmd: LogCoaching, principal: Principal,
                     correlation_id: uuid.UUID) -> str:
        require_project(principal, project_id)
        session = CoachingSession(f"cs-{uuid.uuid4().hex}")
        with self.runtime.store.transaction() as conn:
            known = set(conn.execute(select(roster.c.volunteer_id).where(
                roster.c.project_id == project_id, roster.c.volunteer_id.in_(cmd.volunteer_ids))).scalars())
            for volunteer_id in cmd.volunteer_ids:
                if volunteer_id not in known:
                    raise NotFound("Vrijwilliger", "Volunteer", volunteer_id)
            decided = session.log(project_id=project_id, kind=cmd.kind, session_date=cmd.session_date,
                                  minutes=cmd.minutes, themes=cmd.themes, volunteer_ids=cmd.volunteer_ids,
                                  today=self.today)
            self._save(conn, session, decided, project_id=project_id, principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.session_date)
        self._done()
        return session.id

    # -- boundary signals
    def raise_boundary_signal(self, duo_id: str, cmd: RaiseBoundarySignal, principal: Principal,
                              correlation_id: uuid.UUID) -> str:
        signal = BoundarySignal(f"bs-{uuid.uuid4().hex}")
        with self.runtime.store.transaction() as conn:
            duo = self._duo(conn, duo_id)
            self.authorise_duo(principal, duo)
            decided = signal.raise_signal(
                duo_id=duo_id, project_id=duo["project_id"], signal_type=cmd.signal_type, severity=cmd.severity,
                raised_by=cmd.raised_by, raised_on=cmd.raised_on, started_on=date.fromisoformat(duo["started_on"]),
                has_private_note=bool(cmd.note), today=self.today)
            self._save(conn, signal, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.raised_on, subject_id=duo["participant_id"],
                       private={"note": cmd.note} if cmd.note else None)
        self._done()
        return signal.id

    def _signal(self, conn: Connection, signal_id: str, principal: Principal) -> tuple[BoundarySignal, Mapping[str, Any]]:
        row = conn.execute(select(boundary_signals.c.duo_id).where(boundary_signals.c.signal_id == signal_id)).first()
        if row is None:
            raise NotFound("Signaal", "Signal", signal_id)
        duo = self._duo(conn, row.duo_id)
        self.authorise_duo(principal, duo)
        return self.signals.get(signal_id, conn), duo

    def follow_up_boundary_signal(self, signal_id: str, cmd: FollowUpBoundarySignal, principal: Principal,
                                  correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            signal, duo = self._signal(conn, signal_id, principal)
            decided = signal.follow_up(action=cmd.action, followed_up_on=cmd.followed_up_on, severity=cmd.severity,
                                       has_private_note=bool(cmd.note), today=self.today)
            self._save(conn, signal, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.followed_up_on,
                       subject_id=duo["participant_id"], private={"note": cmd.note} if cmd.note else None)
        self._done()
        return {"signal_id": signal_id, "status": "open", "follow_ups": signal.follow_ups, "version": signal.version}

    def resolve_boundary_signal(self, signal_id: str, cmd: ResolveBoundarySignal, principal: Principal,
                                correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            signal, duo = self._signal(conn, signal_id, principal)
            decided = signal.resolve(resolution=cmd.resolution, resolved_on=cmd.resolved_on, today=self.today)
            self._save(conn, signal, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.resolved_on)
        self._done()
        return {"signal_id": signal_id, "status": "resolved", "version": signal.version}

    # -- goals and evaluations
    def set_goal(self, duo_id: str, cmd: SetGoal, principal: Principal, correlation_id: uuid.UUID) -> str:
        goal = Goal(f"g-{uuid.uuid4().hex}")
        with self.runtime.store.transaction() as conn:
            duo = self._duo(conn, duo_id)
            self.authorise_duo(principal, duo)
            decided = goal.set_goal(duo_id=duo_id, project_id=duo["project_id"], domain=cmd.domain, set_on=cmd.set_on,
                                    baseline=cmd.baseline, target=cmd.target,
                                    started_on=date.fromisoformat(duo["started_on"]),
                                    has_private_description=bool(cmd.description), today=self.today)
            self._save(conn, goal, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.set_on, subject_id=duo["participant_id"],
                       private={"description": cmd.description} if cmd.description else None)
        self._done()
        return goal.id

    def _goal(self, conn: Connection, goal_id: str, principal: Principal) -> tuple[Goal, Mapping[str, Any]]:
        row = conn.execute(select(goals.c.duo_id).where(goals.c.goal_id == goal_id)).first()
        if row is None:
            raise NotFound("Doel", "Goal", goal_id)
        duo = self._duo(conn, row.duo_id)
        self.authorise_duo(principal, duo)
        return self.goals.get(goal_id, conn), duo

    def record_goal_progress(self, goal_id: str, cmd: RecordProgress, principal: Principal,
                             correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            goal, duo = self._goal(conn, goal_id, principal)
            decided = goal.record_progress(recorded_on=cmd.recorded_on, score=cmd.score, today=self.today)
            self._save(conn, goal, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.recorded_on)
        self._done()
        return {"goal_id": goal_id, "status": "open", "scores": goal.scores, "version": goal.version}

    def close_goal(self, goal_id: str, cmd: CloseGoal, principal: Principal,
                   correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            goal, duo = self._goal(conn, goal_id, principal)
            decided = goal.close(closed_on=cmd.closed_on, outcome=cmd.outcome, today=self.today)
            self._save(conn, goal, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.closed_on)
        self._done()
        return {"goal_id": goal_id, "status": "closed", "outcome": str(cmd.outcome), "version": goal.version}

    def record_evaluation(self, duo_id: str, cmd: RecordEvaluation, principal: Principal,
                          correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            duo = self._duo(conn, duo_id)
            self.authorise_duo(principal, duo)
            agg = self.evaluations.get(evaluations_stream(duo_id), conn)
            decided = agg.record(duo_id=duo_id, project_id=duo["project_id"], moment=cmd.moment,
                                 evaluated_on=cmd.evaluated_on, wellbeing=cmd.wellbeing, network_size=cmd.network_size,
                                 participant_satisfaction=cmd.participant_satisfaction,
                                 volunteer_satisfaction=cmd.volunteer_satisfaction,
                                 started_on=date.fromisoformat(duo["started_on"]), today=self.today)
            self._save(conn, agg, decided, project_id=duo["project_id"], principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.evaluated_on)
        self._done()
        return {"duo_id": duo_id, "moment": str(cmd.moment), "recorded": sorted(str(m) for m in agg.recorded)}

    # -- follow-up calls
    def _call(self, conn: Connection, call_id: str, principal: Principal) -> tuple[FollowUpCall, str]:
        row = conn.execute(select(calls.c.project_id).where(calls.c.call_id == call_id)).first()
        if row is None:
            raise NotFound("Opvolgbelmoment", "Follow-up call", call_id)
        require_project(principal, row.project_id)
        return self.calls.get(call_id, conn), row.project_id

    def attempt_call(self, call_id: str, cmd: AttemptCall, principal: Principal,
                     correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            call, project_id = self._call(conn, call_id, principal)
            decided = call.attempt(attempted_on=cmd.attempted_on, today=self.today,
                                   max_attempts=self.config.call_max_attempts)
            self._save(conn, call, decided, project_id=project_id, principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.attempted_on)
        self._done()
        return self._call_state(call)

    def complete_call(self, call_id: str, cmd: CompleteCall, principal: Principal,
                      correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            call, project_id = self._call(conn, call_id, principal)
            answers = CallAnswers(**cmd.answers.model_dump()) if cmd.answers is not None else None
            consent = conn.execute(select(participants.c.consent_to_call)
                                   .join(roster, roster.c.participant_id == participants.c.participant_id)
                                   .where(roster.c.duo_id == call.duo_id)).scalar()
            decided = call.complete(outcome=cmd.outcome, completed_on=cmd.completed_on, answers=answers,
                                    today=self.today, consent_to_call=consent)
            self._save(conn, call, decided, project_id=project_id, principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.completed_on)
        self._done()
        return self._call_state(call)

    @staticmethod
    def _call_state(call: FollowUpCall) -> dict[str, Any]:
        status = "cancelled" if call.cancelled else "completed" if call.completed else "scheduled"
        return {"call_id": call.id, "status": status,
                "attempts": call.attempts, "outcome": str(call.outcome) if call.outcome else None,
                "version": call.version}

    # -- policy signals
    def record_policy_signal(self, project_id: str, cmd: RecordPolicySignal, principal: Principal,
                             correlation_id: uuid.UUID) -> str:
        require_project(principal, project_id)
        signal = PolicySignal(f"ps-{uuid.uuid4().hex}")
        with self.runtime.store.transaction() as conn:
            decided = signal.record(project_id=project_id, theme=cmd.theme, observed_on=cmd.observed_on,
                                    has_private_description=True, today=self.today)
            # sealed under the signal's own key: it may be shredded on its own
            self._save(conn, signal, decided, project_id=project_id, principal=principal,
                       correlation_id=correlation_id, occurred_on=cmd.observed_on, subject_id=signal.id,
                       private={"description": cmd.description})
        self._done()
        return signal.id

    def confirm_policy_summary(self, signal_id: str, cmd: ConfirmSummary, principal: Principal,
                               correlation_id: uuid.UUID) -> dict[str, Any]:
        with self.runtime.store.transaction() as conn:
            row = conn.execute(select(policy_signals.c.project_id)
                               .where(policy_signals.c.signal_id == signal_id)).first()
            if row is None:
                raise NotFound("Signaal", "Signal", signal_id)
            require_project(principal, row.project_id)
            signal = self.policy_signals.get(signal_id, conn)
            decided = signal.confirm_summary(summary=cmd.summary, confirmed_no_personal_data=cmd.confirm_no_personal_data,
                                             today=self.today)
            self._save(conn, signal, decided, project_id=row.project_id, principal=principal,
                       correlation_id=correlation_id)
        self._done()
        return {"signal_id": signal_id, "status": "confirmed", "summary": signal.summary, "version": signal.version}

    def shred_policy_signal(self, signal_id: str, principal: Principal, correlation_id: uuid.UUID) -> dict[str, Any]:
        """Admins: destroy the key of the signal's sealed description and drop its confirmed summary.

        One transaction: the key goes and ``PolicySignalShredded`` is recorded, or neither.
        The history keeps verifying: the chain covers the sealed bytes, not their plaintext.
        """
        require_role(principal, Role.admin)
        with self.runtime.store.transaction() as conn:
            signal = self.policy_signals.get(signal_id, conn)
            decided = signal.shred(today=self.today)
            assert self.runtime.vault is not None and signal.project_id is not None
            key_destroyed = self.runtime.vault.erase(conn, signal_id)
            self._save(conn, signal, decided, project_id=signal.project_id, principal=principal,
                       correlation_id=correlation_id)
        self._done()
        return {"signal_id": signal_id, "status": "shredded", "key_destroyed": key_destroyed,
                "version": signal.version}
