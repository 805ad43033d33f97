"""Report kinds: how a report's content is computed from the projections and its parameters.

Content depends only on the projections and the parameters (the disclosure policy and the
previous period's suppression pattern included), never on the clock, so a rebuild to the
same watermark reproduces it exactly.

``compute(conn, kind, parameters)`` returns the content as plain JSON data; for
``overview`` that is a ``ReportDocument`` (``model_dump(mode="json")``), the published form
every output renders.

How the overview protects its figures (see docs/indicators.md and docs/disclosure.md):

* every indicator counts one **population** (e.g. duos started in the period); its
  breakdowns are tables over small cubes: by unit and by period (one cube, linked through
  their common total), and one cube per attribute (target group, reason, ...). The cubes
  of a population share exactly one number, the population total, so they are protected
  apart while the total is shown everywhere; when it is hidden anywhere, every non-zero
  cell of the population is hidden (nothing then bounds a hidden cell from above);
* attributes a fact can have several of (life domains, activities, themes) are tables
  without totals;
* the journey tables (funnels) only repeat population totals with their decisions;
* a statistic is withheld over too few units, and a ratio or percentage also when its
  numerator or denominator is hidden in a table;
* the previous period's pattern (``previous_pattern``) makes the same cells cheaper to hide.
"""

from __future__ import annotations

import gc
import math
import threading
import statistics
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select

from shared.contracts.common import Day, Id, Line
from shared.eventstore.tables import consumer_checkpoints
from shared.domain import InvalidInput, NotFound
from services.reporting import indicators as cat
from services.reporting import queries as q
from services.reporting.disclosure import (
    STATISTIC_REASON_LABELS, TOTAL, Audience, Axis, CellStatus, CountCube, DisclosurePolicy, Message, ProtectedCell,
    ProtectedRelease, ProtectedTable, StatisticReason, Suggestion, TableSpec, protect, protect_share,
    protect_statistic, protect_tables)
from services.reporting.document import Period, ReportDocument, Section, StatisticView, TableView, Text
from services.reporting.sdc.linked import (
    LinkedRelease, nothing_hidden, protect_period, protect_periodic, release_policy, withheld)
from services.reporting.sdc.release import AxisInfo, coarser_suggestion
from services.reporting.sdc.tables import table_places

Grain = Literal["month", "quarter", "year"]
MONTH_DAYS = 30.44


# --------------------------------------------------------------------------- the project summary (kept as is)
def project_summary(conn: Connection, parameters: dict[str, Any]) -> dict[str, Any]:
    project_id = parameters["project_id"]
    region = q.project_region(conn, project_id)
    if region is None:
        raise NotFound("Project", "Project", project_id)
    threshold, base = parameters["threshold"], parameters["rounding_base"]
    return {
        "project_id": project_id,
        "region": region,
        "disclosure": {"threshold": threshold, "rounding_base": base},
        "figures": {
            name: {"label": q.INDICATORS[name], **protect(value, threshold=threshold, base=base).model_dump()}
            for name, value in q.project_counts(conn, project_id).items()
        },
    }


# --------------------------------------------------------------------------- overview parameters
class OverviewParameters(BaseModel):
    """What an overview report is about. Stored with the report, so it can be recomputed."""

    model_config = ConfigDict(extra="forbid")

    audience: Audience = Field(description="government: all of Flanders by region; coordinator: one region by "
                                           "project; project: one project.")
    region: Line | None = Field(None, min_length=1, max_length=100,
                                description="Narrow to one region (learning network); rows are its projects.")
    project_id: Id | None = Field(None, description="Narrow to one project.")
    period_start: Day = Field(description="First day of the first month, quarter or year.")
    period_end: Day = Field(description="Last day of the last month, quarter or year.")
    grain: Grain = "month"
    basis: Literal["occurred", "recorded"] = Field(
        "occurred", description="occurred: facts in the period they happened; recorded: in the period they were "
                                "recorded.")
    as_known_on: date | None = Field(
        None, description="Computed from the events recorded up to and including this day only (the caller "
                          "rebuilds the projections to that watermark first; see services.reporting.as_known_on).")
    threshold: int | None = Field(None, ge=1, description="Overrides the audience's threshold (and the minimum "
                                                          "number of units for statistics): the service's setting.")
    rounding_base: int | None = Field(None, ge=1, description="Overrides the rounding base of the government and "
                                                              "coordinator audiences (project staff keep 1).")
    disclosure: DisclosurePolicy | None = Field(None, description="The complete policy; wins over threshold and "
                                                                  "rounding_base. Default: the audience's settings.")
    previous_pattern: dict[str, list[dict[str, str]]] = Field(
        default_factory=dict, description="The previous period's suppression pattern, in this period's labels.")
    previous_report_id: str | None = None

    def check(self) -> "OverviewParameters":
        """What the fields cannot check alone; raises ``InvalidInput`` naming the field (HTTP 422)."""
        def bad(field: str, nl: str, en: str) -> InvalidInput:
            return InvalidInput(f"Ongeldige parameter {field}: {nl} / Invalid parameter {field}: {en}", field=field)

        # Only whole calendar periods are released (docs/disclosure.md): reports on periods that
        # overlap or differ by a day could be subtracted from one another.
        calendar_nl = ("een rapport gaat over één kalendermaand, één kwartaal of één kalenderjaar, van de eerste "
                       "tot de laatste dag, ingedeeld per maand, kwartaal of jaar (niet grover dan de periode)")
        calendar_en = ("a report covers one calendar month, quarter or year, from its first to its last day, "
                       "broken down by month, quarter or year (no coarser than the period)")
        if self.period_start != bucket_start(self.period_start, self.grain):
            raise bad("period_start", calendar_nl, calendar_en)
        if self.period_end < self.period_start:
            raise bad("period_end", "ligt voor period_start", "lies before period_start")
        if release_period(self.period_start, self.period_end, self.grain) is None:
            raise bad("period_end", calendar_nl, calendar_en)
        if self.audience is Audience.project and self.project_id is None:
            raise bad("project_id", "nodig voor een rapport voor projectmedewerkers",
                      "needed for a report for project staff")
        if self.audience is Audience.coordinator and self.project_id is None and self.region is None:
            raise bad("region", "nodig voor een rapport voor een coördinator (of een project_id)",
                      "needed for a report for a coordinator (or a project_id)")
        return self

    def policy(self) -> DisclosurePolicy:
        if self.disclosure is not None:
            return self.disclosure
        defaults = DisclosurePolicy.for_audience(self.audience)
        threshold = self.threshold or defaults.threshold
        base = defaults.rounding_base if self.audience is Audience.project or self.rounding_base is None \
            else self.rounding_base
        return DisclosurePolicy.for_audience(self.audience, threshold=threshold, min_units_for_statistics=threshold,
                                             rounding_base=min(base, threshold))


def parse_parameters(parameters: dict[str, Any]) -> OverviewParameters:
    try:
        return OverviewParameters.model_validate(parameters).check()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "parameters"
        raise InvalidInput(f"Ongeldige parameter {where} / Invalid parameter {where}: {err['msg']}",
                           field=where) from None


# --------------------------------------------------------------------------- calendar
def bucket_start(day: date, grain: Grain) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def bucket_end(day: date, grain: Grain) -> date:
    start = bucket_start(day, grain)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1) - timedelta(days=1)


GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")


def release_period(start: date, end: date, grain: Grain) -> Grain | None:
    """The calendar period a report covers (month, quarter or year, no finer than its grain), else None.

    Only whole calendar periods are released: reports on overlapping or shifted periods
    could be subtracted from one another (see docs/disclosure.md).
    """
    for period in GRAINS[GRAINS.index(grain):]:
        if start == bucket_start(start, period) and end == bucket_end(start, period):
            return period
    return None


def calendar_period(start: date, end: date, grain: Grain) -> tuple[date, date] | None:
    """The smallest calendar month, quarter or year (no finer than ``grain``) holding both days; None
    across years."""
    if start.year != end.year:
        return None
    for period in GRAINS[GRAINS.index(grain):]:
        if bucket_start(start, period) == bucket_start(end, period):
            return bucket_start(start, period), bucket_end(start, period)
    return None


def bucket_label(month: str, grain: Grain) -> str:
    """The bucket of a month ``YYYY-MM``: ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``."""
    if grain == "month":
        return month
    if grain == "quarter":
        return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"
    return month[:4]


def months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def buckets(start: date, end: date, grain: Grain) -> list[str]:
    return list(dict.fromkeys(bucket_label(m, grain) for m in months(start, end)))


def month_bounds(month: str) -> tuple[str, str]:
    first = date.fromisoformat(f"{month}-01")
    return first.isoformat(), bucket_end(first, "month").isoformat()


# --------------------------------------------------------------------------- scope
@dataclass
class Scope:
    level: Literal["flanders", "region", "project"]
    unit_dim: str | None  # "region" or "project"; None for one project
    unit_of: dict[str, str]  # project -> unit, for the projects in scope
    units: list[str]
    unit_labels: dict[str, Text]
    keys: dict[str, str]
    label: Text


def region_label(region: str) -> Text:
    name = "-".join(w.capitalize() for w in region.split("-"))
    return Text(nl=name, en=name)


def resolve_scope(conn: Connection, p: OverviewParameters) -> Scope:
    register = q.project_register(conn)
    if p.project_id is not None:
        project = register.get(p.project_id)
        if project is None:
            raise NotFound("Project", "Project", p.project_id)
        if p.region is not None and p.region != project.region:
            raise InvalidInput(f"Project {p.project_id} ligt niet in regio {p.region} / "
                               f"project {p.project_id} is not in region {p.region}", field="region")
        return Scope("project", None, {project.project_id: project.project_id}, [project.project_id],
                     {project.project_id: Text(nl=project.title, en=project.title)},
                     {"level": "project", "region": project.region, "project": project.project_id},
                     Text(nl=f"Project {project.title}", en=f"Project {project.title}"))
    if p.region is not None:
        inside = {pid: pr for pid, pr in register.items() if pr.region == p.region}
        if not inside:
            raise NotFound("Regio", "Region", p.region)
        label = region_label(p.region)
        return Scope("region", "project", {pid: pid for pid in inside}, sorted(inside),
                     {pid: Text(nl=pr.title, en=pr.title) for pid, pr in inside.items()},
                     {"level": "region", "region": p.region},
                     Text(nl=f"Regio {label.nl}", en=f"Region {label.en}"))
    units = sorted({pr.region for pr in register.values()})
    return Scope("flanders", "region", {pid: pr.region for pid, pr in register.items()}, units,
                 {u: region_label(u) for u in units}, {"level": "flanders"},
                 Text(nl="Heel Vlaanderen", en="All of Flanders"))


# --------------------------------------------------------------------------- populations
@dataclass(frozen=True)
class Side:
    """A breakdown of a population: a cube over some of its attributes and the tables on it."""

    name: str
    dims: tuple[str, ...]
    specs: tuple[TableSpec, ...]
    chart: str = "bar"


@dataclass
class Population:
    """One indicator's group: facts keyed (unit, bucket, *attributes)."""

    code: str
    attrs: tuple[str, ...]
    levels: dict[str, list[str]]
    counts: Counter[tuple[str, ...]]
    sides: tuple[Side, ...] = ()
    periodic: bool = True

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Protected:
    """A population's tables after protection, with what an attacker test needs."""

    population: Population
    cubes: dict[str, CountCube]
    releases: dict[str, ProtectedRelease]
    tables: dict[str, ProtectedTable]  # by "<cube>/<table>", as published
    hidden_everything: bool

    def total_cell(self) -> ProtectedCell:
        table = self.tables.get("main/by_period") or self.tables["main/by_unit"]
        return table.cell(TOTAL, TOTAL)

    def joint_cube(self, unit_dim: str, period_dim: str) -> CountCube:
        """All of the population's dimensions at once: the finest cells an attacker reasons about."""
        pop = self.population
        dims = (unit_dim, period_dim, *pop.attrs) if pop.periodic else (unit_dim, *pop.attrs)
        levels = {unit_dim: tuple(pop.levels["unit"]), **{a: tuple(pop.levels[a]) for a in pop.attrs}}
        if pop.periodic:
            levels[period_dim] = tuple(pop.levels["period"])
        counts = dict(pop.counts) if pop.periodic else {(k[0], *k[2:]): v for k, v in pop.counts.items()}
        return CountCube(dims, counts, levels)


class Builder:
    """Protects populations for one report and assembles the document's sections."""

    def __init__(self, p: OverviewParameters, scope: Scope, window: q.Window) -> None:
        self.p, self.scope, self.window = p, scope, window
        self.policy = release_policy(p.policy())
        self.grain: Grain = p.grain
        self.months = months(p.period_start, p.period_end)
        self.buckets = buckets(p.period_start, p.period_end, p.grain)
        self.bucket_of = {m: bucket_label(m, p.grain) for m in self.months}
        self.unit_dim = scope.unit_dim or "project"
        self.multi = scope.unit_dim is not None
        self.protected: dict[str, Protected] = {}
        self.pattern: dict[str, list[dict[str, str]]] = {}
        self.notes: list[Message] = []
        self.suggestions: list[Suggestion] = []
        self.duo_months: dict[str, int] = {k: 0 for k in self.buckets}  # duos running per month, summed per bucket
        self.running: dict[str, set[str]] = {k: set() for k in self.buckets}  # duos running in each bucket
        self.series_tables: dict[str, ProtectedTable] = {}
        self.independent: dict[str, tuple[CountCube, ProtectedTable]] = {}  # tables without totals, with their cube
        # the consistent releases the counts are read from (see sdc/linked.py), by population
        self.release: dict[str, LinkedRelease] = {}
        self.collected: dict[str, Population] | None = None  # a collecting pass: populations only
        period = release_period(p.period_start, p.period_end, p.grain) or "year"
        self.period_key = bucket_label(p.period_start.isoformat()[:7], period)
        self.scope_place: tuple[str, str] = {
            "flanders": ("flanders", "*"), "region": ("region", scope.keys.get("region", "")),
            "project": ("project", scope.keys.get("project", ""))}[scope.level]
        self.unit_level = scope.unit_dim or "project"
        top = {Audience.project: "project", Audience.coordinator: "region", Audience.government: "flanders"}
        # breakdowns (attributes, mentions, series) only at the reader's own level, per calendar year
        self.breakdowns = (period == "year" and scope.level == top[p.audience]) or nothing_hidden(self.policy)

    # ----------------------------------------------------------------- facts → populations
    def place(self, project: str, month: str) -> tuple[str, str] | None:
        unit = self.scope.unit_of.get(project)
        bucket = self.bucket_of.get(month)
        return None if unit is None or bucket is None else (unit, bucket)

    def locate(self, f: q.Fact) -> tuple[str, str] | None:
        """The (unit, bucket) of a fact, whether the database placed it already or not."""
        if f.placed:
            return None if f.project is None or f.month is None else (f.project, f.month)
        return self.place(f.project, f.month)

    def population(self, code: str, facts: Iterable[q.Fact], attrs: Sequence[str] = (),
                   vocab: Sequence[str | None] = (), sides: Sequence[Side] = (), *,
                   pick: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None) -> Population:
        counts: Counter[tuple[str, ...]] = Counter()
        for f in facts:
            where = self.locate(f)
            if where is None:
                continue
            values = pick(f.attrs) if pick else f.attrs
            counts[(*where, *values)] += f.n
        levels = {"unit": list(self.scope.units), "period": list(self.buckets)}
        for i, (attr, name) in enumerate(zip(attrs, vocab or attrs, strict=True)):
            known = list(cat.VOCABULARIES[name or attr])
            seen = {k[2 + i] for k in counts}
            levels[attr] = [c for c in known if c != cat.UNKNOWN or c in seen] + sorted(seen - set(known))
        return Population(code, tuple(attrs), levels, counts, tuple(sides))

    # ----------------------------------------------------------------- protection
    def protect(self, pop: Population) -> Protected:
        """The population's tables, their counts read from its consistent release.

        Counts by unit and by period come from the release (``self.release``); the
        breakdowns by attribute only at the reader's own level for a calendar year, where
        they share one number with the release, the total: when it is hidden, so is every
        cell of the breakdowns. Elsewhere they are withheld.
        """
        if self.collected is not None:
            self.collected[pop.code] = pop
        release = self.release.get(pop.code) or LinkedRelease()
        scope = self.scope_place
        total = release.cell((*scope, self.period_key))
        tables: dict[str, ProtectedTable] = {}
        cubes: dict[str, CountCube] = {}
        if pop.periodic:
            if self.multi:
                tables["main/by_unit"] = self._read("by_unit", self.unit_dim, pop.levels["unit"], total, [
                    release.cell((self.unit_level, u, self.period_key), u) for u in pop.levels["unit"]])
            tables["main/by_period"] = self._read("by_period", self.grain, pop.levels["period"], total, [
                release.cell((*scope, b), b) for b in pop.levels["period"]])
        else:
            tables["main/by_unit"] = self._read("by_unit", self.unit_dim, pop.levels["unit"], total, [
                release.cell((self.unit_level, u, self.period_key), u) for u in pop.levels["unit"]]
                if self.multi else [])
        self.pattern[f"{pop.code}/main"] = [
            {t.rows_axis.name: c.row} for t in tables.values() for c in t.cells if c.suppressed and c.row != TOTAL]
        releases: dict[str, ProtectedRelease] = {}
        hide_all = total.suppressed
        for side in pop.sides:
            positions = [2 + pop.attrs.index(d) for d in side.dims]
            cube = CountCube(side.dims, _marginal(pop.counts, positions), {d: tuple(pop.levels[d]) for d in side.dims})
            cubes[side.name] = cube
            if self.breakdowns and self.collected is None:
                key = f"{pop.code}/{side.name}"
                # no preference for last period's pattern: the same table gets the same protection in
                # every report (live or published), so two versions cannot be compared
                got = protect_tables(cube, side.specs, self.policy)
                releases[side.name] = got
                self.pattern[key] = got.pattern
                self._collect([got])
                side_tables = got.tables
                if hide_all or any(t.cell(TOTAL, TOTAL).suppressed for t in side_tables if t.margins):
                    side_tables = [_withhold(t, self.policy, total) for t in side_tables]
            else:
                side_tables = [_withheld_table(spec, cube, self.policy, total) for spec in side.specs]
            for table in side_tables:
                tables[f"{side.name}/{table.name}"] = table
        for table in tables.values():
            if table.hidden:
                self._note_hidden()
        result = Protected(pop, cubes, releases, tables, hide_all)
        self.protected[pop.code] = result
        return result

    def _read(self, name: str, dim: str, rows: list[str], total: ProtectedCell,
              cells: list[ProtectedCell]) -> ProtectedTable:
        """A one-way table (rows and their total) of cells read from a release."""
        cells = [*cells, total.model_copy(update={"row": TOTAL, "col": TOTAL})]
        return _table_of(name, AxisInfo(name=dim, source=dim), None, True, rows if len(cells) > 1 else [], [],
                         cells, self.policy)

    def _note_hidden(self) -> None:
        note = Message(
            code="suppressed",
            nl=f"Aantallen van 0 tot {self.policy.threshold - 1} zijn verborgen, en ook de cellen waarmee ze uit "
               f"andere cijfers terug te rekenen zouden zijn, in dit en elk ander rapport.",
            en=f"Counts from 0 to {self.policy.threshold - 1} are hidden, and so are the cells that would let them "
               f"be recomputed from other figures, in this and every other report.")
        if all(n.code != note.code for n in self.notes):
            self.notes.insert(0, note)

    def mentions(self, code: str, dim: str, counter: Counter[str], vocab: str | None = None) -> ProtectedTable:
        """A breakdown where a fact can count in several rows: no totals, each row on its own."""
        levels = list(cat.VOCABULARIES[vocab or dim])
        levels += sorted(set(counter) - set(levels))
        cube = CountCube((dim,), {(k,): v for k, v in counter.items()}, {dim: tuple(levels)})
        key = f"{code}/mentions"
        spec = TableSpec("mentions", dim, None, margins=False)
        if not self.breakdowns or self.collected is not None:
            table = _withheld_table(spec, cube, self.policy)
            self.independent[code] = (cube, table)
            return table
        release = protect_tables(cube, [spec], self.policy)
        self.pattern[key] = release.pattern
        self._collect([release])
        self.independent[code] = (cube, release.tables[0])
        return release.tables[0]

    def series(self, code: str, values: dict[str, int]) -> ProtectedTable:
        """Per period, a count of its own (a duo counts in every period it ran): no totals."""
        cube = CountCube((self.grain,), {(b,): v for b, v in values.items()}, {self.grain: tuple(self.buckets)})
        key = f"{code}/series"
        spec = TableSpec("series", self.grain, None, margins=False)
        if not self.breakdowns or self.collected is not None:
            table = _withheld_table(spec, cube, self.policy)
            self.independent[code] = (cube, table)
            return table
        release = protect_tables(cube, [spec], self.policy)
        self.pattern[key] = release.pattern
        self._collect([release])
        self.independent[code] = (cube, release.tables[0])
        return release.tables[0]

    def _collect(self, releases: Iterable[ProtectedRelease]) -> None:
        for release in releases:
            for note in release.notes:
                if all(n.code != note.code for n in self.notes):
                    self.notes.append(note)
            for s in release.suggestions:
                if all((x.dimension, x.coarser) != (s.dimension, s.coarser) for x in self.suggestions):
                    self.suggestions.append(s)

    # ----------------------------------------------------------------- views
    def labels_of(self, dim: str, keys: Iterable[str]) -> dict[str, Text]:
        if dim in ("project", "region") and dim == self.unit_dim:
            return {k: self.scope.unit_labels.get(k, Text(nl=k, en=k)) for k in keys}
        if dim in cat.VOCABULARIES:
            return {k: cat.label(dim, k) for k in keys}
        return {}

    def view(self, code: str, table: ProtectedTable, *, chart: str = "bar", title: Text | None = None,
             row_vocab: str | None = None, col_vocab: str | None = None) -> TableView:
        ind = cat.indicator(code)
        rows_dim = row_vocab or table.rows_axis.name
        cols_dim = col_vocab or (table.cols_axis.name if table.cols_axis else None)
        return TableView(
            indicator=code, title=title or ind.title, unit=ind.unit, table=published(table),
            row_labels=self.labels_of(rows_dim, table.rows),
            col_labels={} if cols_dim is None else self.labels_of(cols_dim, table.cols),
            chart=chart)  # type: ignore[arg-type]

    def by(self, code: str, what: Text | None = None) -> Text:
        ind = cat.indicator(code)
        if what is None:
            return ind.title
        return Text(nl=f"{ind.title.nl} per {what.nl}", en=f"{ind.title.en} by {what.en}")

    def population_views(self, code: str, side_titles: dict[str, tuple[str, str | None]] | None = None
                         ) -> list[TableView]:
        """The tables of a protected population: by unit, by period, then each breakdown."""
        prot = self.protected[code]
        views = []
        dims = cat.DIMENSIONS
        if "main/by_unit" in prot.tables and (self.multi or not prot.population.periodic):
            views.append(self.view(code, prot.tables["main/by_unit"], title=self.by(code, dims[self.unit_dim])))
        if "main/by_period" in prot.tables:
            views.append(self.view(code, prot.tables["main/by_period"], chart="line",
                                   title=self.by(code, dims[self.grain])))
        for key, table in prot.tables.items():
            cube = key.split("/")[0]
            if cube == "main":
                continue
            side = next(s for s in prot.population.sides if s.name == cube)
            row_dim = table.rows_axis.name
            col_dim = table.cols_axis.name if table.cols_axis else None
            what = dims[row_dim] if col_dim is None else Text(
                nl=f"{dims[row_dim].nl} en {dims[col_dim].nl}", en=f"{dims[row_dim].en} and {dims[col_dim].en}")
            views.append(self.view(code, table, chart=side.chart, title=self.by(code, what)))
        return views

    def journey(self, name: str, code: str, steps: list[str], labels: dict[str, Text]) -> list[TableView]:
        """Funnel tables that repeat the steps' population totals (and their decisions)."""
        cells = [_copy(self.protected[s].total_cell(), row=s, col=TOTAL) for s in steps]
        views = [self._synthetic_view(code, f"{name}", "step", steps, None, [], cells, labels, "funnel",
                                      cat.indicator(code).title)]
        if self.multi:
            grid = [_copy(self.protected[s].tables["main/by_unit"].cell(u, TOTAL), row=u, col=s)
                    for u in self.scope.units for s in steps]
            views.append(self._synthetic_view(code, f"{name}_by_unit", self.unit_dim, self.scope.units, "step",
                                              steps, grid, labels, "bar",
                                              self.by(code, cat.DIMENSIONS[self.unit_dim])))
        grid = [_copy(self.protected[s].tables["main/by_period"].cell(b, TOTAL), row=b, col=s)
                for b in self.buckets for s in steps]
        views.append(self._synthetic_view(code, f"{name}_by_period", self.grain, self.buckets, "step", steps,
                                          grid, labels, "line", self.by(code, cat.DIMENSIONS[self.grain])))
        return views

    def _synthetic_view(self, code: str, name: str, row_dim: str, rows: list[str], col_dim: str | None,
                        cols: list[str], cells: list[ProtectedCell], step_labels: dict[str, Text], chart: str,
                        title: Text) -> TableView:
        hidden = sum(c.suppressed for c in cells)
        visible = sum(c.status is not CellStatus.structural_zero for c in cells)
        share = hidden / visible if visible else 0.0
        table = ProtectedTable(
            name=name, rows_axis=AxisInfo(name=row_dim, source=row_dim),
            cols_axis=None if col_dim is None else AxisInfo(name=col_dim, source=col_dim), margins=False,
            rows=list(rows), cols=list(cols), cells=cells, hidden=hidden, visible=visible, hidden_share=share,
            too_much_hidden=share > self.policy.max_hidden_share)
        row_labels = step_labels if row_dim == "step" else self.labels_of(row_dim, rows)
        col_labels = step_labels if col_dim == "step" else {}
        ind = cat.indicator(code)
        return TableView(indicator=code, title=title, unit=ind.unit, table=published(table), row_labels=row_labels,
                         col_labels=col_labels, chart=chart)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- statistics
    def statistic(self, code: str, value: float | None, units: int, *, shown_units: ProtectedCell | None = None,
                  needs: Sequence[ProtectedCell] = (), dims: dict[str, str] | None = None,
                  title: Text | None = None) -> OverviewStatistic:
        ind = cat.indicator(code)
        stat = protect_statistic(value, units, self.policy)
        return self._stat_view(ind, stat, shown_units, needs, dims, title)

    def share(self, code: str, part: int, whole: int, *, needs: Sequence[ProtectedCell] = (),
              shown_units: ProtectedCell | None = None) -> OverviewStatistic:
        ind = cat.indicator(code)
        return self._stat_view(ind, protect_share(part, whole, self.policy), shown_units, needs, None, None)

    def _stat_view(self, ind: cat.Indicator, stat: Any, shown_units: ProtectedCell | None,
                   needs: Sequence[ProtectedCell], dims: dict[str, str] | None,
                   title: Text | None) -> OverviewStatistic:
        withheld = None
        value = stat.value
        if stat.suppressed:
            withheld = _reason(stat.reason or StatisticReason.too_few_units)
        elif any(c.suppressed for c in needs):
            value, withheld = None, _reason(StatisticReason.small_part)
        units = None
        if value is not None and shown_units is not None and not shown_units.suppressed:
            units = shown_units.value
        return OverviewStatistic(indicator=ind.code, title=title or ind.title, unit=ind.unit, value=value,
                                 units=units, withheld=withheld, dims=dims or {})


def _reason(reason: StatisticReason) -> Message:
    labels = STATISTIC_REASON_LABELS[reason]
    return Message(code=str(reason), nl=labels["nl"], en=labels["en"])


def _marginal(counts: Counter[tuple[str, ...]], positions: list[int]) -> dict[tuple[str, ...], int]:
    out: Counter[tuple[str, ...]] = Counter()
    for key, n in counts.items():
        out[tuple(key[i] for i in positions)] += n
    return {k: v for k, v in out.items() if v}


def _copy(cell: ProtectedCell, *, row: str, col: str) -> ProtectedCell:
    return ProtectedCell(row=row, col=col, value=cell.value, status=cell.status, rounded=cell.rounded)


def _table_of(name: str, rows_axis: AxisInfo, cols_axis: AxisInfo | None, margins: bool, rows: list[str],
              cols: list[str], cells: list[ProtectedCell], policy: DisclosurePolicy) -> ProtectedTable:
    hidden = sum(c.suppressed for c in cells)
    visible = sum(c.status is not CellStatus.structural_zero for c in cells)
    share = hidden / visible if visible else 0.0
    return ProtectedTable(name=name, rows_axis=rows_axis, cols_axis=cols_axis, margins=margins, rows=list(rows),
                          cols=list(cols), cells=cells, hidden=hidden, visible=visible, hidden_share=share,
                          too_much_hidden=share > policy.max_hidden_share)


def _withheld_table(spec: TableSpec, cube: CountCube, policy: DisclosurePolicy,
                    total: ProtectedCell | None = None) -> ProtectedTable:
    """A table not released at this level or for this period: its shape, every cell hidden
    but the grand total, which is the population's total as the release shows it."""
    rows, cols, places = table_places(spec, cube)
    info = lambda a: AxisInfo(name=a.name, source=a.source, groups=None if a.groups is None else dict(a.groups))  # noqa: E731
    cells = [_grand(total, r, c) if spec.margins else withheld(r, c) for r, c in places]
    return _table_of(spec.name, info(spec.row_axis), None if spec.col_axis is None else info(spec.col_axis),
                     spec.margins, rows, cols, cells, policy)


def _grand(total: ProtectedCell | None, row: str, col: str) -> ProtectedCell:
    if total is not None and row == TOTAL and col == TOTAL:
        return total.model_copy(update={"row": row, "col": col})
    return withheld(row, col)


def _withhold(table: ProtectedTable, policy: DisclosurePolicy, total: ProtectedCell) -> ProtectedTable:
    """Every cell hidden but structural zeros and the grand total (the population's, as released)."""
    cells = [c if c.status is CellStatus.structural_zero else
             _grand(total, c.row, c.col) if table.margins else withheld(c.row, c.col) for c in table.cells]
    return _table_of(table.name, table.rows_axis, table.cols_axis, table.margins, table.rows, table.cols, cells,
                     policy)


def _hide_nonzero(table: ProtectedTable, policy: DisclosurePolicy) -> ProtectedTable:
    """Every cell but the shown zeros hidden: nothing left bounds a hidden cell from above."""
    cells = []
    for c in table.cells:
        if c.status is CellStatus.structural_zero or (not c.suppressed and c.value == 0):
            cells.append(c)
        elif c.suppressed:
            cells.append(c)
        else:
            cells.append(ProtectedCell(row=c.row, col=c.col, value=None, status=CellStatus.complementary,
                                       rounded=False))
    hidden = sum(c.suppressed for c in cells)
    share = hidden / table.visible if table.visible else 0.0
    return table.model_copy(update={"cells": cells, "hidden": hidden, "hidden_share": share,
                                    "too_much_hidden": share > policy.max_hidden_share})


def published(table: ProtectedTable) -> ProtectedTable:
    """The table as published: every hidden cell carries the same status.

    Which hidden cells are small (primary) and which protect them (secondary) is not
    published: it would tell a reader that those counts lie between 1 and the threshold.
    """
    cells = [c if not c.suppressed else ProtectedCell(row=c.row, col=c.col, value=None, status=CellStatus.forced,
                                                      rounded=False)
             for c in table.cells]
    return table.model_copy(update={"cells": cells})


# --------------------------------------------------------------------------- the document
class OverviewStatistic(StatisticView):
    """A statistic, with the cell of a breakdown it belongs to (e.g. {"month": "2026-03"})."""

    dims: dict[str, str] = Field(default_factory=dict, description="Where it sits, e.g. {'month': '2026-03'}; "
                                                                   "empty for the whole scope and period.")


class Quote(BaseModel):
    """A confirmed, anonymised summary of a policy signal."""

    theme: str
    theme_label: Text
    text: str


class OverviewSection(Section):
    statistics: list[OverviewStatistic] = Field(default_factory=list)  # type: ignore[assignment]
    quotes: list[Quote] = Field(default_factory=list, description="Policy-signal summaries (policy section only).")


class OverviewDocument(ReportDocument):
    sections: list[OverviewSection]  # type: ignore[assignment]


TITLE = Text(nl="Overzicht buddywerking", en="Buddy programme overview")


@dataclass
class Built:
    """A computed report: its published content and what the record keeps beside it."""

    document: OverviewDocument
    pattern: dict[str, list[dict[str, str]]]
    policy: DisclosurePolicy
    protected: dict[str, Protected] = field(default_factory=dict)
    independent: dict[str, tuple[CountCube, ProtectedTable]] = field(default_factory=dict)
    unit_dim: str = "project"
    period_dim: str = "month"

    @property
    def content(self) -> dict[str, Any]:
        return self.document.model_dump(mode="json")


def build_overview(conn: Connection, parameters: dict[str, Any] | OverviewParameters, *,
                   placed: bool = True) -> Built:
    """The report; ``placed``: counts grouped by the report's cells in the database (the fast
    path), else read per project and month and grouped here (the reference it must equal)."""
    with _without_cycle_collection():
        return _build_overview(conn, parameters, placed)


def _build_overview(conn: Connection, parameters: dict[str, Any] | OverviewParameters, placed: bool) -> Built:
    p = parameters.check() if isinstance(parameters, OverviewParameters) else parse_parameters(parameters)
    if p.as_known_on is not None:
        q.check_known_on(conn, p.as_known_on)
    scope = resolve_scope(conn, p)
    # the counts are grouped by the report's own cells (unit and bucket) in the database
    placing = q.Placing("region" if scope.unit_dim == "region" else "project",
                        tuple((m, bucket_label(m, p.grain)) for m in months(p.period_start, p.period_end))
                        ) if placed else None
    # Flanders: every project (a project not yet in the register cannot be placed and is left out)
    window = q.Window(p.period_start, p.period_end, p.basis,
                      None if scope.level == "flanders" else tuple(sorted(scope.unit_of)), placing)
    b = Builder(p, scope, window)
    b.release = releases(conn, p, scope)
    sections = _sections(conn, b)
    _advice(b, sections)
    used = {v.indicator for s in sections for v in s.tables} | {v.indicator for s in sections for v in s.statistics}
    if any(s.quotes for s in sections) or any(s.key == "policy" for s in sections):
        used.add("policy_signal_summaries")
    document = OverviewDocument(
        kind="overview", title=TITLE, audience=p.audience.value, scope=scope.keys, scope_label=scope.label,
        period=Period(start=p.period_start.isoformat(), end=p.period_end.isoformat(), grain=p.grain),
        basis=p.basis, as_known_on=None if p.as_known_on is None else p.as_known_on.isoformat(),
        sections=sections, definitions=cat.definitions(sorted(used)), notes=_notes(b), suggestions=b.suggestions)
    return Built(document, b.pattern, b.policy, b.protected, b.independent, b.unit_dim, b.grain)


def _sections(conn: Connection, b: Builder) -> list[OverviewSection]:
    mentions: dict[str, ProtectedTable] = {}
    return [
        _volunteers(conn, b),
        _participants(conn, b, mentions),
        _duos(conn, b),
        _contacts(conn, b, mentions),
        _coaching(conn, b, mentions),
        _boundaries(conn, b),
        _impact(conn, b),
        _followup_calls(conn, b),
        _policy(conn, b),
    ]


RELEASES_KEPT = 64
_RELEASES: OrderedDict[tuple[Any, ...], dict[str, LinkedRelease]] = OrderedDict()
_RELEASES_LOCK = threading.Lock()


def _remembered(key: tuple[Any, ...] | None, compute: Callable[[], dict[str, LinkedRelease]]
                ) -> dict[str, LinkedRelease]:
    """Releases remembered per database and projection state (its checkpoints), least recently used out."""
    if key is not None:
        with _RELEASES_LOCK:
            if key in _RELEASES:
                _RELEASES.move_to_end(key)
                return _RELEASES[key]
    found = compute()
    if key is not None:
        with _RELEASES_LOCK:
            _RELEASES[key] = found
            while len(_RELEASES) > RELEASES_KEPT:
                _RELEASES.popitem(last=False)
    return found


def releases(conn: Connection, p: OverviewParameters, scope: Scope) -> dict[str, LinkedRelease]:
    """Every population's consistent release for the report's calendar year (and period).

    Above the project the release covers every project of Flanders, whatever the report's
    scope: a coordinator's region report and the project reports of the region are then
    cut from the same protected tables as the government's. Project staff get their own
    project's release. Counts over the period that do not add up over time (duos running,
    volunteers coached) get a release per calendar period.

    Every report of a year reads the same releases: they are computed once while the
    projections stand still, and again as soon as any consumer checkpoint moves.
    """
    staff = p.audience is Audience.project
    register = q.project_register(conn)
    if staff:
        project = scope.keys["project"]
        region_of = {project: register[project].region}
    else:
        region_of = {pid: pr.region for pid, pr in register.items()}
    policy = release_policy(p.policy())
    year = date(p.period_start.year, 1, 1)
    year_end = bucket_end(year, "year")
    period = release_period(p.period_start, p.period_end, p.grain) or "year"
    label = bucket_label(p.period_start.isoformat()[:7], period)
    checkpoints = tuple(conn.execute(select(consumer_checkpoints.c.consumer, consumer_checkpoints.c.upstream,
                                            consumer_checkpoints.c.position)
                                     .order_by(consumer_checkpoints.c.consumer, consumer_checkpoints.c.upstream)))
    state = (str(conn.engine.url), id(conn.engine), checkpoints, tuple(sorted(region_of.items())), staff, p.basis,
             p.as_known_on, policy.model_dump_json()) if checkpoints else None

    def per_year() -> dict[str, LinkedRelease]:
        out = {}
        for code, pop in _collect_populations(conn, p, year, year_end, region_of, staff).items():
            if pop.periodic:
                counts: Counter[tuple[str, str]] = Counter()
                for key, n in pop.counts.items():
                    if key[0] in region_of:  # a project this service never learned has no region: not counted
                        counts[(key[0], key[1])] += n
                out[code] = protect_periodic(counts, months=months(year, year_end), region_of=region_of,
                                             policy=policy, project_staff=staff)
        return out

    def per_period() -> dict[str, LinkedRelease]:
        out = {}
        for code, pop in _collect_populations(conn, p, p.period_start, p.period_end, region_of, staff).items():
            if not pop.periodic:
                totals: Counter[str] = Counter()
                for k, n in pop.counts.items():
                    if k[0] in region_of:  # as per_year
                        totals[k[0]] += n
                out[code] = protect_period(totals, period=label, region_of=region_of, policy=policy,
                                           project_staff=staff, projects_released=period == "year")
        return out

    return {**_remembered(state and ("year", *state, year), per_year),
            **_remembered(state and ("period", *state, label), per_period)}


def _collect_populations(conn: Connection, p: OverviewParameters, start: date, end: date, region_of: dict[str, str],
             staff: bool) -> dict[str, Population]:
    """Every population of the overview per project and month (no protection): what releases are made of."""
    projects = sorted(region_of)
    scope = Scope("region", "project", {pid: pid for pid in projects}, projects, {}, {"level": "release"},
                  Text(nl="", en=""))
    month_list = months(start, end)
    window = q.Window(start, end, p.basis, tuple(projects) if staff else None,
                      q.Placing("project", tuple((m, m) for m in month_list)))
    pass_params = p.model_copy(update={"period_start": start, "period_end": end, "grain": "month",
                                       "previous_pattern": {}})
    b = Builder(pass_params, scope, window)
    b.collected = {}
    _sections(conn, b)
    return b.collected


def _advice(b: Builder, sections: list[OverviewSection]) -> None:
    """When a table hides much: a coarser grain within the same period (cut from the same release,
    so no combination of reports gives a cell away); below the reader's level or under a year,
    where per-project figures and breakdowns are released."""
    if not any(v.table.too_much_hidden for s in sections for v in s.tables):
        return
    period = release_period(b.p.period_start, b.p.period_end, b.p.grain) or "year"
    if GRAINS.index(b.grain) < GRAINS.index(period):
        coarser = GRAINS[GRAINS.index(b.grain) + 1]
        if all(s.dimension != b.grain for s in b.suggestions):
            b.suggestions.insert(0, coarser_suggestion(b.grain, coarser))
    if not b.breakdowns:
        b.notes.append(Message(
            code="released_per_year",
            nl="Cijfers per project (boven het project) en uitsplitsingen naar kenmerk worden per kalenderjaar "
               "vrijgegeven, uitsplitsingen alleen op het niveau van de lezer (Vlaanderen, de eigen regio, het eigen "
               "project).",
            en="Figures per project (above the project) and breakdowns by attribute are released per calendar year, "
               "breakdowns only at the reader's own level (Flanders, their region, their project)."))


def _notes(b: Builder) -> list[Message]:
    notes = list(b.notes)
    if any(p.hidden_everything for p in b.protected.values()):
        notes.append(Message(
            code="small_group",
            nl="Is het totaal van een groep te klein om te tonen, dan zijn ook al haar uitsplitsingen verborgen "
               "(nullen uitgezonderd).",
            en="When a group's total is too small to show, all its breakdowns are hidden too (zeros excepted)."))
    notes.append(Message(
        code="groups",
        nl="Elke tabel telt één groep in de periode; de trajecttabellen zetten de totalen van verschillende groepen "
           "naast elkaar en worden niet opgeteld.",
        en="Every table counts one group in the period; the journey tables put the totals of different groups side "
           "by side and are not added up."))
    return notes


def _section(key: str, tables: list[TableView], stats: list[OverviewStatistic] | None = None,
             quotes: list[Quote] | None = None) -> OverviewSection:
    info = cat.SECTIONS[key]
    return OverviewSection(key=key, title=info.title, intro=info.intro, tables=tables, statistics=stats or [],
                           quotes=quotes or [])


def _side(name: str, rows: str | Axis, cols: str | Axis | None = None, *, chart: str = "bar",
          dims: tuple[str, ...] | None = None, extra: Sequence[TableSpec] = ()) -> Side:
    if dims is None:
        dims = tuple(a if isinstance(a, str) else a.source for a in (rows, cols) if a is not None)
    return Side(name, dims, (TableSpec(name, rows, cols), *extra), chart)


# ----------------------------------------------------------------- volunteers
VOLUNTEER_STEPS = ["volunteers_enquired", "volunteers_intake", "volunteers_approved", "volunteers_coached",
                   "volunteers_available", "volunteers_in_duo", "volunteers_stopped"]
STEP_LABELS = {
    "volunteers_enquired": Text(nl="aanmelding", en="enquiry"),
    "volunteers_intake": Text(nl="intake", en="intake"),
    "volunteers_approved": Text(nl="goedgekeurd", en="approved"),
    "volunteers_coached": Text(nl="coaching of vorming", en="coaching or training"),
    "volunteers_available": Text(nl="beschikbaar", en="available"),
    "volunteers_in_duo": Text(nl="in een duo", en="in a duo"),
    "volunteers_stopped": Text(nl="gestopt", en="stopped"),
    "participants_referred": Text(nl="aangemeld", en="referred"),
    "participants_intake": Text(nl="intake", en="intake"),
    "duo_proposals": Text(nl="voorgesteld", en="proposed"),
    "duos_started": Text(nl="duo gestart", en="duo started"),
    "duos_ended": Text(nl="duo beëindigd", en="duo ended"),
    "participants_withdrawn": Text(nl="afgehaakt", en="withdrawn"),
}


def _volunteers(conn: Connection, b: Builder) -> OverviewSection:
    steps = q.volunteer_steps(conn, b.window)
    first_duo = q.volunteers_first_duo(conn, b.window)
    in_duo = [q.Fact(project, on[:7], (cat.wait_band(waited),), 1) for project, on, waited in first_duo]
    b.protect(b.population("volunteers_enquired", steps["volunteers_enquired"], ["channel"],
                           sides=[_side("channel", "channel")]))
    for code in ("volunteers_intake", "volunteers_approved", "volunteers_coached", "volunteers_available"):
        b.protect(b.population(code, steps[code]))
    b.protect(b.population("volunteers_in_duo", in_duo, ["wait_band"], sides=[_side("wait_band", "wait_band")]))
    b.protect(b.population("volunteers_stopped", steps["volunteers_stopped"], ["stop_reason"],
                           sides=[_side("stop_reason", "stop_reason")]))
    b.protect(b.population("keep_warm_contacts", steps["keep_warm_contacts"], ["keep_warm_kind"],
                           sides=[_side("keep_warm_kind", "keep_warm_kind")]))
    tables = b.journey("volunteer_funnel", "volunteer_funnel", VOLUNTEER_STEPS, STEP_LABELS)
    for code in ("volunteers_enquired", "volunteers_in_duo", "volunteers_stopped"):
        tables += [v for v in b.population_views(code) if v.table.name != "by_period"]
    tables += b.population_views("keep_warm_contacts")
    waits = [w for project, on, w in first_duo if w is not None and b.place(project, on[:7]) is not None]
    shown = b.protected["volunteers_in_duo"].total_cell() if len(waits) == sum(
        1 for project, on, _ in first_duo if b.place(project, on[:7])) else None
    stats = [
        b.statistic("volunteer_waiting_days_median", statistics.median(waits) if waits else None, len(waits),
                    shown_units=shown),
        b.statistic("volunteer_waiting_days_mean", statistics.fmean(waits) if waits else None, len(waits),
                    shown_units=shown),
    ]
    return _section("volunteers", tables, stats)


# ----------------------------------------------------------------- participants
def _participants(conn: Connection, b: Builder, mentions: dict[str, ProtectedTable]) -> OverviewSection:
    steps = q.participant_steps(conn, b.window)
    referred = steps["participants_referred"]
    b.protect(b.population("participants_referred", referred, ["target_group", "referrer_type"],
                           sides=[_side("target_group", "target_group"), _side("referrer_type", "referrer_type")],
                           pick=lambda a: a[:2]))
    domains: Counter[str] = Counter()
    for f in referred:
        if b.locate(f) is not None:
            for d in filter(None, f.attrs[2].split(",")):
                domains[d] += f.n
    mentions["participant_life_domains"] = b.mentions("participant_life_domains", "life_domain", domains)
    b.protect(b.population("participants_intake", steps["participants_intake"]))
    b.protect(b.population("participants_withdrawn", steps["participants_withdrawn"], ["withdrawal_reason"],
                           sides=[_side("withdrawal_reason", "withdrawal_reason")]))
    b.protect(b.population("participants_returned", steps["participants_returned"]))
    tables = b.population_views("participants_referred")
    tables.append(b.view("participant_life_domains", mentions["participant_life_domains"]))
    tables += b.population_views("participants_intake") + b.population_views("participants_withdrawn")
    tables += b.population_views("participants_returned")
    return _section("participants", tables)


# ----------------------------------------------------------------- duos
def _duos(conn: Connection, b: Builder) -> OverviewSection:
    started = [f for f in q.duos_started(conn, b.window) if b.place(f.project, f.month)]
    ended = [f for f in q.duos_ended(conn, b.window) if b.place(f.project, f.month)]
    b.protect(b.population("duo_proposals", q.proposals_made(conn, b.window), ["proposal_outcome"],
                           sides=[_side("proposal_outcome", "proposal_outcome")]))
    b.protect(b.population(
        "duos_started", [q.Fact(f.project, f.month, (f.attrs[0], cat.wait_band(int(f.values[0]) if f.values else None)),
                                f.n) for f in started],
        ["target_group", "wait_band"], sides=[_side("target_group", "target_group"), _side("wait_band", "wait_band")]))
    b.protect(b.population("duos_ended", ended, ["target_group", "end_reason", "planned"],
                           sides=[_side("target_group", "target_group"),
                                  _side("end_reason", "end_reason", "planned", chart="stacked_bar")]))
    b.protect(b.population("duos_paused", q.duo_pauses_started(conn, b.window), ["pause_reason"],
                           sides=[_side("pause_reason", "pause_reason")]))
    # duos running in the period, and per bucket
    spans = [s for s in q.duo_spans(conn, b.window) if s.project in b.scope.unit_of]
    running = [s for s in spans if s.ran_between(b.window.first, b.window.last)]
    active = b.population("duos_active", [], ["target_group"], sides=[_side("target_group", "target_group")])
    active.periodic = False
    for s in running:
        active.counts[(b.scope.unit_of[s.project], "-", s.target_group)] += 1
    active.levels["target_group"] = _with_seen(active.levels["target_group"], {k[2] for k in active.counts})
    b.protect(active)
    per_bucket = _running_per_bucket(b, spans)
    tables = b.journey("participant_flow", "participant_flow",
                       ["participants_referred", "participants_intake", "duo_proposals", "duos_started", "duos_ended",
                        "participants_withdrawn"], STEP_LABELS)
    for code in ("duo_proposals", "duos_started", "duos_ended", "duos_active"):
        tables += b.population_views(code)
    if len(b.buckets) > 1:
        series = b.series("duos_active_by_period", {k: len(v) for k, v in per_bucket.items()})
        b.series_tables["duos_active_by_period"] = series
        tables.append(b.view("duos_active_by_period", series, chart="line"))
    tables += b.population_views("duos_paused")
    # statistics
    waits = [f.values[0] for f in started if f.values]
    started_total = b.protected["duos_started"].total_cell()
    durations = [f.values[0] / MONTH_DAYS for f in ended]
    ended_total = b.protected["duos_ended"].total_cell()
    planned = sum(1 for f in ended if f.attrs[2] == "planned")
    planned_cell = b.protected["duos_ended"].tables["end_reason/end_reason"].cell(TOTAL, "planned")
    stats = [
        b.statistic("participant_waiting_days_median", statistics.median(waits) if waits else None, len(waits),
                    shown_units=started_total if len(waits) == len(started) else None),
        b.statistic("participant_waiting_days_mean", statistics.fmean(waits) if waits else None, len(waits),
                    shown_units=started_total if len(waits) == len(started) else None),
        b.statistic("duo_duration_months_median", statistics.median(durations) if durations else None,
                    len(durations), shown_units=ended_total),
        b.statistic("duo_duration_months_mean", statistics.fmean(durations) if durations else None, len(durations),
                    shown_units=ended_total),
        b.share("duos_planned_end_share", planned, len(ended), needs=[planned_cell, ended_total],
                shown_units=ended_total),
    ]
    return _section("duos", tables, stats)


def _with_seen(levels: list[str], seen: set[str]) -> list[str]:
    known = [c for c in levels if c != cat.UNKNOWN]
    extra = sorted(seen - set(known))
    return known + extra


def _running_per_bucket(b: Builder, spans: list[q.DuoSpan]) -> dict[str, set[str]]:
    """Per bucket the duos that ran in it; also the duo-months per bucket (for contacts per duo-month)."""
    calendar = [(*month_bounds(month), b.bucket_of[month]) for month in b.months]
    for s in spans:
        for first, last, bucket in calendar:
            # a month before the duo's start or after its end: it did not run (what ran_between says)
            if last < s.start or (s.end is not None and first > s.end):
                continue
            if s.ran_between(first, last):
                b.running[bucket].add(s.duo_id)
                b.duo_months[bucket] += 1
    return b.running


# ----------------------------------------------------------------- contacts
ACCOMPANY = frozenset(a for a in cat.VOCABULARIES["activity"] if a.startswith("accompany_"))


def _contacts(conn: Connection, b: Builder, mentions: dict[str, ProtectedTable]) -> OverviewSection:
    facts = [f for f in q.contact_facts(conn, b.window) if b.locate(f)]
    b.protect(b.population("contacts", facts, ["contact_mode", "target_group"],
                           sides=[_side("contact_mode", "contact_mode"), _side("target_group", "target_group")]))
    codes = list(cat.VOCABULARIES["activity"])
    activities: Counter[str] = Counter()
    accompanied = []
    for project, month, per_activity, with_accompaniment in q.contact_activities(conn, b.window, codes,
                                                                                  sorted(ACCOMPANY)):
        if b.locate(q.Fact(project, month, (), 0, placed=b.window.placing is not None)) is None:
            continue
        for code, n in zip(codes, per_activity, strict=True):
            if n:
                activities[code] += n
        if with_accompaniment:
            accompanied.append(q.Fact(project, month, (), with_accompaniment, placed=b.window.placing is not None))
    mentions["contact_activities"] = b.mentions("contact_activities", "activity", activities)
    b.protect(b.population("contacts_accompaniment", accompanied))
    tables = b.population_views("contacts")
    tables.append(b.view("contact_activities", mentions["contact_activities"]))
    tables += b.population_views("contacts_accompaniment")
    # contacts per running duo per month: per bucket and for the whole period
    prot = b.protected["contacts"]
    per_bucket: Counter[str] = Counter()
    for f in facts:
        per_bucket[b.locate(f)[1]] += f.n  # type: ignore[index]  # located above
    duo_months, running = b.duo_months, b.running
    series = b.series_tables.get("duos_active_by_period")
    stats = []
    total_duo_months = sum(duo_months.values())
    all_running = set().union(*running.values())
    stats.append(b.statistic(
        "contacts_per_active_duo_month",
        sum(per_bucket.values()) / total_duo_months if total_duo_months else None, len(all_running),
        needs=[prot.total_cell(), b.protected["duos_active"].total_cell()]))
    if len(b.buckets) > 1:
        for bucket in b.buckets:
            months_b = duo_months[bucket]
            needs = [prot.tables["main/by_period"].cell(bucket, TOTAL)]
            if series is not None:
                needs.append(series.cell(bucket, TOTAL))
            stats.append(b.statistic(
                "contacts_per_active_duo_month", per_bucket[bucket] / months_b if months_b else None,
                len(running[bucket]), needs=needs,
                dims={b.grain: bucket},
                title=Text(nl=f"{cat.indicator('contacts_per_active_duo_month').title.nl} — {bucket}",
                           en=f"{cat.indicator('contacts_per_active_duo_month').title.en} — {bucket}")))
    minutes = sum(f.values[0] for f in facts)
    n = sum(f.n for f in facts)
    stats.append(b.statistic("contact_minutes_mean", minutes / n if n else None, n, shown_units=prot.total_cell()))
    return _section("contacts", tables, stats)


# ----------------------------------------------------------------- coaching
def _coaching(conn: Connection, b: Builder, mentions: dict[str, ProtectedTable]) -> OverviewSection:
    facts = [f for f in q.coaching_facts(conn, b.window) if b.locate(f)]
    b.protect(b.population("coaching_sessions", facts, ["coaching_kind"],
                           sides=[_side("coaching_kind", "coaching_kind")], pick=lambda a: a[:1]))
    themes: Counter[str] = Counter()
    for f in facts:
        for t in filter(None, f.attrs[1].split(",")):
            themes[t] += f.n
    mentions["coaching_themes"] = b.mentions("coaching_themes", "coaching_theme", themes)
    coached = [c for c in q.coached_volunteers(conn, b.window) if c[0] in b.scope.unit_of]
    pop = b.population("coached_volunteers", [])
    pop.periodic = False
    for project, _, _ in coached:
        pop.counts[(b.scope.unit_of[project], "-")] += 1
    prot = b.protect(pop)
    tables = b.population_views("coaching_sessions")
    tables.append(b.view("coaching_themes", mentions["coaching_themes"]))
    tables += b.population_views("coached_volunteers")
    n = len(coached)
    stats = [
        b.statistic("coaching_minutes_per_volunteer", sum(c[2] for c in coached) / n if n else None, n,
                    shown_units=prot.total_cell()),
        b.statistic("coaching_sessions_per_volunteer", sum(c[1] for c in coached) / n if n else None, n,
                    shown_units=prot.total_cell()),
    ]
    return _section("coaching", tables, stats)


# ----------------------------------------------------------------- boundary signals
def _boundaries(conn: Connection, b: Builder) -> OverviewSection:
    b.protect(b.population("boundary_signals", q.boundary_raised(conn, b.window), ["signal_type", "severity"],
                           sides=[_side("signal_type", "signal_type", "severity", chart="stacked_bar")]))
    resolved = [f for f in q.boundary_resolved(conn, b.window) if b.place(f.project, f.month)]
    b.protect(b.population("boundary_signals_resolved", resolved, ["resolution"],
                           sides=[_side("resolution", "resolution")]))
    tables = b.population_views("boundary_signals") + b.population_views("boundary_signals_resolved")
    days = [f.values[0] for f in resolved]
    total = b.protected["boundary_signals_resolved"].total_cell()
    stats = [
        b.statistic("boundary_resolution_days_median", statistics.median(days) if days else None, len(days),
                    shown_units=total),
        b.statistic("boundary_resolution_days_mean", statistics.fmean(days) if days else None, len(days),
                    shown_units=total),
    ]
    return _section("boundaries", tables, stats)


# ----------------------------------------------------------------- goals and evaluations
def _impact(conn: Connection, b: Builder) -> OverviewSection:
    b.protect(b.population("goals_set", q.goals_set(conn, b.window), ["goal_domain"],
                           sides=[_side("goal_domain", "goal_domain")]))
    closed = [f for f in q.goals_closed(conn, b.window) if b.place(f.project, f.month)]
    b.protect(b.population("goals_closed", closed, ["goal_outcome"], sides=[_side("goal_outcome", "goal_outcome")]))
    changes = [f for f in q.evaluation_changes(conn, b.window) if b.place(f.project, f.month)]
    b.protect(b.population("evaluation_changes", changes, ["wellbeing_change", "network_change"],
                           sides=[_side("change", "wellbeing_change", "network_change")]))
    tables = (b.population_views("goals_set") + b.population_views("goals_closed")
              + b.population_views("evaluation_changes"))
    progress = [f.values[0] for f in closed if f.values]
    closed_total = b.protected["goals_closed"].total_cell()
    achieved = sum(1 for f in closed if f.attrs[0] == "achieved")
    achieved_cell = b.protected["goals_closed"].tables["goal_outcome/goal_outcome"].cell("achieved", TOTAL)
    change_total = b.protected["evaluation_changes"].total_cell()
    dw = [f.values[0] for f in changes]
    dn = [f.values[1] for f in changes]
    stats = [
        b.statistic("goal_progress_mean", statistics.fmean(progress) if progress else None, len(progress),
                    shown_units=closed_total if len(progress) == len(closed) else None),
        b.share("goals_achieved_share", achieved, len(closed), needs=[achieved_cell, closed_total],
                shown_units=closed_total),
        b.statistic("wellbeing_change_mean", statistics.fmean(dw) if dw else None, len(dw), shown_units=change_total),
        b.statistic("network_change_mean", statistics.fmean(dn) if dn else None, len(dn), shown_units=change_total),
    ]
    return _section("impact", tables, stats)


# ----------------------------------------------------------------- follow-up calls
def _followup_calls(conn: Connection, b: Builder) -> OverviewSection:
    calls = [f for f in q.calls_due(conn, b.window) if b.place(f.project, f.month)]
    result = Axis("call_result", "call_status", cat.CALL_RESULT_OF)
    b.protect(b.population("followup_calls_due", calls, ["call_status"],
                           sides=[Side("call_status", ("call_status",), (TableSpec("call_result", result),
                                                                          TableSpec("call_status", "call_status")))]))
    tables = b.population_views("followup_calls_due")
    prot = b.protected["followup_calls_due"]
    reached = [f for f in calls if f.attrs[0].startswith("reached")]
    reached_cell = prot.tables["call_status/call_result"].cell("reached", TOTAL)
    answered = [f.values[0] for f in reached if not math.isnan(f.values[0])]
    wellbeing = [f.values[1] for f in reached if not math.isnan(f.values[1])]
    stats = [
        b.share("followup_reach_share", len(reached), len(calls), needs=[reached_cell, prot.total_cell()],
                shown_units=prot.total_cell()),
        b.share("still_in_contact_share", int(sum(answered)), len(answered), needs=[reached_cell]),
        b.statistic("followup_wellbeing_mean", statistics.fmean(wellbeing) if wellbeing else None, len(wellbeing)),
    ]
    return _section("followup_calls", tables, stats)


# ----------------------------------------------------------------- policy signals
def _policy(conn: Connection, b: Builder) -> OverviewSection:
    facts = q.policy_signal_facts(conn, b.window)
    b.protect(b.population("policy_signals", facts, ["policy_theme"], sides=[_side("policy_theme", "policy_theme")]))
    prot = b.protected["policy_signals"]
    theme_table = prot.tables["policy_theme/policy_theme"]
    counts: Counter[str] = Counter()
    for key, n in prot.population.counts.items():
        counts[key[2]] += n
    quotes = []
    for project, theme, on, summary in q.policy_summaries(conn, b.window):
        if b.place(project, on[:7]) is None:
            continue
        cell = theme_table.cell(theme, TOTAL)
        if not cell.suppressed and counts[theme] >= b.policy.threshold:
            quotes.append(Quote(theme=theme, theme_label=cat.label("policy_theme", theme), text=summary))
    return _section("policy", b.population_views("policy_signals"), quotes=quotes)


# --------------------------------------------------------------------------- kinds
def overview(conn: Connection, parameters: dict[str, Any]) -> dict[str, Any]:
    with _without_cycle_collection():  # the document's objects too: freed before collection resumes
        return build_overview(conn, parameters).content


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection while a report is built.

    A report makes hundreds of thousands of short-lived objects (rows, cells, models) and
    frees them as it goes; they would trigger full collections that walk every object of
    the process, tens of milliseconds each, mid-report. Reference counting still frees
    them; collection resumes after the report (it stays off if something else turned it off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


KINDS = {"project_summary": project_summary, "overview": overview}


def compute(conn: Connection, kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The content of a report of ``kind``: for ``overview`` a ``ReportDocument`` as JSON data."""
    try:
        build = KINDS[kind]
    except KeyError:
        raise InvalidInput(f"Onbekend soort rapport {kind} / Unknown report kind {kind}", field="kind") from None
    return build(conn, parameters)
