"""What follow-up learns from matching's events: the roster of duos."""

from __future__ import annotations

from sqlalchemy import Connection, update

from shared.contracts.matching import DuoEnded, DuoStarted
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.eventstore.rows import put
from services.followup.read_models import roster


def on_event(conn: Connection, env: Envelope) -> None:
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    match event:
        case DuoStarted():
            put(conn, roster,
                duo_id=event.duo_id, project_id=event.project_id, volunteer_id=event.volunteer_id,
                participant_id=event.participant_id, status="active", started_on=event.started_on.isoformat())
        case DuoEnded():
            conn.execute(update(roster).where(roster.c.duo_id == event.duo_id)
                         .values(status="ended", ended_on=event.ended_on.isoformat()))
