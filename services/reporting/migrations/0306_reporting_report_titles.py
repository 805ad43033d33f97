"""A title for each published report, as its publisher gave it (the archive lists it).

Nullable: reports published before, and through the API without a title, have none.

Revision ID: 0306_reporting_titles
"""

import sqlalchemy as sa
from alembic import op

revision = "0306_reporting_titles"
down_revision = "0305_reporting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rp_reports", sa.Column("title", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("rp_reports", "title")
