"""Events of the recruitment service: the project register and the volunteer journey."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.contracts.common import AgeBand, Id, MatchingPreferences, NisCode, TargetGroup
from shared.events.registry import DomainEvent, event, upcaster

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
class VolunteerMadeAvailableV1(DomainEvent):
    """The first version carried three preferences flat; kept to read old history."""

    volunteer_id: Id
    project_id: Id
    target_groups: list[TargetGroup] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["nl"])
    max_duos: int = Field(1, ge=1, le=5)


@event("VolunteerMadeAvailable", version=2, service=SERVICE, stream_type="volunteer")
class VolunteerMadeAvailable(DomainEvent):
    volunteer_id: Id
    project_id: Id
    preferences: MatchingPreferences


@upcaster("VolunteerMadeAvailable", from_version=1)
def _made_available_v1_to_v2(payload: dict) -> dict:
    return {
        "volunteer_id": payload["volunteer_id"],
        "project_id": payload["project_id"],
        "preferences": {
            "target_groups": payload["target_groups"],
            "languages": payload.get("languages") or ["nl"],
            "max_duos": payload.get("max_duos", 1),
        },
    }


@event("VolunteerPreferencesChanged", service=SERVICE, stream_type="volunteer")
class VolunteerPreferencesChanged(DomainEvent):
    volunteer_id: Id
    project_id: Id
    preferences: MatchingPreferences


@event("VolunteerPaused", service=SERVICE, stream_type="volunteer")
class VolunteerPaused(DomainEvent):
    """Not available for new duos for a while; running duos are not affected."""

    volunteer_id: Id
    project_id: Id
    until: date | None = None


@event("VolunteerResumed", service=SERVICE, stream_type="volunteer")
class VolunteerResumed(DomainEvent):
    volunteer_id: Id
    project_id: Id


@event("VolunteerJoinedDuo", service=SERVICE, stream_type="volunteer")
class VolunteerJoinedDuo(DomainEvent):
    """Recorded when matching reports a started duo with this volunteer."""

    volunteer_id: Id
    project_id: Id
    duo_id: Id


@event("VolunteerLeftDuo", service=SERVICE, stream_type="volunteer")
class VolunteerLeftDuo(DomainEvent):
    """Recorded when matching reports the end of a duo with this volunteer."""

    volunteer_id: Id
    project_id: Id
    duo_id: Id


@event("VolunteerStopped", service=SERVICE, stream_type="volunteer")
class VolunteerStopped(DomainEvent):
    volunteer_id: Id
    project_id: Id
    reason: StopReason


@event("VolunteerPersonalDataErased", service=SERVICE, stream_type="volunteer")
class VolunteerPersonalDataErased(DomainEvent):
    volunteer_id: Id
    project_id: Id
