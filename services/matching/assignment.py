"""The best overall assignment of a whole waiting list, respecting volunteers' capacities.

Pure: works on the score and feasibility matrices of ``suggestions.score_matrix``.

``optimal`` solves a maximum-weight bipartite assignment with SciPy's
``linear_sum_assignment`` (a Hungarian-type solver), not a greedy loop:

* every volunteer becomes as many columns ("capacity slots") as the duos they can still
  take (capped at the number of participants who could have them);
* every participant also gets a private "stays on the waiting list" column of cost 0,
  so leaving someone unassigned is always possible and never forced to be a bad pair;
* infeasible pairs (a hard constraint fails) cost more than the free column (a positive
  cost against 0), so the solver never picks one: with n free columns for n
  participants, moving such a participant to a free column is always cheaper;
* the cost of a feasible pair is minus its score, so the solver maximises the total
  score. Capacity cannot be exceeded: a volunteer has only as many columns as room.

``greedy`` is the per-participant baseline (each participant in turn takes their best
feasible volunteer with room left) that the property tests and the benchmark compare with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Assignment:
    pairs: tuple[tuple[int, int], ...]  # (participant row, volunteer column)
    total: float
    unassigned: tuple[int, ...]

    def load(self, volunteers: int) -> np.ndarray:
        """How many participants each volunteer got."""
        out = np.zeros(volunteers, dtype=np.int64)
        for _, j in self.pairs:
            out[j] += 1
        return out


def _checked(scores: np.ndarray, feasible: np.ndarray, capacities: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    feasible = np.asarray(feasible, dtype=bool)
    caps = np.asarray(capacities, dtype=np.int64).reshape(-1)
    if scores.ndim != 2 or scores.shape != feasible.shape or caps.shape[0] != scores.shape[1]:
        raise ValueError("scores and feasible must be n×m and capacities of length m")
    if np.any(~np.isfinite(scores[feasible])):
        raise ValueError("feasible pairs need finite scores")
    return scores, feasible, np.clip(caps, 0, None)


def optimal(scores: np.ndarray, feasible: np.ndarray, capacities: Sequence[int] | np.ndarray) -> Assignment:
    """The assignment with the highest total score; each participant at most once, capacities kept."""
    scores, feasible, caps = _checked(scores, feasible, capacities)
    n, m = scores.shape
    if n == 0:
        return Assignment((), 0.0, ())
    # Only volunteers someone could have, with no more slots than participants who could have them.
    slots = np.minimum(caps, feasible.sum(axis=0))
    owner = np.repeat(np.arange(m), slots)
    if owner.size == 0:
        return Assignment((), 0.0, tuple(range(n)))
    forbidden = 1.0 + 2.0 * float(np.abs(scores[feasible]).max(initial=0.0))  # > 0: always worse than waiting
    pair_cost = np.where(feasible[:, owner], -scores[:, owner], forbidden)
    cost = np.hstack([pair_cost, np.zeros((n, n))])  # the "stays on the waiting list" columns
    rows, cols = linear_sum_assignment(cost)
    pairs = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if c < owner.size and feasible[r, owner[c]]:
            pairs.append((r, int(owner[c])))
    pairs.sort()
    assigned = {r for r, _ in pairs}
    total = float(sum(scores[r, j] for r, j in pairs))
    return Assignment(tuple(pairs), total, tuple(i for i in range(n) if i not in assigned))


def greedy(scores: np.ndarray, feasible: np.ndarray, capacities: Sequence[int] | np.ndarray,
           order: Sequence[int] | None = None) -> Assignment:
    """Each participant in ``order`` (default: row order) takes the best volunteer with room left."""
    scores, feasible, caps = _checked(scores, feasible, capacities)
    n, _ = scores.shape
    left = caps.copy()
    pairs = []
    for i in (range(n) if order is None else order):
        options = np.flatnonzero(feasible[i] & (left > 0))
        if options.size == 0:
            continue
        j = int(options[np.argmax(scores[i, options])])
        left[j] -= 1
        pairs.append((int(i), j))
    pairs.sort()
    assigned = {r for r, _ in pairs}
    total = float(sum(scores[r, j] for r, j in pairs))
    return Assignment(tuple(pairs), total, tuple(i for i in range(n) if i not in assigned))
