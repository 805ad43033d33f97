"""Event store contract: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from shared.contracts.recruitment import StopReason, VolunteerStopped
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import ANY_VERSION, ConcurrencyConflict, EventStore, NewEvent, make_engine, migrate
from shared.eventstore.store import envelope_json, format_time, parse_time

ACTOR = Actor(id="prof-1", role=Role.professional)


def stopped(n: int) -> NewEvent:
    reasons = list(StopReason)
    return NewEvent(VolunteerStopped(volunteer_id=f"v-{n}", project_id=f"p-{n}", reason=reasons[n % len(reasons)]),
                    project_id=f"p-{n}")


@pytest.fixture
def store(database_url: str) -> EventStore:
    engine = make_engine(database_url)
    migrate(engine)
    yield EventStore(engine, "recruitment")
    engine.dispose()


def test_append_and_load_one_aggregate(store: EventStore) -> None:
    store.append("v-1", 0, [stopped(1), stopped(2)], actor=ACTOR)
    store.append("v-2", 0, [stopped(3)], actor=ACTOR)
    loaded = store.load("v-1")
    assert [e.envelope.version for e in loaded] == [1, 2]
    assert [e.envelope.project_id for e in loaded] == ["p-1", "p-2"]
    assert loaded[0].envelope.service == "recruitment"
    assert loaded[0].envelope.actor == ACTOR
    assert [e.envelope.position for e in store.read_after(1)] == [2, 3]
    assert store.head()[0] == 3


def test_wrong_expected_version_is_a_conflict(store: EventStore) -> None:
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    with pytest.raises(ConcurrencyConflict, match="version 1, not 0"):
        store.append("v-1", 0, [stopped(2)], actor=ACTOR)
    store.append("v-1", ANY_VERSION, [stopped(2)], actor=ACTOR)
    assert len(store.load("v-1")) == 2


def test_two_concurrent_appends_at_the_same_version_one_wins(store: EventStore) -> None:
    barrier = threading.Barrier(2)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            store.append("v-race", 0, [stopped(n)], actor=ACTOR)
            return "won"
        except ConcurrencyConflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, [1, 2]))
    assert outcomes == ["conflict", "won"]
    assert len(store.load("v-race")) == 1
    assert store.verify().ok


def test_concurrent_writers_get_gapless_positions_in_commit_order(store: EventStore) -> None:
    writers, per_writer = 8, 25

    def write(w: int) -> None:
        for i in range(per_writer):
            store.append(f"v-{w}-{i}", 0, [stopped(i), stopped(i + 1)], actor=ACTOR)

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    events = store.read_after(0, limit=10_000)
    positions = [e.envelope.position for e in events]
    assert positions == list(range(1, writers * per_writer * 2 + 1))
    # commit order: recorded_at never goes backwards along the positions
    recorded = [e.envelope.recorded_at for e in events]
    assert recorded == sorted(recorded)
    # each append's two events are adjacent: nothing interleaved inside a transaction
    for first, second in zip(events[::2], events[1::2], strict=True):
        assert first.envelope.stream_id == second.envelope.stream_id
    result = store.verify()
    assert result.ok, result.problems
    assert result.checked == writers * per_writer * 2


def test_readers_never_see_a_later_position_before_an_earlier_one(store: EventStore) -> None:
    """A feed reader that saw position N must never later find a new event below N."""
    stop = threading.Event()
    seen_max, violations = [0], []

    def reader() -> None:
        while not stop.is_set():
            rows = store.read_after(0, limit=100_000)
            positions = [r.envelope.position for r in rows]
            if positions != list(range(1, len(positions) + 1)):
                violations.append(positions)
            seen_max[0] = max(seen_max[0], len(positions))

    def write(w: int) -> None:
        for i in range(15):
            store.append(f"r-{w}-{i}", 0, [stopped(i)], actor=ACTOR)

    t = threading.Thread(target=reader)
    t.start()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    stop.set()
    t.join()
    assert not violations
    assert store.head()[0] == 60


def _tamper(store: EventStore, sql: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql))


@pytest.mark.parametrize(
    ("sql", "position", "words"),
    [
        ("UPDATE events SET payload = replace(payload, 'p-2', 'p-X') WHERE position = 2", 2, "altered"),
        ("DELETE FROM events WHERE position = 2", 3, "missing"),
        ("UPDATE events SET stream_id = 'v-other' WHERE position = 3", 3, "altered"),
    ],
    ids=["edited-payload", "deleted-event", "edited-column"],
)
def test_tampering_is_detected_and_named(store: EventStore, sql: str, position: int, words: str) -> None:
    for n in range(1, 5):
        store.append(f"v-{n}", 0, [stopped(n)], actor=ACTOR)
    assert store.verify().ok
    _tamper(store, sql)
    result = store.verify()
    assert not result.ok
    assert result.first_broken_position == position
    assert words in result.problems[0]


def test_reordered_events_are_detected(store: EventStore) -> None:
    for n in range(1, 5):
        store.append(f"v-{n}", 0, [stopped(n)], actor=ACTOR)
    # swap the contents of positions 2 and 3, hashes included
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE events SET position = -2 WHERE position = 2"))
        conn.execute(text("UPDATE events SET position = 2 WHERE position = 3"))
        conn.execute(text("UPDATE events SET position = 3 WHERE position = -2"))
    result = store.verify()
    assert not result.ok and result.first_broken_position == 2


def test_forged_event_appended_behind_the_store_is_detected(store: EventStore) -> None:
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    # copy the last row as a new position without going through the store
    with store.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO events (position, event_id, type, schema_version, stream_type, stream_id, version, "
            "occurred_at, recorded_at, project_id, actor_id, actor_role, correlation_id, causation_id, payload, "
            "subject_id, sealed, prev_hash, hash) SELECT 2, 'forged-0000-0000-0000-000000000000', type, schema_version, "
            "stream_type, 'v-9', 1, occurred_at, recorded_at, project_id, actor_id, actor_role, correlation_id, "
            "causation_id, payload, subject_id, sealed, hash, hash FROM events WHERE position = 1"
        ))
    result = store.verify()
    assert not result.ok
    assert result.first_broken_position == 2
    assert result.first_broken_event_id == "forged-0000-0000-0000-000000000000"


def test_migrations_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    store = EventStore(engine, "matching")
    assert store.head() == (0, "0" * 64)
    engine.dispose()


def test_a_refused_append_inside_a_savepoint_leaves_the_transaction_usable(store: EventStore) -> None:
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    with store.transaction() as conn:
        with pytest.raises(ConcurrencyConflict), conn.begin_nested():
            store.append("v-1", 0, [stopped(2)], actor=ACTOR, conn=conn)
        assert store.append("v-2", 0, [stopped(3)], actor=ACTOR, conn=conn) == [2]
        assert store.append("v-2", 1, [stopped(4)], actor=ACTOR, conn=conn) == [3]
    assert [e.envelope.stream_id for e in store.read_after(0)] == ["v-1", "v-2", "v-2"]
    assert store.verify().ok


def test_a_rolled_back_transaction_leaves_no_events_and_the_next_append_continues(store: EventStore) -> None:
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.append("v-2", 0, [stopped(2)], actor=ACTOR, conn=conn)
        raise RuntimeError("the command fails after appending")
    assert store.head()[0] == 1 and store.load("v-2") == []
    # a conflict in the store's own transaction rolls back too, and the connection goes back clean
    with pytest.raises(ConcurrencyConflict):
        store.append("v-1", 0, [stopped(3)], actor=ACTOR)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.append("v-3", 0, [stopped(4)], actor=ACTOR, conn=conn)
        raise RuntimeError("rolled back, not committed statement by statement")
    assert store.append("v-2", 0, [stopped(5)], actor=ACTOR) == [2]
    assert store.head()[0] == 2 and store.verify().ok


def test_a_database_error_while_appending_is_raised_as_sqlalchemy_raises_it(store: EventStore) -> None:
    """Callers catch SQLAlchemy's exceptions (IntegrityError, DBAPIError for outages)."""
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    with store.engine.begin() as conn:  # a row behind the store's back takes the next position
        conn.execute(text(
            "INSERT INTO events SELECT 2, 'forged-0000-0000-0000-000000000000', type, schema_version, stream_type, "
            "'v-9', 1, occurred_at, recorded_at, project_id, actor_id, actor_role, correlation_id, causation_id, "
            "payload, subject_id, sealed, hash, hash FROM events WHERE position = 1"
        ))
    with pytest.raises(IntegrityError):
        store.append("v-2", 0, [stopped(2)], actor=ACTOR)
    with pytest.raises(IntegrityError), store.transaction() as conn:
        store.append("v-2", 0, [stopped(2)], actor=ACTOR, conn=conn)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position = 2"))
    assert store.append("v-2", 0, [stopped(2)], actor=ACTOR) == [2]
    assert store.verify().ok


def test_read_events_equal_the_validated_envelope_of_their_row(store: EventStore) -> None:
    odd = 'v-"1"\\é'  # text that JSON must escape, and text it must not
    store.append(odd, 0, [NewEvent(stopped(1).payload, project_id=odd)], actor=ACTOR, causation_id=uuid.uuid4())
    store.append("v-2", 0, [stopped(2)], actor=ACTOR)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM events ORDER BY position")).mappings().all()
    for row, stored in zip(rows, store.read_after(0), strict=True):
        fields = {"event_id": row["event_id"], "type": row["type"], "schema_version": row["schema_version"],
                  "service": "recruitment", **{k: row[k] for k in ("stream_type", "stream_id", "version", "position",
                                                                    "occurred_at", "recorded_at", "project_id")},
                  "actor": {"id": row["actor_id"], "role": row["actor_role"]},
                  "correlation_id": row["correlation_id"], "causation_id": row["causation_id"]}
        expected = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)[:-1] + ',"payload":' + row["payload"] + "}"
        assert envelope_json(row, "recruitment") == expected.encode()
        assert stored.envelope == Envelope.model_validate_json(expected)
    first = store.read_after(0)[0].envelope
    assert (first.stream_id, first.project_id, first.causation_id is not None) == (odd, odd, True)


def test_stored_times_parse_back_to_the_same_moment() -> None:
    moment = datetime(2026, 3, 29, 1, 30, 5, 120, tzinfo=UTC)
    assert parse_time(format_time(moment)) == moment and parse_time(format_time(moment)).tzinfo == UTC
    with pytest.raises(ValueError):
        parse_time("2026-03-29")


def test_commit_listeners_hear_of_the_stores_own_commits(store: EventStore) -> None:
    """The service retries a request whose connection dropped only if no commit began."""
    heard: list[object] = []
    event.listen(store.engine, "commit", heard.append)
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    assert len(heard) == 1
    with pytest.raises(ConcurrencyConflict):
        store.append("v-1", 0, [stopped(2)], actor=ACTOR)
    assert len(heard) == 1


def test_an_append_on_a_connection_without_a_transaction_begins_one(store: EventStore) -> None:
    with store.engine.connect() as conn:
        assert store.append("v-1", 0, [stopped(1)], actor=ACTOR, conn=conn) == [1]
        conn.rollback()
    assert store.head()[0] == 0 and store.load("v-1") == []
    with store.engine.connect() as conn:
        store.append("v-1", 0, [stopped(1)], actor=ACTOR, conn=conn)
        conn.commit()
    assert store.head()[0] == 1 and store.verify().ok


def test_sqlite_writers_queue_in_process_and_every_ending_lets_the_next_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Writers wait on the in-process lock, not on SQLite's polling: none fails, none is left holding it."""
    from shared.eventstore.db import write_lock

    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    migrate(engine)
    store = EventStore(engine, "recruitment")
    lock = write_lock(engine)
    assert lock is not None

    def command(i: int) -> None:
        if i % 3 == 0:  # a transaction of the caller's that ends in a rollback
            with pytest.raises(RuntimeError), store.transaction() as conn:
                store.append(f"r-{i}", 0, [stopped(i)], actor=ACTOR, conn=conn)
                raise RuntimeError("refused")
        elif i % 3 == 1:
            with store.transaction() as conn:
                store.append(f"t-{i}", 0, [stopped(i)], actor=ACTOR, conn=conn)
        else:
            store.append(f"o-{i}", 0, [stopped(i)], actor=ACTOR)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(command, range(120)))
    assert not lock._lock.locked()
    events = store.read_after(0, limit=1000)
    assert [e.envelope.position for e in events] == list(range(1, 81))
    assert not any(e.envelope.stream_id.startswith("r-") for e in events)
    with pytest.raises(ConcurrencyConflict):
        store.append("o-2", 0, [stopped(2)], actor=ACTOR)  # a conflict releases the lock as well
    assert not lock._lock.locked()
    engine.dispose()


def test_verify_raises_no_false_alarm_while_writers_append(store: EventStore) -> None:
    """The head and the rows are read in one snapshot: appends committing meanwhile are not tampering.

    50 walks while 8 writers append; each must pass, and the head it reports must be the
    position and hash of one and the same event (what an operator keeps as proof).
    """
    writers, runs = 8, 50
    for n in range(100):
        store.append(f"seed-{n}", 0, [stopped(n)], actor=ACTOR)
    stop = threading.Event()

    def write(w: int) -> int:
        i = 0
        while not stop.is_set():
            store.append(f"live-{w}-{i}", 0, [stopped(i), stopped(i + 1)], actor=ACTOR)
            i += 1
        return i

    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(write, w) for w in range(writers)]
        try:
            results = [store.verify(batch=50) for _ in range(runs)]
        finally:
            stop.set()
        appended = sum(f.result() for f in futures)
    alarms = [r.problems for r in results if not r.ok]
    assert not alarms, f"{len(alarms)} of {runs} walks raised an alarm: {alarms[0]}"
    assert appended > 0 and len({r.head_position for r in results}) > 1  # the walks did run under load
    hashes = {e.envelope.position: e.hash for e in store.read_after(0, limit=100_000)}
    for r in results:
        assert r.checked == r.head_position
        assert hashes[r.head_position] == r.head_hash


@pytest.mark.postgres
def test_appends_do_not_depend_on_the_servers_default_isolation_level(make_postgres_db, postgres_admin_url) -> None:  # type: ignore[no-untyped-def]
    """A server whose transactions default to REPEATABLE READ: concurrent appends all succeed."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_postgres_db()
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE \"{make_url(url).database}\" SET default_transaction_isolation = 'repeatable read'")
    admin.dispose()
    engine = make_engine(url)
    migrate(engine)
    store = EventStore(engine, "recruitment")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW default_transaction_isolation").scalar() == "repeatable read"

    def command(i: int) -> None:
        if i % 2:
            store.append(f"o-{i}", 0, [stopped(i)], actor=ACTOR)
        else:  # a command's own transaction, as the services' handlers run them
            with store.transaction() as conn:
                store.append(f"t-{i}", 0, [stopped(i)], actor=ACTOR, conn=conn)

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(command, range(200)))
        assert [e.envelope.position for e in store.read_after(0, limit=1000)] == list(range(1, 201))
        assert store.verify().ok
    finally:
        engine.dispose()


def test_an_append_waiting_too_long_for_the_store_gives_up_with_a_retryable_error(database_url: str) -> None:
    """Behind an open store transaction an append waits at most the lock timeout, then says: try again."""
    import time

    from shared.eventstore import StoreBusy

    engine = make_engine(database_url, lock_timeout_s=0.5)
    other = make_engine(database_url, lock_timeout_s=0.5)  # as another process would write (SQLite: its own lock)
    migrate(engine)
    store, elsewhere = EventStore(engine, "recruitment"), EventStore(other, "recruitment")
    store.append("v-1", 0, [stopped(1)], actor=ACTOR)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction() as conn:
            store.append("v-2", 0, [stopped(2)], actor=ACTOR, conn=conn)
            holding.set()
            release.wait(30)

    def in_transaction(s: EventStore) -> None:
        with s.transaction() as conn:
            s.append("v-3", 0, [stopped(3)], actor=ACTOR, conn=conn)

    holder = threading.Thread(target=hold)
    holder.start()
    waits = []
    try:
        assert holding.wait(10)
        for attempt in (lambda: store.append("v-3", 0, [stopped(3)], actor=ACTOR), lambda: in_transaction(store),
                        lambda: elsewhere.append("v-3", 0, [stopped(3)], actor=ACTOR), lambda: in_transaction(elsewhere)):
            started = time.monotonic()
            with pytest.raises(StoreBusy, match="busy with another write; try again"):
                attempt()
            waits.append(time.monotonic() - started)
    finally:
        release.set()
        holder.join()
    assert all(0.4 < w < 3 for w in waits), waits
    assert store.append("v-3", 0, [stopped(3)], actor=ACTOR) == [3]
    assert elsewhere.append("v-4", 0, [stopped(4)], actor=ACTOR) == [4]
    assert store.verify().ok
    other.dispose()
    engine.dispose()
