"""The matching benchmark runs (tiny sizes, no timing asserted): its figures stay computable."""

from __future__ import annotations

import pytest

from bench import matching_bench


def test_the_benchmark_runs_on_a_tiny_waiting_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert matching_bench.main(["--participants", "12", "--volunteers", "9", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "12 participants × 9 volunteers" in out
    for row in ("score matrix 12×9", "overall assignment (linear_sum_assignment)", "greedy baseline",
                "GET waiting list", "GET assignment of the whole waiting list (12×9)"):
        assert row in out, row


def test_the_assignment_in_the_benchmark_is_never_worse_than_greedy() -> None:
    figures = {f.name: f for f in matching_bench.pure(20, 15, 1, seed=7)}
    note = next(f.note for name, f in figures.items() if name.startswith("greedy baseline"))
    assert "assignment +" in note and "assignment +-" not in note
