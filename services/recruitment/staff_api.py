"""HTTP API of the staff register (``/staff``) and the fixed list of regions (``/regions``).

Admins invite, link, grant, assign and remove; admins and auditors read the register and
every staff member's history; anyone signed in reads their own role and scope
(``/staff/me``) and the regions. Every command takes an ``Idempotency-Key``.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status

from shared.auth import Principal
from shared.contracts.staff import GrantedRole
from shared.domain import NotFound
from shared.parameters import PathId
from shared.regions import regions
from shared.service import correlation_of
from services.recruitment.staff import StaffMember
from services.recruitment.staff_handlers import (
    AssignProject,
    AssignRegion,
    GrantRole,
    InviteStaff,
    LinkSubject,
    StaffHandlers,
)


def _member(member: StaffMember) -> dict[str, Any]:
    return {"staff_id": member.id, "status": member.status, "version": member.version,
            "role": member.role.value if member.role else None}


def router(handlers: StaffHandlers, principal_of: Any) -> APIRouter:
    api = APIRouter(tags=["staff"])
    Caller = Annotated[Principal, Depends(principal_of)]

    @api.get("/regions", summary="The fixed list of regions (learning networks), with Dutch and English names")
    def list_regions(principal: Caller) -> dict[str, Any]:
        return {"items": [{"code": r.code, "name": r.name_nl, "name_en": r.name_en} for r in regions().values()]}

    @api.get("/staff/me", summary="The caller's own role, projects and regions, as the staff register gives them")
    def me(principal: Caller) -> dict[str, Any]:
        return handlers.me(principal)

    @api.get("/staff", summary="Staff members with name, e-mail, roles, projects and regions (admins, auditors)")
    def list_staff(principal: Caller, removed: Annotated[bool, Query(
            description="Also staff members who were removed.")] = False) -> dict[str, Any]:
        return handlers.list(principal, include_removed=removed)

    @api.post("/staff", status_code=status.HTTP_201_CREATED,
              summary="Invite a staff member (admin): name and e-mail sealed in the vault, the sign-in subject if known")
    def invite(body: InviteStaff, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.invite(body, principal, correlation_of(request)))

    @api.get("/staff/{staff_id}", summary="One staff member (admins, auditors)")
    def get_staff(staff_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.get(staff_id, principal)

    @api.get("/staff/{staff_id}/history",
             summary="Every change to a staff member's roles and assignments: what, when, by whom (admins, auditors)")
    def history(staff_id: PathId, principal: Caller) -> dict[str, Any]:
        return handlers.history(staff_id, principal)

    @api.put("/staff/{staff_id}/subject",
             summary="Link the identity provider subject (`sub`) the staff member signs in with (admin)")
    def link(staff_id: PathId, body: LinkSubject, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.link_subject(staff_id, body, principal, correlation_of(request)))

    @api.post("/staff/{staff_id}/roles", summary="Grant the government, auditor or admin role (admin)")
    def grant(staff_id: PathId, body: GrantRole, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.grant(staff_id, body, principal, correlation_of(request)))

    @api.delete("/staff/{staff_id}/roles/{role}", summary="Revoke a role (admin); the last admin keeps theirs")
    def revoke(staff_id: PathId, role: Annotated[str, Path(description="government, auditor or admin")],
               principal: Caller, request: Request) -> dict[str, Any]:
        if role not in GrantedRole.__members__:
            raise NotFound("Rol", "Role", role)
        return _member(handlers.revoke(staff_id, GrantedRole(role), principal, correlation_of(request)))

    @api.post("/staff/{staff_id}/projects", summary="Assign a professional to a project (admin)")
    def assign_project(staff_id: PathId, body: AssignProject, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.assign_project(staff_id, body, principal, correlation_of(request)))

    @api.delete("/staff/{staff_id}/projects/{project_id}", summary="End a project assignment (admin)")
    def unassign_project(staff_id: PathId, project_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.unassign_project(staff_id, project_id, principal, correlation_of(request)))

    @api.post("/staff/{staff_id}/regions", summary="Assign a coordinator to a region of the fixed list (admin)")
    def assign_region(staff_id: PathId, body: AssignRegion, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.assign_region(staff_id, body, principal, correlation_of(request)))

    @api.delete("/staff/{staff_id}/regions/{region}", summary="End a region assignment (admin)")
    def unassign_region(staff_id: PathId, region: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.unassign_region(staff_id, region, principal, correlation_of(request)))

    @api.post("/staff/{staff_id}/removal", summary="Remove a staff member (admin): every role and assignment ends")
    def remove(staff_id: PathId, principal: Caller, request: Request) -> dict[str, Any]:
        return _member(handlers.remove(staff_id, principal, correlation_of(request)))

    return api
