"""Who may see which report: the rules of GET /reports/{report_id}, for every scope.

* a project's report: admins and auditors, professionals of that project, coordinators
  of the project's region (``services.reporting.api._may_see_project``, replicated);
* a region's report: admins and auditors, coordinators of that region;
* all of Flanders (the government's view): admins, auditors and the government.

An unknown project or region is 404, as in ``services.reporting.api.check_overview_scope``.

Anonymised figures only, always; these rules decide whose figures.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Connection

from shared.auth import NO_PROJECT_ACCESS, Principal
from shared.domain import NotFound
from shared.events.envelope import Role
from services.reporting.queries import project_region, regions
from services.reporting.sdc.policy import Audience

NO_REGION_ACCESS = "Geen toegang tot deze regio / No access to this region"
NO_FLANDERS_ACCESS = ("Geen toegang tot de cijfers van heel Vlaanderen / "
                      "No access to the figures of all of Flanders")
EVERYWHERE = (Role.admin, Role.auditor)
#: Who may read the figures of all of Flanders: besides those who see everything, the government,
#: which sees no project's or region's report of its own (only the regions as rows of Flanders').
FLANDERS = (*EVERYWHERE, Role.government)
OTHER_AUDIENCE = ("Geen toegang: dit rapport is gemaakt en beschermd voor een ander publiek / "
                  "No access: this report was made and protected for another audience")


def may_see_project(principal: Principal, project_id: str, region: str) -> bool:
    return (
        principal.role in EVERYWHERE
        or (principal.role is Role.professional and principal.can_act_in_project(project_id))
        or (principal.role is Role.coordinator and principal.can_read_region(region))
    )


def check_scope(conn: Connection, principal: Principal, *, project_id: str | None, region: str | None) -> None:
    """Raise 404 for an unknown project, 403 when the principal may not see the scope."""
    if project_id:
        region_of_project = project_region(conn, project_id)
        if region_of_project is None:
            raise NotFound("Project", "Project", project_id)
        if not may_see_project(principal, project_id, region_of_project):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_PROJECT_ACCESS)
        if region and region != region_of_project and not principal.can_read_region(region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_REGION_ACCESS)
        return
    if region:
        if region not in regions(conn):
            raise NotFound("Regio", "Region", region)
        if not principal.can_read_region(region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_REGION_ACCESS)
        return
    if principal.role not in FLANDERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_FLANDERS_ACCESS)


def record_scope(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(project_id, region) a published report is about, from its parameters and its content."""
    parameters = record.get("parameters") or {}
    content = record.get("content") if isinstance(record.get("content"), dict) else {}
    scope = content.get("scope") if isinstance(content.get("scope"), dict) else {}
    project_id = parameters.get("project_id") or scope.get("project_id") or scope.get("project")
    region = parameters.get("region") or scope.get("region")
    if project_id is None and region is None and "region" in content and "project_id" in content:
        project_id = content.get("project_id")  # the project summary's own shape
    return (str(project_id) if project_id else None), (str(region) if region else None)


def reader_audience(principal: Principal) -> Audience:
    """The audience whose protection a caller's figures get, from who they are, not from what they ask.

    The government, and admins and auditors, read as the government; coordinators as
    coordinators (also when they open a project of their region: its figures in the protected
    form of the region report); everyone else as project staff (of their own projects only; the
    scope checks see to that).
    """
    if principal.role in FLANDERS:
        return Audience.government
    if principal.role is Role.coordinator:
        return Audience.coordinator
    return Audience.project


def check_record(conn: Connection, principal: Principal, record: dict[str, Any]) -> None:
    project_id, region = record_scope(record)
    check_scope(conn, principal, project_id=project_id, region=region)
    if record.get("kind") == "overview":
        check_audience(principal, record["parameters"].get("audience"), project_id)


def check_audience(principal: Principal, audience: Any, project_id: str | None) -> None:
    """A published overview keeps the protection of the audience it was made for: a project's
    exact figures stay with its staff, a region's breakdowns with its coordinators. The project's
    own staff are the exception: they know its exact figures, so no protection of them tells
    them anything new (the scope check, run first, keeps them to their own projects)."""
    mine = reader_audience(principal)
    if audience != mine and not (mine is Audience.project and project_id is not None):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=OTHER_AUDIENCE)
