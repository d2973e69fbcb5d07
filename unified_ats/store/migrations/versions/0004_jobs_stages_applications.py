"""jobs, job interview stages and applications; per-model counts of a sync run

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unified_ats.store.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = unified_ats.store.tables.UtcDateTime


def _record_columns() -> list[sa.Column[object]]:
    """The columns every stored vendor record has (tables.StoredRecord)."""
    return [
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("raw_hash", sa.String(length=64), nullable=False),
        sa.Column("modified_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("remote_was_deleted", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    ]


def _record_table(name: str, short: str, *extra: sa.Column[object]) -> None:
    op.create_table(
        name,
        *_record_columns(),
        *extra,
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("connection_id", "remote_id", name=f"uq_{short}_connection_remote"),
    )
    op.create_index(f"ix_{short}_connection_seq", name, ["connection_id", "seq"])
    op.create_index(f"ix_{short}_connection_id", name, ["connection_id", "id"])


def upgrade() -> None:
    _record_table(
        "jobs",
        "jobs",
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("remote_created_at", UtcDateTime(timezone=True), nullable=True),
    )
    _record_table("job_interview_stages", "stages", sa.Column("job_id", sa.Uuid(), nullable=True))
    op.create_index("ix_stages_job", "job_interview_stages", ["job_id"])
    _record_table(
        "applications",
        "applications",
        sa.Column("candidate_id", sa.Uuid(), nullable=True),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("stage_id", sa.Uuid(), nullable=True),
        sa.Column("applied_at", UtcDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_applications_candidate", "applications", ["candidate_id"])
    op.create_index("ix_applications_job", "applications", ["job_id"])
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.add_column(sa.Column("models", sa.JSON(), nullable=True))
    # `expand` fetches many candidates of one connection by id: without (connection, id) the
    # planner walks the connection's whole (connection, modified_at) index instead.
    op.create_index("ix_candidates_connection_id", "candidates", ["connection_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_candidates_connection_id", "candidates")
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.drop_column("models")
    op.drop_table("applications")
    op.drop_table("job_interview_stages")
    op.drop_table("jobs")
