"""Fault injection under load: after every scenario nothing is lost, nothing applied twice,
the projections equal a clean rebuild, and no request got a 5xx.

``test_subset`` runs by default (``make test``: one bounded run with a few faults of several
kinds). The others run with ``BUDDY_FAULTS_FULL=1`` (``make test-faults``); see
docs/faults.md for what each proves.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path
from typing import Any

import pytest

from shared.settings import SERVICES
from tests.faults.conftest import FULL, REPEAT, SEED
from tests.faults.harness import Scenario, figures_line
from tests.faults.servers import FaultPostgres, FaultRedis

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
full_only = pytest.mark.skipif(not FULL, reason="full fault suite: BUDDY_FAULTS_FULL=1 (make test-faults)")
RUNS = list(range(REPEAT))

Plan = list[tuple[str, str | None]]


def seed_of(name: str, run: int = 0) -> int:
    return SEED + zlib.crc32(name.encode()) % 10_000 + run


def run_scenario(name: str, root: Path, redis: FaultRedis, plan: Plan, figures: list[dict[str, Any]], *,
                 seed: int, load_s: float, postgres: FaultPostgres | None = None, workers: int = 3) -> dict[str, Any]:
    scenario = Scenario(name, root, redis, plan, seed=seed, load_s=load_s, workers=workers, postgres=postgres)
    result = scenario.run()
    figures.append(result)
    print("\n" + figures_line(result))
    assert result["ok"], scenario.failure_report()
    assert result["faults_injected"] == len(plan), result["fault_log"]
    # the run proved something only if the load went through every service
    produced = result["events_by_type"]
    assert produced["DuoStarted"] and produced["ContactLogged"] and produced["VolunteerJoinedDuo"], produced
    assert result["lost"] == 0 and result["duplicated_effects"] == 0 and result["mismatched_rows"] == 0
    assert result["5xx"] == 0, result["5xx_samples"]
    return result


# --------------------------------------------------------------------------- the bounded subset
def test_subset(tmp_path: Path, fault_redis: FaultRedis, fault_figures: list[dict[str, Any]]) -> None:
    """A few faults of most kinds in one short run (the part of `make test`)."""
    seed = seed_of("subset")
    rng = random.Random(seed)
    plan: Plan = [("kill9", s) for s in rng.sample(SERVICES, 2)]
    plan += [("redis_restart_aof", None), ("redis_data_lost", None), ("cut_redis", rng.choice(SERVICES)),
             ("bus_duplicates", None), ("bus_poison", None)]
    result = run_scenario("subset", tmp_path, fault_redis, plan, fault_figures, seed=seed, load_s=30)
    assert result["bus"]["poison"] > 0 and result["bus"]["duplicates"] > 0
    planted_faults_are_seen(tmp_path / "data", tmp_path / "planted")


# --------------------------------------------------------------------------- the full run
@full_only
@pytest.mark.parametrize("run", RUNS)
def test_kill9_each_service(run: int, tmp_path: Path, fault_redis: FaultRedis, fault_figures: list[dict[str, Any]]) -> None:
    """kill -9 of every service twice at random moments (mid-request, mid-transaction), restarted."""
    plan: Plan = [("kill9", s) for s in SERVICES] * 2
    run_scenario("kill9_each_service", tmp_path, fault_redis, plan, fault_figures,
                 seed=seed_of("kill9_each_service", run), load_s=60)


@full_only
@pytest.mark.parametrize("run", RUNS)
def test_redis_restarted_with_aof(run: int, tmp_path: Path, fault_redis: FaultRedis,
                                  fault_figures: list[dict[str, Any]]) -> None:
    """Redis shut down and restarted with its AOF, and killed and restarted from it."""
    plan: Plan = [("redis_restart_aof", None)] * 2 + [("redis_crash_aof", None)] * 2
    run_scenario("redis_restart_aof", tmp_path, fault_redis, plan, fault_figures,
                 seed=seed_of("redis_restart_aof", run), load_s=45)


@full_only
@pytest.mark.parametrize("run", RUNS)
def test_redis_restarted_with_data_lost(run: int, tmp_path: Path, fault_redis: FaultRedis,
                                        fault_figures: list[dict[str, Any]]) -> None:
    """Redis comes back empty three times: streams and consumer groups gone; the feeds fill in."""
    plan: Plan = [("redis_data_lost", None)] * 3
    run_scenario("redis_data_lost", tmp_path, fault_redis, plan, fault_figures,
                 seed=seed_of("redis_data_lost", run), load_s=45)


@full_only
@pytest.mark.parametrize("run", RUNS)
def test_redis_connections_cut(run: int, tmp_path: Path, fault_redis: FaultRedis,
                               fault_figures: list[dict[str, Any]]) -> None:
    """Each service's connections to Redis reset and refused for a while, then restored; two
    services restarted (kill -9) while Redis is unreachable for them."""
    seed = seed_of("cut_redis", run)
    plan: Plan = [("cut_redis", s) for s in SERVICES] * 2
    plan += [("restart_without_redis", s) for s in random.Random(seed).sample(SERVICES, 2)]
    run_scenario("cut_redis", tmp_path, fault_redis, plan, fault_figures, seed=seed, load_s=60)


@full_only
@pytest.mark.parametrize("run", RUNS)
def test_bus_duplicates_reordering_late_and_poison(run: int, tmp_path: Path, fault_redis: FaultRedis,
                                                   fault_figures: list[dict[str, Any]]) -> None:
    """The same events delivered many times, late and out of order, and garbage on every stream."""
    plan: Plan = [("bus_duplicates", None)] * 3 + [("bus_poison", None)] * 2
    plan += [("bus_reorder", c) for c in ("matching", "followup", "reporting", "recruitment")]
    result = run_scenario("bus_chaos", tmp_path, fault_redis, plan, fault_figures,
                          seed=seed_of("bus_chaos", run), load_s=60)
    assert result["bus"]["reordered"] > 0 and result["bus"]["late"] > 0, result["bus"]
    # every garbage entry was dead-lettered exactly once by every consumer of its stream (checked
    # exactly in checks.verify); and the consumers did meet gaps, which they filled from the feeds
    assert sum(result["garbage_dead_lettered"].values()) > 0
    assert result["gap_fills_logged"] > 0


@full_only
@pytest.mark.parametrize("run", RUNS)
def test_bus_forgery_during_consumer_restarts(run: int, tmp_path: Path, fault_redis: FaultRedis,
                                              fault_figures: list[dict[str, Any]]) -> None:
    """Each consumer killed and, while it is down and falls behind, entries forged without the bus key
    added with the positions of real events at and below its upstreams' heads; then restarted."""
    plan: Plan = [("bus_forgery", c) for c in ("reporting", "matching", "followup", "recruitment")]
    plan += [("bus_duplicates", None)]
    result = run_scenario("bus_forgery", tmp_path, fault_redis, plan, fault_figures,
                          seed=seed_of("bus_forgery", run), load_s=45)
    # 0 forged effects (the rebuild comparison), 0 genuine events lost, every forged entry dead-lettered
    # once by every consumer of its stream (checks.verify), and each one named for what it is
    assert result["bus"]["forged"] > 0, result["bus"]
    assert result["forgeries_logged"] >= sum(result["garbage_dead_lettered"].values()) > 0, result
    assert result["divergences_logged"] == 0


@full_only
@pytest.mark.postgres
@pytest.mark.parametrize("run", RUNS)
def test_postgres_restarts_and_cuts(run: int, tmp_path: Path, fault_redis: FaultRedis, fault_postgres: FaultPostgres,
                                    fault_figures: list[dict[str, Any]]) -> None:
    """The services on a private PostgreSQL (one database each): the server restarted (fast and
    crash-like), every service's database connections cut, plus a Redis cut and a kill -9."""
    seed = seed_of("postgres", run)
    rng = random.Random(seed)
    plan: Plan = [("pg_restart_fast", None), ("pg_restart_immediate", None)]
    plan += [("cut_db", s) for s in SERVICES]
    plan += [("cut_redis", rng.choice(SERVICES)), ("kill9", rng.choice(SERVICES))]
    run_scenario("postgres", tmp_path, fault_redis, plan, fault_figures, seed=seed, load_s=60,
                 postgres=fault_postgres)


@full_only
@pytest.mark.parametrize("run", RUNS)
def test_everything_mixed(run: int, tmp_path: Path, fault_redis: FaultRedis, fault_figures: list[dict[str, Any]]) -> None:
    """Every kind of fault on SQLite, in one run, in a random order."""
    seed = seed_of("mixed", run)
    rng = random.Random(seed)
    plan: Plan = [("kill9", s) for s in rng.sample(SERVICES, 3)]
    plan += [("redis_restart_aof", None), ("redis_crash_aof", None), ("redis_data_lost", None)]
    plan += [("cut_redis", s) for s in rng.sample(SERVICES, 2)]
    plan += [("bus_duplicates", None), ("bus_poison", None), ("bus_reorder", rng.choice(SERVICES))]
    run_scenario("mixed", tmp_path, fault_redis, plan, fault_figures, seed=seed, load_s=75)


# --------------------------------------------------------------------------- the checks see faults
def planted_faults_are_seen(data_dir: Path, scratch: Path) -> None:
    """The checks would notice: copy a finished run's databases, plant a loss, a duplicate, a wrong
    row, a lagging checkpoint and an altered event, and verify again."""
    import shutil
    import sqlite3

    from tests.faults.checks import verify

    scratch.mkdir(parents=True)
    for name in SERVICES:
        src = data_dir / f"{name}.db"
        conn = sqlite3.connect(src)  # the services are stopped: fold the WAL in, then copy one file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.copy(src, scratch / f"{name}.db")

    def sql(name: str, statement: str) -> int:
        conn = sqlite3.connect(scratch / f"{name}.db")
        try:
            changed = conn.execute(statement).rowcount
            conn.commit()
            return changed
        finally:
            conn.close()

    assert sql("reporting", "DELETE FROM rp_contacts WHERE contact_id = (SELECT MIN(contact_id) FROM rp_contacts)") == 1
    assert sql("reporting", "INSERT INTO rp_duos SELECT 'd-planted', project_id, volunteer_id, participant_id, status, "
                            "started_on, started_rec, participant_waited_days, ended_on, ended_rec, end_reason, "
                            "planned FROM rp_duos LIMIT 1") == 1
    assert sql("followup", "UPDATE fu_roster SET status = 'paused' WHERE duo_id = (SELECT MIN(duo_id) FROM fu_roster)") == 1
    assert sql("matching", "UPDATE consumer_checkpoints SET position = position - 1 WHERE upstream = 'recruitment'") == 1
    assert sql("recruitment", "UPDATE events SET payload = replace(payload, 'website', 'other') WHERE position = "
                              "(SELECT MIN(position) FROM events WHERE type = 'VolunteerEnquiryReceived')") == 1
    urls = {name: f"sqlite:///{(scratch / f'{name}.db').as_posix()}" for name in SERVICES}
    verdict = verify(urls, scratch / "rebuilt", garbage_expected=None)
    text = "\n".join(verdict.problems)
    assert verdict.lost >= 2 and "rp_contacts" in text and "matching stopped at recruitment" in text, text
    assert verdict.duplicated >= 1 and "d-planted" in text, text
    assert verdict.mismatched >= 1 and "fu_roster" in text, text
    assert "STORE recruitment fails verify()" in text, text
