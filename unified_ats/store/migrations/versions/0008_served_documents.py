"""records keep the JSON text a default read serves (list pages join it instead of parsing)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing rows keep a null: they are served the slow way until their content is next written.
RECORD_TABLES = ("candidates", "attachments", "jobs", "job_interview_stages", "applications")


def upgrade() -> None:
    for table in RECORD_TABLES:
        op.add_column(table, sa.Column("served", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in RECORD_TABLES:
        op.drop_column(table, "served")
