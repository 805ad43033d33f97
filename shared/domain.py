"""Building blocks of the pure domain: errors, aggregates and their repository.

Aggregates decide events from commands without I/O; the repository is the thin edge
that loads them from the event store and records what they decided.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import ClassVar, Generic, Self, TypeVar

from sqlalchemy import Connection

from shared.events.envelope import Actor
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.store import EventStore, NewEvent


class DomainError(Exception):
    """A command that the current state does not allow (HTTP 409).

    ``message`` is a sentence for a professional, Dutch first, English second.
    """

    status_code = 409

    def __init__(self, message: str, *, code: str = "invalid_transition") -> None:
        super().__init__(message)
        self.message, self.code = message, code


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
    def __init__(self, store: EventStore, cls: type[A]) -> None:
        self.store, self.cls = store, cls

    def get(self, aggregate_id: str, conn: Connection | None = None) -> A:
        stored = self.store.load(aggregate_id, conn)
        return self.cls.replay(
            aggregate_id,
            [REGISTRY.decode(s.envelope.type, s.envelope.schema_version, s.envelope.payload) for s in stored],
        )

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
