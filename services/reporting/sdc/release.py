"""Protect a set of linked tables: primary and secondary suppression, rounding, advice.

``protect_tables`` is the one entry point for tables; the result is plain data (pydantic)
ready for JSON, CSV or PDF output, and carries the suppression pattern to pass to the
next period so the same cells tend to stay hidden.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from pydantic import BaseModel, computed_field

from services.reporting.sdc.policy import (
    DIMENSION_LABELS, PERIOD_DIMENSIONS, CellStatus, DisclosurePolicy, round_to_base)
from services.reporting.sdc.secondary import Method, Problem, complementary_suppression
from services.reporting.sdc.tables import (
    TOTAL, Appearance, Axis, CountCube, Structure, TableSpec, build_structure)

CellRef = Mapping[str, str]


class Message(BaseModel):
    """A user-facing sentence, Dutch first."""

    code: str
    nl: str
    en: str

    @computed_field
    @property
    def text(self) -> str:
        return f"{self.nl} / {self.en}"


class ProtectedCell(BaseModel):
    row: str
    col: str
    value: int | None
    status: CellStatus
    rounded: bool

    @computed_field
    @property
    def suppressed(self) -> bool:
        return self.value is None


class AxisInfo(BaseModel):
    """Which cube dimension an axis reads, so a reader (or attacker) can re-derive the sums."""

    name: str
    source: str
    groups: dict[str, str] | None = None

    def axis(self) -> Axis:
        return Axis(self.name, self.source, self.groups)


class ProtectedTable(BaseModel):
    name: str
    rows_axis: AxisInfo
    cols_axis: AxisInfo | None
    margins: bool
    rows: list[str]
    cols: list[str]
    cells: list[ProtectedCell]
    hidden: int
    visible: int
    hidden_share: float
    too_much_hidden: bool

    def cell(self, row: str, col: str = TOTAL) -> ProtectedCell:
        for c in self.cells:
            if c.row == row and c.col == col:
                return c
        raise KeyError((row, col))

    def spec(self) -> TableSpec:
        cols = None if self.cols_axis is None else self.cols_axis.axis()
        return TableSpec(self.name, self.rows_axis.axis(), cols, self.margins)


class Suggestion(BaseModel):
    dimension: str
    coarser: str
    message: Message


class ProtectedRelease(BaseModel):
    """All tables of one report, protected together."""

    policy: DisclosurePolicy
    method: Method
    tables: list[ProtectedTable]
    hidden_share: float
    too_much_hidden: bool
    suggestions: list[Suggestion]
    notes: list[Message]
    pattern: list[dict[str, str]]

    def table(self, name: str) -> ProtectedTable:
        return next(t for t in self.tables if t.name == name)


def protect_tables(cube: CountCube, specs: Iterable[TableSpec], policy: DisclosurePolicy, *,
                   previous: Iterable[CellRef] = (), always_suppress: Iterable[CellRef] = ()) -> ProtectedRelease:
    """Protect linked tables built from one cube.

    ``previous``: the pattern of the previous period (or any cells to prefer hiding):
    cheaper to suppress. ``always_suppress``: cells hidden and protected like small ones.
    A reference matches a published cell when every (dimension, label) it names matches.
    """
    specs = list(specs)
    structure = build_structure(cube, specs)
    forced = _matches(structure, list(always_suppress))
    problem = _problem(structure, policy, forced, _matches(structure, list(previous)))
    hidden, method = complementary_suppression(
        problem, exact_max_cells=policy.exact_max_cells, exact_max_rounds=policy.exact_max_rounds)
    return _release(structure, specs, policy, problem, hidden, forced, method)


def protect_table(rows: str, cols: str, counts: Mapping[tuple[str, str], int], policy: DisclosurePolicy, *,
                  name: str = "table", previous: Iterable[CellRef] = (), always_suppress: Iterable[CellRef] = (),
                  **cube_options) -> ProtectedTable:
    """One two-way table with margins; missing combinations count 0."""
    cube = CountCube.of_table(rows, cols, counts, **cube_options)
    release = protect_tables(cube, [TableSpec(name, rows, cols)], policy,
                             previous=previous, always_suppress=always_suppress)
    return release.tables[0]


def carry_over(pattern: Iterable[CellRef], *, drop: Iterable[str] = (),
               relabel: Mapping[str, Mapping[str, str]] | None = None) -> list[dict[str, str]]:
    """A previous period's pattern in this period's terms (drop or relabel the period)."""
    drop, relabel = set(drop), relabel or {}
    out = []
    for ref in pattern:
        moved = {d: relabel.get(d, {}).get(v, v) for d, v in ref.items() if d not in drop}
        if moved and moved not in out:
            out.append(moved)
    return out


# --------------------------------------------------------------------------- problem


def protection_levels(values: np.ndarray, protection: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the promised width: down by up to half (never below 0), up by the rest.

    The upper bound then always reaches the threshold, so an attacker who knows nothing
    more (no shown zeros telling that hidden cells are at least 1: the releases hide zeros)
    cannot prove a hidden count small.
    """
    lower = np.minimum(values, protection // 2)
    return protection - lower, lower


def _problem(structure: Structure, policy: DisclosurePolicy, forced: np.ndarray, previous: np.ndarray) -> Problem:
    values = structure.cell_values
    sensitive = _below_threshold(values, policy) | forced
    upper, lower = protection_levels(values, policy.protection)
    return Problem(structure.matrix, structure.base_values, values, sensitive,
                   np.where(sensitive, upper, 0.0), np.where(sensitive, lower, 0.0),
                   _costs(structure, policy, previous), structure.equations)


def _below_threshold(values: np.ndarray, policy: DisclosurePolicy) -> np.ndarray:
    small = (values > 0) & (values < policy.threshold)
    return small if policy.show_zeros else small | (values == 0)


def _costs(structure: Structure, policy: DisclosurePolicy, previous: np.ndarray) -> np.ndarray:
    """Information lost by hiding a cell: grows slowly with its size, steeply with aggregation."""
    level = np.zeros(len(structure.cells))
    for appearance, cell in structure.appearances:
        if cell is not None:
            level[cell] = max(level[cell], appearance.level)
    cost = (1.0 + np.log1p(structure.cell_values)) * policy.margin_cost_factor ** level
    return np.where(previous, cost * policy.previous_cost_factor, cost)


def _matches(structure: Structure, refs: list[CellRef]) -> np.ndarray:
    hit = np.zeros(len(structure.cells), dtype=bool)
    if not refs:
        return hit
    exact: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for appearance, cell in structure.appearances:
        if cell is not None:
            exact.setdefault(appearance.coords, []).append(cell)
    partial = []
    for ref in refs:  # a reference naming every coordinate of a cell (a pattern's entries do): one look-up
        found = exact.get(tuple(sorted(ref.items())))
        if found is None:
            partial.append(ref)
        else:
            hit[found] = True
    for appearance, cell in structure.appearances if partial else ():
        coords = dict(appearance.coords)
        if cell is not None and any(all(coords.get(d) == v for d, v in ref.items()) for ref in partial):
            hit[cell] = True
    return hit


# --------------------------------------------------------------------------- result


def _status(cell: int | None, problem: Problem, hidden: np.ndarray, forced: np.ndarray,
            policy: DisclosurePolicy) -> CellStatus:
    if cell is None:
        return CellStatus.structural_zero
    if not hidden[cell]:
        return CellStatus.shown
    if _below_threshold(problem.cell_values[[cell]], policy)[0]:
        return CellStatus.below_threshold
    return CellStatus.forced if forced[cell] else CellStatus.complementary


def _published(appearance: Appearance, cell: int | None, status: CellStatus, problem: Problem,
               policy: DisclosurePolicy) -> ProtectedCell:
    if status is CellStatus.structural_zero:
        return ProtectedCell(row=appearance.row, col=appearance.col, value=0, status=status, rounded=False)
    if status is not CellStatus.shown:
        return ProtectedCell(row=appearance.row, col=appearance.col, value=None, status=status, rounded=False)
    value = round_to_base(int(problem.cell_values[cell]), policy.rounding_base)
    return ProtectedCell(row=appearance.row, col=appearance.col, value=value, status=status,
                         rounded=policy.rounding_base > 1)


def _release(structure: Structure, specs: list[TableSpec], policy: DisclosurePolicy, problem: Problem,
             hidden: np.ndarray, forced: np.ndarray, method: Method) -> ProtectedRelease:
    per_table: dict[str, list[ProtectedCell]] = {s.name: [] for s in specs}
    pattern: list[dict[str, str]] = []
    for appearance, cell in structure.appearances:
        status = _status(cell, problem, hidden, forced, policy)
        per_table[appearance.table].append(_published(appearance, cell, status, problem, policy))
        if cell is not None and hidden[cell]:
            pattern.append(dict(appearance.coords))
    tables = [_table(spec, structure, per_table[spec.name], policy) for spec in specs]
    hidden_n = sum(t.hidden for t in tables)
    visible_n = sum(t.visible for t in tables)
    share = hidden_n / visible_n if visible_n else 0.0
    too_much = any(t.too_much_hidden for t in tables)
    return ProtectedRelease(
        policy=policy, method=method, tables=tables, hidden_share=share, too_much_hidden=too_much,
        suggestions=suggestions(tables, policy) if too_much else [],
        notes=_notes(policy, hidden_n, too_much), pattern=pattern)


def _table(spec: TableSpec, structure: Structure, cells: list[ProtectedCell],
           policy: DisclosurePolicy) -> ProtectedTable:
    rows, cols = structure.tables[spec.name]
    visible = sum(c.status is not CellStatus.structural_zero for c in cells)
    hidden = sum(c.suppressed for c in cells)
    share = hidden / visible if visible else 0.0
    return ProtectedTable(
        name=spec.name, rows_axis=_axis_info(spec.row_axis), margins=spec.margins,
        cols_axis=None if spec.col_axis is None else _axis_info(spec.col_axis),
        rows=rows, cols=cols, cells=cells, hidden=hidden, visible=visible, hidden_share=share,
        too_much_hidden=share > policy.max_hidden_share)


def _axis_info(axis: Axis) -> AxisInfo:
    return AxisInfo(name=axis.name, source=axis.source, groups=None if axis.groups is None else dict(axis.groups))


# --------------------------------------------------------------------------- advice


def suggestions(tables: list[ProtectedTable], policy: DisclosurePolicy) -> list[Suggestion]:
    """Coarser periods first (month → quarter → year), then groupings (project → region → Flanders)."""
    dims = [a.name for t in tables if t.too_much_hidden for a in (t.cols_axis, t.rows_axis) if a is not None]
    dims = sorted(dict.fromkeys(dims), key=lambda d: d not in PERIOD_DIMENSIONS)
    return [_suggestion(d, policy.coarser[d]) for d in dims if d in policy.coarser]


def _label(dim: str, lang: str) -> str:
    return DIMENSION_LABELS.get(dim, {}).get(lang, dim)


def coarser_suggestion(dim: str, coarser: str) -> Suggestion:
    """"Choose a coarser breakdown: by <coarser> instead of by <dim>"."""
    return _suggestion(dim, coarser)


def _suggestion(dim: str, coarser: str) -> Suggestion:
    return Suggestion(dimension=dim, coarser=coarser, message=Message(
        code="coarser",
        nl=f"Kies een grovere indeling: per {_label(coarser, 'nl')} in plaats van per {_label(dim, 'nl')}.",
        en=f"Choose a coarser breakdown: by {_label(coarser, 'en')} instead of by {_label(dim, 'en')}."))


def _notes(policy: DisclosurePolicy, hidden: int, too_much: bool) -> list[Message]:
    notes = []
    if hidden:
        notes.append(Message(
            code="suppressed",
            nl=f"Aantallen van 1 tot {policy.threshold - 1} zijn verborgen, en ook de cellen waarmee ze uit de "
               f"totalen terug te rekenen zouden zijn.",
            en=f"Counts from 1 to {policy.threshold - 1} are hidden, and so are the cells that would let them be "
               f"recomputed from the totals."))
    if policy.rounding_base > 1:
        notes.append(Message(
            code="rounded",
            nl=f"Getoonde aantallen en totalen zijn elk afgerond op {policy.rounding_base}; een totaal kan daardoor "
               f"afwijken van de som van de afgeronde cellen.",
            en=f"Shown counts and totals are each rounded to {policy.rounding_base}; a total may therefore differ "
               f"from the sum of the rounded cells."))
    if too_much:
        notes.append(Message(
            code="too_much_hidden",
            nl=f"Meer dan {math.floor(policy.max_hidden_share * 100)}% van de cellen van een tabel is verborgen.",
            en=f"More than {math.floor(policy.max_hidden_share * 100)}% of a table's cells are hidden."))
    return notes
