"""candidates keep the digest of the vendor record they were mapped from (skip unchanged ones)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing rows keep nulls: the next sync maps them and stores their digests.


def upgrade() -> None:
    op.add_column("candidates", sa.Column("source_hash", sa.Text(), nullable=True))
    op.add_column("candidates", sa.Column("source_seen", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("candidates", "source_seen")
    op.drop_column("candidates", "source_hash")
