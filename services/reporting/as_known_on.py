"""Reports "as known on" a day: one rebuild per watermark, a bounded number at once.

Such a report replays every producer's feed up to that day's watermark into a temporary
database: O(events), minutes at Flanders scale, CPU and disk the live service needs too.
So that no caller can make the service spend that many times over:

* every request for the same watermark (the positions per producer, not the day: two
  days with nothing recorded between them share it) uses one rebuild. The last ``kept``
  rebuilt databases are kept (temporary SQLite files holding the projections only:
  pseudonymised per-person rows, personal data like the reporting database itself, see
  docs/operations.md §2) and used by later reports at that watermark;
* at most ``running`` rebuilds run at once and ``waiting`` more wait for their turn; a
  request that would need one more is refused at once with ``Busy`` (HTTP 503 with
  ``Retry-After``: the time the last rebuild took), not queued without end;
* a day before the first recorded event (nothing was known yet) or after today (not
  known yet) is refused with ``InvalidInput`` (HTTP 422) before any rebuild.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import anyio
from sqlalchemy import Engine

from shared.bus.feed import Feed
from shared.clock import Clock
from shared.domain import InvalidInput
from shared.eventstore.db import make_engine, reader
from services.reporting.rebuild import UPSTREAMS, known_on_mark, rebuild, watermark_as_of

KEPT = 2  # rebuilt databases kept for later reports at the same watermark (each the size of the projections)
FIRST_RETRY_AFTER_S = 5  # before any rebuild finished, there is no measured time to give


class Busy(Exception):
    """Every rebuild slot and waiting place is taken: try again after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            "Er lopen al te veel rapporten 'zoals gekend op'; probeer het over "
            f"{retry_after_s} seconden opnieuw / Busy: too many 'as known on' reports are being rebuilt; "
            f"try again in {retry_after_s} seconds")


class _Rebuilt:
    """A rebuilt database and the reports reading it (it is removed only when none is)."""

    def __init__(self, folder: tempfile.TemporaryDirectory[str], engine: Engine) -> None:
        self.folder, self.engine = folder, engine
        self.readers = 0
        self.dropped = self.closed = False

    def close(self) -> None:
        self.closed = True
        self.engine.dispose()
        self.folder.cleanup()


class AsKnownOn:
    """The rebuilds behind "as known on" reports of one service process (see the module)."""

    def __init__(self, clock: Clock, *, running: int, waiting: int, kept: int = KEPT,
                 folder: str | None = None) -> None:
        self._clock, self._kept_max, self._folder = clock, kept, folder
        self._admitted = running + waiting
        self._slots = asyncio.Semaphore(running)
        self._kept: OrderedDict[tuple[int, ...], _Rebuilt] = OrderedDict()
        self._pending: dict[tuple[int, ...], asyncio.Future[_Rebuilt]] = {}
        self._last_s: float | None = None

    async def compute(self, feed: Feed, day: date, build: Callable[[Any], Any]) -> tuple[Any, dict[str, int]]:
        """``build(connection)`` on the projections as known on ``day``, and their watermark."""
        await self.check_day(feed, day)
        marks = {u: await watermark_as_of(feed, u, known_on_mark(day)) for u in UPSTREAMS}
        async with self._database(feed, marks) as engine:
            def run() -> Any:
                with reader(engine).connect() as conn:
                    return build(conn)

            return await anyio.to_thread.run_sync(run), marks

    async def check_day(self, feed: Feed, day: date) -> None:
        """422 for a day after today or before the first recorded event."""
        today = self._clock.today()
        if day > today:
            raise InvalidInput(
                f"as_known_on {day} ligt in de toekomst (vandaag is {today}) / "
                f"as_known_on {day} lies in the future (today is {today})", field="as_known_on")
        first = await first_recorded_day(feed)
        if first is None or day < first:
            since_nl = f"de eerste op {first}" if first else "nog geen enkel"
            since_en = f"the first on {first}" if first else "none yet"
            raise InvalidInput(
                f"as_known_on {day} ligt voor het eerste geregistreerde event ({since_nl}) / "
                f"as_known_on {day} lies before the first recorded event ({since_en})", field="as_known_on")

    @asynccontextmanager
    async def _database(self, feed: Feed, marks: dict[str, int]) -> AsyncIterator[Engine]:
        key = tuple(marks[u] for u in UPSTREAMS)
        while True:
            rebuilt = self._kept.get(key)
            if rebuilt is not None:
                self._kept.move_to_end(key)
            else:
                pending = self._pending.get(key)
                if pending is None:
                    if len(self._pending) >= self._admitted:
                        raise Busy(self.retry_after_s())
                    pending = asyncio.ensure_future(self._rebuild(feed, key, marks))
                    self._pending[key] = pending
                    pending.add_done_callback(lambda _: self._pending.pop(key, None))
                # shielded: a caller that goes away does not cancel the others' rebuild
                rebuilt = await asyncio.shield(pending)
            if not rebuilt.closed:  # else dropped between its building and this turn: build again
                break
        rebuilt.readers += 1
        try:
            yield rebuilt.engine
        finally:
            rebuilt.readers -= 1
            if rebuilt.dropped and rebuilt.readers == 0:
                rebuilt.close()

    async def _rebuild(self, feed: Feed, key: tuple[int, ...], marks: dict[str, int]) -> _Rebuilt:
        async with self._slots:
            started = time.monotonic()
            folder = tempfile.TemporaryDirectory(prefix="buddy-as-known-on-", dir=self._folder)
            engine = make_engine(f"sqlite:///{folder.name}/projections.db")
            try:
                await rebuild(engine, feed, watermark=marks)
            except BaseException:
                engine.dispose()
                folder.cleanup()
                raise
            self._last_s = time.monotonic() - started
        rebuilt = self._kept[key] = _Rebuilt(folder, engine)
        while len(self._kept) > self._kept_max:
            _, oldest = self._kept.popitem(last=False)
            oldest.dropped = True
            if oldest.readers == 0:
                oldest.close()
        return rebuilt

    def retry_after_s(self) -> int:
        """Seconds until a place is likely free: the time the last rebuild took."""
        return FIRST_RETRY_AFTER_S if self._last_s is None else max(1, math.ceil(self._last_s))


async def first_recorded_day(feed: Feed) -> date | None:
    """The (UTC) day the first event of any producer was recorded; None before any event."""
    days = []
    for upstream in UPSTREAMS:
        first = await feed.read(upstream, 0, 1)
        if first:
            days.append(first[0].recorded_at.date())
    return min(days, default=None)
