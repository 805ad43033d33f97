"""Wires the matching service: runtime, subscribers, handlers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.matching.api import router
from services.matching.handlers import MatchingHandlers
from services.matching.subscribers import on_event

NAME = "matching"
UPSTREAMS = ("recruitment",)


def build(settings: Settings) -> FastAPI:
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event)
    handlers = MatchingHandlers(runtime)
    return create_app(
        runtime,
        [router(handlers, principal_dependency(runtime.authenticator))],
        title="Matching",
        description="Deelnemers, kandidaten en duo's / Participants, candidates and duos.",
    )
