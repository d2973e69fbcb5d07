"""``POST /webhooks/{secret}``: vendor webhooks, per connection.

Flatchr does not sign its webhooks, so the connection is named by an unguessable secret in the
path (stored hashed). A wrong secret is a 404; a body we cannot use is a 4xx and changes
nothing; replaying a webhook changes nothing (content hashes).
"""

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from connectors import Capability
from unified_ats.api.deps import ServicesDep
from unified_ats.api.errors import ApiError, NotFoundError
from unified_ats.api.responses import errors

router = APIRouter(tags=["webhooks"])


class WebhookRejected(ApiError):
    status_code = 422


class WebhookAccepted(BaseModel):
    candidate: str
    changed: bool


@router.post(
    "/webhooks/{secret}",
    response_model=WebhookAccepted,
    status_code=status.HTTP_200_OK,
    responses=errors(400, 404, 422, 429, 502, 503, 504),
)
async def receive_webhook(secret: str, request: Request, services: ServicesDep) -> WebhookAccepted:
    connection = await services.accounts.connection_for_webhook(secret)
    if connection is None:
        raise NotFoundError("not found")
    connector = await services.pool.for_connection(connection)
    if Capability.WEBHOOKS not in connector.capabilities:
        raise NotFoundError("this connection does not take webhooks")
    try:
        payload: Any = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("the body is not JSON") from None
    context = await connector.mapping_context()
    try:
        record = connector.parse_webhook(payload, context)
    except ValueError as exc:
        raise WebhookRejected(f"unusable webhook: {exc}") from None
    counts, _ = await services.records.upsert(connection.id, [record], now=datetime.now(UTC))
    return WebhookAccepted(
        candidate=str(record.candidate.id), changed=bool(counts.inserted or counts.changed)
    )
