"""Pure normalization helpers shared by every mapping. No I/O here."""

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import phonenumbers


def text(value: Any) -> str | None:
    """A trimmed string, or None for missing and empty values (vendors send ``""`` for none)."""
    if type(value) is str:  # the common case first: this runs dozens of times per record
        stripped = value.strip()
        return stripped or None
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def email(value: Any) -> str | None:
    cleaned = text(value)
    return cleaned.lower() if cleaned else None


def phone(value: Any, *, default_region: str | None = None) -> str | None:
    """E.164 when the number parses and is possible; otherwise the trimmed original."""
    cleaned = text(value)
    if cleaned is None:
        return None
    return _e164(cleaned, default_region)


@lru_cache(maxsize=65_536)
def _e164(cleaned: str, default_region: str | None) -> str:
    # Parsing costs ~30 us; the same numbers come back on every re-sync, so results are cached.
    try:
        parsed = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException:
        return cleaned
    if not phonenumbers.is_possible_number(parsed):
        return cleaned
    formatted: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def unique(values: Iterable[str | None]) -> list[str]:
    """Non-empty values, deduplicated, first occurrence kept."""
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


def iso_datetime(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` or offset) to UTC; a naive value is taken as UTC. None if unreadable."""
    cleaned = text(value)
    if cleaned is None:
        return None
    try:
        parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def epoch_datetime(value: Any) -> datetime | None:
    """Unix seconds (int, float or digit string) to UTC."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        cleaned = value.strip()
        # ASCII digits only ("²" is a digit to str.isdigit), and short enough to be a date:
        # int() refuses digit strings past 4,300 characters with a ValueError.
        if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 20:
            return None
        value = int(cleaned)
    if not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def latest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}


def phone_cache_clear() -> None:
    _e164.cache_clear()
