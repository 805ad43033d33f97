"""Registry of event payload types, with upcasters that lift old schema versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    pass


class DomainEvent(BaseModel):
    """Base of every payload. Subclasses are registered with ``@event``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    service: ClassVar[str]
    stream_type: ClassVar[str]


class EventRegistry:
    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[DomainEvent]] = {}
        self._latest: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: type[DomainEvent]) -> None:
        key = (model.event_type, model.schema_version)
        if key in self._models and self._models[key] is not model:
            raise ValueError(f"{key} is registered twice")
        self._models[key] = model
        self._latest[model.event_type] = max(self._latest.get(model.event_type, 0), model.schema_version)

    def add_upcaster(self, event_type: str, from_version: int, fn: Upcaster) -> None:
        self._upcasters[(event_type, from_version)] = fn

    def latest(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._models[(event_type, self._latest[event_type])]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def decode(self, event_type: str, schema_version: int, payload: dict[str, Any]) -> DomainEvent:
        """Lift the payload to the latest version of its type, then validate it."""
        if event_type not in self._latest:
            raise UnknownEventType(event_type)
        version = schema_version
        while version < self._latest[event_type]:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventType(f"{event_type} v{version}: no upcaster to v{version + 1}")
            payload = step(payload)
            version += 1
        return self._models[(event_type, version)].model_validate(payload)

    def decode_known(self, event_type: str, schema_version: int, payload: dict[str, Any]) -> DomainEvent | None:
        """Decode, or None for a type this code does not know: consumers skip what they need not."""
        if event_type not in self._latest:
            return None
        return self.decode(event_type, schema_version, payload)

    def models(self) -> list[type[DomainEvent]]:
        return [self._models[k] for k in sorted(self._models)]

    def of_service(self, service: str) -> list[type[DomainEvent]]:
        return [m for m in self.models() if m.service == service]


REGISTRY = EventRegistry()


def event(name: str, *, version: int = 1, service: str, stream_type: str) -> Callable[[type], type]:
    """Register a payload model under its type name and schema version."""

    def wrap(cls: type[DomainEvent]) -> type[DomainEvent]:
        cls.event_type = name
        cls.schema_version = version
        cls.service = service
        cls.stream_type = stream_type
        REGISTRY.register(cls)
        return cls

    return wrap


def upcaster(name: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def wrap(fn: Upcaster) -> Upcaster:
        REGISTRY.add_upcaster(name, from_version, fn)
        return fn

    return wrap
