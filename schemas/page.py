"""List envelope and error body of the REST API."""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from schemas.base import UnifiedModel

T = TypeVar("T", bound=BaseModel)


class Page(UnifiedModel, Generic[T]):
    cursor: str | None = Field(
        default=None, description="Opaque; pass it back to get the next page. Null on the last."
    )
    page_size: int = Field(ge=1, le=200)
    items: list[T]


class ErrorBody(UnifiedModel):
    detail: str | list[Any] = Field(
        description="What went wrong. A list (FastAPI's form) for 422 validation errors."
    )
