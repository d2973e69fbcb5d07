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
