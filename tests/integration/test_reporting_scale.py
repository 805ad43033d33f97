"""At scale: on a history of more than 100,000 events, the live projections (the real
consumer, streams interleaved at random) equal a rebuild, and a published overview
report is reproduced by a rebuild to its watermark with the same content hash, after the
world has moved on.

The history is the benchmark's (``bench.reporting_history``: Flanders scaled down, every
event type), bulk-imported straight into the three producers' stores. The rebuild reads
it as raw rows (the fast path); the live consumer as envelopes, one by one. The monthly
contact counts equal their definition: the contacts, summed.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.reporting_bench import generate, open_stores
from shared.bus.consumer import EventConsumer
from shared.clock import FixedClock
from shared.contracts.followup import Activity, ContactLogged, ContactMode
from shared.events.envelope import Envelope
from shared.eventstore import NewEvent, make_engine, migrate
from shared.eventstore.db import reader
from services.reporting import records
from services.reporting.projections import on_event
from services.reporting.read_models import PROJECTION_TABLES
from services.reporting.rebuild import StoreRowsFeed, rebuild
from services.reporting.reports import build_overview, compute
from tests.integration.test_reporting_script import ACTOR

EVENTS = 110_000


class Cutoff:
    """A feed that shows each producer's log only up to a cutoff the test moves."""

    def __init__(self, feed: StoreRowsFeed) -> None:
        self.feed, self.until = feed, {u: 0 for u in feed.stores}

    async def read(self, service: str, after: int, limit: int) -> list[Envelope]:
        return [e for e in await self.feed.read(service, after, limit) if e.position <= self.until[service]]

    async def head(self, service: str) -> int:
        return self.until[service]


def live(engine: Engine, feed: StoreRowsFeed, heads: dict[str, int], rng: random.Random) -> None:
    """The consumer's own catch-up path, the producers' logs revealed in random slices."""
    migrate(engine, "reporting")
    cutoff = Cutoff(feed)
    consumer = EventConsumer(name="reporting", engine=engine, redis=None, streams={u: u for u in heads},  # type: ignore[arg-type]
                             handler=on_event, feed=cutoff, dead_letter_stream="unused")
    consumer._ensure_checkpoints()

    async def run() -> None:
        while any(cutoff.until[u] < heads[u] for u in heads):
            upstream = rng.choice([u for u in heads if cutoff.until[u] < heads[u]])
            cutoff.until[upstream] = min(heads[upstream], cutoff.until[upstream] + rng.randint(1, 6000))
            await consumer.catch_up(upstream)

    asyncio.run(run())


def dump(engine: Engine) -> dict[str, list[Any]]:
    with reader(engine).connect() as conn:
        return {t.name: list(conn.execute(text(f"SELECT * FROM {t.name} ORDER BY 1{', 2' if len(t.columns) > 1 else ''}")))
                for t in PROJECTION_TABLES}


def counts_by_definition(engine: Engine) -> tuple[dict[tuple, list[int]], dict[tuple, int]]:
    """rp_contact_months and rp_contact_activity_months as their definition says: rp_contacts summed."""
    months: dict[tuple, list[int]] = {}
    activities: dict[tuple, int] = {}
    with reader(engine).connect() as conn:
        for duo, project, month, rec, mode, minutes, codes in conn.execute(text(
                "SELECT duo_id, project_id, month, logged_rec, mode, minutes, activities FROM rp_contacts")):
            listed = codes.split(",")
            listed += ["+accompany"] if any(c.startswith("accompany_") for c in listed) else []
            for basis, m in (("occurred", month), ("recorded", rec[:7])):
                total = months.setdefault((basis, m, project, duo, mode), [0, 0])
                total[0] += 1
                total[1] += minutes
                for code in listed:
                    activities[(basis, m, project, code)] = activities.get((basis, m, project, code), 0) + 1
    return months, activities


def kept_counts(engine: Engine) -> tuple[dict[tuple, list[int]], dict[tuple, int]]:
    with reader(engine).connect() as conn:
        months = {tuple(r[:5]): [r[5], r[6]] for r in conn.execute(text("SELECT * FROM rp_contact_months WHERE n != 0"))}
        activities = {tuple(r[:4]): r[4] for r in conn.execute(text(
            "SELECT * FROM rp_contact_activity_months WHERE n != 0"))}
    return months, activities


def test_rebuild_equals_live_and_reproduce_equals_the_hash_at_scale(tmp_path: Path) -> None:
    started = time.perf_counter()
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    stores = open_stores(tmp_path, clock)
    counts = generate(stores, clock, events=EVENTS, seed=3)
    assert sum(counts.values()) >= 100_000, counts
    generated = time.perf_counter()

    feed = StoreRowsFeed(stores)
    heads = {u: s.head()[0] for u, s in stores.items()}
    assert heads == counts
    live_engine = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    live(live_engine, feed, heads, random.Random(5))
    parameters = {"audience": "coordinator", "region": "antwerpen-kempen", "period_start": "2025-01-01",
                  "period_end": "2025-12-31", "grain": "quarter"}
    with reader(live_engine).connect() as conn:
        built = build_overview(conn, parameters)
        mark = {row[0]: row[1] for row in conn.execute(text(
            "SELECT upstream, position FROM consumer_checkpoints WHERE consumer = 'reporting'"))}
    assert mark == heads
    with live_engine.begin() as conn:
        report = records.record(conn, kind="overview", parameters=parameters, watermark=mark, content=built.content,
                                pattern=built.pattern, created_at=clock.now(), created_by="auditor")
    assert sum(t.hidden for p in built.protected.values() for t in p.tables.values()) > 0
    applied = time.perf_counter()

    # the world moves on: a contact in the report's period, recorded after it was published
    clock.set(datetime(2027, 1, 5, 12, tzinfo=UTC))
    stores["followup"].append_many([("late", 0, [NewEvent(ContactLogged(
        contact_id="late-1", duo_id="d-late", project_id="p01", contact_date=datetime(2025, 6, 1).date(), minutes=30,
        mode=ContactMode.phone, activities=[Activity.walk], logged_by="buddy"))])], actor=ACTOR)

    replay = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    reached = asyncio.run(rebuild(replay, feed, watermark=report["computed_from"]))
    assert reached == report["computed_from"]
    assert dump(replay) == dump(live_engine)
    assert kept_counts(replay) == counts_by_definition(replay)
    with reader(replay).connect() as conn:
        assert records.content_hash(compute(conn, "overview", report["parameters"])) == report["content_hash"]
    finished = time.perf_counter()
    print(f"{sum(counts.values()):,} events: generated in {generated - started:.1f} s, live + report in "
          f"{applied - generated:.1f} s, rebuild + compare + reproduce in {finished - applied:.1f} s")
