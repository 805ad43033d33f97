"""Disclosure control basics: policy per audience, primary suppression, zeros, rounding,
statistics, advice when too much is hidden, and the legacy single-figure ``protect``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.reporting.disclosure import (
    TOTAL, Audience, CellStatus, CountCube, DisclosurePolicy, StatisticReason, TableSpec, carry_over, protect,
    protect_share, protect_statistic, protect_table, protect_tables, protection_levels, round_to_base)

POLICY = DisclosurePolicy()


# --------------------------------------------------------------------------- policy


def test_defaults_are_ons_10_5_and_protection_defaults_to_the_threshold() -> None:
    assert (POLICY.threshold, POLICY.rounding_base, POLICY.min_units_for_statistics) == (10, 5, 10)
    assert POLICY.protection == 10
    assert DisclosurePolicy(protection_level=15).protection == 15


def test_audiences_have_their_defaults_and_accept_overrides() -> None:
    gov = DisclosurePolicy.for_audience(Audience.government)
    coord = DisclosurePolicy.for_audience("coordinator")
    proj = DisclosurePolicy.for_audience(Audience.project)
    assert (gov.threshold, gov.rounding_base) == (10, 5)
    assert (coord.threshold, coord.rounding_base) == (10, 5)
    assert (proj.threshold, proj.rounding_base) == (10, 1)
    strict = DisclosurePolicy.for_audience(Audience.government, threshold=20, max_hidden_share=0.3)
    assert (strict.threshold, strict.rounding_base, strict.max_hidden_share) == (20, 5, 0.3)


@pytest.mark.parametrize("bad", [{"rounding_base": 11}, {"threshold": 0}, {"max_hidden_share": 0},
                                 {"unknown": 1}, {"previous_cost_factor": 2}])
def test_policy_rejects_nonsense(bad: dict) -> None:
    with pytest.raises(ValidationError):
        DisclosurePolicy(**bad)


def test_protection_levels_split_the_width_and_always_reach_the_threshold() -> None:
    import numpy as np
    values = np.arange(0, 30, dtype=float)
    upper, lower = protection_levels(values, 10)
    assert ((upper + lower) >= 10).all()
    assert (lower <= values).all()  # never below zero
    assert ((values + upper) >= 10).all()  # the attacker cannot prove the count is small


# --------------------------------------------------------------------------- rounding and the legacy helper


@pytest.mark.parametrize("base", [1, 2, 3, 4, 5, 10])
def test_round_to_base_matches_the_original_formula(base: int) -> None:
    for count in range(0, 200):
        assert round_to_base(count, base) == int(base * round(count / base)), (count, base)


def test_legacy_protect_behaves_as_before() -> None:
    for threshold in (1, 5, 10):
        for base in (1, 2, 5):
            for count in range(0, 40):
                cell = protect(count, threshold=threshold, base=base)
                if count < threshold:
                    assert (cell.value, cell.suppressed) == (None, True)
                else:
                    assert (cell.value, cell.suppressed) == (int(base * round(count / base)), False)
    assert protect(1, threshold=1, base=1).model_dump() == {"value": 1, "suppressed": False}


def test_shown_cells_and_margins_are_rounded_independently_and_labelled() -> None:
    table = protect_table("project", "month", {("p1", "m1"): 12, ("p1", "m2"): 12,
                                               ("p2", "m1"): 13, ("p2", "m2"): 11}, POLICY)
    assert [table.cell("p1", m).value for m in ("m1", "m2")] == [10, 10]
    assert table.cell("p1", TOTAL).value == 25  # round(24), not 10 + 10
    assert table.cell(TOTAL, TOTAL).value == 50  # round(48)
    assert all(c.rounded for c in table.cells)
    exact = protect_table("project", "month", {("p1", "m1"): 12, ("p1", "m2"): 12},
                          DisclosurePolicy.for_audience(Audience.project))
    assert exact.cell("p1", TOTAL).value == 24 and not any(c.rounded for c in exact.cells)


def test_release_notes_explain_rounding_and_suppression_in_dutch_first() -> None:
    cube = CountCube.of_table("project", "month", {("p1", "m1"): 3, ("p1", "m2"): 30,
                                                   ("p2", "m1"): 20, ("p2", "m2"): 25})
    release = protect_tables(cube, [TableSpec("t", "project", "month")], POLICY)
    codes = {n.code: n for n in release.notes}
    assert set(codes) == {"suppressed", "rounded"}
    assert codes["rounded"].text.startswith("Getoonde aantallen") and " / Shown counts" in codes["rounded"].text


# --------------------------------------------------------------------------- primary suppression and zeros


def test_sampling_zeros_are_shown_not_treated_as_small() -> None:
    table = protect_table("project", "month", {("p1", "m1"): 0, ("p1", "m2"): 40,
                                               ("p2", "m1"): 25, ("p2", "m2"): 35}, POLICY)
    assert table.cell("p1", "m1").value == 0 and table.cell("p1", "m1").status is CellStatus.shown
    assert not any(c.suppressed for c in table.cells)


def test_zeros_can_be_treated_as_small() -> None:
    table = protect_table("project", "month", {("p1", "m1"): 0, ("p1", "m2"): 40,
                                               ("p2", "m1"): 25, ("p2", "m2"): 35},
                          DisclosurePolicy(show_zeros=False))
    assert table.cell("p1", "m1").status is CellStatus.below_threshold


def test_structural_zeros_are_shown_as_zero_and_never_hidden() -> None:
    counts = {("p1", "m1"): 3, ("p1", "m2"): 30, ("p2", "m2"): 25, ("p3", "m1"): 20, ("p3", "m2"): 22}
    table = protect_table("project", "month", counts, POLICY, structural_zeros=[("p2", "m1")])
    assert table.cell("p2", "m1").status is CellStatus.structural_zero and table.cell("p2", "m1").value == 0
    assert table.cell("p1", "m1").status is CellStatus.below_threshold
    # p2's row total equals its only possible cell, so the two share one decision
    assert table.cell("p2", TOTAL).suppressed == table.cell("p2", "m2").suppressed
    assert table.visible == len(table.cells) - 1


def test_small_margins_are_hidden_too() -> None:
    table = protect_table("project", "month", {("p1", "m1"): 4, ("p1", "m2"): 4,
                                               ("p2", "m1"): 25, ("p2", "m2"): 35}, POLICY)
    assert table.cell("p1", TOTAL).status is CellStatus.below_threshold
    assert table.cell("p1", "m1").status is CellStatus.below_threshold


def test_the_same_cell_in_two_tables_gets_one_decision() -> None:
    cube = CountCube(("project", "target_group"), {("p1", "youth"): 3, ("p1", "family"): 30,
                                                   ("p2", "youth"): 20, ("p2", "family"): 25})
    release = protect_tables(cube, [TableSpec("by_project", "project"), TableSpec("by_group", "target_group"),
                                    TableSpec("both", "project", "target_group")], POLICY)
    grand = {t.name: t.cell(TOTAL, TOTAL) for t in release.tables}
    assert len({(c.value, c.status) for c in grand.values()}) == 1
    assert release.table("by_project").cell("p1").value == release.table("both").cell("p1", TOTAL).value


# --------------------------------------------------------------------------- statistics


def test_statistics_need_enough_units() -> None:
    assert protect_statistic(12.345, 9, POLICY).model_dump() == {
        "value": None, "units": None, "reason": StatisticReason.too_few_units, "suppressed": True}
    shown = protect_statistic(12.345, 12, POLICY)
    assert (shown.value, shown.units, shown.suppressed) == (12.3, 10, False)
    assert protect_statistic(None, 50, POLICY).suppressed


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (3, 9, StatisticReason.too_few_units),
    (3, 40, StatisticReason.small_part),     # reveals 3
    (38, 40, StatisticReason.small_part),    # reveals that 2 did not
    (20, 40, 50.0),
    (0, 40, 0.0),                            # zeros are shown, like zero counts
    (40, 40, 100.0),
])
def test_percentages_hide_small_parts_and_their_complements(part: int, whole: int, expected) -> None:
    share = protect_share(part, whole, POLICY)
    if isinstance(expected, StatisticReason):
        assert share.suppressed and share.reason is expected
    else:
        assert share.value == expected and share.units == round_to_base(whole, 5)


def test_percentages_refuse_impossible_input() -> None:
    with pytest.raises(ValueError):
        protect_share(5, 3, POLICY)


# --------------------------------------------------------------------------- too much hidden


def test_too_much_hidden_says_so_and_suggests_a_coarser_period_first() -> None:
    counts = {(f"p{i}", f"2026-0{m}"): (i + m) % 9 + 1 for i in range(1, 4) for m in range(1, 4)}
    release = protect_tables(CountCube.of_table("project", "month", counts),
                             [TableSpec("duos", "project", "month")], POLICY)
    assert release.too_much_hidden and release.tables[0].too_much_hidden
    assert release.tables[0].hidden_share > 0.5
    assert [(s.dimension, s.coarser) for s in release.suggestions] == [("month", "quarter"), ("project", "region")]
    assert release.suggestions[0].message.nl.startswith("Kies een grovere indeling: per kwartaal in plaats van per maand")
    assert "too_much_hidden" in {n.code for n in release.notes}


def test_the_hidden_share_limit_is_configurable() -> None:
    counts = {("p1", "m1"): 3, ("p1", "m2"): 30, ("p2", "m1"): 20, ("p2", "m2"): 25}
    cube = CountCube.of_table("project", "month", counts)
    relaxed = protect_tables(cube, [TableSpec("t", "project", "month")], POLICY)
    strict = protect_tables(cube, [TableSpec("t", "project", "month")], DisclosurePolicy(max_hidden_share=0.2))
    assert not relaxed.too_much_hidden and relaxed.suggestions == []
    assert strict.too_much_hidden and [s.coarser for s in strict.suggestions] == ["quarter", "region"]


def test_carry_over_relabels_or_drops_the_period() -> None:
    pattern = [{"project": "p1", "month": "2025-01", "target_group": TOTAL}, {"project": "p1", "month": TOTAL}]
    assert carry_over(pattern, relabel={"month": {"2025-01": "2026-01"}}) == [
        {"project": "p1", "month": "2026-01", "target_group": TOTAL}, {"project": "p1", "month": TOTAL}]
    assert carry_over(pattern, drop=["month", "target_group"]) == [{"project": "p1"}]


def test_cube_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        CountCube(("a",), {("x",): -1})
    with pytest.raises(ValueError):
        CountCube(("a",), {("x", "y"): 1})
    with pytest.raises(ValueError):
        CountCube(("a",), {("*",): 1})
    with pytest.raises(ValueError):
        CountCube(("a", "b"), {("x", "y"): 2}, structural_zeros=frozenset({("x", "y")}))
