"""Follow-up case log: roster pauses, participants' consent to be called, contacts, cadence, coaching, boundary signals, goals,
evaluations, follow-up calls and policy signals.

Revision ID: 0202_followup_case_log
"""

import sqlalchemy as sa
from alembic import op

revision = "0202_followup_case_log"
down_revision = "0201_followup"
branch_labels = None
depends_on = None

TABLES = (
    "fu_participants", "fu_policy_signals", "fu_calls", "fu_evaluations", "fu_goals", "fu_boundary_signals",
    "fu_coaching_attendance", "fu_coaching_sessions", "fu_cadences", "fu_contacts",
)


def upgrade() -> None:
    with op.batch_alter_table("fu_roster") as batch:
        batch.add_column(sa.Column("agreed_contacts_per_month", sa.Integer, nullable=True))
        batch.add_column(sa.Column("paused_on", sa.String(10), nullable=True))
        batch.add_column(sa.Column("resumed_on", sa.String(10), nullable=True))
    op.create_table(
        "fu_participants",
        sa.Column("participant_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False),
        sa.Column("consent_to_call", sa.Boolean, nullable=True),
    )
    op.create_table(
        "fu_contacts",
        sa.Column("contact_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False, index=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("contact_date", sa.String(10), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("activities", sa.JSON, nullable=False),
        sa.Column("logged_by", sa.String(20), nullable=False),
        sa.Column("logged_by_actor", sa.String(100), nullable=False),
        sa.Column("has_private_note", sa.Boolean, nullable=False),
        sa.Column("note_position", sa.BigInteger, nullable=True),
        sa.Column("corrections", sa.Integer, nullable=False),
        sa.Column("retraction_reason", sa.String(40), nullable=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "fu_cadences",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("first_period_days", sa.Integer, nullable=False),
        sa.Column("first_period_contacts", sa.Integer, nullable=False),
        sa.Column("max_gap_days", sa.Integer, nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "fu_coaching_sessions",
        sa.Column("session_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("session_date", sa.String(10), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("volunteer_ids", sa.JSON, nullable=False),
        sa.Column("coach_id", sa.String(100), nullable=False),
    )
    op.create_table(
        "fu_coaching_attendance",
        sa.Column("session_id", sa.String(100), primary_key=True),
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
    )
    op.create_table(
        "fu_boundary_signals",
        sa.Column("signal_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False, index=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("signal_type", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("raised_by", sa.String(20), nullable=False),
        sa.Column("raised_on", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("follow_ups", sa.Integer, nullable=False),
        sa.Column("last_followed_up_on", sa.String(10), nullable=True),
        sa.Column("resolution", sa.String(40), nullable=True),
        sa.Column("resolved_on", sa.String(10), nullable=True),
        sa.Column("note_positions", sa.JSON, nullable=False),
    )
    op.create_table(
        "fu_goals",
        sa.Column("goal_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False, index=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("domain", sa.String(40), nullable=False),
        sa.Column("set_on", sa.String(10), nullable=False),
        sa.Column("baseline", sa.Integer, nullable=False),
        sa.Column("target", sa.Integer, nullable=True),
        sa.Column("latest_score", sa.Integer, nullable=False),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_on", sa.String(10), nullable=True),
        sa.Column("outcome", sa.String(30), nullable=True),
        sa.Column("description_position", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "fu_evaluations",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("moment", sa.String(10), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("evaluated_on", sa.String(10), nullable=False),
        sa.Column("wellbeing", sa.Integer, nullable=False),
        sa.Column("network_size", sa.Integer, nullable=False),
        sa.Column("participant_satisfaction", sa.Integer, nullable=True),
        sa.Column("volunteer_satisfaction", sa.Integer, nullable=True),
    )
    op.create_table(
        "fu_calls",
        sa.Column("call_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), nullable=False, index=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("months_after_end", sa.Integer, nullable=False),
        sa.Column("ended_on", sa.String(10), nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_on", sa.String(10), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("completed_on", sa.String(10), nullable=True),
        sa.Column("still_in_contact_with_buddy", sa.Boolean, nullable=True),
        sa.Column("network_change", sa.String(20), nullable=True),
        sa.Column("wellbeing", sa.Integer, nullable=True),
    )
    op.create_table(
        "fu_policy_signals",
        sa.Column("signal_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("theme", sa.String(40), nullable=False),
        sa.Column("observed_on", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("confirmed_on", sa.String(10), nullable=True),
        sa.Column("description_position", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
    with op.batch_alter_table("fu_roster") as batch:
        batch.drop_column("resumed_on")
        batch.drop_column("paused_on")
        batch.drop_column("agreed_contacts_per_month")
