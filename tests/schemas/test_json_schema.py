"""The committed JSON Schema documents match the models (regenerate: python -m schemas.export)."""

import json
from typing import Any

import pytest

from schemas.export import EXPORTED, JSON_DIR, render


@pytest.mark.parametrize("file_name", sorted(EXPORTED))
def test_committed_json_schema_matches_model(file_name: str) -> None:
    committed = (JSON_DIR / file_name).read_text(encoding="utf-8")
    assert committed == render(EXPORTED[file_name]), (
        f"schemas/json/{file_name} is stale: run `python -m schemas.export`"
    )


def _root(file_name: str) -> dict[str, Any]:
    """The model's own schema (models that embed each other are a ``$ref`` into ``$defs``)."""
    schema: dict[str, Any] = json.loads((JSON_DIR / file_name).read_text())
    ref = schema.get("$ref")
    if ref:
        root: dict[str, Any] = schema["$defs"][ref.rsplit("/", 1)[-1]]
        return root
    return schema


@pytest.mark.parametrize(
    ("file_name", "fields"),
    [
        ("candidate.json", {"id", "remote_id", "modified_at", "first_name", "avatar"}),
        ("job.json", {"id", "remote_id", "name", "status", "job_posting_urls", "recruiters"}),
        ("job_interview_stage.json", {"id", "name", "job", "stage_order"}),
        (
            "application.json",
            {"id", "candidate", "job", "applied_at", "current_stage", "reject_reason"},
        ),
    ],
)
def test_schemas_mark_bindbee_fields_required(file_name: str, fields: set[str]) -> None:
    """Bindbee marks every field "required, nullable"; a generated client relies on it."""
    assert fields <= set(_root(file_name)["required"])


def test_relations_are_ids_or_expanded_objects() -> None:
    """``expand`` swaps an id for the object: the schema must allow both, or clients break."""
    application = _root("application.json")["properties"]
    kinds = {
        option.get("format") or option.get("$ref", "").rsplit("/", 1)[-1]
        for option in application["candidate"]["anyOf"]
        if option.get("type") != "null"
    }
    assert kinds == {"uuid", "Candidate"}
