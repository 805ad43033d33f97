"""HTTP routes of the outputs: exports of published reports, and the dashboard.

* ``GET /reports/{report_id}/export.csv|.xlsx|.pdf`` — a published report as a file;
  same access rules as ``GET /reports/{report_id}``.
* ``GET /dashboard`` — the live overview (``reports.compute(conn, "overview", ...)``) for
  the caller's scope, or a published report with ``?report_id=``.
* ``GET /dashboard/static/{name}`` — the dashboard's stylesheet, script and icon, from
  the package (no data in them, so no token needed).
"""


import re
from collections.abc import Callable
from datetime import date, timedelta
from importlib.resources import files
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import Connection, select

from shared.auth import Principal
from shared.contracts.common import EARLIEST_DAY, LATEST_DAY
from shared.domain import DomainError, InvalidInput, NotFound
from shared.events.envelope import Role
from shared.eventstore.db import reader, snapshot
from shared.parameters import FormId, FormLine, PathId, within_bounds
from shared.service import ServiceRuntime
from services.reporting import records
from services.reporting.document import ReportDocument, Text
from services.reporting.outputs.access import EVERYWHERE, check_record, check_scope, reader_audience
from services.reporting.outputs.dashboard import Choice, Controls, Page, render_dashboard
from services.reporting.outputs.export_csv import render_csv
from services.reporting.outputs.export_pdf import render_pdf
from services.reporting.outputs.export_xlsx import render_xlsx
from services.reporting.outputs.view import Provenance, document
from services.reporting.queries import watermark
from services.reporting.reports import calendar_period
from services.reporting.read_models import projects

Lang = Literal["nl", "en"]
AudienceName = Literal["government", "coordinator", "project"]
Grain = Literal["month", "quarter", "year"]
Basis = Literal["occurred", "recorded"]

STATIC_FILES = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store"}
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
AUDIENCES = {
    "government": Text(nl="Vlaamse overheid", en="Flemish government"),
    "coordinator": Text(nl="Coördinator", en="Coordinator"),
    "project": Text(nl="Project", en="Project"),
}
NOT_A_DOCUMENT = ("Dit rapport heeft geen document om te tonen of te exporteren / "
                  "This report has no document to show or export")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

ComputeOverview = Callable[[Connection, dict[str, Any]], dict[str, Any]]
OverviewParameters = Callable[[dict[str, Any]], dict[str, Any]]


def load_static() -> dict[str, bytes]:
    """The dashboard's assets, read once from the package (fails at start-up if one is missing)."""
    folder = files("services.reporting.outputs").joinpath("static")
    try:
        return {name: folder.joinpath(name).read_bytes() for name in STATIC_FILES}
    except FileNotFoundError as exc:
        raise RuntimeError(
            f"dashboard asset missing from the installed package ({exc.filename}): pyproject.toml needs "
            '[tool.setuptools.package-data] services = ["reporting/outputs/static/*"]') from exc


def as_document(content: Any) -> ReportDocument:
    try:
        return document(content)
    except ValidationError:
        raise DomainError(NOT_A_DOCUMENT, code="not_a_document") from None


def filename(doc: ReportDocument, report_id: str, ext: str) -> str:
    name = f"rapport-{doc.kind}-{doc.period.start}-{doc.period.end}-{report_id}"
    return f"{_SAFE.sub('-', name)[:150]}.{ext}"


def parse_day(value: str | None, field: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"Geen geldige datum (JJJJ-MM-DD) / Not a valid date (YYYY-MM-DD): {field}",
                           field=field) from None
    if not within_bounds(day):
        raise InvalidInput(f"Deze datum ligt buiten {EARLIEST_DAY.year}–{LATEST_DAY.year} / "
                           f"This date lies outside {EARLIEST_DAY.year}–{LATEST_DAY.year}: {field}", field=field)
    return day


def default_compute(conn: Connection, parameters: dict[str, Any]) -> dict[str, Any]:
    from services.reporting import reports  # looked up per call: the report kinds may grow

    return reports.compute(conn, "overview", parameters)


def router(runtime: ServiceRuntime, principal_of: Any, *, compute_overview: ComputeOverview | None = None,
           overview_parameters: OverviewParameters | None = None) -> APIRouter:
    """Routes of the outputs. ``compute_overview`` and ``overview_parameters`` are for tests
    and for the report kinds to plug in; by default the overview is ``reports.compute(conn,
    "overview", ...)`` with the service's disclosure settings added to the parameters."""
    api = APIRouter(tags=["reports: outputs"])
    Caller = Annotated[Principal, Depends(principal_of)]
    settings = runtime.settings
    compute = compute_overview or default_compute
    static = load_static()

    def with_disclosure(parameters: dict[str, Any]) -> dict[str, Any]:
        # The service's disclosure settings, as GET /reports/overview and POST /reports add them
        # (the overview turns them into its audience's policy).
        if overview_parameters is not None:
            return overview_parameters(parameters)
        return {**parameters, "threshold": settings.disclosure_threshold, "rounding_base": settings.rounding_base}

    def published(report_id: str, principal: Principal) -> tuple[ReportDocument, Provenance]:
        with reader(runtime.engine).connect() as conn:
            record = records.get(conn, report_id)
            if record is None:
                raise NotFound("Rapport", "Report", report_id)
            check_record(conn, principal, record)
        return as_document(record["content"]), Provenance.of_record(record)

    def download(data: bytes, doc: ReportDocument, report_id: str, ext: str) -> Response:
        headers = {**FILE_HEADERS, "Content-Disposition": f'attachment; filename="{filename(doc, report_id, ext)}"'}
        return Response(data, media_type=MEDIA[ext], headers=headers)

    @api.get("/reports/{report_id}/export.csv", response_class=Response,
             summary="A published report as CSV (long format, every published cell, metadata in # lines, UTF-8 "
                     "with BOM)",
             responses={200: {"content": {"text/csv": {}}}})
    def export_csv(report_id: PathId, principal: Caller, lang: Lang = "nl",
                   dialect: Literal["standard", "excel-nl"] = "standard") -> Response:
        doc, source = published(report_id, principal)
        return download(render_csv(doc, source=source, lang=lang, dialect=dialect), doc, report_id, "csv")

    @api.get("/reports/{report_id}/export.xlsx", response_class=Response,
             summary="A published report as an Excel workbook: a contents sheet first, one sheet per table with "
                     "figures, definitions, notes",
             responses={200: {"content": {MEDIA["xlsx"]: {}}}})
    def export_xlsx(report_id: PathId, principal: Caller, lang: Lang = "nl") -> Response:
        doc, source = published(report_id, principal)
        return download(render_xlsx(doc, source=source, lang=lang), doc, report_id, "xlsx")

    @api.get("/reports/{report_id}/export.pdf", response_class=Response,
             summary="A published report as PDF (Dutch by default): title page, definitions, charts, tables with "
                     "figures, the tables without figures listed, what was hidden and why",
             responses={200: {"content": {"application/pdf": {}}}})
    def export_pdf(report_id: PathId, principal: Caller, lang: Lang = "nl") -> Response:
        doc, source = published(report_id, principal)
        return download(render_pdf(doc, source=source, lang=lang), doc, report_id, "pdf")

    @api.get("/dashboard", response_class=HTMLResponse,
             summary="Dashboard (HTML): the live overview of the caller's scope, or a published report")
    def dashboard(
        request: Request,
        principal: Caller,
        report_id: FormId = None,
        audience: AudienceName | None = None,
        region: FormLine = None,
        project_id: FormId = None,
        period_start: Annotated[str | None, Query(description="ISO date; default: 1 January of the end's year")] = None,
        period_end: Annotated[str | None, Query(description="ISO date; default: the end of this year")] = None,
        grain: Grain = "month",
        basis: Basis = "occurred",
        as_known_on: Annotated[str | None, Query(description="ISO date")] = None,
        lang: Lang = "nl",
    ) -> HTMLResponse:
        query = {k: v for k, v in request.query_params.items() if v}
        if report_id:
            doc, source = published(report_id, principal)
            base = f"/reports/{report_id}/export"
            page = Page(doc=doc, lang=lang, source=source, query=query,
                        exports={"pdf": f"{base}.pdf", "xlsx": f"{base}.xlsx", "csv": f"{base}.csv"})
            return HTMLResponse(render_dashboard(page), headers=PAGE_HEADERS)
        # One whole calendar month, quarter or year (docs/disclosure.md): the smallest one holding
        # the dates given, no finer than the grain; by default this calendar year.
        end = bucket_end(parse_day(period_end, "period_end") or bucket_end(runtime.clock.today(), "year"), grain)
        start = bucket_start(parse_day(period_start, "period_start") or date(end.year, 1, 1), grain)
        if start > end:
            raise InvalidInput("Het begin ligt na het einde / The start lies after the end", field="period_start")
        start, end = calendar_period(start, end, grain) or (start, end)  # across years: refused, with the reason
        known_on = parse_day(as_known_on, "as_known_on")
        _, region, project_id = _scope(principal, audience, (region or "").strip() or None,
                                       (project_id or "").strip() or None)
        audience = reader_audience(principal).value  # the reader's protection, whichever scope they open
        parameters: dict[str, Any] = {"audience": audience, "period_start": start.isoformat(),
                                      "period_end": end.isoformat(), "grain": grain, "basis": basis}
        if region:
            parameters["region"] = region
        if project_id:
            parameters["project_id"] = project_id
        if known_on:
            parameters["as_known_on"] = known_on.isoformat()
        with snapshot(runtime.engine).connect() as conn:
            check_scope(conn, principal, project_id=project_id, region=region)
            content = compute(conn, with_disclosure(parameters))
            computed_from = watermark(conn, runtime.name)
            controls = _controls(conn, principal, parameters)
        doc = as_document(content)
        page = Page(doc=doc, lang=lang, source=Provenance(kind=doc.kind, computed_from=computed_from),
                    controls=controls, query={**query, **{k: str(v) for k, v in parameters.items()}})
        return HTMLResponse(render_dashboard(page), headers=PAGE_HEADERS)

    @api.get("/dashboard/static/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in static:
            raise NotFound("Bestand", "File", name)
        return Response(static[name], media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    return api


def bucket_start(day: date, grain: str) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def bucket_end(day: date, grain: str) -> date:
    last_month = {"month": day.month, "quarter": 3 * ((day.month - 1) // 3) + 3, "year": 12}[grain]
    following = date(day.year + (last_month == 12), last_month % 12 + 1, 1)
    return following - timedelta(days=1)


def _scope(principal: Principal, audience: str | None, region: str | None,
           project_id: str | None) -> tuple[str, str | None, str | None]:
    """The audience and scope asked for, or the caller's own by default."""
    if audience is None:
        if principal.role in EVERYWHERE:
            audience = "project" if project_id else "coordinator" if region else "government"
        elif principal.role is Role.coordinator:
            audience = "project" if project_id else "coordinator"
        elif principal.role is Role.professional:
            audience = "project"
        elif principal.role is Role.government:
            audience = "government"
        else:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail="Geen toegang tot rapporten met deze rol / No access to reports with this role")
    if audience == "coordinator" and region is None:
        if principal.role is Role.coordinator and principal.regions:
            region = sorted(principal.regions)[0]
        else:
            raise InvalidInput("Kies een regio / Choose a region", field="region")
    if audience == "project" and project_id is None:
        if principal.role is Role.professional and principal.projects:
            project_id = sorted(principal.projects)[0]
        else:
            raise InvalidInput("Kies een project / Choose a project", field="project_id")
    return audience, region, project_id


def _controls(conn: Connection, principal: Principal, parameters: dict[str, Any]) -> Controls:
    """The choices of the filter form: only scopes this caller may see."""
    known = conn.execute(select(projects.c.project_id, projects.c.region).order_by(projects.c.project_id)).all()
    if principal.role in EVERYWHERE:
        audiences, regions = ["government", "coordinator", "project"], sorted({r for _, r in known})
        project_ids = [p for p, _ in known]
    elif principal.role is Role.coordinator:
        audiences, regions = ["coordinator", "project"], sorted(principal.regions)
        project_ids = [p for p, r in known if r in principal.regions]
    elif principal.role is Role.government:
        audiences, regions, project_ids = ["government"], None, []  # Flanders only: no region or project to pick
    else:
        audiences, regions = ["project"], None  # no region to pick
        project_ids = sorted(principal.projects)
    values = {k: str(v) for k, v in parameters.items() if k not in ("threshold", "rounding_base")}
    return Controls(values=values, audiences=[Choice(a, AUDIENCES[a]) for a in audiences], regions=regions,
                    projects=project_ids[:500])
