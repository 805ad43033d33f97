"""The outputs over HTTP: exports of published reports (CSV, XLSX, PDF), the dashboard
and its assets, with the access rules of GET /reports/{report_id} for every scope.

The app is the reporting runtime with the outputs router (the lead wires it into
bootstrap); the live overview is the sample document until the report kinds have one,
and one test uses the real "overview" kind once it exists.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shared.auth import principal_dependency
from shared.clock import FixedClock
from shared.contracts.common import TargetGroup
from shared.contracts.recruitment import ProjectRegistered
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.service import ServiceRuntime, create_app
from services.reporting import records
from services.reporting.outputs.api import router
from services.reporting.outputs.export_csv import read_csv
from services.reporting.projections import on_event
from tests.unit.test_reporting_outputs_sample import sample_document

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
PROJECTS = {"demo-antwerpen": "antwerpen-kempen", "demo-gent": "gent-meetjesland", "demo-brugge": "brugge-kust"}
SCOPES = {
    "flanders": {"audience": "government"},
    "region_ak": {"audience": "coordinator", "region": "antwerpen-kempen"},
    "region_gent": {"audience": "coordinator", "region": "gent-meetjesland"},
    "project_brugge": {"audience": "project", "project_id": "demo-brugge"},
    "project_antwerpen": {"audience": "project", "project_id": "demo-antwerpen"},
}
CAN_SEE = {
    "dev-admin": set(SCOPES),
    "dev-auditor": set(SCOPES),
    "dev-coordinator": {"region_ak", "project_antwerpen"},
    "dev-professional": {"project_antwerpen"},
    "dev-professional-other": {"project_brugge"},
    "dev-buddy": set(),
}
# a published overview only reaches readers of the audience it was made for (docs/disclosure.md)
AUDIENCE_OF = {"dev-admin": "government", "dev-auditor": "government", "dev-coordinator": "coordinator",
               "dev-professional": "project", "dev-professional-other": "project", "dev-buddy": None}
CAN_READ = {who: {s for s in scopes if SCOPES[s]["audience"] == AUDIENCE_OF[who]} for who, scopes in CAN_SEE.items()}


@dataclass
class World:
    client: TestClient
    runtime: ServiceRuntime
    reports: dict[str, str]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def get(self, path: str, token: str | None = "dev-admin", **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers=headers, params=params)


def register_projects(runtime: ServiceRuntime, folder: Path) -> None:
    """The projects as the reporting projections learn them: from the recruitment events."""
    engine = make_engine(f"sqlite:///{folder / 'recruitment.db'}")
    migrate(engine, "recruitment")
    store = EventStore(engine, "recruitment")
    for project, region in PROJECTS.items():
        store.append(project, 0, [NewEvent(ProjectRegistered(
            project_id=project, name=project, organisation="vzw", municipality_nis="11002", region=region,
            target_groups=[TargetGroup.family]))], actor=Actor(id="admin", role=Role.admin))
    with runtime.engine.begin() as conn:
        for row in store.read_after(0, 100):
            on_event(conn, row.envelope)
    engine.dispose()


def publish(runtime: ServiceRuntime) -> dict[str, str]:
    ids = {}
    with runtime.engine.begin() as conn:
        for name, scope in SCOPES.items():
            doc = sample_document(scope["audience"])
            doc.scope = {k: v for k, v in scope.items() if k != "audience"}
            ids[name] = records.record(conn, kind="overview", parameters={**scope, "period_start": "2025-01-01"},
                                       watermark={"recruitment": 3}, content=doc.model_dump(mode="json"),
                                       created_at=NOW, created_by="dev-admin")["report_id"]
        ids["summary"] = records.record(
            conn, kind="project_summary", parameters={"project_id": "demo-antwerpen", "threshold": 10, "rounding_base": 5},
            watermark={"recruitment": 3}, created_at=NOW, created_by="dev-admin",
            content={"project_id": "demo-antwerpen", "region": "antwerpen-kempen", "figures": {}})["report_id"]
    return ids


@contextmanager
def serving(settings: Any, tmp_path: Path) -> Iterator[World]:
    runtime = ServiceRuntime("reporting", settings, writes_events=False, clock=FixedClock(NOW))
    calls: list[dict[str, Any]] = []

    def overview(_conn: Any, parameters: dict[str, Any]) -> dict[str, Any]:
        calls.append(parameters)
        return sample_document(parameters["audience"]).model_dump(mode="json")

    app = create_app(runtime, [router(runtime, principal_dependency(runtime.authenticator), compute_overview=overview)],
                     title="Rapportering", description="outputs")
    with TestClient(app) as client:
        register_projects(runtime, tmp_path)
        yield World(client, runtime, publish(runtime), calls)


@pytest.fixture
def world(settings_factory: Any, database_url: str, tmp_path: Path) -> Iterator[World]:
    """On SQLite and on PostgreSQL."""
    with serving(settings_factory(database_url=database_url), tmp_path) as served:
        yield served


@pytest.fixture
def quick(settings_factory: Any, tmp_path: Path) -> Iterator[World]:
    """On SQLite only: for the many access and parameter cases, where the database plays no part."""
    with serving(settings_factory(), tmp_path) as served:
        yield served


# --------------------------------------------------------------------------- exports


def test_each_export_downloads_as_a_file_that_opens(world: World) -> None:
    report = world.reports["flanders"]
    csv_response = world.get(f"/reports/{report}/export.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_response.headers["content-disposition"] == (
        f'attachment; filename="rapport-overview-2025-01-01-2025-12-31-{report}.csv"')
    comments, rows = read_csv(csv_response.content)
    assert f"# report_id: {report}" in comments and "# computed_from: recruitment=3" in comments
    assert len(rows) > 100

    xlsx = world.get(f"/reports/{report}/export.xlsx", lang="en")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames[0] == "Contents" and workbook.sheetnames[-1] == "Notes"

    pdf = world.get(f"/reports/{report}/export.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize("token", sorted(CAN_SEE))
def test_exports_follow_the_access_rules_of_the_report(quick: World, token: str) -> None:
    world = quick
    for name, report in world.reports.items():
        if name == "summary":
            continue
        expected = 200 if name in CAN_READ[token] else 403
        for ext in ("csv", "xlsx", "pdf"):
            response = world.get(f"/reports/{report}/export.{ext}", token)
            assert response.status_code == expected, (token, name, ext, response.text[:200])
        page = world.get("/dashboard", token, report_id=report)
        assert page.status_code == expected, (token, name, "dashboard")
        if expected == 403:
            assert "Geen toegang" in response.json()["detail"]


def test_bad_requests_get_readable_answers(world: World) -> None:
    report = world.reports["flanders"]
    assert world.get(f"/reports/{report}/export.csv", None).status_code == 401
    assert world.get(f"/reports/{report}/export.csv", "not-a-token").status_code == 401
    missing = world.get("/reports/r-missing/export.pdf")
    assert missing.status_code == 404 and missing.json()["detail"].startswith("Rapport r-missing bestaat niet")
    wrong_lang = world.get(f"/reports/{report}/export.pdf", lang="fr")
    assert wrong_lang.status_code == 422 and wrong_lang.json()["errors"][0]["field"].endswith("lang")
    assert world.get(f"/reports/{report}/export.csv", dialect="tsv").status_code == 422


def test_a_report_without_a_document_is_refused_after_the_access_check(world: World) -> None:
    summary = world.reports["summary"]
    refused = world.get(f"/reports/{summary}/export.csv")
    assert refused.status_code == 409 and refused.json()["code"] == "not_a_document"
    assert world.get(f"/reports/{summary}/export.pdf", "dev-professional-other").status_code == 403


# --------------------------------------------------------------------------- dashboard


def test_the_dashboard_shows_the_callers_own_scope_by_default(world: World) -> None:
    page = world.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert '<html lang="nl" data-lang="nl">' in page.text and "Overzicht buddywerking" in page.text
    assert world.calls[-1] == {"audience": "government", "period_start": "2026-01-01", "period_end": "2026-12-31",
                               "grain": "month", "basis": "occurred", "threshold": 10, "rounding_base": 5}

    assert world.get("/dashboard", "dev-coordinator").status_code == 200
    assert world.calls[-1]["audience"] == "coordinator" and world.calls[-1]["region"] == "antwerpen-kempen"
    assert world.get("/dashboard", "dev-professional").status_code == 200
    assert world.calls[-1]["audience"] == "project" and world.calls[-1]["project_id"] == "demo-antwerpen"
    assert world.get("/dashboard", "dev-coordinator", project_id="demo-antwerpen").status_code == 200
    # a coordinator opening a project of the region gets it protected as a coordinator
    assert world.calls[-1]["audience"] == "coordinator" and world.calls[-1]["project_id"] == "demo-antwerpen"


def test_the_dashboard_form_offers_only_what_the_caller_may_see(world: World) -> None:
    coordinator = world.get("/dashboard", "dev-coordinator").text
    assert '<option value="antwerpen-kempen" selected' in coordinator and "gent-meetjesland" not in coordinator
    assert '<option value="demo-antwerpen"' in coordinator and "demo-brugge" not in coordinator
    assert '<option value="government"' not in coordinator
    admin = world.get("/dashboard").text
    assert all(f'<option value="{p}"' in admin for p in PROJECTS)
    professional = world.get("/dashboard", "dev-professional").text
    assert 'name="region"' not in professional and '<option value="demo-gent"' in professional


@pytest.mark.parametrize(("token", "params", "status"), [
    ("dev-coordinator", {"region": "gent-meetjesland"}, 403),
    ("dev-coordinator", {"audience": "government"}, 403),
    ("dev-professional", {"project_id": "demo-brugge"}, 403),
    ("dev-buddy", {}, 403),
    ("dev-admin", {"project_id": "no-such-project"}, 404),
    ("dev-admin", {"region": "no-such-region"}, 404),
    ("dev-admin", {"audience": "coordinator"}, 422),
    ("dev-admin", {"audience": "project"}, 422),
    ("dev-admin", {"period_start": "2025-13-01"}, 422),
    ("dev-admin", {"period_start": "2025-06-01", "period_end": "2025-01-31"}, 422),
    ("dev-admin", {"grain": "week"}, 422),
    ("dev-admin", {"region": "", "project_id": "", "as_known_on": "", "period_start": ""}, 200),
    ("dev-admin", {"basis": "recorded", "as_known_on": "2025-12-31", "grain": "quarter", "lang": "en"}, 200),
    ("dev-admin", {"period_start": "2025-02-14", "period_end": "2025-11-03", "grain": "quarter"}, 200),
    (None, {}, 401),
])
def test_the_dashboard_checks_its_parameters(quick: World, token: str | None, params: dict[str, str],
                                             status: int) -> None:
    world = quick
    response = world.get("/dashboard", token, **params)
    assert response.status_code == status, response.text[:300]
    if status == 422:
        body = response.json()
        assert body["errors"][0]["field"] and " / " in body["detail"]
    if params.get("period_start") == "2025-02-14":  # widened to whole quarters
        assert (world.calls[-1]["period_start"], world.calls[-1]["period_end"]) == ("2025-01-01", "2025-12-31")
    if params.get("basis") == "recorded":
        assert world.calls[-1]["as_known_on"] == "2025-12-31" and world.calls[-1]["grain"] == "quarter"
        assert '<html lang="en"' in response.text


def test_the_disclosure_settings_can_be_supplied_by_the_report_kinds(settings_factory: Any, tmp_path: Path) -> None:
    runtime = ServiceRuntime("reporting", settings_factory(), writes_events=False, clock=FixedClock(NOW))
    seen: list[dict[str, Any]] = []

    def overview(_conn: Any, parameters: dict[str, Any]) -> dict[str, Any]:
        seen.append(parameters)
        return sample_document().model_dump(mode="json")

    app = create_app(runtime, [router(runtime, principal_dependency(runtime.authenticator), compute_overview=overview,
                                      overview_parameters=lambda p: {**p, "disclosure": {"threshold": 20}})],
                     title="t", description="t")
    with TestClient(app) as client:
        assert client.get("/dashboard", headers={"Authorization": "Bearer dev-admin"}).status_code == 200
    assert seen[0]["disclosure"] == {"threshold": 20} and "threshold" not in seen[0]


def test_the_assets_are_served_from_the_package_without_a_token(quick: World) -> None:
    world = quick
    for name, kind in [("dashboard.css", "text/css"), ("dashboard.js", "text/javascript"), ("favicon.svg", "image/svg")]:
        response = world.get(f"/dashboard/static/{name}", None)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert not re.search(rb"https?://(?!www.w3.org/2000/svg)", response.content)
    assert world.get("/dashboard/static/api.py", None).status_code == 404
    assert world.get("/dashboard/static/..%2Fapi.py", None).status_code == 404


def test_the_real_overview_renders_once_the_report_kinds_have_it(settings_factory: Any) -> None:
    from services.reporting import reports

    if "overview" not in getattr(reports, "KINDS", {}):
        pytest.skip('the "overview" report kind does not exist yet')
    runtime = ServiceRuntime("reporting", settings_factory(), writes_events=False, clock=FixedClock(NOW))
    app = create_app(runtime, [router(runtime, principal_dependency(runtime.authenticator))], title="t", description="t")
    with TestClient(app) as client:
        response = client.get("/dashboard", headers={"Authorization": "Bearer dev-admin"},
                              params={"period_start": "2025-01-01", "period_end": "2025-12-31"})
    assert response.status_code == 200, response.text[:500]
    assert "<svg" in response.text or "report-section" in response.text
