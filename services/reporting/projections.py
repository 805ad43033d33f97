"""Reporting projections from all services' events.

Rules that keep a rebuild equal to the live state whatever the interleaving of streams:

* every table is fed by one upstream (see ``read_models``); what needs two services is
  joined at query time;
* a handler reads and writes only tables of its own upstream, so its effect depends only
  on that upstream's events before it, which arrive in position order;
* nothing reads the clock: dates come from the payload (when it happened) or from the
  envelope (``occurred_at`` when the payload has no date; ``recorded_at`` for when it
  became known).

Counting rules of the contracts are applied here: a contact counts from ``ContactLogged``
with the values of its latest ``ContactCorrected`` (an update of the same row, so the
figures are those of a direct entry of the corrected contact), and ``ContactRetracted``
removes it; drafts are never stored. Only confirmed policy-signal summaries are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, select, update

from shared.contracts import followup as fu
from shared.contracts import matching as mt
from shared.contracts import recruitment as rc
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.rows import put
from services.reporting.read_models import (
    boundary_signals, coaching_attendance, coaching_sessions, contacts, duo_pauses, duos, evaluations,
    followup_calls, goals, keep_warm, participant_events, participants, policy_signals, projects, proposals,
    volunteer_duos, volunteers)

Handler = Callable[[Connection, Any, Envelope], None]


def on_event(conn: Connection, env: Envelope) -> None:
    handler = HANDLERS.get(env.type)
    if handler is None or handler is _ignored:
        return  # an event type reporting does not count (or does not know yet)
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    if event is not None:
        handler(conn, event, env)


def day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _on(env: Envelope, given: date | None = None) -> str:
    """When it happened: the payload's date, else the envelope's ``occurred_at``."""
    return given.isoformat() if given is not None else day(env.occurred_at)


def _rec(env: Envelope) -> str:
    return day(env.recorded_at)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _codes(values: Any) -> str:
    return ",".join(sorted({str(v) for v in values}))


def _earliest(column: Any, value: Any) -> Any:
    """The earlier of the stored date and this one (the first occurrence)."""
    return case((column.is_(None), value), (column > value, value), else_=column)


# Statements are built once: building one per event costs more than running it.
def _set(table: Any, key: str, *columns: str, **expressions: Any) -> Any:
    """UPDATE table SET column = :v_column ... WHERE key = :k (bind names differ from column names)."""
    values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in columns}
    values.update(expressions)
    return update(table).where(table.c[key] == bindparam("k")).values(values)


def _v(**values: Any) -> dict[str, Any]:
    return {f"v_{k}": v for k, v in values.items()}


_PROJECT_CHANGED = _set(projects, "project_id", "title", "region", "municipality_nis", "target_groups", "funded_from",
                        "funded_until")
_PROJECT_CLOSED = _set(projects, "project_id", "closed_on", "closed_rec", "close_reason")
_VOLUNTEER_INTAKE = _set(volunteers, "volunteer_id", "intake_on", "intake_rec")
_VOLUNTEER_SCREENED = _set(volunteers, "volunteer_id", "screened_on", "screened_rec", "screening")
_VOLUNTEER_TRAINED = _set(volunteers, "volunteer_id",
                          trained_on=_earliest(volunteers.c.trained_on, bindparam("v_on")),
                          trained_rec=func.coalesce(volunteers.c.trained_rec, bindparam("v_rec")))
_VOLUNTEER_AVAILABLE = _set(volunteers, "volunteer_id", "status",
                            available_on=func.coalesce(volunteers.c.available_on, bindparam("v_on")),
                            available_rec=func.coalesce(volunteers.c.available_rec, bindparam("v_rec")))
_VOLUNTEER_STATUS = _set(volunteers, "volunteer_id", "status")
_VOLUNTEER_STOPPED = _set(volunteers, "volunteer_id", "status", "stopped_on", "stopped_rec", "stop_reason")
_VOLUNTEER_LEFT = (update(volunteer_duos)
                   .where(volunteer_duos.c.volunteer_id == bindparam("k"), volunteer_duos.c.duo_id == bindparam("k_duo"))
                   .values(left_on=bindparam("v_left_on"), left_rec=bindparam("v_left_rec")))
_PARTICIPANT_INTAKE = _set(participants, "participant_id", "intake_on", "intake_rec")
_PARTICIPANT_WAITING = _set(participants, "participant_id", "waiting_since")
_WAITING_SINCE = select(participants.c.waiting_since).where(participants.c.participant_id == bindparam("k"))
_ACCEPTED = {party: _set(proposals, "duo_id", f"accepted_by_{party}") for party in ("volunteer", "participant")}
_DECLINED = _set(proposals, "duo_id", "declined_by", "decline_reason", "declined_rec")
_RESUMED = (update(duo_pauses).where(duo_pauses.c.duo_id == bindparam("k"), duo_pauses.c.resumed_on.is_(None))
            .values(resumed_on=bindparam("v_resumed_on"), resumed_rec=bindparam("v_resumed_rec")))
_DUO_ENDED = _set(duos, "duo_id", "status", "ended_on", "ended_rec", "end_reason", "planned")
_CONTACT_COLUMNS = ("duo_id", "project_id", "contact_on", "month", "minutes", "mode", "activities", "logged_by")
_CONTACT_CORRECTED = _set(contacts, "contact_id", *_CONTACT_COLUMNS)
_CONTACT_RETRACTED = delete(contacts).where(contacts.c.contact_id == bindparam("k"))
_BOUNDARY_FOLLOWED_UP = _set(boundary_signals, "signal_id",
                             followed_up_on=_earliest(boundary_signals.c.followed_up_on, bindparam("v_on")),
                             current_severity=func.coalesce(bindparam("v_severity"), boundary_signals.c.current_severity))
_BOUNDARY_RESOLVED = _set(boundary_signals, "signal_id", "resolved_on", "resolved_rec", "resolution")
_GOAL_PROGRESS = (update(goals)
                  .where(goals.c.goal_id == bindparam("k"),
                         (goals.c.latest_on.is_(None)) | (goals.c.latest_on <= bindparam("v_on")))
                  .values(latest_score=bindparam("v_score"), latest_on=bindparam("v_on")))
_GOAL_CLOSED = _set(goals, "goal_id", "closed_on", "closed_rec", "outcome")
_CALL_ATTEMPTED = _set(followup_calls, "call_id", attempts=case(
    (followup_calls.c.attempts < bindparam("v_attempt"), bindparam("v_attempt")), else_=followup_calls.c.attempts))
_CALL_COMPLETED = _set(followup_calls, "call_id", "outcome", "completed_on", "completed_rec", "attempts",
                       "still_in_contact", "network_change", "wellbeing")
_POLICY_SUMMARY = _set(policy_signals, "signal_id", "theme", "summary", "summary_rec")


# --------------------------------------------------------------------------- recruitment
def _project_registered(conn: Connection, e: rc.ProjectRegistered, env: Envelope) -> None:
    put(conn, projects, project_id=e.project_id, title=e.name, region=e.region, municipality_nis=e.municipality_nis,
        target_groups=_codes(e.target_groups), funded_from=_iso(e.funded_from), funded_until=_iso(e.funded_until),
        registered_on=_on(env), registered_rec=_rec(env), closed_on=None, closed_rec=None, close_reason=None)


def _project_changed(conn: Connection, e: rc.ProjectChanged, env: Envelope) -> None:
    conn.execute(_PROJECT_CHANGED, {"k": e.project_id, **_v(
        title=e.title, region=e.region, municipality_nis=e.municipality_nis, target_groups=_codes(e.target_groups),
        funded_from=_iso(e.funded_from), funded_until=_iso(e.funded_until))})


def _project_closed(conn: Connection, e: rc.ProjectClosed, env: Envelope) -> None:
    conn.execute(_PROJECT_CLOSED, {"k": e.project_id, **_v(
        closed_on=e.closed_on.isoformat(), closed_rec=_rec(env), close_reason=str(e.reason))})


def _enquiry(conn: Connection, e: rc.VolunteerEnquiryReceived, env: Envelope) -> None:
    put(conn, volunteers, volunteer_id=e.volunteer_id, project_id=e.project_id, status="enquired",
        channel=str(e.channel), enquired_on=_on(env), enquired_rec=_rec(env), intake_on=None, intake_rec=None,
        screened_on=None, screened_rec=None, screening=None, trained_on=None, trained_rec=None, available_on=None,
        available_rec=None, stopped_on=None, stopped_rec=None, stop_reason=None)


def _volunteer_intake(conn: Connection, e: rc.VolunteerIntakeHeld, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_INTAKE, {"k": e.volunteer_id, **_v(intake_on=e.held_on.isoformat(), intake_rec=_rec(env))})


def _volunteer_screened(conn: Connection, e: rc.VolunteerScreened, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_SCREENED, {"k": e.volunteer_id, **_v(
        screened_on=e.screened_on.isoformat(), screened_rec=_rec(env), screening=str(e.outcome))})


def _volunteer_trained(conn: Connection, e: rc.VolunteerTrained, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_TRAINED, {"k": e.volunteer_id, **_v(on=e.session_on.isoformat(), rec=_rec(env))})


def _volunteer_available(conn: Connection, e: rc.VolunteerMadeAvailable, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_AVAILABLE, {"k": e.volunteer_id, **_v(status="available", on=_on(env), rec=_rec(env))})


def _volunteer_paused(conn: Connection, e: rc.VolunteerPaused, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_STATUS, {"k": e.volunteer_id, "v_status": "paused"})


def _volunteer_resumed(conn: Connection, e: rc.VolunteerResumed, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_STATUS, {"k": e.volunteer_id, "v_status": "available"})


def _volunteer_joined(conn: Connection, e: rc.VolunteerJoinedDuo, env: Envelope) -> None:
    put(conn, volunteer_duos, volunteer_id=e.volunteer_id, duo_id=e.duo_id, project_id=e.project_id,
        joined_on=_on(env, e.joined_on), joined_rec=_rec(env), left_on=None, left_rec=None)


def _volunteer_left(conn: Connection, e: rc.VolunteerLeftDuo, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_LEFT, {"k": e.volunteer_id, "k_duo": e.duo_id,
                                   **_v(left_on=_on(env, e.left_on), left_rec=_rec(env))})


def _volunteer_stopped(conn: Connection, e: rc.VolunteerStopped, env: Envelope) -> None:
    conn.execute(_VOLUNTEER_STOPPED, {"k": e.volunteer_id, **_v(
        status="stopped", stopped_on=_on(env), stopped_rec=_rec(env), stop_reason=str(e.reason))})


def _kept_warm(conn: Connection, e: rc.VolunteerKeptWarm, env: Envelope) -> None:
    put(conn, keep_warm, event_id=str(env.event_id), volunteer_id=e.volunteer_id, project_id=e.project_id,
        kind=str(e.kind), contacted_on=e.contacted_on.isoformat(), contacted_rec=_rec(env))


# --------------------------------------------------------------------------- matching
def _referred(conn: Connection, e: mt.ParticipantReferred, env: Envelope) -> None:
    referred_on = _on(env, e.referred_on)
    put(conn, participants, participant_id=e.participant_id, project_id=e.project_id,
        target_group=str(e.target_group), referrer_type=str(e.referrer_type), life_domains=_codes(e.life_domains),
        referred_on=referred_on, referred_rec=_rec(env), intake_on=None, intake_rec=None, waiting_since=referred_on)


def _participant_intake(conn: Connection, e: mt.ParticipantIntakeHeld, env: Envelope) -> None:
    conn.execute(_PARTICIPANT_INTAKE, {"k": e.participant_id, **_v(intake_on=e.held_on.isoformat(),
                                                                      intake_rec=_rec(env))})


def _withdrawn(conn: Connection, e: mt.ParticipantWithdrawn, env: Envelope) -> None:
    put(conn, participant_events, event_id=str(env.event_id), participant_id=e.participant_id,
        project_id=e.project_id, kind="withdrawn", reason=str(e.reason), happened_on=e.withdrawn_on.isoformat(),
        happened_rec=_rec(env))


def _returned(conn: Connection, e: mt.ParticipantReturnedToWaitingList, env: Envelope) -> None:
    put(conn, participant_events, event_id=str(env.event_id), participant_id=e.participant_id,
        project_id=e.project_id, kind="returned", reason=str(e.reason), happened_on=_on(env), happened_rec=_rec(env))
    conn.execute(_PARTICIPANT_WAITING, {"k": e.participant_id, "v_waiting_since": _on(env)})


def _proposed(conn: Connection, e: mt.DuoProposed, env: Envelope) -> None:
    put(conn, proposals, duo_id=e.duo_id, project_id=e.project_id, proposed_on=e.proposed_on.isoformat(),
        proposed_rec=_rec(env), accepted_by_volunteer=False, accepted_by_participant=False, declined_by=None,
        decline_reason=None, declined_rec=None)


def _accepted(conn: Connection, e: mt.DuoAccepted, env: Envelope) -> None:
    party = str(e.party)
    conn.execute(_ACCEPTED[party], {"k": e.duo_id, f"v_accepted_by_{party}": True})


def _declined(conn: Connection, e: mt.DuoDeclined, env: Envelope) -> None:
    conn.execute(_DECLINED, {"k": e.duo_id, **_v(declined_by=str(e.party), decline_reason=e.reason,
                                                  declined_rec=_rec(env))})


def _started(conn: Connection, e: mt.DuoStarted, env: Envelope) -> None:
    since = conn.execute(_WAITING_SINCE, {"k": e.participant_id}).scalar()
    waited = None if since is None else max(0, (e.started_on - date.fromisoformat(since)).days)
    put(conn, duos, duo_id=e.duo_id, project_id=e.project_id, volunteer_id=e.volunteer_id,
        participant_id=e.participant_id, status="active", started_on=e.started_on.isoformat(), started_rec=_rec(env),
        after_proposal=e.after_proposal, agreed_contacts_per_month=e.agreed_contacts_per_month,
        expected_duration_months=e.expected_duration_months, participant_waited_days=waited, ended_on=None,
        ended_rec=None, end_reason=None, planned=None)


def _duo_paused(conn: Connection, e: mt.DuoPaused, env: Envelope) -> None:
    put(conn, duo_pauses, event_id=str(env.event_id), duo_id=e.duo_id, project_id=e.project_id,
        reason=None if e.reason is None else str(e.reason), paused_on=e.paused_on.isoformat(), paused_rec=_rec(env),
        resumed_on=None, resumed_rec=None)


def _duo_resumed(conn: Connection, e: mt.DuoResumed, env: Envelope) -> None:
    conn.execute(_RESUMED, {"k": e.duo_id, **_v(resumed_on=e.resumed_on.isoformat(), resumed_rec=_rec(env))})


def _duo_ended(conn: Connection, e: mt.DuoEnded, env: Envelope) -> None:
    conn.execute(_DUO_ENDED, {"k": e.duo_id, **_v(
        status="ended", ended_on=e.ended_on.isoformat(), ended_rec=_rec(env), end_reason=str(e.reason),
        planned=e.planned)})


# --------------------------------------------------------------------------- followup
def _contact_values(e: fu.ContactLogged | fu.ContactCorrected) -> dict[str, Any]:
    return {"duo_id": e.duo_id, "project_id": e.project_id, "contact_on": e.contact_date.isoformat(),
            "month": e.contact_date.isoformat()[:7], "minutes": e.minutes, "mode": str(e.mode),
            "activities": _codes(e.activities), "logged_by": e.logged_by}


def _contact_logged(conn: Connection, e: fu.ContactLogged, env: Envelope) -> None:
    put(conn, contacts, contact_id=e.contact_id, logged_rec=_rec(env), **_contact_values(e))


def _contact_corrected(conn: Connection, e: fu.ContactCorrected, env: Envelope) -> None:
    # The new values replace all earlier ones: the row becomes that of a direct entry.
    conn.execute(_CONTACT_CORRECTED, {"k": e.contact_id, **_v(**_contact_values(e))})


def _contact_retracted(conn: Connection, e: fu.ContactRetracted, env: Envelope) -> None:
    conn.execute(_CONTACT_RETRACTED, {"k": e.contact_id})


def _coaching(conn: Connection, e: fu.CoachingSessionLogged, env: Envelope) -> None:
    on, rec = e.session_date.isoformat(), _rec(env)
    put(conn, coaching_sessions, session_id=e.session_id, project_id=e.project_id, kind=str(e.kind), session_on=on,
        session_rec=rec, minutes=e.minutes, themes=_codes(e.themes), volunteers=len(set(e.volunteer_ids)))
    for volunteer_id in sorted(set(e.volunteer_ids)):
        put(conn, coaching_attendance, session_id=e.session_id, volunteer_id=volunteer_id, project_id=e.project_id,
            session_on=on, session_rec=rec, minutes=e.minutes)


def _boundary_raised(conn: Connection, e: fu.BoundarySignalRaised, env: Envelope) -> None:
    put(conn, boundary_signals, signal_id=e.signal_id, duo_id=e.duo_id, project_id=e.project_id,
        signal_type=str(e.signal_type), severity=str(e.severity), current_severity=str(e.severity),
        raised_by=str(e.raised_by), raised_on=e.raised_on.isoformat(), raised_rec=_rec(env), followed_up_on=None,
        resolved_on=None, resolved_rec=None, resolution=None)


def _boundary_followed_up(conn: Connection, e: fu.BoundarySignalFollowedUp, env: Envelope) -> None:
    conn.execute(_BOUNDARY_FOLLOWED_UP, {"k": e.signal_id, **_v(
        on=e.followed_up_on.isoformat(), severity=None if e.severity is None else str(e.severity))})


def _boundary_resolved(conn: Connection, e: fu.BoundarySignalResolved, env: Envelope) -> None:
    conn.execute(_BOUNDARY_RESOLVED, {"k": e.signal_id, **_v(
        resolved_on=e.resolved_on.isoformat(), resolved_rec=_rec(env), resolution=str(e.resolution))})


def _goal_set(conn: Connection, e: fu.GoalSet, env: Envelope) -> None:
    put(conn, goals, goal_id=e.goal_id, duo_id=e.duo_id, project_id=e.project_id, domain=str(e.domain),
        set_on=e.set_on.isoformat(), set_rec=_rec(env), baseline=e.baseline, target=e.target, latest_score=None,
        latest_on=None, closed_on=None, closed_rec=None, outcome=None)


def _goal_progress(conn: Connection, e: fu.GoalProgressRecorded, env: Envelope) -> None:
    conn.execute(_GOAL_PROGRESS, {"k": e.goal_id, **_v(on=e.recorded_on.isoformat(), score=e.score)})


def _goal_closed(conn: Connection, e: fu.GoalClosed, env: Envelope) -> None:
    conn.execute(_GOAL_CLOSED, {"k": e.goal_id, **_v(
        closed_on=e.closed_on.isoformat(), closed_rec=_rec(env), outcome=str(e.outcome))})


def _evaluation(conn: Connection, e: fu.EvaluationRecorded, env: Envelope) -> None:
    put(conn, evaluations, duo_id=e.duo_id, moment=str(e.moment), project_id=e.project_id,
        evaluated_on=e.evaluated_on.isoformat(), evaluated_rec=_rec(env), wellbeing=e.wellbeing,
        network_size=e.network_size, participant_satisfaction=e.participant_satisfaction,
        volunteer_satisfaction=e.volunteer_satisfaction)


def _call_scheduled(conn: Connection, e: fu.FollowUpCallScheduled, env: Envelope) -> None:
    put(conn, followup_calls, call_id=e.call_id, duo_id=e.duo_id, project_id=e.project_id,
        months_after_end=e.months_after_end, ended_on=e.ended_on.isoformat(), due_on=e.due_on.isoformat(),
        scheduled_rec=_rec(env), attempts=0, outcome=None, completed_on=None, completed_rec=None,
        still_in_contact=None, network_change=None, wellbeing=None)


def _call_attempted(conn: Connection, e: fu.FollowUpCallAttempted, env: Envelope) -> None:
    conn.execute(_CALL_ATTEMPTED, {"k": e.call_id, "v_attempt": e.attempt})


def _call_completed(conn: Connection, e: fu.FollowUpCallCompleted, env: Envelope) -> None:
    conn.execute(_CALL_COMPLETED, {"k": e.call_id, **_v(
        outcome=str(e.outcome), completed_on=e.completed_on.isoformat(), completed_rec=_rec(env), attempts=e.attempts,
        still_in_contact=e.still_in_contact_with_buddy,
        network_change=None if e.network_change is None else str(e.network_change), wellbeing=e.wellbeing)})


def _policy_signal(conn: Connection, e: fu.PolicySignalRecorded, env: Envelope) -> None:
    put(conn, policy_signals, signal_id=e.signal_id, project_id=e.project_id, theme=str(e.theme),
        observed_on=e.observed_on.isoformat(), observed_rec=_rec(env), summary=None, summary_rec=None)


def _policy_summary(conn: Connection, e: fu.PolicySignalSummaryConfirmed, env: Envelope) -> None:
    conn.execute(_POLICY_SUMMARY, {"k": e.signal_id, **_v(theme=str(e.theme), summary=e.summary,
                                                           summary_rec=_rec(env))})


def _ignored(conn: Connection, e: DomainEvent, env: Envelope) -> None:
    """Known, but nothing in it is reported (personal-data changes, preferences, drafts, settings)."""


HANDLERS: dict[str, Handler] = {
    # recruitment
    "ProjectRegistered": _project_registered,
    "ProjectChanged": _project_changed,
    "ProjectClosed": _project_closed,
    "VolunteerEnquiryReceived": _enquiry,
    "VolunteerIntakeHeld": _volunteer_intake,
    "VolunteerScreened": _volunteer_screened,
    "VolunteerTrained": _volunteer_trained,
    "VolunteerMadeAvailable": _volunteer_available,
    "VolunteerPaused": _volunteer_paused,
    "VolunteerResumed": _volunteer_resumed,
    "VolunteerJoinedDuo": _volunteer_joined,
    "VolunteerLeftDuo": _volunteer_left,
    "VolunteerStopped": _volunteer_stopped,
    "VolunteerKeptWarm": _kept_warm,
    "VolunteerPreferencesChanged": _ignored,
    "VolunteerLegalItemRecorded": _ignored,
    "VolunteerPersonalDataChanged": _ignored,
    "VolunteerPersonalDataErased": _ignored,
    # matching
    "ParticipantReferred": _referred,
    "ParticipantIntakeHeld": _participant_intake,
    "ParticipantWithdrawn": _withdrawn,
    "ParticipantReturnedToWaitingList": _returned,
    "ParticipantConsentRecorded": _ignored,
    "ParticipantPreferencesChanged": _ignored,
    "ParticipantPersonalDataErased": _ignored,
    "MatchingWeightsSet": _ignored,
    "DuoProposed": _proposed,
    "DuoAccepted": _accepted,
    "DuoDeclined": _declined,
    "DuoStarted": _started,
    "DuoPaused": _duo_paused,
    "DuoResumed": _duo_resumed,
    "DuoEnded": _duo_ended,
    # followup
    "ContactLogged": _contact_logged,
    "ContactCorrected": _contact_corrected,
    "ContactRetracted": _contact_retracted,
    "ContactDrafted": _ignored,  # a draft is never a contact
    "ContactDraftDiscarded": _ignored,
    "CheckInCadenceSet": _ignored,
    "CoachingSessionLogged": _coaching,
    "BoundarySignalRaised": _boundary_raised,
    "BoundarySignalFollowedUp": _boundary_followed_up,
    "BoundarySignalResolved": _boundary_resolved,
    "GoalSet": _goal_set,
    "GoalProgressRecorded": _goal_progress,
    "GoalClosed": _goal_closed,
    "EvaluationRecorded": _evaluation,
    "FollowUpCallScheduled": _call_scheduled,
    "FollowUpCallAttempted": _call_attempted,
    "FollowUpCallCompleted": _call_completed,
    "PolicySignalRecorded": _policy_signal,
    "PolicySignalSummaryConfirmed": _policy_summary,
    # every writing service: reads of personal data (the audit trail, nothing to count)
    "RecruitmentPersonalDataAccessed": _ignored,
    "MatchingPersonalDataAccessed": _ignored,
    "FollowupPersonalDataAccessed": _ignored,
}
