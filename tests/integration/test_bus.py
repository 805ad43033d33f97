"""The bus layer against a real Redis: nothing lost, no effect twice, poison set aside."""

from __future__ import annotations

import asyncio
import inspect
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from structlog.testing import capture_logs

from shared.bus.wire import decode_entry
from shared.eventstore.db import reader
from shared.bus.signing import BusKeys
from tests.integration.bus_harness import (
    append,
    consumer_engine,
    effect_counts,
    effects,
    forged_entry,
    make_consumer,
    producer,
    publish_all,
    recording_handler,
)

ROOT = Path(__file__).resolve().parents[2]


async def eventually(check, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def redis(redis_url: str):  # type: ignore[no-untyped-def]
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def stores(tmp_path: Path):  # type: ignore[no-untyped-def]
    return producer(f"sqlite:///{tmp_path}/producer.db"), consumer_engine(f"sqlite:///{tmp_path}/consumer.db")


async def test_relay_publishes_in_order_and_resumes_after_restart(redis, redis_url, key_prefix, stores) -> None:
    store, _ = stores
    append(store, 30)
    assert await publish_all(store, redis_url, key_prefix) == 30
    append(store, 5, start=30)
    # a new relay (a restarted process) resumes after what was published
    assert await publish_all(store, redis_url, key_prefix) == 5
    entries = await redis.xrange(f"{key_prefix}:events:recruitment")
    positions = [decode_entry(fields).position for _, fields in entries]
    assert positions == list(range(1, 36))


async def test_relay_publishes_no_sealed_personal_data(redis, redis_url, key_prefix, stores) -> None:
    from shared.contracts.recruitment import RecruitmentChannel, VolunteerEnquiryReceived
    from shared.eventstore import NewEvent
    from tests.integration.bus_harness import ACTOR

    store, _ = stores
    event = VolunteerEnquiryReceived(volunteer_id="v-1", project_id="p-1", channel=RecruitmentChannel.website,
                                     municipality_nis="11002")
    store.append("v-1", 0, [NewEvent(event, subject_id="v-1", sealed=b"SEALED-SECRET-BYTES")], actor=ACTOR)
    await publish_all(store, redis_url, key_prefix)
    raw = await redis.xrange(f"{key_prefix}:events:recruitment")
    assert len(raw) == 1
    blob = b"".join(v for _, fields in raw for v in fields.values())
    assert b"SEALED-SECRET-BYTES" not in blob and b"U0VBTEVE" not in blob  # nor its base64
    assert b"subject_id" not in blob


async def test_same_message_delivered_three_times_has_one_effect(redis, redis_url, key_prefix, stores) -> None:
    store, engine = stores
    append(store, 3)
    await publish_all(store, redis_url, key_prefix)
    entries = await redis.xrange(f"{key_prefix}:events:recruitment")
    stream = f"{key_prefix}:events:recruitment"
    # the same events land on the stream twice more (a relay that crashed before saving its position)
    for _ in range(2):
        for _, fields in entries:
            await redis.xadd(stream, fields)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600)
    await consumer.start()
    try:
        await eventually(lambda: sum(effect_counts(engine).values()) >= 3)
        await eventually(lambda: _pending_is_empty(redis, stream))
        await asyncio.sleep(0.3)
        assert effect_counts(engine) == {1: 1, 2: 1, 3: 1}
        # and a direct redelivery of an already applied entry changes nothing
        await consumer.handle_entries("recruitment", entries)
        assert effect_counts(engine) == {1: 1, 2: 1, 3: 1}
    finally:
        await consumer.stop()


async def _pending_is_empty(redis, stream: str) -> bool:  # type: ignore[no-untyped-def]
    info = await redis.xpending(stream, "reporting")
    return info["pending"] == 0


async def test_malformed_message_is_dead_lettered_and_the_consumer_carries_on(redis, redis_url, key_prefix, stores) -> None:
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 2)
    await publish_all(store, redis_url, key_prefix)
    garbage = b"\x00garbage that is no event"  # signed (a relay's bug, say): authentic, and still no event
    await redis.xadd(stream, {"__data__": garbage, "__mac__": BusKeys.from_settings().sign(stream, garbage)})
    await redis.xadd(stream, {"something": "else"})
    append(store, 2, start=2)
    await publish_all(store, redis_url, key_prefix)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600)
    await consumer.start()
    try:
        await eventually(lambda: sum(effect_counts(engine).values()) == 4)
        dead = await redis.xrange(f"{key_prefix}:deadletter:reporting")
        assert len(dead) == 2
        reasons = sorted(f[b"reason"].decode() for _, f in dead)
        assert reasons[0].startswith("not authentic: the entry carries no MAC")
        assert reasons[1].startswith("the body is not an event envelope")
        await eventually(lambda: _pending_is_empty(redis, stream))
    finally:
        await consumer.stop()
    assert effect_counts(engine) == {1: 1, 2: 1, 3: 1, 4: 1}


async def test_an_event_that_keeps_failing_is_dead_lettered_after_n_attempts(redis, redis_url, key_prefix, stores) -> None:
    store, engine = stores
    append(store, 5)
    await publish_all(store, redis_url, key_prefix)
    consumer = make_consumer(engine, redis, key_prefix, store, handler=recording_handler(fail_positions=frozenset({3})),
                             dead_letter_after=3, reclaim_idle_ms=100, catch_up_interval_s=0.1)
    await consumer.start()
    try:
        await eventually(lambda: sorted(effect_counts(engine)) == [1, 2, 4, 5])
        dead = await redis.xrange(f"{key_prefix}:deadletter:reporting")
        assert [json.loads(f[b"envelope"])["position"] for _, f in dead] == [3]
        await eventually(lambda: _pending_is_empty(redis, f"{key_prefix}:events:recruitment"))
    finally:
        await consumer.stop()
    assert consumer.checkpoint("recruitment") == 5
    assert set(effect_counts(engine).values()) == {1}


async def test_a_database_that_is_busy_or_away_dead_letters_nothing(redis, redis_url, key_prefix, stores) -> None:
    """A lock wait that timed out or a dropped connection is the database's trouble, not the event's:
    however often it happens, the event waits and is applied once the database answers again."""
    from sqlalchemy.exc import OperationalError

    from shared.eventstore.db import StoreBusy

    store, engine = stores
    append(store, 4)
    await publish_all(store, redis_url, key_prefix)
    troubles = [StoreBusy("SELECT", Exception("lock wait timed out"), 0.5),
                OperationalError("INSERT", None, Exception("server closed the connection unexpectedly"))] * 4
    record = recording_handler()

    def handler(conn, env):  # type: ignore[no-untyped-def]
        if env.position == 3 and troubles:
            raise troubles.pop()
        record(conn, env)

    consumer = make_consumer(engine, redis, key_prefix, store, handler=handler, dead_letter_after=3,
                             reclaim_idle_ms=100, catch_up_interval_s=0.1)
    await consumer.start()
    try:
        await eventually(lambda: sorted(effect_counts(engine)) == [1, 2, 3, 4])
        await eventually(lambda: _pending_is_empty(redis, f"{key_prefix}:events:recruitment"))
    finally:
        await consumer.stop()
    assert not troubles  # every one of the eight was met, more than dead_letter_after
    assert await redis.xrange(f"{key_prefix}:deadletter:reporting") == []
    assert effect_counts(engine) == {1: 1, 2: 1, 3: 1, 4: 1}


async def test_stream_deleted_in_redis_consumer_catches_up_from_the_feed(redis, redis_url, key_prefix, stores) -> None:
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 10)
    await publish_all(store, redis_url, key_prefix)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=0.2)
    await consumer.start()
    try:
        await eventually(lambda: len(effect_counts(engine)) == 10)
        await redis.delete(stream)  # Redis lost the stream and the group with it
        append(store, 10, start=10)  # recorded while the bus has nothing of it
        await eventually(lambda: len(effect_counts(engine)) == 20)
        # new events after the loss still flow over the bus again
        append(store, 5, start=20)
        await publish_all(store, redis_url, key_prefix)
        await eventually(lambda: len(effect_counts(engine)) == 25)
    finally:
        await consumer.stop()
    assert effect_counts(engine) == {p: 1 for p in range(1, 26)}


async def test_a_gap_on_the_bus_is_filled_from_the_feed(redis, redis_url, key_prefix, stores) -> None:
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 6)
    await publish_all(store, redis_url, key_prefix)
    entries = await redis.xrange(stream)
    await redis.xdel(stream, entries[2][0], entries[3][0])  # positions 3 and 4 never arrive by Redis
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600)
    await consumer.start()
    try:
        await eventually(lambda: len(effect_counts(engine)) == 6)
    finally:
        await consumer.stop()
    assert effect_counts(engine) == {p: 1 for p in range(1, 7)}


async def test_consumer_killed_mid_batch_its_pending_messages_are_processed_by_another(
    redis, redis_url, key_prefix, stores, tmp_path
) -> None:
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 60)
    await publish_all(store, redis_url, key_prefix)
    marker = tmp_path / "holding"
    # The worker reads batches of 10 and stops for good at position 15, inside the second
    # batch's transaction: killed then, it holds 11-20 unacknowledged, whatever the timing.
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.bus_harness", redis_url, key_prefix,
         f"sqlite:///{tmp_path}/producer.db", f"sqlite:///{tmp_path}/consumer.db", "doomed", "0",
         "15", str(marker)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        await eventually(marker.exists, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    pending = await redis.xpending(stream, "reporting")
    assert pending["pending"] > 0, "the killed consumer should have left entries pending"
    assert len(effect_counts(engine)) < 60
    survivor = make_consumer(engine, redis, key_prefix, store, consumer_id="survivor", reclaim_idle_ms=300,
                             catch_up_interval_s=3600)
    await survivor.start()
    try:
        await eventually(lambda: len(effect_counts(engine)) == 60, timeout=30)
        await eventually(lambda: _pending_is_empty(redis, stream))
    finally:
        await survivor.stop()
    assert effect_counts(engine) == {p: 1 for p in range(1, 61)}


async def test_a_new_group_reads_the_whole_history(redis, redis_url, key_prefix, stores, tmp_path) -> None:
    store, engine = stores
    append(store, 8)
    await publish_all(store, redis_url, key_prefix)
    late = consumer_engine(f"sqlite:///{tmp_path}/late.db")
    consumer = make_consumer(late, redis, key_prefix, store, name="latecomer", catch_up_interval_s=3600)
    await consumer.start()
    try:
        await eventually(lambda: len(effect_counts(late)) == 8)
    finally:
        await consumer.stop()


def _backup_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def test_a_producer_that_lost_applied_events_stops_its_upstream_and_is_reported(
        redis, redis_url, key_prefix, stores, tmp_path) -> None:
    """The producer is restored from a backup older than what the consumer applied."""
    store, engine = stores
    append(store, 3)
    _backup_sqlite(tmp_path / "producer.db", tmp_path / "backup.db")
    append(store, 3, start=3)
    await publish_all(store, redis_url, key_prefix)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=0.1)
    await consumer.start()
    try:
        await eventually(lambda: consumer.checkpoint("recruitment") == 6)
        applied = _effect_ids(engine)
        restored = producer(f"sqlite:///{tmp_path}/backup.db")
        consumer.feed.stores["recruitment"] = restored  # type: ignore[attr-defined]
        append(restored, 2, start=100)  # new events at positions 4 and 5: head 5, below our 6
        with capture_logs() as logs:
            await eventually(lambda: consumer.problems != [])
        assert "ends at position 5" in consumer.problems[0] and "position 6" in consumer.problems[0]
        assert [e["event"] for e in logs if e["log_level"] == "error"] == ["consumer.producer_lost_events"]
        # a consumer started afresh (it knows only its checkpoint) sees it too
        fresh = make_consumer(engine, redis, key_prefix, restored, consumer_id="c2", catch_up_interval_s=0.1)
        await fresh.start()
        try:
            await eventually(lambda: fresh.problems != [])
            assert "ends at position 5" in fresh.problems[0]
        finally:
            await fresh.stop()
        # the restored producer goes past our checkpoint with other events: the running consumer, which
        # knows what it applied at 6, applies nothing after it (that would skip the new 4, 5 and 6)
        append(restored, 4, start=200)  # positions 6..9
        await publish_all(restored, redis_url, key_prefix)
        await eventually(lambda: "rewritten" in "".join(consumer.problems))
        assert "position 6 is" in consumer.problems[0]
        await asyncio.sleep(0.5)  # several catch-up rounds and the bus entries of 6..9
        assert consumer.checkpoint("recruitment") == 6
        assert _effect_ids(engine) == applied
        restored.engine.dispose()
    finally:
        await consumer.stop()


def _effect_ids(engine) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with reader(engine).connect() as conn:
        return {p: e for p, e in conn.execute(select(effects.c.position, effects.c.event_id))}


async def test_idle_consumers_without_pending_entries_are_removed_from_the_group(
        redis, redis_url, key_prefix, stores) -> None:
    """Every restart reads under a new consumer name; the old names must not pile up."""
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 4)
    await publish_all(store, redis_url, key_prefix)
    await redis.xgroup_create(stream, "reporting", id="0")
    [(_, done)] = await redis.xreadgroup("reporting", "gone-clean", {stream: ">"}, count=2)
    await redis.xack(stream, "reporting", *[eid for eid, _ in done])
    await redis.xreadgroup("reporting", "gone-holding", {stream: ">"}, count=1)  # left pending
    await asyncio.sleep(0.3)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600, reclaim_idle_ms=3_600_000,
                             forget_idle_ms=200)
    await consumer.start()
    try:
        await eventually(lambda: len(effect_counts(engine)) == 4)
        names = {c["name"].decode() for c in await redis.xinfo_consumers(stream, "reporting")}
        assert names == {"c1", "gone-holding"}, names
        # and the one that holds an entry stays, however long idle, until that is reclaimed
        await asyncio.sleep(0.3)
        assert await consumer.forget_idle_consumers("recruitment") == []
    finally:
        await consumer.stop()


async def test_entries_wait_while_the_producers_feed_is_away_and_apply_once_it_answers(
        redis, redis_url, key_prefix, stores) -> None:
    """Entries beyond the producer's head as last read cannot be checked while its feed is away: they wait."""
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 3)
    await publish_all(store, redis_url, key_prefix)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=0.2, reclaim_idle_ms=300)
    feed = consumer.feed
    away = False

    class AwayFeed:
        async def read(self, service: str, after: int, limit: int):  # type: ignore[no-untyped-def]
            if away:
                raise ConnectionError("the producer does not answer")
            return await feed.read(service, after, limit)

        async def head(self, service: str) -> int:
            if away:
                raise ConnectionError("the producer does not answer")
            return await feed.head(service)

    consumer.feed = AwayFeed()  # type: ignore[assignment]
    await consumer.start()
    try:
        await eventually(lambda: consumer.checkpoint("recruitment") == 3)
        away = True
        append(store, 2, start=3)
        await publish_all(store, redis_url, key_prefix)
        await eventually(lambda: _has_pending(redis, stream))
        await asyncio.sleep(0.8)  # reads, reclaims and catch-ups while the feed is away
        assert consumer.checkpoint("recruitment") == 3 and len(effect_counts(engine)) == 3
        away = False
        await eventually(lambda: consumer.checkpoint("recruitment") == 5)
        await eventually(lambda: _pending_is_empty(redis, stream))
    finally:
        await consumer.stop()
    assert effect_counts(engine) == {p: 1 for p in range(1, 6)}
    assert await redis.xlen(f"{key_prefix}:deadletter:reporting") == 0


async def _has_pending(redis, stream: str) -> bool:  # type: ignore[no-untyped-def]
    return (await redis.xpending(stream, "reporting"))["pending"] > 0


def _real_event_ids(store) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {e.envelope.position: str(e.envelope.event_id) for e in store.read_after(0, 1000)}


def _dead_reasons(engine) -> list[str]:  # type: ignore[no-untyped-def]
    from shared.eventstore.tables import dead_letters

    with reader(engine).connect() as conn:
        return sorted(r for r in conn.execute(select(dead_letters.c.reason)).scalars())


async def test_unsigned_entries_in_the_place_of_real_ones_are_dead_lettered_and_the_real_events_apply(
        redis, redis_url, key_prefix, stores) -> None:
    """Someone who can write to Redis, without the bus key, adds entries with the positions of real
    events while the consumer lags behind the producer's head it knows (it was restarted)."""
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 3)
    await publish_all(store, redis_url, key_prefix)
    first = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600)
    await first.start()
    try:
        await eventually(lambda: first.checkpoint("recruitment") == 3)
    finally:
        await first.stop()
    append(store, 3, start=3)  # 4..6 recorded, not yet relayed
    [(_, template)] = await redis.xrange(stream, count=1)
    for position in (2, 4, 5, 6):  # below the checkpoint, below the head and at it
        await redis.xadd(stream, await forged_entry(template, stream, position=position))
    restarted = make_consumer(engine, redis, key_prefix, store, consumer_id="c2", catch_up_interval_s=3600)
    await restarted.start()  # it reads the producer's head (6): every forged entry is at or below it
    try:
        await eventually(lambda: len(_dead_reasons(engine)) == 4)
        await publish_all(store, redis_url, key_prefix)  # the real 4..6 arrive
        await eventually(lambda: restarted.checkpoint("recruitment") == 6)
        await eventually(lambda: _pending_is_empty(redis, stream))
    finally:
        await restarted.stop()
    assert _effect_ids(engine) == _real_event_ids(store)
    assert set(effect_counts(engine).values()) == {1}
    assert all("not authentic: the entry carries no MAC" in r for r in _dead_reasons(engine)), _dead_reasons(engine)


async def test_two_different_signed_entries_for_one_position_are_set_aside_and_the_feeds_event_applies(
        redis, redis_url, key_prefix, stores) -> None:
    """With the bus key leaked a forged entry verifies; beside the real one it is an alarm."""
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 3)
    await publish_all(store, redis_url, key_prefix)
    [(_, template)] = await redis.xrange(stream, count=1)
    forged = await forged_entry(template, stream, keys=BusKeys.from_settings(), position=2)
    forged_id = await redis.xadd(stream, forged)  # after the real 2: it used to replace it
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600)
    with capture_logs() as logs:
        await consumer.start()
        try:
            await eventually(lambda: consumer.checkpoint("recruitment") == 3)
            await eventually(lambda: _pending_is_empty(redis, stream))
        finally:
            await consumer.stop()
    assert _effect_ids(engine) == _real_event_ids(store)
    dead = await redis.xrange(f"{key_prefix}:deadletter:reporting")
    assert sorted(f[b"entry_id"] for _, f in dead) == sorted([(await redis.xrange(stream))[1][0], forged_id])
    assert all(b"two different entries claim position 2" in f[b"reason"] for _, f in dead)
    assert [e["position"] for e in logs if e["event"] == "consumer.conflicting_entries"] == [2]
    assert consumer.forgeries == 2


async def test_a_forged_event_applied_last_is_named_a_forgery_and_still_after_a_restart(
        redis, redis_url, key_prefix, stores) -> None:
    """A signed forgery (leaked key) applied in place of the producer's event: the consumer notices once
    it compares its last applied event with the feed, names it a forgery (not a restored producer),
    and a restart does not clear it (the event id is kept with the checkpoint)."""
    store, engine = stores
    stream = f"{key_prefix}:events:recruitment"
    append(store, 2)
    await publish_all(store, redis_url, key_prefix)
    append(store, 1, start=2)  # 3 recorded, not yet relayed
    [(_, template)] = await redis.xrange(stream, count=1)
    await redis.xadd(stream, await forged_entry(template, stream, keys=BusKeys.from_settings(), position=3))
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=0.1)
    await consumer.start()
    try:
        await eventually(lambda: consumer.problems != [])
    finally:
        await consumer.stop()
    assert consumer.checkpoint("recruitment") == 3
    assert "forged" in consumer.problems[0] and "backup" not in consumer.problems[0], consumer.problems
    restarted = make_consumer(engine, redis, key_prefix, store, consumer_id="c2", catch_up_interval_s=0.1)
    await restarted.start()
    try:
        await eventually(lambda: restarted.problems != [])
        assert "forged" in restarted.problems[0] and "position 3" in restarted.problems[0], restarted.problems
        await publish_all(store, redis_url, key_prefix)
        await asyncio.sleep(0.3)
        assert restarted.problems and restarted.checkpoint("recruitment") == 3
    finally:
        await restarted.stop()


async def test_a_consumer_started_after_its_producer_was_restored_and_grew_past_it_names_the_restore(
        redis, redis_url, key_prefix, stores, tmp_path) -> None:
    store, engine = stores
    append(store, 3)
    _backup_sqlite(tmp_path / "producer.db", tmp_path / "backup.db")
    append(store, 3, start=3)
    await publish_all(store, redis_url, key_prefix)
    consumer = make_consumer(engine, redis, key_prefix, store, catch_up_interval_s=3600)
    await consumer.start()
    try:
        await eventually(lambda: consumer.checkpoint("recruitment") == 6)
    finally:
        await consumer.stop()
    restored = producer(f"sqlite:///{tmp_path}/backup.db")
    append(restored, 5, start=100)  # 4..8: other events at positions the consumer passed, and beyond
    fresh = make_consumer(engine, redis, key_prefix, restored, consumer_id="c2", catch_up_interval_s=0.1)
    await fresh.start()
    try:
        await eventually(lambda: fresh.problems != [])
        assert "restored from an old backup" in fresh.problems[0] and "position 6" in fresh.problems[0]
        await asyncio.sleep(0.3)
        assert fresh.checkpoint("recruitment") == 6
    finally:
        await fresh.stop()
        restored.engine.dispose()
