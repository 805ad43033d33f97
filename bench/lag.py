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

The rate is events per second through the bus and the reporting consumer. Commands over
HTTP give at most ``COMMANDS_PER_S`` of them (what three services take on a shared 2-core
machine next to the generator); the rest comes from a second process that appends the
recruitment events of a small simulated history (projects, the volunteer journey) straight
into recruitment's store every 100 ms, through ``EventStore.append_many`` — the relay and
the consumer cannot tell them from a command's. The lag is measured on the commands.
"""

from __future__ import annotations

import bisect
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import http_load, loadgen
from bench.common import Result, peak_rss_mb, postgres_admin_url, redis_url

PRODUCERS = ("recruitment", "matching", "followup")
POLL_S = 0.002
COMMANDS_PER_S = 100.0
TICK_S = 0.1


def background_events(n: int, seed: int = 11) -> list[tuple[str, object]]:
    """The first ``n`` recruitment events of a small simulated history, as (stream, NewEvent)."""
    from bench.reporting_history import Scale, Simulation
    from shared.eventstore import NewEvent

    captured: list[tuple[str, object]] = []

    class Recruitment(Simulation):
        def emit(self, service, stream, event, project, on=None):  # type: ignore[no-untyped-def]
            if service == "recruitment":
                captured.append((stream, NewEvent(event, project_id=project)))

    sim = Recruitment(Scale(projects=3, regions=1, years=5, volunteers=max(2_000, n), participants=10,
                            events=1_000, seed=seed))
    for _ in sim.run():
        if len(captured) >= n:
            break
    return captured[:n]


def _append_paced(url: str, rate: float, duration_s: float) -> int:
    """Appends ``rate`` events per second for ``duration_s`` into recruitment's store at ``url``."""
    from shared.events.envelope import Actor, Role
    from shared.eventstore import EventStore, make_engine
    from shared.eventstore.store import ANY_VERSION

    events = background_events(int(rate * duration_s) + 1)
    print("ready", flush=True)  # made before the clock starts: making them costs CPU the services need
    engine = make_engine(url)
    store = EventStore(engine, "recruitment")
    actor = Actor(id="bench-background", role=Role.professional)
    per_tick = rate * TICK_S
    started, sent, owed = time.monotonic(), 0, 0.0
    try:
        while sent < len(events) and time.monotonic() - started < duration_s:
            owed += per_tick
            take, owed = int(owed), owed - int(owed)
            batch: dict[str, list[object]] = {}
            for stream, event in events[sent:sent + take]:
                batch.setdefault(stream, []).append(event)
            if batch:
                store.append_many([(stream, ANY_VERSION, evs) for stream, evs in batch.items()], actor=actor)  # type: ignore[misc]
                sent += take
            time.sleep(max(0.0, started + (sent / rate) - time.monotonic()))
    finally:
        engine.dispose()
    return sent


@contextmanager
def background(url: str, rate: float, duration_s: float) -> Iterator[dict[str, int]]:
    """Runs ``_append_paced`` in its own process while the block runs; yields its count when done."""
    spec = json.dumps({"url": url, "rate": rate, "duration_s": duration_s})
    proc = subprocess.Popen([sys.executable, "-m", "bench.lag", "--background", spec], stdout=subprocess.PIPE, text=True)
    out: dict[str, int] = {}
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", "the background load failed"
        yield out
    finally:
        stdout, _ = proc.communicate(timeout=duration_s + 120)
        out["appended"] = int(stdout.strip().splitlines()[-1]) if proc.returncode == 0 and stdout.strip() else 0


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
        commands = min(rate, COMMANDS_PER_S)
        extra = rate - commands
        with CheckpointWatch(db_url["reporting"]) as watch:
            with background(db_url["recruitment"], extra, duration_s) if extra > 0 else _nothing() as appended:
                answers, errors, shed, behind = loadgen.paced(targets, http_load.PRO, rate=commands,
                                                              duration_s=duration_s)
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
    sent = int(commands * duration_s)
    command_p99 = loadgen.percentile([a.latency_s for a in answers], 99) * 1000
    checked = (f"{len(accepted):,}/{sent:,} commands accepted (2xx)"
               + (f", {len(answers) - len(accepted):,} refused" if len(answers) > len(accepted) else "")
               + (f", {errors:,} transport errors/timeouts" if errors else "")
               + (f", {shed:,} not sent: all connections were waiting (rate not sustained)" if shed else "")
               + (f", {unseen:,} never seen in reporting" if unseen else ""))
    mix = (f"{rate:.0f} events/s: {commands:.0f} commands/s open loop over recruitment, matching and followup"
           + (f" + {extra:.0f} events/s appended to recruitment's store by a second process "
              f"({appended.get('appended', 0):,} in all)" if extra > 0 else ""))
    how = (f"{mix}, {duration_s:.0f} s; "
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


@contextmanager
def _nothing() -> Iterator[dict[str, int]]:
    yield {}


def run(quick: bool, scale: float) -> list[Result]:
    rate = max(20.0, 500 * min(scale, 1.0))
    duration_s = max(1.0, round((3 if quick else 10) * min(scale, 1.0)))
    databases = ["SQLite"] + (["PostgreSQL"] if postgres_admin_url() and not quick else [])
    results: list[Result] = []
    for database in databases:
        results.extend(measure(database, rate=rate, duration_s=duration_s))
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--background"]:
        print(_append_paced(**json.loads(sys.argv[2])))
