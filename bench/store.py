"""Event-store appends, side by side with the `eventsourcing` library on the same database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from bench.common import Result, postgres_admin_url, postgres_url, rate, sqlite_url
from shared.contracts.recruitment import StopReason, VolunteerStopped
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate

ACTOR = Actor(id="bench", role=Role.professional)


def _event(i: int) -> NewEvent:
    return NewEvent(VolunteerStopped(volunteer_id=f"v-{i}", project_id="p-1", reason=StopReason.no_time), project_id="p-1")


def ours_single(url: str, n: int) -> float:
    engine = make_engine(url)
    migrate(engine)
    store = EventStore(engine, "recruitment")
    events = [_event(i) for i in range(n)]

    def run() -> None:
        for i, ev in enumerate(events):
            store.append(f"v-{i}", 0, [ev], actor=ACTOR)

    try:
        return rate(n, run)
    finally:
        engine.dispose()


def ours_bulk(url: str, n: int, batch: int = 1000) -> float:
    engine = make_engine(url)
    migrate(engine)
    store = EventStore(engine, "recruitment")
    events = [_event(i) for i in range(n)]

    def run() -> None:
        for start in range(0, n, batch):
            store.append_many([(f"v-{i}", 0, [events[i]]) for i in range(start, min(n, start + batch))], actor=ACTOR)

    try:
        return rate(n, run)
    finally:
        engine.dispose()


@contextmanager
def _eventsourcing_env(url: str) -> Iterator[None]:
    """Point the `eventsourcing` library at the same database, through its own settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": parsed.database, "SQLITE_LOCK_TIMEOUT": "30"}
    else:
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": parsed.database,
               "POSTGRES_HOST": parsed.host or "127.0.0.1", "POSTGRES_PORT": str(parsed.port or 5432),
               "POSTGRES_USER": parsed.username or "postgres", "POSTGRES_PASSWORD": parsed.password or ""}
    env["CREATE_TABLE"] = "y"
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


try:  # the peer, defined once: the library registers classes by their topic
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class PeerVolunteer(Aggregate):
        @event("Stopped")
        def __init__(self, reason: str) -> None:
            self.reason = reason

    class PeerRecruitment(Application):
        pass

except ImportError:  # pragma: no cover - the peer is a dev dependency
    PeerRecruitment = None  # type: ignore[assignment,misc]


def peer_single(url: str, n: int) -> float | None:
    if PeerRecruitment is None:
        return None
    with _eventsourcing_env(url):
        app = PeerRecruitment()
        try:
            return rate(n, lambda: [app.save(PeerVolunteer(reason="no_time")) for _ in range(n)])
        finally:
            app.close()


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    n = max(10, int((300 if quick else 5000) * scale))
    bulk_n = max(10, int((2000 if quick else 100_000) * scale))
    results: list[Result] = []
    targets: list[tuple[str, Callable[[], object]]] = [("SQLite", sqlite_url)]
    if postgres_admin_url():
        targets.append(("PostgreSQL", postgres_url))
    for label, make in targets:
        with make() as url:
            ours = ours_single(url, n)
        with make() as url:
            peer = peer_single(url, n)
        results.append(Result("event store", f"single-event commands, {label}", ours, "events/s",
                              "eventsourcing 9.5 (Application.save)", peer, f"{n} appends, one client"))
        with make() as url:
            bulk = ours_bulk(url, bulk_n)
        results.append(Result("event store", f"bulk import, {label}", bulk, "events/s",
                              "eventsourcing 9.5 (Application.save)", peer, f"{bulk_n} events, 1000 per transaction"))
    return results
