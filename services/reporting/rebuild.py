"""Rebuild reporting projections from the producers' logs, up to a watermark if given.

Used for a fresh reporting database, for reproducing a published report (rebuild to its
watermark, recompute, compare hashes) and for "as known on date X" reports.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import json
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import anyio
from sqlalchemy import Connection, Delete, Engine, Table, Update, insert, select, update

from shared.bus.feed import Feed
from shared.events.envelope import Actor, Envelope
from shared.eventstore.db import make_engine, migrate, reader
from shared.eventstore.store import EventStore
from shared.eventstore.rows import BatchedConnection
from shared.eventstore.tables import consumer_checkpoints, events
from services.reporting.projections import (
    _CONTACT_NOW, _PARTICIPANT_WAITING, _WAITING_SINCE, HANDLERS, Counted, Meta, _counted, on_event, on_row)
from services.reporting.read_models import (
    contact_activity_months, contact_months, contacts, erased_subjects, participants)

UPSTREAMS = ("recruitment", "matching", "followup")
Progress = Callable[[str, int, int], None]


# A stored event as the rebuild reads it: (position, event_id, type, schema_version,
# occurred_at, recorded_at, payload JSON), times in the store's fixed UTC format.
_ROWS_SQL = (f"SELECT position, event_id, type, schema_version, occurred_at, recorded_at, payload FROM {events.name} "
             "WHERE position > ? ORDER BY position LIMIT ?")


class StoreRowsFeed:
    """A feed over producers' stores held locally (tools, tests, benchmarks), read as raw rows.

    Gives the same envelopes as ``StoreFeed`` without validating them again (they were
    validated when recorded): parsing an envelope costs more than projecting it. A
    rebuild reads it with ``read_rows``: the stored columns it needs, no envelope at all.
    """

    def __init__(self, stores: dict[str, EventStore]) -> None:
        self.stores = stores

    async def read_rows(self, service: str, after: int, limit: int) -> list[Any]:
        return await anyio.to_thread.run_sync(self._rows, service, after, limit)

    def _rows(self, service: str, after: int, limit: int) -> list[Any]:
        engine = self.stores[service].engine
        sql = _ROWS_SQL if engine.dialect.paramstyle == "qmark" else _ROWS_SQL.replace("?", "%s")
        with reader(engine).connect() as conn:
            cursor = conn.connection.cursor()  # plain tuples: the toolkit's rows cost more than the reading
            try:
                cursor.execute(sql, (after, limit))
                return cursor.fetchall()
            finally:
                cursor.close()

    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        rows = await anyio.to_thread.run_sync(self.stores[service].read_rows_after, after, limit)
        return [_envelope(service, r) for r in rows]

    async def head(self, service: str) -> int:
        position, _ = await anyio.to_thread.run_sync(self.stores[service].head)
        return position


def _envelope(service: str, m: Any) -> Envelope:
    return Envelope.model_construct(
        event_id=uuid.UUID(m["event_id"]), type=m["type"], schema_version=m["schema_version"], service=service,
        stream_type=m["stream_type"], stream_id=m["stream_id"], version=m["version"], position=m["position"],
        occurred_at=datetime.fromisoformat(m["occurred_at"]), recorded_at=datetime.fromisoformat(m["recorded_at"]),
        project_id=m["project_id"], actor=Actor.model_construct(id=m["actor_id"], role=m["actor_role"]),
        correlation_id=uuid.UUID(m["correlation_id"]),
        causation_id=None if m["causation_id"] is None else uuid.UUID(m["causation_id"]),
        payload=json.loads(m["payload"]))


async def watermark_as_of(feed: Feed, upstream: str, recorded_before: str) -> int:
    """The last position recorded at or before a moment (ISO time), by bisection on the feed.

    Positions are given in commit order under one lock, so recorded times rise with them.
    """
    low, high = 0, await feed.head(upstream)
    while low < high:
        middle = (low + high + 1) // 2
        [event] = await feed.read(upstream, middle - 1, 1)
        if event.recorded_at.isoformat() <= recorded_before:
            low = middle
        else:
            high = middle - 1
    return low


async def rebuild(
    engine: Engine,
    feed: Feed,
    *,
    watermark: Mapping[str, int] | None = None,
    consumer: str = "reporting",
    page: int = 2000,
    row_page: int = 20_000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Apply every upstream's events (up to the watermark) to a fresh reporting database.

    A feed with ``read_rows`` (``StoreRowsFeed``) is read as stored rows, ``row_page`` at
    a time, each page projected without building envelopes (``projections.on_row``);
    any other feed as envelopes, ``page`` at a time. Either way a page is one transaction
    whose writes go out grouped per table (``ProjectionWriter``), and the next page is
    read while one is written. Leaves the consumer checkpoints at the watermark, so the
    database can go live as is.
    """
    # Every database call runs in a worker thread: a rebuild inside a live service (a report
    # "as known on" a day) must leave its event loop free for the requests it serves.
    await anyio.to_thread.run_sync(migrate, engine, "reporting")
    reached: dict[str, int] = {}
    memory = Memory(fresh=await anyio.to_thread.run_sync(_is_empty, engine))
    read_rows = getattr(feed, "read_rows", None)
    for upstream in UPSTREAMS:
        until = watermark[upstream] if watermark is not None else await feed.head(upstream)
        position = 0

        async def page_after(after: int) -> list[Any]:
            if after >= until:
                return []
            if read_rows is not None:
                return [r for r in await read_rows(upstream, after, min(row_page, until - after)) if r[0] <= until]
            return [e for e in await feed.read(upstream, after, min(page, until - after)) if e.position <= until]

        apply = _apply_rows if read_rows is not None else _apply
        items = await page_after(position)
        while items:
            last = items[-1][0] if read_rows is not None else items[-1].position
            # read the next page while this one is applied (the reads and writes overlap)
            following = asyncio.ensure_future(page_after(last))
            try:
                await anyio.to_thread.run_sync(apply, engine, items, memory)
            except BaseException:
                following.cancel()
                raise
            position = last
            if progress:
                progress(upstream, position, until)
            items = await following
        reached[upstream] = position
        await anyio.to_thread.run_sync(_checkpoint, engine, memory, consumer, upstream, position)
    return reached


ERASURES = {"recruitment": "VolunteerPersonalDataErased", "matching": "ParticipantPersonalDataErased"}


async def apply_erasures(engine: Engine, feed: Feed, *, page: int = 2000) -> dict[str, int]:
    """Apply every erasure in the owning services' logs to existing reporting projections.

    For a reporting database that was live before reporting forgot erased people (revision
    0307): its rows of people erased earlier still carry their pseudonym. Reads only the
    recruitment and matching logs, up to each consumer checkpoint (what the projections
    already hold; later erasures arrive live), and re-keys those people's rows as the live
    handler does. Idempotent; changes no figure. Returns the erasures applied per service.
    """
    await anyio.to_thread.run_sync(migrate, engine, "reporting")
    applied: dict[str, int] = {}
    for upstream, kind in ERASURES.items():
        until = await anyio.to_thread.run_sync(_checkpoint_of, engine, upstream)
        found: list[Envelope] = []
        after = 0
        while after < until:
            envs = await feed.read(upstream, after, min(page, until - after))
            if not envs:
                break
            found += [e for e in envs if e.type == kind and e.position <= until]
            after = envs[-1].position
        await anyio.to_thread.run_sync(_apply, engine, found, Memory(fresh=False))
        applied[upstream] = len(found)
    return applied


def _checkpoint_of(engine: Engine, upstream: str, consumer: str = "reporting") -> int:
    with engine.connect() as conn:
        return conn.execute(select(consumer_checkpoints.c.position).where(
            consumer_checkpoints.c.consumer == consumer, consumer_checkpoints.c.upstream == upstream)).scalar() or 0


def _is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(contacts.c.contact_id).limit(1)).first() is None


def _checkpoint(engine: Engine, memory: Memory, consumer: str, upstream: str, position: int) -> None:
    """The end of one upstream's log: the counts written (after the followup log) and its checkpoint."""
    with engine.begin() as conn:
        if upstream == "followup":
            memory.write_counts(conn)
        done = conn.execute(update(consumer_checkpoints).where(
            consumer_checkpoints.c.consumer == consumer, consumer_checkpoints.c.upstream == upstream,
        ).values(position=position)).rowcount
        if not done:
            conn.execute(insert(consumer_checkpoints).values(consumer=consumer, upstream=upstream, position=position))


class Memory:
    """What a rebuild keeps between pages, so that handlers need not read what it wrote.

    * participants' ``waiting_since`` (a duo's start reads it);
    * the tokens of erased people (``projections.person`` asks for every person's row);
    * every contact as counted (a correction or retraction moves its counts), and a tally
      per contact shape, spread over the monthly counts and written once at the end of
      the followup log (``write_counts``): additions commute, so the sums equal the live
      consumer's one-by-one additions, and every key it touched gets its row.

    ``fresh``: the database held no contact when the rebuild began, so a contact not
    remembered does not exist; otherwise it is read.
    """

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.erased: set[str] | None = None  # tokens of erased people: read once, then kept up to date
        self.waiting: dict[str, Any] = {}
        self.contacts: dict[str, Counted | None] = {}
        self.tally: dict[Counted, int] = {}  # how many times each contact shape was added, less removed

    def count(self, contact_id: str, was: Counted | None, now: Counted | None) -> None:
        self.contacts[contact_id] = now
        tally = self.tally
        if was is not None:
            tally[was] = tally.get(was, 0) - 1
        if now is not None:
            tally[now] = tally.get(now, 0) + 1

    def write_counts(self, conn: Connection) -> None:
        """The tallies spread over their keys (once per shape, not per contact) and added to the tables."""
        months: dict[tuple[str, ...], list[int]] = {}
        activities: dict[tuple[str, ...], int] = {}
        for c, n in self.tally.items():
            for key in c.month_keys():
                total = months.setdefault(key, [0, 0])
                total[0] += n
                total[1] += n * c.minutes
            for key in c.activity_keys():
                activities[key] = activities.get(key, 0) + n
        for table, rows in ((contact_months, [(*k, n, m) for k, (n, m) in months.items()]),
                            (contact_activity_months, [(*k, n) for k, n in activities.items()])):
            if rows:
                cursor = conn.connection.cursor()
                try:
                    cursor.executemany(_add_sql(table, conn.dialect.paramstyle), rows)
                finally:
                    cursor.close()
        self.tally = {}


def _apply(engine: Engine, envs: list[Envelope], memory: Memory) -> None:
    """One transaction per page, the writes grouped per table (see ``ProjectionWriter``)."""
    with engine.begin() as conn:
        writer = ProjectionWriter(conn, memory)
        for env in envs:
            on_event(writer, env)  # type: ignore[arg-type]
        writer.flush()


def _apply_rows(engine: Engine, rows: list[Any], memory: Memory) -> None:
    """A page of stored rows: the event's days are the first ten characters of its UTC times."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB: the indexes of millions of rows
        writer = ProjectionWriter(conn, memory)
        for _, event_id, kind, schema_version, occurred_at, recorded_at, payload in rows:
            if kind in HANDLERS:
                on_row(writer, kind, schema_version, payload,  # type: ignore[arg-type]
                       Meta(event_id, occurred_at[:10], recorded_at[:10]))
        writer.flush()


class ProjectionWriter(BatchedConnection):
    """Collects a page's projection writes and sends them as few statements as possible.

    The projection tables are independent (no keys between them; a handler reads only
    the row it is about to change), and writes to different rows of a table commute. So
    only the order of the writes to one row (one entity: a volunteer, a duo's pauses, a
    contact, ...) must be kept: each write goes to the next "layer" of its entity, and a
    flush sends, table by table and layer by layer, one executemany per statement (upserts
    of the same row within a layer merged). A read flushes everything first. The result is
    the same as applying every event's writes one by one, in order, as the live consumer does.
    """

    def __init__(self, conn: Connection, memory: Memory) -> None:
        super().__init__(conn)
        self._layers: dict[tuple[str, tuple[Any, ...]], int] = {}
        self._batches: dict[str, dict[int, dict[Any, Any]]] = {}
        self._memory = memory
        self._waiting = memory.waiting

    # What handlers read, answered from the rebuild's memory without flushing; unknown ones are read.
    def waiting_since(self, participant_id: str) -> Any:
        if participant_id in self._waiting:
            return self._waiting[participant_id]
        return self.execute(_WAITING_SINCE, {"k": participant_id}).scalar()

    def contact_now(self, contact_id: str) -> Counted | None:
        known = self._memory.contacts
        if contact_id in known or self._memory.fresh:
            return known.get(contact_id)
        # Not touched in this writer: no pending write is its row's (every contact write is
        # remembered through count_contact), so the database answers without a flush, on the
        # driver's cursor (one per new contact: the toolkit's per-statement work costs more).
        cursor = self._conn.connection.cursor()
        try:
            cursor.execute(_contact_now_sql(self._conn.dialect.paramstyle), (contact_id,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else _counted(dict(zip(_CONTACT_NOW_COLUMNS, row, strict=True)))

    def count_contact(self, contact_id: str, was: Counted | None, now: Counted | None) -> None:
        self._memory.count(contact_id, was, now)

    def is_erased(self, token: str) -> bool:
        """Whether a person is erased (``projections.person``), from memory: read once per writer's memory."""
        if self._memory.erased is None:
            self._memory.erased = set(self._conn.execute(select(erased_subjects.c.token)).scalars())
        return token in self._memory.erased

    def erased(self, token: str) -> None:
        self.is_erased(token)
        assert self._memory.erased is not None
        self._memory.erased.add(token)

    def _add(self, table: str, entity: tuple[Any, ...]) -> dict[Any, Any]:
        layer = self._layers.get((table, entity), -1) + 1
        self._layers[(table, entity)] = layer
        return self._batches.setdefault(table, {}).setdefault(layer, {})

    def put(self, table: Table, values: dict[str, Any]) -> None:
        key_of, entity_of = _keys(table)
        key = key_of(values)
        entity = entity_of(values) if entity_of is not None else key
        if table is participants:
            self._waiting[values["participant_id"]] = values["waiting_since"]
        # the shape: the table and its columns in the handler's order (one call site, one order)
        self._add(table.name, entity).setdefault((table, tuple(values)), {})[key] = values

    def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        table = getattr(statement, "table", None)
        if isinstance(statement, (Update, Delete)) and table is not None and not kwargs and isinstance(parameters, dict):
            if statement is _PARTICIPANT_WAITING and parameters["k"] in self._waiting:
                self._waiting[parameters["k"]] = parameters["v_waiting_since"]
            entity = (parameters["k"], parameters["k_duo"]) if "k_duo" in parameters else parameters["k"]
            self._add(table.name, entity).setdefault(statement, []).append(parameters)
            return None
        self.flush()
        return self._conn.execute(statement, parameters, **kwargs)

    def flush(self) -> None:
        batches, self._batches, self._layers = self._batches, {}, {}
        for layers in batches.values():
            for layer in sorted(layers):
                for what, rows in layers[layer].items():
                    if isinstance(what, tuple):
                        table, columns = what
                        cursor = self._conn.connection.cursor()
                        try:
                            cursor.executemany(_upsert_sql(table, columns, self._conn.dialect.paramstyle),
                                               [tuple(row.values()) for row in rows.values()])
                        finally:
                            cursor.close()
                    else:
                        self._conn.execute(what, rows)


class BatchWriter(ProjectionWriter):
    """The live consumer's batch, written as a rebuild writes a page.

    A batch is one transaction of hundreds of events: the same grouping into few statements,
    and the contact counts summed and added when the batch is written, not per contact.
    """

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn, Memory(fresh=False))

    def flush(self) -> None:
        super().flush()
        self._memory.write_counts(self._conn)


# The entity whose writes must stay in order, where it is not the table's primary key: the
# updates of these tables name it (``k``, ``k_duo``), not the primary key.
ENTITY = {"rp_duo_pauses": ("duo_id",), "rp_volunteer_duos": ("volunteer_id", "duo_id")}


@functools.cache
def _keys(table: Table) -> tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], Any] | None]:
    """Getters of a row's primary key and, where it differs (``ENTITY``), of its entity.

    One column gives the bare value, several a tuple: as the updates name them (``k``, ``k_duo``).
    """
    entity = ENTITY.get(table.name)
    return (operator.itemgetter(*_key_columns(table)),
            None if entity is None else operator.itemgetter(*entity))


@functools.cache
def _add_sql(table: Table, paramstyle: str) -> str:
    """Driver SQL adding counts to a count table's rows (``projections.add_counts``), columns in table order."""
    keys = _key_columns(table)
    columns = [c.name for c in table.columns]
    mark = "?" if paramstyle == "qmark" else "%s"
    added = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in columns if c not in keys)
    return (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}")


@functools.cache
def _contact_now_sql(paramstyle: str) -> str:
    """``projections.contact_now``'s query (its columns) as driver SQL."""
    mark = "?" if paramstyle == "qmark" else "%s"
    return f"SELECT {', '.join(_CONTACT_NOW_COLUMNS)} FROM {contacts.name} WHERE contact_id = {mark}"


_CONTACT_NOW_COLUMNS = tuple(c.name for c in _CONTACT_NOW.selected_columns)


@functools.cache
def _key_columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


@functools.cache
def _upsert_sql(table: Table, columns: tuple[str, ...], paramstyle: str) -> str:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE as driver SQL, built once per table and columns.

    Sent with the driver's ``executemany`` (SQLite and PostgreSQL spell it alike): a page
    writes hundreds of thousands of rows, and binding them one by one through the SQL
    toolkit costs more than the database's work. The columns are plain text, integers
    and booleans, which both drivers adapt as the toolkit would.
    """
    keys = _key_columns(table)
    mark = "?" if paramstyle == "qmark" else "%s"
    rest = [f"{c} = excluded.{c}" for c in columns if c not in keys]
    action = f"DO UPDATE SET {', '.join(rest)}" if rest else "DO NOTHING"
    return (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
            f"ON CONFLICT ({', '.join(keys)}) {action}")

def known_on_mark(day: date) -> str:
    """The last moment of a (UTC) day, as compared with recorded times."""
    return f"{day.isoformat()}T23:59:59.999999+00:00"


async def compute_as_known_on(feed: Feed, parameters: Any, *, folder: str | None = None,
                              page: int = 2000) -> tuple[Any, dict[str, int]]:
    """An overview "as known on" its ``as_known_on`` day: (built report, watermark).

    Finds each producer's last position recorded on or before that day (bisection on the
    feed), rebuilds fresh projections up to there in a temporary SQLite database and
    computes the report on them. The cost is that of a rebuild of the history up to the
    day: O(events), at the rebuild rate of ``bench/reporting_bench.py``.
    """
    from services.reporting.reports import build_overview

    day = parameters.as_known_on
    marks = {u: await watermark_as_of(feed, u, known_on_mark(day)) for u in UPSTREAMS}
    with tempfile.TemporaryDirectory(prefix="buddy-as-known-on-", dir=folder) as where:
        engine = make_engine(f"sqlite:///{where}/projections.db")
        try:
            await rebuild(engine, feed, watermark=marks, page=page)

            def build() -> Any:
                with reader(engine).connect() as conn:
                    return build_overview(conn, parameters)

            built = await anyio.to_thread.run_sync(build)
        finally:
            engine.dispose()
    return built, marks
