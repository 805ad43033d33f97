"""Secondary (complementary) suppression as an optimisation over linked tables.

Unknowns are the finest cells u ≥ 0; a published cell is a sum A_c·u. Suppressing the
set x leaves the attacker the polytope {u ≥ 0 : A_c·u = a_c for every shown c}. A
sensitive cell k is protected when that polytope lets A_k·u reach a_k + upper_k and
a_k − lower_k. We look for the cheapest x that protects every sensitive cell.

* Exact (small problems): Benders-style row generation (Fischetti & Salazar 2001). A
  master MILP (scipy.optimize.milp / HiGHS) picks x; for every sensitive cell and
  direction an attacker LP checks it; a failed check adds the cut taken from the LP's
  dual, which every protecting x satisfies. Repeat until no check fails.
* Heuristic (large problems, or when the exact method hits its round limit): cells one
  by one, the cheapest deviation LP (Castro-style): find a deviation of the finest
  cells that moves the sensitive cell by its protection while changing the fewest /
  cheapest shown cells, and suppress every cell it moves. Suppressing more never
  unprotects a cell, so the result is protected; it is not necessarily minimal.

Every deviation found is kept as a witness. A witness whose moved cells are all hidden
proves protection without an LP (scaled to the need, within the bounds), which saves
most LPs in later rounds and for the opposite direction of the same cell.

Both run without wall-clock limits (only counts of rounds and nodes), so the same
input gives the same pattern on every run.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

TOL = 1e-7
MOVE_TOL = 1e-7
Method = Literal["none", "exact", "heuristic"]


@dataclass
class Problem:
    """The suppression problem in matrix form (C published cells over B finest cells)."""

    matrix: sparse.csr_array          # C × B, 0/1
    base_values: np.ndarray           # B
    cell_values: np.ndarray           # C
    sensitive: np.ndarray             # C, bool: must be suppressed and protected
    upper: np.ndarray                 # C, upward protection (0 where not sensitive)
    lower: np.ndarray                 # C, downward protection
    cost: np.ndarray                  # C, price of suppressing the cell
    equations: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Caps on how far a hidden cell may move in the design model. Any cap is safe:
        # it only shrinks the attacker's polytope we design against.
        self.cap = float(self.base_values.sum() + max(self.upper.max(initial=0), 1))
        self.stacked = sparse.vstack([self.matrix, -self.matrix]).tocsr()
        self.base_bounds = [(-v, None) for v in self.base_values]

    @property
    def size(self) -> int:
        return self.matrix.shape[0]

    def demands(self) -> list[tuple[int, int, float]]:
        """(cell, direction, protection) for every sensitive cell and both directions."""
        out = []
        for k in np.flatnonzero(self.sensitive):
            out += [(int(k), +1, float(self.upper[k])), (int(k), -1, float(self.lower[k]))]
        return [d for d in out if d[2] > 0]


@dataclass
class Cut:
    """Σ coef·x ≥ rhs, necessary for every suppression pattern that protects the cell."""

    coef: np.ndarray
    rhs: float


def reach(problem: Problem, hidden: np.ndarray, k: int, direction: int, need: float
          ) -> tuple[float, np.ndarray, Cut]:
    """How far cell k can move (up +1, down −1) given the hidden set.

    The LP: maximise direction·A_k·z over deviations z of the finest cells with z ≥ −v,
    shown cells fixed (A_c·z = 0) and hidden cells within [−a_c, cap]. Returns the reach,
    the deviation reaching it and the cut any pattern protecting k by ``need`` satisfies.
    """
    c = -direction * problem.matrix[[k], :].toarray().ravel()
    b_ub = np.concatenate([problem.cap * hidden, problem.cell_values * hidden])
    res = linprog(c, A_ub=problem.stacked, b_ub=b_ub, bounds=problem.base_bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"attacker LP failed: {res.message}")
    return -res.fun, res.x, _dual_cut(problem, res, hidden, need)


def _dual_cut(problem: Problem, res, hidden: np.ndarray, need: float) -> Cut:
    """The LP dual read as a function of x: coef·x + const ≥ reach(x) for every pattern x.

    The dual's feasible set does not depend on x (x only sits in the right-hand sides),
    so a pattern that protects k must satisfy coef·x + const ≥ need (Benders cut).
    """
    y = -res.ineqlin.marginals
    n = problem.size
    coef = np.clip(y[:n] * problem.cap + y[n:] * problem.cell_values, 0, None)
    const = float(res.lower.marginals @ problem.base_values)
    if abs(coef @ hidden + const + res.fun) > 1e-6 * max(1.0, problem.cap):
        return _no_good_cut(hidden)  # numerically unreliable duals: fall back to a valid cut
    return strengthen(Cut(coef, need - const), problem.sensitive) or _no_good_cut(hidden)


def _no_good_cut(hidden: np.ndarray) -> Cut:
    """Some cell now shown must be hidden: fewer hidden cells can only protect less."""
    return Cut((~hidden).astype(float), 1.0)


def strengthen(cut: Cut, fixed: np.ndarray) -> Cut | None:
    """Move always-hidden cells to the right-hand side and cap coefficients at it.

    For 0/1 variables, Σ coef·x ≥ rhs stays valid with every coef lowered to rhs.
    """
    rhs = cut.rhs - float(cut.coef[fixed].sum())
    if rhs <= TOL:
        return None
    coef = np.where(fixed, 0.0, np.minimum(cut.coef, rhs))
    coef[coef < 1e-9] = 0.0
    return Cut(coef, rhs)


def equation_cuts(problem: Problem) -> list[Cut]:
    """A total and its parts: if a sensitive member is hidden, another member must be too."""
    cuts = []
    for total, parts in problem.equations:
        members = (total, *parts)
        for k in members:
            if problem.sensitive[k]:
                coef = np.zeros(problem.size)
                coef[[m for m in members if m != k]] = 1.0
                cuts.append(Cut(coef, 1.0))
    return cuts


class Witnesses:
    """Deviations found so far; one whose moved cells are all hidden proves protection.

    A deviation may be flipped and scaled: it stays feasible up to the largest factor
    that keeps every finest cell non-negative and every move within the cap.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.moves = np.zeros((0, problem.size))   # A·z per witness, over the published cells
        self.reach = np.zeros((0, 2))              # largest factor for +z and for −z

    def add(self, z: np.ndarray) -> np.ndarray:
        """Store a deviation; returns the mask of published cells it moves."""
        move = self.problem.matrix @ z
        move[np.abs(move) < MOVE_TOL] = 0.0
        v, cap = self.problem.base_values, self.problem.cap
        biggest = max(np.abs(move).max(initial=0.0), TOL)
        up = min(_factor(z, v), cap / biggest)
        down = min(_factor(-z, v), cap / biggest)
        self.moves = np.vstack([self.moves, move])
        self.reach = np.vstack([self.reach, [up, down]])
        return move != 0

    def proves(self, hidden: np.ndarray, k: int, direction: int, need: float) -> bool:
        """Some stored deviation moves k by ``need`` in the direction through hidden cells only."""
        if not len(self.moves):
            return False
        usable = ~np.any(self.moves[:, ~hidden] != 0, axis=1)
        shift = direction * self.moves[:, k]
        slack = 1 + 1e-9
        up = (shift > TOL) & (need <= shift * self.reach[:, 0] * slack)
        down = (shift < -TOL) & (need <= -shift * self.reach[:, 1] * slack)
        return bool(np.any(usable & (up | down)))


def _factor(z: np.ndarray, v: np.ndarray) -> float:
    """Largest t with t·z ≥ −v (finest cells stay non-negative)."""
    falling = z < -MOVE_TOL
    return float(np.min(v[falling] / -z[falling])) if falling.any() else np.inf


def failing(problem: Problem, hidden: np.ndarray, witnesses: Witnesses) -> list[Cut]:
    """Cuts for every sensitive cell and direction the hidden set does not protect yet."""
    cuts = []
    for k, direction, need in problem.demands():
        if witnesses.proves(hidden, k, direction, need):
            continue
        got, z, cut = reach(problem, hidden, k, direction, need)
        if got < need - TOL:
            cuts.append(cut)
        else:
            witnesses.add(z)
    return cuts


def master(problem: Problem, cuts: list[Cut], node_limit: int = 20_000) -> np.ndarray | None:
    """Cheapest hidden set satisfying every cut so far; None when HiGHS stops early."""
    n = problem.size
    constraints = []
    if cuts:
        constraints.append(LinearConstraint(np.array([c.coef for c in cuts]), lb=[c.rhs for c in cuts], ub=np.inf))
    res = milp(problem.cost, integrality=np.ones(n), bounds=Bounds(problem.sensitive.astype(float), np.ones(n)),
               constraints=constraints, options={"mip_rel_gap": 0.0, "node_limit": node_limit})
    if res.status != 0:
        return None
    return res.x > 0.5


def solve_exact(problem: Problem, max_rounds: int) -> np.ndarray | None:
    """Row generation until the master's choice protects every sensitive cell."""
    cuts = equation_cuts(problem)
    witnesses = Witnesses(problem)
    for _ in range(max_rounds):
        hidden = master(problem, cuts)
        if hidden is None:
            return None
        new = failing(problem, hidden, witnesses)
        if not new:
            return hidden
        cuts += new
    return None


def cheapest_deviation(problem: Problem, hidden: np.ndarray, k: int, direction: int, need: float) -> np.ndarray:
    """The cheapest deviation z of the finest cells that shifts cell k by ``need``.

    LP over (z, t): minimise Σ price_c·t_c with t_c ≥ |A_c·z|, A_k·z = ±need, z ≥ −v,
    where cells already hidden are free.
    """
    n, b = problem.matrix.shape
    price = np.where(hidden, 0.0, problem.cost)
    eye = sparse.identity(n, format="csr")
    a_ub = sparse.vstack([sparse.hstack([problem.matrix, -eye]), sparse.hstack([-problem.matrix, -eye])]).tocsr()
    a_eq = sparse.hstack([problem.matrix[[k], :], sparse.csr_array((1, n))]).tocsr()
    res = linprog(np.concatenate([np.zeros(b), price]), A_ub=a_ub, b_ub=np.zeros(2 * n), A_eq=a_eq,
                  b_eq=[direction * need], bounds=problem.base_bounds + [(0, problem.cap)] * n, method="highs")
    if res.status != 0:
        raise RuntimeError(f"deviation LP failed: {res.message}")
    return res.x[:b]


def solve_heuristic(problem: Problem) -> np.ndarray:
    """Protect cells one by one, hiding whatever the cheapest deviation moves.

    One pass suffices: hiding more cells never takes protection away.
    """
    hidden = problem.sensitive.copy()
    witnesses = Witnesses(problem)
    for k, direction, need in problem.demands():
        if witnesses.proves(hidden, k, direction, need):
            continue
        hidden |= witnesses.add(cheapest_deviation(problem, hidden, k, direction, need))
        if not witnesses.proves(hidden, k, direction, need) and reach(problem, hidden, k, direction, need)[0] < need - TOL:
            raise RuntimeError("heuristic deviation does not protect the cell")  # numerical trouble only
    return hidden


def complementary_suppression(problem: Problem, *, exact_max_cells: int, exact_max_rounds: int
                              ) -> tuple[np.ndarray, Method]:
    """The hidden set: exact on small problems, heuristic otherwise (remembered per problem)."""
    if not problem.demands():
        return problem.sensitive.copy(), "none"
    key = fingerprint(problem, exact_max_cells, exact_max_rounds)
    with _SOLVED_LOCK:
        known = _SOLVED.get(key)
        if known is not None:
            _SOLVED.move_to_end(key)
            return known[0].copy(), known[1]
    hidden, method = _solve(problem, exact_max_cells, exact_max_rounds)
    with _SOLVED_LOCK:
        _SOLVED[key] = (hidden.copy(), method)
        while len(_SOLVED) > SOLVED_KEPT:
            _SOLVED.popitem(last=False)
    return hidden, method


def _solve(problem: Problem, exact_max_cells: int, exact_max_rounds: int) -> tuple[np.ndarray, Method]:
    if problem.size <= exact_max_cells:
        hidden = solve_exact(problem, exact_max_rounds)
        if hidden is not None:
            return hidden, "exact"
    return solve_heuristic(problem), "heuristic"


# The solution is a function of the problem alone (no clock, no randomness: see above), so
# it is remembered under a digest of everything that defines the problem. A report on
# changed figures is a different problem, never an old answer; the same figures (the same
# report asked again, a table that did not change) skip the LPs. Bounded, least recently
# used first out.
SOLVED_KEPT = 2048
_SOLVED: OrderedDict[bytes, tuple[np.ndarray, Method]] = OrderedDict()
_SOLVED_LOCK = threading.Lock()


def fingerprint(problem: Problem, exact_max_cells: int, exact_max_rounds: int) -> bytes:
    """A digest of the problem's every array, its equations and the method's limits."""
    digest = hashlib.sha256()
    m = problem.matrix
    parts = [np.asarray(m.shape, dtype=np.int64), np.asarray(m.indptr, dtype=np.int64),
             np.asarray(m.indices, dtype=np.int64), np.asarray(m.data, dtype=np.float64)]
    parts += [np.asarray(a, dtype=np.float64) for a in (problem.base_values, problem.cell_values, problem.sensitive,
                                                         problem.upper, problem.lower, problem.cost)]
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(repr((problem.equations, exact_max_cells, exact_max_rounds)).encode())
    return digest.digest()
