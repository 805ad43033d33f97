"""The reporting projections keep only what the reports read, and forget erased people.

The projections hold pseudonymised per-person rows: personal data under the GDPR
(docs/privacy.md §1). Dropped, because no report reads them: when a volunteer left a duo;
the volunteer's id on keep-warm contacts and the participant's id on withdrawals and
returns; who accepted a proposal and why it was declined; a duo's agreements (after a
proposal, contacts per month, expected duration); a contact's day and who logged it; a
coaching session's minutes and number of volunteers; the duo, raiser, first follow-up and
current severity of a boundary signal; a goal's duo and target; both satisfaction scores of
an evaluation; a follow-up call's duo, months after the end, end day, attempts and
completion day.

New: ``rp_erased_subjects``, the one-way tokens of people erased by their owning service;
their rows are re-keyed to the token (``projections.person``). People erased before this
revision still carry their pseudonym here: rebuild the projections once after upgrading
(``buddy reporting rebuild``, docs/operations.md §6) and the erasures in the logs are
applied.

Downgrade: the columns come back empty (nullable) and the token table goes; rows re-keyed
to a token stay so (the counts do not change). A rebuild on the older code fills them again.

Revision ID: 0307_reporting_minimal
"""

import sqlalchemy as sa
from alembic import op

revision = "0307_reporting_minimal"
down_revision = "0306_reporting_titles"
branch_labels = None
depends_on = None

Day = sa.String(10)
Code = sa.String(50)

DROPPED: dict[str, list[sa.Column]] = {
    "rp_volunteer_duos": [sa.Column("left_on", Day), sa.Column("left_rec", Day)],
    "rp_keep_warm": [sa.Column("volunteer_id", sa.String(100))],
    "rp_participant_events": [sa.Column("participant_id", sa.String(100))],
    "rp_proposals": [sa.Column("accepted_by_volunteer", sa.Boolean), sa.Column("accepted_by_participant", sa.Boolean),
                     sa.Column("decline_reason", Code)],
    "rp_duos": [sa.Column("after_proposal", sa.Boolean), sa.Column("agreed_contacts_per_month", sa.Integer),
                sa.Column("expected_duration_months", sa.Integer)],
    "rp_contacts": [sa.Column("contact_on", Day), sa.Column("logged_by", sa.String(20))],
    "rp_coaching_sessions": [sa.Column("minutes", sa.Integer), sa.Column("volunteers", sa.Integer)],
    "rp_boundary_signals": [sa.Column("duo_id", sa.String(100)), sa.Column("current_severity", Code),
                            sa.Column("raised_by", Code), sa.Column("followed_up_on", Day)],
    "rp_goals": [sa.Column("duo_id", sa.String(100)), sa.Column("target", sa.Integer)],
    "rp_evaluations": [sa.Column("participant_satisfaction", sa.Integer),
                       sa.Column("volunteer_satisfaction", sa.Integer)],
    "rp_followup_calls": [sa.Column("duo_id", sa.String(100)), sa.Column("months_after_end", sa.Integer),
                          sa.Column("ended_on", Day), sa.Column("attempts", sa.Integer), sa.Column("completed_on", Day)],
}


def upgrade() -> None:
    op.drop_index("ix_rp_contacts_contact_on", table_name="rp_contacts")
    for table, columns in DROPPED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column.name)
    op.create_table("rp_erased_subjects", sa.Column("token", sa.String(100), primary_key=True))


def downgrade() -> None:
    op.drop_table("rp_erased_subjects")
    for table, columns in DROPPED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(sa.Column(column.name, column.type, nullable=True))
    op.create_index("ix_rp_contacts_contact_on", "rp_contacts", ["contact_on"])
