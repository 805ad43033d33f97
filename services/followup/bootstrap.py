"""Wires the follow-up service: runtime, subscriber (roster and call scheduling), handlers,
queries, HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.clock import Clock
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.followup.api import router
from services.followup.config import FollowupSettings
from services.followup.handlers import FollowupHandlers
from services.followup.queries import FollowupQueries
from services.followup.subscribers import FollowupSubscriber

NAME = "followup"
UPSTREAMS = ("matching",)


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
    )
    app.state.followup_config = config
    return app
