"""The unified Job and JobInterviewStage, field for field as Bindbee's ``/api/ats/v1/jobs`` and
``/api/ats/v1/job-interview-stages``."""

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, Field, WithJsonSchema

from schemas.base import UnifiedModel
from schemas.candidate import Url
from schemas.datetimes import UtcDateTime
from schemas.open_enum import coerce_to, open_enum_schema


class JobStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    DRAFT = "DRAFT"
    ARCHIVED = "ARCHIVED"
    PENDING = "PENDING"


OpenJobStatus = Annotated[
    str, AfterValidator(coerce_to(JobStatus)), WithJsonSchema(open_enum_schema(JobStatus))
]


class Job(UnifiedModel):
    """A position candidates apply to (Flatchr vacancy, Welcome Kit job, viasto project)."""

    id: UUID = Field(description="Unified id: stable per (connection, remote id).")
    remote_id: str | None = Field(default=None, description="The vendor's id of the job.")
    modified_at: UtcDateTime = Field(
        description="When the normalized content last changed (content hash), not when it synced."
    )
    raw_data: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None
    code: str | None = Field(default=None, description="The vendor's own reference for the job.")
    status: OpenJobStatus | None = None
    job_posting_urls: list[Url] | None = None
    confidential: bool | None = None
    departments: list[UUID] | None = Field(
        default=None, description="Department ids (null: no connector serves departments yet)."
    )
    offices: list[UUID] | None = Field(
        default=None, description="Office ids (null: no connector serves offices yet)."
    )
    hiring_managers: list[UUID] | None = None
    recruiters: list[UUID] | None = None
    remote_created_at: UtcDateTime | None = None
    remote_updated_at: UtcDateTime | None = None
    # --- additive fields (not in Bindbee; a Bindbee client ignores them) ---
    remote_was_deleted: bool = Field(
        default=False,
        description="Additive: true once the vendor no longer has this record (kept, not erased).",
    )


class JobInterviewStage(UnifiedModel):
    """One step of a job's pipeline. Every connector gives each job its own stages, even where
    the vendor's stages are company-wide (Flatchr columns, viasto's workflow): filtering stages
    by job then works the same everywhere."""

    id: UUID
    remote_id: str | None = None
    modified_at: UtcDateTime
    raw_data: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    name: str | None = None
    job: UUID | Job | None = Field(
        default=None, description="The job's id, or the job itself with `expand=job`."
    )
    stage_order: int | None = Field(
        default=None, description="Position in the job's pipeline, from 1 (null: off the path)."
    )
    remote_was_deleted: bool = False
