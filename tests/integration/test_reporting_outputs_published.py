"""The whole path with the real report kinds: a synthetic history of the three producers,
rebuilt into the reporting projections, an overview published with POST /reports, and
that record exported as CSV, XLSX and PDF and shown on the dashboard.

Checks the contract between the report kinds and the outputs: the published content is a
document every output renders, the CSV holds every published cell (hidden ones without a
value), and the live dashboard and GET /reports/overview ask for the same report.

And a small region's report (a region with a handful of duos, a year by month): the PDF
and the workbook leave out the tables without any figure and list them, the workbook opens
on its contents sheet, and a table with one shown figure is kept.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shared.auth import principal_dependency
from shared.bus import StoreFeed
from shared.clock import FixedClock
from shared.service import ServiceRuntime, create_app
from services.reporting.outputs.api import router as outputs_router
from services.reporting.outputs.export_csv import read_csv
from services.reporting.outputs.view import NO_FIGURE_REASONS, document, fold, grid, no_figure_reason, table_ids

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
ADMIN = {"Authorization": "Bearer dev-admin"}
OVERVIEW = {"kind": "overview", "audience": "government", "period_start": "2025-01-01", "period_end": "2025-12-31",
            "grain": "quarter"}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Any:
    reporting_bench = pytest.importorskip("bench.reporting_bench")
    folder = tmp_path_factory.mktemp("history")
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    stores = reporting_bench.open_stores(folder, clock)
    reporting_bench.generate(stores, clock, events=6000)
    yield stores
    for store in stores.values():
        store.engine.dispose()


@pytest.fixture
def client(settings_factory: Any, history: Any) -> Iterator[TestClient]:
    from services.reporting import api as reporting_api
    from services.reporting import reports
    from services.reporting.rebuild import rebuild

    if "overview" not in getattr(reports, "KINDS", {}):
        pytest.skip('the "overview" report kind does not exist yet')
    runtime = ServiceRuntime("reporting", settings_factory(), writes_events=False, clock=FixedClock(NOW))
    principal_of = principal_dependency(runtime.authenticator)
    app = create_app(runtime, [reporting_api.router(runtime, principal_of), outputs_router(runtime, principal_of)],
                     title="Rapportering", description="reporting with its outputs")
    with TestClient(app) as test_client:
        asyncio.run(rebuild(runtime.engine, StoreFeed(history)))
        yield test_client


def test_a_published_overview_exports_to_every_format(client: TestClient, tmp_path: Path) -> None:
    published = client.post("/reports", json=OVERVIEW, headers=ADMIN)
    assert published.status_code == 201, published.text[:500]
    record = published.json()
    doc = document(record["content"])
    cells = [(v.table.name, c) for s in doc.sections for v in s.tables for c in v.table.cells]
    assert len(cells) > 200 and any(c.suppressed for _, c in cells)
    report_id = record["report_id"]

    csv_file = client.get(f"/reports/{report_id}/export.csv", headers=ADMIN)
    assert csv_file.status_code == 200
    comments, rows = read_csv(csv_file.content)
    assert f"# content_hash: sha256:{record['content_hash']}" in comments
    assert sum(r["kind"] == "cell" for r in rows) == len(cells)
    by_key = {(r["table"], r["row"], r["column"]): r for r in rows if r["kind"] == "cell"}
    assert len(by_key) == len(cells)  # every published cell once: table names are unique in the file
    ids = table_ids(doc)
    for section in doc.sections:
        for view in section.tables:
            for cell in view.table.cells:
                row = by_key[(ids[id(view)], cell.row, cell.col)]
                assert row["section"] == section.key and row["indicator"] == view.indicator
                assert row["value"] == ("" if cell.suppressed else str(cell.value))

    workbook = load_workbook(io.BytesIO(client.get(f"/reports/{report_id}/export.xlsx", headers=ADMIN).content))
    tables = sum(len(s.tables) for s in doc.sections)
    with_figures = sum(no_figure_reason(grid(v)) is None for s in doc.sections for v in s.tables)
    assert len(workbook.sheetnames) >= with_figures + 3 and workbook.sheetnames[0] == "Inhoud"

    pdf = client.get(f"/reports/{report_id}/export.pdf", headers=ADMIN)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    (tmp_path / "overview.pdf").write_bytes(pdf.content)

    page = client.get("/dashboard", headers=ADMIN, params={"report_id": report_id})
    assert page.status_code == 200
    assert page.text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') >= tables // 2
    assert record["content_hash"] in page.text


def test_the_live_dashboard_asks_for_the_report_get_reports_overview_computes(client: TestClient) -> None:
    query = {k: v for k, v in OVERVIEW.items() if k != "kind"}
    live = client.get("/reports/overview", headers=ADMIN, params=query)
    assert live.status_code == 200, live.text[:300]
    page = client.get("/dashboard", headers=ADMIN, params=query)
    assert page.status_code == 200, page.text[:300]
    doc = document(live.json()["content"])
    for section in doc.sections:
        assert f'id="s-{section.key}"' in page.text
    hidden = sum(c.suppressed for s in doc.sections for v in s.tables for c in v.table.cells)
    assert page.text.count('<td class="num hidden-cell') >= hidden


# --------------------------------------------------------------------------- a small region
SMALL_REGION = {"kind": "overview", "audience": "coordinator", "region": "antwerpen-kempen",
                "period_start": "2025-01-01", "period_end": "2025-12-31", "grain": "month"}


@pytest.fixture(scope="module")
def small_history(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Three projects in three regions over two years: the region's one project has a handful of duos."""
    reporting_history = pytest.importorskip("bench.reporting_history")
    folder = tmp_path_factory.mktemp("small-history")
    stores = reporting_history.open_stores(folder)
    reporting_history.generate(stores, reporting_history.Scale(projects=3, regions=3, years=2, volunteers=40,
                                                               participants=40, events=4000, seed=7))
    yield stores
    for store in stores.values():
        store.engine.dispose()


@pytest.fixture
def small_client(settings_factory: Any, small_history: Any) -> Iterator[TestClient]:
    from services.reporting import api as reporting_api
    from services.reporting.rebuild import rebuild

    runtime = ServiceRuntime("reporting", settings_factory(), writes_events=False, clock=FixedClock(NOW))
    principal_of = principal_dependency(runtime.authenticator)
    app = create_app(runtime, [reporting_api.router(runtime, principal_of), outputs_router(runtime, principal_of)],
                     title="Rapportering", description="reporting with its outputs")
    with TestClient(app) as test_client:
        asyncio.run(rebuild(runtime.engine, StoreFeed(small_history)))
        yield test_client


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page[^s]", pdf))


def test_a_small_regions_report_leaves_out_the_tables_without_figures(small_client: TestClient,
                                                                       tmp_path: Path) -> None:
    published = small_client.post("/reports", json=SMALL_REGION, headers=ADMIN)
    assert published.status_code == 201, published.text[:500]
    report_id = published.json()["report_id"]
    doc = document(published.json()["content"])
    views = [v for s in doc.sections for v in s.tables]
    kept = [v for v in views if no_figure_reason(grid(v)) is None]
    folded = fold(doc)
    omitted = [e for e in folded.omitted if e.kind == "table"]
    assert len(views) > 60 and 0 < len(kept) < len(views) // 2 and len(omitted) == len(views) - len(kept)
    # a table with a single shown figure (the rest hidden or zero) is kept
    assert any(sum(bool(c.value) for c in grid(v).cells.values()) == 1 for v in kept)

    pdf = small_client.get(f"/reports/{report_id}/export.pdf", headers=ADMIN).content
    assert pdf.startswith(b"%PDF-") and pdf_pages(pdf) <= 20  # it was 54 pages with every table printed
    if shutil.which("pdftotext"):
        (tmp_path / "small.pdf").write_bytes(pdf)
        text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "small.pdf"), "-"], check=True, text=True,
                                       capture_output=True, timeout=60).stdout.split())
        printed, _, listed = text.partition("Zonder cijfers Deze tabellen")
        assert listed and all(e.title.nl in listed for e in omitted)
        assert all(v.title.nl in printed for v in kept)

    workbook = load_workbook(io.BytesIO(small_client.get(f"/reports/{report_id}/export.xlsx", headers=ADMIN).content))
    assert workbook.sheetnames[0] == "Inhoud" and workbook.active.title == "Inhoud"
    ids = table_ids(doc)
    table_sheets = [n for n in workbook.sheetnames if re.match(r"\d\d ", n)]
    assert [n[3:] for n in table_sheets] == [ids[id(v)][:28].replace("/", "_") for v in kept]
    assert len(workbook.sheetnames) == len(kept) + 4  # contents, key figures, definitions, notes
    contents = workbook["Inhoud"]
    links = {c.hyperlink.location for row in contents.iter_rows() for c in row if c.hyperlink is not None}
    assert {loc[1:-4].replace("''", "'") for loc in links} == set(workbook.sheetnames[1:])
    rows = [[c.value for c in r] for r in contents.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "Zonder cijfers")
    listed = {r[2]: r[1] for r in rows[start + 3:] if r[1]}
    assert {ids[id(v)] for v in views if v not in kept} <= set(listed)
    assert set(listed.values()) <= {t.nl for t in NO_FIGURE_REASONS.values()}
    for name in table_sheets:  # every table sheet shows at least one figure
        sheet = workbook[name]
        assert any(isinstance(c.value, int) and c.value for row in sheet.iter_rows(min_row=6) for c in row)

    comments, rows_csv = read_csv(small_client.get(f"/reports/{report_id}/export.csv", headers=ADMIN).content)
    assert sum(r["kind"] == "cell" for r in rows_csv) == sum(len(v.table.cells) for v in views)
    assert sum(line.startswith("# without_figures table ") for line in comments) == len(omitted)
