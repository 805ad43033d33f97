"""Building blocks of the pure domain: errors, aggregates and their repository.

Aggregates decide events from commands without I/O; the repository is the thin edge
that loads them from the event store and records what they decided.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy import Connection, select

from shared.events.envelope import Actor
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.db import reader
from shared.eventstore.store import EventStore, NewEvent
from shared.eventstore.tables import events as event_log


class DomainError(Exception):
    """A command that the current state does not allow (HTTP 409).

    ``message`` is a sentence for a professional, Dutch first, English second; ``details``
    (optional) are fields a client acts on, such as the existing file of a likely duplicate.
    """

    status_code = 409

    def __init__(self, message: str, *, code: str = "invalid_transition", details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.details = message, code, details or {}


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what_nl: str, what_en: str, ident: str) -> None:
        super().__init__(f"{what_nl} {ident} bestaat niet / {what_en} {ident} does not exist", code="not_found")


class InvalidInput(DomainError):
    """Well-formed but unacceptable input, such as an unknown municipality (HTTP 422)."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code="invalid_input")
        self.field = field


def entered_day(day: date, today: date, field: str, *, earliest: date | None = None) -> date:
    """Bound a date entered after the fact: not after ``today`` (the Belgian day), not before
    ``earliest`` (the project's start where the service knows it) nor before the system's floor
    (``EARLIEST_DAY``). A refusal is a 422 that names the date and the bound it crosses."""
    from shared.contracts.common import EARLIEST_DAY

    if day > today:
        raise InvalidInput(f"De datum {day.isoformat()} ligt in de toekomst (vandaag is {today.isoformat()}) / "
                           f"The date {day.isoformat()} lies in the future (today is {today.isoformat()})", field=field)
    floor = max(earliest or EARLIEST_DAY, EARLIEST_DAY)
    if day < floor:
        raise InvalidInput(f"De datum {day.isoformat()} ligt vóór het begin van het project ({floor.isoformat()}) / "
                           f"The date {day.isoformat()} lies before the start of the project ({floor.isoformat()})",
                           field=field)
    return day


class Aggregate:
    """State rebuilt from events; subclasses define ``when_<EventType>`` methods."""

    stream_type: ClassVar[str]

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0

    @property
    def exists(self) -> bool:
        return self.version > 0

    def apply(self, event: DomainEvent) -> None:
        handler = getattr(self, f"when_{event.event_type}", None)
        if handler is not None:
            handler(event)
        self.version += 1

    @classmethod
    def replay(cls, aggregate_id: str, events: Sequence[DomainEvent]) -> Self:
        agg = cls(aggregate_id)
        for ev in events:
            agg.apply(ev)
        return agg


A = TypeVar("A", bound=Aggregate)


class Repository(Generic[A]):
    """Loads aggregates from their stream and records what they decided.

    Aggregates loaded inside a transaction are kept after it commits (at most
    ``keep`` of them), so the next command on the same aggregate replays only the
    events recorded since, instead of its whole history: a duo's log grows with every
    contact. A kept aggregate is handed to one transaction at a time, never to a read
    without a connection, and is dropped if that transaction rolls back; what others
    wrote meanwhile (another process) is read from the log before it is used.
    """

    def __init__(self, store: EventStore, cls: type[A], *, keep: int = 1024) -> None:
        self.store, self.cls, self.keep = store, cls, keep
        self._kept: OrderedDict[str, A] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aggregate_id: str, conn: Connection | None = None) -> A:
        if conn is None:
            with reader(self.store.engine).connect() as own:
                return self._replay(own, self.cls(aggregate_id))
        with self._lock:
            kept = self._kept.pop(aggregate_id, None)
        aggregate = self._replay(conn, kept) if kept is not None else None
        if aggregate is None:
            aggregate = self._replay(conn, self.cls(aggregate_id))
            assert aggregate is not None
        if self.keep > 0:  # kept once the transaction has committed; a rollback just drops it
            self.store.after_commit(conn, lambda: self._keep(aggregate))
        return aggregate

    def _replay(self, conn: Connection, aggregate: A) -> A | None:
        """Apply the events after the aggregate's version; None when the log lacks that version."""
        query = (select(event_log.c.version, event_log.c.type, event_log.c.schema_version, event_log.c.payload)
                 .where(event_log.c.stream_id == aggregate.id, event_log.c.version >= aggregate.version)
                 .order_by(event_log.c.version))
        rows = conn.execute(query).all()
        if aggregate.version:
            if not rows or rows[0].version != aggregate.version:
                return None  # kept state the log does not have (a failed commit): replay from the start
            rows = rows[1:]
        for row in rows:
            aggregate.apply(REGISTRY.decode(row.type, row.schema_version, json.loads(row.payload)))
        return aggregate

    def _keep(self, aggregate: A) -> None:
        with self._lock:
            self._kept[aggregate.id] = aggregate
            self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)

    def save(
        self,
        aggregate: A,
        new_events: Sequence[NewEvent],
        *,
        actor: Actor,
        correlation_id: uuid.UUID | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Record what the aggregate decided, expecting nobody changed it since loading."""
        self.store.append(
            aggregate.id, aggregate.version, new_events, actor=actor, correlation_id=correlation_id, conn=conn
        )
        for new in new_events:
            aggregate.apply(new.payload)
