"""Load generators for the HTTP benchmarks: ``wrk`` when installed, else httpx in its own process.

Both are closed loop (a fixed number of connections, each sending its next request when the
answer came) for a fixed duration, and both count every status code, so a run full of
4xx answers shows as such instead of as a fast one. ``paced`` is the open-loop generator of
the lag benchmark: it sends at a steady rate whatever the answers do.

``python -m bench.loadgen '<json spec>'`` runs the httpx generator and prints its result
as JSON; the benchmarks start it as a separate process so it does not share an
interpreter (and its GIL) with the benchmark.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Load:
    """What to send: ``paths`` are used in turn, each with the same body and headers."""

    base_url: str
    method: str
    paths: list[str]
    token: str
    body: dict[str, Any] | None = None
    connections: int = 16
    duration_s: float = 5.0


@dataclass
class LoadResult:
    generator: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return sum(n for code, n in self.statuses.items() if 200 <= code < 300)

    @property
    def failed(self) -> int:
        """Answers that were not 2xx, plus requests that got no answer at all."""
        return self.requests - self.ok + self.socket_errors

    def describe(self) -> str:
        bad = {c: n for c, n in sorted(self.statuses.items()) if not 200 <= c < 300}
        text = f"{self.generator}, {self.requests:,} requests"
        if bad:
            text += ", non-2xx " + ", ".join(f"{c}: {n}" for c, n in bad.items())
        if self.socket_errors:
            text += f", {self.socket_errors} socket errors/timeouts"
        return text


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (NaN when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


# ------------------------------------------------------------------------------------ wrk

WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
local body = %(body)s
local i = 0
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  i = i + 1
  if %(keyed)s then  -- a command: its own Idempotency-Key, as every client sends
    headers["Idempotency-Key"] = string.format("%(run)s-%%d-%%d", tid or 0, i)
  end
  return wrk.format("%(method)s", paths[(i %% #paths) + 1], headers, body)
end

function response(status, hdrs, resp)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("counts")) do io.write(string.format("STATUS %%d %%d\\n", code, n)) end
  end
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return f"[==[{text}]==]"


def run_wrk(load: Load) -> LoadResult:
    script = WRK_SCRIPT % {
        "paths": ", ".join(_lua_string(p) for p in load.paths),
        "token": load.token,
        "body": _lua_string(json.dumps(load.body)) if load.body is not None else "nil",
        "method": load.method,
        "keyed": "true" if load.method != "GET" else "false",
        "run": uuid.uuid4().hex,
    }
    with tempfile.TemporaryDirectory(prefix="buddy-wrk-") as folder:
        path = Path(folder) / "load.lua"
        path.write_text(script)
        threads = max(1, min(2, load.connections))
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{load.connections}", f"-d{max(1, round(load.duration_s))}s",
             "--timeout", "5s", "-s", str(path), load.base_url],
            capture_output=True, text=True, timeout=load.duration_s + 60, check=True,
        ).stdout
    statuses: dict[int, int] = {}
    result: list[int] | None = None
    for line in out.splitlines():
        if line.startswith("STATUS "):
            _, code, n = line.split()
            statuses[int(code)] = statuses.get(int(code), 0) + int(n)
        elif line.startswith("RESULT "):
            result = [int(x) for x in line.split()[1:]]
    if result is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    requests, duration_us, p50_us, p99_us, errors = result
    return LoadResult("wrk", requests, duration_us / 1e6, p50_us / 1000, p99_us / 1000, statuses, errors)


# ---------------------------------------------------------------------------------- httpx


async def _closed_loop(load: Load) -> LoadResult:
    import httpx

    headers = {"Authorization": f"Bearer {load.token}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=load.connections, max_keepalive_connections=load.connections)
    async with httpx.AsyncClient(base_url=load.base_url, headers=headers, limits=limits, timeout=5) as client:
        started = time.perf_counter()
        deadline = started + load.duration_s

        async def worker() -> None:
            nonlocal counter, errors
            while time.perf_counter() < deadline:
                counter += 1
                path = load.paths[counter % len(load.paths)]
                sent = time.perf_counter()
                keyed = {"Idempotency-Key": str(uuid.uuid4())} if load.method != "GET" else None  # as every client
                try:
                    resp = await client.request(load.method, path, json=load.body, headers=keyed)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

        await asyncio.gather(*(worker() for _ in range(load.connections)))
        seconds = time.perf_counter() - started
    return LoadResult("httpx (asyncio, own process)", len(latencies), seconds,
                      percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000, statuses, errors)


def run_httpx(load: Load) -> LoadResult:
    """The httpx generator in a separate process (see the module docstring)."""
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", json.dumps(asdict(load))], capture_output=True,
                         text=True, timeout=load.duration_s + 60, check=True).stdout
    data = json.loads(out)
    data["statuses"] = {int(k): v for k, v in data["statuses"].items()}
    return LoadResult(**data)


def run(load: Load, generator: str | None = None) -> LoadResult:
    """``wrk`` if installed, else the httpx generator; ``BUDDY_BENCH_LOADGEN`` (wrk|httpx) chooses."""
    chosen = generator or os.environ.get("BUDDY_BENCH_LOADGEN") or ("wrk" if wrk_available() else "httpx")
    if chosen not in ("wrk", "httpx"):
        raise ValueError(f"BUDDY_BENCH_LOADGEN must be wrk or httpx, not {chosen!r}")
    return run_wrk(load) if chosen == "wrk" else run_httpx(load)


# --------------------------------------------------------------------------------- paced


@dataclass
class Sent:
    target: int  # index into the targets
    correlation_id: str
    answered_at: float  # time.time() of the answer
    status: int
    latency_s: float


async def _paced(targets: list[tuple[str, dict[str, Any]]], token: str, rate: float, duration_s: float,
                 connections: int) -> tuple[list[Sent], int, int, float]:
    """Open loop: request ``k`` leaves at ``start + k / rate`` however long earlier ones take.

    ``targets`` are (URL, JSON body) used in turn; each request carries its own
    correlation id, by which the events it caused can be found. When every one of the
    ``connections`` still waits for an answer, a request due is not sent but counted as
    shed (rather than queued in the client, where its time would not be the services'):
    the run stays bounded and says the rate was not sustained. Returns the answers, the
    transport errors (timeouts included), the shed requests and how far behind schedule
    sending fell at worst (seconds), which says whether the generator itself kept up.
    """
    import httpx

    answers: list[Sent] = []
    errors = shed = in_flight = 0
    worst_behind = 0.0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:

        async def one(index: int) -> None:
            nonlocal errors, in_flight
            url, body = targets[index]
            correlation = str(uuid.uuid4())
            sent = time.perf_counter()
            try:
                resp = await client.post(url, json=body, headers={"X-Correlation-ID": correlation,
                                                                   "Idempotency-Key": str(uuid.uuid4())})
            except httpx.HTTPError:
                errors += 1
                return
            finally:
                in_flight -= 1
            answers.append(Sent(index, correlation, time.time(), resp.status_code, time.perf_counter() - sent))

        tasks = []
        start = time.perf_counter()
        for k in range(int(rate * duration_s)):
            wait = start + k / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                worst_behind = max(worst_behind, -wait)
            if in_flight >= connections:
                shed += 1
                continue
            in_flight += 1
            tasks.append(asyncio.create_task(one(k % len(targets))))
        await asyncio.gather(*tasks)
    return answers, errors, shed, worst_behind


def paced(targets: list[tuple[str, dict[str, Any]]], token: str, *, rate: float, duration_s: float,
          connections: int = 64) -> tuple[list[Sent], int, int, float]:
    """The open-loop generator in a separate process; see ``_paced``."""
    spec = {"targets": targets, "token": token, "rate": rate, "duration_s": duration_s, "connections": connections}
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", "--paced", json.dumps(spec)], capture_output=True,
                         text=True, timeout=duration_s + 120, check=True).stdout
    data = json.loads(out)
    return [Sent(*row) for row in data["answers"]], data["errors"], data["shed"], data["worst_behind_s"]


def _main(argv: list[str]) -> None:
    if argv[0] == "--paced":
        answers, errors, shed, behind = asyncio.run(_paced(**json.loads(argv[1])))
        print(json.dumps({"answers": [[a.target, a.correlation_id, a.answered_at, a.status, a.latency_s]
                                      for a in answers],
                          "errors": errors, "shed": shed, "worst_behind_s": behind}))
        return
    result = asyncio.run(_closed_loop(Load(**json.loads(argv[0]))))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    _main(sys.argv[1:])
