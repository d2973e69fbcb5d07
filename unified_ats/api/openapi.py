"""The OpenAPI document: FastAPI's, with what it cannot express on its own."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}

BODY_LIMITS = {
    "408": "The request body did not arrive within the body timeout",
    "413": "The request body is larger than the limit",
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operations in document["paths"].values():
            for operation in operations.values():
                require_all_schemes(operation)
                declare_validation_errors(operation)
                declare_body_limits(operation)
                declare_conditional_get(operation)
        app.openapi_schema = document
    return app.openapi_schema


def require_all_schemes(operation: dict[str, Any]) -> None:
    """FastAPI lists each security dependency as its own requirement, which OpenAPI reads as
    *either* one; a data route needs the API key *and* the connector token."""
    requirements = operation.get("security")
    if requirements and len(requirements) > 1:
        merged: dict[str, list[str]] = {}
        for requirement in requirements:
            merged.update(requirement)
        operation["security"] = [merged]


def declare_validation_errors(operation: dict[str, Any]) -> None:
    """FastAPI adds its own 422 schema to routes with parameters; ours renders every error,
    validation included, as the error body (its ``detail`` keeps FastAPI's list form)."""
    invalid = operation["responses"].get("422")
    if invalid is not None and "text/html" not in invalid.get("content", {}):
        invalid["content"] = {"application/json": {"schema": ERROR_BODY}}


def declare_body_limits(operation: dict[str, Any]) -> None:
    """Every route with a body is behind the request-limits middleware."""
    if "requestBody" not in operation:
        return
    for status, description in BODY_LIMITS.items():
        operation["responses"].setdefault(
            status,
            {
                "description": description,
                "content": {"application/json": {"schema": ERROR_BODY}},
            },
        )


def declare_conditional_get(operation: dict[str, Any]) -> None:
    """Single reads answer ``If-None-Match`` (read from the request in ``json_response``)."""
    if "304" not in operation["responses"]:
        return
    operation.setdefault("parameters", []).append(
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "The `ETag` of the copy you hold: a 304 without a body if unchanged.",
            "schema": {"type": "string"},
        }
    )
