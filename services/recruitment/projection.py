"""Read-model rows as a function of the aggregates, and a rebuild from the event log.

Handlers and the matching subscriber write a row right after recording events, in the
same transaction; ``rebuild`` replays the whole log into empty tables, which gives the
same rows (tested), so the read models can always be thrown away and recreated.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert

from shared.access import apply_staff_event
from shared.clock import brussels_day
from shared.duplicates import identity_keys
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.rows import put
from shared.eventstore.store import EventStore
from shared.eventstore.tables import staff_access
from shared.vault import Vault
from services.recruitment.domain import Project, Volunteer
from services.recruitment.read_models import name_index, projects, volunteers

#: Events whose sealed blob is the volunteer's personal data (the latest one counts).
PERSONAL_DATA_EVENTS = ("VolunteerEnquiryReceived", "VolunteerPersonalDataChanged")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def project_row(p: Project) -> dict[str, Any]:
    return {
        "project_id": p.id, "name": p.name, "organisation": p.organisation, "municipality_nis": p.municipality_nis,
        "region": p.region, "target_groups": [str(t) for t in p.target_groups],
        "funded_from": _iso(p.funded_from), "funded_until": _iso(p.funded_until), "status": str(p.status),
        "closed_on": _iso(p.closed_on), "close_reason": str(p.close_reason) if p.close_reason else None,
        "version": p.version,
    }


def volunteer_row(v: Volunteer) -> dict[str, Any]:
    return {
        "volunteer_id": v.id, "project_id": v.project_id, "status": str(v.status), "stage_since": _iso(v.stage_since),
        "enquired_on": _iso(v.enquired_on), "channel": str(v.channel), "municipality_nis": v.municipality_nis,
        "age_band": str(v.age_band) if v.age_band else None, "gender": str(v.gender) if v.gender else None,
        "sessions": v.sessions, "training_hours": v.training_hours,
        "preferences": v.preferences.model_dump(mode="json") if v.preferences else None,
        "works_with_minors": v.works_with_minors, "active_duos": len(v.duos),
        "waiting_since": _iso(v.waiting_since), "last_kept_warm": _iso(v.last_kept_warm),
        "warm_since": _iso(v.warm_since),
        "legal": {str(item): {"dated": r.dated.isoformat(), "valid_until": _iso(r.valid_until)}
                  for item, r in sorted(v.legal.items())},
        "paused_until": _iso(v.paused_until), "stop_reason": str(v.stop_reason) if v.stop_reason else None,
        "erased": v.erased, "version": v.version,
    }


def save_project(conn: Connection, p: Project) -> None:
    put(conn, projects, **project_row(p))


def save_volunteer(conn: Connection, v: Volunteer) -> None:
    put(conn, volunteers, **volunteer_row(v))
    if v.erased:
        forget_name(conn, v.id)


def index_name(conn: Connection, vault: Vault, volunteer_id: str, project_id: str, first_name: str, last_name: str,
               birth_date: date | str | None = None, email: str | None = None) -> None:
    """Replace the volunteer's blind-index tokens with those of this name, and the identity keys
    (name with birth date, name with e-mail) that find a likely duplicate (``shared.duplicates``)."""
    forget_name(conn, volunteer_id)
    born = date.fromisoformat(birth_date) if isinstance(birth_date, str) else birth_date
    tokens = vault.name_tokens(f"{first_name} {last_name}")
    tokens += [k for k in identity_keys(vault, first_name, last_name, born, email) if k not in tokens]
    if tokens:
        conn.execute(insert(name_index), [{"volunteer_id": volunteer_id, "token": t, "project_id": project_id}
                                          for t in tokens])


def forget_name(conn: Connection, volunteer_id: str) -> None:
    conn.execute(delete(name_index).where(name_index.c.volunteer_id == volunteer_id))


def rebuild(conn: Connection, store: EventStore, vault: Vault) -> int:
    """Recreate every read-model row from the log (and the name index from the vault); returns events read."""
    for table in (name_index, volunteers, projects, staff_access):
        conn.execute(delete(table))
    streams: dict[str, list[tuple[DomainEvent, date]]] = defaultdict(list)
    kinds: dict[str, str] = {}
    latest_personal: dict[str, bytes | None] = {}
    after, read = 0, 0
    while True:
        batch = store.read_after(after, 1000)
        if not batch:
            break
        for stored in batch:
            env = stored.envelope
            if apply_staff_event(conn, env):  # the staff register, in log order
                continue
            kinds[env.stream_id] = env.stream_type
            streams[env.stream_id].append((REGISTRY.decode(env.type, env.schema_version, env.payload),
                                           brussels_day(env.occurred_at)))
            if env.type in PERSONAL_DATA_EVENTS and stored.sealed is not None:
                latest_personal[env.stream_id] = stored.sealed
        after, read = batch[-1].envelope.position, read + len(batch)
    for stream_id, events in streams.items():
        if kinds[stream_id] == Project.stream_type:
            save_project(conn, Project.replay(stream_id, [e for e, _ in events]))
        elif kinds[stream_id] == Volunteer.stream_type:
            v = Volunteer.replay_dated(stream_id, events)
            save_volunteer(conn, v)
            personal = None if v.erased else vault.open(stream_id, latest_personal.get(stream_id), conn)
            if personal:
                index_name(conn, vault, v.id, v.project_id or "", personal["first_name"], personal["last_name"],
                           personal.get("birth_date"), personal.get("email"))
    return read
