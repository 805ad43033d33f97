"""Follow-up learns what the Today list needs to warn about a lapsing screening.

``fu_participants`` gains ``target_group`` (from matching's referrals: a child, youth or
family means the buddy works with minors) and ``fu_volunteer_legal`` holds each volunteer's
legal items from recruitment (dates and kinds only). The checkpoint on matching goes back to
0 so the running service re-reads matching's history and fills the target groups; every step
of the subscriber sets state, calls already scheduled are recognised by their ids.
Recruitment is a new upstream: its checkpoint starts at 0 by itself.

Revision ID: 0203_followup_screening
"""

import sqlalchemy as sa
from alembic import op

revision = "0203_followup_screening"
down_revision = "0202_followup_case_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fu_participants") as batch:
        batch.add_column(sa.Column("target_group", sa.String(30), nullable=True))
    op.create_table(
        "fu_volunteer_legal",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("item", sa.String(40), primary_key=True),
        sa.Column("dated", sa.String(10), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=True),
    )
    checkpoints = sa.table("consumer_checkpoints", sa.column("consumer"), sa.column("upstream"), sa.column("position"))
    op.get_bind().execute(sa.delete(checkpoints).where(checkpoints.c.consumer == "followup",
                                                       checkpoints.c.upstream == "matching"))


def downgrade() -> None:
    op.drop_table("fu_volunteer_legal")
    with op.batch_alter_table("fu_participants") as batch:
        batch.drop_column("target_group")
