"""Reporting projections from all services' events. Upserts keep a rebuild harmless."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, update

from shared.contracts.followup import ContactLogged
from shared.contracts.matching import DuoEnded, DuoStarted
from shared.contracts.recruitment import (
    ProjectRegistered,
    VolunteerEnquiryReceived,
    VolunteerMadeAvailable,
    VolunteerStopped,
)
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY, UnknownEventType
from services.reporting.read_models import contacts, duos, projects, volunteers


def on_event(conn: Connection, env: Envelope) -> None:
    try:
        event = REGISTRY.decode(env.type, env.schema_version, env.payload)
    except UnknownEventType:
        return
    match event:
        case ProjectRegistered():
            conn.execute(delete(projects).where(projects.c.project_id == event.project_id))
            conn.execute(insert(projects).values(project_id=event.project_id, region=event.region,
                                                 municipality_nis=event.municipality_nis))
        case VolunteerEnquiryReceived():
            conn.execute(delete(volunteers).where(volunteers.c.volunteer_id == event.volunteer_id))
            conn.execute(insert(volunteers).values(volunteer_id=event.volunteer_id, project_id=event.project_id,
                                                   status="enquired", active_duos=0))
        case VolunteerMadeAvailable():
            _volunteer_status(conn, event.volunteer_id, "available")
        case VolunteerStopped():
            _volunteer_status(conn, event.volunteer_id, "stopped")
        case DuoStarted():
            conn.execute(delete(duos).where(duos.c.duo_id == event.duo_id))
            conn.execute(insert(duos).values(duo_id=event.duo_id, project_id=event.project_id,
                                             volunteer_id=event.volunteer_id, status="active",
                                             started_on=event.started_on.isoformat()))
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
            conn.execute(delete(contacts).where(contacts.c.contact_id == event.contact_id))
            conn.execute(insert(contacts).values(contact_id=event.contact_id, duo_id=event.duo_id,
                                                 project_id=event.project_id, month=event.contact_date.isoformat()[:7],
                                                 minutes=event.minutes, mode=str(event.mode)))


def _volunteer_status(conn: Connection, volunteer_id: str, status: str) -> None:
    conn.execute(update(volunteers).where(volunteers.c.volunteer_id == volunteer_id).values(status=status))
