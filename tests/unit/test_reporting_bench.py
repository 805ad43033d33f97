"""The reporting benchmark runs (tiny sizes, no timing asserted): its figures stay computable."""

from __future__ import annotations

import inspect
from pathlib import Path

from bench import reporting_bench


def test_the_benchmark_runs_on_a_tiny_history(tmp_path: Path) -> None:
    assert list(inspect.signature(reporting_bench.run).parameters) == ["quick", "scale"]
    lines: list[str] = []
    results = reporting_bench.measure(2_000, 1, tmp_path, out=lines.append)
    names = [r.name for r in results]
    assert any(n.startswith("rebuild of all projections from the stores' feed") for n in names)
    assert any(n.startswith("rebuild of all projections from raw store rows") for n in names)
    assert sum(n.startswith("overview report p50") for n in names) == len(reporting_bench.REPORTS)
    assert all(r.value > 0 and r.unit in ("events/s", "ms") for r in results)
    assert all(r.peer_value and r.peer_value > 0 for r in results if r.unit == "events/s")
    assert lines[0].startswith("generated ")
