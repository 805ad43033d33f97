"""Time as a dependency, so that waiting boards, alerts and schedules can be tested on a
scripted timeline.

The programmes work in Flanders: "today" — the day a command is dated by default, the day
against which "in the future" and "overdue" are decided — is the calendar day in
Europe/Brussels, never the UTC day. Between midnight and 01:00 (02:00 in summer time) the
two differ, and a professional logging a contact just after midnight must not be told it
lies in the future, nor a call due yesterday be missing from the overdue list.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def brussels_day(moment: datetime) -> date:
    """The calendar day in Belgium at ``moment`` (an aware time)."""
    if moment.tzinfo is None:
        raise ValueError("the moment needs a time zone")
    return moment.astimezone(BRUSSELS).date()


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return brussels_day(self.now())


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a time zone")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return brussels_day(self._now)

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self._now = moment
