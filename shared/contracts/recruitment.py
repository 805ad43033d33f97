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
    region: str = Field(min_length=1, max_length=100, description=(
        "Learning network (lerend netwerk): a code of the fixed list of regions (shared/data/regions.csv); "
        "events recorded before that list may carry another code."))
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
    joined_on: date | None = Field(None, description="The duo's start date, as matching reported it.")


@event("VolunteerLeftDuo", service=SERVICE, stream_type="volunteer")
class VolunteerLeftDuo(DomainEvent):
    """Recorded when matching reports the end of a duo with this volunteer."""

    volunteer_id: Id
    project_id: Id
    duo_id: Id
    left_on: date | None = Field(None, description="The duo's end date, as matching reported it.")


@event("VolunteerStopped", service=SERVICE, stream_type="volunteer")
class VolunteerStopped(DomainEvent):
    volunteer_id: Id
    project_id: Id
    reason: StopReason


@event("VolunteerPersonalDataErased", service=SERVICE, stream_type="volunteer")
class VolunteerPersonalDataErased(DomainEvent):
    volunteer_id: Id
    project_id: Id


# --------------------------------------------------------------------------- added with the full journey
# Everything below is add-only: new vocabularies, new events and new fields with defaults.


class ProjectCloseReason(StrEnum):
    funding_ended = "funding_ended"
    merged = "merged"
    stopped_by_organisation = "stopped_by_organisation"
    other = "other"


@event("ProjectChanged", service=SERVICE, stream_type="project")
class ProjectChanged(DomainEvent):
    """The project register entry after a change: the complete new values.

    ``title`` is the project's public name (``name`` in ``ProjectRegistered``).
    """

    project_id: Id
    title: str = Field(min_length=1, max_length=200, description="The project's public name.")
    organisation: str = Field(min_length=1, max_length=200)
    municipality_nis: NisCode
    region: str = Field(min_length=1, max_length=100, description="Learning network (lerend netwerk).")
    target_groups: list[TargetGroup] = Field(min_length=1)
    funded_from: date | None = None
    funded_until: date | None = None


@event("ProjectClosed", service=SERVICE, stream_type="project")
class ProjectClosed(DomainEvent):
    """The project takes no new enquiries; its volunteers' journeys can still be closed off."""

    project_id: Id
    closed_on: date
    reason: ProjectCloseReason


@event("VolunteerIntakeHeld", service=SERVICE, stream_type="volunteer")
class VolunteerIntakeHeld(DomainEvent):
    """The intake interview took place. A private note, if any, is sealed beside the event."""

    volunteer_id: Id
    project_id: Id
    held_on: date
    has_note: bool = False


class ScreeningOutcome(StrEnum):
    approved = "approved"
    not_approved = "not_approved"


class ScreeningRefusal(StrEnum):
    """Why a screening was not approved; a vocabulary, never free text."""

    profile_does_not_fit = "profile_does_not_fit"
    insufficient_availability = "insufficient_availability"
    safety_concern = "safety_concern"
    no_criminal_record_extract = "no_criminal_record_extract"
    own_support_needs_first = "own_support_needs_first"
    other = "other"


@event("VolunteerScreened", service=SERVICE, stream_type="volunteer")
class VolunteerScreened(DomainEvent):
    """Outcome of the screening. Not approved is followed by ``VolunteerStopped`` (not_approved)."""

    volunteer_id: Id
    project_id: Id
    screened_on: date
    outcome: ScreeningOutcome
    refusal_reason: ScreeningRefusal | None = None
    has_note: bool = False


class TrainingKind(StrEnum):
    individual_coaching = "individual_coaching"
    group_training = "group_training"


@event("VolunteerTrained", service=SERVICE, stream_type="volunteer")
class VolunteerTrained(DomainEvent):
    """A coaching or training session the volunteer followed."""

    volunteer_id: Id
    project_id: Id
    session_on: date
    kind: TrainingKind
    hours: float = Field(gt=0, le=24)


class LegalItem(StrEnum):
    """What the volunteer law and safety ask a programme to keep up with."""

    information_notice = "information_notice"  # informatienota (wet van 3 juli 2005)
    insurance = "insurance"
    criminal_record_extract = "criminal_record_extract"  # uittreksel strafregister model 2 (work with minors)


@event("VolunteerLegalItemRecorded", service=SERVICE, stream_type="volunteer")
class VolunteerLegalItemRecorded(DomainEvent):
    """A legal or safety item was given, confirmed or renewed, with its date and end of validity."""

    volunteer_id: Id
    project_id: Id
    item: LegalItem
    dated: date = Field(description="Date of the notice, the insurance confirmation or the extract.")
    valid_until: date | None = Field(None, description="End of validity; none for items that do not expire.")


class KeepWarmKind(StrEnum):
    call = "call"
    activity_invitation = "activity_invitation"
    meeting_place_invitation = "meeting_place_invitation"
    message = "message"
    other = "other"


@event("VolunteerKeptWarm", service=SERVICE, stream_type="volunteer")
class VolunteerKeptWarm(DomainEvent):
    """A keep-warm contact with a volunteer (waiting for a match or not). A note is sealed beside it."""

    volunteer_id: Id
    project_id: Id
    contacted_on: date
    kind: KeepWarmKind
    has_note: bool = False


@event("VolunteerPersonalDataChanged", service=SERVICE, stream_type="volunteer")
class VolunteerPersonalDataChanged(DomainEvent):
    """New personal data (contact details, address, ...), sealed beside this event; nothing else."""

    volunteer_id: Id
    project_id: Id
