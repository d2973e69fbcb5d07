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


def test_operation_ids_are_resource_then_action() -> None:
    """Generated clients name their methods after these: `candidates_list`, not
    `list_candidates_api_ats_v1_candidates_get`."""
    spec = openapi_document()
    ids = []
    for path, operations in spec["paths"].items():
        resource = [s for s in path.split("/") if s and not s.startswith("{")][-1]
        if path.startswith("/api/ats/v1/"):
            resource = path.split("/")[4]
        elif path.startswith("/api/v1/"):
            resource = path.split("/")[3]
        resource = resource.replace("-", "_")
        for operation in operations.values():
            operation_id = operation["operationId"]
            ids.append(operation_id)
            assert operation_id.isidentifier() and operation_id == operation_id.lower()
            assert operation_id.startswith(f"{resource}_"), (path, operation_id)
            assert "api_ats" not in operation_id
    assert len(ids) == len(set(ids))
    assert {"candidates_list", "candidates_get", "attachments_download"} <= set(ids)


def tenant_route(path: str) -> bool:
    """The tenant's own routes: its connections, outbound webhook endpoints and link flow."""
    if path.startswith(
        ("/api/v1/webhooks", "/api/ats/v1/link-tokens", "/api/ats/v1/link-settings")
    ):
        return True
    return path.split("/")[-1] in {"connectors", "connections"} or "/connections/" in path


def test_data_routes_need_the_api_key_and_the_connector_token_together() -> None:
    spec = openapi_document()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["ConnectorToken"]["in"] == "header"
    assert schemes["ConnectorToken"]["name"] == "x-connector-token"
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            names = [p["name"].lower() for p in operation.get("parameters", [])]
            assert "x-connector-token" not in names and "authorization" not in names, path
            if not path.startswith("/api/"):
                assert "security" not in operation, path  # webhooks, staged files, health
            elif tenant_route(path):
                assert operation["security"] == [{"ApiKey": []}], path
            else:
                # One requirement holding both: OpenAPI reads two requirements as *either*.
                assert operation["security"] == [{"ApiKey": [], "ConnectorToken": []}], path


def test_every_error_is_the_error_body_and_every_success_declares_its_headers() -> None:
    spec = openapi_document()
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if path.startswith("/link/") and "text/html" in response.get("content", {}):
                    continue  # the hosted link page answers its errors as pages
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
            if "requestBody" in operation:
                assert {"408", "413", "422"} <= set(operation["responses"]), path
            if operation.get("parameters"):
                assert "422" in operation["responses"], path
    single = spec["paths"]["/api/ats/v1/candidates/{candidate_id}"]["get"]
    assert {"ETag", "Age"} <= set(single["responses"]["200"]["headers"])
    assert "304" in single["responses"]
    assert "If-None-Match" in [p["name"] for p in single["parameters"]]


def test_the_link_page_is_html_and_its_body_limits_are_the_error_body() -> None:
    spec = openapi_document()
    for method, operation in spec["paths"]["/link/{token}"].items():
        assert "security" not in operation
        for status, response in operation["responses"].items():
            if status in {"408", "413"}:  # the request-limits middleware answers these
                assert response["content"] == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                }, (method, status)
            else:
                assert set(response["content"]) == {"text/html"}, (method, status)


def request_components(spec: dict) -> set[str]:
    """Components reachable from request bodies only (a shared one counts as a response's)."""

    def refs(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
            return found.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    def closure(names: set[str]) -> set[str]:
        while True:
            grown = names.union(*(refs(spec["components"]["schemas"][n]) for n in names))
            if grown == names:
                return names
            names = grown

    operations = [op for ops in spec["paths"].values() for op in ops.values()]
    requests = closure(set().union(*(refs(op.get("requestBody", {})) for op in operations)))
    responses = closure(set().union(*(refs(op["responses"]) for op in operations)))
    return requests - responses


def test_ids_are_uuids_and_responses_are_open_to_new_fields() -> None:
    spec = openapi_document()
    components = spec["components"]["schemas"]
    for name, schema in components.items():
        if name in request_components(spec) | {"HTTPValidationError", "ValidationError"}:
            continue  # request bodies stay strict: a typo in a field name is a 422
        assert schema.get("additionalProperties") is not False, name
        for field, prop in schema.get("properties", {}).items():
            # remote_id and end_user_origin_id are others' ids (the vendor's, the consumer's).
            foreign = field in {"remote_id", "end_user_origin_id"}
            if field == "id" or (field.endswith("_id") and not foreign):
                variants = prop.get("anyOf", [prop])
                assert any(v.get("format") == "uuid" for v in variants), (name, field)
    for path, operations in spec["paths"].items():
        for parameter in [p for ops in operations.values() for p in ops.get("parameters", [])]:
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"]["format"] == "uuid", (path, parameter["name"])


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
