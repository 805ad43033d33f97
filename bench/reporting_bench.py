"""Reporting benchmark: rebuild throughput and report latency on a synthetic history.

    .venv/bin/python -m bench.reporting_bench                  # Flanders: 10 million events
    .venv/bin/python -m bench.reporting_bench --factor 0.1     # a tenth of it (≈ 1 million)

The history is ``bench.reporting_history``: by default Flanders (300 projects in three
regions over five years, about 30,000 volunteers, 30,000 participants and 10 million
events, most of them contacts), deterministic by seed, bulk-imported straight into the
three producers' stores and kept in ``var/bench-cache/`` (or ``BUDDY_BENCH_CACHE``) under
a name made of its scale and seed, so a second run reuses it.

Measured: the rebuild of fresh projections from the stores' feeds (events per second,
against a peer that only reads and decodes the same events: the floor any projection
pays), and the latency (p50/p95) of overview reports for the three audiences: the first
computation of each (cold: nothing remembered) and repeated ones.

``run(quick, scale)`` returns ``bench.common.Result`` rows (for ``python -m bench``).
Not a test: nothing asserts a time. The machine may be shared: compare a figure with its
peer of the same run, not with another run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Result
from bench import reporting_history
from bench.reporting_history import FLANDERS, REGIONS, SERVICES, Scale, cached_history, open_stores
from shared.bus import StoreFeed
from shared.eventstore import make_engine
from shared.eventstore.db import reader

__all__ = ["FLANDERS", "Scale", "generate", "measure", "open_stores", "run"]

QUICK = 0.006  # of Flanders: ≈ 60,000 events, 23 projects, 180 volunteers


def generate(stores: dict[str, Any], clock: Any = None, *, events: int | None = None, seed: int = FLANDERS.seed,
             scale: Scale | None = None) -> dict[str, int]:
    """Bulk-import a history into empty stores: ``scale``, or Flanders scaled to about ``events``.

    (``clock`` is not used: recorded times follow the simulated calendar.)
    """
    size = scale or (FLANDERS.scaled(events / FLANDERS.events) if events else FLANDERS)
    return reporting_history.generate(stores, Scale(**{**size.__dict__, "seed": seed}))


# --------------------------------------------------------------------------- measurements
REPORTS = {
    "government, all of Flanders, a year by month": {"audience": "government", "grain": "month"},
    "government, all of Flanders, a year by quarter": {"audience": "government", "grain": "quarter"},
    "coordinator, one region, a year by quarter": {"audience": "coordinator", "region": REGIONS[0], "grain": "quarter"},
    "coordinator, one region, a year by month": {"audience": "coordinator", "region": REGIONS[0], "grain": "month"},
    "project staff, one project, a year by month": {"audience": "project", "project_id": "p01", "grain": "month"},
}


def report_parameters(kind: dict[str, Any], year: int = 2025) -> dict[str, Any]:
    return {**kind, "period_start": f"{year}-01-01", "period_end": f"{year}-12-31"}


def decode_only(feed: Any, until: dict[str, int], page: int = 2000) -> int:
    """The peer of the envelope path: read every event from the feed and decode its payload, writing nothing."""
    from shared.events.registry import REGISTRY

    async def run() -> int:
        n = 0
        for name in SERVICES:
            position = 0
            while position < until[name]:
                envs = [e for e in await feed.read(name, position, page) if e.position <= until[name]]
                if not envs:
                    break
                for env in envs:
                    REGISTRY.decode_known(env.type, env.schema_version, env.payload)
                n += len(envs)
                position = envs[-1].position
        return n

    return asyncio.run(run())


def parse_only(feed: Any, until: dict[str, int], page: int = 20_000) -> int:
    """The peer of the row path: read every stored row and parse its payload JSON, writing nothing."""

    async def run() -> int:
        n = 0
        for name in SERVICES:
            position = 0
            while position < until[name]:
                rows = [r for r in await feed.read_rows(name, position, page) if r[0] <= until[name]]
                if not rows:
                    break
                for row in rows:
                    json.loads(row[6])
                n += len(rows)
                position = rows[-1][0]
        return n

    return asyncio.run(run())


ENVELOPE_EVENTS = 300_000  # the envelope path is measured on the first this many events (it is the slow one)


def measure(scale: Scale, repeat: int, cache: Path | None = None, *,
            out: Callable[[str], None] = print) -> list[Result]:
    from services.reporting.rebuild import StoreRowsFeed, rebuild
    from services.reporting.reports import compute

    started = time.perf_counter()
    folder, counts, reused = cached_history(scale, cache, progress=out)
    total = sum(counts.values())
    made = "reused" if reused else f"generated in {time.perf_counter() - started:.0f} s"
    out(f"{'reusing' if reused else 'generated'} {total:,} events {counts} in {folder.name}"
        f"{'' if reused else f' ({made})'}")
    results = [Result("reporting", "synthetic history", total, "events",
                      note=f"{scale.projects} projects, {scale.regions} regions, {scale.years} years, "
                           f"≈{scale.volunteers:,} volunteers, ≈{scale.participants:,} participants, seed {scale.seed}; "
                           f"{made}")]
    stores = open_stores(folder)
    heads = {name: store.head()[0] for name, store in stores.items()}
    share = min(1.0, ENVELOPE_EVENTS / max(1, total))
    part = {name: round(head * share) for name, head in heads.items()}
    with tempfile.TemporaryDirectory(prefix="buddy-bench-reporting-") as work:
        engine = None
        for label, feed, until, peer, peer_label in (
                ("the stores' feed (StoreFeed, validated envelopes)", StoreFeed(stores), part, decode_only,
                 "the same feed read and decoded only (no projection)"),
                ("raw store rows (StoreRowsFeed)", StoreRowsFeed(stores), heads, parse_only,
                 "the same rows read and their JSON parsed only (no projection)")):
            n = sum(until.values())
            begun = time.perf_counter()
            read = peer(feed, until)
            peer_rate = read / (time.perf_counter() - begun)
            if engine is not None:
                engine.dispose()
            engine = make_engine(f"sqlite:///{Path(work) / f'reporting-{len(results)}.db'}")
            begun = time.perf_counter()
            asyncio.run(rebuild(engine, feed, watermark=until))
            seconds = time.perf_counter() - begun
            scope = f"{n:,} events" + (f" (the first {share:.0%} of each log)" if until is part and share < 1 else "")
            out(f"rebuild from {label}: {n / seconds:,.0f} events/s ({seconds:.1f} s, {scope}); "
                f"peer: {peer_rate:,.0f} events/s")
            results.append(Result("reporting", f"rebuild of all projections from {label}, SQLite", n / seconds,
                                  "events/s", peer_label, peer_rate, f"{scope}, three producers"))
        assert engine is not None
        with reader(engine).connect() as conn:
            for name, kind in REPORTS.items():
                begun = time.perf_counter()
                compute(conn, "overview", report_parameters(kind))
                cold = time.perf_counter() - begun
                times = []
                for _ in range(repeat):
                    begun = time.perf_counter()
                    compute(conn, "overview", report_parameters(kind))
                    times.append(time.perf_counter() - begun)
                p50, p95 = _percentile(times, 50), _percentile(times, 95)
                out(f"report {name}: first {cold * 1000:,.0f} ms, then p50 {p50 * 1000:,.0f} ms, "
                    f"p95 {p95 * 1000:,.0f} ms ({repeat} runs)")
                note = f"{repeat} runs after the first, {total:,} events"
                results.append(Result("reporting", f"overview report p50, {name}", p50 * 1000, "ms", note=note))
                results.append(Result("reporting", f"overview report p95, {name}", p95 * 1000, "ms", note=note))
                results.append(Result("reporting", f"overview report, first computation, {name}", cold * 1000, "ms",
                                      note=f"nothing remembered yet (suppression patterns), {total:,} events"))
        engine.dispose()
    for store in stores.values():
        store.engine.dispose()
    return results


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    """Quick: ≈ 60,000 events; full: Flanders (10 million), both times ``scale``."""
    size = FLANDERS.scaled((QUICK if quick else 1.0) * scale)
    return measure(size, 3 if quick else 10, out=lambda line: print(line, file=sys.stderr, flush=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reporting_bench")
    parser.add_argument("--factor", type=float, default=1.0, help="of Flanders (people and events; default 1)")
    parser.add_argument("--seed", type=int, default=FLANDERS.seed)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--cache", type=Path, default=None,
                        help="where histories are kept (default var/bench-cache, or BUDDY_BENCH_CACHE)")
    args = parser.parse_args(argv)
    size = FLANDERS.scaled(args.factor) if args.factor != 1.0 else FLANDERS
    measure(Scale(**{**size.__dict__, "seed": args.seed}), args.repeat, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
