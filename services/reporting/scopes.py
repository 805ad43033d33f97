"""``GET /scopes``: the regions and projects a caller may read reports of, with their names.

Screens show names, not codes (``Antwerpen-Kempen``, not ``antwerpen-kempen``): the
project titles come from the projects' registration events (public programme names, no
personal data); a region's names (Dutch and English) from the fixed list of regions
(``shared.regions``), else from its code. Only
what the caller may see is listed, by the same rules as the reports themselves
(``outputs.access``), so the list itself leaks no project of another region.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shared.auth import Principal
from shared.eventstore.db import reader
from shared.events.envelope import Role
from shared.regions import region_name
from shared.service import ServiceRuntime
from services.reporting.outputs.access import EVERYWHERE, FLANDERS, may_see_project
from services.reporting.queries import project_register

class RegionOut(BaseModel):
    code: str
    name: str
    name_en: str


class ProjectOut(BaseModel):
    project_id: str
    title: str
    region: str
    region_name: str
    region_name_en: str


class Scopes(BaseModel):
    flanders: bool
    regions: list[RegionOut]
    projects: list[ProjectOut]


def router(runtime: ServiceRuntime, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["reports"])
    Caller = Annotated[Principal, Depends(principal_of)]

    @api.get("/scopes", summary="Regions and projects the caller may read reports of, with their names")
    def scopes(principal: Caller) -> Scopes:
        with reader(runtime.engine).connect() as conn:
            known = project_register(conn)
        visible = [p for p in known.values() if may_see_project(principal, p.project_id, p.region)]
        if principal.role in EVERYWHERE:
            region_codes = sorted({p.region for p in known.values()})
        elif principal.role is Role.coordinator:
            region_codes = sorted(principal.regions)
        else:
            region_codes = []
        return Scopes(
            flanders=principal.role in FLANDERS,
            regions=[RegionOut(code=c, name=region_name(c), name_en=region_name(c, "en")) for c in region_codes],
            projects=sorted((ProjectOut(project_id=p.project_id, title=p.title, region=p.region,
                                       region_name=region_name(p.region),
                                       region_name_en=region_name(p.region, "en")) for p in visible),
                            key=lambda p: p.title.casefold()),
        )

    return api
