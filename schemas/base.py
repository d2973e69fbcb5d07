"""Shared configuration of every unified model."""

from pydantic import BaseModel, ConfigDict


class UnifiedModel(BaseModel):
    """Strict about unknown fields (a mapping typo fails loudly), immutable once built."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        # Bindbee marks every field "required, nullable": say so in the exported JSON Schema.
        json_schema_serialization_defaults_required=True,
    )
