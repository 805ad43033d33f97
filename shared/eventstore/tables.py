"""Tables every service database has: the event log and the bus bookkeeping.

Times are stored as fixed-format UTC ISO text so that the hash chain is computed over
exactly the same bytes on SQLite and PostgreSQL.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("stream_type", String(50), nullable=False),
    Column("stream_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False, index=True),
    Column("project_id", String(100), nullable=True),
    Column("actor_id", String(100), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("correlation_id", String(36), nullable=False),
    Column("causation_id", String(36), nullable=True),
    Column("payload", Text, nullable=False),
    Column("subject_id", String(100), nullable=True),
    Column("sealed", LargeBinary, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

# One row: the last position and hash. Locking it serialises appends, which keeps
# positions gapless and in commit order (an autoincrement id would not).
store_head = Table(
    "store_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

relay_state = Table(
    "relay_state",
    metadata,
    Column("stream", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

consumer_checkpoints = Table(
    "consumer_checkpoints",
    metadata,
    Column("consumer", String(100), nullable=False),
    Column("upstream", String(50), nullable=False),
    Column("position", BigInteger, nullable=False),
    # the event applied last, where and when (the consumer's clock); trusted only while
    # event_position equals position (a checkpoint set back by hand or a rebuild leaves it stale)
    Column("event_id", String(36), nullable=True),
    Column("event_position", BigInteger, nullable=True),
    Column("applied_at", String(32), nullable=True),
    PrimaryKeyConstraint("consumer", "upstream"),
)

consumer_failures = Table(
    "consumer_failures",
    metadata,
    Column("consumer", String(100), nullable=False),
    Column("upstream", String(50), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    PrimaryKeyConstraint("consumer", "upstream", "position"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("consumer", String(100), nullable=False),
    Column("upstream", String(50), nullable=False),
    Column("entry_id", String(50), nullable=False),
    Column("position", BigInteger, nullable=True),
    Column("reason", Text, nullable=False),
    Column("dead_lettered_at", String(32), nullable=False),
    PrimaryKeyConstraint("consumer", "upstream", "entry_id"),
)

vault_keys = Table(
    "vault_keys",
    metadata,
    Column("subject_id", String(100), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", String(32), nullable=False),
)

GENESIS_HASH = "0" * 64

# The Idempotency-Key of each recorded command, per caller, with its first answer
# (shared/idempotency.py). Written in the command's own transaction (claims.record_claim).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("actor_id", String(100), nullable=False),
    Column("idem_key", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("token", String(36), nullable=False),
    Column("created_at", String(32), nullable=False, index=True),
    Column("status", Integer, nullable=True),  # null until the answer is kept
    Column("media_type", String(100), nullable=True),
    Column("body", LargeBinary, nullable=True),  # null when not kept (personal data)
    PrimaryKeyConstraint("actor_id", "idem_key"),
)

# What each staff member may do, as learned from the staff register's events (shared/access.py).
# Every service keeps its own copy, filled by its subscriber (recruitment: in the command's
# transaction); lists are JSON text, so the table is the same on SQLite and PostgreSQL.
staff_access = Table(
    "staff_access",
    metadata,
    Column("staff_id", String(100), primary_key=True),
    Column("subject", String(100), nullable=True, index=True),
    Column("roles", Text, nullable=False),
    Column("projects", Text, nullable=False),
    Column("regions", Text, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("changed_at", String(32), nullable=False),
)
