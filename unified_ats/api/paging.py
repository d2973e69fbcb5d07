"""Opaque keyset cursors and strict query parameters."""

import base64
import binascii
import json
from collections.abc import Iterable

from fastapi import Request

from unified_ats.api.errors import BadRequest

CURSOR_VERSION = 1
MAX_SEQ = 2**31 - 1
"""Row sequences are 32-bit integers on PostgreSQL: a larger offset is no cursor of ours."""


def encode_cursor(seq: int) -> str:
    payload = json.dumps({"v": CURSOR_VERSION, "s": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        seq = payload["s"]
        # `type is int`: JSON true is a bool, which Python counts as an int.
        if payload.get("v") != CURSOR_VERSION or type(seq) is not int or not 0 <= seq <= MAX_SEQ:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not valid: pass back a cursor this API returned") from None
    return seq


def reject_unknown_parameters(request: Request, allowed: Iterable[str]) -> None:
    """Unknown names and NUL characters are refused (PostgreSQL cannot compare text with NUL)."""
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        raise BadRequest("query parameters must not contain NUL characters")
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s): {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
