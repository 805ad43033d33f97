"""Recruitment's read models: the project register, the volunteer pool and the blind name index.

Every row is derived from the event log (``services.recruitment.projection``) and written in
the same transaction as the events it reflects; ``rebuild`` recreates them from history.
No table holds personal data: names are only present as keyed blind-index tokens.
"""

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, MetaData, String, Table

metadata = MetaData()

projects = Table(
    "rc_projects", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("municipality_nis", String(5), nullable=False),
    Column("region", String(100), nullable=False, index=True),
    Column("target_groups", JSON, nullable=False),
    Column("funded_from", String(10), nullable=True),
    Column("funded_until", String(10), nullable=True),
    Column("status", String(20), nullable=False),
    Column("closed_on", String(10), nullable=True),
    Column("close_reason", String(40), nullable=True),
    Column("version", Integer, nullable=False),
)

volunteers = Table(
    "rc_volunteers", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("stage_since", String(10), nullable=True),
    Column("enquired_on", String(10), nullable=True),
    Column("channel", String(40), nullable=False),
    Column("municipality_nis", String(5), nullable=False),
    Column("age_band", String(10), nullable=True),
    Column("gender", String(10), nullable=True),
    Column("sessions", Integer, nullable=False),
    Column("training_hours", Float, nullable=False),
    Column("preferences", JSON, nullable=True),
    Column("works_with_minors", Boolean, nullable=False),
    Column("active_duos", Integer, nullable=False),
    Column("waiting_since", String(10), nullable=True),
    Column("last_kept_warm", String(10), nullable=True),
    Column("warm_since", String(10), nullable=True),
    Column("legal", JSON, nullable=False),
    Column("paused_until", String(10), nullable=True),
    Column("stop_reason", String(40), nullable=True),
    Column("erased", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_rc_volunteers_project_status", "project_id", "status"),
)

# Keyed blind-index tokens of name parts (HMAC, see shared.vault): findable, not readable.
# Deleted with the person on erasure.
name_index = Table(
    "rc_name_index", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("token", String(64), primary_key=True),
    Column("project_id", String(100), nullable=False),
    Index("ix_rc_name_index_project_token", "project_id", "token"),
)
