"""Reporting projections: pseudonymous ids and coarse attributes only, no personal data."""

from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()

projects = Table(
    "rp_projects", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("region", String(100), nullable=False),
    Column("municipality_nis", String(5), nullable=False),
)

volunteers = Table(
    "rp_volunteers", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("active_duos", Integer, nullable=False),
)

duos = Table(
    "rp_duos", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("volunteer_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_on", String(10), nullable=False),
    Column("ended_on", String(10), nullable=True),
)

contacts = Table(
    "rp_contacts", metadata,
    Column("contact_id", String(100), primary_key=True),
    Column("duo_id", String(100), nullable=False),
    Column("project_id", String(100), nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("mode", String(20), nullable=False),
)
