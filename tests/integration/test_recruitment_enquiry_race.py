"""An enquiry decided on an open project is refused when the project closed before its append.

On PostgreSQL a command takes the store's head lock only at its append, so another command
can commit between this one's load and its append. Receiving an enquiry rests on the project
being open: it names the project's version in ``append(unchanged=...)`` and is refused (409)
if the project moved on, instead of recording a volunteer in a project that just closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from shared.clock import FixedClock
from shared.contracts.recruitment import ProjectClosed, ProjectCloseReason
from shared.events.envelope import Actor, Role
from shared.eventstore import NewEvent
from shared.settings import Settings
from services.recruitment.handlers import RecruitmentHandlers
from tests.integration.test_recruitment_api import ANTWERPEN, NO_FEEDS, START, check, make_rc


@pytest.mark.postgres
def test_an_enquiry_into_a_project_closed_meanwhile_is_refused(
    make_postgres_db: Callable[[], str], settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = make_rc(settings_factory(database_url=make_postgres_db(), service_urls=NO_FEEDS), FixedClock(START))
    rc = next(running)
    try:
        rc.project(ANTWERPEN)
        store = rc.runtime.store
        real_load = RecruitmentHandlers.load_project

        def load_then_closed_elsewhere(self, conn, project_id):  # type: ignore[no-untyped-def]
            project = real_load(self, conn, project_id)  # open, as loaded
            store.append(project_id, project.version, [NewEvent(ProjectClosed(
                project_id=project_id, closed_on=date(2026, 3, 1), reason=ProjectCloseReason.funding_ended),
                project_id=project_id)], actor=Actor(id="admin-2", role=Role.admin))  # another command commits
            return project

        monkeypatch.setattr(RecruitmentHandlers, "load_project", load_then_closed_elsewhere)
        body = {"channel": "website", "municipality_nis": "11002",
                "personal": {"first_name": "Te", "last_name": "Laat", "birth_date": "1980-02-03"}}
        check(rc.post(f"/projects/{ANTWERPEN}/volunteers", body), 409, mentions=ANTWERPEN)
        monkeypatch.setattr(RecruitmentHandlers, "load_project", real_load)
        assert [e.envelope.type for e in store.read_after(0)] == ["ProjectRegistered", "ProjectClosed"]
        check(rc.post(f"/projects/{ANTWERPEN}/volunteers", body), 409, mentions="closed")  # and now it says why
        assert store.verify().ok
    finally:
        running.close()
