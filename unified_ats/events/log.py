"""The delivery log a tenant reads: each delivery of an endpoint, newest first, with its
attempts and the body sent (while kept), and redelivery on demand."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.events.delivery import PENDING
from unified_ats.store.tables import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow


class EndpointDisabled(Exception):
    """Redelivery to a disabled endpoint: enable it first."""


@dataclass(frozen=True)
class DeliveryRecord:
    seq: int
    id: uuid.UUID
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    latency_ms: float | None
    response_body: str | None
    history: list[dict[str, Any]]
    payload: dict[str, Any]
    created_at: datetime


_COLUMNS = (WebhookDelivery, WebhookEvent.type, WebhookEvent.body)


def _record(row: Any) -> DeliveryRecord:
    delivery, event_type, body = row
    return DeliveryRecord(
        seq=delivery.seq,
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=event_type,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_attempt_at=delivery.last_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        latency_ms=delivery.latency_ms,
        response_body=delivery.response_body,
        history=list(delivery.history or []),
        payload=json.loads(body),
        created_at=delivery.created_at,
    )


class DeliveryLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def page(
        self,
        tenant_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        *,
        before: int,
        limit: int,
        state: str | None = None,
        event_type: str | None = None,
    ) -> list[DeliveryRecord] | None:
        """Deliveries with ``seq < before`` (0: from the newest); None when the tenant has no
        such endpoint (checked first: another tenant's log is never read)."""
        async with self.sessions() as session:
            if not await _owns(session, tenant_id, endpoint_id):
                return None
            statement = (
                select(*_COLUMNS)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(WebhookDelivery.seq.desc())
                .limit(limit)
            )
            if before:
                statement = statement.where(WebhookDelivery.seq < before)
            if state is not None:
                statement = statement.where(WebhookDelivery.state == state)
            if event_type is not None:
                statement = statement.where(WebhookEvent.type == event_type)
            return [_record(row) for row in (await session.execute(statement)).all()]

    async def redeliver(
        self, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> DeliveryRecord | None:
        """Send it again now, whatever its state (the same ``webhook-id``: receivers that
        already have it dedupe). None when there is no such delivery of the tenant's."""
        async with self.sessions.begin() as session:
            endpoint = await session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None or endpoint.tenant_id != tenant_id:
                return None
            delivery = await session.scalar(
                select(WebhookDelivery).where(
                    WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
                )
            )
            if delivery is None:
                return None
            if not endpoint.enabled:
                raise EndpointDisabled("the endpoint is disabled: enable it, then redeliver")
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.seq == delivery.seq)
                .values(state=PENDING, next_attempt_at=utcnow(), locked_until=None)
            )
            row = (
                await session.execute(
                    select(*_COLUMNS)
                    .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                    .where(WebhookDelivery.seq == delivery.seq)
                    .execution_options(populate_existing=True)
                )
            ).one()
            return _record(row)


async def _owns(session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool:
    owner = await session.scalar(
        select(WebhookEndpoint.tenant_id).where(WebhookEndpoint.id == endpoint_id)
    )
    return owner == tenant_id
