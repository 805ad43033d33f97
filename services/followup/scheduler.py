"""Follow-up calls scheduled by events, never by a timer.

When the consumer applies matching's ``DuoEnded``, ``schedule_calls`` appends one
``FollowUpCallScheduled`` per configured offset (3, 6 and 12 months by default) to
follow-up's own store, in the consumer's transaction — the same one that moves its
checkpoint. So:

* a restart never loses a due call: either the checkpoint moved and the calls are
  recorded, or neither happened and the ``DuoEnded`` is applied again;
* two running instances never create a call twice: the call id is derived from the duo
  and the offset (``call-<duo>-3m``), so the second append expects version 0 of a stream
  that already has version 1 and the store refuses it (``ConcurrencyConflict``, backed by
  the unique (stream_id, version) constraint); that refusal means "already scheduled".

A participant who withdraws consent to be called (matching's ``ParticipantConsentRecorded``
without the scope ``followup_contact``) has every call still to be made cancelled the same way
(``cancel_calls``: ``FollowUpCallCancelled``, in the consumer's transaction); a duo that ends
when the participant has refused to be called schedules none.

What is due or overdue is then a query over the recorded calls with the injectable clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from shared.contracts.followup import CallCancelReason
from shared.contracts.matching import DuoEnded
from shared.domain import DomainError, Repository
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import ConcurrencyConflict, EventStore, NewEvent
from shared.logging import get_logger
from services.followup.domain import FollowUpCall, call_id_for
from services.followup.projections import project_all
from services.followup.read_models import calls, roster

log = get_logger(__name__)

SYSTEM = Actor(id="followup", role=Role.system)


def schedule_calls(conn: Connection, store: EventStore, env: Envelope, ended: DuoEnded,
                   months: Iterable[int]) -> list[str]:
    """Record the follow-up calls of an ended duo; returns the ids recorded now (not those already there)."""
    repository = Repository(store, FollowUpCall)
    recorded = []
    for offset in months:
        call_id = call_id_for(ended.duo_id, offset)
        call = repository.get(call_id, conn)
        try:
            decided = call.schedule(duo_id=ended.duo_id, project_id=ended.project_id, ended_on=ended.ended_on,
                                    months_after_end=offset)
        except DomainError:
            continue  # scheduled before: by this instance earlier, or by another one
        if _record(conn, store, env, call_id, call.version, ended.project_id, decided):
            recorded.append(call_id)
        else:
            log.info("followup.call_already_scheduled", call_id=call_id)
    if recorded:
        log.info("followup.calls_scheduled", duo_id=ended.duo_id, calls=len(recorded))
    return recorded


def _record(conn: Connection, store: EventStore, env: Envelope, call_id: str, version: int, project_id: str,
            decided: list[Any]) -> bool:
    """Append what a call decided, caused by ``env``, and project it; False when another writer got there
    first (a refused append leaves the consumer's transaction usable: it runs in a savepoint)."""
    try:
        with conn.begin_nested():
            appended = store.append(call_id, version, [NewEvent(e, project_id=project_id) for e in decided],
                                    actor=SYSTEM, correlation_id=env.correlation_id, causation_id=env.event_id,
                                    conn=conn)
            project_all(conn, appended, decided)
    except (ConcurrencyConflict, IntegrityError):
        return False
    return True


def cancel_calls(conn: Connection, store: EventStore, env: Envelope, participant_id: str,
                 cancelled_on: date) -> list[str]:
    """Cancel the participant's calls still to be made (consent to be called withdrawn)."""
    open_calls = conn.execute(
        select(calls.c.call_id).join(roster, roster.c.duo_id == calls.c.duo_id)
        .where(roster.c.participant_id == participant_id, calls.c.status == "scheduled")
        .order_by(calls.c.call_id)).scalars().all()
    repository = Repository(store, FollowUpCall)
    cancelled = []
    for call_id in open_calls:
        call = repository.get(call_id, conn)
        decided = call.cancel(cancelled_on=cancelled_on, reason=CallCancelReason.consent_withdrawn)
        if not decided:
            continue
        if _record(conn, store, env, call_id, call.version, call.project_id, decided):
            cancelled.append(call_id)
        else:
            log.info("followup.call_changed_meanwhile", call_id=call_id)
    if cancelled:
        log.info("followup.calls_cancelled", calls=len(cancelled), reason="consent_withdrawn")
    return cancelled
