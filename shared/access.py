"""Who may do what: a caller's role and scope from the staff register, the same in every service.

The identity provider (or a dev token) says who is calling: a subject id. What they may do
comes from the staff register's events (``shared.contracts.staff``), recorded by
recruitment and learned by every other service over the bus, as projects are:

* ``apply_staff_event`` folds one event into the ``staff_access`` table (one row per staff
  member). Recruitment calls it in the command's transaction; matching, follow-up and
  reporting from their subscribers (``shared.access.on_event`` first, then their own).
  Every step *sets* state, so replaying the history rebuilds the same table.
* ``AccessRegister`` turns an authenticated identity into the ``Principal`` the services
  check: the role by ``effective_role`` (admin, auditor, government, else coordinator of
  the regions assigned, else professional of the projects assigned), the projects and
  regions from the assignments. Token claims of scope are never used. A subject that is no
  (longer a) staff member gets ``NoAccess`` (HTTP 403 with a sentence that names their
  subject, for the admin who links them); buddies are not staff: an identity the token
  calls a buddy keeps that role, with no project or region (their scope is their own duos).
* Bootstrap admins: subjects in ``BUDDY_BOOTSTRAP_ADMINS`` (and, where dev tokens are
  accepted, ``dev-admin``) are admins without any event, so that a new installation has
  someone to record the first staff members with.

A change reaches the answers within ``ttl_s`` (one second): a resolved principal is kept
that long; a change applied through this process's engine forgets them at its commit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, select

from shared.eventstore.db import reader
from shared.eventstore.rows import put
from shared.eventstore.store import format_time
from shared.eventstore.tables import staff_access
from shared.events.envelope import Actor, Envelope, Role

__all__ = [
    "AccessRegister",
    "NoAccess",
    "STAFF_EVENT_TYPES",
    "StaffAccess",
    "apply_staff_change",
    "apply_staff_event",
    "effective_role",
    "on_event",
    "staff_rows",
]

STAFF_EVENT_TYPES = frozenset({
    "StaffInvited", "StaffSubjectLinked", "StaffRoleGranted", "StaffRoleRevoked", "StaffAssignedToProject",
    "StaffUnassignedFromProject", "StaffAssignedToRegion", "StaffUnassignedFromRegion", "StaffRemoved",
})
_CHANGED = "staff_access_changed"


def no_access_message(subject: str) -> str:
    return (f"U bent (nog) niet als medewerker gekend; geef uw aanmeldings-id {subject!r} aan een beheerder / "
            f"You are not (yet) known as staff; give your sign-in id {subject!r} to an administrator")


class NoAccess(Exception):
    """The subject is signed in but has no role in the staff register (HTTP 403)."""

    def __init__(self, subject: str) -> None:
        super().__init__(no_access_message(subject))
        self.subject = subject


def effective_role(roles: Iterable[str], projects: Iterable[str], regions: Iterable[str]) -> Role | None:
    """The one role a staff member acts in: the widest grant, else coordinator, else professional, else none."""
    granted = set(roles)
    for role in (Role.admin, Role.auditor, Role.government):
        if role.value in granted:
            return role
    if any(True for _ in regions):
        return Role.coordinator
    if any(True for _ in projects):
        return Role.professional
    return None


class StaffAccess:
    """One row of ``staff_access``: a staff member as every service knows them."""

    __slots__ = ("staff_id", "subject", "roles", "projects", "regions", "removed")

    def __init__(self, staff_id: str, subject: str | None = None, roles: Iterable[str] = (),
                 projects: Iterable[str] = (), regions: Iterable[str] = (), removed: bool = False) -> None:
        self.staff_id, self.subject, self.removed = staff_id, subject, removed
        self.roles, self.projects, self.regions = set(roles), set(projects), set(regions)

    @property
    def role(self) -> Role | None:
        return None if self.removed else effective_role(self.roles, self.projects, self.regions)

    @classmethod
    def of_row(cls, row: Any) -> "StaffAccess":
        return cls(row.staff_id, row.subject, json.loads(row.roles), json.loads(row.projects),
                   json.loads(row.regions), bool(row.removed))

    def as_dict(self) -> dict[str, Any]:
        return {"staff_id": self.staff_id, "subject": self.subject, "roles": sorted(self.roles),
                "projects": sorted(self.projects), "regions": sorted(self.regions), "removed": self.removed,
                "role": self.role.value if self.role else None}


def staff_rows(conn: Connection, *, include_removed: bool = False) -> list[StaffAccess]:
    query = select(staff_access).order_by(staff_access.c.staff_id)
    if not include_removed:
        query = query.where(staff_access.c.removed == 0)
    return [StaffAccess.of_row(r) for r in conn.execute(query)]


def _load(conn: Connection, staff_id: str) -> StaffAccess | None:
    row = conn.execute(select(staff_access).where(staff_access.c.staff_id == staff_id)).first()
    return StaffAccess.of_row(row) if row is not None else None


def apply_staff_event(conn: Connection, env: Envelope) -> bool:
    """Fold one staff-register event into ``staff_access``; False for any other event."""
    return apply_staff_change(conn, env.type, env.payload, env.recorded_at)


def apply_staff_change(conn: Connection, event_type: str, payload: dict[str, Any], at: datetime) -> bool:
    """``apply_staff_event`` from the parts: for the service that records the event in this transaction."""
    if event_type not in STAFF_EVENT_TYPES:
        return False
    staff_id = str(payload["staff_id"])
    member = _load(conn, staff_id) or StaffAccess(staff_id)
    match event_type:
        case "StaffInvited":
            member = StaffAccess(staff_id, payload.get("subject"))
        case "StaffSubjectLinked":
            member.subject = payload["subject"]
        case "StaffRoleGranted":
            member.roles.add(payload["role"])
        case "StaffRoleRevoked":
            member.roles.discard(payload["role"])
        case "StaffAssignedToProject":
            member.projects.add(payload["project_id"])
        case "StaffUnassignedFromProject":
            member.projects.discard(payload["project_id"])
        case "StaffAssignedToRegion":
            member.regions.add(payload["region"])
        case "StaffUnassignedFromRegion":
            member.regions.discard(payload["region"])
        case "StaffRemoved":
            member.removed = True
            member.roles, member.projects, member.regions = set(), set(), set()
    put(conn, staff_access, staff_id=staff_id, subject=member.subject, roles=json.dumps(sorted(member.roles)),
        projects=json.dumps(sorted(member.projects)), regions=json.dumps(sorted(member.regions)),
        removed=int(member.removed), changed_at=format_time(at))
    info = getattr(conn, "info", None)
    if isinstance(info, dict):
        info[_CHANGED] = True  # the register forgets what it resolved once this commits
    return True


def on_event(conn: Connection, env: Envelope) -> bool:
    """For a subscriber: apply the event if it is the staff register's; True when it was."""
    return apply_staff_event(conn, env)


class AccessRegister:
    """Resolves an authenticated identity to the ``Principal`` the staff register gives it."""

    def __init__(self, engine: Engine, *, bootstrap_admins: Iterable[str] = (), ttl_s: float = 1.0,
                 size: int = 4096) -> None:
        self.engine = engine
        self.bootstrap_admins = frozenset(bootstrap_admins)
        self.ttl_s, self.size = ttl_s, size
        # (subject, the token's role) -> (Principal or NoAccess, valid until)
        self._resolved: dict[tuple[str, Role], tuple[Any, float]] = {}
        self._lock = threading.Lock()
        event.listen(engine, "commit", self._committed)

    def _committed(self, conn: Connection) -> None:
        if conn.info.pop(_CHANGED, False):
            self.forget()

    def forget(self) -> None:
        with self._lock:
            self._resolved.clear()

    def _member(self, subject: str) -> StaffAccess | None:
        with reader(self.engine).connect() as conn:
            rows = conn.execute(select(staff_access).where(staff_access.c.subject == subject,
                                                           staff_access.c.removed == 0)).all()
        if not rows:
            return None
        if len(rows) > 1:  # recruitment refuses a second link; history from before that keeps the first
            rows.sort(key=lambda r: r.changed_at)
        return StaffAccess.of_row(rows[0])

    def _principal(self, identity: Any, member: StaffAccess | None) -> Any:
        from shared.auth import Principal  # shared.auth imports this module

        subject = identity.actor.id
        if subject in self.bootstrap_admins:
            return Principal(actor=Actor(id=subject, role=Role.admin))
        role = member.role if member is not None else None
        if role is None:
            if identity.role is Role.buddy:  # buddies are not staff: their own duos are their scope
                return Principal(actor=Actor(id=subject, role=Role.buddy))
            raise NoAccess(subject)
        assert member is not None
        return Principal(actor=Actor(id=subject, role=role), projects=frozenset(member.projects),
                         regions=frozenset(member.regions))

    def cached(self, identity: Any) -> Any:
        """The principal resolved a moment ago, without I/O; None when it must be looked up."""
        entry = self._resolved.get((identity.actor.id, identity.role))
        if entry is None or time.monotonic() >= entry[1] or isinstance(entry[0], NoAccess):
            return None
        return entry[0]

    def resolve(self, identity: Any) -> Any:
        """The identity's principal from the register (may read the database); ``NoAccess`` without a role."""
        key = (identity.actor.id, identity.role)
        entry = self._resolved.get(key)
        if entry is None or time.monotonic() >= entry[1]:
            subject = identity.actor.id
            member = None if subject in self.bootstrap_admins else self._member(subject)
            try:
                outcome: Any = self._principal(identity, member)
            except NoAccess as refused:
                outcome = refused
            with self._lock:
                while len(self._resolved) >= self.size:
                    self._resolved.pop(next(iter(self._resolved)))
                self._resolved[key] = (outcome, time.monotonic() + self.ttl_s)
            entry = (outcome, 0.0)
        if isinstance(entry[0], NoAccess):
            raise NoAccess(identity.actor.id)
        return entry[0]
