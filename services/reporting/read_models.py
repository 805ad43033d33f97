"""Reporting projections: pseudonymised per-person rows, only the columns the reports read.

No names, contact data, notes or free text (but a policy signal's confirmed, anonymised
summary): pseudonymous ids, vocabulary codes, dates and numbers. Still personal data under
the GDPR: a pseudonymous id with its dates and codes is about one person, and the producers'
logs carry the same pseudonyms (docs/privacy.md §1). So the tables keep what a report reads
and nothing more (migration 0307 dropped the rest), and an erased person's rows are re-keyed
to a one-way token (``rp_erased_subjects``, ``projections.person``), kept for the counts.

Each table is fed by exactly one upstream service. Events of one service arrive in
position order, but the services' streams interleave in any order; keeping every table to
one upstream (and joining at query time) makes the projections the same whatever the
interleaving, so a rebuild equals the live state and a report can be reproduced. The one
exception, an erasure, re-keys a person's rows in every table that names them; a row
written after it under the old pseudonym is keyed to the token as it is written, so every
interleaving still ends the same (tests/integration/test_reporting_erasure.py).

Every fact keeps two dates: when it happened (``*_on``, the domain date, or the
envelope's ``occurred_at`` when the event has none) and when it became known (``*_rec``,
the date of the envelope's ``recorded_at``), both as ISO dates (UTC). Reports "about
period P" bucket by the first, reports on the ``recorded`` basis by the second.

Upstreams (``rp_erased_subjects`` is the one table two of them feed: recruitment for
volunteers, matching for participants): recruitment → rp_projects, rp_volunteers, rp_volunteer_duos, rp_keep_warm;
matching → rp_participants, rp_participant_events, rp_proposals, rp_duos, rp_duo_pauses;
followup → rp_contacts, rp_contact_months, rp_contact_activity_months, rp_coaching_sessions, rp_coaching_attendance, rp_boundary_signals,
rp_goals, rp_evaluations, rp_followup_calls, rp_policy_signals.
"""

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

Day = String(10)  # ISO date
Code = String(50)  # a vocabulary code

# --------------------------------------------------------------------------- recruitment
projects = Table(
    "rp_projects", metadata,
    Column("project_id", String(100), primary_key=True),
    Column("title", String(200), nullable=False),  # the programme's public name, not personal data
    Column("region", String(100), nullable=False),
    Column("municipality_nis", String(5), nullable=False),
    Column("target_groups", String(200), nullable=False),  # codes, comma-separated
    Column("funded_from", Day, nullable=True),
    Column("funded_until", Day, nullable=True),
    Column("registered_on", Day, nullable=False),
    Column("registered_rec", Day, nullable=False),
    Column("closed_on", Day, nullable=True),
    Column("closed_rec", Day, nullable=True),
    Column("close_reason", Code, nullable=True),
)

volunteers = Table(
    "rp_volunteers", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    # enquired | available | paused | stopped (what the project summary reads)
    Column("status", String(20), nullable=False),
    Column("channel", Code, nullable=False),
    Column("enquired_on", Day, nullable=False),
    Column("enquired_rec", Day, nullable=False),
    Column("intake_on", Day, nullable=True),
    Column("intake_rec", Day, nullable=True),
    Column("screened_on", Day, nullable=True),
    Column("screened_rec", Day, nullable=True),
    Column("screening", Code, nullable=True),  # approved | not_approved
    Column("trained_on", Day, nullable=True),  # first training or coaching session
    Column("trained_rec", Day, nullable=True),
    Column("available_on", Day, nullable=True),  # first made available
    Column("available_rec", Day, nullable=True),
    Column("stopped_on", Day, nullable=True),
    Column("stopped_rec", Day, nullable=True),
    Column("stop_reason", Code, nullable=True),
)

volunteer_duos = Table(
    "rp_volunteer_duos", metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("joined_on", Day, nullable=False),
    Column("joined_rec", Day, nullable=False),
)

keep_warm = Table(
    "rp_keep_warm", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("kind", Code, nullable=False),
    Column("contacted_on", Day, nullable=False),
    Column("contacted_rec", Day, nullable=False),
)

# --------------------------------------------------------------------------- matching
participants = Table(
    "rp_participants", metadata,
    Column("participant_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("target_group", Code, nullable=False),
    Column("referrer_type", Code, nullable=False),
    Column("life_domains", String(300), nullable=False),  # codes, comma-separated
    Column("referred_on", Day, nullable=False),
    Column("referred_rec", Day, nullable=False),
    Column("intake_on", Day, nullable=True),
    Column("intake_rec", Day, nullable=True),
    # when the current wait began: the referral, or the last return to the waiting list
    Column("waiting_since", Day, nullable=False),
)

participant_events = Table(
    "rp_participant_events", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # withdrawn | returned
    Column("reason", Code, nullable=False),
    Column("happened_on", Day, nullable=False),
    Column("happened_rec", Day, nullable=False),
)

proposals = Table(
    "rp_proposals", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("proposed_on", Day, nullable=False),
    Column("proposed_rec", Day, nullable=False),
    Column("declined_by", Code, nullable=True),
    Column("declined_rec", Day, nullable=True),
)

duos = Table(
    "rp_duos", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("volunteer_id", String(100), nullable=False),
    Column("participant_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # active | ended
    Column("started_on", Day, nullable=False),
    Column("started_rec", Day, nullable=False),
    # days the participant waited for this duo (from waiting_since), known at the start
    Column("participant_waited_days", Integer, nullable=True),
    Column("ended_on", Day, nullable=True),
    Column("ended_rec", Day, nullable=True),
    Column("end_reason", Code, nullable=True),
    Column("planned", Boolean, nullable=True),
)

duo_pauses = Table(
    "rp_duo_pauses", metadata,
    Column("event_id", String(36), primary_key=True),  # of the DuoPaused event
    Column("duo_id", String(100), nullable=False, index=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("reason", Code, nullable=True),
    Column("paused_on", Day, nullable=False),
    Column("paused_rec", Day, nullable=False),
    Column("resumed_on", Day, nullable=True),
    Column("resumed_rec", Day, nullable=True),
)

# --------------------------------------------------------------------------- followup
contacts = Table(
    "rp_contacts", metadata,
    Column("contact_id", String(100), primary_key=True),
    Column("duo_id", String(100), nullable=False, index=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("logged_rec", Day, nullable=False),  # first logged (a correction keeps it)
    Column("month", String(7), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("activities", String(400), nullable=False),  # codes, comma-separated
)

# Contacts counted per month, for reports (a period is whole months): what ``rp_contacts``
# holds, summed, on both date bases (``occurred``: the contact's month; ``recorded``: the
# month it was first logged). Kept by the contact handlers with every change of a contact
# (``projections._count_contact``); a key once counted keeps its row, at 0 if its contacts
# went. Per duo, so a report joins the duo's target group at query time.
contact_months = Table(
    "rp_contact_months", metadata,
    Column("basis", String(10), primary_key=True),  # occurred | recorded
    Column("month", String(7), primary_key=True),
    Column("project_id", String(100), primary_key=True),
    Column("duo_id", String(100), primary_key=True),
    Column("mode", String(20), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("minutes", Integer, nullable=False),
)

# Per project and month: contacts with each activity; ``activity`` ``+accompany`` counts the
# contacts with any accompaniment (an activity code starting with ``accompany_``).
contact_activity_months = Table(
    "rp_contact_activity_months", metadata,
    Column("basis", String(10), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("project_id", String(100), primary_key=True),
    Column("activity", Code, primary_key=True),
    Column("n", Integer, nullable=False),
)

coaching_sessions = Table(
    "rp_coaching_sessions", metadata,
    Column("session_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("kind", Code, nullable=False),
    Column("session_on", Day, nullable=False),
    Column("session_rec", Day, nullable=False),
    Column("themes", String(400), nullable=False),
)

coaching_attendance = Table(
    "rp_coaching_attendance", metadata,
    Column("session_id", String(100), primary_key=True),
    Column("volunteer_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("session_on", Day, nullable=False),
    Column("session_rec", Day, nullable=False),
    Column("minutes", Integer, nullable=False),
)

boundary_signals = Table(
    "rp_boundary_signals", metadata,
    Column("signal_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("signal_type", Code, nullable=False),
    Column("severity", Code, nullable=False),  # as raised
    Column("raised_on", Day, nullable=False),
    Column("raised_rec", Day, nullable=False),
    Column("resolved_on", Day, nullable=True),
    Column("resolved_rec", Day, nullable=True),
    Column("resolution", Code, nullable=True),
)

goals = Table(
    "rp_goals", metadata,
    Column("goal_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("domain", Code, nullable=False),
    Column("set_on", Day, nullable=False),
    Column("set_rec", Day, nullable=False),
    Column("baseline", Integer, nullable=False),
    Column("latest_score", Integer, nullable=True),
    Column("latest_on", Day, nullable=True),
    Column("closed_on", Day, nullable=True),
    Column("closed_rec", Day, nullable=True),
    Column("outcome", Code, nullable=True),
)

evaluations = Table(
    "rp_evaluations", metadata,
    Column("duo_id", String(100), primary_key=True),
    Column("moment", String(10), primary_key=True),  # start | mid | final
    Column("project_id", String(100), nullable=False, index=True),
    Column("evaluated_on", Day, nullable=False),
    Column("evaluated_rec", Day, nullable=False),
    Column("wellbeing", Integer, nullable=False),
    Column("network_size", Integer, nullable=False),
)

followup_calls = Table(
    "rp_followup_calls", metadata,
    Column("call_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("due_on", Day, nullable=False),
    Column("scheduled_rec", Day, nullable=False),
    Column("outcome", Code, nullable=True),
    Column("completed_rec", Day, nullable=True),
    Column("still_in_contact", Boolean, nullable=True),
    Column("network_change", Code, nullable=True),
    Column("wellbeing", Integer, nullable=True),
)

policy_signals = Table(
    "rp_policy_signals", metadata,
    Column("signal_id", String(100), primary_key=True),
    Column("project_id", String(100), nullable=False, index=True),
    Column("theme", Code, nullable=False),
    Column("observed_on", Day, nullable=False),
    Column("observed_rec", Day, nullable=False),
    # the one free text: an anonymised summary a professional confirmed holds no personal data
    Column("summary", String(280), nullable=True),
    Column("summary_rec", Day, nullable=True),
)

# --------------------------------------------------------------------------- erasure
# The people erased by their owning service (recruitment: volunteers, matching: participants),
# as the one-way token their rows were re-keyed to (``projections.erased_token``): a row
# written later under the old pseudonym is keyed to the token too. Holds no pseudonym.
erased_subjects = Table(
    "rp_erased_subjects", metadata,
    Column("token", String(100), primary_key=True),
)

PROJECTION_TABLES = (
    projects, volunteers, volunteer_duos, keep_warm,
    participants, participant_events, proposals, duos, duo_pauses,
    contacts, contact_months, contact_activity_months, coaching_sessions, coaching_attendance, boundary_signals,
    goals, evaluations, followup_calls, policy_signals, erased_subjects,
)

UPSTREAM_OF = {
    **{t.name: "recruitment" for t in (projects, volunteers, volunteer_duos, keep_warm)},
    **{t.name: "matching" for t in (participants, participant_events, proposals, duos, duo_pauses)},
    **{t.name: "followup" for t in (contacts, contact_months, contact_activity_months, coaching_sessions,
                                     coaching_attendance, boundary_signals, goals, evaluations, followup_calls,
                                     policy_signals)},
}

# Reports read the monthly counts by basis and months, grouped by their own cells: covering
# indexes, so the counts come from the index alone (migration 0305).
Index("ix_rp_contact_months_report", contact_months.c.basis, contact_months.c.month, contact_months.c.project_id,
      contact_months.c.duo_id, contact_months.c.mode, contact_months.c.n, contact_months.c.minutes)
Index("ix_rp_contact_activity_months_report", contact_activity_months.c.basis, contact_activity_months.c.month,
      contact_activity_months.c.project_id, contact_activity_months.c.activity, contact_activity_months.c.n)

# --------------------------------------------------------------------------- records
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
    # the suppression pattern (hidden cells per table set), for the next period's report
    Column("pattern", Text, nullable=True),
    Column("title", String(200), nullable=True),  # as the publisher gave it
)
