"""When the store's head lock is taken: at the append, held to the commit (PostgreSQL).

A command's transaction loads and decides without the head lock, so commands on different
aggregates overlap their work; the append takes the lock and keeps it until the commit, so
positions stay gapless and in commit order, the hash chain unbroken, and a stale load is
still refused. ``exclusive`` transactions take it at the start, as every transaction did
before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.eventstore import ConcurrencyConflict, EventStore, make_engine, migrate
from tests.integration.test_event_store import ACTOR, stopped

WAIT_S = 10.0


@pytest.fixture
def pg_store(make_postgres_db) -> Iterator[EventStore]:  # type: ignore[no-untyped-def]
    engine = make_engine(make_postgres_db())
    migrate(engine)
    yield EventStore(engine, "recruitment")
    engine.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    engine = make_engine(database_url)
    migrate(engine)
    yield EventStore(engine, "recruitment")
    engine.dispose()


@pytest.mark.postgres
def test_a_second_command_is_not_held_up_by_the_first_ones_decision(pg_store: EventStore) -> None:
    """B loads, decides, appends and commits while A is still deciding; the log is in commit order."""
    store = pg_store
    a_deciding, a_may_append, a_appended, a_may_commit = (threading.Event() for _ in range(4))
    finished: dict[str, float] = {}

    def command_a() -> list[int]:
        with store.transaction() as conn:
            loaded = store.load("v-a", conn)
            a_deciding.set()
            assert a_may_append.wait(WAIT_S)  # a long decision
            positions = store.append("v-a", len(loaded), [stopped(1)], actor=ACTOR, conn=conn)
            a_appended.set()
            assert a_may_commit.wait(WAIT_S)  # what follows the append: read models, the commit
        finished["a"] = time.monotonic()
        return positions

    def command(stream_id: str) -> list[int]:
        with store.transaction() as conn:
            loaded = store.load(stream_id, conn)
            positions = store.append(stream_id, len(loaded), [stopped(2)], actor=ACTOR, conn=conn)
        finished[stream_id] = time.monotonic()
        return positions

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(command_a)
        assert a_deciding.wait(WAIT_S)
        b = pool.submit(command, "v-b")
        assert b.result(timeout=WAIT_S) == [1]  # done while A still decides: not behind A's transaction
        assert not a.done()
        a_may_append.set()
        assert a_appended.wait(WAIT_S)
        # from its append to its commit A holds the head: C's append waits for A's commit
        c = pool.submit(command, "v-c")
        time.sleep(0.5)
        assert not c.done()
        a_may_commit.set()
        assert a.result(timeout=WAIT_S) == [2]
        assert c.result(timeout=WAIT_S) == [3]
    assert finished["v-b"] < finished["a"] < finished["v-c"]
    events = store.read_after(0)
    assert [(e.envelope.position, e.envelope.stream_id) for e in events] == [(1, "v-b"), (2, "v-a"), (3, "v-c")]
    recorded = [e.envelope.recorded_at for e in events]
    assert recorded == sorted(recorded)
    assert store.verify().ok


@pytest.mark.postgres
def test_commands_overlap_and_the_log_stays_gapless_in_commit_order(pg_store: EventStore) -> None:
    """Eight writers, each command deciding for a while; the decisions overlap, positions do not."""
    store = pg_store
    writers, per_writer, decision_s = 8, 12, 0.02
    inside, most_inside, lock = [0], [0], threading.Lock()

    def command(w: int, i: int) -> None:
        with store.transaction() as conn:
            loaded = store.load(f"v-{w}-{i}", conn)
            with lock:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            time.sleep(decision_s)
            with lock:
                inside[0] -= 1
            store.append(f"v-{w}-{i}", len(loaded), [stopped(i), stopped(i + 1)], actor=ACTOR, conn=conn)

    started = time.monotonic()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(lambda w: [command(w, i) for i in range(per_writer)], range(writers)))
    spent = time.monotonic() - started
    assert most_inside[0] > 1  # decisions ran at the same time
    assert spent < writers * per_writer * decision_s  # which one writer at a time could not do
    events = store.read_after(0, limit=10_000)
    assert [e.envelope.position for e in events] == list(range(1, writers * per_writer * 2 + 1))
    recorded = [e.envelope.recorded_at for e in events]
    assert recorded == sorted(recorded)
    for first, second in zip(events[::2], events[1::2], strict=True):  # one command's events adjacent
        assert first.envelope.stream_id == second.envelope.stream_id
    assert store.verify().ok


@pytest.mark.postgres
def test_a_stale_load_is_refused_when_another_command_appended_meanwhile(pg_store: EventStore) -> None:
    """Optimistic concurrency holds without the lock at the load: the version check runs under it."""
    store = pg_store
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    with store.transaction() as conn:
        loaded = store.load("v-1", conn)
        store.append("v-1", 1, [stopped(2)], actor=ACTOR)  # another command, committed meanwhile
        with pytest.raises(ConcurrencyConflict, match="version 2, not 1"):
            store.append("v-1", len(loaded), [stopped(3)], actor=ACTOR, conn=conn)
    assert [e.envelope.version for e in store.load("v-1")] == [1, 2]
    assert store.verify().ok


@pytest.mark.postgres
def test_an_exclusive_transaction_holds_the_head_from_its_start(pg_store: EventStore) -> None:
    store = pg_store
    entered, may_end = threading.Event(), threading.Event()

    def exclusive() -> None:
        with store.transaction(exclusive=True):
            entered.set()
            assert may_end.wait(WAIT_S)

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(exclusive)
        assert entered.wait(WAIT_S)
        appending = pool.submit(store.append, "v-1", 0, [stopped(1)], actor=ACTOR)
        time.sleep(0.5)
        assert not appending.done()  # nothing is appended while it runs
        may_end.set()
        held.result(timeout=WAIT_S)
        assert appending.result(timeout=WAIT_S) == [1]


def test_a_decision_resting_on_another_aggregate_is_refused_when_that_one_moved_on(store: EventStore) -> None:
    """``unchanged``: a volunteer received into a project that was closed since it was loaded."""
    store.append("p-1", 0, [stopped(1)], actor=ACTOR)
    project_version = len(store.load("p-1"))
    store.append("p-1", project_version, [stopped(2)], actor=ACTOR)  # the project closed meanwhile
    with pytest.raises(ConcurrencyConflict, match="p-1 is at version 2, not 1"):
        store.append("v-1", 0, [stopped(3)], actor=ACTOR, unchanged=[("p-1", project_version)])
    assert store.load("v-1") == []
    assert store.append("v-1", 0, [stopped(3)], actor=ACTOR, unchanged=[("p-1", 2)]) == [3]
    assert store.append("v-2", 0, [stopped(4)], actor=ACTOR, unchanged=[("p-new", 0)]) == [4]  # still absent
    assert store.verify().ok


@pytest.mark.postgres
def test_a_deadlock_between_a_row_lock_and_the_head_is_broken_and_marked_for_running_again(
    pg_store: EventStore,
) -> None:
    """A holds a read-model row and waits for the head; B holds the head and waits for the row.

    PostgreSQL rolls one back (nothing of it written); the services run that request again
    (``shared.service`` treats it as a dropped connection), and the log stays whole.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from shared.eventstore.db import rolled_back_for_another
    from shared.service import _reconnectable

    store = pg_store
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO relay_state (stream, position) VALUES ('row', 0)"))
    a_locked_row, b_appended = threading.Event(), threading.Event()

    def command_a() -> None:
        with store.transaction() as conn:
            conn.execute(text("UPDATE relay_state SET position = 1 WHERE stream = 'row'"))
            a_locked_row.set()
            assert b_appended.wait(WAIT_S)
            store.append("v-a", 0, [stopped(1)], actor=ACTOR, conn=conn)

    def command_b() -> None:
        assert a_locked_row.wait(WAIT_S)
        with store.transaction() as conn:
            store.append("v-b", 0, [stopped(2)], actor=ACTOR, conn=conn)
            b_appended.set()
            time.sleep(0.2)  # A is waiting for the head by now
            conn.execute(text("UPDATE relay_state SET position = 2 WHERE stream = 'row'"))

    with ThreadPoolExecutor(2) as pool:
        outcomes = [pool.submit(command_a), pool.submit(command_b)]
        errors = [f.exception(timeout=30) for f in outcomes]
    failed = [e for e in errors if e is not None]
    assert len(failed) == 1, errors
    assert isinstance(failed[0], OperationalError) and rolled_back_for_another(failed[0])
    assert _reconnectable(failed[0])  # the request is run again, from the start
    survivor = "v-b" if errors[0] is not None else "v-a"
    assert [e.envelope.stream_id for e in store.read_after(0)] == [survivor]
    assert store.verify().ok
