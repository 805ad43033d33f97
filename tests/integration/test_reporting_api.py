"""The reporting API: publishing overview reports (now and as known on a date), who may see
which scope (401/403/404/422), the catalogue, and the suppression pattern carried from one
period's report to the next. The service consumes the scripted history through its real
consumer, from a feed over the producers' stores."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from shared.clock import FixedClock
from shared.contracts.common import TargetGroup
from shared.contracts.recruitment import ProjectRegistered
from shared.eventstore import EventStore, NewEvent, make_engine
from shared.eventstore.db import reader
from services.reporting import bootstrap, records
from services.reporting.document import ReportDocument
from services.reporting.indicators import CATALOGUE, VOCABULARIES
from services.reporting.queries import watermark
from services.reporting.rebuild import StoreRowsFeed, rebuild
from services.reporting.reports import compute
from tests.conftest import delete_keys_with_prefix
from tests.integration.test_reporting_script import ACTOR, R1, R2, history

ADMIN, AUDITOR, COORDINATOR = "dev-admin", "dev-auditor", "dev-coordinator"  # coordinator of antwerpen-kempen
PRO, PRO_OTHER = "dev-professional", "dev-professional-other"  # demo-antwerpen and demo-gent / demo-brugge
NOW = datetime(2026, 4, 15, 9, 0, tzinfo=UTC)
Q1 = {"period_start": "2026-01-01", "period_end": "2026-03-31"}


class World:
    def __init__(self, client: TestClient, app: Any, stores: dict[str, EventStore]) -> None:
        self.client, self.app, self.stores = client, app, stores

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def post(self, body: dict[str, Any], token: str | None = ADMIN) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post("/reports", json=body, headers=headers)

    def get(self, path: str, token: str | None = ADMIN, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers=headers, params=params)

    def heads(self) -> dict[str, int]:
        return {n: s.head()[0] for n, s in self.stores.items()}


def overview(**fields: Any) -> dict[str, Any]:
    return {"kind": "overview", "audience": "government", **Q1, "grain": "month", **fields}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[World]:
    from shared.settings import Settings

    folder = tmp_path_factory.mktemp("api")
    stores, _ = history(folder)
    for project, region in (("demo-antwerpen", R1), ("demo-gent", R2)):
        stores["recruitment"].append(project, 0, [NewEvent(ProjectRegistered(
            project_id=project, name=project, organisation="vzw", municipality_nis="11002", region=region,
            target_groups=[TargetGroup.family]))], actor=ACTOR)
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=folder, redis_url=redis_url, stream_prefix=prefix, dev_tokens=True,
                        catch_up_interval_s=0.1, disclosure_threshold=2, rounding_base=1)
    app = bootstrap.build(settings, feed=StoreRowsFeed(stores), clock=FixedClock(NOW))
    with TestClient(app) as client:
        world = World(client, app, stores)
        deadline = time.monotonic() + 60
        while True:  # the consumer catches up from the feed
            with reader(world.runtime.engine).connect() as conn:
                if watermark(conn, "reporting") == world.heads():
                    break
            assert time.monotonic() < deadline, "the reporting consumer did not catch up"
            time.sleep(0.1)
        yield world
    client = redis.Redis.from_url(redis_url)
    try:
        delete_keys_with_prefix(client, prefix)
    finally:
        client.close()


def test_an_overview_is_published_with_its_watermark_hash_and_policy(world: World) -> None:
    resp = world.post(overview())
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert report["kind"] == "overview" and report["created_by"] == ADMIN
    assert report["computed_from"] == world.heads()
    assert report["content_hash"] == records.content_hash(report["content"])
    doc = ReportDocument.model_validate(report["content"])
    assert doc.audience == "government" and doc.scope == {"level": "flanders"}
    assert report["parameters"]["disclosure"]["threshold"] == 2  # the service's settings, kept with the report
    # what the record keeps reproduces: rebuild to the watermark elsewhere and compute again
    engine = make_engine(f"sqlite:///{world.runtime.settings.data_dir}/replay.db")
    asyncio.run(rebuild(engine, StoreRowsFeed(world.stores), watermark=report["computed_from"]))
    with reader(engine).connect() as conn:
        assert records.content_hash(compute(conn, "overview", report["parameters"])) == report["content_hash"]
    assert world.get(f"/reports/{report['report_id']}").json()["content_hash"] == report["content_hash"]
    with reader(world.runtime.engine).connect() as conn:
        assert records.pattern_of(conn, report["report_id"])  # the suppression pattern is kept


def test_as_known_on_a_date_rebuilds_to_that_day(world: World) -> None:
    resp = world.post(overview(as_known_on="2026-02-28"))
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert report["content"]["as_known_on"] == "2026-02-28"
    heads = world.heads()
    assert all(report["computed_from"][u] < heads[u] for u in heads)
    engine = make_engine(f"sqlite:///{world.runtime.settings.data_dir}/replay-feb.db")
    asyncio.run(rebuild(engine, StoreRowsFeed(world.stores), watermark=report["computed_from"]))
    with reader(engine).connect() as conn:
        assert records.content_hash(compute(conn, "overview", report["parameters"])) == report["content_hash"]


@pytest.mark.parametrize(("token", "body", "status"), [
    (ADMIN, overview(), 201),
    (AUDITOR, overview(), 201),
    (COORDINATOR, overview(), 403),  # all of Flanders: not a coordinator's
    (COORDINATOR, overview(audience="coordinator", region=R1), 201),
    (COORDINATOR, overview(audience="coordinator", region=R2), 403),
    (COORDINATOR, overview(audience="coordinator", project_id="pA"), 201),
    (COORDINATOR, overview(audience="coordinator", project_id="pC"), 403),
    (PRO, overview(audience="project", project_id="demo-antwerpen"), 201),
    (PRO, overview(audience="project", project_id="pA"), 403),
    (PRO, overview(audience="coordinator", region=R1), 403),
    (PRO_OTHER, overview(audience="project", project_id="demo-antwerpen"), 403),
    ("dev-buddy", overview(audience="project", project_id="demo-antwerpen"), 403),
    (None, overview(), 401),
    ("not-a-token", overview(), 401),
    (ADMIN, overview(project_id="p-unknown"), 404),
    (ADMIN, overview(region="nowhere"), 404),
])
def test_who_may_publish_which_scope(world: World, token: str | None, body: dict[str, Any], status: int) -> None:
    resp = world.post(body, token)
    assert resp.status_code == status, resp.text
    if status >= 400:
        assert isinstance(resp.json()["detail"], str) and " / " in resp.json()["detail"] or status == 401


@pytest.mark.parametrize(("body", "field"), [
    (overview(period_start="2026-01-02"), "period_start"),
    (overview(period_end="2026-03-30"), "period_end"),
    (overview(grain="quarter", period_end="2026-02-28"), "period_end"),
    (overview(period_start="2026-04-01", period_end="2026-03-31"), "period_end"),
    (overview(period_start="2023-01-01", period_end="2026-12-31"), "period_end"),  # 48 months
    (overview(period_start="2026-01-01", period_end="2026-02-28"), "period_end"),  # not a calendar period
    (overview(period_start="2026-02-01", period_end="2026-04-30"), "period_end"),  # three months, not a quarter
    (overview(grain="week"), "grain"),
    (overview(audience="minister"), "audience"),
    (overview(basis="imagined"), "basis"),
    (overview(as_known_on="tomorrow"), "as_known_on"),
    (overview(threshold=1), "threshold"),  # the disclosure settings are the service's, not the caller's
    ({"kind": "forecast"}, "kind"),
    ({"kind": "project_summary"}, "project_id"),
])
def test_bad_parameters_are_422_with_the_field(world: World, body: dict[str, Any], field: str) -> None:
    resp = world.post(body)
    assert resp.status_code == 422, resp.text
    fields = [e["field"] for e in resp.json().get("errors", [])]
    assert field in fields, resp.json()


def test_reading_published_reports_follows_the_same_scopes(world: World) -> None:
    region = world.post(overview(audience="coordinator", region=R1), COORDINATOR).json()["report_id"]
    flanders = world.post(overview()).json()["report_id"]
    summary = world.post({"project_id": "demo-antwerpen"}, PRO)  # the summary kind, as before (kind optional)
    assert summary.status_code == 201 and summary.json()["kind"] == "project_summary"
    assert world.get(f"/reports/{region}", COORDINATOR).status_code == 200
    assert world.get(f"/reports/{flanders}", COORDINATOR).status_code == 403
    assert world.get(f"/reports/{flanders}", PRO).status_code == 403
    assert world.get(f"/reports/{region}", PRO_OTHER).status_code == 403
    assert world.get("/reports/r-does-not-exist").status_code == 404
    listed = world.get("/reports", COORDINATOR, kind="overview", limit=200).json()
    ids = {r["report_id"] for r in listed["items"]}
    assert region in ids and flanders not in ids
    assert all("content" not in r for r in listed["items"])
    page = world.get("/reports", ADMIN, limit=1, offset=1).json()
    assert len(page["items"]) == 1 and page["total"] >= 3 and page["limit"] == 1 and page["offset"] == 1
    assert world.get("/reports", ADMIN, limit=0).status_code == 422


def test_the_live_overview_and_the_summary_endpoint(world: World) -> None:
    live = world.get("/reports/overview", COORDINATOR, audience="coordinator", region=R1, **Q1)
    assert live.status_code == 200, live.text
    assert live.json()["computed_from"] == world.heads()
    ReportDocument.model_validate(live.json()["content"])
    assert world.get("/reports/overview", COORDINATOR, **Q1).status_code == 403
    assert world.get("/reports/overview", PRO, audience="project", project_id="demo-antwerpen", **Q1).status_code == 200
    summary = world.get("/reports/projects/pA/summary")
    assert summary.status_code == 200 and set(summary.json()["figures"]) == {
        "available_volunteers", "active_duos", "contacts"}


def test_the_catalogue_and_the_vocabularies(world: World) -> None:
    body = world.get("/indicators", COORDINATOR).json()
    assert [i["code"] for i in body["indicators"]] == [i.code for i in CATALOGUE]
    assert all(i["title"]["nl"] and i["title"]["en"] and i["sources"] for i in body["indicators"])
    vocab = world.get("/vocabularies", COORDINATOR).json()
    assert vocab.keys() == VOCABULARIES.keys() and vocab["end_reason"]["mismatch"]["nl"]
    assert world.get("/indicators", None).status_code == 401


def test_the_next_period_prefers_the_previous_pattern(world: World) -> None:
    first = world.post(overview(audience="coordinator", region=R1, period_start="2025-10-01",
                                period_end="2025-12-31"), COORDINATOR).json()
    with reader(world.runtime.engine).connect() as conn:
        pattern = records.pattern_of(conn, first["report_id"])
    assert pattern and any(pattern.values())
    second = world.post(overview(audience="coordinator", region=R1), COORDINATOR).json()
    params = second["parameters"]
    assert params["previous_report_id"] == first["report_id"]
    carried = params["previous_pattern"]
    assert carried.keys() == pattern.keys()
    # October → January, November → February, December → March: the same cells, in this period's months
    months = {ref["month"] for refs in carried.values() for ref in refs if "month" in ref}
    assert months and months <= {"2026-01", "2026-02", "2026-03", "*"}
    old = {ref["month"] for refs in pattern.values() for ref in refs if "month" in ref}
    assert old <= {"2025-10", "2025-11", "2025-12", "*"}


class CountingFeed:
    """The world's feed, counting the rebuilds begun (each reads the recruitment log from the start)
    and slowed down, so that requests sent together overlap."""

    def __init__(self, feed: Any, delay_s: float = 0.3) -> None:
        self.feed, self.delay_s, self.rebuilds = feed, delay_s, 0

    async def read_rows(self, service: str, after: int, limit: int) -> list[Any]:
        if service == "recruitment" and after == 0:
            self.rebuilds += 1
        await asyncio.sleep(self.delay_s)
        return await self.feed.read_rows(service, after, limit)

    async def read(self, service: str, after: int, limit: int) -> list[Any]:
        return await self.feed.read(service, after, limit)

    async def head(self, service: str) -> int:
        return await self.feed.head(service)


@pytest.fixture
def counting(world: World, monkeypatch: pytest.MonkeyPatch) -> CountingFeed:
    feed = CountingFeed(world.runtime.feed)
    monkeypatch.setattr(world.runtime, "feed", feed)
    return feed


def _together(world: World, bodies: list[dict[str, Any]]) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(world.post, bodies))


def test_six_reports_as_known_on_one_day_share_one_rebuild(world: World, counting: CountingFeed) -> None:
    answers = _together(world, [overview(as_known_on="2026-01-31")] * 6)
    assert [a.status_code for a in answers] == [201] * 6, [a.json().get("detail") for a in answers]
    assert counting.rebuilds == 1
    assert len({a.json()["content_hash"] for a in answers}) == 1
    assert len({str(a.json()["computed_from"]) for a in answers}) == 1
    again = world.post(overview(as_known_on="2026-01-31", grain="quarter"))  # another report, the same watermark
    assert again.status_code == 201, again.text
    assert counting.rebuilds == 1


def test_too_many_rebuilds_at_once_are_told_to_try_again(world: World, counting: CountingFeed) -> None:
    days = ["2025-09-15", "2025-10-15", "2025-11-15", "2025-12-15", "2026-01-15", "2026-02-15"]
    answers = _together(world, [overview(as_known_on=day) for day in days])
    codes = sorted(a.status_code for a in answers)
    settings = world.runtime.settings
    admitted = settings.as_known_on_rebuilds + settings.as_known_on_waiting
    assert codes == [201] * admitted + [503] * (len(days) - admitted), [a.json().get("detail") for a in answers]
    assert counting.rebuilds == admitted
    for busy in (a for a in answers if a.status_code == 503):
        assert int(busy.headers["Retry-After"]) >= 1
        assert "try again" in busy.json()["detail"] and " / " in busy.json()["detail"]


@pytest.mark.parametrize(("day", "why"), [
    ("1900-01-01", "2000-01-01"),  # below every day a service takes
    ("2025-07-31", "before the first"),  # the day before the first recorded event
    ("2026-04-16", "future"),  # the clock's tomorrow
    ("9999-12-31", "2100-12-31"),
])
def test_as_known_on_before_the_first_event_or_in_the_future_is_422(
        world: World, counting: CountingFeed, day: str, why: str) -> None:
    resp = world.post(overview(as_known_on=day))
    assert resp.status_code == 422, resp.json().get("detail")
    assert [e["field"] for e in resp.json()["errors"]] == ["as_known_on"]
    assert why in resp.json()["detail"]
    assert counting.rebuilds == 0


def test_as_known_on_the_first_event_s_day_and_today_are_accepted(world: World) -> None:
    for day in ("2025-08-01", NOW.date().isoformat()):
        resp = world.post(overview(as_known_on=day))
        assert resp.status_code == 201, resp.json().get("detail")


def test_a_dropped_rebuild_is_removed_only_when_no_report_reads_it(world: World) -> None:
    import threading
    from pathlib import Path

    from services.reporting.as_known_on import AsKnownOn

    rebuilds = AsKnownOn(world.runtime.clock, running=1, waiting=0, kept=1)
    reading, done = threading.Event(), threading.Event()
    where: list[Path] = []

    def slow_report(conn: Any) -> None:  # the first report reads its database until told to stop
        where.append(Path(conn.engine.url.database))
        reading.set()
        assert done.wait(30)

    async def scenario() -> None:
        feed = world.runtime.feed
        first = asyncio.ensure_future(rebuilds.compute(feed, datetime(2025, 12, 31).date(), slow_report))
        while not reading.is_set():
            await asyncio.sleep(0.01)
        await rebuilds.compute(feed, datetime(2026, 3, 31).date(), lambda conn: None)  # keeps this one only
        assert where[0].exists(), "removed while a report still reads it"
        done.set()
        await first
        assert not where[0].exists(), "a dropped rebuild is removed once read"

    asyncio.run(scenario())
