"""What follow-up learns from matching's events: the duo roster, the ends that schedule
follow-up calls, whether a participant agreed to be called afterwards (a withdrawal cancels
the calls still to be made), the participant's target group, and erasures that shred the
participant's sealed notes here too. From recruitment's events: each volunteer's legal items
(dates and kinds only), so the Today list warns when a screening lapses during a duo, and the
staff register (who may do what here, ``shared.access``).

Runs in the consumer's transaction (``(conn, envelope)``); the checkpoint moves in the
same transaction, so every effect happens once. Unknown event types are skipped.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from shared import access
from shared.clock import brussels_day
from shared.contracts.matching import DuoEnded, DuoPaused, DuoResumed, DuoStarted, ParticipantReferred
from shared.contracts.recruitment import VolunteerLegalItemRecorded
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.eventstore.rows import put
from shared.logging import get_logger
from shared.service import ServiceRuntime
from services.followup.config import FollowupSettings
from services.followup.read_models import participants, roster, volunteer_legal
from services.followup.scheduler import cancel_calls, schedule_calls

log = get_logger(__name__)

#: Matching's events that say what a participant consented to (``consent.scopes``).
CONSENTS = frozenset({"ParticipantReferred", "ParticipantConsentRecorded"})
CALL_CONSENT = "followup_contact"
#: Matching's erasure event (issue 7 may add more services' erasures; they carry ``participant_id``).
ERASURES = frozenset({"ParticipantPersonalDataErased"})


class FollowupSubscriber:
    """The consumer's handler. ``bind`` it to the runtime whose store it appends to."""

    def __init__(self, config: FollowupSettings) -> None:
        self.config = config
        self.runtime: ServiceRuntime | None = None

    def bind(self, runtime: ServiceRuntime) -> "FollowupSubscriber":
        self.runtime = runtime
        return self

    def __call__(self, conn: Connection, env: Envelope) -> None:
        if access.on_event(conn, env):  # the staff register: who may do what here
            return
        event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
        match event:
            case DuoStarted():
                put(conn, roster,
                    duo_id=event.duo_id, project_id=event.project_id, volunteer_id=event.volunteer_id,
                    participant_id=event.participant_id, status="active", started_on=event.started_on.isoformat(),
                    ended_on=None, agreed_contacts_per_month=event.agreed_contacts_per_month,
                    paused_on=None, resumed_on=None)
            case DuoPaused():
                conn.execute(update(roster).where(roster.c.duo_id == event.duo_id, roster.c.status == "active")
                             .values(status="paused", paused_on=event.paused_on.isoformat()))
            case DuoResumed():
                conn.execute(update(roster).where(roster.c.duo_id == event.duo_id, roster.c.status == "paused")
                             .values(status="active", resumed_on=event.resumed_on.isoformat()))
            case DuoEnded():
                self._ended(conn, env, event)
            case VolunteerLegalItemRecorded():
                put(conn, volunteer_legal, volunteer_id=event.volunteer_id, item=event.item.value,
                    dated=event.dated.isoformat(),
                    valid_until=event.valid_until.isoformat() if event.valid_until else None)
        if env.type in CONSENTS and event is not None:
            if self._consent(conn, event) is False and self.runtime is not None:
                if cancel_calls(conn, self.runtime.store, env, event.participant_id,  # type: ignore[attr-defined]
                                brussels_day(env.occurred_at)):
                    self.runtime.recorded()
            if isinstance(event, ParticipantReferred):
                conn.execute(update(participants).where(participants.c.participant_id == event.participant_id)
                             .values(target_group=event.target_group.value))
        if env.type in ERASURES and self.runtime is not None and self.runtime.vault is not None:
            participant_id = env.payload.get("participant_id")
            if isinstance(participant_id, str) and participant_id:
                self.runtime.vault.erase(conn, participant_id)

    @staticmethod
    def _consent(conn: Connection, event: object) -> bool | None:
        """Whether the participant agreed to be called after the duo (shown with their follow-up calls)."""
        participant_id, project_id = getattr(event, "participant_id", None), getattr(event, "project_id", None)
        if not participant_id or not project_id:
            return None
        scopes = getattr(getattr(event, "consent", None), "scopes", None)
        consent = None if scopes is None else CALL_CONSENT in {str(s) for s in scopes}
        put(conn, participants, participant_id=participant_id, project_id=project_id, consent_to_call=consent)
        return consent

    def _ended(self, conn: Connection, env: Envelope, event: DuoEnded) -> None:
        done = conn.execute(update(roster).where(roster.c.duo_id == event.duo_id)
                            .values(status="ended", ended_on=event.ended_on.isoformat())).rowcount
        if not done:  # never saw it start (history before follow-up existed): keep what the end says
            put(conn, roster, duo_id=event.duo_id, project_id=event.project_id, volunteer_id=event.volunteer_id,
                participant_id=event.participant_id, status="ended", started_on=event.ended_on.isoformat(),
                ended_on=event.ended_on.isoformat(), agreed_contacts_per_month=None, paused_on=None, resumed_on=None)
        assert self.runtime is not None, "bind the subscriber to its runtime first"
        consent = conn.execute(select(participants.c.consent_to_call)
                               .where(participants.c.participant_id == event.participant_id)).scalar()
        if consent is False:
            log.info("followup.calls_not_scheduled", duo_id=event.duo_id, reason="no_consent_to_call")
            return  # the participant refused to be called: no calls to make
        if schedule_calls(conn, self.runtime.store, env, event, self.config.call_months):
            self.runtime.recorded()
