"""Matching domain: participants and duos, deciding events without I/O.

Duo lifecycle (this slice; proposals and acceptance come next):

    started ──end──▶ ended
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from shared.contracts.common import TargetGroup, age_band
from shared.contracts.matching import DuoEnded, DuoStarted, EndReason, LifeDomain, ParticipantReferred, ReferrerType
from shared.domain import Aggregate, DomainError, InvalidInput, NotFound


class Participant(Aggregate):
    stream_type = "participant"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.project_id: str | None = None
        self.target_group: TargetGroup | None = None
        self.consent = False

    def refer(self, *, project_id: str, target_group: TargetGroup, referrer_type: ReferrerType,
              life_domains: list[LifeDomain], municipality_nis: str, languages: list[str],
              consent_recorded: bool, birth_date: date | None, today: date) -> list[ParticipantReferred]:
        if self.exists:
            raise DomainError(f"Deelnemer {self.id} bestaat al / Participant {self.id} already exists", code="already_exists")
        if birth_date is not None and birth_date > today:
            raise InvalidInput("De geboortedatum ligt in de toekomst / The birth date lies in the future",
                               field="personal.birth_date")
        return [ParticipantReferred(
            participant_id=self.id, project_id=project_id, target_group=target_group, referrer_type=referrer_type,
            life_domains=life_domains, municipality_nis=municipality_nis, languages=languages,
            consent_recorded=consent_recorded, age_band=age_band(birth_date, today) if birth_date else None,
        )]

    def when_ParticipantReferred(self, e: ParticipantReferred) -> None:
        self.project_id, self.target_group, self.consent = e.project_id, e.target_group, e.consent_recorded


class DuoStatus(StrEnum):
    new = "new"
    active = "active"
    ended = "ended"


class Duo(Aggregate):
    stream_type = "duo"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = DuoStatus.new
        self.project_id: str | None = None
        self.volunteer_id: str | None = None
        self.participant_id: str | None = None
        self.started_on: date | None = None

    def start(self, *, project_id: str, volunteer_id: str, participant_id: str, started_on: date,
              agreed_contacts_per_month: int) -> list[DuoStarted]:
        if self.exists:
            raise DomainError(f"Duo {self.id} bestaat al / Duo {self.id} already exists", code="already_exists")
        return [DuoStarted(duo_id=self.id, project_id=project_id, volunteer_id=volunteer_id,
                           participant_id=participant_id, started_on=started_on,
                           agreed_contacts_per_month=agreed_contacts_per_month)]

    def end(self, *, ended_on: date, reason: EndReason, planned: bool) -> list[DuoEnded]:
        if not self.exists:
            raise NotFound("Duo", "Duo", self.id)
        if self.status is DuoStatus.ended:
            raise DomainError("Dit duo is al beëindigd / This duo has already ended")
        if self.started_on and ended_on < self.started_on:
            raise InvalidInput("Een duo kan niet eindigen vóór het begon / A duo cannot end before it started",
                               field="ended_on")
        return [DuoEnded(duo_id=self.id, project_id=self.project_id, volunteer_id=self.volunteer_id,
                         participant_id=self.participant_id, ended_on=ended_on, reason=reason, planned=planned)]

    def when_DuoStarted(self, e: DuoStarted) -> None:
        self.status, self.project_id, self.started_on = DuoStatus.active, e.project_id, e.started_on
        self.volunteer_id, self.participant_id = e.volunteer_id, e.participant_id

    def when_DuoEnded(self, _: DuoEnded) -> None:
        self.status = DuoStatus.ended
