"""Content hashes: ``modified_at`` moves only when the normalized content changes."""

import hashlib
import json
from typing import Any

# Set by the platform, or vendor noise (raw payloads differ between a webhook and a search row
# for the same content): never part of "did the content change".
VOLATILE = frozenset({"id", "modified_at", "remote_was_deleted", "raw_data", "file_url"})


def _digest(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def content_hash(document: dict[str, Any]) -> str:
    return _digest({k: v for k, v in document.items() if k not in VOLATILE})


def raw_hash(document: dict[str, Any]) -> str:
    return _digest(document.get("raw_data"))
