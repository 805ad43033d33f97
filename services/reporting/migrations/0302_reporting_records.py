"""One upstream per projection table; reports kept as records.

Revision ID: 0302_reporting
"""

import sqlalchemy as sa
from alembic import op

revision = "0302_reporting"
down_revision = "0301_reporting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rp_volunteers") as batch:
        batch.drop_column("active_duos")
    op.create_table(
        "rp_reports",
        sa.Column("report_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("watermark", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rp_reports")
    with op.batch_alter_table("rp_volunteers") as batch:
        batch.add_column(sa.Column("active_duos", sa.Integer, nullable=False, server_default="0"))
