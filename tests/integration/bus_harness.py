"""A producer store, its relay and a consumer with a countable effect, for bus tests.

Run as a module it is a consumer process that a test can kill mid-batch:
``python -m tests.integration.bus_harness <redis_url> <prefix> <producer_db> <consumer_db> <name> <delay_s> [<hang_at> <marker>]``
With ``hang_at`` the handler stops for good when it reaches that position, inside the batch's
transaction, after touching ``marker``: the test kills it then, with the batch read and not
acknowledged, instead of guessing a moment from timing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
import time
from pathlib import Path

from faststream.redis import RedisBroker
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select

from shared.bus import EventConsumer, OutboxRelay, StoreFeed
from shared.bus.signing import MAC_KEY, BusKeys
from shared.bus.wire import DATA_KEY
from shared.contracts.recruitment import StopReason, VolunteerStopped
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.db import reader

ACTOR = Actor(id="prof-1", role=Role.professional)
effects_meta = MetaData()
effects = Table(
    "test_effects", effects_meta,
    Column("id", Integer, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),
)


def producer(url: str) -> EventStore:
    engine = make_engine(url)
    migrate(engine)
    return EventStore(engine, "recruitment")


def consumer_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    effects_meta.create_all(engine)
    return engine


def append(store: EventStore, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        store.append(f"v-{i}", 0, [NewEvent(VolunteerStopped(volunteer_id=f"v-{i}", project_id="p-1",
                                                             reason=StopReason.no_time), project_id="p-1")], actor=ACTOR)


def recording_handler(delay_s: float = 0.0, fail_positions: frozenset[int] = frozenset(),  # type: ignore[no-untyped-def]
                      hang_at: int | None = None, marker: Path | None = None):
    def handle(conn, env: Envelope) -> None:  # type: ignore[no-untyped-def]
        if env.position == hang_at:
            if marker is not None:
                marker.touch()
            while True:  # held mid-batch until the test kills the process
                time.sleep(3600)
        if env.position in fail_positions:
            raise RuntimeError(f"cannot apply position {env.position}")
        if delay_s:
            time.sleep(delay_s)
        conn.execute(insert(effects).values(position=env.position, event_id=str(env.event_id)))

    return handle


def effect_counts(engine: Engine) -> dict[int, int]:
    with reader(engine).connect() as conn:
        rows = conn.execute(select(effects.c.position, func.count()).group_by(effects.c.position))
        return {p: c for p, c in rows}


def make_consumer(engine: Engine, redis: Redis, prefix: str, store: EventStore, *, name: str = "reporting",
                  consumer_id: str = "c1", handler=None, **kw) -> EventConsumer:  # type: ignore[no-untyped-def]
    return EventConsumer(
        name=name, engine=engine, redis=redis, streams={"recruitment": f"{prefix}:events:recruitment"},
        handler=handler or recording_handler(), feed=StoreFeed({"recruitment": store}),
        dead_letter_stream=f"{prefix}:deadletter:{name}", consumer_id=consumer_id, **kw,
    )


async def forged_entry(fields: dict, stream: str, *, keys: BusKeys | None = None, **changes: object) -> dict:
    """A real entry's envelope with another event id (and ``changes``), as someone who can write to
    Redis would add it: unsigned, or signed with ``keys`` (a leaked bus key)."""
    body, _ = BinaryMessageFormatV1.parse(fields[DATA_KEY])
    envelope = json.loads(body)
    forged = {**envelope, "event_id": str(uuid.uuid4()), **changes}
    raw = await BinaryMessageFormatV1.encode(message=json.dumps(forged).encode(), reply_to=None, headers={},
                                             correlation_id=forged["correlation_id"])
    return {DATA_KEY: raw, MAC_KEY: keys.sign(stream, raw)} if keys else {DATA_KEY: raw}


async def publish_all(store: EventStore, redis_url: str, prefix: str) -> int:
    broker = RedisBroker(redis_url)
    await broker.connect()
    relay = OutboxRelay(store, broker, f"{prefix}:events:recruitment", batch=100)
    total = 0
    while (n := await relay.publish_pending()) > 0:
        total += n
    await broker.stop()
    return total


async def _main(redis_url: str, prefix: str, producer_db: str, consumer_db: str, name: str, delay: float,
                hang_at: int | None = None, marker: Path | None = None) -> None:
    store = producer(producer_db)
    engine = consumer_engine(consumer_db)
    redis = Redis.from_url(redis_url)
    handler = recording_handler(delay, hang_at=hang_at, marker=marker)
    consumer = make_consumer(engine, redis, prefix, store, consumer_id=name, handler=handler,
                             read_count=10, catch_up_interval_s=3600, reclaim_idle_ms=3_600_000)
    await consumer.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    hang = (int(sys.argv[7]), Path(sys.argv[8])) if len(sys.argv) > 8 else (None, None)
    asyncio.run(_main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]), *hang))
