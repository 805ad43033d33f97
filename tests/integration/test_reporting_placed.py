"""The overview reports count in the database by their own cells (unit and bucket) and
publish exactly what the reference path publishes: the facts read per project and month
and grouped in Python. Every audience, grain and basis, on a generated history with every
event type, on SQLite and PostgreSQL (the GROUP BY of the bucket must compile on both).
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from bench.reporting_bench import generate, open_stores
from bench.reporting_history import REGIONS
from shared.eventstore import make_engine
from shared.eventstore.db import reader
from services.reporting import queries as q
from services.reporting.rebuild import StoreRowsFeed, rebuild
from services.reporting.reports import build_overview

AUDIENCES = [
    {"audience": "government"},
    {"audience": "coordinator", "region": REGIONS[0]},
    {"audience": "project", "project_id": "p01"},
]


def test_placed_reports_equal_the_reference(tmp_path: Path, database_url: str) -> None:
    stores = open_stores(tmp_path)
    generate(stores, events=15_000, seed=11)
    engine = make_engine(database_url)
    asyncio.run(rebuild(engine, StoreRowsFeed(stores), watermark={u: s.head()[0] for u, s in stores.items()}))
    compared = hidden = 0
    with reader(engine).connect() as conn:
        for scope in AUDIENCES:
            for grain in ("month", "quarter", "year"):
                for basis in ("occurred", "recorded"):
                    for start, end in (("2025-01-01", "2025-12-31"), ("2025-04-01", "2025-06-30")):
                        if grain == "year" and end == "2025-06-30":
                            continue  # a quarter is not broken down by year
                        parameters = {**scope, "grain": grain, "basis": basis, "period_start": start,
                                      "period_end": end}
                        placed = build_overview(conn, parameters)
                        reference = build_overview(conn, parameters, placed=False)
                        assert placed.content == reference.content, parameters
                        assert placed.pattern == reference.pattern, parameters
                        compared += 1
                        hidden += sum(len(cells) for cells in placed.pattern.values())
    engine.dispose()
    for store in stores.values():
        store.engine.dispose()
    assert compared == 30 and hidden > 0  # the comparison covers suppressed cells too


def test_a_fact_of_a_project_outside_the_register_has_no_place(tmp_path: Path) -> None:
    """Grouped by region, a project the register does not know counts nowhere (as before)."""
    from services.reporting.read_models import metadata, projects, volunteers

    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(projects.insert(), [{"project_id": "p1", "title": "P1", "region": "gent",
                                          "municipality_nis": "44021", "target_groups": "",
                                          "registered_on": "2025-01-01", "registered_rec": "2025-01-01"}])
        conn.execute(volunteers.insert(), [
            {"volunteer_id": f"v{i}", "project_id": project, "status": "enquired", "channel": "website",
             "enquired_on": day, "enquired_rec": day}
            for i, (project, day) in enumerate([("p1", "2025-01-03"), ("p1", "2025-02-03"), ("p1", "2025-04-01"),
                                                ("p9", "2025-01-05")])])
        placing = q.Placing("region", (("2025-01", "2025-Q1"), ("2025-02", "2025-Q1"), ("2025-03", "2025-Q1"),
                                       ("2025-04", "2025-Q2")))
        window = q.Window(date(2025, 1, 1), date(2025, 4, 30), "occurred", None, placing)
        facts = q.volunteer_steps(conn, window)["volunteers_enquired"]
    assert sorted(((f.project, f.month, f.attrs, f.n, f.placed) for f in facts), key=str) == [
        ("gent", "2025-Q1", ("website",), 2, True), ("gent", "2025-Q2", ("website",), 1, True),
        (None, "2025-Q1", ("website",), 1, True)]


def test_a_placing_takes_only_month_and_bucket_labels() -> None:
    with pytest.raises(ValueError):
        q.Placing("project", (("2025-01", "2025-Q1' OR '1'='1"),))
