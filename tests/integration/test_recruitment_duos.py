"""Recruitment learns "in a duo" from matching's stream, over a real Redis.

A stand-in matching store publishes ``DuoStarted`` / ``DuoEnded`` through the real outbox
relay onto ``<prefix>:events:matching``; the recruitment app consumes them with its real
consumer and records ``VolunteerJoinedDuo`` / ``VolunteerLeftDuo`` in its own store, in
the transaction that moves its checkpoint. Redelivered events have no second effect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from faststream.redis import RedisBroker
from sqlalchemy import select, update

from shared.bus import OutboxRelay
from shared.bus.signing import BusKeys
from shared.clock import FixedClock
from shared.contracts.matching import DuoEnded, DuoStarted, EndReason
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.db import reader
from shared.eventstore.tables import consumer_checkpoints, relay_state
from shared.settings import Settings
from tests.integration.test_recruitment_api import ANTWERPEN, NO_FEEDS, RC, START, make_rc

PROFESSIONAL = Actor(id="prof-7", role=Role.professional)


class Matching:
    """Matching's store and relay, just enough to publish duo events."""

    def __init__(self, path: Path, redis_url: str, prefix: str, keys: BusKeys) -> None:
        self.keys = keys  # the bus key the recruitment app verifies with
        self.engine = make_engine(f"sqlite:///{path.as_posix()}")
        migrate(self.engine)
        self.store = EventStore(self.engine, "matching")
        self.redis_url, self.stream = redis_url, f"{prefix}:events:matching"

    def record(self, event: DuoStarted | DuoEnded) -> None:
        version = len(self.store.load(event.duo_id))
        self.store.append(event.duo_id, version, [NewEvent(event, project_id=event.project_id)], actor=PROFESSIONAL)

    def publish(self, *, from_start: bool = False) -> None:
        async def run() -> None:
            broker = RedisBroker(self.redis_url)
            relay = OutboxRelay(self.store, broker, self.stream, keys=self.keys)
            await broker.connect()
            try:
                while await relay.publish_pending():
                    pass
            finally:
                await broker.stop()

        if from_start:  # forget what was published: everything goes out again (duplicates)
            with self.engine.begin() as conn:
                conn.execute(update(relay_state).values(position=0))
        asyncio.run(run())


@pytest.fixture
def rc(settings_factory: Callable[..., Settings]) -> Iterator[RC]:
    yield from make_rc(settings_factory(service_urls=NO_FEEDS, reclaim_idle_ms=500), FixedClock(START))


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def checkpoint(rc: RC) -> int:
    with reader(rc.runtime.engine).connect() as conn:
        return conn.execute(select(consumer_checkpoints.c.position).where(
            consumer_checkpoints.c.consumer == "recruitment", consumer_checkpoints.c.upstream == "matching")).scalar() or 0


def test_duos_from_matching_move_the_volunteer_once(rc: RC, redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    matching = Matching(tmp_path / "matching.db", redis_url, key_prefix, rc.runtime.bus_keys)
    rc.project()
    vid = rc.enquire(first="Duo", last="Buddy")
    rc.available(vid, max_duos=2)
    today = START.date()

    def started(duo: str, volunteer: str = vid, project: str = ANTWERPEN, on: date = today) -> DuoStarted:
        return DuoStarted(duo_id=duo, project_id=project, volunteer_id=volunteer, participant_id=f"pt-{duo}",
                          started_on=on, agreed_contacts_per_month=2)

    def ended(duo: str, on: date) -> DuoEnded:
        return DuoEnded(duo_id=duo, project_id=ANTWERPEN, volunteer_id=vid, participant_id=f"pt-{duo}", ended_on=on,
                        reason=EndReason.goals_reached, planned=True)

    matching.record(started("d-unknown", volunteer="v-not-ours"))  # a volunteer recruitment does not know: skipped
    matching.record(started("d-other-project", project="demo-gent"))  # not this volunteer's project: skipped
    matching.record(started("d-1", on=today - timedelta(days=2)))
    matching.record(started("d-2"))
    matching.publish()
    wait_for(lambda: checkpoint(rc) == 4, "recruitment applied matching's four events")
    view = rc.ok(rc.get(f"/volunteers/{vid}"))
    assert (view["status"], view["active_duos"], view["stage_since"]) == (
        "in_duo", ["d-1", "d-2"], (today - timedelta(days=2)).isoformat())

    matching.publish(from_start=True)  # every event again: duplicates
    matching.record(ended("d-1", today))
    matching.publish()
    wait_for(lambda: checkpoint(rc) == 5, "recruitment applied the end of d-1")
    assert rc.status(vid) == "in_duo"  # d-2 still runs
    matching.record(ended("d-2", today))
    matching.publish()
    wait_for(lambda: rc.status(vid) == "available", "the volunteer is available again")

    stored = rc.runtime.store.load(vid)
    learned = [s.envelope for s in stored if s.envelope.type in ("VolunteerJoinedDuo", "VolunteerLeftDuo")]
    assert [(e.type, e.payload["duo_id"]) for e in learned] == [
        ("VolunteerJoinedDuo", "d-1"), ("VolunteerJoinedDuo", "d-2"),
        ("VolunteerLeftDuo", "d-1"), ("VolunteerLeftDuo", "d-2")]
    sources = {s.envelope.payload.get("duo_id"): s.envelope.event_id
               for s in matching.store.read_after(0) if s.envelope.type == "DuoStarted"}
    assert learned[0].causation_id == sources["d-1"], "the recorded fact points at matching's event"
    assert learned[0].actor == Actor(id="matching", role=Role.system)
    assert learned[0].occurred_at.date() == today - timedelta(days=2)
    assert rc.ok(rc.get(f"/volunteers/{vid}"))["waiting_since"] == today.isoformat()
    assert rc.runtime.store.verify().ok
