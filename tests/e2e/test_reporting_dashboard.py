"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

The reporting outputs run under uvicorn on a free port (the overview comes from the
sample document, protected by the real disclosure engine, until the report kinds have an
"overview"); Chromium loads the page with a dev token, offline in spirit: every request
must go to the service itself. Checks: no console errors (a Content-Security-Policy
violation is one), the charts are drawn (SVG with a non-zero size, bars, lines, the
funnel), hidden values are marks and not bars, the NL/EN toggle works, and a screenshot
goes to the test's folder (and to BUDDY_TEST_ARTIFACTS when set).

Needs ``/usr/bin/chromium`` (apt package ``chromium``) and the ``playwright`` Python
package; never ``playwright install``. Skips with the reason when either is missing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.auth import principal_dependency
from shared.clock import FixedClock
from shared.embedded import free_port
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.reporting import records
from services.reporting.outputs.api import router
from services.reporting.outputs.charts import HiddenMark, Rect, chart_of
from tests.integration.test_reporting_outputs_api import register_projects
from tests.unit.test_reporting_outputs_sample import sample_document

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def playwright_or_skip() -> Any:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is missing: pip install playwright==1.65.2")
    return sync_playwright


def artefact_folders(tmp_path: Path) -> list[Path]:
    """The test's own folder, and the shared artefacts folder when BUDDY_TEST_ARTIFACTS is set."""
    folders = [tmp_path]
    wanted = os.environ.get("BUDDY_TEST_ARTIFACTS", "").strip()
    if wanted:
        shared = Path("test-artifacts") if wanted.lower() in {"1", "true", "yes"} else Path(wanted)
        shared.mkdir(parents=True, exist_ok=True)
        folders.append(shared)
    return folders


def fake_overview(_conn: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    return sample_document(parameters["audience"]).model_dump(mode="json")


@dataclass
class Served:
    url: str
    runtime: ServiceRuntime


@pytest.fixture
def served(settings_factory: Any) -> Iterator[Served]:
    import uvicorn

    settings: Settings = settings_factory()
    runtime = ServiceRuntime("reporting", settings, writes_events=False, clock=FixedClock(NOW))
    app = create_app(runtime, [router(runtime, principal_dependency(runtime.authenticator),
                                      compute_overview=fake_overview)],
                     title="Rapportering", description="outputs")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="dashboard-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:  # waiting for start-up, not asserting on time
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the dashboard server did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", runtime)
    finally:
        server.should_exit = True
        thread.join(30)


def hidden_marks_expected(doc: Any) -> tuple[int, int]:
    """(hidden marks, bars) the charts of a document must draw."""
    marks = bars = 0
    for section in doc.sections:
        for view in section.tables:
            out = chart_of(view)
            if out is None:
                continue
            marks += sum(isinstance(s, HiddenMark) for s in out.shapes)
            bars += sum(isinstance(s, Rect) and s.role == "bar" for s in out.shapes)
    return marks, bars


def open_browser(sync_playwright: Any, tmp_path: Path, token: str) -> Any:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    pw = sync_playwright().start()
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, headless=True, viewport={"width": 1366, "height": 900},
        extra_http_headers={"Authorization": f"Bearer {token}"}, locale="nl-BE", accept_downloads=True,
        downloads_path=str(tmp_path / "downloads"))
    return pw, context


def test_the_dashboard_draws_its_charts_in_chromium_without_errors(served: Served, tmp_path: Path) -> None:
    sync_playwright = playwright_or_skip()
    pw, context = open_browser(sync_playwright, tmp_path, "dev-admin")
    problems: list[str] = []
    foreign: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(served.url) else None)

        response = page.goto(f"{served.url}/dashboard?period_start=2025-01-01&period_end=2025-12-31",
                             wait_until="load")
        assert response is not None and response.status == 200, response and response.text()
        page.wait_for_function("document.documentElement.classList.contains('js')")
        assert page.get_attribute("html", "lang") == "nl"
        assert page.locator("h1").inner_text() == "Overzicht buddywerking"

        # each chart is drawn twice, for a wide and for a phone screen; this window shows the wide ones
        assert page.locator("svg.chart.chart-narrow").count() == 6
        charts = page.locator("svg.chart:not(.chart-narrow)")
        assert charts.count() == 6
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50, (i, box)
        assert page.locator("svg.chart-line:not(.chart-narrow) polyline.series").count() >= 3  # trends, lines broken at hidden months
        assert page.locator("svg.chart-funnel:not(.chart-narrow) rect.bar").count() == 6  # 7 steps, one hidden: no bar for it
        assert page.locator("svg.chart-bar:not(.chart-narrow) rect.bar").count() > 10  # regions compared
        bar_box = page.locator("svg.chart-bar:not(.chart-narrow) rect.bar").first.bounding_box()
        assert bar_box is not None and bar_box["width"] > 0 and bar_box["height"] > 0

        doc = sample_document("government")
        marks, bars = hidden_marks_expected(doc)
        assert page.locator("svg.chart:not(.chart-narrow) text.hidden-mark").count() == marks > 0
        assert page.locator("svg.chart:not(.chart-narrow) rect.bar").count() == bars
        hidden_cells = sum(c.suppressed for s in doc.sections for v in s.tables for c in v.table.cells)
        assert page.locator("td.hidden-cell").count() == hidden_cells
        assert set(page.locator("td.hidden-cell .hidden-mark").all_text_contents()) == {"—"}
        trend = page.locator("#c0-1")  # contacts by month and mode: a line per mode, broken at hidden months
        assert not trend.locator("table").is_visible()
        trend.locator("summary").click()  # the table, the chart's text alternative, opens in place
        assert trend.locator("table").is_visible()
        assert trend.locator("td.hidden-cell").first.inner_text().startswith("—")

        for folder in artefact_folders(tmp_path):
            page.screenshot(path=str(folder / "reporting-dashboard-nl.png"), full_page=True)
            trend.screenshot(path=str(folder / "reporting-dashboard-trend.png"))
        assert (tmp_path / "reporting-dashboard-nl.png").stat().st_size > 10_000

        page.click("[data-lang-toggle]")
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("h1").inner_text() == "Buddy programmes overview"
        assert "hidden to protect people" in page.locator(".protection").inner_text()
        assert page.locator("svg.chart-funnel:not(.chart-narrow) text").first.text_content() == "Enquiry"
        for folder in artefact_folders(tmp_path):
            page.screenshot(path=str(folder / "reporting-dashboard-en.png"), full_page=False)
        page.click("[data-lang-toggle]")
        assert page.get_attribute("html", "lang") == "nl"

        page.select_option("#f-grain", "quarter")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert "grain=quarter" in page.url
        assert page.locator("svg.chart:not(.chart-narrow)").count() == 6
    finally:
        context.close()
        pw.stop()
    assert problems == []
    assert foreign == [], "everything the dashboard needs comes from the service itself"


def test_a_published_report_opens_in_chromium_with_its_downloads(served: Served, tmp_path: Path) -> None:
    sync_playwright = playwright_or_skip()
    register_projects(served.runtime, tmp_path)  # the region must be known to the projections
    doc = sample_document("coordinator")
    with served.runtime.engine.begin() as conn:
        record = records.record(conn, kind="overview", parameters={"audience": "coordinator", "region": "antwerpen-kempen"},
                                watermark={"recruitment": 10}, content=doc.model_dump(mode="json"), created_at=NOW,
                                created_by="dev-admin")
    pw, context = open_browser(sync_playwright, tmp_path, "dev-coordinator")
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        response = page.goto(f"{served.url}/dashboard?report_id={record['report_id']}&lang=en", wait_until="load")
        assert response is not None and response.status == 200
        assert page.get_attribute("html", "lang") == "en"
        assert record["content_hash"] in page.locator("#about").inner_text()
        pdf_link = page.locator("nav.exports a").first
        assert pdf_link.get_attribute("href") == f"/reports/{record['report_id']}/export.pdf?lang=en"
        # Chromium's download manager does not send Playwright's extra headers (in production an
        # authenticating proxy adds the token to every request), so the browser context fetches it.
        for link in page.locator("nav.exports a").all():
            download = context.request.get(served.url + link.get_attribute("href"))
            assert download.ok, download.text()
            assert "attachment" in download.headers["content-disposition"]
            magic = {"pdf": b"%PDF", "xlsx": b"PK", "csv": "\ufeff# ".encode()}[link.get_attribute("href")
                                                                                 .split("?")[0].rsplit(".", 1)[1]]
            assert download.body().startswith(magic)
        for folder in artefact_folders(tmp_path):
            page.screenshot(path=str(folder / "reporting-dashboard-published.png"), full_page=False)
    finally:
        context.close()
        pw.stop()
    assert problems == []


def test_without_chromium_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """The skip is explicit, and this module imports without playwright (this test runs everywhere)."""
    monkeypatch.setattr(os.path, "exists", lambda _path: False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        playwright_or_skip()
