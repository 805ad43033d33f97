"""Reporting projections from all services' events. Each table has one upstream, and
every write is an upsert, so replaying any prefix of the streams gives the same tables."""

from __future__ import annotations

from sqlalchemy import Connection, update

from shared.contracts.followup import ContactLogged
from shared.contracts.matching import DuoEnded, DuoStarted
from shared.contracts.recruitment import (
    ProjectRegistered,
    VolunteerEnquiryReceived,
    VolunteerMadeAvailable,
    VolunteerStopped,
)
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.eventstore.rows import put
from services.reporting.read_models import contacts, duos, projects, volunteers


def on_event(conn: Connection, env: Envelope) -> None:
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    match event:
        case ProjectRegistered():
            put(conn, projects, project_id=event.project_id, region=event.region,
                municipality_nis=event.municipality_nis)
        case VolunteerEnquiryReceived():
            put(conn, volunteers, volunteer_id=event.volunteer_id, project_id=event.project_id, status="enquired")
        case VolunteerMadeAvailable():
            _volunteer_status(conn, event.volunteer_id, "available")
        case VolunteerStopped():
            _volunteer_status(conn, event.volunteer_id, "stopped")
        case DuoStarted():
            put(conn, duos, duo_id=event.duo_id, project_id=event.project_id, volunteer_id=event.volunteer_id,
                status="active", started_on=event.started_on.isoformat(), ended_on=None)
        case DuoEnded():
            conn.execute(update(duos).where(duos.c.duo_id == event.duo_id)
                         .values(status="ended", ended_on=event.ended_on.isoformat()))
        case ContactLogged():
            put(conn, contacts, contact_id=event.contact_id, duo_id=event.duo_id, project_id=event.project_id,
                month=event.contact_date.isoformat()[:7], minutes=event.minutes, mode=str(event.mode))


def _volunteer_status(conn: Connection, volunteer_id: str, status: str) -> None:
    conn.execute(update(volunteers).where(volunteers.c.volunteer_id == volunteer_id).values(status=status))
