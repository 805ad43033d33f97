"""Vocabularies shared by several contracts: coarse attributes only, never personal data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
NisCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]


class TargetGroup(StrEnum):
    individual_adult = "individual_adult"
    family = "family"
    child = "child"
    youth = "youth"


class AgeBand(StrEnum):
    under_18 = "<18"
    age_18_24 = "18-24"
    age_25_34 = "25-34"
    age_35_44 = "35-44"
    age_45_54 = "45-54"
    age_55_64 = "55-64"
    age_65_plus = "65+"


def age_band(birth_date: date, on: date) -> AgeBand:
    """Coarsen a birth date: only the band ever leaves the owning service."""
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for limit, band in ((18, AgeBand.under_18), (25, AgeBand.age_18_24), (35, AgeBand.age_25_34),
                        (45, AgeBand.age_35_44), (55, AgeBand.age_45_54), (65, AgeBand.age_55_64)):
        if years < limit:
            return band
    return AgeBand.age_65_plus


Minutes = Annotated[int, Field(ge=1, le=24 * 60)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]  # ISO 639-1, e.g. nl, fr, ar


class Interest(StrEnum):
    """Interests from a vocabulary: free text could carry personal data onto the bus."""

    walking = "walking"
    cooking = "cooking"
    culture = "culture"
    sport = "sport"
    music = "music"
    games = "games"
    nature = "nature"
    crafts = "crafts"
    reading = "reading"
    technology = "technology"
    gardening = "gardening"
    animals = "animals"
    shopping = "shopping"
    children_activities = "children_activities"
    language_practice = "language_practice"
    other = "other"


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class PartOfDay(StrEnum):
    morning = "morning"
    afternoon = "afternoon"
    evening = "evening"


class AvailabilitySlot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    day: Weekday
    part: PartOfDay


class TravelRange(StrEnum):
    """How far someone travels, on the NIS hierarchy (no coordinates are kept)."""

    same_municipality = "same_municipality"
    same_arrondissement = "same_arrondissement"
    same_province = "same_province"
    anywhere = "anywhere"


class MatchingPreferences(BaseModel):
    """What a volunteer offers for matching; published so matching can build its pool."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_groups: list[TargetGroup] = Field(min_length=1)
    languages: list[LanguageCode] = Field(default_factory=lambda: ["nl"], min_length=1)
    interests: list[Interest] = Field(default_factory=list)
    availability: list[AvailabilitySlot] = Field(default_factory=list)
    municipality_nis: NisCode | None = Field(None, description="Where they start from; default the enquiry's.")
    travel: TravelRange = TravelRange.same_province
    max_duos: int = Field(1, ge=1, le=5)
