"""`python -m bench [--quick]`: run the benchmarks, print a table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path

from collections.abc import Callable
from dataclasses import dataclass

from bench.common import Result

SUITES = ("bench.store", "bench.bus", "bench.http_load", "bench.lag", "bench.matching_bench", "bench.reporting_bench",
          "bench.web_pages", "bench.reporting_linked_attack")


def machine() -> str:
    cores = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    return f"{platform.machine()}, {cores} cores, {mem:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def versions() -> str:
    """Library and server versions the figures were measured with."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("sqlalchemy", "psycopg", "pydantic", "fastapi", "uvicorn", "faststream", "redis", "eventsourcing"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


def servers() -> str:
    """The Redis and PostgreSQL servers' own versions, where they answer."""
    parts = []
    try:
        import redis

        url = os.environ.get("BUDDY_BENCH_REDIS_URL") or os.environ.get("BUDDY_TEST_REDIS_URL")
        if url:
            parts.append(f"Redis {redis.Redis.from_url(url).info('server')['redis_version']}")
        else:
            parts.append("Redis: a private server started from the redis-server binary")
    except Exception as exc:  # noqa: BLE001 - a version line must not stop the report
        parts.append(f"Redis: unknown ({type(exc).__name__})")
    admin = os.environ.get("BUDDY_BENCH_DATABASE_URL") or os.environ.get("BUDDY_TEST_DATABASE_URL")
    if admin:
        try:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            engine = create_engine(make_url(admin).set(drivername="postgresql+psycopg"))
            with engine.connect() as conn:
                parts.append(f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}")
            engine.dispose()
        except Exception as exc:  # noqa: BLE001
            parts.append(f"PostgreSQL: unknown ({type(exc).__name__})")
    import sqlite3

    parts.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(parts)


def table(results: list[Result]) -> str:
    lines = ["| group | measurement | ours | peer | peer figure | ratio | notes |", "|---|---|---|---|---|---|---|"]
    for r in results:
        peer = f"{r.peer_value:,.0f} {r.unit}" if r.peer_value else "—"
        ratio = f"{r.ratio:.2f}×" if r.ratio else "—"
        lines.append(f"| {r.group} | {r.name} | {r.value:,.0f} {r.unit} | {r.peer or '—'} | {peer} | {ratio} | {r.note} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    """A target of the performance issue, judged on the rows it names."""

    text: str
    rows: Callable[[Result], bool]
    met: Callable[[Result], bool]
    shown: Callable[[Result], str]
    context: Callable[[list[Result]], str] | None = None  # from the whole run: what the figures are of
    full_size: bool = False  # meant for the full sizes: a quick (or scaled-down) run does not judge it


def _history(results: list[Result]) -> str:
    sizes = [r.value for r in results if r.name == "synthetic history"]
    return f" (history of {sizes[0]:,.0f} events)" if sizes else ""


def _ratio(r: Result) -> str:
    return f"{r.name}: {r.ratio:.2f}×" if r.ratio else f"{r.name}: no peer"


TARGETS = (
    Target("event-store appends ≥ 3× the eventsourcing library's on the same database",
           lambda r: r.group == "event store", lambda r: (r.ratio or 0) >= 3, _ratio),
    Target("reporting consumption ≥ 25% of the bare redis-py loop",
           lambda r: r.name == "reporting consumption", lambda r: (r.ratio or 0) >= 0.25, _ratio),
    Target("rebuild ≥ 100,000 events/s (10 million in < 100 s)",
           lambda r: r.name.startswith("rebuild of all projections"), lambda r: r.value >= 100_000,
           lambda r: f"{r.name.split(' from ')[1]}: {r.value:,.0f} events/s", _history, full_size=True),
    Target("commands ≥ 1,000/s per service on SQLite",
           lambda r: r.group == "HTTP commands, SQLite" and r.unit == "req/s", lambda r: r.value >= 1_000,
           lambda r: f"{r.name.split(':')[0]}: {r.value:,.0f}/s"),
    Target("command p99 < 25 ms on SQLite",
           lambda r: r.group == "HTTP commands, SQLite" and r.unit == "µs", lambda r: r.value < 25_000,
           lambda r: f"{r.name.split(':')[0]}: {r.value / 1000:,.0f} ms"),
    Target("command → reporting lag p99 < 1 s at 500 events/s",
           lambda r: r.name == "lag p99", lambda r: r.value < 1_000,
           lambda r: f"{r.group.split(', ')[-1]}: {r.value:,.0f} ms"),
    Target("overview report p95 < 100 ms on the 10-million-event history",
           lambda r: r.name.startswith("overview report p95"), lambda r: r.value < 100,
           lambda r: f"{r.name.split(', ')[1]} {r.name.split(', ')[-1].replace('a year ', '')}: {r.value:,.0f} ms",
           _history, full_size=True),
    Target("every web page's server time p95 < 150 ms on the Flanders-scale data (300 projects, ≈30,000 volunteers)",
           lambda r: r.group.startswith("web pages") and r.name.endswith(": page p95"), lambda r: r.value < 150,
           lambda r: f"{r.name.removesuffix(': page p95')}: {r.value:,.0f} ms"
                     + (f" (its API calls {r.peer_value:,.0f} ms)" if r.peer_value else ""),
           full_size=True),
    Target("each service < 300 MB resident",
           lambda r: r.group.startswith("peak memory"), lambda r: r.value * 1.048576 < 300,
           lambda r: f"{r.name.split()[0]} {r.value:,.0f} MiB"),
)


def targets(results: list[Result], *, full_size: bool = True) -> str:
    """Each target with the figures it was judged on and whether all of them meet it.

    ``full_size`` false (quick mode, or a scaled-down run): the targets meant for the full
    sizes show their figures but are not judged on them."""
    lines = ["| target | figures | judged |", "|---|---|---|"]
    for target in TARGETS:
        rows = [r for r in results if target.rows(r)]
        if not rows:
            lines.append(f"| {target.text} | not measured in this run | — |")
            continue
        shown = "; ".join(dict.fromkeys(target.shown(r) for r in rows))
        shown += target.context(results) if target.context else ""
        if target.full_size and not full_size:
            verdict = "not judged at this size"
        else:
            verdict = "met" if all(target.met(r) for r in rows) else "**not met**"
        lines.append(f"| {target.text} | {shown} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, for everyday use and the test suite")
    parser.add_argument("--out", type=Path, default=None, help="write the report here (default: print only)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (the test suite uses a tiny one)")
    parser.add_argument("--only", action="append", choices=[name.split(".")[-1] for name in SUITES], default=None,
                        help="run only this suite (repeatable)")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for name in SUITES:
        if args.only and name.split(".")[-1] not in args.only:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(importlib.import_module(name).run(args.quick, args.scale))
    report = "\n".join([
        "# Benchmarks",
        "",
        f"- measured: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, mode: {'quick' if args.quick else 'full'}",
        f"- machine: {machine()}",
        f"- libraries: {versions()}",
        f"- servers: {servers()}",
        f"- PostgreSQL: {'yes' if os.environ.get('BUDDY_BENCH_DATABASE_URL') or os.environ.get('BUDDY_TEST_DATABASE_URL') else 'not given (SQLite only)'}",
        "",
        table(results),
        "",
        "## Targets",
        "",
        targets(results, full_size=not args.quick and args.scale >= 1.0),
        "",
        "Rerun: `make bench` (full) or `make bench-quick`. Set `BUDDY_BENCH_DATABASE_URL` (an admin URL of a",
        "PostgreSQL server; the benchmark creates and drops its own database) and optionally",
        "`BUDDY_BENCH_REDIS_URL` (otherwise a private Redis is started). Ratios compare figures",
        "measured in the same run on the same machine.",
        "",
    ])
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
