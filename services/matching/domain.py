"""Matching domain: participants and duos, deciding events without I/O.

Participant (its own stream; where it stands on the waiting list — ``Placement`` — is
kept by the read model from both streams and passed in where a decision needs it):

    referred ─▶ waiting ──propose──▶ proposed ──start──▶ in_duo ──end──▶ finished
                  ▲  ▲                  │ declined                        │ mismatch: back
                  │  └──────────────────┘                                 │ on the list
                  └──────────────return to waiting list ◀─────────────────┘
    waiting/finished ──withdraw──▶ withdrawn ──return──▶ waiting
    erasure (not while proposed or in a duo): withdraws if needed, destroys the vault key

Duo (the triangle: volunteer, participant, professional):

    new ──propose──▶ proposed ──accept(volunteer) + accept(participant)──▶ (both accepted)
                        │                                                      │ kick_off
                        └──decline(party, reason)──▶ declined                  ▼
    new ──start (a duo agreed outside the system, registered directly)──▶ active
    active ──pause──▶ paused ──resume──▶ active
    active / paused ──end(reason, planned)──▶ ended

A duo is proposed or started only when the pair's facts allow it (``PairFacts``, passed in
by the handler from the read models): never dated before the participant's referral or before
the volunteer was available (422, naming both dates), and for a child, youth or family only
with a volunteer cleared for work with minors on that day and today (409, naming the item and
its date; ``shared.screening``).

Every refusal is a ``DomainError`` (409) with a Dutch and English sentence, or an
``InvalidInput`` (422) naming the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from shared.contracts.common import AvailabilitySlot, Interest, TargetGroup, age_band
from shared.contracts.matching import (
    Consent,
    DeclineReason,
    DuoAccepted,
    DuoDeclined,
    DuoEnded,
    DuoPaused,
    DuoProposed,
    DuoResumed,
    DuoStarted,
    EndReason,
    LifeDomain,
    MatchingWeights,
    MatchingWeightsSet,
    ParticipantConsentRecorded,
    ParticipantIntakeHeld,
    ParticipantPersonalDataErased,
    ParticipantPreferencesChanged,
    ParticipantReferred,
    ParticipantReturnedToWaitingList,
    ParticipantWithdrawn,
    Party,
    PauseReason,
    ReferrerType,
    ReturnReason,
    Wish,
    WithdrawalReason,
)
from shared.domain import Aggregate, DomainError, InvalidInput, NotFound, entered_day
from shared.events.registry import DomainEvent
from shared.screening import LegalDates, ScreeningGap, gaps_on, works_with_minors


def _not_in_future(day: date, today: date | None, field: str) -> None:
    if today is not None and day > today:
        raise InvalidInput(f"De datum {day.isoformat()} ligt in de toekomst / The date {day.isoformat()} lies in the future",
                           field=field)


# ---------------------------------------------------------------------------- participants
class Placement(StrEnum):
    """Where a participant stands; the read model keeps it from participant and duo events."""

    waiting = "waiting"
    proposed = "proposed"
    in_duo = "in_duo"
    finished = "finished"
    withdrawn = "withdrawn"


class Participant(Aggregate):
    stream_type = "participant"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.project_id: str | None = None
        self.target_group: TargetGroup | None = None
        self.consent: Consent | None = None
        self.referred_on: date | None = None
        self.intake_held_on: date | None = None
        self.withdrawn = False
        self.erased = False

    @property
    def consent_allows_matching(self) -> bool:
        return self.consent is not None and self.consent.allows_matching

    # -- commands ------------------------------------------------------------------
    def refer(self, *, project_id: str, target_group: TargetGroup, referrer_type: ReferrerType,
              life_domains: list[LifeDomain], municipality_nis: str, languages: list[str],
              consent_recorded: bool, birth_date: date | None, today: date, consent: Consent | None = None,
              wishes: list[Wish] | None = None, interests: list[Interest] | None = None,
              availability: list[AvailabilitySlot] | None = None,
              referred_on: date | None = None) -> list[ParticipantReferred]:
        """Refer a participant; ``referred_on`` dates a referral entered after the fact (default today).

        The referral day is bounded (not after today, not before the system's floor) and is the
        day the waiting starts: the event carries it and is dated on it."""
        if self.exists:
            raise DomainError(f"Deelnemer {self.id} bestaat al / Participant {self.id} already exists", code="already_exists")
        on = entered_day(referred_on, today, "referred_on") if referred_on is not None else today
        if birth_date is not None and birth_date > today:
            raise InvalidInput("De geboortedatum ligt in de toekomst / The birth date lies in the future",
                               field="personal.birth_date")
        if consent is not None and consent.given_on is not None:
            _not_in_future(consent.given_on, today, "consent_given_on")
        if consent is not None and consent.allows_matching != consent_recorded:
            raise InvalidInput("De toestemming spreekt zichzelf tegen: 'consent_recorded' moet waar zijn als en "
                               "alleen als 'matching' en 'data_processing' gegeven zijn / Contradictory consent: "
                               "'consent_recorded' must be true exactly when 'matching' and 'data_processing' are given",
                               field="consent_recorded")
        return [ParticipantReferred(
            participant_id=self.id, project_id=project_id, target_group=target_group, referrer_type=referrer_type,
            life_domains=_unique(life_domains), municipality_nis=municipality_nis, languages=_unique(languages),
            consent_recorded=consent_recorded, consent=consent, referred_on=on,
            age_band=age_band(birth_date, on) if birth_date else None,
            wishes=_unique(wishes or []), interests=_unique(interests or []), availability=_unique(availability or []),
        )]

    def record_intake(self, *, held_on: date, has_private_notes: bool, today: date) -> list[ParticipantIntakeHeld]:
        self._require_active()
        _not_in_future(held_on, today, "held_on")
        if self.referred_on is not None and held_on < self.referred_on:
            raise InvalidInput("Het intakegesprek kan niet vóór de aanmelding liggen / "
                               "The intake cannot precede the referral", field="held_on")
        return [ParticipantIntakeHeld(participant_id=self.id, project_id=self.project_id, held_on=held_on,
                                      has_private_notes=has_private_notes)]

    def record_consent(self, *, consent: Consent, today: date) -> list[ParticipantConsentRecorded]:
        self._require_active()
        if consent.given_on is not None:
            _not_in_future(consent.given_on, today, "given_on")
        return [ParticipantConsentRecorded(participant_id=self.id, project_id=self.project_id, consent=consent)]

    def change_preferences(self, *, municipality_nis: str, languages: list[str], wishes: list[Wish],
                           interests: list[Interest], availability: list[AvailabilitySlot]) -> list[ParticipantPreferencesChanged]:
        self._require_active()
        return [ParticipantPreferencesChanged(
            participant_id=self.id, project_id=self.project_id, municipality_nis=municipality_nis,
            languages=_unique(languages), wishes=_unique(wishes), interests=_unique(interests),
            availability=_unique(availability))]

    def withdraw(self, *, reason: WithdrawalReason, withdrawn_on: date, placement: Placement,
                 today: date) -> list[ParticipantWithdrawn]:
        self._require_exists()
        self._require_not_erased()
        if self.withdrawn or placement is Placement.withdrawn:
            raise DomainError("Deze deelnemer is al uitgeschreven / This participant has already withdrawn")
        self._require_no_open_duo(placement, "uitschrijven", "withdrawing")
        _not_in_future(withdrawn_on, today, "withdrawn_on")
        if self.referred_on is not None and withdrawn_on < self.referred_on:
            raise InvalidInput("Uitschrijven kan niet vóór de aanmelding / A withdrawal cannot precede the referral",
                               field="withdrawn_on")
        return [ParticipantWithdrawn(participant_id=self.id, project_id=self.project_id, reason=reason,
                                     withdrawn_on=withdrawn_on)]

    def return_to_waiting_list(self, *, reason: ReturnReason, placement: Placement,
                               duo_id: str | None = None) -> list[ParticipantReturnedToWaitingList]:
        self._require_exists()
        self._require_not_erased()
        if placement in (Placement.waiting, Placement.proposed):
            raise DomainError("Deze deelnemer staat al op de wachtlijst / This participant is already on the waiting list")
        if placement is Placement.in_duo:
            raise DomainError("Deze deelnemer zit in een lopend duo; beëindig het eerst / "
                              "This participant is in a running duo; end it first")
        return [ParticipantReturnedToWaitingList(participant_id=self.id, project_id=self.project_id, reason=reason,
                                                 duo_id=duo_id)]

    def erase_personal_data(self, *, placement: Placement, today: date) -> list[DomainEvent]:
        self._require_exists()
        if self.erased:
            raise DomainError("De persoonsgegevens zijn al gewist / The personal data is already erased")
        self._require_no_open_duo(placement, "wissen", "erasing")
        events: list[DomainEvent] = []
        if not self.withdrawn and placement is not Placement.withdrawn:
            events.append(ParticipantWithdrawn(participant_id=self.id, project_id=self.project_id,
                                               reason=WithdrawalReason.erasure_requested, withdrawn_on=today))
        events.append(ParticipantPersonalDataErased(participant_id=self.id, project_id=self.project_id))
        return events

    # -- guards --------------------------------------------------------------------
    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound("Deelnemer", "Participant", self.id)

    def _require_not_erased(self) -> None:
        if self.erased:
            raise DomainError("De gegevens van deze deelnemer zijn gewist / This participant's data has been erased")

    def _require_active(self) -> None:
        self._require_exists()
        self._require_not_erased()
        if self.withdrawn:
            raise DomainError("Deze deelnemer is uitgeschreven / This participant has withdrawn")

    @staticmethod
    def _require_no_open_duo(placement: Placement, verb_nl: str, verb_en: str) -> None:
        if placement is Placement.proposed:
            raise DomainError(f"Er loopt een voorstel voor deze deelnemer; wijs het af vóór het {verb_nl} / "
                              f"A proposal for this participant is open; decline it before {verb_en}")
        if placement is Placement.in_duo:
            raise DomainError(f"Deze deelnemer zit in een lopend duo; beëindig het vóór het {verb_nl} / "
                              f"This participant is in a running duo; end it before {verb_en}")

    # -- state ---------------------------------------------------------------------
    def when_ParticipantReferred(self, e: ParticipantReferred) -> None:
        self.project_id, self.target_group, self.referred_on = e.project_id, e.target_group, e.referred_on
        self.consent = e.consent if e.consent is not None else (
            Consent(scopes=["matching", "data_processing"]) if e.consent_recorded else None)

    def when_ParticipantIntakeHeld(self, e: ParticipantIntakeHeld) -> None:
        self.intake_held_on = e.held_on

    def when_ParticipantConsentRecorded(self, e: ParticipantConsentRecorded) -> None:
        self.consent = e.consent

    def when_ParticipantWithdrawn(self, _: ParticipantWithdrawn) -> None:
        self.withdrawn = True

    def when_ParticipantReturnedToWaitingList(self, _: ParticipantReturnedToWaitingList) -> None:
        self.withdrawn = False

    def when_ParticipantPersonalDataErased(self, _: ParticipantPersonalDataErased) -> None:
        self.erased = True


def _unique(items: list) -> list:  # type: ignore[type-arg]
    """Keep the first of each value, in order: vocabularies are sets."""
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------------------- duos
@dataclass(frozen=True)
class PairFacts:
    """What a proposal or start must respect about the two people, as the read models know it."""

    target_group: str
    referred_on: date | None
    available_since: date | None  # the day the volunteer was made available for matching
    legal: Mapping[str, LegalDates] = field(default_factory=dict)
    extract_max_age_days: int = 365

    def check(self, day: date, today: date, field_name: str, what_nl: str, what_en: str) -> None:
        """Refuse ``day`` (the proposal's or the start's) when it breaks the date order or the screening."""
        if self.referred_on is not None and day < self.referred_on:
            raise InvalidInput(f"{what_nl} ({day.isoformat()}) ligt vóór de aanmelding van de deelnemer "
                               f"({self.referred_on.isoformat()}) / {what_en} ({day.isoformat()}) lies before the "
                               f"participant's referral ({self.referred_on.isoformat()})", field=field_name)
        if self.available_since is not None and day < self.available_since:
            raise InvalidInput(f"{what_nl} ({day.isoformat()}) ligt vóór de dag waarop de vrijwilliger beschikbaar "
                               f"werd ({self.available_since.isoformat()}) / {what_en} ({day.isoformat()}) lies before "
                               f"the volunteer became available ({self.available_since.isoformat()})", field=field_name)
        gaps = self.screening_gaps(day, today)
        if gaps:
            raise DomainError("Deze vrijwilliger is niet gescreend voor werk met minderjarigen: "
                              + "; ".join(g.nl for g in gaps)
                              + " / This volunteer is not screened for work with minors: "
                              + "; ".join(g.en for g in gaps), code="screening_minors")

    def screening_gaps(self, day: date, today: date) -> list[ScreeningGap]:
        """For a child, youth or family: every gap on ``day`` and, if later, on ``today``."""
        if not works_with_minors(self.target_group):
            return []
        found = gaps_on(self.legal, day, self.extract_max_age_days)
        if today > day:
            found += [g for g in gaps_on(self.legal, today, self.extract_max_age_days) if g not in found]
        return found


class DuoStatus(StrEnum):
    new = "new"
    proposed = "proposed"
    declined = "declined"
    active = "active"
    paused = "paused"
    ended = "ended"


OPEN_STATUSES = frozenset({DuoStatus.proposed, DuoStatus.active, DuoStatus.paused})
RUNNING_STATUSES = frozenset({DuoStatus.active, DuoStatus.paused})


class Duo(Aggregate):
    stream_type = "duo"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = DuoStatus.new
        self.project_id: str | None = None
        self.volunteer_id: str | None = None
        self.participant_id: str | None = None
        self.proposed_on: date | None = None
        self.accepted_by: frozenset[Party] = frozenset()
        self.declined_by: Party | None = None
        self.decline_reason: str | None = None
        self.started_on: date | None = None
        self.after_proposal = False
        self.agreed_contacts_per_month: int | None = None
        self.expected_duration_months: int | None = None
        self.paused_on: date | None = None
        self.last_change_on: date | None = None  # the latest lifecycle date: later steps may not precede it
        self.ended_on: date | None = None
        self.end_reason: EndReason | None = None

    # -- proposal ------------------------------------------------------------------
    def propose(self, *, project_id: str, volunteer_id: str, participant_id: str, proposed_on: date,
                today: date | None = None, pair: PairFacts | None = None) -> list[DuoProposed]:
        if self.exists:
            raise DomainError(f"Duo {self.id} bestaat al / Duo {self.id} already exists", code="already_exists")
        _not_in_future(proposed_on, today, "proposed_on")
        if pair is not None:
            pair.check(proposed_on, today or proposed_on, "proposed_on", "Het voorstel", "The proposal")
        return [DuoProposed(duo_id=self.id, project_id=project_id, volunteer_id=volunteer_id,
                            participant_id=participant_id, proposed_on=proposed_on)]

    def accept(self, *, party: Party) -> list[DuoAccepted]:
        self._require_proposed("aanvaarden", "accepted")
        if party in self.accepted_by:
            raise DomainError(f"De {_party_nl(party)} aanvaardde dit voorstel al / The {party.value} already accepted this proposal")
        return [DuoAccepted(duo_id=self.id, project_id=self.project_id, party=party)]

    def decline(self, *, party: Party, reason: DeclineReason) -> list[DuoDeclined]:
        self._require_proposed("afwijzen", "declined")
        return [DuoDeclined(duo_id=self.id, project_id=self.project_id, party=party, reason=reason.value)]

    def kick_off(self, *, started_on: date, agreed_contacts_per_month: int, expected_duration_months: int | None,
                 boundary_agreements_recorded: bool, today: date | None = None,
                 pair: PairFacts | None = None) -> list[DuoStarted]:
        """The kick-off in the triangle, once volunteer and participant both accepted."""
        self._require_proposed("starten", "started")
        missing = [p for p in Party if p not in self.accepted_by]
        if missing:
            nl = " en ".join(_party_nl(p) for p in missing)
            en = " and ".join(p.value for p in missing)
            raise DomainError(f"Het duo kan pas starten als beiden aanvaarden; nog niet aanvaard door: {nl} / "
                              f"The duo can start only once both accepted; not yet accepted by: {en}")
        _not_in_future(started_on, today, "started_on")
        if self.proposed_on is not None and started_on < self.proposed_on:
            raise InvalidInput(f"De kennismaking ({started_on.isoformat()}) kan niet vóór het voorstel "
                               f"({self.proposed_on.isoformat()}) liggen / The kick-off ({started_on.isoformat()}) "
                               f"cannot precede the proposal ({self.proposed_on.isoformat()})", field="started_on")
        if pair is not None:
            pair.check(started_on, today or started_on, "started_on", "De start", "The start")
        return [DuoStarted(duo_id=self.id, project_id=self.project_id, volunteer_id=self.volunteer_id,
                           participant_id=self.participant_id, started_on=started_on,
                           agreed_contacts_per_month=agreed_contacts_per_month,
                           expected_duration_months=expected_duration_months, after_proposal=True,
                           boundary_agreements_recorded=boundary_agreements_recorded)]

    def start(self, *, project_id: str, volunteer_id: str, participant_id: str, started_on: date,
              agreed_contacts_per_month: int, expected_duration_months: int | None = None,
              boundary_agreements_recorded: bool = False, today: date | None = None,
              pair: PairFacts | None = None) -> list[DuoStarted]:
        """Register a duo the triangle already agreed outside the system (no proposal recorded)."""
        if self.exists:
            raise DomainError(f"Duo {self.id} bestaat al / Duo {self.id} already exists", code="already_exists")
        _not_in_future(started_on, today, "started_on")
        if pair is not None:
            pair.check(started_on, today or started_on, "started_on", "De start", "The start")
        return [DuoStarted(duo_id=self.id, project_id=project_id, volunteer_id=volunteer_id,
                           participant_id=participant_id, started_on=started_on,
                           agreed_contacts_per_month=agreed_contacts_per_month,
                           expected_duration_months=expected_duration_months, after_proposal=False,
                           boundary_agreements_recorded=boundary_agreements_recorded)]

    # -- running -------------------------------------------------------------------
    def pause(self, *, paused_on: date, reason: PauseReason | None = None, today: date | None = None) -> list[DuoPaused]:
        self._require_exists()
        if self.status is DuoStatus.paused:
            raise DomainError("Dit duo is al gepauzeerd / This duo is already paused")
        if self.status is not DuoStatus.active:
            raise DomainError(f"Alleen een lopend duo kan pauzeren (dit duo is {_status_nl(self.status)}) / "
                              f"Only a running duo can be paused (this duo is {self.status.value})")
        self._not_before_last(paused_on, "paused_on")
        _not_in_future(paused_on, today, "paused_on")
        return [DuoPaused(duo_id=self.id, project_id=self.project_id, paused_on=paused_on, reason=reason)]

    def resume(self, *, resumed_on: date, today: date | None = None) -> list[DuoResumed]:
        self._require_exists()
        if self.status is not DuoStatus.paused:
            raise DomainError(f"Alleen een gepauzeerd duo kan hervatten (dit duo is {_status_nl(self.status)}) / "
                              f"Only a paused duo can be resumed (this duo is {self.status.value})")
        self._not_before_last(resumed_on, "resumed_on")
        _not_in_future(resumed_on, today, "resumed_on")
        return [DuoResumed(duo_id=self.id, project_id=self.project_id, resumed_on=resumed_on)]

    def end(self, *, ended_on: date, reason: EndReason, planned: bool, today: date | None = None) -> list[DuoEnded]:
        if not self.exists:
            raise NotFound("Duo", "Duo", self.id)
        if self.status is DuoStatus.ended:
            raise DomainError("Dit duo is al beëindigd / This duo has already ended")
        if self.status not in RUNNING_STATUSES:
            raise DomainError(f"Dit duo is nooit gestart (het is {_status_nl(self.status)}); wijs het voorstel af / "
                              f"This duo never started (it is {self.status.value}); decline the proposal instead")
        if self.started_on and ended_on < self.started_on:
            raise InvalidInput("Een duo kan niet eindigen vóór het begon / A duo cannot end before it started",
                               field="ended_on")
        self._not_before_last(ended_on, "ended_on")
        _not_in_future(ended_on, today, "ended_on")
        return [DuoEnded(duo_id=self.id, project_id=self.project_id, volunteer_id=self.volunteer_id,
                         participant_id=self.participant_id, ended_on=ended_on, reason=reason, planned=planned)]

    # -- guards --------------------------------------------------------------------
    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound("Duo", "Duo", self.id)

    def _require_proposed(self, verb_nl: str, verb_en: str) -> None:
        self._require_exists()
        if self.status is not DuoStatus.proposed:
            raise DomainError(f"Alleen een openstaand voorstel kan je {verb_nl} (dit duo is {_status_nl(self.status)}) / "
                              f"Only an open proposal can be {verb_en} (this duo is {self.status.value})")

    def _not_before_last(self, day: date, field: str) -> None:
        if self.last_change_on is not None and day < self.last_change_on:
            raise InvalidInput(f"De datum ligt vóór de vorige stap van het duo ({self.last_change_on.isoformat()}) / "
                               f"The date lies before the duo's previous step ({self.last_change_on.isoformat()})",
                               field=field)

    # -- state ---------------------------------------------------------------------
    def when_DuoProposed(self, e: DuoProposed) -> None:
        self.status, self.project_id, self.proposed_on = DuoStatus.proposed, e.project_id, e.proposed_on
        self.volunteer_id, self.participant_id = e.volunteer_id, e.participant_id
        self.last_change_on = e.proposed_on

    def when_DuoAccepted(self, e: DuoAccepted) -> None:
        self.accepted_by = self.accepted_by | {e.party}

    def when_DuoDeclined(self, e: DuoDeclined) -> None:
        self.status, self.declined_by, self.decline_reason = DuoStatus.declined, e.party, e.reason

    def when_DuoStarted(self, e: DuoStarted) -> None:
        self.status, self.project_id, self.started_on = DuoStatus.active, e.project_id, e.started_on
        self.volunteer_id, self.participant_id = e.volunteer_id, e.participant_id
        self.after_proposal = e.after_proposal
        self.agreed_contacts_per_month, self.expected_duration_months = e.agreed_contacts_per_month, e.expected_duration_months
        self.last_change_on = e.started_on

    def when_DuoPaused(self, e: DuoPaused) -> None:
        self.status, self.paused_on, self.last_change_on = DuoStatus.paused, e.paused_on, e.paused_on

    def when_DuoResumed(self, e: DuoResumed) -> None:
        self.status, self.paused_on, self.last_change_on = DuoStatus.active, None, e.resumed_on

    def when_DuoEnded(self, e: DuoEnded) -> None:
        self.status, self.ended_on, self.end_reason, self.last_change_on = DuoStatus.ended, e.ended_on, e.reason, e.ended_on


_STATUS_NL = {
    DuoStatus.new: "nieuw", DuoStatus.proposed: "voorgesteld", DuoStatus.declined: "afgewezen",
    DuoStatus.active: "lopend", DuoStatus.paused: "gepauzeerd", DuoStatus.ended: "beëindigd",
}


def _status_nl(status: DuoStatus) -> str:
    return _STATUS_NL[status]


def _party_nl(party: Party) -> str:
    return "buddy" if party is Party.volunteer else "deelnemer"


# ---------------------------------------------------------------------------- weights
class ProjectWeights(Aggregate):
    """A project's matching weights; the stream id is ``weights:<project_id>``."""

    stream_type = "matching_weights"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.weights: MatchingWeights | None = None

    @staticmethod
    def stream_of(project_id: str) -> str:
        stream = f"weights:{project_id}"
        if len(stream) <= 100:  # the store's stream ids are at most 100 characters
            return stream
        return "weights:" + hashlib.sha256(project_id.encode()).hexdigest()

    def set(self, *, project_id: str, weights: MatchingWeights) -> list[MatchingWeightsSet]:
        if sum(weights.model_dump().values()) <= 0:
            raise InvalidInput("Minstens één gewicht moet groter dan nul zijn / At least one weight must be above zero",
                               field="weights")
        if weights == self.weights:
            return []  # nothing changes: nothing to record
        return [MatchingWeightsSet(project_id=project_id, weights=weights)]

    def when_MatchingWeightsSet(self, e: MatchingWeightsSet) -> None:
        self.weights = e.weights
