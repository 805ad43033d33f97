"""The staff pages ("Medewerkers / Staff"): the staff register for admins, its history for auditors.

Everything comes from recruitment's staff API with the signed-in person's token, so the
pages show and do no more than it allows: admins list, invite, link the sign-in id,
assign and unassign projects and regions, grant and revoke roles, and remove; auditors
read the register and each member's history. Projects and regions by name, never by
code; roles and history entries in the reader's language. Every form carries the CSRF
token and an Idempotency-Key drawn with it; a refusal of what was typed is shown next to
the field it is about, in the reader's language.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backend import ServiceError
from services.web.commands import command_key, new_command_key
from services.web.i18n import N_

#: Labels of the roles a staff member acts in, and of the roles an admin grants.
GRANTED = {"government": N_("Government"), "auditor": N_("Auditor"), "admin": N_("Administrator")}
#: What each event of the register says, in the history.
HISTORY = {
    "StaffInvited": N_("Invited"),
    "StaffSubjectLinked": N_("Sign-in id linked"),
    "StaffRoleGranted": N_("Role granted"),
    "StaffRoleRevoked": N_("Role revoked"),
    "StaffAssignedToProject": N_("Assigned to a project"),
    "StaffUnassignedFromProject": N_("No longer in a project"),
    "StaffAssignedToRegion": N_("Assigned to a region"),
    "StaffUnassignedFromRegion": N_("No longer in a region"),
    "StaffRemoved": N_("Removed"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STAFF_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _half(text: str, lang: str) -> str:
    """The services answer "Nederlands / English": the reader's half."""
    if " / " in text:
        nl, _sep, en = text.partition(" / ")
        return nl if lang == "nl" else en
    return text


def staff_router(web: Any) -> APIRouter:
    api = APIRouter(include_in_schema=False)
    services = web.services

    def token(ctx: Any) -> str:
        return ctx.session.token

    async def reference(ctx: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Projects (by title) and regions (by name) to choose from."""
        projects = await services.get("recruitment", "/projects", token(ctx), limit=500)
        regions = await services.get("recruitment", "/regions", token(ctx))
        return (sorted(projects["items"], key=lambda p: p["name"].casefold()), regions["items"])

    def region_label(region: dict[str, Any], lang: str) -> str:
        return region.get("name_en" if lang == "en" else "name") or region.get("code", "")

    async def list_page(ctx: Any, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                        status: int = 200) -> Response:
        staff = await services.get("recruitment", "/staff", token(ctx))
        return web.render(ctx, "staff.html", status=status, staff=staff["items"], is_admin=ctx.session.role == "admin",
                          errors=errors or {}, values=values or {}, new_key=new_command_key,
                          granted=GRANTED, region_label=region_label)

    async def member_page(ctx: Any, staff_id: str, *, errors: dict[str, str] | None = None,
                          done: str | None = None, status: int = 200) -> Response:
        if not _STAFF_ID.fullmatch(staff_id):
            raise ServiceError(404)
        member = await services.get("recruitment", f"/staff/{staff_id}", token(ctx))
        history = await services.get("recruitment", f"/staff/{staff_id}/history", token(ctx))
        everyone = await services.get("recruitment", "/staff", token(ctx), removed="true")
        names = {m["staff_id"]: m["name"] for m in everyone["items"]}
        is_admin = ctx.session.role == "admin"
        projects, regions = await reference(ctx) if is_admin else ([], [])
        titles = {p["project_id"]: p["name"] for p in projects}
        titles.update({p["project_id"]: p["title"] for p in member["project_names"]})
        region_names = {r["code"]: region_label(r, ctx.lang) for r in regions}
        region_names.update({r["code"]: region_label(r, ctx.lang) for r in member["region_names"]})
        entries = [history_entry(item, ctx, names, titles, region_names) for item in reversed(history["items"])]
        return web.render(
            ctx, "staff_member.html", status=status, member=member, entries=entries, is_admin=is_admin,
            projects=[p for p in projects if p["project_id"] not in member["projects"]],
            regions=[r for r in regions if r["code"] not in member["regions"]],
            grantable=[r for r in GRANTED if r not in member["roles"]], granted=GRANTED,
            region_label=region_label, errors=errors or {}, done=DONE.get(done or ""), new_key=new_command_key)

    def history_entry(item: dict[str, Any], ctx: Any, names: dict[str, str], titles: dict[str, str],
                      region_names: dict[str, str]) -> dict[str, Any]:
        _ = ctx._
        change = item.get("change", {})
        what = ""
        if "role" in change:
            what = _(GRANTED.get(change["role"], change["role"]))
        elif "project_id" in change:
            what = titles.get(change["project_id"], change["project_id"])
        elif "region" in change:
            what = region_names.get(change["region"], change["region"])
        elif change.get("subject"):
            what = change["subject"]
        actor = item.get("actor", {})
        by = names.get(item.get("actor_staff_id") or "") or web.provider.person(actor.get("id", ""))
        by_name = by if isinstance(by, str) else (by.name if by is not None else actor.get("id", ""))
        return {"when": item["recorded_at"], "label": _(HISTORY.get(item["type"], item["type"])), "what": what,
                "by": by_name}

    def field_errors(exc: ServiceError, ctx: Any, fields: dict[str, str]) -> dict[str, str]:
        """The service's refusal next to the field it names (else under ``general``), in the reader's language."""
        out: dict[str, str] = {}
        for f in exc.fields:
            name = str(f.get("field", "")).split(".")[-1]
            target = fields.get(name, "general")
            out.setdefault(target, _half(str(f.get("message", "")), ctx.lang))
        if not out:
            message = {409: N_("This conflicts with the register as it is now."),
                       422: N_("Some of what was asked is not valid.")}.get(exc.status)
            out["general"] = " ".join(x for x in (ctx._(message) if message else "", _half(exc.detail, ctx.lang)) if x)
        return out

    # ------------------------------------------------------------------ pages
    @api.get("/staff", response_class=HTMLResponse)
    async def staff(request: Request) -> Response:
        ctx = await web.signed_in(request)
        return await list_page(ctx)

    @api.post("/staff")
    async def invite(request: Request) -> Response:
        ctx = await web.signed_in(request)
        form = await web.checked_form(ctx)
        values = {k: " ".join(form.get(k, "").split()) for k in ("name", "email", "subject")}
        errors: dict[str, str] = {}
        if not values["name"]:
            errors["name"] = ctx._("Give the person's name.")
        elif len(values["name"]) > 200:
            errors["name"] = ctx._("A name has at most 200 characters.")
        if not _EMAIL.fullmatch(values["email"]):
            errors["email"] = ctx._("Give an e-mail address such as name@organisation.be.")
        if len(values["subject"]) > 100:
            errors["subject"] = ctx._("A sign-in id has at most 100 characters.")
        if errors:
            return await list_page(ctx, errors=errors, values=values, status=422)
        body = {"name": values["name"], "email": values["email"]}
        if values["subject"]:
            body["subject"] = values["subject"]
        try:
            created = await services.post("recruitment", "/staff", token(ctx), body, idempotency_key=command_key(form))
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            errors = field_errors(exc, ctx, {"name": "name", "email": "email", "subject": "subject"})
            if exc.status == 409 and "general" in errors:
                errors["subject"] = errors.pop("general")
            return await list_page(ctx, errors=errors, values=values, status=exc.status)
        return RedirectResponse(f"/staff/{created['staff_id']}?done=invited", status_code=303)

    @api.get("/staff/{staff_id}", response_class=HTMLResponse)
    async def member(request: Request, staff_id: str) -> Response:
        ctx = await web.signed_in(request)
        done = request.query_params.get("done")
        return await member_page(ctx, staff_id, done=done if done in DONE else None)

    async def command(request: Request, staff_id: str, method: str, path: str, body: Any, field: str,
                      done: str) -> Response:
        ctx = await web.signed_in(request)
        form = await web.checked_form(ctx)
        if not _STAFF_ID.fullmatch(staff_id):
            raise ServiceError(404)
        try:
            await services.call(method, "recruitment", f"/staff/{staff_id}{path}", token(ctx),
                                json=body(form) if callable(body) else body, idempotency_key=command_key(form))
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            errors = field_errors(exc, ctx, {"project_id": "project_id", "region": "region", "role": "role",
                                             "subject": "subject"})
            if "general" in errors and field != "general":
                errors[field] = errors.pop("general")
            return await member_page(ctx, staff_id, errors=errors, status=exc.status)
        return RedirectResponse(f"/staff/{staff_id}?done={done}", status_code=303)

    def picked(name: str) -> Any:
        def body(form: dict[str, str]) -> dict[str, str]:
            return {name: form.get(name, "")}
        return body

    @api.post("/staff/{staff_id}/projects")
    async def assign_project(request: Request, staff_id: str) -> Response:
        return await command(request, staff_id, "POST", "/projects", picked("project_id"), "project_id", "assigned")

    @api.post("/staff/{staff_id}/regions")
    async def assign_region(request: Request, staff_id: str) -> Response:
        return await command(request, staff_id, "POST", "/regions", picked("region"), "region", "assigned")

    @api.post("/staff/{staff_id}/roles")
    async def grant(request: Request, staff_id: str) -> Response:
        return await command(request, staff_id, "POST", "/roles", picked("role"), "role", "granted")

    @api.post("/staff/{staff_id}/subject")
    async def link(request: Request, staff_id: str) -> Response:
        def body(form: dict[str, str]) -> dict[str, str]:
            return {"subject": form.get("subject", "").strip()}
        return await command(request, staff_id, "PUT", "/subject", body, "subject", "linked")

    @api.post("/staff/{staff_id}/projects/{project_id}/end")
    async def unassign_project(request: Request, staff_id: str, project_id: str) -> Response:
        if not _STAFF_ID.fullmatch(project_id):
            raise ServiceError(404)
        return await command(request, staff_id, "DELETE", f"/projects/{project_id}", None, "general", "ended")

    @api.post("/staff/{staff_id}/regions/{region}/end")
    async def unassign_region(request: Request, staff_id: str, region: str) -> Response:
        if not _STAFF_ID.fullmatch(region):
            raise ServiceError(404)
        return await command(request, staff_id, "DELETE", f"/regions/{region}", None, "general", "ended")

    @api.post("/staff/{staff_id}/roles/{role}/revoke")
    async def revoke(request: Request, staff_id: str, role: str) -> Response:
        if role not in GRANTED:
            raise ServiceError(404)
        return await command(request, staff_id, "DELETE", f"/roles/{role}", None, "general", "revoked")

    @api.post("/staff/{staff_id}/removal")
    async def remove(request: Request, staff_id: str) -> Response:
        return await command(request, staff_id, "POST", "/removal", None, "general", "removed")

    return api


#: The confirmation shown after a command, by the ``done`` the redirect names.
DONE = {
    "invited": N_("The invitation is recorded. Link the sign-in id once the person has one."),
    "assigned": N_("The assignment is recorded."),
    "granted": N_("The role is granted."),
    "linked": N_("The sign-in id is linked: the person can sign in."),
    "ended": N_("The assignment has ended."),
    "revoked": N_("The role is revoked."),
    "removed": N_("The staff member is removed: every role and assignment has ended."),
}
