"""`buddy audit verify` on a tampered store file: one test per kind of tampering.

An edited payload, a deleted event, two events swapped and a forged event appended
behind the store (with a hash that links correctly, as a forger who read the code would
compute it): each makes the command exit 1 and name the first broken event by position
and id, with what is wrong in words.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from shared.cli import app
from shared.contracts.recruitment import StopReason, VolunteerStopped
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.store import chain_hash
from shared.eventstore.tables import events

ACTOR = Actor(id="prof-1", role=Role.professional)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EventStore:
    for name in list(os.environ):
        if name.upper().startswith("BUDDY_") and not name.upper().startswith("BUDDY_TEST_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUDDY_DATA_DIR", str(tmp_path))
    engine = make_engine(f"sqlite:///{tmp_path / 'recruitment.db'}")
    migrate(engine, "recruitment")
    store = EventStore(engine, "recruitment")
    for n in range(1, 5):
        store.append(f"v-{n}", 0, [NewEvent(VolunteerStopped(volunteer_id=f"v-{n}", project_id="p-1",
                                                             reason=list(StopReason)[n]), project_id="p-1")],
                     actor=ACTOR)
    yield store
    engine.dispose()


def event_id(store: EventStore, position: int) -> str:
    with store.engine.connect() as conn:
        return conn.execute(select(events.c.event_id).where(events.c.position == position)).scalar_one()


def tamper(store: EventStore, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def verify() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--service", "recruitment"])
    return result.exit_code, result.output


def test_an_untouched_store_verifies(store: EventStore) -> None:
    code, output = verify()
    assert code == 0, output
    assert "recruitment: store ok — 4 events, head 4" in output


def test_an_edited_payload_is_named(store: EventStore) -> None:
    victim = event_id(store, 2)
    tamper(store, "UPDATE events SET payload = replace(payload, 'p-1', 'p-X') WHERE position = 2")
    code, output = verify()
    assert code == 1
    assert f"store BROKEN at position 2 (event {victim})" in output
    assert "was altered: its content does not match its hash" in output


def test_a_deleted_event_is_named(store: EventStore) -> None:
    follower = event_id(store, 3)
    tamper(store, "DELETE FROM events WHERE position = 2")
    code, output = verify()
    assert code == 1
    assert f"store BROKEN at position 3 (event {follower})" in output
    assert "position 2 is missing (next is 3): an event was deleted" in output


def test_a_reordered_event_is_named(store: EventStore) -> None:
    moved = event_id(store, 3)
    tamper(store,  # swap the rows at positions 2 and 3, hashes and all
           "UPDATE events SET position = -2 WHERE position = 2",
           "UPDATE events SET position = 2 WHERE position = 3",
           "UPDATE events SET position = 3 WHERE position = -2")
    code, output = verify()
    assert code == 1
    assert f"store BROKEN at position 2 (event {moved})" in output
    assert "does not link to its predecessor: events were removed, reordered or inserted" in output


def test_a_forged_event_appended_behind_the_store_is_named(store: EventStore) -> None:
    """The forger links the new row to the head's hash correctly; only the store head gives it away."""
    forged_id = str(uuid.uuid4())
    with store.engine.begin() as conn:
        last = dict(conn.execute(select(events).where(events.c.position == 4)).mappings().one())
        payload = json.loads(last["payload"]) | {"volunteer_id": "v-forged"}
        row = {**last, "position": 5, "event_id": forged_id, "stream_id": "v-forged", "version": 1,
               "payload": json.dumps(payload, sort_keys=True, separators=(",", ":")), "prev_hash": last["hash"]}
        row["hash"] = chain_hash(row["prev_hash"], row)
        conn.execute(events.insert().values(**row))
    code, output = verify()
    assert code == 1
    assert f"store BROKEN at position 5 (event {forged_id})" in output
    assert "the log ends at position 5 but the store head says 4" in output
    assert "appended or removed outside the store" in output


def test_a_naively_forged_event_is_named_too(store: EventStore) -> None:
    """A copied row with a copied hash: the hash does not fit its content."""
    tamper(store, "INSERT INTO events (position, event_id, type, schema_version, stream_type, stream_id, version, "
                  "occurred_at, recorded_at, project_id, actor_id, actor_role, correlation_id, causation_id, payload, "
                  "subject_id, sealed, prev_hash, hash) SELECT 5, 'forged-0000-0000-0000-000000000000', type, "
                  "schema_version, stream_type, 'v-9', 1, occurred_at, recorded_at, project_id, actor_id, actor_role, "
                  "correlation_id, causation_id, payload, subject_id, sealed, hash, hash FROM events "
                  "WHERE position = 4")
    code, output = verify()
    assert code == 1
    assert "store BROKEN at position 5 (event forged-0000-0000-0000-000000000000)" in output
    assert "was altered" in output


def test_the_head_line_names_the_hash_of_the_position_it_names_while_writers_append(store: EventStore) -> None:
    """The line operators keep as proof pairs a position with that position's hash, also under load."""
    import re
    import threading
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()

    def write(w: int) -> None:
        i = 0
        while not stop.is_set():
            store.append(f"w-{w}-{i}", 0, [NewEvent(VolunteerStopped(volunteer_id=f"w-{w}-{i}", project_id="p-1",
                                                                     reason=StopReason.other), project_id="p-1")],
                         actor=ACTOR)
            i += 1

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(write, w) for w in range(4)]
        try:
            outputs = [verify() for _ in range(10)]
        finally:
            stop.set()
        for f in futures:
            f.result()
    heads = []
    for code, output in outputs:
        assert code == 0, output
        head = re.search(r"head (\d+) \(hash ([0-9a-f]{64})\)", output)
        assert head, output
        heads.append((int(head[1]), head[2]))
    with store.engine.connect() as conn:
        hashes = dict(conn.execute(select(events.c.position, events.c.hash)).all())
    assert [(position, hashes[position]) for position, _ in heads] == heads
