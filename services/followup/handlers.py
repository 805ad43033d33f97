"""Command handlers of follow-up: logging contacts of a running duo."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import select

from shared.auth import Principal, require_project, require_role
from shared.contracts.common import Minutes
from shared.contracts.followup import Activity, ContactMode
from shared.domain import NotFound, Repository
from shared.events.envelope import Role
from shared.eventstore import NewEvent
from shared.service import ServiceRuntime
from services.followup.domain import DuoLog
from services.followup.read_models import roster


class LogContact(BaseModel):
    contact_date: date
    minutes: Minutes
    mode: ContactMode
    activities: list[Activity] = Field(min_length=1)
    note: str | None = Field(None, max_length=5000, description="Private note, kept encrypted; never reported.")


class FollowupHandlers:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.logs = Repository(runtime.store, DuoLog)

    def log_contact(self, duo_id: str, cmd: LogContact, principal: Principal, correlation_id: uuid.UUID) -> str:
        require_role(principal, Role.professional, Role.buddy, Role.admin)
        contact_id = f"c-{uuid.uuid4().hex}"
        with self.runtime.store.transaction() as conn:
            duo = conn.execute(select(roster).where(roster.c.duo_id == duo_id)).mappings().first()
            if duo is None:
                raise NotFound("Duo", "Duo", duo_id)
            require_project(principal, duo["project_id"])
            log = self.logs.get(duo_id, conn)
            events = log.log_contact(
                contact_id=contact_id, project_id=duo["project_id"], duo_active=duo["status"] == "active",
                started_on=date.fromisoformat(duo["started_on"]), contact_date=cmd.contact_date, minutes=cmd.minutes,
                mode=cmd.mode, activities=cmd.activities, logged_by="buddy" if principal.role is Role.buddy else "professional",
                has_private_note=bool(cmd.note), today=self.runtime.clock.today(),
            )
            sealed = None
            if cmd.note:  # the note is about the participant: erasing them shreds it
                sealed = self.runtime.vault.seal(conn, duo["participant_id"], {"note": cmd.note})
            self.logs.save(log, [NewEvent(events[0], project_id=duo["project_id"],
                                          subject_id=duo["participant_id"] if sealed else None, sealed=sealed)],
                           actor=principal.actor, correlation_id=correlation_id, conn=conn)
        self.runtime.recorded()
        return contact_id
