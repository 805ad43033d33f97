"""Follow-up's duo roster, learned from matching's events."""

from sqlalchemy import Column, MetaData, String, Table

metadata = MetaData()

roster = Table(
    "fu_roster", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("volunteer_id", String(100), nullable=False),
    Column("participant_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_on", String(10), nullable=False),
    Column("ended_on", String(10), nullable=True),
)
