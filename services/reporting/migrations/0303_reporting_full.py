"""Reporting projections for every indicator of the catalogue (docs/indicators.md).

The projections are rebuilt, not altered: the four first tables go, the full set is
created empty, and the reporting consumer's checkpoints go back to 0, so the running
service replays every producer's history from its feed (the catch-up loop) and fills
the new tables exactly as ``buddy reporting rebuild`` would. Published reports
(``rp_reports``) stay; they get a column for their suppression pattern.

Revision ID: 0303_reporting
"""

import sqlalchemy as sa
from alembic import op

revision = "0303_reporting"
down_revision = "0302_reporting"
branch_labels = None
depends_on = None

OLD = ("rp_contacts", "rp_duos", "rp_volunteers", "rp_projects")
NEW = ("rp_projects", "rp_volunteers", "rp_volunteer_duos", "rp_keep_warm", "rp_participants", "rp_participant_events", "rp_proposals", "rp_duos", "rp_duo_pauses", "rp_contacts", "rp_coaching_sessions", "rp_coaching_attendance", "rp_boundary_signals", "rp_goals", "rp_evaluations", "rp_followup_calls", "rp_policy_signals")


def upgrade() -> None:
    for name in OLD:
        op.drop_table(name)
    op.create_table(
        "rp_projects",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("target_groups", sa.String(200), nullable=False),
        sa.Column("funded_from", sa.String(10), nullable=True),
        sa.Column("funded_until", sa.String(10), nullable=True),
        sa.Column("registered_on", sa.String(10), nullable=False),
        sa.Column("registered_rec", sa.String(10), nullable=False),
        sa.Column("closed_on", sa.String(10), nullable=True),
        sa.Column("closed_rec", sa.String(10), nullable=True),
        sa.Column("close_reason", sa.String(50), nullable=True),
    )
    op.create_table(
        "rp_volunteers",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("enquired_on", sa.String(10), nullable=False),
        sa.Column("enquired_rec", sa.String(10), nullable=False),
        sa.Column("intake_on", sa.String(10), nullable=True),
        sa.Column("intake_rec", sa.String(10), nullable=True),
        sa.Column("screened_on", sa.String(10), nullable=True),
        sa.Column("screened_rec", sa.String(10), nullable=True),
        sa.Column("screening", sa.String(50), nullable=True),
        sa.Column("trained_on", sa.String(10), nullable=True),
        sa.Column("trained_rec", sa.String(10), nullable=True),
        sa.Column("available_on", sa.String(10), nullable=True),
        sa.Column("available_rec", sa.String(10), nullable=True),
        sa.Column("stopped_on", sa.String(10), nullable=True),
        sa.Column("stopped_rec", sa.String(10), nullable=True),
        sa.Column("stop_reason", sa.String(50), nullable=True),
    )
    op.create_table(
        "rp_volunteer_duos",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("joined_on", sa.String(10), nullable=False),
        sa.Column("joined_rec", sa.String(10), nullable=False),
        sa.Column("left_on", sa.String(10), nullable=True),
        sa.Column("left_rec", sa.String(10), nullable=True),
    )
    op.create_table(
        "rp_keep_warm",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("contacted_on", sa.String(10), nullable=False),
        sa.Column("contacted_rec", sa.String(10), nullable=False),
    )
    op.create_table(
        "rp_participants",
        sa.Column("participant_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("target_group", sa.String(50), nullable=False),
        sa.Column("referrer_type", sa.String(50), nullable=False),
        sa.Column("life_domains", sa.String(300), nullable=False),
        sa.Column("referred_on", sa.String(10), nullable=False),
        sa.Column("referred_rec", sa.String(10), nullable=False),
        sa.Column("intake_on", sa.String(10), nullable=True),
        sa.Column("intake_rec", sa.String(10), nullable=True),
        sa.Column("waiting_since", sa.String(10), nullable=False),
    )
    op.create_table(
        "rp_participant_events",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("participant_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(50), nullable=False),
        sa.Column("happened_on", sa.String(10), nullable=False),
        sa.Column("happened_rec", sa.String(10), nullable=False),
    )
    op.create_table(
        "rp_proposals",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("proposed_on", sa.String(10), nullable=False),
        sa.Column("proposed_rec", sa.String(10), nullable=False),
        sa.Column("accepted_by_volunteer", sa.Boolean, nullable=False),
        sa.Column("accepted_by_participant", sa.Boolean, nullable=False),
        sa.Column("declined_by", sa.String(50), nullable=True),
        sa.Column("decline_reason", sa.String(50), nullable=True),
        sa.Column("declined_rec", sa.String(10), nullable=True),
    )
    op.create_table(
        "rp_duos",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(100), nullable=False),
        sa.Column("participant_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_on", sa.String(10), nullable=False),
        sa.Column("started_rec", sa.String(10), nullable=False),
        sa.Column("after_proposal", sa.Boolean, nullable=False),
        sa.Column("agreed_contacts_per_month", sa.Integer, nullable=False),
        sa.Column("expected_duration_months", sa.Integer, nullable=True),
        sa.Column("participant_waited_days", sa.Integer, nullable=True),
        sa.Column("ended_on", sa.String(10), nullable=True),
        sa.Column("ended_rec", sa.String(10), nullable=True),
        sa.Column("end_reason", sa.String(50), nullable=True),
        sa.Column("planned", sa.Boolean, nullable=True),
    )
    op.create_table(
        "rp_duo_pauses",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False, index=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("reason", sa.String(50), nullable=True),
        sa.Column("paused_on", sa.String(10), nullable=False),
        sa.Column("paused_rec", sa.String(10), nullable=False),
        sa.Column("resumed_on", sa.String(10), nullable=True),
        sa.Column("resumed_rec", sa.String(10), nullable=True),
    )
    op.create_table(
        "rp_contacts",
        sa.Column("contact_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False, index=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("contact_on", sa.String(10), nullable=False),
        sa.Column("logged_rec", sa.String(10), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("activities", sa.String(400), nullable=False),
        sa.Column("logged_by", sa.String(20), nullable=False),
    )
    op.create_table(
        "rp_coaching_sessions",
        sa.Column("session_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("session_on", sa.String(10), nullable=False),
        sa.Column("session_rec", sa.String(10), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("themes", sa.String(400), nullable=False),
        sa.Column("volunteers", sa.Integer, nullable=False),
    )
    op.create_table(
        "rp_coaching_attendance",
        sa.Column("session_id", sa.String(100), primary_key=True),
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("session_on", sa.String(10), nullable=False),
        sa.Column("session_rec", sa.String(10), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
    )
    op.create_table(
        "rp_boundary_signals",
        sa.Column("signal_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("signal_type", sa.String(50), nullable=False),
        sa.Column("severity", sa.String(50), nullable=False),
        sa.Column("current_severity", sa.String(50), nullable=False),
        sa.Column("raised_by", sa.String(50), nullable=False),
        sa.Column("raised_on", sa.String(10), nullable=False),
        sa.Column("raised_rec", sa.String(10), nullable=False),
        sa.Column("followed_up_on", sa.String(10), nullable=True),
        sa.Column("resolved_on", sa.String(10), nullable=True),
        sa.Column("resolved_rec", sa.String(10), nullable=True),
        sa.Column("resolution", sa.String(50), nullable=True),
    )
    op.create_table(
        "rp_goals",
        sa.Column("goal_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("domain", sa.String(50), nullable=False),
        sa.Column("set_on", sa.String(10), nullable=False),
        sa.Column("set_rec", sa.String(10), nullable=False),
        sa.Column("baseline", sa.Integer, nullable=False),
        sa.Column("target", sa.Integer, nullable=True),
        sa.Column("latest_score", sa.Integer, nullable=True),
        sa.Column("latest_on", sa.String(10), nullable=True),
        sa.Column("closed_on", sa.String(10), nullable=True),
        sa.Column("closed_rec", sa.String(10), nullable=True),
        sa.Column("outcome", sa.String(50), nullable=True),
    )
    op.create_table(
        "rp_evaluations",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("moment", sa.String(10), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("evaluated_on", sa.String(10), nullable=False),
        sa.Column("evaluated_rec", sa.String(10), nullable=False),
        sa.Column("wellbeing", sa.Integer, nullable=False),
        sa.Column("network_size", sa.Integer, nullable=False),
        sa.Column("participant_satisfaction", sa.Integer, nullable=True),
        sa.Column("volunteer_satisfaction", sa.Integer, nullable=True),
    )
    op.create_table(
        "rp_followup_calls",
        sa.Column("call_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("months_after_end", sa.Integer, nullable=False),
        sa.Column("ended_on", sa.String(10), nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("scheduled_rec", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(50), nullable=True),
        sa.Column("completed_on", sa.String(10), nullable=True),
        sa.Column("completed_rec", sa.String(10), nullable=True),
        sa.Column("still_in_contact", sa.Boolean, nullable=True),
        sa.Column("network_change", sa.String(50), nullable=True),
        sa.Column("wellbeing", sa.Integer, nullable=True),
    )
    op.create_table(
        "rp_policy_signals",
        sa.Column("signal_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("theme", sa.String(50), nullable=False),
        sa.Column("observed_on", sa.String(10), nullable=False),
        sa.Column("observed_rec", sa.String(10), nullable=False),
        sa.Column("summary", sa.String(280), nullable=True),
        sa.Column("summary_rec", sa.String(10), nullable=True),
    )
    op.create_index("ix_rp_contacts_contact_on", "rp_contacts", ['contact_on'])
    with op.batch_alter_table("rp_reports") as batch:
        batch.add_column(sa.Column("pattern", sa.Text, nullable=True))
    op.execute(sa.text("UPDATE consumer_checkpoints SET position = 0 WHERE consumer = 'reporting'"))


def downgrade() -> None:
    with op.batch_alter_table("rp_reports") as batch:
        batch.drop_column("pattern")
    for name in reversed(NEW):
        op.drop_table(name)
    op.create_table(
        "rp_projects",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
    )
    op.create_table(
        "rp_volunteers",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_table(
        "rp_duos",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_on", sa.String(10), nullable=False),
        sa.Column("ended_on", sa.String(10), nullable=True),
    )
    op.create_table(
        "rp_contacts",
        sa.Column("contact_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
    )
    op.execute(sa.text("UPDATE consumer_checkpoints SET position = 0 WHERE consumer = 'reporting'"))

