"""Auditors' copy checks: a forged or altered event on the bus or in the feed is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.audit import verify_feed, verify_stream
from shared.bus import StoreFeed
from shared.bus.wire import decode_entry
from shared.events.envelope import Envelope
from tests.integration.bus_harness import append, producer, publish_all


@pytest.fixture
async def redis(redis_url: str):  # type: ignore[no-untyped-def]
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_the_bus_carries_only_the_stores_events(redis, redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    store = producer(f"sqlite:///{tmp_path}/p.db")
    append(store, 6)
    await publish_all(store, redis_url, key_prefix)
    stream = f"{key_prefix}:events:recruitment"
    entries = await redis.xrange(stream)
    await redis.xadd(stream, entries[1][1])  # a duplicate is allowed (at-least-once)
    await redis.xdel(stream, entries[4][0])  # a missing one is allowed (the feed fills it)
    clean = await verify_stream(store, redis, stream)
    assert clean.ok, clean.problems
    assert clean.checked == 6 and clean.missing == 1

    # an altered copy and a forged one are named
    altered = decode_entry(entries[2][1]).model_copy(update={"project_id": "p-elsewhere"})
    forged = decode_entry(entries[3][1]).model_copy(update={"position": 99})
    from faststream.redis.parser import BinaryMessageFormatV1

    for env in (altered, forged):
        data = await BinaryMessageFormatV1.encode(message=env.model_dump(mode="json"), reply_to=None, headers={},
                                                  correlation_id="x")
        await redis.xadd(stream, {"__data__": data})
    result = await verify_stream(store, redis, stream)
    assert not result.ok
    assert any("differs from the store in project_id" in p and str(altered.event_id) in p for p in result.problems)
    assert any("position 99 is not in the store" in p for p in result.problems)


class _TamperedFeed(StoreFeed):
    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        envs = await super().read(service, after, limit)
        return [e.model_copy(update={"payload": {**e.payload, "reason": "other"}}) if e.position == 3 else e
                for e in envs if e.position != 5]


async def test_the_feed_serves_exactly_the_store(tmp_path: Path) -> None:
    store = producer(f"sqlite:///{tmp_path}/p.db")
    append(store, 6)
    assert (await verify_feed(store, StoreFeed({"recruitment": store}), "recruitment", page=4)).ok
    result = await verify_feed(store, _TamperedFeed({"recruitment": store}), "recruitment", page=4)
    assert not result.ok
    assert any("position 3 differs from the store in payload" in p for p in result.problems)
    assert any("position 5 is missing" in p for p in result.problems)
