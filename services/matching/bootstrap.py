"""Wires the matching service: runtime, subscribers, handlers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.clock import Clock
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.matching.api import router
from services.matching.config import MatchingSettings
from services.matching.handlers import MatchingHandlers
from services.matching.subscribers import on_event

NAME = "matching"
UPSTREAMS = ("recruitment",)


def build(settings: Settings, *, config: MatchingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The matching app; tests pass their own ``config`` and a ``FixedClock``."""
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event, clock=clock)
    handlers = MatchingHandlers(runtime, config or MatchingSettings())
    app = create_app(
        runtime,
        [router(handlers, principal_dependency(runtime.authenticator))],
        title="Matching",
        description="Deelnemers, wachtlijst, suggesties en duo's / Participants, waiting list, suggestions and duos.",
    )
    app.state.handlers = handlers
    return app
