"""Reporting projections: pseudonymous ids and coarse attributes only, no personal data.

Each table is fed by exactly one upstream service. Events of one service arrive in
position order, but the services' streams interleave in any order; keeping every table to
one upstream (and joining at query time) makes the projections the same whatever the
interleaving, so a rebuild equals the live state and a report can be reproduced.
"""

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

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

reports = Table(
    "rp_reports", metadata,
    Column("report_id", String(40), primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("watermark", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(100), nullable=False),
)
