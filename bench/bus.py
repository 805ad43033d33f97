"""Relay and consumer throughput, side by side with a bare redis-py loop over the same events."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta

from faststream.redis import RedisBroker
from redis.asyncio import Redis

from bench.common import Result, redis_url, sqlite_url
from shared.bus import EventConsumer, OutboxRelay, StoreFeed
from shared.contracts.followup import Activity, ContactLogged, ContactMode
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate

ACTOR = Actor(id="bench", role=Role.professional)


def _history(store: EventStore, n: int) -> None:
    """Contacts of 50 duos, the commonest event of a real history."""
    day = date(2026, 1, 1)
    batch: list[tuple[str, int, list[NewEvent]]] = []
    versions: dict[str, int] = {}
    for i in range(n):
        duo = f"d-{i % 50}"
        event = ContactLogged(contact_id=f"c-{i}", duo_id=duo, project_id=f"p-{i % 7}", contact_date=day + timedelta(days=i % 300),
                              minutes=60, mode=ContactMode.in_person, activities=[Activity.walk], logged_by="buddy")
        batch.append((duo, versions.get(duo, 0), [NewEvent(event, project_id=f"p-{i % 7}")]))
        versions[duo] = versions.get(duo, 0) + 1
        if len(batch) == 1000 or i == n - 1:
            merged: dict[str, tuple[str, int, list[NewEvent]]] = {}
            for sid, expected, evs in batch:
                if sid in merged:
                    merged[sid][2].extend(evs)
                else:
                    merged[sid] = (sid, expected, list(evs))
            store.append_many(list(merged.values()), actor=ACTOR)
            batch = []


async def _relay(store: EventStore, url: str, stream: str, n: int) -> float:
    broker = RedisBroker(url)
    await broker.connect()
    relay = OutboxRelay(store, broker, stream, batch=1000)
    started = time.perf_counter()
    published = 0
    while published < n:
        published += await relay.publish_pending()
    elapsed = time.perf_counter() - started
    await broker.stop()
    return n / elapsed


async def _bare_xadd(store: EventStore, url: str, stream: str, n: int) -> float:
    rows = store.read_after(0, n)
    bodies = [r.envelope.model_dump_json().encode() for r in rows]
    client = Redis.from_url(url)
    started = time.perf_counter()
    for start in range(0, n, 1000):
        async with client.pipeline(transaction=False) as pipe:
            for body in bodies[start:start + 1000]:
                pipe.xadd(stream, {"__data__": body})
            await pipe.execute()
    elapsed = time.perf_counter() - started
    await client.aclose()
    return n / elapsed


async def _bare_consume(url: str, stream: str, n: int) -> float:
    client = Redis.from_url(url)
    await client.xgroup_create(stream, "bare", id="0")
    seen = 0
    started = time.perf_counter()
    while seen < n:
        resp = await client.xreadgroup("bare", "b1", {stream: ">"}, count=500, block=1000)
        if not resp:
            continue
        ids = [eid for eid, _ in resp[0][1]]
        seen += len(ids)
        await client.xack(stream, "bare", *ids)
    elapsed = time.perf_counter() - started
    await client.aclose()
    return n / elapsed


async def _reporting_consume(store: EventStore, url: str, stream: str, consumer_db: str, n: int) -> float:
    from services.reporting.projections import on_event
    from services.reporting.rebuild import BatchWriter

    engine = make_engine(consumer_db)
    migrate(engine, "reporting")
    client = Redis.from_url(url)
    consumer = EventConsumer(name="reporting", engine=engine, redis=client, streams={"recruitment": stream},
                             handler=on_event, feed=StoreFeed({"recruitment": store}),
                             dead_letter_stream=f"{stream}:dead", catch_up_interval_s=3600, read_count=500,
                             batch=BatchWriter)  # as the reporting service runs it
    started = time.perf_counter()
    await consumer.start()
    while consumer.checkpoint("recruitment") < n:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await client.aclose()
    engine.dispose()
    return n / elapsed


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    n = max(10, int((5_000 if quick else 100_000) * scale))
    with sqlite_url() as producer_db, sqlite_url() as consumer_db, redis_url() as (url, prefix):
        engine = make_engine(producer_db)
        migrate(engine)
        store = EventStore(engine, "followup")
        _history(store, n)
        ours_stream, bare_stream = f"{prefix}:events:{uuid.uuid4().hex[:6]}", f"{prefix}:bare:{uuid.uuid4().hex[:6]}"
        relay = asyncio.run(_relay(store, url, ours_stream, n))
        bare = asyncio.run(_bare_xadd(store, url, bare_stream, n))
        consume = asyncio.run(_reporting_consume(store, url, ours_stream, consumer_db, n))
        bare_consume = asyncio.run(_bare_consume(url, bare_stream, n))
        engine.dispose()
    return [
        Result("bus", "relay store → Redis", relay, "events/s", "redis-py XADD, pipelined", bare,
               f"{n} contact events; reads the log, publishes, records its position"),
        Result("bus", "reporting consumption", consume, "events/s", "redis-py XREADGROUP + XACK", bare_consume,
               f"{n} events into the reporting projections on SQLite, checkpoint in the same transaction"),
    ]
