"""Matching's full read models: waiting list, duo lifecycle, weights, a richer candidate pool.

The read models are rebuilt, not altered: the old tables go, the new ones are filled
from matching's own log (the event types that existed before this revision), and the
consumer checkpoint on recruitment goes back to 0 so that the running service replays
recruitment's history from its feed and rebuilds the candidate pool with the complete
preferences (interests, availability, travel range) that the old pool did not keep.

Revision ID: 0102_matching_full
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0102_matching_full"
down_revision = "0101_matching"
branch_labels = None
depends_on = None


def _tables() -> None:
    op.create_table(
        "mt_projects",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("target_groups", sa.JSON, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
    )
    op.create_table(
        "mt_candidates",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("home_nis", sa.String(5), nullable=True),
        sa.Column("target_groups", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("interests", sa.JSON, nullable=False),
        sa.Column("availability", sa.JSON, nullable=False),
        sa.Column("travel", sa.String(30), nullable=False),
        sa.Column("max_duos", sa.Integer, nullable=False),
        sa.Column("has_preferences", sa.Boolean, nullable=False),
        sa.Column("available_since", sa.String(32), nullable=True),
    )
    op.create_table(
        "mt_participants",
        sa.Column("participant_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("target_group", sa.String(30), nullable=False),
        sa.Column("referrer_type", sa.String(40), nullable=False),
        sa.Column("life_domains", sa.JSON, nullable=False),
        sa.Column("wishes", sa.JSON, nullable=False),
        sa.Column("interests", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("availability", sa.JSON, nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("age_band", sa.String(10), nullable=True),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("consent_scopes", sa.JSON, nullable=False),
        sa.Column("consent_given_on", sa.String(10), nullable=True),
        sa.Column("consent_recorded_by", sa.String(100), nullable=True),
        sa.Column("referred_at", sa.String(32), nullable=False),
        sa.Column("waiting_since", sa.String(32), nullable=False),
        sa.Column("intake_held_on", sa.String(10), nullable=True),
        sa.Column("withdrawn_reason", sa.String(40), nullable=True),
        sa.Column("open_duo_id", sa.String(100), nullable=True),
        sa.Column("times_returned", sa.Integer, nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
    )
    op.create_index("ix_mt_participants_project_status", "mt_participants", ["project_id", "status", "waiting_since"])
    op.create_table(
        "mt_participant_names",
        sa.Column("participant_id", sa.String(100), primary_key=True),
        sa.Column("token", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "mt_duos",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(100), nullable=False, index=True),
        sa.Column("participant_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("after_proposal", sa.Boolean, nullable=False),
        sa.Column("proposed_on", sa.String(10), nullable=True),
        sa.Column("volunteer_accepted", sa.Boolean, nullable=False),
        sa.Column("participant_accepted", sa.Boolean, nullable=False),
        sa.Column("declined_by", sa.String(20), nullable=True),
        sa.Column("decline_reason", sa.String(40), nullable=True),
        sa.Column("started_on", sa.String(10), nullable=True),
        sa.Column("agreed_contacts_per_month", sa.Integer, nullable=True),
        sa.Column("expected_duration_months", sa.Integer, nullable=True),
        sa.Column("boundary_agreements_recorded", sa.Boolean, nullable=False),
        sa.Column("paused_on", sa.String(10), nullable=True),
        sa.Column("ended_on", sa.String(10), nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
        sa.Column("planned", sa.Boolean, nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "mt_weights",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
    )


def _rebuild_from_own_log(conn: sa.Connection) -> None:
    """Frozen copy of the projection for the only event types recorded before this revision."""
    md = sa.MetaData()
    md.reflect(conn, only=("events", "mt_participants", "mt_duos"))
    events, participants, duos = md.tables["events"], md.tables["mt_participants"], md.tables["mt_duos"]
    rows = conn.execute(sa.select(events.c.type, events.c.payload, events.c.occurred_at)
                        .where(events.c.type.in_(("ParticipantReferred", "DuoStarted", "DuoEnded")))
                        .order_by(events.c.position)).all()
    for kind, raw, at in rows:
        e = json.loads(raw)
        if kind == "ParticipantReferred":
            conn.execute(sa.insert(participants).values(
                participant_id=e["participant_id"], project_id=e["project_id"], status="waiting",
                target_group=e["target_group"], referrer_type=e["referrer_type"], life_domains=e["life_domains"],
                wishes=e.get("wishes", []), interests=e.get("interests", []), languages=e.get("languages") or ["nl"],
                availability=[f"{s['day']}-{s['part']}" for s in e.get("availability", [])],
                municipality_nis=e["municipality_nis"], age_band=e.get("age_band"), consent=bool(e["consent_recorded"]),
                consent_scopes=["matching", "data_processing"] if e["consent_recorded"] else [],
                consent_given_on=None, consent_recorded_by=None, referred_at=at, waiting_since=at,
                intake_held_on=None, withdrawn_reason=None, open_duo_id=None, times_returned=0, erased=False))
        elif kind == "DuoStarted":
            conn.execute(sa.insert(duos).values(
                duo_id=e["duo_id"], project_id=e["project_id"], volunteer_id=e["volunteer_id"],
                participant_id=e["participant_id"], status="active", after_proposal=False, proposed_on=None,
                volunteer_accepted=True, participant_accepted=True, declined_by=None, decline_reason=None,
                started_on=e["started_on"], agreed_contacts_per_month=e["agreed_contacts_per_month"],
                expected_duration_months=e.get("expected_duration_months"), boundary_agreements_recorded=False,
                paused_on=None, ended_on=None, end_reason=None, planned=None, updated_at=at))
            conn.execute(sa.update(participants).where(participants.c.participant_id == e["participant_id"])
                         .values(status="in_duo", open_duo_id=e["duo_id"]))
        else:  # DuoEnded
            conn.execute(sa.update(duos).where(duos.c.duo_id == e["duo_id"]).values(
                status="ended", ended_on=e["ended_on"], end_reason=e["reason"], planned=e["planned"], updated_at=at))
            # the old slice put a mismatch straight back on the waiting list
            back = e["reason"] == "mismatch"
            conn.execute(sa.update(participants).where(participants.c.participant_id == e["participant_id"])
                         .values(status="waiting" if back else "finished", open_duo_id=None,
                                 **({"waiting_since": at} if back else {})))


def upgrade() -> None:
    for name in ("mt_participants", "mt_candidates", "mt_projects"):
        op.drop_table(name)
    _tables()
    conn = op.get_bind()
    _rebuild_from_own_log(conn)
    checkpoints = sa.table("consumer_checkpoints", sa.column("consumer"), sa.column("upstream"), sa.column("position"))
    conn.execute(sa.delete(checkpoints).where(checkpoints.c.consumer == "matching",
                                              checkpoints.c.upstream == "recruitment"))


def downgrade() -> None:
    for name in ("mt_weights", "mt_duos", "mt_participant_names", "mt_participants", "mt_candidates", "mt_projects"):
        op.drop_table(name)
    op.create_table(
        "mt_projects",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("region", sa.String(100), nullable=False),
    )
    op.create_table(
        "mt_candidates",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("target_groups", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("max_duos", sa.Integer, nullable=False),
        sa.Column("active_duos", sa.Integer, nullable=False),
        sa.Column("available_since", sa.String(32), nullable=True),
    )
    op.create_table(
        "mt_participants",
        sa.Column("participant_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("target_group", sa.String(30), nullable=False),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("referred_at", sa.String(32), nullable=False),
    )
    conn = op.get_bind()
    checkpoints = sa.table("consumer_checkpoints", sa.column("consumer"), sa.column("upstream"), sa.column("position"))
    conn.execute(sa.delete(checkpoints).where(checkpoints.c.consumer == "matching",
                                              checkpoints.c.upstream == "recruitment"))
