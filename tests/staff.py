"""The demo people's staff register for tests that call the services as the dev identities.

What a dev token may do comes from the staff register (``shared.access``), learned from
events. Tests that start a service on its own (no recruitment to record the register, no
bus to carry it) begin from the register the demo load records: ``demo_staff_envelopes``
builds those events (``shared.demo.DEMO_STAFF``: invitation, roles, projects, regions) as
recruitment would publish them, and ``give_demo_staff`` applies them to a service's
database with ``shared.access.apply_staff_event``, exactly as its subscriber does.

The staff register's own tests record it through the API instead (``tests/integration/
test_staff_register.py``, ``tests/e2e/test_web_staff.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from shared.access import apply_staff_event
from shared.contracts.staff import (
    GrantedRole,
    StaffAssignedToProject,
    StaffAssignedToRegion,
    StaffInvited,
    StaffRoleGranted,
)
from shared.demo import DEMO_STAFF
from shared.events.envelope import Actor, Envelope, Role
from shared.events.registry import DomainEvent

BOOTSTRAP = Actor(id="dev-admin", role=Role.admin)


StaffRows = Sequence[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]


def demo_staff_envelopes(at: datetime | None = None, staff: StaffRows | None = None) -> list[Envelope]:
    """The demo staff register (or ``staff``, in the shape of ``DEMO_STAFF``) as recruitment's
    events (positions 1..n of an imagined log)."""
    at = at or datetime(2024, 1, 1, tzinfo=UTC)
    out: list[Envelope] = []
    for subject, _name, _email, roles, projects, regions in (DEMO_STAFF if staff is None else staff):
        staff_id = f"s-{subject}"
        decided: list[DomainEvent] = [StaffInvited(staff_id=staff_id, subject=subject)]
        decided += [StaffRoleGranted(staff_id=staff_id, role=GrantedRole(r)) for r in roles]
        decided += [StaffAssignedToProject(staff_id=staff_id, project_id=p) for p in projects]
        decided += [StaffAssignedToRegion(staff_id=staff_id, region=r) for r in regions]
        for version, event in enumerate(decided, start=1):
            out.append(Envelope(
                event_id=uuid.uuid4(), type=event.event_type, schema_version=event.schema_version,
                service="recruitment", stream_type="staff", stream_id=staff_id, version=version,
                position=len(out) + 1, occurred_at=at, recorded_at=at, actor=BOOTSTRAP,
                correlation_id=uuid.uuid4(), payload=event.model_dump(mode="json")))
    return out


def give_demo_staff(engine: Engine, staff: StaffRows | None = None) -> None:
    """Apply the demo staff register (or ``staff``) to the service database behind ``engine`` (migrated)."""
    with engine.begin() as conn:
        for env in demo_staff_envelopes(staff=staff):
            apply_staff_event(conn, env)
