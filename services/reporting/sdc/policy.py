"""Disclosure settings per audience, and the vocabularies that explain a hidden figure."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Audience(StrEnum):
    government = "government"
    coordinator = "coordinator"
    project = "project"


AUDIENCE_LABELS: dict[Audience, dict[str, str]] = {
    Audience.government: {"nl": "Vlaamse overheid", "en": "Flemish government"},
    Audience.coordinator: {"nl": "Regionale coördinator", "en": "Regional coordinator"},
    Audience.project: {"nl": "Projectmedewerkers", "en": "Project staff"},
}

# A coarser period or grouping to suggest when a table hides too much.
DEFAULT_COARSER: dict[str, str] = {
    "month": "quarter",
    "quarter": "year",
    "project": "region",
    "region": "flanders",
}

DIMENSION_LABELS: dict[str, dict[str, str]] = {
    "month": {"nl": "maand", "en": "month"},
    "quarter": {"nl": "kwartaal", "en": "quarter"},
    "year": {"nl": "jaar", "en": "year"},
    "project": {"nl": "project", "en": "project"},
    "region": {"nl": "regio", "en": "region"},
    "flanders": {"nl": "heel Vlaanderen", "en": "all of Flanders"},
    "target_group": {"nl": "doelgroep", "en": "target group"},
}

PERIOD_DIMENSIONS = frozenset({"month", "quarter", "year"})


class DisclosurePolicy(BaseModel):
    """How strictly figures are protected for one audience.

    Defaults follow the UK ONS "10-5" rule (suppress below 10, round to 5); every value
    can be overridden because no Belgian threshold is published.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: int = Field(10, ge=1, description="Counts 1..threshold-1 are suppressed (primary suppression).")
    rounding_base: int = Field(5, ge=1, description="Shown counts are rounded to a multiple of this (1 = exact).")
    min_units_for_statistics: int = Field(
        10, ge=1, description="No mean, median or percentage over fewer units than this.")
    protection_level: int | None = Field(
        None, ge=1, description="Minimal width of the interval an attacker can derive for a hidden cell; "
                                "default: the threshold.")
    show_zeros: bool = Field(True, description="Sampling zeros are shown (ONS practice); False treats them as small.")
    max_hidden_share: float = Field(
        0.5, gt=0, le=1, description="Above this share of hidden cells a table says so and suggests coarser cuts.")
    margin_cost_factor: float = Field(
        4.0, ge=1, description="Hiding a total costs this much more per level of aggregation, so totals stay visible.")
    previous_cost_factor: float = Field(
        0.25, gt=0, le=1, description="Cost multiplier for cells hidden in the previous period (stable pattern).")
    exact_max_cells: int = Field(
        600, ge=0, description="Linked tables with more distinct cells use the heuristic, not the exact MILP.")
    exact_max_rounds: int = Field(
        60, ge=1, description="Cut rounds of the exact method before it gives way to the heuristic.")
    statistic_decimals: int = Field(1, ge=0, le=6)
    percentage_decimals: int = Field(0, ge=0, le=6)
    coarser: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_COARSER))

    @model_validator(mode="after")
    def _rounding_never_hides_a_shown_count(self) -> "DisclosurePolicy":
        if self.rounding_base > self.threshold:
            raise ValueError("rounding_base must not exceed threshold (a shown count would round to 0)")
        return self

    @property
    def protection(self) -> int:
        """The interval width promised for every hidden cell."""
        return self.protection_level or self.threshold

    @classmethod
    def for_audience(cls, audience: Audience | str, **overrides: Any) -> "DisclosurePolicy":
        """The audience's defaults with the given settings overridden."""
        return cls(**{**AUDIENCE_DEFAULTS[Audience(audience)], **overrides})


# Government and coordinators get ONS 10-5: their reports travel (learning networks,
# municipalities, the press). Project staff already hold their own case files, so
# rounding their own small figures only makes them less useful; the threshold stays so
# a report passed on to a municipality still hides small groups.
AUDIENCE_DEFAULTS: dict[Audience, dict[str, Any]] = {
    Audience.government: {"threshold": 10, "rounding_base": 5},
    Audience.coordinator: {"threshold": 10, "rounding_base": 5},
    Audience.project: {"threshold": 10, "rounding_base": 1},
}


class CellStatus(StrEnum):
    shown = "shown"
    structural_zero = "structural_zero"
    below_threshold = "below_threshold"
    forced = "forced"
    complementary = "complementary"


STATUS_LABELS: dict[CellStatus, dict[str, str]] = {
    CellStatus.shown: {"nl": "getoond", "en": "shown"},
    CellStatus.structural_zero: {"nl": "structurele nul (kan niet voorkomen)", "en": "structural zero (cannot occur)"},
    CellStatus.below_threshold: {"nl": "verborgen: kleiner dan de drempel", "en": "hidden: below the threshold"},
    CellStatus.forced: {"nl": "verborgen: altijd afgeschermd", "en": "hidden: always suppressed"},
    CellStatus.complementary: {
        "nl": "verborgen: zou samen met de totalen een kleine cel verraden",
        "en": "hidden: would reveal a small cell together with the totals",
    },
}


class StatisticReason(StrEnum):
    too_few_units = "too_few_units"
    small_part = "small_part"


STATISTIC_REASON_LABELS: dict[StatisticReason, dict[str, str]] = {
    StatisticReason.too_few_units: {
        "nl": "verborgen: berekend over te weinig eenheden", "en": "hidden: computed over too few units"},
    StatisticReason.small_part: {
        "nl": "verborgen: zou een kleine groep verraden", "en": "hidden: would reveal a small group"},
}


def round_to_base(count: int, base: int) -> int:
    """Nearest multiple of base; exact halves (even bases only) go to the even multiple.

    Integer arithmetic, and the same results as the original ``base * round(count / base)``.
    """
    quotient, rest = divmod(count, base)
    if 2 * rest > base or (2 * rest == base and quotient % 2 == 1):
        quotient += 1
    return quotient * base
