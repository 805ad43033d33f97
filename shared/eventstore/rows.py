"""Small helpers for read-model writes that must stay harmless when replayed."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


@cache
def _upsert(table: Table, dialect: str, columns: frozenset[str]) -> Any:
    """Built once per table and column set: construction costs more than execution."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    rest = {name: statement.excluded[name] for name in columns if name not in keys}
    if not rest:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=rest)


def put(conn: Connection, table: Table, **values: Any) -> None:
    """Insert or replace the row with these primary-key values, in one statement."""
    conn.execute(_upsert(table, conn.dialect.name, frozenset(values)), values)
