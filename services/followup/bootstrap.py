"""Wires the follow-up service: runtime, subscribers, handlers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.followup.api import router
from services.followup.handlers import FollowupHandlers
from services.followup.subscribers import on_event

NAME = "followup"
UPSTREAMS = ("matching",)


def build(settings: Settings) -> FastAPI:
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event)
    handlers = FollowupHandlers(runtime)
    return create_app(
        runtime,
        [router(handlers, principal_dependency(runtime.authenticator))],
        title="Opvolging / Follow-up",
        description="Het logboek van lopende duo's / The case log of running duos.",
    )
