"""HTTP API of the reporting service: anonymised figures only."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from shared.auth import NO_PROJECT_ACCESS, Principal
from shared.contracts.common import Id
from shared.domain import NotFound
from shared.events.envelope import Role
from shared.eventstore.db import reader, snapshot
from shared.service import ServiceRuntime
from services.reporting import records
from services.reporting.queries import project_region, watermark
from services.reporting.reports import compute


class ReportRequest(BaseModel):
    kind: Literal["project_summary"] = "project_summary"
    project_id: Id


def _may_see_project(principal: Principal, project_id: str, region: str) -> bool:
    return (
        principal.role in (Role.admin, Role.auditor)
        or (principal.role is Role.professional and principal.can_act_in_project(project_id))
        or (principal.role is Role.coordinator and principal.can_read_region(region))
    )


def router(runtime: ServiceRuntime, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["reports"])
    Caller = Annotated[Principal, Depends(principal_of)]
    settings = runtime.settings

    def parameters(project_id: str) -> dict[str, Any]:
        return {"project_id": project_id, "threshold": settings.disclosure_threshold,
                "rounding_base": settings.rounding_base}

    def check_access(conn: Any, principal: Principal, project_id: str) -> None:
        region = project_region(conn, project_id)
        if region is None:
            raise NotFound("Project", "Project", project_id)
        if not _may_see_project(principal, project_id, region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)

    @api.get("/reports/projects/{project_id}/summary", summary="Anonymised summary of one project, as of now")
    def project_summary(project_id: str, principal: Caller) -> dict[str, Any]:
        with snapshot(runtime.engine).connect() as conn:
            check_access(conn, principal, project_id)
            content = compute(conn, "project_summary", parameters(project_id))
            return {**content, "computed_from": watermark(conn, runtime.name)}

    @api.post("/reports", status_code=status.HTTP_201_CREATED,
              summary="Publish a report: computed now, kept with its watermark and content hash")
    def publish(body: ReportRequest, principal: Caller, request: Request) -> dict[str, Any]:
        with snapshot(runtime.engine).connect() as conn:  # one snapshot: the watermark matches the content
            check_access(conn, principal, body.project_id)
            params = parameters(body.project_id)
            content = compute(conn, body.kind, params)
            computed_from = watermark(conn, runtime.name)
        with runtime.engine.begin() as conn:
            return records.record(conn, kind=body.kind, parameters=params, watermark=computed_from,
                                  content=content, created_at=runtime.clock.now(), created_by=principal.actor.id)

    @api.get("/reports/{report_id}", summary="A published report, with what it was computed from")
    def get_report(report_id: str, principal: Caller) -> dict[str, Any]:
        with reader(runtime.engine).connect() as conn:
            report = records.get(conn, report_id)
            if report is None:
                raise NotFound("Rapport", "Report", report_id)
            check_access(conn, principal, report["parameters"]["project_id"])
            return report

    return api
