"""Poison that looks like an event: an envelope-shaped stream entry whose position the
producer has not reached yet must not stand in for (or hide) the real event at that position.

The consumer takes positions from the bus entries. A garbage entry that passes envelope
validation and names a position beyond the producer's head is either applied as if it were
that event (an unknown type is skipped, the checkpoint moves), or, when its payload cannot be
applied, dead-lettered after N attempts, which also moves the checkpoint past it. Either way
the real event recorded later at that position is then never applied: lost.

These run against a private Redis with the bus harness of the integration tests (no service
processes; a few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from sqlalchemy import insert

from shared.bus.wire import DATA_KEY, decode_entry
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
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
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.05)


async def forge_after_head(redis: Redis, **changes: Any) -> int:
    """An envelope-shaped entry: the last real one with the next position and other content."""
    [(_, fields)] = await redis.xrevrange(STREAM, count=1)
    body, _ = BinaryMessageFormatV1.parse(fields[DATA_KEY])
    envelope = json.loads(body)
    forged = {**envelope, "event_id": str(uuid.uuid4()), "position": envelope["position"] + 1, **changes}
    raw = await BinaryMessageFormatV1.encode(message=json.dumps(forged).encode(), reply_to=None, headers={},
                                             correlation_id=forged["correlation_id"])
    decode_entry({DATA_KEY: raw})  # it passes as an event: this is the point
    await redis.xadd(STREAM, {DATA_KEY: raw})
    return int(forged["position"])


@pytest.mark.xfail(strict=True, reason="bug: a consumer applies bus entries whose position the producer has not "
                                       "recorded yet (shared/bus/consumer.py handle_entries); see docs/faults.md")
@pytest.mark.parametrize("forgery", [
    pytest.param({"type": "SomethingNobodyKnows"}, id="unknown-type-skipped"),
    pytest.param({"payload": {"volunteer_id": 42}}, id="unreadable-payload-dead-lettered"),
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
        forged_position = await forge_after_head(redis, **forgery)
        # give the consumer time to be done with it (skipped, or dead-lettered after its attempts)
        with contextlib.suppress(AssertionError):
            await wait_for(lambda: consumer.checkpoint("recruitment") >= forged_position, timeout=30)
        # the producer records its real events 4 and 5
        append(store, 2, start=3)
        await publish_all(store, fault_redis.url, PREFIX)
        await wait_for(lambda: consumer.checkpoint("recruitment") == 5)
        real = {e.envelope.position: str(e.envelope.event_id) for e in store.read_after(0, 10)}
        counts = effect_counts(engine)
        assert counts == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, f"effects per position: {counts} (real events {real})"
    finally:
        await consumer.stop()
        await redis.aclose()
        engine.dispose()
        store.engine.dispose()
