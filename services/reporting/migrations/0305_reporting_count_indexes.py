"""Covering indexes on the monthly contact counts, for the reports' grouped reads.

A report reads ``rp_contact_months`` and ``rp_contact_activity_months`` by basis and a
range of months, grouped by its own unit and bucket (``queries.Placing``); with the
counts in the index the database answers from the index alone, without a lookup per row
in the table. Nothing is replayed: the indexes are built from the rows already there.

Revision ID: 0305_reporting
"""

from alembic import op

revision = "0305_reporting"
down_revision = "0304_reporting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rp_contact_months_report", "rp_contact_months",
                    ["basis", "month", "project_id", "duo_id", "mode", "n", "minutes"])
    op.create_index("ix_rp_contact_activity_months_report", "rp_contact_activity_months",
                    ["basis", "month", "project_id", "activity", "n"])


def downgrade() -> None:
    op.drop_index("ix_rp_contact_activity_months_report", table_name="rp_contact_activity_months")
    op.drop_index("ix_rp_contact_months_report", table_name="rp_contact_months")
