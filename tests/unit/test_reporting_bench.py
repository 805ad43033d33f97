"""The reporting benchmark runs (tiny sizes, no timing asserted): its figures stay computable,
and its history is reproducible, valid and made of every event type."""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
from pathlib import Path

import pytest

from bench import reporting_bench
from bench.reporting_history import FLANDERS, SERVICES, cached_history, open_stores
from services.reporting.projections import HANDLERS
from shared.bus import StoreFeed
from shared.events.envelope import canonical_json
from shared.events.registry import REGISTRY

pytestmark = pytest.mark.slow  # builds and replays benchmark histories

TINY = FLANDERS.scaled(0.0004)  # ≈ 4,000 events
SMALL = FLANDERS.scaled(0.0015)  # ≈ 15,000 events: enough for the rare event types


def test_the_benchmark_runs_on_a_tiny_history(tmp_path: Path) -> None:
    assert list(inspect.signature(reporting_bench.run).parameters) == ["quick", "scale"]
    lines: list[str] = []
    results = reporting_bench.measure(TINY, 1, tmp_path, out=lines.append)
    names = [r.name for r in results]
    assert names[0] == "synthetic history" and results[0].unit == "events" and results[0].value >= 3_000
    assert any(n.startswith("rebuild of all projections from the stores' feed") for n in names)
    assert any(n.startswith("rebuild of all projections from raw store rows") for n in names)
    for prefix in ("overview report p50", "overview report p95", "overview report, first computation"):
        assert sum(n.startswith(prefix) for n in names) == len(reporting_bench.REPORTS)
    assert all(r.value > 0 and r.unit in ("events", "events/s", "ms") for r in results)
    assert all(r.peer_value and r.peer_value > 0 for r in results if r.unit == "events/s")
    assert any(line.startswith("generated ") for line in lines)
    # a second run reuses the history kept under its scale and seed
    lines.clear()
    reporting_bench.measure(TINY, 1, tmp_path, out=lines.append)
    assert lines[0].startswith("reusing ")


def test_the_history_is_reproducible_valid_and_complete(tmp_path: Path) -> None:
    first, counts, reused = cached_history(SMALL, tmp_path / "a")
    second, _, _ = cached_history(SMALL, tmp_path / "b")
    assert not reused and first.name == second.name
    stores = {"a": open_stores(first), "b": open_stores(second)}
    try:
        for name in SERVICES:
            # the same seed gives the same log, byte for byte: the same head hash
            assert stores["a"][name].head() == stores["b"][name].head()
            assert stores["a"][name].head()[0] == counts[name]
            assert stores["a"][name].verify().ok
        kinds: collections.Counter[str] = collections.Counter()

        async def read_all() -> None:
            feed = StoreFeed(stores["a"])
            for name in SERVICES:
                for env in await feed.read(name, 0, 100_000):
                    kinds[env.type] += 1
                    event = REGISTRY.decode_known(env.type, env.schema_version, env.payload)
                    assert event is not None
                    # every payload is the canonical JSON of its validated model
                    assert canonical_json(event.model_dump(mode="json")) == canonical_json(env.payload)

        asyncio.run(read_all())
    finally:
        for group in stores.values():
            for store in group.values():
                store.engine.dispose()
    counted = {k for k, h in HANDLERS.items() if h.__name__ != "_ignored"}
    # the simulated programmes all keep running, nobody asks to be erased (erasures are
    # tested on the scripted history: tests/integration/test_reporting_erasure.py)
    # nor withdraws consent to be called (a cancelled call: the scripted history has one)
    missing = counted - set(kinds) - {"ProjectClosed", "VolunteerPersonalDataErased", "ParticipantPersonalDataErased",
                                      "FollowUpCallCancelled"}
    assert not missing, missing
    assert kinds.most_common(1)[0][0] == "ContactLogged"
    assert json.loads((first / "history.json").read_text())["counts"] == counts
