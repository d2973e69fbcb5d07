"""What a write to the vendor takes: drafts in unified terms, files, and each connector's rules.

The service validates a request against the connection's ``WriteRules`` before any vendor call
(a field the vendor cannot take is refused, not dropped), then hands the connector a draft whose
relations are already vendor ids. A connector maps the draft to its vendor's body (pure), sends
it once (writes are never retried blindly), and maps the vendor's answer back to unified records.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.sdk.errors import ConnectorError

CREATE_CANDIDATE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "company",
        "title",
        "email_addresses",
        "phone_numbers",
        "urls",
        "tags",
        "job_id",
        "job_interview_stage_id",
        "attachments",
    }
)
"""Every field of Bindbee's CreateCandidate body (``data``)."""


@dataclass(frozen=True)
class FileUpload:
    """A file to give the vendor: its bytes, or a URL the vendor can fetch itself.

    ``url`` is either the caller's ``file_url`` or, for vendors that only fetch files by URL
    (Welcome Kit), a short-lived signed URL of ours that serves ``content``.
    """

    file_name: str
    content_type: str
    attachment_type: str = "RESUME"
    content: bytes | None = None
    url: str | None = None

    @property
    def size(self) -> int | None:
        return len(self.content) if self.content is not None else None


@dataclass(frozen=True)
class UrlDraft:
    value: str
    type: str | None = None


@dataclass(frozen=True)
class CandidateDraft:
    """A candidate to create, in unified terms; relations are the vendor's ids already."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    email_addresses: tuple[str, ...] = ()
    phone_numbers: tuple[str, ...] = ()
    urls: tuple[UrlDraft, ...] = ()
    tags: tuple[str, ...] = ()
    job_remote_id: str | None = None
    stage_remote_id: str | None = None
    attachments: tuple[FileUpload, ...] = ()
    remote_user_id: str | None = None


@dataclass(frozen=True)
class FileRules:
    """What the vendor accepts as a file."""

    max_bytes: int
    content_types: frozenset[str]
    max_files: int = 1
    by_url: bool = False
    """The vendor fetches the file from a URL (it takes no bytes): the service serves the bytes
    at a short-lived signed URL of its own, or passes the caller's ``file_url`` on."""
    takes_url: bool = False
    """The vendor can also fetch a caller's ``file_url`` (implied by ``by_url``). Without it a
    ``file_url`` is refused: the service never fetches a caller's URL itself."""
    attachment_types: frozenset[str] = frozenset({"RESUME"})

    def schema(self) -> dict[str, Any]:
        return {
            "max_bytes": self.max_bytes,
            "content_types": sorted(self.content_types),
            "max_files": self.max_files,
            "attachment_types": sorted(self.attachment_types),
            "by_url": self.by_url,
            "takes_url": self.by_url or self.takes_url,
        }


@dataclass(frozen=True)
class WriteRules:
    """Which unified fields a connector's writes take, which are required, and file limits.

    ``create_fields`` holds names of CreateCandidate's ``data`` fields; a request that sets any
    other field is refused with a 422 naming it (silently dropping it would lose data).
    """

    create_fields: frozenset[str] = frozenset()
    create_required: frozenset[str] = frozenset()
    create_files: FileRules | None = None
    attachment_files: FileRules | None = None
    """``POST /candidates/{id}/attachments``; None: the vendor cannot add a file later."""
    attachment_unsupported_reason: str | None = None
    stage_moves_forward_only: bool = False
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    """Per-field string limits the vendor enforces (checked before the call)."""
    max_items: Mapping[str, int] = field(default_factory=dict)
    """Per list field, how many items the vendor keeps (``{"email_addresses": 1}``): more is
    refused before the call, never cut."""
    url_types: frozenset[str] | None = None
    """The url ``type``s the vendor has a place for; None: any."""
    notes: Mapping[str, str] = field(default_factory=dict)
    """Per operation, what the vendor does or cannot do (shown in the meta routes)."""


class StageMoveRefused(ConnectorError):
    """The vendor's workflow does not allow this move (viasto: statuses only move forward)."""

    code = "stage_move_refused"
    http_status = 409
