"""The overall assignment: capacities are never exceeded, only feasible pairs are made,
and the total score is at least what participants choosing one by one (greedy) get —
on tiny instances it equals the optimum found by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.assignment import Assignment, greedy, optimal
from services.matching.suggestions import Scoring, score_matrix
from tests.unit.test_matching_suggestions import TODAY, allowed, candidates, seekers, weights_strategy

PROPS = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def matrices(draw: st.DrawFn, max_n: int = 12, max_m: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=0, max_value=max_n))
    m = draw(st.integers(min_value=0, max_value=max_m))
    cells = n * m
    scores = np.array(draw(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=cells, max_size=cells)),
                      dtype=float).reshape(n, m)
    density = draw(st.sampled_from([0.2, 0.5, 0.9]))
    mask = draw(st.integers(min_value=0, max_value=2 ** 16 - 1))
    rng = np.random.default_rng(mask)
    feasible = rng.random((n, m)) < density
    caps = np.array(draw(st.lists(st.integers(min_value=0, max_value=3), min_size=m, max_size=m)), dtype=int)
    return scores, feasible, caps


def check(result: Assignment, scores: np.ndarray, feasible: np.ndarray, caps: np.ndarray) -> None:
    rows = [i for i, _ in result.pairs]
    assert len(rows) == len(set(rows)), "a participant was assigned twice"
    assert all(feasible[i, j] for i, j in result.pairs), "an infeasible pair was assigned"
    assert np.all(result.load(len(caps)) <= np.clip(caps, 0, None)), "a capacity was exceeded"
    assert set(rows) | set(result.unassigned) == set(range(scores.shape[0]))
    assert result.total == pytest.approx(sum(scores[i, j] for i, j in result.pairs))


@PROPS
@given(matrices(), st.randoms(use_true_random=False))
def test_the_assignment_keeps_capacities_and_beats_greedy(instance: tuple[np.ndarray, np.ndarray, np.ndarray],
                                                          rnd: object) -> None:
    scores, feasible, caps = instance
    best = optimal(scores, feasible, caps)
    check(best, scores, feasible, caps)
    in_order = greedy(scores, feasible, caps)
    check(in_order, scores, feasible, caps)
    shuffled = list(range(scores.shape[0]))
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert best.total >= in_order.total - 1e-9
    assert best.total >= greedy(scores, feasible, caps, order=shuffled).total - 1e-9


def brute_force(scores: np.ndarray, feasible: np.ndarray, caps: np.ndarray) -> float:
    n, m = scores.shape
    best = 0.0
    for choice in itertools.product(range(-1, m), repeat=n):  # -1: stays on the waiting list
        load = np.zeros(m, dtype=int)
        total, ok = 0.0, True
        for i, j in enumerate(choice):
            if j < 0:
                continue
            if not feasible[i, j]:
                ok = False
                break
            load[j] += 1
            total += scores[i, j]
        if ok and np.all(load <= caps):
            best = max(best, total)
    return best


@settings(max_examples=150, derandomize=True, deadline=None)
@given(matrices(max_n=5, max_m=3))
def test_on_tiny_instances_it_is_the_optimum(instance: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    scores, feasible, caps = instance
    assert optimal(scores, feasible, caps).total == pytest.approx(brute_force(scores, feasible, caps), abs=1e-9)


@st.composite
def pools(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    m = draw(st.integers(min_value=0, max_value=10))
    return (draw(seekers(draw(st.integers(min_value=0, max_value=10)), m)), draw(candidates(m)),
            Scoring(draw(weights_strategy), TODAY, 180))


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_on_waiting_lists_it_respects_every_hard_constraint(instance) -> None:  # type: ignore[no-untyped-def]
    people, pool, scoring = instance
    scores, ok = score_matrix(people, pool, scoring)
    caps = np.array([c.capacity_left for c in pool], dtype=int)
    best = optimal(scores, ok, caps)
    check(best, scores, ok, caps)
    assert all(allowed(people[i], pool[j]) for i, j in best.pairs)
    assert best.total >= greedy(scores, ok, caps).total - 1e-9


def test_it_is_not_greedy() -> None:
    # Greedy gives A the volunteer both want; the optimum gives A the other one and B the first.
    scores = np.array([[0.9, 0.8], [0.85, 0.0]])
    feasible = np.array([[True, True], [True, False]])
    caps = np.array([1, 1])
    assert greedy(scores, feasible, caps).total == pytest.approx(0.9)
    best = optimal(scores, feasible, caps)
    assert best.pairs == ((0, 1), (1, 0)) and best.total == pytest.approx(1.65)


def test_a_volunteer_with_room_for_two_takes_two_and_no_more() -> None:
    scores = np.full((3, 1), 0.5)
    best = optimal(scores, np.ones((3, 1), dtype=bool), [2])
    assert len(best.pairs) == 2 and best.unassigned and best.load(1).tolist() == [2]


def test_nobody_feasible_means_everybody_keeps_waiting() -> None:
    best = optimal(np.ones((2, 2)), np.zeros((2, 2), dtype=bool), [3, 3])
    assert best.pairs == () and best.unassigned == (0, 1) and best.total == 0
    assert optimal(np.zeros((0, 3)), np.zeros((0, 3), dtype=bool), [1, 1, 1]) == Assignment((), 0.0, ())
    assert optimal(np.zeros((2, 0)), np.zeros((2, 0), dtype=bool), []).unassigned == (0, 1)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError):
        optimal(np.ones((2, 2)), np.ones((2, 3), dtype=bool), [1, 1])
    with pytest.raises(ValueError):
        optimal(np.ones((2, 2)), np.ones((2, 2), dtype=bool), [1])
