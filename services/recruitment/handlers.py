"""Command handlers and queries of recruitment.

Every command: one write transaction that first takes the store's head lock (so loading
and appending cannot interleave with another writer), loads the aggregate, lets it
decide, appends the events with any sealed personal data, and updates the read models.
Queries read the read models and, for the professionals of the project, open personal
data from the vault.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import Connection, func, select

from shared.auth import NO_PROJECT_ACCESS, Principal, require_project, require_role
from shared.clock import brussels_day
from shared.contracts.common import ID, BirthDate, Day, Id, Line, MatchingPreferences, NisCode, TargetGroup, Text
from shared.contracts.recruitment import (
    Gender,
    KeepWarmKind,
    LegalItem,
    ProjectCloseReason,
    RecruitmentChannel,
    ScreeningOutcome,
    ScreeningRefusal,
    StopReason,
    TrainingKind,
)
from shared.domain import DomainError, InvalidInput, NotFound
from shared.duplicates import identity_keys, refuse_likely_duplicate
from shared.events.envelope import Actor, Envelope, Role
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore import NewEvent
from shared.eventstore.db import reader
from shared.eventstore.store import StoredEvent
from shared.eventstore.tables import events as event_log
from shared.eventstore.tables import store_head
from shared.municipalities import lookup
from shared.regions import is_region, unknown_region_message
from shared.service import ServiceRuntime
from services.recruitment.config import RecruitmentSettings
from services.recruitment.domain import (
    APPROVED,
    LegalRecord,
    LegalState,
    Project,
    Volunteer,
    VolunteerStatus,
    keep_warm_due,
    legal_findings,
    legal_state,
    required_legal_items,
)
from services.recruitment.projection import (
    PERSONAL_DATA_EVENTS,
    index_name,
    save_project,
    save_volunteer,
)
from services.recruitment.read_models import name_index, projects, volunteers
from services.recruitment.vocabularies import label

_ID = ID
NOTE_EVENTS = ("VolunteerIntakeHeld", "VolunteerScreened", "VolunteerKeptWarm")
#: The stages of the waiting board, in journey order.
BOARD_STAGES = (VolunteerStatus.enquired, VolunteerStatus.intake_held, VolunteerStatus.in_preparation,
                VolunteerStatus.available, VolunteerStatus.in_duo, VolunteerStatus.paused)
MATCHING_ACTOR = Actor(id="matching", role=Role.system)

Note = Field(None, min_length=1, max_length=5000, description="Private note, kept encrypted in the vault; never published.")


# ------------------------------------------------------------------------------------- commands


class RegisterProject(BaseModel):
    project_id: Id
    name: Line = Field(min_length=1, max_length=200)
    organisation: Line = Field(min_length=1, max_length=200)
    municipality_nis: NisCode
    region: Line = Field(min_length=1, max_length=100, description="A region code of the fixed list (GET /regions).")
    target_groups: list[TargetGroup] = Field(min_length=1)
    funded_from: Day | None = None
    funded_until: Day | None = None


class ChangeProject(BaseModel):
    """Only the fields given change; ``funded_from`` / ``funded_until`` may be cleared with null."""

    model_config = ConfigDict(extra="forbid")

    name: Line = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    organisation: Line = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    municipality_nis: NisCode = Field(None)  # type: ignore[assignment]
    region: Line = Field(None, min_length=1, max_length=100)  # type: ignore[assignment]
    target_groups: list[TargetGroup] = Field(None, min_length=1)  # type: ignore[assignment]
    funded_from: Day | None = None
    funded_until: Day | None = None


class CloseProject(BaseModel):
    closed_on: Day
    reason: ProjectCloseReason


class PersonalData(BaseModel):
    """Kept only encrypted in this service; never on the bus, in logs or in reports."""

    first_name: Line = Field(min_length=1, max_length=100)
    last_name: Line = Field(min_length=1, max_length=100)
    email: EmailStr | None = None
    phone: Line | None = Field(None, max_length=40)
    birth_date: BirthDate | None = None
    address: Line | None = Field(None, max_length=300)
    notes: Text | None = Field(None, max_length=5000)


class ReceiveEnquiry(BaseModel):
    channel: RecruitmentChannel
    municipality_nis: NisCode
    gender: Gender | None = None
    received_on: Day | None = Field(None, description="When the enquiry came in, if not today.")
    personal: PersonalData
    confirmed_other_person: bool = Field(
        False, description="The professional confirms this is not the person of an existing file with the same "
        "name and birth date or e-mail address (otherwise such an enquiry is answered 409 with that file's number).")


class HoldIntake(BaseModel):
    held_on: Day
    note: Text | None = Note


class Screen(BaseModel):
    screened_on: Day
    outcome: ScreeningOutcome
    refusal_reason: ScreeningRefusal | None = Field(None, description="Required when not approved.")
    note: Text | None = Note


class RecordTraining(BaseModel):
    session_on: Day
    kind: TrainingKind
    hours: float = Field(gt=0, le=24)


class MakeAvailable(MatchingPreferences):
    """The volunteer's preferences for matching, and from when they are available."""

    available_on: Day | None = Field(
        None, description="When the volunteer became available for matching, if not today (a past availability "
        "entered after the fact). Not in the future, not before the approved screening; a duo cannot be proposed or "
        "started before it.")

    def preferences(self) -> MatchingPreferences:
        return MatchingPreferences(**self.model_dump(exclude={"available_on"}))


ChangePreferences = MatchingPreferences


class Pause(BaseModel):
    until: Day | None = Field(None, description="Expected end of the pause, if known.")


class StopVolunteer(BaseModel):
    reason: StopReason


class RecordLegalItem(BaseModel):
    item: LegalItem
    dated: Day = Field(description="Date of the notice, the insurance confirmation or the extract.")
    valid_until: Day | None = Field(
        None, description="End of validity; for an extract without one, the configured validity applies.")


class KeepWarm(BaseModel):
    contacted_on: Day
    kind: KeepWarmKind
    note: Text | None = Note


# ------------------------------------------------------------------------------------- helpers


def _municipality(nis: str, field: str = "municipality_nis") -> None:
    if lookup(nis) is None:
        raise InvalidInput(f"Onbekende NIS-code {nis} / Unknown municipality code {nis}", field=field)


def _region(code: str) -> None:
    if not is_region(code):
        raise InvalidInput(unknown_region_message(code), field="region")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _page(items: Sequence[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": list(items), "total": total, "limit": limit, "offset": offset}


class RecruitmentHandlers:
    def __init__(self, runtime: ServiceRuntime, options: RecruitmentSettings | None = None) -> None:
        self.runtime = runtime
        self.options = options or RecruitmentSettings()

    # -- infrastructure ----------------------------------------------------------------

    @property
    def vault(self):  # type: ignore[no-untyped-def]
        assert self.runtime.vault is not None
        return self.runtime.vault

    def today(self) -> date:
        return self.runtime.clock.today()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; the store's head lock is taken at the append (``EventStore.transaction``).

        A decision that rests on another aggregate than the one appended to names it in
        ``unchanged`` (receiving an enquiry rests on the project being open).
        """
        with self.runtime.store.transaction() as conn:
            yield conn
        self.runtime.recorded()

    def _stored(self, conn: Connection, stream_id: str, stream_type: str) -> list[StoredEvent]:
        if not _ID.match(stream_id):
            return []
        stored = self.runtime.store.load(stream_id, conn)
        if stored and stored[0].envelope.stream_type != stream_type:
            return []
        return stored

    @staticmethod
    def _decode(stored: StoredEvent) -> DomainEvent:
        env = stored.envelope
        return REGISTRY.decode(env.type, env.schema_version, env.payload)

    def load_project(self, conn: Connection, project_id: str) -> Project:
        return Project.replay(project_id, [self._decode(s) for s in self._stored(conn, project_id, Project.stream_type)])

    def load_volunteer(self, conn: Connection, volunteer_id: str) -> tuple[Volunteer, list[StoredEvent]]:
        stored = self._stored(conn, volunteer_id, Volunteer.stream_type)
        v = Volunteer.replay_dated(volunteer_id, [(self._decode(s), brussels_day(s.envelope.occurred_at)) for s in stored])
        return v, stored

    def _append(self, conn: Connection, aggregate: Project | Volunteer, news: list[NewEvent], *, actor: Actor,
                correlation_id: uuid.UUID | None, causation_id: uuid.UUID | None = None,
                unchanged: Sequence[tuple[str, int]] = ()) -> None:
        """Append and apply; every event gets an explicit occurred_at, so the aggregate dates what the log holds."""
        now = self.runtime.clock.now()
        news = [n if n.occurred_at else replace(n, occurred_at=now) for n in news]
        self.runtime.store.append(aggregate.id, aggregate.version, news, actor=actor, unchanged=unchanged,
                                  correlation_id=correlation_id, causation_id=causation_id, conn=conn)
        for new in news:
            assert new.occurred_at is not None
            if isinstance(aggregate, Volunteer):
                aggregate.apply(new.payload, brussels_day(new.occurred_at))
            else:
                aggregate.apply(new.payload)

    def record_volunteer(self, conn: Connection, v: Volunteer, decided: Sequence[DomainEvent], *, actor: Actor,
                         correlation_id: uuid.UUID | None, causation_id: uuid.UUID | None = None,
                         sealed_data: dict[str, Any] | None = None, occurred_on: date | None = None,
                         unchanged: Sequence[tuple[str, int]] = ()) -> None:
        """Append what the volunteer decided (the first event carries any sealed data) and update the row.

        ``unchanged``: other aggregates the decision rested on, as (id, version loaded).
        """
        if not decided:
            return
        sealed = self.vault.seal(conn, v.id, sealed_data) if sealed_data else None
        occurred_at = _midnight(occurred_on) if occurred_on else None
        news = [NewEvent(e, project_id=v.project_id, occurred_at=occurred_at,
                         subject_id=v.id if (sealed and i == 0) else None, sealed=sealed if i == 0 else None)
                for i, e in enumerate(decided)]
        self._append(conn, v, news, actor=actor, correlation_id=correlation_id, causation_id=causation_id,
                     unchanged=unchanged)
        save_volunteer(conn, v)

    def _volunteer_for(self, conn: Connection, volunteer_id: str, principal: Principal) -> tuple[Volunteer, list[StoredEvent]]:
        v, stored = self.load_volunteer(conn, volunteer_id)
        if not v.exists:
            raise NotFound("Vrijwilliger", "Volunteer", volunteer_id)
        require_project(principal, v.project_id or "")
        return v, stored

    def _volunteer_command(self, volunteer_id: str, principal: Principal, correlation_id: uuid.UUID, decide: Any, *,
                           note: str | None = None, occurred_on: date | None = None) -> Volunteer:
        with self.write() as conn:
            v, _ = self._volunteer_for(conn, volunteer_id, principal)
            self.record_volunteer(conn, v, decide(v), actor=principal.actor, correlation_id=correlation_id,
                                  sealed_data={"note": note} if note else None, occurred_on=occurred_on)
        return v

    # -- projects ----------------------------------------------------------------------

    def register_project(self, cmd: RegisterProject, principal: Principal, correlation_id: uuid.UUID) -> Project:
        require_role(principal, Role.admin)
        _municipality(cmd.municipality_nis)
        _region(cmd.region)
        with self.write() as conn:
            project = self.load_project(conn, cmd.project_id)
            if not project.exists and self.runtime.store.load(cmd.project_id, conn):  # a volunteer's id, say
                raise DomainError(f"De id {cmd.project_id} is al in gebruik / The id {cmd.project_id} is already in use",
                                  code="already_exists")
            decided = project.register(**cmd.model_dump(exclude={"project_id"}))
            self._append(conn, project, [NewEvent(e, project_id=project.id) for e in decided],
                         actor=principal.actor, correlation_id=correlation_id)
            save_project(conn, project)
        return project

    def change_project(self, project_id: str, cmd: ChangeProject, principal: Principal, correlation_id: uuid.UUID) -> Project:
        require_role(principal, Role.admin)
        changes = cmd.model_dump(exclude_unset=True)
        for field in ("name", "organisation", "municipality_nis", "region", "target_groups"):
            if field in changes and changes[field] is None:
                raise InvalidInput(f"{field} mag niet leeg zijn / {field} cannot be empty", field=field)
        if "municipality_nis" in changes:
            _municipality(changes["municipality_nis"])
        if "region" in changes:
            _region(changes["region"])
        with self.write() as conn:
            project = self.load_project(conn, project_id)
            decided = project.change(**changes)
            self._append(conn, project, [NewEvent(e, project_id=project.id) for e in decided],
                         actor=principal.actor, correlation_id=correlation_id)
            if decided:
                save_project(conn, project)
        return project

    def close_project(self, project_id: str, cmd: CloseProject, principal: Principal, correlation_id: uuid.UUID) -> Project:
        require_role(principal, Role.admin)
        with self.write() as conn:
            project = self.load_project(conn, project_id)
            decided = project.close(closed_on=cmd.closed_on, reason=cmd.reason, today=self.today())
            self._append(conn, project, [NewEvent(e, project_id=project.id, occurred_at=_midnight(cmd.closed_on))
                                         for e in decided], actor=principal.actor, correlation_id=correlation_id)
            save_project(conn, project)
        return project

    def project(self, project_id: str, principal: Principal) -> dict[str, Any]:
        """Admins and auditors see every project, coordinators their regions', professionals their own."""
        require_role(principal, Role.admin, Role.auditor, Role.coordinator, Role.professional)
        if principal.role is Role.professional:
            require_project(principal, project_id)  # 403 before 404: no probing of other projects
        row = None
        if _ID.match(project_id):
            with reader(self.runtime.engine).connect() as conn:
                row = conn.execute(select(projects).where(projects.c.project_id == project_id)).mappings().first()
        if row is None:
            raise NotFound("Project", "Project", project_id)
        if principal.role is Role.coordinator and not principal.can_read_region(row["region"]):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)
        return self._project_out(dict(row))

    @staticmethod
    def _project_out(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "status_label": label("project_status", row["status"])}

    def projects(self, principal: Principal, *, region: str | None, status: str | None, limit: int,
                 offset: int) -> dict[str, Any]:
        require_role(principal, Role.admin, Role.auditor, Role.coordinator, Role.professional)
        query = select(projects)
        if principal.role is Role.coordinator:
            query = query.where(projects.c.region.in_(sorted(principal.regions)))
        elif principal.role is Role.professional:
            query = query.where(projects.c.project_id.in_(sorted(principal.projects)))
        if region:
            query = query.where(projects.c.region == region)
        if status:
            query = query.where(projects.c.status == status)
        with reader(self.runtime.engine).connect() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(projects.c.project_id).limit(limit).offset(offset)).mappings().all()
        return _page([self._project_out(dict(r)) for r in rows], total, limit, offset)

    # -- the volunteer journey ---------------------------------------------------------

    def receive_enquiry(self, project_id: str, cmd: ReceiveEnquiry, principal: Principal,
                        correlation_id: uuid.UUID) -> Volunteer:
        require_project(principal, project_id)
        _municipality(cmd.municipality_nis)
        with self.write() as conn:
            project = self.load_project(conn, project_id)
            project.require_open()
            keys = identity_keys(self.vault, cmd.personal.first_name, cmd.personal.last_name, cmd.personal.birth_date,
                                 cmd.personal.email)
            existing = conn.execute(select(name_index.c.volunteer_id).where(
                name_index.c.project_id == project_id, name_index.c.token.in_(keys)).distinct()).scalars().all() if keys else []
            refuse_likely_duplicate(existing, confirmed_other_person=cmd.confirmed_other_person,
                                    what_nl="vrijwilliger", what_en="volunteer")
            volunteer = Volunteer(f"v-{uuid.uuid4().hex}")
            decided = volunteer.receive_enquiry(
                project_id=project_id, channel=cmd.channel, municipality_nis=cmd.municipality_nis,
                birth_date=cmd.personal.birth_date, gender=cmd.gender, today=self.today(), received_on=cmd.received_on,
            )
            self.record_volunteer(conn, volunteer, decided, actor=principal.actor, correlation_id=correlation_id,
                                  sealed_data=cmd.personal.model_dump(mode="json"), occurred_on=cmd.received_on,
                                  unchanged=[(project.id, project.version)])  # not closed meanwhile
            index_name(conn, self.vault, volunteer.id, project_id, cmd.personal.first_name, cmd.personal.last_name,
                       cmd.personal.birth_date, cmd.personal.email)
        return volunteer

    def hold_intake(self, volunteer_id: str, cmd: HoldIntake, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(
            volunteer_id, principal, correlation_id,
            lambda v: v.hold_intake(held_on=cmd.held_on, has_note=bool(cmd.note), today=self.today()),
            note=cmd.note, occurred_on=cmd.held_on)

    def screen(self, volunteer_id: str, cmd: Screen, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(
            volunteer_id, principal, correlation_id,
            lambda v: v.screen(screened_on=cmd.screened_on, outcome=cmd.outcome, refusal_reason=cmd.refusal_reason,
                               has_note=bool(cmd.note), today=self.today()),
            note=cmd.note, occurred_on=cmd.screened_on)

    def record_training(self, volunteer_id: str, cmd: RecordTraining, principal: Principal,
                        correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(
            volunteer_id, principal, correlation_id,
            lambda v: v.record_training(session_on=cmd.session_on, kind=cmd.kind, hours=cmd.hours, today=self.today()),
            occurred_on=cmd.session_on)

    def make_available(self, volunteer_id: str, cmd: MakeAvailable, principal: Principal,
                       correlation_id: uuid.UUID) -> Volunteer:
        if cmd.municipality_nis is not None:
            _municipality(cmd.municipality_nis)
        return self._volunteer_command(
            volunteer_id, principal, correlation_id,
            lambda v: v.make_available(preferences=cmd.preferences(), min_sessions=self.options.min_preparation_sessions,
                                       available_on=cmd.available_on, today=self.today()),
            occurred_on=cmd.available_on)

    def change_preferences(self, volunteer_id: str, cmd: ChangePreferences, principal: Principal,
                           correlation_id: uuid.UUID) -> Volunteer:
        if cmd.municipality_nis is not None:
            _municipality(cmd.municipality_nis)
        return self._volunteer_command(volunteer_id, principal, correlation_id,
                                       lambda v: v.change_preferences(preferences=cmd))

    def pause(self, volunteer_id: str, cmd: Pause, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(volunteer_id, principal, correlation_id,
                                       lambda v: v.pause(until=cmd.until, today=self.today()))

    def resume(self, volunteer_id: str, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(volunteer_id, principal, correlation_id, lambda v: v.resume())

    def stop(self, volunteer_id: str, cmd: StopVolunteer, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(volunteer_id, principal, correlation_id, lambda v: v.stop(reason=cmd.reason))

    def record_legal_item(self, volunteer_id: str, cmd: RecordLegalItem, principal: Principal,
                          correlation_id: uuid.UUID) -> Volunteer:
        valid_until = cmd.valid_until
        if valid_until is None and cmd.item is LegalItem.criminal_record_extract:
            valid_until = cmd.dated + timedelta(days=self.options.criminal_record_valid_days)
        return self._volunteer_command(
            volunteer_id, principal, correlation_id,
            lambda v: v.record_legal_item(item=cmd.item, dated=cmd.dated, valid_until=valid_until, today=self.today()),
            occurred_on=cmd.dated)

    def keep_warm(self, volunteer_id: str, cmd: KeepWarm, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        return self._volunteer_command(
            volunteer_id, principal, correlation_id,
            lambda v: v.keep_warm(contacted_on=cmd.contacted_on, kind=cmd.kind, has_note=bool(cmd.note),
                                  today=self.today()),
            note=cmd.note, occurred_on=cmd.contacted_on)

    def change_personal_data(self, volunteer_id: str, cmd: PersonalData, principal: Principal,
                             correlation_id: uuid.UUID) -> Volunteer:
        if cmd.birth_date is not None and cmd.birth_date > self.today():
            raise InvalidInput("De geboortedatum ligt in de toekomst / The birth date lies in the future",
                               field="birth_date")
        with self.write() as conn:
            v, _ = self._volunteer_for(conn, volunteer_id, principal)
            self.record_volunteer(conn, v, v.change_personal_data(), actor=principal.actor,
                                  correlation_id=correlation_id, sealed_data=cmd.model_dump(mode="json"))
            index_name(conn, self.vault, v.id, v.project_id or "", cmd.first_name, cmd.last_name, cmd.birth_date,
                       cmd.email)
        return v

    def erase(self, volunteer_id: str, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        """Crypto-shred: the event and the key deletion commit together; the blind index goes too."""
        with self.write() as conn:
            v, _ = self._volunteer_for(conn, volunteer_id, principal)
            self.record_volunteer(conn, v, v.erase_personal_data(), actor=principal.actor, correlation_id=correlation_id)
            self.vault.erase(conn, v.id)
        return v

    # -- facts learned from matching -----------------------------------------------------

    def learn_duo(self, conn: Connection, env: Envelope, *, volunteer_id: str, project_id: str, duo_id: str,
                  started: bool, on: date) -> bool:
        """Record that a duo of this volunteer started or ended, inside the consumer's transaction."""
        conn.execute(select(store_head.c.position).where(store_head.c.id == 1).with_for_update())
        v, _ = self.load_volunteer(conn, volunteer_id)
        if not v.exists or v.project_id != project_id:
            return False
        decided = (v.join_duo(duo_id=duo_id, joined_on=on) if started else v.leave_duo(duo_id=duo_id, left_on=on))
        self.record_volunteer(conn, v, decided, actor=MATCHING_ACTOR, correlation_id=env.correlation_id,
                              causation_id=env.event_id, occurred_on=on)
        return bool(decided)

    # -- queries -------------------------------------------------------------------------

    def _personal(self, conn: Connection, volunteer_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """The latest personal data of each volunteer, opened from the vault (None once erased)."""
        if not volunteer_ids:
            return {}
        rows = conn.execute(
            select(event_log.c.stream_id, event_log.c.version, event_log.c.sealed)
            .where(event_log.c.stream_id.in_(list(volunteer_ids)), event_log.c.type.in_(PERSONAL_DATA_EVENTS),
                   event_log.c.sealed.is_not(None))
        ).all()
        latest: dict[str, tuple[int, bytes]] = {}
        for stream_id, version, sealed in rows:
            if stream_id not in latest or version > latest[stream_id][0]:
                latest[stream_id] = (version, sealed)
        return {vid: self.vault.open(vid, latest[vid][1], conn) if vid in latest else None for vid in volunteer_ids}

    @staticmethod
    def _name(personal: dict[str, Any] | None) -> str | None:
        return f"{personal['first_name']} {personal['last_name']}" if personal else None

    def _known_project(self, conn: Connection, project_id: str, principal: Principal) -> dict[str, Any]:
        require_project(principal, project_id)
        row = None
        if _ID.match(project_id):
            row = conn.execute(select(projects).where(projects.c.project_id == project_id)).mappings().first()
        if row is None:
            raise NotFound("Project", "Project", project_id)
        return dict(row)

    def view(self, volunteer_id: str, principal: Principal) -> dict[str, Any]:
        today = self.today()
        with reader(self.runtime.engine).connect() as conn:
            v, stored = self._volunteer_for(conn, volunteer_id, principal)
            sealed = [s for s in stored if s.envelope.type in PERSONAL_DATA_EVENTS and s.sealed is not None]
            personal = None if v.erased or not sealed else self.vault.open(v.id, sealed[-1].sealed, conn)
        findings = legal_findings(v.legal, works_with_minors=v.works_with_minors, today=today,
                                  horizon_days=self.options.legal_horizon_days) if v.status in APPROVED else []
        return {
            "volunteer_id": v.id, "project_id": v.project_id, "status": v.status,
            "status_label": label("volunteer_status", v.status), "version": v.version,
            "stage_since": _iso(v.stage_since), "days_in_stage": (today - v.stage_since).days if v.stage_since else None,
            "enquired_on": _iso(v.enquired_on), "channel": v.channel, "municipality_nis": v.municipality_nis,
            "age_band": v.age_band, "gender": v.gender,
            "screening": v.screening, "refusal_reason": v.refusal_reason, "stop_reason": v.stop_reason,
            "training": {"sessions": v.sessions, "hours": v.training_hours},
            "preferences": v.preferences.model_dump(mode="json") if v.preferences else None,
            "active_duos": sorted(v.duos), "paused_until": _iso(v.paused_until),
            "waiting_since": _iso(v.waiting_since), "last_kept_warm": _iso(v.last_kept_warm),
            "keep_warm_due": keep_warm_due(v.warm_since, today, self.options.keep_warm_days),
            "legal": self._legal_out(v.legal, v.works_with_minors, today),
            "legal_attention": [self._finding_out(f) for f in findings],
            "personal_data_erased": v.erased, **_erased_label(v.erased), "personal": personal,
        }

    def _legal_out(self, legal: dict[LegalItem, LegalRecord], works_with_minors: bool, today: date) -> list[dict[str, Any]]:
        """Every item that is required or recorded, with its state."""
        required = required_legal_items(works_with_minors)
        out = []
        for item in LegalItem:
            record = legal.get(item)
            if record is None and item not in required:
                continue
            state = legal_state(record, today=today, horizon_days=self.options.legal_horizon_days)
            out.append({"item": item, "label": label("legal_item", item), "required": item in required,
                        "dated": _iso(record.dated if record else None),
                        "valid_until": _iso(record.valid_until if record else None),
                        "state": state, "state_label": label("legal_state", state)})
        return out

    @staticmethod
    def _finding_out(f: dict[str, Any]) -> dict[str, Any]:
        return {"item": f["item"], "label": label("legal_item", f["item"]), "state": f["state"],
                "state_label": label("legal_state", f["state"]), "dated": _iso(f["dated"]),
                "valid_until": _iso(f["valid_until"])}

    def history(self, volunteer_id: str, principal: Principal, *, limit: int, offset: int) -> dict[str, Any]:
        with reader(self.runtime.engine).connect() as conn:
            v, stored = self._volunteer_for(conn, volunteer_id, principal)
            page = stored[offset:offset + limit]
            items = []
            for s in page:
                env = s.envelope
                item: dict[str, Any] = {
                    "position": env.position, "version": env.version, "type": env.type,
                    "occurred_at": env.occurred_at.isoformat(), "recorded_at": env.recorded_at.isoformat(),
                    "actor": env.actor.model_dump(mode="json"), "payload": env.payload,
                }
                if env.type in NOTE_EVENTS and s.sealed is not None:
                    opened = None if v.erased else self.vault.open(v.id, s.sealed, conn)
                    item["note"] = opened.get("note") if opened else None
                if env.type in PERSONAL_DATA_EVENTS:
                    item["personal_data_sealed"] = s.sealed is not None
                items.append(item)
        return _page(items, len(stored), limit, offset)

    def list_volunteers(self, project_id: str, principal: Principal, *, status: list[VolunteerStatus] | None,
                        channel: RecruitmentChannel | None, name: str | None, limit: int, offset: int) -> dict[str, Any]:
        with reader(self.runtime.engine).connect() as conn:
            self._known_project(conn, project_id, principal)
            query = select(volunteers).where(volunteers.c.project_id == project_id)
            if status:
                query = query.where(volunteers.c.status.in_([str(s) for s in status]))
            if channel:
                query = query.where(volunteers.c.channel == str(channel))
            if name is not None:
                tokens = self.vault.name_tokens(name)
                if not tokens:
                    raise InvalidInput("Geef minstens één naamdeel / Give at least one part of a name", field="name")
                matching = (select(name_index.c.volunteer_id)
                            .where(name_index.c.project_id == project_id, name_index.c.token.in_(tokens))
                            .group_by(name_index.c.volunteer_id)
                            .having(func.count(func.distinct(name_index.c.token)) == len(tokens)))
                query = query.where(volunteers.c.volunteer_id.in_(matching))
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(volunteers.c.enquired_on, volunteers.c.volunteer_id)
                                .limit(limit).offset(offset)).mappings().all()
            personal = self._personal(conn, [r["volunteer_id"] for r in rows])
        today = self.today()
        items = [{
            "volunteer_id": r["volunteer_id"], "name": self._name(personal.get(r["volunteer_id"])),
            "status": r["status"], "status_label": label("volunteer_status", r["status"]),
            "stage_since": r["stage_since"], "days_in_stage": self._days(r["stage_since"], today),
            "channel": r["channel"], "municipality_nis": r["municipality_nis"], "age_band": r["age_band"],
            "active_duos": r["active_duos"], "personal_data_erased": r["erased"], **_erased_label(r["erased"]),
        } for r in rows]
        return _page(items, total, limit, offset)

    @staticmethod
    def _days(since: str | None, today: date) -> int | None:
        return (today - date.fromisoformat(since)).days if since else None

    def _alert_query(self, project_id: str, today: date) -> Any:
        cutoff = (today - timedelta(days=self.options.keep_warm_days)).isoformat()
        return (select(volunteers)
                .where(volunteers.c.project_id == project_id, volunteers.c.status == str(VolunteerStatus.available),
                       volunteers.c.warm_since < cutoff, volunteers.c.erased.is_(False))
                .order_by(volunteers.c.warm_since, volunteers.c.volunteer_id))

    def _alert_out(self, r: Any, personal: dict[str, Any], today: date) -> dict[str, Any]:
        return {"volunteer_id": r["volunteer_id"], "name": self._name(personal.get(r["volunteer_id"])),
                "waiting_since": r["waiting_since"], "days_waiting": self._days(r["waiting_since"], today),
                "last_kept_warm": r["last_kept_warm"], "days_without_contact": self._days(r["warm_since"], today)}

    def keep_warm_alerts(self, project_id: str, principal: Principal, *, limit: int, offset: int) -> dict[str, Any]:
        today = self.today()
        with reader(self.runtime.engine).connect() as conn:
            self._known_project(conn, project_id, principal)
            query = self._alert_query(project_id, today)
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
            personal = self._personal(conn, [r["volunteer_id"] for r in rows])
        page = _page([self._alert_out(r, personal, today) for r in rows], total, limit, offset)
        return {**page, "today": today.isoformat(), "keep_warm_days": self.options.keep_warm_days}

    def waiting_board(self, project_id: str, principal: Principal, *, per_stage: int, top: int) -> dict[str, Any]:
        """Per stage how many and since when; who waits longest without a match; keep-warm alerts."""
        today = self.today()
        with reader(self.runtime.engine).connect() as conn:
            self._known_project(conn, project_id, principal)
            rows = conn.execute(select(volunteers).where(  # erased people leave the work: not shown as waiting
                volunteers.c.project_id == project_id, volunteers.c.erased.is_(False),
                volunteers.c.status.in_([str(s) for s in BOARD_STAGES]))).mappings().all()
            alert_query = self._alert_query(project_id, today)
            alert_total = conn.execute(select(func.count()).select_from(alert_query.subquery())).scalar_one()
            alerts = conn.execute(alert_query.limit(per_stage)).mappings().all()
            by_stage: dict[str, list[Any]] = {str(s): [] for s in BOARD_STAGES}
            for r in rows:
                by_stage[r["status"]].append(r)
            for stage_rows in by_stage.values():
                stage_rows.sort(key=lambda r: (r["stage_since"] or "9999", r["volunteer_id"]))
            waiting = sorted((r for r in by_stage[str(VolunteerStatus.available)] if r["waiting_since"]),
                             key=lambda r: (r["waiting_since"], r["volunteer_id"]))[:top]
            shown = {r["volunteer_id"] for rs in by_stage.values() for r in rs[:per_stage]}
            shown |= {r["volunteer_id"] for r in waiting} | {r["volunteer_id"] for r in alerts}
            personal = self._personal(conn, sorted(shown))
        stages = []
        for stage in BOARD_STAGES:
            stage_rows = by_stage[str(stage)]
            days = [self._days(r["stage_since"], today) or 0 for r in stage_rows]
            stages.append({
                "stage": stage, "label": label("volunteer_status", stage), "count": len(stage_rows),
                "longest_days": max(days, default=None),
                "people": [{"volunteer_id": r["volunteer_id"], "name": self._name(personal.get(r["volunteer_id"])),
                            "since": r["stage_since"], "days": self._days(r["stage_since"], today)}
                           for r in stage_rows[:per_stage]],
            })
        return {
            "project_id": project_id, "today": today.isoformat(), "keep_warm_days": self.options.keep_warm_days,
            "stages": stages,
            "longest_waiting": [{"volunteer_id": r["volunteer_id"], "name": self._name(personal.get(r["volunteer_id"])),
                                 "waiting_since": r["waiting_since"], "days_waiting": self._days(r["waiting_since"], today),
                                 "last_kept_warm": r["last_kept_warm"]} for r in waiting],
            "alerts": {"count": alert_total, "items": [self._alert_out(r, personal, today) for r in alerts]},
        }

    def legal_attention(self, project_id: str, principal: Principal, *, item: LegalItem | None,
                        state: LegalState | None, limit: int, offset: int) -> dict[str, Any]:
        """Approved volunteers with a required legal item missing, expired or expiring within the horizon."""
        today = self.today()
        with reader(self.runtime.engine).connect() as conn:
            self._known_project(conn, project_id, principal)
            rows = conn.execute(select(volunteers).where(
                volunteers.c.project_id == project_id, volunteers.c.status.in_([str(s) for s in APPROVED]))
                .order_by(volunteers.c.enquired_on, volunteers.c.volunteer_id)).mappings().all()
            flagged = []
            for r in rows:
                legal = {LegalItem(k): LegalRecord(date.fromisoformat(v["dated"]),
                                                   date.fromisoformat(v["valid_until"]) if v["valid_until"] else None)
                         for k, v in r["legal"].items()}
                findings = [f for f in legal_findings(legal, works_with_minors=r["works_with_minors"], today=today,
                                                      horizon_days=self.options.legal_horizon_days)
                            if (item is None or f["item"] is item) and (state is None or f["state"] is state)]
                if findings:
                    flagged.append((r, findings))
            page = flagged[offset:offset + limit]
            personal = self._personal(conn, [r["volunteer_id"] for r, _ in page])
        items = [{"volunteer_id": r["volunteer_id"], "name": self._name(personal.get(r["volunteer_id"])),
                  **_erased_label(r["erased"]), "status": r["status"], "works_with_minors": r["works_with_minors"],
                  "findings": [self._finding_out(f) for f in findings]} for r, findings in page]
        return {**_page(items, len(flagged), limit, offset), "today": today.isoformat(),
                "horizon_days": self.options.legal_horizon_days}


ERASED = {"nl": "gewist", "en": "erased"}


def _erased_label(erased: bool) -> dict[str, Any]:
    """Where a list would show the person's name, an erased person reads "gewist / erased"."""
    return {"name_label": ERASED} if erased else {}
