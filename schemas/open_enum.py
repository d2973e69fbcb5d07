"""Open enums: known values become enum members, unknown vendor values pass through as strings.

Vendors add values without notice; failing validation on them would drop a whole record.
Use as ``Annotated[str, AfterValidator(coerce_to(E)), WithJsonSchema(open_enum_schema(E))]``.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Any


def coerce_to(enum: type[StrEnum]) -> Callable[[str], str]:
    known: dict[str, StrEnum] = {member.value: member for member in enum}

    def coerce(value: str) -> str:
        return known.get(value, value)

    return coerce


def open_enum_schema(enum: type[StrEnum]) -> dict[str, Any]:
    values = [member.value for member in enum]
    return {
        "type": "string",
        "description": (
            f"Open enum. Known values: {', '.join(values)}. "
            "Any other vendor value is passed through unchanged."
        ),
        "examples": values,
    }
