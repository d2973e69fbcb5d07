"""Opaque keyset cursors and strict query parameters."""

import base64
import binascii
import functools
import os
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request

from unified_ats.api.errors import BadRequest

CURSOR_VERSION = 2
MAX_SEQ = 2**31 - 1
"""Row sequences are 32-bit integers on PostgreSQL: a larger position is no cursor of ours."""
NOT_BINDING = frozenset(
    {"cursor", "page_size", "include_raw_data", "include_custom_fields", "expand"}
)
"""Parameters a client may change between pages (they shape items, not which items); every
other one is part of the query."""
_NONCE = 12
_POSITION = struct.Struct(">Q")


@functools.lru_cache(maxsize=4)
def _cipher(key: bytes) -> AESGCM:
    """One AESGCM per key (the service has one; it is safe to share): built per cursor, its
    key set-up was repeated twice a request."""
    return AESGCM(key)


@dataclass(frozen=True)
class Cursors:
    """Opaque keyset cursors for one listing request.

    The position is a row sequence shared by the whole store, so it is sealed (AES-GCM), not
    just encoded: a client learns nothing of the store's volume. The connection, the path and
    the query's filters are the seal's associated data, so a cursor replayed on another
    connection, another listing or other filters is refused instead of paging the wrong set.
    """

    key: bytes
    scope: bytes

    @classmethod
    def for_request(
        cls, signing_key: bytes, request: Request, connection_id: uuid.UUID
    ) -> "Cursors":
        binding = sorted(
            (name, value)
            for name, value in request.query_params.multi_items()
            if name not in NOT_BINDING
        )
        # the ASGI path is the URL's (``request.url`` would build and parse a whole URL)
        path = request.scope["path"]
        scope = "\x00".join([str(connection_id), path, *(f"{n}={v}" for n, v in binding)])
        return cls(signing_key, scope.encode())

    def encode(self, seq: int) -> str:
        nonce = os.urandom(_NONCE)
        sealed = _cipher(self.key).encrypt(nonce, _POSITION.pack(seq), self.scope)
        token = bytes([CURSOR_VERSION]) + nonce + sealed
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, cursor: str | None) -> int:
        if not cursor:
            return 0
        try:
            token = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
            if len(token) < 1 + _NONCE or token[0] != CURSOR_VERSION:
                raise ValueError
            nonce, sealed = token[1 : 1 + _NONCE], token[1 + _NONCE :]
            [seq] = _POSITION.unpack(_cipher(self.key).decrypt(nonce, sealed, self.scope))
            if not 0 <= seq <= MAX_SEQ:
                raise ValueError
        except (ValueError, InvalidTag, binascii.Error, struct.error, UnicodeEncodeError):
            raise BadRequest(
                "cursor is not valid for this listing: pass back the cursor this API returned, "
                "with the same filters on the same connection"
            ) from None
        return int(seq)


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
