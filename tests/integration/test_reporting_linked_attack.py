"""Every table one reader can get, attacked together with linear programming (scipy HiGHS).

A scripted multi-project history (the reporting benchmark's generator: 7 projects in 3
regions over five years); for each kind of reader in turn — project staff, a coordinator,
the government (admins and auditors read as the government) — every overview they may
ask for in 2025: every scope they can open (a coordinator's project reports included),
every calendar month, quarter and the year in every grain it allows. The live answer and
the published report are the same computation (``build_overview``), and a report reads
the same whoever publishes it, so these are also the archive's and the dashboard's tables.
The intruder (``services.reporting.reader_attack``) knows every shown count exactly (more
than the rounding rule tells), the zero rule and non-negativity. Nothing hidden may be
narrowed below the protection level (10), and no small hidden count may be proven small.

Then the three attacks of issue 18 by name: a quarter minus two of its months, a
neighbour's total from its project report, and periods one day apart.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from bench.reporting_bench import generate, open_stores
from shared.clock import FixedClock
from shared.domain import InvalidInput
from shared.eventstore import make_engine
from shared.eventstore.db import reader
from services.reporting import reader_attack as ra
from services.reporting.disclosure import TOTAL, Audience
from services.reporting.rebuild import StoreRowsFeed, rebuild
from services.reporting.reports import build_overview, parse_parameters

YEAR = 2025


@pytest.fixture(scope="module")
def projections(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("linked-attack")
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    stores = open_stores(folder, clock)
    generate(stores, clock, events=6_000, seed=11)
    engine = make_engine(f"sqlite:///{folder / 'reporting.db'}")
    asyncio.run(rebuild(engine, StoreRowsFeed(stores)))
    return engine


def _report(outcome: ra.Outcome) -> str:
    worst = (outcome.narrow + outcome.provably_small)[:5]
    return (f"{outcome.reader}: {outcome.reports} reports, {outcome.hidden} hidden cells, "
            f"{len(outcome.narrow)} narrower than 10, {len(outcome.provably_small)} provably small, "
            f"{outcome.seconds:.1f} s; first findings: {worst}")


@pytest.mark.parametrize("kind", [0, 1, 2], ids=["project-staff", "coordinator", "government"])
def test_every_table_one_reader_can_get_protects_every_hidden_cell(projections: Engine, kind: int) -> None:
    with reader(projections).connect() as conn:
        who = ra.readers(conn)[kind]
        outcome = ra.attack(conn, who, YEAR)
    print(_report(outcome))
    assert outcome.reports == len(who.scopes) * 23  # 12 months, 4 quarters in 2 grains, the year in 3
    assert outcome.hidden >= 50, outcome  # the reports must hide things for the attack to mean anything
    assert outcome.safe, _report(outcome)


def _attack_of(conn: Any, builds: list[Any]) -> ra.Outcome:
    started = time.perf_counter()
    collector = ra.Collector(conn, YEAR)
    for built in builds:
        collector.read(built, "reader")
    narrow, small, hidden = [], [], 0
    for cube in collector.cubes.values():
        for box, (low, high) in ra.bounds(cube).items():
            where, true = cube.hidden[box]
            hidden += 1
            if high - low < 10 - 1e-6:
                narrow.append(ra.Finding(where, true, low, high))
            if 0 < true < 10 and high < 10 - 1e-6:
                small.append(ra.Finding(where, true, low, high))
    return ra.Outcome("reader", len(builds), hidden, narrow, small, time.perf_counter() - started)


def _region(conn: Any) -> str:
    return next(s["region"] for s in ra.readers(conn)[1].scopes if "region" in s)


def test_a_quarter_minus_two_of_its_months(projections: Engine) -> None:
    """Q2 by quarter, Q2 by month, and April, May and June alone: one set of numbers, nothing to subtract."""
    with reader(projections).connect() as conn:
        region = _region(conn)
        base = {"audience": "coordinator", "region": region}
        quarter = build_overview(conn, {**base, "period_start": "2025-04-01", "period_end": "2025-06-30",
                                        "grain": "quarter"})
        by_month = build_overview(conn, {**base, "period_start": "2025-04-01", "period_end": "2025-06-30",
                                         "grain": "month"})
        alone = [build_overview(conn, {**base, "period_start": f"2025-0{m}-01", "period_end": end, "grain": "month"})
                 for m, end in ((4, "2025-04-30"), (5, "2025-05-31"), (6, "2025-06-30"))]
        for code, prot in by_month.protected.items():
            if not prot.population.periodic:
                continue
            months = prot.tables["main/by_period"]
            assert quarter.protected[code].total_cell().value == months.cell(TOTAL).value
            for month, report in zip(("2025-04", "2025-05", "2025-06"), alone, strict=True):
                # the month's own report shows exactly what the quarter's month row shows (or hides)
                assert report.protected[code].total_cell().value == months.cell(month).value, (code, month)
        outcome = _attack_of(conn, [quarter, by_month, *alone])
    assert outcome.hidden >= 10
    assert outcome.safe, _report(outcome)


def test_a_neighbours_total_from_the_project_report(projections: Engine) -> None:
    """A project total hidden in the region report stays hidden in the project report a coordinator opens."""
    with reader(projections).connect() as conn:
        region = _region(conn)
        projects = [s["project_id"] for s in ra.readers(conn)[1].scopes if "project_id" in s]
        year = {"period_start": "2025-01-01", "period_end": "2025-12-31", "grain": "quarter"}
        region_report = build_overview(conn, {"audience": "coordinator", "region": region, **year})
        project_reports = {p: build_overview(conn, {"audience": "coordinator", "project_id": p, **year})
                           for p in projects}
        hidden_somewhere = 0
        for code, prot in region_report.protected.items():
            by_unit = prot.tables["main/by_unit"]
            for p, report in project_reports.items():
                in_region = by_unit.cell(p).value
                in_project = report.protected[code].total_cell().value
                assert in_project == in_region, (code, p, in_region, in_project)
                hidden_somewhere += in_region is None
                if report.protected[code].population.periodic:
                    # per project, readers above the project get the year only: no quarter to subtract
                    assert all(c.suppressed for c in report.protected[code].tables["main/by_period"].cells
                               if c.row != TOTAL)
        assert hidden_somewhere > 0
        outcome = _attack_of(conn, [region_report, *project_reports.values()])
    assert outcome.safe, _report(outcome)


@pytest.mark.parametrize(("start", "end"), [
    ("2025-01-02", "2025-03-31"),  # a quarter less its first day
    ("2025-01-01", "2025-03-30"),  # a quarter less its last day
    ("2025-01-01", "2025-02-28"),  # two months: not a calendar period
    ("2024-12-01", "2025-02-28"),  # three months across a year: not a quarter
])
def test_periods_one_day_apart_are_refused(start: str, end: str) -> None:
    for audience, scope in ((Audience.government, {}), (Audience.coordinator, {"region": "limburg"}),
                            (Audience.project, {"project_id": "p01"})):
        with pytest.raises(InvalidInput) as refused:
            parse_parameters({"audience": audience, **scope, "period_start": start, "period_end": end,
                              "grain": "month"})
        assert "one calendar month, quarter or year" in str(refused.value)
        assert "kalendermaand" in str(refused.value)
