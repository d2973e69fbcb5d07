"""Content hashes: ``modified_at`` moves only when the normalized content changes."""

import hashlib
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json

from schemas import NOT_CONTENT

# Set by the platform, or vendor noise (raw payloads differ between a webhook and a search row
# for the same content): never part of "did the content change".
_EXCLUDE = set(NOT_CONTENT)


def _digest(value: Any) -> str:
    # pydantic-core's JSON encoder: ~5x faster than json.dumps on the sync hot path. Key order
    # is the documents' own: fixed by the models for content; a vendor that reorders raw keys
    # causes a raw-only rewrite at most, never a new modified_at.
    return hashlib.sha256(to_json(value)).hexdigest()


def content_hash(model: BaseModel) -> str:
    return hashlib.sha256(model.model_dump_json(exclude=_EXCLUDE).encode()).hexdigest()


def raw_hash(model: BaseModel) -> str:
    return _digest(getattr(model, "raw_data", None))
