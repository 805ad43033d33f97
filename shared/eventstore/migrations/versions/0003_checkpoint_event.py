"""The event a consumer applied last, kept with its checkpoint.

A consumer compares the producer's event at its checkpoint with the one it applied there:
kept in the database (not only in memory), a producer that rewrote that position, or a
forged entry that was applied, is still noticed after a restart and named for what it is.
The event's position is kept beside its id: a checkpoint set back by hand or by a rebuild
leaves the id stale, and a stale id is not compared.

Revision ID: 0003_checkpoint_event
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_checkpoint_event"
down_revision = "0002_idempotency_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consumer_checkpoints") as batch:
        batch.add_column(sa.Column("event_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("event_position", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("applied_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consumer_checkpoints") as batch:
        batch.drop_column("applied_at")
        batch.drop_column("event_position")
        batch.drop_column("event_id")
