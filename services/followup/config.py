"""Settings of the follow-up service (environment variables ``BUDDY_FOLLOWUP_*``).

The check-in cadence here is the default; a project can set its own through the API
(recorded as ``CheckInCadenceSet``).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class FollowupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDDY_FOLLOWUP_", extra="ignore")

    first_period_days: int = Field(
        30, ge=1, le=120, description="Length of a duo's first period (the 'first month'), in days."
    )
    first_period_contacts: int = Field(
        2, ge=0, le=31, description="Contacts expected within the first period (MENTOR: two in the first month)."
    )
    max_gap_days: int = Field(
        31, ge=1, le=366, description="After the first period: a contact at least every this many days (monthly)."
    )
    call_months: list[int] = Field(
        default_factory=lambda: [3, 6, 12],
        description="Follow-up calls are scheduled this many months after a duo ends (JSON list, e.g. [3,6,12]).",
    )
    call_max_attempts: int = Field(
        3, ge=1, le=20,
        description="After this many unsuccessful tries a follow-up call is closed as 'not reachable'.",
    )

    screening_notice_days: int = Field(
        30, ge=0, le=365,
        description="The Today list warns this many days before a buddy's extract (model 2) or insurance lapses "
        "during a duo with a child, youth or family.",
    )

    @field_validator("call_months")
    @classmethod
    def _distinct_months(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= m <= 60 for m in value) or len(set(value)) != len(value):
            raise ValueError("call_months must be distinct whole months between 1 and 60")
        return sorted(value)
