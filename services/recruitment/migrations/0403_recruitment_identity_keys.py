"""Identity keys for likely duplicates in the blind index.

The blind index (``rc_name_index``) now also holds, per volunteer, keyed hashes of the
normalised name with the birth date and with the e-mail address (``shared.duplicates``).
Computing them needs the vault, which a migration does not have, so the read models are
emptied here: at start-up the service finds them empty beside a non-empty log and rebuilds
them from it (``RecruitmentRuntime.migrate``), the blind index with the identity keys included.

Revision ID: 0403_recruitment_identity_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0403_recruitment_identity_keys"
down_revision = "0401_recruitment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("rc_name_index", "rc_volunteers", "rc_projects"):
        op.get_bind().execute(sa.text(f"DELETE FROM {table}"))


def downgrade() -> None:
    pass  # the rebuilt rows serve the previous revision as well
