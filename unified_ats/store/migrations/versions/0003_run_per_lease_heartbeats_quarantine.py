"""runs own their lease, heartbeats, quarantine, no length limit on vendor values

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unified_ats.store.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = unified_ats.store.tables.UtcDateTime


def upgrade() -> None:
    # A vendor value must never hit a column limit (a 201-character first name stopped syncs).
    with op.batch_alter_table("candidates") as batch_op:
        batch_op.alter_column("remote_id", type_=sa.Text(), existing_type=sa.String(512))
        batch_op.alter_column("first_name", type_=sa.Text(), existing_type=sa.String(200))
        batch_op.alter_column("last_name", type_=sa.Text(), existing_type=sa.String(200))
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.alter_column("remote_id", type_=sa.Text(), existing_type=sa.String(1024))
    with op.batch_alter_table("sync_seen") as batch_op:
        batch_op.alter_column("remote_id", type_=sa.Text(), existing_type=sa.String(512))
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("quarantined", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("incomplete_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("resumed_from", sa.Uuid(), nullable=True))
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.alter_column("quarantined", server_default=None)
    with op.batch_alter_table("sync_leases") as batch_op:
        batch_op.add_column(sa.Column("follow_up", sa.String(length=16), nullable=True))
    op.create_table(
        "sync_quarantine",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connection_id", "key", name="uq_sync_quarantine_connection_key"),
    )


def downgrade() -> None:
    op.drop_table("sync_quarantine")
    with op.batch_alter_table("sync_leases") as batch_op:
        batch_op.drop_column("follow_up")
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.drop_column("resumed_from")
        batch_op.drop_column("incomplete_reason")
        batch_op.drop_column("quarantined")
        batch_op.drop_column("heartbeat_at")
