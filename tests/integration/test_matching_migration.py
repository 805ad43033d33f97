"""Migration 0102 rebuilds matching's read models from a log written by the thin slice.

The old slice recorded ParticipantReferred v1, DuoStarted and DuoEnded and kept a bare
participants table; after the upgrade the waiting list and duos are rebuilt from the log
(equal to what the current projection makes of it), and the checkpoint on recruitment is
back at 0 so the pool is re-read with complete preferences.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import insert, select

from shared.clock import FixedClock
from shared.contracts.matching import DuoEnded, DuoStarted, ParticipantReferredV1
from shared.events.envelope import Actor, Role
from shared.eventstore import EventStore, NewEvent, make_engine, migrate
from shared.eventstore.db import alembic_config
from shared.eventstore.tables import consumer_checkpoints
from services.matching import projection
from services.matching.read_models import duos, participants

ACTOR = Actor(id="pro-1", role=Role.professional)


def test_the_thin_slice_log_is_rebuilt_into_the_new_read_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine, "matching"), "0101_matching")
        store = EventStore(engine, "matching", FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
        for pid in ("pt-a", "pt-b", "pt-c"):
            store.append(pid, 0, [NewEvent(ParticipantReferredV1(
                participant_id=pid, project_id="p-1", target_group="family", referrer_type="school",
                life_domains=["poverty"], municipality_nis="11002", languages=["nl"], consent_recorded=pid != "pt-c"),
                project_id="p-1")], actor=ACTOR)
        for duo, pid, reason in (("d-1", "pt-a", "goals_reached"), ("d-2", "pt-b", "mismatch")):
            store.append(duo, 0, [NewEvent(DuoStarted(duo_id=duo, project_id="p-1", volunteer_id="v-1",
                                                      participant_id=pid, started_on=date(2026, 1, 5),
                                                      agreed_contacts_per_month=2), project_id="p-1"),
                                  NewEvent(DuoEnded(duo_id=duo, project_id="p-1", volunteer_id="v-1", participant_id=pid,
                                                    ended_on=date(2026, 1, 5), reason=reason, planned=False),
                                           project_id="p-1")], actor=ACTOR)
        with engine.begin() as conn:
            conn.execute(insert(consumer_checkpoints).values(consumer="matching", upstream="recruitment", position=7))

        migrate(engine, "matching")

        with engine.connect() as conn:
            placed = {r.participant_id: (r.status, r.consent, r.consent_scopes)
                      for r in conn.execute(select(participants))}
            ended = {r.duo_id: (r.status, r.end_reason, r.after_proposal) for r in conn.execute(select(duos))}
            checkpoint = conn.execute(select(consumer_checkpoints.c.position).where(
                consumer_checkpoints.c.consumer == "matching")).all()
            migrated = {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in (participants, duos)}
        assert placed == {"pt-a": ("finished", True, ["matching", "data_processing"]),
                          "pt-b": ("waiting", True, ["matching", "data_processing"]),
                          "pt-c": ("waiting", False, [])}
        assert ended == {"d-1": ("ended", "goals_reached", False), "d-2": ("ended", "mismatch", False)}
        assert checkpoint == []  # the consumer starts again at 0 and re-reads recruitment's feed

        with engine.begin() as conn:
            projection.rebuild(conn, store)
        with engine.connect() as conn:
            rebuilt = {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in (participants, duos)}
        assert rebuilt == migrated
        assert store.verify().ok
    finally:
        engine.dispose()
