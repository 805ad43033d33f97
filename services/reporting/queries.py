"""The project summary: the first indicators, computed from the projections."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from shared.eventstore.tables import consumer_checkpoints
from services.reporting.read_models import contacts, duos, projects, volunteers

INDICATORS = {
    "available_volunteers": "Vrijwilligers beschikbaar in de pool, nog zonder duo / Volunteers available in the pool, not yet in a duo",
    "active_duos": "Lopende duo's / Duos running now",
    "contacts": "Gelogde contacten van duo's / Logged contacts of duos",
}


def project_region(conn: Connection, project_id: str) -> str | None:
    return conn.execute(select(projects.c.region).where(projects.c.project_id == project_id)).scalar()


def project_counts(conn: Connection, project_id: str) -> dict[str, int]:
    in_a_duo = select(duos.c.volunteer_id).where(duos.c.status == "active")
    available = conn.execute(select(func.count()).select_from(volunteers).where(
        volunteers.c.project_id == project_id, volunteers.c.status == "available",
        volunteers.c.volunteer_id.not_in(in_a_duo))).scalar_one()
    active = conn.execute(select(func.count()).select_from(duos).where(
        duos.c.project_id == project_id, duos.c.status == "active")).scalar_one()
    logged = conn.execute(select(func.count()).select_from(contacts).where(contacts.c.project_id == project_id)).scalar_one()
    return {"available_volunteers": available, "active_duos": active, "contacts": logged}


def watermark(conn: Connection, consumer: str) -> dict[str, int]:
    rows = conn.execute(select(consumer_checkpoints.c.upstream, consumer_checkpoints.c.position)
                        .where(consumer_checkpoints.c.consumer == consumer))
    return {upstream: position for upstream, position in rows}
