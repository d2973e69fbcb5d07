"""A tenant's webhook endpoints: where its events go, which ones, and the secrets that sign
them (kept encrypted: we must sign with them, so a hash would not do)."""

import base64
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.security import CredentialCipher
from unified_ats.store.tables import WebhookDelivery, WebhookEndpoint, utcnow

SECRET_PREFIX = "whsec_"  # noqa: S105 - Standard Webhooks' prefix, not a secret
MAX_OVERLAP = timedelta(days=7)


def new_endpoint_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes: the form every Standard Webhooks library reads."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class EndpointInfo:
    """An endpoint as it may be shown: never its secret."""

    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookEndpoint, now: datetime) -> "EndpointInfo":
        overlap = row.previous_secret_expires_at
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            events=list(row.events),
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            failing_since=row.failing_since,
            previous_secret_expires_at=overlap if overlap and overlap > now else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class WebhookEndpoints:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher):
        self.sessions = sessions
        self.cipher = cipher

    async def create(
        self,
        tenant_id: uuid.UUID,
        *,
        url: str,
        events: list[str],
        description: str = "",
        enabled: bool = True,
    ) -> tuple[EndpointInfo, str]:
        """Returns the endpoint and its secret (shown this once)."""
        secret = new_endpoint_secret()
        now = utcnow()
        row = WebhookEndpoint(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            url=url,
            description=description,
            events=events,
            enabled=enabled,
            secret_encrypted=self.cipher.encrypt(secret.encode()),
            created_at=now,
            updated_at=now,
        )
        async with self.sessions.begin() as session:
            session.add(row)
        return EndpointInfo.of(row, now), secret

    async def of_tenant(self, tenant_id: uuid.UUID) -> list[EndpointInfo]:
        now = utcnow()
        async with self.sessions() as session:
            rows = await session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.tenant_id == tenant_id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            )
            return [EndpointInfo.of(row, now) for row in rows]

    async def get(self, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> EndpointInfo | None:
        async with self.sessions() as session:
            row = await _owned(session, tenant_id, endpoint_id)
            return EndpointInfo.of(row, utcnow()) if row else None

    async def update(
        self, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict[str, Any]
    ) -> EndpointInfo | None:
        """``changes``: any of url, events, description, enabled. Enabling again clears the
        failure record, so the five-day clock starts over."""
        now = utcnow()
        async with self.sessions.begin() as session:
            row = await _owned(session, tenant_id, endpoint_id)
            if row is None:
                return None
            for name in ("url", "events", "description"):
                if name in changes:
                    setattr(row, name, changes[name])
            if "enabled" in changes:
                if changes["enabled"] and not row.enabled:
                    row.failing_since = None
                    row.disabled_reason = None
                if not changes["enabled"]:
                    row.disabled_reason = row.disabled_reason or "disabled through the API"
                    await _cancel_pending(session, [row.id])
                row.enabled = bool(changes["enabled"])
            row.updated_at = now
            await session.flush()
            return EndpointInfo.of(row, now)

    async def delete(self, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool:
        async with self.sessions.begin() as session:
            row = await _owned(session, tenant_id, endpoint_id)
            if row is None:
                return False
            await session.execute(
                delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
            )
            await session.delete(row)
            return True

    async def rotate_secret(
        self, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, *, overlap: timedelta
    ) -> tuple[str, datetime | None] | None:
        """A new secret; for ``overlap`` every body is signed with the old one too, so the
        receiver can switch without dropping a delivery. Returns the secret and the end of
        the overlap (None when there is none)."""
        overlap = min(max(overlap, timedelta(0)), MAX_OVERLAP)
        secret = new_endpoint_secret()
        now = utcnow()
        async with self.sessions.begin() as session:
            row = await _owned(session, tenant_id, endpoint_id)
            if row is None:
                return None
            ends = now + overlap if overlap > timedelta(0) else None
            row.previous_secret_encrypted = row.secret_encrypted if ends else None
            row.previous_secret_expires_at = ends
            row.secret_encrypted = self.cipher.encrypt(secret.encode())
            row.updated_at = now
        return secret, ends

    def signing_secrets(self, row: WebhookEndpoint, now: datetime) -> list[str]:
        """The secrets a body is signed with now: the current one, and the previous one
        during its overlap."""
        secrets = [self.cipher.decrypt(row.secret_encrypted).decode()]
        expires = row.previous_secret_expires_at
        if row.previous_secret_encrypted is not None and expires is not None and expires > now:
            secrets.append(self.cipher.decrypt(row.previous_secret_encrypted).decode())
        return secrets


async def _owned(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint | None:
    row = await session.get(WebhookEndpoint, endpoint_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def _cancel_pending(session: AsyncSession, endpoint_ids: list[uuid.UUID]) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids), WebhookDelivery.state == "pending")
        .values(state="cancelled", next_attempt_at=None, locked_until=None)
    )
