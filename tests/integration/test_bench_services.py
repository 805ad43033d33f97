"""The benchmarks of the running services work end to end at a tiny size. No timing is asserted."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench import http_load, lag, loadgen

SERVICES = ("recruitment", "matching", "followup", "reporting")


def test_http_load_in_quick_mode_measures_every_service(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDDY_BENCH_REDIS_URL", redis_url)
    monkeypatch.setenv("BUDDY_BENCH_LOADGEN", "httpx")  # the fallback, whether wrk is installed or not
    results = http_load.run(True, 0.01)
    rates = [r for r in results if r.unit == "req/s"]
    assert [r.name.split(":")[0] for r in rates] == list(SERVICES)
    for r in rates:
        assert r.value > 0 and r.peer_value and r.peer_value > 0
        assert "httpx" in r.note and "(all 2xx)" in r.note, r.note
    assert all(r.value > 0 for r in results if r.unit == "µs")
    memory = {r.name.split()[0]: r.value for r in results if r.unit == "MiB"}
    assert set(memory) == set(SERVICES) and all(10 < mib < 100_000 for mib in memory.values())


def test_lag_in_quick_mode_follows_every_command_into_reporting(redis_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDDY_BENCH_REDIS_URL", redis_url)
    results = {r.name: r for r in lag.run(True, 0.01)}
    p50, p99 = results["lag p50"], results["lag p99"]
    assert 0 <= p50.value <= p99.value and math.isfinite(p99.value)
    assert p50.note.startswith("20/20 commands accepted (2xx)") and "never seen" not in p50.note, p50.note
    assert {name.split()[0] for name in results if name.endswith("after the lag run")} == set(SERVICES)


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = self.headers["Authorization"] == "Bearer dev-admin" and body == {"n": 1}
        self.send_response(201 if ok and self.path == "/good" else 409)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("generator", ["wrk", "httpx"])
def test_generators_count_what_was_answered(generator: str) -> None:
    if generator == "wrk" and not loadgen.wrk_available():
        pytest.skip("wrk is not installed")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        load = loadgen.Load(f"http://127.0.0.1:{server.server_address[1]}", "POST", ["/good", "/bad"], "dev-admin",
                            {"n": 1}, connections=2, duration_s=1)
        result = loadgen.run(load, generator)
    finally:
        server.shutdown()
        server.server_close()
    assert result.generator.startswith(generator)
    assert result.requests > 0 and set(result.statuses) == {201, 409}
    assert abs(result.statuses[201] - result.statuses[409]) <= 2 * load.connections
    assert result.failed >= result.statuses[409]
    assert generator in result.describe() and "non-2xx 409" in result.describe()
    assert 0 < result.p50_ms <= result.p99_ms


def test_the_lag_background_load_appends_a_coherent_history_at_its_rate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The second process's events are real recruitment events the store accepts, in stream order."""
    from shared.eventstore import EventStore, make_engine, migrate

    url = f"sqlite:///{tmp_path / 'recruitment.db'}"
    engine = make_engine(url)
    migrate(engine, "recruitment")
    with lag.background(url, rate=200, duration_s=0.5) as appended:
        pass
    store = EventStore(engine, "recruitment")
    events = store.read_after(0, limit=10_000)
    assert appended["appended"] == len(events) > 0  # about 100; how many depends on the machine, not asserted
    assert events[0].envelope.type == "ProjectRegistered"
    assert store.verify().ok
    engine.dispose()
