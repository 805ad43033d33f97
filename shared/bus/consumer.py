"""Consumers of other services' streams, with effects applied exactly once.

FastStream's stream subscriber leaves a failed message pending with nothing to redeliver
it, stops for good when its group disappears, and hides delivery counts. This layer
reads the streams itself with the same Redis client and adds what is missing:

- the last applied position per upstream is stored in the same transaction as the
  effect, so a redelivered or duplicated event has no second effect;
- a gap in positions is filled from the producer's feed before the next event applies;
- a periodic look at each producer's feed head catches up whatever the bus lost
  (a deleted stream, a Redis that lost its data);
- pending entries idle longer than ``reclaim_idle_ms`` are claimed from dead consumers;
- an event that keeps failing is dead-lettered after N attempts and the consumer goes on;
  an entry that is no event at all is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.bus.feed import Feed
from shared.bus.wire import MalformedMessage, decode_entry
from shared.events.envelope import Envelope
from shared.eventstore.db import reader
from shared.eventstore.rows import BatchedConnection
from shared.eventstore.store import format_time, utcnow
from shared.eventstore.tables import consumer_checkpoints, consumer_failures, dead_letters
from shared.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[Connection, Envelope], None]
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class _Failed(Exception):
    """An event's effect failed and it is not yet dead-lettered: leave it pending."""


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        engine: Engine,
        redis: Redis,
        streams: dict[str, str],
        handler: Handler,
        feed: Feed,
        dead_letter_stream: str,
        dead_letter_after: int = 5,
        reclaim_idle_ms: int = 30_000,
        catch_up_interval_s: float = 5.0,
        consumer_id: str | None = None,
        read_count: int = 200,
        block_ms: int = 1000,
    ) -> None:
        self.name = name  # the consumer group, one per consuming service
        self.engine, self.redis, self.streams = engine, redis, streams
        self.handler, self.feed = handler, feed
        self.dead_letter_stream = dead_letter_stream
        self.dead_letter_after = dead_letter_after
        self.reclaim_idle_ms, self.catch_up_interval_s = reclaim_idle_ms, catch_up_interval_s
        self.consumer_id = consumer_id or f"{socket.gethostname()}-{os.getpid()}"
        self.read_count, self.block_ms = read_count, block_ms
        self._locks = {upstream: asyncio.Lock() for upstream in streams}
        self._tasks: list[asyncio.Task[None]] = []
        self.applied = 0  # effects committed by this instance, for metrics

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._ensure_checkpoints)
        for upstream in self.streams:
            try:
                await self.ensure_group(upstream)
            except REDIS_DOWN as exc:
                log.warning("consumer.redis_unavailable", consumer=self.name, error=str(exc))
            self._tasks.append(asyncio.create_task(self._read_loop(upstream), name=f"{self.name}-read-{upstream}"))
        self._tasks.append(asyncio.create_task(self._reclaim_loop(), name=f"{self.name}-reclaim"))
        self._tasks.append(asyncio.create_task(self._catch_up_loop(), name=f"{self.name}-catch-up"))

    async def stop(self) -> None:
        while pending := [t for t in self._tasks if not t.done()]:  # until really done
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=1)
        self._tasks.clear()

    async def ensure_group(self, upstream: str) -> None:
        """Create the group at the start of the stream, so a new group reads the whole history."""
        try:
            await self.redis.xgroup_create(self.streams[upstream], self.name, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # ---------------------------------------------------------------- loops
    async def _read_loop(self, upstream: str) -> None:
        stream = self.streams[upstream]
        read_id = "0"  # first our own pending entries (a restart after a crash), then new ones
        while True:
            try:
                resp = await self.redis.xreadgroup(
                    self.name, self.consumer_id, {stream: read_id}, count=self.read_count,
                    block=None if read_id == "0" else self.block_ms,
                )
                entries = resp[0][1] if resp else []
                if read_id == "0" and not entries:
                    read_id = ">"
                    continue
                await self.handle_entries(upstream, [(eid, f) for eid, f in entries if f])
                if read_id == "0":
                    # pending entries stay listed until acked; those that failed stay behind
                    if all(not f for _, f in entries) or len(entries) < self.read_count:
                        read_id = ">"
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    log.warning("consumer.group_missing", consumer=self.name, stream=stream)
                    await self._safe(self.ensure_group(upstream))
                    await self.catch_up(upstream)
                else:
                    log.error("consumer.read_failed", consumer=self.name, error=str(exc))
                    await asyncio.sleep(1)
            except REDIS_DOWN as exc:
                log.warning("consumer.redis_unavailable", consumer=self.name, error=str(exc))
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer.loop_error", consumer=self.name, upstream=upstream)
                await asyncio.sleep(1)

    async def _reclaim_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reclaim_idle_ms / 2000)
            for upstream in self.streams:
                await self._safe(self.reclaim(upstream))

    async def _catch_up_loop(self) -> None:
        while True:
            await asyncio.sleep(self.catch_up_interval_s)
            for upstream in self.streams:
                await self._safe(self.catch_up(upstream))

    async def _safe(self, coro: Any) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("consumer.background_step_failed", consumer=self.name, error=str(exc))

    async def reclaim(self, upstream: str) -> int:
        """Claim entries that another consumer of the group left pending for too long."""
        stream, start, claimed = self.streams[upstream], "0-0", 0
        while True:
            resp = await self.redis.xautoclaim(
                stream, self.name, self.consumer_id, self.reclaim_idle_ms, start_id=start, count=self.read_count
            )
            start, entries = resp[0], resp[1]
            live = [(eid, f) for eid, f in entries if f]
            gone = [eid for eid, f in entries if not f]
            if gone:  # trimmed or deleted while pending: nothing to apply
                await self.redis.xack(stream, self.name, *gone)
            claimed += len(live)
            await self.handle_entries(upstream, live)
            if start in (b"0-0", "0-0"):
                return claimed

    # ---------------------------------------------------------------- applying
    async def handle_entries(self, upstream: str, entries: Sequence[tuple[Any, dict[Any, Any]]]) -> None:
        """Apply a batch of stream entries in position order; ack what has had its effect.

        Consecutive events are applied in one transaction; a gap is filled from the feed
        first; what fails stays pending for a later attempt.
        """
        if not entries:
            return
        stream = self.streams[upstream]
        decoded: list[tuple[Any, Envelope]] = []
        done: list[Any] = []
        for entry_id, fields in entries:
            try:
                decoded.append((entry_id, decode_entry(fields)))
            except MalformedMessage as exc:
                await self._dead_letter_malformed(upstream, entry_id, fields, str(exc))
                done.append(entry_id)
        async with self._locks[upstream]:
            pending = sorted({env.position: env for _, env in decoded}.values(), key=lambda e: e.position)
            checkpoint = await anyio.to_thread.run_sync(self.checkpoint, upstream)
            while pending:
                pending = [e for e in pending if e.position > checkpoint]
                if not pending:
                    break
                try:
                    if pending[0].position > checkpoint + 1:
                        log.info("consumer.gap", consumer=self.name, upstream=upstream, after=checkpoint,
                                 got=pending[0].position)
                        await self._fill(upstream, until=pending[0].position - 1)
                    else:
                        run = [e for i, e in enumerate(pending) if e.position == checkpoint + 1 + i]
                        await self._apply_batch(upstream, run)
                except _Failed:
                    break  # stays pending; retried on reclaim or catch-up
                moved = await anyio.to_thread.run_sync(self.checkpoint, upstream)
                if moved == checkpoint:
                    break  # the feed has nothing yet for the gap: try again later
                checkpoint = moved
        done.extend(entry_id for entry_id, env in decoded if env.position <= checkpoint)
        if done:
            await self.redis.xack(stream, self.name, *done)

    async def catch_up(self, upstream: str) -> int:
        """Apply whatever the producer's feed has beyond our checkpoint."""
        async with self._locks[upstream]:
            return await self._fill(upstream, until=None)

    async def _fill(self, upstream: str, until: int | None, page: int = 500) -> int:
        applied = 0
        while True:
            checkpoint = await anyio.to_thread.run_sync(self.checkpoint, upstream)
            if until is not None and checkpoint >= until:
                return applied
            envs = await self.feed.read(upstream, checkpoint, page)
            if until is not None:
                envs = [e for e in envs if e.position <= until]
            if not envs:
                return applied
            applied += await self._apply_batch(upstream, envs)

    async def _apply_batch(self, upstream: str, envs: list[Envelope]) -> int:
        """Apply consecutive events in one transaction; on failure, one by one."""
        try:
            return await anyio.to_thread.run_sync(self._commit, upstream, envs)
        except _Failed:
            raise
        except Exception:
            if len(envs) == 1:
                return await self._on_failure(upstream, envs[0])
        applied = 0
        for env in envs:
            try:
                applied += await anyio.to_thread.run_sync(self._commit, upstream, [env])
            except Exception:
                applied += await self._on_failure(upstream, env)
        return applied

    def _commit(self, upstream: str, envs: list[Envelope]) -> int:
        applied = 0
        with self.engine.begin() as conn:
            checkpoint = self._locked_checkpoint(conn, upstream)
            batched = BatchedConnection(conn)
            for env in envs:
                if env.position <= checkpoint:
                    continue
                if env.position != checkpoint + 1:
                    break  # a gap: the caller fills it first
                with structlog.contextvars.bound_contextvars(correlation_id=str(env.correlation_id), event_type=env.type):
                    self.handler(batched, env)  # type: ignore[arg-type]
                checkpoint = env.position
                applied += 1
            batched.flush()
            conn.execute(
                update(consumer_checkpoints)
                .where(consumer_checkpoints.c.consumer == self.name, consumer_checkpoints.c.upstream == upstream)
                .values(position=checkpoint)
            )
        self.applied += applied
        return applied

    async def _on_failure(self, upstream: str, env: Envelope) -> int:
        """Count a failed attempt; dead-letter the event when it has failed often enough."""
        error = traceback.format_exc(limit=3)
        attempts = await anyio.to_thread.run_sync(self._record_failure, upstream, env.position, error)
        log.warning("consumer.effect_failed", consumer=self.name, upstream=upstream, position=env.position, attempts=attempts)
        if attempts < self.dead_letter_after:
            raise _Failed(error)
        moved = await anyio.to_thread.run_sync(self._skip_dead, upstream, env, error)
        if moved:
            await self._safe(self.redis.xadd(self.dead_letter_stream, {
                "consumer": self.name, "upstream": upstream, "position": str(env.position),
                "reason": error[-2000:], "envelope": env.model_dump_json(),
            }))
            log.error("consumer.dead_lettered", consumer=self.name, upstream=upstream, position=env.position)
        return 0

    def _record_failure(self, upstream: str, position: int, error: str) -> int:
        key = (consumer_failures.c.consumer == self.name, consumer_failures.c.upstream == upstream,
               consumer_failures.c.position == position)
        with self.engine.begin() as conn:
            attempts = conn.execute(select(consumer_failures.c.attempts).where(*key)).scalar()
            if attempts is None:
                attempts = 1
                conn.execute(insert(consumer_failures).values(
                    consumer=self.name, upstream=upstream, position=position, attempts=1, last_error=error))
            else:
                attempts += 1
                conn.execute(update(consumer_failures).where(*key).values(attempts=attempts, last_error=error))
            return attempts

    def _skip_dead(self, upstream: str, env: Envelope, error: str) -> bool:
        """Record the dead letter and move the checkpoint past it, in one transaction."""
        with self.engine.begin() as conn:
            checkpoint = self._locked_checkpoint(conn, upstream)
            if env.position != checkpoint + 1:
                return False
            conn.execute(insert(dead_letters).values(
                consumer=self.name, upstream=upstream, entry_id=f"position-{env.position}", position=env.position,
                reason=error[-4000:], dead_lettered_at=format_time(utcnow())))
            conn.execute(delete(consumer_failures).where(
                consumer_failures.c.consumer == self.name, consumer_failures.c.upstream == upstream,
                consumer_failures.c.position == env.position))
            conn.execute(update(consumer_checkpoints).where(
                consumer_checkpoints.c.consumer == self.name, consumer_checkpoints.c.upstream == upstream,
            ).values(position=env.position))
            return True

    async def _dead_letter_malformed(self, upstream: str, entry_id: Any, fields: dict[Any, Any], reason: str) -> None:
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        raw = {(k.decode() if isinstance(k, bytes) else k): (v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
               for k, v in fields.items()}
        await self.redis.xadd(self.dead_letter_stream, {
            "consumer": self.name, "upstream": upstream, "entry_id": entry, "reason": reason,
            "fields": json.dumps(raw)[:100_000],
        })

        def record() -> None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(dead_letters).values(
                        consumer=self.name, upstream=upstream, entry_id=entry, position=None,
                        reason=reason, dead_lettered_at=format_time(utcnow())))
            except IntegrityError:
                pass  # already recorded on an earlier delivery

        await anyio.to_thread.run_sync(record)
        log.error("consumer.malformed_dead_lettered", consumer=self.name, upstream=upstream, entry_id=entry)

    # ---------------------------------------------------------------- checkpoints
    def _ensure_checkpoints(self) -> None:
        with self.engine.begin() as conn:
            have = set(conn.execute(select(consumer_checkpoints.c.upstream).where(
                consumer_checkpoints.c.consumer == self.name)).scalars())
            for upstream in self.streams:
                if upstream not in have:
                    conn.execute(insert(consumer_checkpoints).values(consumer=self.name, upstream=upstream, position=0))

    def _locked_checkpoint(self, conn: Connection, upstream: str) -> int:
        return conn.execute(
            select(consumer_checkpoints.c.position)
            .where(consumer_checkpoints.c.consumer == self.name, consumer_checkpoints.c.upstream == upstream)
            .with_for_update()
        ).scalar_one()

    def checkpoint(self, upstream: str) -> int:
        with reader(self.engine).connect() as conn:
            return conn.execute(select(consumer_checkpoints.c.position).where(
                consumer_checkpoints.c.consumer == self.name, consumer_checkpoints.c.upstream == upstream)).scalar() or 0
