"""Our event store behind the `eventsourcing` library's recorder interface, for its contract tests.

The library ships the tests its own recorders must pass (``eventsourcing.tests.persistence``).
Running them against ``shared.eventstore.EventStore`` checks our store against an outside,
independently written statement of what an event store owes its users: events of one
aggregate back in order and filtered by version, a conflicting write refused as a whole, a
log ("notifications") with contiguous ids in commit order that pages, filters and never
interleaves two concurrent writes. This adapter only translates; every write goes through
``EventStore.append_many`` and every read through ``EventStore.load`` / ``read_after`` /
``head``, so what the contract tests exercise is the store the services use.

How the library's terms map onto ours:

- ``originator_id`` is the stream id (a UUID as its text, given back as a UUID);
  ``topic`` is the event type; ``state`` (opaque bytes) travels base64 in the payload.
- ``originator_version`` is kept in the payload. Our store numbers an aggregate's events
  1, 2, 3 … itself and checks an *expected version*; the library's caller names each
  event's version, starting at 0 or 1 as it likes. The adapter therefore takes the first
  version a stream was given as its base and asks our store for ``expected = first
  version of the write − base`` (0 for a new stream). A write that repeats a version, or
  names versions that are not consecutive within the write, is refused as the library's
  ``IntegrityError``, as is our ``ConcurrencyConflict`` (someone else wrote first).
  One difference, by design: the library's own recorders accept a write that *skips*
  versions (3 after 1); ours has no gaps in an aggregate, so the adapter refuses it. No
  contract case writes such a gap.
- A notification id is our log position: gapless from 1, in commit order.

Contract cases that do not apply to our store, skipped by name in
``tests/integration/test_recorder_contract.py`` with these reasons:

- ``TrackingRecorderTestCase`` and ``ProcessRecorderTestCase``: our store records no
  tracking objects. Where a service consumes another's events, the bus consumer
  (``shared.bus.consumer``) keeps one checkpoint row per upstream in its own projection
  transaction and deduplicates by position there; the event store's append takes no
  tracking argument, so there is nothing of ours for these cases to exercise.
- ``ApplicationRecorder.subscribe`` (only the library's *optional* case
  ``optional_test_insert_subscribe`` calls it; the library itself does not run it as a
  test): our log is followed by the relay, which publishes it to Redis Streams, not by
  in-process subscriptions. ``subscribe`` raises ``NotImplementedError`` saying so.
- ``InfrastructureFactoryTestCase`` and ``TranscoderTestCase`` are not recorder contracts:
  they test the library's own factory, mapper, cipher and transcoder, none of which our
  store uses.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    IntegrityError,
    Notification,
    StoredEvent,
)
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError

from shared.events.envelope import Actor, Role
from shared.events.registry import DomainEvent
from shared.eventstore import ConcurrencyConflict, EventStore, NewEvent
from shared.eventstore.store import StoredEvent as OurStoredEvent

ACTOR = Actor(id="contract-tests", role=Role.system)
_PAGE = 1000


class PeerRecorded(DomainEvent):
    """An event written through the library's interface: its version and state, as given."""

    event_type: ClassVar[str] = "PeerRecorded"
    schema_version: ClassVar[int] = 1
    service: ClassVar[str] = "contract"
    stream_type: ClassVar[str] = "peer"

    originator_version: int
    state: str  # base64 of the library's opaque bytes


_TOPICS: dict[str, type[PeerRecorded]] = {}


def _payload_type(topic: str) -> type[PeerRecorded]:
    """One payload class per topic: the topic is stored as the event type (a column, filterable)."""
    model = _TOPICS.get(topic)
    if model is None:
        model = _TOPICS[topic] = type("PeerRecorded_" + str(len(_TOPICS)), (PeerRecorded,), {"event_type": topic})
    return model


def _originator(stream_id: str) -> uuid.UUID | str:
    try:
        parsed = uuid.UUID(stream_id)
    except ValueError:
        return stream_id
    return parsed if str(parsed) == stream_id else stream_id


def _stored(event: OurStoredEvent) -> StoredEvent:
    env = event.envelope
    return StoredEvent(originator_id=_originator(env.stream_id), originator_version=env.payload["originator_version"],
                       topic=env.type, state=base64.b64decode(env.payload["state"]))


def _notification(event: OurStoredEvent) -> Notification:
    env = event.envelope
    return Notification(id=env.position, originator_id=_originator(env.stream_id),
                        originator_version=env.payload["originator_version"], topic=env.type,
                        state=base64.b64decode(env.payload["state"]))


class StoreAggregateRecorder(AggregateRecorder):
    """The library's aggregate recorder interface over one ``EventStore``."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._insert(stored_events)
        return None

    def _insert(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        if not stored_events:
            return []
        streams: dict[str, list[StoredEvent]] = {}
        for e in stored_events:
            streams.setdefault(str(e.originator_id), []).append(e)
        batches = []
        for stream_id, stream in streams.items():
            versions = [e.originator_version for e in stream]
            if versions != list(range(versions[0], versions[0] + len(versions))):
                raise IntegrityError(f"{stream_id}: versions {versions} in one write are not consecutive")
            existing = self.store.load(stream_id)
            base = existing[0].envelope.payload["originator_version"] if existing else versions[0]
            expected = versions[0] - base
            if expected < 0:
                raise IntegrityError(f"{stream_id}: version {versions[0]} is before the stream's first, {base}")
            news = [NewEvent(_payload_type(e.topic)(originator_version=e.originator_version,
                                                    state=base64.b64encode(e.state).decode()))
                    for e in stream]
            batches.append((stream_id, expected, news))
        try:
            return self.store.append_many(batches, actor=ACTOR)
        except ConcurrencyConflict as exc:
            raise IntegrityError(str(exc)) from exc
        except DatabaseIntegrityError as exc:  # two writers creating one stream: the unique (stream, version)
            raise IntegrityError(str(exc.orig)) from exc

    def select_events(self, originator_id: uuid.UUID | str, *, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> Sequence[StoredEvent]:
        out = [_stored(e) for e in self.store.load(str(originator_id))]
        out = [e for e in out if (gt is None or e.originator_version > gt)
               and (lte is None or e.originator_version <= lte)]
        if desc:
            out.reverse()
        return out[:limit] if limit is not None else out


class StoreApplicationRecorder(StoreAggregateRecorder, ApplicationRecorder):
    """Adds the log: notification ids are the store's gapless positions."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._insert(stored_events)

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *, inclusive_of_start: bool = True) -> Sequence[Notification]:
        after = 0 if start is None else (start - 1 if inclusive_of_start else start)
        wanted = set(topics)
        out: list[Notification] = []
        while len(out) < limit:
            page = self.store.read_after(after, _PAGE if wanted else limit - len(out), until=stop)
            if not page:
                break
            out.extend(_notification(e) for e in page if not wanted or e.envelope.type in wanted)
            after = page[-1].envelope.position
        return out[:limit]

    def max_notification_id(self) -> int | None:
        position, _hash = self.store.head()
        return position or None

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Any:
        raise NotImplementedError(
            "our store's log is followed by its relay, which publishes it to Redis Streams; "
            "it offers no in-process subscription"
        )
