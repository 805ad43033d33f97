"""The benchmark harness runs end to end on tiny sizes, so it cannot rot. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import main


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
