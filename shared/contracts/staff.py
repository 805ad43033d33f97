"""Events of the staff register: who works in the system, and what they may do.

The identity provider says who someone is (the token's ``sub``); these events say what
they may do. Recruitment records them (it owns the project register they point at); every
other service learns them over the bus, as it learns projects, and derives a caller's
scope from them (``shared.access``).

No personal data on the bus: a staff member is a pseudonymous ``staff_id``; the name and
e-mail address given at the invitation are sealed beside ``StaffInvited`` in recruitment's
vault. ``subject`` is the identity provider's pseudonymous subject id, the same id every
event's actor carries already.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.contracts.common import Id, Line
from shared.events.registry import DomainEvent, event

SERVICE = "recruitment"
STREAM_TYPE = "staff"

#: The identity provider's subject (``sub``): opaque, one line, at most 100 characters (as an actor id).
Subject = Annotated[Line, StringConstraints(min_length=1, max_length=100)]


class GrantedRole(StrEnum):
    """Roles an admin grants outright; professionals and coordinators are made by their assignments."""

    government = "government"
    auditor = "auditor"
    admin = "admin"


@event("StaffInvited", service=SERVICE, stream_type=STREAM_TYPE)
class StaffInvited(DomainEvent):
    """An admin invited someone; the name and e-mail address are sealed beside this event."""

    staff_id: Id
    subject: Subject | None = Field(None, description="Identity provider subject, when already known.")


@event("StaffSubjectLinked", service=SERVICE, stream_type=STREAM_TYPE)
class StaffSubjectLinked(DomainEvent):
    """The staff member signs in with this identity provider subject from now on."""

    staff_id: Id
    subject: Subject


@event("StaffRoleGranted", service=SERVICE, stream_type=STREAM_TYPE)
class StaffRoleGranted(DomainEvent):
    staff_id: Id
    role: GrantedRole


@event("StaffRoleRevoked", service=SERVICE, stream_type=STREAM_TYPE)
class StaffRoleRevoked(DomainEvent):
    staff_id: Id
    role: GrantedRole


@event("StaffAssignedToProject", service=SERVICE, stream_type=STREAM_TYPE)
class StaffAssignedToProject(DomainEvent):
    """A professional works in this project from now on."""

    staff_id: Id
    project_id: Id


@event("StaffUnassignedFromProject", service=SERVICE, stream_type=STREAM_TYPE)
class StaffUnassignedFromProject(DomainEvent):
    staff_id: Id
    project_id: Id


@event("StaffAssignedToRegion", service=SERVICE, stream_type=STREAM_TYPE)
class StaffAssignedToRegion(DomainEvent):
    """A coordinator coordinates this region (a code of the fixed list of regions) from now on."""

    staff_id: Id
    region: str = Field(min_length=1, max_length=100, description="Region code (shared/data/regions.csv).")


@event("StaffUnassignedFromRegion", service=SERVICE, stream_type=STREAM_TYPE)
class StaffUnassignedFromRegion(DomainEvent):
    staff_id: Id
    region: str = Field(min_length=1, max_length=100)


@event("StaffRemoved", service=SERVICE, stream_type=STREAM_TYPE)
class StaffRemoved(DomainEvent):
    """The person no longer works in the system: every role and assignment ends with this."""

    staff_id: Id


STAFF_EVENTS = (StaffInvited, StaffSubjectLinked, StaffRoleGranted, StaffRoleRevoked, StaffAssignedToProject,
                StaffUnassignedFromProject, StaffAssignedToRegion, StaffUnassignedFromRegion, StaffRemoved)
