"""Personal data of the people in the history: who may read it and why, access requests,
erasure and retention.

* **Reading is recorded.** Every writing service mounts ``personal_data_router``: sealed
  data of a person is decrypted only for admins, auditors and professionals of the
  person's project, only with a reason from a vocabulary (``AccessReason``), and every
  such read appends a ``<Service>PersonalDataAccessed`` event in the same transaction as
  the decryption (who: the actor; when: recorded_at; what: the positions opened; why: the
  reason, and an optional note sealed under the person's own key).
* **Access requests** (``GET /personal-data/{id}/export``): everything the service holds
  about the person, public events and decrypted data, as JSON; recorded the same way.
  ``buddy privacy export`` merges the exports of all services.
* **Retention** (``BUDDY_RETENTION_YEARS``, default 5): a person's personal data is
  erased that many years after the end of their trajectory, through the owning service's
  own erasure (recruitment for volunteers, matching for participants; follow-up shreds
  its notes when matching's erasure event arrives). ``apply_retention`` is deterministic
  for a given day; ``buddy privacy retention --apply [--every SECONDS]`` runs it.

Which events are "about" a person or a duo: their own stream, events whose payload names
them (``volunteer_id``, ``participant_id``, ``duo_id``, ``subject_id``, ``volunteer_ids``),
events whose sealed data is theirs, and the events of the duos they were in.

Which project a person is in, for the project check, is a different question with a
narrower answer: only what owns them in the service (``SubjectProjects``: their own stream
— a volunteer's enquiry, a participant's referral, a duo's proposal, a signal's recording —
and the rosters a service keeps, such as follow-up's duo roster). Never the records of
earlier reads, and never the duo ids a caller passes as hints: those would let a
professional of one project lend their project to a person of another. A person nothing
owns here is 404, whatever duos are named, and no read is recorded for them; events of
hinted duos are shown only when the duo is in the person's project.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations at run time.

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, or_, select

from shared.auth import NO_PROJECT_ACCESS, NO_ROLE_ACCESS, Principal, principal_dependency
from shared.clock import Clock, SystemClock
from shared.contracts.audit import (
    ACCESS_EVENT_TYPES,
    AccessKind,
    PUBLISHERS,
    AccessReason,
    access_stream_id,
    personal_data_accessed,
)
from shared.contracts.common import ID, Text
from shared.domain import DomainError, NotFound
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore.db import make_engine, reader
from shared.eventstore.store import ANY_VERSION, EventStore, NewEvent, format_time
from shared.eventstore.tables import events
from shared.idempotency import ANSWER_NOT_KEPT
from shared.logging import get_logger
from shared.parameters import Offset, PathId
from shared.settings import Settings
from shared.vault import Vault, VaultError

if TYPE_CHECKING:  # pragma: no cover
    from shared.service import ServiceRuntime

log = get_logger(__name__)

__all__ = [
    "REASON_LABELS",
    "RetentionSettings",
    "SubjectMatcher",
    "SubjectProjects",
    "Trajectory",
    "apply_retention",
    "due_for_erasure",
    "holds_personal_data",
    "own_stream_projects",
    "personal_data_router",
    "trajectories",
]

SUBJECT_ID = ID  # the one id rule of every service
#: Payload fields that name a person or a duo, and those that list people.
DIRECT_FIELDS = ("volunteer_id", "participant_id", "duo_id", "subject_id")
LIST_FIELDS = ("volunteer_ids",)
MAX_DUO_HINTS = 50

REASON_LABELS: dict[str, dict[str, str]] = {
    AccessReason.audit: {"nl": "Audit", "en": "Audit"},
    AccessReason.subject_access_request: {"nl": "Inzageverzoek van de betrokkene", "en": "Subject access request"},
    AccessReason.legal_obligation: {"nl": "Wettelijke verplichting", "en": "Legal obligation"},
    AccessReason.care_continuity: {"nl": "Continuïteit van de begeleiding", "en": "Continuity of care"},
    AccessReason.other: {"nl": "Andere reden", "en": "Other reason"},
}
ERASED_NO_NOTE = ("De persoonsgegevens van deze persoon zijn gewist (of werden hier nooit bewaard): een notitie kan "
                  "niet meer verzegeld worden / This person's personal data is erased (or was never kept here): "
                  "a note can no longer be sealed")


class RetentionSettings(BaseSettings):
    """How long personal data is kept after a trajectory ends (``BUDDY_RETENTION_*``)."""

    model_config = SettingsConfigDict(env_prefix="BUDDY_RETENTION_", extra="ignore")

    years: int = Field(5, ge=1, le=100, description="Erase personal data this many years after a trajectory ends.")
    interval_s: float = Field(
        86_400.0, gt=0, description="How often `buddy privacy retention --apply --every` looks (default daily).")


# --------------------------------------------------------------------------- which events are about whom


class SubjectMatcher:
    """Decides, event by event in log order, whether it is about one person or duo.

    Duos the person was in are learned from the events that name both (a proposal, a
    start, a duo joined, a sealed note), so later events of those duos count too.
    """

    def __init__(self, subject_id: str, *, follow_duos: bool = True, duos: Iterable[str] = ()) -> None:
        self.subject_id = subject_id
        self.follow_duos = follow_duos
        self.duos: set[str] = set(duos) if follow_duos else set()

    def learn(self, payload: Mapping[str, Any]) -> None:
        duo = payload.get("duo_id")
        if self.follow_duos and isinstance(duo, str) and duo != self.subject_id:
            self.duos.add(duo)

    def __call__(self, stream_id: str, payload: Mapping[str, Any], sealed_subject: str | None = None) -> str | None:
        """``"subject"`` for an event about them, ``"duo:<id>"`` for one of their duos', else None."""
        s = self.subject_id
        direct = (stream_id == s or sealed_subject == s or any(payload.get(f) == s for f in DIRECT_FIELDS)
                  or any(isinstance(payload.get(f), list) and s in payload[f] for f in LIST_FIELDS))
        if direct:
            self.learn(payload)
            return "subject"
        if self.duos:
            if stream_id in self.duos:
                return f"duo:{stream_id}"
            duo = payload.get("duo_id")
            if isinstance(duo, str) and duo in self.duos:
                return f"duo:{duo}"
        return None


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{escaped}"%'


def related_rows(conn: Connection, subject_id: str, *, duos: Iterable[str] = ()) -> list[tuple[Mapping[str, Any], str]]:
    """The rows of this store about a person or duo (with their duos' events), in log order.

    A LIKE on the payload text narrows the scan; ``SubjectMatcher`` decides on the parsed payload.
    """
    matcher = SubjectMatcher(subject_id, duos=duos)

    def scan(ids: Sequence[str], found: dict[int, tuple[Mapping[str, Any], str]]) -> None:
        condition = or_(events.c.stream_id.in_(list(ids)), events.c.subject_id.in_(list(ids)),
                        *[events.c.payload.like(_like(i), escape="\\") for i in ids])
        for row in conn.execute(select(events).where(condition).order_by(events.c.position)).mappings():
            if row["position"] in found:
                continue
            via = matcher(row["stream_id"], json.loads(row["payload"]), row["subject_id"])
            if via is not None:
                found[row["position"]] = (row, via)

    found: dict[int, tuple[Mapping[str, Any], str]] = {}
    scan([subject_id, *sorted(matcher.duos)], found)
    known: set[str] = set()
    while matcher.duos - known:  # duos learned from the first scan: their events may come earlier in the log
        new = sorted(matcher.duos - known)
        known |= set(new)
        scan(new, found)
    return [found[p] for p in sorted(found)]


def _envelope(service: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The public part of a stored row, as the feed serves it."""
    return {
        "event_id": row["event_id"], "type": row["type"], "schema_version": row["schema_version"], "service": service,
        "stream_type": row["stream_type"], "stream_id": row["stream_id"], "version": row["version"],
        "position": row["position"], "occurred_at": row["occurred_at"], "recorded_at": row["recorded_at"],
        "project_id": row["project_id"], "actor": {"id": row["actor_id"], "role": row["actor_role"]},
        "correlation_id": row["correlation_id"], "causation_id": row["causation_id"],
        "payload": json.loads(row["payload"]),
    }


# --------------------------------------------------------------------------- the router


class AccessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: AccessReason = Field(description="Why the personal data is read (vocabulary: GET /personal-data/reasons).")
    note: Text | None = Field(None, min_length=1, max_length=2000,
                             description="Optional explanation; sealed under the person's key, never published.")


def _subject_or_404(subject_id: str) -> str:
    if not SUBJECT_ID.match(subject_id):
        raise NotFound("Persoon", "Person", subject_id)
    return subject_id


def _may_read_personal_data(principal: Principal) -> None:
    """Admins, auditors and professionals; coordinators see aggregates only, buddies their own duo."""
    if principal.role not in (Role.admin, Role.auditor, Role.professional):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_ROLE_ACCESS)


def _may_see_projects(principal: Principal, projects: set[str]) -> None:
    if principal.role in (Role.admin, Role.auditor):
        return
    if not projects & principal.projects:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)


def _hints(duo: list[str] | None) -> list[str]:
    hints = [d for d in (duo or []) if SUBJECT_ID.match(d)]
    if len(hints) > MAX_DUO_HINTS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail=f"at most {MAX_DUO_HINTS} duo ids")
    return hints


def _projects_of(row: Mapping[str, Any]) -> set[str]:
    """The project of an event: the envelope's, and the payload's (a first event may carry only that)."""
    found = {row["project_id"]} if row["project_id"] else set()
    payload_project = json.loads(row["payload"]).get("project_id")
    if isinstance(payload_project, str) and payload_project:
        found.add(payload_project)
    return found


#: Which projects a person (or duo) is in, in one service's database: from what owns them there.
SubjectProjects = Callable[[Connection, str], set[str]]


def own_stream_projects(conn: Connection, subject_id: str) -> set[str]:
    """The projects of the subject's own stream: a volunteer's enquiry, a participant's referral,
    a duo's proposal, a signal's recording. Access records (``access:<id>``) own nobody."""
    rows = conn.execute(select(events.c.project_id, events.c.payload)
                        .where(events.c.stream_id == subject_id, events.c.type.not_in(sorted(ACCESS_EVENT_TYPES))))
    return {p for row in rows.mappings() for p in _projects_of(row)}


class _Subject:
    """One person's rows in one store, as the caller may see them.

    Their projects come from ``owners`` alone; a professional needs one of them among theirs.
    Events about the person themselves are all shown; events of duos (learned or hinted)
    only when the duo is in a project of the person that the caller may see.
    """

    def __init__(self, conn: Connection, subject_id: str, principal: Principal, duos: Sequence[str],
                 owners: SubjectProjects) -> None:
        self.projects = owners(conn, subject_id)
        if not self.projects:  # nothing owns them here: hinted duos lend no project
            raise NotFound("Persoon", "Person", subject_id)
        _may_see_projects(principal, self.projects)
        visible = self.projects & principal.projects if principal.role is Role.professional else self.projects
        rows = [(r, via) for r, via in related_rows(conn, subject_id, duos=duos)
                if via == "subject" or _projects_of(r) & visible]
        if not rows:
            raise NotFound("Persoon", "Person", subject_id)
        self.rows = rows
        self.sealed = [r for r, _ in rows if r["subject_id"] == subject_id and r["sealed"] is not None]


def holds_personal_data(runtime: "ServiceRuntime") -> bool:
    """A service with a vault and an access event of its own (recruitment, matching, follow-up)."""
    return runtime.vault is not None and runtime.name in PUBLISHERS


def personal_data_router(runtime: "ServiceRuntime", owners: SubjectProjects = own_stream_projects) -> APIRouter:
    """``/personal-data/...`` and ``/audit/history/...`` of one writing service.

    ``owners`` says which projects a person is in here (default: their own stream's).
    """
    router = APIRouter(tags=["persoonsgegevens / personal data"])
    Caller = Annotated[Principal, Depends(principal_dependency(runtime.authenticator))]
    Duos = Annotated[list[str] | None, Query(
        alias="duo", description="Duo ids learned elsewhere (matching) whose events here are also about the person; "
                     "shown only for duos of the person's own project, and never deciding whose project they are in.")]
    service, event_type = runtime.name, personal_data_accessed(runtime.name)

    def vault() -> Vault:
        assert runtime.vault is not None, "only services with a vault mount this router"
        return runtime.vault

    @router.get("/personal-data/reasons", summary="Reasons for reading personal data (vocabulary), Dutch and English")
    def reasons(principal: Caller) -> dict[str, dict[str, str]]:
        return {str(k): v for k, v in REASON_LABELS.items()}

    @router.get("/audit/history/{subject_id}",
                summary="Auditors: the public events about a person or duo in this service, oldest first")
    def history(subject_id: PathId, principal: Caller, duo: Duos = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
                offset: Offset = 0) -> dict[str, Any]:
        if principal.role not in (Role.auditor, Role.admin):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_ROLE_ACCESS)
        _subject_or_404(subject_id)
        with reader(runtime.engine).connect() as conn:
            rows = related_rows(conn, subject_id, duos=_hints(duo))
        if not rows:
            raise NotFound("Persoon", "Person", subject_id)
        page = rows[offset:offset + limit]
        return {"subject_id": subject_id, "service": service, "total": len(rows), "limit": limit, "offset": offset,
                "items": [{**_envelope(service, r), "via": via} for r, via in page]}

    @router.get("/personal-data/{subject_id}",
                summary="What this service holds about a person (counts only; nothing is decrypted)")
    def holdings(subject_id: PathId, principal: Caller, duo: Duos = None) -> dict[str, Any]:
        _may_read_personal_data(principal)
        _subject_or_404(subject_id)
        with reader(runtime.engine).connect() as conn:
            subject = _Subject(conn, subject_id, principal, _hints(duo), owners)
            holds_key = not vault().is_erased(subject_id, conn)
        return {"subject_id": subject_id, "service": service, "projects": sorted(subject.projects),
                "events": len(subject.rows), "sealed_items": len(subject.sealed), "holds_key": holds_key,
                "personal_data_readable": holds_key and bool(subject.sealed)}

    def read(subject_id: str, principal: Principal, request: Request, *, kind: AccessKind, reason: AccessReason,
             note: str | None, duos: Sequence[str]) -> tuple[_Subject, list[dict[str, Any]], bool, int]:
        """Decrypt the person's sealed data and record the access, in one transaction."""
        _may_read_personal_data(principal)
        _subject_or_404(subject_id)
        with runtime.store.transaction() as conn:
            subject = _Subject(conn, subject_id, principal, duos, owners)
            opened: list[dict[str, Any]] = []
            for row in subject.sealed:
                item = {"position": row["position"], "type": row["type"], "stream_id": row["stream_id"],
                        "occurred_at": row["occurred_at"], "data": None}
                try:
                    item["data"] = vault().open(subject_id, row["sealed"], conn)
                except VaultError:  # tampered, or another master key: say so, do not fail the whole read
                    item["unreadable"] = True
                    log.warning("personal_data.unreadable_blob", subject_id=subject_id, position=row["position"])
                opened.append(item)
            has_key = not vault().is_erased(subject_id, conn)
            erased = not has_key and bool(subject.sealed)
            sealed_note = None
            if note:
                if not has_key:  # sealing would create a new key for an erased person (or a stranger here)
                    raise DomainError(ERASED_NO_NOTE, code="subject_erased")
                sealed_note = vault().seal(conn, subject_id, {"note": note})
            accessed = event_type(subject_id=subject_id, access=kind, reason=reason,
                                  opened_positions=[o["position"] for o in opened if o["data"] is not None],
                                  subject_erased=erased, has_note=sealed_note is not None)
            [position] = runtime.store.append(
                access_stream_id(subject_id), ANY_VERSION,
                [NewEvent(accessed, project_id=min(subject.projects) if subject.projects else None,
                          subject_id=subject_id if sealed_note else None, sealed=sealed_note)],
                actor=principal.actor, correlation_id=request.state.correlation_id, conn=conn)
        runtime.recorded()
        log.info("personal_data.accessed", subject_id=subject_id, access=str(kind), reason=str(reason),
                 actor_id=principal.actor.id, position=position)
        return subject, opened, erased, position

    @router.post("/personal-data/{subject_id}/access", openapi_extra=ANSWER_NOT_KEPT,
                 summary="Decrypt a person's personal data, with a reason; the read is recorded as an event")
    def access(subject_id: PathId, body: AccessRequest, principal: Caller, request: Request) -> dict[str, Any]:
        _, opened, erased, position = read(subject_id, principal, request, kind=AccessKind.view, reason=body.reason,
                                           note=body.note, duos=())
        return {"subject_id": subject_id, "service": service, "reason": body.reason, "subject_erased": erased,
                "personal_data": opened, "access_recorded_at": position}

    @router.get("/personal-data/{subject_id}/export",
                summary="Access request: all this service holds about a person as JSON; recorded as an event")
    def export(subject_id: PathId, principal: Caller, request: Request,
               reason: Annotated[AccessReason, Query(description="Why (vocabulary: GET /personal-data/reasons).")],
               duo: Duos = None) -> dict[str, Any]:
        subject, opened, erased, position = read(subject_id, principal, request, kind=AccessKind.export,
                                                 reason=reason, note=None, duos=_hints(duo))
        return {"subject_id": subject_id, "service": service, "reason": reason,
                "exported_at": format_time(runtime.clock.now()), "projects": sorted(subject.projects),
                "subject_erased": erased, "events": [{**_envelope(service, r), "via": via} for r, via in subject.rows],
                "personal_data": opened, "access_recorded_at": position}

    return router


# --------------------------------------------------------------------------- retention


@dataclass
class Trajectory:
    """One person's trajectory in the service that owns them, as its log tells it."""

    service: str
    subject_id: str
    project_id: str | None = None
    ended_on: date | None = None  # None while it runs
    erased: bool = False
    open_duos: set[str] = field(default_factory=set)
    stopped_on: date | None = None  # volunteers: the day they stopped
    left_on: date | None = None  # volunteers: the day their last duo ended

    def due_on(self, years: int) -> date | None:
        return None if self.ended_on is None else _add_years(self.ended_on, years)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day(value: Any, fallback: datetime) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return fallback.date()


def _volunteer(t: dict[str, Trajectory], env: Envelope) -> None:
    """Recruitment: a volunteer's trajectory ends when they stopped and their last duo ended."""
    p = env.payload
    vid = p.get("volunteer_id")
    if env.stream_type != "volunteer" or not isinstance(vid, str):
        return
    tr = t.setdefault(vid, Trajectory("recruitment", vid, p.get("project_id")))
    match env.type:
        case "VolunteerStopped":
            tr.stopped_on = env.occurred_at.date()
        case "VolunteerJoinedDuo":
            tr.open_duos.add(p["duo_id"])
        case "VolunteerLeftDuo":
            tr.open_duos.discard(p["duo_id"])
            tr.left_on = _day(p.get("left_on"), env.occurred_at)
        case "VolunteerPersonalDataErased":
            tr.erased = True
    ends = [d for d in (tr.stopped_on, tr.left_on) if d is not None]
    tr.ended_on = max(ends) if tr.stopped_on is not None and not tr.open_duos else None


def _participant(t: dict[str, Trajectory], env: Envelope) -> None:
    """Matching: a participant's trajectory ends with a withdrawal or a duo that ended (not in a mismatch)."""
    p = env.payload
    pid = p.get("participant_id")
    if not isinstance(pid, str):
        return
    tr = t.setdefault(pid, Trajectory("matching", pid, p.get("project_id")))
    match env.type:
        case "ParticipantReferred" | "ParticipantReturnedToWaitingList" | "DuoProposed":
            tr.ended_on = None
        case "DuoStarted":
            tr.ended_on = None
            tr.open_duos.add(p["duo_id"])
        case "DuoEnded":
            tr.open_duos.discard(p["duo_id"])
            tr.ended_on = None if p.get("reason") == "mismatch" else _day(p.get("ended_on"), env.occurred_at)
        case "ParticipantWithdrawn":
            tr.ended_on = _day(p.get("withdrawn_on"), env.occurred_at) if tr.ended_on is None else tr.ended_on
        case "ParticipantPersonalDataErased":
            tr.erased = True


#: Who owns which people, and how their trajectories end.
RULES = {"recruitment": _volunteer, "matching": _participant}


def trajectories(service: str, envelopes: Iterable[Envelope]) -> dict[str, Trajectory]:
    """Every trajectory of the people a service owns, from its log in order."""
    rule, found = RULES[service], {}
    for env in envelopes:
        if env.type not in ACCESS_EVENT_TYPES:
            rule(found, env)
    return found


def _log(store: EventStore, page: int = 2000) -> Iterable[Envelope]:
    after = 0
    while batch := store.read_after(after, page):
        for row in batch:
            yield row.envelope
        after = batch[-1].envelope.position


def due_for_erasure(service: str, store: EventStore, today: date, years: int) -> list[Trajectory]:
    """People not yet erased whose trajectory ended at least ``years`` years before ``today``."""
    due = [t for t in trajectories(service, _log(store)).values()
           if not t.erased and t.ended_on is not None and (t.due_on(years) or today) <= today]
    return sorted(due, key=lambda t: (t.ended_on, t.subject_id))


class OfflineRuntime:
    """What command handlers need of a runtime, without Redis or HTTP: for tools such as retention.

    Events appended here are published by the running service's relay, which reads its store.
    """

    relay = None

    def __init__(self, name: str, settings: Settings, clock: Clock | None = None) -> None:
        self.name, self.settings = name, settings
        self.clock = clock or SystemClock()
        self.engine = make_engine(settings.database_url_of(name))
        self.store = EventStore(self.engine, name, self.clock)
        self.vault = Vault(self.engine, settings.key_bytes("master_key"), settings.key_bytes("blind_index_key"))

    def recorded(self) -> None:
        """Nothing to wake in this process."""

    def close(self) -> None:
        self.engine.dispose()


#: Retention erases as the system, through the same handler a person's request uses.
RETENTION_ACTOR = Actor(id="retention", role=Role.admin)


def _erase(runtime: OfflineRuntime, subject_id: str, correlation_id: uuid.UUID) -> None:
    principal = Principal(actor=RETENTION_ACTOR)
    if runtime.name == "recruitment":
        from services.recruitment.handlers import RecruitmentHandlers

        RecruitmentHandlers(runtime).erase(subject_id, principal, correlation_id)  # type: ignore[arg-type]
    else:
        from services.matching.config import MatchingSettings
        from services.matching.handlers import MatchingHandlers

        handlers = MatchingHandlers(runtime, MatchingSettings())  # type: ignore[arg-type]
        handlers.erase(subject_id, principal, correlation_id)


@dataclass(frozen=True)
class RetentionOutcome:
    service: str
    subject_id: str
    project_id: str | None
    ended_on: date
    due_on: date
    action: str  # due (dry run) | erased | failed: <reason>


def apply_retention(settings: Settings, *, clock: Clock, retention: RetentionSettings | None = None,
                    apply: bool = False, services: Sequence[str] = tuple(RULES)) -> list[RetentionOutcome]:
    """Find (and with ``apply`` erase) everyone whose trajectory ended ``years`` before the clock's day.

    Deterministic for a given day and log: the same people, in the same order. Each erasure
    is its own transaction in the owning service; one that is refused (say, the person is
    in a duo again) is reported and the others go on.
    """
    retention = retention or RetentionSettings()
    today, outcomes = clock.today(), []
    correlation = uuid.uuid4()
    for service in services:
        runtime = OfflineRuntime(service, settings, clock)
        try:
            for t in due_for_erasure(service, runtime.store, today, retention.years):
                assert t.ended_on is not None
                action = "due"
                if apply:
                    try:
                        _erase(runtime, t.subject_id, correlation)
                        action = "erased"
                    except (DomainError, HTTPException) as exc:
                        action = f"failed: {getattr(exc, 'message', None) or getattr(exc, 'detail', exc)}"
                outcomes.append(RetentionOutcome(service, t.subject_id, t.project_id, t.ended_on,
                                                 t.due_on(retention.years) or today, action))
                log.info("retention.subject", service=service, subject_id=t.subject_id, action=action.split(":")[0])
        finally:
            runtime.close()
    return outcomes
