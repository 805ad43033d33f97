"""Matching's read models, rebuildable from the event logs.

* ``mt_projects`` and ``mt_candidates`` (the candidate pool) are learned from
  recruitment's events by ``subscribers.on_event``;
* ``mt_participants`` (the waiting list), ``mt_participant_names`` (blind name index),
  ``mt_duos`` and ``mt_weights`` follow matching's own events (``projection.apply``),
  written in the same transaction as the events.

A volunteer's load (open proposals and running duos) is counted from ``mt_duos``, never
kept as a counter, so replaying recruitment's history cannot disturb it.
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table, false

metadata = MetaData()

projects = Table(
    "mt_projects", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("region", String(100), nullable=False),
    Column("target_groups", JSON, nullable=False),
    Column("closed", Boolean, nullable=False),
)

candidates = Table(
    "mt_candidates", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # enquired, available, paused, stopped
    Column("municipality_nis", String(5), nullable=False),  # from the enquiry
    Column("home_nis", String(5), nullable=True),  # the preferences' municipality, when given
    Column("target_groups", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("interests", JSON, nullable=False),
    Column("availability", JSON, nullable=False),  # slot codes such as "mon-morning"
    Column("travel", String(30), nullable=False),
    Column("max_duos", Integer, nullable=False),
    Column("has_preferences", Boolean, nullable=False),
    Column("available_since", String(32), nullable=True),
    # Legal items by kind ("criminal_record_extract", "insurance", ...): {"dated", "valid_until"}, dates only.
    Column("legal", JSON, nullable=False, server_default="{}"),
    Column("erased", Boolean, nullable=False, server_default=false()),  # personal data erased: out of the pool
)

participants = Table(
    "mt_participants", metadata,
    Column("participant_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # services.matching.domain.Placement
    Column("target_group", String(30), nullable=False),
    Column("referrer_type", String(40), nullable=False),
    Column("life_domains", JSON, nullable=False),
    Column("wishes", JSON, nullable=False),
    Column("interests", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("availability", JSON, nullable=False),
    Column("municipality_nis", String(5), nullable=False),
    Column("age_band", String(10), nullable=True),
    Column("consent", Boolean, nullable=False),  # consent allows matching
    Column("consent_scopes", JSON, nullable=False),
    Column("consent_given_on", String(10), nullable=True),
    Column("consent_recorded_by", String(100), nullable=True),
    Column("referred_at", String(32), nullable=False),
    Column("waiting_since", String(32), nullable=False),
    Column("intake_held_on", String(10), nullable=True),
    Column("withdrawn_reason", String(40), nullable=True),
    Column("open_duo_id", String(100), nullable=True),
    Column("times_returned", Integer, nullable=False),
    Column("erased", Boolean, nullable=False),
    Index("ix_mt_participants_project_status", "project_id", "status", "waiting_since"),
)

participant_names = Table(
    "mt_participant_names", metadata,
    Column("participant_id", String(100), primary_key=True),
    Column("token", String(64), primary_key=True, index=True),  # keyed blind index of one name part
)

duos = Table(
    "mt_duos", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("volunteer_id", String(100), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # services.matching.domain.DuoStatus
    Column("after_proposal", Boolean, nullable=False),
    Column("proposed_on", String(10), nullable=True),
    Column("volunteer_accepted", Boolean, nullable=False),
    Column("participant_accepted", Boolean, nullable=False),
    Column("declined_by", String(20), nullable=True),
    Column("decline_reason", String(40), nullable=True),
    Column("started_on", String(10), nullable=True),
    Column("agreed_contacts_per_month", Integer, nullable=True),
    Column("expected_duration_months", Integer, nullable=True),
    Column("boundary_agreements_recorded", Boolean, nullable=False),
    Column("paused_on", String(10), nullable=True),
    Column("ended_on", String(10), nullable=True),
    Column("end_reason", String(40), nullable=True),
    Column("planned", Boolean, nullable=True),
    Column("updated_at", String(32), nullable=False),
)

weights = Table(
    "mt_weights", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("weights", JSON, nullable=False),
    Column("set_at", String(32), nullable=False),
    Column("set_by", String(100), nullable=False),
)
