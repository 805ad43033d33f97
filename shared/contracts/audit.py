"""Events of the audit trail that every writing service records: reads of personal data.

Reading a person's sealed data is itself part of the history: who read it (the envelope's
actor), when (``recorded_at``), what (``access``, ``opened_positions``) and why
(``reason`` from a vocabulary; an optional free-text note is sealed beside the event under
the person's key, so it is erased with them and never published).

One event type per publishing service: the registry holds one model per type and version,
and the catalogue documents every type with the one service that publishes it. All three
share the ``PersonalDataAccessed`` base, so ``isinstance(event, PersonalDataAccessed)``
recognises any of them and ``personal_data_accessed(service)`` gives a service's own type.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.contracts.common import Id
from shared.events.registry import DomainEvent, event

STREAM_TYPE = "personal_data_access"
#: The services that hold personal data, hence record reads of it.
PUBLISHERS = ("recruitment", "matching", "followup")


class AccessReason(StrEnum):
    """Why personal data was read; a vocabulary, so that no free text reaches the bus."""

    audit = "audit"
    subject_access_request = "subject_access_request"
    legal_obligation = "legal_obligation"
    care_continuity = "care_continuity"
    other = "other"


class AccessKind(StrEnum):
    view = "view"  # the sealed data decrypted for reading (POST /personal-data/{id}/access)
    export = "export"  # everything held about the person, as JSON (GET /personal-data/{id}/export)


class PersonalDataAccessed(DomainEvent):
    """Someone read a person's sealed personal data in this service (base of the per-service types)."""

    subject_id: Id = Field(description="The person whose data was read (pseudonymous id).")
    access: AccessKind
    reason: AccessReason
    opened_positions: list[int] = Field(
        default_factory=list, description="Positions of the events whose sealed data was decrypted.")
    subject_erased: bool = Field(False, description="The person was already erased: nothing could be decrypted.")
    has_note: bool = Field(False, description="A note on the reason is sealed beside this event.")


@event("RecruitmentPersonalDataAccessed", service="recruitment", stream_type=STREAM_TYPE)
class RecruitmentPersonalDataAccessed(PersonalDataAccessed):
    """A read of a volunteer's personal data in recruitment."""


@event("MatchingPersonalDataAccessed", service="matching", stream_type=STREAM_TYPE)
class MatchingPersonalDataAccessed(PersonalDataAccessed):
    """A read of a participant's personal data in matching."""


@event("FollowupPersonalDataAccessed", service="followup", stream_type=STREAM_TYPE)
class FollowupPersonalDataAccessed(PersonalDataAccessed):
    """A read of a participant's private notes in follow-up."""


_BY_SERVICE: dict[str, type[PersonalDataAccessed]] = {
    "recruitment": RecruitmentPersonalDataAccessed,
    "matching": MatchingPersonalDataAccessed,
    "followup": FollowupPersonalDataAccessed,
}
ACCESS_EVENT_TYPES = frozenset(model.event_type for model in _BY_SERVICE.values())


def personal_data_accessed(service: str) -> type[PersonalDataAccessed]:
    """The access event type a service records."""
    try:
        return _BY_SERVICE[service]
    except KeyError:
        raise ValueError(f"{service!r} holds no personal data, so it records no access to it") from None


def access_stream_id(subject_id: str) -> str:
    """The stream of a person's access events in one service (beside, not inside, their own stream)."""
    stream = f"access:{subject_id}"
    if len(stream) <= 100:
        return stream
    import hashlib

    return "access:" + hashlib.sha256(subject_id.encode()).hexdigest()
