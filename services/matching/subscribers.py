"""What matching learns from recruitment's events: projects and the candidate pool."""

from __future__ import annotations

from sqlalchemy import Connection, update

from shared.contracts.recruitment import (
    ProjectRegistered,
    VolunteerEnquiryReceived,
    VolunteerMadeAvailable,
    VolunteerStopped,
)
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.eventstore.rows import put
from shared.eventstore.store import format_time
from services.matching.read_models import candidates, projects


def on_event(conn: Connection, env: Envelope) -> None:
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    match event:
        case ProjectRegistered():
            put(conn, projects, project_id=event.project_id, region=event.region)
        case VolunteerEnquiryReceived():
            put(conn, candidates,
                volunteer_id=event.volunteer_id, project_id=event.project_id, status="enquired",
                municipality_nis=event.municipality_nis, target_groups=[], languages=[], max_duos=0, active_duos=0)
        case VolunteerMadeAvailable():
            conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id).values(
                status="available", target_groups=[str(t) for t in event.preferences.target_groups],
                languages=event.preferences.languages, max_duos=event.preferences.max_duos,
                available_since=format_time(env.occurred_at)))
        case VolunteerStopped():
            conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id).values(status="stopped"))
