"""Short-lived signed URLs for files a vendor fetches by URL (Welcome Kit's ``remote_*_url``).

The vendor takes no bytes, only a URL it downloads at once. Rather than hand our caller's
bytes to a third-party host, the service keeps them for ``STAGED_FOR`` and serves them at
``/files/<token>``: the token names the file, its expiry and an HMAC over both. It carries the
``uats_fl_`` prefix, so log redaction masks it like every other secret of ours.
"""

import base64
import hashlib
import hmac
import struct
import uuid
from datetime import UTC, datetime, timedelta

FILE_TOKEN_PREFIX = "uats_fl_"  # noqa: S105 - a prefix, not a secret
STAGED_FOR = timedelta(minutes=15)
_BODY = struct.Struct(">16sQ")


def sign_file(signing_key: bytes, file_id: uuid.UUID, expires_at: datetime) -> str:
    body = _BODY.pack(file_id.bytes, int(expires_at.timestamp()))
    mac = hmac.new(signing_key, b"staged-file" + body, hashlib.sha256).digest()[:16]
    return FILE_TOKEN_PREFIX + base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def verify_file(signing_key: bytes, token: str, *, now: datetime | None = None) -> uuid.UUID | None:
    """The file a token names, if the token is ours and unexpired; None otherwise."""
    if not token.startswith(FILE_TOKEN_PREFIX):
        return None
    raw = token.removeprefix(FILE_TOKEN_PREFIX)
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError:
        return None
    if len(decoded) != _BODY.size + 16:
        return None
    body, mac = decoded[: _BODY.size], decoded[_BODY.size :]
    expected = hmac.new(signing_key, b"staged-file" + body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        return None
    file_bytes, expires = _BODY.unpack(body)
    if expires <= (now or datetime.now(UTC)).timestamp():
        return None
    return uuid.UUID(bytes=file_bytes)
