"""The access matrix: every endpoint of every service × every role, generated from OpenAPI.

The four services run as processes over real Redis. Real objects exist in two projects
of two regions — A (``demo-antwerpen``, region ``antwerpen-kempen``) and B
(``demo-brugge``, region ``west-vlaanderen``) — volunteers, participants, duos, contacts,
boundary signals, goals, follow-up calls, policy signals and a published report.

Every operation in each service's ``/openapi.json`` is classified by the declarative
``RULES`` table (first match by service, method and path); an operation no rule covers
fails the test, so a new endpoint cannot go unchecked. Each operation is then called,
on A's objects and on B's, by every identity:

    admin · professional of A (foreign to B) · professional of B (foreign to A) ·
    coordinator of A's region (foreign to B's) · auditor · government · buddy · no token · invalid token

What each dev identity may do comes from the staff register (the demo people's, as the
system starts in ``tests/e2e/system.py``); the staff endpoints are in the table too.

and must answer what its policy expects (200, 401, 403; 404 for unknown ids). A write is
sent with a valid body: refused identities must get 401/403 (not 422: the body is valid),
allowed ones anything but 401/403/5xx (they change state, so 409 can follow). Any 5xx
fails, and any 2xx where access must be denied is a leak and fails.

Deviations found in services this test does not own are listed in ``KNOWN_DEVIATIONS``
with the reason; they are asserted to still be there (strict), so a fix shows up.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e import flows
from tests.e2e.system import Api, ServiceSystem, eventually

pytestmark = pytest.mark.e2e

SERVICES = ("recruitment", "matching", "followup", "reporting")
TOKENS = {
    "admin": "dev-admin",
    "pro_a": "dev-professional",  # projects demo-antwerpen (and demo-gent)
    "pro_b": "dev-professional-other",  # project demo-brugge
    "coordinator": "dev-coordinator",  # region antwerpen-kempen
    "auditor": "dev-auditor",
    "government": "dev-government",  # Flanders' anonymised figures, nothing of a project, nothing personal
    "buddy": "dev-buddy",  # a buddy: none of these duos is theirs
    "none": None,
    "invalid": "not-a-valid-token",
}
SCOPES = {
    "A": {"project_id": "demo-antwerpen", "region": "antwerpen-kempen", "nis": "11002", "pro": "pro_a"},
    "B": {"project_id": "demo-brugge", "region": "west-vlaanderen", "nis": "31005", "pro": "pro_b"},
}
UNKNOWN = "zz-unknown-404"
OK, DENIED, ANON = "ok", "denied", "anonymous"


# --------------------------------------------------------------------------- who may do what
def relation(who: str, scope: str | None) -> str:
    """How an identity stands to a scope: admin, auditor, own/foreign professional or coordinator, ..."""
    if who in ("none", "invalid"):
        return ANON
    if who in ("pro_a", "pro_b"):
        return "pro_own" if scope is not None and SCOPES[scope]["pro"] == who else "pro_foreign"
    if who == "coordinator":
        return "coord_own" if scope == "A" else "coord_foreign"
    return who  # admin, auditor, government, buddy


def allowing(*relations: str) -> Callable[[str, str | None], str]:
    def policy(who: str, scope: str | None) -> str:
        rel = relation(who, scope)
        return ANON if rel == ANON else OK if rel in relations else DENIED
    return policy


PUBLIC = lambda who, scope: OK  # noqa: E731  (liveness, readiness and metrics hold no data)
SIGNED_IN = allowing("admin", "auditor", "pro_own", "pro_foreign", "coord_own", "coord_foreign", "government",
                     "buddy")
AUDIT = allowing("admin", "auditor")  # the public event history
STAFF = allowing("admin", "pro_own")  # case logging: the project's professionals (admins may step in)
PERSONAL = allowing("admin", "auditor", "pro_own")  # reasoned, recorded reads of personal data
ADMIN = allowing("admin")
REGISTER = allowing("admin", "auditor", "pro_own", "coord_own")  # the project register entry
REPORTS = allowing("admin", "auditor", "pro_own", "coord_own")  # anonymised figures of the scope
# a report published by an admin (so protected for the government): readers of that protection,
# and the project's own staff (they know its exact figures); a coordinator, whose protection of
# the same cells differs, may not set the two side by side (docs/disclosure.md)
PUBLISHED_BY_ADMIN = allowing("admin", "auditor", "pro_own")
PUBLISH = allowing("admin", "pro_own", "coord_own")  # auditors are read-only
LISTING = allowing("admin", "auditor", "pro_own", "pro_foreign", "coord_own", "coord_foreign")  # filtered lists
STAFF_REGISTER = allowing("admin", "auditor")  # who works here, by name, and each one's history


@dataclass(frozen=True)
class Rule:
    service: str  # or "*"
    methods: str  # e.g. "GET" or "POST PUT PATCH"
    path: str  # a regular expression on the OpenAPI path template
    policy: Callable[[str, str | None], str]
    why: str


RULES: list[Rule] = [
    Rule("*", "GET", r"^/(healthz|readyz|metrics)$", PUBLIC, "operations: no data"),
    Rule("*", "GET", r"^/events(/head)?$", AUDIT, "the feed: auditors, admins (and the service token)"),
    Rule("*", "GET", r"^/vocabularies$", SIGNED_IN, "labels only"),
    Rule("*", "GET", r"^/personal-data/reasons$", SIGNED_IN, "labels only"),
    Rule("*", "GET", r"^/audit/history/", AUDIT, "public events of one person: auditors and admins"),
    Rule("*", "GET POST", r"^/personal-data/", PERSONAL, "reasoned reads: admins, auditors, the project's staff"),
    # recruitment
    Rule("recruitment", "GET", r"^/(regions|staff/me)$", SIGNED_IN, "the region list; one's own role and scope"),
    Rule("recruitment", "GET", r"^/staff(/\{staff_id\}(/history)?)?$", STAFF_REGISTER,
         "the staff register and its history: admins and auditors"),
    Rule("recruitment", "POST PUT DELETE", r"^/staff", ADMIN, "admins invite, assign, grant, link and remove"),
    Rule("recruitment", "GET", r"^/projects$", LISTING, "the register, filtered to the caller's scope"),
    Rule("recruitment", "POST", r"^/projects$", ADMIN, "admins manage projects"),
    Rule("recruitment", "GET", r"^/projects/\{project_id\}$", REGISTER, "one register entry"),
    Rule("recruitment", "PATCH POST", r"^/projects/\{project_id\}(/close)?$", ADMIN, "admins manage projects"),
    Rule("recruitment", "GET POST PUT", r"^/(projects/\{project_id\}/|volunteers/)", STAFF, "case logging"),
    Rule("followup", "POST", r"^/policy-signals/\{signal_id\}/shredding$", ADMIN, "admins shred a signal's text"),
    # matching and follow-up: case logging, all of it
    Rule("matching", "GET POST PUT", r"^/(projects|participants|duos)/", STAFF, "case logging"),
    Rule("followup", "GET POST PUT", r"^/(projects|duos|boundary-signals|goals|follow-up-calls|policy-signals)/",
         STAFF, "case logging (a buddy only for their own duo's contacts)"),
    # reporting: anonymised figures of the caller's scope
    Rule("reporting", "GET", r"^/(indicators|reports|scopes)$", SIGNED_IN, "catalogue; the lists are filtered"),
    Rule("reporting", "POST", r"^/reports$", PUBLISH, "publishing keeps a record: not for read-only auditors"),
    Rule("reporting", "GET", r"^/reports/\{report_id\}", PUBLISHED_BY_ADMIN,
         "a published report keeps its audience's protection: readers of it, and the project's own staff"),
    Rule("reporting", "GET", r"^/(reports/|dashboard$)", REPORTS, "figures of a project: its staff, its "
                                                                  "region's coordinator, admins, auditors"),
]

# (service, method, path, identity, scope): what this test expects but the service answers otherwise;
# scope "unknown" is the check with unknown ids. Reported to the services' owners, not fixed here.
_AUDITOR_PUBLISHES = "an auditor may publish a report (a kept record): the issue says auditors are read-only"
_NO_REGISTER = ("follow-up keeps no project register: an admin gets an empty answer (or records data) "
                "for a project that does not exist, instead of 404")
KNOWN_DEVIATIONS: dict[tuple[str, str, str, str, str | None], str] = {
    ("reporting", "POST", "/reports", "auditor", "A"): _AUDITOR_PUBLISHES,
    ("reporting", "POST", "/reports", "auditor", "B"): _AUDITOR_PUBLISHES,
    **{("followup", method, f"/projects/{{project_id}}/{tail}", "admin", "unknown"): _NO_REGISTER
       for method, tail in (("GET", "duos"), ("GET", "boundary-signals"), ("GET", "cadence"), ("GET", "check-ins"),
                            ("GET", "coaching-sessions"), ("GET", "figures"), ("GET", "follow-up-calls"),
                            ("GET", "follow-up-calls/overdue"), ("GET", "policy-signals"),
                            ("POST", "policy-signals"), ("PUT", "cadence"), ("GET", "today"))},
}


def rule_for(service: str, method: str, path: str) -> Rule:
    for rule in RULES:
        if rule.service in ("*", service) and method in rule.methods.split() and re.search(rule.path, path):
            return rule
    raise LookupError(f"no access rule for {service} {method} {path}: add one to RULES")


# --------------------------------------------------------------------------- the world
@dataclass
class World:
    ids: dict[str, dict[str, str]]  # scope -> {param: id}
    today: str
    openapi: dict[str, dict[str, Any]]


def _post(api: Api, service: str, path: str, token: str, body: Any, status: int = 201) -> dict[str, Any]:
    return api.ok(api.post(service, path, token, body), status)


def _scope_objects(api: Api, scope: str) -> dict[str, str]:
    s = SCOPES[scope]
    project, token = s["project_id"], TOKENS[s["pro"]]
    today = datetime.now(UTC).date()
    flows.register_project(api, project, nis=s["nis"], region=s["region"])
    volunteers = [flows.enquire(api, project, token=token, nis=s["nis"]) for _ in range(4)]
    for vid in volunteers:
        flows.make_available(api, vid, token=token)
    flows.wait_for_candidates(api, project, volunteers, token=token)
    participants = [flows.refer(api, project, token=token, nis=s["nis"]) for _ in range(3)]
    duo = flows.start_duo(api, project, volunteers[0], participants[0], token=token)
    ended = flows.start_duo(api, project, volunteers[1], participants[1], token=token)
    flows.end_duo(api, ended, token=token)
    contact = flows.log_contact(api, duo, token=token, note="matrix")
    day = today.isoformat()
    signal = _post(api, "followup", f"/duos/{duo}/boundary-signals", token, {
        "signal_type": "crisis", "severity": "low", "raised_by": "buddy", "raised_on": day})["signal_id"]
    goal = _post(api, "followup", f"/duos/{duo}/goals", token, {
        "domain": "leisure", "set_on": day, "baseline": 3})["goal_id"]
    policy = _post(api, "followup", f"/projects/{project}/policy-signals", token, {
        "theme": "digital_barriers", "observed_on": day, "description": "matrix"})["signal_id"]
    _post(api, "followup", f"/projects/{project}/coaching-sessions", token, {
        "kind": "individual", "session_date": day, "minutes": 30, "themes": ["boundaries"],
        "volunteer_ids": [volunteers[0]]})
    calls = eventually(lambda: api.ok(api.get("followup", f"/projects/{project}/follow-up-calls", token))["items"],
                       timeout=30)
    flows.wait_until_reporting_caught_up(api, project, timeout=30)
    staff = _post(api, "recruitment", "/staff", TOKENS["admin"], {  # someone of the register, not a demo person
        "name": f"Matrix {scope}", "email": f"matrix-{scope.lower()}@example.org"})["staff_id"]
    report = _post(api, "reporting", "/reports", TOKENS["admin"], {  # a document: it exports as CSV, XLSX, PDF
        "kind": "overview", "audience": "project", "project_id": project,
        "period_start": f"{today.year}-01-01", "period_end": f"{today.year}-12-31"})
    return {"project_id": project, "volunteer_id": volunteers[0], "participant_id": participants[0], "duo_id": duo,
            "contact_id": contact, "signal_id": signal, "policy_signal_id": policy, "goal_id": goal,
            "call_id": calls[0]["call_id"], "report_id": report["report_id"], "ended_duo_id": ended,
            "staff_id": staff, "role": "government", "region": s["region"],
            "waiting_participant_id": participants[2], "free_volunteer_id": volunteers[2],
            "spare_volunteer_id": volunteers[3]}


@pytest.fixture(scope="module")
def world(module_system: ServiceSystem, module_api: Api) -> World:
    ids = {scope: _scope_objects(module_api, scope) for scope in SCOPES}
    openapi = {s: module_api.ok(module_api.get(s, "/openapi.json")) for s in SERVICES}
    return World(ids, datetime.now(UTC).date().isoformat(), openapi)


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str  # the template
    body: bool

    @property
    def scoped(self) -> bool:
        return "{" in self.path or (self.service, self.method, self.path) in SCOPED_ELSEWHERE


# Operations without an id in the path that are still about one project: in the query or the body.
SCOPED_ELSEWHERE = {("reporting", "GET", "/reports/overview"), ("reporting", "GET", "/dashboard"),
                    ("reporting", "POST", "/reports")}


def operations(world: World) -> list[Operation]:
    found = []
    for service, spec in world.openapi.items():
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                found.append(Operation(service, method.upper(), path, "requestBody" in op))
    return found


def _param(service: str, path: str, name: str, ids: dict[str, str]) -> str:
    if name == "signal_id" and path.startswith("/policy-signals"):
        return ids["policy_signal_id"]
    if name == "subject_id":
        return ids["volunteer_id"] if service == "recruitment" else ids["participant_id"]
    return ids[name]


def url_of(op: Operation, world: World, scope: str | None, *, unknown: bool = False) -> tuple[str, dict[str, Any]]:
    ids = world.ids[scope] if scope else {}
    path = re.sub(r"\{(\w+)\}", lambda m: UNKNOWN if unknown else _param(op.service, op.path, m.group(1), ids),
                  op.path)
    query: dict[str, Any] = {}
    project = UNKNOWN if unknown else ids.get("project_id")
    if op.path == "/reports/overview":
        year = world.today[:4]
        query = {"period_start": f"{year}-01-01", "period_end": f"{year}-12-31"}
        if scope:
            query |= {"audience": "project", "project_id": project}
    elif op.path == "/dashboard" and scope:
        query = {"project_id": project}
    elif op.path.endswith("/export") and op.path.startswith("/personal-data/"):
        query = {"reason": "audit"}
    return path, query


def body_of(op: Operation, world: World, scope: str | None) -> Any:
    """A valid body for every write: a refusal must then be the access check's, never validation's."""
    ids = world.ids[scope] if scope else world.ids["A"]
    day = world.today
    past = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    contact = {"contact_date": past, "minutes": 45, "mode": "phone", "activities": ["walk"]}
    enquiry = {"channel": "website", "municipality_nis": SCOPES[scope or "A"]["nis"],
               "personal": {"first_name": "Matrix", "last_name": "Persoon"}}
    referral = {"target_group": "individual_adult", "referrer_type": "social_services",
                "life_domains": ["isolation"], "municipality_nis": SCOPES[scope or "A"]["nis"],
                "consent_recorded": True, "personal": {"first_name": "Matrix", "last_name": "Deelnemer"}}
    bodies: dict[tuple[str, str, str], Any] = {
        ("recruitment", "POST", "/projects"): {
            "project_id": f"matrix-{uuid.uuid4().hex[:8]}", "name": "Matrix", "organisation": "Testvzw",
            "municipality_nis": "11002", "region": "antwerpen-kempen", "target_groups": ["individual_adult"]},
        ("recruitment", "PATCH", "/projects/{project_id}"): {"organisation": "Andere vzw"},
        ("recruitment", "POST", "/projects/{project_id}/close"): {"closed_on": day, "reason": "funding_ended"},
        ("recruitment", "POST", "/projects/{project_id}/volunteers"): enquiry,
        ("recruitment", "POST", "/volunteers/{volunteer_id}/intake"): {"held_on": day},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/screening"): {"screened_on": day, "outcome": "approved"},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/training"): {
            "session_on": day, "kind": "group_training", "hours": 1},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/availability"): {"target_groups": ["individual_adult"]},
        ("recruitment", "PUT", "/volunteers/{volunteer_id}/preferences"): {"target_groups": ["individual_adult"]},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/pause"): {},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/stop"): {"reason": "no_time"},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/legal-items"): {"item": "insurance", "dated": day},
        ("recruitment", "POST", "/volunteers/{volunteer_id}/keep-warm"): {"contacted_on": day, "kind": "call"},
        ("recruitment", "PUT", "/volunteers/{volunteer_id}/personal"): {"first_name": "Matrix", "last_name": "Nieuw"},
        ("*", "POST", "/personal-data/{subject_id}/access"): {"reason": "audit"},
        ("matching", "POST", "/projects/{project_id}/participants"): referral,
        ("matching", "POST", "/participants/{participant_id}/intake"): {"held_on": day},
        ("matching", "POST", "/participants/{participant_id}/consent"): {"scopes": ["matching", "data_processing"]},
        ("matching", "PUT", "/participants/{participant_id}/preferences"): {
            "municipality_nis": SCOPES[scope or "A"]["nis"], "languages": ["nl"]},
        ("matching", "POST", "/participants/{participant_id}/withdrawal"): {
            "reason": "no_longer_needed", "withdrawn_on": day},
        ("matching", "POST", "/participants/{participant_id}/waiting-list"): {"reason": "new_request"},
        ("matching", "PUT", "/projects/{project_id}/weights"): {
            "interests": 1, "availability": 1, "distance": 1, "volunteer_waiting": 1, "participant_waiting": 1},
        ("matching", "POST", "/projects/{project_id}/proposals"): {
            "volunteer_id": ids["free_volunteer_id"], "participant_id": ids["waiting_participant_id"]},
        ("matching", "POST", "/duos/{duo_id}/acceptance"): {"party": "volunteer"},
        ("matching", "POST", "/duos/{duo_id}/decline"): {"party": "volunteer", "reason": "no_click"},
        ("matching", "POST", "/duos/{duo_id}/start"): {"started_on": day},
        ("matching", "POST", "/projects/{project_id}/duos"): {
            "volunteer_id": ids["spare_volunteer_id"], "participant_id": ids["waiting_participant_id"],
            "started_on": day},
        ("matching", "POST", "/duos/{duo_id}/pause"): {"paused_on": day},
        ("matching", "POST", "/duos/{duo_id}/resume"): {"resumed_on": day},
        ("matching", "POST", "/duos/{duo_id}/end"): {"ended_on": day, "reason": "goals_reached", "planned": True},
        ("followup", "POST", "/duos/{duo_id}/contacts"): contact,
        ("followup", "POST", "/duos/{duo_id}/contact-drafts"): contact,
        ("followup", "POST", "/duos/{duo_id}/contacts/{contact_id}/submission"): contact,
        ("followup", "POST", "/duos/{duo_id}/contacts/{contact_id}/correction"): contact,
        ("followup", "POST", "/duos/{duo_id}/contacts/{contact_id}/retraction"): {"reason": "duplicate"},
        ("followup", "PUT", "/projects/{project_id}/cadence"): {
            "first_period_days": 30, "first_period_contacts": 2, "max_gap_days": 31},
        ("followup", "POST", "/projects/{project_id}/coaching-sessions"): {
            "kind": "group", "session_date": day, "minutes": 60, "themes": ["boundaries"],
            "volunteer_ids": [ids["volunteer_id"]]},
        ("followup", "POST", "/duos/{duo_id}/boundary-signals"): {
            "signal_type": "safety", "severity": "medium", "raised_by": "professional", "raised_on": day},
        ("followup", "POST", "/boundary-signals/{signal_id}/follow-ups"): {
            "action": "triangle_meeting", "followed_up_on": day},
        ("followup", "POST", "/boundary-signals/{signal_id}/resolution"): {
            "resolution": "resolved", "resolved_on": day},
        ("followup", "POST", "/duos/{duo_id}/goals"): {"domain": "language", "set_on": day, "baseline": 2},
        ("followup", "POST", "/goals/{goal_id}/progress"): {"recorded_on": day, "score": 5},
        ("followup", "POST", "/goals/{goal_id}/closure"): {"closed_on": day, "outcome": "achieved"},
        ("followup", "POST", "/duos/{duo_id}/evaluations"): {
            "moment": "mid", "evaluated_on": day, "wellbeing": 6, "network_size": 3},
        ("followup", "POST", "/follow-up-calls/{call_id}/attempts"): {"attempted_on": day},
        ("followup", "POST", "/follow-up-calls/{call_id}/completion"): {"outcome": "declined", "completed_on": day},
        ("followup", "POST", "/projects/{project_id}/policy-signals"): {
            "theme": "housing", "observed_on": day, "description": "matrix"},
        ("followup", "POST", "/policy-signals/{signal_id}/summary"): {
            "summary": "Drempel bij digitale loketten", "confirm_no_personal_data": True},
        ("reporting", "POST", "/reports"): {"kind": "project_summary", "project_id": ids["project_id"]},
        ("recruitment", "POST", "/staff"): {"name": "Matrix Medewerker", "email": "matrix@example.org"},
        ("recruitment", "PUT", "/staff/{staff_id}/subject"): {"subject": f"matrix-{uuid.uuid4().hex[:12]}"},
        ("recruitment", "POST", "/staff/{staff_id}/roles"): {"role": "government"},
        ("recruitment", "POST", "/staff/{staff_id}/projects"): {"project_id": ids["project_id"]},
        ("recruitment", "POST", "/staff/{staff_id}/regions"): {"region": ids["region"]},
    }
    for key in ((op.service, op.method, op.path), ("*", op.method, op.path)):
        if key in bodies:
            return bodies[key]
    if op.body:
        raise LookupError(f"no sample body for {op.service} {op.method} {op.path}: add one to body_of")
    return None


def call(api: Api, op: Operation, world: World, who: str, scope: str | None, *,
         unknown: bool = False) -> httpx.Response:
    path, query = url_of(op, world, scope, unknown=unknown)
    body = body_of(op, world, scope) if op.method != "GET" else None
    return api.request(op.method, op.service, path, TOKENS[who], body, params=query)


def scopes_of(op: Operation) -> list[str | None]:
    return ["A", "B"] if op.scoped else [None]


def judge(op: Operation, who: str, scope: str | None, status: int) -> str | None:
    """None when the answer is right; else what is wrong."""
    if status >= 500:
        return f"server error {status}"
    expected = rule_for(op.service, op.method, op.path).policy(who, scope)
    write = op.method != "GET" and not op.path.startswith("/personal-data/")
    if expected == ANON:
        return None if status == 401 else f"expected 401, got {status}"
    if expected == DENIED:
        if 200 <= status < 300:
            return f"LEAK: expected 403, got {status}"
        return None if status == 403 else f"expected 403, got {status}"
    if write:  # allowed: the write may be refused by the state it meets, never by access control
        return None if status not in (401, 403) else f"expected access, got {status}"
    return None if status == 200 else f"expected 200, got {status}"


def _report(problems: list[str]) -> str:
    return f"{len(problems)} wrong answers:\n" + "\n".join(sorted(problems)[:200])


def run_matrix(api: Api, world: World, ops: list[Operation], identities: Callable[[Operation, str | None], list[str]],
               ) -> tuple[list[str], set[tuple[str, str, str, str, str | None]], int]:
    problems, deviations, calls = [], set(), 0
    for op in ops:
        for scope in scopes_of(op):
            for who in identities(op, scope):
                resp = call(api, op, world, who, scope)
                calls += 1
                wrong = judge(op, who, scope, resp.status_code)
                key = (op.service, op.method, op.path, who, scope)
                if wrong is None:
                    continue
                if key in KNOWN_DEVIATIONS and not wrong.startswith("server error"):
                    deviations.add(key)
                    continue
                problems.append(f"{op.service} {op.method} {op.path} as {who} on {scope or '-'}: {wrong} "
                                f"({resp.text[:160]})")
    return problems, deviations, calls


# --------------------------------------------------------------------------- the tests
def test_every_endpoint_has_an_access_rule(world: World) -> None:
    ops = operations(world)
    assert len(ops) > 100, "the OpenAPI documents look incomplete"
    unclassified = []
    for op in ops:
        try:
            rule_for(op.service, op.method, op.path)
        except LookupError as exc:
            unclassified.append(str(exc))
        if op.method != "GET":
            body_of(op, world, "A")  # every write has a valid sample body
    assert not unclassified, "\n".join(unclassified)


def test_reads_answer_every_role_as_the_table_says(world: World, module_api: Api) -> None:
    reads = [op for op in operations(world) if op.method == "GET"]
    problems, _, calls = run_matrix(module_api, world, reads, lambda op, scope: list(TOKENS))
    assert calls > 600
    assert not problems, _report(problems)


def test_refused_writes_change_nothing_and_leak_nothing(world: World, module_api: Api) -> None:
    """Every write by every identity the table refuses, with a valid body: 401 or 403, never more."""
    writes = [op for op in operations(world) if op.method != "GET"]
    heads_before = flows.heads(module_api)

    def refused(op: Operation, scope: str | None) -> list[str]:
        policy = rule_for(op.service, op.method, op.path).policy
        return [who for who in TOKENS if policy(who, scope) != OK]

    problems, deviations, calls = run_matrix(module_api, world, writes, refused)
    assert calls > 300
    assert not problems, _report(problems)
    expected = {k for k in KNOWN_DEVIATIONS if k[1] != "GET" and k[4] != "unknown"}
    assert deviations == expected, f"known deviations fixed? remove them from KNOWN_DEVIATIONS: {expected - deviations}"
    after = flows.heads(module_api)
    assert after == heads_before, f"a refused write was recorded: {heads_before} -> {after}"


def test_unknown_ids_are_404_for_admins_and_never_answered_for_others(world: World, module_api: Api) -> None:
    problems, deviations = [], set()
    for op in operations(world):
        if "{" not in op.path:
            continue
        for who in TOKENS:
            resp = call(module_api, op, world, who, "A", unknown=True)
            status = resp.status_code
            allowed = {401} if who in ("none", "invalid") else {404} if who == "admin" else {403, 404}
            if status in allowed:
                continue
            key = (op.service, op.method, op.path, who, "unknown")
            if key in KNOWN_DEVIATIONS and status < 500:
                deviations.add(key)
                continue
            problems.append(f"{op.service} {op.method} {op.path} as {who} on an unknown id: expected "
                            f"{sorted(allowed)}, got {status} ({resp.text[:120]})")
    assert not problems, _report(problems)
    expected = {k for k in KNOWN_DEVIATIONS if k[4] == "unknown"}
    assert deviations == expected, f"known deviations fixed? remove them from KNOWN_DEVIATIONS: {expected - deviations}"


def test_lists_hold_only_what_the_caller_may_see(world: World, module_api: Api) -> None:
    api = module_api
    a, b = world.ids["A"]["project_id"], world.ids["B"]["project_id"]

    def projects(who: str) -> set[str]:
        return {p["project_id"] for p in api.ok(api.get("recruitment", "/projects", TOKENS[who]))["items"]}

    assert {a, b} <= projects("admin") and {a, b} <= projects("auditor")
    assert a in projects("pro_a") and b not in projects("pro_a")
    assert b in projects("pro_b") and a not in projects("pro_b")
    assert a in projects("coordinator") and b not in projects("coordinator")

    def reports(who: str) -> set[str]:
        return {r["report_id"] for r in api.ok(api.get("reporting", "/reports", TOKENS[who]))["items"]}

    ra, rb = world.ids["A"]["report_id"], world.ids["B"]["report_id"]
    assert {ra, rb} <= reports("admin") and {ra, rb} <= reports("auditor")
    assert ra in reports("pro_a") and rb not in reports("pro_a")
    assert rb in reports("pro_b") and ra not in reports("pro_b")
    # made by an admin, so protected as the government's: not for a coordinator (docs/disclosure.md)
    assert ra not in reports("coordinator") and rb not in reports("coordinator")
    assert reports("buddy") == set() and reports("government") == set()  # project reports are not Flanders'

    for who, mine, other in (("pro_a", a, b), ("pro_b", b, a)):
        page = api.get("reporting", "/dashboard", TOKENS[who])
        assert page.status_code == 200 and other not in page.text and mine in page.text, who


def test_the_government_reads_flanders_and_nothing_of_a_project(world: World, module_api: Api) -> None:
    """Flanders-wide anonymised figures for the government: live, published and listed; nothing narrower."""
    api, year = module_api, world.today[:4]
    period = {"period_start": f"{year}-01-01", "period_end": f"{year}-12-31"}
    scopes = api.ok(api.get("reporting", "/scopes", TOKENS["government"]))
    assert scopes == {"flanders": True, "regions": [], "projects": []}
    live = api.get("reporting", "/reports/overview", TOKENS["government"], params={**period, "audience": "government"})
    assert live.status_code == 200, live.text
    published = api.ok(api.post("reporting", "/reports", TOKENS["government"],
                                {"kind": "overview", "audience": "government", **period}), 201)
    listed = {r["report_id"] for r in api.ok(api.get("reporting", "/reports", TOKENS["government"]))["items"]}
    assert published["report_id"] in listed
    for narrower in ({"audience": "coordinator", "region": SCOPES["A"]["region"]},
                     {"audience": "project", "project_id": SCOPES["A"]["project_id"]}):
        refused = api.get("reporting", "/reports/overview", TOKENS["government"], params={**period, **narrower})
        assert refused.status_code == 403, refused.text
    me = api.ok(api.get("recruitment", "/staff/me", TOKENS["government"]))
    assert me["role"] == "government" and me["projects"] == [] and me["regions"] == []


def test_allowed_writes_pass_the_access_check(world: World, module_api: Api) -> None:
    """Last: the writes the table allows, by each allowed identity (they change the world)."""
    writes = [op for op in operations(world) if op.method != "GET"]

    def allowed(op: Operation, scope: str | None) -> list[str]:
        policy = rule_for(op.service, op.method, op.path).policy
        return [who for who in TOKENS if policy(who, scope) == OK]

    problems, _, calls = run_matrix(module_api, world, writes, allowed)
    assert calls > 100
    assert not problems, _report(problems)


def test_the_table_itself() -> None:
    """The relations the table builds on, spelled out."""
    assert relation("pro_a", "A") == "pro_own" and relation("pro_a", "B") == "pro_foreign"
    assert relation("pro_b", "B") == "pro_own" and relation("coordinator", "B") == "coord_foreign"
    assert STAFF("buddy", "A") == DENIED and PERSONAL("auditor", "B") == OK and STAFF("auditor", "A") == DENIED
    assert PERSONAL("government", "A") == DENIED and REPORTS("government", "A") == DENIED
    assert SIGNED_IN("government", None) == OK and STAFF_REGISTER("government", "A") == DENIED
    assert REPORTS("coordinator", "A") == OK and REPORTS("coordinator", "B") == DENIED
    assert rule_for("matching", "GET", "/vocabularies").policy is SIGNED_IN
    assert rule_for("followup", "POST", "/personal-data/{subject_id}/access").policy is PERSONAL
