"""Wires the matching service: runtime, subscribers, handlers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Connection, or_, select

from shared.auth import principal_dependency
from shared.clock import Clock
from shared.privacy import own_stream_projects
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.matching.api import router
from services.matching.config import MatchingSettings
from services.matching.handlers import MatchingHandlers
from services.matching.read_models import candidates, duos
from services.matching.subscribers import on_event

NAME = "matching"
UPSTREAMS = ("recruitment",)


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
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event, clock=clock)
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
