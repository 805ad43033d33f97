"""Recruitment domain: projects and the volunteer journey, deciding events without I/O.

Project register::

    (new) ──register──▶ open ──change──▶ open
                          │
                          └──close──▶ closed      (a closed project takes no new enquiries)

Volunteer journey (``TRANSITIONS`` below is the same table as data; tests hold the
aggregate to it, and docs/recruitment.md shows it)::

    (new) ─enquiry─▶ enquired ─intake─▶ intake_held ─screening approved─▶ in_preparation
                                              │                                │ coaching / training sessions
                                              └─screening not approved─▶ stopped  │ (at least N, setting)
                                                                               ▼
                           ┌──────── duo ends (last one) ─────── in_duo ◀── duo starts ── available
                           ▼                                      │   ▲                     │   ▲
                       available ◀── resume (no duo) ── paused ◀──┘   └─ resume (duo) ──────┘   │
                                                           ▲ pause                               │
                                                           └──────────────── pause ──────────────┘
    every state but stopped ──stop (reason)──▶ stopped

* "In a duo" is learned from the matching service (``DuoStarted`` / ``DuoEnded``): such
  facts are recorded whatever the state (a paused volunteer stays paused, a stopped one
  stopped), never refused, and recorded once per duo.
* Keep-warm contacts and legal/safety items can be recorded in every state but stopped;
  coaching and training sessions from the approved screening on.
* Erasure of personal data is allowed once in every state and does not change the state;
  after it no new personal data (notes, contact details) can be stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from shared.contracts.common import MatchingPreferences, TargetGroup, age_band
from shared.contracts.recruitment import (
    Gender,
    KeepWarmKind,
    LegalItem,
    ProjectChanged,
    ProjectClosed,
    ProjectCloseReason,
    ProjectRegistered,
    RecruitmentChannel,
    ScreeningOutcome,
    ScreeningRefusal,
    StopReason,
    TrainingKind,
    VolunteerEnquiryReceived,
    VolunteerIntakeHeld,
    VolunteerJoinedDuo,
    VolunteerKeptWarm,
    VolunteerLeftDuo,
    VolunteerLegalItemRecorded,
    VolunteerMadeAvailable,
    VolunteerPaused,
    VolunteerPersonalDataChanged,
    VolunteerPersonalDataErased,
    VolunteerPreferencesChanged,
    VolunteerResumed,
    VolunteerScreened,
    VolunteerStopped,
    VolunteerTrained,
)
from shared.domain import Aggregate, DomainError, InvalidInput, NotFound, entered_day
from shared.events.registry import DomainEvent

# ---------------------------------------------------------------------------------- projects


class ProjectStatus(StrEnum):
    new = "new"
    open = "open"
    closed = "closed"


class Project(Aggregate):
    stream_type = "project"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = ProjectStatus.new
        self.name: str | None = None
        self.organisation: str | None = None
        self.municipality_nis: str | None = None
        self.region: str | None = None
        self.target_groups: list[TargetGroup] = []
        self.funded_from: date | None = None
        self.funded_until: date | None = None
        self.closed_on: date | None = None
        self.close_reason: ProjectCloseReason | None = None

    @staticmethod
    def _check_funding(funded_from: date | None, funded_until: date | None) -> None:
        if funded_from and funded_until and funded_until < funded_from:
            raise InvalidInput("De financiering eindigt vóór ze begint / The funding period ends before it starts",
                               field="funded_until")

    def register(self, *, name: str, organisation: str, municipality_nis: str, region: str,
                 target_groups: list[TargetGroup], funded_from: date | None, funded_until: date | None) -> list[ProjectRegistered]:
        if self.exists:
            raise DomainError(f"Project {self.id} bestaat al / Project {self.id} already exists", code="already_exists")
        self._check_funding(funded_from, funded_until)
        return [ProjectRegistered(project_id=self.id, name=name, organisation=organisation,
                                  municipality_nis=municipality_nis, region=region, target_groups=target_groups,
                                  funded_from=funded_from, funded_until=funded_until)]

    def change(self, **changes: Any) -> list[ProjectChanged]:
        """Change some fields (``name``, ``organisation``, ...); nothing changes, no event."""
        self._require_exists()
        if self.status is ProjectStatus.closed:
            raise DomainError(f"Project {self.id} is afgesloten en kan niet meer wijzigen / "
                              f"Project {self.id} is closed and can no longer change")
        new = {"name": self.name, "organisation": self.organisation, "municipality_nis": self.municipality_nis,
               "region": self.region, "target_groups": list(self.target_groups),
               "funded_from": self.funded_from, "funded_until": self.funded_until}
        unknown = set(changes) - set(new)
        if unknown:  # pragma: no cover - the HTTP model allows only these
            raise ValueError(f"unknown project fields {sorted(unknown)}")
        new.update(changes)
        self._check_funding(new["funded_from"], new["funded_until"])
        if new == {"name": self.name, "organisation": self.organisation, "municipality_nis": self.municipality_nis,
                   "region": self.region, "target_groups": list(self.target_groups),
                   "funded_from": self.funded_from, "funded_until": self.funded_until}:
            return []
        title = new.pop("name")
        return [ProjectChanged(project_id=self.id, title=title, **new)]

    def close(self, *, closed_on: date, reason: ProjectCloseReason, today: date) -> list[ProjectClosed]:
        self._require_exists()
        if self.status is ProjectStatus.closed:
            raise DomainError(f"Project {self.id} is al afgesloten / Project {self.id} is already closed")
        if closed_on > today:
            raise InvalidInput("Een project kan niet in de toekomst afsluiten / A project cannot close in the future",
                               field="closed_on")
        return [ProjectClosed(project_id=self.id, closed_on=closed_on, reason=reason)]

    def require_open(self) -> None:
        self._require_exists()
        if self.status is ProjectStatus.closed:
            raise DomainError(f"Project {self.id} is afgesloten en neemt geen nieuwe aanmeldingen aan / "
                              f"Project {self.id} is closed and takes no new enquiries", code="project_closed")

    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound("Project", "Project", self.id)

    def when_ProjectRegistered(self, e: ProjectRegistered) -> None:
        self.status = ProjectStatus.open
        self.name, self.organisation, self.municipality_nis = e.name, e.organisation, e.municipality_nis
        self.region, self.target_groups = e.region, list(e.target_groups)
        self.funded_from, self.funded_until = e.funded_from, e.funded_until

    def when_ProjectChanged(self, e: ProjectChanged) -> None:
        self.name, self.organisation, self.municipality_nis = e.title, e.organisation, e.municipality_nis
        self.region, self.target_groups = e.region, list(e.target_groups)
        self.funded_from, self.funded_until = e.funded_from, e.funded_until

    def when_ProjectClosed(self, e: ProjectClosed) -> None:
        self.status, self.closed_on, self.close_reason = ProjectStatus.closed, e.closed_on, e.reason


# ---------------------------------------------------------------------------------- volunteers


class VolunteerStatus(StrEnum):
    new = "new"  # not recorded yet
    enquired = "enquired"
    intake_held = "intake_held"
    in_preparation = "in_preparation"
    available = "available"
    in_duo = "in_duo"
    paused = "paused"
    stopped = "stopped"


S = VolunteerStatus
#: Every state of a recorded volunteer.
RECORDED = frozenset(S) - {S.new}
#: States in which the journey still runs.
ACTIVE = RECORDED - {S.stopped}
#: States after an approved screening (legal items are checked from here on).
APPROVED = frozenset({S.in_preparation, S.available, S.in_duo, S.paused})
#: Target groups that mean working with minors (criminal-record extract model 2 needed).
MINOR_GROUPS = frozenset({TargetGroup.child, TargetGroup.youth, TargetGroup.family})


@dataclass(frozen=True)
class Transition:
    """One command: from which states it is accepted and which states it can lead to."""

    command: str
    moves: Mapping[VolunteerStatus, frozenset[VolunteerStatus]]
    events: tuple[str, ...]
    rule: str  # one English sentence, shown in the documentation

    @property
    def sources(self) -> frozenset[VolunteerStatus]:
        return frozenset(self.moves)


def _same(states: frozenset[VolunteerStatus]) -> dict[VolunteerStatus, frozenset[VolunteerStatus]]:
    return {s: frozenset({s}) for s in states}


def _to(states: frozenset[VolunteerStatus] | set[VolunteerStatus], *targets: VolunteerStatus) -> dict[VolunteerStatus, frozenset[VolunteerStatus]]:
    return {s: frozenset(targets) for s in states}


TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("receive_enquiry", _to({S.new}, S.enquired), ("VolunteerEnquiryReceived",),
               "A person asks to become a buddy, through a recruitment channel."),
    Transition("hold_intake", _to({S.enquired}, S.intake_held), ("VolunteerIntakeHeld",),
               "The intake interview follows the enquiry."),
    Transition("screen_approved", _to({S.intake_held}, S.in_preparation), ("VolunteerScreened",),
               "An approved screening follows the intake; coaching and training come next."),
    Transition("screen_not_approved", _to({S.intake_held}, S.stopped), ("VolunteerScreened", "VolunteerStopped"),
               "A screening that is not approved (with a reason) ends the journey (stop reason not_approved)."),
    Transition("record_training", _same(APPROVED), ("VolunteerTrained",),
               "Coaching and training sessions (with hours) from the approved screening on."),
    Transition("make_available", _to({S.in_preparation}, S.available), ("VolunteerMadeAvailable",),
               "Available for matching, with matching preferences, after at least the required number of sessions."),
    Transition("change_preferences", _same(frozenset({S.available, S.in_duo, S.paused})),
               ("VolunteerPreferencesChanged",), "Matching preferences change once the volunteer was made available."),
    Transition("pause", _to({S.available, S.in_duo}, S.paused), ("VolunteerPaused",),
               "A pause: no new duos for a while; running duos go on."),
    Transition("resume", _to({S.paused}, S.available, S.in_duo), ("VolunteerResumed",),
               "Back from a pause: in a duo if one still runs, else available."),
    Transition("join_duo", {**_to({S.enquired, S.intake_held, S.in_preparation, S.available, S.in_duo}, S.in_duo),
                            **_same(frozenset({S.paused, S.stopped}))}, ("VolunteerJoinedDuo",),
               "Learned from matching (DuoStarted): never refused; a paused or stopped volunteer keeps that state."),
    Transition("leave_duo", {S.in_duo: frozenset({S.in_duo, S.available}), **_same(ACTIVE - {S.in_duo}),
                             S.stopped: frozenset({S.stopped})}, ("VolunteerLeftDuo",),
               "Learned from matching (DuoEnded): back to available when the last duo ends."),
    Transition("record_legal_item", _same(ACTIVE), ("VolunteerLegalItemRecorded",),
               "Information notice, insurance, criminal-record extract (model 2), with dates."),
    Transition("keep_warm", _same(ACTIVE), ("VolunteerKeptWarm",),
               "A keep-warm contact: a call, an invitation to an activity or a meeting place."),
    Transition("change_personal_data", _same(RECORDED), ("VolunteerPersonalDataChanged",),
               "New contact details or address, sealed in the vault; not after erasure."),
    Transition("stop", _to(ACTIVE, S.stopped), ("VolunteerStopped",),
               "The volunteer stops, with a reason from the vocabulary."),
    Transition("erase_personal_data", _same(RECORDED), ("VolunteerPersonalDataErased",),
               "On request, once: the vault key is destroyed; the state does not change."),
)}

# Why a command is refused in a state: what the state is, Dutch and English.
_STATE_SENTENCE: dict[VolunteerStatus, tuple[str, str]] = {
    S.enquired: ("Deze vrijwilliger heeft zich pas aangemeld", "This volunteer has only enquired so far"),
    S.intake_held: ("Deze vrijwilliger had het intakegesprek en wacht op de screening",
                    "This volunteer had the intake interview and waits for the screening"),
    S.in_preparation: ("Deze vrijwilliger is goedgekeurd en volgt coaching of vorming",
                       "This volunteer was approved and is in coaching or training"),
    S.available: ("Deze vrijwilliger is al beschikbaar", "This volunteer is already available"),
    S.in_duo: ("Deze vrijwilliger zit in een duo", "This volunteer is in a duo"),
    S.paused: ("Deze vrijwilliger is gepauzeerd", "This volunteer is paused"),
    S.stopped: ("Deze vrijwilliger is gestopt", "This volunteer has stopped"),
}
_COMMAND_SENTENCE: dict[str, tuple[str, str]] = {
    "hold_intake": ("een intakegesprek volgt enkel op een nieuwe aanmelding",
                    "an intake interview only follows a new enquiry"),
    "screen": ("screenen kan enkel na het intakegesprek", "screening can only follow the intake interview"),
    "record_training": ("coaching of vorming registreren kan pas na een goedgekeurde screening",
                        "coaching or training can only be recorded after an approved screening"),
    "make_available": ("beschikbaar maken kan enkel na screening en vorming",
                       "making available can only follow screening and training"),
    "change_preferences": ("voorkeuren wijzigen kan pas nadat de vrijwilliger beschikbaar werd",
                           "preferences can only change once the volunteer was made available"),
    "pause": ("pauzeren kan enkel wie beschikbaar is of in een duo zit",
              "only a volunteer who is available or in a duo can pause"),
    "resume": ("hervatten kan enkel na een pauze", "only a paused volunteer can resume"),
    "record_legal_item": ("er kunnen geen wettelijke items meer bij", "no legal items can be recorded any more"),
    "keep_warm": ("er kunnen geen warmhoudcontacten meer bij", "no keep-warm contacts can be recorded any more"),
    "stop": ("stoppen kan niet nog eens", "stopping again is not possible"),
}
_SPECIAL: dict[tuple[str, VolunteerStatus], tuple[str, str]] = {
    ("stop", S.stopped): ("Deze vrijwilliger is al gestopt", "This volunteer has already stopped"),
    ("pause", S.paused): ("Deze vrijwilliger is al gepauzeerd", "This volunteer is already paused"),
    ("make_available", S.stopped): ("Deze vrijwilliger is gestopt en kan niet meer beschikbaar worden",
                                    "This volunteer has stopped and cannot become available again"),
    ("make_available", S.available): ("Deze vrijwilliger is al beschikbaar", "This volunteer is already available"),
    ("make_available", S.in_duo): ("Deze vrijwilliger zit al in een duo en is dus al beschikbaar geweest",
                                   "This volunteer is already in a duo, so was already available"),
    ("hold_intake", S.intake_held): ("Het intakegesprek van deze vrijwilliger is al geregistreerd",
                                     "The intake interview of this volunteer is already recorded"),
}


def refusal(command: str, status: VolunteerStatus) -> DomainError:
    """The 409 for a command the state does not allow, saying why in Dutch and English."""
    special = _SPECIAL.get((command, status))
    if special is not None:
        return DomainError(f"{special[0]} / {special[1]}")
    state_nl, state_en = _STATE_SENTENCE[status]
    command_nl, command_en = _COMMAND_SENTENCE[command]
    return DomainError(f"{state_nl}: {command_nl} / {state_en}: {command_en}")


def erased_refusal() -> DomainError:
    return DomainError("De persoonsgegevens van deze vrijwilliger zijn gewist; er kunnen geen nieuwe persoonsgegevens "
                       "of notities bij / The personal data of this volunteer was erased; no new personal data or notes "
                       "can be stored", code="personal_data_erased")


def _not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidInput(f"De datum {day.isoformat()} ligt in de toekomst / The date {day.isoformat()} lies in the future",
                           field=field)


def _not_before(day: date, earlier: date | None, field: str, what: tuple[str, str]) -> None:
    if earlier is not None and day < earlier:
        raise InvalidInput(f"De datum {day.isoformat()} ligt vóór {what[0]} ({earlier.isoformat()}) / "
                           f"The date {day.isoformat()} lies before {what[1]} ({earlier.isoformat()})", field=field)


@dataclass(frozen=True)
class LegalRecord:
    dated: date
    valid_until: date | None


class Volunteer(Aggregate):
    """One volunteer's journey. ``apply(event, on)`` takes the day the event was recorded,
    which dates the stages whose events carry no date of their own."""

    stream_type = "volunteer"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = VolunteerStatus.new
        self.project_id: str | None = None
        self.erased = False
        self.channel: RecruitmentChannel | None = None
        self.municipality_nis: str | None = None
        self.age_band: str | None = None
        self.gender: Gender | None = None
        self.enquired_on: date | None = None
        self.stage_since: date | None = None
        self.sessions = 0
        self.training_hours = 0.0
        self.preferences: MatchingPreferences | None = None
        self.duos: set[str] = set()
        self.waiting_since: date | None = None
        self.last_kept_warm: date | None = None
        self.legal: dict[LegalItem, LegalRecord] = {}
        self.paused_until: date | None = None
        self.screening: ScreeningOutcome | None = None
        self.refusal_reason: ScreeningRefusal | None = None
        self.stop_reason: StopReason | None = None
        self._on: date | None = None

    # -- replay --------------------------------------------------------------------

    def apply(self, event: DomainEvent, on: date | None = None) -> None:  # type: ignore[override]
        self._on = on
        super().apply(event)

    @classmethod
    def replay_dated(cls, aggregate_id: str, events: list[tuple[DomainEvent, date]]) -> "Volunteer":
        v = cls(aggregate_id)
        for event, on in events:
            v.apply(event, on)
        return v

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain data, to compare a live aggregate with its replay."""
        return {
            "id": self.id, "version": self.version, "status": self.status, "project_id": self.project_id,
            "erased": self.erased, "channel": self.channel, "municipality_nis": self.municipality_nis,
            "age_band": self.age_band, "gender": self.gender, "enquired_on": self.enquired_on,
            "stage_since": self.stage_since, "sessions": self.sessions, "training_hours": self.training_hours,
            "preferences": self.preferences.model_dump() if self.preferences else None,
            "duos": sorted(self.duos), "waiting_since": self.waiting_since, "last_kept_warm": self.last_kept_warm,
            "legal": {str(k): (v.dated, v.valid_until) for k, v in sorted(self.legal.items())},
            "paused_until": self.paused_until, "screening": self.screening, "refusal_reason": self.refusal_reason,
            "stop_reason": self.stop_reason,
        }

    @property
    def works_with_minors(self) -> bool:
        return bool(self.preferences and MINOR_GROUPS.intersection(self.preferences.target_groups))

    @property
    def warm_since(self) -> date | None:
        """Since when an available volunteer has waited without a match or a keep-warm contact."""
        if self.status is not S.available or self.waiting_since is None:
            return None
        if self.last_kept_warm and self.last_kept_warm > self.waiting_since:
            return self.last_kept_warm
        return self.waiting_since

    # -- guards --------------------------------------------------------------------

    def _require(self, command: str, transition: str | None = None) -> None:
        if not self.exists:
            raise NotFound("Vrijwilliger", "Volunteer", self.id)
        if self.status not in TRANSITIONS[transition or command].sources:
            raise refusal(command, self.status)

    def _located(self, preferences: MatchingPreferences) -> MatchingPreferences:
        """Preferences without a municipality start from the enquiry's."""
        if preferences.municipality_nis is None and self.municipality_nis:
            return preferences.model_copy(update={"municipality_nis": self.municipality_nis})
        return preferences

    def _no_personal_data_after_erasure(self, carries_personal_data: bool) -> None:
        if carries_personal_data and self.erased:
            raise erased_refusal()

    # -- commands ------------------------------------------------------------------

    def receive_enquiry(self, *, project_id: str, channel: RecruitmentChannel, municipality_nis: str,
                        birth_date: date | None, gender: Gender | None, today: date,
                        received_on: date | None = None) -> list[VolunteerEnquiryReceived]:
        if self.exists:
            raise DomainError(f"Vrijwilliger {self.id} bestaat al / Volunteer {self.id} already exists", code="already_exists")
        if received_on is not None:
            entered_day(received_on, today, "received_on")
        if birth_date is not None and birth_date > today:
            raise InvalidInput("De geboortedatum ligt in de toekomst / The birth date lies in the future",
                               field="personal.birth_date")
        return [VolunteerEnquiryReceived(
            volunteer_id=self.id, project_id=project_id, channel=channel, municipality_nis=municipality_nis,
            age_band=age_band(birth_date, today) if birth_date else None, gender=gender,
        )]

    def hold_intake(self, *, held_on: date, has_note: bool, today: date) -> list[VolunteerIntakeHeld]:
        self._require("hold_intake")
        self._no_personal_data_after_erasure(has_note)
        _not_future(held_on, today, "held_on")
        _not_before(held_on, self.stage_since, "held_on", ("de aanmelding", "the enquiry"))
        return [VolunteerIntakeHeld(volunteer_id=self.id, project_id=self.project_id, held_on=held_on, has_note=has_note)]

    def screen(self, *, screened_on: date, outcome: ScreeningOutcome, refusal_reason: ScreeningRefusal | None,
               has_note: bool, today: date) -> list[VolunteerScreened | VolunteerStopped]:
        self._require("screen", "screen_approved")
        self._no_personal_data_after_erasure(has_note)
        _not_future(screened_on, today, "screened_on")
        _not_before(screened_on, self.stage_since, "screened_on", ("het intakegesprek", "the intake interview"))
        if outcome is ScreeningOutcome.approved and refusal_reason is not None:
            raise InvalidInput("Een goedgekeurde screening heeft geen reden van afwijzing / "
                               "An approved screening has no refusal reason", field="refusal_reason")
        if outcome is ScreeningOutcome.not_approved and refusal_reason is None:
            raise InvalidInput("Geef de reden waarom de screening niet werd goedgekeurd / "
                               "Give the reason why the screening was not approved", field="refusal_reason")
        screened = VolunteerScreened(volunteer_id=self.id, project_id=self.project_id, screened_on=screened_on,
                                     outcome=outcome, refusal_reason=refusal_reason, has_note=has_note)
        if outcome is ScreeningOutcome.approved:
            return [screened]
        return [screened, VolunteerStopped(volunteer_id=self.id, project_id=self.project_id,
                                           reason=StopReason.not_approved)]

    def record_training(self, *, session_on: date, kind: TrainingKind, hours: float, today: date) -> list[VolunteerTrained]:
        self._require("record_training")
        _not_future(session_on, today, "session_on")
        return [VolunteerTrained(volunteer_id=self.id, project_id=self.project_id, session_on=session_on,
                                 kind=kind, hours=hours)]

    def make_available(self, *, preferences: MatchingPreferences, min_sessions: int = 0,
                       available_on: date | None = None, today: date | None = None) -> list[VolunteerMadeAvailable]:
        """Available for matching from ``available_on`` (entered after the fact) or from today.

        The day is bounded like every entered date and never precedes the approved screening
        (the start of the preparation); the event is dated on it, so matching's date order and
        the waiting times count from the day it happened."""
        self._require("make_available")
        if available_on is not None:
            entered_day(available_on, today or available_on, "available_on")
            _not_before(available_on, self.stage_since, "available_on",
                        ("de goedgekeurde screening", "the approved screening"))
        if self.sessions < min_sessions:
            raise DomainError(
                f"Deze vrijwilliger volgde {self.sessions} van de vereiste {min_sessions} coaching- of vormingsmomenten; "
                f"registreer die eerst / This volunteer followed {self.sessions} of the {min_sessions} coaching or "
                "training sessions required; record them first", code="preparation_incomplete")
        return [VolunteerMadeAvailable(volunteer_id=self.id, project_id=self.project_id,
                                       preferences=self._located(preferences))]

    def change_preferences(self, *, preferences: MatchingPreferences) -> list[VolunteerPreferencesChanged]:
        self._require("change_preferences")
        preferences = self._located(preferences)
        if preferences == self.preferences:
            return []
        return [VolunteerPreferencesChanged(volunteer_id=self.id, project_id=self.project_id, preferences=preferences)]

    def pause(self, *, until: date | None, today: date) -> list[VolunteerPaused]:
        self._require("pause")
        if until is not None and until <= today:
            raise InvalidInput("Een pauze loopt tot een datum na vandaag / A pause lasts until a date after today",
                               field="until")
        return [VolunteerPaused(volunteer_id=self.id, project_id=self.project_id, until=until)]

    def resume(self) -> list[VolunteerResumed]:
        self._require("resume")
        return [VolunteerResumed(volunteer_id=self.id, project_id=self.project_id)]

    def join_duo(self, *, duo_id: str, joined_on: date | None) -> list[VolunteerJoinedDuo]:
        """Record a duo matching started; nothing if it is already recorded."""
        self._require("join_duo")
        if duo_id in self.duos:
            return []
        return [VolunteerJoinedDuo(volunteer_id=self.id, project_id=self.project_id, duo_id=duo_id, joined_on=joined_on)]

    def leave_duo(self, *, duo_id: str, left_on: date | None) -> list[VolunteerLeftDuo]:
        """Record the end of a duo; nothing if that duo is not (or no longer) recorded."""
        self._require("leave_duo")
        if duo_id not in self.duos:
            return []
        return [VolunteerLeftDuo(volunteer_id=self.id, project_id=self.project_id, duo_id=duo_id, left_on=left_on)]

    def record_legal_item(self, *, item: LegalItem, dated: date, valid_until: date | None,
                          today: date) -> list[VolunteerLegalItemRecorded]:
        self._require("record_legal_item")
        _not_future(dated, today, "dated")
        if valid_until is not None and valid_until < dated:
            raise InvalidInput("De geldigheid eindigt vóór de datum van het document / "
                               "The validity ends before the date of the document", field="valid_until")
        return [VolunteerLegalItemRecorded(volunteer_id=self.id, project_id=self.project_id, item=item, dated=dated,
                                           valid_until=valid_until)]

    def keep_warm(self, *, contacted_on: date, kind: KeepWarmKind, has_note: bool, today: date) -> list[VolunteerKeptWarm]:
        self._require("keep_warm")
        self._no_personal_data_after_erasure(has_note)
        _not_future(contacted_on, today, "contacted_on")
        return [VolunteerKeptWarm(volunteer_id=self.id, project_id=self.project_id, contacted_on=contacted_on,
                                  kind=kind, has_note=has_note)]

    def change_personal_data(self) -> list[VolunteerPersonalDataChanged]:
        self._require("change_personal_data")
        self._no_personal_data_after_erasure(True)
        return [VolunteerPersonalDataChanged(volunteer_id=self.id, project_id=self.project_id)]

    def stop(self, *, reason: StopReason) -> list[VolunteerStopped]:
        self._require("stop")
        return [VolunteerStopped(volunteer_id=self.id, project_id=self.project_id, reason=reason)]

    def erase_personal_data(self) -> list[VolunteerPersonalDataErased]:
        self._require("erase_personal_data")
        if self.erased:
            raise DomainError("De persoonsgegevens zijn al gewist / The personal data is already erased")
        return [VolunteerPersonalDataErased(volunteer_id=self.id, project_id=self.project_id)]

    # -- evolution -----------------------------------------------------------------

    def _enter(self, status: VolunteerStatus, since: date | None) -> None:
        if status is not self.status:
            self.status, self.stage_since = status, since
        self.waiting_since = since if status is S.available else None

    def when_VolunteerEnquiryReceived(self, e: VolunteerEnquiryReceived) -> None:
        self.project_id, self.channel, self.municipality_nis = e.project_id, e.channel, e.municipality_nis
        self.age_band, self.gender, self.enquired_on = e.age_band, e.gender, self._on
        self._enter(S.enquired, self._on)

    def when_VolunteerIntakeHeld(self, e: VolunteerIntakeHeld) -> None:
        self._enter(S.intake_held, e.held_on)

    def when_VolunteerScreened(self, e: VolunteerScreened) -> None:
        self.screening, self.refusal_reason = e.outcome, e.refusal_reason
        if e.outcome is ScreeningOutcome.approved:
            self._enter(S.in_preparation, e.screened_on)

    def when_VolunteerTrained(self, e: VolunteerTrained) -> None:
        self.sessions += 1
        self.training_hours = round(self.training_hours + e.hours, 2)

    def when_VolunteerMadeAvailable(self, e: VolunteerMadeAvailable) -> None:
        self.preferences = e.preferences
        self._enter(S.in_duo if self.duos else S.available, self._on)

    def when_VolunteerPreferencesChanged(self, e: VolunteerPreferencesChanged) -> None:
        self.preferences = e.preferences

    def when_VolunteerPaused(self, e: VolunteerPaused) -> None:
        self.paused_until = e.until
        self._enter(S.paused, self._on)

    def when_VolunteerResumed(self, _: VolunteerResumed) -> None:
        self.paused_until = None
        self._enter(S.in_duo if self.duos else S.available, self._on)

    def when_VolunteerJoinedDuo(self, e: VolunteerJoinedDuo) -> None:
        self.duos.add(e.duo_id)
        if self.status not in (S.paused, S.stopped):
            self._enter(S.in_duo, e.joined_on or self._on)

    def when_VolunteerLeftDuo(self, e: VolunteerLeftDuo) -> None:
        self.duos.discard(e.duo_id)
        if self.status is S.in_duo and not self.duos:
            self._enter(S.available, e.left_on or self._on)

    def when_VolunteerLegalItemRecorded(self, e: VolunteerLegalItemRecorded) -> None:
        self.legal[e.item] = LegalRecord(e.dated, e.valid_until)

    def when_VolunteerKeptWarm(self, e: VolunteerKeptWarm) -> None:
        if self.last_kept_warm is None or e.contacted_on > self.last_kept_warm:
            self.last_kept_warm = e.contacted_on

    def when_VolunteerStopped(self, e: VolunteerStopped) -> None:
        self.stop_reason = e.reason
        self._enter(S.stopped, self._on)

    def when_VolunteerPersonalDataErased(self, _: VolunteerPersonalDataErased) -> None:
        self.erased = True


# ---------------------------------------------------------------------------------- what to keep up with


class LegalState(StrEnum):
    ok = "ok"
    missing = "missing"
    expired = "expired"
    expiring = "expiring"


def required_legal_items(works_with_minors: bool) -> tuple[LegalItem, ...]:
    """What every approved volunteer needs; the extract only for work with minors."""
    base = (LegalItem.information_notice, LegalItem.insurance)
    return base + (LegalItem.criminal_record_extract,) if works_with_minors else base


def legal_state(record: LegalRecord | None, *, today: date, horizon_days: int) -> LegalState:
    """Missing, expired, expiring within ``horizon_days`` days, or in order."""
    if record is None:
        return LegalState.missing
    if record.valid_until is not None and record.valid_until < today:
        return LegalState.expired
    if record.valid_until is not None and record.valid_until <= today + timedelta(days=horizon_days):
        return LegalState.expiring
    return LegalState.ok


def legal_findings(legal: Mapping[LegalItem, LegalRecord], *, works_with_minors: bool, today: date,
                   horizon_days: int) -> list[dict[str, Any]]:
    """The required items that are missing, expired or expire within ``horizon_days``."""
    found = []
    for item in required_legal_items(works_with_minors):
        record = legal.get(item)
        state = legal_state(record, today=today, horizon_days=horizon_days)
        if state is not LegalState.ok:
            found.append({"item": item, "state": state, "dated": record.dated if record else None,
                          "valid_until": record.valid_until if record else None})
    return found


def keep_warm_due(warm_since: date | None, today: date, days: int) -> bool:
    """An available volunteer waited more than ``days`` days without a match or a keep-warm contact."""
    return warm_since is not None and (today - warm_since).days > days


def transition_table_markdown() -> str:
    """``TRANSITIONS`` as a Markdown table: docs/recruitment.md holds exactly this text (tested)."""
    lines = ["| command | from | to | events | rule |", "| --- | --- | --- | --- | --- |"]
    order = list(VolunteerStatus)
    for t in TRANSITIONS.values():
        rows: dict[object, list[VolunteerStatus]] = {}
        for source in sorted(t.moves, key=order.index):
            unchanged = t.moves[source] == frozenset({source})
            rows.setdefault("unchanged" if unchanged else t.moves[source], []).append(source)
        for to, sources in rows.items():
            target = "(unchanged)" if to == "unchanged" else ", ".join(
                f"`{s}`" for s in sorted(t.moves[sources[0]], key=order.index))
            lines.append("| `{}` | {} | {} | {} | {} |".format(
                t.command, ", ".join(f"`{s}`" for s in sources), target,
                ", ".join(f"`{e}`" for e in t.events), t.rule))
    return "\n".join(lines)
