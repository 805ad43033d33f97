"""Event-store appends, side by side with the `eventsourcing` library on the same database."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import make_url

from shared.eventstore.db import SQLITE_SYNCHRONOUS
from bench.common import Result, postgres_admin_url, postgres_url, sqlite_url
from shared.contracts.recruitment import StopReason, VolunteerStopped
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate

ACTOR = Actor(id="bench", role=Role.professional)
WRITERS = 8


def _event(i: int) -> NewEvent:
    return NewEvent(VolunteerStopped(volunteer_id=f"v-{i}", project_id="p-1", reason=StopReason.no_time), project_id="p-1")


class Ours:
    """Our store on one database, appending new one-event aggregates."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrate(self.engine)
        self.store = EventStore(self.engine, "recruitment")
        self.done = 0

    def single(self, n: int) -> None:
        events = [_event(self.done + i) for i in range(n)]
        started = self.done
        for i, ev in enumerate(events):
            self.store.append(f"v-{started + i}", 0, [ev], actor=ACTOR)
        self.done += n

    def concurrent(self, n: int, writers: int = WRITERS) -> None:
        """``n`` single-event appends by ``writers`` threads at once, each its own new aggregate."""
        _in_threads(n, writers, lambda: self.store.append(f"c-{uuid.uuid4().hex}", 0, [_event(0)], actor=ACTOR))

    def commands(self, n: int, writers: int = WRITERS) -> None:
        """The shape of a service's command, by ``writers`` threads at once.

        One transaction each: load the aggregate (new here), then append what was decided,
        as the services' handlers do with ``EventStore.transaction``.
        """
        def command() -> None:
            stream = f"k-{uuid.uuid4().hex}"
            with self.store.transaction() as conn:
                loaded = self.store.load(stream, conn)
                self.store.append(stream, len(loaded), [_event(0)], actor=ACTOR, conn=conn)

        _in_threads(n, writers, command)

    def bulk(self, n: int, batch: int) -> None:
        for start in range(self.done, self.done + n, batch):
            stop = min(self.done + n, start + batch)
            self.store.append_many([(f"v-{i}", 0, [_event(i)]) for i in range(start, stop)], actor=ACTOR)
        self.done += n

    def close(self) -> None:
        self.engine.dispose()


def _in_threads(n: int, writers: int, one: Callable[[], None]) -> None:
    """Runs ``one`` ``n`` times, spread over ``writers`` threads that start together."""
    start = threading.Barrier(writers)

    def writer(share: int) -> None:
        start.wait()
        for _ in range(share):
            one()

    with ThreadPoolExecutor(writers) as pool:
        for done in [pool.submit(writer, n // writers + (1 if w < n % writers else 0)) for w in range(writers)]:
            done.result()


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
        with _same_sqlite_settings():
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _same_sqlite_settings() -> Iterator[None]:
    """The peer's SQLite connections get the synchronous setting ours have (both use WAL).

    The library has no setting for it; same settings for both, or the figure measures
    the disk rather than the store.
    """
    try:
        from eventsourcing.sqlite import SQLiteConnectionPool
    except ImportError:  # pragma: no cover - the peer is a dev dependency
        yield
        return
    create = SQLiteConnectionPool._create_connection

    def aligned(pool: Any) -> Any:
        connection = create(pool)
        connection._sqlite_conn.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        return connection

    SQLiteConnectionPool._create_connection = aligned  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]


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


class Peer:
    """The `eventsourcing` library on its own database on the same server, set up as it documents."""

    def __init__(self, url: str) -> None:
        self._env = _eventsourcing_env(url)
        self._env.__enter__()
        try:
            self.app = PeerRecruitment()
        except BaseException:
            self._env.__exit__(None, None, None)
            raise

    def single(self, n: int) -> None:
        for _ in range(n):
            self.app.save(PeerVolunteer(reason="no_time"))

    def concurrent(self, n: int, writers: int = WRITERS) -> None:
        _in_threads(n, writers, lambda: self.app.save(PeerVolunteer(reason="no_time")))

    def commands(self, n: int, writers: int = WRITERS) -> None:
        """Its application's way: read the aggregate's events, then save what was decided."""
        def command() -> None:
            volunteer = PeerVolunteer(reason="no_time")
            self.app.recorder.select_events(volunteer.id)
            self.app.save(volunteer)

        _in_threads(n, writers, command)

    def bulk(self, n: int, batch: int) -> None:
        for start in range(0, n, batch):
            self.app.save(*[PeerVolunteer(reason="no_time") for _ in range(min(batch, n - start))])

    def close(self) -> None:
        self.app.close()
        self._env.__exit__(None, None, None)


def _side_by_side(make: Callable[[], Any], work: Callable[[Any, int], None], n: int,
                  rounds: int = 5) -> tuple[float, float | None]:
    """Rates of ours and the peer, taking turns in rounds so both see the same machine load."""
    with make() as ours_url, make() as peer_url:
        ours = Ours(ours_url)
        peer = Peer(peer_url) if PeerRecruitment is not None else None
        spent = {"ours": 0.0, "peer": 0.0}
        try:
            for r in range(rounds):
                part = n // rounds + (1 if r < n % rounds else 0)
                for name, side in (("ours", ours), ("peer", peer)):
                    if side is not None:
                        started = time.perf_counter()
                        work(side, part)
                        spent[name] += time.perf_counter() - started
        finally:
            ours.close()
            if peer is not None:
                peer.close()
    return n / spent["ours"], (n / spent["peer"] if peer is not None else None)


_SETTINGS = {"SQLite": f"; both WAL with synchronous={SQLITE_SYNCHRONOUS}, as our engine sets it"}


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    n = max(10, int((300 if quick else 5000) * scale))
    bulk_n = max(10, int((2000 if quick else 100_000) * scale))
    results: list[Result] = []
    targets: list[tuple[str, Callable[[], Any]]] = [("SQLite", sqlite_url)]
    if postgres_admin_url():
        targets.append(("PostgreSQL", postgres_url))
    for label, make in targets:
        ours, peer = _side_by_side(make, lambda side, k: side.single(k), n)
        results.append(Result("event store", f"single-event commands, {label}", ours, "events/s",
                              "eventsourcing 9.5 (Application.save)", peer,
                              f"{n} appends, one client, taking turns with the peer{_SETTINGS.get(label, '')}"))
        ours, peer = _side_by_side(make, lambda side, k: side.concurrent(k), n)
        results.append(Result("event store", f"single-event appends, {WRITERS} writers, {label}", ours, "events/s",
                              "eventsourcing 9.5 (Application.save, same threads)", peer,
                              f"{n} appends by {WRITERS} threads at once, each a new aggregate"))
        ours, peer = _side_by_side(make, lambda side, k: side.commands(k), n)
        results.append(Result("event store", f"load-and-append commands, {WRITERS} writers, {label}", ours,
                              "commands/s", "eventsourcing 9.5 (select_events, then Application.save)", peer,
                              f"{n} commands by {WRITERS} threads: one transaction each that loads the aggregate "
                              "and appends (EventStore.transaction)"))
        ours, peer = _side_by_side(make, lambda side, k: side.bulk(k, 1000), bulk_n, rounds=max(1, min(5, bulk_n // 1000)))
        results.append(Result("event store", f"bulk import, {label}", ours, "events/s",
                              "eventsourcing 9.5 (Application.save of 1000 aggregates)", peer,
                              f"{bulk_n} events, 1000 per transaction"))
    return results

