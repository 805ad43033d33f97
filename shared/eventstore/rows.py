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
    if isinstance(conn, BatchedConnection):
        conn.put(table, values)
    else:
        conn.execute(_upsert(table, conn.dialect.name, frozenset(values)), values)


class BatchedConnection:
    """A connection that sends runs of same-shaped upserts as one executemany.

    Consumers apply hundreds of events per transaction; one statement per event costs
    more than the database work. Anything else executed flushes the pending rows first,
    so reads and updates always see what came before them.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._shape: tuple[Table, frozenset[str]] | None = None
        self._rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    @property
    def dialect(self) -> Any:
        return self._conn.dialect

    def put(self, table: Table, values: dict[str, Any]) -> None:
        shape = (table, frozenset(values))
        if shape != self._shape:
            self.flush()
            self._shape = shape
        self._rows[tuple(values[c.name] for c in table.primary_key.columns)] = values

    def flush(self) -> None:
        if self._rows and self._shape is not None:
            table, columns = self._shape
            self._conn.execute(_upsert(table, self._conn.dialect.name, columns), list(self._rows.values()))
        self._rows.clear()

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.flush()
        return self._conn.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._conn, name)
