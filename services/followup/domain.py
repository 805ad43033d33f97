"""Follow-up domain: pure aggregates and rules deciding events, with no I/O.

Aggregates (one event stream each) and their states::

    DuoLog (stream = duo id)            contact: draft ──submit──▶ logged ──retract──▶ retracted
                                                   └─discard─▶ discarded    └─correct─▶ logged
    ProjectCadence ("cadence-<project>") the project's check-in rule (defaults from config)
    CoachingSession                     logged once
    BoundarySignal                      open ──follow up (0..n)──▶ open ──resolve──▶ resolved
    Goal                                open ──progress (0..n)──▶ open ──close──▶ closed
    DuoEvaluations ("eval-<duo>")       start, mid and final: each at most once, in date order
    FollowUpCall ("call-<duo>-<n>m")    scheduled ──attempt (unsuccessful, 0..N-1)──▶ scheduled
                                                   ──complete / N-th unsuccessful attempt──▶ completed
    PolicySignal                        recorded ──confirm summary──▶ confirmed

Every refusal is a ``DomainError`` (409) with a sentence, a ``NotFound`` (404) or an
``InvalidInput`` (422) naming the field; Dutch first, English second.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from shared.contracts.common import formula_like
from shared.contracts.followup import (
    Activity,
    BoundaryFollowUpAction,
    BoundaryRaisedBy,
    BoundaryResolution,
    BoundarySeverity,
    BoundarySignalFollowedUp,
    BoundarySignalRaised,
    BoundarySignalResolved,
    BoundarySignalType,
    CallCancelReason,
    CheckInCadenceSet,
    CoachingKind,
    CoachingSessionLogged,
    CoachingTheme,
    ContactCorrected,
    ContactDraftDiscarded,
    ContactDrafted,
    ContactLogged,
    ContactMode,
    ContactRetracted,
    ContactRetractionReason,
    EvaluationMoment,
    EvaluationRecorded,
    FollowUpCallAttempted,
    FollowUpCallCancelled,
    FollowUpCallCompleted,
    FollowUpCallOutcome,
    FollowUpCallScheduled,
    GoalClosed,
    GoalDomain,
    GoalOutcome,
    GoalProgressRecorded,
    GoalSet,
    NetworkChange,
    PolicySignalRecorded,
    PolicySignalShredded,
    PolicySignalSummaryConfirmed,
    PolicyTheme,
)
from shared.domain import Aggregate, DomainError, InvalidInput, NotFound
from shared.screening import LegalDates, first_lapse, item_label, works_with_minors

MAX_ID = 100
SUMMARY_MAX_CHARS = 280


# --------------------------------------------------------------------------- small helpers
def stream_key(prefix: str, *parts: str | int) -> str:
    """A deterministic stream id ``<prefix>-<parts>``; hashed when it would exceed 100 characters."""
    key = "-".join([prefix, *(str(p) for p in parts)])
    if len(key) <= MAX_ID:
        return key
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def call_id_for(duo_id: str, months: int) -> str:
    """The follow-up call of a duo at ``months`` after its end: the same id on every instance."""
    return stream_key("call", duo_id, f"{months}m")


def cadence_stream(project_id: str) -> str:
    return stream_key("cadence", project_id)


def evaluations_stream(duo_id: str) -> str:
    return stream_key("eval", duo_id)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _not_in_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidInput("Deze datum ligt in de toekomst / This date lies in the future", field=field)


def _not_before(day: date, earliest: date, field: str, what_nl: str, what_en: str) -> None:
    if day < earliest:
        raise InvalidInput(f"Deze datum ligt vóór {what_nl} / This date lies before {what_en}", field=field)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Nine or more digits, each separated by at most one space, dot, slash or dash: phone numbers
# (+32 499 12 34 56, 0499/12.34.56), national register numbers (85.07.30-033.28), IBANs.
_LONG_NUMBER = re.compile(r"\d(?:[\s./-]?\d){8,}")
# A title followed by a capitalised word: "Mevrouw Peeters", "dhr. Janssens", "de heer Claes", "Mr. Jones".
_TITLED_NAME = re.compile(r"\b(?i:mevrouw|mevr|mw|meneer|mijnheer|mnr|dhr|de\s+heer|juffrouw|madame|mme|monsieur|"
                          r"mrs|mr|ms|miss)\b\.?\s+[A-ZÀ-Ý]")
# A street with a house number: "Kerkstraat 12", "Leuvensesteenweg 300".
_ADDRESS = re.compile(r"\b\w+(?i:straat|laan|steenweg|plein|dreef|lei|kaai)\s+\d+", re.UNICODE)


def personal_data_in(text: str) -> str | None:
    """What obvious personal data ``text`` holds, as a bilingual phrase; ``None`` if none found."""
    if _EMAIL.search(text):
        return "een e-mailadres / an e-mail address"
    if _LONG_NUMBER.search(text):
        return "een telefoon-, rijksregister- of rekeningnummer / a phone, national register or account number"
    if _TITLED_NAME.search(text):
        return "een naam met aanspreking / a name with a title"
    if _ADDRESS.search(text):
        return "een adres / an address"
    return None


# --------------------------------------------------------------------------- contacts
class ContactStatus(StrEnum):
    draft = "draft"
    logged = "logged"
    retracted = "retracted"
    discarded = "discarded"


LOGGERS = ("buddy", "professional")


@dataclass(frozen=True)
class ContactValues:
    """What a contact says; drafts, direct entries and corrections all carry these."""

    contact_date: date
    minutes: int
    mode: ContactMode
    activities: tuple[Activity, ...]
    has_private_note: bool = False

    @classmethod
    def of(cls, contact_date: date, minutes: int, mode: ContactMode, activities: Iterable[Activity],
           has_private_note: bool = False) -> "ContactValues":
        unique = tuple(dict.fromkeys(Activity(a) for a in activities))
        if not unique:
            raise InvalidInput("Kies minstens één activiteit / Choose at least one activity", field="activities")
        return cls(contact_date, minutes, ContactMode(mode), unique, has_private_note)


@dataclass(frozen=True)
class Contact:
    contact_id: str
    status: ContactStatus
    values: ContactValues
    logged_by: str


def contact_figures(contacts: Iterable[ContactValues]) -> dict[str, dict[str, Any]]:
    """Figures per month (``YYYY-MM``): contacts, minutes, contacts per mode and per activity.

    The one definition of the derived figures; the read model's query must agree with it.
    """
    months: dict[str, dict[str, Any]] = {}
    for c in contacts:
        f = months.setdefault(c.contact_date.isoformat()[:7],
                              {"contacts": 0, "minutes": 0, "by_mode": {}, "by_activity": {}})
        f["contacts"] += 1
        f["minutes"] += c.minutes
        f["by_mode"][str(c.mode)] = f["by_mode"].get(str(c.mode), 0) + 1
        for activity in set(c.activities):
            f["by_activity"][str(activity)] = f["by_activity"].get(str(activity), 0) + 1
    return {m: {**months[m], "by_mode": dict(sorted(months[m]["by_mode"].items())),
                "by_activity": dict(sorted(months[m]["by_activity"].items()))} for m in sorted(months)}


class DuoLog(Aggregate):
    """Every contact of one duo, drafts included. The roster says whether the duo runs."""

    stream_type = "duo_log"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.project_id: str | None = None
        self.contacts: dict[str, Contact] = {}

    # -- queries
    def counted(self) -> list[ContactValues]:
        """The contacts that count: logged, with their latest values, not retracted."""
        return [c.values for c in self.contacts.values() if c.status is ContactStatus.logged]

    def figures(self) -> dict[str, dict[str, Any]]:
        return contact_figures(self.counted())

    # -- decisions
    def log_contact(self, *, contact_id: str, project_id: str, duo_active: bool, started_on: date,
                    contact_date: date, minutes: int, mode: ContactMode, activities: Sequence[Activity],
                    logged_by: str, has_private_note: bool, today: date, ended_on: date | None = None,
                    draft: bool = False) -> list[ContactLogged | ContactDrafted]:
        """Log a contact directly, or keep it as a draft (not counted) to submit later."""
        _require_running(duo_active)
        if contact_id in self.contacts:
            raise DomainError(f"Contact {contact_id} is al gelogd / Contact {contact_id} is already logged",
                              code="already_exists")
        if logged_by not in LOGGERS:
            raise InvalidInput("Onbekende auteur / Unknown author", field="logged_by")
        values = ContactValues.of(contact_date, minutes, mode, activities, has_private_note)
        _check_contact_date(values.contact_date, started_on, today, ended_on)
        kind = ContactDrafted if draft else ContactLogged
        return [kind(contact_id=contact_id, duo_id=self.id, project_id=project_id, logged_by=logged_by,
                     **_contact_fields(values))]

    def submit_draft(self, *, contact_id: str, duo_active: bool, started_on: date, today: date,
                     ended_on: date | None = None, values: ContactValues | None = None) -> list[ContactLogged]:
        """A draft becomes a counted contact, with its own values or with ``values``."""
        draft = self._draft(contact_id)
        _require_running(duo_active)
        final = values or draft.values
        _check_contact_date(final.contact_date, started_on, today, ended_on)
        return [ContactLogged(contact_id=contact_id, duo_id=self.id, project_id=self._project(),
                              logged_by=draft.logged_by, **_contact_fields(final))]

    def discard_draft(self, *, contact_id: str) -> list[ContactDraftDiscarded]:
        self._draft(contact_id)
        return [ContactDraftDiscarded(contact_id=contact_id, duo_id=self.id, project_id=self._project())]

    def correct_contact(self, *, contact_id: str, values: ContactValues, started_on: date, today: date,
                        ended_on: date | None = None, note_changed: bool = False) -> list[ContactCorrected]:
        """New values for a logged contact (allowed after the duo ended, to set the record straight)."""
        contact = self._logged(contact_id, "verbeterd", "corrected")
        _check_contact_date(values.contact_date, started_on, today, ended_on)
        if values == contact.values and not note_changed:
            raise DomainError("Deze correctie verandert niets / This correction changes nothing",
                              code="nothing_changed")
        return [ContactCorrected(contact_id=contact_id, duo_id=self.id, project_id=self._project(),
                                 logged_by=contact.logged_by, **_contact_fields(values))]

    def retract_contact(self, *, contact_id: str, reason: ContactRetractionReason) -> list[ContactRetracted]:
        self._logged(contact_id, "ingetrokken", "retracted")
        return [ContactRetracted(contact_id=contact_id, duo_id=self.id, project_id=self._project(),
                                 reason=reason)]

    # -- state
    def _contact(self, contact_id: str) -> Contact:
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise NotFound("Contact", "Contact", contact_id)
        return contact

    def _draft(self, contact_id: str) -> Contact:
        contact = self._contact(contact_id)
        if contact.status is not ContactStatus.draft:
            raise DomainError(f"Contact {contact_id} is geen ontwerp (meer) / Contact {contact_id} is not a draft "
                              f"(any more): it is {contact.status}")
        return contact

    def _logged(self, contact_id: str, verb_nl: str, verb_en: str) -> Contact:
        contact = self._contact(contact_id)
        if contact.status is ContactStatus.retracted:
            raise DomainError(f"Dit contact is al ingetrokken en kan niet meer {verb_nl} worden / "
                              f"This contact is already retracted and cannot be {verb_en}")
        if contact.status is not ContactStatus.logged:
            raise DomainError(f"Een ontwerp wordt niet {verb_nl}: dien het in of verwijder het / "
                              f"A draft is not {verb_en}: submit or discard it")
        return contact

    def _project(self) -> str:
        assert self.project_id is not None
        return self.project_id

    def when_ContactDrafted(self, e: ContactDrafted) -> None:
        self.project_id = e.project_id
        self.contacts[e.contact_id] = Contact(e.contact_id, ContactStatus.draft, _values_of(e), e.logged_by)

    def when_ContactLogged(self, e: ContactLogged) -> None:
        self.project_id = e.project_id
        self.contacts[e.contact_id] = Contact(e.contact_id, ContactStatus.logged, _values_of(e), e.logged_by)

    def when_ContactDraftDiscarded(self, e: ContactDraftDiscarded) -> None:
        self.contacts[e.contact_id] = replace(self.contacts[e.contact_id], status=ContactStatus.discarded)

    def when_ContactCorrected(self, e: ContactCorrected) -> None:
        self.contacts[e.contact_id] = replace(self.contacts[e.contact_id], values=_values_of(e))

    def when_ContactRetracted(self, e: ContactRetracted) -> None:
        self.contacts[e.contact_id] = replace(self.contacts[e.contact_id], status=ContactStatus.retracted)


def _require_running(duo_active: bool) -> None:
    if not duo_active:
        raise DomainError("Dit duo loopt niet (meer); contacten kunnen niet gelogd worden / "
                          "This duo is not running; contacts cannot be logged")


def _check_contact_date(contact_date: date, started_on: date, today: date, ended_on: date | None) -> None:
    if contact_date > today:
        raise InvalidInput("Een contact kan niet in de toekomst liggen / A contact cannot lie in the future",
                           field="contact_date")
    if contact_date < started_on:
        raise InvalidInput("Het contact ligt vóór de start van het duo / The contact lies before the duo started",
                           field="contact_date")
    if ended_on is not None and contact_date > ended_on:
        raise InvalidInput("Het contact ligt na het einde van het duo / The contact lies after the duo ended",
                           field="contact_date")


def _contact_fields(v: ContactValues) -> dict[str, Any]:
    return {"contact_date": v.contact_date, "minutes": v.minutes, "mode": v.mode,
            "activities": list(v.activities), "has_private_note": v.has_private_note}


def _values_of(e: ContactLogged | ContactDrafted | ContactCorrected) -> ContactValues:
    return ContactValues.of(e.contact_date, e.minutes, e.mode, e.activities, e.has_private_note)


# --------------------------------------------------------------------------- check-in cadence
@dataclass(frozen=True)
class Cadence:
    """Default: two contacts in the first 30 days, then at least one every 31 days."""

    first_period_days: int = 30
    first_period_contacts: int = 2
    max_gap_days: int = 31


@dataclass(frozen=True)
class CheckIn:
    rule: str  # first_period | max_gap | paused | ended
    due_on: date | None
    overdue: bool
    days_overdue: int
    contacts_in_first_period: int
    last_contact_on: date | None


def check_in(*, started_on: date, contact_dates: Iterable[date], cadence: Cadence, today: date,
             status: str = "active", resumed_on: date | None = None) -> CheckIn:
    """When the next contact of a duo is due, and whether it is overdue on ``today``.

    * First period (``started_on`` + ``first_period_days``): fewer than
      ``first_period_contacts`` contacts in it, and none since → due at its end.
    * Otherwise the gap rule: due ``max_gap_days`` after the last contact (or the start).
    * A resumed duo is given ``max_gap_days`` from its resumption; paused and ended duos
      are never overdue.
    """
    dates = sorted(contact_dates)
    end_first = started_on + timedelta(days=cadence.first_period_days)
    in_first = sum(1 for d in dates if started_on <= d < end_first)
    last = dates[-1] if dates else None
    if status in ("paused", "ended"):
        return CheckIn(status, None, False, 0, in_first, last)
    if in_first < cadence.first_period_contacts and (last is None or last < end_first):
        rule, due = "first_period", end_first
    else:
        rule, due = "max_gap", (last or started_on) + timedelta(days=cadence.max_gap_days)
    if resumed_on is not None:
        due = max(due, resumed_on + timedelta(days=cadence.max_gap_days))
    overdue = today > due
    return CheckIn(rule, due, overdue, (today - due).days if overdue else 0, in_first, last)


class ProjectCadence(Aggregate):
    stream_type = "project_cadence"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.cadence: Cadence | None = None

    def set(self, *, project_id: str, cadence: Cadence) -> list[CheckInCadenceSet]:
        """Record a project's own cadence; setting the same one again records nothing."""
        if cadence == self.cadence:
            return []
        return [CheckInCadenceSet(project_id=project_id, first_period_days=cadence.first_period_days,
                                  first_period_contacts=cadence.first_period_contacts,
                                  max_gap_days=cadence.max_gap_days)]

    def when_CheckInCadenceSet(self, e: CheckInCadenceSet) -> None:
        self.cadence = Cadence(e.first_period_days, e.first_period_contacts, e.max_gap_days)


# --------------------------------------------------------------------------- coaching
class CoachingSession(Aggregate):
    stream_type = "coaching_session"

    def log(self, *, project_id: str, kind: CoachingKind, session_date: date, minutes: int,
            themes: Sequence[CoachingTheme], volunteer_ids: Sequence[str], today: date) -> list[CoachingSessionLogged]:
        if self.exists:
            raise DomainError(f"Sessie {self.id} bestaat al / Session {self.id} already exists", code="already_exists")
        _not_in_future(session_date, today, "session_date")
        volunteers = list(dict.fromkeys(volunteer_ids))
        if not volunteers:
            raise InvalidInput("Minstens één vrijwilliger / At least one volunteer", field="volunteer_ids")
        if kind is CoachingKind.individual and len(volunteers) != 1:
            raise InvalidInput("Individuele coaching is voor precies één vrijwilliger / "
                               "Individual coaching is for exactly one volunteer", field="volunteer_ids")
        if kind is CoachingKind.intervision and len(volunteers) < 2:
            raise InvalidInput("Intervisie vraagt minstens twee vrijwilligers / "
                               "Intervision needs at least two volunteers", field="volunteer_ids")
        return [CoachingSessionLogged(session_id=self.id, project_id=project_id, kind=kind, session_date=session_date,
                                      minutes=minutes, themes=list(dict.fromkeys(themes)), volunteer_ids=volunteers)]


# --------------------------------------------------------------------------- boundary signals
SEVERITY_RANK = {BoundarySeverity.low: 1, BoundarySeverity.medium: 2, BoundarySeverity.high: 3,
                 BoundarySeverity.critical: 4}


class BoundarySignal(Aggregate):
    stream_type = "boundary_signal"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.duo_id: str | None = None
        self.project_id: str | None = None
        self.raised_on: date | None = None
        self.severity: BoundarySeverity | None = None
        self.resolved = False
        self.follow_ups = 0

    def raise_signal(self, *, duo_id: str, project_id: str, signal_type: BoundarySignalType,
                     severity: BoundarySeverity, raised_by: BoundaryRaisedBy, raised_on: date, started_on: date,
                     has_private_note: bool, today: date) -> list[BoundarySignalRaised]:
        if self.exists:
            raise DomainError(f"Signaal {self.id} bestaat al / Signal {self.id} already exists", code="already_exists")
        _not_in_future(raised_on, today, "raised_on")
        _not_before(raised_on, started_on, "raised_on", "de start van het duo", "the duo started")
        return [BoundarySignalRaised(signal_id=self.id, duo_id=duo_id, project_id=project_id, signal_type=signal_type,
                                     severity=severity, raised_by=raised_by, raised_on=raised_on,
                                     has_private_note=has_private_note)]

    def follow_up(self, *, action: BoundaryFollowUpAction, followed_up_on: date, severity: BoundarySeverity | None,
                  has_private_note: bool, today: date) -> list[BoundarySignalFollowedUp]:
        self._open("opgevolgd", "followed up")
        _not_in_future(followed_up_on, today, "followed_up_on")
        _not_before(followed_up_on, self.raised_on, "followed_up_on", "het signaal", "the signal was raised")  # type: ignore[arg-type]
        return [BoundarySignalFollowedUp(signal_id=self.id, duo_id=self.duo_id, project_id=self.project_id,
                                         action=action, followed_up_on=followed_up_on,
                                         severity=severity if severity != self.severity else None,
                                         has_private_note=has_private_note)]

    def resolve(self, *, resolution: BoundaryResolution, resolved_on: date, today: date) -> list[BoundarySignalResolved]:
        self._open("afgesloten", "resolved")
        _not_in_future(resolved_on, today, "resolved_on")
        _not_before(resolved_on, self.raised_on, "resolved_on", "het signaal", "the signal was raised")  # type: ignore[arg-type]
        return [BoundarySignalResolved(signal_id=self.id, duo_id=self.duo_id, project_id=self.project_id,
                                       resolution=resolution, resolved_on=resolved_on)]

    def _open(self, verb_nl: str, verb_en: str) -> None:
        if not self.exists:
            raise NotFound("Signaal", "Signal", self.id)
        if self.resolved:
            raise DomainError(f"Dit signaal is al afgesloten en kan niet meer {verb_nl} worden / "
                              f"This signal is already resolved and cannot be {verb_en}")

    def when_BoundarySignalRaised(self, e: BoundarySignalRaised) -> None:
        self.duo_id, self.project_id, self.raised_on, self.severity = e.duo_id, e.project_id, e.raised_on, e.severity

    def when_BoundarySignalFollowedUp(self, e: BoundarySignalFollowedUp) -> None:
        self.follow_ups += 1
        if e.severity is not None:
            self.severity = e.severity

    def when_BoundarySignalResolved(self, _: BoundarySignalResolved) -> None:
        self.resolved = True


# --------------------------------------------------------------------------- goals and evaluations
class Goal(Aggregate):
    stream_type = "goal"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.duo_id: str | None = None
        self.project_id: str | None = None
        self.set_on: date | None = None
        self.scores: list[int] = []
        self.closed = False

    def set_goal(self, *, duo_id: str, project_id: str, domain: GoalDomain, set_on: date, baseline: int,
                 target: int | None, started_on: date, has_private_description: bool, today: date) -> list[GoalSet]:
        if self.exists:
            raise DomainError(f"Doel {self.id} bestaat al / Goal {self.id} already exists", code="already_exists")
        _not_in_future(set_on, today, "set_on")
        _not_before(set_on, started_on, "set_on", "de start van het duo", "the duo started")
        if target is not None and target <= baseline:
            raise InvalidInput("Het streefcijfer moet hoger liggen dan het startpunt / "
                               "The target must lie above the baseline", field="target")
        return [GoalSet(goal_id=self.id, duo_id=duo_id, project_id=project_id, domain=domain, set_on=set_on,
                        baseline=baseline, target=target, has_private_description=has_private_description)]

    def record_progress(self, *, recorded_on: date, score: int, today: date) -> list[GoalProgressRecorded]:
        self._open("bijgewerkt", "updated")
        _not_in_future(recorded_on, today, "recorded_on")
        _not_before(recorded_on, self.set_on, "recorded_on", "het doel", "the goal was set")  # type: ignore[arg-type]
        return [GoalProgressRecorded(goal_id=self.id, duo_id=self.duo_id, project_id=self.project_id,
                                     recorded_on=recorded_on, score=score)]

    def close(self, *, closed_on: date, outcome: GoalOutcome, today: date) -> list[GoalClosed]:
        self._open("afgesloten", "closed")
        _not_in_future(closed_on, today, "closed_on")
        _not_before(closed_on, self.set_on, "closed_on", "het doel", "the goal was set")  # type: ignore[arg-type]
        return [GoalClosed(goal_id=self.id, duo_id=self.duo_id, project_id=self.project_id, closed_on=closed_on,
                           outcome=outcome)]

    def _open(self, verb_nl: str, verb_en: str) -> None:
        if not self.exists:
            raise NotFound("Doel", "Goal", self.id)
        if self.closed:
            raise DomainError(f"Dit doel is al afgesloten en kan niet meer {verb_nl} worden / "
                              f"This goal is already closed and cannot be {verb_en}")

    def when_GoalSet(self, e: GoalSet) -> None:
        self.duo_id, self.project_id, self.set_on, self.scores = e.duo_id, e.project_id, e.set_on, [e.baseline]

    def when_GoalProgressRecorded(self, e: GoalProgressRecorded) -> None:
        self.scores.append(e.score)

    def when_GoalClosed(self, _: GoalClosed) -> None:
        self.closed = True


_MOMENT_ORDER = [EvaluationMoment.start, EvaluationMoment.mid, EvaluationMoment.final]


class DuoEvaluations(Aggregate):
    stream_type = "duo_evaluations"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.recorded: dict[EvaluationMoment, date] = {}

    def record(self, *, duo_id: str, project_id: str, moment: EvaluationMoment, evaluated_on: date,
               wellbeing: int, network_size: int, participant_satisfaction: int | None,
               volunteer_satisfaction: int | None, started_on: date, today: date) -> list[EvaluationRecorded]:
        if moment in self.recorded:
            raise DomainError(f"De evaluatie '{moment}' van dit duo is al geregistreerd / "
                              f"The '{moment}' evaluation of this duo is already recorded", code="already_exists")
        _not_in_future(evaluated_on, today, "evaluated_on")
        _not_before(evaluated_on, started_on, "evaluated_on", "de start van het duo", "the duo started")
        position = _MOMENT_ORDER.index(moment)
        for earlier in _MOMENT_ORDER[:position]:
            if earlier in self.recorded and evaluated_on < self.recorded[earlier]:
                raise InvalidInput(f"Deze evaluatie ligt vóór de evaluatie '{earlier}' / "
                                   f"This evaluation lies before the '{earlier}' one", field="evaluated_on")
        for later in _MOMENT_ORDER[position + 1:]:
            if later in self.recorded:
                raise DomainError(f"De evaluatie '{later}' is al geregistreerd; '{moment}' kan niet meer / "
                                  f"The '{later}' evaluation is already recorded; '{moment}' no longer can be")
        return [EvaluationRecorded(duo_id=duo_id, project_id=project_id, moment=moment, evaluated_on=evaluated_on,
                                   wellbeing=wellbeing, network_size=network_size,
                                   participant_satisfaction=participant_satisfaction,
                                   volunteer_satisfaction=volunteer_satisfaction)]

    def when_EvaluationRecorded(self, e: EvaluationRecorded) -> None:
        self.recorded[e.moment] = e.evaluated_on


# --------------------------------------------------------------------------- follow-up calls
@dataclass(frozen=True)
class CallAnswers:
    still_in_contact_with_buddy: bool | None = None
    network_change: NetworkChange | None = None
    wellbeing: int | None = None


class FollowUpCall(Aggregate):
    stream_type = "followup_call"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.duo_id: str | None = None
        self.project_id: str | None = None
        self.ended_on: date | None = None
        self.due_on: date | None = None
        self.attempts = 0
        self.outcome: FollowUpCallOutcome | None = None
        self.cancelled = False

    @property
    def completed(self) -> bool:
        return self.outcome is not None

    def schedule(self, *, duo_id: str, project_id: str, ended_on: date, months_after_end: int) -> list[FollowUpCallScheduled]:
        if self.exists:
            raise DomainError(f"Opvolgbelmoment {self.id} is al gepland / Follow-up call {self.id} is already scheduled",
                              code="already_exists")
        return [FollowUpCallScheduled(call_id=self.id, duo_id=duo_id, project_id=project_id,
                                      months_after_end=months_after_end, ended_on=ended_on,
                                      due_on=add_months(ended_on, months_after_end))]

    def attempt(self, *, attempted_on: date, today: date, max_attempts: int) -> list[FollowUpCallAttempted | FollowUpCallCompleted]:
        """An unsuccessful try; the N-th one closes the call as not reachable."""
        self._open()
        self._check_date(attempted_on, today, "attempted_on")
        number = self.attempts + 1
        decided: list[FollowUpCallAttempted | FollowUpCallCompleted] = [FollowUpCallAttempted(
            call_id=self.id, duo_id=self.duo_id, project_id=self.project_id, attempt=number, attempted_on=attempted_on)]
        if number >= max_attempts:
            decided.append(FollowUpCallCompleted(call_id=self.id, duo_id=self.duo_id, project_id=self.project_id,
                                                 outcome=FollowUpCallOutcome.not_reachable, completed_on=attempted_on,
                                                 attempts=number))
        return decided

    def complete(self, *, outcome: FollowUpCallOutcome, completed_on: date, answers: CallAnswers | None,
                 today: date, consent_to_call: bool | None = True) -> list[FollowUpCallCompleted]:
        """The call's outcome. Not "reached" with answers when the participant did not agree to be
        called after the duo (consent scope ``followup_contact`` absent); ``None``: matching never
        said (history from before consent scopes), which does not block."""
        self._open()
        self._check_date(completed_on, today, "completed_on")
        if outcome is FollowUpCallOutcome.reached:
            if consent_to_call is False:
                raise DomainError("De deelnemer gaf geen toestemming om na het duo gebeld te worden "
                                  "(toestemming 'followup_contact'); een gesprek met antwoorden kan niet geregistreerd "
                                  "worden / The participant did not consent to be called after the duo (consent "
                                  "'followup_contact'); a call with answers cannot be recorded", code="no_consent")
            if answers is None:
                raise InvalidInput("Wie bereikt werd, geeft antwoorden: vul ze in / "
                                   "A reached participant gives answers: fill them in", field="answers")
            attempts = self.attempts + 1
        else:
            if answers is not None:
                raise InvalidInput("Antwoorden horen alleen bij een bereikte deelnemer / "
                                   "Answers belong only to a reached participant", field="answers")
            answers = CallAnswers()
            if outcome is FollowUpCallOutcome.not_reachable and self.attempts == 0:
                raise DomainError("Registreer eerst minstens één poging / Record at least one attempt first")
            attempts = self.attempts if outcome is FollowUpCallOutcome.not_reachable else self.attempts + 1
        return [FollowUpCallCompleted(call_id=self.id, duo_id=self.duo_id, project_id=self.project_id, outcome=outcome,
                                      completed_on=completed_on, attempts=attempts,
                                      still_in_contact_with_buddy=answers.still_in_contact_with_buddy,
                                      network_change=answers.network_change, wellbeing=answers.wellbeing)]

    def cancel(self, *, cancelled_on: date, reason: CallCancelReason) -> list[FollowUpCallCancelled]:
        """Cancel a call still to be made (consent withdrawn); a completed or cancelled call stays as it is."""
        if not self.exists or self.completed or self.cancelled:
            return []
        return [FollowUpCallCancelled(call_id=self.id, duo_id=self.duo_id, project_id=self.project_id,
                                      cancelled_on=cancelled_on, reason=reason)]

    def _open(self) -> None:
        if not self.exists:
            raise NotFound("Opvolgbelmoment", "Follow-up call", self.id)
        if self.cancelled:
            raise DomainError("Dit opvolgbelmoment is geannuleerd: de deelnemer trok de toestemming in om gebeld te "
                              "worden / This follow-up call was cancelled: the participant withdrew consent to be called")
        if self.completed:
            raise DomainError(f"Dit opvolgbelmoment is al afgerond ({self.outcome}) / "
                              f"This follow-up call is already completed ({self.outcome})")

    def _check_date(self, day: date, today: date, field: str) -> None:
        _not_in_future(day, today, field)
        _not_before(day, self.ended_on, field, "het einde van het duo", "the duo ended")  # type: ignore[arg-type]

    def when_FollowUpCallScheduled(self, e: FollowUpCallScheduled) -> None:
        self.duo_id, self.project_id, self.ended_on, self.due_on = e.duo_id, e.project_id, e.ended_on, e.due_on

    def when_FollowUpCallAttempted(self, e: FollowUpCallAttempted) -> None:
        self.attempts = e.attempt

    def when_FollowUpCallCompleted(self, e: FollowUpCallCompleted) -> None:
        self.outcome, self.attempts = e.outcome, e.attempts

    def when_FollowUpCallCancelled(self, _: FollowUpCallCancelled) -> None:
        self.cancelled = True


# --------------------------------------------------------------------------- policy signals
class PolicySignal(Aggregate):
    stream_type = "policy_signal"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.project_id: str | None = None
        self.theme: PolicyTheme | None = None
        self.observed_on: date | None = None
        self.summary: str | None = None
        self.shredded = False

    def record(self, *, project_id: str, theme: PolicyTheme, observed_on: date, has_private_description: bool,
               today: date) -> list[PolicySignalRecorded]:
        if self.exists:
            raise DomainError(f"Signaal {self.id} bestaat al / Signal {self.id} already exists", code="already_exists")
        _not_in_future(observed_on, today, "observed_on")
        return [PolicySignalRecorded(signal_id=self.id, project_id=project_id, theme=theme, observed_on=observed_on,
                                     has_private_description=has_private_description)]

    def confirm_summary(self, *, summary: str, confirmed_no_personal_data: bool, today: date) -> list[PolicySignalSummaryConfirmed]:
        """The anonymised summary may reach reports only with an explicit confirmation and no obvious personal data."""
        if not self.exists:
            raise NotFound("Signaal", "Signal", self.id)
        if self.shredded:
            raise DomainError("De tekst van dit signaal is vernietigd / The text of this signal is shredded",
                              code="shredded")
        if self.summary is not None:
            raise DomainError("De samenvatting van dit signaal is al bevestigd / "
                              "The summary of this signal is already confirmed")
        if confirmed_no_personal_data is not True:
            raise InvalidInput("Bevestig uitdrukkelijk dat de samenvatting geen persoonsgegevens bevat / "
                               "Confirm explicitly that the summary holds no personal data",
                               field="confirm_no_personal_data")
        text = " ".join(summary.split())
        if not text:
            raise InvalidInput("De samenvatting is leeg / The summary is empty", field="summary")
        if len(text) > SUMMARY_MAX_CHARS:
            raise InvalidInput(f"De samenvatting is langer dan {SUMMARY_MAX_CHARS} tekens / "
                               f"The summary is longer than {SUMMARY_MAX_CHARS} characters", field="summary")
        if formula_like(summary) or formula_like(text):
            raise InvalidInput("De samenvatting mag niet beginnen met = + - @ of een controleteken (een rekenblad leest "
                               "dat als formule) / The summary may not start with = + - @ or a control character "
                               "(a spreadsheet reads that as a formula)", field="summary")
        found = personal_data_in(text)
        if found is not None:
            nl, en = found.split(" / ")
            raise InvalidInput(f"De samenvatting lijkt {nl} te bevatten; haal persoonsgegevens weg / "
                               f"The summary seems to contain {en}; remove personal data", field="summary")
        return [PolicySignalSummaryConfirmed(signal_id=self.id, project_id=self.project_id, theme=self.theme,
                                             summary=text, confirmed_on=today)]

    def shred(self, *, today: date) -> list[PolicySignalShredded]:
        """Its free text goes: the description's key (by the caller) and the confirmed summary. Once."""
        if not self.exists:
            raise NotFound("Signaal", "Signal", self.id)
        if self.shredded:
            raise DomainError("De tekst van dit signaal is al vernietigd / The text of this signal is already shredded",
                              code="shredded")
        return [PolicySignalShredded(signal_id=self.id, project_id=self.project_id, shredded_on=today)]

    def when_PolicySignalRecorded(self, e: PolicySignalRecorded) -> None:
        self.project_id, self.theme, self.observed_on = e.project_id, e.theme, e.observed_on

    def when_PolicySignalSummaryConfirmed(self, e: PolicySignalSummaryConfirmed) -> None:
        self.summary = e.summary

    def when_PolicySignalShredded(self, e: PolicySignalShredded) -> None:
        self.summary, self.shredded = None, True


# --------------------------------------------------------------------------- screening during a duo
@dataclass(frozen=True)
class ScreeningAlert:
    """A running duo with a child, youth or family whose buddy's screening lapsed or soon lapses."""

    item: str
    state: str  # missing | expired | expiring
    last_valid_day: date | None
    days: int  # expired: days since it lapsed; expiring: days left; missing: 0

    def message(self) -> dict[str, str]:
        nl_item, en_item = item_label(self.item)
        day = self.last_valid_day.isoformat() if self.last_valid_day else ""
        if self.state == "missing":
            return {"nl": f"{nl_item} van de buddy ontbreekt, terwijl het duo met minderjarigen loopt",
                    "en": f"{en_item} of the buddy is missing while the duo with minors runs"}
        if self.state == "expired":
            return {"nl": f"{nl_item} van de buddy was geldig tot {day}; het duo met minderjarigen loopt nog",
                    "en": f"{en_item} of the buddy was valid until {day}; the duo with minors still runs"}
        return {"nl": f"{nl_item} van de buddy is nog geldig tot {day} ({self.days} dag(en)); vraag een nieuw aan",
                "en": f"{en_item} of the buddy is valid only until {day} ({self.days} day(s)); ask for a new one"}


def screening_alert(*, target_group: str | None, legal: dict[str, LegalDates], today: date,
                    extract_max_age_days: int, notice_days: int) -> ScreeningAlert | None:
    """Whether a running duo needs attention because the buddy's screening for minors lapses.

    Only duos with a child, youth or family. The item that lapses first decides: missing,
    expired (its last valid day is before today) or expiring within ``notice_days``.
    """
    if target_group is None or not works_with_minors(target_group):
        return None
    lapse = first_lapse(legal, extract_max_age_days)
    if lapse is None:
        return None
    item, last = lapse
    if last is None:
        return ScreeningAlert(item, "missing", None, 0)
    if last < today:
        return ScreeningAlert(item, "expired", last, (today - last).days)
    if (last - today).days <= notice_days:
        return ScreeningAlert(item, "expiring", last, (last - today).days)
    return None
