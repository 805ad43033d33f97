"""What every service does when its parts fail under it: shared/service.py in process.

* ``/readyz`` answers 503 naming a background task (relay, consumer loop) that stopped,
  and the stop is logged when it happens, not at shutdown.
* On PostgreSQL, connections cut with ``pg_terminate_backend`` (only this test's own
  database) are ridden out: idle ones by the pool's pre-ping, one cut in the middle of a
  request by running the request again on a new connection. A cut during a commit has an
  unknown outcome: that request answers 503 with Retry-After at once, the next one works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from structlog.testing import capture_logs

from shared.contracts.recruitment import StopReason, VolunteerStopped
from shared.events.envelope import Actor, Role
from shared.eventstore import NewEvent
from shared.settings import Settings
from services.matching.bootstrap import build as build_matching
from services.recruitment.bootstrap import build as build_recruitment

ADMIN = {"Authorization": "Bearer dev-admin"}
NOWHERE = {"recruitment": "http://127.0.0.1:9", "matching": "http://127.0.0.1:9"}  # upstream feeds are not running


def _project(project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "name": "P", "organisation": "O", "municipality_nis": "11002",
            "region": "antwerpen-kempen", "target_groups": ["individual_adult"]}


def _until(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


# ------------------------------------------------------------------------------ readiness
def test_readyz_names_a_background_task_that_stopped(settings_factory: Callable[..., Settings]) -> None:
    app = build_matching(settings_factory(service_urls=NOWHERE))
    with capture_logs() as logs, TestClient(app) as client:
        runtime = app.state.runtime
        assert client.get("/readyz").json() == {"status": "ready", "problems": []}

        async def broken() -> int:
            raise RuntimeError("kapot / broken")

        runtime.relay.publish_pending = broken  # the relay's next round crashes its task
        runtime.recorded()
        assert _until(lambda: client.get("/readyz").status_code == 503), "readyz stayed 200 with a dead relay"
        body = client.get("/readyz").json()
        assert body["status"] == "unready"
        [problem] = body["problems"]
        assert problem.startswith("achtergrondtaak gestopt / background task stopped: matching-relay: ")
        assert "gecrasht / crashed: RuntimeError: kapot / broken" in problem
        assert client.get("/healthz").status_code == 200  # alive, only not ready
        stopped = [e for e in logs if e["event"] == "service.background_task_stopped"]
        assert [(e["task"], e["log_level"]) for e in stopped] == [("matching-relay", "error")]
        assert "RuntimeError" in stopped[0]["reason"]
    # stopping the service cancels every task on purpose: that is not reported as a stop
    assert [e["task"] for e in logs if e["event"] == "service.background_task_stopped"] == ["matching-relay"]


def test_readyz_names_a_consumer_loop_that_ended(settings_factory: Callable[..., Settings]) -> None:
    app = build_matching(settings_factory(service_urls=NOWHERE))
    with TestClient(app) as client:
        runtime = app.state.runtime
        [catch_up] = [t for t in runtime.background_tasks() if t.get_name() == "matching-catch-up"]
        client.portal.call(lambda: catch_up.cancel())  # type: ignore[union-attr]  # on the app's own loop
        assert _until(lambda: client.get("/readyz").status_code == 503)
        assert client.get("/readyz").json()["problems"] == [
            "achtergrondtaak gestopt / background task stopped: matching-catch-up: geannuleerd / cancelled"]


def test_readyz_and_metrics_name_a_producer_that_lost_applied_events(settings_factory: Callable[..., Settings]) -> None:
    """The consumer's divergence (detected in shared/bus, tested there) reaches operators."""
    app = build_matching(settings_factory(service_urls=NOWHERE))
    with TestClient(app) as client:
        consumer = app.state.runtime.consumer
        assert 'buddy_consumer_upstream_diverged{upstream="recruitment"} 0.0' in client.get("/metrics").text
        consumer.diverged["recruitment"] = "the producer's log ends at position 3, before position 7 that we applied"
        body = client.get("/readyz").json()
        assert body["status"] == "unready"
        assert body["problems"] == ["bron gestopt / upstream stopped: recruitment: "
                                    "the producer's log ends at position 3, before position 7 that we applied"]
        assert 'buddy_consumer_upstream_diverged{upstream="recruitment"} 1.0' in client.get("/metrics").text
        consumer.diverged.clear()
        assert client.get("/readyz").status_code == 200
        consumer.forgeries = 3  # entries the consumer set aside as forged (counted in shared/bus)
        assert "buddy_consumer_forged_entries 3.0" in client.get("/metrics").text


# ------------------------------------------------------------------------------ a busy store
def test_a_command_behind_a_held_store_lock_answers_503_with_retry_after_at_once(
    database_url: str, settings_factory: Callable[..., Settings]
) -> None:
    """The wait for the store's write lock is bounded; then a clear, retryable 503, not tried again."""
    app = build_recruitment(settings_factory(database_url=database_url, service_urls=NOWHERE, store_lock_timeout_s=0.5))
    with capture_logs() as logs, TestClient(app) as client:
        store = app.state.runtime.store
        assert client.post("/projects", json=_project("p-before"), headers=ADMIN).status_code == 201
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store.transaction() as conn:  # another command that appended and has not committed yet
                store.append("v-holding", 0, [NewEvent(VolunteerStopped(volunteer_id="v-holding", project_id="p-before",
                                                                        reason=StopReason.no_time))],
                             actor=Actor(id="admin-1", role=Role.admin), conn=conn)
                holding.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(10)
            started = time.monotonic()
            busy = client.post("/projects", json=_project("p-busy"), headers=ADMIN)
            waited = time.monotonic() - started
        finally:
            release.set()
            holder.join()
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "1"
        assert busy.json()["code"] == "store_busy"
        assert "busy with another write" in busy.json()["detail"] and "try again" in busy.json()["detail"]
        assert 0.4 < waited < 3, waited  # one lock timeout, not tried again behind the same lock
        assert client.post("/projects", json=_project("p-busy"), headers=ADMIN).status_code == 201  # nothing was written
    assert not [e for e in logs if e["event"] == "http.database_retry"]
    assert [e["path"] for e in logs if e["event"] == "http.store_busy"] == ["/projects"]


# ------------------------------------------------------------------------------ database outages
@pytest.fixture
def pg(
    make_postgres_db: Callable[[], str], postgres_admin_url: str
) -> Iterator[tuple[str, Callable[[int | None], int]]]:
    """A new database of this test's own, and ``cut(pid=None)``: terminate its backends (or one)."""
    url = make_postgres_db()
    name = make_url(url).database
    admin = create_engine(postgres_admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")

    def cut(pid: int | None = None) -> int:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid() AND (CAST(:pid AS int) IS NULL OR pid = :pid)"),
                {"name": name, "pid": pid}).all())

    try:
        yield url, cut
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_cut_connections_are_ridden_out_without_5xx(
    pg: tuple[str, Callable[[int | None], int]], settings_factory: Callable[..., Settings]
) -> None:
    url, cut = pg
    app = build_recruitment(settings_factory(database_url=url, service_urls=NOWHERE))
    with capture_logs() as logs, TestClient(app, raise_server_exceptions=True) as client:
        engine = app.state.runtime.engine
        assert client.post("/projects", json=_project("p-before"), headers=ADMIN).status_code == 201

        # 1. every connection of the database cut while idle in the pool
        assert cut(None) >= 1
        assert client.get("/projects", headers=ADMIN).status_code == 200
        assert client.post("/projects", json=_project("p-after-cut"), headers=ADMIN).status_code == 201

        # 2. the connection a query runs on cut just before the query: run again on a new one
        armed = {"query": True}

        @event.listens_for(engine, "before_cursor_execute")
        def cut_under_query(conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            if armed["query"] and "FROM rc_projects" in " ".join(statement.split()):
                armed["query"] = False
                cut(conn.connection.driver_connection.info.backend_pid)

        listed = client.get("/projects", headers=ADMIN)
        assert listed.status_code == 200, listed.text
        assert {p["project_id"] for p in listed.json()["items"]} == {"p-before", "p-after-cut"}
        assert armed["query"] is False  # listeners stay (disarmed): removing one races background commits

        # 3. a command's connection cut inside its transaction, before the commit: nothing was
        #    recorded, so it is run again and recorded once
        armed["command"] = True

        @event.listens_for(engine, "before_cursor_execute")
        def cut_in_command(conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            words = " ".join(statement.split()).upper()
            if armed["command"] and words.startswith(("INSERT INTO RC_PROJECTS", "UPDATE RC_PROJECTS")):
                armed["command"] = False
                cut(conn.connection.driver_connection.info.backend_pid)

        created = client.post("/projects", json=_project("p-retried"), headers=ADMIN)
        assert created.status_code == 201, created.text
        assert armed["command"] is False
        recorded = client.get("/events", params={"after": 0, "limit": 100}, headers=ADMIN).json()["events"]
        assert [e["stream_id"] for e in recorded if e["stream_id"] == "p-retried"] == ["p-retried"]

        # 4. cut during the commit: the outcome is unknown, so no second try; 503 with Retry-After
        #    (only the command's own commit: the relay and consumer commit on other connections)
        armed["commit"] = True
        inserting: list[Any] = []

        @event.listens_for(engine, "before_cursor_execute")
        def mark_command(conn, _cursor, statement, parameters, *_args):  # type: ignore[no-untyped-def]
            if armed["commit"] and "p-unknown" in repr(parameters):
                inserting.append(conn.connection.driver_connection)

        @event.listens_for(engine, "commit")
        def cut_at_commit(conn):  # type: ignore[no-untyped-def]
            if armed["commit"] and conn.connection.driver_connection in inserting:
                armed["commit"] = False
                cut(conn.connection.driver_connection.info.backend_pid)

        unknown = client.post("/projects", json=_project("p-unknown"), headers=ADMIN)
        assert armed["commit"] is False, "the command's commit was never cut"
        assert unknown.status_code == 503, unknown.text
        assert unknown.headers["Retry-After"] == "2"
        assert unknown.json()["code"] == "database_unavailable"
        assert client.get("/projects", headers=ADMIN).status_code == 200  # and the next request works

    retries = [e for e in logs if e["event"] == "http.database_retry"]
    assert [(e["path"], e["attempt"]) for e in retries] == [("/projects", 1), ("/projects", 1)]
    unavailable = [e for e in logs if e["event"] == "http.database_unavailable"]
    assert [e["retry"] for e in unavailable] == [True, True, False]
