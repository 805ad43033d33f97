"""Events of the matching service: participants and duos."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.common import AgeBand, AvailabilitySlot, Id, Interest, LanguageCode, NisCode, TargetGroup
from shared.events.registry import DomainEvent, event, upcaster

SERVICE = "matching"


class ReferrerType(StrEnum):
    mental_health_centre = "mental_health_centre"
    social_services = "social_services"
    school = "school"
    youth_care = "youth_care"
    general_practitioner = "general_practitioner"
    self = "self"
    other = "other"


class LifeDomain(StrEnum):
    poverty = "poverty"
    psychological_vulnerability = "psychological_vulnerability"
    isolation = "isolation"
    newcomer = "newcomer"
    addiction = "addiction"
    other = "other"


class EndReason(StrEnum):
    goals_reached = "goals_reached"
    volunteer_stopped = "volunteer_stopped"
    participant_stopped = "participant_stopped"
    moved = "moved"
    mismatch = "mismatch"
    boundary_problem = "boundary_problem"
    other = "other"


class Wish(StrEnum):
    """What a participant hopes a buddy brings (a vocabulary: no free text on the bus)."""

    company = "company"
    going_out = "going_out"
    social_network = "social_network"
    practical_support = "practical_support"
    accompaniment_to_services = "accompaniment_to_services"
    language_practice = "language_practice"
    leisure = "leisure"
    parenting_support = "parenting_support"
    homework_support = "homework_support"
    other = "other"


class ConsentScope(StrEnum):
    """What a participant agreed to; ``matching`` and ``data_processing`` are needed to be matched."""

    matching = "matching"
    data_processing = "data_processing"
    share_contact_with_volunteer = "share_contact_with_volunteer"
    followup_contact = "followup_contact"


REQUIRED_CONSENT: frozenset[ConsentScope] = frozenset({ConsentScope.matching, ConsentScope.data_processing})


class Consent(BaseModel):
    """Consent as recorded: what, since when, and by whom (a pseudonymous actor id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scopes: list[ConsentScope] = Field(default_factory=list)
    given_on: date | None = None
    recorded_by: Id | None = Field(None, description="Pseudonymous id of the professional who recorded it.")

    @property
    def allows_matching(self) -> bool:
        return REQUIRED_CONSENT <= set(self.scopes)


class WithdrawalReason(StrEnum):
    no_longer_needed = "no_longer_needed"
    other_support_found = "other_support_found"
    moved = "moved"
    not_reachable = "not_reachable"
    waited_too_long = "waited_too_long"
    declined_offer = "declined_offer"
    personal_circumstances = "personal_circumstances"
    erasure_requested = "erasure_requested"
    other = "other"


class ReturnReason(StrEnum):
    """Why a participant is back on the waiting list."""

    mismatch = "mismatch"
    new_request = "new_request"
    volunteer_stopped = "volunteer_stopped"
    other = "other"


class DeclineReason(StrEnum):
    """Codes for ``DuoDeclined.reason``."""

    no_click = "no_click"
    availability = "availability"
    distance = "distance"
    different_expectations = "different_expectations"
    personal_circumstances = "personal_circumstances"
    no_longer_needed = "no_longer_needed"
    volunteer_unavailable = "volunteer_unavailable"
    other = "other"


class PauseReason(StrEnum):
    holiday = "holiday"
    illness = "illness"
    personal_circumstances = "personal_circumstances"
    crisis = "crisis"
    other = "other"


class MatchingWeights(BaseModel):
    """Relative weights of the matching criteria; the score is their weighted mean (0..1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interests: float = Field(3.0, ge=0, le=10)
    availability: float = Field(3.0, ge=0, le=10)
    distance: float = Field(2.0, ge=0, le=10)
    volunteer_waiting: float = Field(1.0, ge=0, le=10)
    participant_waiting: float = Field(1.0, ge=0, le=10)


@event("ParticipantReferred", service=SERVICE, stream_type="participant")
class ParticipantReferredV1(DomainEvent):
    """The first version: consent as a bare flag, no interests or availability; kept to read old history."""

    participant_id: Id
    project_id: Id
    target_group: TargetGroup
    referrer_type: ReferrerType
    life_domains: list[LifeDomain] = Field(min_length=1)
    age_band: AgeBand | None = None
    municipality_nis: NisCode
    languages: list[str] = Field(default_factory=lambda: ["nl"])
    consent_recorded: bool


@event("ParticipantReferred", version=2, service=SERVICE, stream_type="participant")
class ParticipantReferred(DomainEvent):
    """A participant is referred and put on the waiting list; personal data is sealed beside it.

    Keeps every field of v1 (``consent_recorded`` is true when consent allows matching).
    """

    participant_id: Id
    project_id: Id
    target_group: TargetGroup
    referrer_type: ReferrerType
    life_domains: list[LifeDomain] = Field(min_length=1)
    age_band: AgeBand | None = None
    municipality_nis: NisCode
    languages: list[str] = Field(default_factory=lambda: ["nl"])
    consent_recorded: bool
    consent: Consent | None = None
    referred_on: date | None = None
    wishes: list[Wish] = Field(default_factory=list)
    interests: list[Interest] = Field(default_factory=list)
    availability: list[AvailabilitySlot] = Field(default_factory=list)


@upcaster("ParticipantReferred", from_version=1)
def _referred_v1_to_v2(payload: dict) -> dict:
    lifted = dict(payload)
    consent = ["matching", "data_processing"] if payload.get("consent_recorded") else []
    lifted["consent"] = {"scopes": consent, "given_on": None, "recorded_by": None}
    return lifted


@event("ParticipantIntakeHeld", service=SERVICE, stream_type="participant")
class ParticipantIntakeHeld(DomainEvent):
    """The intake interview took place; its notes, if any, are sealed beside the event."""

    participant_id: Id
    project_id: Id
    held_on: date
    has_private_notes: bool = False


@event("ParticipantConsentRecorded", service=SERVICE, stream_type="participant")
class ParticipantConsentRecorded(DomainEvent):
    """Consent as it now stands (given, extended or withdrawn): replaces what was recorded before."""

    participant_id: Id
    project_id: Id
    consent: Consent


@event("ParticipantPreferencesChanged", service=SERVICE, stream_type="participant")
class ParticipantPreferencesChanged(DomainEvent):
    participant_id: Id
    project_id: Id
    municipality_nis: NisCode
    languages: list[LanguageCode] = Field(min_length=1)
    wishes: list[Wish] = Field(default_factory=list)
    interests: list[Interest] = Field(default_factory=list)
    availability: list[AvailabilitySlot] = Field(default_factory=list)


@event("ParticipantWithdrawn", service=SERVICE, stream_type="participant")
class ParticipantWithdrawn(DomainEvent):
    """Off the waiting list for good (until returned to it)."""

    participant_id: Id
    project_id: Id
    reason: WithdrawalReason
    withdrawn_on: date


@event("ParticipantReturnedToWaitingList", service=SERVICE, stream_type="participant")
class ParticipantReturnedToWaitingList(DomainEvent):
    """Back on the waiting list, e.g. after a duo ended in a mismatch; waiting starts anew."""

    participant_id: Id
    project_id: Id
    reason: ReturnReason
    duo_id: Id | None = None


@event("ParticipantPersonalDataErased", service=SERVICE, stream_type="participant")
class ParticipantPersonalDataErased(DomainEvent):
    """The participant's vault key was destroyed: sealed data (also duo agreements) is unreadable."""

    participant_id: Id
    project_id: Id


@event("MatchingWeightsSet", service=SERVICE, stream_type="matching_weights")
class MatchingWeightsSet(DomainEvent):
    """A project's weights for the matching criteria."""

    project_id: Id
    weights: MatchingWeights


class Party(StrEnum):
    volunteer = "volunteer"
    participant = "participant"


@event("DuoProposed", service=SERVICE, stream_type="duo")
class DuoProposed(DomainEvent):
    """A professional proposes a volunteer to a participant (the triangle decides)."""

    duo_id: Id
    project_id: Id
    volunteer_id: Id
    participant_id: Id
    proposed_on: date


@event("DuoAccepted", service=SERVICE, stream_type="duo")
class DuoAccepted(DomainEvent):
    duo_id: Id
    project_id: Id
    party: Party


@event("DuoDeclined", service=SERVICE, stream_type="duo")
class DuoDeclined(DomainEvent):
    duo_id: Id
    project_id: Id
    party: Party
    reason: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$",
                        description="A code from the decline vocabulary (`DeclineReason`).")


@event("DuoStarted", service=SERVICE, stream_type="duo")
class DuoStarted(DomainEvent):
    """The kick-off in the triangle: agreements on frequency and duration (boundaries stay private)."""

    duo_id: Id
    project_id: Id
    volunteer_id: Id
    participant_id: Id
    started_on: date
    agreed_contacts_per_month: int = Field(ge=1, le=31)
    expected_duration_months: int | None = Field(None, ge=1, le=60)
    after_proposal: bool = Field(False, description="Started after a proposal accepted by both; false when "
                                 "a duo agreed outside the system was registered directly.")
    boundary_agreements_recorded: bool = Field(False, description="Agreements on boundaries were recorded "
                                               "(sealed under the participant's key, never published).")


@event("DuoPaused", service=SERVICE, stream_type="duo")
class DuoPaused(DomainEvent):
    duo_id: Id
    project_id: Id
    paused_on: date
    reason: PauseReason | None = None


@event("DuoResumed", service=SERVICE, stream_type="duo")
class DuoResumed(DomainEvent):
    duo_id: Id
    project_id: Id
    resumed_on: date


@event("DuoEnded", service=SERVICE, stream_type="duo")
class DuoEnded(DomainEvent):
    duo_id: Id
    project_id: Id
    volunteer_id: Id
    participant_id: Id
    ended_on: date
    reason: EndReason
    planned: bool
