"""Means, medians and percentages: never over fewer units than the policy allows."""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from services.reporting.sdc.policy import DisclosurePolicy, StatisticReason, round_to_base


class Statistic(BaseModel):
    value: float | None
    units: int | None  # how many units it is computed over, rounded like any count
    reason: StatisticReason | None = None

    @computed_field
    @property
    def suppressed(self) -> bool:
        return self.value is None


def protect_statistic(value: float | None, units: int, policy: DisclosurePolicy) -> Statistic:
    """A mean or median over ``units`` units; hidden when there are too few of them.

    A mean over three people tells about those three people.
    """
    if value is None or units < policy.min_units_for_statistics:
        return Statistic(value=None, units=None, reason=StatisticReason.too_few_units)
    return Statistic(value=round(float(value), policy.statistic_decimals),
                     units=round_to_base(units, policy.rounding_base))


def protect_share(part: int, whole: int, policy: DisclosurePolicy) -> Statistic:
    """``part`` of ``whole`` as a percentage; hidden when it would reveal a small group.

    Besides too small a denominator, 3 of 40 (7.5 %) reveals a count of 3 and 38 of 40
    (95 %) reveals that 2 did not: a part or its complement below the threshold hides it.
    """
    if not 0 <= part <= whole:
        raise ValueError("need 0 <= part <= whole")
    if whole < policy.min_units_for_statistics:
        return Statistic(value=None, units=None, reason=StatisticReason.too_few_units)
    if 0 < part < policy.threshold or 0 < whole - part < policy.threshold:
        return Statistic(value=None, units=None, reason=StatisticReason.small_part)
    return Statistic(value=round(100.0 * part / whole, policy.percentage_decimals),
                     units=round_to_base(whole, policy.rounding_base))
