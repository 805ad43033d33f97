"""Matching read models.

Revision ID: 0101_matching
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_matching"
down_revision = "0001_event_store"
branch_labels = ("matching",)
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    for name in ("mt_participants", "mt_candidates", "mt_projects"):
        op.drop_table(name)
