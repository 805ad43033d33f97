"""Bad input against the running services: every refusal is a 4xx people can read.

One system serves the whole module; every test works in a project of its own (the
admin may act in any project). Every answer checked here must be below 500 and carry
a non-empty ``detail`` string; validation errors name their fields in ``errors``;
unknown ids and refused transitions say so in Dutch and English.
"""

from __future__ import annotations

import itertools
import json
import socket
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e import flows
from tests.e2e.flows import ADMIN
from tests.e2e.system import Api, ServiceSystem

pytestmark = pytest.mark.e2e

MAX_BODY = 1_000_000  # BUDDY_MAX_BODY_BYTES default
_counter = itertools.count(1)

# Every route that needs a caller, with a body that is valid in shape.
VALID_PROJECT = {"project_id": "bi-x", "name": "X", "organisation": "X vzw", "municipality_nis": "11002",
                 "region": "antwerpen-kempen", "target_groups": ["individual_adult"]}
VALID_ENQUIRY = {"channel": "website", "municipality_nis": "11002", "personal": {"first_name": "A", "last_name": "B"}}
VALID_AVAILABILITY = {"target_groups": ["individual_adult"]}
VALID_STOP = {"reason": "no_time"}
VALID_REFERRAL = {"target_group": "individual_adult", "referrer_type": "school", "life_domains": ["poverty"],
                  "municipality_nis": "11002", "consent_recorded": True,
                  "personal": {"first_name": "A", "last_name": "B"}}
VALID_DUO = {"volunteer_id": "v-x", "participant_id": "pt-x", "started_on": "2024-01-01"}
VALID_END = {"ended_on": "2024-06-01", "reason": "goals_reached", "planned": True}


def valid_contact() -> dict[str, Any]:
    return flows.contact_body()


# (service, method, path, body) of every endpoint with a JSON body
BODY_ROUTES = [
    ("recruitment", "/projects", VALID_PROJECT),
    ("recruitment", "/projects/bi-x/volunteers", VALID_ENQUIRY),
    ("recruitment", "/volunteers/v-x/availability", VALID_AVAILABILITY),
    ("recruitment", "/volunteers/v-x/stop", VALID_STOP),
    ("matching", "/projects/bi-x/participants", VALID_REFERRAL),
    ("matching", "/projects/bi-x/duos", VALID_DUO),
    ("matching", "/duos/d-x/end", VALID_END),
    ("followup", "/duos/d-x/contacts", None),  # body filled in per test (dates relative to today)
]
AUTH_ROUTES = [("POST", s, p) for s, p, _ in BODY_ROUTES] + [
    ("GET", "recruitment", "/projects/bi-x"),
    ("GET", "recruitment", "/volunteers/v-x"),
    ("POST", "recruitment", "/volunteers/v-x/erasure"),
    ("GET", "matching", "/projects/bi-x/candidates"),
    ("GET", "reporting", "/reports/projects/bi-x/summary"),
    ("GET", "recruitment", "/events"),
    ("GET", "matching", "/events"),
    ("GET", "followup", "/events"),
    ("GET", "recruitment", "/events/head"),
    ("GET", "matching", "/events/head"),
    ("GET", "followup", "/events/head"),
]


def _route_id(route: tuple[Any, ...]) -> str:
    return "-".join(str(part) for part in route if isinstance(part, str)).replace("/", "_")


def body_of(route_body: dict[str, Any] | None) -> dict[str, Any]:
    return dict(route_body) if route_body is not None else valid_contact()


# ---------------------------------------------------------------------------- helpers
def check_error(resp: httpx.Response, status: int, *, fields: list[str] | None = None,
                mentions: list[str] | None = None, bilingual: bool = False) -> dict[str, Any]:
    """The response is the expected 4xx with a readable ``detail``."""
    where = f"{resp.request.method} {resp.request.url}"
    assert resp.status_code < 500, f"{where} -> server error {resp.status_code}: {resp.text}"
    assert resp.status_code == status, f"{where} -> {resp.status_code} (wanted {status}): {resp.text}"
    assert resp.headers.get("content-type", "").startswith("application/json"), f"{where}: {resp.headers}"
    body = resp.json()
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), f"{where}: no readable detail: {body}"
    for word in mentions or []:
        assert word.lower() in body["detail"].lower(), f"{where}: detail does not mention {word!r}: {body['detail']}"
    if fields is not None:
        named = {e["field"] for e in body.get("errors", [])}
        assert set(fields) <= named, f"{where}: errors name {sorted(named)}, wanted {fields}: {body}"
        for error in body["errors"]:
            assert error["message"], error
    if bilingual:
        # "<Dutch sentence> / <English sentence>"
        assert re.search(r"\S.* / .*\S", body["detail"]), f"{where}: detail is not 'Dutch / English': {body['detail']}"
    return body


def new_project(api: Api) -> str:
    """A project of its own for one test, known to matching."""
    project_id = f"bi-{next(_counter)}"
    flows.register_project(api, project_id)
    return project_id


def available_volunteer(api: Api, project_id: str, **availability: Any) -> str:
    volunteer_id = flows.enquire(api, project_id, token=ADMIN)
    flows.prepare(api, volunteer_id, token=ADMIN)  # intake, approved screening, one coaching session
    api.ok(api.post("recruitment", f"/volunteers/{volunteer_id}/availability", ADMIN,
                    {"target_groups": ["individual_adult"], **availability}))
    return volunteer_id


def running_duo(api: Api, project_id: str) -> tuple[str, str, str]:
    volunteer_id = available_volunteer(api, project_id)
    participant_id = flows.refer(api, project_id, token=ADMIN)
    flows.wait_for_candidates(api, project_id, [volunteer_id], token=ADMIN)
    duo_id = flows.start_duo(api, project_id, volunteer_id, participant_id, token=ADMIN,
                             started_on=flows.today())
    return duo_id, volunteer_id, participant_id


@pytest.fixture(scope="module")
def api(module_api: Api) -> Api:
    return module_api


@pytest.fixture(scope="module")
def system(module_system: ServiceSystem) -> ServiceSystem:
    return module_system


@pytest.fixture
def raw(system: ServiceSystem) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def post_raw(client: httpx.Client, system: ServiceSystem, service: str, path: str, content: Any,
             token: str | None = ADMIN, content_type: str = "application/json") -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(f"{system.url(service)}{path}", content=content, headers=headers)


# ---------------------------------------------------------------------------- malformed JSON
MALFORMED = [
    pytest.param(b'{"project_id": ', id="truncated"),
    pytest.param(b"{'single': 'quotes'}", id="single-quotes"),
    pytest.param(b'{"a": 1,}', id="trailing-comma"),
    pytest.param(b"not json at all", id="text"),
    pytest.param(b"\xff\xfe\x00garbage", id="utf16-bom-garbage"),
]
NOT_UTF8 = [
    pytest.param(b'{"name": "Jos\xe9"}', id="latin-1"),
    pytest.param(b"\xff\xfe\x00\x9c binary", id="odd-utf16"),
]


@pytest.mark.parametrize("content", MALFORMED)
@pytest.mark.parametrize(("service", "path", "_body"), BODY_ROUTES, ids=[_route_id(r) for r in BODY_ROUTES])
def test_malformed_json_is_422_mentioning_json(raw: httpx.Client, system: ServiceSystem, service: str, path: str,
                                               _body: Any, content: bytes) -> None:
    body = check_error(post_raw(raw, system, service, path, content), 422, mentions=["JSON"])
    assert body["code"] == "invalid_input"
    assert body["errors"] and body["errors"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("content", NOT_UTF8)
@pytest.mark.parametrize(("service", "path"), [("recruitment", "/projects"), ("followup", "/duos/d-x/contacts")])
def test_a_body_that_is_not_utf8_is_refused_readably(raw: httpx.Client, system: ServiceSystem, service: str,
                                                     path: str, content: bytes) -> None:
    resp = post_raw(raw, system, service, path, content)
    assert 400 <= resp.status_code < 500, resp.text
    assert isinstance(resp.json()["detail"], str) and resp.json()["detail"].strip()


@pytest.mark.parametrize("content", NOT_UTF8)
def test_a_body_that_is_not_utf8_is_422_mentioning_json(raw: httpx.Client, system: ServiceSystem,
                                                         content: bytes) -> None:
    check_error(post_raw(raw, system, "recruitment", "/projects", content), 422, mentions=["JSON"])


@pytest.mark.parametrize(("service", "path", "route_body"), BODY_ROUTES, ids=[_route_id(r) for r in BODY_ROUTES])
@pytest.mark.parametrize(("content", "content_type"), [
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b"[1, 2, 3]", "application/json", id="array"),
    pytest.param(b"null", "application/json", id="null"),
    pytest.param(b'"a string"', "application/json", id="string"),
    pytest.param(b"{}", "text/plain", id="text-plain"),
])
def test_a_body_that_is_no_object_is_422(raw: httpx.Client, system: ServiceSystem, service: str, path: str,
                                         route_body: Any, content: bytes, content_type: str) -> None:
    check_error(post_raw(raw, system, service, path, content, content_type=content_type), 422, fields=["body"])


def test_reporting_has_no_body_routes_and_still_answers_readably(raw: httpx.Client, system: ServiceSystem) -> None:
    resp = post_raw(raw, system, "reporting", "/reports/projects/bi-x/summary", b'{"broken": ')
    check_error(resp, 405)


# ---------------------------------------------------------------------------- wrong types
def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if "__" in key:
            outer, inner = key.split("__")
            out[outer] = {**out[outer], inner: value}
        else:
            out[key] = value
    return out


WRONG_TYPES = [
    ("recruitment", "/projects", _with(VALID_PROJECT, municipality_nis="12"), ["municipality_nis"]),
    ("recruitment", "/projects", _with(VALID_PROJECT, municipality_nis=11002), ["municipality_nis"]),
    ("recruitment", "/projects", _with(VALID_PROJECT, target_groups=["aliens"]), ["target_groups.0"]),
    ("recruitment", "/projects", _with(VALID_PROJECT, target_groups=[]), ["target_groups"]),
    ("recruitment", "/projects", _with(VALID_PROJECT, project_id="has spaces/and slash"), ["project_id"]),
    ("recruitment", "/projects", _with(VALID_PROJECT, name="", funded_from="last year"), ["name", "funded_from"]),
    ("recruitment", "/projects", {"name": "only a name"}, ["project_id", "organisation", "municipality_nis"]),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, channel="carrier_pigeon"), ["channel"]),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, gender="robot"), ["gender"]),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, municipality_nis="12"), ["municipality_nis"]),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, personal__email="not-an-address"),
     ["personal.email"]),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, personal__birth_date="yesterday"),
     ["personal.birth_date"]),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, personal__first_name="x" * 101),
     ["personal.first_name"]),
    ("recruitment", "/projects/bi-x/volunteers", {"channel": "website", "municipality_nis": "11002"}, ["personal"]),
    ("recruitment", "/volunteers/v-x/availability", {"target_groups": ["individual_adult"], "max_duos": "abc"},
     ["max_duos"]),
    ("recruitment", "/volunteers/v-x/availability", {"target_groups": ["individual_adult"], "max_duos": 99},
     ["max_duos"]),
    ("recruitment", "/volunteers/v-x/availability", {"target_groups": "individual_adult"}, ["target_groups"]),
    ("recruitment", "/volunteers/v-x/stop", {"reason": "bored"}, ["reason"]),
    ("matching", "/projects/bi-x/participants", _with(VALID_REFERRAL, referrer_type="neighbour"), ["referrer_type"]),
    ("matching", "/projects/bi-x/participants", _with(VALID_REFERRAL, consent_recorded="maybe"), ["consent_recorded"]),
    ("matching", "/projects/bi-x/participants", _with(VALID_REFERRAL, life_domains=[]), ["life_domains"]),
    ("matching", "/projects/bi-x/participants", _with(VALID_REFERRAL, municipality_nis="12"), ["municipality_nis"]),
    ("matching", "/projects/bi-x/participants", _with(VALID_REFERRAL, target_group="pets"), ["target_group"]),
    ("matching", "/projects/bi-x/duos", _with(VALID_DUO, started_on="soon", agreed_contacts_per_month="abc"),
     ["started_on", "agreed_contacts_per_month"]),
    ("matching", "/projects/bi-x/duos", _with(VALID_DUO, volunteer_id=5, participant_id="x y"),
     ["volunteer_id", "participant_id"]),
    ("matching", "/projects/bi-x/duos", _with(VALID_DUO, agreed_contacts_per_month=0), ["agreed_contacts_per_month"]),
    ("matching", "/duos/d-x/end", {"ended_on": "x", "reason": "whatever", "planned": "perhaps"},
     ["ended_on", "reason", "planned"]),
    ("followup", "/duos/d-x/contacts", {"minutes": "abc"}, ["minutes"]),
    ("followup", "/duos/d-x/contacts", {"minutes": 0}, ["minutes"]),
    ("followup", "/duos/d-x/contacts", {"minutes": 24 * 60 + 1}, ["minutes"]),
    ("followup", "/duos/d-x/contacts", {"mode": "telepathy"}, ["mode"]),
    ("followup", "/duos/d-x/contacts", {"activities": []}, ["activities"]),
    ("followup", "/duos/d-x/contacts", {"activities": ["skydiving"]}, ["activities.0"]),
    ("followup", "/duos/d-x/contacts", {"contact_date": "2024-02-30"}, ["contact_date"]),
    ("followup", "/duos/d-x/contacts", {"note": "x" * 5001}, ["note"]),
]


@pytest.mark.parametrize(("service", "path", "body", "fields"), WRONG_TYPES,
                         ids=[f"{_route_id((s, p))}-{'+'.join(f)}" for s, p, _, f in WRONG_TYPES])
def test_wrong_types_are_422_naming_the_fields(api: Api, service: str, path: str, body: dict[str, Any],
                                               fields: list[str]) -> None:
    if service == "followup":
        body = {**valid_contact(), **body}
    resp = api.post(service, path, ADMIN, body)
    result = check_error(resp, 422, fields=fields, mentions=fields[:1])
    assert result["code"] == "invalid_input"


@pytest.mark.parametrize(("service", "path"), [
    ("recruitment", "/events"), ("matching", "/events"), ("followup", "/events"),
])
@pytest.mark.parametrize(("params", "field"), [
    ({"after": -1}, "query.after"), ({"after": "abc"}, "query.after"),
    ({"limit": 0}, "query.limit"), ({"limit": "many"}, "query.limit"), ({"limit": 10**6}, "query.limit"),
])
def test_bad_feed_parameters_are_422(api: Api, service: str, path: str, params: dict[str, Any], field: str) -> None:
    check_error(api.get(service, path, "dev-auditor", params=params), 422, fields=[field])


@pytest.mark.parametrize(("service", "path", "body"), [
    ("recruitment", "/projects", _with(VALID_PROJECT, project_id="bi-unknown-nis", municipality_nis="99999")),
    ("recruitment", "/projects/bi-x/volunteers", _with(VALID_ENQUIRY, municipality_nis="99999")),
    ("matching", "/projects/bi-x/participants", _with(VALID_REFERRAL, municipality_nis="99999")),
], ids=["project", "volunteer", "participant"])
def test_an_unknown_municipality_is_422(api: Api, service: str, path: str, body: dict[str, Any]) -> None:
    if path == "/projects/bi-x/volunteers":
        project_id = new_project(api)
        path = f"/projects/{project_id}/volunteers"
    result = check_error(api.post(service, path, ADMIN, body), 422, mentions=["99999"], bilingual=True)
    assert result["code"] == "invalid_input"


def test_an_unknown_municipality_names_the_field(api: Api) -> None:
    body = _with(VALID_PROJECT, project_id="bi-unknown-nis-2", municipality_nis="99999")
    check_error(api.post("recruitment", "/projects", ADMIN, body), 422, fields=["municipality_nis"])


# ---------------------------------------------------------------------------- unknown ids
def test_unknown_ids_are_404_in_both_languages(api: Api) -> None:
    project_id = new_project(api)
    flows.refer(api, project_id, token=ADMIN)  # matching knows the project from here on
    cases = [
        api.get("recruitment", "/volunteers/v-does-not-exist", ADMIN),
        api.post("recruitment", "/volunteers/v-does-not-exist/availability", ADMIN, VALID_AVAILABILITY),
        api.post("recruitment", "/volunteers/v-does-not-exist/stop", ADMIN, VALID_STOP),
        api.post("recruitment", "/volunteers/v-does-not-exist/erasure", ADMIN),
        api.get("recruitment", "/projects/p-does-not-exist", ADMIN),
        api.post("recruitment", "/projects/p-does-not-exist/volunteers", ADMIN, VALID_ENQUIRY),
        api.post("matching", "/projects/p-does-not-exist/participants", ADMIN, VALID_REFERRAL),
        api.post("matching", "/projects/p-does-not-exist/duos", ADMIN, VALID_DUO),
        api.post("matching", f"/projects/{project_id}/duos", ADMIN, _with(VALID_DUO, volunteer_id="v-does-not-exist")),
        api.post("matching", "/duos/d-does-not-exist/end", ADMIN, VALID_END),
        api.post("followup", "/duos/d-does-not-exist/contacts", ADMIN, valid_contact()),
        api.get("reporting", "/reports/projects/p-does-not-exist/summary", ADMIN),
    ]
    for resp in cases:
        body = check_error(resp, 404, mentions=["bestaat niet", "does not exist"], bilingual=True)
        assert body["code"] == "not_found"
    for resp in (api.get("recruitment", "/volunteers/" + "v" * 3000, ADMIN),  # no id looks like these
                 api.get("recruitment", "/volunteers/%00%FF%20x", ADMIN), api.get("followup", "/goals/g-%00x", ADMIN)):
        check_error(resp, 422, mentions=["geen geldig id", "not a valid id"], bilingual=True)


def test_a_participant_of_another_project_is_404(api: Api) -> None:
    project_a, project_b = new_project(api), new_project(api)
    volunteer_id = available_volunteer(api, project_a)
    participant_b = flows.refer(api, project_b, token=ADMIN)
    flows.wait_for_candidates(api, project_a, [volunteer_id], token=ADMIN)
    resp = api.post("matching", f"/projects/{project_a}/duos", ADMIN,
                    _with(VALID_DUO, volunteer_id=volunteer_id, participant_id=participant_b))
    check_error(resp, 404, mentions=[participant_b, "does not exist"], bilingual=True)


def test_unknown_routes_answer_readably(api: Api) -> None:
    for service in ("recruitment", "matching", "followup", "reporting"):
        check_error(api.get(service, "/no/such/route", ADMIN), 404)
    check_error(api.get("reporting", "/events", ADMIN), 404)  # reporting writes no events


# ---------------------------------------------------------------------------- invalid transitions
def test_volunteer_transitions_refused_with_409(api: Api) -> None:
    project_id = new_project(api)
    volunteer_id = available_volunteer(api, project_id)
    path = f"/volunteers/{volunteer_id}"
    check_error(api.post("recruitment", f"{path}/availability", ADMIN, VALID_AVAILABILITY), 409,
                mentions=["already available"], bilingual=True)
    api.ok(api.post("recruitment", f"{path}/stop", ADMIN, VALID_STOP))
    check_error(api.post("recruitment", f"{path}/stop", ADMIN, VALID_STOP), 409,
                mentions=["already stopped"], bilingual=True)
    check_error(api.post("recruitment", f"{path}/availability", ADMIN, VALID_AVAILABILITY), 409,
                mentions=["stopped"], bilingual=True)
    api.ok(api.post("recruitment", f"{path}/erasure", ADMIN))
    check_error(api.post("recruitment", f"{path}/erasure", ADMIN), 409, mentions=["already erased"], bilingual=True)
    check_error(api.post("recruitment", "/projects", ADMIN, _with(VALID_PROJECT, project_id=project_id)), 409,
                mentions=["already exists"], bilingual=True)
    future = _with(VALID_ENQUIRY, personal__birth_date=(date.today() + timedelta(days=3)).isoformat())
    check_error(api.post("recruitment", f"/projects/{project_id}/volunteers", ADMIN, future), 422,
                mentions=["future"], bilingual=True)


def test_starting_a_duo_with_a_volunteer_not_available_is_409(api: Api) -> None:
    project_id = new_project(api)
    enquired = flows.enquire(api, project_id, token=ADMIN)  # never made available
    participant_id = flows.refer(api, project_id, token=ADMIN)
    flows.wait_consumed(api, "matching")  # matching knows the volunteer (as enquired), so 409 and not 404
    resp = api.post("matching", f"/projects/{project_id}/duos", ADMIN,
                    _with(VALID_DUO, volunteer_id=enquired, participant_id=participant_id))
    body = check_error(resp, 409, mentions=["not available"], bilingual=True)
    assert body["code"] == "invalid_transition"


def test_duo_transitions_refused_with_409(api: Api) -> None:
    project_id = new_project(api)
    duo_id, volunteer_id, participant_id = running_duo(api, project_id)

    # the volunteer has no room for a second duo; the participant is no longer waiting
    other_participant = flows.refer(api, project_id, token=ADMIN)
    check_error(api.post("matching", f"/projects/{project_id}/duos", ADMIN,
                         _with(VALID_DUO, volunteer_id=volunteer_id, participant_id=other_participant)),
                409, mentions=["no room"], bilingual=True)
    other_volunteer = available_volunteer(api, project_id)
    flows.wait_for_candidates(api, project_id, [other_volunteer], token=ADMIN)
    check_error(api.post("matching", f"/projects/{project_id}/duos", ADMIN,
                         _with(VALID_DUO, volunteer_id=other_volunteer, participant_id=participant_id)),
                409, mentions=["not waiting"], bilingual=True)

    # an end before the start is refused; a contact before the start too
    before = (date.today() - timedelta(days=60)).isoformat()
    check_error(api.post("matching", f"/duos/{duo_id}/end", ADMIN, _with(VALID_END, ended_on=before)), 422,
                mentions=["before"], bilingual=True)
    flows.log_contact(api, duo_id, token=ADMIN)  # follow-up knows the duo from here on
    check_error(api.post("followup", f"/duos/{duo_id}/contacts", ADMIN, flows.contact_body(days_ago=45)), 422,
                mentions=["before"], bilingual=True)
    check_error(api.post("followup", f"/duos/{duo_id}/contacts", ADMIN, flows.contact_body(days_ago=-2)), 422,
                mentions=["future"], bilingual=True)

    # end it; a second end is refused
    ended = api.ok(api.post("matching", f"/duos/{duo_id}/end", ADMIN,
                            _with(VALID_END, ended_on=flows.today().isoformat())))
    assert ended["status"] == "ended"
    check_error(api.post("matching", f"/duos/{duo_id}/end", ADMIN, _with(VALID_END, ended_on=flows.today().isoformat())),
                409, mentions=["already ended"], bilingual=True)

    # once follow-up has learned the end, contacts are refused
    flows.wait_consumed(api, "followup")
    body = check_error(api.post("followup", f"/duos/{duo_id}/contacts", ADMIN, valid_contact()), 409,
                       mentions=["not running"], bilingual=True)
    assert body["code"] == "invalid_transition"


# ---------------------------------------------------------------------------- authentication
@pytest.mark.parametrize(("method", "service", "path"), AUTH_ROUTES, ids=[_route_id(r) for r in AUTH_ROUTES])
@pytest.mark.parametrize("token", [None, "no-such-token", "a.b.c"], ids=["none", "unknown", "jwt-shaped"])
def test_without_a_valid_token_it_is_401(api: Api, method: str, service: str, path: str, token: str | None) -> None:
    body = None
    if method == "POST":
        body = next((body_of(b) for s, p, b in BODY_ROUTES if (s, p) == (service, path)), None)
    resp = api.request(method, service, path, token, body)
    check_error(resp, 401, mentions=["not signed in"], bilingual=True)
    assert resp.headers.get("www-authenticate", "").startswith("Bearer")


# ---------------------------------------------------------------------------- oversized bodies
OVERSIZED_ROUTES = [(s, p) for s, p, _ in BODY_ROUTES] + [
    ("recruitment", "/volunteers/v-x/erasure"), ("reporting", "/reports/projects/bi-x/summary"),
]


@pytest.mark.parametrize(("service", "path"), OVERSIZED_ROUTES, ids=[_route_id(r) for r in OVERSIZED_ROUTES])
def test_an_oversized_body_is_413(raw: httpx.Client, system: ServiceSystem, service: str, path: str) -> None:
    content = b'{"note": "' + b"x" * MAX_BODY + b'"}'
    resp = post_raw(raw, system, service, path, content)
    check_error(resp, 413, mentions=["too large"], bilingual=True)
    # without a token as well: the size is checked before anything else
    check_error(post_raw(raw, system, service, path, content, token=None), 413)


def test_a_body_just_under_the_limit_is_read(raw: httpx.Client, system: ServiceSystem) -> None:
    content = b'{"note": "' + b"x" * (MAX_BODY - 20) + b'"}'
    assert len(content) <= MAX_BODY
    check_error(post_raw(raw, system, "followup", "/duos/d-x/contacts", content), 422, fields=["contact_date"])


def test_an_oversized_chunked_body_is_413(raw: httpx.Client, system: ServiceSystem) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"note": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    check_error(post_raw(raw, system, "recruitment", "/projects", chunks()), 413)


def test_a_body_that_trickles_in_too_slowly_is_408(system: ServiceSystem) -> None:
    """A slow client cannot hold a request open: the body deadline (2 s here) answers 408."""
    host, port = httpx.URL(system.url("recruitment")).host, httpx.URL(system.url("recruitment")).port
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(b"POST /projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + ADMIN.encode() + b"\r\nContent-Length: 200\r\n\r\n{\"note\": ")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"408", answer
    assert "not received in time" in json.loads(body)["detail"]


# ---------------------------------------------------------------------------- afterwards
def test_no_request_of_this_module_was_a_server_error(system: ServiceSystem) -> None:
    """Runs last in the module: nothing above made a service log an unexpected error."""
    logs = system.log_text()
    assert "http.unexpected_error" not in logs, logs[-5000:]
    assert "Traceback" not in logs, logs[-5000:]
    for name, proc in system.procs.items():
        assert proc.poll() is None, f"{name} died: {system.log_tail(name)}"
