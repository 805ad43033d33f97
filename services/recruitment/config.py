"""Settings of the recruitment service (environment variables ``BUDDY_RECRUITMENT_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RecruitmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDDY_RECRUITMENT_", extra="ignore")

    keep_warm_days: int = Field(
        21, ge=1, le=365,
        description="Alert when an available volunteer waited more than this many days without a match "
        "or a keep-warm contact.",
    )
    legal_horizon_days: int = Field(
        30, ge=0, le=365, description="Legal and safety items expiring within this many days are listed."
    )
    criminal_record_valid_days: int = Field(
        365, ge=1, le=3650,
        description="Validity of a criminal-record extract (model 2) when no end date is given.",
    )
    min_preparation_sessions: int = Field(
        1, ge=0, le=50,
        description="Coaching or training sessions needed before a volunteer can be made available (0: none).",
    )
