"""Events of the recruitment service: the project register and the volunteer journey."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.contracts.common import AgeBand, Id, NisCode, TargetGroup
from shared.events.registry import DomainEvent, event

SERVICE = "recruitment"


class RecruitmentChannel(StrEnum):
    word_of_mouth = "word_of_mouth"
    website = "website"
    volunteer_platform = "volunteer_platform"
    other_volunteer_work = "other_volunteer_work"
    social_media = "social_media"
    event = "event"
    referral = "referral"
    other = "other"


class Gender(StrEnum):
    female = "female"
    male = "male"
    x = "x"


class StopReason(StrEnum):
    """Why a volunteer stops; a vocabulary, so that no free text reaches the bus."""

    not_approved = "not_approved"
    no_time = "no_time"
    health = "health"
    moved = "moved"
    waited_too_long = "waited_too_long"
    other_volunteer_work = "other_volunteer_work"
    personal_circumstances = "personal_circumstances"
    other = "other"


@event("ProjectRegistered", service=SERVICE, stream_type="project")
class ProjectRegistered(DomainEvent):
    project_id: Id
    name: str = Field(min_length=1, max_length=200)
    organisation: str = Field(min_length=1, max_length=200)
    municipality_nis: NisCode
    region: str = Field(min_length=1, max_length=100, description="Learning network (lerend netwerk).")
    target_groups: list[TargetGroup] = Field(min_length=1)
    funded_from: date | None = None
    funded_until: date | None = None


@event("VolunteerEnquiryReceived", service=SERVICE, stream_type="volunteer")
class VolunteerEnquiryReceived(DomainEvent):
    """A person asked to become a buddy. Personal data is sealed beside this event."""

    volunteer_id: Id
    project_id: Id
    channel: RecruitmentChannel
    age_band: AgeBand | None = None
    municipality_nis: NisCode
    gender: Gender | None = None


@event("VolunteerMadeAvailable", service=SERVICE, stream_type="volunteer")
class VolunteerMadeAvailable(DomainEvent):
    volunteer_id: Id
    project_id: Id
    target_groups: list[TargetGroup] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["nl"])
    max_duos: int = Field(1, ge=1, le=5)


@event("VolunteerStopped", service=SERVICE, stream_type="volunteer")
class VolunteerStopped(DomainEvent):
    volunteer_id: Id
    project_id: Id
    reason: StopReason


@event("VolunteerPersonalDataErased", service=SERVICE, stream_type="volunteer")
class VolunteerPersonalDataErased(DomainEvent):
    volunteer_id: Id
    project_id: Id
