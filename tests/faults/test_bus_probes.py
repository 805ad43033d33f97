"""Poison that looks like an event: an envelope-shaped stream entry must not stand in for (or
hide) the real event at the position it names.

The consumer applies the producer's own copy of each event from its feed; a bus entry only
says "there is something up to position P". An envelope-shaped entry naming a position
beyond the producer's head stays pending without moving the checkpoint and is dead-lettered
as garbage after N sightings; one whose content differs from the producer's event at its
position is dead-lettered as garbage at once. Either way the real event is applied once.

Without the bus key such an entry is not authentic and is dead-lettered at once (see
``tests/integration/test_bus.py``); these probes sign it with the key, as if it had leaked,
to hold the checks behind the MAC.

These run against a private Redis with the bus harness of the integration tests (no service
processes; a few seconds).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from sqlalchemy import insert, select

from shared.bus.signing import MAC_KEY, BusKeys
from shared.bus.wire import DATA_KEY, decode_entry
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.eventstore.db import reader
from shared.eventstore.tables import dead_letters
from tests.faults.servers import FaultRedis
from tests.integration.bus_harness import append, consumer_engine, effect_counts, effects, make_consumer, producer, publish_all

pytestmark = [pytest.mark.faults]
PREFIX = "probe"
STREAM = f"{PREFIX}:events:recruitment"


def decoding_handler(conn: Any, env: Envelope) -> None:
    """Like the services' subscribers: decode the payload (raises if it is not the type's), then apply."""
    if REGISTRY.decode_known(env.type, env.schema_version, env.payload) is None:
        return  # a type this consumer does not know: skipped
    conn.execute(insert(effects).values(position=env.position, event_id=str(env.event_id)))


async def wait_for(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await _value(check()):
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.05)


async def _value(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def forge_after_head(redis: Redis, **changes: Any) -> tuple[int, str]:
    """An envelope-shaped entry, signed with the bus key: the last real one with the next position and other content."""
    [(_, fields)] = await redis.xrevrange(STREAM, count=1)
    body, _ = BinaryMessageFormatV1.parse(fields[DATA_KEY])
    envelope = json.loads(body)
    forged = {**envelope, "event_id": str(uuid.uuid4()), "position": envelope["position"] + 1, **changes}
    raw = await BinaryMessageFormatV1.encode(message=json.dumps(forged).encode(), reply_to=None, headers={},
                                             correlation_id=forged["correlation_id"])
    decode_entry({DATA_KEY: raw})  # it passes as an event: this is the point
    entry_id = await redis.xadd(STREAM, {DATA_KEY: raw, MAC_KEY: BusKeys.from_settings().sign(STREAM, raw)})
    return int(forged["position"]), entry_id.decode()


def garbage_letters(engine: Any) -> list[tuple[str, str]]:
    with reader(engine).connect() as conn:
        rows = conn.execute(select(dead_letters.c.entry_id, dead_letters.c.reason, dead_letters.c.position))
        return [(r.entry_id, r.reason) for r in rows if r.position is None]


@pytest.mark.parametrize("forgery", [
    pytest.param({"type": "SomethingNobodyKnows"}, id="unknown-type"),
    pytest.param({"payload": {"volunteer_id": 42}}, id="unreadable-payload"),
])
async def test_an_envelope_shaped_garbage_entry_ahead_of_the_producer_hides_no_real_event(
        forgery: dict[str, Any], tmp_path: Path, fault_redis: FaultRedis) -> None:
    store = producer(f"sqlite:///{tmp_path / 'producer.db'}")
    engine = consumer_engine(f"sqlite:///{tmp_path / 'consumer.db'}")
    redis = Redis.from_url(fault_redis.url)
    append(store, 3)
    await publish_all(store, fault_redis.url, PREFIX)
    consumer = make_consumer(engine, redis, PREFIX, store, handler=decoding_handler, dead_letter_after=3,
                             reclaim_idle_ms=200, catch_up_interval_s=0.2)
    await consumer.start()
    try:
        await wait_for(lambda: consumer.checkpoint("recruitment") == 3)
        forged_position, forged_entry = await forge_after_head(redis, **forgery)
        # seen beyond the producer's head three times (read, then reclaimed): garbage
        await wait_for(lambda: [e for e, _ in garbage_letters(engine)] == [forged_entry])
        assert "beyond the producer's head" in garbage_letters(engine)[0][1]
        assert consumer.checkpoint("recruitment") == 3 == forged_position - 1
        assert effect_counts(engine) == {1: 1, 2: 1, 3: 1}
        # the producer records its real events 4 and 5
        append(store, 2, start=3)
        await publish_all(store, fault_redis.url, PREFIX)
        await wait_for(lambda: consumer.checkpoint("recruitment") == 5)
        assert effects_by_position(engine) == real_events(store)
        assert consumer.problems == []
    finally:
        await consumer.stop()
        await redis.aclose()
        engine.dispose()
        store.engine.dispose()


async def test_an_envelope_shaped_entry_unlike_the_producers_event_is_garbage_and_the_real_one_applies(
        tmp_path: Path, fault_redis: FaultRedis) -> None:
    """The producer has position 4, the bus has not carried it yet, a forged 4 comes first."""
    store = producer(f"sqlite:///{tmp_path / 'producer.db'}")
    engine = consumer_engine(f"sqlite:///{tmp_path / 'consumer.db'}")
    redis = Redis.from_url(fault_redis.url)
    append(store, 3)
    await publish_all(store, fault_redis.url, PREFIX)
    consumer = make_consumer(engine, redis, PREFIX, store, handler=decoding_handler, dead_letter_after=3,
                             reclaim_idle_ms=200, catch_up_interval_s=3600)
    await consumer.start()
    try:
        await wait_for(lambda: consumer.checkpoint("recruitment") == 3)
        append(store, 2, start=3)  # recorded, not yet relayed
        _, forged_entry = await forge_after_head(redis, type="SomethingNobodyKnows")
        await wait_for(lambda: [e for e, _ in garbage_letters(engine)] == [forged_entry])
        assert "not the producer's event at position 4" in garbage_letters(engine)[0][1]
        await wait_for(lambda: consumer.checkpoint("recruitment") == 4)  # the feed's 4
        await publish_all(store, fault_redis.url, PREFIX)  # the real entries arrive late: no second effect
        await wait_for(lambda: consumer.checkpoint("recruitment") == 5)
        await wait_for(lambda: no_pending(redis))
        assert effects_by_position(engine) == real_events(store)
    finally:
        await consumer.stop()
        await redis.aclose()
        engine.dispose()
        store.engine.dispose()


def effects_by_position(engine: Any) -> dict[int, list[str]]:
    with reader(engine).connect() as conn:
        rows = conn.execute(select(effects.c.position, effects.c.event_id).order_by(effects.c.id)).all()
    out: dict[int, list[str]] = {}
    for position, event_id in rows:
        out.setdefault(position, []).append(event_id)
    return out


def real_events(store: Any) -> dict[int, list[str]]:
    return {e.envelope.position: [str(e.envelope.event_id)] for e in store.read_after(0, 100)}


async def no_pending(redis: Redis) -> bool:
    return int((await redis.xpending(STREAM, "reporting"))["pending"]) == 0


async def test_a_failing_envelope_shaped_entry_is_not_dead_lettered_in_the_real_events_place(
        tmp_path: Path, fault_redis: FaultRedis) -> None:
    """The consumer knows the producer is at 5 and has applied 3; a forged 4 whose payload cannot be
    applied comes first. Before its position is dead-lettered it is compared with the feed: unlike
    the producer's 4, it is garbage, and the real 4 applies."""
    store = producer(f"sqlite:///{tmp_path / 'producer.db'}")
    engine = consumer_engine(f"sqlite:///{tmp_path / 'consumer.db'}")
    redis = Redis.from_url(fault_redis.url)
    append(store, 3)
    await publish_all(store, fault_redis.url, PREFIX)
    append(store, 2, start=3)  # recorded; the relay has not carried 4 and 5 yet
    consumer = make_consumer(engine, redis, PREFIX, store, handler=decoding_handler, dead_letter_after=3,
                             reclaim_idle_ms=200, catch_up_interval_s=3600)
    await consumer.start()
    try:
        await wait_for(lambda: consumer.checkpoint("recruitment") == 3)
        _, forged_entry = await forge_after_head(redis, payload={"volunteer_id": 42})
        await wait_for(lambda: [e for e, _ in garbage_letters(engine)] == [forged_entry])
        await wait_for(lambda: consumer.checkpoint("recruitment") == 4)
        with reader(engine).connect() as conn:
            assert conn.execute(select(dead_letters).where(dead_letters.c.position.is_not(None))).all() == []
        await publish_all(store, fault_redis.url, PREFIX)
        await wait_for(lambda: consumer.checkpoint("recruitment") == 5)
        assert effects_by_position(engine) == real_events(store)
    finally:
        await consumer.stop()
        await redis.aclose()
        engine.dispose()
        store.engine.dispose()
