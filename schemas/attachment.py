"""The unified Attachment: a file of a candidate (CV, cover letter, other documents)."""

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, Field, WithJsonSchema

from schemas.base import UnifiedModel
from schemas.datetimes import UtcDateTime
from schemas.open_enum import coerce_to, open_enum_schema


class AttachmentType(StrEnum):
    RESUME = "RESUME"
    COVER_LETTER = "COVER_LETTER"
    OFFER_LETTER = "OFFER_LETTER"
    OTHER = "OTHER"


OpenAttachmentType = Annotated[
    str, AfterValidator(coerce_to(AttachmentType)), WithJsonSchema(open_enum_schema(AttachmentType))
]


class Attachment(UnifiedModel):
    id: UUID
    remote_id: str | None = None
    modified_at: UtcDateTime
    raw_data: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    file_name: str | None = None
    file_url: str | None = Field(
        default=None,
        description=(
            "Served by the API: a stable link to our own download route, never a vendor URL "
            "carrying a secret. From the SDK: null when the vendor URL needs a credential."
        ),
    )
    attachment_type: OpenAttachmentType | None = None
    candidate: UUID | None = Field(default=None, description="Unified id of the candidate.")
    content_type: str | None = None
    size: int | None = Field(default=None, ge=0, description="Bytes, when the vendor says.")
    remote_created_at: UtcDateTime | None = None
    remote_updated_at: UtcDateTime | None = None
    remote_was_deleted: bool = False
