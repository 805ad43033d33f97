"""Wires the recruitment service: runtime, handlers, HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.recruitment.api import router
from services.recruitment.handlers import RecruitmentHandlers

NAME = "recruitment"


def build(settings: Settings) -> FastAPI:
    runtime = ServiceRuntime(NAME, settings)
    handlers = RecruitmentHandlers(runtime)
    return create_app(
        runtime,
        [router(handlers, principal_dependency(runtime.authenticator))],
        title="Werving / Recruitment",
        description="Projectregister en het traject van vrijwilligers / Project register and the volunteer journey.",
    )
