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


@pytest.mark.parametrize(
    "file_name",
    [
        "candidate.json",
        "attachment.json",
        "job.json",
        "job_interview_stage.json",
        "application.json",
    ],
)
def test_every_datetime_is_declared_date_time(file_name: str) -> None:
    """Generated clients parse a ``date-time`` into a datetime; a bare string they leave as is."""
    model = EXPORTED[file_name]
    schema = json.loads((JSON_DIR / file_name).read_text())
    root = _root(file_name)
    dated = [
        name for name, field in model.model_fields.items() if "datetime" in str(field.annotation)
    ]
    assert dated, "the test must see the model's datetime fields"
    for name in dated:
        prop = root["properties"][name]
        options = prop.get("anyOf", [prop])
        assert {"type": "string", "format": "date-time"} in [
            {k: o[k] for k in ("type", "format") if k in o} for o in options
        ], (name, schema.get("title"))
