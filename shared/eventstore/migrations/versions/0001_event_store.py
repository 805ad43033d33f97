"""Event log, store head, bus bookkeeping and vault keys.

Revision ID: 0001_event_store
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_event_store"
down_revision = None
branch_labels = ("shared",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("stream_type", sa.String(50), nullable=False),
        sa.Column("stream_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(100), nullable=True),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("correlation_id", sa.String(36), nullable=False),
        sa.Column("causation_id", sa.String(36), nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=True),
        sa.Column("sealed", sa.LargeBinary, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_table(
        "store_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(
        sa.table("store_head", sa.column("id"), sa.column("position"), sa.column("hash")),
        [{"id": 1, "position": 0, "hash": "0" * 64}],
    )
    op.create_table(
        "relay_state",
        sa.Column("stream", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "consumer_checkpoints",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("upstream", sa.String(50), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "upstream"),
    )
    op.create_table(
        "consumer_failures",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("upstream", sa.String(50), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "upstream", "position"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("upstream", sa.String(50), nullable=False),
        sa.Column("entry_id", sa.String(50), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("dead_lettered_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "upstream", "entry_id"),
    )
    op.create_table(
        "vault_keys",
        sa.Column("subject_id", sa.String(100), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for name in ("vault_keys", "dead_letters", "consumer_failures", "consumer_checkpoints", "relay_state", "store_head", "events"):
        op.drop_table(name)
