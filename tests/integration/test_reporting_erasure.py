"""An erasure reaches the reporting projections: the erased person's pseudonym is gone from
every reporting table, their rows stay (re-keyed to a one-way token) and every figure and
report is the same as without the erasure, whatever order the streams arrive in.

The scripted history (test_reporting_script.py) erases volunteer v6 and participant pt3 at
the end of March 2026, after v6 was coached and both were in duo d3. Retention erases
through the same owning-service erasure (shared/privacy.py ``apply_retention``), so the
same events reach reporting.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shared.bus import StoreFeed
from shared.eventstore import make_engine, migrate
from shared.eventstore.db import reader
from services.reporting import records
from services.reporting.projections import HANDLERS, _ignored, erased_token
from services.reporting.read_models import PROJECTION_TABLES
from services.reporting.rebuild import ERASURES, StoreRowsFeed, apply_erasures, rebuild
from services.reporting.reports import compute
from tests.integration import test_reporting_script as script
from tests.integration.test_reporting_rebuild import apply_interleaved, dump

ERASED = {"v6": "volunteer", "pt3": "participant"}
OVERVIEW = {"audience": "government", "period_start": "2026-01-01", "period_end": "2026-03-31", "grain": "month",
            "disclosure": {"threshold": 1, "rounding_base": 1}}


def rebuilt(folder: Path, *, erasures: bool) -> tuple[Engine, dict]:
    stores, _ = script.script(erasures=erasures).write(folder)
    engine = make_engine(f"sqlite:///{folder}/reporting.db")
    asyncio.run(rebuild(engine, StoreRowsFeed(stores)))
    return engine, stores


def values(engine: Engine) -> set[str]:
    with reader(engine).connect() as conn:
        return {v for t in PROJECTION_TABLES for row in conn.execute(text(f"SELECT * FROM {t.name}"))
                for v in row if isinstance(v, str)}


def reports(engine: Engine) -> list[str]:
    with reader(engine).connect() as conn:
        out = [records.content_hash(compute(conn, "overview", {**OVERVIEW, "basis": basis}))
               for basis in ("occurred", "recorded")]
        out += [records.content_hash(compute(conn, "project_summary", {"project_id": p, "threshold": 1,
                                                                       "rounding_base": 1})) for p in ("pA", "pC")]
    return out


def test_an_erased_persons_pseudonym_leaves_reporting_and_every_figure_stays(tmp_path: Path) -> None:
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    erased, _ = rebuilt(tmp_path / "with", erasures=True)
    kept, _ = rebuilt(tmp_path / "without", erasures=False)
    assert {"v6", "pt3"} <= values(kept)  # the pseudonyms are there before an erasure
    left = values(erased)
    assert not {"v6", "pt3"} & left
    tokens = {erased_token(s) for s in ERASED}
    assert tokens <= left and not any(s in t for s in ERASED for t in tokens)
    with reader(erased).connect() as conn:
        assert set(conn.execute(text("SELECT token FROM rp_erased_subjects")).scalars()) == tokens
        token = erased_token("v6")
        for table in ("rp_volunteers", "rp_volunteer_duos", "rp_duos", "rp_coaching_attendance"):
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE volunteer_id = :t"), {"t": token}).scalar()
        token = erased_token("pt3")
        for table in ("rp_participants", "rp_duos"):
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE participant_id = :t"), {"t": token}).scalar()
    # the rows are kept: every table has as many rows, and every report the same content
    assert {t: len(rows) for t, rows in dump(erased).items() if t != "rp_erased_subjects"} == {
        t: len(rows) for t, rows in dump(kept).items() if t != "rp_erased_subjects"}
    assert reports(erased) == reports(kept)


def test_the_erasure_reaches_rows_written_before_and_after_it(tmp_path: Path) -> None:
    """The live consumer meets the streams in any order: the erasure before or after the other
    services' events about the person (coaching, the duo) ends in the same tables as a rebuild."""
    expected_engine, stores = rebuilt(tmp_path, erasures=True)
    expected = dump(expected_engine)
    streams = {n: [r.envelope for r in s.read_after(0, 10_000)] for n, s in stores.items()}
    for name, order in (("erasure-first", ["recruitment", "matching", "followup"]),
                        ("erasure-last", ["followup", "matching", "recruitment"])):
        live = make_engine(f"sqlite:///{tmp_path}/{name}.db")
        migrate(live, "reporting")
        for service in order:  # one stream at a time, in runs like the live consumer
            apply_interleaved(live, {service: streams[service]}, random.Random(1))
        assert dump(live) == expected, name
        live.dispose()


def test_erasures_recorded_before_the_upgrade_are_applied_once_by_the_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database projected before reporting forgot erased people (revision 0307): ``buddy
    reporting apply-erasures`` re-keys their rows from the owners' logs, the same as a rebuild."""
    expected_engine, stores = rebuilt(tmp_path, erasures=True)
    expected = dump(expected_engine)
    old = make_engine(f"sqlite:///{tmp_path}/before-0307.db")
    with monkeypatch.context() as patched:  # the handlers as they were: erasures ignored
        for kind in ERASURES.values():
            patched.setitem(HANDLERS, kind, _ignored)
        asyncio.run(rebuild(old, StoreRowsFeed(stores)))
    assert "v6" in values(old) and dump(old) != expected
    assert asyncio.run(apply_erasures(old, StoreFeed(stores))) == {"recruitment": 1, "matching": 1}
    assert dump(old) == expected
    asyncio.run(apply_erasures(old, StoreFeed(stores)))  # again: nothing changes
    assert dump(old) == expected
