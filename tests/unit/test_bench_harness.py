"""The benchmark harness runs end to end on tiny sizes, so it cannot rot. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import main

pytestmark = pytest.mark.slow  # runs the benchmark harness end to end


def test_quick_mode_on_a_tiny_history_writes_a_report(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDDY_BENCH_REDIS_URL", redis_url)
    out = tmp_path / "benchmarks.md"
    assert main(["--quick", "--scale", "0.01", "--out", str(out)]) == 0
    report = out.read_text()
    for line in ("single-event commands, SQLite", "bulk import, SQLite", "relay store → Redis", "reporting consumption",
                 "eventsourcing 9.5", "redis-py XADD"):
        assert line in report
    assert "| — |" not in report.split("relay store")[0].split("single-event commands, SQLite")[1].split("\n")[0]


def test_targets_are_judged_on_every_row_they_name_and_say_what_was_not_measured() -> None:
    from bench.__main__ import targets
    from bench.common import Result

    results = [
        Result("event store", "single-event commands, SQLite", 3_000, "events/s", "peer", 1_000),
        Result("event store", "bulk import, SQLite", 20_000, "events/s", "peer", 10_000),
        Result("bus", "reporting consumption", 30_000, "events/s", "bare", 100_000),
        Result("reporting", "synthetic history", 10_000_000, "events"),
        Result("reporting", "overview report p95, government, all of Flanders, a year by month", 80, "ms"),
    ]
    lines = {line.split(" | ")[0].lstrip("| "): line for line in targets(results).splitlines()[2:]}
    assert lines["event-store appends ≥ 3× the eventsourcing library's on the same database"].endswith("| **not met** |")
    assert "bulk import, SQLite: 2.00×" in lines["event-store appends ≥ 3× the eventsourcing library's on the same database"]
    assert lines["reporting consumption ≥ 25% of the bare redis-py loop"].endswith("| met |")
    report = lines["overview report p95 < 100 ms on the 10-million-event history"]
    assert "government by month: 80 ms (history of 10,000,000 events)" in report and report.endswith("| met |")
    assert lines["each service < 300 MB resident"].endswith("| not measured in this run | — |")


def test_targets_meant_for_the_full_sizes_are_not_judged_on_a_quick_run() -> None:
    from bench.__main__ import targets
    from bench.common import Result

    results = [
        Result("bus", "reporting consumption", 30_000, "events/s", "bare", 100_000),
        Result("reporting", "overview report p95, government, all of Flanders, a year by month", 500, "ms"),
        Result("web pages, SQLite", "figures, coordinator, one region, a year by month: page p95", 90, "ms",
               "its API calls", 60),
        Result("web pages, SQLite", "home: page p95", 400, "ms"),
    ]
    page_target = "every web page's server time p95 < 150 ms on the Flanders-scale data (300 projects, ≈30,000 volunteers)"
    quick = {line.split(" | ")[0].lstrip("| "): line for line in targets(results, full_size=False).splitlines()[2:]}
    assert quick[page_target].endswith("| not judged at this size |")
    assert "figures, coordinator, one region, a year by month: 90 ms (its API calls 60 ms)" in quick[page_target]
    assert quick["overview report p95 < 100 ms on the 10-million-event history"].endswith("| not judged at this size |")
    assert quick["reporting consumption ≥ 25% of the bare redis-py loop"].endswith("| met |")  # judged at any size
    full = {line.split(" | ")[0].lstrip("| "): line for line in targets(results).splitlines()[2:]}
    assert full[page_target].endswith("| **not met** |")  # the home page's 400 ms
    assert "home: 400 ms" in full[page_target]
