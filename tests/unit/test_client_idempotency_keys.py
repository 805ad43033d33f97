"""The clients the project ships send every command with an Idempotency-Key, the same on a retry.

The demo loader and the CLI against a fake service whose first answer is lost on the way
back (the command was carried out, the client hears a dropped connection): the retry carries
the first try's key, and the next command a fresh one. The load generators key every command.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from bench import loadgen
from shared import cli, demo

HEADER = "idempotency-key"


class LosesFirstAnswer:
    """A fake service: handles every request, but the answer to the first one never arrives."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if len(self.seen) == 1:
            raise httpx.ReadError("connection reset by peer", request=request)
        return httpx.Response(201, json={"volunteer_id": "v-1"})

    def keys(self) -> list[str | None]:
        return [r.headers.get(HEADER) for r in self.seen]


def test_the_demo_loader_retries_a_lost_answer_with_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.time, "sleep", lambda _: None)
    service = LosesFirstAnswer()
    with httpx.Client(transport=httpx.MockTransport(service)) as client:
        first = demo._call(client, "POST", "http://r/projects/p/volunteers", "dev-professional", {"a": 1})
        demo._call(client, "POST", "http://r/projects/p/volunteers", "dev-professional", {"a": 1})
        demo._call(client, "GET", "http://r/projects/p", "dev-professional")
    assert first.status_code == 201
    tried, retried, next_command, read = service.keys()
    assert tried and tried == retried, "a retry must carry the first try's key"
    assert next_command and next_command != tried, "each command its own key"
    assert read is None


def test_the_cli_retries_a_lost_answer_with_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    service = LosesFirstAnswer()
    transport = httpx.MockTransport(service)

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        with httpx.Client(transport=transport) as client:
            return client.request(method, url, **kwargs)

    monkeypatch.setattr(httpx, "request", request)
    monkeypatch.setattr("time.sleep", lambda _: None)
    resp = cli._service_call("POST", "http://r/volunteers/v-1/erasure", "dev-admin")
    assert resp.status_code == 201
    tried, retried = service.keys()
    assert tried and tried == retried


def test_the_load_generators_key_every_command() -> None:
    captured: list[httpx.Request] = []
    script = loadgen.WRK_SCRIPT % {"paths": "'/x'", "token": "t", "body": "nil", "method": "POST",
                                   "keyed": "true", "run": "r"}
    assert 'headers["Idempotency-Key"]' in script

    async def paced() -> None:
        transport = httpx.MockTransport(lambda r: captured.append(r) or httpx.Response(201, json={}))
        original = httpx.AsyncClient

        def client(**kwargs: Any) -> httpx.AsyncClient:
            return original(transport=transport, **kwargs)

        httpx.AsyncClient = client  # type: ignore[misc]
        try:
            await loadgen._paced([("http://r/x", {})], "t", rate=200, duration_s=0.05, connections=4)
        finally:
            httpx.AsyncClient = original  # type: ignore[misc]

    asyncio.run(paced())
    keys = [r.headers.get(HEADER) for r in captured]
    assert len(keys) >= 2 and all(keys) and len(set(keys)) == len(keys)


def test_the_demo_loader_still_waits_for_an_id_another_service_has_yet_to_learn(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.time, "sleep", lambda _: None)
    answers = iter([404] * 20 + [201])
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers), json={})

    with httpx.Client(transport=httpx.MockTransport(service)) as client:
        resp = demo._call(client, "POST", "http://m/projects/p/duos", "dev-professional", {}, retry_404_s=30)
    assert resp.status_code == 201 and len(seen) == 21
    assert len({r.headers[HEADER] for r in seen}) == 1
