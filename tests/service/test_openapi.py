"""schemas/openapi.json is the app's real OpenAPI document (regenerate: unified-ats openapi)."""

import json
from pathlib import Path

from unified_ats.api.app import openapi_document

OPENAPI = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


def test_exported_openapi_matches_the_app() -> None:
    assert json.loads(OPENAPI.read_text()) == openapi_document(), (
        "schemas/openapi.json is stale: run `uv run unified-ats openapi`"
    )


def test_every_data_route_declares_its_error_statuses() -> None:
    paths = openapi_document()["paths"]
    candidate = paths["/api/ats/v1/candidates/{candidate_id}"]["get"]["responses"]
    assert {"200", "401", "404", "422", "429", "502", "503", "504"} <= set(candidate)
    download = paths["/api/ats/v1/attachments/{attachment_id}/download"]["get"]["responses"]
    assert {"200", "401", "404", "429", "502", "503", "504"} <= set(download)
    for path, operations in paths.items():
        for operation in operations.values():
            if path.startswith("/api/ats/v1"):
                assert "401" in operation["responses"], path


def test_operation_ids_are_readable_and_unique() -> None:
    """Generated clients name their methods after these: `list_candidates`, not
    `list_candidates_api_ats_v1_candidates_get`."""
    spec = openapi_document()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert operation_id.isidentifier() and operation_id == operation_id.lower()
        assert "api_ats" not in operation_id and not operation_id.endswith(("_get", "_post"))


def test_files_are_binary_and_rate_limits_say_when_to_retry() -> None:
    spec = openapi_document()
    download = spec["paths"]["/api/ats/v1/attachments/{attachment_id}/download"]["get"]
    body = download["responses"]["200"]["content"]["application/octet-stream"]
    assert body["schema"] == {"type": "string", "format": "binary"}
    avatar = spec["paths"]["/api/ats/v1/candidates/{candidate_id}/avatar"]["get"]
    assert avatar["responses"]["200"]["content"]["image/*"]["schema"]["format"] == "binary"
    for path, ops in spec["paths"].items():
        for operation in ops.values():
            if "429" in operation["responses"]:
                assert "Retry-After" in operation["responses"]["429"]["headers"], path
