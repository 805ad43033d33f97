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
Every change of a contact moves its monthly counts (``rp_contact_months``,
``rp_contact_activity_months``), which reports read instead of the contacts.

Two entries: ``on_event`` (the live consumer: an envelope, validated) and ``on_row`` (a
rebuild: a row of the producer's own store). Contact handlers take the payload's JSON
form, so a rebuild hands them the stored JSON as is.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import structlog
from sqlalchemy import Connection, bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared import access
from shared.contracts import followup as fu
from shared.contracts import matching as mt
from shared.contracts import recruitment as rc
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.rows import BatchedConnection, put
from services.reporting.read_models import (
    boundary_signals, coaching_attendance, coaching_sessions, contact_activity_months, contact_months, contacts,
    duo_pauses, duos, erased_subjects, evaluations, followup_calls, goals, keep_warm, participant_events, participants,
    policy_signals, projects, proposals, volunteer_duos, volunteers)

class Meta:
    """What a handler needs of an envelope: the event id and its two days (UTC ISO dates)."""

    __slots__ = ("event_id", "on", "rec")

    def __init__(self, event_id: str, on: str, rec: str) -> None:
        self.event_id, self.on, self.rec = event_id, on, rec

_log = structlog.get_logger(__name__)


Handler = Callable[[Connection, Any, Meta], None]


def on_event(conn: Connection, env: Envelope) -> None:
    """The live consumer's entry: one validated envelope."""
    if access.on_event(conn, env):  # the staff register: who may read which figures
        return
    handler = HANDLERS.get(env.type)
    if handler is None or handler is _ignored:
        return  # an event type reporting does not count (or does not know yet)
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    if event is None:
        return
    meta = Meta(str(env.event_id), day(env.occurred_at), day(env.recorded_at))
    raw = RAW_HANDLERS.get(env.type)
    if raw is not None:
        raw(conn, event.model_dump(mode="json"), meta)
    else:
        handler(conn, event, meta)


def on_row(conn: Connection, kind: str, schema_version: int, payload: str, meta: Meta) -> None:
    """The rebuild's entry: one stored row of a producer's own log (see ``rebuild``).

    The row was validated when it was recorded, and its payload is the JSON of the
    model's ``model_dump(mode="json")``: for the hot types at their current schema
    version that JSON goes to the handler as is (what ``on_event`` gives it after
    validating); everything else is decoded (validated, upcast) as in ``on_event``.
    """
    if kind in access.STAFF_EVENT_TYPES:  # the staff register, rebuilt with the figures
        recorded = datetime.combine(date.fromisoformat(meta.rec), datetime.min.time(), tzinfo=UTC)
        access.apply_staff_change(conn, kind, json.loads(payload), recorded)
        return
    handler = HANDLERS.get(kind)
    if handler is None or handler is _ignored:
        return
    raw = RAW_HANDLERS.get(kind)
    if raw is not None and _RAW_VERSION[kind] == schema_version:
        raw(conn, json.loads(payload), meta)
        return
    event = REGISTRY.decode_known(kind, schema_version, json.loads(payload))
    if event is None:
        return
    if raw is not None:
        raw(conn, event.model_dump(mode="json"), meta)
    else:
        handler(conn, event, meta)


def day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _on(env: Meta, given: date | None = None) -> str:
    """When it happened: the payload's date, else the envelope's ``occurred_at``."""
    return given.isoformat() if given is not None else env.on


def _rec(env: Meta) -> str:
    return env.rec


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
_PARTICIPANT_INTAKE = _set(participants, "participant_id", "intake_on", "intake_rec")
_PARTICIPANT_WAITING = _set(participants, "participant_id", "waiting_since")
_WAITING_SINCE = select(participants.c.waiting_since).where(participants.c.participant_id == bindparam("k"))
_DECLINED = _set(proposals, "duo_id", "declined_by", "declined_rec")
_RESUMED = (update(duo_pauses).where(duo_pauses.c.duo_id == bindparam("k"), duo_pauses.c.resumed_on.is_(None))
            .values(resumed_on=bindparam("v_resumed_on"), resumed_rec=bindparam("v_resumed_rec")))
_DUO_ENDED = _set(duos, "duo_id", "status", "ended_on", "ended_rec", "end_reason", "planned")
_CONTACT_COLUMNS = ("duo_id", "project_id", "month", "minutes", "mode", "activities")
_CONTACT_CORRECTED = _set(contacts, "contact_id", *_CONTACT_COLUMNS)
_CONTACT_RETRACTED = delete(contacts).where(contacts.c.contact_id == bindparam("k"))
_BOUNDARY_RESOLVED = _set(boundary_signals, "signal_id", "resolved_on", "resolved_rec", "resolution")
_GOAL_PROGRESS = (update(goals)
                  .where(goals.c.goal_id == bindparam("k"),
                         (goals.c.latest_on.is_(None)) | (goals.c.latest_on <= bindparam("v_on")))
                  .values(latest_score=bindparam("v_score"), latest_on=bindparam("v_on")))
_GOAL_CLOSED = _set(goals, "goal_id", "closed_on", "closed_rec", "outcome")
_CALL_COMPLETED = _set(followup_calls, "call_id", "outcome", "completed_rec", "still_in_contact", "network_change",
                       "wellbeing")
_CALL_CANCELLED = delete(followup_calls).where(followup_calls.c.call_id == bindparam("k"))
_POLICY_SUMMARY = _set(policy_signals, "signal_id", "theme", "summary", "summary_rec")
_POLICY_SHREDDED = update(policy_signals).where(policy_signals.c.signal_id == bindparam("k")).values(
    summary=None, summary_rec=None)


# --------------------------------------------------------------------------- recruitment
def _project_registered(conn: Connection, e: rc.ProjectRegistered, env: Meta) -> None:
    put(conn, projects, project_id=e.project_id, title=e.name, region=e.region, municipality_nis=e.municipality_nis,
        target_groups=_codes(e.target_groups), funded_from=_iso(e.funded_from), funded_until=_iso(e.funded_until),
        registered_on=_on(env), registered_rec=_rec(env), closed_on=None, closed_rec=None, close_reason=None)


def _project_changed(conn: Connection, e: rc.ProjectChanged, env: Meta) -> None:
    conn.execute(_PROJECT_CHANGED, {"k": e.project_id, **_v(
        title=e.title, region=e.region, municipality_nis=e.municipality_nis, target_groups=_codes(e.target_groups),
        funded_from=_iso(e.funded_from), funded_until=_iso(e.funded_until))})


def _project_closed(conn: Connection, e: rc.ProjectClosed, env: Meta) -> None:
    conn.execute(_PROJECT_CLOSED, {"k": e.project_id, **_v(
        closed_on=e.closed_on.isoformat(), closed_rec=_rec(env), close_reason=str(e.reason))})


def _enquiry(conn: Connection, e: rc.VolunteerEnquiryReceived, env: Meta) -> None:
    put(conn, volunteers, volunteer_id=person(conn, e.volunteer_id), project_id=e.project_id, status="enquired",
        channel=str(e.channel), enquired_on=_on(env), enquired_rec=_rec(env), intake_on=None, intake_rec=None,
        screened_on=None, screened_rec=None, screening=None, trained_on=None, trained_rec=None, available_on=None,
        available_rec=None, stopped_on=None, stopped_rec=None, stop_reason=None)


def _volunteer_intake(conn: Connection, e: rc.VolunteerIntakeHeld, env: Meta) -> None:
    conn.execute(_VOLUNTEER_INTAKE, {"k": person(conn, e.volunteer_id), **_v(intake_on=e.held_on.isoformat(), intake_rec=_rec(env))})


def _volunteer_screened(conn: Connection, e: rc.VolunteerScreened, env: Meta) -> None:
    conn.execute(_VOLUNTEER_SCREENED, {"k": person(conn, e.volunteer_id), **_v(
        screened_on=e.screened_on.isoformat(), screened_rec=_rec(env), screening=str(e.outcome))})


def _volunteer_trained(conn: Connection, e: rc.VolunteerTrained, env: Meta) -> None:
    conn.execute(_VOLUNTEER_TRAINED, {"k": person(conn, e.volunteer_id), **_v(on=e.session_on.isoformat(), rec=_rec(env))})


def _volunteer_available(conn: Connection, e: rc.VolunteerMadeAvailable, env: Meta) -> None:
    conn.execute(_VOLUNTEER_AVAILABLE, {"k": person(conn, e.volunteer_id), **_v(status="available", on=_on(env), rec=_rec(env))})


def _volunteer_paused(conn: Connection, e: rc.VolunteerPaused, env: Meta) -> None:
    conn.execute(_VOLUNTEER_STATUS, {"k": person(conn, e.volunteer_id), "v_status": "paused"})


def _volunteer_resumed(conn: Connection, e: rc.VolunteerResumed, env: Meta) -> None:
    conn.execute(_VOLUNTEER_STATUS, {"k": person(conn, e.volunteer_id), "v_status": "available"})


def _volunteer_joined(conn: Connection, e: rc.VolunteerJoinedDuo, env: Meta) -> None:
    put(conn, volunteer_duos, volunteer_id=person(conn, e.volunteer_id), duo_id=e.duo_id, project_id=e.project_id,
        joined_on=_on(env, e.joined_on), joined_rec=_rec(env))


def _volunteer_stopped(conn: Connection, e: rc.VolunteerStopped, env: Meta) -> None:
    conn.execute(_VOLUNTEER_STOPPED, {"k": person(conn, e.volunteer_id), **_v(
        status="stopped", stopped_on=_on(env), stopped_rec=_rec(env), stop_reason=str(e.reason))})


def _kept_warm(conn: Connection, e: rc.VolunteerKeptWarm, env: Meta) -> None:
    put(conn, keep_warm, event_id=str(env.event_id), project_id=e.project_id, kind=str(e.kind), contacted_on=e.contacted_on.isoformat(), contacted_rec=_rec(env))


# --------------------------------------------------------------------------- matching
def _referred(conn: Connection, e: mt.ParticipantReferred, env: Meta) -> None:
    referred_on = _on(env, e.referred_on)
    put(conn, participants, participant_id=person(conn, e.participant_id), project_id=e.project_id,
        target_group=str(e.target_group), referrer_type=str(e.referrer_type), life_domains=_codes(e.life_domains),
        referred_on=referred_on, referred_rec=_rec(env), intake_on=None, intake_rec=None, waiting_since=referred_on)


def _participant_intake(conn: Connection, e: mt.ParticipantIntakeHeld, env: Meta) -> None:
    conn.execute(_PARTICIPANT_INTAKE, {"k": person(conn, e.participant_id), **_v(intake_on=e.held_on.isoformat(),
                                                                      intake_rec=_rec(env))})


def _withdrawn(conn: Connection, e: mt.ParticipantWithdrawn, env: Meta) -> None:
    put(conn, participant_events, event_id=str(env.event_id), project_id=e.project_id, kind="withdrawn", reason=str(e.reason), happened_on=e.withdrawn_on.isoformat(),
        happened_rec=_rec(env))


def _returned(conn: Connection, e: mt.ParticipantReturnedToWaitingList, env: Meta) -> None:
    put(conn, participant_events, event_id=str(env.event_id), project_id=e.project_id, kind="returned", reason=str(e.reason), happened_on=_on(env), happened_rec=_rec(env))
    conn.execute(_PARTICIPANT_WAITING, {"k": person(conn, e.participant_id), "v_waiting_since": _on(env)})


def _proposed(conn: Connection, e: mt.DuoProposed, env: Meta) -> None:
    put(conn, proposals, duo_id=e.duo_id, project_id=e.project_id, proposed_on=e.proposed_on.isoformat(),
        proposed_rec=_rec(env), declined_by=None, declined_rec=None)


def _declined(conn: Connection, e: mt.DuoDeclined, env: Meta) -> None:
    conn.execute(_DECLINED, {"k": e.duo_id, **_v(declined_by=str(e.party), declined_rec=_rec(env))})


def _started(conn: Connection, e: mt.DuoStarted, env: Meta) -> None:
    participant_id = person(conn, e.participant_id)
    remembered = getattr(conn, "waiting_since", None)  # a rebuild's writer keeps what it wrote
    since = (remembered(participant_id) if remembered is not None
             else conn.execute(_WAITING_SINCE, {"k": participant_id}).scalar())
    waited = None if since is None else (e.started_on - date.fromisoformat(since)).days
    if waited is not None and waited < 0:
        # Matching refuses a duo dated before the referral; an older history may still hold one.
        # Its wait is unknown, not zero: left out of the waiting times, and said so.
        _log.warning("duo_started_before_waiting", duo_id=e.duo_id, project_id=e.project_id, days=waited)
        waited = None
    put(conn, duos, duo_id=e.duo_id, project_id=e.project_id, volunteer_id=person(conn, e.volunteer_id),
        participant_id=participant_id, status="active", started_on=e.started_on.isoformat(), started_rec=_rec(env),
        participant_waited_days=waited, ended_on=None,
        ended_rec=None, end_reason=None, planned=None)


def _duo_paused(conn: Connection, e: mt.DuoPaused, env: Meta) -> None:
    put(conn, duo_pauses, event_id=str(env.event_id), duo_id=e.duo_id, project_id=e.project_id,
        reason=None if e.reason is None else str(e.reason), paused_on=e.paused_on.isoformat(), paused_rec=_rec(env),
        resumed_on=None, resumed_rec=None)


def _duo_resumed(conn: Connection, e: mt.DuoResumed, env: Meta) -> None:
    conn.execute(_RESUMED, {"k": e.duo_id, **_v(resumed_on=e.resumed_on.isoformat(), resumed_rec=_rec(env))})


def _duo_ended(conn: Connection, e: mt.DuoEnded, env: Meta) -> None:
    conn.execute(_DUO_ENDED, {"k": e.duo_id, **_v(
        status="ended", ended_on=e.ended_on.isoformat(), ended_rec=_rec(env), end_reason=str(e.reason),
        planned=e.planned)})


# --------------------------------------------------------------------------- followup
# Contacts are most of the events: their handlers take the payload's JSON form (what
# ``model_dump(mode="json")`` gives), which a rebuild reads from the store without a model.
def _contact_values(e: dict[str, Any], **first: Any) -> dict[str, Any]:
    on = e["contact_date"]
    activities = e["activities"]
    first.update(duo_id=e["duo_id"], project_id=e["project_id"], month=on[:7], minutes=e["minutes"],
                 mode=e["mode"], activities=activities[0] if len(activities) == 1 else _codes(activities))
    return first


def _contact_logged(conn: Connection, e: dict[str, Any], env: Meta) -> None:
    values = _contact_values(e, contact_id=e["contact_id"], logged_rec=env.rec)
    was = contact_now(conn, e["contact_id"])
    if isinstance(conn, BatchedConnection):
        conn.put(contacts, values)
    else:
        put(conn, contacts, **values)
    _recount(conn, e["contact_id"], was, _counted(values))


def _contact_corrected(conn: Connection, e: dict[str, Any], env: Meta) -> None:
    # The new values replace all earlier ones: the row becomes that of a direct entry.
    was = contact_now(conn, e["contact_id"])
    if was is None:
        return  # nothing to correct (the update would change no row)
    values = _contact_values(e)
    conn.execute(_CONTACT_CORRECTED, {"k": e["contact_id"], **_v(**values)})
    _recount(conn, e["contact_id"], was, _counted({**values, "logged_rec": was.rec_month}))


def _contact_retracted(conn: Connection, e: dict[str, Any], env: Meta) -> None:
    was = contact_now(conn, e["contact_id"])
    conn.execute(_CONTACT_RETRACTED, {"k": e["contact_id"]})
    _recount(conn, e["contact_id"], was, None)


# --------------------------------------------------------------------------- contact counts
ACCOMPANIMENT = "+accompany"  # rp_contact_activity_months: contacts with any accompany_* activity


class Counted(NamedTuple):
    """What a contact adds to the monthly counts (``rp_contact_months``, ``rp_contact_activity_months``)."""

    duo_id: str
    project_id: str
    month: str  # of the contact
    rec_month: str  # of its first logging
    mode: str
    minutes: int
    activities: str  # codes, comma-separated

    def month_keys(self) -> tuple[tuple[str, str, str, str, str], ...]:
        """(basis, month, project, duo, mode) on both bases."""
        return (("occurred", self.month, self.project_id, self.duo_id, self.mode),
                ("recorded", self.rec_month, self.project_id, self.duo_id, self.mode))

    def activity_keys(self) -> list[tuple[str, str, str, str]]:
        """(basis, month, project, activity) on both bases, with ``ACCOMPANIMENT`` if any."""
        codes = self.activities.split(",")
        if any(c.startswith("accompany_") for c in codes):
            codes.append(ACCOMPANIMENT)
        return [(basis, month, self.project_id, code) for basis, month in
                (("occurred", self.month), ("recorded", self.rec_month)) for code in codes]


def _counted(values: dict[str, Any]) -> Counted:
    return Counted(values["duo_id"], values["project_id"], values["month"], values["logged_rec"][:7], values["mode"],
                   values["minutes"], values["activities"])


_CONTACT_NOW = select(contacts.c.duo_id, contacts.c.project_id, contacts.c.month, contacts.c.logged_rec,
                      contacts.c.mode, contacts.c.minutes, contacts.c.activities).where(
    contacts.c.contact_id == bindparam("k"))


def contact_now(conn: Connection, contact_id: str) -> Counted | None:
    """The contact as counted now, or None; a rebuild's writer answers from what it wrote."""
    remembered = getattr(conn, "contact_now", None)
    if remembered is not None:
        return remembered(contact_id)
    row = conn.execute(_CONTACT_NOW, {"k": contact_id}).one_or_none()
    return None if row is None else _counted(dict(row._mapping))


def _recount(conn: Connection, contact_id: str, was: Counted | None, now: Counted | None) -> None:
    """Move a contact's counts from what it was to what it is (either may be None)."""
    count = getattr(conn, "count_contact", None)  # a rebuild's writer sums them in memory
    if count is not None:
        count(contact_id, was, now)
        return
    months: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    for sign, c in ((-1, was), (1, now)):
        if c is not None:
            months += [dict(zip(_MONTH_KEY, key, strict=True), n=sign, minutes=sign * c.minutes)
                       for key in c.month_keys()]
            activities += [dict(zip(_ACTIVITY_KEY, key, strict=True), n=sign) for key in c.activity_keys()]
    if months:
        conn.execute(add_counts(contact_months, conn.dialect.name), months)
        conn.execute(add_counts(contact_activity_months, conn.dialect.name), activities)


_MONTH_KEY = ("basis", "month", "project_id", "duo_id", "mode")
_ACTIVITY_KEY = ("basis", "month", "project_id", "activity")


@functools.cache
def add_counts(table: Any, dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n (and minutes): counts added, in any order."""
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return statement.on_conflict_do_update(index_elements=keys, set_={
        c.name: table.c[c.name] + statement.excluded[c.name] for c in table.columns if c.name not in keys})


def _coaching(conn: Connection, e: fu.CoachingSessionLogged, env: Meta) -> None:
    on, rec = e.session_date.isoformat(), _rec(env)
    put(conn, coaching_sessions, session_id=e.session_id, project_id=e.project_id, kind=str(e.kind), session_on=on,
        session_rec=rec, themes=_codes(e.themes))
    for volunteer_id in sorted({person(conn, v) for v in e.volunteer_ids}):
        put(conn, coaching_attendance, session_id=e.session_id, volunteer_id=volunteer_id, project_id=e.project_id,
            session_on=on, session_rec=rec, minutes=e.minutes)


def _boundary_raised(conn: Connection, e: fu.BoundarySignalRaised, env: Meta) -> None:
    put(conn, boundary_signals, signal_id=e.signal_id, project_id=e.project_id, signal_type=str(e.signal_type),
        severity=str(e.severity), raised_on=e.raised_on.isoformat(), raised_rec=_rec(env), resolved_on=None, resolved_rec=None, resolution=None)


def _boundary_resolved(conn: Connection, e: fu.BoundarySignalResolved, env: Meta) -> None:
    conn.execute(_BOUNDARY_RESOLVED, {"k": e.signal_id, **_v(
        resolved_on=e.resolved_on.isoformat(), resolved_rec=_rec(env), resolution=str(e.resolution))})


def _goal_set(conn: Connection, e: fu.GoalSet, env: Meta) -> None:
    put(conn, goals, goal_id=e.goal_id, project_id=e.project_id, domain=str(e.domain),
        set_on=e.set_on.isoformat(), set_rec=_rec(env), baseline=e.baseline, latest_score=None,
        latest_on=None, closed_on=None, closed_rec=None, outcome=None)


def _goal_progress(conn: Connection, e: fu.GoalProgressRecorded, env: Meta) -> None:
    conn.execute(_GOAL_PROGRESS, {"k": e.goal_id, **_v(on=e.recorded_on.isoformat(), score=e.score)})


def _goal_closed(conn: Connection, e: fu.GoalClosed, env: Meta) -> None:
    conn.execute(_GOAL_CLOSED, {"k": e.goal_id, **_v(
        closed_on=e.closed_on.isoformat(), closed_rec=_rec(env), outcome=str(e.outcome))})


def _evaluation(conn: Connection, e: fu.EvaluationRecorded, env: Meta) -> None:
    put(conn, evaluations, duo_id=e.duo_id, moment=str(e.moment), project_id=e.project_id,
        evaluated_on=e.evaluated_on.isoformat(), evaluated_rec=_rec(env), wellbeing=e.wellbeing,
        network_size=e.network_size)


def _call_scheduled(conn: Connection, e: fu.FollowUpCallScheduled, env: Meta) -> None:
    put(conn, followup_calls, call_id=e.call_id, project_id=e.project_id, due_on=e.due_on.isoformat(),
        scheduled_rec=_rec(env), outcome=None, completed_rec=None, still_in_contact=None, network_change=None,
        wellbeing=None)


def _call_completed(conn: Connection, e: fu.FollowUpCallCompleted, env: Meta) -> None:
    conn.execute(_CALL_COMPLETED, {"k": e.call_id, **_v(
        outcome=str(e.outcome), completed_rec=_rec(env), still_in_contact=e.still_in_contact_with_buddy,
        network_change=None if e.network_change is None else str(e.network_change), wellbeing=e.wellbeing)})


def _call_cancelled(conn: Connection, e: fu.FollowUpCallCancelled, env: Meta) -> None:
    """A call cancelled (consent withdrawn) is neither due nor open: it leaves the figures."""
    conn.execute(_CALL_CANCELLED, {"k": e.call_id})


def _policy_signal(conn: Connection, e: fu.PolicySignalRecorded, env: Meta) -> None:
    put(conn, policy_signals, signal_id=e.signal_id, project_id=e.project_id, theme=str(e.theme),
        observed_on=e.observed_on.isoformat(), observed_rec=_rec(env), summary=None, summary_rec=None)


def _policy_summary(conn: Connection, e: fu.PolicySignalSummaryConfirmed, env: Meta) -> None:
    conn.execute(_POLICY_SUMMARY, {"k": e.signal_id, **_v(theme=str(e.theme), summary=e.summary,
                                                           summary_rec=_rec(env))})


def _policy_shredded(conn: Connection, e: fu.PolicySignalShredded, env: Meta) -> None:
    """An admin shredded the signal's text: its summary is quoted in no report from now on."""
    conn.execute(_POLICY_SHREDDED, {"k": e.signal_id})


# --------------------------------------------------------------------------- erasure
# The reporting database keeps pseudonymised per-person rows: personal data under the GDPR
# (docs/privacy.md §1). When the owning service erases a person, their rows here are kept
# for the counts (published reports must still reproduce) but lose the pseudonym: every row
# that named them is re-keyed to a one-way token, so the reporting database no longer holds
# an id that any other store keys the person's data by. Rows written later under the old
# pseudonym (another service's older event arriving after the erasure) are keyed to the
# token as they are written (``person``), so every order of the streams ends the same.
ERASED_PREFIX = "erased:"

_PEOPLE_ROWS = {
    "volunteer": ((volunteers, "volunteer_id"), (volunteer_duos, "volunteer_id"), (duos, "volunteer_id"),
                  (coaching_attendance, "volunteer_id")),
    "participant": ((participants, "participant_id"), (duos, "participant_id")),
}
_REKEY = {(table.name, column): update(table).where(table.c[column] == bindparam("k")).values(
    {column: bindparam("v_token")}) for rows in _PEOPLE_ROWS.values() for table, column in rows}
_IS_ERASED = select(erased_subjects.c.token).where(erased_subjects.c.token == bindparam("k"))


def erased_token(subject_id: str) -> str:
    """The token an erased person's rows are kept under (SHA-256 of the pseudonym, so the same
    in a rebuild and in the live projections; it cannot be turned back into the pseudonym)."""
    return ERASED_PREFIX + hashlib.sha256(subject_id.encode()).hexdigest()[:40]


def person(conn: Connection, subject_id: str) -> str:
    """The id a person's rows are kept under: their pseudonym, or the token once they are erased."""
    token = erased_token(subject_id)
    known = getattr(conn, "is_erased", None)  # a rebuild's or a batch's writer keeps the erased in memory
    erased = known(token) if known is not None else conn.execute(_IS_ERASED, {"k": token}).first() is not None
    return token if erased else subject_id


def _erase(conn: Connection, kind: str, subject_id: str) -> None:
    token = erased_token(subject_id)
    # a list of parameters: written at once, after every pending write (a writer flushes first)
    for table, column in _PEOPLE_ROWS[kind]:
        conn.execute(_REKEY[(table.name, column)], [{"k": subject_id, "v_token": token}])
    conn.execute(add_erased(conn.dialect.name), [{"token": token}])
    remember = getattr(conn, "erased", None)
    if remember is not None:
        remember(token)


def _volunteer_erased(conn: Connection, e: rc.VolunteerPersonalDataErased, env: Meta) -> None:
    _erase(conn, "volunteer", e.volunteer_id)


def _participant_erased(conn: Connection, e: mt.ParticipantPersonalDataErased, env: Meta) -> None:
    _erase(conn, "participant", e.participant_id)


@functools.cache
def add_erased(dialect: str) -> Any:
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(erased_subjects)
    return statement.on_conflict_do_nothing(index_elements=["token"])


def _ignored(conn: Connection, e: DomainEvent, env: Meta) -> None:
    """Known, but nothing in it is reported (personal-data changes, preferences, drafts, settings)."""


# The handlers that take the payload's JSON form (see ``on_row``).
RAW_HANDLERS: dict[str, Handler] = {
    "ContactLogged": _contact_logged,
    "ContactCorrected": _contact_corrected,
    "ContactRetracted": _contact_retracted,
}

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
    "VolunteerLeftDuo": _ignored,  # no report reads when a volunteer left a duo (the duo's end is counted)
    "VolunteerStopped": _volunteer_stopped,
    "VolunteerKeptWarm": _kept_warm,
    "VolunteerPreferencesChanged": _ignored,
    "VolunteerLegalItemRecorded": _ignored,
    "VolunteerPersonalDataChanged": _ignored,
    "VolunteerPersonalDataErased": _volunteer_erased,
    # the staff register: no figure; applied to staff_access before these handlers (shared.access)
    **{kind: _ignored for kind in access.STAFF_EVENT_TYPES},
    # matching
    "ParticipantReferred": _referred,
    "ParticipantIntakeHeld": _participant_intake,
    "ParticipantWithdrawn": _withdrawn,
    "ParticipantReturnedToWaitingList": _returned,
    "ParticipantConsentRecorded": _ignored,
    "ParticipantPreferencesChanged": _ignored,
    "ParticipantPersonalDataErased": _participant_erased,
    "MatchingWeightsSet": _ignored,
    "DuoProposed": _proposed,
    "DuoAccepted": _ignored,  # a proposal's outcome is read from its decline or the duo's start
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
    "BoundarySignalFollowedUp": _ignored,  # reports count signals raised and resolved
    "BoundarySignalResolved": _boundary_resolved,
    "GoalSet": _goal_set,
    "GoalProgressRecorded": _goal_progress,
    "GoalClosed": _goal_closed,
    "EvaluationRecorded": _evaluation,
    "FollowUpCallScheduled": _call_scheduled,
    "FollowUpCallAttempted": _ignored,  # reports count calls due and their outcome
    "FollowUpCallCompleted": _call_completed,
    "FollowUpCallCancelled": _call_cancelled,
    "PolicySignalRecorded": _policy_signal,
    "PolicySignalSummaryConfirmed": _policy_summary,
    "PolicySignalShredded": _policy_shredded,
    # every writing service: reads of personal data (the audit trail, nothing to count)
    "RecruitmentPersonalDataAccessed": _ignored,
    "MatchingPersonalDataAccessed": _ignored,
    "FollowupPersonalDataAccessed": _ignored,
}

# The schema version whose stored JSON the raw handlers take as is (older ones are upcast).
_RAW_VERSION = {kind: REGISTRY.latest(kind).schema_version for kind in RAW_HANDLERS}
