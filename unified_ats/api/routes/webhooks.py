"""``POST /webhooks/{secret}``: vendor webhooks, per connection.

Flatchr does not sign its webhooks, so the connection is named by an unguessable secret in the
path (stored hashed). A wrong secret is a 404; a body we cannot use is a 4xx and changes
nothing; replaying a webhook changes nothing (content hashes).

Limits, checked before anything is mapped or stored: the body (``webhook_max_body_bytes``,
1 MiB by default; on ``Content-Length`` first, then while it streams in, so a chunked body is
cut too) and any single string (64 KiB) are 413s; nesting deeper than 64 levels, NaN/Infinity,
NUL characters and unpaired surrogates (no store keeps them) are 422s.
"""

import json
import logging
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field, ValidationError

from connectors import Capability
from schemas import ErrorBody
from unified_ats.api.deps import ServicesDep
from unified_ats.api.errors import ApiError, NotFoundError
from unified_ats.api.responses import errors

router = APIRouter(tags=["webhooks"])
logger = logging.getLogger("unified_ats.webhooks")

MAX_STRING_BYTES = 64 * 1024
MAX_DEPTH = 64


class WebhookRejected(ApiError):
    status_code = 422


class WebhookTooLarge(ApiError):
    status_code = 413


class WebhookAccepted(BaseModel):
    candidate: uuid.UUID = Field(description="Unified id of the candidate the webhook was about.")
    applications: list[uuid.UUID] = Field(
        default_factory=list, description="Unified ids of its applications (a stage move)."
    )
    changed: bool = Field(description="The candidate's or an application's content changed.")


class _NotFinite(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise _NotFinite(name)


def check_declared_size(request: Request, limit: int) -> None:
    """A ``Content-Length`` past ``limit`` is refused before anything is read or looked up."""
    try:
        declared = int(request.headers.get("content-length", ""))
    except ValueError:
        return  # absent (chunked) or unreadable: the streamed size decides
    if declared > limit:
        raise WebhookTooLarge(f"the body is larger than {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` bytes (whatever it declared)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise WebhookTooLarge(f"the body is larger than {limit} bytes")
    return bytes(body)


def parse_body(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("the body is not UTF-8 JSON") from None
    try:
        payload = json.loads(text, parse_constant=_no_constants)
    except RecursionError:  # json's decoder recurses per level: deep nesting ends here
        raise WebhookRejected(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except _NotFinite:
        raise WebhookRejected("the body holds NaN or Infinity, which JSON does not have") from None
    except ValueError:
        raise WebhookRejected("the body is not JSON") from None
    check_values(payload)
    return payload


def check_values(payload: Any) -> None:
    """Nesting, string sizes and values no store keeps; iterative (any depth is safe here)."""
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            check_string(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise WebhookRejected("the body holds a number too large for JSON storage")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise WebhookRejected(f"the body is nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    check_string(key)
                    pending.append((item, depth + 1))
            else:
                pending.extend((item, depth + 1) for item in value)


def check_string(value: str) -> None:
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise WebhookRejected("a string in the body holds an unpaired surrogate") from None
    if size > MAX_STRING_BYTES:
        raise WebhookTooLarge(f"a string in the body is longer than {MAX_STRING_BYTES} bytes")
    if "\x00" in value:
        raise WebhookRejected("a string in the body holds a NUL character")


def unusable(exc: Exception) -> str:
    """Why the connector could not map the body: its own message, else the error's kind."""
    if isinstance(exc, ValueError) and not isinstance(exc, ValidationError):
        return f"unusable webhook: {str(exc)[:300]}"
    return f"unusable webhook: {type(exc).__name__}"


@router.post(
    "/webhooks/{secret}",
    response_model=WebhookAccepted,
    status_code=status.HTTP_200_OK,
    responses={
        **errors(400, 404),
        413: {
            "model": ErrorBody,
            "description": "The body (or one of its strings) is larger than the limit",
        },
        **errors(422, 429, 502, 503, 504),
    },
    # Read by hand (size and depth checked while it streams), so FastAPI cannot infer it.
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The vendor's webhook as it sends it (Flatchr: `new_applicant`, "
            "`drag_applicant`, …), JSON.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def webhooks_receive(secret: str, request: Request, services: ServicesDep) -> WebhookAccepted:
    limit = services.settings.webhook_max_body_bytes
    check_declared_size(request, limit)
    connection = await services.accounts.connection_for_webhook(secret)
    if connection is None:
        raise NotFoundError("not found")
    connector = await services.pool.for_connection(connection)
    if Capability.WEBHOOKS not in connector.capabilities:
        raise NotFoundError("this connection does not take webhooks")
    payload = parse_body(await read_body(request, limit))
    context = await connector.mapping_context()
    try:
        record = connector.parse_webhook(payload, context)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        logger.info("webhook refused: %s", type(exc).__name__)
        raise WebhookRejected(unusable(exc)) from None
    counts = await services.records.upsert(
        connection.id, [record], now=datetime.now(UTC), touch_unchanged=True
    )
    candidate, applications = counts["candidates"], counts["applications"]
    return WebhookAccepted(
        candidate=record.candidate.id,
        applications=[a.id for a in record.applications],
        changed=bool(
            candidate.inserted or candidate.changed or applications.inserted or applications.changed
        ),
    )
