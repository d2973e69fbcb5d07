"""Checks a write body against the connection's rules, before any vendor call (pure).

Errors come in FastAPI's 422 list form (``{type, loc, msg}``), never echoing submitted values.
"""

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from connectors import FileRules, FileUpload, WriteRules
from connectors.sdk.files import bare_content_type
from schemas.writes import AttachmentUpload, CandidateCreateData

Error = dict[str, Any]


class WriteRejected(ValueError):
    """The request cannot be written as it is: ``errors`` in FastAPI's 422 list form."""

    def __init__(self, errors: list[Error]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


def error(loc: list[str | int], kind: str, msg: str) -> Error:
    return {"type": kind, "loc": ["body", *loc], "msg": msg}


def check_candidate_fields(
    data: CandidateCreateData, rules: WriteRules, vendor: str
) -> list[Error]:
    """Fields the vendor cannot store are refused (never silently dropped); required ones and
    the vendor's lengths are checked."""
    errors: list[Error] = []
    given = {name for name in data.model_fields_set if getattr(data, name) not in (None, [])}
    for name in sorted(given - rules.create_fields):
        errors.append(
            error(["data", name], "field_not_supported", f"{vendor} cannot store this field")
        )
    for name in sorted(rules.create_required - given):
        errors.append(error(["data", name], "missing", f"{vendor} requires this field"))
    for name, most in rules.max_items.items():
        value = getattr(data, name, None)
        if isinstance(value, list) and len(value) > most:
            errors.append(
                error(["data", name], "too_many_items", f"{vendor} keeps at most {most} here")
            )
    if rules.url_types is not None:
        for index, url in enumerate(data.urls or []):
            if url.type is None or str(url.type) not in rules.url_types:
                taken = ", ".join(sorted(rules.url_types))
                errors.append(
                    error(
                        ["data", "urls", index, "type"],
                        "url_type_not_supported",
                        f"{vendor} has a place for url types {taken} only",
                    )
                )
    for name, limit in rules.max_lengths.items():
        value = getattr(data, name, None)
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            if isinstance(item, str) and len(item) > limit:
                loc: list[str | int] = ["data", name] + ([index] if isinstance(value, list) else [])
                errors.append(
                    error(loc, "string_too_long", f"{vendor} takes at most {limit} characters")
                )
    return errors


def decode_upload(
    upload: AttachmentUpload, rules: FileRules | None, vendor: str, loc: list[str | int]
) -> tuple[FileUpload | None, list[Error]]:
    """The upload as the connector takes it, or why it cannot be sent."""
    if rules is None:
        return None, [error(loc, "files_not_supported", f"{vendor} takes no files here")]
    errors: list[Error] = []
    content_type = bare_content_type(upload.content_type) or upload.content_type.strip().lower()
    if content_type not in rules.content_types:
        allowed = ", ".join(sorted(rules.content_types))
        errors.append(
            error(
                [*loc, "content_type"],
                "unsupported_content_type",
                f"{vendor} takes {allowed}",
            )
        )
    if upload.attachment_type not in rules.attachment_types:
        allowed = ", ".join(sorted(rules.attachment_types))
        errors.append(
            error(
                [*loc, "attachment_type"],
                "unsupported_attachment_type",
                f"{vendor} takes {allowed}",
            )
        )
    content: bytes | None = None
    if upload.data is not None:
        try:
            content = base64.b64decode(upload.data, validate=True)
        except (binascii.Error, ValueError):
            errors.append(error([*loc, "data"], "base64_invalid", "data is not valid base64"))
        else:
            if not content:
                errors.append(error([*loc, "data"], "file_empty", "the file is empty"))
            elif len(content) > rules.max_bytes:
                errors.append(
                    error(
                        [*loc, "data"],
                        "file_too_large",
                        f"{vendor} takes files up to {rules.max_bytes} bytes",
                    )
                )
    if upload.file_url is not None:
        url = urlsplit(upload.file_url)
        if not (rules.by_url or rules.takes_url):
            errors.append(
                error(
                    [*loc, "file_url"],
                    "file_url_not_supported",
                    f"{vendor} takes the file's bytes: send them base64-encoded in data",
                )
            )
        elif url.scheme not in {"http", "https"} or not url.hostname or url.username:
            errors.append(
                error([*loc, "file_url"], "url_invalid", "file_url must be an http(s) URL")
            )
    if errors:
        return None, errors
    return (
        FileUpload(
            file_name=safe_file_name(upload.file_name),
            content_type=content_type,
            attachment_type=str(upload.attachment_type),
            content=content,
            url=upload.file_url,
        ),
        [],
    )


def safe_file_name(name: str) -> str:
    """The base name without path separators or control characters (vendors store it as is)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable()).strip().lstrip(".")
    return cleaned or "file"


def check_uploads(
    uploads: list[AttachmentUpload], rules: FileRules | None, vendor: str
) -> tuple[list[FileUpload], list[Error]]:
    files: list[FileUpload] = []
    errors: list[Error] = []
    if rules is not None and len(uploads) > rules.max_files:
        errors.append(
            error(
                ["data", "attachments"],
                "too_many_files",
                f"{vendor} takes at most {rules.max_files} file(s) here",
            )
        )
    for index, upload in enumerate(uploads):
        file, problems = decode_upload(upload, rules, vendor, ["data", "attachments", index])
        errors += problems
        if file is not None:
            files.append(file)
    return files, errors
