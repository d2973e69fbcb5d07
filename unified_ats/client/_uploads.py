"""Files for writes: an ``AttachmentUpload`` (base64 in ``data``) from bytes or a path."""

import base64
import mimetypes
import os
from pathlib import Path

from schemas.writes import AttachmentUpload

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
)
FALLBACK_CONTENT_TYPE = "application/octet-stream"


def guess_content_type(file_name: str, content: bytes) -> str:
    """The content type of a file: from its name's extension, else from its first bytes (PDF,
    PNG, JPEG, legacy Word), else ``application/octet-stream``."""
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    if guessed:
        return guessed
    return next((kind for magic, kind in _SIGNATURES if content.startswith(magic)), None) or (
        FALLBACK_CONTENT_TYPE
    )


def attachment_upload(
    source: bytes | os.PathLike[str],
    *,
    file_name: str | None = None,
    content_type: str | None = None,
    attachment_type: str = "RESUME",
) -> AttachmentUpload:
    """A file to send with ``candidates.create`` or ``candidates.add_attachment``: ``source`` is
    the file's bytes (then ``file_name`` is required) or a path (read now; its name is the
    default ``file_name``). ``content_type`` is guessed when not given. A file the vendor
    fetches by URL is ``AttachmentUpload(file_name=..., content_type=..., file_url=...)``."""
    if isinstance(source, bytes | bytearray | memoryview):
        content = bytes(source)
        if not file_name:
            raise ValueError("file_name is required when the file is given as bytes")
    elif isinstance(source, os.PathLike):
        path = Path(source)
        content = path.read_bytes()
        file_name = file_name or path.name
    else:  # a str could be a path or the content itself: refuse to guess
        raise TypeError(
            f"source must be bytes or a path (pathlib.Path), not {type(source).__name__}"
        )
    return AttachmentUpload(
        file_name=file_name,
        attachment_type=attachment_type,
        content_type=content_type or guess_content_type(file_name, content),
        data=base64.b64encode(content).decode("ascii"),
    )
