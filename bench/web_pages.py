"""Web front page budgets: each page's server time, side by side with the API calls it makes.

    .venv/bin/python -m bench --only web_pages            # Flanders: 300 projects, 10 million events
    .venv/bin/python -m bench --only web_pages --quick    # a small history (not judged)

The reporting service runs as a real process on the projections of the Flanders-scale
history of ``bench.reporting_history`` (rebuilt once from the cached stores and kept
beside them as ``web-reporting.db``; each run works on a copy), and the web front as
``buddy serve web`` pointed at it. A few reports are published first, so the archive has
rows.

For every page, one browser-like client signed in as the page's reader asks for the page
``repeat`` times; between two page loads the same client asks the reporting service
directly, with the same person's token, for exactly what the page asks (``/scopes``, the
overview, the archive listing, one report), one after the other as the page does. Both
are timed from the request to the last byte of the answer, on the same machine in the
same minute, so the difference is the web front's own share: the session lookup, the
sign-in check, turning the answers into a page (names instead of codes, the report's
sections with their charts as SVG) and the second hop.

Target (issue 14): every page's server time p95 < 150 ms on the Flanders-scale data.
Judged only at full size; quick mode says "not judged at this size".
"""

from __future__ import annotations

import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import Result, ServiceProcesses, redis_url
from bench.reporting_bench import QUICK
from bench.reporting_history import FLANDERS, REGIONS, Scale, cached_history, open_stores

YEAR = 2025  # a whole year inside the history (which starts on 2024-01-01)
BUDGET_MS = 150.0


@dataclass(frozen=True)
class Page:
    name: str
    person: str  # the demo person signed in (their dev token is what the web front calls with)
    path: str
    calls: tuple[tuple[str, dict[str, str]], ...]  # the reporting calls the page makes, in order

    def call_names(self) -> str:
        return " + ".join(re.sub(r"/r-[0-9a-f]+", "/{id}", path) for path, _ in self.calls) or "none"


def _overview(**params: str) -> tuple[str, dict[str, str]]:
    return "/reports/overview", {**params, "period_start": f"{YEAR}-01-01", "period_end": f"{YEAR}-12-31",
                                 "grain": params.get("grain", "month")}


def pages(report_id: str) -> list[Page]:
    region = REGIONS[0]
    months = f"from={YEAR}-01&to={YEAR}-12"
    scopes = ("/scopes", {})
    return [
        Page("sign-in page", "", "/signin", ()),
        Page("home", "dev-coordinator", "/", ()),
        Page("figures, coordinator, one region, a year by month", "dev-coordinator",
             f"/reports?scope=region:{region}&{months}&grain=month",
             (scopes, _overview(audience="coordinator", region=region))),
        Page("figures, all of Flanders, a year by quarter", "dev-admin",
             f"/reports?scope=flanders&{months}&grain=quarter", (scopes, _overview(audience="government", grain="quarter"))),
        Page("figures, one project, a year by month", "dev-admin", f"/reports?scope=project:p01&{months}&grain=month",
             (scopes, _overview(audience="project", project_id="p01"))),
        Page("archive of published reports", "dev-admin", "/archive", (scopes, ("/reports", {"limit": "200"}))),
        Page("one published report", "dev-admin", f"/archive/{report_id}", ((f"/reports/{report_id}", {}), scopes)),
    ]


# --------------------------------------------------------------------------- set-up
def projections(scale: Scale, cache: Path | None, out: Callable[[str], None]) -> Path:
    """The reporting database of the history (rebuilt once, kept beside the history's stores)."""
    import asyncio

    from services.reporting.rebuild import StoreRowsFeed, rebuild
    from shared.eventstore import make_engine

    folder, counts, _reused = cached_history(scale, cache, progress=out)
    made = folder / "web-reporting-2.db"  # 2: with the staff register
    if made.exists():
        return made
    out(f"rebuilding the reporting projections of {sum(counts.values()):,} events (once) ...")
    making = folder / f".web-reporting-{time.monotonic_ns()}.db"
    stores = open_stores(folder)
    engine = make_engine(f"sqlite:///{making}")
    begun = time.perf_counter()
    try:
        asyncio.run(rebuild(engine, StoreRowsFeed(stores), watermark={n: s.head()[0] for n, s in stores.items()}))
        give_register(engine)
    finally:
        engine.dispose()
        for store in stores.values():
            store.engine.dispose()
    making.rename(made)
    out(f"  rebuilt in {time.perf_counter() - begun:.0f} s")
    return made


def give_register(engine: Any) -> None:
    """The staff register the measured pages need, as recruitment would publish it: the
    coordinator of the first region (``dev-admin`` is the embedded default's bootstrap admin)."""
    from datetime import UTC, datetime

    from shared.access import apply_staff_change

    at = datetime.now(UTC)
    with engine.begin() as conn:
        apply_staff_change(conn, "StaffInvited", {"staff_id": "s-bench-coordinator", "subject": "dev-coordinator"}, at)
        apply_staff_change(conn, "StaffAssignedToRegion", {"staff_id": "s-bench-coordinator", "region": REGIONS[0]}, at)


class Reader:
    """A browser-like client of the web front (its own cookies), signed in as one demo person."""

    def __init__(self, web: str, person: str) -> None:
        self.client = httpx.Client(base_url=web, timeout=120, follow_redirects=False)
        if person:
            page = self.client.get("/signin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            if token is None:
                raise RuntimeError(f"no sign-in form: {page.status_code} {page.text[:200]}")
            signed = self.client.post("/signin", data={"person": person, "csrf_token": token.group(1)})
            if signed.status_code != 303:
                raise RuntimeError(f"sign-in as {person} refused: {signed.status_code}")

    def close(self) -> None:
        self.client.close()


def _timed(fn: Callable[[], httpx.Response]) -> float:
    begun = time.perf_counter()
    resp = fn()
    resp.read()
    elapsed = (time.perf_counter() - begun) * 1000
    if resp.status_code != 200:
        raise RuntimeError(f"{resp.request.url} answered {resp.status_code}: {resp.text[:300]}")
    return elapsed


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]


def publish_some(api: str) -> str:
    """A few published reports (the archive's rows); the id of the government's, which the admin reads
    (a published report is read with the protection it was made with: docs/disclosure.md)."""
    first = ""
    with httpx.Client(base_url=api, timeout=600) as client:
        for person, body in (
                ("dev-coordinator", {"audience": "coordinator", "region": REGIONS[0]}),
                ("dev-admin", {"audience": "government"}),
                ("dev-admin", {"audience": "project", "project_id": "p01"})):
            resp = client.post("/reports", headers={"Authorization": f"Bearer {person}",
                                                    "Idempotency-Key": str(uuid.uuid4())},
                               json={"kind": "overview", "title": f"Benchmark {body['audience']} {YEAR}",
                                     "period_start": f"{YEAR}-01-01", "period_end": f"{YEAR}-12-31",
                                     "grain": "quarter", **body})
            if resp.status_code not in (200, 201):
                raise RuntimeError(f"publishing answered {resp.status_code}: {resp.text[:300]}")
            if body["audience"] == "government":
                first = first or resp.json()["report_id"]
    return first


# --------------------------------------------------------------------------- measurement
def measure(scale: Scale, repeat: int, *, judged: bool, cache: Path | None = None,
            out: Callable[[str], None] = print) -> list[Result]:
    source = projections(scale, cache, out)
    size = f"{scale.projects} projects, ≈{scale.volunteers:,} volunteers, {scale.events:,} events"
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="buddy-bench-web-") as work, redis_url() as (redis, prefix):
        data = Path(work)
        shutil.copyfile(source, data / "reporting.db")
        with ServiceProcesses(("reporting", "web"), data, redis, prefix) as system:
            api, web = system.urls["reporting"], system.urls["web"]
            report_id = publish_some(api)
            for page in pages(report_id):
                reader = Reader(web, page.person)
                token = {"Authorization": f"Bearer {page.person}"}
                with httpx.Client(base_url=api, timeout=120) as direct:
                    def page_once() -> float:
                        return _timed(lambda: reader.client.get(page.path))

                    def calls_once() -> float:
                        return sum(_timed(lambda p=path, q=params: direct.get(p, params=q, headers=token))
                                   for path, params in page.calls)

                    page_once()  # the first: connections opened, the suppression pattern remembered
                    if page.calls:
                        calls_once()
                    page_ms, calls_ms = [], []
                    for _ in range(repeat):  # interleaved: a busy moment of a shared machine hits both
                        page_ms.append(page_once())
                        if page.calls:
                            calls_ms.append(calls_once())
                reader.close()
                p50, p95 = _pct(page_ms, 50), _pct(page_ms, 95)
                a50 = _pct(calls_ms, 50) if calls_ms else 0.0
                a95 = _pct(calls_ms, 95) if calls_ms else 0.0
                share = p50 - a50
                out(f"page {page.name}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms; its API calls "
                    f"({page.call_names()}) p50 {a50:,.0f} ms, p95 {a95:,.0f} ms; web front's own share "
                    f"≈ {share:,.0f} ms")
                results.append(Result(
                    "web pages, SQLite", f"{page.name}: page p95", p95, "ms",
                    f"its API calls, direct ({page.call_names()}) p95" if page.calls else None, a95 or None,
                    f"{repeat} loads; page p50 {p50:,.0f} ms, API p50 {a50:,.0f} ms: the web front's own share "
                    f"≈ {share:,.0f} ms at p50; {size}{'' if judged else ' (not judged at this size)'}"))
    return results


def run(quick: bool, scale: float = 1.0) -> list[Result]:
    """Quick: the small history of the quick reporting benchmark; full: Flanders."""
    size = FLANDERS.scaled((QUICK if quick else 1.0) * scale)
    return measure(size, 5 if quick else 20, judged=not quick and scale >= 1.0,
                   out=lambda line: print(line, file=sys.stderr, flush=True))


if __name__ == "__main__":
    from bench.__main__ import main

    raise SystemExit(main(["--only", "web_pages", *sys.argv[1:]]))
