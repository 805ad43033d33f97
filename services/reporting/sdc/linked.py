"""One protected release per population and calendar year, read by every report of it.

A reader combines every report they can get: months, quarters and the year, the region
and the projects in it. Protecting report by report lets those reports be subtracted
from one another (a quarter minus two of its months is the third month). Here every
count a report shows is read from one release, protected once over the whole hierarchy
(month ⊂ quarter ⊂ year, project ⊂ region ⊂ Flanders), so any set of reports is a part
of one protected set of linked tables, and showing less never narrows an interval.

The release is built in two layers, each protected with ``protect_tables``:

* the **driver**: region × (month, quarter, year) with the Flanders totals (for project
  staff: their project × (month, quarter, year));
* the **project layer**, above the project only and per calendar year only: per region
  the projects' year totals, with the region's year total as their sum. When the driver
  hides that total, or the layer's own protection would hide it, every project cell of
  the region is hidden: a layer that is hidden as a whole says nothing about its total
  (any non-negative total splits into non-negative parts), so the driver's intervals
  stand; when the total is shown it is a known constant in both layers, so each layer's
  intervals stand on their own.

Zeros are protected like small counts (``show_zeros=False``): a hidden cell may be 0, so
nobody learns that it is at least 1. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.reporting.sdc.policy import CellStatus, DisclosurePolicy, round_to_base
from services.reporting.sdc.release import ProtectedCell, protect_tables
from services.reporting.sdc.tables import TOTAL, Axis, CountCube, TableSpec

# (level, unit, period): level "project" | "region" | "flanders" (unit "*"); period "YYYY-MM", "YYYY-Qn", "YYYY"
Place = tuple[str, str, str]
FLANDERS = ("flanders", "*")


def quarter_of(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def release_policy(policy: DisclosurePolicy) -> DisclosurePolicy:
    """The policy of a release: zeros protected like small counts (with a threshold of 1 nothing is
    small, so nothing is hidden, zeros included)."""
    if not policy.show_zeros or policy.threshold <= 1:
        return policy
    return policy.model_copy(update={"show_zeros": False})


def nothing_hidden(policy: DisclosurePolicy) -> bool:
    """A threshold of 1 protects nothing: every level is released (used to check the counting itself)."""
    return policy.threshold <= 1


def _everything(counts: Mapping[tuple[str, str], int], region_of: Mapping[str, str], periods: Mapping[str, str],
                year: str, policy: DisclosurePolicy, project_staff: bool) -> LinkedRelease:
    """Every place with its count (rounded), for a policy that hides nothing."""
    sums: dict[Place, int] = {}
    for (project, month), n in counts.items():
        units = [("project", project)] if project_staff else [("project", project), ("region", region_of[project]),
                                                              FLANDERS]
        for level, unit in units:
            for period in {month, periods[month], year}:
                sums[(level, unit, period)] = sums.get((level, unit, period), 0) + n
    out = LinkedRelease()
    units = {("project", p) for p in region_of} | (set() if project_staff else
                                                   {("region", r) for r in region_of.values()} | {FLANDERS})
    for level, unit in units:
        for period in (*periods, *set(periods.values()), year):
            n = sums.get((level, unit, period), 0)
            out.cells[(level, unit, period)] = ProtectedCell(
                row=TOTAL, col=TOTAL, value=round_to_base(n, policy.rounding_base), status=CellStatus.shown,
                rounded=policy.rounding_base > 1)
    return out


def protect_every_hidden(cube: CountCube, specs: list[TableSpec], policy: DisclosurePolicy):
    """``protect_tables``, then again with every hidden cell protected like a small one, until stable.

    So a cell hidden only to protect another one cannot be pinned down either.
    """
    release = protect_tables(cube, specs, policy)
    for _ in range(8):
        again = protect_tables(cube, specs, policy, always_suppress=release.pattern)
        if len(again.pattern) == len(release.pattern):
            return again
        release = again
    return release


def withheld(row: str = TOTAL, col: str = TOTAL) -> ProtectedCell:
    """A cell not shown (small, protecting a small one, or not released at this level)."""
    return ProtectedCell(row=row, col=col, value=None, status=CellStatus.forced, rounded=False)


@dataclass
class LinkedRelease:
    """Protected counts of one population by place; a place not in it is not released."""

    cells: dict[Place, ProtectedCell] = field(default_factory=dict)

    def cell(self, place: Place, row: str = TOTAL, col: str = TOTAL) -> ProtectedCell:
        found = self.cells.get(place)
        if found is None:
            return withheld(row, col)
        return found.model_copy(update={"row": row, "col": col})


def protect_periodic(counts: Mapping[tuple[str, str], int], *, months: Iterable[str], region_of: Mapping[str, str],
                     policy: DisclosurePolicy, project_staff: bool) -> LinkedRelease:
    """A population counted per (project, month) over one calendar year.

    ``project_staff``: the counts are one project's, released to its own staff per month,
    quarter and year. Otherwise the counts cover every project of Flanders and are released
    per region and Flanders by month, quarter and year, per project by year.
    """
    policy = release_policy(policy)
    months = tuple(months)
    year = months[0][:4]
    quarters = {m: quarter_of(m) for m in months}
    if nothing_hidden(policy):
        return _everything(counts, region_of, quarters, year, policy, project_staff)
    out = LinkedRelease()
    if project_staff:
        for project in sorted({p for p, _ in counts} | set(region_of)):
            per_month = {(m,): n for (p, m), n in counts.items() if p == project and n}
            cube = CountCube(("month",), per_month, {"month": months})
            release = protect_every_hidden(
                cube, [TableSpec("m", "month"), TableSpec("q", Axis("quarter", "month", quarters))], policy)
            for table in release.tables:
                for c in table.cells:
                    out.cells[("project", project, year if c.row == TOTAL else c.row)] = c
        return out
    regions = tuple(sorted(set(region_of.values())))
    per_region: dict[tuple[str, str], int] = {}
    for (p, m), n in counts.items():
        if n:
            key = (region_of[p], m)
            per_region[key] = per_region.get(key, 0) + n
    cube = CountCube(("region", "month"), per_region, {"region": regions, "month": months})
    driver = protect_every_hidden(cube, [TableSpec("m", "region", "month"),
                                         TableSpec("q", "region", Axis("quarter", "month", quarters))], policy)
    for table in driver.tables:
        for c in table.cells:
            level, unit = ("region", c.row) if c.row != TOTAL else FLANDERS
            out.cells[(level, unit, year if c.col == TOTAL else c.col)] = c
    year_totals = {}
    for (p, _), n in counts.items():
        year_totals[p] = year_totals.get(p, 0) + n
    _project_layer(out, year_totals, region_of, year, policy)
    return out


def protect_period(counts: Mapping[str, int], *, period: str, region_of: Mapping[str, str],
                   policy: DisclosurePolicy, project_staff: bool, projects_released: bool) -> LinkedRelease:
    """A population counted once per project over one release period (e.g. duos running in it).

    Such counts do not add up over periods, so each release period is a release of its own:
    per region and Flanders, and per project when ``projects_released`` (calendar years).
    """
    policy = release_policy(policy)
    if nothing_hidden(policy):
        return _everything({(p, period): n for p, n in counts.items()}, region_of, {period: period}, period, policy,
                           project_staff)
    out = LinkedRelease()
    if project_staff:
        for project in sorted(set(counts) | set(region_of)):
            cube = CountCube(("project",), {(project,): counts.get(project, 0)} if counts.get(project) else {},
                             {"project": (project,)})
            table = protect_tables(cube, [TableSpec("p", "project", margins=False)], policy).tables[0]
            out.cells[("project", project, period)] = table.cells[0]
        return out
    regions = tuple(sorted(set(region_of.values())))
    per_region: dict[tuple[str], int] = {}
    for p, n in counts.items():
        if n:
            per_region[(region_of[p],)] = per_region.get((region_of[p],), 0) + n
    cube = CountCube(("region",), per_region, {"region": regions})
    for c in protect_every_hidden(cube, [TableSpec("r", "region")], policy).tables[0].cells:
        level, unit = ("region", c.row) if c.row != TOTAL else FLANDERS
        out.cells[(level, unit, period)] = c
    if projects_released:
        _project_layer(out, dict(counts), region_of, period, policy)
    return out


def _project_layer(out: LinkedRelease, totals: Mapping[str, int], region_of: Mapping[str, str], period: str,
                   policy: DisclosurePolicy) -> None:
    """Per region its projects' totals for the period, consistent with the driver's region total."""
    for region in sorted(set(region_of.values())):
        projects = tuple(sorted(p for p, r in region_of.items() if r == region))
        anchor = out.cells.get(("region", region, period))
        hidden = [withheld(p) for p in projects]
        if anchor is None or anchor.suppressed:
            cells = hidden
        else:
            cube = CountCube(("project",), {(p,): totals[p] for p in projects if totals.get(p)},
                             {"project": projects})
            table = protect_every_hidden(cube, [TableSpec("p", "project")], policy).tables[0]
            cells = hidden if table.cell(TOTAL).suppressed else [table.cell(p) for p in projects]
        for project, c in zip(projects, cells, strict=True):
            out.cells[("project", project, period)] = c
