"""The candidate pool learns legal items and erasures from recruitment.

``mt_candidates`` gains ``legal`` (per item its date and end of validity: the
criminal-record extract model 2 and insurance, which decide who may be matched with a
child, youth or family) and ``erased`` (a volunteer whose personal data was erased leaves
the pool). The checkpoint on recruitment goes back to 0, so the running service replays
recruitment's history from its feed and fills both for every volunteer it already knew.

The blind index (``mt_participant_names``) is emptied: it now also holds each participant's
identity key (name with birth date, ``shared.duplicates``), which only the vault can compute;
the service rebuilds it from the sealed referrals at start-up (``MatchingRuntime.migrate``).

Revision ID: 0103_matching_screening
"""

import sqlalchemy as sa
from alembic import op

revision = "0103_matching_screening"
down_revision = "0102_matching_full"
branch_labels = None
depends_on = None


def _replay_recruitment() -> None:
    checkpoints = sa.table("consumer_checkpoints", sa.column("consumer"), sa.column("upstream"), sa.column("position"))
    op.get_bind().execute(sa.delete(checkpoints).where(checkpoints.c.consumer == "matching",
                                                       checkpoints.c.upstream == "recruitment"))


def upgrade() -> None:
    with op.batch_alter_table("mt_candidates") as batch:
        batch.add_column(sa.Column("legal", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("erased", sa.Boolean, nullable=False, server_default=sa.false()))
    op.get_bind().execute(sa.text("DELETE FROM mt_participant_names"))
    _replay_recruitment()


def downgrade() -> None:
    with op.batch_alter_table("mt_candidates") as batch:
        batch.drop_column("erased")
        batch.drop_column("legal")
