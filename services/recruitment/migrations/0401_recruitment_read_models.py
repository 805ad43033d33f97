"""Recruitment read models: project register, volunteer pool, blind name index.

Revision ID: 0401_recruitment
"""

import sqlalchemy as sa
from alembic import op

revision = "0401_recruitment"
down_revision = "0001_event_store"
branch_labels = ("recruitment",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rc_projects",
        sa.Column("project_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("region", sa.String(100), nullable=False, index=True),
        sa.Column("target_groups", sa.JSON, nullable=False),
        sa.Column("funded_from", sa.String(10), nullable=True),
        sa.Column("funded_until", sa.String(10), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_on", sa.String(10), nullable=True),
        sa.Column("close_reason", sa.String(40), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "rc_volunteers",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stage_since", sa.String(10), nullable=True),
        sa.Column("enquired_on", sa.String(10), nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("age_band", sa.String(10), nullable=True),
        sa.Column("gender", sa.String(10), nullable=True),
        sa.Column("sessions", sa.Integer, nullable=False),
        sa.Column("training_hours", sa.Float, nullable=False),
        sa.Column("preferences", sa.JSON, nullable=True),
        sa.Column("works_with_minors", sa.Boolean, nullable=False),
        sa.Column("active_duos", sa.Integer, nullable=False),
        sa.Column("waiting_since", sa.String(10), nullable=True),
        sa.Column("last_kept_warm", sa.String(10), nullable=True),
        sa.Column("warm_since", sa.String(10), nullable=True),
        sa.Column("legal", sa.JSON, nullable=False),
        sa.Column("paused_until", sa.String(10), nullable=True),
        sa.Column("stop_reason", sa.String(40), nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_rc_volunteers_project_status", "rc_volunteers", ["project_id", "status"])
    op.create_table(
        "rc_name_index",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False),
    )
    op.create_index("ix_rc_name_index_project_token", "rc_name_index", ["project_id", "token"])


def downgrade() -> None:
    op.drop_index("ix_rc_name_index_project_token", "rc_name_index")
    op.drop_table("rc_name_index")
    op.drop_index("ix_rc_volunteers_project_status", "rc_volunteers")
    op.drop_table("rc_volunteers")
    op.drop_table("rc_projects")
