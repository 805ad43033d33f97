"""The attack test: on many random tables, an intruder with linear programming
(scipy.optimize.linprog over every published cell and margin, knowing the exact value
of every shown cell) never narrows a small or forced hidden cell below the promised
protection. Random linked tables too, with both the exact method and the heuristic."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.disclosure import (
    TOTAL, Axis, CellStatus, CountCube, DisclosurePolicy, ProtectedRelease, TableSpec, feasible_intervals,
    protect_tables, protection_levels, round_to_base)

FAST = settings(derandomize=True, deadline=None, max_examples=30, database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Mostly small counts and zeros, so most tables need secondary suppression.
COUNTS = st.sampled_from([0, 0, 1, 2, 3, 4, 6, 9, 10, 11, 14, 20, 35, 60])
PROTECTED = (CellStatus.below_threshold, CellStatus.forced)


@st.composite
def policies(draw: st.DrawFn) -> DisclosurePolicy:
    threshold = draw(st.sampled_from([3, 5, 10]))
    return DisclosurePolicy(
        threshold=threshold,
        rounding_base=draw(st.sampled_from([1, min(5, threshold)])),
        protection_level=draw(st.sampled_from([None, threshold + 3])),
        show_zeros=draw(st.booleans()),
    )


@st.composite
def two_way(draw: st.DrawFn) -> tuple[CountCube, list[TableSpec]]:
    rows = [f"p{i}" for i in range(draw(st.integers(2, 5)))]
    cols = [f"m{j}" for j in range(draw(st.integers(1, 5)))]
    keys = list(itertools.product(rows, cols))
    structural = {k for k in keys if draw(st.integers(0, 9)) == 0}
    counts = {k: draw(COUNTS) for k in keys if k not in structural}
    cube = CountCube(("project", "month"), counts, {"project": tuple(rows), "month": tuple(cols)}, frozenset(structural))
    return cube, [TableSpec("t", "project", "month")]


@st.composite
def linked(draw: st.DrawFn) -> tuple[CountCube, list[TableSpec]]:
    sizes = {d: draw(st.integers(lo, 3)) for d, lo in (("project", 2), ("target_group", 1), ("month", 2))}
    levels = {d: tuple(f"{d[0]}{i}" for i in range(n)) for d, n in sizes.items()}
    counts = {k: draw(COUNTS) for k in itertools.product(*levels.values())}
    cube = CountCube(tuple(levels), counts, levels)
    region = Axis("region", "project", {p: f"R{i % 2}" for i, p in enumerate(levels["project"])})
    candidates = [TableSpec("pm", "project", "month"), TableSpec("gm", "target_group", "month"),
                  TableSpec("pg", "project", "target_group"), TableSpec("rm", region, "month"),
                  TableSpec("g", "target_group")]
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=2, max_size=4, unique_by=lambda s: s.name))
    return cube, chosen


def assert_protected(cube: CountCube, release: ProtectedRelease, policy: DisclosurePolicy) -> None:
    """Width at least the protection, and the true value well inside: [a − lower, a + upper] ⊆ interval."""
    protected = [(t.name, c.row, c.col) for t in release.tables for c in t.cells if c.status in PROTECTED]
    intervals = feasible_intervals(cube, release.tables, only=protected)
    for table in release.tables:
        for cell in table.cells:
            if cell.status in PROTECTED:
                lo, hi = intervals[(table.name, cell.row, cell.col)]
                truth = _truth(cube, table.spec(), cell.row, cell.col)
                [upper], [lower] = protection_levels(np.array([truth]), policy.protection)
                assert hi - lo >= policy.protection - 1e-6, (table.name, cell, lo, hi)
                assert lo <= truth - lower + 1e-6 and hi >= truth + upper - 1e-6, (table.name, cell, truth, lo, hi)
                if policy.protection >= policy.threshold:  # an intruder cannot prove the count is small
                    assert hi >= policy.threshold - 1e-6, (table.name, cell, lo, hi)


def assert_consistent(cube: CountCube, release: ProtectedRelease, policy: DisclosurePolicy) -> None:
    """Small cells hidden, structural zeros shown as 0, shown cells rounded true values."""
    for table in release.tables:
        spec = table.spec()
        for cell in table.cells:
            truth = _truth(cube, spec, cell.row, cell.col)
            small = 0 < truth < policy.threshold or (truth == 0 and not policy.show_zeros)
            if cell.status is CellStatus.structural_zero:
                assert cell.value == 0 and truth == 0
            elif small:
                assert cell.status is CellStatus.below_threshold
            elif not cell.suppressed:
                assert cell.value == round_to_base(truth, policy.rounding_base)
            assert (cell.row == TOTAL or cell.row in table.rows) and (cell.col == TOTAL or cell.col in table.cols)


def _truth(cube: CountCube, spec: TableSpec, row: str, col: str) -> int:
    ra, ca = spec.row_axis, spec.col_axis
    ri = cube.dims.index(ra.source)
    ci = None if ca is None else cube.dims.index(ca.source)
    return sum(cube.value(k) for k in cube.base
               if (row == TOTAL or ra.label_of(k[ri]) == row) and (col == TOTAL or ci is None or ca.label_of(k[ci]) == col))


@FAST
@given(two_way(), policies())
def test_two_way_tables_resist_the_lp_intruder(table: tuple, policy: DisclosurePolicy) -> None:
    cube, specs = table
    release = protect_tables(cube, specs, policy)
    assert release.method in ("none", "exact")
    assert_consistent(cube, release, policy)
    assert_protected(cube, release, policy)


@settings(FAST, max_examples=25)
@given(two_way(), policies())
def test_two_way_tables_resist_the_lp_intruder_with_the_heuristic(table: tuple, policy: DisclosurePolicy) -> None:
    cube, specs = table
    policy = policy.model_copy(update={"exact_max_cells": 0})
    release = protect_tables(cube, specs, policy)
    assert release.method in ("none", "heuristic")
    assert_consistent(cube, release, policy)
    assert_protected(cube, release, policy)


@settings(FAST, max_examples=25)
@given(linked(), policies(), st.booleans())
def test_linked_tables_resist_the_lp_intruder(tables: tuple, policy: DisclosurePolicy, heuristic: bool) -> None:
    cube, specs = tables
    if heuristic:
        policy = policy.model_copy(update={"exact_max_cells": 0})
    release = protect_tables(cube, specs, policy)
    assert_consistent(cube, release, policy)
    assert_protected(cube, release, policy)


@settings(FAST, max_examples=10)
@given(two_way(), st.data())
def test_forced_cells_are_protected_and_results_repeat(table: tuple, data: st.DataObject) -> None:
    cube, specs = table
    policy = DisclosurePolicy()
    row = data.draw(st.sampled_from(cube.levels["project"]))
    forced = [{"project": row, "month": data.draw(st.sampled_from(cube.levels["month"]))}]
    first = protect_tables(cube, specs, policy, always_suppress=forced)
    assert_protected(cube, first, policy)
    assert protect_tables(cube, specs, policy, always_suppress=forced).model_dump() == first.model_dump()
