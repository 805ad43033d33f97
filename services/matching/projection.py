"""Matching's own events applied to its read models.

Handlers call ``apply`` with the events the store just recorded, inside the same
transaction; ``rebuild`` empties the tables and replays the whole log the same way.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, delete, func, select, update

from shared.contracts.matching import (
    DuoAccepted,
    DuoDeclined,
    DuoEnded,
    DuoPaused,
    DuoProposed,
    DuoResumed,
    DuoStarted,
    EndReason,
    MatchingWeightsSet,
    ParticipantConsentRecorded,
    ParticipantIntakeHeld,
    ParticipantPersonalDataErased,
    ParticipantPreferencesChanged,
    ParticipantReferred,
    ParticipantReturnedToWaitingList,
    ParticipantWithdrawn,
    Party,
)
from shared.duplicates import identity_keys
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY, DomainEvent
from shared.eventstore.rows import put
from shared.eventstore.store import EventStore, format_time
from shared.vault import Vault
from services.matching.domain import DuoStatus, Placement
from services.matching.read_models import duos, participant_names, participants, weights
from services.matching.suggestions import slot_code


def slots(availability: list) -> list[str]:  # type: ignore[type-arg]
    return [slot_code(s.day.value, s.part.value) for s in availability]


def apply_envelope(conn: Connection, env: Envelope) -> None:
    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
    if event is not None:
        apply(conn, event, at=format_time(env.occurred_at), actor_id=env.actor.id)


def apply(conn: Connection, event: DomainEvent, *, at: str, actor_id: str) -> None:
    """One of matching's events; ``at`` is when it happened (formatted), ``actor_id`` who recorded it."""
    match event:
        case ParticipantReferred():
            consent = event.consent
            put(conn, participants,
                participant_id=event.participant_id, project_id=event.project_id, status=Placement.waiting.value,
                target_group=event.target_group.value, referrer_type=event.referrer_type.value,
                life_domains=[d.value for d in event.life_domains], wishes=[w.value for w in event.wishes],
                interests=[i.value for i in event.interests], languages=list(event.languages),
                availability=slots(event.availability), municipality_nis=event.municipality_nis,
                age_band=event.age_band.value if event.age_band else None,
                consent=bool(consent.allows_matching) if consent is not None else event.consent_recorded,
                consent_scopes=[s.value for s in consent.scopes] if consent is not None else [],
                consent_given_on=consent.given_on.isoformat() if consent and consent.given_on else None,
                consent_recorded_by=consent.recorded_by if consent is not None else None,
                referred_at=at, waiting_since=at, intake_held_on=None, withdrawn_reason=None, open_duo_id=None,
                times_returned=0, erased=False)
        case ParticipantIntakeHeld():
            _participant(conn, event.participant_id, intake_held_on=event.held_on.isoformat())
        case ParticipantConsentRecorded():
            c = event.consent
            _participant(conn, event.participant_id, consent=c.allows_matching, consent_scopes=[s.value for s in c.scopes],
                         consent_given_on=c.given_on.isoformat() if c.given_on else None,
                         consent_recorded_by=c.recorded_by)
        case ParticipantPreferencesChanged():
            _participant(conn, event.participant_id, municipality_nis=event.municipality_nis,
                         languages=list(event.languages), wishes=[w.value for w in event.wishes],
                         interests=[i.value for i in event.interests], availability=slots(event.availability))
        case ParticipantWithdrawn():
            _participant(conn, event.participant_id, status=Placement.withdrawn.value,
                         withdrawn_reason=event.reason.value, open_duo_id=None)
        case ParticipantReturnedToWaitingList():
            conn.execute(update(participants).where(participants.c.participant_id == event.participant_id).values(
                status=Placement.waiting.value, waiting_since=at, withdrawn_reason=None, open_duo_id=None,
                times_returned=participants.c.times_returned + 1))
        case ParticipantPersonalDataErased():
            _participant(conn, event.participant_id, erased=True)
            conn.execute(delete(participant_names).where(participant_names.c.participant_id == event.participant_id))
        case MatchingWeightsSet():
            put(conn, weights, project_id=event.project_id, weights=event.weights.model_dump(mode="json"),
                set_at=at, set_by=actor_id)
        case DuoProposed():
            put(conn, duos, **{**_new_duo(event.duo_id, event.project_id, event.volunteer_id, event.participant_id, at),
                               "status": DuoStatus.proposed.value, "after_proposal": True,
                               "proposed_on": event.proposed_on.isoformat()})
            _participant(conn, event.participant_id, status=Placement.proposed.value, open_duo_id=event.duo_id)
        case DuoAccepted():
            column = "volunteer_accepted" if event.party is Party.volunteer else "participant_accepted"
            _duo(conn, event.duo_id, at, **{column: True})
        case DuoDeclined():
            _duo(conn, event.duo_id, at, status=DuoStatus.declined.value, declined_by=event.party.value,
                 decline_reason=event.reason)
            participant_id = conn.execute(select(duos.c.participant_id).where(duos.c.duo_id == event.duo_id)).scalar()
            conn.execute(update(participants).where(participants.c.participant_id == participant_id,
                                                    participants.c.open_duo_id == event.duo_id)
                         .values(status=Placement.waiting.value, open_duo_id=None))
        case DuoStarted():
            values = dict(status=DuoStatus.active.value, started_on=event.started_on.isoformat(),
                          agreed_contacts_per_month=event.agreed_contacts_per_month,
                          expected_duration_months=event.expected_duration_months,
                          boundary_agreements_recorded=event.boundary_agreements_recorded)
            exists = conn.execute(select(func.count()).select_from(duos).where(duos.c.duo_id == event.duo_id)).scalar()
            if exists:
                _duo(conn, event.duo_id, at, **values)
            else:  # registered directly, without a recorded proposal
                put(conn, duos, **{**_new_duo(event.duo_id, event.project_id, event.volunteer_id, event.participant_id, at),
                                   **values, "after_proposal": False, "volunteer_accepted": True,
                                   "participant_accepted": True})
            _participant(conn, event.participant_id, status=Placement.in_duo.value, open_duo_id=event.duo_id)
        case DuoPaused():
            _duo(conn, event.duo_id, at, status=DuoStatus.paused.value, paused_on=event.paused_on.isoformat())
        case DuoResumed():
            _duo(conn, event.duo_id, at, status=DuoStatus.active.value, paused_on=None)
        case DuoEnded():
            _duo(conn, event.duo_id, at, status=DuoStatus.ended.value, ended_on=event.ended_on.isoformat(),
                 end_reason=event.reason.value, planned=event.planned)
            # A mismatch puts the participant back on the list (matching records ParticipantReturnedToWaitingList
            # with it; logs from before that event existed carry only the end, so the end says it too).
            back = event.reason is EndReason.mismatch
            conn.execute(update(participants).where(participants.c.participant_id == event.participant_id,
                                                    participants.c.open_duo_id == event.duo_id)
                         .values(status=(Placement.waiting if back else Placement.finished).value, open_duo_id=None,
                                 **({"waiting_since": at} if back else {})))


def _new_duo(duo_id: str, project_id: str, volunteer_id: str, participant_id: str, at: str) -> dict[str, object]:
    return dict(duo_id=duo_id, project_id=project_id, volunteer_id=volunteer_id, participant_id=participant_id,
                status=DuoStatus.new.value, after_proposal=False, proposed_on=None, volunteer_accepted=False,
                participant_accepted=False, declined_by=None, decline_reason=None, started_on=None,
                agreed_contacts_per_month=None, expected_duration_months=None, boundary_agreements_recorded=False,
                paused_on=None, ended_on=None, end_reason=None, planned=None, updated_at=at)


def _participant(conn: Connection, participant_id: str, **values: object) -> None:
    conn.execute(update(participants).where(participants.c.participant_id == participant_id).values(**values))


def _duo(conn: Connection, duo_id: str, at: str, **values: object) -> None:
    conn.execute(update(duos).where(duos.c.duo_id == duo_id).values(updated_at=at, **values))


def index_names(conn: Connection, vault: Vault, participant_id: str, first_name: str, last_name: str,
                birth_date: date | str | None = None) -> None:
    """Blind indexes of the name parts, so professionals find a person without clear text anywhere,
    and the identity key (name with birth date) that finds a likely duplicate (``shared.duplicates``)."""
    born = date.fromisoformat(birth_date) if isinstance(birth_date, str) else birth_date
    tokens = vault.name_tokens(f"{first_name} {last_name}")
    for token in tokens + [k for k in identity_keys(vault, first_name, last_name, born) if k not in tokens]:
        put(conn, participant_names, participant_id=participant_id, token=token)


def rebuild(conn: Connection, store: EventStore, vault: Vault | None = None, page: int = 1000) -> int:
    """Empty matching's own read models and replay its whole log; returns how many events.

    With the vault, the blind name index is rebuilt too (from the sealed referrals of
    people not erased).
    """
    for table in (participant_names, participants, duos, weights):
        conn.execute(delete(table))
    after = applied = 0
    while rows := store.read_after(after, page):
        for row in rows:
            apply_envelope(conn, row.envelope)
            if vault is not None and row.envelope.type == "ParticipantReferred" and row.sealed is not None:
                personal = vault.open(row.subject_id or row.envelope.stream_id, row.sealed, conn)
                if personal:
                    index_names(conn, vault, row.envelope.stream_id, personal["first_name"], personal["last_name"],
                                personal.get("birth_date"))
        after, applied = rows[-1].envelope.position, applied + len(rows)
    return applied


def reindex_names(conn: Connection, store: EventStore, vault: Vault, page: int = 1000) -> int:
    """Rebuild only the blind index (name parts and identity keys) from the sealed referrals of
    people not erased; returns how many participants were indexed."""
    conn.execute(delete(participant_names))
    erased = set(conn.execute(select(participants.c.participant_id).where(participants.c.erased.is_(True))).scalars())
    after = indexed = 0
    while rows := store.read_after(after, page):
        for row in rows:
            env = row.envelope
            if env.type == "ParticipantReferred" and row.sealed is not None and env.stream_id not in erased:
                personal = vault.open(row.subject_id or env.stream_id, row.sealed, conn)
                if personal:
                    index_names(conn, vault, env.stream_id, personal["first_name"], personal["last_name"],
                                personal.get("birth_date"))
                    indexed += 1
        after = rows[-1].envelope.position
    return indexed
