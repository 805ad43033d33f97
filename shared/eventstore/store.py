"""Append-only event store with optimistic concurrency, gapless positions and a hash chain."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.clock import Clock, SystemClock
from shared.events.envelope import Actor, Envelope, canonical_json
from shared.events.registry import DomainEvent
from shared.eventstore.claims import record_claim
from shared.eventstore.db import StoreBusy, WriteLock, lock_timeout_s, lock_wait_timed_out, reader, snapshot, write_lock
from shared.eventstore.tables import GENESIS_HASH, events, store_head

ANY_VERSION = -1
# Built once: constructing SQLAlchemy statements per call costs more than running them.
# PostgreSQL: the head row's lock, waited for at most the store's lock timeout. The timeout
# is set (for this transaction) by the row filter, which runs in the scan below the locking
# step: one statement, one round trip, and a lock wait that ends in lock_not_available.
_PG_LOCK_HEAD = ("SELECT position, hash FROM store_head WHERE id = 1 "
                 "AND set_config('lock_timeout', {mark}, true) IS NOT NULL FOR UPDATE")
_LOCK_HEAD = text(_PG_LOCK_HEAD.format(mark=":timeout"))
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    if len(text) == 32 and text[10] == "T" and text.endswith("+00:00"):  # format_time's shape: the fast parser
        return datetime.fromisoformat(text)
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
    head_hash: str = GENESIS_HASH  # read with head_position, in the snapshot that was walked
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


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def envelope_json(row: Any, service: str) -> bytes:
    """The envelope JSON of a stored event, built from its row without model round trips.

    The same bytes as compact ``json.dumps`` of the envelope fields (a test holds them
    equal), written directly because this runs for every event the relay and feeds send.
    The payload is stored as canonical JSON text and is spliced in as it is.
    """
    q, q_opt = _quote, _text_or_null
    return (
        f'{{"event_id":{q(row["event_id"])},"type":{q(row["type"])},"schema_version":{int(row["schema_version"])},'
        f'"service":{q(service)},"stream_type":{q(row["stream_type"])},"stream_id":{q(row["stream_id"])},'
        f'"version":{int(row["version"])},"position":{int(row["position"])},"occurred_at":{q(row["occurred_at"])},'
        f'"recorded_at":{q(row["recorded_at"])},"project_id":{q_opt(row["project_id"])},'
        f'"actor":{{"id":{q(row["actor_id"])},"role":{q(row["actor_role"])}}},'
        f'"correlation_id":{q(row["correlation_id"])},"causation_id":{q_opt(row["causation_id"])},'
        f'"payload":{row["payload"]}}}'
    ).encode()


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(select(store_head.c.position, store_head.c.hash).where(store_head.c.id == 1)).one()
    return row.position, row.hash


def _to_stored(row: Any, service: str) -> StoredEvent:
    # pydantic validates JSON text faster than it builds a model from Python values, even
    # unvalidated (model_construct): the row goes to the model as text.
    m = row._mapping
    envelope = Envelope.model_validate_json(envelope_json(m, service))
    return StoredEvent(envelope, m["subject_id"], m["sealed"], m["prev_hash"], m["hash"])


_COLUMNS = _HASHED_COLUMNS + ("prev_hash", "hash")


class _RowBuilder:
    """Turns decided events into event rows once the head and the current versions are known."""

    def __init__(self, store: "EventStore", batches: Sequence[tuple[str, int, Sequence[NewEvent]]], actor: Actor,
                 correlation_id: uuid.UUID | None, causation_id: uuid.UUID | None,
                 unchanged: Sequence[tuple[str, int]] = ()) -> None:
        self.batches = batches
        self.unchanged = unchanged
        self.stream_ids = list(dict.fromkeys([b[0] for b in batches] + [u[0] for u in unchanged]))
        self.clock = store.clock
        self.correlation = str(correlation_id or uuid.uuid4())
        self.causation = str(causation_id) if causation_id else None
        self.actor_id, self.actor_role = actor.id, actor.role.value
        # The payload text does not depend on the head: made before the lock, not while holding it.
        self.payloads = [[canonical_json(new.payload.model_dump(mode="json")) for new in b[2]] for b in batches]
        self.positions: list[int] = []
        self.head: tuple[int, str] = (0, GENESIS_HASH)

    def rows(self, position: int, prev: str, current: dict[str, int]) -> list[tuple[Any, ...]]:
        """Rows in column order; raises ConcurrencyConflict when an aggregate moved on."""
        recorded = format_time(self.clock.now())  # under the lock: recorded_at follows position order
        for stream_id, expected_version in self.unchanged:  # what the decision read, not written to
            if current.get(stream_id, 0) != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, current.get(stream_id, 0))
        out: list[tuple[Any, ...]] = []
        for (stream_id, expected_version, new_events), payloads in zip(self.batches, self.payloads):
            version = current.get(stream_id, 0)
            if expected_version != ANY_VERSION and version != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, version)
            for new, payload_text in zip(new_events, payloads):
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
                    "actor_id": self.actor_id,
                    "actor_role": self.actor_role,
                    "correlation_id": self.correlation,
                    "causation_id": self.causation,
                    "payload": payload_text,
                    "subject_id": new.subject_id,
                    "sealed": new.sealed,
                    "prev_hash": prev,
                }
                row["hash"] = prev = chain_hash(prev, row)
                out.append(tuple(row[c] for c in _COLUMNS))
                self.positions.append(position)
            current[stream_id] = version
        self.head = (position, prev)
        return out


class _Writer:
    """The append statements as driver SQL, for one parameter style."""

    def __init__(self, mark: str, lock: str, versions: str) -> None:
        self.lock_sql, self.versions_sql = lock, versions
        self.insert = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
        self.set_head = f"UPDATE store_head SET position = {mark}, hash = {mark} WHERE id = 1"

    def write(self, dbc: Any, build: _RowBuilder, *, committing: Callable[[], None] | None,
              lock: WriteLock | None = None, timeout_ms: str = "0") -> list[int]:
        """``lock``: the in-process writer lock of an own transaction (SQLite; None elsewhere).

        ``timeout_ms``: how long to wait for the head row's lock (PostgreSQL; SQLite waits
        at BEGIN IMMEDIATE, bounded by the engine).
        """
        raise NotImplementedError

    def reusable(self, dbc: Any) -> bool:
        return True


class _SQLiteWriter(_Writer):
    def write(self, dbc: Any, build: _RowBuilder, *, committing: Callable[[], None] | None,
              lock: WriteLock | None = None, timeout_ms: str = "0") -> list[int]:
        if committing is None:  # a caller's transaction, begun IMMEDIATE under the lock (see db.make_engine)
            return self._rows(dbc, build)
        with lock.held(dbc) if lock is not None else nullcontext():
            dbc.execute("BEGIN IMMEDIATE")
            try:
                positions = self._rows(dbc, build)
                committing()
                dbc.commit()
            except BaseException:
                with suppress(Exception):
                    dbc.rollback()  # before the next writer is let in
                raise
        return positions

    def _rows(self, dbc: Any, build: _RowBuilder) -> list[int]:
        position, prev = dbc.execute(self.lock_sql).fetchone()
        current = dict(dbc.execute(self.versions_sql, (json.dumps(build.stream_ids),)).fetchall())
        dbc.executemany(self.insert, build.rows(position, prev, current))
        dbc.execute(self.set_head, build.head)
        return build.positions


class _PostgresWriter(_Writer):
    def write(self, pg: Any, build: _RowBuilder, *, committing: Callable[[], None] | None,
              lock: WriteLock | None = None, timeout_ms: str = "0") -> list[int]:  # the head row's lock is taken in SQL
        # Round trip one: BEGIN, lock, versions. The versions query starts after the lock
        # is granted, so under READ COMMITTED it sees every append committed before ours:
        # the level is named, not left to the server's default (REPEATABLE READ would fail
        # every append that waited for the lock).
        # Round trip two: insert, head, COMMIT. BEGIN and COMMIT are sent as statements in
        # autocommit mode: psycopg's own BEGIN would cost a round trip of its own.
        commit = committing is not None  # else the caller's transaction
        if commit:
            pg.autocommit = True
        try:
            with pg.pipeline(), pg.cursor() as head, pg.cursor() as versions:
                if commit:
                    head.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                head.execute(self.lock_sql, (timeout_ms,))
                versions.execute(self.versions_sql, (build.stream_ids,))
                position, prev = head.fetchone()
                rows = build.rows(position, prev, dict(versions.fetchall()))
                head.executemany(self.insert, rows)
                head.execute(self.set_head, build.head)
                if committing is not None:
                    committing()
                    head.execute("COMMIT")
        except BaseException:
            if commit:
                with suppress(Exception):  # a broken connection is not reused (see reusable)
                    pg.rollback()  # the server's transaction, whatever psycopg's mode
            raise
        finally:
            if commit:
                with suppress(Exception):  # refused while a transaction is still open
                    pg.autocommit = False
        return build.positions

    def reusable(self, pg: Any) -> bool:
        """Back in the mode the pool hands out, outside a transaction."""
        return not pg.closed and not pg.autocommit


_SQLITE_WRITER = _SQLiteWriter(
    "?", "SELECT position, hash FROM store_head WHERE id = 1",
    "SELECT stream_id, max(version) FROM events WHERE stream_id IN (SELECT value FROM json_each(?)) GROUP BY stream_id",
)
_PG_WRITER = _PostgresWriter(
    "%s", _PG_LOCK_HEAD.format(mark="%s"),
    "SELECT stream_id, max(version) FROM events WHERE stream_id = ANY(%s) GROUP BY stream_id",
)


class EventStore:
    """One service's event log. Appends are serialised on the head row."""

    def __init__(self, engine: Engine, service: str, clock: Clock | None = None) -> None:
        self.engine = engine
        self.service = service
        self.clock = clock or SystemClock()
        self._reads = reader(engine)
        self.lock_timeout_s = lock_timeout_s(engine)
        self._timeout_ms = str(int(self.lock_timeout_s * 1000))
        self._after_commit: dict[int, list[Callable[[], None]]] = {}  # open transaction() -> its hooks

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator[Connection]:
        """A write transaction; pass it to ``append`` to commit other rows with the events.

        PostgreSQL: the head lock is taken by the first ``append`` in the transaction and held
        until the commit, so what a command does before it (loading, deciding, sealing,
        reading read models) runs alongside other commands; only the append and what follows
        it are serialised. Every guarantee of the log is kept: positions are given under the
        lock and the lock is held to the commit (gapless, in commit order), the hash chain is
        extended under it, and the version check runs under it against every append committed
        before (optimistic concurrency: an aggregate loaded before another command appended to
        it is refused with ``ConcurrencyConflict``). A decision that depends on *another*
        aggregate's state names it in ``append(..., unchanged=...)``, checked the same way; one
        that depends on read-model rows locks them (``SELECT ... FOR UPDATE``).

        ``exclusive``: take the head lock at the start instead, so no other append commits
        during the whole transaction (rebuilds of read models, and commands whose read-model
        locks must come after the head lock; see ``services/matching/handlers.py``). It waits
        at most the lock timeout for it, then raises StoreBusy (retryable: nothing was written).

        SQLite has one writer at a time from BEGIN IMMEDIATE, so there every write transaction
        is exclusive (``db.make_engine``).
        """
        hooks: list[Callable[[], None]] = []
        with self.engine.begin() as conn:  # on SQLite this waits for the write lock (db.make_engine)
            self._after_commit[id(conn)] = hooks
            try:
                if exclusive and conn.dialect.name == "postgresql":
                    try:
                        conn.execute(_LOCK_HEAD, {"timeout": self._timeout_ms})
                    except OperationalError as exc:
                        if lock_wait_timed_out(exc):
                            raise StoreBusy(exc.statement, exc.orig, self.lock_timeout_s) from exc
                        raise
                yield conn
            finally:
                self._after_commit.pop(id(conn), None)
        for hook in hooks:  # the commit succeeded: only now is what it recorded known to be there
            hook()

    def after_commit(self, conn: Connection, hook: Callable[[], None]) -> bool:
        """Run ``hook`` once ``conn``'s transaction (one of ``transaction()``) has committed.

        False, and nothing is run, for a connection that is not such a transaction.
        """
        hooks = self._after_commit.get(id(conn))
        if hooks is None:
            return False
        hooks.append(hook)
        return True

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
        unchanged: Sequence[tuple[str, int]] = (),
    ) -> list[int]:
        """Record events of one aggregate; ``expected_version`` 0 means a new aggregate.

        ``unchanged``: (stream id, version) of other aggregates the decision was based on;
        checked with the expected version, under the head lock: ``ConcurrencyConflict`` if
        one of them moved on since it was loaded.

        Returns the positions given to the events.
        """
        return self.append_many(
            [(stream_id, expected_version, new_events)], actor=actor,
            correlation_id=correlation_id, causation_id=causation_id, conn=conn, unchanged=unchanged,
        )

    def append_many(
        self,
        batches: Sequence[tuple[str, int, Sequence[NewEvent]]],
        *,
        actor: Actor,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        conn: Connection | None = None,
        unchanged: Sequence[tuple[str, int]] = (),
    ) -> list[int]:
        """Record events of several aggregates in one transaction (commands and bulk import).

        ``unchanged`` as for ``append``.

        One lock on the head row, one query for the current versions, one multi-row insert,
        sent on the driver connection: SQLAlchemy's per-statement work cost more than the
        database's. On PostgreSQL the statements are pipelined, two round trips in all.
        """
        batches = [b for b in batches if b[2]]
        if not batches:
            return []
        build = _RowBuilder(self, batches, actor, correlation_id, causation_id, unchanged)
        if conn is not None:
            writer = self._writer(conn.dialect.name)
            if not conn.in_transaction():
                conn.begin()  # what SQLAlchemy's autobegin does on a first statement (BEGIN IMMEDIATE on SQLite)
            try:
                positions = writer.write(conn.connection.driver_connection, build, committing=None,
                                         timeout_ms=self._timeout_ms)
                record_claim(conn.connection.driver_connection, conn.dialect)  # the command's key, if any
                return positions
            except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would raise it: callers catch those
                raise self._database_error(exc, writer.insert, conn.dialect) from exc
        writer = self._writer(self.engine.dialect.name)
        with self.engine.connect() as own:
            raw = own.connection
            dbc = raw.driver_connection

            def committing() -> None:
                record_claim(dbc, own.dialect)  # the command's key, if any, with its events
                # the commit is sent on the driver connection: commit listeners hear of it as
                # they would from SQLAlchemy (a request whose commit began is not retried)
                own.dispatch.commit(own)

            try:
                return writer.write(dbc, build, committing=committing, lock=write_lock(self.engine),
                                    timeout_ms=self._timeout_ms)
            except ConcurrencyConflict:
                raw.rollback()
                raise
            except own.dialect.loaded_dbapi.Error as exc:
                disconnected = own.dialect.is_disconnect(exc, raw.dbapi_connection, None)
                if disconnected:
                    own.invalidate(exc)
                else:
                    with suppress(Exception):
                        raw.rollback()
                raise self._database_error(exc, writer.insert, own.dialect, disconnected) from exc
            except BaseException:
                with suppress(Exception):
                    raw.rollback()
                raise
            finally:
                if not own.invalidated and not writer.reusable(dbc):
                    own.invalidate()

    def _database_error(self, exc: Exception, statement: str, dialect: Any, disconnected: bool = False) -> DBAPIError:
        """A driver's error as SQLAlchemy would raise it; a lock wait that timed out as StoreBusy."""
        if lock_wait_timed_out(exc):
            return StoreBusy(statement, exc, self.lock_timeout_s)
        return DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error,
                                   connection_invalidated=disconnected, dialect=dialect)

    def _writer(self, dialect: str) -> Any:
        return _PG_WRITER if dialect == "postgresql" else _SQLITE_WRITER

    def load(self, stream_id: str, conn: Connection | None = None) -> list[StoredEvent]:
        """All events of one aggregate, oldest first."""
        query = select(events).where(events.c.stream_id == stream_id).order_by(events.c.version)
        if conn is not None:
            return [_to_stored(r, self.service) for r in conn.execute(query)]
        with self._reads.connect() as own:
            return [_to_stored(r, self.service) for r in own.execute(query)]

    def read_after(self, position: int, limit: int = 1000, *, until: int | None = None) -> list[StoredEvent]:
        """Events after ``position`` in log order, at most ``limit`` (up to ``until`` if given)."""
        query = select(events).where(events.c.position > position)
        if until is not None:
            query = query.where(events.c.position <= until)
        query = query.order_by(events.c.position).limit(limit)
        with self._reads.connect() as conn:
            return [_to_stored(r, self.service) for r in conn.execute(query)]

    def read_rows_after(self, position: int, limit: int = 1000) -> list[Any]:
        """Raw rows after ``position`` in log order: for the relay, which needs no models."""
        query = select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
        with self._reads.connect() as conn:
            return list(conn.execute(query).mappings())

    def head(self) -> tuple[int, str]:
        with self._reads.connect() as conn:
            return _head(conn)

    def verify(self, batch: int = 5000) -> Verification:
        """Walk the whole log: positions gapless from 1, every hash recomputed, head matching.

        The head and the rows are read in one snapshot (one read transaction: SQLite's WAL
        snapshot, PostgreSQL's REPEATABLE READ), so appends that commit during the walk are
        neither seen nor mistaken for tampering, and the head reported is the one checked.
        """
        # read only on PostgreSQL (an option SQLite ignores): a walk never takes a row lock
        with snapshot(self.engine).execution_options(postgresql_readonly=True).connect() as conn:
            head_position, head_hash = _head(conn)
            return self._walk(conn, head_position, head_hash, batch)

    def _walk(self, conn: Connection, head_position: int, head_hash: str, batch: int) -> Verification:
        result = Verification(ok=True, checked=0, head_position=head_position, head_hash=head_hash)
        expected_position, prev = 1, GENESIS_HASH
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
