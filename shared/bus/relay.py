"""Outbox relay: publishes committed events, in position order, to the service's stream.

The event log is the outbox: positions are gapless and in commit order, so "everything
after the last published position" is exactly what is still to send. The published
position is kept in memory and stored once the relay has caught up (a round finds nothing
new) and otherwise at most once per ``save_every_s``: storing it is a durable commit, and
one per command under load would double the commits a command costs. A crash re-publishes
what was sent since the last save, which consumers absorb (they keep the last position
they applied); a clean stop saves it.

Every entry is signed with the bus key (``shared.bus.signing``): consumers apply no entry
that Redis holds without a valid MAC.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import anyio
from faststream.redis import RedisBroker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from shared.bus.signing import MAC_KEY, BusKeys
from shared.bus.wire import DATA_KEY, encode_row
from shared.eventstore.db import reader
from shared.eventstore.store import EventStore
from shared.eventstore.tables import relay_state
from shared.logging import get_logger

log = get_logger(__name__)


class OutboxRelay:
    def __init__(self, store: EventStore, broker: RedisBroker, stream: str, *, batch: int = 500, interval_s: float = 0.05,
                 max_len: int | None = 100_000, save_every_s: float = 1.0, keys: BusKeys | None = None) -> None:
        self.store, self.broker, self.stream = store, broker, stream
        self.keys = keys or BusKeys.from_settings()  # default: BUDDY_BUS_KEY (the dev key on the dev default)
        self.batch, self.interval_s, self.save_every_s = batch, interval_s, save_every_s
        self._published: int | None = None  # known once read from the database; ahead of it until saved
        self._saved: int | None = None
        self._saved_at = 0.0
        self.max_len = max_len  # the stream is capped (XADD MAXLEN ~): a consumer further behind reads the feed
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def notify(self) -> None:
        """Called after a local append (from any thread) so the relay need not wait a tick."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def published_position(self) -> int:
        """The last position Redis accepted (this process's own count once it has published)."""
        if self._published is not None:
            return self._published
        return self.saved_position()

    def saved_position(self) -> int:
        """The last published position as stored: where a restarted relay begins."""
        with reader(self.store.engine).connect() as conn:
            value = conn.execute(select(relay_state.c.position).where(relay_state.c.stream == self.stream)).scalar()
            return value or 0

    def _save_position(self, position: int) -> None:
        with self.store.engine.begin() as conn:
            done = conn.execute(
                update(relay_state).where(relay_state.c.stream == self.stream).values(position=position)
            ).rowcount
            if not done:
                conn.execute(insert(relay_state).values(stream=self.stream, position=position))

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; returns how many."""
        if self._published is None:
            self._published = self._saved = await anyio.to_thread.run_sync(self.saved_position)
            self._saved_at = time.monotonic()
        rows = await anyio.to_thread.run_sync(self.store.read_rows_after, self._published, self.batch)
        if not rows:
            await self._save_if_due(idle=True)
            return 0
        # FastStream's message format and client, one pipelined XADD per event: the
        # publisher's per-message call costs more than Redis does (see bench/bus.py).
        redis = self.broker._connection
        service, sign = self.store.service, self.keys.sign
        async with redis.pipeline(transaction=False) as pipe:
            for row in rows:
                data = encode_row(row, service)
                pipe.xadd(self.stream, {DATA_KEY: data, MAC_KEY: sign(self.stream, data)}, maxlen=self.max_len,
                          approximate=True)
            await pipe.execute()
        self._published = rows[-1]["position"]
        await self._save_if_due()
        return len(rows)

    async def _save_if_due(self, *, idle: bool = False) -> None:
        if self._published == self._saved or (not idle and time.monotonic() - self._saved_at < self.save_every_s):
            return
        position = self._published
        await anyio.to_thread.run_sync(self._save_position, position)
        self._saved, self._saved_at = position, time.monotonic()

    async def run(self) -> None:
        try:
            await self._run()
        finally:  # a clean stop: the next start need not re-publish anything
            if self._published is not None and self._published != self._saved:
                with contextlib.suppress(Exception):
                    self._save_position(self._published)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        backoff = self.interval_s
        while True:
            try:
                while await self.publish_pending() == self.batch:
                    pass
                backoff = self.interval_s
            except (RedisConnectionError, RedisTimeoutError, OSError, DBAPIError) as exc:
                # Redis or the database is away: back off and retry, never let the relay die
                log.warning("relay.unavailable", stream=self.stream, error=type(exc).__name__)
                backoff = min(backoff * 2 if backoff > self.interval_s else 0.5, 5.0)
                await asyncio.sleep(backoff)  # new appends must not turn the back-off into a busy loop
                continue
            self._wake.clear()
            try:  # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
                async with asyncio.timeout(backoff):
                    await self._wake.wait()
            except TimeoutError:
                pass
