"""What each write route takes on a connection, as a client builds its form from it (pure)."""

from typing import Any

from pydantic import BaseModel

from connectors import Capability, Connector, FileRules
from schemas.writes import (
    ApplicationCreateData,
    AttachmentUpload,
    CandidateCreateData,
    ChangeStage,
    FileLimits,
    Reject,
    WriteMeta,
)

OPERATIONS: dict[str, tuple[Capability, type[BaseModel]]] = {
    "create_candidate": (Capability.CREATE_CANDIDATE, CandidateCreateData),
    "create_application": (Capability.CREATE_APPLICATION, ApplicationCreateData),
    "change_stage": (Capability.CHANGE_STAGE, ChangeStage),
    "reject_application": (Capability.REJECT_APPLICATION, Reject),
    "add_attachment": (Capability.ADD_ATTACHMENT, AttachmentUpload),
}


def write_meta(connector: type[Connector[Any]], operation: str) -> WriteMeta:
    capability, model = OPERATIONS[operation]
    rules = connector.write_rules
    schema = model.model_json_schema()
    required = list(schema.get("required", []))
    files: FileRules | None = None
    if operation == "create_candidate":
        accepted = rules.create_fields
        schema["properties"] = {
            k: v for k, v in schema.get("properties", {}).items() if k in accepted
        }
        required = sorted(rules.create_required)
        files = rules.create_files
    elif operation == "add_attachment":
        files = rules.attachment_files
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    supported = capability in connector.capabilities and (
        operation != "add_attachment" or rules.attachment_files is not None
    )
    note = rules.notes.get(operation)
    if operation == "add_attachment" and rules.attachment_unsupported_reason:
        note = rules.attachment_unsupported_reason
    creates = operation == "create_candidate"
    return WriteMeta(
        max_items=dict(rules.max_items) if creates else {},
        max_lengths=dict(rules.max_lengths) if creates else {},
        url_types=sorted(rules.url_types) if creates and rules.url_types is not None else None,
        connector=connector.name,
        operation=operation,
        supported=supported,
        schema_=schema,
        required=required,
        file_limits=FileLimits(**files.schema()) if files is not None else None,
        notes=note,
    )
