"""Rebuild reporting projections from the producers' logs, up to a watermark if given.

Used for a fresh reporting database, for reproducing a published report (rebuild to its
watermark, recompute, compare hashes) and for "as known on date X" reports.
"""

from __future__ import annotations

import asyncio
import functools
import json
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import anyio
from sqlalchemy import Connection, Delete, Engine, Table, Update, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.bus.feed import Feed
from shared.events.envelope import Actor, Envelope
from shared.eventstore.db import make_engine, migrate, reader
from shared.eventstore.store import EventStore
from shared.eventstore.rows import BatchedConnection
from shared.eventstore.tables import consumer_checkpoints
from services.reporting.projections import on_event

UPSTREAMS = ("recruitment", "matching", "followup")
Progress = Callable[[str, int, int], None]


class StoreRowsFeed:
    """A feed over producers' stores held locally (tools, tests, benchmarks), read as raw rows.

    Gives the same envelopes as ``StoreFeed`` without validating them again (they were
    validated when recorded): parsing an envelope costs more than projecting it.
    """

    def __init__(self, stores: dict[str, EventStore]) -> None:
        self.stores = stores

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


async def head_of(feed: Feed, upstream: str) -> int:
    return await feed.head(upstream)


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
    progress: Progress | None = None,
) -> dict[str, int]:
    """Apply every upstream's events (up to the watermark) to a fresh reporting database.

    Leaves the consumer checkpoints at the watermark, so the database can go live as is.
    """
    migrate(engine, "reporting")
    reached: dict[str, int] = {}
    for upstream in UPSTREAMS:
        until = watermark[upstream] if watermark is not None else await feed.head(upstream)
        position = 0

        async def page_after(after: int) -> list[Envelope]:
            if after >= until:
                return []
            return [e for e in await feed.read(upstream, after, min(page, until - after)) if e.position <= until]

        envs = await page_after(position)
        while envs:
            # read the next page while this one is applied (the reads and writes overlap)
            following = asyncio.ensure_future(page_after(envs[-1].position))
            try:
                await anyio.to_thread.run_sync(_apply, engine, envs)
            except BaseException:
                following.cancel()
                raise
            position = envs[-1].position
            if progress:
                progress(upstream, position, until)
            envs = await following
        reached[upstream] = position
        with engine.begin() as conn:
            done = conn.execute(update(consumer_checkpoints).where(
                consumer_checkpoints.c.consumer == consumer, consumer_checkpoints.c.upstream == upstream,
            ).values(position=position)).rowcount
            if not done:
                conn.execute(insert(consumer_checkpoints).values(consumer=consumer, upstream=upstream, position=position))
    return reached


def _apply(engine: Engine, envs: list[Envelope]) -> None:
    """One transaction per page, the writes grouped per table (see ``ProjectionWriter``)."""
    with engine.begin() as conn:
        writer = ProjectionWriter(conn)
        for env in envs:
            on_event(writer, env)  # type: ignore[arg-type]
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

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._layers: dict[tuple[str, tuple[Any, ...]], int] = {}
        self._batches: dict[str, dict[int, dict[Any, Any]]] = {}

    def _add(self, table: str, entity: tuple[Any, ...]) -> dict[Any, Any]:
        layer = self._layers.get((table, entity), -1) + 1
        self._layers[(table, entity)] = layer
        return self._batches.setdefault(table, {}).setdefault(layer, {})

    def put(self, table: Table, values: dict[str, Any]) -> None:
        entity = tuple(values[c] for c in ENTITY.get(table.name, ())) or tuple(
            values[c.name] for c in table.primary_key.columns)
        shape = (table, frozenset(values))
        rows = self._add(table.name, entity).setdefault(shape, {})
        rows[tuple(values[c.name] for c in table.primary_key.columns)] = values

    def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        table = getattr(statement, "table", None)
        if isinstance(statement, (Update, Delete)) and table is not None and not kwargs and isinstance(parameters, dict):
            entity = (parameters["k"], parameters["k_duo"]) if "k_duo" in parameters else (parameters["k"],)
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
                        self._conn.execute(_upsert(table, self._conn.dialect.name, columns), list(rows.values()))
                    else:
                        self._conn.execute(what, rows)


# The entity whose writes must stay in order, where it is not the table's primary key: the
# updates of these tables name it (``k``, ``k_duo``), not the primary key.
ENTITY = {"rp_duo_pauses": ("duo_id",), "rp_volunteer_duos": ("volunteer_id", "duo_id")}


@functools.cache
def _upsert(table: Table, dialect: str, columns: frozenset[str]) -> Any:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE, built once per table and column set."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    rest = {name: statement.excluded[name] for name in columns if name not in keys}
    if not rest:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=rest)

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
