"""HTTP API of the reporting service: anonymised figures only."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status

from shared.auth import NO_PROJECT_ACCESS, Principal
from shared.domain import NotFound
from shared.events.envelope import Role
from shared.eventstore.db import reader
from shared.service import ServiceRuntime
from services.reporting.disclosure import protect
from services.reporting.queries import INDICATORS, project_counts, project_region, watermark


def router(runtime: ServiceRuntime, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["reports"])
    Caller = Annotated[Principal, Depends(principal_of)]
    settings = runtime.settings

    @api.get("/reports/projects/{project_id}/summary", summary="Anonymised summary of one project")
    def project_summary(project_id: str, principal: Caller) -> dict[str, Any]:
        with reader(runtime.engine).connect() as conn:
            region = project_region(conn, project_id)
            if region is None:
                raise NotFound("Project", "Project", project_id)
            allowed = (
                principal.role in (Role.admin, Role.auditor)
                or (principal.role is Role.professional and principal.can_act_in_project(project_id))
                or (principal.role is Role.coordinator and principal.can_read_region(region))
            )
            if not allowed:
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)
            counts = project_counts(conn, project_id)
            computed_from = watermark(conn, runtime.name)
        return {
            "project_id": project_id,
            "region": region,
            "computed_from": computed_from,
            "disclosure": {"threshold": settings.disclosure_threshold, "rounding_base": settings.rounding_base},
            "figures": {
                name: {"label": INDICATORS[name],
                       **protect(value, threshold=settings.disclosure_threshold, base=settings.rounding_base).model_dump()}
                for name, value in counts.items()
            },
        }

    return api
