"""What matching learns from recruitment's events: projects, the candidate pool (with each
volunteer's legal items, dates and kinds only, and whether their personal data was erased)
and the staff register.

Runs inside the consumer's transaction (idempotent through its checkpoint). Every step
*sets* state, so replaying recruitment's history from the start rebuilds the same pool.
Event types this code does not know (``decode_known`` gives None) are skipped; project
changes and closures are read by type name, so they work as soon as recruitment
publishes them, whatever their exact fields.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from shared import access
from shared.contracts.common import MatchingPreferences, TravelRange
from shared.contracts.recruitment import (
    ProjectRegistered,
    VolunteerEnquiryReceived,
    VolunteerJoinedDuo,
    VolunteerLeftDuo,
    VolunteerLegalItemRecorded,
    VolunteerMadeAvailable,
    VolunteerPaused,
    VolunteerPersonalDataErased,
    VolunteerPreferencesChanged,
    VolunteerResumed,
    VolunteerStopped,
)
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.eventstore.rows import put
from shared.eventstore.store import format_time
from services.matching.projection import slots
from services.matching.read_models import candidates, projects


def on_event(conn: Connection, env: Envelope) -> None:
    if access.on_event(conn, env):  # the staff register: who may do what here
        return
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    if event is None:
        return
    match event:
        case ProjectRegistered():
            put(conn, projects, project_id=event.project_id, region=event.region,
                target_groups=[t.value for t in event.target_groups], closed=False)
        case VolunteerEnquiryReceived():
            put(conn, candidates,
                volunteer_id=event.volunteer_id, project_id=event.project_id, status="enquired",
                municipality_nis=event.municipality_nis, home_nis=None, target_groups=[], languages=[], interests=[],
                availability=[], travel=TravelRange.same_province.value, max_duos=0, has_preferences=False,
                available_since=None, legal={}, erased=False)
        case VolunteerMadeAvailable():
            _preferences(conn, event.volunteer_id, event.preferences,
                         status="available", available_since=format_time(env.occurred_at))
        case VolunteerPreferencesChanged():
            _preferences(conn, event.volunteer_id, event.preferences)
        case VolunteerPaused():
            conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id,
                                                  candidates.c.status != "stopped").values(status="paused"))
        case VolunteerResumed():
            row = conn.execute(select(candidates.c.has_preferences, candidates.c.status)
                               .where(candidates.c.volunteer_id == event.volunteer_id)).first()
            if row is not None and row.status == "paused":
                conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id)
                             .values(status="available" if row.has_preferences else "enquired"))
        case VolunteerStopped():
            conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id).values(status="stopped"))
        case VolunteerLegalItemRecorded():
            legal = conn.execute(select(candidates.c.legal).where(candidates.c.volunteer_id == event.volunteer_id)).scalar()
            if legal is not None:  # dates and kinds only: what the screening for minors needs
                conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id).values(legal={
                    **legal, event.item.value: {"dated": event.dated.isoformat(),
                                                "valid_until": event.valid_until.isoformat() if event.valid_until else None}}))
        case VolunteerPersonalDataErased():
            # Erased people leave the work: no longer offered for matching (running duos go on).
            conn.execute(update(candidates).where(candidates.c.volunteer_id == event.volunteer_id).values(erased=True))
        case VolunteerJoinedDuo() | VolunteerLeftDuo():
            pass  # recruitment's echo of our own duos
        case _:
            _project_lifecycle(conn, env.type, event)


def _preferences(conn: Connection, volunteer_id: str, prefs: MatchingPreferences, **extra: Any) -> None:
    conn.execute(update(candidates).where(candidates.c.volunteer_id == volunteer_id).values(
        target_groups=[t.value for t in prefs.target_groups], languages=list(dict.fromkeys(prefs.languages)),
        interests=[i.value for i in dict.fromkeys(prefs.interests)], availability=list(dict.fromkeys(slots(prefs.availability))),
        home_nis=prefs.municipality_nis, travel=prefs.travel.value, max_duos=prefs.max_duos, has_preferences=True,
        **extra))


def _project_lifecycle(conn: Connection, event_type: str, event: Any) -> None:
    """ProjectChanged / ProjectClosed, read defensively by attribute."""
    project_id = getattr(event, "project_id", None)
    if not project_id:
        return
    if event_type == "ProjectClosed":
        conn.execute(update(projects).where(projects.c.project_id == project_id).values(closed=True))
    elif event_type in ("ProjectChanged", "ProjectReopened"):
        values: dict[str, Any] = {}
        if getattr(event, "region", None):
            values["region"] = event.region
        if getattr(event, "target_groups", None):
            values["target_groups"] = [str(getattr(t, "value", t)) for t in event.target_groups]
        if event_type == "ProjectReopened":
            values["closed"] = False
        if values:
            conn.execute(update(projects).where(projects.c.project_id == project_id).values(**values))
