"""A policy signal shredded in follow-up is quoted in no report afterwards: reporting drops
its summary when ``PolicySignalShredded`` arrives, live and in a rebuild alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from shared.contracts import followup as fu
from shared.eventstore import make_engine, migrate
from services.reporting.projections import Meta, on_row
from services.reporting.read_models import policy_signals

SUMMARY = "Huurwaarborg geweigerd voor de dame uit de Snorkelbaumhoek"


def test_a_shredded_signal_loses_its_summary_in_reporting(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'reporting.db'}")
    migrate(engine, "reporting")
    on = date(2026, 3, 2)
    history = [
        fu.PolicySignalRecorded(signal_id="ps-1", project_id="pA", theme=fu.PolicyTheme.housing, observed_on=on),
        fu.PolicySignalSummaryConfirmed(signal_id="ps-1", project_id="pA", theme=fu.PolicyTheme.housing,
                                        summary=SUMMARY, confirmed_on=on),
        fu.PolicySignalRecorded(signal_id="ps-2", project_id="pA", theme=fu.PolicyTheme.mobility, observed_on=on),
        fu.PolicySignalSummaryConfirmed(signal_id="ps-2", project_id="pA", theme=fu.PolicyTheme.mobility,
                                        summary="Geen bus na 19 uur", confirmed_on=on),
        fu.PolicySignalShredded(signal_id="ps-1", project_id="pA", shredded_on=on),
    ]
    with engine.begin() as conn:
        for i, event in enumerate(history):
            on_row(conn, event.event_type, event.schema_version, event.model_dump_json(),
                   Meta(f"e-{i}", on.isoformat(), on.isoformat()))
        kept = dict(conn.execute(select(policy_signals.c.signal_id, policy_signals.c.summary)).all())
    assert kept == {"ps-1": None, "ps-2": "Geen bus na 19 uur"}
    engine.dispose()
