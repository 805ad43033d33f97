"""Auditors' tools: checks across the copies of a history, a person's timeline, replays.

* ``verify_stream`` / ``verify_feed``: the bus and the feed against the store (below).
* ``timeline``: every public event about one volunteer, participant or duo, across the
  services' feeds (``buddy audit history``).
* ``replay_service``: a service's state, or the reports, as known at a moment, rebuilt in
  a separate database (``buddy audit replay``).

The store is the source of truth and verifies itself (hash chain, gapless positions).
The bus and the feed are copies: every event they carry must be exactly the store's
event at that position. The bus may miss events (Redis is transport, and consumers fill
gaps from the feed) or carry one twice (at-least-once), but it may never carry an event
the store does not have, or a different one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import Engine, insert, select, update

import shared.contracts.audit  # noqa: F401  (replays decode the access events with the services' own)
from shared.bus.feed import Feed
from shared.bus.wire import MalformedMessage, decode_entry
from shared.events.envelope import Envelope
from shared.eventstore.db import make_engine, migrate, reader
from shared.eventstore.store import EventStore, Verification, format_time
from shared.eventstore.tables import GENESIS_HASH, consumer_checkpoints, events, store_head
from shared.settings import Settings
from shared.vault import Vault


@dataclass
class CopyCheck:
    source: str
    checked: int = 0
    missing: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _compare(store_env: Envelope | None, copy: Envelope, where: str) -> str | None:
    if store_env is None:
        return f"{where}: event {copy.event_id} at position {copy.position} is not in the store (forged or from elsewhere)"
    if copy != store_env:
        fields = sorted(k for k in type(copy).model_fields if getattr(copy, k) != getattr(store_env, k))
        return f"{where}: event {copy.event_id} at position {copy.position} differs from the store in {', '.join(fields)}"
    return None


async def verify_stream(store: EventStore, redis: Redis, stream: str, *, page: int = 1000) -> CopyCheck:
    """Every entry on the service's stream must be the store's event at its position."""
    result = CopyCheck(source=f"stream {stream}")
    head, _ = store.head()
    seen: set[int] = set()
    start = "-"
    while True:
        entries = await redis.xrange(stream, min=start, max="+", count=page)
        if start != "-":
            entries = entries[1:]  # the first is the one we already saw
        if not entries:
            break
        envs: list[tuple[str, Envelope]] = []
        for entry_id, fields in entries:
            eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            try:
                envs.append((eid, decode_entry(fields)))
            except MalformedMessage as exc:
                result.problems.append(f"{result.source}: entry {eid} is not an event: {exc}")
        positions = [e.position for _, e in envs if e.position <= head]
        by_position = {}
        if positions:
            rows = store.read_after(min(positions) - 1, limit=max(positions) - min(positions) + 1)
            by_position = {r.envelope.position: r.envelope for r in rows}
        for eid, env in envs:
            result.checked += 1
            seen.add(env.position)
            problem = _compare(by_position.get(env.position), env, f"{result.source} entry {eid}")
            if problem:
                result.problems.append(problem)
        start = entries[-1][0]
    result.missing = head - len(seen & set(range(1, head + 1)))
    return result


async def verify_feed(store: EventStore, feed: Feed, service: str, *, page: int = 1000) -> CopyCheck:
    """The feed must serve exactly the store's events, all of them, in order."""
    result = CopyCheck(source=f"feed of {service}")
    head, _ = store.head()
    after = 0
    while True:
        envs = await feed.read(service, after, page)
        if not envs:
            break
        rows = {r.envelope.position: r.envelope for r in store.read_after(after, limit=len(envs))}
        for env in envs:
            result.checked += 1
            if env.position != after + 1:
                result.problems.append(f"{result.source}: position {after + 1} is missing (next served is {env.position})")
            problem = _compare(rows.get(env.position), env, result.source)
            if problem:
                result.problems.append(problem)
            after = env.position
    if after < head:
        result.missing = head - after
        result.problems.append(f"{result.source}: serves up to position {after}, the store has {head}")
    return result


# --------------------------------------------------------------------------- one store's break, named

def first_broken_event(store: EventStore, verification: Verification) -> tuple[int | None, str | None]:
    """Position and id of the first broken event, also when it lies behind the store head.

    ``verify`` names the event whose row breaks the chain; an event appended behind the
    head with a recomputed, valid-looking hash breaks only the head: it is the first
    event after the head position. (When events were cut off the end there is none.)
    """
    if verification.first_broken_event_id is not None or verification.first_broken_position is None:
        return verification.first_broken_position, verification.first_broken_event_id
    with reader(store.engine).connect() as conn:
        row = conn.execute(
            select(events.c.position, events.c.event_id).where(events.c.position > verification.head_position)
            .order_by(events.c.position).limit(1)
        ).first()
    if row is None:
        return verification.first_broken_position, None
    return row.position, row.event_id


# --------------------------------------------------------------------------- history of one person or duo

@dataclass(frozen=True)
class TimelineItem:
    service: str
    envelope: Envelope
    via: str  # "subject", or "duo:<id>" for an event of a duo the person was in


async def timeline(feed: Feed, subject_id: str, services: Sequence[str] = ("recruitment", "matching", "followup"),
                   *, follow_duos: bool = True, page: int = 1000) -> list[TimelineItem]:
    """Every public event about a person or duo in the services' feeds, in recorded order.

    The services are read in the order of the journey (recruitment, matching, follow-up),
    so the duos a person was in are known before follow-up's events of those duos arrive.
    """
    from shared.privacy import SubjectMatcher

    matcher = SubjectMatcher(subject_id, follow_duos=follow_duos)
    found: list[TimelineItem] = []
    for service in services:
        service_items: list[TimelineItem] = []
        after = 0
        while envs := await feed.read(service, after, page):
            for env in envs:
                via = matcher(env.stream_id, env.payload)
                if via is not None:
                    service_items.append(TimelineItem(service, env, via))
            after = envs[-1].position
        if matcher.duos:  # a duo learned late in this log: its earlier events in the same log
            seen = {i.envelope.position for i in service_items}
            after = 0
            while envs := await feed.read(service, after, page):
                for env in envs:
                    if env.position not in seen and (via := matcher(env.stream_id, env.payload)) is not None:
                        service_items.append(TimelineItem(service, env, via))
                after = envs[-1].position
        found += sorted(service_items, key=lambda i: i.envelope.position)
    order = {s: n for n, s in enumerate(services)}
    return sorted(found, key=lambda i: (i.envelope.recorded_at, order[i.service], i.envelope.position))


# --------------------------------------------------------------------------- replay as of a moment

@dataclass
class Replay:
    service: str
    as_of: str
    events: int  # copied (writing services) or applied per upstream (reporting)
    head_position: int = 0
    head_hash: str = GENESIS_HASH
    watermark: dict[str, int] = field(default_factory=dict)
    read_models: int = 0  # events replayed into the read models
    verification: Verification | None = None


def _empty(engine: Engine) -> bool:
    with reader(engine).connect() as conn:
        return conn.execute(select(events.c.position).limit(1)).first() is None


def copy_history(source: Engine, target: Engine, *, service: str, as_of: datetime, batch: int = 2000) -> Replay:
    """Copy the events recorded at or before ``as_of``, byte for byte, into an empty database.

    The copy is the prefix of the log up to the first event recorded later, so its chain
    and head are those the live store had then. Vault keys are not copied: the replay
    holds no readable personal data (and keys erased since stay erased).
    """
    mark = format_time(as_of)
    migrate(target, service)
    if not _empty(target):
        raise ValueError("the target database already holds events: give an empty one")
    copied, after, head_hash = 0, 0, GENESIS_HASH
    with reader(source).connect() as src, target.begin() as dst:
        done = False
        while not done:
            rows = src.execute(select(events).where(events.c.position > after)
                               .order_by(events.c.position).limit(batch)).mappings().all()
            if not rows:
                break
            take = []
            for row in rows:
                if row["recorded_at"] > mark:
                    done = True
                    break
                take.append(dict(row))
            if take:
                dst.execute(insert(events), take)
                copied += len(take)
                after, head_hash = take[-1]["position"], take[-1]["hash"]
            if len(take) < len(rows):
                done = True
        dst.execute(update(store_head).where(store_head.c.id == 1).values(position=after, hash=head_hash))
    return Replay(service, mark, copied, after, head_hash)


class _ReadOnlyStore:
    """A store whose appends are refused as "already recorded": replays must not add history."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def append(self, stream_id: str, expected_version: int, *_: Any, **__: Any) -> list[int]:
        from shared.eventstore import ConcurrencyConflict

        raise ConcurrencyConflict(stream_id, expected_version, -1)


def _rebuild_read_models(service: str, store: EventStore, vault: Vault, *, upstream: Feed | None,
                         as_of: str) -> int:
    """Let the service's own rebuild recreate its read models from the copied log."""
    if service == "recruitment":
        from services.recruitment.projection import rebuild

        with store.transaction(exclusive=True) as conn:
            return rebuild(conn, store, vault)
    if service == "matching":
        from services.matching.projection import rebuild as rebuild_matching

        with store.transaction(exclusive=True) as conn:
            return rebuild_matching(conn, store, None)
    if service == "followup":
        from services.followup.projections import rebuild as rebuild_followup

        return rebuild_followup(store)
    raise ValueError(f"no read models to rebuild for {service!r}")


async def _followup_roster(engine: Engine, store: EventStore, feed: Feed, as_of: str) -> int:
    """Follow-up's roster is learned from matching's events: apply those recorded by then.

    Through follow-up's own subscriber, with appends refused (the calls it would schedule
    are in the copied log already, or were recorded after the moment).
    """
    from services.followup.config import FollowupSettings
    from services.followup.subscribers import FollowupSubscriber
    from services.reporting.rebuild import watermark_as_of

    class _Runtime:
        vault = None

        def __init__(self) -> None:
            self.store = _ReadOnlyStore(store)

        def recorded(self) -> None:
            pass

    subscriber = FollowupSubscriber(FollowupSettings()).bind(_Runtime())  # type: ignore[arg-type]
    until = await watermark_as_of(feed, "matching", as_of)
    after = applied = 0
    while after < until and (envs := [e for e in await feed.read("matching", after, 1000) if e.position <= until]):
        with engine.begin() as conn:
            for env in envs:
                subscriber(conn, env)
        after, applied = envs[-1].position, applied + len(envs)
    return applied


async def replay_service(settings: Settings, service: str, as_of: datetime, into: str, *,
                         feed: Feed | None = None) -> Replay:
    """A service's state as known at ``as_of``, in a separate database; the live one is only read.

    Writing services: their log up to then, byte for byte (it verifies), and their read
    models rebuilt from it (follow-up also learns its roster from matching's log up to
    then, through ``feed``). Reporting: its projections rebuilt from the producers' feeds
    up to each producer's last event recorded by then.
    """
    target = make_engine(into)
    try:
        if service == "reporting":
            from services.reporting.rebuild import UPSTREAMS, rebuild, watermark_as_of

            if feed is None:
                raise ValueError("replaying reporting needs the producers' feeds")
            migrate(target, "reporting")
            with reader(target).connect() as conn:
                if conn.execute(select(consumer_checkpoints.c.position).limit(1)).first() is not None:
                    raise ValueError("the target database already holds projections: give an empty one")
            mark = format_time(as_of)
            marks = {u: await watermark_as_of(feed, u, mark) for u in UPSTREAMS}
            reached = await rebuild(target, feed, watermark=marks)
            return Replay(service, mark, sum(reached.values()), watermark=reached)
        source = make_engine(settings.database_url_of(service))
        try:
            result = copy_history(source, target, service=service, as_of=as_of)
        finally:
            source.dispose()
        store = EventStore(target, service)
        vault = Vault(target, settings.key_bytes("master_key"), settings.key_bytes("blind_index_key"))
        result.read_models = _rebuild_read_models(service, store, vault, upstream=feed, as_of=result.as_of)
        if service == "followup" and feed is not None:
            result.watermark = {"matching": await _followup_roster(target, store, feed, result.as_of)}
        result.verification = store.verify()
        return result
    finally:
        target.dispose()
