"""The indicator catalogue, its documentation, the projections' coverage of the contracts,
the calendar of a report and when a duo counts as running."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.events.registry import REGISTRY
from shared.eventstore import make_engine, migrate
from services.reporting import indicators as cat
from services.reporting.projections import HANDLERS
from services.reporting.queries import DuoSpan
from services.reporting.read_models import metadata
from services.reporting.reports import bucket_end, bucket_label, bucket_start, buckets, months

PRODUCERS = ("recruitment", "matching", "followup")


def test_docs_indicators_md_is_generated_from_the_catalogue() -> None:
    assert cat.DOC_PATH.read_text(encoding="utf-8") == cat.markdown(), \
        "docs/indicators.md is stale: run `python -m services.reporting.indicators`"


def test_every_indicator_is_documented_in_dutch_and_english() -> None:
    text = cat.markdown()
    dutch, english = text.split("## English")
    for i in cat.CATALOGUE:
        assert i.title.nl in dutch and i.formula.nl in dutch, i.code
        assert i.title.en in english and i.formula.en in english, i.code
        assert i.section in cat.SECTIONS and i.sources and set(i.dimensions) <= set(cat.DIMENSIONS), i.code


AUDIT_TYPES = {"RecruitmentPersonalDataAccessed", "MatchingPersonalDataAccessed", "FollowupPersonalDataAccessed"}


def test_the_projections_handle_every_event_of_every_producer() -> None:
    """A new event type in a contract must be handled (or knowingly ignored) by reporting."""
    try:
        importlib.import_module("shared.contracts.audit")  # the access events every writing service records
    except ImportError:  # pragma: no cover - before the audit trail's contract exists
        pass
    produced = {m.event_type for s in PRODUCERS for m in REGISTRY.of_service(s)}
    assert produced - HANDLERS.keys() == set(), "event types reporting does not handle"
    assert HANDLERS.keys() - produced - AUDIT_TYPES == set(), "handlers for event types no producer has"


def test_indicator_sources_are_real_event_types() -> None:
    produced = {m.event_type for s in PRODUCERS for m in REGISTRY.of_service(s)}
    for i in cat.CATALOGUE:
        assert set(i.sources) <= produced, (i.code, set(i.sources) - produced)


def test_every_vocabulary_code_has_both_labels() -> None:
    for name, codes in cat.VOCABULARIES.items():
        for code, label in codes.items():
            assert label.nl and label.en, (name, code)


def test_the_migrations_create_exactly_the_read_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'reporting.db'}")
    migrate(engine, "reporting")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    ours = [d for d in diff if "rp_" in repr(d)]
    assert ours == [], ours
    engine.dispose()


@pytest.mark.parametrize(("days", "band"), [(None, "unknown"), (0, "lt_1m"), (30, "lt_1m"), (31, "1_3m"),
                                            (91, "1_3m"), (92, "3_6m"), (182, "3_6m"), (183, "6m_plus")])
def test_wait_bands(days: int | None, band: str) -> None:
    assert cat.wait_band(days) == band


def test_the_calendar_of_a_report() -> None:
    assert months(date(2025, 11, 1), date(2026, 2, 28)) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert buckets(date(2025, 10, 1), date(2026, 6, 30), "quarter") == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert buckets(date(2025, 1, 1), date(2026, 12, 31), "year") == ["2025", "2026"]
    assert bucket_label("2026-08", "quarter") == "2026-Q3"
    assert bucket_start(date(2026, 8, 17), "quarter") == date(2026, 7, 1)
    assert bucket_end(date(2026, 2, 3), "month") == date(2026, 2, 28)
    assert bucket_end(date(2024, 2, 3), "month") == date(2024, 2, 29)
    assert bucket_end(date(2026, 11, 3), "quarter") == date(2026, 12, 31)
    assert bucket_end(date(2026, 11, 3), "year") == date(2026, 12, 31)


DAY0 = date(2026, 1, 1)
day = st.integers(0, 60)


@st.composite
def spans(draw: st.DrawFn) -> tuple[DuoSpan, int, int]:
    start = draw(day)
    end = draw(st.one_of(st.none(), st.integers(start, 70)))
    pauses, cursor = [], start
    for _ in range(draw(st.integers(0, 3))):
        paused = draw(st.integers(cursor, cursor + 15))
        resumed = draw(st.one_of(st.none(), st.integers(paused + 1, paused + 15)))
        pauses.append((paused, resumed))
        if resumed is None:
            break
        cursor = resumed
    first = draw(day)
    last = draw(st.integers(first, first + 20))
    iso = lambda n: (DAY0 + timedelta(days=n)).isoformat()  # noqa: E731
    span = DuoSpan("d", "p", "family", iso(start), None if end is None else iso(end),
                   tuple((iso(a), None if b is None else iso(b)) for a, b in pauses))
    return span, first, last


@settings(max_examples=400, derandomize=True, deadline=None)
@given(spans())
def test_a_duo_runs_in_a_window_when_one_day_of_it_is_running(case: tuple[DuoSpan, int, int]) -> None:
    """Against day-by-day enumeration: started, not after the end day, not within a pause."""
    span, first, last = case

    def running(n: int) -> bool:
        d = (DAY0 + timedelta(days=n)).isoformat()
        if d < span.start or (span.end is not None and d > span.end):
            return False
        return not any(a <= d and (b is None or d < b) for a, b in span.pauses)

    iso = lambda n: (DAY0 + timedelta(days=n)).isoformat()  # noqa: E731
    assert span.ran_between(iso(first), iso(last)) == any(running(n) for n in range(first, last + 1))
