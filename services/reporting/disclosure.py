"""Statistical disclosure control for published figures: the import surface.

* ``protect`` — one lone count (threshold, then rounding); kept for the summary endpoint.
* ``protect_tables`` / ``protect_table`` — linked tables with margins: primary suppression,
  secondary suppression (no hidden cell can be recomputed from totals or from the other
  tables), rounding, a pattern stable across periods, and advice when too much is hidden.
* ``protect_statistic`` / ``protect_share`` — means, medians and percentages.
* ``DisclosurePolicy.for_audience`` — settings per audience (government, coordinator, project).

The engine lives in ``services.reporting.sdc``; see docs/disclosure.md.
"""

from __future__ import annotations

from pydantic import BaseModel

from services.reporting.sdc.attacker import feasible_intervals
from services.reporting.sdc.policy import (
    AUDIENCE_DEFAULTS, AUDIENCE_LABELS, DIMENSION_LABELS, STATISTIC_REASON_LABELS, STATUS_LABELS, Audience,
    CellStatus, DisclosurePolicy, StatisticReason, round_to_base)
from services.reporting.sdc.release import (
    CellRef, Message, ProtectedCell, ProtectedRelease, ProtectedTable, Suggestion, carry_over, protect_table,
    protect_tables, protection_levels)
from services.reporting.sdc.statistics import Statistic, protect_share, protect_statistic
from services.reporting.sdc.tables import TOTAL, Axis, CountCube, TableSpec

__all__ = [
    "AUDIENCE_DEFAULTS", "AUDIENCE_LABELS", "DIMENSION_LABELS", "STATISTIC_REASON_LABELS", "STATUS_LABELS", "TOTAL",
    "Audience", "Axis", "Cell", "CellRef", "CellStatus", "CountCube", "DisclosurePolicy", "Message",
    "ProtectedCell", "ProtectedRelease", "ProtectedTable", "Statistic", "StatisticReason", "Suggestion",
    "TableSpec", "carry_over", "feasible_intervals", "protect", "protect_share", "protect_statistic",
    "protect_table", "protect_tables", "protection_levels", "round_to_base",
]


class Cell(BaseModel):
    value: int | None
    suppressed: bool


def protect(count: int, *, threshold: int, base: int) -> Cell:
    """A lone count: hidden below the threshold (0 included), otherwise rounded to the base.

    Kept exactly as the summary endpoint has always used it. A lone figure has no table
    around it, so no secondary suppression applies; tables go through ``protect_tables``.
    """
    if count < threshold:
        return Cell(value=None, suppressed=True)
    return Cell(value=round_to_base(count, base), suppressed=False)
