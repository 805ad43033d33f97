"""Back-pressure: a slow consumer holds back no producer, reads a bounded batch at a time, and
one far behind (its entries trimmed off the stream) catches up from the feed, once per event.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from faststream.redis import RedisBroker
from redis.asyncio import Redis
from sqlalchemy import insert

from shared.bus import OutboxRelay, StoreFeed
from shared.events.envelope import Envelope
from tests.integration.bus_harness import append, consumer_engine, effect_counts, effects, make_consumer, producer


async def eventually(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


class CountingFeed(StoreFeed):
    """A store feed that remembers the size of every page it served."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.pages: list[int] = []

    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        envs = await super().read(service, after, limit)
        self.pages.append(len(envs))
        return envs


@pytest.fixture
async def redis(redis_url: str):  # type: ignore[no-untyped-def]
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_slow_consumer_holds_back_neither_the_producer_nor_the_relay(
        redis, redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    store = producer(f"sqlite:///{tmp_path}/producer.db")
    engine = consumer_engine(f"sqlite:///{tmp_path}/consumer.db")
    stream = f"{key_prefix}:events:recruitment"
    gate = threading.Event()  # the consumer's effects wait here: as slow as a consumer gets

    def slow(conn, env: Envelope) -> None:  # type: ignore[no-untyped-def]
        gate.wait(timeout=60)
        time.sleep(0.002)
        conn.execute(insert(effects).values(position=env.position, event_id=str(env.event_id)))

    read_count, n = 10, 300
    consumer = make_consumer(engine, redis, key_prefix, store, handler=slow, read_count=read_count, feed_page=50,
                             catch_up_interval_s=0.5, reclaim_idle_ms=3_600_000)
    broker = RedisBroker(redis_url)
    await broker.connect()
    relay = OutboxRelay(store, broker, stream, batch=50, interval_s=0.01)
    relay_task = asyncio.create_task(relay.run())
    await consumer.start()
    most_pending = 0

    async def sample_pending() -> None:
        nonlocal most_pending
        info = await redis.xpending(stream, "reporting")
        most_pending = max(most_pending, int(info["pending"]))

    try:
        for start in range(0, n, 50):  # the producer records while the consumer is stuck on its first event
            await asyncio.to_thread(append, store, 50, start)
            relay.notify()
            await sample_pending()
        await eventually(lambda: relay.published_position() == n)
        assert await redis.xlen(stream) == n  # all of it relayed
        deadline = time.monotonic() + 30
        while most_pending == 0 and time.monotonic() < deadline:  # the consumer has taken its first batch
            await sample_pending()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time enough to take more, if it would
        await sample_pending()
        assert consumer.checkpoint("recruitment") == 0  # while the consumer has applied nothing
        # it read one batch and waits with it: no more entries taken from the stream, nothing piling up
        assert 0 < most_pending <= read_count

        gate.set()  # the consumer goes on at its own pace
        deadline = time.monotonic() + 60
        while consumer.checkpoint("recruitment") < n and time.monotonic() < deadline:
            await sample_pending()
            await asyncio.sleep(0.02)
        assert consumer.checkpoint("recruitment") == n
        assert most_pending <= read_count
        assert effect_counts(engine) == {p: 1 for p in range(1, n + 1)}
        await eventually(lambda: consumer.applied == n)
    finally:
        gate.set()
        await consumer.stop()
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await broker.stop()
        engine.dispose()
        store.engine.dispose()


@pytest.mark.parametrize("loss", ["trimmed", "deleted"])
async def test_a_consumer_far_behind_a_trimmed_stream_catches_up_from_the_feed_exactly_once(
        loss: str, redis, redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    store = producer(f"sqlite:///{tmp_path}/producer.db")
    engine = consumer_engine(f"sqlite:///{tmp_path}/consumer.db")
    stream = f"{key_prefix}:events:recruitment"
    n, kept, page = 1200, 50, 100
    await asyncio.to_thread(append, store, n)
    broker = RedisBroker(redis_url)
    await broker.connect()
    relay = OutboxRelay(store, broker, stream, batch=500, max_len=kept)  # a capped stream: XADD MAXLEN ~ kept
    while await relay.publish_pending():
        pass
    if loss == "trimmed":  # the stream kept only its newest entries (about `kept`: Redis trims whole nodes)
        assert kept <= await redis.xlen(stream) < n // 2
    else:  # Redis lost it
        await redis.delete(stream)
    feed = CountingFeed({"recruitment": store})
    consumer = make_consumer(engine, redis, key_prefix, store, read_count=20, feed_page=page,
                             catch_up_interval_s=0.2, reclaim_idle_ms=3_600_000)
    consumer.feed = feed
    await consumer.start()
    try:
        await eventually(lambda: consumer.checkpoint("recruitment") == n, timeout=60)
        await asyncio.to_thread(append, store, 5, n)  # and new events flow over the bus again
        while await relay.publish_pending():
            pass
        await eventually(lambda: consumer.checkpoint("recruitment") == n + 5)
        assert effect_counts(engine) == {p: 1 for p in range(1, n + 6)}
        assert consumer.applied == n + 5
        # never more than a page in memory or in one transaction (plus the one event at the
        # checkpoint that a read includes to check the producer still has it)
        assert max(feed.pages) <= page + 1
        deadline = time.monotonic() + 30
        while int((await redis.xpending(stream, "reporting"))["pending"]) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert int((await redis.xpending(stream, "reporting"))["pending"]) == 0
    finally:
        await consumer.stop()
        await broker.stop()
        engine.dispose()
        store.engine.dispose()


async def test_the_relay_stores_its_position_at_most_once_per_interval_and_a_restart_resumes_there(
        redis, redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    """Storing the published position is a durable commit: under load not one per command,
    but once caught up. A relay that restarts begins at the stored position, re-publishing at
    most what came after it."""
    store = producer(f"sqlite:///{tmp_path}/producer.db")
    stream = f"{key_prefix}:events:recruitment"
    broker = RedisBroker(redis_url)
    await broker.connect()
    saves: list[int] = []
    relay = OutboxRelay(store, broker, stream, save_every_s=3600)
    original = relay._save_position
    relay._save_position = lambda position: (saves.append(position), original(position))  # type: ignore[method-assign]
    try:
        for start in range(0, 30, 3):  # ten commands, each published as it comes
            await asyncio.to_thread(append, store, 3, start)
            assert await relay.publish_pending() == 3
        assert relay.published_position() == 30 and await redis.xlen(stream) == 30
        assert saves == [] and relay.saved_position() == 0  # within the interval: nothing stored yet
        relay._saved_at -= 3600  # the interval has passed
        await asyncio.to_thread(append, store, 3, 30)
        assert await relay.publish_pending() == 3
        assert saves == [33] and relay.saved_position() == 33  # once, with the newest position
        assert await relay.publish_pending() == 0  # caught up: stored already, nothing to store
        await asyncio.to_thread(append, store, 3, 33)
        assert await relay.publish_pending() == 3
        assert saves == [33]

        restarted = OutboxRelay(store, broker, stream, save_every_s=0)  # a new process, saving every round
        assert restarted.published_position() == 33
        while await restarted.publish_pending():
            pass
        assert restarted.saved_position() == 36
        # what the first relay had sent after its save went out again: consumers absorb duplicates
        assert await redis.xlen(stream) == 36 + 3
    finally:
        await broker.stop()


async def test_a_relay_that_caught_up_has_stored_its_position(redis, redis_url: str, key_prefix: str,
                                                              tmp_path: Path) -> None:
    store = producer(f"sqlite:///{tmp_path}/producer.db")
    broker = RedisBroker(redis_url)
    await broker.connect()
    try:
        relay = OutboxRelay(store, broker, f"{key_prefix}:events:recruitment", save_every_s=3600)
        await asyncio.to_thread(append, store, 5)
        assert await relay.publish_pending() == 5
        assert relay.saved_position() == 0
        assert await relay.publish_pending() == 0  # nothing new: a quiet moment to store it
        assert relay.saved_position() == 5
    finally:
        await broker.stop()
