"""The attack across reports at the size the government reads: 300 projects.

    .venv/bin/python -m bench.reporting_linked_attack            # 300 projects in three regions
    .venv/bin/python -m bench.reporting_linked_attack --quick    # 23 projects

The intruder of ``services.reporting.reader_attack`` (LP with scipy's HiGHS, exact
knowledge of every shown count, the zero rule, non-negativity) against every overview
of 2025 the government (admins, auditors) can ask for: all of Flanders and every region,
for every calendar month, quarter and the year in every grain it allows (23 each). The
project reports they can also open are left out of the collection because they show
nothing the region reports do not: above the project a project's figures are released
per year only, which the region's year report shows too, and its breakdowns are not
released at that level (the integration test ``test_reporting_linked_attack.py`` builds
them all on a small history). Every project cell by month and quarter is still attacked:
the region reports list them, hidden.

Measured: the first computation of the year's releases (what a dashboard waits for after
new events: every population protected over all projects), a report once they are
remembered, and the attack's run time with its findings. Targets: the releases within
``RELEASE_TARGET_S`` (a dashboard that waits longer after new events is not usable), the
attack with 0 findings within ``ATTACK_TARGET_S``; each reported as met / not met.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import Result
from bench.reporting_history import FLANDERS, Scale, cached_history, open_stores
from shared.eventstore import make_engine
from shared.eventstore.db import reader

QUICK = 0.006  # of Flanders, as the reporting benchmark: ≈ 23 projects
FULL = replace(FLANDERS, volunteers=6_000, participants=6_000, events=1_000_000)  # 300 projects, fewer people
RELEASE_TARGET_S = 30.0
ATTACK_TARGET_S = 1_800.0
YEAR = 2025


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def measure(scale: Scale, *, out=print) -> list[Result]:  # type: ignore[no-untyped-def]
    from services.reporting import reader_attack as ra
    from services.reporting.disclosure import Audience
    from services.reporting.queries import project_register
    from services.reporting.rebuild import StoreRowsFeed, rebuild
    from services.reporting.reports import build_overview

    folder, counts, _ = cached_history(scale, None, progress=out)
    stores = open_stores(folder)
    results = []
    with tempfile.TemporaryDirectory(prefix="buddy-bench-linked-") as work:
        engine = make_engine(f"sqlite:///{Path(work) / 'reporting.db'}")
        asyncio.run(rebuild(engine, StoreRowsFeed(stores)))
        with reader(engine).connect() as conn:
            regions = sorted({p.region for p in project_register(conn).values()})
            params = {"audience": "government", "period_start": f"{YEAR}-01-01", "period_end": f"{YEAR}-12-31",
                      "grain": "month"}
            begun = time.perf_counter()
            build_overview(conn, params)
            cold = time.perf_counter() - begun
            begun = time.perf_counter()
            build_overview(conn, {**params, "grain": "quarter"})
            warm = time.perf_counter() - begun
            out(f"releases of {YEAR} and the first report: {cold:.1f} s; another report then: {warm:.2f} s "
                f"(target {RELEASE_TARGET_S:.0f} s: {_met(cold <= RELEASE_TARGET_S)})")
            who = ra.Reader("government", Audience.government, ({}, *({"region": r} for r in regions)))
            outcome = ra.attack(conn, who, YEAR, budget_s=ATTACK_TARGET_S)
        engine.dispose()
    for store in stores.values():
        store.engine.dispose()
    safe = outcome.safe
    stopped = "" if outcome.complete else " (stopped at the time budget: not every hidden cell bounded)"
    out(f"attack{stopped}: {outcome.reports} reports, {outcome.hidden} hidden cells, {len(outcome.narrow)} narrower than "
        f"10, {len(outcome.provably_small)} provably small, {outcome.seconds:.0f} s (building the reports "
        f"{outcome.reports_seconds:.0f} s); target 0 findings within {ATTACK_TARGET_S:.0f} s: "
        f"{_met(safe and outcome.seconds <= ATTACK_TARGET_S)}")
    note = f"{scale.projects} projects, {scale.regions} regions, {sum(counts.values()):,} events, seed {scale.seed}"
    results.append(Result("reporting", "linked releases of a year, first computation (government, by month)", cold,
                          "s", note=f"{note}; target ≤ {RELEASE_TARGET_S:.0f} s: {_met(cold <= RELEASE_TARGET_S)}"))
    results.append(Result("reporting", "overview once the releases are remembered", warm * 1000, "ms", note=note))
    results.append(Result(
        "reporting", "attack across every government report of a year (LP, HiGHS)", outcome.seconds, "s",
        note=f"{note}; {outcome.reports} reports{stopped}, {outcome.hidden} hidden cells, {len(outcome.narrow)} narrower "
             f"than 10, {len(outcome.provably_small)} provably small; target 0 within {ATTACK_TARGET_S:.0f} s: "
             f"{_met(safe and outcome.seconds <= ATTACK_TARGET_S)}"))
    return results


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    size = FLANDERS.scaled(QUICK * scale) if quick else FULL
    return measure(size, out=lambda line: print(line, file=sys.stderr, flush=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reporting_linked_attack")
    parser.add_argument("--quick", action="store_true", help=f"≈ {FLANDERS.scaled(QUICK).projects} projects")
    args = parser.parse_args(argv)
    for r in run(args.quick):
        print(f"{r.name}: {r.value:,.2f} {r.unit} — {r.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
