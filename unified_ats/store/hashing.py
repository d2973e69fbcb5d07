"""Content hashes: ``modified_at`` moves only when the normalized content changes."""

import functools
import hashlib
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic_core import to_json

from schemas import NOT_CONTENT

# Set by the platform, or vendor noise (raw payloads differ between a webhook and a search row
# for the same content): never part of "did the content change".
_EXCLUDE = set(NOT_CONTENT)


@functools.cache
def has_file_url(model: type[BaseModel]) -> bool:
    """Whether records of this model carry a ``file_url``. Per class, once: pydantic's
    ``model_fields`` is a descriptor calling a classmethod on every access, and this is asked
    for every record written."""
    return "file_url" in model.model_fields


def _digest(value: Any) -> str:
    # pydantic-core's JSON encoder: ~5x faster than json.dumps on the sync hot path. Key order
    # is the documents' own: fixed by the models for content; a vendor that reorders raw keys
    # causes a raw-only rewrite at most, never a new modified_at.
    return hashlib.sha256(to_json(value)).hexdigest()


def content_hash(model: BaseModel) -> str:
    return hashlib.sha256(model.model_dump_json(exclude=_EXCLUDE).encode()).hexdigest()


def raw_hash(model: BaseModel) -> str:
    return _digest(getattr(model, "raw_data", None))


class Fingerprint(NamedTuple):
    document: str
    """What the store keeps: the content, then ``raw_data`` (and ``file_url``)."""
    content_hash: str
    raw_hash: str
    content: str
    """The content JSON the content hash is computed from (NOT_CONTENT excluded)."""


def fingerprint(model: BaseModel) -> Fingerprint:
    """The stored document and its two hashes, with two encodings, not three.

    The document is every field but the platform's own (``id``, ``modified_at``,
    ``remote_was_deleted``): the content, plus ``raw_data`` and ``file_url``, whose encodings
    are spliced in (key order does not matter to a JSON document).
    """
    content = model.model_dump_json(exclude=_EXCLUDE)
    raw = to_json(getattr(model, "raw_data", None))
    tail = ',"raw_data":' + raw.decode()
    if has_file_url(type(model)):
        tail += ',"file_url":' + to_json(getattr(model, "file_url", None)).decode()
    document = (content[:-1] + tail + "}") if content != "{}" else "{" + tail[1:] + "}"
    return Fingerprint(
        document,
        hashlib.sha256(content.encode()).hexdigest(),
        hashlib.sha256(raw).hexdigest(),
        content,
    )
