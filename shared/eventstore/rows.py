"""Small helpers for read-model writes that must stay harmless when replayed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert


def put(conn: Connection, table: Table, **values: Any) -> None:
    """Insert or replace the row with these primary-key values (portable upsert)."""
    key = and_(*(column == values[column.name] for column in table.primary_key.columns))
    conn.execute(delete(table).where(key))
    conn.execute(insert(table).values(**values))
