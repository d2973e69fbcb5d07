"""Flatchr's three date forms: ``DD/MM/YY`` strings, Unix seconds, and ISO 8601.

Search rows use ``DD/MM/YY`` (day precision, taken as midnight UTC), applicant objects use epoch
seconds, nested candidate objects use ISO 8601. Search *filters* take ``MM/DD/YY`` instead.
"""

import re
from datetime import UTC, date, datetime
from typing import Any

from connectors.sdk.normalize import epoch_datetime, iso_datetime

_DAY_FIRST = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\s*$")
MAX_EPOCH_DIGITS = 20


def parse_flatchr_date(value: Any) -> datetime | None:
    """Any Flatchr date form to a UTC datetime; None when missing or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return epoch_datetime(value)
    if not isinstance(value, str):
        return None
    if len(value) == 8 and value[2] == "/" and value[5] == "/" and value.isascii():
        # Fast path for the search rows' DD/MM/YY (every row has two of them).
        try:
            return datetime(2000 + int(value[6:]), int(value[3:5]), int(value[:2]), tzinfo=UTC)
        except ValueError:
            return None
    match = _DAY_FIRST.match(value)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if year < 100:
            year += 2000
        try:
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            return None
    cleaned = value.strip()
    if cleaned.isdigit() and not (cleaned.isascii() and len(cleaned) <= MAX_EPOCH_DIGITS):
        # Not Unix seconds: digits int() refuses ("²"), or more than int() converts.
        return None
    return epoch_datetime(value) or iso_datetime(value)


def search_filter_date(day: date) -> str:
    """The ``MM/DD/YY`` form the search filters (``start_update``...) expect."""
    return day.strftime("%m/%d/%y")
