"""File naming and content types, shared by every connector's attachment mapping and download."""

import mimetypes
import re
from email.message import Message

import httpx

from connectors.sdk.errors import InvalidVendorResponse

# Types our vendors document; mimetypes alone misses or varies on some of them.
EXTENSION_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "text/richtext",
    "txt": "text/plain",
    "ps": "application/postscript",
    "ppt": "application/vnd.ms-powerpoint",
    "dvi": "application/x-dvi",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}
TYPE_EXTENSIONS: dict[str, str] = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "text/richtext": "rtx",
    "text/rtf": "rtf",
    "application/rtf": "rtf",
    "text/plain": "txt",
    "application/postscript": "ps",
    "application/vnd.ms-powerpoint": "ppt",
    "application/x-dvi": "dvi",
    "image/png": "png",
    "image/jpeg": "jpg",
}
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", ""})


def content_type_for_extension(extension: str | None) -> str | None:
    if not extension:
        return None
    ext = extension.lower().lstrip(".")
    return EXTENSION_TYPES.get(ext) or mimetypes.types_map.get(f".{ext}")


def extension_for_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    bare = content_type.split(";", 1)[0].strip().lower()
    if bare in TYPE_EXTENSIONS:
        return TYPE_EXTENSIONS[bare]
    guessed = mimetypes.guess_extension(bare)
    return guessed.lstrip(".") if guessed else None


def with_extension(file_name: str, content_type: str | None) -> str:
    """Adds the extension a content type implies when the name has none (Welcome Kit docs)."""
    if re.search(r"\.[A-Za-z0-9]{1,5}$", file_name):
        return file_name
    extension = extension_for_content_type(content_type)
    return f"{file_name}.{extension}" if extension else file_name


def disposition_file_name(header: str | None) -> str | None:
    """The file name of a ``Content-Disposition`` header (``filename*`` preferred)."""
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    name = message.get_filename()
    return name.strip() or None if isinstance(name, str) else None


def bare_content_type(header: str | None) -> str | None:
    if not header:
        return None
    bare = header.split(";", 1)[0].strip().lower()
    return None if bare in GENERIC_TYPES else bare


def document_kind(content_type: str | None) -> str | None:
    """What a content type says the body is when it is a document rather than a file."""
    bare = bare_content_type(content_type)
    if bare is None:
        return None
    if bare in ("application/json", "text/json") or bare.endswith("+json"):
        return "a JSON document"
    if bare in ("text/html", "application/xhtml+xml"):
        return "an HTML page"
    return None


def ensure_file_response(
    response: httpx.Response, expected_content_type: str | None, *, name: str | None = None
) -> None:
    """Refuse a vendor file route that answered a JSON document or an HTML page instead of the
    file (an error body with a 200, a login page), unless the attachment itself is one.

    What the attachment should be comes from ``expected_content_type``, else from the
    extension of ``name``. Raises :class:`InvalidVendorResponse` (502); the message names what
    came back, never the body.
    """
    answered = document_kind(response.headers.get("Content-Type"))
    if answered is None:
        return
    extension = name.rpartition(".")[2] if name and "." in name else None
    expected = expected_content_type or content_type_for_extension(extension)
    if document_kind(expected) == answered:
        return
    raise InvalidVendorResponse(
        f"the vendor answered {answered} instead of the file",
        vendor_status=response.status_code,
    )
