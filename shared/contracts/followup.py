"""Events of the follow-up service: the case log of running duos and what follows their end.

Nothing here carries personal data or free text, with one reviewed exception: the
``summary`` of ``PolicySignalSummaryConfirmed``, a short anonymised text that a
professional explicitly confirmed holds no personal data (checked for obvious patterns
such as e-mail addresses and phone numbers before it is recorded). Private notes and
descriptions are sealed in the follow-up vault beside their events; the payload says
only whether there is one (``has_private_note``, ``has_private_description``).

Counting rule for consumers: a contact counts from its ``ContactLogged`` on, with the
values of its latest ``ContactCorrected`` if any, and stops counting at
``ContactRetracted``. ``ContactDrafted`` is *not* a contact (``counted`` is always
false): it becomes one only when a ``ContactLogged`` with the same ``contact_id`` follows.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.contracts.common import Id, Minutes
from shared.events.registry import DomainEvent, event

SERVICE = "followup"


class ContactMode(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"
    message = "message"


class Activity(StrEnum):
    walk = "walk"
    coffee_or_chat = "coffee_or_chat"
    shopping = "shopping"
    leisure_or_culture = "leisure_or_culture"
    sport = "sport"
    accompany_food_bank = "accompany_food_bank"
    accompany_union = "accompany_union"
    accompany_school = "accompany_school"
    accompany_doctor = "accompany_doctor"
    accompany_administration = "accompany_administration"
    playground_or_children_activity = "playground_or_children_activity"
    other = "other"


class ContactRetractionReason(StrEnum):
    duplicate = "duplicate"
    wrong_duo = "wrong_duo"
    did_not_happen = "did_not_happen"
    entered_in_error = "entered_in_error"
    other = "other"


class CoachingKind(StrEnum):
    individual = "individual"
    group = "group"
    intervision = "intervision"


class CoachingTheme(StrEnum):
    role_of_the_buddy = "role_of_the_buddy"
    boundaries = "boundaries"
    communication = "communication"
    motivation_and_expectations = "motivation_and_expectations"
    poverty_and_vulnerability = "poverty_and_vulnerability"
    mental_health = "mental_health"
    cultural_sensitivity = "cultural_sensitivity"
    practical_questions = "practical_questions"
    ending_the_duo = "ending_the_duo"
    self_care = "self_care"
    other = "other"


class BoundarySignalType(StrEnum):
    money_or_goods_asked = "money_or_goods_asked"
    over_demand_or_availability = "over_demand_or_availability"
    crisis = "crisis"
    safety = "safety"
    conflict = "conflict"
    other = "other"


class BoundarySeverity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class BoundaryRaisedBy(StrEnum):
    buddy = "buddy"
    participant = "participant"
    professional = "professional"
    other = "other"


class BoundaryFollowUpAction(StrEnum):
    conversation_with_buddy = "conversation_with_buddy"
    conversation_with_participant = "conversation_with_participant"
    triangle_meeting = "triangle_meeting"
    agreements_adjusted = "agreements_adjusted"
    referral_to_service = "referral_to_service"
    other = "other"


class BoundaryResolution(StrEnum):
    resolved = "resolved"
    agreements_made = "agreements_made"
    referred = "referred"
    duo_paused_or_ended = "duo_paused_or_ended"
    no_action_needed = "no_action_needed"
    other = "other"


class GoalDomain(StrEnum):
    social_network = "social_network"
    leisure = "leisure"
    language = "language"
    work_or_education = "work_or_education"
    housing = "housing"
    finances = "finances"
    health = "health"
    wellbeing = "wellbeing"
    self_reliance = "self_reliance"
    parenting = "parenting"
    digital_skills = "digital_skills"
    other = "other"


class GoalOutcome(StrEnum):
    achieved = "achieved"
    partly_achieved = "partly_achieved"
    not_achieved = "not_achieved"
    dropped = "dropped"


class EvaluationMoment(StrEnum):
    start = "start"
    mid = "mid"
    final = "final"


class FollowUpCallOutcome(StrEnum):
    reached = "reached"
    not_reachable = "not_reachable"
    declined = "declined"


class NetworkChange(StrEnum):
    grown = "grown"
    unchanged = "unchanged"
    shrunk = "shrunk"


class PolicyTheme(StrEnum):
    access_to_services = "access_to_services"
    digital_barriers = "digital_barriers"
    finances = "finances"
    housing = "housing"
    mobility = "mobility"
    health_care = "health_care"
    education = "education"
    other = "other"


# --------------------------------------------------------------------------- contacts
@event("ContactLogged", service=SERVICE, stream_type="duo_log")
class ContactLogged(DomainEvent):
    """A contact of a duo. An optional private note is sealed beside the event."""

    contact_id: Id
    duo_id: Id
    project_id: Id
    contact_date: date
    minutes: Minutes
    mode: ContactMode
    activities: list[Activity] = Field(min_length=1)
    logged_by: str = Field(pattern="^(buddy|professional)$")
    has_private_note: bool = False


@event("ContactDrafted", service=SERVICE, stream_type="duo_log")
class ContactDrafted(DomainEvent):
    """A draft of a contact: NOT counted anywhere (``counted`` is always false).

    It becomes a contact only when a ``ContactLogged`` with the same ``contact_id``
    follows (the draft was submitted); ``ContactDraftDiscarded`` drops it.
    """

    contact_id: Id
    duo_id: Id
    project_id: Id
    contact_date: date
    minutes: Minutes
    mode: ContactMode
    activities: list[Activity] = Field(min_length=1)
    logged_by: str = Field(pattern="^(buddy|professional)$")
    has_private_note: bool = False
    counted: Literal[False] = Field(False, description="Always false: a draft is never a contact.")


@event("ContactDraftDiscarded", service=SERVICE, stream_type="duo_log")
class ContactDraftDiscarded(DomainEvent):
    contact_id: Id
    duo_id: Id
    project_id: Id


@event("ContactCorrected", service=SERVICE, stream_type="duo_log")
class ContactCorrected(DomainEvent):
    """New values for a logged contact; they replace all of the earlier ones.

    A projection that puts these values as if ``ContactLogged`` had carried them gives
    the same figures as a direct entry of the corrected contact.
    """

    contact_id: Id
    duo_id: Id
    project_id: Id
    contact_date: date
    minutes: Minutes
    mode: ContactMode
    activities: list[Activity] = Field(min_length=1)
    logged_by: str = Field(pattern="^(buddy|professional)$", description="Who logged it first (unchanged).")
    has_private_note: bool = False


@event("ContactRetracted", service=SERVICE, stream_type="duo_log")
class ContactRetracted(DomainEvent):
    """A logged contact no longer counts (the event itself stays in the history)."""

    contact_id: Id
    duo_id: Id
    project_id: Id
    reason: ContactRetractionReason


# --------------------------------------------------------------------------- check-in cadence
@event("CheckInCadenceSet", service=SERVICE, stream_type="project_cadence")
class CheckInCadenceSet(DomainEvent):
    """A project's rule for "contact overdue" alerts (defaults come from configuration)."""

    project_id: Id
    first_period_days: int = Field(ge=1, le=120)
    first_period_contacts: int = Field(ge=0, le=31)
    max_gap_days: int = Field(ge=1, le=366)


# --------------------------------------------------------------------------- coaching
@event("CoachingSessionLogged", service=SERVICE, stream_type="coaching_session")
class CoachingSessionLogged(DomainEvent):
    """Coaching of volunteers by a professional: individual, group or intervision."""

    session_id: Id
    project_id: Id
    kind: CoachingKind
    session_date: date
    minutes: Minutes
    themes: list[CoachingTheme] = Field(min_length=1)
    volunteer_ids: list[Id] = Field(min_length=1, max_length=50)


# --------------------------------------------------------------------------- boundary signals
@event("BoundarySignalRaised", service=SERVICE, stream_type="boundary_signal")
class BoundarySignalRaised(DomainEvent):
    signal_id: Id
    duo_id: Id
    project_id: Id
    signal_type: BoundarySignalType
    severity: BoundarySeverity
    raised_by: BoundaryRaisedBy
    raised_on: date
    has_private_note: bool = False


@event("BoundarySignalFollowedUp", service=SERVICE, stream_type="boundary_signal")
class BoundarySignalFollowedUp(DomainEvent):
    signal_id: Id
    duo_id: Id
    project_id: Id
    action: BoundaryFollowUpAction
    followed_up_on: date
    severity: BoundarySeverity | None = Field(None, description="The severity as reassessed, if it changed.")
    has_private_note: bool = False


@event("BoundarySignalResolved", service=SERVICE, stream_type="boundary_signal")
class BoundarySignalResolved(DomainEvent):
    signal_id: Id
    duo_id: Id
    project_id: Id
    resolution: BoundaryResolution
    resolved_on: date


# --------------------------------------------------------------------------- goals and evaluations
@event("GoalSet", service=SERVICE, stream_type="goal")
class GoalSet(DomainEvent):
    """A person-centred goal; its wording stays private (sealed), only the domain is public."""

    goal_id: Id
    duo_id: Id
    project_id: Id
    domain: GoalDomain
    set_on: date
    baseline: int = Field(ge=0, le=10, description="Where the participant stands when the goal is set, 0–10.")
    target: int | None = Field(None, ge=0, le=10)
    has_private_description: bool = False


@event("GoalProgressRecorded", service=SERVICE, stream_type="goal")
class GoalProgressRecorded(DomainEvent):
    goal_id: Id
    duo_id: Id
    project_id: Id
    recorded_on: date
    score: int = Field(ge=0, le=10, description="Progress on the goal's scale, 0–10.")


@event("GoalClosed", service=SERVICE, stream_type="goal")
class GoalClosed(DomainEvent):
    goal_id: Id
    duo_id: Id
    project_id: Id
    closed_on: date
    outcome: GoalOutcome


@event("EvaluationRecorded", service=SERVICE, stream_type="duo_evaluations")
class EvaluationRecorded(DomainEvent):
    """Start, mid-term or final evaluation of a duo (each at most once)."""

    duo_id: Id
    project_id: Id
    moment: EvaluationMoment
    evaluated_on: date
    wellbeing: int = Field(ge=0, le=10, description="The participant's wellbeing, 0–10.")
    network_size: int = Field(ge=0, le=200, description="How many people the participant can count on.")
    participant_satisfaction: int | None = Field(None, ge=1, le=5, description="1–5; none if not asked.")
    volunteer_satisfaction: int | None = Field(None, ge=1, le=5, description="1–5; none if not asked.")


# --------------------------------------------------------------------------- follow-up calls
@event("FollowUpCallScheduled", service=SERVICE, stream_type="followup_call")
class FollowUpCallScheduled(DomainEvent):
    """Recorded when follow-up consumes a ``DuoEnded``: one per configured offset.

    ``call_id`` is derived from the duo and the offset (``call-<duo>-<n>m``), so a
    second scheduling of the same call is refused by the store's version check.
    """

    call_id: Id
    duo_id: Id
    project_id: Id
    months_after_end: int = Field(ge=1, le=60)
    ended_on: date
    due_on: date


@event("FollowUpCallAttempted", service=SERVICE, stream_type="followup_call")
class FollowUpCallAttempted(DomainEvent):
    """An unsuccessful try to reach the participant (a successful one completes the call)."""

    call_id: Id
    duo_id: Id
    project_id: Id
    attempt: int = Field(ge=1, le=100)
    attempted_on: date


@event("FollowUpCallCompleted", service=SERVICE, stream_type="followup_call")
class FollowUpCallCompleted(DomainEvent):
    """The call's outcome; the answers are there only when the participant was reached."""

    call_id: Id
    duo_id: Id
    project_id: Id
    outcome: FollowUpCallOutcome
    completed_on: date
    attempts: int = Field(ge=0, le=100, description="Tries made, the successful one included.")
    still_in_contact_with_buddy: bool | None = None
    network_change: NetworkChange | None = None
    wellbeing: int | None = Field(None, ge=0, le=10)


class CallCancelReason(StrEnum):
    consent_withdrawn = "consent_withdrawn"


@event("FollowUpCallCancelled", service=SERVICE, stream_type="followup_call")
class FollowUpCallCancelled(DomainEvent):
    """A scheduled call that will not be made: the participant withdrew consent to be called.

    Recorded by follow-up itself when it learns the withdrawal from matching; a cancelled call
    is neither due nor overdue and takes no attempts or outcome.
    """

    call_id: Id
    duo_id: Id
    project_id: Id
    cancelled_on: date
    reason: CallCancelReason


# --------------------------------------------------------------------------- policy signals
@event("PolicySignalRecorded", service=SERVICE, stream_type="policy_signal")
class PolicySignalRecorded(DomainEvent):
    """A structural barrier noticed in the field; its description is sealed, never published."""

    signal_id: Id
    project_id: Id
    theme: PolicyTheme
    observed_on: date
    has_private_description: bool = False


@event("PolicySignalSummaryConfirmed", service=SERVICE, stream_type="policy_signal")
class PolicySignalSummaryConfirmed(DomainEvent):
    """The one free text on the bus: a short anonymised summary for reports.

    Recorded only after the professional explicitly confirmed it holds no personal data,
    and only after checks for obvious personal data (e-mail addresses, phone numbers,
    national register numbers, IBANs) passed.
    """

    signal_id: Id
    project_id: Id
    theme: PolicyTheme
    summary: str = Field(min_length=1, max_length=280)
    confirmed_on: date


@event("PolicySignalShredded", service=SERVICE, stream_type="policy_signal")
class PolicySignalShredded(DomainEvent):
    """An admin shredded a policy signal's free text (it named someone, or on request).

    The key of its sealed description is destroyed in the same transaction; consumers drop
    the confirmed summary from everything they keep and quote it no more. The summary's
    text stays only in the hashed payload of the earlier ``PolicySignalSummaryConfirmed``.
    """

    signal_id: Id
    project_id: Id
    shredded_on: date
