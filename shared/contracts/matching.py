"""Events of the matching service: participants and duos."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.contracts.common import AgeBand, Id, NisCode, TargetGroup
from shared.events.registry import DomainEvent, event

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


@event("ParticipantReferred", service=SERVICE, stream_type="participant")
class ParticipantReferred(DomainEvent):
    participant_id: Id
    project_id: Id
    target_group: TargetGroup
    referrer_type: ReferrerType
    life_domains: list[LifeDomain] = Field(min_length=1)
    age_band: AgeBand | None = None
    municipality_nis: NisCode
    languages: list[str] = Field(default_factory=lambda: ["nl"])
    consent_recorded: bool


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
    reason: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$", description="A code from the decline vocabulary.")


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


@event("DuoPaused", service=SERVICE, stream_type="duo")
class DuoPaused(DomainEvent):
    duo_id: Id
    project_id: Id
    paused_on: date


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
