"""Command handlers of matching: referral, starting and ending duos."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update

from shared.auth import Principal, require_project
from shared.contracts.common import Id, NisCode, TargetGroup
from shared.contracts.matching import EndReason, LifeDomain, ReferrerType
from shared.domain import DomainError, InvalidInput, NotFound, Repository
from shared.eventstore import NewEvent
from shared.eventstore.db import reader
from shared.eventstore.store import format_time
from shared.municipalities import lookup
from shared.service import ServiceRuntime
from services.matching.domain import Duo, Participant
from services.matching.read_models import candidates, participants, projects


class ParticipantPersonalData(BaseModel):
    """Kept only encrypted in this service."""

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=40)
    birth_date: date | None = None
    address: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=5000)


class ReferParticipant(BaseModel):
    target_group: TargetGroup
    referrer_type: ReferrerType
    life_domains: list[LifeDomain] = Field(min_length=1)
    municipality_nis: NisCode
    languages: list[str] = Field(default_factory=lambda: ["nl"], min_length=1)
    consent_recorded: bool = Field(description="The participant agreed to be matched and to have data kept.")
    personal: ParticipantPersonalData


class StartDuo(BaseModel):
    volunteer_id: Id
    participant_id: Id
    started_on: date
    agreed_contacts_per_month: int = Field(2, ge=1, le=31)


class EndDuo(BaseModel):
    ended_on: date
    reason: EndReason
    planned: bool


class MatchingHandlers:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.participants = Repository(runtime.store, Participant)
        self.duos = Repository(runtime.store, Duo)

    def _known_project(self, conn: Connection, project_id: str) -> None:
        if conn.execute(select(projects.c.project_id).where(projects.c.project_id == project_id)).first() is None:
            raise NotFound("Project", "Project", project_id)

    def refer(self, project_id: str, cmd: ReferParticipant, principal: Principal, correlation_id: uuid.UUID) -> Participant:
        require_project(principal, project_id)
        if lookup(cmd.municipality_nis) is None:
            raise InvalidInput(f"Onbekende NIS-code {cmd.municipality_nis} / Unknown municipality code {cmd.municipality_nis}",
                               field="municipality_nis")
        participant = Participant(f"pt-{uuid.uuid4().hex}")
        events = participant.refer(
            project_id=project_id, target_group=cmd.target_group, referrer_type=cmd.referrer_type,
            life_domains=cmd.life_domains, municipality_nis=cmd.municipality_nis, languages=cmd.languages,
            consent_recorded=cmd.consent_recorded, birth_date=cmd.personal.birth_date, today=self.runtime.clock.today(),
        )
        with self.runtime.store.transaction() as conn:
            self._known_project(conn, project_id)
            sealed = self.runtime.vault.seal(conn, participant.id, cmd.personal.model_dump(mode="json"))
            self.participants.save(participant, [NewEvent(events[0], project_id=project_id, subject_id=participant.id,
                                                          sealed=sealed)],
                                   actor=principal.actor, correlation_id=correlation_id, conn=conn)
            conn.execute(insert(participants).values(
                participant_id=participant.id, project_id=project_id, status="waiting",
                target_group=str(cmd.target_group), consent=cmd.consent_recorded, referred_at=format_time(self.runtime.clock.now())))
        self.runtime.recorded()
        return participant

    def start_duo(self, project_id: str, cmd: StartDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        require_project(principal, project_id)
        if cmd.started_on > self.runtime.clock.today():
            raise InvalidInput("Een duo kan niet in de toekomst starten / A duo cannot start in the future", field="started_on")
        duo = Duo(f"d-{uuid.uuid4().hex}")
        with self.runtime.store.transaction() as conn:
            self._known_project(conn, project_id)
            volunteer = conn.execute(select(candidates).where(candidates.c.volunteer_id == cmd.volunteer_id)
                                     .with_for_update()).mappings().first()
            participant = conn.execute(select(participants).where(participants.c.participant_id == cmd.participant_id)
                                       .with_for_update()).mappings().first()
            self._check_pair(project_id, cmd, volunteer, participant)
            events = duo.start(project_id=project_id, volunteer_id=cmd.volunteer_id, participant_id=cmd.participant_id,
                               started_on=cmd.started_on, agreed_contacts_per_month=cmd.agreed_contacts_per_month)
            self.duos.save(duo, [NewEvent(e, project_id=project_id) for e in events], actor=principal.actor,
                           correlation_id=correlation_id, conn=conn)
            conn.execute(update(candidates).where(candidates.c.volunteer_id == cmd.volunteer_id)
                         .values(active_duos=candidates.c.active_duos + 1))
            conn.execute(update(participants).where(participants.c.participant_id == cmd.participant_id)
                         .values(status="in_duo"))
        self.runtime.recorded()
        return duo

    @staticmethod
    def _check_pair(project_id: str, cmd: StartDuo, volunteer: dict | None, participant: dict | None) -> None:
        """The hard constraints of a duo; each refusal says which one failed."""
        if volunteer is None or volunteer["project_id"] != project_id:
            raise NotFound("Vrijwilliger", "Volunteer", cmd.volunteer_id)
        if participant is None or participant["project_id"] != project_id:
            raise NotFound("Deelnemer", "Participant", cmd.participant_id)
        if volunteer["status"] != "available":
            raise DomainError("Deze vrijwilliger is niet beschikbaar voor matching / This volunteer is not available for matching")
        if volunteer["active_duos"] >= volunteer["max_duos"]:
            raise DomainError("Deze vrijwilliger heeft geen plaats voor nog een duo / This volunteer has no room for another duo")
        if participant["status"] != "waiting":
            raise DomainError("Deze deelnemer wacht niet op een match / This participant is not waiting for a match")
        if not participant["consent"]:
            raise DomainError("Er is geen toestemming van de deelnemer geregistreerd / No consent of the participant is recorded")
        if participant["target_group"] not in volunteer["target_groups"]:
            raise DomainError("De vrijwilliger wil niet met deze doelgroep werken / "
                              "The volunteer does not want to work with this target group")

    def end_duo(self, duo_id: str, cmd: EndDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        with self.runtime.store.transaction() as conn:
            duo = self.duos.get(duo_id, conn)
            if not duo.exists:
                raise NotFound("Duo", "Duo", duo_id)
            require_project(principal, duo.project_id or "")
            events = duo.end(ended_on=cmd.ended_on, reason=cmd.reason, planned=cmd.planned)
            self.duos.save(duo, [NewEvent(e, project_id=duo.project_id) for e in events], actor=principal.actor,
                           correlation_id=correlation_id, conn=conn)
            conn.execute(update(candidates).where(candidates.c.volunteer_id == duo.volunteer_id)
                         .values(active_duos=candidates.c.active_duos - 1))
            back = "waiting" if cmd.reason is EndReason.mismatch else "ended"
            conn.execute(update(participants).where(participants.c.participant_id == duo.participant_id)
                         .values(status=back))
        self.runtime.recorded()
        return duo

    def candidates(self, project_id: str, principal: Principal) -> list[dict]:
        require_project(principal, project_id)
        with reader(self.runtime.engine).connect() as conn:
            self._known_project(conn, project_id)
            rows = conn.execute(select(candidates.c.volunteer_id, candidates.c.status, candidates.c.target_groups,
                                       candidates.c.languages, candidates.c.max_duos, candidates.c.active_duos,
                                       candidates.c.available_since)
                                .where(candidates.c.project_id == project_id, candidates.c.status == "available")
                                .order_by(candidates.c.available_since)).mappings().all()
        return [dict(r) for r in rows]
