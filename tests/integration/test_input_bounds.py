"""Out-of-range input is the caller's error (422 with the field), never a server error.

Each case here once answered 500 (and paged on-call): a report period ending in 9999
(``year 10000 is out of range``), an event-feed position of 2^63 or more, and on
PostgreSQL a NUL byte in a path id, a query id or a free text. Every service is built the
way its process builds it, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.settings import Settings
from services.followup.bootstrap import build as build_followup
from services.matching.bootstrap import build as build_matching
from services.recruitment.bootstrap import build as build_recruitment
from services.reporting.bootstrap import build as build_reporting

ADMIN = {"Authorization": "Bearer dev-admin"}
NOWHERE = "http://127.0.0.1:9"
UPSTREAMS = ("recruitment", "matching", "followup")
BUILDERS: dict[str, Callable[[Settings], FastAPI]] = {
    "recruitment": build_recruitment,
    "matching": build_matching,
    "followup": build_followup,
    "reporting": build_reporting,
}
PROJECT = {"project_id": "p-1", "name": "Buddywerking", "organisation": "Demo vzw", "municipality_nis": "11002",
           "region": "antwerpen-kempen", "target_groups": ["individual_adult"]}
NUL_ID = "x-%00y"  # a NUL byte in a path segment, percent-encoded as a client sends it

# (service, method, path, query, body): each one answered 500 on PostgreSQL or SQLite
CASES: list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]] = [
    *[(s, "GET", "/events", {"after": str(2**63)}, None) for s in UPSTREAMS],
    *[(s, "GET", "/events", {"after": str(10**30)}, None) for s in UPSTREAMS],
    ("recruitment", "POST", "/projects", None, {**PROJECT, "name": "Buddy\x00werking"}),
    ("recruitment", "POST", "/projects", None, {**PROJECT, "region": "antwerpen\x00"}),
    ("recruitment", "POST", "/projects", None, {**PROJECT, "funded_until": "9999-12-31"}),
    ("recruitment", "POST", "/projects/p-1/volunteers", None, {
        "channel": "website", "municipality_nis": "11002",
        "personal": {"first_name": "A", "last_name": "B", "notes": "a\x00b"}}),
    ("matching", "POST", "/projects/p-1/participants", None, {
        "target_group": "individual_adult", "referrer_type": "school", "life_domains": ["poverty"],
        "municipality_nis": "11002", "consent_recorded": True,
        "personal": {"first_name": "A", "last_name": "B", "birth_date": "1850-01-01"}}),
    ("matching", "POST", "/projects/p-1/duos", None, {"volunteer_id": "v-1", "participant_id": "pt-1",
                                                      "started_on": "0001-01-01"}),
    ("recruitment", "GET", f"/projects/{NUL_ID}", None, None),
    ("recruitment", "GET", f"/volunteers/{NUL_ID}", None, None),
    ("recruitment", "GET", "/projects", {"region": "a\x00b"}, None),
    ("matching", "GET", f"/duos/{NUL_ID}", None, None),
    ("matching", "GET", f"/participants/{NUL_ID}", None, None),
    ("matching", "GET", f"/projects/{NUL_ID}/duos", None, None),
    ("matching", "GET", "/projects/p-1/duos", {"volunteer_id": "v\x00"}, None),
    ("followup", "GET", f"/duos/{NUL_ID}", None, None),
    ("followup", "GET", f"/goals/{NUL_ID}", None, None),
    ("followup", "GET", f"/boundary-signals/{NUL_ID}", None, None),
    ("followup", "GET", f"/policy-signals/{NUL_ID}", None, None),
    ("followup", "GET", f"/follow-up-calls/{NUL_ID}", None, None),
    ("followup", "GET", f"/duos/d-1/contacts/{NUL_ID}", None, None),
    ("followup", "GET", "/projects/p-1/boundary-signals", {"duo_id": "d\x00"}, None),
    ("followup", "GET", "/duos/d-1/contacts", {"to_date": "9999-12-31"}, None),
    ("reporting", "GET", f"/reports/{NUL_ID}", None, None),
    ("reporting", "GET", f"/reports/projects/{NUL_ID}/summary", None, None),
    ("reporting", "GET", "/reports", {"offset": str(2**63)}, None),
    ("reporting", "GET", "/reports/overview", {"period_start": "9999-12-01", "period_end": "9999-12-31"}, None),
    ("reporting", "GET", "/reports/overview", {"period_start": "2026-01-01", "period_end": "9999-12-31"}, None),
    ("reporting", "GET", "/reports/overview", {"period_start": "2026-01-01", "period_end": "2026-12-31",
                                               "region": "a\x00"}, None),
    ("reporting", "GET", "/dashboard", {"period_end": "9999-12-31"}, None),
    ("reporting", "GET", "/dashboard", {"period_end": "9999-12-31", "grain": "year"}, None),
    ("reporting", "GET", "/dashboard", {"period_start": "0001-01-01"}, None),
    ("reporting", "POST", "/reports", None, {"kind": "overview", "audience": "government",
                                             "period_start": "9999-12-01", "period_end": "9999-12-31"}),
    ("reporting", "POST", "/reports", None, {"kind": "overview", "audience": "government", "grain": "year",
                                             "period_start": "9999-01-01", "period_end": "9999-12-31"}),
]


@pytest.fixture
def client_of(settings_factory: Callable[..., Settings], database_url: str) -> Iterator[Callable[[str], TestClient]]:
    """``client_of(service)``: the service on this test's database, started once per test."""
    started: dict[str, TestClient] = {}

    def get(service: str) -> TestClient:
        if service not in started:
            app = BUILDERS[service](settings_factory(database_url=database_url,
                                                     service_urls={u: NOWHERE for u in UPSTREAMS}))
            started[service] = TestClient(app, raise_server_exceptions=False).__enter__()
        return started[service]

    yield get
    for client in started.values():
        client.__exit__(None, None, None)


@pytest.mark.parametrize("service", list(BUILDERS))
def test_out_of_range_input_is_422_never_500(service: str, client_of: Callable[[str], TestClient]) -> None:
    client = client_of(service)
    answers = []
    for _, method, path, query, body in (c for c in CASES if c[0] == service):
        resp = client.request(method, path, params=query, json=body, headers=ADMIN)
        answers.append((method, path, query, body, resp.status_code, resp.text[:300]))
    wrong = [a for a in answers if a[4] != 422]
    assert not wrong, "\n".join(map(repr, wrong))
    for *_, text in answers:
        assert '"errors"' in text and '"field"' in text, text
