"""Reporting projections are the same whatever the interleaving of the streams, a rebuild
equals the live state, and a report recomputed at its watermark has the same hash."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from shared.bus import StoreFeed
from shared.contracts.common import MatchingPreferences, TargetGroup
from shared.contracts.followup import Activity, ContactLogged, ContactMode
from shared.contracts.matching import DuoEnded, DuoStarted, EndReason
from shared.contracts.recruitment import ProjectRegistered, RecruitmentChannel, VolunteerEnquiryReceived, VolunteerMadeAvailable
from shared.events.envelope import Actor, Envelope, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.db import reader
from shared.eventstore.rows import BatchedConnection
from services.reporting import records
from services.reporting.projections import on_event
from services.reporting.read_models import PROJECTION_TABLES
from services.reporting.rebuild import StoreRowsFeed, rebuild, watermark_as_of
from services.reporting.reports import compute
from tests.integration import test_reporting_script as script

ACTOR = Actor(id="prof", role=Role.professional)
DAY = date(2026, 3, 2)
TABLES = tuple(t.name for t in PROJECTION_TABLES)


def history(folder: Path) -> dict[str, EventStore]:
    """Two projects; 12 volunteers, 5 duos (one ended), 20 contacts."""
    stores = {}
    for name in ("recruitment", "matching", "followup"):
        engine = make_engine(f"sqlite:///{folder}/{name}.db")
        migrate(engine, name)
        stores[name] = EventStore(engine, name)
    rec, mat, fol = stores["recruitment"], stores["matching"], stores["followup"]
    for p in ("p-a", "p-b"):
        rec.append(p, 0, [NewEvent(ProjectRegistered(project_id=p, name=p, organisation="o", municipality_nis="11002",
                                                     region="antwerpen-kempen", target_groups=[TargetGroup.family]))], actor=ACTOR)
    for i in range(12):
        p = "p-a" if i < 8 else "p-b"
        rec.append(f"v-{i}", 0, [
            NewEvent(VolunteerEnquiryReceived(volunteer_id=f"v-{i}", project_id=p, channel=RecruitmentChannel.website,
                                              municipality_nis="11002")),
            NewEvent(VolunteerMadeAvailable(volunteer_id=f"v-{i}", project_id=p,
                                            preferences=MatchingPreferences(target_groups=[TargetGroup.family]))),
        ], actor=ACTOR)
    for d in range(5):
        mat.append(f"d-{d}", 0, [NewEvent(DuoStarted(duo_id=f"d-{d}", project_id="p-a", volunteer_id=f"v-{d}",
                                                     participant_id=f"pt-{d}", started_on=DAY, agreed_contacts_per_month=2))],
                   actor=ACTOR)
    for c in range(20):
        d = c % 5
        fol.append(f"d-{d}", -1, [NewEvent(ContactLogged(
            contact_id=f"c-{c}", duo_id=f"d-{d}", project_id="p-a", contact_date=DAY + timedelta(days=c), minutes=30,
            mode=ContactMode.phone, activities=[Activity.walk], logged_by="buddy"))], actor=ACTOR)
    mat.append("d-4", 1, [NewEvent(DuoEnded(duo_id="d-4", project_id="p-a", volunteer_id="v-4", participant_id="pt-4",
                                            ended_on=DAY + timedelta(days=30), reason=EndReason.moved, planned=False))],
               actor=ACTOR)
    return stores


def dump(engine: Engine) -> dict[str, list[tuple]]:
    with reader(engine).connect() as conn:
        return {t: sorted((tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


def apply_interleaved(engine: Engine, streams: dict[str, list[Envelope]], rng: random.Random) -> None:
    """Like the live consumer: each stream in order, the streams interleaved at random, runs of
    events applied in one transaction with batched upserts."""
    cursors = {name: 0 for name in streams}
    while any(cursors[n] < len(streams[n]) for n in streams):
        name = rng.choice([n for n in streams if cursors[n] < len(streams[n])])
        run = streams[name][cursors[name]:cursors[name] + rng.randint(1, 6)]
        with engine.begin() as conn:
            batched = BatchedConnection(conn)
            for env in run:
                on_event(batched, env)  # type: ignore[arg-type]
            batched.flush()
        cursors[name] += len(run)


def rebuilt(folder: Path, stores: dict[str, EventStore], name: str, watermark: dict[str, int] | None = None) -> Engine:
    engine = make_engine(f"sqlite:///{folder}/{name}.db")
    asyncio.run(rebuild(engine, StoreFeed(stores), watermark=watermark))
    return engine


def test_rebuild_equals_any_live_interleaving(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("history")
    stores = history(folder)
    streams = {n: [r.envelope for r in s.read_after(0, 10_000)] for n, s in stores.items()}
    expected = dump(rebuilt(folder, stores, "rebuilt"))
    assert len(expected["rp_contacts"]) == 20 and len(expected["rp_duos"]) == 5

    @settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(seed=st.integers(0, 10_000))
    def interleaving(seed: int) -> None:
        engine = make_engine(f"sqlite:///{folder}/live-{seed}.db")
        migrate(engine, "reporting")
        apply_interleaved(engine, streams, random.Random(seed))
        assert dump(engine) == expected
        engine.dispose()

    interleaving()


def test_report_reproduced_at_its_watermark_after_more_history(tmp_path: Path) -> None:
    stores = history(tmp_path)
    params = {"project_id": "p-a", "threshold": 1, "rounding_base": 1}
    live = rebuilt(tmp_path, stores, "live")
    with reader(live).connect() as conn:
        content = compute(conn, "project_summary", params)
        mark = {n: s.head()[0] for n, s in stores.items()}
    figures = {k: v["value"] for k, v in content["figures"].items()}
    # by hand: 8 volunteers in p-a, 5 started a duo, d-4 ended (v-4 free again): 8 - 4 = 4 available
    assert figures == {"available_volunteers": 4, "active_duos": 4, "contacts": 20}
    published = records.content_hash(content)

    # the world moves on: a new duo and contacts
    stores["matching"].append("d-9", 0, [NewEvent(DuoStarted(duo_id="d-9", project_id="p-a", volunteer_id="v-6",
                                                             participant_id="pt-9", started_on=DAY, agreed_contacts_per_month=2))],
                              actor=ACTOR)
    now = rebuilt(tmp_path, stores, "now")
    with reader(now).connect() as conn:
        assert records.content_hash(compute(conn, "project_summary", params)) != published
    replay = rebuilt(tmp_path, stores, "replay", watermark=mark)
    with reader(replay).connect() as conn:
        assert records.content_hash(compute(conn, "project_summary", params)) == published


def test_watermark_as_known_on_a_date(tmp_path: Path) -> None:
    stores = history(tmp_path)
    feed = StoreFeed(stores)
    events = stores["followup"].read_after(0, 100)
    cut = events[9].envelope.recorded_at.isoformat()
    mark = asyncio.run(watermark_as_of(feed, "followup", cut))
    assert all(e.envelope.recorded_at.isoformat() <= cut for e in events[:mark])
    assert all(e.envelope.recorded_at.isoformat() > cut for e in events[mark:])
    assert asyncio.run(watermark_as_of(feed, "followup", "2000-01-01T00:00:00+00:00")) == 0


def test_every_event_type_rebuilds_equal_to_any_live_interleaving(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The scripted history has every event type reporting reads (corrections, retractions, pauses, ...)."""
    folder = tmp_path_factory.mktemp("script")
    stores, _ = script.history(folder)
    streams = {n: [r.envelope for r in s.read_after(0, 10_000)] for n, s in stores.items()}
    engine = make_engine(f"sqlite:///{folder}/rebuilt.db")
    asyncio.run(rebuild(engine, StoreRowsFeed(stores)))
    expected = dump(engine)
    assert all(expected[t] for t in TABLES), [t for t in TABLES if not expected[t]]
    plain = make_engine(f"sqlite:///{folder}/plain.db")
    asyncio.run(rebuild(plain, StoreFeed(stores), page=7))
    assert dump(plain) == expected  # the validating feed and small pages give the same

    @settings(max_examples=20, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(seed=st.integers(0, 10_000))
    def interleaving(seed: int) -> None:
        live = make_engine(f"sqlite:///{folder}/live-{seed}.db")
        migrate(live, "reporting")
        apply_interleaved(live, streams, random.Random(seed))
        assert dump(live) == expected
        live.dispose()

    interleaving()


@pytest.mark.postgres
def test_postgresql_projections_equal_sqlite_and_give_the_same_report(  # type: ignore[no-untyped-def]
        tmp_path, make_postgres_db) -> None:
    """Production runs reporting on PostgreSQL, reproduce rebuilds into SQLite: same tables, same hash."""
    stores, _ = script.history(tmp_path)
    streams = {n: [r.envelope for r in s.read_after(0, 10_000)] for n, s in stores.items()}
    lite = make_engine(f"sqlite:///{tmp_path}/lite.db")
    asyncio.run(rebuild(lite, StoreRowsFeed(stores)))
    rebuilt_pg = make_engine(make_postgres_db())
    asyncio.run(rebuild(rebuilt_pg, StoreRowsFeed(stores), page=50))
    live_pg = make_engine(make_postgres_db())
    migrate(live_pg, "reporting")
    apply_interleaved(live_pg, streams, random.Random(3))
    expected = dump(lite)
    assert dump(rebuilt_pg) == expected and dump(live_pg) == expected
    params = {"audience": "government", "period_start": "2026-01-01", "period_end": "2026-03-31", "grain": "month",
              "disclosure": {"threshold": 2, "rounding_base": 1}}
    hashes = set()
    for engine in (lite, rebuilt_pg, live_pg):
        with reader(engine).connect() as conn:
            hashes.add(records.content_hash(compute(conn, "overview", params)))
    assert len(hashes) == 1
    for engine in (rebuilt_pg, live_pg):
        engine.dispose()


def test_monthly_contact_counts_follow_every_change_of_a_contact(tmp_path: Path) -> None:
    """Logged again with other values, corrected into another month, corrected before it was
    logged, retracted (its month's count goes to 0) and logged anew: the counts are the
    contacts summed, live and rebuilt alike (from rows and from envelopes, any page size)."""
    from services.reporting.projections import Counted
    from shared.contracts.followup import ContactCorrected, ContactRetracted, ContactRetractionReason

    engine = make_engine(f"sqlite:///{tmp_path}/followup.db")
    migrate(engine, "followup")
    followup = EventStore(engine, "followup")

    def logged(cid: str, day: date, minutes: int = 30, mode: ContactMode = ContactMode.phone,
               activities: tuple[Activity, ...] = (Activity.walk,)) -> NewEvent:
        return NewEvent(ContactLogged(contact_id=cid, duo_id="d-1", project_id="p-a", contact_date=day, minutes=minutes,
                                      mode=mode, activities=list(activities), logged_by="buddy"))

    accompany = next(a for a in Activity if a.value.startswith("accompany_"))
    followup.append("d-1", -1, [
        logged("c-1", DAY), logged("c-2", DAY), logged("c-3", DAY + timedelta(days=70), activities=(accompany,)),
        NewEvent(ContactCorrected(contact_id="c-9", duo_id="d-1", project_id="p-a", contact_date=DAY, minutes=10,
                                  mode=ContactMode.video, activities=[Activity.walk], logged_by="buddy")),
        logged("c-1", DAY + timedelta(days=1), minutes=60, mode=ContactMode.video),
        NewEvent(ContactCorrected(contact_id="c-2", duo_id="d-1", project_id="p-a", contact_date=DAY + timedelta(days=35),
                                  minutes=45, mode=ContactMode.phone, activities=[Activity.walk, accompany],
                                  logged_by="buddy")),
        NewEvent(ContactRetracted(contact_id="c-3", duo_id="d-1", project_id="p-a",
                                  reason=ContactRetractionReason.duplicate)),
        logged("c-4", DAY), NewEvent(ContactRetracted(contact_id="c-4", duo_id="d-1", project_id="p-a",
                                                      reason=ContactRetractionReason.duplicate)),
        logged("c-4", DAY + timedelta(days=2), minutes=20),
    ], actor=ACTOR)
    stores = {"followup": followup}
    for name in ("recruitment", "matching"):
        other = make_engine(f"sqlite:///{tmp_path}/{name}.db")
        migrate(other, name)
        stores[name] = EventStore(other, name)
    envelopes = [r.envelope for r in followup.read_after(0, 100)]

    live = make_engine(f"sqlite:///{tmp_path}/live.db")
    migrate(live, "reporting")
    apply_interleaved(live, {"followup": envelopes}, random.Random(1))
    expected = dump(live)
    for name, feed, page in (("rows", StoreRowsFeed(stores), 2000), ("envelopes", StoreFeed(stores), 2)):
        engine = make_engine(f"sqlite:///{tmp_path}/{name}.db")
        asyncio.run(rebuild(engine, feed, page=page, row_page=page))
        assert dump(engine) == expected, name

    with reader(live).connect() as conn:
        contacts = [Counted(*row) for row in conn.execute(text(
            "SELECT duo_id, project_id, month, substr(logged_rec, 1, 7), mode, minutes, activities FROM rp_contacts"))]
        months = {tuple(r[:5]): (r[5], r[6]) for r in conn.execute(text("SELECT * FROM rp_contact_months"))}
        activities = {tuple(r[:4]): r[4] for r in conn.execute(text("SELECT * FROM rp_contact_activity_months"))}
    assert sorted(c.minutes for c in contacts) == [20, 45, 60]
    summed: dict[tuple, list[int]] = {}
    for c in contacts:
        for key in c.month_keys():
            summed.setdefault(key, [0, 0])
            summed[key][0] += 1
            summed[key][1] += c.minutes
    assert {k: tuple(v) for k, v in summed.items()} == {k: v for k, v in months.items() if v[0]}
    march = DAY.isoformat()[:7]
    assert months[("occurred", (DAY + timedelta(days=70)).isoformat()[:7], "p-a", "d-1", "phone")] == (0, 0)
    assert activities[("occurred", (DAY + timedelta(days=35)).isoformat()[:7], "p-a", "+accompany")] == 1
    assert activities[("occurred", march, "p-a", "walk")] == 2  # c-1 (moved within the month) and c-4


def test_a_rebuild_runs_no_sql_on_the_event_loop(tmp_path: Path) -> None:
    """Inside a live service (a report "as known on" a day) a rebuild must leave the event loop
    free for the service's other requests: every statement runs in a worker thread."""
    import threading

    from sqlalchemy import event

    stores = history(tmp_path)
    loop_thread = threading.get_ident()  # asyncio.run runs its loop in this thread
    for name, feed in (("rows", StoreRowsFeed(stores)), ("envelopes", StoreFeed(stores))):
        engine = make_engine(f"sqlite:///{tmp_path}/loop-{name}.db")
        on_loop: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            if threading.get_ident() == loop_thread:
                on_loop.append(" ".join(statement.split()[:4]))

        asyncio.run(rebuild(engine, feed))
        assert on_loop == [], f"{name}: {on_loop[:5]}"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM consumer_checkpoints")).scalar() == 3
