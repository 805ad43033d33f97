"""Wires the reporting service: projections from all streams, and the report API."""

from __future__ import annotations

from fastapi import FastAPI

from shared.auth import principal_dependency
from shared.bus import Feed
from shared.clock import Clock
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.reporting.api import router
from services.reporting.outputs.api import router as outputs_router
from services.reporting.projections import on_event
from services.reporting.rebuild import BatchWriter
from services.reporting.scopes import router as scopes_router

NAME = "reporting"
UPSTREAMS = ("recruitment", "matching", "followup")


def build(settings: Settings, *, feed: Feed | None = None, clock: Clock | None = None) -> FastAPI:
    """The reporting app; ``feed`` replaces the producers' HTTP feeds (tests and tools)."""
    runtime = ServiceRuntime(NAME, settings, upstreams=UPSTREAMS, handler=on_event, writes_events=False,
                             feed=feed, clock=clock, batch=BatchWriter)
    routers = [router(runtime, principal_dependency(runtime.authenticator))]
    routers.append(scopes_router(runtime, principal_dependency(runtime.authenticator)))
    routers.append(outputs_router(runtime, principal_dependency(runtime.authenticator)))  # CSV, XLSX, PDF, dashboard
    return create_app(
        runtime,
        routers,
        title="Rapportering / Reporting",
        description="Geanonimiseerde rapporten voor coördinatoren en de overheid / "
        "Anonymised reports for coordinators and the government.",
    )
