"""Auditors' checks across the copies of a history: the store, the bus and the feed.

The store is the source of truth and verifies itself (hash chain, gapless positions).
The bus and the feed are copies: every event they carry must be exactly the store's
event at that position. The bus may miss events (Redis is transport, and consumers fill
gaps from the feed) or carry one twice (at-least-once), but it may never carry an event
the store does not have, or a different one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from shared.bus.feed import Feed
from shared.bus.wire import MalformedMessage, decode_entry
from shared.events.envelope import Envelope
from shared.eventstore.store import EventStore


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
