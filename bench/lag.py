"""End-to-end lag: from an accepted command to its effect in the reporting projections.

The four services run as real processes on SQLite (and PostgreSQL in full mode when a
server is given). An open-loop generator in its own process sends commands at a steady
rate — enquiries to recruitment, referrals to matching and contacts to followup in
turn, one event each — every request with its own correlation id, and notes the wall
clock time of each 2xx answer.

How the effect is seen, without distorting it: the reporting consumer applies an event
and advances its checkpoint (``consumer_checkpoints``) in one transaction, so the
checkpoint passing an event's position means the projections reflect it. A thread of
this process reads the three checkpoint rows of the reporting database every
``POLL_S`` (one indexed single-row read, no HTTP, nothing the service does for us) and
notes when each position was first seen. Afterwards each producer's event log gives
the position of every correlation id. Lag = first time the checkpoint was seen at or past
the command's last event − time of the command's answer (0 when reporting had it before
the answer reached the client); resolution ``POLL_S``. When the services cannot take the
rate, the requests that find every connection busy are not sent and are counted.
Afterwards the peak resident memory (VmHWM) of each service process is read.
"""

from __future__ import annotations

import bisect
import math
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import http_load, loadgen
from bench.common import Result, ServiceProcesses, peak_rss_mb, postgres_admin_url, redis_url

PRODUCERS = ("recruitment", "matching", "followup")
POLL_S = 0.002


class CheckpointWatch:
    """Polls the reporting consumer's checkpoints; ``seen(upstream, position)`` says since when."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.history: dict[str, tuple[list[int], list[float]]] = {p: ([], []) for p in PRODUCERS}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpoint-watch", daemon=True)

    def __enter__(self) -> "CheckpointWatch":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _run(self) -> None:
        query = text("SELECT upstream, position FROM consumer_checkpoints WHERE consumer = 'reporting'")
        with self.engine.connect() as conn:
            while not self._stop.is_set():
                now = time.time()
                for upstream, position in conn.execute(query):
                    positions, times = self.history.get(upstream, ([], []))
                    if upstream in self.history and (not positions or position > positions[-1]):
                        positions.append(int(position))
                        times.append(now)
                time.sleep(POLL_S)

    def current(self, upstream: str) -> int:
        positions = self.history[upstream][0]
        return positions[-1] if positions else 0

    def seen(self, upstream: str, position: int) -> float | None:
        positions, times = self.history[upstream]
        i = bisect.bisect_left(positions, position)
        return times[i] if i < len(times) else None


def positions_by_correlation(url: str) -> dict[str, int]:
    """The last event position of every correlation id in one producer's log."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT correlation_id, MAX(position) FROM events GROUP BY correlation_id"))
            return {str(c): int(p) for c, p in rows}
    finally:
        engine.dispose()


def heads(urls: dict[str, str]) -> dict[str, int]:
    engines = {name: create_engine(url) for name, url in urls.items()}
    try:
        out = {}
        for name, engine in engines.items():
            with engine.connect() as conn:
                out[name] = int(conn.execute(text("SELECT position FROM store_head WHERE id = 1")).scalar() or 0)
        return out
    finally:
        for engine in engines.values():
            engine.dispose()


def measure(database: str, *, rate: float, duration_s: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="buddy-bench-lag-") as folder, redis_url() as (redis, prefix), \
            http_load.running(database, Path(folder), redis, prefix) as system:
        db_url = {name: (system.env.get("BUDDY_DATABASE_URL") or f"sqlite:///{Path(folder) / '{service}.db'}")
                  .replace("{service}", name) for name in http_load.SERVICES}
        urls = system.urls
        http_load.register_project(urls)
        duos = http_load.set_up_duos(urls, 4)
        targets = [
            (f"{urls['recruitment']}/projects/{http_load.PROJECT}/volunteers", http_load.enquiry_body()),
            (f"{urls['matching']}/projects/{http_load.PROJECT}/participants", http_load.referral_body()),
            *[(f"{urls['followup']}/duos/{d}/contacts", http_load.contact_body()) for d in duos[:1]],
        ]
        with CheckpointWatch(db_url["reporting"]) as watch:
            answers, errors, shed, behind = loadgen.paced(targets, http_load.PRO, rate=rate, duration_s=duration_s)
            wanted = heads({p: db_url[p] for p in PRODUCERS})
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and any(watch.current(p) < h for p, h in wanted.items()):
                time.sleep(0.05)
        where = {p: positions_by_correlation(db_url[p]) for p in PRODUCERS}
        lags, unseen = [], 0
        accepted = [a for a in answers if 200 <= a.status < 300]
        for answer in accepted:
            producer = PRODUCERS[min(answer.target, 2)]
            position = where[producer].get(answer.correlation_id)
            applied = watch.seen(producer, position) if position is not None else None
            if applied is None:
                unseen += 1
            else:
                lags.append(max(0.0, applied - answer.answered_at))
        memory = {name: peak_rss_mb(system.pid(name)) for name in http_load.SERVICES}
    sent = int(rate * duration_s)
    command_p99 = loadgen.percentile([a.latency_s for a in answers], 99) * 1000
    checked = (f"{len(accepted):,}/{sent:,} commands accepted (2xx)"
               + (f", {len(answers) - len(accepted):,} refused" if len(answers) > len(accepted) else "")
               + (f", {errors:,} transport errors/timeouts" if errors else "")
               + (f", {shed:,} not sent: all connections were waiting (rate not sustained)" if shed else "")
               + (f", {unseen:,} never seen in reporting" if unseen else ""))
    how = (f"open loop {rate:.0f} commands/s for {duration_s:.0f} s over recruitment, matching and followup; "
           f"checkpoint polled every {POLL_S * 1000:.0f} ms; generator fell behind by at most {behind * 1000:.0f} ms; "
           f"command p99 {command_p99:.0f} ms")
    group = f"command → reporting lag, {database}"
    results = [
        Result(group, "lag p50", loadgen.percentile(lags, 50) * 1000 if lags else math.nan, "ms", note=checked),
        Result(group, "lag p99", loadgen.percentile(lags, 99) * 1000 if lags else math.nan, "ms",
               note=f"target p99 < 1,000 ms; {how}"),
    ]
    for name, mib in memory.items():
        results.append(Result(f"peak memory, {database}", f"{name} after the lag run", mib, "MiB",
                              note="VmHWM; target < 300 MiB"))
    return results


def run(quick: bool, scale: float) -> list[Result]:
    rate = max(20.0, 500 * min(scale, 1.0))
    duration_s = max(1.0, round((3 if quick else 10) * min(scale, 1.0)))
    databases = ["SQLite"] + (["PostgreSQL"] if postgres_admin_url() and not quick else [])
    results: list[Result] = []
    for database in databases:
        results.extend(measure(database, rate=rate, duration_s=duration_s))
    return results
