"""Files the Welcome Kit emulator fetches, as the vendor does for ``remote_*_url`` parameters.

Welcome Kit takes no file bytes: ``remote_resume_url``, ``remote_portfolio_url`` and
``remote_file_urls`` are URLs it downloads when the request is made [DOC] W2, W3 (CarrierWave's
``remote_*_url``). The limits are the documented ones (resume: PDF, DOC, DOCX, ODT up to 5 MB;
portfolio: PDF up to 10 MB); documents have none documented, ours are [INF]. The stored name
is the one the download gives (``Content-Disposition``, else the URL's last segment), with
what a file-name sanitizer keeps [INF].
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from connectors.sdk.files import (
    bare_content_type,
    content_type_for_extension,
    disposition_file_name,
    with_extension,
)
from connectors.welcomekit.mapping import (
    DOCUMENT_MAX_BYTES,
    DOCUMENT_TYPES,
    PORTFOLIO_MAX_BYTES,
    PORTFOLIO_TYPES,
    RESUME_MAX_BYTES,
    RESUME_TYPES,
    MiB,
)

Fetch = Callable[[str], Awaitable[httpx.Response]]
"""GETs a URL for the emulator (tests route it to an in-process app)."""
FETCH_TIMEOUT = 10.0
TYPE_LABELS = {
    "application/pdf": "PDF",
    "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.oasis.opendocument.text": "ODT",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
}


@dataclass(frozen=True)
class FileLimit:
    parameter: str
    content_types: frozenset[str]
    max_bytes: int

    def describe_types(self) -> str:
        labels = sorted(TYPE_LABELS.get(t, t) for t in self.content_types)
        return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


RESUME = FileLimit("remote_resume_url", RESUME_TYPES, RESUME_MAX_BYTES)
PORTFOLIO = FileLimit("remote_portfolio_url", PORTFOLIO_TYPES, PORTFOLIO_MAX_BYTES)
DOCUMENT = FileLimit("remote_file_urls", DOCUMENT_TYPES, DOCUMENT_MAX_BYTES)


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str
    name: str


class FileRefused(ValueError):
    """The file cannot be taken: the message is the vendor's ``error_description``."""


async def http_fetch(url: str) -> httpx.Response:
    """The default fetch: one GET, 10 s, no redirects followed."""
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
        return await client.get(url)


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def stored_name(name: str, content_type: str) -> str:
    """A name safe in a CDN path: letters, digits, ``._+-``; the type's extension if none."""
    cleaned = re.sub(r"[^A-Za-z0-9._+-]", "_", name).lstrip(".")[:120] or "file"
    return with_extension(cleaned, content_type)


async def download(url: str, limit: FileLimit, fetch: Fetch) -> Fetched:
    """Fetch ``url`` and check it against ``limit``; FileRefused says why not."""
    if not is_web_url(url):
        raise FileRefused(f"{limit.parameter} is not a valid URL")
    try:
        response = await fetch(url)
    except (httpx.HTTPError, OSError):
        raise FileRefused(f"{limit.parameter} could not be downloaded") from None
    if response.status_code != 200:
        raise FileRefused(f"{limit.parameter} could not be downloaded")
    name = disposition_file_name(response.headers.get("Content-Disposition")) or unquote(
        urlsplit(url).path.rsplit("/", 1)[-1]
    )
    extension = name.rpartition(".")[2] if "." in name else None
    content_type = bare_content_type(
        response.headers.get("Content-Type")
    ) or content_type_for_extension(extension)
    if content_type not in limit.content_types:
        raise FileRefused(f"{limit.parameter} must be a {limit.describe_types()} file")
    content = response.content
    if not content:
        raise FileRefused(f"{limit.parameter} is empty")
    if len(content) > limit.max_bytes:
        raise FileRefused(
            f"{limit.parameter} is too large (maximum file size: {limit.max_bytes // MiB}MB)"
        )
    return Fetched(content, content_type, stored_name(name or "file", content_type))
