"""Fixtures of the integration tests that several files share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.matching.bootstrap import build as build_matching
from shared.settings import Settings

#: Feeds of upstream services that are not running: a matching service started alone.
NOWHERE = {"recruitment": "http://127.0.0.1:9", "matching": "http://127.0.0.1:9"}


@pytest.fixture
def serve(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """``serve(**settings) -> TestClient`` of a running matching service (it has a feed and a consumer)."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        client = TestClient(build_matching(settings_factory(service_urls=NOWHERE, **overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)
