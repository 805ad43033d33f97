"""Reporting projections.

Revision ID: 0301_reporting
"""

import sqlalchemy as sa
from alembic import op

revision = "0301_reporting"
down_revision = "0001_event_store"
branch_labels = ("reporting",)
depends_on = None


def upgrade() -> None:
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
        sa.Column("active_duos", sa.Integer, nullable=False),
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


def downgrade() -> None:
    for name in ("rp_contacts", "rp_duos", "rp_volunteers", "rp_projects"):
        op.drop_table(name)
