"""Rebuild reporting projections from the producers' logs, up to a watermark if given.

Used for a fresh reporting database, for reproducing a published report (rebuild to its
watermark, recompute, compare hashes) and for "as known on date X" reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Engine, insert, update

from shared.bus.feed import Feed
from shared.events.envelope import Envelope
from shared.eventstore.db import migrate
from shared.eventstore.tables import consumer_checkpoints
from services.reporting.projections import on_event

UPSTREAMS = ("recruitment", "matching", "followup")
Progress = Callable[[str, int, int], None]


async def head_of(feed: Feed, upstream: str) -> int:
    return await feed.head(upstream)


async def watermark_as_of(feed: Feed, upstream: str, recorded_before: str) -> int:
    """The last position recorded at or before a moment (ISO time), by bisection on the feed.

    Positions are given in commit order under one lock, so recorded times rise with them.
    """
    low, high = 0, await feed.head(upstream)
    while low < high:
        middle = (low + high + 1) // 2
        [event] = await feed.read(upstream, middle - 1, 1)
        if event.recorded_at.isoformat() <= recorded_before:
            low = middle
        else:
            high = middle - 1
    return low


async def rebuild(
    engine: Engine,
    feed: Feed,
    *,
    watermark: Mapping[str, int] | None = None,
    consumer: str = "reporting",
    page: int = 2000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Apply every upstream's events (up to the watermark) to a fresh reporting database.

    Leaves the consumer checkpoints at the watermark, so the database can go live as is.
    """
    migrate(engine, "reporting")
    reached: dict[str, int] = {}
    for upstream in UPSTREAMS:
        until = watermark[upstream] if watermark is not None else await feed.head(upstream)
        position = 0
        while position < until:
            envs = [e for e in await feed.read(upstream, position, min(page, until - position)) if e.position <= until]
            if not envs:
                break
            _apply(engine, envs)
            position = envs[-1].position
            if progress:
                progress(upstream, position, until)
        reached[upstream] = position
        with engine.begin() as conn:
            done = conn.execute(update(consumer_checkpoints).where(
                consumer_checkpoints.c.consumer == consumer, consumer_checkpoints.c.upstream == upstream,
            ).values(position=position)).rowcount
            if not done:
                conn.execute(insert(consumer_checkpoints).values(consumer=consumer, upstream=upstream, position=position))
    return reached


def _apply(engine: Engine, envs: list[Envelope]) -> None:
    with engine.begin() as conn:
        for env in envs:
            on_event(conn, env)
