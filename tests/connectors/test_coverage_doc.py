"""docs/coverage.md is generated from the connectors' declarations, covers every field of every
unified model, and must not go stale."""

import re

from connectors import default_registry
from connectors.sdk.coverage import (
    COVERAGE_PATH,
    MODELS,
    WRITES_DOC,
    render_coverage,
    undeclared_fields,
    with_writes_by_vendor,
)


def test_coverage_doc_is_current() -> None:
    expected = render_coverage(default_registry().all())
    assert COVERAGE_PATH.read_text(encoding="utf-8") == expected, (
        "docs/coverage.md is stale: run `uv run python -m connectors.sdk.coverage`"
    )


def test_every_connector_appears_in_the_coverage_doc() -> None:
    text = COVERAGE_PATH.read_text(encoding="utf-8")
    for connector in default_registry().all():
        assert connector.display_name in text


def test_every_field_of_every_model_has_a_row_and_a_cell_per_connector() -> None:
    text = COVERAGE_PATH.read_text(encoding="utf-8")
    connectors = default_registry().all()
    for name, (model, _) in MODELS.items():
        section = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        rows = re.findall(r"^\| `(\w+)` \|(.*)\|$", section, re.M)
        assert [field for field, _ in rows] == list(model.model_fields), name
        assert all(len(cells.split(" | ")) == len(connectors) for _, cells in rows), name


def test_declarations_and_notes_name_real_fields() -> None:
    for connector in default_registry().all():
        assert undeclared_fields(connector) == []


def test_a_field_a_connector_leaves_null_says_where_it_went() -> None:
    text = COVERAGE_PATH.read_text(encoding="utf-8")
    candidate = text.split("## Candidate\n", 1)[1].split("\n## ", 1)[0]
    (row,) = [line for line in candidate.splitlines() if line.startswith("| `is_private` |")]
    assert "`anonym` comes in webhooks only: raw_data" in row


def test_the_per_vendor_writes_table_is_current() -> None:
    text = WRITES_DOC.read_text(encoding="utf-8")
    assert text == with_writes_by_vendor(text, default_registry().all()), (
        "docs/writes.md's vendor table is stale: run `uv run python -m connectors.sdk.coverage`"
    )
    for connector in default_registry().all():
        for note in connector.write_rules.notes.values():
            assert " ".join(note.split())[:60] in " ".join(text.split())
