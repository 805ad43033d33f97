"""Event contracts: the envelope every event travels in, and the registry of payloads."""

from shared.events.envelope import Actor, Envelope, Role
from shared.events.registry import REGISTRY, DomainEvent, EventRegistry, UnknownEventType, event, upcaster

__all__ = [
    "REGISTRY",
    "Actor",
    "DomainEvent",
    "Envelope",
    "EventRegistry",
    "Role",
    "UnknownEventType",
    "event",
    "upcaster",
]
