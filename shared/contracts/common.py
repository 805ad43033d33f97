"""Vocabularies shared by several contracts: coarse attributes only, never personal data.

Also the bounds every input shares, so that a value the system cannot store or compute
with is the caller's error (HTTP 422 naming the field), never a server error: ids of one
pattern, days within 2000–2100, free text without control characters (a NUL byte cannot
be stored in PostgreSQL text).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

# Every id (project, volunteer, participant, duo, contact, signal, goal, call, report): in
# bodies, paths and queries alike.
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
ID_MAX_LENGTH = 100
ID_RULE = "letters, digits and _ . : - (1–100 characters)"
ID = re.compile(rf"^[A-Za-z0-9_.:-]{{1,{ID_MAX_LENGTH}}}$")  # the same rule, length included
Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
NOT_AN_ID = f"Geen geldig id: letters, cijfers en _ . : - (1–100 tekens) / Not a valid id: {ID_RULE}"


def valid_id(value: str | None) -> str | None:
    """``value`` if it is an id (or None), else a validation error that says what an id is."""
    if value is not None and not ID.match(value):
        raise PydanticCustomError("not_an_id", NOT_AN_ID)
    return value

# Every day the system records or reports on, unless a field says otherwise (a birth date).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
BirthDate = Annotated[date, Field(ge=date(1900, 1, 1), le=LATEST_DAY)]

# Control characters (C0, DEL, C1). Multi-line text keeps tab, line feed and carriage return;
# a line (a name, a region, a summary) keeps none of them.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
CONTROL_CHARACTERS = "Geen controletekens (zoals NUL) toegestaan / Control characters (such as NUL) are not allowed"


def _no_control_characters(text: str) -> str:
    if _TEXT_CONTROL.search(text):
        raise PydanticCustomError("control_character", CONTROL_CHARACTERS)
    return text


def _one_line(text: str) -> str:
    if re.search(r"[\t\n\r]", text):
        raise PydanticCustomError("control_character", CONTROL_CHARACTERS)
    return text


Text = Annotated[str, AfterValidator(_no_control_characters), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
Line = Annotated[str, AfterValidator(_no_control_characters), AfterValidator(_one_line),
                 Field(json_schema_extra={"pattern": LINE_PATTERN})]

# What a spreadsheet reads as the start of a formula (OWASP, CSV injection): text that reaches
# an export never starts with one of these.
FORMULA_START = ("=", "+", "-", "@")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would take ``text`` for a formula: it starts with = + - @ or a control character."""
    return bool(text) and (text[0] in FORMULA_START or bool(re.match(r"[\x00-\x1f\x7f-\x9f]", text)))


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
