"""An intruder with linear programming against real overview reports.

For every population of the report (the group one indicator counts), the intruder takes
every published cell and margin of all its tables — the breakdowns by unit, by period and
by each attribute, as published — and the finest cells they are sums of (every
combination of unit, period and attributes), and bounds each hidden cell with
``scipy.optimize.linprog`` (``feasible_intervals``), knowing the exact value of every shown
cell (stronger than reading the rounded ones). No cell hidden because it is small may be
pinned down to an interval narrower than the protection the policy promises, and the
interval must reach down by ``min(a, p div 2)`` and up by the rest around the true value.
The journey tables only repeat population totals (checked), and the breakdowns without
totals (life domains, activities, themes, running duos per period) are attacked on their
own.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from bench.reporting_bench import generate, open_stores
from shared.clock import FixedClock
from shared.eventstore import make_engine
from shared.eventstore.db import reader
from services.reporting.disclosure import (
    TOTAL, CellStatus, CountCube, ProtectedTable, feasible_intervals, protection_levels)
from services.reporting.document import ReportDocument
from services.reporting.rebuild import StoreRowsFeed, rebuild
from services.reporting.reports import Built, build_overview
from services.reporting.sdc.attacker import members


@pytest.fixture(scope="module")
def projections(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("attack")
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    stores = open_stores(folder, clock)
    generate(stores, clock, events=25_000, seed=11)
    engine = make_engine(f"sqlite:///{folder / 'reporting.db'}")
    asyncio.run(rebuild(engine, StoreRowsFeed(stores)))
    return engine


def published_tables(doc: dict[str, Any], indicator: str) -> dict[str, ProtectedTable]:
    return {v["table"]["name"]: ProtectedTable.model_validate(v["table"])
            for s in doc["sections"] for v in s["tables"] if v["indicator"] == indicator}


def attack(cube: CountCube, published: list[ProtectedTable], internal: dict[tuple[str, str, str], Any],
           protection: int, threshold: int = 10) -> tuple[int, int]:
    """(small hidden cells checked, hidden cells in all) — fails on any that is not protected."""
    intervals = feasible_intervals(cube, published, knowledge="exact")
    checked = 0
    for (table, row, col), (low, high) in intervals.items():
        cell = internal[(table, row, col)]
        if cell.status not in (CellStatus.below_threshold, CellStatus.forced):
            continue  # complementary cells are large and get no promise of their own
        true = cell_value(cube, published, table, row, col)
        assert high - low >= protection - 1e-6, (table, row, col, true, low, high)
        assert low - 1e-6 <= true <= high + 1e-6 and high >= threshold - 1e-6, (table, row, col, true, low, high)
        checked += 1
    return checked, len(intervals)


def cell_value(cube: CountCube, tables: list[ProtectedTable], table: str, row: str, col: str) -> int:
    t = next(t for t in tables if t.name == table)
    return sum(cube.value(cube.base[b]) for b in members(cube, t, row, col))


def check_report(built: Built) -> dict[str, int]:
    doc = built.content
    ReportDocument.model_validate(doc)
    # the published statuses do not tell the small hidden cells from the ones that protect them
    statuses = {c["status"] for s in doc["sections"] for v in s["tables"] for c in v["table"]["cells"]
                if c["value"] is None}
    assert statuses == {"forced"}, statuses
    protection = built.policy.protection
    checked = hidden = 0
    for code, prot in built.protected.items():
        # Everything the report publishes of this population: its tables as published, and the
        # journey tables, which repeat its by-unit and by-period cells (checked below).
        views = published_tables(doc, code)
        for name, view in views.items():
            internal_table = next(t for t in prot.tables.values() if t.name == name)
            assert [(c.row, c.col, c.value) for c in view.cells] == \
                [(c.row, c.col, c.value) for c in internal_table.cells], (code, name)
        tables = list(prot.tables.values())
        internal = {(t.name, c.row, c.col): c for t in tables for c in t.cells}
        done, all_hidden = attack(prot.joint_cube(built.unit_dim, built.period_dim), tables, internal, protection)
        checked, hidden = checked + done, hidden + all_hidden
    for code, (cube, table) in built.independent.items():
        internal = {(table.name, c.row, c.col): c for c in table.cells}
        done, all_hidden = attack(cube, [table], internal, protection)
        checked, hidden = checked + done, hidden + all_hidden
    return {"checked": checked, "hidden": hidden}


def journeys_repeat_totals(built: Built) -> None:
    """The journey tables publish nothing new: each cell is a population's total, by-unit or by-period cell."""
    for s in built.content["sections"]:
        for v in s["tables"]:
            table = v["table"]
            if table["rows_axis"]["name"] == "step":
                for cell in table["cells"]:
                    assert cell["value"] == built.protected[cell["row"]].total_cell().value
            elif table["cols_axis"] and table["cols_axis"]["name"] == "step":
                for cell in table["cells"]:
                    prot = built.protected[cell["col"]]
                    source = prot.tables["main/by_period" if table["name"].endswith("by_period") else "main/by_unit"]
                    assert cell["value"] == source.cell(cell["row"], TOTAL).value


@pytest.mark.parametrize("params", [
    {"audience": "coordinator", "region": "antwerpen-kempen", "grain": "quarter"},
    {"audience": "government", "grain": "month"},
    {"audience": "project", "project_id": "p04", "grain": "quarter"},
], ids=["coordinator-region-by-quarter", "government-flanders-by-month", "project-by-quarter"])
def test_no_small_hidden_cell_can_be_narrowed_by_linear_programming(projections: Engine, params: dict[str, Any]) -> None:
    with reader(projections).connect() as conn:
        built = build_overview(conn, {**params, "period_start": "2025-01-01", "period_end": "2025-12-31"})
    journeys_repeat_totals(built)
    started = time.perf_counter()
    found = check_report(built)
    print(f"{params}: {found} in {time.perf_counter() - started:.1f} s")
    # the report must actually hide things for the attack to mean anything
    assert found["checked"] >= 10, found
