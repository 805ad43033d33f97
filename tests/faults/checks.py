"""What must hold once a fault scenario is quiet, read straight from the services' databases.

``verify()`` opens every service's database (the services are stopped by then) and checks:

* every store passes ``EventStore.verify()`` (gapless positions, hash chain, head);
* every consumer's checkpoint per upstream equals that upstream's head, and no real event
  was dead-lettered (only the garbage entries the test put on the bus);
* every event had its effect exactly once in every consumer:
  - recruitment recorded exactly one ``VolunteerJoinedDuo`` per ``DuoStarted`` and one
    ``VolunteerLeftDuo`` per ``DuoEnded`` of matching (by causation id);
  - follow-up's roster, consent list, scheduled calls (events and table) equal those of a
    clean replay of matching's log through follow-up's own subscriber, with exactly one
    ``FollowUpCallScheduled`` per call;
  - matching's project list and candidate pool equal a clean replay of recruitment's log;
  - reporting's projections equal ``services.reporting.rebuild.rebuild`` into a fresh
    database from the stores (``StoreFeed``), table by table, and ``rp_contacts`` holds
    each ``ContactLogged`` exactly once.

Counts: *lost* is an effect that should be there and is not (an unapplied position, a
dead-lettered event, a missing row or fact), *duplicated* one that is there more than
once or should not be there at all, *mismatched* a row whose content differs from the
clean rebuild.
"""

from __future__ import annotations

import asyncio
import json
import types
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog.testing
from sqlalchemy import Engine, Table, select

from shared.bus import StoreFeed
from shared.events.envelope import Envelope
from shared.eventstore import EventStore, make_engine, migrate
from shared.eventstore.db import reader
from shared.eventstore.rows import BatchedConnection
from shared.eventstore.tables import consumer_checkpoints, consumer_failures, dead_letters
from shared.settings import SERVICES

PRODUCERS = ("recruitment", "matching", "followup")
UPSTREAMS = {"recruitment": ("matching",), "matching": ("recruitment",), "followup": ("matching", "recruitment"),
             "reporting": PRODUCERS}


@dataclass
class Verdict:
    events: dict[str, int] = field(default_factory=dict)  # producer -> head position
    types: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    dead_lettered_garbage: dict[str, int] = field(default_factory=dict)  # consumer -> entries
    leftover_failures: int = 0
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def produced(self) -> int:
        return sum(self.events.values())

    def lose(self, n: int, what: str) -> None:
        if n:
            self.lost += n
            self.problems.append(f"LOST {n}: {what}")

    def duplicate(self, n: int, what: str) -> None:
        if n:
            self.duplicated += n
            self.problems.append(f"DUPLICATED {n}: {what}")

    def mismatch(self, n: int, what: str) -> None:
        if n:
            self.mismatched += n
            self.problems.append(f"MISMATCH {n}: {what}")


# --------------------------------------------------------------------------- reading
def read_log(store: EventStore) -> list[Envelope]:
    out: list[Envelope] = []
    after = 0
    while batch := store.read_after(after, 5000):
        out.extend(s.envelope for s in batch)
        after = batch[-1].envelope.position
    return out


def _plain(value: Any) -> Any:
    """One value the same on SQLite and PostgreSQL."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def table_rows(engine: Engine, table: Table) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows by primary key, values normalised."""
    keys = [c.name for c in table.primary_key.columns]
    with reader(engine).connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    return {tuple(_plain(r[k]) for k in keys): tuple(_plain(r[c.name]) for c in table.columns) for r in rows}


def compare(verdict: Verdict, where: str, live: Engine, rebuilt: Engine, tables: list[Table]) -> None:
    """Rows of a clean rebuild missing live (lost), live rows the rebuild has not (duplicated), differing rows."""
    for table in tables:
        want, have = table_rows(rebuilt, table), table_rows(live, table)
        missing = sorted(set(want) - set(have), key=repr)
        extra = sorted(set(have) - set(want), key=repr)
        differ = sorted((k for k in set(want) & set(have) if want[k] != have[k]), key=repr)
        verdict.details.setdefault("rows", {})[f"{where}.{table.name}"] = len(want)
        verdict.lose(len(missing), f"{where}.{table.name}: rows of the clean rebuild missing live, e.g. {missing[:3]}")
        verdict.duplicate(len(extra), f"{where}.{table.name}: live rows a clean rebuild does not have, e.g. {extra[:3]}")
        if differ:
            k = differ[0]
            verdict.mismatch(len(differ), f"{where}.{table.name}: rows differ from the clean rebuild, "
                                          f"e.g. {k}: live {have[k]} != rebuilt {want[k]}")


# --------------------------------------------------------------------------- rebuilds
def _replay(engine: Engine, handler: Any, envs: list[Envelope], chunk: int = 200) -> None:
    """Apply a log the way the live consumer does: runs of events per transaction, batched upserts."""
    for start in range(0, len(envs), chunk):
        with engine.begin() as conn:
            batched = BatchedConnection(conn)
            for env in envs[start:start + chunk]:
                handler(batched, env)
            batched.flush()


def rebuild_matching(scratch: Path, recruitment_log: list[Envelope]) -> Engine:
    from services.matching.subscribers import on_event

    engine = make_engine(f"sqlite:///{(scratch / 'matching-rebuilt.db').as_posix()}")
    migrate(engine, "matching")
    _replay(engine, on_event, recruitment_log)
    return engine


def rebuild_followup(scratch: Path, matching_log: list[Envelope]) -> tuple[Engine, EventStore]:
    """Follow-up's consumer side from matching's log alone, through its own subscriber."""
    from services.followup.config import FollowupSettings
    from services.followup.subscribers import FollowupSubscriber

    engine = make_engine(f"sqlite:///{(scratch / 'followup-rebuilt.db').as_posix()}")
    migrate(engine, "followup")
    store = EventStore(engine, "followup")
    runtime = types.SimpleNamespace(store=store, vault=None, recorded=lambda: None)
    subscriber = FollowupSubscriber(FollowupSettings()).bind(runtime)  # type: ignore[arg-type]
    _replay(engine, subscriber, matching_log)
    return engine, store


def rebuild_reporting(scratch: Path, stores: dict[str, EventStore]) -> Engine:
    from services.reporting.rebuild import rebuild

    engine = make_engine(f"sqlite:///{(scratch / 'reporting-rebuilt.db').as_posix()}")
    asyncio.run(rebuild(engine, StoreFeed(stores)))
    return engine


# --------------------------------------------------------------------------- the verdict
def verify(db_urls: dict[str, str], scratch: Path, *, garbage_expected: dict[str, int] | None = None,
           garbage_exact: bool = True) -> Verdict:
    """Check everything listed in the module docstring.

    ``garbage_expected``: consumer -> garbage entries put on its upstream streams; each must be
    dead-lettered exactly once (``garbage_exact``), or at most once when Redis may have lost
    some of them before they were read (a crash or data loss after they were added).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    verdict = Verdict()
    engines = {name: make_engine(db_urls[name]) for name in SERVICES}
    try:
        with structlog.testing.capture_logs():  # the replays log like the services do: keep it out of the output
            _verify(verdict, engines, scratch, garbage_expected, garbage_exact)
    finally:
        for engine in engines.values():
            engine.dispose()
    return verdict


def _verify(verdict: Verdict, engines: dict[str, Engine], scratch: Path,
            garbage_expected: dict[str, int] | None, garbage_exact: bool) -> None:
    for name in SERVICES:  # reporting's store holds no events, but it is a store too
        result = EventStore(engines[name], name).verify()
        if not result.ok:
            verdict.problems.append(f"STORE {name} fails verify(): {result.problems[:3]}")
    stores = {name: EventStore(engines[name], name) for name in PRODUCERS}
    logs: dict[str, list[Envelope]] = {}
    for name, store in stores.items():
        logs[name] = read_log(store)
        verdict.events[name] = store.head()[0]
        verdict.types.update(e.type for e in logs[name])
        if [e.position for e in logs[name]] != list(range(1, len(logs[name]) + 1)):
            verdict.problems.append(f"STORE {name}: positions are not 1..{len(logs[name])}")

    # ---- checkpoints and dead letters
    for consumer, upstreams in UPSTREAMS.items():
        engine = engines[consumer]
        with reader(engine).connect() as conn:
            cps = dict(conn.execute(select(consumer_checkpoints.c.upstream, consumer_checkpoints.c.position)
                                    .where(consumer_checkpoints.c.consumer == consumer)).all())
            letters = conn.execute(select(dead_letters.c.upstream, dead_letters.c.position, dead_letters.c.entry_id)
                                   .where(dead_letters.c.consumer == consumer)).all()
            failures = conn.execute(select(consumer_failures).where(consumer_failures.c.consumer == consumer)).all()
        for upstream in upstreams:
            head = verdict.events[upstream]
            have = cps.get(upstream, 0)
            verdict.details.setdefault("checkpoints", {})[f"{consumer}<-{upstream}"] = [have, head]
            if have < head:
                verdict.lose(head - have, f"{consumer} stopped at {upstream} position {have} of {head}")
            elif have > head:
                verdict.problems.append(f"CHECKPOINT {consumer} is at {upstream} {have}, beyond its head {head}")
        real = [r for r in letters if r.position is not None]
        verdict.lose(len(real), f"{consumer} dead-lettered real events {[(r.upstream, r.position) for r in real[:5]]}")
        garbage = len(letters) - len(real)
        verdict.dead_lettered_garbage[consumer] = garbage
        if garbage_expected is not None:
            expected = garbage_expected.get(consumer, 0)
            if garbage > expected or (garbage_exact and garbage != expected):
                verdict.problems.append(f"DEADLETTER {consumer} dead-lettered {garbage} garbage entries, expected "
                                        f"{'' if garbage_exact else 'at most '}{expected}")
        verdict.leftover_failures += len(failures)

    _recruitment_learned_duos(verdict, logs)
    _followup(verdict, logs, engines["followup"], scratch)
    from services.matching.read_models import candidates, projects

    compare(verdict, "matching", engines["matching"], rebuild_matching(scratch, logs["recruitment"]),
            [projects, candidates])
    _reporting(verdict, logs, stores, engines["reporting"], scratch)


def _recruitment_learned_duos(verdict: Verdict, logs: dict[str, list[Envelope]]) -> None:
    """One VolunteerJoinedDuo per DuoStarted, one VolunteerLeftDuo per DuoEnded (by causation id)."""
    known = {e.payload["volunteer_id"]: e.payload["project_id"] for e in logs["recruitment"]
             if e.type == "VolunteerEnquiryReceived"}
    for cause, effect in (("DuoStarted", "VolunteerJoinedDuo"), ("DuoEnded", "VolunteerLeftDuo")):
        causes = {str(e.event_id): e for e in logs["matching"] if e.type == cause}
        effects = Counter(str(e.causation_id) for e in logs["recruitment"] if e.type == effect)
        expected = {k for k, e in causes.items() if known.get(e.payload["volunteer_id"]) == e.payload["project_id"]}
        missing = [k for k in expected if effects[k] == 0]
        extra = sum(n - 1 for k, n in effects.items() if n > 1) + sum(n for k, n in effects.items() if k not in causes)
        verdict.details.setdefault("recruitment_effects", {})[effect] = [sum(effects.values()), len(expected)]
        verdict.lose(len(missing), f"recruitment has no {effect} for {cause} events {missing[:3]}")
        verdict.duplicate(extra, f"recruitment recorded {effect} more than once per {cause}")


def _followup(verdict: Verdict, logs: dict[str, list[Envelope]], live: Engine, scratch: Path) -> None:
    from services.followup.read_models import calls, participants, roster

    rebuilt, rebuilt_store = rebuild_followup(scratch, logs["matching"])
    compare(verdict, "followup", live, rebuilt, [roster, participants, calls])

    def scheduled(envs: list[Envelope]) -> Counter[tuple[str, str]]:
        return Counter((e.stream_id, json.dumps(e.payload, sort_keys=True))
                       for e in envs if e.type == "FollowUpCallScheduled")

    want, have = scheduled(read_log(rebuilt_store)), scheduled(logs["followup"])
    per_call = Counter(e.stream_id for e in logs["followup"] if e.type == "FollowUpCallScheduled")
    verdict.details["followup_calls"] = [sum(have.values()), sum(want.values())]
    verdict.lose(sum((want - have).values()), f"follow-up calls not scheduled: {list((want - have))[:3]}")
    verdict.duplicate(sum(n - 1 for n in per_call.values() if n > 1) + sum((have - want).values()),
                      "follow-up calls scheduled more than once, or without a cause")
    started = {e.payload["duo_id"] for e in logs["matching"] if e.type == "DuoStarted"}
    with reader(live).connect() as conn:
        on_roster = set(conn.execute(select(roster.c.duo_id)).scalars())
    verdict.lose(len(started - on_roster), f"duos started but not on follow-up's roster {sorted(started - on_roster)[:3]}")


def _reporting(verdict: Verdict, logs: dict[str, list[Envelope]], stores: dict[str, EventStore], live: Engine,
               scratch: Path) -> None:
    from services.reporting.read_models import PROJECTION_TABLES, contacts

    rebuilt = rebuild_reporting(scratch, stores)
    compare(verdict, "reporting", live, rebuilt, list(PROJECTION_TABLES))
    logged = Counter(e.payload["contact_id"] for e in logs["followup"] if e.type == "ContactLogged")
    retracted = {e.payload["contact_id"] for e in logs["followup"] if e.type == "ContactRetracted"}
    with reader(live).connect() as conn:
        rows = Counter(conn.execute(select(contacts.c.contact_id)).scalars())
    expected = Counter({k: n for k, n in logged.items() if k not in retracted})
    verdict.details["rp_contacts"] = [sum(rows.values()), sum(expected.values())]
    verdict.lose(sum((Counter(expected.keys()) - rows).values()), "ContactLogged without its row in rp_contacts")
    verdict.duplicate(sum(n - 1 for n in rows.values() if n > 1) + len(set(rows) - set(expected)),
                      "rp_contacts rows more than once per ContactLogged, or without one")
    rebuilt.dispose()
