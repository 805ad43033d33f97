"""Matching benchmark: suggestions and the overall assignment on a large waiting list.

    .venv/bin/python -m bench.matching_bench                  # 500 participants × 500 volunteers
    .venv/bin/python -m bench.matching_bench -p 50 -v 40 -r 1 # small

Two parts, on one random but realistic project (seeded, so runs compare):

* **pure** — the no-I/O modules: the score matrix for every pair, explained ranking of
  one participant, the waiting list's top 3 for everyone, the overall assignment with
  ``linear_sum_assignment`` and the greedy baseline it is compared with;
* **service** — the same through ``MatchingHandlers`` on a SQLite file: the pool and
  waiting list read from the read models, as the API serves ``GET .../waiting-list`` and
  ``GET .../assignment``.

Figures are medians of ``--repeat`` runs. Not a test: nothing asserts a time.
``run(quick, scale)`` returns the figures as ``bench.common.Result`` rows for a harness.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from shared.contracts.common import Interest, TargetGroup, TravelRange
from shared.contracts.matching import MatchingWeights
from services.matching.assignment import greedy, optimal
from services.matching.suggestions import SLOTS, Candidate, Scoring, Seeker, rank, score_matrix, top_k

TODAY = date(2026, 11, 21)
# Antwerp province (three arrondissements) with a few further away, weighted like a city project.
PLACES = (["11002"] * 6 + ["11001", "11004", "11005", "11007", "11008", "12002", "12005", "12025", "13001",
                           "13040", "46003", "44021", "71022", "21004"])
LANGUAGES = ["nl"] * 6 + ["fr", "en", "ar", "tr", "pl", "ro", "uk", "ti", "so", "ps"]
GROUPS = [t.value for t in TargetGroup]
INTERESTS = [i.value for i in Interest]
TRAVEL = [TravelRange.same_municipality.value, TravelRange.same_arrondissement.value, TravelRange.same_arrondissement.value,
          TravelRange.same_province.value, TravelRange.same_province.value, TravelRange.anywhere.value]


@dataclass
class Figure:
    part: str
    name: str
    value: float
    unit: str
    note: str = ""


def instance(n: int, m: int, seed: int) -> tuple[list[Seeker], list[Candidate]]:
    rnd = random.Random(seed)

    def languages() -> frozenset[str]:
        return frozenset({"nl"} | set(rnd.sample(LANGUAGES, rnd.randint(0, 2)))) if rnd.random() < 0.9 \
            else frozenset(rnd.sample(LANGUAGES, 2))

    def slots() -> frozenset[str]:
        return frozenset(rnd.sample(SLOTS, rnd.randint(1, 6)))

    seekers = [Seeker(
        participant_id=f"pt-{i:05}", project_id="p-bench", target_group=rnd.choice(GROUPS), languages=languages(),
        interests=frozenset(rnd.sample(INTERESTS, rnd.randint(0, 4))), availability=slots(),
        municipality_nis=rnd.choice(PLACES), consent=rnd.random() < 0.97,
        waiting_since=TODAY - timedelta(days=rnd.randint(0, 300)),
    ) for i in range(n)]
    candidates = [Candidate(
        volunteer_id=f"v-{j:05}", project_id="p-bench", available=True,
        target_groups=frozenset(rnd.sample(GROUPS, rnd.randint(1, 3))), languages=languages(),
        interests=frozenset(rnd.sample(INTERESTS, rnd.randint(1, 5))), availability=slots(),
        municipality_nis=rnd.choice(PLACES), travel=rnd.choice(TRAVEL), capacity_left=rnd.choice([1, 1, 1, 2, 2, 3]),
        available_since=TODAY - timedelta(days=rnd.randint(0, 200)),
    ) for j in range(m)]
    return seekers, candidates


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def pure(n: int, m: int, repeat: int, seed: int) -> list[Figure]:
    seekers, candidates = instance(n, m, seed)
    scoring = Scoring(MatchingWeights(), TODAY, 180)
    out: list[Figure] = []
    t, (scores, ok) = timed(lambda: score_matrix(seekers, candidates, scoring), repeat)
    pairs = n * m
    out.append(Figure("pure", f"score matrix {n}×{m} (every pair: constraints + score)", t * 1e3, "ms",
                      f"{pairs / t:,.0f} pairs/s; {ok.mean():.0%} of pairs feasible"))
    one = seekers[0]
    t, ranked = timed(lambda: rank(one, candidates, scoring, limit=10), repeat)
    out.append(Figure("pure", f"explained ranking of 1 participant against {m}", t * 1e3, "ms",
                      f"{len(ranked)} shown of the feasible"))
    page = seekers[:50]
    t, _ = timed(lambda: top_k(page, candidates, scoring, 3), repeat)
    out.append(Figure("pure", f"waiting-list page: top 3 for {len(page)} participants", t * 1e3, "ms", "explained"))
    t, _ = timed(lambda: top_k(seekers, candidates, scoring, 3), repeat)
    out.append(Figure("pure", f"top 3 for all {n} participants", t * 1e3, "ms", "explained"))
    caps = np.array([c.capacity_left for c in candidates])
    t, best = timed(lambda: optimal(scores, ok, caps), repeat)
    out.append(Figure("pure", f"overall assignment (linear_sum_assignment), {int(caps.sum())} places", t * 1e3, "ms",
                      f"{len(best.pairs)} assigned, total score {best.total:.2f}"))
    order = sorted(range(n), key=lambda i: seekers[i].waiting_since)
    t, base = timed(lambda: greedy(scores, ok, caps, order=order), repeat)
    gain = (best.total / base.total - 1) if base.total else 0.0
    out.append(Figure("pure", "greedy baseline (longest waiting chooses first)", t * 1e3, "ms",
                      f"{len(base.pairs)} assigned, total {base.total:.2f}; assignment +{gain:.1%}"))
    t, _ = timed(lambda: optimal(*score_matrix(seekers, candidates, scoring), caps), repeat)
    out.append(Figure("pure", "score matrix + assignment together", t * 1e3, "ms", "what GET …/assignment computes"))
    return out


def service(n: int, m: int, repeat: int, seed: int) -> list[Figure]:
    """Fill a SQLite-backed matching service through its own code paths, then time the queries."""
    from shared.clock import FixedClock
    from shared.contracts.common import AvailabilitySlot, MatchingPreferences
    from shared.contracts.recruitment import ProjectRegistered, VolunteerEnquiryReceived, VolunteerMadeAvailable
    from shared.events.envelope import Actor, Envelope, Role
    from shared.eventstore import EventStore, make_engine, migrate
    from shared.vault import Vault
    from services.matching.config import MatchingSettings
    from services.matching.handlers import MatchingHandlers, ParticipantPersonalData, ReferParticipant
    from services.matching.subscribers import on_event

    seekers, candidates = instance(n, m, seed)
    out: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="buddy-matching-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'matching.db'}")
        migrate(engine, "matching")
        clock = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
        runtime = SimpleNamespace(engine=engine, store=EventStore(engine, "matching", clock), clock=clock,
                                  vault=Vault(engine, bytes(range(32)), bytes(range(32, 64))), recorded=lambda: None)
        handlers = MatchingHandlers(runtime, MatchingSettings())  # type: ignore[arg-type]
        actor = Actor(id="bench", role=Role.professional)
        position = 0

        def deliver(event: Any) -> None:
            nonlocal position
            position += 1
            env = Envelope(event_id=uuid.uuid4(), type=event.event_type, schema_version=event.schema_version,
                           service="recruitment", stream_type=event.stream_type, stream_id=getattr(event, "volunteer_id", event.project_id),
                           version=1, position=position, occurred_at=clock.now(), recorded_at=clock.now(),
                           project_id=event.project_id, actor=actor, correlation_id=uuid.uuid4(), payload=event.model_dump(mode="json"))
            with engine.begin() as conn:
                on_event(conn, env)

        deliver(ProjectRegistered(project_id="p-bench", name="Bench", organisation="Bench vzw", municipality_nis="11002",
                                  region="antwerpen-kempen", target_groups=GROUPS))
        started = time.perf_counter()
        for c in candidates:
            deliver(VolunteerEnquiryReceived(volunteer_id=c.volunteer_id, project_id="p-bench", channel="website",
                                             municipality_nis=c.municipality_nis))
            deliver(VolunteerMadeAvailable(volunteer_id=c.volunteer_id, project_id="p-bench", preferences=MatchingPreferences(
                target_groups=sorted(c.target_groups), languages=sorted(c.languages), interests=sorted(c.interests),
                availability=[AvailabilitySlot(day=s.split("-")[0], part=s.split("-")[1]) for s in sorted(c.availability)],
                travel=c.travel, max_duos=c.capacity_left)))
        pool_s = time.perf_counter() - started
        out.append(Figure("service", f"candidate pool: {m} volunteers learned from recruitment events", pool_s / (2 * m) * 1e3,
                          "ms/event", "enquiry + availability, one transaction each (consumer path)"))
        principal = SimpleNamespace(actor=actor, can_act_in_project=lambda _: True)
        started = time.perf_counter()
        for s in seekers:
            clock.advance(minutes=7)
            handlers.refer("p-bench", ReferParticipant(
                target_group=s.target_group, referrer_type="social_services", life_domains=["isolation"],
                municipality_nis=s.municipality_nis, languages=sorted(s.languages), interests=sorted(s.interests),
                availability=[{"day": x.split("-")[0], "part": x.split("-")[1]} for x in sorted(s.availability)],
                consent_recorded=s.consent, personal=ParticipantPersonalData(first_name="Bench", last_name=f"Person {s.participant_id}"),
            ), principal, uuid.uuid4())  # type: ignore[arg-type]
        refer_s = time.perf_counter() - started
        out.append(Figure("service", f"referrals: {n} participants (event + vault + read model + name index)",
                          refer_s / n * 1e3, "ms/referral", f"{n / refer_s:,.0f} referrals/s"))
        clock.set(datetime(2026, 11, 21, 9, tzinfo=UTC))
        t, page = timed(lambda: handlers.waiting_list("p-bench", principal, limit=50), repeat)  # type: ignore[arg-type]
        out.append(Figure("service", "GET waiting list: first 50 with 3 suggestions each", t * 1e3, "ms",
                          f"{page['total']} waiting"))
        last = max(0, page["total"] - 50)
        t, _ = timed(lambda: handlers.waiting_list("p-bench", principal, limit=50, offset=last), repeat)  # type: ignore[arg-type]
        out.append(Figure("service", "GET waiting list: last page", t * 1e3, "ms", f"offset {last}"))
        pid = page["waiting"][0]["participant_id"] if page["waiting"] else None
        if pid:
            t, _ = timed(lambda: handlers.suggestions(pid, principal, limit=10, include_excluded=True), repeat)  # type: ignore[arg-type]
            out.append(Figure("service", "GET suggestions of one participant (with who is excluded and why)", t * 1e3, "ms"))
        t, result = timed(lambda: handlers.assignment("p-bench", principal, limit=50), repeat)  # type: ignore[arg-type]
        out.append(Figure("service", f"GET assignment of the whole waiting list ({result['participants']}×{result['volunteers']})",
                          t * 1e3, "ms", f"{result['assigned']} assigned (greedy {result['greedy_assigned']}), "
                          f"score {result['total_score']:.2f} vs greedy {result['greedy_total_score']:.2f}"))
        engine.dispose()
    return out


def render(figures: list[Figure], n: int, m: int) -> str:
    lines = [f"Matching benchmark — {n} participants × {m} volunteers (median of runs)", "",
             "| part | measurement | figure | notes |", "|---|---|---|---|"]
    for f in figures:
        value = f"{f.value:,.1f}" if f.value < 100 else f"{f.value:,.0f}"
        lines.append(f"| {f.part} | {f.name} | {value} {f.unit} | {f.note} |")
    return "\n".join(lines)


def run(quick: bool = False, scale: float = 1.0) -> list[Any]:
    """The figures as ``bench.common.Result`` rows (for a harness that collects suites)."""
    from bench.common import Result

    size = max(5, int((100 if quick else 500) * scale))
    figures = pure(size, size, 1 if quick else 3, 1) + service(size, size, 1 if quick else 3, 1)
    return [Result("matching", f.name, f.value, f.unit, note=f.note) for f in figures]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matching_bench", description=__doc__.split("\n")[0])
    parser.add_argument("-p", "--participants", type=int, default=500)
    parser.add_argument("-v", "--volunteers", type=int, default=500)
    parser.add_argument("-r", "--repeat", type=int, default=3, help="runs per figure (the median is shown)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-service", action="store_true", help="only the pure modules (no database)")
    args = parser.parse_args(argv)
    figures = pure(args.participants, args.volunteers, args.repeat, args.seed)
    if not args.no_service:
        figures += service(args.participants, args.volunteers, args.repeat, args.seed)
    print(render(figures, args.participants, args.volunteers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
