"""Wires the recruitment service: runtime, subscriber to matching, handlers, HTTP, the staff register."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from shared.auth import principal_dependency
from shared.clock import Clock
from shared.eventstore.db import reader
from shared.logging import get_logger
from shared.service import ServiceRuntime, create_app
from shared.settings import Settings
from services.recruitment.api import router
from services.recruitment.config import RecruitmentSettings
from services.recruitment.handlers import RecruitmentHandlers
from services.recruitment.staff_api import router as staff_router
from services.recruitment.staff_handlers import StaffHandlers
from services.recruitment.projection import rebuild
from services.recruitment.read_models import projects, volunteers
from services.recruitment.subscribers import MatchingEvents

NAME = "recruitment"
UPSTREAMS = ("matching",)

log = get_logger(__name__)


class RecruitmentRuntime(ServiceRuntime):
    """The shared runtime, plus: read models filled from the log when they start out empty.

    That happens once, when a store recorded before the read models existed is upgraded.
    """

    def migrate(self) -> None:
        super().migrate()
        with reader(self.engine).connect() as conn:
            rows = sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (projects, volunteers))
        if rows == 0 and self.store.head()[0] > 0:
            assert self.vault is not None
            with self.store.transaction(exclusive=True) as conn:
                read = rebuild(conn, self.store, self.vault)
            log.info("recruitment.read_models_rebuilt", events=read)


def build(settings: Settings, clock: Clock | None = None, options: RecruitmentSettings | None = None) -> FastAPI:
    """The recruitment app; ``clock`` for tests on a scripted timeline, ``options`` instead of BUDDY_RECRUITMENT_*."""
    subscriber = MatchingEvents()
    runtime = RecruitmentRuntime(NAME, settings, upstreams=UPSTREAMS, handler=subscriber, clock=clock)
    handlers = RecruitmentHandlers(runtime, options or RecruitmentSettings())
    subscriber.bind(handlers)
    principal_of = principal_dependency(runtime.authenticator)
    app = create_app(
        runtime,
        [router(handlers, principal_of), staff_router(StaffHandlers(runtime), principal_of)],
        title="Werving / Recruitment",
        description="Projectregister, personeelsregister en het traject van vrijwilligers / "
                    "Project register, staff register and the volunteer journey.",
    )
    app.state.handlers = handlers
    return app
