"""An intruder who collects every overview one reader can get and combines them with linear programming.

Used by the tests and the benchmark to check the promise of docs/disclosure.md across
reports, not only within one: for a reader (project staff of one project, a coordinator of
one region, the government), every report they may ask for in one calendar year — every
scope they can see (for a coordinator: the region and each of its projects; for the
government: Flanders, every region, every project), every calendar month, quarter and the
year, in every grain the period allows — is built exactly as the service builds it (the
live answer and the published report are the same computation), and every count is read
as the sum it is over a population's finest cells. The intruder then bounds every hidden
count with ``scipy.optimize.linprog`` (HiGHS), knowing:

* the exact value of every shown count (stronger than knowing the rounding rule: every
  shown count lies within ± base/2 of its published value);
* the zero rule: when a release shows zeros, a hidden count is at least 1; releases that
  protect zeros like small counts give nothing of the kind;
* that counts are non-negative.

Finest cells: per population, a count by unit and period sums (project, month) cells over
the calendar year (a count that does not add up over periods, such as duos running, is a
cube per period). A breakdown by attribute (released at the reader's own level for a
calendar year only) shares exactly one number with those counts, its total; given that
number its cells are independent of them (any non-negative split of a total over
attributes can be combined with any split over projects and months), so each breakdown is
attacked on its own cube of attributes with its total as a constraint. Tables without
totals (life domains, running duos per month) are single cells.

A finding is a hidden cell whose interval is narrower than the protection level, or a
small hidden cell (below the threshold) whose upper bound is below the threshold.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from sqlalchemy import Connection

from services.reporting import queries as q
from services.reporting.disclosure import TOTAL, Audience, ProtectedTable
from services.reporting.reports import (
    Built, OverviewParameters, bucket_end, bucket_label, build_overview, months, parse_parameters)

Box = tuple[frozenset[int], ...]  # per dimension of a cube, the finest levels a count sums


@dataclass(frozen=True)
class Reader:
    """Who reads: an audience and the scopes they may open."""

    name: str
    audience: Audience
    scopes: tuple[dict[str, str], ...]  # {} (Flanders), {"region": r} or {"project_id": p}


def readers(conn: Connection) -> list[Reader]:
    """One reader of each kind: staff of the first project, the coordinator of the first region, the government
    (admins and auditors read as the government)."""
    register = q.project_register(conn)
    regions = sorted({p.region for p in register.values()})
    first = sorted(register)[0]
    region = register[first].region
    in_region = sorted(p for p, pr in register.items() if pr.region == region)
    return [
        Reader(f"project staff of {first}", Audience.project, ({"project_id": first},)),
        Reader(f"coordinator of {region}", Audience.coordinator,
               ({"region": region}, *({"project_id": p} for p in in_region))),
        Reader("government (admin, auditor)", Audience.government,
               ({}, *({"region": r} for r in regions), *({"project_id": p} for p in sorted(register)))),
    ]


def periods(year: int) -> Iterator[tuple[date, date, str]]:
    """Every allowed period of a year with every grain it allows."""
    for month in range(1, 13):
        start = date(year, month, 1)
        yield start, bucket_end(start, "month"), "month"
    for quarter in range(4):
        start = date(year, 3 * quarter + 1, 1)
        for grain in ("month", "quarter"):
            yield start, bucket_end(start, "quarter"), grain
    for grain in ("month", "quarter", "year"):
        yield date(year, 1, 1), date(year, 12, 31), grain


def reports(conn: Connection, reader: Reader, year: int, **extra: Any) -> Iterator[Built]:
    for scope in reader.scopes:
        for start, end, grain in periods(year):
            yield build_overview(conn, {"audience": reader.audience, **scope, "period_start": start.isoformat(),
                                        "period_end": end.isoformat(), "grain": grain, **extra})


# --------------------------------------------------------------------------- the linear model
@dataclass
class Cube:
    """Finest cells of one population (or one breakdown): a product of levels per dimension."""

    dims: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    shown: dict[Box, float] = field(default_factory=dict)
    hidden: dict[Box, tuple[str, float]] = field(default_factory=dict)  # box -> (where, true value)
    zeros_shown: bool = False

    def box(self, **wanted: Iterable[str] | None) -> Box:
        out = []
        for dim, levels in zip(self.dims, self.levels, strict=True):
            chosen = wanted.get(dim)
            out.append(frozenset(range(len(levels))) if chosen is None
                       else frozenset(levels.index(v) for v in chosen if v in levels))
        return tuple(out)

    def add(self, box: Box, value: int | None, where: str, true: float) -> None:
        if any(not part for part in box):
            return  # sums nothing (a level not in this cube): 0 for everyone
        if value is None:
            if box not in self.shown:
                self.hidden.setdefault(box, (where, true))
        else:
            self.shown[box] = true
            self.hidden.pop(box, None)


@dataclass
class Finding:
    where: str
    true: float
    low: float
    high: float


@dataclass
class Outcome:
    reader: str
    reports: int
    hidden: int
    narrow: list[Finding]
    provably_small: list[Finding]
    seconds: float
    reports_seconds: float = 0.0
    complete: bool = True  # False: stopped at its time budget before every hidden cell was bounded

    @property
    def safe(self) -> bool:
        return self.complete and not self.narrow and not self.provably_small


def bounds(cube: Cube) -> dict[Box, tuple[float, float]]:
    """Min and max of every hidden box over all finest cells agreeing with what is shown."""
    shape = [len(levels) for levels in cube.levels]
    n = int(np.prod(shape))
    grid = np.arange(n).reshape(shape)

    def members(box: Box) -> np.ndarray:
        return grid[np.ix_(*[sorted(part) for part in box])].ravel()

    if not cube.shown and not cube.zeros_shown:
        return {box: (0.0, np.inf) for box in cube.hidden}  # nothing shown: nothing bounds a hidden count
    shown = list(cube.shown.items())
    rows = [members(b) for b, _ in shown]
    a_eq = sparse.csr_array((np.ones(sum(len(r) for r in rows)),
                             (np.repeat(np.arange(len(rows)), [len(r) for r in rows]),
                              np.concatenate(rows) if rows else np.zeros(0, dtype=int))), shape=(len(rows), n))
    b_eq = np.array([v for _, v in shown])
    hidden = list(cube.hidden)
    # the zero rule: where zeros are shown, a hidden count is at least 1
    a_ub = b_ub = None
    if cube.zeros_shown and hidden:
        hrows = [members(b) for b in hidden]
        a_ub = -sparse.csr_array((np.ones(sum(len(r) for r in hrows)),
                                  (np.repeat(np.arange(len(hrows)), [len(r) for r in hrows]), np.concatenate(hrows))),
                                 shape=(len(hrows), n))
        b_ub = -np.ones(len(hrows))
    out = {}
    for box in hidden:
        objective = np.zeros(n)
        objective[members(box)] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq if len(shown) else None,
                          b_eq=b_eq if len(shown) else None, bounds=(0, None), method="highs")
            if res.status == 3:
                ends.append(np.inf)
            elif res.status != 0:
                raise RuntimeError(f"intruder LP failed: {res.message}")
            else:
                ends.append(sign * res.fun)
        out[box] = (ends[0], ends[1])
    return out


# --------------------------------------------------------------------------- from reports to cubes
class Collector:
    """Reads every count of every report into the cubes of its populations."""

    def __init__(self, conn: Connection, year: int) -> None:
        self.conn, self.year = conn, year
        self.register = q.project_register(conn)
        self.region_of = {p: pr.region for p, pr in self.register.items()}
        self.cubes: dict[str, Cube] = {}
        self.truth: dict[str, dict[tuple[str, ...], int]] = {}  # population cube key -> finest counts
        self.reports = 0

    def _cube(self, key: str, dims: tuple[str, ...], levels: tuple[tuple[str, ...], ...], counts: dict,
              zeros_shown: bool) -> Cube:
        cube = self.cubes.get(key)
        if cube is None:
            cube = self.cubes[key] = Cube(dims, levels, zeros_shown=zeros_shown)
            self.truth[key] = counts
        return cube

    def true(self, key: str, cube: Cube, box: Box) -> float:
        counts = self.truth[key]
        total = 0
        for k, n in counts.items():
            if all(lv in cube.levels[i] and cube.levels[i].index(lv) in box[i] for i, lv in enumerate(k)):
                total += n
        return float(total)

    def read(self, built: Built, label: str) -> None:
        self.reports += 1
        doc = built.document
        p: OverviewParameters = parse_parameters({k: v for k, v in _params(doc).items()})
        zeros_shown = built.policy.show_zeros
        scope_projects = self._projects(doc.scope)
        period_months = months(p.period_start, p.period_end)
        for code, prot in built.protected.items():
            pop = prot.population
            if pop.periodic:
                key = f"{code}"
                year_months = tuple(months(date(self.year, 1, 1), date(self.year, 12, 31)))
                cube = self._cube(key, ("project", "month"), (tuple(sorted(self.region_of)), year_months),
                                  self._finest(code, pop, periodic=True, p=p), zeros_shown)
            else:
                key = f"{code}@{p.period_start}..{p.period_end}"
                cube = self._cube(key, ("project",), (tuple(sorted(self.region_of)),),
                                  self._finest(code, pop, periodic=False, p=p), zeros_shown)
            for name, table in prot.tables.items():
                if name.startswith("main/"):
                    self._main(key, cube, table, built, scope_projects, period_months, pop.periodic, label)
                else:
                    self._side(f"{key}|{name.split('/')[0]}|{sorted(doc.scope.items())}|{p.period_start}|{p.period_end}",
                               prot, name, table, zeros_shown, label)
        for code, (side_cube, table) in built.independent.items():
            for cell in table.cells:  # no totals: each cell stands alone
                if cell.suppressed:
                    value = sum(side_cube.value((lv,)) for lv in side_cube.levels[side_cube.dims[0]] if lv == cell.row)
                    one = self._cube(f"{code}|{cell.row}|{doc.scope}|{p.period_start}..{p.period_end}|{p.grain}",
                                     ("x",), (("x",),),
                                     {("x",): value}, zeros_shown)
                    one.add((frozenset({0}),), None, f"{label} {code} {cell.row}", float(value))

    def _projects(self, scope: dict[str, str]) -> list[str]:
        if scope.get("level") == "project":
            return [scope["project"]]
        if scope.get("level") == "region":
            return [p for p, r in self.region_of.items() if r == scope["region"]]
        return list(self.region_of)

    def _finest(self, code: str, pop: Any, *, periodic: bool, p: OverviewParameters) -> dict:
        """The population's true finest counts: a report over all of Flanders, collected per project and month."""
        from services.reporting.reports import _collect_populations

        start, end = (date(self.year, 1, 1), date(self.year, 12, 31)) if periodic else (p.period_start, p.period_end)
        key = (start, end)
        cache = getattr(self, "_populations", {})
        if key not in cache:
            cache[key] = _collect_populations(self.conn, p, start, end, dict(self.region_of), False)
            self._populations = cache
        counts: dict[tuple[str, ...], int] = defaultdict(int)
        for k, n in cache[key][code].counts.items():
            counts[(k[0], k[1]) if periodic else (k[0],)] += n
        return dict(counts)

    def _main(self, key: str, cube: Cube, table: ProtectedTable, built: Built, scope_projects: list[str],
              period_months: list[str], periodic: bool, label: str) -> None:
        for cell in table.cells:
            projects, month_set = scope_projects, period_months
            if table.name == "by_unit" and cell.row != TOTAL:
                projects = [cell.row] if built.unit_dim == "project" else [
                    p for p in scope_projects if self.region_of[p] == cell.row]
            if table.name == "by_period" and cell.row != TOTAL:
                month_set = [m for m in period_months if bucket_label(m, built.period_dim) == cell.row]  # type: ignore[arg-type]
            box = cube.box(project=projects, month=month_set) if periodic else cube.box(project=projects)
            cube.add(box, cell.value, f"{label} {key} {table.name} {cell.row}",
                     self.true(key, cube, box) if cell.value is None else self.true(key, cube, box))

    def _side(self, key: str, prot: Any, name: str, table: ProtectedTable, zeros_shown: bool, label: str) -> None:
        side_cube = prot.cubes[name.split("/")[0]]
        dims = side_cube.dims
        levels = tuple(tuple(side_cube.levels[d]) for d in dims)
        counts = {k: side_cube.value(k) for k in side_cube.base}
        cube = self._cube(key, dims, levels, counts, zeros_shown)
        row_axis, col_axis = table.rows_axis.axis(), table.cols_axis.axis() if table.cols_axis else None
        for cell in table.cells:
            wanted: dict[str, list[str] | None] = {d: None for d in dims}
            for axis, label_ in ((row_axis, cell.row), (col_axis, cell.col)):
                if axis is None or label_ == TOTAL:
                    continue
                wanted[axis.source] = [v for v in side_cube.levels[axis.source] if axis.label_of(v) == label_]
            box = cube.box(**wanted)
            cube.add(box, cell.value, f"{label} {key} {table.name} {cell.row}/{cell.col}", self.true(key, cube, box))


def _params(doc: Any) -> dict[str, Any]:
    scope = doc.scope
    out: dict[str, Any] = {"audience": doc.audience, "period_start": doc.period.start, "period_end": doc.period.end,
                           "grain": doc.period.grain, "basis": doc.basis}
    if scope.get("level") == "region":
        out["region"] = scope["region"]
    if scope.get("level") == "project":
        out["project_id"] = scope["project"]
    return out


def attack(conn: Connection, reader: Reader, year: int, *, threshold: int = 10, protection: int = 10,
           budget_s: float | None = None) -> Outcome:
    """Every report of ``reader`` for ``year``, combined: the hidden cells the intruder narrows.

    ``budget_s``: stop bounding after so many seconds (``Outcome.complete`` then says so)."""
    started = time.perf_counter()
    collector = Collector(conn, year)
    for built in reports(conn, reader, year):
        collector.read(built, reader.name)
    built_in = time.perf_counter() - started
    narrow, small, hidden = [], [], 0
    complete = True
    for cube in collector.cubes.values():
        if not cube.hidden:
            continue
        if budget_s is not None and time.perf_counter() - started > budget_s:
            complete = False
            break
        for box, (low, high) in bounds(cube).items():
            where, true = cube.hidden[box]
            hidden += 1
            if high - low < protection - 1e-6:
                narrow.append(Finding(where, true, low, high))
            if 0 < true < threshold and high < threshold - 1e-6:
                small.append(Finding(where, true, low, high))
    return Outcome(reader.name, collector.reports, hidden, narrow, small, time.perf_counter() - started, built_in,
                   complete)
