"""Follow-up read models.

Revision ID: 0201_followup
"""

import sqlalchemy as sa
from alembic import op

revision = "0201_followup"
down_revision = "0001_event_store"
branch_labels = ("followup",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fu_roster",
        sa.Column("duo_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(100), nullable=False, index=True),
        sa.Column("volunteer_id", sa.String(100), nullable=False),
        sa.Column("participant_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_on", sa.String(10), nullable=False),
        sa.Column("ended_on", sa.String(10), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("fu_roster")
