"""Reporting projections from all services' events. Upserts keep a rebuild harmless."""

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
            put(conn, volunteers, volunteer_id=event.volunteer_id, project_id=event.project_id,
                                                   status="enquired", active_duos=0)
        case VolunteerMadeAvailable():
            _volunteer_status(conn, event.volunteer_id, "available")
        case VolunteerStopped():
            _volunteer_status(conn, event.volunteer_id, "stopped")
        case DuoStarted():
            put(conn, duos, duo_id=event.duo_id, project_id=event.project_id,
                                             volunteer_id=event.volunteer_id, status="active",
                                             started_on=event.started_on.isoformat())
            conn.execute(update(volunteers).where(volunteers.c.volunteer_id == event.volunteer_id)
                         .values(active_duos=volunteers.c.active_duos + 1))
        case DuoEnded():
            ended = conn.execute(update(duos).where(duos.c.duo_id == event.duo_id, duos.c.status == "active")
                                 .values(status="ended", ended_on=event.ended_on.isoformat())
                                 .returning(duos.c.volunteer_id)).scalar()
            if ended is not None:
                conn.execute(update(volunteers).where(volunteers.c.volunteer_id == ended)
                             .values(active_duos=volunteers.c.active_duos - 1))
        case ContactLogged():
            put(conn, contacts, contact_id=event.contact_id, duo_id=event.duo_id,
                                                 project_id=event.project_id, month=event.contact_date.isoformat()[:7],
                                                 minutes=event.minutes, mode=str(event.mode))


def _volunteer_status(conn: Connection, volunteer_id: str, status: str) -> None:
    conn.execute(update(volunteers).where(volunteers.c.volunteer_id == volunteer_id).values(status=status))
