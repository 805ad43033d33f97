"""Commands and queries of the staff register, in recruitment (see ``services.recruitment.staff``).

Every command: admins only; one write transaction that loads the staff member, lets the
aggregate decide, appends the events (the invitation with the name and e-mail address
sealed beside it in the vault) and folds them into this service's ``staff_access`` in the
same transaction, so recruitment itself answers by the new assignments at once; the other
services learn them from the bus. Checks that need more than one staff member or the
project register are made here: a subject signs in as one staff member only, an assigned
project exists, a region is one of the fixed list, and the last admin stays (unless a
bootstrap admin is configured).

How someone becomes able to sign in: the admin invites them by name and e-mail address and
enters the identity provider's subject (``sub``) they sign in with, at the invitation or
later. A person who signs in before that is refused with a sentence that shows their
subject, to pass on to the admin (docs/operations.md, *Staff administration*).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, EmailStr, Field
from sqlalchemy import Connection, select

from shared.access import StaffAccess, apply_staff_change, staff_rows
from shared.auth import Principal, require_role
from shared.contracts.common import Id, Line
from shared.contracts.staff import GrantedRole, Subject
from shared.domain import DomainError, InvalidInput, NotFound
from shared.events.envelope import Role
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore import NewEvent
from shared.eventstore.db import reader
from shared.eventstore.tables import events as event_log
from shared.eventstore.tables import staff_access
from shared.regions import is_region, region_name, unknown_region_message
from shared.service import ServiceRuntime
from services.recruitment.read_models import projects
from services.recruitment.staff import StaffMember

STAFF_READERS = (Role.admin, Role.auditor)


class InviteStaff(BaseModel):
    """Name and e-mail address are personal data: sealed in the vault, never on the bus or in logs."""

    name: Line = Field(min_length=1, max_length=200, description="Full name, as colleagues know them.")
    email: EmailStr = Field(description="Work e-mail address.")
    subject: Subject | None = Field(None, description=(
        "The identity provider's subject (`sub`) they sign in with, when known; else linked later."))


class LinkSubject(BaseModel):
    subject: Subject = Field(description="The identity provider's subject (`sub`) they sign in with.")


class GrantRole(BaseModel):
    role: GrantedRole


class AssignProject(BaseModel):
    project_id: Id


class AssignRegion(BaseModel):
    region: Line = Field(min_length=1, max_length=100, description="A region code of the fixed list (GET /regions).")


class StaffHandlers:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @property
    def vault(self):  # type: ignore[no-untyped-def]
        assert self.runtime.vault is not None
        return self.runtime.vault

    # -- commands ------------------------------------------------------------------------------

    def _load(self, conn: Connection, staff_id: str) -> StaffMember:
        stored = self.runtime.store.load(staff_id, conn) if staff_id else []
        if stored and stored[0].envelope.stream_type != StaffMember.stream_type:
            stored = []
        return StaffMember.replay(staff_id, [REGISTRY.decode(s.envelope.type, s.envelope.schema_version,
                                                             s.envelope.payload) for s in stored])

    def _record(self, conn: Connection, member: StaffMember, decided: list[DomainEvent], principal: Principal,
                correlation_id: uuid.UUID, sealed: bytes | None = None) -> None:
        if not decided:
            return
        now = self.runtime.clock.now()
        news = [NewEvent(e, occurred_at=now, subject_id=member.id if (sealed and i == 0) else None,
                         sealed=sealed if i == 0 else None) for i, e in enumerate(decided)]
        self.runtime.store.append(member.id, member.version, news, actor=principal.actor,
                                  correlation_id=correlation_id, conn=conn)
        for e in decided:
            member.apply(e)
            apply_staff_change(conn, e.event_type, e.model_dump(mode="json"), now)

    def _command(self, staff_id: str, principal: Principal, correlation_id: uuid.UUID, decide: Any,
                 check: Any = None) -> StaffMember:
        require_role(principal, Role.admin)
        with self.runtime.store.transaction() as conn:
            member = self._load(conn, staff_id)
            decided = decide(member)
            if decided and check is not None:
                check(conn, member)
            self._record(conn, member, decided, principal, correlation_id)
        self.runtime.recorded()
        return member

    def _subject_free(self, conn: Connection, subject: str, staff_id: str) -> None:
        taken = conn.execute(select(staff_access.c.staff_id).where(
            staff_access.c.subject == subject, staff_access.c.removed == 0,
            staff_access.c.staff_id != staff_id)).first()
        if taken is not None:
            raise DomainError(f"Met deze aanmeldings-id meldt al medewerker {taken.staff_id} zich aan / "
                              f"Staff member {taken.staff_id} already signs in with this subject",
                              code="subject_taken")

    def _admins_left(self, conn: Connection, staff_id: str) -> None:
        """Refuse to take away the last admin's role, unless a bootstrap admin can still step in."""
        if self.runtime.settings.bootstrap_admin_subjects():
            return
        others = [m for m in staff_rows(conn) if m.staff_id != staff_id and "admin" in m.roles]
        if not others:
            raise DomainError("Dit is de laatste beheerder; duid eerst een andere aan / "
                              "This is the last administrator; make someone else one first", code="last_admin")

    def invite(self, cmd: InviteStaff, principal: Principal, correlation_id: uuid.UUID) -> StaffMember:
        require_role(principal, Role.admin)
        member = StaffMember(f"s-{uuid.uuid4().hex}")
        with self.runtime.store.transaction() as conn:
            if cmd.subject:
                self._subject_free(conn, cmd.subject, member.id)
            decided = member.invite(subject=cmd.subject)
            sealed = self.vault.seal(conn, member.id, {"name": cmd.name, "email": str(cmd.email)})
            self._record(conn, member, decided, principal, correlation_id, sealed=sealed)
        self.runtime.recorded()
        return member

    def link_subject(self, staff_id: str, cmd: LinkSubject, principal: Principal,
                     correlation_id: uuid.UUID) -> StaffMember:
        return self._command(staff_id, principal, correlation_id, lambda m: m.link_subject(cmd.subject),
                             lambda conn, m: self._subject_free(conn, cmd.subject, m.id))

    def grant(self, staff_id: str, cmd: GrantRole, principal: Principal, correlation_id: uuid.UUID) -> StaffMember:
        return self._command(staff_id, principal, correlation_id, lambda m: m.grant(cmd.role))

    def revoke(self, staff_id: str, role: GrantedRole, principal: Principal, correlation_id: uuid.UUID) -> StaffMember:
        check = (lambda conn, m: self._admins_left(conn, m.id)) if role is GrantedRole.admin else None
        return self._command(staff_id, principal, correlation_id, lambda m: m.revoke(role), check)

    def assign_project(self, staff_id: str, cmd: AssignProject, principal: Principal,
                       correlation_id: uuid.UUID) -> StaffMember:
        def project_exists(conn: Connection, _: StaffMember) -> None:
            found = conn.execute(select(projects.c.project_id).where(projects.c.project_id == cmd.project_id)).first()
            if found is None:
                raise InvalidInput(f"Project {cmd.project_id} bestaat niet / Project {cmd.project_id} does not exist",
                                   field="project_id")

        return self._command(staff_id, principal, correlation_id, lambda m: m.assign_project(cmd.project_id),
                             project_exists)

    def unassign_project(self, staff_id: str, project_id: str, principal: Principal,
                         correlation_id: uuid.UUID) -> StaffMember:
        return self._command(staff_id, principal, correlation_id, lambda m: m.unassign_project(project_id))

    def assign_region(self, staff_id: str, cmd: AssignRegion, principal: Principal,
                      correlation_id: uuid.UUID) -> StaffMember:
        if not is_region(cmd.region):
            raise InvalidInput(unknown_region_message(cmd.region), field="region")
        return self._command(staff_id, principal, correlation_id, lambda m: m.assign_region(cmd.region))

    def unassign_region(self, staff_id: str, region: str, principal: Principal,
                        correlation_id: uuid.UUID) -> StaffMember:
        return self._command(staff_id, principal, correlation_id, lambda m: m.unassign_region(region))

    def remove(self, staff_id: str, principal: Principal, correlation_id: uuid.UUID) -> StaffMember:
        def keeps_an_admin(conn: Connection, m: StaffMember) -> None:
            if GrantedRole.admin.value in m.roles:
                self._admins_left(conn, m.id)

        return self._command(staff_id, principal, correlation_id, lambda m: m.remove(), keeps_an_admin)

    # -- queries -------------------------------------------------------------------------------

    def _personal(self, conn: Connection, staff_id: str) -> dict[str, Any] | None:
        stored = self.runtime.store.load(staff_id, conn)
        sealed = next((s.sealed for s in stored if s.envelope.type == "StaffInvited" and s.sealed is not None), None)
        return self.vault.open(staff_id, sealed, conn) if sealed else None

    def _out(self, conn: Connection, member: StaffAccess, titles: dict[str, str]) -> dict[str, Any]:
        personal = self._personal(conn, member.staff_id) or {}
        return {
            **member.as_dict(),
            "name": personal.get("name"), "email": personal.get("email"),
            "project_names": [{"project_id": p, "title": titles.get(p, p)} for p in sorted(member.projects)],
            "region_names": [{"code": r, "name": region_name(r), "name_en": region_name(r, "en")}
                             for r in sorted(member.regions)],
        }

    def _titles(self, conn: Connection) -> dict[str, str]:
        return {r.project_id: r.name for r in conn.execute(select(projects.c.project_id, projects.c.name))}

    def list(self, principal: Principal, *, include_removed: bool = False) -> dict[str, Any]:
        """Staff for admins (to manage) and auditors (to read histories by name), sorted by name."""
        require_role(principal, *STAFF_READERS)
        with reader(self.runtime.engine).connect() as conn:
            titles = self._titles(conn)
            items = [self._out(conn, m, titles) for m in staff_rows(conn, include_removed=include_removed)]
        items.sort(key=lambda m: ((m["name"] or "").casefold(), m["staff_id"]))
        return {"items": items, "total": len(items)}

    def get(self, staff_id: str, principal: Principal) -> dict[str, Any]:
        require_role(principal, *STAFF_READERS)
        with reader(self.runtime.engine).connect() as conn:
            row = conn.execute(select(staff_access).where(staff_access.c.staff_id == staff_id)).first()
            if row is None:
                raise NotFound("Medewerker", "Staff member", staff_id)
            return self._out(conn, StaffAccess.of_row(row), self._titles(conn))

    def history(self, staff_id: str, principal: Principal) -> dict[str, Any]:
        """Every change to the staff member, oldest first: what, when, and who did it (their staff id)."""
        require_role(principal, *STAFF_READERS)
        with reader(self.runtime.engine).connect() as conn:
            stored = self.runtime.store.load(staff_id, conn)
            if not stored or stored[0].envelope.stream_type != StaffMember.stream_type:
                raise NotFound("Medewerker", "Staff member", staff_id)
            by_subject = {m.subject: m.staff_id for m in staff_rows(conn, include_removed=True) if m.subject}
        items = []
        for s in stored:
            env = s.envelope
            change = {k: v for k, v in env.payload.items() if k != "staff_id"}
            items.append({
                "position": env.position, "type": env.type, "recorded_at": env.recorded_at.isoformat(),
                "occurred_at": env.occurred_at.isoformat(), "actor": env.actor.model_dump(mode="json"),
                "actor_staff_id": by_subject.get(env.actor.id), "change": change,
            })
        return {"staff_id": staff_id, "items": items}

    @staticmethod
    def me(principal: Principal) -> dict[str, Any]:
        return {"subject": principal.actor.id, "role": principal.role.value, "projects": sorted(principal.projects),
                "regions": sorted(principal.regions)}
