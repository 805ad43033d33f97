"""Follow-up end to end: the four services as processes over real Redis.

A duo started in matching receives contacts here — from the professional, and from its
own buddy signed in with an OIDC token whose subject is the volunteer id (a token for
another duo's buddy is refused). A duo ended in matching while follow-up is down gets
its three follow-up calls once follow-up is back.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import redis
from cryptography.hazmat.primitives.asymmetric import rsa

from services.followup.domain import add_months
from shared.auth import dev_principals
from tests.conftest import delete_keys_with_prefix
from tests.e2e import flows
from tests.e2e.flows import AUDITOR, PRO
from tests.e2e.system import Api, ServiceSystem, eventually

pytestmark = pytest.mark.e2e

ISSUER = "https://login.example.test/realms/buddy"
AUDIENCE = "buddy-api"


class JWKSServer:
    """The identity provider's published keys, on 127.0.0.1."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory,
           signing_key: rsa.RSAPrivateKey) -> Iterator[ServiceSystem]:
    """The four services, accepting OIDC tokens signed by ``signing_key`` (and so no dev tokens:
    an identity provider marks a real installation; the dev people get OIDC tokens, ``OidcApi``)."""
    jwks = JWKSServer(signing_key)
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    started = ServiceSystem(redis_url=redis_url, key_prefix=prefix, data_dir=tmp_path_factory.mktemp("fu") / "data",
                            overrides={"BUDDY_OIDC_ISSUER": ISSUER, "BUDDY_OIDC_AUDIENCE": AUDIENCE,
                                       "BUDDY_OIDC_JWKS_URL": jwks.url})
    try:
        started.start_all()
    except RuntimeError as exc:
        started.stop_all()
        jwks.close()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield started
    finally:
        started.stop_all()
        jwks.close()
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10)
        try:
            delete_keys_with_prefix(client, prefix)
        except redis.RedisError as exc:
            warnings.warn(f"could not clean Redis keys {prefix}:*: {exc!r}", stacklevel=1)
        finally:
            client.close()


class OidcApi(Api):
    """Sends each dev person's requests with an OIDC token carrying that person's claims."""

    def __init__(self, system: ServiceSystem, key: rsa.RSAPrivateKey) -> None:
        super().__init__(system)
        self.key = key

    def request(self, method: str, service: str, path: str, token: str | None = None, body: Any = None,
                **kwargs: Any) -> httpx.Response:
        person = dev_principals().get(token or "")
        if person is not None:
            now = int(time.time())
            token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": person.actor.id, "iat": now, "exp": now + 600,
                                "buddy_role": person.role.value, "buddy_projects": sorted(person.projects),
                                "buddy_regions": sorted(person.regions)},
                               self.key, algorithm="RS256", headers={"kid": "k1"})
        return super().request(method, service, path, token, body, **kwargs)


@pytest.fixture(scope="module")
def api(system: ServiceSystem, signing_key: rsa.RSAPrivateKey) -> Iterator[Api]:
    with OidcApi(system, signing_key) as client:
        yield client


def buddy_token(key: rsa.RSAPrivateKey, volunteer_id: str, project_id: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": volunteer_id, "iat": now, "exp": now + 600,
              "buddy_role": "buddy", "buddy_projects": [project_id]}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def running_duo(api: Api, project_id: str, *, volunteers: int = 1) -> tuple[str, list[str], str]:
    """A project with available volunteers and a duo started in matching with the first one."""
    flows.register_project(api, project_id)
    volunteer_ids = [flows.enquire(api, project_id) for _ in range(volunteers)]
    for volunteer_id in volunteer_ids:
        flows.make_available(api, volunteer_id)
    flows.wait_for_candidates(api, project_id, volunteer_ids)
    participant_id = flows.refer(api, project_id)
    duo_id = flows.start_duo(api, project_id, volunteer_ids[0], participant_id,
                             started_on=flows.today())
    return duo_id, volunteer_ids, participant_id


def test_a_duo_started_in_matching_receives_contacts_here(api: Api, signing_key: rsa.RSAPrivateKey) -> None:
    project_id = "demo-antwerpen"
    duo_id, volunteer_ids, participant_id = running_duo(api, project_id, volunteers=2)
    flows.log_contact(api, duo_id)  # polls until follow-up has learned the duo from matching's events

    view = api.ok(api.get("followup", f"/duos/{duo_id}", PRO))
    assert (view["status"], view["volunteer_id"], view["participant_id"]) == ("active", volunteer_ids[0],
                                                                             participant_id)
    assert view["contacts"]["logged"] == 1

    # the duo's own buddy, signed in with an OIDC token whose subject is their volunteer id
    own = buddy_token(signing_key, volunteer_ids[0], project_id)
    made = api.ok(api.post("followup", f"/duos/{duo_id}/contacts", own, flows.contact_body()), 201)
    contact = api.ok(api.get("followup", f"/duos/{duo_id}/contacts/{made['contact_id']}", PRO))
    assert contact["logged_by"] == "buddy"
    # another buddy of the project (not in this duo) may not
    other = buddy_token(signing_key, volunteer_ids[1], project_id)
    refused = api.post("followup", f"/duos/{duo_id}/contacts", other, flows.contact_body())
    assert refused.status_code == 403 and "own duo" in refused.json()["detail"]

    # a draft counts once submitted; a correction changes the figures like a direct entry
    draft = api.ok(api.post("followup", f"/duos/{duo_id}/contact-drafts", own,
                            flows.contact_body(minutes=30)), 201)["contact_id"]
    before = api.ok(api.get("followup", f"/duos/{duo_id}", PRO))["contacts"]
    assert (before["logged"], before["draft"]) == (2, 1)
    api.ok(api.post("followup", f"/duos/{duo_id}/contacts/{draft}/submission", own))
    api.ok(api.post("followup", f"/duos/{duo_id}/contacts/{made['contact_id']}/correction", own,
                    {**flows.contact_body(), "minutes": 120, "mode": "phone"}))
    months = api.ok(api.get("followup", f"/duos/{duo_id}/figures", PRO))["months"]
    assert sum(m["contacts"] for m in months.values()) == 3
    assert sum(m["minutes"] for m in months.values()) == 60 + 120 + 30
    assert api.ok(api.get("followup", "/events/head", AUDITOR))["position"] == 5  # logged, logged, draft, submitted, corrected


def test_a_duo_ended_in_matching_gets_its_three_follow_up_calls(system: ServiceSystem, api: Api) -> None:
    project_id = "demo-gent"
    duo_id, volunteer_ids, _ = running_duo(api, project_id)
    flows.log_contact(api, duo_id)
    head_before = api.ok(api.get("followup", "/events/head", AUDITOR))["position"]

    # follow-up is down while matching ends the duo: the end waits on the bus
    system.stop("followup")
    ended_on = flows.today()
    api.ok(api.post("matching", f"/duos/{duo_id}/end", PRO,
                    {"ended_on": ended_on.isoformat(), "reason": "goals_reached", "planned": True}))
    system.start("followup")

    def three_calls() -> list[dict[str, Any]]:
        body = api.ok(api.get("followup", f"/projects/{project_id}/follow-up-calls", PRO, params={"duo_id": duo_id}))
        assert body["total"] == 3, body
        return body["items"]

    calls = eventually(three_calls, timeout=30)
    assert [(c["call_id"], c["months_after_end"], c["due_on"], c["status"]) for c in calls] == [
        (f"call-{duo_id}-{m}m", m, add_months(ended_on, m).isoformat(), "scheduled") for m in (3, 6, 12)]
    assert api.ok(api.get("followup", "/events/head", AUDITOR))["position"] == head_before + 3
    feed = api.ok(api.get("followup", "/events", AUDITOR, params={"after": head_before}))["events"]
    assert [e["type"] for e in feed] == ["FollowUpCallScheduled"] * 3
    assert {e["actor"]["role"] for e in feed} == {"system"}

    # the duo no longer takes contacts and is no longer in the check-in list
    assert api.ok(api.get("followup", f"/duos/{duo_id}", PRO))["status"] == "ended"
    refused = api.post("followup", f"/duos/{duo_id}/contacts", PRO, flows.contact_body())
    assert refused.status_code == 409
    check_ins = api.ok(api.get("followup", f"/projects/{project_id}/check-ins", PRO))["items"]
    assert duo_id not in {c["duo_id"] for c in check_ins}
    # none is overdue today; a call can be tried and closed
    assert api.ok(api.get("followup", f"/projects/{project_id}/follow-up-calls/overdue", PRO))["total"] == 0
    done = api.ok(api.post("followup", f"/follow-up-calls/call-{duo_id}-3m/completion", PRO,
                           {"outcome": "declined", "completed_on": ended_on.isoformat()}))
    assert done["status"] == "completed"


def test_follow_up_logs_have_no_errors(system: ServiceSystem) -> None:
    """Runs last in the module: nothing above made follow-up log an unexpected error."""
    text = system.log_file("followup").read_text(errors="replace")
    assert "http.unexpected_error" not in text and "Traceback" not in text, text[-5000:]
    assert "consumer.dead_lettered" not in text
    assert Path(system.log_file("followup")).exists()
