"""Events of the follow-up service: the case log of running duos."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.contracts.common import Id, Minutes
from shared.events.registry import DomainEvent, event

SERVICE = "followup"


class ContactMode(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"
    message = "message"


class Activity(StrEnum):
    walk = "walk"
    coffee_or_chat = "coffee_or_chat"
    shopping = "shopping"
    leisure_or_culture = "leisure_or_culture"
    sport = "sport"
    accompany_food_bank = "accompany_food_bank"
    accompany_union = "accompany_union"
    accompany_school = "accompany_school"
    accompany_doctor = "accompany_doctor"
    accompany_administration = "accompany_administration"
    playground_or_children_activity = "playground_or_children_activity"
    other = "other"


@event("ContactLogged", service=SERVICE, stream_type="duo_log")
class ContactLogged(DomainEvent):
    """A contact of a duo. An optional private note is sealed beside the event."""

    contact_id: Id
    duo_id: Id
    project_id: Id
    contact_date: date
    minutes: Minutes
    mode: ContactMode
    activities: list[Activity] = Field(min_length=1)
    logged_by: str = Field(pattern="^(buddy|professional)$")
    has_private_note: bool = False
