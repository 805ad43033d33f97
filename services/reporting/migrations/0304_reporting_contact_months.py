"""Monthly contact counts for reports (``rp_contact_months``, ``rp_contact_activity_months``).

Reports read contacts per month from these instead of summing every contact. They are
kept by the contact handlers, so they are filled by replaying the history: every
projection table is emptied and the reporting consumer's checkpoints go back to 0, and
the running service replays every producer's history from its feed (the catch-up loop),
exactly as ``buddy reporting rebuild`` would. Published reports (``rp_reports``) stay.

Revision ID: 0304_reporting
"""

import sqlalchemy as sa
from alembic import op

revision = "0304_reporting"
down_revision = "0303_reporting"
branch_labels = None
depends_on = None

PROJECTIONS = ("rp_projects", "rp_volunteers", "rp_volunteer_duos", "rp_keep_warm", "rp_participants",
               "rp_participant_events", "rp_proposals", "rp_duos", "rp_duo_pauses", "rp_contacts",
               "rp_coaching_sessions", "rp_coaching_attendance", "rp_boundary_signals", "rp_goals", "rp_evaluations",
               "rp_followup_calls", "rp_policy_signals")


def upgrade() -> None:
    op.create_table(
        "rp_contact_months",
        sa.Column("basis", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("mode", sa.String(20), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
    )
    op.create_table(
        "rp_contact_activity_months",
        sa.Column("basis", sa.String(10), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("activity", sa.String(50), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    for name in PROJECTIONS:
        op.execute(sa.text(f"DELETE FROM {name}"))
    op.execute(sa.text("UPDATE consumer_checkpoints SET position = 0 WHERE consumer = 'reporting'"))


def downgrade() -> None:
    op.drop_table("rp_contact_activity_months")
    op.drop_table("rp_contact_months")
