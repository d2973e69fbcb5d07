"""Generates ``docs/coverage.md``: which unified fields each connector fills.

Built from the connectors' own declarations (checked against emulator data by the conformance
kit). Regenerate with ``python -m connectors.sdk.coverage``; a test fails when it is stale.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from connectors.sdk.base import Capability, Connector
from connectors.sdk.registry import default_registry
from schemas import Application, Attachment, Candidate, Job, JobInterviewStage

COVERAGE_PATH = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"
PLATFORM = {"id", "modified_at", "remote_was_deleted"}
MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "Candidate": (Candidate, "candidate_fields"),
    "Attachment": (Attachment, "attachment_fields"),
    "Job": (Job, "job_fields"),
    "JobInterviewStage": (JobInterviewStage, "stage_fields"),
    "Application": (Application, "application_fields"),
}
"""Every unified model and the connector declaration that says which of its fields are filled."""


def coverage_notes(connector: type[Connector[Any]]) -> Mapping[str, str]:
    """A connector's optional ``coverage_notes``: ``{"Candidate.is_private": "why"}``, shown
    next to its cell (where a field that stays null can be found instead, or why)."""
    notes: Mapping[str, str] = getattr(connector, "coverage_notes", {})
    return notes


def undeclared_fields(connector: type[Connector[Any]]) -> list[str]:
    """Declared fields, and noted ones, that no unified model has (a typo would otherwise
    drop out of the tables silently)."""
    problems = []
    for model, attribute in MODELS.values():
        for field in sorted(set(getattr(connector, attribute)) - set(model.model_fields)):
            problems.append(f"{connector.name}.{attribute}: {field}")
    for key in coverage_notes(connector):
        model_name, _, field = key.partition(".")
        if model_name not in MODELS or field not in MODELS[model_name][0].model_fields:
            problems.append(f"{connector.name}.coverage_notes: {key}")
    return problems


def _table(model_name: str, connectors: Sequence[type[Connector[Any]]]) -> list[str]:
    model, attribute = MODELS[model_name]
    header = "| field | " + " | ".join(c.display_name for c in connectors) + " |"
    rule = "|---|" + "---|" * len(connectors)
    rows = []
    for field in model.model_fields:
        if field in PLATFORM:
            cells = ["always (platform)"] * len(connectors)
        else:
            cells = []
            for c in connectors:
                cell = "yes" if field in getattr(c, attribute) else "—"
                note = coverage_notes(c).get(f"{model_name}.{field}")
                cells.append(f"{cell} ({note})" if note else cell)
        rows.append(f"| `{field}` | " + " | ".join(cells) + " |")
    return [header, rule, *rows]


WRITE_OPERATIONS = (
    ("`POST /candidates`", Capability.CREATE_CANDIDATE, "create_candidate"),
    ("`POST /applications`", Capability.CREATE_APPLICATION, "create_application"),
    ("`POST /applications/{id}/change-stage`", Capability.CHANGE_STAGE, "change_stage"),
    ("`POST /applications/{id}/reject`", Capability.REJECT_APPLICATION, "reject_application"),
    ("`POST /candidates/{id}/attachments`", Capability.ADD_ATTACHMENT, "add_attachment"),
    ("`POST /api/v1/passthrough`", Capability.PASSTHROUGH, "passthrough"),
)


def _writes_table(connectors: Sequence[type[Connector[Any]]]) -> list[str]:
    header = "| write | " + " | ".join(c.display_name for c in connectors) + " |"
    rule = "|---|" + "---|" * len(connectors)
    rows = []
    for label, capability, operation in WRITE_OPERATIONS:
        cells = []
        for c in connectors:
            rules = c.write_rules
            supported = capability in c.capabilities and (
                operation != "add_attachment" or rules.attachment_files is not None
            )
            note = (
                rules.notes.get(operation)
                if supported
                else (
                    (rules.attachment_unsupported_reason if operation == "add_attachment" else None)
                    or rules.notes.get(operation)
                )
            )
            cell = "yes" if supported else "—"
            cells.append(f"{cell} ({_one_line(note)})" if note and not supported else cell)
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    fields = [
        ", ".join(f"`{f}`" for f in sorted(c.write_rules.create_fields)) or "—" for c in connectors
    ]
    required = [
        ", ".join(f"`{f}`" for f in sorted(c.write_rules.create_required)) or "—"
        for c in connectors
    ]
    rows.append("| create: fields taken | " + " | ".join(fields) + " |")
    rows.append("| create: required | " + " | ".join(required) + " |")
    return [header, rule, *rows]


WRITES_DOC = COVERAGE_PATH.parent / "writes.md"
WRITES_START = "<!-- generated: writes-by-vendor -->"
WRITES_END = "<!-- end: writes-by-vendor -->"


def render_writes_by_vendor(connectors: Sequence[type[Connector[Any]]]) -> str:
    """Per vendor: what each write does there, its limits, and what it cannot do."""
    lines = [WRITES_START]
    for c in sorted(connectors, key=lambda c: c.name):
        rules = c.write_rules
        lines += ["", f"### {c.display_name}", "", "| write | at the vendor |", "|---|---|"]
        for label, capability, operation in WRITE_OPERATIONS:
            supported = capability in c.capabilities and (
                operation != "add_attachment" or rules.attachment_files is not None
            )
            note = rules.notes.get(operation)
            if operation == "add_attachment" and rules.attachment_unsupported_reason:
                note = rules.attachment_unsupported_reason
            text = _one_line(note) if note else "as the vendor's API answers"
            lines.append(f"| {label} | {'' if supported else 'cannot: '}{text} |")
        for name, files in (("create", rules.create_files), ("attach", rules.attachment_files)):
            if files is not None:
                how = (
                    "by URL only"
                    if files.by_url
                    else ("bytes or a URL" if files.takes_url else "bytes only")
                )
                lines.append(
                    f"| {name}: files | at most {files.max_files}, {files.max_bytes:,} bytes "
                    f"each, {', '.join(sorted(files.content_types))}; {how} |"
                )
        if rules.max_items:
            kept = ", ".join(f"`{k}` {v}" for k, v in sorted(rules.max_items.items()))
            lines.append(f"| create: items kept | {kept} |")
    lines += ["", WRITES_END]
    return "\n".join(lines)


def with_writes_by_vendor(document: str, connectors: Sequence[type[Connector[Any]]]) -> str:
    start, end = document.index(WRITES_START), document.index(WRITES_END) + len(WRITES_END)
    return document[:start] + render_writes_by_vendor(connectors) + document[end:]


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "/")


def render_coverage(connectors: Sequence[type[Connector[Any]]]) -> str:
    ordered = sorted(connectors, key=lambda c: c.name)
    lines = [
        "# Field coverage",
        "",
        "Generated by `python -m connectors.sdk.coverage` from each connector's declarations;",
        "the conformance kit checks every declaration against the connector's emulator.",
        "`always (platform)` fields are set by unified-ats itself, not read from the vendor.",
        "Every field of every unified model has a row; a note in brackets says where a field",
        "that stays null can be found instead (`raw_data`, `custom_fields`), or why it is null.",
        "The mapping of each field: the connector pages in [connectors/](connectors/).",
        "",
        "## Candidate",
        "",
        *_table("Candidate", ordered),
        "",
        "## Attachment",
        "",
        *_table("Attachment", ordered),
        "",
        "## Job",
        "",
        *_table("Job", ordered),
        "",
        "## JobInterviewStage",
        "",
        "Every connector gives each job its own stages, even where the vendor's stages are",
        "company-wide (Flatchr columns, viasto's candidate workflow).",
        "",
        *_table("JobInterviewStage", ordered),
        "",
        "## Application",
        "",
        "One per candidate record: every supported vendor keys a candidate per job.",
        "",
        *_table("Application", ordered),
        "",
        "## Writes",
        "",
        "What each write route does per connector (`yes`), or why it cannot (`—`); the",
        "CreateCandidate fields each vendor can store (others are refused with a 422, never",
        "dropped). Details per vendor: docs/writes.md.",
        "",
        *_writes_table(ordered),
        "",
        "## Capabilities",
        "",
        "| connector | operations |",
        "|---|---|",
        *[f"| {c.display_name} | {', '.join(sorted(c.capabilities))} |" for c in ordered],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    problems = [p for c in default_registry().all() for p in undeclared_fields(c)]
    if problems:
        raise SystemExit(f"not fields of any unified model: {', '.join(problems)}")
    connectors = default_registry().all()
    COVERAGE_PATH.write_text(render_coverage(connectors), encoding="utf-8")
    print(f"wrote {COVERAGE_PATH}")
    writes = WRITES_DOC.read_text(encoding="utf-8")
    WRITES_DOC.write_text(with_writes_by_vendor(writes, connectors), encoding="utf-8")
    print(f"wrote the per-vendor table of {WRITES_DOC}")


if __name__ == "__main__":
    main()
