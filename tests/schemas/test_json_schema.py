"""The committed JSON Schema documents match the models (regenerate: python -m schemas.export)."""

import pytest

from schemas.export import EXPORTED, JSON_DIR, render


@pytest.mark.parametrize("file_name", sorted(EXPORTED))
def test_committed_json_schema_matches_model(file_name: str) -> None:
    committed = (JSON_DIR / file_name).read_text(encoding="utf-8")
    assert committed == render(EXPORTED[file_name]), (
        f"schemas/json/{file_name} is stale: run `python -m schemas.export`"
    )


def test_candidate_schema_marks_bindbee_fields_required() -> None:
    import json

    schema = json.loads((JSON_DIR / "candidate.json").read_text())
    assert {"id", "remote_id", "modified_at", "first_name", "avatar"} <= set(schema["required"])
