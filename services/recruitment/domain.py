"""Recruitment domain: projects and the volunteer journey, deciding events without I/O.

Volunteer journey (this slice; intake, screening and coaching steps come next):

    enquired ──make_available──▶ available
        │                           │
        └──────────stop─────────────┴──▶ stopped

Erasure of personal data is allowed in every state and does not change the state.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from shared.contracts.common import MatchingPreferences, TargetGroup, age_band
from shared.contracts.recruitment import (
    Gender,
    ProjectRegistered,
    RecruitmentChannel,
    StopReason,
    VolunteerEnquiryReceived,
    VolunteerMadeAvailable,
    VolunteerPersonalDataErased,
    VolunteerStopped,
)
from shared.domain import Aggregate, DomainError, InvalidInput, NotFound


class Project(Aggregate):
    stream_type = "project"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.region: str | None = None
        self.target_groups: list[TargetGroup] = []

    def register(self, *, name: str, organisation: str, municipality_nis: str, region: str,
                 target_groups: list[TargetGroup], funded_from: date | None, funded_until: date | None) -> list[ProjectRegistered]:
        if self.exists:
            raise DomainError(f"Project {self.id} bestaat al / Project {self.id} already exists", code="already_exists")
        if funded_from and funded_until and funded_until < funded_from:
            raise InvalidInput("De financiering eindigt vóór ze begint / The funding period ends before it starts",
                               field="funded_until")
        return [ProjectRegistered(project_id=self.id, name=name, organisation=organisation,
                                  municipality_nis=municipality_nis, region=region, target_groups=target_groups,
                                  funded_from=funded_from, funded_until=funded_until)]

    def when_ProjectRegistered(self, e: ProjectRegistered) -> None:
        self.region, self.target_groups = e.region, list(e.target_groups)


class VolunteerStatus(StrEnum):
    new = "new"
    enquired = "enquired"
    available = "available"
    stopped = "stopped"


class Volunteer(Aggregate):
    stream_type = "volunteer"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = VolunteerStatus.new
        self.project_id: str | None = None
        self.erased = False

    def receive_enquiry(self, *, project_id: str, channel: RecruitmentChannel, municipality_nis: str,
                        birth_date: date | None, gender: Gender | None, today: date) -> list[VolunteerEnquiryReceived]:
        if self.exists:
            raise DomainError(f"Vrijwilliger {self.id} bestaat al / Volunteer {self.id} already exists", code="already_exists")
        if birth_date is not None and birth_date > today:
            raise InvalidInput("De geboortedatum ligt in de toekomst / The birth date lies in the future",
                               field="personal.birth_date")
        return [VolunteerEnquiryReceived(
            volunteer_id=self.id, project_id=project_id, channel=channel, municipality_nis=municipality_nis,
            age_band=age_band(birth_date, today) if birth_date else None, gender=gender,
        )]

    def make_available(self, *, preferences: MatchingPreferences) -> list[VolunteerMadeAvailable]:
        self._require_exists()
        if self.status is VolunteerStatus.available:
            raise DomainError("Deze vrijwilliger is al beschikbaar / This volunteer is already available")
        if self.status is VolunteerStatus.stopped:
            raise DomainError("Deze vrijwilliger is gestopt en kan niet meer beschikbaar worden / "
                              "This volunteer has stopped and cannot become available again")
        return [VolunteerMadeAvailable(volunteer_id=self.id, project_id=self.project_id, preferences=preferences)]

    def stop(self, *, reason: StopReason) -> list[VolunteerStopped]:
        self._require_exists()
        if self.status is VolunteerStatus.stopped:
            raise DomainError("Deze vrijwilliger is al gestopt / This volunteer has already stopped")
        return [VolunteerStopped(volunteer_id=self.id, project_id=self.project_id, reason=reason)]

    def erase_personal_data(self) -> list[VolunteerPersonalDataErased]:
        self._require_exists()
        if self.erased:
            raise DomainError("De persoonsgegevens zijn al gewist / The personal data is already erased")
        return [VolunteerPersonalDataErased(volunteer_id=self.id, project_id=self.project_id)]

    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound("Vrijwilliger", "Volunteer", self.id)

    def when_VolunteerEnquiryReceived(self, e: VolunteerEnquiryReceived) -> None:
        self.status, self.project_id = VolunteerStatus.enquired, e.project_id

    def when_VolunteerMadeAvailable(self, _: VolunteerMadeAvailable) -> None:
        self.status = VolunteerStatus.available

    def when_VolunteerStopped(self, _: VolunteerStopped) -> None:
        self.status = VolunteerStatus.stopped

    def when_VolunteerPersonalDataErased(self, _: VolunteerPersonalDataErased) -> None:
        self.erased = True
