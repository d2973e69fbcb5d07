"""The stored document and its hashes: one encoding fewer, the same answers."""

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from schemas import Application, Attachment, Candidate, Job
from unified_ats.store.hashing import content_hash, fingerprint, raw_hash

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
PLATFORM = {"id", "modified_at", "remote_was_deleted"}


def models(raw: Any, text: str | None) -> list[Any]:
    return [
        Candidate(id=uuid.uuid4(), modified_at=NOW, raw_data=raw, first_name=text, tags=[]),
        Attachment(id=uuid.uuid4(), modified_at=NOW, raw_data=raw, file_name=text, file_url=text),
        Application(id=uuid.uuid4(), modified_at=NOW, raw_data=raw, source=text),
        Job(id=uuid.uuid4(), modified_at=NOW, raw_data=raw, name=text),
    ]


@given(st.none() | st.dictionaries(st.text(max_size=8), JSON, max_size=4), st.none() | st.text())
def test_fingerprint_gives_the_document_and_hashes_of_the_plain_encodings(
    raw: Any, text: str | None
) -> None:
    for model in models(raw, text):
        document, content, raw_digest, content_json = fingerprint(model)
        assert json.loads(document) == json.loads(model.model_dump_json(exclude=PLATFORM))
        assert content == content_hash(model)
        assert hashlib.sha256(content_json.encode()).hexdigest() == content
        assert raw_digest == raw_hash(model)
        # The stored document reads back as the same model.
        again = type(model).model_validate(
            {**json.loads(document), "id": model.id, "modified_at": NOW}
        )
        assert again == model
