"""The staff register's aggregate: one staff member, their roles and assignments, deciding events.

Why here: the register points at projects, and recruitment owns the project register, so
an assignment is checked against the projects in the same store and transaction; every
other service learns both from recruitment's stream in the same order. A separate
identity service would add a fifth producer for a handful of events a year.

A staff member::

    (new) ──invite──▶ active ──remove──▶ removed      (nothing changes after removal)
                        │
                        ├─ link subject (the identity provider's ``sub`` they sign in with)
                        ├─ grant / revoke government, auditor, admin
                        ├─ assign / unassign a project   (a professional of that project)
                        └─ assign / unassign a region    (a coordinator of that region)

Repeating what already holds (granting a role held, assigning a project assigned, ...)
decides nothing. What someone may do follows from the roles and assignments in one fixed
order (``effective_role``): admin, auditor, government, coordinator (a region), professional
(a project); with none of them, nothing.
"""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.staff import (
    GrantedRole,
    StaffAssignedToProject,
    StaffAssignedToRegion,
    StaffInvited,
    StaffRemoved,
    StaffRoleGranted,
    StaffRoleRevoked,
    StaffSubjectLinked,
    StaffUnassignedFromProject,
    StaffUnassignedFromRegion,
)
from shared.access import effective_role
from shared.domain import Aggregate, DomainError, NotFound
from shared.events.envelope import Role
from shared.events.registry import DomainEvent


class StaffStatus(StrEnum):
    new = "new"
    active = "active"
    removed = "removed"


class StaffMember(Aggregate):
    stream_type = "staff"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = StaffStatus.new
        self.subject: str | None = None
        self.roles: set[str] = set()
        self.projects: set[str] = set()
        self.regions: set[str] = set()

    @property
    def role(self) -> Role | None:
        return effective_role(self.roles, self.projects, self.regions) if self.status is StaffStatus.active else None

    # -- commands ---------------------------------------------------------------------------

    def invite(self, *, subject: str | None) -> list[DomainEvent]:
        if self.exists:
            raise DomainError(f"Medewerker {self.id} bestaat al / Staff member {self.id} already exists",
                              code="already_exists")
        return [StaffInvited(staff_id=self.id, subject=subject)]

    def link_subject(self, subject: str) -> list[DomainEvent]:
        self._require_active()
        if subject == self.subject:
            return []
        return [StaffSubjectLinked(staff_id=self.id, subject=subject)]

    def grant(self, role: GrantedRole) -> list[DomainEvent]:
        self._require_active()
        return [] if role.value in self.roles else [StaffRoleGranted(staff_id=self.id, role=role)]

    def revoke(self, role: GrantedRole) -> list[DomainEvent]:
        self._require_active()
        return [StaffRoleRevoked(staff_id=self.id, role=role)] if role.value in self.roles else []

    def assign_project(self, project_id: str) -> list[DomainEvent]:
        self._require_active()
        return [] if project_id in self.projects else [StaffAssignedToProject(staff_id=self.id, project_id=project_id)]

    def unassign_project(self, project_id: str) -> list[DomainEvent]:
        self._require_active()
        if project_id not in self.projects:
            return []
        return [StaffUnassignedFromProject(staff_id=self.id, project_id=project_id)]

    def assign_region(self, region: str) -> list[DomainEvent]:
        self._require_active()
        return [] if region in self.regions else [StaffAssignedToRegion(staff_id=self.id, region=region)]

    def unassign_region(self, region: str) -> list[DomainEvent]:
        self._require_active()
        return [StaffUnassignedFromRegion(staff_id=self.id, region=region)] if region in self.regions else []

    def remove(self) -> list[DomainEvent]:
        self._require_active()
        return [StaffRemoved(staff_id=self.id)]

    def _require_active(self) -> None:
        if not self.exists:
            raise NotFound("Medewerker", "Staff member", self.id)
        if self.status is StaffStatus.removed:
            raise DomainError(f"Medewerker {self.id} werd verwijderd / Staff member {self.id} was removed",
                              code="staff_removed")

    # -- state ------------------------------------------------------------------------------

    def when_StaffInvited(self, e: StaffInvited) -> None:
        self.status, self.subject = StaffStatus.active, e.subject

    def when_StaffSubjectLinked(self, e: StaffSubjectLinked) -> None:
        self.subject = e.subject

    def when_StaffRoleGranted(self, e: StaffRoleGranted) -> None:
        self.roles.add(e.role.value)

    def when_StaffRoleRevoked(self, e: StaffRoleRevoked) -> None:
        self.roles.discard(e.role.value)

    def when_StaffAssignedToProject(self, e: StaffAssignedToProject) -> None:
        self.projects.add(e.project_id)

    def when_StaffUnassignedFromProject(self, e: StaffUnassignedFromProject) -> None:
        self.projects.discard(e.project_id)

    def when_StaffAssignedToRegion(self, e: StaffAssignedToRegion) -> None:
        self.regions.add(e.region)

    def when_StaffUnassignedFromRegion(self, e: StaffUnassignedFromRegion) -> None:
        self.regions.discard(e.region)

    def when_StaffRemoved(self, e: StaffRemoved) -> None:
        self.status = StaffStatus.removed
        self.roles, self.projects, self.regions = set(), set(), set()
