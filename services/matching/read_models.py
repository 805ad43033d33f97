"""Matching's read models: projects and the candidate pool learned from recruitment,
and participants' place on the waiting list. Rebuildable from the event logs."""

from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table

metadata = MetaData()

projects = Table(
    "mt_projects", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("region", String(100), nullable=False),
)

candidates = Table(
    "mt_candidates", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("municipality_nis", String(5), nullable=False),
    Column("target_groups", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("max_duos", Integer, nullable=False),
    Column("active_duos", Integer, nullable=False),
    Column("available_since", String(32), nullable=True),
)

participants = Table(
    "mt_participants", metadata,
    Column("participant_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("target_group", String(30), nullable=False),
    Column("consent", Boolean, nullable=False),
    Column("referred_at", String(32), nullable=False),
)
