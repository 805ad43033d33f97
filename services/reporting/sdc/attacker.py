"""An intruder with linear programming: what can be derived about each hidden cell?

Given the published tables and the public structure (which finest cells can occur and
how each published cell sums them), the intruder bounds every hidden cell with
scipy.optimize.linprog: min and max of its sum over all non-negative finest counts that
agree with every shown figure. Written independently of the suppression code so tests
can hold one against the other.

Knowledge:
* ``"exact"`` (default, worst case): the intruder knows the true value of every shown
  cell, as if nothing were rounded. Protection against this intruder implies
  protection against any reader of the rounded release.
* ``"rounded"``: only the published, rounded values (each within ±base/2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from services.reporting.sdc.release import ProtectedTable
from services.reporting.sdc.tables import TOTAL, CountCube

Interval = tuple[float, float]
CellId = tuple[str, str, str]  # table, row, col


def members(cube: CountCube, table: ProtectedTable, row: str, col: str) -> tuple[int, ...]:
    """Finest cells summed by one published cell."""
    spec = table.spec()
    row_axis, col_axis = spec.row_axis, spec.col_axis
    ri = cube.dims.index(row_axis.source)
    ci = None if col_axis is None else cube.dims.index(col_axis.source)

    def inside(key: tuple[str, ...]) -> bool:
        row_ok = row == TOTAL or row_axis.label_of(key[ri]) == row
        col_ok = col == TOTAL or ci is None or col_axis.label_of(key[ci]) == col
        return row_ok and col_ok

    return tuple(b for b, key in enumerate(cube.base) if inside(key))


def feasible_intervals(cube: CountCube, tables: Iterable[ProtectedTable], *,
                       knowledge: Literal["exact", "rounded"] = "exact", rounding_base: int = 1,
                       integral: bool = False, only: Iterable[CellId] | None = None) -> dict[CellId, Interval]:
    """Interval (min, max) of every hidden cell (or of the hidden cells in ``only``) given
    everything shown in ``tables``. ``integral`` makes the intruder use integer programming."""
    tables = list(tables)
    wanted = None if only is None else set(only)
    n = len(cube.base)
    rows, lo, hi, hidden = [], [], [], {}
    for table in tables:
        for cell in table.cells:
            idx = members(cube, table, cell.row, cell.col)
            if cell.suppressed:
                if wanted is None or (table.name, cell.row, cell.col) in wanted:
                    hidden[(table.name, cell.row, cell.col)] = idx
            elif idx:
                low, high = _known(cube, idx, cell.value, knowledge, rounding_base)
                rows.append(idx)
                lo.append(low)
                hi.append(high)
    known = _rows(rows, n)
    cache: dict[tuple[int, ...], Interval] = {}
    out = {}
    for cell_id, idx in hidden.items():
        if idx not in cache:
            cache[idx] = _interval(idx, n, known, np.array(lo), np.array(hi), integral)
        out[cell_id] = cache[idx]
    return out


def _known(cube: CountCube, idx: tuple[int, ...], shown: int, knowledge: str, base: int) -> Interval:
    if knowledge == "exact":
        value = float(sum(cube.value(cube.base[b]) for b in idx))
        return value, value
    return max(0.0, shown - base // 2), float(shown + base // 2)


def _rows(rows: list[tuple[int, ...]], n: int) -> sparse.csr_array:
    r = [i for i, idx in enumerate(rows) for _ in idx]
    c = [b for idx in rows for b in idx]
    return sparse.csr_array((np.ones(len(c)), (r, c)), shape=(len(rows), n))


def _interval(idx: tuple[int, ...], n: int, known: sparse.csr_array, lo: np.ndarray, hi: np.ndarray,
              integral: bool) -> Interval:
    objective = np.zeros(n)
    objective[list(idx)] = 1.0
    return _optimum(objective, known, lo, hi, integral), -_optimum(-objective, known, lo, hi, integral)


def _optimum(objective: np.ndarray, known: sparse.csr_array, lo: np.ndarray, hi: np.ndarray,
             integral: bool) -> float:
    """Minimum of objective·u over u ≥ 0 with lo ≤ known·u ≤ hi (−inf when unbounded)."""
    if integral:
        constraints = [LinearConstraint(known, lo, hi)] if known.shape[0] else []
        res = milp(objective, integrality=np.ones(len(objective)), bounds=Bounds(0, np.inf), constraints=constraints)
    elif known.shape[0]:
        a = sparse.vstack([known, -known]).tocsr()
        res = linprog(objective, A_ub=a, b_ub=np.concatenate([hi, -lo]), bounds=(0, None), method="highs")
    else:
        res = linprog(objective, bounds=(0, None), method="highs")
    if res.status == 3 or (integral and res.status != 0 and "unbounded" in str(res.message).lower()):
        return -np.inf
    if res.status != 0:
        raise RuntimeError(f"intruder LP failed: {res.message}")
    return float(res.fun)
