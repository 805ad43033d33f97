"""Path and query parameters every service declares the same way.

A value the system cannot store or compute with is refused at the edge with a 422 that
names the parameter in a sentence, and the rule shows in the OpenAPI: every id in a path
or a query has the one id pattern of ``shared.contracts.common`` (an id with a NUL byte
once reached PostgreSQL and answered 500), every integer has an upper bound (a feed
position of 2^63 overflowed the database's 64-bit integer), every day lies within
2000–2100, and text in a query has no control characters.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from shared.contracts.common import (
    EARLIEST_DAY, ID_MAX_LENGTH, ID_PATTERN, ID_RULE, LATEST_DAY, LINE_PATTERN, Day, valid_id)

MAX_POSITION = 2**63 - 1  # the largest position a 64-bit integer column holds
MAX_OFFSET = 1_000_000_000
_ID_SCHEMA = {"pattern": ID_PATTERN, "minLength": 1, "maxLength": ID_MAX_LENGTH}


def _id_or_empty(value: str | None) -> str | None:
    return value if not value else valid_id(value)


PathId = Annotated[str, AfterValidator(valid_id),
                   Path(json_schema_extra=_ID_SCHEMA, description=f"An id: {ID_RULE}.")]
QueryId = Annotated[str | None, AfterValidator(valid_id),
                    Query(json_schema_extra=_ID_SCHEMA, description=f"An id: {ID_RULE}.")]
# An HTML form sends its unset fields as empty strings: an id or nothing
FormId = Annotated[str | None, AfterValidator(_id_or_empty),
                   Query(json_schema_extra={"pattern": r"^[A-Za-z0-9_.:-]*$", "maxLength": ID_MAX_LENGTH},
                         description=f"An id ({ID_RULE}), or empty.")]
QueryLine = Annotated[str | None, Query(min_length=1, max_length=100, pattern=LINE_PATTERN,
                                        description="Text without control characters.")]
FormLine = Annotated[str | None, Query(max_length=100, pattern=LINE_PATTERN,
                                       description="Text without control characters, or empty.")]
QueryDay = Annotated[Day | None, Query(description=f"ISO date, {EARLIEST_DAY.year}–{LATEST_DAY.year}.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Position = Annotated[int, Query(ge=0, le=MAX_POSITION, description="Events after this position.")]


def within_bounds(day: date) -> bool:
    """Whether ``day`` lies within the days the system records and reports on."""
    return EARLIEST_DAY <= day <= LATEST_DAY
