"""Fixtures of the end-to-end tests: the four services as real processes.

* ``system`` (per test): a fresh system on the test's ``key_prefix`` and ``tmp_path``.
  Extra settings for one test: ``@pytest.mark.system_env(BUDDY_DISCLOSURE_THRESHOLD="1")``.
* ``module_system`` (per module): one system shared by a module's tests, on a prefix
  of its own whose Redis keys are deleted afterwards; tests must use distinct ids.
* ``api`` / ``module_api``: an ``Api`` client on that system.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import delete_keys_with_prefix
from tests.e2e.system import Api, ServiceSystem


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "system_env(**env): extra BUDDY_* settings for the `system` fixture")


def _overrides(request: pytest.FixtureRequest) -> dict[str, str]:
    env: dict[str, str] = {}
    for marker in reversed(list(request.node.iter_markers("system_env"))):
        env.update({k: str(v) for k, v in marker.kwargs.items()})
    return env


def _started(redis_url: str, key_prefix: str, data_dir: Path, overrides: dict[str, str]) -> ServiceSystem:
    system = ServiceSystem(redis_url=redis_url, key_prefix=key_prefix, data_dir=data_dir, overrides=overrides)
    try:
        return system.start_all()
    except RuntimeError as exc:
        system.stop_all()
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def system(request: pytest.FixtureRequest, redis_url: str, key_prefix: str, tmp_path: Path) -> Iterator[ServiceSystem]:
    """The four services for one test, on its own key prefix and data folder."""
    started = _started(redis_url, key_prefix, tmp_path / "data", _overrides(request))
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def module_system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceSystem]:
    """The four services shared by one module's tests."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    started = _started(redis_url, prefix, tmp_path_factory.mktemp("e2e") / "data", {})
    try:
        yield started
    finally:
        started.stop_all()
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10)
        try:
            delete_keys_with_prefix(client, prefix)
        except redis.RedisError as exc:
            warnings.warn(f"could not clean Redis keys {prefix}:*: {exc!r}", stacklevel=1)
        finally:
            client.close()


@pytest.fixture
def api(system: ServiceSystem) -> Iterator[Api]:
    with Api(system) as client:
        yield client


@pytest.fixture(scope="module")
def module_api(module_system: ServiceSystem) -> Iterator[Api]:
    with Api(module_system) as client:
        yield client
