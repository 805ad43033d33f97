"""What each staff member may do: the staff register as every service knows it.

Filled from the staff register's events (``shared.access``): in recruitment, which records
them, in the command's own transaction; elsewhere by the consumer, like projects.

Revision ID: 0004_staff_access
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_staff_access"
down_revision = "0003_checkpoint_event"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_access",
        sa.Column("staff_id", sa.String(100), primary_key=True),
        sa.Column("subject", sa.String(100), nullable=True),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("projects", sa.Text, nullable=False),
        sa.Column("regions", sa.Text, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_staff_access_subject", "staff_access", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_staff_access_subject", "staff_access")
    op.drop_table("staff_access")
