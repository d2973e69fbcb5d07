"""The unified Application: one candidate's candidacy for one job, field for field as Bindbee's
``/api/ats/v1/applications``."""

from typing import Any
from uuid import UUID

from pydantic import Field

from schemas.base import UnifiedModel
from schemas.candidate import Candidate
from schemas.datetimes import UtcDateTime
from schemas.job import Job, JobInterviewStage


class Application(UnifiedModel):
    id: UUID = Field(description="Unified id: stable per (connection, remote id).")
    remote_id: str | None = Field(
        default=None,
        description="The vendor's id. Every supported vendor keys a candidate per job, so an "
        "application shares its candidate's remote id.",
    )
    modified_at: UtcDateTime = Field(
        description="When the normalized content last changed (content hash), not when it synced."
    )
    raw_data: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    candidate: UUID | Candidate | None = Field(
        default=None, description="The candidate's id, or the candidate with `expand=candidate`."
    )
    job: UUID | Job | None = Field(
        default=None, description="The job's id, or the job with `expand=job`."
    )
    applied_at: UtcDateTime | None = None
    rejected_at: UtcDateTime | None = None
    source: str | None = None
    credited_to: UUID | None = Field(
        default=None, description="The user credited (null: no connector serves users yet)."
    )
    current_stage: UUID | JobInterviewStage | None = Field(
        default=None,
        description="The stage's id, or the stage with `expand=current_stage`.",
    )
    reject_reason: UUID | None = Field(
        default=None, description="Reject reason id (null: no connector serves reject reasons)."
    )
    # --- additive fields (not in Bindbee; a Bindbee client ignores them) ---
    archived: bool | None = Field(
        default=None, description="Additive: the vendor has archived (set aside) the application."
    )
    hired: bool | None = Field(
        default=None, description="Additive: the application sits in a hiring stage."
    )
    score: float | None = Field(default=None, description="Additive: the vendor's own score.")
    evaluation_status: str | None = Field(
        default=None,
        description="Additive: how far evaluators have rated it (viasto: pending, partial, "
        "completed).",
    )
    remote_was_deleted: bool = Field(
        default=False,
        description="Additive: true once the vendor no longer has this record (kept, not erased).",
    )
