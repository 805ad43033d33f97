"""Append-only event store with optimistic concurrency, gapless positions and a hash chain."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from shared.clock import Clock, SystemClock
from shared.events.envelope import Actor, Envelope, canonical_json
from shared.events.registry import DomainEvent
from shared.eventstore.db import reader
from shared.eventstore.tables import GENESIS_HASH, events, store_head

ANY_VERSION = -1
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


# Built once: constructing SQLAlchemy statements per append costs more than running them.
_LOCK_HEAD = select(store_head.c.position, store_head.c.hash).where(store_head.c.id == 1).with_for_update()
_CURRENT_VERSIONS = (
    select(events.c.stream_id, func.max(events.c.version))
    .where(events.c.stream_id.in_(bindparam("ids", expanding=True)))
    .group_by(events.c.stream_id)
)
_INSERT_EVENTS = insert(events)
_SET_HEAD = update(store_head).where(store_head.c.id == 1).values(position=bindparam("p"), hash=bindparam("h"))


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


class ConcurrencyConflict(Exception):
    """The aggregate changed since it was loaded (HTTP 409 at the edge)."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{stream_id} is at version {actual}, not {expected}: someone else changed it first; reload and try again"
        )
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


@dataclass(frozen=True)
class NewEvent:
    """An event decided by an aggregate, not yet recorded."""

    payload: DomainEvent
    occurred_at: datetime | None = None
    project_id: str | None = None
    subject_id: str | None = None  # the person whose vault key sealed `sealed`
    sealed: bytes | None = None


@dataclass(frozen=True)
class StoredEvent:
    envelope: Envelope
    subject_id: str | None
    sealed: bytes | None
    prev_hash: str
    hash: str


@dataclass
class Verification:
    ok: bool
    checked: int
    head_position: int
    problems: list[str] = field(default_factory=list)
    first_broken_position: int | None = None
    first_broken_event_id: str | None = None

    def fail(self, position: int | None, event_id: str | None, reason: str) -> None:
        if self.ok:
            self.first_broken_position, self.first_broken_event_id = position, event_id
        self.ok = False
        self.problems.append(reason)


def chain_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """Hash of an event row linked to its predecessor; covers sealed bytes, not plaintext."""
    material = {k: row[k] for k in _HASHED_COLUMNS}
    if material["sealed"] is not None:
        material["sealed"] = base64.b64encode(material["sealed"]).decode()
    return hashlib.sha256((prev_hash + canonical_json(material)).encode()).hexdigest()


_HASHED_COLUMNS = (
    "position", "event_id", "type", "schema_version", "stream_type", "stream_id", "version",
    "occurred_at", "recorded_at", "project_id", "actor_id", "actor_role", "correlation_id",
    "causation_id", "payload", "subject_id", "sealed",
)


def _to_stored(row: Any) -> StoredEvent:
    m = row._mapping
    envelope = Envelope(
        event_id=m["event_id"],
        type=m["type"],
        schema_version=m["schema_version"],
        service="",
        stream_type=m["stream_type"],
        stream_id=m["stream_id"],
        version=m["version"],
        position=m["position"],
        occurred_at=parse_time(m["occurred_at"]),
        recorded_at=parse_time(m["recorded_at"]),
        project_id=m["project_id"],
        actor=Actor(id=m["actor_id"], role=m["actor_role"]),
        correlation_id=m["correlation_id"],
        causation_id=m["causation_id"],
        payload=json.loads(m["payload"]),
    )
    return StoredEvent(envelope, m["subject_id"], m["sealed"], m["prev_hash"], m["hash"])


class EventStore:
    """One service's event log. Appends are serialised on the head row."""

    def __init__(self, engine: Engine, service: str, clock: Clock | None = None) -> None:
        self.engine = engine
        self.service = service
        self.clock = clock or SystemClock()
        self._reads = reader(engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction; pass it to ``append`` to commit other rows with the events.

        It takes the head lock first, so every command locks in the same order (head, then
        read-model rows) and two commands cannot deadlock on PostgreSQL.
        """
        with self.engine.begin() as conn:
            conn.execute(_LOCK_HEAD)
            yield conn

    def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        *,
        actor: Actor,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        conn: Connection | None = None,
    ) -> list[int]:
        """Record events of one aggregate; ``expected_version`` 0 means a new aggregate.

        Returns the positions given to the events.
        """
        return self.append_many(
            [(stream_id, expected_version, new_events)], actor=actor,
            correlation_id=correlation_id, causation_id=causation_id, conn=conn,
        )

    def append_many(
        self,
        batches: Sequence[tuple[str, int, Sequence[NewEvent]]],
        *,
        actor: Actor,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        conn: Connection | None = None,
    ) -> list[int]:
        """Record events of several aggregates in one transaction (commands and bulk import).

        One lock on the head row, one query for the current versions, one multi-row insert.
        """
        if conn is None:
            with self.transaction() as own:
                return self.append_many(batches, actor=actor, correlation_id=correlation_id,
                                        causation_id=causation_id, conn=own)
        batches = [b for b in batches if b[2]]
        if not batches:
            return []
        head = conn.execute(_LOCK_HEAD).one()
        current = dict(conn.execute(_CURRENT_VERSIONS, {"ids": list({b[0] for b in batches})}).all())
        recorded = format_time(self.clock.now())
        correlation = str(correlation_id or uuid.uuid4())
        causation = str(causation_id) if causation_id else None
        actor_id, actor_role = actor.id, actor.role.value
        position, prev = head.position, head.hash
        rows: list[dict[str, Any]] = []
        for stream_id, expected_version, new_events in batches:
            version = current.get(stream_id, 0)
            if expected_version != ANY_VERSION and version != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, version)
            for new in new_events:
                position += 1
                version += 1
                payload = new.payload
                row = {
                    "position": position,
                    "event_id": str(uuid.uuid4()),
                    "type": payload.event_type,
                    "schema_version": payload.schema_version,
                    "stream_type": payload.stream_type,
                    "stream_id": stream_id,
                    "version": version,
                    "occurred_at": format_time(new.occurred_at) if new.occurred_at else recorded,
                    "recorded_at": recorded,
                    "project_id": new.project_id,
                    "actor_id": actor_id,
                    "actor_role": actor_role,
                    "correlation_id": correlation,
                    "causation_id": causation,
                    "payload": canonical_json(payload.model_dump(mode="json")),
                    "subject_id": new.subject_id,
                    "sealed": new.sealed,
                    "prev_hash": prev,
                }
                row["hash"] = prev = chain_hash(prev, row)
                rows.append(row)
            current[stream_id] = version
        conn.execute(_INSERT_EVENTS, rows)
        conn.execute(_SET_HEAD, {"p": position, "h": prev})
        return [r["position"] for r in rows]

    def _with_service(self, stored: StoredEvent) -> StoredEvent:
        env = stored.envelope.model_copy(update={"service": self.service})
        return StoredEvent(env, stored.subject_id, stored.sealed, stored.prev_hash, stored.hash)

    def load(self, stream_id: str, conn: Connection | None = None) -> list[StoredEvent]:
        """All events of one aggregate, oldest first."""
        query = select(events).where(events.c.stream_id == stream_id).order_by(events.c.version)
        if conn is not None:
            return [self._with_service(_to_stored(r)) for r in conn.execute(query)]
        with self._reads.connect() as own:
            return [self._with_service(_to_stored(r)) for r in own.execute(query)]

    def read_after(self, position: int, limit: int = 1000, *, until: int | None = None) -> list[StoredEvent]:
        """Events after ``position`` in log order, at most ``limit`` (up to ``until`` if given)."""
        query = select(events).where(events.c.position > position)
        if until is not None:
            query = query.where(events.c.position <= until)
        query = query.order_by(events.c.position).limit(limit)
        with self._reads.connect() as conn:
            return [self._with_service(_to_stored(r)) for r in conn.execute(query)]

    def read_rows_after(self, position: int, limit: int = 1000) -> list[Any]:
        """Raw rows after ``position`` in log order: for the relay, which needs no models."""
        query = select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
        with self._reads.connect() as conn:
            return list(conn.execute(query).mappings())

    def head(self) -> tuple[int, str]:
        with self._reads.connect() as conn:
            row = conn.execute(select(store_head.c.position, store_head.c.hash).where(store_head.c.id == 1)).one()
            return row.position, row.hash

    def verify(self, batch: int = 5000) -> Verification:
        """Walk the whole log: positions gapless from 1, every hash recomputed, head matching."""
        head_position, head_hash = self.head()
        result = Verification(ok=True, checked=0, head_position=head_position)
        expected_position, prev = 1, GENESIS_HASH
        with self._reads.connect() as conn:
            after = 0
            while True:
                rows = conn.execute(
                    select(events).where(events.c.position > after).order_by(events.c.position).limit(batch)
                ).mappings().all()
                if not rows:
                    break
                for row in rows:
                    pos, eid = row["position"], row["event_id"]
                    if pos != expected_position:
                        result.fail(pos, eid, f"position {expected_position} is missing (next is {pos}): an event was deleted")
                    if row["prev_hash"] != prev:
                        result.fail(pos, eid, f"event {eid} at position {pos} does not link to its predecessor: events were removed, reordered or inserted")
                    if chain_hash(row["prev_hash"], dict(row)) != row["hash"]:
                        result.fail(pos, eid, f"event {eid} at position {pos} was altered: its content does not match its hash")
                    prev, expected_position = row["hash"], pos + 1
                    result.checked += 1
                    if not result.ok:
                        return result
                after = rows[-1]["position"]
        if expected_position - 1 != head_position or prev != head_hash:
            result.fail(
                expected_position, None,
                f"the log ends at position {expected_position - 1} but the store head says {head_position}: "
                "events were appended or removed outside the store",
            )
        return result
