"""Read models from follow-up's own events, in the transaction that records them.

``project`` is the only writer of these tables: handlers and the call scheduler call it
for every event they append, and ``rebuild`` replays the whole log through it, so the
live tables and a rebuild can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update

from shared.contracts.followup import (
    BoundarySignalFollowedUp,
    BoundarySignalRaised,
    BoundarySignalResolved,
    CheckInCadenceSet,
    CoachingSessionLogged,
    ContactCorrected,
    ContactDraftDiscarded,
    ContactDrafted,
    ContactLogged,
    ContactRetracted,
    EvaluationRecorded,
    FollowUpCallAttempted,
    FollowUpCallCancelled,
    FollowUpCallCompleted,
    FollowUpCallScheduled,
    GoalClosed,
    GoalProgressRecorded,
    GoalSet,
    PolicySignalRecorded,
    PolicySignalShredded,
    PolicySignalSummaryConfirmed,
)
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.rows import put
from shared.eventstore.store import EventStore, format_time
from shared.eventstore.tables import events
from services.followup.domain import SEVERITY_RANK
from services.followup.read_models import (
    OWN_TABLES,
    boundary_signals,
    cadences,
    calls,
    coaching_attendance,
    coaching_sessions,
    contacts,
    evaluations,
    goals,
    policy_signals,
)


@dataclass(frozen=True)
class Recorded:
    """A follow-up event as the store recorded it: what the projection needs to know."""

    event: DomainEvent
    position: int
    recorded_at: str
    actor_id: str
    sealed: bool = False


def recorded(conn: Connection, appended: Sequence[Any], decided: Sequence[DomainEvent]) -> list[Recorded]:
    """The events just appended in ``conn``'s transaction, read back by position.

    ``appended`` is what ``EventStore.append`` returned: positions or envelopes.
    """
    positions = [a if isinstance(a, int) else a.position for a in appended]
    rows = {r.position: r for r in conn.execute(
        select(events.c.position, events.c.recorded_at, events.c.actor_id, events.c.sealed)
        .where(events.c.position.in_(positions)))}
    return [Recorded(e, p, rows[p].recorded_at, rows[p].actor_id, rows[p].sealed is not None)
            for e, p in zip(decided, positions, strict=True)]


def project_all(conn: Connection, appended: Sequence[Any], decided: Sequence[DomainEvent]) -> None:
    for rec in recorded(conn, appended, decided):
        project(conn, rec)


def project(conn: Connection, rec: Recorded) -> None:
    """Apply one recorded follow-up event to the read models."""
    event, at, sealed = rec.event, rec.recorded_at, rec.sealed
    match event:
        case ContactDrafted() | ContactLogged():
            status = "draft" if isinstance(event, ContactDrafted) else "logged"
            before = _contact(conn, event.contact_id)
            note_position = rec.position if sealed else None
            if before is not None and note_position is None and event.has_private_note:
                note_position = before["note_position"]  # a submitted draft keeps the draft's note
            put(conn, contacts, **_contact_values(event), contact_id=event.contact_id, duo_id=event.duo_id,
                project_id=event.project_id, status=status, logged_by=event.logged_by,
                logged_by_actor=before["logged_by_actor"] if before else rec.actor_id,
                note_position=note_position, corrections=0, retraction_reason=None,
                recorded_at=before["recorded_at"] if before else at, updated_at=at)
        case ContactCorrected():
            before = _contact(conn, event.contact_id)
            note_position = rec.position if sealed else (
                before["note_position"] if before is not None and event.has_private_note else None)
            conn.execute(update(contacts).where(contacts.c.contact_id == event.contact_id).values(
                **_contact_values(event), note_position=note_position,
                corrections=contacts.c.corrections + 1, updated_at=at))
        case ContactRetracted():
            conn.execute(update(contacts).where(contacts.c.contact_id == event.contact_id).values(
                status="retracted", retraction_reason=str(event.reason), updated_at=at))
        case ContactDraftDiscarded():
            conn.execute(update(contacts).where(contacts.c.contact_id == event.contact_id).values(
                status="discarded", updated_at=at))
        case CheckInCadenceSet():
            put(conn, cadences, project_id=event.project_id, first_period_days=event.first_period_days,
                first_period_contacts=event.first_period_contacts, max_gap_days=event.max_gap_days, set_at=at)
        case CoachingSessionLogged():
            put(conn, coaching_sessions, session_id=event.session_id, project_id=event.project_id,
                kind=str(event.kind), session_date=event.session_date.isoformat(), minutes=event.minutes,
                themes=[str(t) for t in event.themes], volunteer_ids=list(event.volunteer_ids), coach_id=rec.actor_id)
            for volunteer_id in event.volunteer_ids:
                put(conn, coaching_attendance, session_id=event.session_id, volunteer_id=volunteer_id,
                    project_id=event.project_id)
        case BoundarySignalRaised():
            put(conn, boundary_signals, signal_id=event.signal_id, duo_id=event.duo_id, project_id=event.project_id,
                signal_type=str(event.signal_type), severity=str(event.severity),
                severity_rank=SEVERITY_RANK[event.severity], raised_by=str(event.raised_by),
                raised_on=event.raised_on.isoformat(), status="open", follow_ups=0, last_followed_up_on=None,
                resolution=None, resolved_on=None, note_positions=[rec.position] if sealed else [])
        case BoundarySignalFollowedUp():
            row = conn.execute(select(boundary_signals.c.note_positions)
                               .where(boundary_signals.c.signal_id == event.signal_id)).first()
            values: dict = {"follow_ups": boundary_signals.c.follow_ups + 1,
                            "last_followed_up_on": event.followed_up_on.isoformat()}
            if event.severity is not None:
                values.update(severity=str(event.severity), severity_rank=SEVERITY_RANK[event.severity])
            if sealed and row is not None:
                values["note_positions"] = [*row.note_positions, rec.position]
            conn.execute(update(boundary_signals).where(boundary_signals.c.signal_id == event.signal_id).values(**values))
        case BoundarySignalResolved():
            conn.execute(update(boundary_signals).where(boundary_signals.c.signal_id == event.signal_id).values(
                status="resolved", resolution=str(event.resolution), resolved_on=event.resolved_on.isoformat()))
        case GoalSet():
            put(conn, goals, goal_id=event.goal_id, duo_id=event.duo_id, project_id=event.project_id,
                domain=str(event.domain), set_on=event.set_on.isoformat(), baseline=event.baseline, target=event.target,
                latest_score=event.baseline, progress=[], status="open", closed_on=None, outcome=None,
                description_position=rec.position if sealed else None)
        case GoalProgressRecorded():
            row = conn.execute(select(goals.c.progress).where(goals.c.goal_id == event.goal_id)).first()
            progress = [*(row.progress if row else []),
                        {"recorded_on": event.recorded_on.isoformat(), "score": event.score}]
            conn.execute(update(goals).where(goals.c.goal_id == event.goal_id).values(
                progress=progress, latest_score=event.score))
        case GoalClosed():
            conn.execute(update(goals).where(goals.c.goal_id == event.goal_id).values(
                status="closed", closed_on=event.closed_on.isoformat(), outcome=str(event.outcome)))
        case EvaluationRecorded():
            put(conn, evaluations, duo_id=event.duo_id, moment=str(event.moment), project_id=event.project_id,
                evaluated_on=event.evaluated_on.isoformat(), wellbeing=event.wellbeing, network_size=event.network_size,
                participant_satisfaction=event.participant_satisfaction,
                volunteer_satisfaction=event.volunteer_satisfaction)
        case FollowUpCallScheduled():
            put(conn, calls, call_id=event.call_id, duo_id=event.duo_id, project_id=event.project_id,
                months_after_end=event.months_after_end, ended_on=event.ended_on.isoformat(),
                due_on=event.due_on.isoformat(), status="scheduled", attempts=0, last_attempt_on=None, outcome=None,
                completed_on=None, still_in_contact_with_buddy=None, network_change=None, wellbeing=None)
        case FollowUpCallAttempted():
            conn.execute(update(calls).where(calls.c.call_id == event.call_id).values(
                attempts=event.attempt, last_attempt_on=event.attempted_on.isoformat()))
        case FollowUpCallCompleted():
            conn.execute(update(calls).where(calls.c.call_id == event.call_id).values(
                status="completed", attempts=event.attempts, outcome=str(event.outcome),
                completed_on=event.completed_on.isoformat(),
                still_in_contact_with_buddy=event.still_in_contact_with_buddy,
                network_change=str(event.network_change) if event.network_change else None,
                wellbeing=event.wellbeing))
        case FollowUpCallCancelled():
            conn.execute(update(calls).where(calls.c.call_id == event.call_id).values(
                status="cancelled", outcome=None, completed_on=event.cancelled_on.isoformat()))
        case PolicySignalRecorded():
            put(conn, policy_signals, signal_id=event.signal_id, project_id=event.project_id, theme=str(event.theme),
                observed_on=event.observed_on.isoformat(), status="recorded", summary=None, confirmed_on=None,
                description_position=rec.position if sealed else None)
        case PolicySignalSummaryConfirmed():
            conn.execute(update(policy_signals).where(policy_signals.c.signal_id == event.signal_id).values(
                status="confirmed", summary=event.summary, confirmed_on=event.confirmed_on.isoformat()))
        case PolicySignalShredded():
            conn.execute(update(policy_signals).where(policy_signals.c.signal_id == event.signal_id).values(
                status="shredded", summary=None))


def rebuild(store: EventStore, *, page: int = 1000) -> int:
    """Empty the tables projected from follow-up's own log and replay the log into them."""
    replayed, after = 0, 0
    with store.transaction(exclusive=True) as conn:  # no command projects while the tables are refilled
        for table in OWN_TABLES:
            conn.execute(delete(table))
        while True:
            rows = store.read_after(after, page)
            if not rows:
                return replayed
            for row in rows:
                env = row.envelope
                event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
                if event is not None:
                    project(conn, Recorded(event, env.position, format_time(env.recorded_at), env.actor.id,
                                           row.sealed is not None))
                replayed += 1
            after = rows[-1].envelope.position


def _contact(conn: Connection, contact_id: str):  # type: ignore[no-untyped-def]
    return conn.execute(select(contacts).where(contacts.c.contact_id == contact_id)).mappings().first()


def _contact_values(e: ContactLogged | ContactDrafted | ContactCorrected) -> dict:
    return {"contact_date": e.contact_date.isoformat(), "month": e.contact_date.isoformat()[:7],
            "minutes": e.minutes, "mode": str(e.mode), "activities": [str(a) for a in dict.fromkeys(e.activities)],
            "has_private_note": e.has_private_note}
