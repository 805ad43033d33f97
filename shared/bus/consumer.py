"""Consumers of other services' streams, with effects applied exactly once.

FastStream's stream subscriber leaves a failed message pending with nothing to redeliver
it, stops for good when its group disappears, and hides delivery counts. This layer
reads the streams itself with the same Redis client and adds what is missing:

- every entry must carry a valid MAC made with the bus key (``shared.bus.signing``):
  whoever can write to Redis cannot make an entry that is applied; one without is
  dead-lettered as not authentic (``consumer.entry_not_authentic``);
- two different entries for one position are an alarm (``consumer.conflicting_entries``):
  both are dead-lettered and the producer's event at that position comes from its feed;
- the last applied position per upstream is stored in the same transaction as the
  effect, so a redelivered or duplicated event has no second effect;
- a gap in positions is filled from the producer's feed before the next event applies;
- an entry naming a position beyond the producer's head (as last read from its feed) is
  compared with the feed first: unlike the producer's event there it is dead-lettered as
  garbage; beyond the feed's head it stays pending (garbage after N sightings); neither
  moves the checkpoint. Authentic entries at or below that head are taken as they are (the
  hot path), and an event that keeps failing is compared with the feed before its position
  is given up;
- a periodic look at each producer's feed catches up whatever the bus lost
  (a deleted or trimmed stream, a Redis that lost its data);
- the event applied last is kept with the checkpoint (its id, position and time); a producer
  whose feed no longer holds it stops that upstream and is reported in ``problems``, also
  after a restart, named for what it is: the producer recorded another event there before
  we applied ours (what we applied was forged), or after (restored from an old backup);
  nothing is skipped silently;
- pending entries idle longer than ``reclaim_idle_ms`` are claimed from dead consumers;
  consumers of the group that are long idle and hold nothing pending are removed;
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
from datetime import datetime
from typing import Any

import anyio
import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shared.bus.feed import Feed
from shared.bus.signing import BusKeys, NotAuthentic
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


def _database_trouble(exc: BaseException) -> bool:
    """The consumer's own database is busy or away (a lock wait that timed out, a dropped
    connection): passing trouble of the database, not a fault of the event being applied."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


class _Diverged(Exception):
    """The producer's feed no longer holds what we applied: apply nothing more from it."""


def _same_event(bus: Envelope, feed: Envelope) -> bool:
    """Does a bus entry carry the producer's event at its position (what decides the effect)?"""
    return (bus.event_id == feed.event_id and bus.type == feed.type and bus.schema_version == feed.schema_version
            and bus.stream_id == feed.stream_id and bus.version == feed.version and bus.payload == feed.payload)


def _applied(env: Envelope, applied_at: str) -> dict[str, Any]:
    """The checkpoint's record of the event applied last."""
    return {"event_id": str(env.event_id), "event_position": env.position, "applied_at": applied_at}


def _rewritten(position: int, theirs: Envelope, last: tuple[int, str, str | None]) -> tuple[str, str]:
    """Why the producer's event at our checkpoint is not the one we applied, and the log event.

    Recorded by the producer before we applied ours: the producer never had what we applied
    there (a forged entry was applied). Recorded after: its history was rewritten since.
    The times are the producer's and our own clocks; they are compared as they are.
    """
    _, ours, applied_at = last
    if applied_at is not None and theirs.recorded_at <= datetime.fromisoformat(applied_at):
        return (f"we applied event {ours} at position {position} at {applied_at}, but the producer had recorded "
                f"its own event {theirs.event_id} there at {theirs.recorded_at.isoformat()}, before: what we applied "
                f"was never the producer's event, it was a forged bus entry (signed with the bus key: replace the key "
                f"and rebuild this consumer's read models); nothing more is applied from it until resolved",
                "consumer.forged_event_applied")
    return (f"the producer's event at position {position} is {theirs.event_id}, we applied {ours}: its history was "
            f"rewritten (restored from an old backup?); nothing more is applied from it until resolved",
            "consumer.producer_lost_events")


def _key(entry_id: Any) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


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
        feed_page: int = 500,
        forget_idle_ms: int = 600_000,
        batch: Callable[[Connection], BatchedConnection] = BatchedConnection,
        keys: BusKeys | None = None,
    ) -> None:
        self.name = name  # the consumer group, one per consuming service
        self.engine, self.redis, self.streams = engine, redis, streams
        self.handler, self.feed = handler, feed
        self.batch = batch  # what a batch's handlers write through: grouped into few statements
        self.dead_letter_stream = dead_letter_stream
        self.keys = keys or BusKeys.from_settings()  # default: BUDDY_BUS_KEY (the dev key on the dev default)
        self.dead_letter_after = dead_letter_after
        self.reclaim_idle_ms, self.catch_up_interval_s = reclaim_idle_ms, catch_up_interval_s
        self.consumer_id = consumer_id or f"{socket.gethostname()}-{os.getpid()}"
        self.read_count, self.block_ms = read_count, block_ms
        self.feed_page, self.forget_idle_ms = feed_page, forget_idle_ms
        self._locks = {upstream: asyncio.Lock() for upstream in streams}
        self._tasks: list[asyncio.Task[None]] = []
        self.applied = 0  # effects committed by this instance, for metrics
        self.forgeries = 0  # entries set aside as forged (not authentic, or unlike the producer's event)
        # upstream -> what is wrong with its producer (lost events we applied); for /readyz and metrics
        self.diverged: dict[str, str] = {}
        # upstream -> (position, event id, when) of the event we applied last, as kept with the checkpoint
        self._last_applied: dict[str, tuple[int, str, str | None]] = {}
        self._ahead: dict[str, int] = {}  # entry id -> times seen beyond the producer's head
        self._heads: dict[str, int] = {}  # upstream -> the producer's head as last read from its feed
        self._doubt: dict[str, set[int]] = {}  # upstream -> positions whose bus copy must match the feed's
        self._wanted: dict[str, int] = {}  # upstream -> apply the feed's events up to here (positions set aside)

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The loops this consumer runs, for the runtime's readiness check."""
        return list(self._tasks)

    @property
    def problems(self) -> list[str]:
        """What an operator must look at (empty when all is well)."""
        return [f"{upstream}: {reason}" for upstream, reason in sorted(self.diverged.items())]

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._ensure_checkpoints)
        for upstream in self.streams:
            try:
                await self.ensure_group(upstream)
                await self._safe(self.forget_idle_consumers(upstream))
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
                if gone := [eid for eid, f in entries if not f]:  # ours, trimmed or deleted while pending
                    await self.redis.xack(stream, self.name, *gone)
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
                await self._safe(self.forget_idle_consumers(upstream))

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

    async def forget_idle_consumers(self, upstream: str) -> list[str]:
        """Remove the group's consumers idle for ``forget_idle_ms`` that hold no pending entry.

        Every process start reads under a new consumer name; without this the group lists
        every name it ever had. One with pending entries stays until they are reclaimed. A
        live consumer is never that idle (each blocking read resets it); one deleted anyway
        is recreated by its next read.
        """
        stream, forgotten = self.streams[upstream], []
        for info in await self.redis.xinfo_consumers(stream, self.name):
            name = info["name"].decode() if isinstance(info["name"], bytes) else str(info["name"])
            if name == self.consumer_id or int(info["pending"]) or int(info["idle"]) < self.forget_idle_ms:
                continue
            # XGROUP DELCONSUMER answers how many entries it dropped: 0 unless one arrived meanwhile,
            # and such an entry is still applied by the feed catch-up
            await self.redis.xgroup_delconsumer(stream, self.name, name)
            forgotten.append(name)
        if forgotten:
            log.info("consumer.forgot_idle_consumers", consumer=self.name, upstream=upstream, names=forgotten)
        return forgotten

    # ---------------------------------------------------------------- applying
    async def handle_entries(self, upstream: str, entries: Sequence[tuple[Any, dict[Any, Any]]]) -> None:
        """Apply a batch of stream entries in position order; ack what has had its effect.

        An entry without a valid MAC is dead-lettered, as is every entry of a position that
        two different entries claim (the feed's event applies there). Authentic entries at or
        below the producer's head as last read from its feed are taken as they are; the
        others are first compared with the feed (``_screen``). Consecutive events are applied
        in one transaction; a gap is filled from the feed first; what fails stays pending for
        a later attempt.
        """
        if not entries:
            return
        stream = self.streams[upstream]
        verify = self.keys.verify
        decoded: list[tuple[Any, Envelope]] = []
        done: list[Any] = []
        for entry_id, fields in entries:
            try:
                verify(stream, fields)
                decoded.append((entry_id, decode_entry(fields)))
            except MalformedMessage as exc:
                await self._dead_letter_malformed(upstream, entry_id, fields, str(exc),
                                                  forged="consumer.entry_not_authentic"
                                                  if isinstance(exc, NotAuthentic) else None)
                done.append(entry_id)
        if len({env.position for _, env in decoded}) < len(decoded):
            decoded, conflicted = await self._set_aside_conflicts(upstream, decoded, dict(entries))
            done.extend(conflicted)
        async with self._locks[upstream]:
            checkpoint = await anyio.to_thread.run_sync(self.checkpoint, upstream)
            done.extend(eid for eid, env in decoded if env.position <= checkpoint)
            fresh = [(eid, env) for eid, env in decoded if env.position > checkpoint]
            if fresh:
                fresh, settled = await self._screen(upstream, checkpoint, fresh, dict(entries))
                done.extend(settled)
            pending = sorted({env.position: env for _, env in fresh}.values(), key=lambda e: e.position)
            wanted = max(self._wanted.get(upstream, 0), pending[-1].position if pending else 0)
            while wanted > checkpoint:
                pending = [e for e in pending if e.position > checkpoint]
                try:
                    if not pending:  # a position set aside: the producer's event comes from its feed
                        await self._fill(upstream, until=wanted)
                    elif pending[0].position > checkpoint + 1:
                        log.info("consumer.gap", consumer=self.name, upstream=upstream, after=checkpoint,
                                 got=pending[0].position)
                        await self._fill(upstream, until=pending[0].position - 1)
                    else:
                        run = [e for i, e in enumerate(pending) if e.position == checkpoint + 1 + i]
                        await self._apply_batch(upstream, run)
                except _Failed:
                    break  # stays pending; retried on reclaim or catch-up
                except Exception as exc:  # the feed is away: the entries wait, catch-up fills later
                    log.warning("consumer.feed_unavailable", consumer=self.name, upstream=upstream,
                                error=f"{type(exc).__name__}: {exc}")
                    break
                moved = await anyio.to_thread.run_sync(self.checkpoint, upstream)
                if moved == checkpoint:
                    break  # the feed has nothing yet for the gap: try again later
                checkpoint = moved
            if self._wanted.get(upstream, 0) <= checkpoint:
                self._wanted.pop(upstream, None)
            done.extend(eid for eid, env in fresh if env.position <= checkpoint)
        if done:
            await self.redis.xack(stream, self.name, *done)

    async def _set_aside_conflicts(self, upstream: str, decoded: list[tuple[Any, Envelope]],
                                   fields_of: dict[Any, dict[Any, Any]]) -> tuple[list[tuple[Any, Envelope]], list[Any]]:
        """Dead-letter every entry of a position that two different entries claim; keep the rest.

        A relay that re-publishes sends the same event again; two *different* events for one
        position mean one of them is forged (with the bus key) and nothing on the bus says
        which: both are set aside, and the producer's event at that position is applied from
        its feed (up to the head as last read from it; further on, the catch-up does it).
        """
        by_position: dict[int, list[tuple[Any, Envelope]]] = {}
        for eid, env in decoded:
            by_position.setdefault(env.position, []).append((eid, env))
        conflicted = {position: claims for position, claims in by_position.items()
                      if any(env != claims[0][1] for _, env in claims[1:])}
        if not conflicted:
            return decoded, []
        settled = []
        for position, claims in sorted(conflicted.items()):
            events = sorted({str(env.event_id) for _, env in claims})
            log.error("consumer.conflicting_entries", consumer=self.name, upstream=upstream, position=position,
                      entries=[_key(eid) for eid, _ in claims], events=events)
            for eid, _ in claims:
                await self._dead_letter_malformed(
                    upstream, eid, fields_of[eid],
                    f"two different entries claim position {position} (events {', '.join(events)}): one of them is "
                    f"forged with the bus key; both are set aside and the producer's event there comes from its feed",
                    forged="consumer.conflicting_entry_dead_lettered")
                settled.append(eid)
        head = self._heads.get(upstream, 0)
        if within := [p for p in conflicted if p <= head]:
            self._wanted[upstream] = max(self._wanted.get(upstream, 0), *within)
        return [(eid, env) for eid, env in decoded if env.position not in conflicted], settled

    async def _screen(self, upstream: str, checkpoint: int, fresh: list[tuple[Any, Envelope]],
                      fields_of: dict[Any, dict[Any, Any]]) -> tuple[list[tuple[Any, Envelope]], list[Any]]:
        """Keep the entries that may be applied; return them and the ids settled as garbage.

        An entry is taken as it is when its position is at or below the producer's head as
        last read (the hot path: the head is read once at start and again only when an entry
        goes beyond it), or while the feed has never answered (the bus alone). Any other
        entry (beyond that head, seen beyond the head before, or at a position whose bus
        copy kept failing and did not match the feed) is compared with the feed's event at
        its position: unlike it, it is garbage at once; beyond the feed's head it waits
        pending and is garbage after ``dead_letter_after`` sightings. Neither moves the
        checkpoint. Nothing is kept while the producer has lost what we applied.
        """
        if upstream in self.diverged:  # nothing is applied until the producer holds what we applied
            try:
                await self._read_feed(upstream, checkpoint, 1, checkpoint=checkpoint, probe_head=True)
            except Exception:
                return [], []
            if upstream in self.diverged:
                return [], []
        head = self._heads.get(upstream)
        if head is None:  # once per process: where the producer is
            try:
                head = self._heads[upstream] = await self.feed.head(upstream)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:
                log.warning("consumer.feed_unavailable", consumer=self.name, upstream=upstream,
                            error=f"{type(exc).__name__}: {exc}")
        doubt = self._doubt.setdefault(upstream, set())
        doubt.difference_update([p for p in doubt if p <= checkpoint])
        # head None: the feed has never answered; the bus alone carries events, as it is
        doubtful = [(eid, env) for eid, env in fresh
                    if (head is not None and env.position > head) or env.position in doubt or _key(eid) in self._ahead]
        if not doubtful:
            return fresh, []
        doubtful_ids = {eid for eid, _ in doubtful}
        trusted = [(eid, env) for eid, env in fresh if eid not in doubtful_ids]
        base = max(checkpoint, min(env.position for _, env in doubtful) - 1)
        limit = min(self.feed_page, max(env.position for _, env in doubtful) - base)
        try:
            envs = await self._read_feed(upstream, base, limit, checkpoint=checkpoint)
            if envs and len(envs) < limit:
                head = envs[-1].position
            else:  # nothing there, or a full page: ask how far the producer is
                head = await self.feed.head(upstream)
        except _Diverged:
            return [], []
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # the producer is away: the doubtful entries wait
            log.warning("consumer.feed_unavailable", consumer=self.name, upstream=upstream,
                        error=f"{type(exc).__name__}: {exc}")
            return trusted, []
        self._heads[upstream] = head
        theirs = {env.position: env for env in envs}
        kept, settled = trusted, []
        for eid, env in doubtful:
            own = theirs.get(env.position)
            if own is not None and _same_event(env, own):
                self._ahead.pop(_key(eid), None)
                kept.append((eid, own))
            elif own is not None:
                await self._dead_letter_malformed(
                    upstream, eid, fields_of[eid],
                    f"an authentic entry that is not the producer's event at position {env.position} "
                    f"(event {env.event_id} on the bus, {own.event_id} in the feed): forged with the bus key",
                    forged="consumer.forged_entry_dead_lettered")
                settled.append(eid)
                kept.append((eid, own))  # the real event it stood for applies now
            elif env.position > head and await self._seen_beyond_head(upstream, eid, env, head, fields_of[eid]):
                settled.append(eid)
            # else: beyond the page just read; it waits for the next round
        if len(self._ahead) > 10 * self.read_count:  # a bound; a forgotten one just counts again
            self._ahead.clear()
        return kept, settled

    async def _seen_beyond_head(self, upstream: str, eid: Any, env: Envelope, head: int,
                                fields: dict[Any, Any]) -> bool:
        """Count an entry naming a position the producer has not recorded; garbage after N sightings."""
        seen = self._ahead[_key(eid)] = self._ahead.get(_key(eid), 0) + 1
        log.warning("consumer.entry_beyond_producer_head", consumer=self.name, upstream=upstream, entry_id=_key(eid),
                    position=env.position, head=head, seen=seen)
        if seen < self.dead_letter_after:
            return False
        await self._dead_letter_malformed(
            upstream, eid, fields, f"names position {env.position}, beyond the producer's head ({head}), {seen} times")
        self._ahead.pop(_key(eid), None)
        return True

    async def _read_feed(self, upstream: str, after: int, limit: int, *, checkpoint: int,
                         probe_head: bool = False) -> list[Envelope]:
        """The producer's events after ``after``, having checked that it still holds ours.

        When the read starts at our checkpoint and we know which event we applied there,
        it starts one earlier and that event must be there with the same id; otherwise the
        producer lost or rewrote what we applied (a restore from an old backup) and this
        upstream stops (``_Diverged``). Without that knowledge (just started) an empty read
        is checked against the producer's head when ``probe_head`` (the periodic catch-up).
        """
        last = self._last_applied.get(upstream)
        check = last is not None and last[0] == checkpoint == after and checkpoint > 0
        envs = await self.feed.read(upstream, after - 1 if check else after, limit + 1 if check else limit)
        if check:
            assert last is not None
            if not envs or envs[0].position != checkpoint:
                self._diverge(upstream, f"the producer's log ends at position {await self.feed.head(upstream)}, before "
                                        f"the event we applied at position {checkpoint}: it lost recorded events "
                                        f"(restored from an old backup?); nothing more is applied from it until resolved")
            if str(envs[0].event_id) != last[1]:
                self._diverge(upstream, *_rewritten(checkpoint, envs[0], last))
            envs = envs[1:]
        elif checkpoint > 0 and not envs and (probe_head or upstream in self.diverged):
            head = await self.feed.head(upstream)
            if head < checkpoint:
                self._diverge(upstream, f"the producer's log ends at position {head}, before position {checkpoint} "
                                        f"that we applied: it lost recorded events (restored from an old backup?); "
                                        f"nothing more is applied from it until resolved")
        if after == checkpoint and self.diverged.pop(upstream, None) is not None:
            log.warning("consumer.producer_recovered", consumer=self.name, upstream=upstream)
        return envs

    def _diverge(self, upstream: str, reason: str, event: str = "consumer.producer_lost_events") -> None:
        if self.diverged.get(upstream) != reason:
            log.error(event, consumer=self.name, upstream=upstream, reason=reason)
        self.diverged[upstream] = reason
        self._heads.pop(upstream, None)
        raise _Diverged(upstream)

    async def catch_up(self, upstream: str) -> int:
        """Apply whatever the producer's feed has beyond our checkpoint."""
        async with self._locks[upstream]:
            return await self._fill(upstream, until=None)

    async def _fill(self, upstream: str, until: int | None) -> int:
        """Apply the feed's events after our checkpoint (up to ``until``), a page at a time."""
        applied = 0
        while True:
            checkpoint = await anyio.to_thread.run_sync(self.checkpoint, upstream)
            if until is not None and checkpoint >= until:
                return applied
            try:
                envs = await self._read_feed(upstream, checkpoint, self.feed_page, checkpoint=checkpoint,
                                             probe_head=until is None)
            except _Diverged:
                return applied
            if until is not None:
                envs = [e for e in envs if e.position <= until]
            if not envs:
                return applied
            self._heads[upstream] = max(self._heads.get(upstream, 0), envs[-1].position)
            applied += await self._apply_batch(upstream, envs)

    async def _apply_batch(self, upstream: str, envs: list[Envelope]) -> int:
        """Apply consecutive events in one transaction; on failure, one by one.

        A busy or unreachable database fails every event alike and says nothing about the
        event: it is not counted towards dead-lettering; the events wait for a later attempt.
        """
        try:
            return await anyio.to_thread.run_sync(self._commit, upstream, envs)
        except _Failed:
            raise
        except Exception as exc:
            self._unless_database_trouble(upstream, exc)
            if len(envs) == 1:
                return await self._on_failure(upstream, envs[0])
        applied = 0
        for env in envs:
            try:
                applied += await anyio.to_thread.run_sync(self._commit, upstream, [env])
            except Exception as exc:
                self._unless_database_trouble(upstream, exc)
                applied += await self._on_failure(upstream, env)
        return applied

    def _unless_database_trouble(self, upstream: str, exc: Exception) -> None:
        if _database_trouble(exc):
            log.warning("consumer.database_unavailable", consumer=self.name, upstream=upstream,
                        error=f"{type(exc).__name__}: {str(exc)[:200]}")
            raise _Failed(str(exc)) from exc

    def _commit(self, upstream: str, envs: list[Envelope]) -> int:
        applied, last = 0, None
        with self.engine.begin() as conn:
            checkpoint = self._locked_checkpoint(conn, upstream)
            batched = self.batch(conn)
            for env in envs:
                if env.position <= checkpoint:
                    continue
                if env.position != checkpoint + 1:
                    break  # a gap: the caller fills it first
                with structlog.contextvars.bound_contextvars(correlation_id=str(env.correlation_id), event_type=env.type):
                    self.handler(batched, env)  # type: ignore[arg-type]
                checkpoint, last = env.position, env
                applied += 1
            batched.flush()
            applied_at = format_time(utcnow())
            conn.execute(
                update(consumer_checkpoints)
                .where(consumer_checkpoints.c.consumer == self.name, consumer_checkpoints.c.upstream == upstream)
                .values(position=checkpoint, **(_applied(last, applied_at) if last is not None else {}))
            )
        if last is not None:
            self._last_applied[upstream] = (last.position, str(last.event_id), applied_at)
        self.applied += applied
        return applied

    async def _on_failure(self, upstream: str, env: Envelope) -> int:
        """Count a failed attempt; dead-letter the event when it has failed often enough."""
        error = traceback.format_exc(limit=3)
        attempts = await anyio.to_thread.run_sync(self._record_failure, upstream, env.position, error)
        log.warning("consumer.effect_failed", consumer=self.name, upstream=upstream, position=env.position, attempts=attempts)
        if attempts < self.dead_letter_after:
            raise _Failed(error)
        if not await self._matches_feed(upstream, env):  # not the producer's event: never dead-letter its position
            self._doubt.setdefault(upstream, set()).add(env.position)
            log.warning("consumer.failing_entry_unlike_feed", consumer=self.name, upstream=upstream, position=env.position)
            raise _Failed(error)
        moved = await anyio.to_thread.run_sync(self._skip_dead, upstream, env, error)
        if moved:
            await self._safe(self.redis.xadd(self.dead_letter_stream, {
                "consumer": self.name, "upstream": upstream, "position": str(env.position),
                "reason": error[-2000:], "envelope": env.model_dump_json(),
            }))
            log.error("consumer.dead_lettered", consumer=self.name, upstream=upstream, position=env.position)
        return 0

    async def _matches_feed(self, upstream: str, env: Envelope) -> bool:
        try:
            envs = await self.feed.read(upstream, env.position - 1, 1)
        except Exception as exc:
            if upstream not in self._heads:  # the feed has never answered: the bus alone decides, as it is
                return True
            raise _Failed(f"the feed cannot confirm position {env.position}: {exc}") from exc
        return bool(envs) and envs[0].position == env.position and _same_event(env, envs[0])

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
            applied_at = format_time(utcnow())
            conn.execute(update(consumer_checkpoints).where(
                consumer_checkpoints.c.consumer == self.name, consumer_checkpoints.c.upstream == upstream,
            ).values(position=env.position, **_applied(env, applied_at)))
        self._last_applied[upstream] = (env.position, str(env.event_id), applied_at)
        return True

    async def _dead_letter_malformed(self, upstream: str, entry_id: Any, fields: dict[Any, Any], reason: str, *,
                                     forged: str | None = None) -> None:
        """Set an entry aside as garbage; ``forged``: the alarm's log event when it is (or may be) a forgery."""
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
        if forged is not None:
            self.forgeries += 1
            log.error(forged, consumer=self.name, upstream=upstream, entry_id=entry, reason=reason)
        else:
            log.error("consumer.malformed_dead_lettered", consumer=self.name, upstream=upstream, entry_id=entry)

    # ---------------------------------------------------------------- checkpoints
    def _ensure_checkpoints(self) -> None:
        """Create the missing checkpoints; learn the event applied last at each kept one."""
        c = consumer_checkpoints.c
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.upstream, c.position, c.event_id, c.event_position, c.applied_at)
                                .where(c.consumer == self.name)).all()
            for row in rows:
                if row.upstream in self.streams and row.event_id and row.event_position == row.position:
                    self._last_applied.setdefault(row.upstream, (row.position, row.event_id, row.applied_at))
            have = {row.upstream for row in rows}
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
