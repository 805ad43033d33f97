"""Idempotent commands: a command sent again with its ``Idempotency-Key`` is recorded once.

On the recruitment service in process (SQLite and PostgreSQL, real Redis) and on the event
store itself: the same command twice answers the first result and records one volunteer;
the key with another body is refused; keys belong to their caller; an answer lost on the
way back (a reset connection) or never kept (the process stopped after the commit) never
leads to a second record; a concurrent duplicate is refused by the store, not recorded;
every command of every service declares the header in its OpenAPI.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.clock import FixedClock
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, make_engine, migrate
from shared.eventstore.claims import Claim, KeyInUse, claim_for_request
from shared.eventstore.db import reader
from shared.eventstore.store import NewEvent, format_time
from shared.eventstore.tables import events, idempotency_keys
from shared.idempotency import COMMAND_METHODS, HEADER, REPLAYED
from shared.settings import Settings
from services.recruitment.bootstrap import build
from tests.integration.test_event_store import stopped
from tests.integration.test_reporting_api import World as ReportingWorld
from tests.integration.test_reporting_api import overview, world  # noqa: F401  (fixture)
from tests.integration.test_recruitment_api import ADMIN, ANTWERPEN, BRUGGE, NO_FEEDS, PRO, PRO_OTHER, START, RC

# the same person on purpose, again and again: confirmed as someone else each time, so the
# duplicate check (tests/integration/test_recruitment_case_rules.py) does not answer 409 here
ENQUIRY = {"channel": "website", "municipality_nis": "11002", "confirmed_other_person": True,
           "personal": {"first_name": "Idem", "last_name": "Potent", "birth_date": "1980-02-03"}}


@pytest.fixture
def rc(settings_factory: Callable[..., Settings], database_url: str) -> Iterator[RC]:
    clock = FixedClock(START)
    settings = settings_factory(service_urls=NO_FEEDS, database_url=database_url)
    with TestClient(build(settings, clock=clock)) as client:
        r = RC(client, clock)
        r.project()
        yield r


def send(rc: RC, path: str, body: Any, key: str | None, token: str = PRO, method: str = "POST") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers[HEADER] = key
    return rc.client.request(method, path, json=body, headers=headers)


def volunteers_recorded(rc: RC) -> int:
    with reader(rc.runtime.engine).connect() as conn:
        return conn.execute(select(func.count()).select_from(events)
                            .where(events.c.type == "VolunteerEnquiryReceived")).scalar_one()


def test_the_same_command_twice_with_one_key_is_recorded_once_and_answered_the_same(rc: RC) -> None:
    key = str(uuid.uuid4())
    first = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    again = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers.get(REPLAYED) == "true" and REPLAYED.lower() not in first.headers
    assert volunteers_recorded(rc) == 1
    # without a key, or with another, the same body is a new command (as before)
    assert send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, None).status_code == 201
    assert send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, str(uuid.uuid4())).status_code == 201
    assert volunteers_recorded(rc) == 3


def test_the_same_key_with_another_request_is_refused_and_records_nothing(rc: RC) -> None:
    key = str(uuid.uuid4())
    volunteer = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key).json()["volunteer_id"]
    other = {**ENQUIRY, "personal": {**ENQUIRY["personal"], "first_name": "Ander"}}
    refused = send(rc, f"/projects/{ANTWERPEN}/volunteers", other, key)
    assert refused.status_code == 422 and refused.json()["code"] == "idempotency_key_reused", refused.text
    assert " / " in refused.json()["detail"]
    elsewhere = send(rc, f"/volunteers/{volunteer}/intake", {"held_on": rc.today}, key)
    assert elsewhere.status_code == 422, elsewhere.text
    assert volunteers_recorded(rc) == 1 and rc.status(volunteer) == "enquired"
    # the same JSON written differently is the same request
    spaced = rc.client.post(f"/projects/{ANTWERPEN}/volunteers", content=b'{ "personal": %s, "channel": "website",'
                            b' "municipality_nis": "11002",  "confirmed_other_person" : true }' % httpx.Request("POST", "/", json=ENQUIRY["personal"]).content,
                            headers={"Authorization": f"Bearer {PRO}", HEADER: key, "Content-Type": "application/json"})
    assert spaced.status_code == 201 and spaced.headers.get(REPLAYED) == "true", spaced.text


def test_keys_belong_to_their_caller(rc: RC) -> None:
    key = "shared-key-1"
    mine = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    rc.project(BRUGGE, nis="31005", region="west-vlaanderen")
    theirs = send(rc, f"/projects/{BRUGGE}/volunteers", ENQUIRY, key, token=PRO_OTHER)
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert REPLAYED.lower() not in theirs.headers and theirs.json() != mine.json()
    assert volunteers_recorded(rc) == 2


def test_keys_are_bounded_in_length_and_characters(rc: RC) -> None:
    for bad in ("x" * 101, "twee woorden", "a/b", "k;1"):
        resp = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, bad)
        assert resp.status_code == 422, (bad, resp.text)
    assert volunteers_recorded(rc) == 0


def test_an_answer_lost_on_the_way_back_is_answered_again_not_recorded_again(rc: RC) -> None:
    """The connection drops after the command was carried out: the client never hears of it."""
    app = rc.client.app
    lost = {"responses": 1}

    async def dropping(scope: dict[str, Any], receive: Any, send_: Any) -> None:
        async def cut(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and lost["responses"]:
                lost["responses"] -= 1
                raise ConnectionResetError("connection reset by peer")
            await send_(message)
        await app(scope, receive, cut)

    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {PRO}", HEADER: key}

    async def client_with_retry() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dropping), base_url="http://test") as client:
            with pytest.raises(ConnectionResetError):
                await client.post(f"/projects/{ANTWERPEN}/volunteers", json=ENQUIRY, headers=headers)
            return await client.post(f"/projects/{ANTWERPEN}/volunteers", json=ENQUIRY, headers=headers)

    answer = anyio.run(client_with_retry)
    assert answer.status_code == 201 and answer.headers.get(REPLAYED) == "true", answer.text
    assert volunteers_recorded(rc) == 1
    assert rc.status(answer.json()["volunteer_id"]) == "enquired"


def test_a_command_whose_answer_was_never_kept_is_not_recorded_again(rc: RC, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process stopped between the commit and keeping the answer (kill -9, a database cut)."""
    keys = next(m.kwargs["keys"] for m in rc.client.app.user_middleware if "keys" in m.kwargs)

    def stopped(*_: Any) -> None:
        raise ConnectionError("the database went away after the commit")

    monkeypatch.setattr(keys, "keep_answer", stopped)
    key = str(uuid.uuid4())
    first = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    assert first.status_code == 201, first.text  # still answered
    soon = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    assert soon.status_code == 409 and soon.json()["code"] == "idempotency_key_in_use", soon.text
    assert soon.headers.get("retry-after")
    rc.clock.advance(minutes=5)
    later = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    assert later.status_code == 409 and later.json()["code"] == "idempotency_answer_not_kept", later.text
    assert volunteers_recorded(rc) == 1


def test_a_refusal_is_not_remembered_and_may_be_sent_again(rc: RC) -> None:
    key = str(uuid.uuid4())
    refused = send(rc, "/projects/demo-nowhere/volunteers", ENQUIRY, key, token=ADMIN)
    assert refused.status_code == 404, refused.text
    rc.project("demo-nowhere", nis="44021", region="oost-vlaanderen")
    assert send(rc, "/projects/demo-nowhere/volunteers", ENQUIRY, key, token=ADMIN).status_code == 201
    assert volunteers_recorded(rc) == 1


def test_personal_data_in_an_answer_is_never_kept(rc: RC) -> None:
    volunteer = rc.enquire(first="Kanarie", last="Vogel")
    key = str(uuid.uuid4())
    body = {"reason": "subject_access_request"}
    opened = send(rc, f"/personal-data/{volunteer}/access", body, key)
    assert opened.status_code == 200 and "Kanarie" in opened.text, opened.text
    again = send(rc, f"/personal-data/{volunteer}/access", body, key)
    assert again.status_code == 409 and again.json()["code"] == "idempotency_answer_not_kept", again.text
    with reader(rc.runtime.engine).connect() as conn:
        kept = conn.execute(select(idempotency_keys).where(idempotency_keys.c.idem_key == key)).one()
        accesses = conn.execute(select(func.count()).select_from(events)
                                .where(events.c.type.like("%PersonalDataAccessed"))).scalar_one()
    assert kept.status == 200 and kept.body is None and accesses == 1
    plain = hashlib.sha256(f"POST\n/personal-data/{volunteer}/access\n\n".encode() + json.dumps(
        body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert kept.request_hash != plain, "a body's hash must be keyed: a plain one can be confirmed by guessing"


def test_keys_are_purged_after_the_retention(rc: RC) -> None:
    key = str(uuid.uuid4())
    first = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    keys = next(m.kwargs["keys"] for m in rc.client.app.user_middleware if "keys" in m.kwargs)
    assert keys.purge() == 0
    rc.clock.advance(hours=rc.runtime.settings.idempotency_keep_hours + 1)
    assert keys.purge() == 1
    assert send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key).json() != first.json()


def test_a_concurrent_duplicate_is_refused_by_the_store_not_recorded(database_url: str) -> None:
    """Another request committed the key first: this one's events roll back with its claim."""
    engine = make_engine(database_url)
    migrate(engine)
    store = EventStore(engine, "test")
    actor = Actor(id="someone", role=Role.professional)
    first = Claim("someone", "k-1", "h", format_time(START))
    duplicate = Claim("someone", "k-1", "h", format_time(START))
    try:
        claim_for_request(first)
        store.append("v-1", 0, [stopped(1)], actor=actor)
        assert first.recorded
        claim_for_request(duplicate)
        with pytest.raises(KeyInUse):
            store.append("v-2", 0, [stopped(2)], actor=actor)
        with pytest.raises(KeyInUse), store.transaction() as conn:
            store.append("v-3", 0, [stopped(3)], actor=actor, conn=conn)
        claim_for_request(first)  # the first request's second transaction: its own key, kept once
        store.append("v-4", 0, [stopped(4)], actor=actor)
    finally:
        claim_for_request(None)
    assert [e.envelope.stream_id for e in store.read_after(0)] == ["v-1", "v-4"]
    with reader(engine).connect() as conn:
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one() == 1
    assert store.verify().ok
    engine.dispose()


def test_every_command_declares_the_header_in_its_openapi(settings_factory: Callable[..., Settings]) -> None:
    from services.followup.bootstrap import build as followup
    from services.matching.bootstrap import build as matching
    from services.reporting.bootstrap import build as reporting

    settings = settings_factory(service_urls=NO_FEEDS)
    commands = 0
    for app in (build(settings), matching(settings), followup(settings), reporting(settings)):
        for path, operations in app.openapi()["paths"].items():
            for method, operation in operations.items():
                headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
                if method.upper() in COMMAND_METHODS:
                    commands += 1
                    assert HEADER.lower() in headers, f"{method.upper()} {path} takes no {HEADER}"
                    success = [r for code, r in operation["responses"].items() if code.startswith("2")]
                    assert success and all(REPLAYED in r.get("headers", {}) for r in success), f"{method} {path}"
                else:
                    assert HEADER.lower() not in headers, f"{method.upper()} {path}"
    assert commands > 50


def test_a_report_published_twice_with_one_key_is_kept_once(world: ReportingWorld) -> None:
    """Reporting records no events: its published report carries the key in the same transaction."""
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {ADMIN}", HEADER: key}
    before = world.get("/reports", ADMIN, limit=1).json()["total"]
    first = world.client.post("/reports", json=overview(), headers=headers)
    again = world.client.post("/reports", json=overview(), headers=headers)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()["report_id"]) == (201, first.json()["report_id"])
    assert again.headers.get(REPLAYED) == "true"
    assert world.get("/reports", ADMIN, limit=1).json()["total"] == before + 1
    other = world.client.post("/reports", json=overview(grain="quarter"), headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused", other.text
    assert world.get("/reports", ADMIN, limit=1).json()["total"] == before + 1


def test_a_503_whose_commit_went_through_is_not_replayed_nor_recorded_again(
        rc: RC, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database went away just after the commit: the outcome is unknown to the server (503)."""
    from sqlalchemy.exc import OperationalError

    def cut(*_: Any) -> None:
        raise OperationalError("COMMIT", None, ConnectionError("server closed the connection unexpectedly"))

    monkeypatch.setattr(rc.runtime, "recorded", cut)  # runs right after the command's commit
    key = str(uuid.uuid4())
    unknown = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    assert unknown.status_code == 503, unknown.text
    monkeypatch.undo()
    rc.clock.advance(minutes=5)
    retried = send(rc, f"/projects/{ANTWERPEN}/volunteers", ENQUIRY, key)
    assert retried.status_code == 409 and retried.json()["code"] == "idempotency_answer_not_kept", retried.text
    assert volunteers_recorded(rc) == 1
