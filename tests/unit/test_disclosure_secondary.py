"""Secondary suppression on hand-made tables where the naive approach fails, linked
tables, the stable pattern across periods, forced cells, determinism and the heuristic.

Every protection claim is checked with the LP intruder (``feasible_intervals``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.reporting.disclosure import (
    TOTAL, Axis, CellStatus, CountCube, DisclosurePolicy, ProtectedRelease, ProtectedTable, TableSpec,
    feasible_intervals, protect_tables)
from services.reporting.sdc.release import _problem
from services.reporting.sdc.secondary import equation_cuts, reach, solve_exact, solve_heuristic
from services.reporting.sdc.tables import build_structure

POLICY = DisclosurePolicy()
TABLE = TableSpec("t", "project", "month")

# r1 holds one small cell; its row total and every other cell are large.
NAIVE_FAILS = {("r1", "a"): 3, ("r1", "b"): 20, ("r1", "c"): 15,
               ("r2", "a"): 25, ("r2", "b"): 30, ("r2", "c"): 12}


def narrowest(cube: CountCube, tables: list[ProtectedTable]) -> float:
    widths = [hi - lo for lo, hi in feasible_intervals(cube, tables).values()]
    return min(widths, default=float("inf"))


def primary_only(table: ProtectedTable, cube: CountCube) -> ProtectedTable:
    """The naive release: complementary cells shown with their true (unrounded) values."""
    truth = {(r, c): cube.value((r, c)) for r in table.rows for c in table.cols}
    cells = [cell.model_copy(update={"value": truth.get((cell.row, cell.col), 0), "status": CellStatus.shown})
             if cell.status is CellStatus.complementary else cell for cell in table.cells]
    return table.model_copy(update={"cells": cells})


def hidden(release: ProtectedRelease, status: CellStatus | None = None) -> set[tuple[str, str, str]]:
    return {(t.name, c.row, c.col) for t in release.tables for c in t.cells
            if c.suppressed and (status is None or c.status is status)}


def test_a_lone_small_cell_in_a_row_with_a_published_total_gets_complements() -> None:
    cube = CountCube(("project", "month"), NAIVE_FAILS)
    release = protect_tables(cube, [TABLE], POLICY)
    table = release.tables[0]
    assert table.cell("r1", "a").status is CellStatus.below_threshold
    assert hidden(release, CellStatus.complementary)  # at least one complement
    assert table.cell(TOTAL, TOTAL).value == 105  # totals kept: they are the expensive cells
    # the naive release gives the small cell away exactly: 38 − 20 − 15 = 3
    assert feasible_intervals(cube, [primary_only(table, cube)])[("t", "r1", "a")] == (3.0, 3.0)
    lo, hi = feasible_intervals(cube, [table])[("t", "r1", "a")]
    assert hi - lo >= POLICY.protection and hi >= POLICY.threshold
    assert release.method == "exact"


def test_small_margins_get_protected_across_the_other_margin() -> None:
    counts = {("p1", "m1"): 4, ("p1", "m2"): 4, ("p2", "m1"): 25, ("p2", "m2"): 35, ("p3", "m1"): 30, ("p3", "m2"): 12}
    cube = CountCube(("project", "month"), counts)
    release = protect_tables(cube, [TABLE], POLICY)
    assert release.tables[0].cell("p1", TOTAL).status is CellStatus.below_threshold
    assert narrowest(cube, release.tables) >= POLICY.protection


def test_a_hidden_cell_cannot_be_recomputed_from_a_linked_table() -> None:
    # by project and by region (P1, P2 in R1): protected alone, the project table hides
    # P1 with P3's cells; the region table then gives R1 − P2 = P1 away.
    counts = {("P1", "m1"): 3, ("P1", "m2"): 20, ("P2", "m1"): 15, ("P2", "m2"): 14, ("P3", "m1"): 11, ("P3", "m2"): 12}
    cube = CountCube(("project", "month"), counts)
    by_project = TableSpec("by_project", "project", "month")
    by_region = TableSpec("by_region", Axis("region", "project", {"P1": "R1", "P2": "R1", "P3": "R2"}), "month")
    apart = [protect_tables(cube, [spec], POLICY).tables[0] for spec in (by_project, by_region)]
    assert feasible_intervals(cube, apart)[("by_project", "P1", "m1")] == (3.0, 3.0)
    linked = protect_tables(cube, [by_project, by_region], POLICY)
    assert narrowest(cube, linked.tables) >= POLICY.protection
    assert linked.table("by_region").cell(TOTAL, TOTAL).value == 75


def test_tables_sharing_margins_are_protected_together() -> None:
    counts = {("p1", "youth", "m1"): 3, ("p1", "family", "m1"): 12, ("p1", "youth", "m2"): 14,
              ("p1", "family", "m2"): 20, ("p2", "youth", "m1"): 16, ("p2", "family", "m1"): 11,
              ("p2", "youth", "m2"): 18, ("p2", "family", "m2"): 25}
    cube = CountCube(("project", "target_group", "month"), counts)
    specs = [TableSpec("by_project", "project", "month"), TableSpec("by_group", "target_group", "month"),
             TableSpec("project_group", "project", "target_group")]
    release = protect_tables(cube, specs, POLICY)
    for spec in specs:  # the shared month totals and the grand total are one figure everywhere
        assert release.table(spec.name).cell(TOTAL, TOTAL).value == 120
    assert narrowest(cube, release.tables) >= POLICY.protection


def test_the_pattern_stays_stable_across_periods() -> None:
    # Q1 and Q2: one small cell at (p0, g0); in Q2 another rectangle would be cheapest on its own
    q1 = {("p0", "g0"): 3, ("p0", "g1"): 20, ("p0", "g2"): 24, ("p1", "g0"): 20, ("p1", "g1"): 21,
          ("p1", "g2"): 30, ("p2", "g0"): 24, ("p2", "g1"): 30, ("p2", "g2"): 22}
    q2 = {("p0", "g0"): 4, ("p0", "g1"): 24, ("p0", "g2"): 20, ("p1", "g0"): 24, ("p1", "g1"): 30,
          ("p1", "g2"): 30, ("p2", "g0"): 20, ("p2", "g1"): 30, ("p2", "g2"): 21}
    spec = TableSpec("t", "project", "target_group")

    def complements(release: ProtectedRelease) -> set[tuple[str, str]]:
        return {(r, c) for _, r, c in hidden(release, CellStatus.complementary)}

    first = protect_tables(CountCube(("project", "target_group"), q1), [spec], POLICY)
    fresh = protect_tables(CountCube(("project", "target_group"), q2), [spec], POLICY)
    stable = protect_tables(CountCube(("project", "target_group"), q2), [spec], POLICY, previous=first.pattern)
    assert complements(first) == {("p0", "g1"), ("p1", "g0"), ("p1", "g1")}
    assert complements(fresh) == {("p0", "g2"), ("p2", "g0"), ("p2", "g2")}
    assert complements(stable) == complements(first)
    assert narrowest(CountCube(("project", "target_group"), q2), stable.tables) >= POLICY.protection


def test_the_previous_pattern_is_only_a_preference() -> None:
    # last period hid a row that is large now; nothing is hidden without a small cell
    counts = {("p1", "m1"): 30, ("p1", "m2"): 40, ("p2", "m1"): 20, ("p2", "m2"): 25}
    release = protect_tables(CountCube(("project", "month"), counts), [TABLE], POLICY,
                             previous=[{"project": "p1"}])
    assert not hidden(release) and release.method == "none"


def test_always_suppressed_cells_are_hidden_and_protected() -> None:
    counts = {("p1", "m1"): 40, ("p1", "m2"): 30, ("p2", "m1"): 20, ("p2", "m2"): 25}
    cube = CountCube(("project", "month"), counts)
    release = protect_tables(cube, [TABLE], POLICY, always_suppress=[{"project": "p1", "month": "m1"}])
    assert release.tables[0].cell("p1", "m1").status is CellStatus.forced
    assert narrowest(cube, release.tables) >= POLICY.protection


def test_a_larger_protection_level_is_honoured() -> None:
    cube = CountCube(("project", "month"), NAIVE_FAILS)
    policy = DisclosurePolicy(protection_level=20)
    release = protect_tables(cube, [TABLE], policy)
    assert narrowest(cube, release.tables) >= 20


def test_the_same_input_gives_the_same_release() -> None:
    counts = {(f"p{i}", f"m{j}"): (7 * i + 3 * j) % 23 for i in range(6) for j in range(5)}
    cube = CountCube(("project", "month"), counts)
    shuffled = CountCube(("project", "month"), dict(reversed(list(counts.items()))))
    runs = [protect_tables(c, [TABLE], POLICY).model_dump() for c in (cube, cube, shuffled)]
    assert runs[0] == runs[1] == runs[2]


def test_large_tables_fall_back_to_the_heuristic_and_stay_protected() -> None:
    counts = {(f"p{i:02}", f"m{j:02}"): (11 * i + 7 * j) % 31 for i in range(14) for j in range(12)}
    cube = CountCube(("project", "month"), counts)
    policy = DisclosurePolicy(exact_max_cells=100)  # 15 × 13 = 195 distinct cells
    release = protect_tables(cube, [TABLE], policy)
    assert release.method == "heuristic"
    assert narrowest(cube, release.tables) >= POLICY.protection
    assert protect_tables(cube, [TABLE], policy).model_dump() == release.model_dump()


def test_the_exact_method_gives_way_after_its_round_limit() -> None:
    cube = CountCube(("project", "month"), NAIVE_FAILS)
    release = protect_tables(cube, [TABLE], DisclosurePolicy(exact_max_rounds=1))
    assert release.method == "heuristic"
    assert narrowest(cube, release.tables) >= POLICY.protection


@pytest.mark.parametrize("seed", range(6))
def test_the_exact_method_is_never_dearer_than_the_heuristic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = {(f"p{i}", f"m{j}"): int(rng.choice([0, 1, 3, 6, 9, 12, 15, 25, 40])) for i in range(4) for j in range(4)}
    structure = build_structure(CountCube(("project", "month"), counts), [TABLE])
    nothing = np.zeros(len(structure.cells), dtype=bool)
    problem = _problem(structure, POLICY, nothing, nothing)
    exact, heuristic = solve_exact(problem, 60), solve_heuristic(problem)
    assert exact is not None
    assert problem.cost[exact].sum() <= problem.cost[heuristic].sum() + 1e-9


def test_the_exact_method_is_minimal_on_small_tables() -> None:
    """Brute force: no cheaper pattern than the exact one protects every small cell."""
    rng = np.random.default_rng(5)
    for _ in range(5):
        counts = {(f"r{i}", f"c{j}"): int(rng.choice([0, 1, 3, 5, 8, 12, 15, 20, 30])) for i in range(2) for j in range(3)}
        structure = build_structure(CountCube(("project", "month"), counts), [TABLE])
        nothing = np.zeros(len(structure.cells), dtype=bool)
        problem = _problem(structure, POLICY, nothing, nothing)
        best = problem.cost[solve_exact(problem, 60)].sum()
        cuts = equation_cuts(problem)  # necessary conditions: skip patterns failing them without an LP
        free = np.flatnonzero(~problem.sensitive)
        for size in range(len(free) + 1):
            for extra in itertools.combinations(free, size):
                candidate = problem.sensitive.copy()
                candidate[list(extra)] = True
                if problem.cost[candidate].sum() >= best - 1e-9 or any(c.coef @ candidate < c.rhs for c in cuts):
                    continue
                assert not all(reach(problem, candidate, k, d, need)[0] >= need - 1e-7
                               for k, d, need in problem.demands()), (counts, candidate)


def test_an_intruder_who_only_sees_rounded_figures_learns_less() -> None:
    cube = CountCube(("project", "month"), NAIVE_FAILS)
    release = protect_tables(cube, [TABLE], POLICY)
    exact = feasible_intervals(cube, release.tables)
    rounded = feasible_intervals(cube, release.tables, knowledge="rounded", rounding_base=5)
    assert exact.keys() == rounded.keys()
    for cell, (lo, hi) in exact.items():
        assert rounded[cell][0] <= lo + 1e-9 and rounded[cell][1] >= hi - 1e-9
    integral = feasible_intervals(cube, release.tables, integral=True)
    for cell, bounds in exact.items():  # a two-way table with totals: integers give nothing more
        assert integral[cell] == pytest.approx(bounds)
