"""What an anonymous caller gets from the endpoints every service has (shared/service.py).

On an installation (anywhere dev tokens are refused, see ``Settings.dev_token_refusals``):

* ``/healthz`` and ``/readyz`` answer anyone: orchestrators probe them without a token.
  ``/readyz`` names what is wrong, but a crashed task's exception message (which can hold
  host names or SQL) only goes to the log.
* ``/metrics`` needs the metrics token or the service token.
* ``/openapi.json`` needs a signed-in caller; ``/docs`` and ``/redoc`` are not served
  (a browser cannot send a bearer token), unless ``BUDDY_API_DOCS=public``.
* The event feeds need the service token or an auditor or admin; the public default
  service token counts as no token.

On the embedded development system (dev tokens accepted) all of these are open, as before.
Start-up says whether dev tokens are accepted, and if not, why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from shared.logging import PERSONAL_KEYS
from shared.settings import DEV_SERVICE_TOKEN, Settings
from services.matching.bootstrap import build as build_matching

from tests.integration.conftest import NOWHERE
SERVICE_TOKEN = "a-real-service-token-" + "s" * 24
METRICS_TOKEN = "a-real-metrics-token-" + "m" * 24


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}



def _installation(serve: Callable[..., TestClient], **overrides: Any) -> TestClient:
    """Like a real installation: a service token, dev tokens not asked for."""
    return serve(**{"dev_tokens": False, "service_token": SERVICE_TOKEN, "metrics_token": METRICS_TOKEN, **overrides})


# ------------------------------------------------------------------------------ start-up
def test_startup_says_why_dev_tokens_are_refused(settings_factory: Callable[..., Settings]) -> None:
    app = build_matching(settings_factory(service_urls=NOWHERE, service_token=SERVICE_TOKEN))  # dev tokens asked for
    with capture_logs() as logs, TestClient(app) as client:
        assert client.get("/events", headers=_bearer("dev-admin")).status_code == 401
    [refused] = [e for e in logs if e["event"] == "auth.dev_tokens_refused"]
    assert refused["log_level"] == "warning"  # asked for and refused: loud
    assert any("BUDDY_SERVICE_TOKEN" in reason for reason in refused["reasons"])
    assert not PERSONAL_KEYS & set(refused)


def test_startup_says_when_dev_tokens_are_accepted(settings_factory: Callable[..., Settings]) -> None:
    app = build_matching(settings_factory(service_urls=NOWHERE))
    with capture_logs() as logs, TestClient(app):
        pass
    [accepted] = [e for e in logs if e["event"] == "auth.dev_tokens_accepted"]
    assert accepted["log_level"] == "warning"
    assert not PERSONAL_KEYS & set(accepted)  # the explanation must not be redacted away in the log file


# ------------------------------------------------------------------------------ an installation
def test_health_and_readiness_answer_anyone(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve)
    health = client.get("/healthz").json()
    assert (health["status"], health["service"]) == ("ok", "matching")
    assert set(health) == {"status", "service", "instance"}  # a random id per run, nothing about the system
    assert client.get("/readyz").json() == {"status": "ready", "problems": []}


def test_readiness_keeps_a_crash_message_for_the_log(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def broken() -> int:
        raise RuntimeError("connection to server at 10.1.2.3 failed")

    runtime.relay.publish_pending = broken  # the relay's next round crashes its task
    runtime.recorded()
    deadline = time.monotonic() + 10
    while client.get("/readyz").status_code != 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get("/readyz").json()["problems"] == [
        "achtergrondtaak gestopt / background task stopped: matching-relay: gecrasht / crashed: RuntimeError"]


def test_metrics_need_the_metrics_or_service_token(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve)
    for headers in ({}, _bearer("wrong"), _bearer(DEV_SERVICE_TOKEN), _bearer("dev-admin")):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert "buddy_store_head_position" not in response.text
    for token in (METRICS_TOKEN, SERVICE_TOKEN):
        response = client.get("/metrics", headers=_bearer(token))
        assert response.status_code == 200
        assert "buddy_store_head_position" in response.text


def test_metrics_without_a_metrics_token_take_the_service_token(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve, metrics_token=None)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=_bearer(SERVICE_TOKEN)).status_code == 200


def test_api_description_needs_a_signed_in_caller(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve)
    response = client.get("/openapi.json")
    assert response.status_code == 401
    assert "paths" not in response.text
    assert client.get("/openapi.json", headers=_bearer("dev-admin")).status_code == 401  # dev tokens refused here
    for page in ("/docs", "/redoc"):
        assert client.get(page).status_code == 404, page


def test_signed_in_api_description(serve: Callable[..., TestClient]) -> None:
    """``BUDDY_API_DOCS=signed-in`` where dev tokens work: any valid token reads the description."""
    client = serve(api_docs="signed-in")
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers=_bearer("not-a-token")).status_code == 401
    schema = client.get("/openapi.json", headers=_bearer("dev-buddy")).json()
    assert "/duos/{duo_id}" in schema["paths"] or any(p.startswith("/duos") for p in schema["paths"])
    assert "/openapi.json" not in schema["paths"]  # the description does not describe itself
    assert client.get("/docs").status_code == 404


def test_public_api_docs_on_an_installation_when_asked(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve, api_docs="public")
    assert client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_feeds_refuse_the_public_default_service_token(serve: Callable[..., TestClient]) -> None:
    """A bare installation (nothing configured, dev tokens not asked for): the default token is public."""
    client = serve(dev_tokens=False)
    for path in ("/events", "/events/head"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=_bearer(DEV_SERVICE_TOKEN)).status_code == 401, path


def test_feeds_take_the_configured_service_token(serve: Callable[..., TestClient]) -> None:
    client = _installation(serve)
    assert client.get("/events/head", headers=_bearer(DEV_SERVICE_TOKEN)).status_code == 401
    assert client.get("/events/head", headers=_bearer(SERVICE_TOKEN)).status_code == 200


# ------------------------------------------------------------------------------ development
def test_development_keeps_everything_open(serve: Callable[..., TestClient]) -> None:
    """The embedded system (`buddy run`): operations endpoints and the API description for anyone."""
    client = serve()
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 200, path
    assert client.get("/events/head", headers=_bearer(DEV_SERVICE_TOKEN)).status_code == 200
    assert client.get("/events/head").status_code == 401  # the feed never answers no token at all
