"""Request bodies of the write routes (Bindbee's shapes), and what the meta routes answer.

Unlike the read models these are strict: an unknown field is a 422 naming it, never dropped.
"""

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.attachment import OpenAttachmentType
from schemas.candidate import OpenUrlType


class WriteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UrlInput(WriteBody):
    """A URL to store on the candidate (its own name: the read model ``Url`` differs by being
    fully required, and generated clients need one name per shape)."""

    type: OpenUrlType | None = None
    value: str = Field(min_length=1, max_length=2048)


class AttachmentUpload(WriteBody):
    """A file: its bytes as base64 in ``data``, or a ``file_url`` the vendor can fetch."""

    file_name: str = Field(min_length=1, max_length=255, examples=["cv.pdf"])
    attachment_type: OpenAttachmentType = Field(default="RESUME", examples=["RESUME"])
    content_type: str = Field(min_length=3, max_length=255, examples=["application/pdf"])
    data: str | None = Field(default=None, description="The file, base64-encoded.")
    file_url: str | None = Field(
        default=None,
        description="An http(s) URL the vendor fetches the file from (instead of `data`).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> "AttachmentUpload":
        if (self.data is None) == (self.file_url is None):
            raise ValueError("give exactly one of data (base64) and file_url")
        return self


class CandidateCreateData(WriteBody):
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    company: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=255)
    email_addresses: list[str] | None = Field(default=None, max_length=20)
    phone_numbers: list[str] | None = Field(default=None, max_length=20)
    urls: list[UrlInput] | None = Field(default=None, max_length=50)
    tags: list[str] | None = Field(default=None, max_length=100)
    job_id: UUID | None = Field(default=None, description="The unified id of the job applied to.")
    job_interview_stage_id: UUID | None = Field(
        default=None, description="The stage to place the application in (one of the job's)."
    )
    attachments: list[AttachmentUpload] | None = Field(default=None, max_length=10)


class CandidateCreate(WriteBody):
    """``POST /api/ats/v1/candidates``."""

    data: CandidateCreateData
    remote_user_id: str | None = Field(
        default=None, max_length=255, description="The vendor user acting (where supported)."
    )


class ApplicationCreateData(WriteBody):
    candidate_id: UUID
    job_id: UUID
    job_interview_stage_id: UUID | None = None


class ApplicationCreate(WriteBody):
    """``POST /api/ats/v1/applications``: an existing candidate applies to another job."""

    data: ApplicationCreateData
    remote_user_id: str | None = Field(default=None, max_length=255)


class ChangeStage(WriteBody):
    """``POST /api/ats/v1/applications/{id}/change-stage``."""

    job_interview_stage_id: UUID
    remote_user_id: str | None = Field(default=None, max_length=255)


class Reject(WriteBody):
    """``POST /api/ats/v1/applications/{id}/reject``."""

    remote_user_id: str | None = Field(default=None, max_length=255)


class AttachmentCreate(WriteBody):
    """``POST /api/ats/v1/candidates/{id}/attachments``."""

    data: AttachmentUpload
    remote_user_id: str | None = Field(default=None, max_length=255)


class FileLimits(BaseModel):
    max_bytes: int
    content_types: list[str]
    max_files: int
    attachment_types: list[str]
    by_url: bool = Field(
        description="The vendor fetches files by URL; bytes sent as `data` are served to it at "
        "a short-lived signed URL of ours."
    )
    takes_url: bool = Field(description="A `file_url` is accepted (the vendor fetches it).")


class WriteMeta(BaseModel):
    """What a write route takes on this connection: build a form from it."""

    connector: str
    operation: str
    supported: bool
    schema_: dict[str, Any] = Field(
        alias="schema",
        serialization_alias="schema",
        description="JSON Schema of the accepted body (only the fields this vendor can store).",
    )
    required: list[str] = Field(description="Fields of `data` the vendor requires.")
    file_limits: FileLimits | None = None
    max_items: dict[str, int] = Field(
        default_factory=dict, description="Per list field, how many items the vendor keeps."
    )
    max_lengths: dict[str, int] = Field(
        default_factory=dict, description="Per text field, the vendor's length limit."
    )
    url_types: list[str] | None = Field(
        default=None, description="The url types the vendor has a place for (null: any)."
    )
    notes: str | None = Field(default=None, description="What the write does at the vendor.")
    model_config = ConfigDict(populate_by_name=True)


class PassthroughRequest(WriteBody):
    """``POST /api/v1/passthrough``: a raw request to the connection's vendor API."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(
        min_length=1, max_length=2048, description="Relative to the vendor's API base URL."
    )
    headers: dict[str, str] | None = Field(default=None, max_length=50)
    params: dict[str, str | int | float | bool | list[str]] | None = Field(
        default=None, max_length=100
    )
    data: Any = None
    request_format: Literal["JSON", "XML", "MULTIPART", "FORM"] = "JSON"
    response_format: Literal["JSON", "TEXT", "BINARY"] | None = Field(
        default=None, description="Default: from the vendor's Content-Type."
    )
    timeout: float = Field(default=30.0, gt=0, le=120)


class PassthroughResponse(BaseModel):
    status: int
    headers: dict[str, str] = Field(description="Only an allow-list of the vendor's headers.")
    data: Any = Field(description="JSON, text, or base64 (BINARY); secrets redacted.")
    response_format: Literal["JSON", "TEXT", "BINARY"]
