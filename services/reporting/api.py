"""HTTP API of the reporting service: anonymised figures only.

* ``GET /reports/projects/{id}/summary`` — the project summary, as of now.
* ``GET /reports/overview`` — the overview computed now (not kept), with its watermark.
* ``POST /reports`` — publish a report (``project_summary`` or ``overview``): computed now, or
  as known on a date (rebuilt to that day's watermark in a temporary database), and kept
  with its parameters, watermark, content hash and suppression pattern.
* ``GET /reports``, ``GET /reports/{id}`` — published reports the caller may see.
* ``GET /indicators``, ``GET /vocabularies`` — the catalogue behind every figure.

Who sees what: government-wide figures (all of Flanders) admins, auditors and the government;
a region's figures its coordinators; a project's figures its professionals and the
coordinators of its region. The protection follows the reader, not the request: admins
and auditors read as the government, coordinators as coordinators (a project of their
region too), professionals as project staff; a published report only to readers of its
own audience. Overviews cover one calendar month, quarter or year (docs/disclosure.md).
Never a figure about fewer people than the threshold.
"""

from datetime import date
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from shared.auth import NO_PROJECT_ACCESS, Principal
from shared.contracts.common import Day, Id, Line
from shared.domain import InvalidInput, NotFound
from shared.events.envelope import Role
from shared.eventstore.db import reader, snapshot
from shared.parameters import Offset, PathId, QueryId, QueryLine
from shared.service import ServiceRuntime
from services.reporting import indicators, records
from services.reporting.as_known_on import AsKnownOn, Busy
from services.reporting.disclosure import Audience
from services.reporting.outputs.access import check_audience, reader_audience
from services.reporting.queries import project_region, regions, watermark
from services.reporting.reports import Grain, OverviewParameters, buckets, build_overview, compute, parse_parameters

NO_REGION_ACCESS = "Geen toegang tot deze regio / No access to this region"
NO_FLANDERS_ACCESS = "Geen toegang tot de cijfers van heel Vlaanderen / No access to the figures of all of Flanders"
EVERYWHERE = (Role.admin, Role.auditor)
FLANDERS = (*EVERYWHERE, Role.government)  # the government reads Flanders' figures, no project's or region's


class SummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["project_summary"] = "project_summary"
    project_id: Id


class OverviewRequest(BaseModel):
    """An overview report; the disclosure settings come from the service's settings."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["overview"]
    audience: Audience = Field(Audience.project, description="Ignored: the caller's role decides whose protection "
                                                            "the figures get (admin, auditor: government; "
                                                            "coordinator: coordinator; professional: project).")
    region: Line | None = Field(None, min_length=1, max_length=100)
    project_id: Id | None = None
    period_start: Day
    period_end: Day
    grain: Grain = "month"
    basis: Literal["occurred", "recorded"] = "occurred"
    as_known_on: Day | None = None
    title: Line | None = Field(None, min_length=1, max_length=200, description="Shown in the archive; not a parameter.")


def _may_see_project(principal: Principal, project_id: str, region: str) -> bool:
    return (
        principal.role in EVERYWHERE
        or (principal.role is Role.professional and principal.can_act_in_project(project_id))
        or (principal.role is Role.coordinator and principal.can_read_region(region))
    )


def check_overview_scope(conn: Connection, principal: Principal, *, region: str | None,
                         project_id: str | None) -> None:
    """404 for an unknown project or region, 403 when the caller may not see the scope."""
    if project_id is not None:
        found = project_region(conn, project_id)
        if found is None:
            raise NotFound("Project", "Project", project_id)
        if not _may_see_project(principal, project_id, found):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)
        return
    if region is not None:
        if region not in regions(conn):
            raise NotFound("Regio", "Region", region)
        if not principal.can_read_region(region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_REGION_ACCESS)
        return
    if principal.role not in FLANDERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_FLANDERS_ACCESS)


def _buckets_of(start: str, end: str, grain: Grain) -> list[str]:
    return buckets(date.fromisoformat(start), date.fromisoformat(end), grain)


def router(runtime: ServiceRuntime, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["reports"])
    Caller = Annotated[Principal, Depends(principal_of)]
    settings = runtime.settings
    as_known_on = AsKnownOn(runtime.clock, running=settings.as_known_on_rebuilds, waiting=settings.as_known_on_waiting)

    def summary_parameters(project_id: str) -> dict[str, Any]:
        return {"project_id": project_id, "threshold": settings.disclosure_threshold,
                "rounding_base": settings.rounding_base}

    def overview_parameters(body: dict[str, Any], principal: Principal) -> OverviewParameters:
        """The request with the caller's audience and the service's disclosure settings, as the complete
        policy (kept with the report)."""
        if principal.role not in EVERYWHERE and body.get("project_id") is None:
            # a scope above the caller's (checked again, with the register, by check_overview_scope)
            if body.get("region") is None:
                if principal.role not in FLANDERS:
                    raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_FLANDERS_ACCESS)
            elif principal.role is not Role.coordinator:
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_REGION_ACCESS)
        params = parse_parameters({**body, "audience": reader_audience(principal),
                                   "threshold": settings.disclosure_threshold,
                                   "rounding_base": settings.rounding_base})
        return params.model_copy(update={"disclosure": params.policy(), "threshold": None, "rounding_base": None})

    def check_project(conn: Any, principal: Principal, project_id: str) -> None:
        region = project_region(conn, project_id)
        if region is None:
            raise NotFound("Project", "Project", project_id)
        if not _may_see_project(principal, project_id, region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)

    def check_record(conn: Any, principal: Principal, report: dict[str, Any]) -> None:
        params = report["parameters"]
        if report["kind"] == "overview":
            check_overview_scope(conn, principal, region=params.get("region"), project_id=params.get("project_id"))
            check_audience(principal, params.get("audience"), params.get("project_id"))
        else:
            check_project(conn, principal, params["project_id"])

    def may_see(conn: Any, principal: Principal, report: dict[str, Any]) -> bool:
        try:
            check_record(conn, principal, report)
        except (HTTPException, NotFound):
            return False
        return True

    @api.get("/reports/projects/{project_id}/summary", summary="Anonymised summary of one project, as of now")
    def project_summary(project_id: PathId, principal: Caller) -> dict[str, Any]:
        with snapshot(runtime.engine).connect() as conn:
            check_project(conn, principal, project_id)
            content = compute(conn, "project_summary", summary_parameters(project_id))
            return {**content, "computed_from": watermark(conn, runtime.name)}

    @api.get("/reports/overview", summary="The overview computed now from the live projections (not kept)")
    def live_overview(
        principal: Caller,
        period_start: Annotated[Day, Query()],
        period_end: Annotated[Day, Query()],
        audience: Annotated[Audience, Query(description="Ignored: the caller's role decides whose protection the "
                                                        "figures get (see POST /reports).")] = Audience.government,
        region: QueryLine = None,
        project_id: QueryId = None,
        grain: Grain = "month",
        basis: Literal["occurred", "recorded"] = "occurred",
    ) -> dict[str, Any]:
        body = {"audience": audience, "region": region, "project_id": project_id, "period_start": period_start,
                "period_end": period_end, "grain": grain, "basis": basis}
        params = overview_parameters(body, principal)
        with snapshot(runtime.engine).connect() as conn:
            check_overview_scope(conn, principal, region=region, project_id=project_id)
            content = build_overview(conn, params).content
            return {"parameters": params.model_dump(mode="json"), "content": content,
                    "computed_from": watermark(conn, runtime.name)}

    @api.post("/reports", status_code=status.HTTP_201_CREATED, response_model=dict[str, Any],
              summary="Publish a report: computed now (or as known on a date), kept with its watermark and hash",
              description="Body: `{\"kind\": \"project_summary\", \"project_id\": ...}` or `{\"kind\": \"overview\", "
                          "\"audience\": ..., \"region\"?: ..., \"project_id\"?: ..., \"period_start\": ..., "
                          "\"period_end\": ..., \"grain\"?: \"month\"|\"quarter\"|\"year\", \"basis\"?: "
                          "\"occurred\"|\"recorded\", \"as_known_on\"?: ...}`. An `as_known_on` report rebuilds the "
                          "projections from the producers' feeds up to that day in a temporary database first: its "
                          "cost grows with the history (see docs/indicators.md). Reports at the same watermark share "
                          "one rebuild; when `BUDDY_AS_KNOWN_ON_REBUILDS` run and `BUDDY_AS_KNOWN_ON_WAITING` wait "
                          "already, the answer is 503 with `Retry-After` (busy, try again). A day after today or "
                          "before the first recorded event is refused (422).")
    async def publish(principal: Caller, body: Annotated[dict[str, Any], Body()]) -> Any:
        kind = body.get("kind", "project_summary")
        if kind == "overview":
            return await publish_overview(principal, _validated(OverviewRequest, body))
        if kind != "project_summary":
            raise InvalidInput(f"Onbekend soort rapport {kind} / Unknown report kind {kind}", field="kind")
        request = _validated(SummaryRequest, body)
        return await anyio.to_thread.run_sync(publish_summary, principal, request.project_id)

    def publish_summary(principal: Principal, project_id: str) -> dict[str, Any]:
        with snapshot(runtime.engine).connect() as conn:  # one snapshot: the watermark matches the content
            check_project(conn, principal, project_id)
            params = summary_parameters(project_id)
            content = compute(conn, "project_summary", params)
            computed_from = watermark(conn, runtime.name)
        with runtime.engine.begin() as conn:
            return records.record(conn, kind="project_summary", parameters=params, watermark=computed_from,
                                  content=content, created_at=runtime.clock.now(), created_by=principal.actor.id)

    async def publish_overview(principal: Principal, request: OverviewRequest) -> JSONResponse:
        params = overview_parameters(request.model_dump(exclude={"kind", "title"}), principal)

        def prepare() -> OverviewParameters:
            with reader(runtime.engine).connect() as conn:
                check_overview_scope(conn, principal, region=params.region, project_id=params.project_id)
                previous_id, pattern = records.previous_pattern(conn, params.model_dump(mode="json"), _buckets_of)
            return params.model_copy(update={"previous_pattern": pattern, "previous_report_id": previous_id})

        full = await anyio.to_thread.run_sync(prepare)
        if full.as_known_on is not None:
            if runtime.feed is None:
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                    detail="Geen toegang tot de producenten / The producers' feeds are not available")
            try:
                built, computed_from = await as_known_on.compute(
                    runtime.feed, full.as_known_on, lambda conn: build_overview(conn, full))
            except Busy as busy:
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(busy),
                                    headers={"Retry-After": str(busy.retry_after_s)}) from None
        else:
            def now() -> tuple[Any, dict[str, int]]:
                with snapshot(runtime.engine).connect() as conn:
                    return build_overview(conn, full), watermark(conn, runtime.name)

            built, computed_from = await anyio.to_thread.run_sync(now)

        def keep() -> JSONResponse:
            with runtime.engine.begin() as conn:
                kept = records.record(conn, kind="overview", parameters=full.model_dump(mode="json"),
                                      watermark=computed_from, content=built.content, pattern=built.pattern,
                                      created_at=runtime.clock.now(), created_by=principal.actor.id,
                                      title=request.title)
            # encoded here too: a report is large, and encoding it on the event loop would hold up
            # every other request of the service meanwhile
            return JSONResponse(jsonable_encoder(kept), status_code=status.HTTP_201_CREATED)

        return await anyio.to_thread.run_sync(keep)

    @api.get("/reports", summary="Published reports the caller may see, newest first (without content)")
    def list_reports(
        principal: Caller,
        kind: Literal["project_summary", "overview"] | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        with reader(runtime.engine).connect() as conn:
            visible = [r for r in records.listing(conn, kind=kind) if may_see(conn, principal, r)]
        return {"items": visible[offset:offset + limit], "total": len(visible), "limit": limit, "offset": offset}

    @api.get("/reports/{report_id}", summary="A published report, with what it was computed from")
    def get_report(report_id: PathId, principal: Caller) -> dict[str, Any]:
        with reader(runtime.engine).connect() as conn:
            report = records.get(conn, report_id)
            if report is None:
                raise NotFound("Rapport", "Report", report_id)
            check_record(conn, principal, report)
            return report

    @api.get("/indicators", summary="The indicator catalogue: definitions, units, sources, dimensions")
    def catalogue(principal: Caller) -> dict[str, Any]:
        return indicators.as_json()

    @api.get("/vocabularies", summary="Dutch and English labels of every code used in reports")
    def vocabularies(principal: Caller) -> dict[str, dict[str, dict[str, str]]]:
        return {name: {code: label.model_dump() for code, label in codes.items()}
                for name, codes in indicators.VOCABULARIES.items()}

    return api


def _validated(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
