"""Support for the follow-up tests (no tests of its own): a stand-in for matching that
records real matching events in a store of its own and publishes them on the test Redis,
and a way to build follow-up apps on one database with an injectable clock.

The follow-up consumer reads the events from Redis exactly as in production; only its
catch-up feed is pointed at the stand-in's store (``StoreFeed``) instead of matching's
HTTP feed, so no foreign process on the default ports can ever feed these tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from faststream.redis import RedisBroker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.bus import OutboxRelay, StoreFeed
from shared.bus.signing import BusKeys
from shared.clock import Clock, FixedClock
from shared.contracts.matching import (
    Consent,
    DuoEnded,
    DuoPaused,
    DuoResumed,
    DuoStarted,
    EndReason,
    ParticipantConsentRecorded,
    ParticipantPersonalDataErased,
)
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.settings import Settings
from services.followup.bootstrap import build
from services.followup.config import FollowupSettings
from services.followup.read_models import roster

PRO = {"Authorization": "Bearer dev-professional"}
ADMIN = {"Authorization": "Bearer dev-admin"}
OTHER_PRO = {"Authorization": "Bearer dev-professional-other"}
COORDINATOR = {"Authorization": "Bearer dev-coordinator"}
AUDITOR = {"Authorization": "Bearer dev-auditor"}
PROJECT = "demo-antwerpen"  # dev-professional's project; dev-professional-other's is demo-brugge
MATCHER = Actor(id="dev-professional", role=Role.professional)
UNREACHABLE = {"matching": "http://127.0.0.1:9"}  # the catch-up feed is replaced; never a real server


class FakeMatching:
    """Matching's side of the bus: its events in its own store, published by the real relay."""

    def __init__(self, path: Path, redis_url: str, prefix: str, keys: BusKeys) -> None:
        self.keys = keys  # the bus key the follow-up runtimes verify with
        self.engine = make_engine(f"sqlite:///{path.as_posix()}")
        migrate(self.engine)
        self.store = EventStore(self.engine, "matching")
        self.redis_url, self.stream = redis_url, f"{prefix}:events:matching"

    def _append(self, stream_id: str, event: Any, project_id: str) -> None:
        current = len(self.store.load(stream_id))
        self.store.append(stream_id, current, [NewEvent(event, project_id=project_id)], actor=MATCHER)

    def start(self, duo_id: str, *, volunteer_id: str, participant_id: str = "pt-1", started_on: date,
              project_id: str = PROJECT, agreed: int = 2) -> None:
        self._append(duo_id, DuoStarted(duo_id=duo_id, project_id=project_id, volunteer_id=volunteer_id,
                                        participant_id=participant_id, started_on=started_on,
                                        agreed_contacts_per_month=agreed), project_id)

    def pause(self, duo_id: str, on: date, project_id: str = PROJECT) -> None:
        self._append(duo_id, DuoPaused(duo_id=duo_id, project_id=project_id, paused_on=on), project_id)

    def resume(self, duo_id: str, on: date, project_id: str = PROJECT) -> None:
        self._append(duo_id, DuoResumed(duo_id=duo_id, project_id=project_id, resumed_on=on), project_id)

    def end(self, duo_id: str, *, volunteer_id: str, participant_id: str = "pt-1", ended_on: date,
            project_id: str = PROJECT, reason: EndReason = EndReason.goals_reached) -> None:
        self._append(duo_id, DuoEnded(duo_id=duo_id, project_id=project_id, volunteer_id=volunteer_id,
                                      participant_id=participant_id, ended_on=ended_on, reason=reason,
                                      planned=True), project_id)

    def consent(self, participant_id: str, scopes: list[str], project_id: str = PROJECT) -> None:
        self._append(participant_id, ParticipantConsentRecorded(
            participant_id=participant_id, project_id=project_id, consent=Consent(scopes=scopes)), project_id)

    def erase_participant(self, participant_id: str, project_id: str = PROJECT) -> None:
        self._append(participant_id, ParticipantPersonalDataErased(participant_id=participant_id,
                                                                   project_id=project_id), project_id)

    async def publish(self) -> int:
        broker = RedisBroker(self.redis_url)
        await broker.connect()
        try:
            relay = OutboxRelay(self.store, broker, self.stream, keys=self.keys)
            total = 0
            while (n := await relay.publish_pending()) > 0:
                total += n
            return total
        finally:
            await broker.stop()

    def publish_now(self) -> int:
        return asyncio.run(self.publish())

    def head(self) -> int:
        return self.store.head()[0]

    def close(self) -> None:
        self.engine.dispose()


class _StoreFeed(StoreFeed):
    async def aclose(self) -> None:
        return None


@pytest.fixture
def matching(tmp_path: Path, redis_url: str, key_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMatching]:
    """The matching stand-in; every follow-up runtime built in the test catches up from its store."""
    # the dev bus key of the runtimes' data folder (settings_factory: data_dir=tmp_path)
    fake = FakeMatching(tmp_path / "matching.db", redis_url, key_prefix, BusKeys(Settings(data_dir=tmp_path).bus_keys()))
    monkeypatch.setattr("shared.service.HttpFeed", lambda urls, token: _StoreFeed({"matching": fake.store}))
    yield fake
    fake.close()


def followup_settings(settings_factory: Callable[..., Settings], database_url: str | None = None,
                      **overrides: Any) -> Settings:
    """Settings for a follow-up instance; ``database_url`` shared by instances that share a database."""
    values: dict[str, Any] = {"service_urls": UNREACHABLE, "catch_up_interval_s": 3600.0}
    if database_url is not None:
        values["database_url"] = database_url
    values.update(overrides)
    return settings_factory(**values)


def make_app(settings: Settings, clock: Clock | None = None, **config: Any) -> FastAPI:
    return build(settings, clock=clock, config=FollowupSettings(**config))


@contextmanager
def running(app: FastAPI) -> Iterator[TestClient]:
    """The app with its runtime started (relay and consumer), stopped on exit: one process lifetime."""
    with TestClient(app) as client:
        yield client


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (eventual consistency, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {value!r})")
        time.sleep(0.02)


def consumed(app: FastAPI, position: int) -> bool:
    consumer = app.state.runtime.consumer
    return consumer is not None and consumer.checkpoint("matching") >= position


def wait_consumed(app: FastAPI, position: int, timeout: float = 20.0) -> None:
    wait_until(lambda: consumed(app, position), timeout, f"follow-up applied matching position {position}")


def knows_duo(app: FastAPI, duo_id: str) -> bool:
    with app.state.runtime.engine.connect() as conn:
        return conn.execute(select(roster.c.duo_id).where(roster.c.duo_id == duo_id)).first() is not None


def clock_at(day: date, hour: int = 10) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


def contact(day: date, *, minutes: int = 60, mode: str = "in_person", activities: list[str] | None = None,
            note: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"contact_date": day.isoformat(), "minutes": minutes, "mode": mode,
                            "activities": activities or ["walk"]}
    if note is not None:
        body["note"] = note
    return body


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    return resp.json()
