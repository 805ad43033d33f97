"""Every operation of every service's OpenAPI, fuzzed in process with Schemathesis.

Each service is built the way its process builds it (on SQLite and on PostgreSQL: a NUL
byte is fine in SQLite text and a server error in PostgreSQL's, the test Redis), its schema
is loaded from the running ASGI app, and every operation gets a bounded, derandomized run of
generated requests: valid ones (positive) as an admin and as a professional bound to
projects (also with the professional's own project in the path, which recruitment knows),
invalid ones (negative), and unbounded ones: every integer huge (2^63 and beyond), every
string a NUL byte or a text a spreadsheet would run, every date in year 1 or 9999, whether or
not the schema admits them (a schema without a bound is where negative generation finds
nothing, and generation within bounds all but never reaches the extremes).
Every answer must be no server error, carry a documented status code and content type,
and match the documented response schema. A failure is fixed in the service, never by
loosening a check. The number of cases run per service and database is printed (``-s``)
and kept in ``schemathesis-cases.json`` in a temporary folder whose path is printed with it.
"""

from __future__ import annotations

import json
import re
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
# the unbounded schema's response schemas hold extremes too: its answers are checked by the bounded runs
UNBOUNDED_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
# per operation and run: bounded so the whole module stays a few minutes (PostgreSQL is slower per case;
# an unbounded run draws from a handful of extremes)
MAX_EXAMPLES = {"sqlite": 25, "postgresql": 8}
UNBOUNDED_EXAMPLES = 8
PROJECT = "demo-antwerpen"  # a project the professional works in; registered in recruitment first
# (generation mode, caller, the project in the path, bounds kept): any input as any caller, invalid
# input, valid input inside the professional's own project, which gets past the access checks, and
# input beyond every declared bound
RUNS: tuple[tuple[GenerationMode, str, str | None, bool], ...] = (
    (GenerationMode.POSITIVE, "dev-admin", None, True),
    (GenerationMode.POSITIVE, "dev-professional", None, True),
    (GenerationMode.POSITIVE, "dev-professional", PROJECT, True),
    (GenerationMode.NEGATIVE, "dev-admin", None, True),
    (GenerationMode.POSITIVE, "dev-admin", None, False),
)
BOUNDS = frozenset({"maximum", "exclusiveMaximum"})
# What an unbounded run sends (each once answered 500); schemathesis strips control characters
# from generated path parameters, so every path parameter is given the NUL id
NUL_ID = "x-\x00y"
HUGE_INTEGERS = [2**63, 10**30, -(2**63) - 1]  # beyond a 64-bit integer column
FAR_DAYS = ["9999-12-01", "9999-12-31", "0001-01-01"]  # a month, quarter or year after them overflows
ODD_TEXTS = [NUL_ID, "\x00", "9999-12-31", "=HYPERLINK(\"x\")"]  # PostgreSQL refuses NUL in text
NOWHERE = "http://127.0.0.1:9"  # upstream feeds are not running; catch-up fails quietly

BUILDERS: dict[str, Callable[[Settings], FastAPI]] = {
    "recruitment": build_recruitment,
    "matching": build_matching,
    "followup": build_followup,
    "reporting": build_reporting,
}
UPSTREAMS = ("recruitment", "matching", "followup")


def unbounded(node: Any) -> Any:
    """The schema with every integer that declares no maximum, every string that declares no
    pattern and every date replaced by extreme values; enums, objects, arrays, required fields
    and declared bounds stay, so that the extremes reach the code behind the validation (and a
    bounded parameter's 422 does not hide its neighbour's 500). Only the extremes: offered next
    to the schema's own values, the generator folds those the schema admits back into its range
    and all but never picks them."""
    if isinstance(node, list):
        return [unbounded(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "enum" in node or "const" in node:
        return node
    if node.get("type") == "integer" and not BOUNDS & node.keys():
        return {"enum": HUGE_INTEGERS}
    if node.get("type") == "string" and node.get("format") == "date":
        return {"enum": FAR_DAYS}  # JSON Schema cannot bound a date: every date field gets them
    if node.get("type") == "string" and "pattern" not in node and "format" not in node:
        return {"enum": ODD_TEXTS}
    return {k: unbounded(v) for k, v in node.items()}


@pytest.fixture(scope="module")
def counts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    ran: dict[str, int] = {}
    yield ran
    out = tmp_path_factory.mktemp("schemathesis") / "schemathesis-cases.json"
    out.write_text(json.dumps(ran, indent=2, sort_keys=True))
    print(f"\nschemathesis cases per service: {ran} ({out})")


def _run(operation: Any, mode: GenerationMode, token: str, project: str | None, sent: list[int],
         examples: int, checks: list[Any], bounded: bool = True) -> None:
    """Run one operation's bounded fuzz, counting the cases sent in ``sent[0]``."""
    pinned = {"project_id": project} if project else None
    if not bounded:
        pinned = {name: NUL_ID for name in re.findall(r"\{(\w+)\}", operation.path)} or None

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing case is reported as is
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned))
    def fuzz(case: schemathesis.Case) -> None:
        sent[0] += 1
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)

    fuzz()


def _register(app: FastAPI) -> None:
    """The professional's project, so that recruitment's project operations find it."""
    with asgi.get_client(app) as client:
        answer = client.post("/projects", headers={"Authorization": "Bearer dev-admin"}, json={
            "project_id": PROJECT, "name": "Buddywerking Antwerpen", "organisation": "Demo vzw",
            "municipality_nis": "11002", "region": "antwerpen-kempen", "target_groups": ["individual_adult"]})
    assert answer.status_code == 201, answer.text


def _operations(schema: Any) -> dict[str, Any]:
    return {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


@pytest.mark.parametrize("service", list(BUILDERS))
def test_every_operation_conforms_and_never_fails(
    service: str, settings_factory: Callable[..., Settings], database_url: str, counts: dict[str, int]
) -> None:
    """No 5xx, documented statuses and media types, responses matching their schemas."""
    database = database_url.split(":", 1)[0].split("+", 1)[0]
    app = BUILDERS[service](settings_factory(database_url=database_url,
                                             service_urls={u: NOWHERE for u in UPSTREAMS}))
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app's lifespan once
        loose = schemathesis.openapi.from_dict(unbounded(schema.raw_schema))
        loose.app, loose.location = app, schema.location
        operations, beyond = _operations(schema), _operations(loose)
        assert operations, f"{service}: no operations in the OpenAPI"
        if service == "recruitment":
            _register(app)
        total, failures = 0, []
        for label, operation in operations.items():
            for mode, token, project, bounded in RUNS:
                if project and "{project_id}" not in operation.path:
                    continue
                sent = [0]
                try:
                    _run(operation if bounded else beyond[label], mode, token, project, sent,
                         MAX_EXAMPLES[database] if bounded else UNBOUNDED_EXAMPLES,
                         CHECKS if bounded else UNBOUNDED_CHECKS, bounded)
                except Unsatisfiable:
                    pass  # nothing in this operation can be made invalid (no parameters, no body)
                except (Exception, FailureGroup) as exc:  # every operation runs; failures are reported together
                    failures.append(f"--- {label} ({mode.value}, {token}, {project or 'any project'}, "
                                    f"{'bounded' if bounded else 'unbounded'})\n{exc}")
                total += sent[0]
        counts[f"{service}/{database}"] = total
        print(f"\n{service} on {database}: {len(operations)} operations, {total} cases, {len(failures)} failing runs")
        assert not failures, "\n".join(failures)
        assert total >= len(operations), f"{service}: {total} cases for {len(operations)} operations"
    finally:
        asgi.shutdown_lifespans()
