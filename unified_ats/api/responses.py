"""The statuses each route declares in OpenAPI, and response shaping shared by the routes."""

from typing import Any

from fastapi import Request

from schemas import Attachment, Candidate, ErrorBody
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
    return {s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses}


VENDOR_ERRORS = (429, 502, 503, 504)


def shape_candidate(candidate: Candidate, *, raw: bool, custom: bool) -> Candidate:
    update: dict[str, Any] = {}
    if not raw:
        update["raw_data"] = None
    if not custom:
        update["custom_fields"] = None
    return candidate.model_copy(update=update) if update else candidate


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
