"""Every operation of every service's OpenAPI, fuzzed in process with Schemathesis.

Each service is built the way its process builds it (SQLite in the test's folder, the
test Redis), its schema is loaded from the running ASGI app, and every operation gets a
bounded, derandomized run of generated requests: valid ones (positive) as an admin and as a
professional bound to projects (also with the professional's own project in the path, which
recruitment knows), and invalid ones (negative).
Every answer must be no server error, carry a documented status code and content type,
and match the documented response schema. A failure is fixed in the service, never by
loosening a check. The number of cases run per service is printed (``-s``) and kept in
``schemathesis-cases.json`` in a temporary folder whose path is printed with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.settings import Settings
from services.followup.bootstrap import build as build_followup
from services.matching.bootstrap import build as build_matching
from services.recruitment.bootstrap import build as build_recruitment
from services.reporting.bootstrap import build as build_reporting

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25  # per operation and run: bounded so the whole module stays a couple of minutes
PROJECT = "demo-antwerpen"  # a project the professional works in; registered in recruitment first
# (generation mode, caller, the project in the path): any input as any caller, invalid input, and
# valid input inside the professional's own project, which gets past the access checks
RUNS: tuple[tuple[GenerationMode, str, str | None], ...] = (
    (GenerationMode.POSITIVE, "dev-admin", None),
    (GenerationMode.POSITIVE, "dev-professional", None),
    (GenerationMode.POSITIVE, "dev-professional", PROJECT),
    (GenerationMode.NEGATIVE, "dev-admin", None),
)
NOWHERE = "http://127.0.0.1:9"  # upstream feeds are not running; catch-up fails quietly

BUILDERS: dict[str, Callable[[Settings], FastAPI]] = {
    "recruitment": build_recruitment,
    "matching": build_matching,
    "followup": build_followup,
    "reporting": build_reporting,
}
UPSTREAMS = ("recruitment", "matching", "followup")


@pytest.fixture(scope="module")
def counts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    ran: dict[str, int] = {}
    yield ran
    out = tmp_path_factory.mktemp("schemathesis") / "schemathesis-cases.json"
    out.write_text(json.dumps(ran, indent=2, sort_keys=True))
    print(f"\nschemathesis cases per service: {ran} ({out})")


def _run(operation: Any, mode: GenerationMode, token: str, project: str | None, sent: list[int]) -> None:
    """Run one operation's bounded fuzz, counting the cases sent in ``sent[0]``."""
    pinned = {"project_id": project} if project else None

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing case is reported as is
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned))
    def fuzz(case: schemathesis.Case) -> None:
        sent[0] += 1
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    fuzz()


def _register(app: FastAPI) -> None:
    """The professional's project, so that recruitment's project operations find it."""
    with asgi.get_client(app) as client:
        answer = client.post("/projects", headers={"Authorization": "Bearer dev-admin"}, json={
            "project_id": PROJECT, "name": "Buddywerking Antwerpen", "organisation": "Demo vzw",
            "municipality_nis": "11002", "region": "antwerpen-kempen", "target_groups": ["individual_adult"]})
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("service", list(BUILDERS))
def test_every_operation_conforms_and_never_fails(
    service: str, settings_factory: Callable[..., Settings], counts: dict[str, int]
) -> None:
    """No 5xx, documented statuses and media types, responses matching their schemas."""
    app = BUILDERS[service](settings_factory(service_urls={u: NOWHERE for u in UPSTREAMS}))
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app's lifespan once
        operations = [result.ok() for result in schema.get_all_operations()]
        assert operations, f"{service}: no operations in the OpenAPI"
        if service == "recruitment":
            _register(app)
        total, failures = 0, []
        for operation in operations:
            for mode, token, project in RUNS:
                if project and "{project_id}" not in operation.path:
                    continue
                sent = [0]
                try:
                    _run(operation, mode, token, project, sent)
                except Unsatisfiable:
                    pass  # nothing in this operation can be made invalid (no parameters, no body)
                except (Exception, FailureGroup) as exc:  # every operation runs; failures are reported together
                    failures.append(f"--- {operation.label} ({mode.value}, {token}, {project or 'any project'})\n{exc}")
                total += sent[0]
        counts[service] = total
        print(f"\n{service}: {len(operations)} operations, {total} cases, {len(failures)} failing runs")
        assert not failures, "\n".join(failures)
        assert total >= len(operations), f"{service}: {total} cases for {len(operations)} operations"
    finally:
        asgi.shutdown_lifespans()
