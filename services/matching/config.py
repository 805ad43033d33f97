"""Settings of the matching service only (``BUDDY_MATCHING_*``); documented in docs/matching.md."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.matching import MatchingWeights


class MatchingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDDY_MATCHING_", extra="ignore")

    weight_interests: float = Field(3.0, ge=0, le=10, description="Default weight of shared interests.")
    weight_availability: float = Field(3.0, ge=0, le=10, description="Default weight of overlapping availability.")
    weight_distance: float = Field(2.0, ge=0, le=10, description="Default weight of living close by.")
    weight_volunteer_waiting: float = Field(1.0, ge=0, le=10,
                                            description="Default weight of how long the volunteer has waited.")
    weight_participant_waiting: float = Field(1.0, ge=0, le=10,
                                              description="Default weight of how long the participant has waited.")
    waiting_horizon_days: int = Field(180, ge=1, le=3650,
                                      description="Waiting this many days or more counts fully for fairness.")
    waiting_list_suggestions: int = Field(3, ge=0, le=20,
                                          description="Best suggestions shown per person on the waiting list.")
    require_intake: bool = Field(False, description="Propose or start duos only for participants with an intake.")

    def default_weights(self) -> MatchingWeights:
        weights = MatchingWeights(
            interests=self.weight_interests, availability=self.weight_availability, distance=self.weight_distance,
            volunteer_waiting=self.weight_volunteer_waiting, participant_waiting=self.weight_participant_waiting,
        )
        if sum(weights.model_dump().values()) <= 0:
            raise ValueError("BUDDY_MATCHING_WEIGHT_*: at least one weight must be above zero")
        return weights
