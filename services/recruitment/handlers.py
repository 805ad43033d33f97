"""Command handlers: load the aggregate, let it decide, record events and sealed data."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, EmailStr, Field

from shared.auth import Principal, require_project, require_role
from shared.contracts.common import Id, MatchingPreferences, NisCode, TargetGroup
from shared.contracts.recruitment import Gender, RecruitmentChannel, StopReason
from shared.domain import InvalidInput, NotFound, Repository
from shared.events.envelope import Role
from shared.eventstore import NewEvent
from shared.municipalities import lookup
from shared.service import ServiceRuntime
from services.recruitment.domain import Project, Volunteer


class RegisterProject(BaseModel):
    project_id: Id
    name: str = Field(min_length=1, max_length=200)
    organisation: str = Field(min_length=1, max_length=200)
    municipality_nis: NisCode
    region: str = Field(min_length=1, max_length=100)
    target_groups: list[TargetGroup] = Field(min_length=1)
    funded_from: date | None = None
    funded_until: date | None = None


class PersonalData(BaseModel):
    """Kept only encrypted in this service; never on the bus, in logs or in reports."""

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=40)
    birth_date: date | None = None
    address: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=5000)


class ReceiveEnquiry(BaseModel):
    channel: RecruitmentChannel
    municipality_nis: NisCode
    gender: Gender | None = None
    personal: PersonalData


MakeAvailable = MatchingPreferences


class StopVolunteer(BaseModel):
    reason: StopReason


def _municipality(nis: str) -> None:
    if lookup(nis) is None:
        raise InvalidInput(f"Onbekende NIS-code {nis} / Unknown municipality code {nis}", field="municipality_nis")


class RecruitmentHandlers:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.projects = Repository(runtime.store, Project)
        self.volunteers = Repository(runtime.store, Volunteer)

    def register_project(self, cmd: RegisterProject, principal: Principal, correlation_id: uuid.UUID) -> Project:
        require_role(principal, Role.admin)
        _municipality(cmd.municipality_nis)
        project = self.projects.get(cmd.project_id)
        events = project.register(**cmd.model_dump(exclude={"project_id"}))
        self.projects.save(project, [NewEvent(e, project_id=project.id) for e in events],
                           actor=principal.actor, correlation_id=correlation_id)
        self.runtime.recorded()
        return project

    def project(self, project_id: str) -> Project:
        project = self.projects.get(project_id)
        if not project.exists:
            raise NotFound("Project", "Project", project_id)
        return project

    def receive_enquiry(self, project_id: str, cmd: ReceiveEnquiry, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        require_project(principal, project_id)
        self.project(project_id)
        _municipality(cmd.municipality_nis)
        volunteer = Volunteer(f"v-{uuid.uuid4().hex}")
        events = volunteer.receive_enquiry(
            project_id=project_id, channel=cmd.channel, municipality_nis=cmd.municipality_nis,
            birth_date=cmd.personal.birth_date, gender=cmd.gender, today=self.runtime.clock.today(),
        )
        with self.runtime.store.transaction() as conn:
            sealed = self.runtime.vault.seal(conn, volunteer.id, cmd.personal.model_dump(mode="json"))
            self.volunteers.save(
                volunteer, [NewEvent(events[0], project_id=project_id, subject_id=volunteer.id, sealed=sealed)],
                actor=principal.actor, correlation_id=correlation_id, conn=conn,
            )
        self.runtime.recorded()
        return volunteer

    def _volunteer_for(self, volunteer_id: str, principal: Principal) -> Volunteer:
        volunteer = self.volunteers.get(volunteer_id)
        if not volunteer.exists:
            raise NotFound("Vrijwilliger", "Volunteer", volunteer_id)
        require_project(principal, volunteer.project_id or "")
        return volunteer

    def make_available(self, volunteer_id: str, cmd: MakeAvailable, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        volunteer = self._volunteer_for(volunteer_id, principal)
        if cmd.municipality_nis is not None:
            _municipality(cmd.municipality_nis)
        events = volunteer.make_available(preferences=cmd)
        self._save(volunteer, events, principal, correlation_id)
        return volunteer

    def stop(self, volunteer_id: str, cmd: StopVolunteer, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        volunteer = self._volunteer_for(volunteer_id, principal)
        self._save(volunteer, volunteer.stop(reason=cmd.reason), principal, correlation_id)
        return volunteer

    def erase(self, volunteer_id: str, principal: Principal, correlation_id: uuid.UUID) -> Volunteer:
        volunteer = self._volunteer_for(volunteer_id, principal)
        events = volunteer.erase_personal_data()
        with self.runtime.store.transaction() as conn:
            self.volunteers.save(volunteer, [NewEvent(e, project_id=volunteer.project_id) for e in events],
                                 actor=principal.actor, correlation_id=correlation_id, conn=conn)
            self.runtime.vault.erase(conn, volunteer.id)
        self.runtime.recorded()
        return volunteer

    def view(self, volunteer_id: str, principal: Principal) -> dict[str, object]:
        volunteer = self._volunteer_for(volunteer_id, principal)
        first = self.runtime.store.load(volunteer_id)[0]
        personal = None if volunteer.erased else self.runtime.vault.open(volunteer_id, first.sealed)
        return {"volunteer_id": volunteer.id, "project_id": volunteer.project_id, "status": volunteer.status,
                "version": volunteer.version, "personal_data_erased": volunteer.erased, "personal": personal}

    def _save(self, volunteer: Volunteer, events: list, principal: Principal, correlation_id: uuid.UUID) -> None:
        self.volunteers.save(volunteer, [NewEvent(e, project_id=volunteer.project_id) for e in events],
                             actor=principal.actor, correlation_id=correlation_id)
        self.runtime.recorded()
