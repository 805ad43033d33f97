"""Table model: published tables as sums over one cube of finest counts.

Every published cell (interior, row total, column total, grand total) is the sum of a
set of finest cells of a ``CountCube``. Two cells with the same set are the same
number, wherever they are published, so linked tables (by project and by target
group, sharing the region total) share cells automatically and get one suppression
decision. Finest cells that cannot occur are structural zeros: the attacker knows them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

TOTAL = "*"

Key = tuple[str, ...]
Coords = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Axis:
    """A table axis read from one cube dimension, optionally grouped (project → region)."""

    name: str
    source: str
    groups: Mapping[str, str] | None = None

    def label_of(self, level: str) -> str:
        return level if self.groups is None else self.groups[level]


def as_axis(spec: str | Axis) -> Axis:
    return spec if isinstance(spec, Axis) else Axis(name=spec, source=spec)


@dataclass(frozen=True)
class TableSpec:
    """One published table: rows × columns (or rows only) with or without margins."""

    name: str
    rows: str | Axis
    cols: str | Axis | None = None
    margins: bool = True

    @property
    def row_axis(self) -> Axis:
        return as_axis(self.rows)

    @property
    def col_axis(self) -> Axis | None:
        return None if self.cols is None else as_axis(self.cols)


@dataclass(frozen=True)
class CountCube:
    """Finest counts over named dimensions; every combination not listed as structural can occur.

    Missing combinations count 0 (sampling zeros). ``levels`` fixes the order of rows and
    columns; dimensions left out get their sorted levels.
    """

    dims: tuple[str, ...]
    counts: Mapping[Key, int]
    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    structural_zeros: frozenset[Key] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "dims", tuple(self.dims))
        object.__setattr__(self, "structural_zeros", frozenset(tuple(k) for k in self.structural_zeros))
        levels = {d: tuple(self.levels.get(d) or self._found_levels(i)) for i, d in enumerate(self.dims)}
        object.__setattr__(self, "levels", levels)
        self._validate()

    def _found_levels(self, index: int) -> list[str]:
        return sorted({k[index] for k in itertools.chain(self.counts, self.structural_zeros)})

    def _validate(self) -> None:
        if len(set(self.dims)) != len(self.dims) or not self.dims:
            raise ValueError("dims must be distinct and not empty")
        for key, count in self.counts.items():
            if len(key) != len(self.dims) or any(v not in self.levels[d] for d, v in zip(self.dims, key)):
                raise ValueError(f"count key {key!r} does not fit dims {self.dims!r} and their levels")
            if not isinstance(count, (int, np.integer)) or count < 0:
                raise ValueError(f"count for {key!r} must be a non-negative integer")
            if count and key in self.structural_zeros:
                raise ValueError(f"structural zero {key!r} has a count")
        if any(TOTAL in values for values in self.levels.values()):
            raise ValueError(f"{TOTAL!r} is reserved for totals")

    @classmethod
    def of_table(cls, rows: str, cols: str, counts: Mapping[tuple[str, str], int], *,
                 row_levels: Iterable[str] | None = None, col_levels: Iterable[str] | None = None,
                 structural_zeros: Iterable[tuple[str, str]] = ()) -> "CountCube":
        """A cube for one two-way table (the common case)."""
        levels = {d: tuple(v) for d, v in ((rows, row_levels), (cols, col_levels)) if v is not None}
        return cls((rows, cols), dict(counts), levels, frozenset(structural_zeros))

    @cached_property
    def base(self) -> tuple[Key, ...]:
        """The finest cells that can occur, in level order."""
        every = itertools.product(*(self.levels[d] for d in self.dims))
        return tuple(k for k in every if k not in self.structural_zeros)

    def value(self, key: Key) -> int:
        return int(self.counts.get(key, 0))


@dataclass(frozen=True)
class Appearance:
    """One place a cell is published: table, row label, column label (TOTAL for margins)."""

    table: str
    row: str
    col: str
    coords: Coords
    level: int


@dataclass
class Structure:
    """Everything the optimisation needs: unique cells as sums of finest cells."""

    base_values: np.ndarray
    cells: list[tuple[int, ...]]
    cell_values: np.ndarray
    matrix: sparse.csr_array
    appearances: list[tuple[Appearance, int | None]]
    equations: list[tuple[int, tuple[int, ...]]]
    tables: dict[str, tuple[list[str], list[str]]]


def labels(axis: Axis, cube: CountCube) -> list[str]:
    """Row or column labels in the order of the cube's levels."""
    return list(dict.fromkeys(axis.label_of(v) for v in cube.levels[axis.source]))


def table_buckets(spec: TableSpec, cube: CountCube) -> dict[tuple[str, str], list[int]]:
    """Base indices per (row, col) of the table, margins included when asked."""
    row_axis, col_axis = spec.row_axis, spec.col_axis
    ri = cube.dims.index(row_axis.source)
    ci = None if col_axis is None else cube.dims.index(col_axis.source)
    row_of = {v: row_axis.label_of(v) for v in cube.levels[row_axis.source]}
    col_of = None if col_axis is None else {v: col_axis.label_of(v) for v in cube.levels[col_axis.source]}
    buckets: dict[tuple[str, str], list[int]] = {}
    for b, key in enumerate(cube.base):
        place = (row_of[key[ri]], TOTAL if col_of is None else col_of[key[ci]])
        members = buckets.get(place)
        if members is None:
            buckets[place] = [b]
        else:
            members.append(b)
    if not spec.margins:
        return buckets
    # the margins: unions of the interior cells (each list in ascending base order, as they were built)
    margins: dict[tuple[str, str], list[int]] = {}
    for (r, c), members in buckets.items():
        for place in {(r, TOTAL), (TOTAL, c)} - {(r, c)}:
            margins.setdefault(place, []).extend(members)
    out = {**buckets, **{place: sorted(members) for place, members in margins.items() if place != (TOTAL, TOTAL)}}
    if cube.base:
        out[(TOTAL, TOTAL)] = list(range(len(cube.base)))
    return out


def table_places(spec: TableSpec, cube: CountCube) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Rows, columns and every published (row, col) of a table, in reading order."""
    rows = labels(spec.row_axis, cube)
    cols = [] if spec.col_axis is None else labels(spec.col_axis, cube)
    row_keys = rows + ([TOTAL] if spec.margins else [])
    col_keys = (cols + ([TOTAL] if spec.margins else [])) if cols else [TOTAL]
    return rows, cols, [(r, c) for r in row_keys for c in col_keys]


def coords_of(spec: TableSpec, cube: CountCube, row: str, col: str) -> Coords:
    """Where a cell sits, by dimension name; cube dimensions the table sums over read TOTAL."""
    named = {spec.row_axis.name: row}
    if spec.col_axis is not None:
        named[spec.col_axis.name] = col
    used = {spec.row_axis.source} | ({spec.col_axis.source} if spec.col_axis else set())
    named.update({d: TOTAL for d in cube.dims if d not in used and d not in named})
    return tuple(sorted(named.items()))


def table_equations(spec: TableSpec, rows: list[str], cols: list[str]) -> list[tuple[tuple[str, str], list[tuple[str, str]]]]:
    """Additivity of a table with margins: each total is the sum of its parts."""
    if not spec.margins:
        return []
    if not cols:
        return [((TOTAL, TOTAL), [(r, TOTAL) for r in rows])]
    eqs = [((r, TOTAL), [(r, c) for c in cols]) for r in rows]
    eqs += [((TOTAL, c), [(r, c) for r in rows]) for c in cols]
    eqs += [((TOTAL, TOTAL), [(r, TOTAL) for r in rows]), ((TOTAL, TOTAL), [(TOTAL, c) for c in cols])]
    return eqs


def build_structure(cube: CountCube, specs: Iterable[TableSpec]) -> Structure:
    """Unique cells, their finest-cell sums and where each one is published."""
    specs = list(specs)
    if len({s.name for s in specs}) != len(specs):
        raise ValueError("table names must be distinct")
    index: dict[tuple[int, ...], int] = {}
    appearances: list[tuple[Appearance, int | None]] = []
    equations: set[tuple[int, tuple[int, ...]]] = set()
    tables: dict[str, tuple[list[str], list[str]]] = {}
    for spec in specs:
        buckets = table_buckets(spec, cube)
        rows, cols, places = table_places(spec, cube)
        tables[spec.name] = (rows, cols)
        where: dict[tuple[str, str], int | None] = {}
        for row, col in places:
            members = tuple(buckets.get((row, col), ()))
            where[(row, col)] = index.setdefault(members, len(index)) if members else None
            level = (row == TOTAL) + (col == TOTAL and bool(cols))
            appearances.append((Appearance(spec.name, row, col, coords_of(spec, cube, row, col), level),
                                where[(row, col)]))
        equations |= _cell_equations(spec, rows, cols, where)
    cells = sorted(index, key=index.__getitem__)
    values = np.array([cube.value(k) for k in cube.base], dtype=float)
    cells, base_values = merge_alike(cells, values)
    matrix = _matrix(cells, len(base_values))
    return Structure(base_values, cells, _cell_values(matrix, base_values), matrix,
                     appearances, sorted(equations), tables)


def merge_alike(cells: list[tuple[int, ...]], values: np.ndarray) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Merge finest cells that lie in exactly the same published cells.

    No published figure tells them apart, so only their sum matters (a non-negative sum
    splits into non-negative parts): the same attacker, fewer unknowns. Finest cells in
    no published cell drop out.
    """
    signature: dict[int, list[int]] = {}
    for c, members in enumerate(cells):
        for b in members:
            signature.setdefault(b, []).append(c)
    groups: dict[tuple[int, ...], list[int]] = {}
    for b in sorted(signature):
        groups.setdefault(tuple(signature[b]), []).append(b)
    merged = list(groups.values())
    new_index = {b: g for g, members in enumerate(merged) for b in members}
    new_cells = [tuple(sorted({new_index[b] for b in members})) for members in cells]
    # sums of whole counts: exact in floating point, whatever the order of addition
    members = np.fromiter(new_index, dtype=np.intp, count=len(new_index))
    group_of = np.fromiter(new_index.values(), dtype=np.intp, count=len(new_index))
    return new_cells, np.bincount(group_of, weights=values[members], minlength=len(merged)).astype(float)


def _cell_equations(spec: TableSpec, rows: list[str], cols: list[str],
                    where: Mapping[tuple[str, str], int | None]) -> set[tuple[int, tuple[int, ...]]]:
    found = set()
    for total, parts in table_equations(spec, rows, cols):
        t = where[total]
        p = tuple(sorted({where[x] for x in parts if where[x] is not None}))
        if t is not None and t not in p and len(p) >= 2:
            found.add((t, p))
    return found


def _cell_values(matrix: sparse.csr_array, base_values: np.ndarray) -> np.ndarray:
    """Each cell's sum of its finest cells (whole counts: exact in floating point)."""
    return np.asarray(matrix @ base_values, dtype=float)


def _matrix(cells: list[tuple[int, ...]], n_base: int) -> sparse.csr_array:
    rows = [i for i, c in enumerate(cells) for _ in c]
    cols = [b for c in cells for b in c]
    return sparse.csr_array((np.ones(len(cols)), (rows, cols)), shape=(len(cells), n_base))
