"""Follow-up's read models: the duo roster learned from matching's events, and tables
projected from follow-up's own events (rebuildable from its log, see ``projections``).

No personal data: sealed notes and descriptions stay beside their events; a row keeps
only the position of the event that holds the current one.
"""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text

metadata = MetaData()

roster = Table(
    "fu_roster", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("volunteer_id", String(100), nullable=False),
    Column("participant_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # active | paused | ended
    Column("started_on", String(10), nullable=False),
    Column("ended_on", String(10), nullable=True),
    Column("agreed_contacts_per_month", Integer, nullable=True),
    Column("paused_on", String(10), nullable=True),
    Column("resumed_on", String(10), nullable=True),
)

participants = Table(
    "fu_participants", metadata,
    Column("participant_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False),
    Column("consent_to_call", Boolean, nullable=True),  # "followup_contact" consent; null: not known
    Column("target_group", String(30), nullable=True),  # child, youth, family: the volunteer works with minors
)

# Legal items of volunteers, learned from recruitment (dates and kinds only): an extract (model 2)
# or insurance that lapses while a duo with a child, youth or family runs is an alert on Today.
volunteer_legal = Table(
    "fu_volunteer_legal", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("item", String(40), primary_key=True),
    Column("dated", String(10), nullable=False),
    Column("valid_until", String(10), nullable=True),
)

contacts = Table(
    "fu_contacts", metadata,
    Column("contact_id", String(100), primary_key=True),
    Column("duo_id", String(100), nullable=False, index=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # draft | logged | retracted | discarded
    Column("contact_date", String(10), nullable=False),
    Column("month", String(7), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("activities", JSON, nullable=False),
    Column("logged_by", String(20), nullable=False),
    Column("logged_by_actor", String(100), nullable=False),
    Column("has_private_note", Boolean, nullable=False),
    Column("note_position", BigInteger, nullable=True),
    Column("corrections", Integer, nullable=False),
    Column("retraction_reason", String(40), nullable=True),
    Column("recorded_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

cadences = Table(
    "fu_cadences", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("first_period_days", Integer, nullable=False),
    Column("first_period_contacts", Integer, nullable=False),
    Column("max_gap_days", Integer, nullable=False),
    Column("set_at", String(32), nullable=False),
)

coaching_sessions = Table(
    "fu_coaching_sessions", metadata,
    Column("session_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("session_date", String(10), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("themes", JSON, nullable=False),
    Column("volunteer_ids", JSON, nullable=False),
    Column("coach_id", String(100), nullable=False),
)

coaching_attendance = Table(
    "fu_coaching_attendance", metadata,
    Column("session_id", String(100), primary_key=True),
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
)

boundary_signals = Table(
    "fu_boundary_signals", metadata,
    Column("signal_id", String(100), primary_key=True),
    Column("duo_id", String(100), nullable=False, index=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("signal_type", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("severity_rank", Integer, nullable=False),
    Column("raised_by", String(20), nullable=False),
    Column("raised_on", String(10), nullable=False),
    Column("status", String(20), nullable=False),  # open | resolved
    Column("follow_ups", Integer, nullable=False),
    Column("last_followed_up_on", String(10), nullable=True),
    Column("resolution", String(40), nullable=True),
    Column("resolved_on", String(10), nullable=True),
    Column("note_positions", JSON, nullable=False),
)

goals = Table(
    "fu_goals", metadata,
    Column("goal_id", String(100), primary_key=True),
    Column("duo_id", String(100), nullable=False, index=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("domain", String(40), nullable=False),
    Column("set_on", String(10), nullable=False),
    Column("baseline", Integer, nullable=False),
    Column("target", Integer, nullable=True),
    Column("latest_score", Integer, nullable=False),
    Column("progress", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # open | closed
    Column("closed_on", String(10), nullable=True),
    Column("outcome", String(30), nullable=True),
    Column("description_position", BigInteger, nullable=True),
)

evaluations = Table(
    "fu_evaluations", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("moment", String(10), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("evaluated_on", String(10), nullable=False),
    Column("wellbeing", Integer, nullable=False),
    Column("network_size", Integer, nullable=False),
    Column("participant_satisfaction", Integer, nullable=True),
    Column("volunteer_satisfaction", Integer, nullable=True),
)

calls = Table(
    "fu_calls", metadata,
    Column("call_id", String(100), primary_key=True),
    Column("duo_id", String(100), nullable=False, index=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("months_after_end", Integer, nullable=False),
    Column("ended_on", String(10), nullable=False),
    Column("due_on", String(10), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # scheduled | completed | cancelled (consent withdrawn)
    Column("attempts", Integer, nullable=False),
    Column("last_attempt_on", String(10), nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("completed_on", String(10), nullable=True),
    Column("still_in_contact_with_buddy", Boolean, nullable=True),
    Column("network_change", String(20), nullable=True),
    Column("wellbeing", Integer, nullable=True),
)

policy_signals = Table(
    "fu_policy_signals", metadata,
    Column("signal_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("theme", String(40), nullable=False),
    Column("observed_on", String(10), nullable=False),
    Column("status", String(20), nullable=False),  # recorded | confirmed | shredded
    Column("summary", Text, nullable=True),  # only once confirmed: public by then; dropped when shredded
    Column("confirmed_on", String(10), nullable=True),
    Column("description_position", BigInteger, nullable=True),
)

#: Tables projected from follow-up's own log (the roster comes from matching's).
OWN_TABLES = (contacts, cadences, coaching_sessions, coaching_attendance, boundary_signals, goals, evaluations,
              calls, policy_signals)
