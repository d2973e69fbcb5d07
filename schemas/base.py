"""Shared configuration of every unified model."""

from typing import Any

from pydantic import BaseModel, ConfigDict

NOT_CONTENT = frozenset({"id", "modified_at", "remote_was_deleted", "raw_data", "file_url"})
"""Fields that are not a record's content: set by the platform, or the vendor's raw payload
(whose shape differs between a webhook and a list row for the same record). ``modified_at``
moves only when everything else changes (see ``UnifiedModel.content``)."""


def _open_to_additive_fields(schema: dict[str, Any]) -> None:
    # Building a model forbids unknown fields (a mapping typo fails loudly), but the published
    # schema must not: a client validating strictly would break the day a field is added.
    schema.pop("additionalProperties", None)


class UnifiedModel(BaseModel):
    """Strict about unknown fields (a mapping typo fails loudly), immutable once built."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_open_to_additive_fields,
        frozen=True,
        # Bindbee marks every field "required, nullable": say so in the exported JSON Schema.
        json_schema_serialization_defaults_required=True,
    )

    def content(self) -> dict[str, Any]:
        """The record's normalized content: what decides whether it changed. Every shape in
        which a vendor sends the same record must give the same content."""
        return self.model_dump(mode="json", exclude=set(NOT_CONTENT))
