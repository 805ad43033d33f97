"""What recruitment learns from matching's events: whether a volunteer is in a duo.

``DuoStarted`` and ``DuoEnded`` become ``VolunteerJoinedDuo`` / ``VolunteerLeftDuo`` in
recruitment's own store, appended inside the consumer's transaction, so the consumer
checkpoint and the recorded fact commit together. A redelivered event has no second
effect: the checkpoint skips it, and the volunteer records each duo only once anyway.
"""

from __future__ import annotations

from sqlalchemy import Connection

from shared.contracts.matching import DuoEnded, DuoStarted
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.logging import get_logger
from services.recruitment.handlers import RecruitmentHandlers

log = get_logger(__name__)


class MatchingEvents:
    """The consumer handler; bound to the handlers once the runtime exists."""

    def __init__(self) -> None:
        self.handlers: RecruitmentHandlers | None = None

    def bind(self, handlers: RecruitmentHandlers) -> "MatchingEvents":
        self.handlers = handlers
        return self

    def __call__(self, conn: Connection, env: Envelope) -> None:
        assert self.handlers is not None, "MatchingEvents used before bind()"
        event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
        match event:
            case DuoStarted():
                recorded = self.handlers.learn_duo(conn, env, volunteer_id=event.volunteer_id,
                                                   project_id=event.project_id, duo_id=event.duo_id,
                                                   started=True, on=event.started_on)
            case DuoEnded():
                recorded = self.handlers.learn_duo(conn, env, volunteer_id=event.volunteer_id,
                                                   project_id=event.project_id, duo_id=event.duo_id,
                                                   started=False, on=event.ended_on)
            case _:
                return
        if recorded:
            self.handlers.runtime.recorded()
        else:
            log.info("recruitment.duo_fact_skipped", event_type=env.type, position=env.position,
                     reason="unknown volunteer, other project or already recorded")
