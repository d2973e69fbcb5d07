"""The statuses each route declares in OpenAPI, and response shaping shared by the routes."""

import hashlib
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request, Response
from pydantic import BaseModel

from schemas import Attachment, Candidate, ErrorBody
from unified_ats.reads import Served
from unified_ats.services import Services


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Bad input (unknown parameter, bad cursor, filter the connector cannot honour)",
        401: "Missing or invalid API key or connector token",
        404: "No such object on this connection (or deleted at the vendor)",
        409: "Conflict",
        422: "Invalid parameter or body (FastAPI's list form)",
        429: "The vendor is rate limiting; see Retry-After",
        501: "The connector cannot do this",
        502: "The vendor failed or answered something unreadable",
        503: "The vendor (or the store) is unavailable",
        504: "The vendor did not answer in time",
    }
    declared: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses
    }
    if 429 in declared:
        declared[429]["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again (the vendor's own advice).",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    if 401 in declared:
        declared[401]["headers"] = {
            "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}
        }
    return declared


BINARY = {"schema": {"type": "string", "format": "binary"}}
"""A streamed file body (generated clients hand it over as bytes)."""


def file_response(description: str) -> dict[str, Any]:
    """A file answer: the vendor's own type (``application/pdf``, …), octet-stream when it
    names none. Generated clients read the first entry as bytes; ``*/*`` admits the others."""
    return {
        "content": {"application/octet-stream": BINARY, "*/*": BINARY},
        "description": description,
        "headers": {
            "Content-Disposition": {
                "description": "`attachment; filename*=UTF-8''<name>`",
                "schema": {"type": "string"},
            }
        },
    }


VENDOR_ERRORS = (429, 502, 503, 504)


M = TypeVar("M", bound=BaseModel)


def shape_model(model: M, *, raw: bool, custom: bool) -> M:
    """``raw_data`` and ``custom_fields`` only when asked for (Bindbee's defaults)."""
    update: dict[str, Any] = {}
    if not raw:
        update["raw_data"] = None
    if not custom:
        update["custom_fields"] = None
    return model.model_copy(update=update) if update else model


def shape_candidate(candidate: Candidate, *, raw: bool, custom: bool) -> Candidate:
    return shape_model(candidate, raw=raw, custom=custom)


def download_url(services: Services, request: Request, attachment: Attachment) -> str:
    base = services.settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/api/ats/v1/attachments/{attachment.id}/download"


def shape_attachment(
    services: Services, request: Request, attachment: Attachment, *, raw: bool, custom: bool
) -> Attachment:
    update: dict[str, Any] = {"file_url": download_url(services, request, attachment)}
    if not raw:
        update["raw_data"] = None
    if not custom:
        update["custom_fields"] = None
    return attachment.model_copy(update=update)


def json_response(
    body: str | bytes, *, served: Served[Any] | None = None, request: Request | None = None
) -> Response:
    """A JSON body; a single read adds its freshness headers and an ``ETag``, and answers a
    matching ``If-None-Match`` with a bodiless 304."""
    headers: dict[str, str] = {}
    if isinstance(body, str):
        body = body.encode()  # once, for the ETag and the body alike
    if served is None:
        return Response(body, media_type="application/json")
    if served.age_seconds is not None:
        headers["Age"] = str(served.age_seconds)
    if served.stale is not None:
        headers["X-Stale-Reason"] = served.stale.value
    # The ETag covers the body as served (shaping parameters included), so two representations
    # of one record never share one.
    etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers["ETag"] = etag
    if request is not None and etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


FRESHNESS_HEADERS = {
    "ETag": {
        "description": "The representation's tag: send it back as `If-None-Match` to get a "
        "bodiless 304 while it has not changed.",
        "schema": {"type": "string"},
    },
    "Age": {
        "description": "Seconds since the vendor last confirmed this copy (absent: fetched now).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-Stale-Reason": {
        "description": "Present when a refresh was due but the stored copy was served instead: "
        "`vendor-timeout` (no answer within the read deadline) or `vendor-error`.",
        "schema": {"type": "string", "enum": ["vendor-timeout", "vendor-error"]},
    },
}


CacheControl = Annotated[
    str | None, Header(description="`no-cache` forces a refresh from the vendor.")
]


def no_cache(cache_control: str | None) -> bool:
    return cache_control is not None and "no-cache" in cache_control.lower()


def single_read(what: str) -> dict[int | str, dict[str, Any]]:
    """The statuses of a single read, and its freshness headers."""
    return {
        **errors(400, 401, 404, 422, *VENDOR_ERRORS),
        200: {"description": f"The {what}.", "headers": FRESHNESS_HEADERS},
        304: {
            "description": "Unchanged since the `If-None-Match` tag (no body).",
            "headers": FRESHNESS_HEADERS,
        },
    }
