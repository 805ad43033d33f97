"""Statistical disclosure control for published counts.

A count below the threshold is never shown; the others are rounded to the base, so
small differences between reports cannot single anybody out. Secondary suppression
across tables and periods is part of the full report catalogue.
"""

from __future__ import annotations

from pydantic import BaseModel


class Cell(BaseModel):
    value: int | None
    suppressed: bool


def protect(count: int, *, threshold: int, base: int) -> Cell:
    if count < threshold:
        return Cell(value=None, suppressed=True)
    return Cell(value=int(base * round(count / base)), suppressed=False)
