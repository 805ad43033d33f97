"""Wires the reporting service: projections from all streams, and the report API."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.reporting.api import router
from services.reporting.projections import on_event

NAME = "reporting"
UPSTREAMS = ("recruitment", "matching", "followup")


def build(settings: Settings) -> FastAPI:
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event, writes_events=False)
    return create_app(
        runtime,
        [router(runtime, principal_dependency(runtime.authenticator))],
        title="Rapportering / Reporting",
        description="Geanonimiseerde rapporten voor coördinatoren en de overheid / "
        "Anonymised reports for coordinators and the government.",
    )
