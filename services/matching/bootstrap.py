"""Wires the matching service: runtime, subscribers, handlers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Connection, func, or_, select

from shared.auth import principal_dependency
from shared.clock import Clock
from shared.eventstore.db import reader
from shared.logging import get_logger
from shared.privacy import own_stream_projects
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.matching.api import router
from services.matching.config import MatchingSettings
from services.matching.handlers import MatchingHandlers
from services.matching.projection import reindex_names
from services.matching.read_models import candidates, duos, participant_names, participants
from services.matching.subscribers import on_event

NAME = "matching"
UPSTREAMS = ("recruitment",)
log = get_logger(__name__)


class MatchingRuntime(ServiceRuntime):
    """The shared runtime, plus: the blind index rebuilt from the sealed referrals when it starts
    out empty while participants who were not erased exist (migration 0103 empties it so that
    every referral gets its identity key; computing one needs the vault)."""

    def migrate(self) -> None:
        super().migrate()
        with reader(self.engine).connect() as conn:
            names = conn.execute(select(func.count()).select_from(participant_names)).scalar_one()
            people = conn.execute(select(func.count()).select_from(participants)
                                  .where(participants.c.erased.is_(False))).scalar_one()
        if names == 0 and people > 0 and self.vault is not None:
            with self.store.transaction() as conn:
                indexed = reindex_names(conn, self.store, self.vault)
            log.info("matching.blind_index_rebuilt", participants=indexed)


def subject_projects(conn: Connection, subject_id: str) -> set[str]:
    """Which projects a person or duo is in here: their own stream (a participant's referral, a
    duo's proposal), the duos they are in, and the volunteers learned from recruitment."""
    found = own_stream_projects(conn, subject_id)
    found.update(conn.execute(select(duos.c.project_id).where(or_(
        duos.c.duo_id == subject_id, duos.c.participant_id == subject_id, duos.c.volunteer_id == subject_id))).scalars())
    found.update(conn.execute(select(candidates.c.project_id)
                              .where(candidates.c.volunteer_id == subject_id)).scalars())
    return found


def build(settings: Settings, *, config: MatchingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The matching app; tests pass their own ``config`` and a ``FixedClock``."""
    runtime = MatchingRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event, clock=clock)
    handlers = MatchingHandlers(runtime, config or MatchingSettings())
    app = create_app(
        runtime,
        [router(handlers, principal_dependency(runtime.authenticator))],
        title="Matching",
        description="Deelnemers, wachtlijst, suggesties en duo's / Participants, waiting list, suggestions and duos.",
        owners=subject_projects,
    )
    app.state.handlers = handlers
    return app
