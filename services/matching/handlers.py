"""Command handlers and queries of matching.

Each command, in one transaction that first takes the store's head lock: load the
aggregate, let it decide, append the events (with sealed personal data beside them),
update the read models (``projection.apply``) and the blind name index. Hard
constraints of a pair are the same function the suggestions use
(``suggestions.violations``), checked inside that transaction, so two professionals
cannot fill the same volunteer's last place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Connection, and_, func, select

from shared.auth import Principal, require_project
from shared.clock import brussels_day
from shared.contracts.common import (
    AvailabilitySlot,
    BirthDate,
    Day,
    Id,
    Interest,
    LanguageCode,
    Line,
    NisCode,
    TargetGroup,
    Text,
)
from shared.contracts.matching import (
    Consent,
    ConsentScope,
    DeclineReason,
    EndReason,
    LifeDomain,
    MatchingWeights,
    Party,
    PauseReason,
    ReferrerType,
    ReturnReason,
    Wish,
    WithdrawalReason,
)
from shared.domain import Aggregate, DomainError, InvalidInput, NotFound, Repository
from shared.duplicates import identity_keys, refuse_likely_duplicate
from shared.events.registry import DomainEvent
from shared.eventstore import NewEvent
from shared.eventstore.db import reader
from shared.eventstore.store import format_time, parse_time
from shared.municipalities import lookup
from shared.screening import LegalDates, ScreeningSettings, gaps_on
from shared.service import ServiceRuntime
from services.matching import assignment as solver
from services.matching import projection
from services.matching.config import MatchingSettings
from services.matching.domain import OPEN_STATUSES, Duo, DuoStatus, PairFacts, Participant, Placement, ProjectWeights
from services.matching.read_models import candidates, duos, participant_names, participants, projects, weights
from services.matching.suggestions import (
    Candidate,
    Scoring,
    Seeker,
    Violation,
    evaluate,
    excluded,
    ranked_columns,
    score_matrix,
    top_k,
    violations,
)

# ---------------------------------------------------------------------------- commands (request bodies)


class ParticipantPersonalData(BaseModel):
    """Kept only encrypted in this service."""

    first_name: Line = Field(min_length=1, max_length=100)
    last_name: Line = Field(min_length=1, max_length=100)
    phone: Line | None = Field(None, max_length=40)
    birth_date: BirthDate | None = None
    address: Line | None = Field(None, max_length=300)
    notes: Text | None = Field(None, max_length=5000)


class ReferParticipant(BaseModel):
    target_group: TargetGroup = Field(description="A family is one participant (target group `family`).")
    referrer_type: ReferrerType
    life_domains: list[LifeDomain] = Field(min_length=1)
    municipality_nis: NisCode
    languages: list[LanguageCode] = Field(default_factory=lambda: ["nl"], min_length=1, max_length=10)
    wishes: list[Wish] = Field(default_factory=list, max_length=20)
    interests: list[Interest] = Field(default_factory=list, max_length=20)
    availability: list[AvailabilitySlot] = Field(default_factory=list, max_length=21)
    consent_recorded: bool = Field(description="The participant agreed to be matched and to have data kept.")
    consent_scopes: list[ConsentScope] | None = Field(
        None, description="What was agreed; default `matching` and `data_processing` when consent_recorded.")
    consent_given_on: Day | None = Field(None, description="When consent was given; default the referral day.")
    referred_on: Day | None = Field(
        None, description="When the participant was referred, if not today (a referral entered after the fact). Not in "
        "the future; the waiting starts on it, and a duo cannot be proposed or started before it.")
    personal: ParticipantPersonalData
    confirmed_other_person: bool = Field(
        False, description="The professional confirms this is not the person of an existing file with the same name "
        "and birth date (otherwise such a referral is answered 409 with that file's number).")


class RecordIntake(BaseModel):
    held_on: Day
    notes: Text | None = Field(None, max_length=5000, description="Private: sealed, never published.")


class RecordConsent(BaseModel):
    scopes: list[ConsentScope] = Field(max_length=10, description="Everything agreed now; an empty list withdraws it.")
    given_on: Day | None = None


class ChangePreferences(BaseModel):
    municipality_nis: NisCode
    languages: list[LanguageCode] = Field(min_length=1, max_length=10)
    wishes: list[Wish] = Field(default_factory=list, max_length=20)
    interests: list[Interest] = Field(default_factory=list, max_length=20)
    availability: list[AvailabilitySlot] = Field(default_factory=list, max_length=21)


class Withdraw(BaseModel):
    reason: WithdrawalReason
    withdrawn_on: Day


class ReturnToWaitingList(BaseModel):
    reason: ReturnReason


class ProposeDuo(BaseModel):
    volunteer_id: Id
    participant_id: Id
    proposed_on: Day | None = Field(None, description="Default today.")


class Answer(BaseModel):
    party: Party


class Decline(BaseModel):
    party: Party
    reason: DeclineReason


class KickOff(BaseModel):
    started_on: Day
    agreed_contacts_per_month: int = Field(2, ge=1, le=31)
    expected_duration_months: int | None = Field(None, ge=1, le=60)
    boundary_agreements: Text | None = Field(
        None, max_length=5000, description="Private agreements on boundaries: sealed under the participant's key.")


class StartDuo(BaseModel):
    """Register a duo agreed outside the system (no proposal recorded)."""

    volunteer_id: Id
    participant_id: Id
    started_on: Day
    agreed_contacts_per_month: int = Field(2, ge=1, le=31)
    expected_duration_months: int | None = Field(None, ge=1, le=60)
    boundary_agreements: Text | None = Field(None, max_length=5000)


class PauseDuo(BaseModel):
    paused_on: Day
    reason: PauseReason | None = None


class ResumeDuo(BaseModel):
    resumed_on: Day


class EndDuo(BaseModel):
    ended_on: Day
    reason: EndReason
    planned: bool


class SetWeights(MatchingWeights):
    @model_validator(mode="after")
    def _some_weight(self) -> "SetWeights":
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one weight must be above zero")
        return self


def _municipality(nis: str, field: str = "municipality_nis") -> None:
    if lookup(nis) is None:
        raise InvalidInput(f"Onbekende NIS-code {nis} / Unknown municipality code {nis}", field=field)


def _violation_error(found: Sequence[Violation]) -> DomainError:
    nl = "; ".join(v.nl for v in found)
    en = "; ".join(v.en for v in found)
    return DomainError(f"{nl} / {en}")


FAILED_ENDS = frozenset({EndReason.mismatch.value, EndReason.boundary_problem.value})
NOT_WAITING = Violation("participant_waiting", "Deze deelnemer wacht niet op een match",
                        "This participant is not waiting for a match")
NO_INTAKE = Violation("intake", "Er is nog geen intakegesprek met deze deelnemer geregistreerd",
                      "No intake with this participant is recorded yet")


def _day(stamp: str | None) -> date | None:
    """The Belgian calendar day of a recorded time (a dated event sits at midnight UTC of its day)."""
    return brussels_day(parse_time(stamp)) if stamp else None


def _legal(row: Any) -> dict[str, LegalDates]:
    """A candidate's legal items as recruitment published them (dates and kinds only)."""
    out = {}
    for item, dates in (row["legal"] or {}).items():
        out[item] = LegalDates(date.fromisoformat(dates["dated"]),
                               date.fromisoformat(dates["valid_until"]) if dates.get("valid_until") else None)
    return out


class MatchingHandlers:
    def __init__(self, runtime: ServiceRuntime, config: MatchingSettings | None = None,
                 screening: ScreeningSettings | None = None) -> None:
        self.runtime = runtime
        self.config = config or MatchingSettings()
        self.default_weights = self.config.default_weights()
        self.participants = Repository(runtime.store, Participant)
        self.duos = Repository(runtime.store, Duo)
        self.weight_streams = Repository(runtime.store, ProjectWeights)
        self.screening = screening or ScreeningSettings()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction that takes the store's head lock first (``exclusive``).

        Matching's commands lock read-model rows before they decide (the volunteer and the
        participant of a pair) and their projections update such rows after appending; taking
        the head first gives every command the same lock order (head, then read-model rows),
        so a command that locks a participant cannot deadlock with one whose projection
        updates that participant after appending. The other services' commands take the head
        lock only at the append (``EventStore.transaction``).
        """
        with self.runtime.store.transaction(exclusive=True) as conn:
            yield conn

    @property
    def vault(self):  # type: ignore[no-untyped-def]
        assert self.runtime.vault is not None
        return self.runtime.vault

    def _save(self, conn: Connection, aggregate: Aggregate, events: Sequence[DomainEvent], principal: Principal,
              correlation_id: uuid.UUID, *, seal: tuple[str, dict[str, Any]] | None = None,
              occurred_on: date | None = None) -> None:
        """Append, apply and project; ``seal`` = (subject, data) is sealed beside the first event.

        ``occurred_on``: the real day of a command entered after the fact; its events are dated
        at midnight UTC of that day (the same Belgian and UTC day), as recruitment dates them."""
        # one time for the log and the read models, so a rebuild equals live
        now = (datetime.combine(occurred_on, time.min, tzinfo=UTC) if occurred_on is not None
               else self.runtime.clock.now())
        new = []
        for i, event in enumerate(events):
            subject = sealed = None
            if seal is not None and i == 0:
                subject, sealed = seal[0], self.vault.seal(conn, seal[0], seal[1])
            new.append(NewEvent(event, occurred_at=now, project_id=getattr(event, "project_id", None),
                                subject_id=subject, sealed=sealed))
        self.runtime.store.append(aggregate.id, aggregate.version, new, actor=principal.actor,
                                  correlation_id=correlation_id, conn=conn)
        for item in new:
            aggregate.apply(item.payload)
            projection.apply(conn, item.payload, at=format_time(now), actor_id=principal.actor.id)

    def _project(self, conn: Connection, project_id: str, *, open_only: bool = False) -> dict[str, Any]:
        row = conn.execute(select(projects).where(projects.c.project_id == project_id)).mappings().first()
        if row is None:
            raise NotFound("Project", "Project", project_id)
        if open_only and row["closed"]:
            raise DomainError("Dit project is afgesloten / This project is closed")
        return dict(row)

    def _today(self) -> date:
        return self.runtime.clock.today()

    def _participant(self, conn: Connection, participant_id: str, principal: Principal) -> tuple[Participant, Placement]:
        participant = self.participants.get(participant_id, conn)
        if not participant.exists:
            raise NotFound("Deelnemer", "Participant", participant_id)
        require_project(principal, participant.project_id or "")
        status = conn.execute(select(participants.c.status).where(participants.c.participant_id == participant_id)
                              .with_for_update()).scalar()
        return participant, Placement(status or Placement.waiting)

    def _duo(self, conn: Connection, duo_id: str, principal: Principal) -> Duo:
        duo = self.duos.get(duo_id, conn)
        if not duo.exists:
            raise NotFound("Duo", "Duo", duo_id)
        require_project(principal, duo.project_id or "")
        return duo

    # ------------------------------------------------------------------ participants
    def refer(self, project_id: str, cmd: ReferParticipant, principal: Principal, correlation_id: uuid.UUID) -> Participant:
        require_project(principal, project_id)
        _municipality(cmd.municipality_nis)
        today = self._today()
        scopes = cmd.consent_scopes if cmd.consent_scopes is not None else (
            [ConsentScope.matching, ConsentScope.data_processing] if cmd.consent_recorded else [])
        consent = Consent(scopes=list(dict.fromkeys(scopes)),
                          given_on=cmd.consent_given_on or ((cmd.referred_on or today) if scopes else None),
                          recorded_by=principal.actor.id) if scopes or cmd.consent_given_on else None
        participant = Participant(f"pt-{uuid.uuid4().hex}")
        events = participant.refer(
            project_id=project_id, target_group=cmd.target_group, referrer_type=cmd.referrer_type,
            life_domains=cmd.life_domains, municipality_nis=cmd.municipality_nis, languages=cmd.languages,
            consent_recorded=cmd.consent_recorded, birth_date=cmd.personal.birth_date, today=today,
            consent=consent, wishes=cmd.wishes, interests=cmd.interests, availability=cmd.availability,
            referred_on=cmd.referred_on,
        )
        with self._writing() as conn:
            project = self._project(conn, project_id, open_only=True)
            if project["target_groups"] and cmd.target_group.value not in project["target_groups"]:
                raise InvalidInput("Dit project werkt niet met deze doelgroep / This project does not work with this "
                                   "target group", field="target_group")
            keys = identity_keys(self.vault, cmd.personal.first_name, cmd.personal.last_name, cmd.personal.birth_date)
            existing = conn.execute(
                select(participant_names.c.participant_id).join(
                    participants, participants.c.participant_id == participant_names.c.participant_id)
                .where(participants.c.project_id == project_id, participant_names.c.token.in_(keys))
                .distinct()).scalars().all() if keys else []
            refuse_likely_duplicate(existing, confirmed_other_person=cmd.confirmed_other_person,
                                    what_nl="deelnemer", what_en="participant")
            self._save(conn, participant, events, principal, correlation_id,
                       seal=(participant.id, cmd.personal.model_dump(mode="json")), occurred_on=cmd.referred_on)
            projection.index_names(conn, self.vault, participant.id, cmd.personal.first_name, cmd.personal.last_name,
                                   cmd.personal.birth_date)
        self.runtime.recorded()
        return participant

    def record_intake(self, participant_id: str, cmd: RecordIntake, principal: Principal,
                      correlation_id: uuid.UUID) -> Participant:
        with self._writing() as conn:
            participant, _ = self._participant(conn, participant_id, principal)
            events = participant.record_intake(held_on=cmd.held_on, has_private_notes=bool(cmd.notes), today=self._today())
            self._save(conn, participant, events, principal, correlation_id,
                       seal=(participant.id, {"intake_notes": cmd.notes}) if cmd.notes else None)
        self.runtime.recorded()
        return participant

    def record_consent(self, participant_id: str, cmd: RecordConsent, principal: Principal,
                       correlation_id: uuid.UUID) -> Participant:
        consent = Consent(scopes=list(dict.fromkeys(cmd.scopes)),
                          given_on=cmd.given_on or (self._today() if cmd.scopes else None), recorded_by=principal.actor.id)
        with self._writing() as conn:
            participant, _ = self._participant(conn, participant_id, principal)
            self._save(conn, participant, participant.record_consent(consent=consent, today=self._today()),
                       principal, correlation_id)
        self.runtime.recorded()
        return participant

    def change_preferences(self, participant_id: str, cmd: ChangePreferences, principal: Principal,
                           correlation_id: uuid.UUID) -> Participant:
        _municipality(cmd.municipality_nis)
        with self._writing() as conn:
            participant, _ = self._participant(conn, participant_id, principal)
            events = participant.change_preferences(
                municipality_nis=cmd.municipality_nis, languages=cmd.languages, wishes=cmd.wishes,
                interests=cmd.interests, availability=cmd.availability)
            self._save(conn, participant, events, principal, correlation_id)
        self.runtime.recorded()
        return participant

    def withdraw(self, participant_id: str, cmd: Withdraw, principal: Principal, correlation_id: uuid.UUID) -> Participant:
        with self._writing() as conn:
            participant, placement = self._participant(conn, participant_id, principal)
            events = participant.withdraw(reason=cmd.reason, withdrawn_on=cmd.withdrawn_on, placement=placement,
                                          today=self._today())
            self._save(conn, participant, events, principal, correlation_id)
        self.runtime.recorded()
        return participant

    def return_to_waiting_list(self, participant_id: str, cmd: ReturnToWaitingList, principal: Principal,
                               correlation_id: uuid.UUID) -> Participant:
        with self._writing() as conn:
            participant, placement = self._participant(conn, participant_id, principal)
            self._project(conn, participant.project_id or "", open_only=True)
            events = participant.return_to_waiting_list(reason=cmd.reason, placement=placement)
            self._save(conn, participant, events, principal, correlation_id)
        self.runtime.recorded()
        return participant

    def erase(self, participant_id: str, principal: Principal, correlation_id: uuid.UUID) -> Participant:
        """Crypto-shred the participant: their vault key goes, so do their name index and sealed agreements."""
        with self._writing() as conn:
            participant, placement = self._participant(conn, participant_id, principal)
            events = participant.erase_personal_data(placement=placement, today=self._today())
            self._save(conn, participant, events, principal, correlation_id)
            self.vault.erase(conn, participant.id)
        self.runtime.recorded()
        return participant

    # ------------------------------------------------------------------ duos
    def _pair(self, conn: Connection, project_id: str, volunteer_id: str, participant_id: str,
              *, counting_proposal: str | None = None) -> tuple[Candidate, Seeker, dict[str, Any], PairFacts]:
        """Lock the volunteer and participant rows and build the pair the constraints look at."""
        volunteer = conn.execute(select(candidates).where(candidates.c.volunteer_id == volunteer_id)
                                 .with_for_update()).mappings().first()
        participant = conn.execute(select(participants).where(participants.c.participant_id == participant_id)
                                   .with_for_update()).mappings().first()
        if volunteer is None or volunteer["project_id"] != project_id:
            raise NotFound("Vrijwilliger", "Volunteer", volunteer_id)
        if participant is None or participant["project_id"] != project_id:
            raise NotFound("Deelnemer", "Participant", participant_id)
        load = self._loads(conn, [volunteer_id], excluding=counting_proposal).get(volunteer_id, 0)
        tried = self._tried(conn, [participant_id], excluding=counting_proposal).get(participant_id, frozenset())
        facts = PairFacts(target_group=participant["target_group"], referred_on=_day(participant["referred_at"]),
                          available_since=_day(volunteer["available_since"]), legal=_legal(volunteer),
                          extract_max_age_days=self.screening.extract_max_age_days)
        return self._candidate(volunteer, load), _seeker(participant, tried), dict(participant), facts

    def _check_new_pair(self, candidate: Candidate, seeker: Seeker, participant: dict[str, Any]) -> None:
        found = violations(seeker, candidate)
        if participant["status"] != Placement.waiting:
            found.append(NOT_WAITING)
        if self.config.require_intake and participant["intake_held_on"] is None:
            found.append(NO_INTAKE)
        if found:
            raise _violation_error(found)

    def propose(self, project_id: str, cmd: ProposeDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        require_project(principal, project_id)
        duo = Duo(f"d-{uuid.uuid4().hex}")
        with self._writing() as conn:
            self._project(conn, project_id, open_only=True)
            candidate, seeker, row, facts = self._pair(conn, project_id, cmd.volunteer_id, cmd.participant_id)
            self._check_new_pair(candidate, seeker, row)
            events = duo.propose(project_id=project_id, volunteer_id=cmd.volunteer_id, participant_id=cmd.participant_id,
                                 proposed_on=cmd.proposed_on or self._today(), today=self._today(), pair=facts)
            self._save(conn, duo, events, principal, correlation_id)
        self.runtime.recorded()
        return duo

    def accept(self, duo_id: str, cmd: Answer, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        with self._writing() as conn:
            duo = self._duo(conn, duo_id, principal)
            self._save(conn, duo, duo.accept(party=cmd.party), principal, correlation_id)
        self.runtime.recorded()
        return duo

    def decline(self, duo_id: str, cmd: Decline, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        with self._writing() as conn:
            duo = self._duo(conn, duo_id, principal)
            self._save(conn, duo, duo.decline(party=cmd.party, reason=cmd.reason), principal, correlation_id)
        self.runtime.recorded()
        return duo

    def kick_off(self, duo_id: str, cmd: KickOff, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        with self._writing() as conn:
            duo = self._duo(conn, duo_id, principal)
            facts = None
            if duo.status is DuoStatus.proposed:
                # The proposal holds the volunteer's place; the rest must still hold at the kick-off.
                candidate, seeker, _, facts = self._pair(conn, duo.project_id or "", duo.volunteer_id or "",
                                                         duo.participant_id or "", counting_proposal=duo.id)
                found = violations(seeker, candidate)
                if found:
                    raise _violation_error(found)
            events = duo.kick_off(started_on=cmd.started_on, agreed_contacts_per_month=cmd.agreed_contacts_per_month,
                                  expected_duration_months=cmd.expected_duration_months,
                                  boundary_agreements_recorded=bool(cmd.boundary_agreements), today=self._today(),
                                  pair=facts)
            seal = ((duo.participant_id or "", {"boundary_agreements": cmd.boundary_agreements})
                    if cmd.boundary_agreements else None)
            self._save(conn, duo, events, principal, correlation_id, seal=seal)
        self.runtime.recorded()
        return duo

    def start_duo(self, project_id: str, cmd: StartDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        require_project(principal, project_id)
        if cmd.started_on > self._today():
            raise InvalidInput("Een duo kan niet in de toekomst starten / A duo cannot start in the future", field="started_on")
        duo = Duo(f"d-{uuid.uuid4().hex}")
        with self._writing() as conn:
            self._project(conn, project_id, open_only=True)
            candidate, seeker, row, facts = self._pair(conn, project_id, cmd.volunteer_id, cmd.participant_id)
            self._check_new_pair(candidate, seeker, row)
            events = duo.start(project_id=project_id, volunteer_id=cmd.volunteer_id, participant_id=cmd.participant_id,
                               started_on=cmd.started_on, agreed_contacts_per_month=cmd.agreed_contacts_per_month,
                               expected_duration_months=cmd.expected_duration_months,
                               boundary_agreements_recorded=bool(cmd.boundary_agreements), today=self._today(),
                               pair=facts)
            seal = (cmd.participant_id, {"boundary_agreements": cmd.boundary_agreements}) if cmd.boundary_agreements else None
            self._save(conn, duo, events, principal, correlation_id, seal=seal)
        self.runtime.recorded()
        return duo

    def pause(self, duo_id: str, cmd: PauseDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        with self._writing() as conn:
            duo = self._duo(conn, duo_id, principal)
            self._save(conn, duo, duo.pause(paused_on=cmd.paused_on, reason=cmd.reason, today=self._today()),
                       principal, correlation_id)
        self.runtime.recorded()
        return duo

    def resume(self, duo_id: str, cmd: ResumeDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        with self._writing() as conn:
            duo = self._duo(conn, duo_id, principal)
            self._save(conn, duo, duo.resume(resumed_on=cmd.resumed_on, today=self._today()), principal, correlation_id)
        self.runtime.recorded()
        return duo

    def end_duo(self, duo_id: str, cmd: EndDuo, principal: Principal, correlation_id: uuid.UUID) -> Duo:
        """End a duo; after a mismatch the participant is back on the waiting list in the same transaction."""
        with self._writing() as conn:
            duo = self._duo(conn, duo_id, principal)
            events = duo.end(ended_on=cmd.ended_on, reason=cmd.reason, planned=cmd.planned, today=self._today())
            self._save(conn, duo, events, principal, correlation_id)
            if cmd.reason is EndReason.mismatch:
                participant, _ = self._participant(conn, duo.participant_id or "", principal)
                self._save(conn, participant, participant.return_to_waiting_list(
                    reason=ReturnReason.mismatch, placement=Placement.finished, duo_id=duo.id),
                    principal, correlation_id)
        self.runtime.recorded()
        return duo

    # ------------------------------------------------------------------ weights
    def weights_of(self, conn: Connection, project_id: str) -> tuple[MatchingWeights, dict[str, Any] | None]:
        row = conn.execute(select(weights).where(weights.c.project_id == project_id)).mappings().first()
        if row is None:
            return self.default_weights, None
        return MatchingWeights.model_validate(row["weights"]), dict(row)

    def set_weights(self, project_id: str, cmd: SetWeights, principal: Principal, correlation_id: uuid.UUID) -> dict[str, Any]:
        require_project(principal, project_id)
        chosen = MatchingWeights.model_validate(cmd.model_dump())
        with self._writing() as conn:
            self._project(conn, project_id)
            stream = self.weight_streams.get(ProjectWeights.stream_of(project_id), conn)
            self._save(conn, stream, stream.set(project_id=project_id, weights=chosen), principal, correlation_id)
        self.runtime.recorded()
        return self.weights(project_id, principal)

    def weights(self, project_id: str, principal: Principal) -> dict[str, Any]:
        require_project(principal, project_id)
        with reader(self.runtime.engine).connect() as conn:
            self._project(conn, project_id)
            chosen, row = self.weights_of(conn, project_id)
        return {"project_id": project_id, "weights": chosen.model_dump(), "source": "project" if row else "default",
                "set_at": row["set_at"] if row else None, "set_by": row["set_by"] if row else None}

    # ------------------------------------------------------------------ queries: pool
    @staticmethod
    def _loads(conn: Connection, volunteer_ids: Sequence[str] | None, *, project_id: str | None = None,
               excluding: str | None = None) -> dict[str, int]:
        """Open proposals and running duos per volunteer."""
        query = (select(duos.c.volunteer_id, func.count()).where(duos.c.status.in_([s.value for s in OPEN_STATUSES]))
                 .group_by(duos.c.volunteer_id))
        if volunteer_ids is not None:
            query = query.where(duos.c.volunteer_id.in_(list(volunteer_ids)))
        if project_id is not None:
            query = query.where(duos.c.project_id == project_id)
        if excluding is not None:
            query = query.where(duos.c.duo_id != excluding)
        return {v: n for v, n in conn.execute(query)}

    @staticmethod
    def _tried(conn: Connection, participant_ids: Sequence[str] | None, *, project_id: str | None = None,
               excluding: str | None = None) -> dict[str, frozenset[str]]:
        """Per participant, the volunteers of a declined proposal or a duo that ended badly: not again."""
        query = select(duos.c.participant_id, duos.c.volunteer_id).where(
            (duos.c.status == DuoStatus.declined.value)
            | ((duos.c.status == DuoStatus.ended.value) & duos.c.end_reason.in_(list(FAILED_ENDS))))
        if participant_ids is not None:
            query = query.where(duos.c.participant_id.in_(list(participant_ids)))
        if project_id is not None:
            query = query.where(duos.c.project_id == project_id)
        if excluding is not None:
            query = query.where(duos.c.duo_id != excluding)
        found: dict[str, set[str]] = {}
        for participant_id, volunteer_id in conn.execute(query):
            found.setdefault(participant_id, set()).add(volunteer_id)
        return {k: frozenset(v) for k, v in found.items()}

    def _seekers(self, conn: Connection, rows: Sequence[Any], project_id: str) -> list[Seeker]:
        tried = self._tried(conn, None, project_id=project_id)
        return [_seeker(r, tried.get(r["participant_id"], frozenset())) for r in rows]

    @staticmethod
    def _last_duo_days(conn: Connection, project_id: str) -> dict[str, date]:
        """Per volunteer the latest start or end of one of their duos: from then on they wait again."""
        latest: dict[str, date] = {}
        query = (select(duos.c.volunteer_id, func.max(duos.c.started_on), func.max(duos.c.ended_on))
                 .where(duos.c.project_id == project_id).group_by(duos.c.volunteer_id))
        for volunteer_id, started, ended in conn.execute(query):
            days = [date.fromisoformat(d) for d in (started, ended) if d]
            if days:
                latest[volunteer_id] = max(days)
        return latest

    def _pool(self, conn: Connection, project_id: str) -> list[Candidate]:
        rows = conn.execute(select(candidates).where(candidates.c.project_id == project_id,
                                                     candidates.c.status == "available",
                                                     candidates.c.erased.is_(False))
                            .order_by(candidates.c.available_since, candidates.c.volunteer_id)).mappings().all()
        loads = self._loads(conn, None, project_id=project_id)
        last = self._last_duo_days(conn, project_id)
        return [self._candidate(r, loads.get(r["volunteer_id"], 0), last.get(r["volunteer_id"])) for r in rows]

    def _candidate(self, row: Any, load: int, last_duo: date | None = None) -> Candidate:
        """A pool row as the constraints see it, with its screening for minors decided for today."""
        gaps = tuple(gaps_on(_legal(row), self._today(), self.screening.extract_max_age_days))
        return _candidate(row, load, last_duo, screening_gaps=gaps)

    def candidates(self, project_id: str, principal: Principal, *, status: str | None = "available",
                   target_group: TargetGroup | None = None, language: str | None = None, has_room: bool | None = None,
                   limit: int = 100, offset: int = 0) -> dict[str, Any]:
        require_project(principal, project_id)
        today = self._today()
        with reader(self.runtime.engine).connect() as conn:
            self._project(conn, project_id)
            query = select(candidates).where(candidates.c.project_id == project_id)
            if status is not None:  # "available" means offered for matching: never an erased volunteer
                query = query.where(candidates.c.status == status, candidates.c.erased.is_(False))
            rows = conn.execute(query.order_by(candidates.c.available_since, candidates.c.volunteer_id)).mappings().all()
            loads = self._loads(conn, None, project_id=project_id)
            last = self._last_duo_days(conn, project_id)
        items = []
        for r in rows:
            if target_group is not None and target_group.value not in r["target_groups"]:
                continue
            if language is not None and language not in r["languages"]:
                continue
            load = loads.get(r["volunteer_id"], 0)
            room = max(0, r["max_duos"] - load)
            if has_room is not None and (room > 0) != has_room:
                continue
            since = None if r["erased"] else _waiting_since(_day(r["available_since"]), last.get(r["volunteer_id"]))
            gaps = gaps_on(_legal(r), today, self.screening.extract_max_age_days)
            items.append({
                "volunteer_id": r["volunteer_id"], "status": r["status"],
                "municipality_nis": r["home_nis"] or r["municipality_nis"], "target_groups": r["target_groups"],
                "languages": r["languages"], "interests": r["interests"], "availability": r["availability"],
                "travel": r["travel"], "max_duos": r["max_duos"], "active_duos": load, "capacity_left": room,
                "available_since": r["available_since"], "waiting_since": since.isoformat() if since else None,
                "waiting_days": max(0, (today - since).days) if since else None,
                "cleared_for_minors": not gaps, "screening_gaps": [g.as_dict() for g in gaps],
                "personal_data_erased": bool(r["erased"]), **_erased_label(bool(r["erased"])),
            })
        return {"candidates": items[offset:offset + limit], "total": len(items), "limit": limit, "offset": offset}

    # ------------------------------------------------------------------ queries: participants
    def _scoring(self, conn: Connection, project_id: str) -> Scoring:
        chosen, _ = self.weights_of(conn, project_id)
        return Scoring(chosen, self._today(), self.config.waiting_horizon_days)

    def participant_view(self, participant_id: str, principal: Principal) -> dict[str, Any]:
        participant = self.participants.get(participant_id)
        if not participant.exists:
            raise NotFound("Deelnemer", "Participant", participant_id)
        require_project(principal, participant.project_id or "")
        personal, intakes = None, []
        if not participant.erased:
            for stored in self.runtime.store.load(participant_id):
                opened = self.vault.open(participant_id, stored.sealed) if stored.sealed else None
                if stored.envelope.type == "ParticipantReferred":
                    personal = opened
                elif stored.envelope.type == "ParticipantIntakeHeld":
                    intakes.append({"held_on": stored.envelope.payload["held_on"],
                                    "notes": (opened or {}).get("intake_notes")})
        with reader(self.runtime.engine).connect() as conn:
            row = conn.execute(select(participants).where(participants.c.participant_id == participant_id)).mappings().one()
        return {**_participant_public(row, self._today()), "version": participant.version,
                "personal": personal, "intakes": intakes}

    def _participant_query(self, project_id: str, *, statuses: Sequence[str] | None, target_group: TargetGroup | None,
                           name: str | None, has_intake: bool | None, municipality_nis: str | None):  # type: ignore[no-untyped-def]
        query = select(participants).where(participants.c.project_id == project_id)
        if statuses:
            query = query.where(participants.c.status.in_(list(statuses)))
        if target_group is not None:
            query = query.where(participants.c.target_group == target_group.value)
        if municipality_nis is not None:
            query = query.where(participants.c.municipality_nis == municipality_nis)
        if has_intake is not None:
            query = query.where(participants.c.intake_held_on.is_not(None) if has_intake
                                else participants.c.intake_held_on.is_(None))
        if name:
            tokens = self.vault.name_tokens(name)
            if not tokens:
                return query.where(and_(False))  # type: ignore[arg-type]
            matching = (select(participant_names.c.participant_id).where(participant_names.c.token.in_(tokens))
                        .group_by(participant_names.c.participant_id)
                        .having(func.count(func.distinct(participant_names.c.token)) == len(tokens)))
            query = query.where(participants.c.participant_id.in_(matching))
        return query

    def list_participants(self, project_id: str, principal: Principal, *, statuses: Sequence[str] | None = None,
                          target_group: TargetGroup | None = None, name: str | None = None,
                          has_intake: bool | None = None, municipality_nis: str | None = None,
                          limit: int = 50, offset: int = 0) -> dict[str, Any]:
        require_project(principal, project_id)
        query = self._participant_query(project_id, statuses=statuses, target_group=target_group, name=name,
                                        has_intake=has_intake, municipality_nis=municipality_nis)
        with reader(self.runtime.engine).connect() as conn:
            self._project(conn, project_id)
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(participants.c.referred_at, participants.c.participant_id)
                                .limit(limit).offset(offset)).mappings().all()
        today = self._today()
        return {"participants": [_participant_public(r, today) for r in rows], "total": total,
                "limit": limit, "offset": offset}

    def waiting_list(self, project_id: str, principal: Principal, *, target_group: TargetGroup | None = None,
                     has_intake: bool | None = None, municipality_nis: str | None = None,
                     include_proposed: bool = False, suggestions: int | None = None,
                     limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Who waits, since when (longest first), with their best current suggestions."""
        require_project(principal, project_id)
        k = self.config.waiting_list_suggestions if suggestions is None else suggestions
        statuses = [Placement.waiting.value] + ([Placement.proposed.value] if include_proposed else [])
        query = self._participant_query(project_id, statuses=statuses, target_group=target_group, name=None,
                                        has_intake=has_intake, municipality_nis=municipality_nis)
        with reader(self.runtime.engine).connect() as conn:
            self._project(conn, project_id)
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(participants.c.waiting_since, participants.c.participant_id)
                                .limit(limit).offset(offset)).mappings().all()
            pool = self._pool(conn, project_id) if k else []
            scoring = self._scoring(conn, project_id)
            seekers = self._seekers(conn, rows, project_id)
        today = self._today()
        best = top_k(seekers, pool, scoring, k) if k else [[] for _ in rows]
        items = []
        for row, found in zip(rows, best, strict=True):
            items.append({**_participant_public(row, today),
                          "suggestions": [_suggestion_brief(s) for s in found]})
        return {"project_id": project_id, "waiting": items, "total": total, "limit": limit, "offset": offset,
                "weights": scoring.weights.model_dump()}

    def suggestions(self, participant_id: str, principal: Principal, *, limit: int = 10, offset: int = 0,
                    include_excluded: bool = False) -> dict[str, Any]:
        """Ranked volunteers for one participant, each criterion explained ("why this buddy")."""
        with reader(self.runtime.engine).connect() as conn:
            row = conn.execute(select(participants).where(participants.c.participant_id == participant_id)).mappings().first()
            if row is None:
                raise NotFound("Deelnemer", "Participant", participant_id)
            require_project(principal, row["project_id"])
            pool = self._pool(conn, row["project_id"])
            everyone: list[Candidate] = []
            if include_excluded:
                loads = self._loads(conn, None, project_id=row["project_id"])
                everyone = [self._candidate(r, loads.get(r["volunteer_id"], 0)) for r in conn.execute(
                    select(candidates).where(candidates.c.project_id == row["project_id"])
                    .order_by(candidates.c.volunteer_id)).mappings()]
            scoring = self._scoring(conn, row["project_id"])
            [seeker] = self._seekers(conn, [row], row["project_id"])
        order = ranked_columns(seeker, pool, scoring)
        page = [evaluate(seeker, pool[j], scoring) for j in order[offset:offset + limit]]
        body: dict[str, Any] = {
            "participant_id": participant_id, "status": row["status"], "weights": scoring.weights.model_dump(),
            "suggestions": [{**s.as_dict(), "rank": offset + i + 1} for i, s in enumerate(page)],
            "total": len(order), "limit": limit, "offset": offset,
        }
        if row["status"] != Placement.waiting:
            body["note"] = {"nl": "Deze deelnemer wacht nu niet op een match", "en": "This participant is not waiting now"}
        if include_excluded:  # "why not this buddy"
            body["excluded"] = [{"volunteer_id": v, "violations": [x.as_dict() for x in found]}
                                for v, found in excluded(seeker, everyone)]
        return body

    def assignment(self, project_id: str, principal: Principal, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """The best overall assignment of the whole waiting list (max total score, capacities kept)."""
        require_project(principal, project_id)
        with reader(self.runtime.engine).connect() as conn:
            self._project(conn, project_id)
            rows = conn.execute(select(participants).where(participants.c.project_id == project_id,
                                                           participants.c.status == Placement.waiting.value)
                                .order_by(participants.c.waiting_since, participants.c.participant_id)).mappings().all()
            if self.config.require_intake:
                rows = [r for r in rows if r["intake_held_on"] is not None]
            pool = self._pool(conn, project_id)
            scoring = self._scoring(conn, project_id)
            seekers = self._seekers(conn, rows, project_id)
        scores, ok = score_matrix(seekers, pool, scoring)
        capacities = [c.capacity_left for c in pool]
        best = solver.optimal(scores, ok, capacities)
        baseline = solver.greedy(scores, ok, capacities)  # longest waiting first: what one-by-one would give
        pairs = [{"participant_id": seekers[i].participant_id, "volunteer_id": pool[j].volunteer_id,
                  "waiting_since": rows[i]["waiting_since"], **evaluate(seekers[i], pool[j], scoring).as_dict()}
                 for i, j in best.pairs]
        pairs.sort(key=lambda p: (p["waiting_since"], p["participant_id"]))
        unassigned = [{"participant_id": seekers[i].participant_id, "waiting_since": rows[i]["waiting_since"],
                       "feasible_volunteers": int(ok[i].sum())} for i in best.unassigned]
        return {
            "project_id": project_id, "solver": "scipy.optimize.linear_sum_assignment",
            "participants": len(seekers), "volunteers": len(pool), "capacity": int(sum(capacities)),
            "assigned": len(best.pairs), "total_score": round(best.total, 4),
            "greedy_total_score": round(baseline.total, 4), "greedy_assigned": len(baseline.pairs),
            "pairs": pairs[offset:offset + limit], "unassigned": unassigned,
            "limit": limit, "offset": offset, "weights": scoring.weights.model_dump(),
        }

    # ------------------------------------------------------------------ queries: duos
    def duo_view(self, duo_id: str, principal: Principal) -> dict[str, Any]:
        duo = self.duos.get(duo_id)
        if not duo.exists:
            raise NotFound("Duo", "Duo", duo_id)
        require_project(principal, duo.project_id or "")
        agreements = None
        for stored in self.runtime.store.load(duo_id):
            if stored.envelope.type == "DuoStarted" and stored.sealed is not None:
                opened = self.vault.open(stored.subject_id or "", stored.sealed)
                agreements = (opened or {}).get("boundary_agreements")
        with reader(self.runtime.engine).connect() as conn:
            row = conn.execute(select(duos).where(duos.c.duo_id == duo_id)).mappings().one()
            erased = _erased_people(conn, [row])
        return {**_duo_public(row, erased), "version": duo.version, "boundary_agreements": agreements}

    def list_duos(self, project_id: str, principal: Principal, *, statuses: Sequence[str] | None = None,
                  volunteer_id: str | None = None, participant_id: str | None = None,
                  limit: int = 50, offset: int = 0) -> dict[str, Any]:
        require_project(principal, project_id)
        query = select(duos).where(duos.c.project_id == project_id)
        if statuses:
            query = query.where(duos.c.status.in_(list(statuses)))
        if volunteer_id:
            query = query.where(duos.c.volunteer_id == volunteer_id)
        if participant_id:
            query = query.where(duos.c.participant_id == participant_id)
        with reader(self.runtime.engine).connect() as conn:
            self._project(conn, project_id)
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(duos.c.updated_at.desc(), duos.c.duo_id).limit(limit).offset(offset)).mappings().all()
            erased = _erased_people(conn, rows)
        return {"duos": [_duo_public(r, erased) for r in rows], "total": total, "limit": limit, "offset": offset}


# ---------------------------------------------------------------------------- row -> view helpers
def _waiting_since(available: date | None, last_duo: date | None) -> date | None:
    """A volunteer waits from becoming available, or from their latest duo's start or end."""
    if available is None or last_duo is None:
        return available
    return max(available, last_duo)


def _candidate(row: Any, load: int, last_duo: date | None = None, *, screening_gaps: tuple = ()) -> Candidate:  # type: ignore[type-arg]
    return Candidate(
        volunteer_id=row["volunteer_id"], project_id=row["project_id"],
        available=row["status"] == "available" and not row["erased"], erased=bool(row["erased"]),
        screening_gaps=screening_gaps,
        target_groups=frozenset(row["target_groups"]), languages=frozenset(row["languages"]),
        interests=frozenset(row["interests"]), availability=frozenset(row["availability"]),
        municipality_nis=row["home_nis"] or row["municipality_nis"], travel=row["travel"],
        capacity_left=max(0, row["max_duos"] - load),
        available_since=_waiting_since(_day(row["available_since"]), last_duo),
    )


def _seeker(row: Any, tried: frozenset[str] = frozenset()) -> Seeker:
    return Seeker(
        participant_id=row["participant_id"], project_id=row["project_id"], target_group=row["target_group"],
        languages=frozenset(row["languages"]), interests=frozenset(row["interests"]),
        availability=frozenset(row["availability"]), municipality_nis=row["municipality_nis"],
        consent=bool(row["consent"]), waiting_since=brussels_day(parse_time(row["waiting_since"])), tried=tried,
    )


ERASED = {"nl": "gewist", "en": "erased"}


def _erased_label(erased: bool) -> dict[str, Any]:
    """Where a list would show the person's name, an erased person reads "gewist / erased"."""
    return {"name_label": ERASED} if erased else {}


def _participant_public(row: Any, today: date) -> dict[str, Any]:
    waiting_since = brussels_day(parse_time(row["waiting_since"]))
    waiting = row["status"] in (Placement.waiting, Placement.proposed)
    return {
        "participant_id": row["participant_id"], "project_id": row["project_id"], "status": row["status"],
        "target_group": row["target_group"], "referrer_type": row["referrer_type"], "life_domains": row["life_domains"],
        "wishes": row["wishes"], "interests": row["interests"], "languages": row["languages"],
        "availability": row["availability"], "municipality_nis": row["municipality_nis"], "age_band": row["age_band"],
        "consent": {"allows_matching": bool(row["consent"]), "scopes": row["consent_scopes"],
                    "given_on": row["consent_given_on"], "recorded_by": row["consent_recorded_by"]},
        "referred_at": row["referred_at"], "waiting_since": row["waiting_since"] if waiting else None,
        "waiting_days": (today - waiting_since).days if waiting else None,
        "intake_held_on": row["intake_held_on"], "withdrawn_reason": row["withdrawn_reason"],
        "open_duo_id": row["open_duo_id"], "times_returned": row["times_returned"],
        "personal_data_erased": bool(row["erased"]), **_erased_label(bool(row["erased"])),
    }


def _erased_people(conn: Connection, rows: Sequence[Any]) -> frozenset[str]:
    """Which volunteers and participants of these duos had their personal data erased."""
    volunteer_ids = {r["volunteer_id"] for r in rows}
    participant_ids = {r["participant_id"] for r in rows}
    found = set(conn.execute(select(candidates.c.volunteer_id).where(
        candidates.c.volunteer_id.in_(volunteer_ids), candidates.c.erased.is_(True))).scalars()) if rows else set()
    found |= set(conn.execute(select(participants.c.participant_id).where(
        participants.c.participant_id.in_(participant_ids), participants.c.erased.is_(True))).scalars()) if rows else set()
    return frozenset(found)


def _duo_public(row: Any, erased: frozenset[str] = frozenset()) -> dict[str, Any]:
    out = {key: row[key] for key in (
        "duo_id", "project_id", "volunteer_id", "participant_id", "status", "after_proposal", "proposed_on",
        "volunteer_accepted", "participant_accepted", "declined_by", "decline_reason", "started_on",
        "agreed_contacts_per_month", "expected_duration_months", "boundary_agreements_recorded", "paused_on",
        "ended_on", "end_reason", "planned", "updated_at")}
    for party in ("volunteer", "participant"):
        gone = row[f"{party}_id"] in erased
        out[f"{party}_personal_data_erased"] = gone
        if gone:
            out[f"{party}_name_label"] = ERASED
    return out


def _suggestion_brief(s: Any) -> dict[str, Any]:
    """A suggestion with its three strongest reasons in one line, and every criterion."""
    strongest = sorted((c for c in s.criteria if c.contribution > 0), key=lambda c: -c.contribution)[:3]
    return {"volunteer_id": s.volunteer_id, "score": round(s.score, 4),
            "why": {"nl": "; ".join(c.nl for c in strongest) or "—", "en": "; ".join(c.en for c in strongest) or "—"},
            "criteria": [c.as_dict() for c in s.criteria]}
