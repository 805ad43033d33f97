"""The envelope: what is known about every event besides its payload.

The envelope and payload are the *public* part of an event, the only part that is
published on the bus. Personal data never appears here: it lives encrypted beside the
event in the owning service's store (see ``shared.vault``).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    professional = "professional"
    coordinator = "coordinator"
    government = "government"
    auditor = "auditor"
    admin = "admin"
    buddy = "buddy"
    system = "system"


class Actor(BaseModel):
    """Who caused an event: a pseudonymous id and a role, never a name."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=100, description="Pseudonymous id of the person or system.")
    role: Role


class Envelope(BaseModel):
    """One recorded event, as stored and as published."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    type: str = Field(description="Event type, e.g. `VolunteerMadeAvailable`.")
    schema_version: int = Field(ge=1)
    service: str = Field(description="The service whose store recorded the event.")
    stream_type: str = Field(description="Aggregate type, e.g. `volunteer`.")
    stream_id: str = Field(description="Aggregate id (pseudonymous).")
    version: int = Field(ge=1, description="Aggregate version after this event.")
    position: int = Field(ge=1, description="Gapless position in the service's log, in commit order.")
    occurred_at: datetime = Field(description="When it happened in the world.")
    recorded_at: datetime = Field(description="When the store recorded it.")
    project_id: str | None = None
    actor: Actor
    correlation_id: UUID
    causation_id: UUID | None = None
    payload: dict[str, Any]


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(data: Any) -> str:
    """Stable text for hashing: sorted keys, no white space, ISO dates."""
    return _CANONICAL.encode(data)
