"""The unified Candidate, field for field as Bindbee's ``GET /api/ats/v1/candidates/{id}``."""

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, Field, WithJsonSchema

from schemas.base import UnifiedModel
from schemas.datetimes import UtcDateTime
from schemas.open_enum import coerce_to, open_enum_schema

if TYPE_CHECKING:
    from schemas.application import Application


class UrlType(StrEnum):
    PERSONAL = "PERSONAL"
    COMPANY = "COMPANY"
    PORTFOLIO = "PORTFOLIO"
    BLOG = "BLOG"
    SOCIAL_MEDIA = "SOCIAL_MEDIA"
    LINKEDIN = "LINKEDIN"
    JOB_POSTING = "JOB_POSTING"
    OTHER = "OTHER"


OpenUrlType = Annotated[
    str, AfterValidator(coerce_to(UrlType)), WithJsonSchema(open_enum_schema(UrlType))
]


class Url(UnifiedModel):
    type: OpenUrlType | None = None
    value: str


class Candidate(UnifiedModel):
    """Any person who has applied as a candidate.

    All vendors key candidates per job or project, so one Candidate is one person in one
    application: ``title`` is the position applied for and ``company`` the hiring company.
    """

    id: UUID = Field(description="Unified id: stable per (connection, remote id).")
    remote_id: str | None = Field(
        default=None, description="The vendor's id; enough to fetch the object again."
    )
    modified_at: UtcDateTime = Field(
        description="When the normalized content last changed (content hash), not when it synced."
    )
    raw_data: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = Field(
        default=None, description="The name of the company where the candidate has applied."
    )
    title: str | None = Field(default=None, description="The position applied for.")
    last_interaction_at: UtcDateTime | None = None
    is_private: bool | None = None
    can_email: bool | None = None
    locations: list[str] | None = None
    phone_numbers: list[str] | None = None
    email_addresses: list[str] | None = None
    urls: list[Url] | None = None
    tags: list[str] | None = None
    applications: "list[UUID | Application] | None" = Field(
        default=None,
        description="Ids of the candidate's applications (one: the vendor keys candidates per "
        "job), or the applications themselves with `expand=applications`.",
    )
    attachments: list[UUID] | None = None
    remote_created_at: UtcDateTime | None = None
    remote_updated_at: UtcDateTime | None = None
    avatar: str | None = None
    # --- additive fields (not in Bindbee; a Bindbee client ignores them) ---
    remote_was_deleted: bool = Field(
        default=False,
        description="Additive: true once the vendor no longer has this record (kept, not erased).",
    )
