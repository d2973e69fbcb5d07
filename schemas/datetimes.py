"""Timezone-aware datetimes that always come out as UTC ISO 8601 (``...Z``)."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema


def to_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC. A naive datetime is taken to be UTC (documented)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, the form Bindbee's examples use."""
    if value.tzinfo is not UTC:  # validated values are UTC already: skip the conversion
        value = to_utc(value)
    return value.isoformat()[:-6] + "Z"


UtcDateTime = Annotated[
    datetime,
    AfterValidator(to_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
    # The serializer's `str` alone would drop the format from the JSON Schema and OpenAPI:
    # generated clients then hand users plain strings instead of datetimes.
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A datetime that validates to UTC and serializes to JSON as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
