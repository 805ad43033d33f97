"""Follow-up domain: the case log of one duo, deciding events without I/O."""

from __future__ import annotations

from datetime import date

from shared.contracts.followup import Activity, ContactLogged, ContactMode
from shared.domain import Aggregate, DomainError, InvalidInput


class DuoLog(Aggregate):
    """Everything logged about one duo. The roster entry says whether the duo runs."""

    stream_type = "duo_log"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.contacts: set[str] = set()

    def log_contact(self, *, contact_id: str, project_id: str, duo_active: bool, started_on: date,
                    contact_date: date, minutes: int, mode: ContactMode, activities: list[Activity],
                    logged_by: str, has_private_note: bool, today: date) -> list[ContactLogged]:
        if not duo_active:
            raise DomainError("Dit duo loopt niet (meer); contacten kunnen niet gelogd worden / "
                              "This duo is not running; contacts cannot be logged")
        if contact_date > today:
            raise InvalidInput("Een contact kan niet in de toekomst liggen / A contact cannot lie in the future",
                               field="contact_date")
        if contact_date < started_on:
            raise InvalidInput("Het contact ligt vóór de start van het duo / The contact lies before the duo started",
                               field="contact_date")
        if contact_id in self.contacts:
            raise DomainError(f"Contact {contact_id} is al gelogd / Contact {contact_id} is already logged",
                              code="already_exists")
        return [ContactLogged(contact_id=contact_id, duo_id=self.id, project_id=project_id, contact_date=contact_date,
                              minutes=minutes, mode=mode, activities=activities, logged_by=logged_by,
                              has_private_note=has_private_note)]

    def when_ContactLogged(self, e: ContactLogged) -> None:
        self.contacts.add(e.contact_id)
