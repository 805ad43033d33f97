"""Who may work with minors: the legal items a volunteer needs for a child, youth or family.

In Belgium an adult who works with minors needs an extract of the criminal record, model 2
(*uittreksel uit het strafregister, model 2*), recent enough for the programme, and every
volunteer needs valid insurance. Recruitment records these items with their dates
(``VolunteerLegalItemRecorded``: kind, date, end of validity — nothing personal); matching
and follow-up learn them from its events and decide here, the same way, whether a volunteer
is cleared on a given day:

* the extract is dated on or before that day, not older than the limit
  (``BUDDY_SCREENING_EXTRACT_MAX_AGE_DAYS``, default one year) and not past its own end date;
* insurance is confirmed on or before that day and not past its end date (none: open-ended).

Pure: no clock, no database. Every gap names the item and the date that conflicts, in
Dutch and English, so a refusal can say exactly what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Target groups in which the volunteer works with minors (a family has children).
MINOR_TARGET_GROUPS = frozenset({"child", "youth", "family"})
EXTRACT = "criminal_record_extract"
INSURANCE = "insurance"
#: What working with minors needs, in the order gaps are reported.
REQUIRED_FOR_MINORS = (EXTRACT, INSURANCE)

_ITEM = {
    EXTRACT: ("het uittreksel uit het strafregister (model 2)", "the criminal-record extract (model 2)"),
    INSURANCE: ("de verzekering", "the insurance"),
}


class ScreeningSettings(BaseSettings):
    """The programme's limit on how old an extract may be (``BUDDY_SCREENING_*``)."""

    model_config = SettingsConfigDict(env_prefix="BUDDY_SCREENING_", extra="ignore")

    extract_max_age_days: int = Field(
        365, ge=1, le=3650,
        description="A criminal-record extract (model 2) older than this many days no longer clears a volunteer "
        "for children, youth or families.")


@dataclass(frozen=True)
class LegalDates:
    """One recorded legal item: its date and the last day it is valid (None: no end date)."""

    dated: date
    valid_until: date | None = None


@dataclass(frozen=True)
class ScreeningGap:
    """Why a volunteer is not cleared for minors on a day: which item, and which date."""

    item: str
    reason: str  # missing, not_yet, expired, too_old
    day: date | None  # the date that conflicts (None when the item is missing)
    nl: str
    en: str

    @property
    def message(self) -> str:
        return f"{self.nl} / {self.en}"

    def as_dict(self) -> dict[str, object]:
        return {"item": self.item, "reason": self.reason, "date": self.day.isoformat() if self.day else None,
                "nl": self.nl, "en": self.en}


def works_with_minors(target_group: str) -> bool:
    return str(target_group) in MINOR_TARGET_GROUPS


def last_valid_day(item: str, record: LegalDates, extract_max_age_days: int) -> date | None:
    """The last day ``record`` clears the volunteer; None when it does not end."""
    ends = [record.valid_until] if record.valid_until is not None else []
    if item == EXTRACT:
        ends.append(record.dated + timedelta(days=extract_max_age_days))
    return min(ends) if ends else None


def gaps_on(legal: Mapping[str, LegalDates], on: date, extract_max_age_days: int) -> list[ScreeningGap]:
    """Every reason the volunteer is not cleared for minors on ``on``; empty when cleared."""
    out: list[ScreeningGap] = []
    for item in REQUIRED_FOR_MINORS:
        nl, en = _ITEM[item]
        record = legal.get(item)
        day = on.isoformat()
        if record is None:
            out.append(ScreeningGap(item, "missing", None, f"{_cap(nl)} ontbreekt",
                                    f"{_cap(en)} is missing"))
            continue
        dated = record.dated.isoformat()
        if record.dated > on:
            out.append(ScreeningGap(item, "not_yet", record.dated,
                                    f"{_cap(nl)} is pas van {dated}, na {day}",
                                    f"{_cap(en)} dates only from {dated}, after {day}"))
            continue
        if record.valid_until is not None and record.valid_until < on:
            until = record.valid_until.isoformat()
            out.append(ScreeningGap(item, "expired", record.valid_until,
                                    f"{_cap(nl)} was geldig tot {until}, vóór {day}",
                                    f"{_cap(en)} was valid until {until}, before {day}"))
            continue
        if item == EXTRACT and (on - record.dated).days > extract_max_age_days:
            out.append(ScreeningGap(item, "too_old", record.dated,
                                    f"{_cap(nl)} van {dated} is op {day} ouder dan {extract_max_age_days} dagen",
                                    f"{_cap(en)} of {dated} is older than {extract_max_age_days} days on {day}"))
    return out


def first_lapse(legal: Mapping[str, LegalDates], extract_max_age_days: int) -> tuple[str, date | None] | None:
    """The required item that stops clearing the volunteer first, and its last valid day.

    ``(item, None)`` for a missing item; None when no required item ever ends.
    """
    found: list[tuple[date, str]] = []
    for item in REQUIRED_FOR_MINORS:
        record = legal.get(item)
        if record is None:
            return item, None
        end = last_valid_day(item, record, extract_max_age_days)
        if end is not None:
            found.append((end, item))
    if not found:
        return None
    end, item = min(found)
    return item, end


def item_label(item: str) -> tuple[str, str]:
    nl, en = _ITEM.get(item, (item, item))
    return _cap(nl), _cap(en)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
