"""Wires the follow-up service: runtime, subscriber (roster and call scheduling from matching,
volunteers' legal items from recruitment), handlers, queries, HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Connection, or_, select

from shared.auth import principal_dependency
from shared.clock import Clock
from shared.privacy import own_stream_projects
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.followup.api import router
from services.followup.config import FollowupSettings
from services.followup.handlers import FollowupHandlers
from services.followup.queries import FollowupQueries
from services.followup.read_models import participants, roster
from services.followup.subscribers import FollowupSubscriber

NAME = "followup"
UPSTREAMS = ("matching", "recruitment")  # recruitment: only for the staff register (shared.access)


def subject_projects(conn: Connection, subject_id: str) -> set[str]:
    """Which projects a person or duo is in here: the duo roster and the participants learned
    from matching, and the subject's own stream (a policy signal's). Never an access record."""
    found = own_stream_projects(conn, subject_id)
    found.update(conn.execute(select(roster.c.project_id).where(or_(
        roster.c.duo_id == subject_id, roster.c.participant_id == subject_id,
        roster.c.volunteer_id == subject_id))).scalars())
    found.update(conn.execute(select(participants.c.project_id)
                              .where(participants.c.participant_id == subject_id)).scalars())
    return found


def build(settings: Settings, clock: Clock | None = None, config: FollowupSettings | None = None) -> FastAPI:
    """The follow-up app; ``clock`` (e.g. ``FixedClock``) and ``config`` are injectable for tests."""
    config = config or FollowupSettings()
    subscriber = FollowupSubscriber(config)
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=subscriber, clock=clock)
    subscriber.bind(runtime)
    handlers = FollowupHandlers(runtime, config)
    queries = FollowupQueries(runtime, config)
    app = create_app(
        runtime,
        [router(handlers, queries, principal_dependency(runtime.authenticator))],
        title="Opvolging / Follow-up",
        description="Het logboek van lopende duo's en wat volgt na hun einde / "
        "The case log of running duos and what follows their end.",
        owners=subject_projects,
    )
    app.state.followup_config = config
    return app
