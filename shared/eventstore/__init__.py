"""Event store: the source of truth of every writing service."""

from shared.eventstore.db import StoreBusy, make_engine, migrate
from shared.eventstore.store import (
    ANY_VERSION,
    ConcurrencyConflict,
    EventStore,
    NewEvent,
    StoredEvent,
    Verification,
)

__all__ = [
    "ANY_VERSION",
    "ConcurrencyConflict",
    "EventStore",
    "NewEvent",
    "StoreBusy",
    "StoredEvent",
    "Verification",
    "make_engine",
    "migrate",
]
