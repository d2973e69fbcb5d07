"""Hosted link sessions: a single-use link token opens the page; what the page created is kept
encrypted behind a public token, which the tenant's API key exchanges once.

Both tokens are stored as hashes only. The link token is claimed atomically (a conditional
UPDATE) before anything is created, so two submits of one page cannot create two connections;
a submit that fails after the claim releases it, so the end user can retry until it expires.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.security import CredentialCipher, hash_secret, new_secret
from unified_ats.store.tables import LinkToken, Tenant, utcnow

LINK_TOKEN_PREFIX = "uats_lt_"  # noqa: S105 - a prefix, not a secret
PUBLIC_TOKEN_PREFIX = "uats_pt_"  # noqa: S105 - a prefix, not a secret
PUBLIC_TOKEN_LIFETIME = timedelta(minutes=10)
KEEP = timedelta(days=30)
"""Sessions are deleted this long after their link token expired (their outcome is long
exchanged or lapsed by then)."""


class LinkTokenGone(Exception):
    """The token was used (or exchanged) already, or it expired."""


@dataclass(frozen=True)
class LinkSession:
    """A link session as the page needs it: never a token or a credential."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    end_user_origin_id: str
    org_name: str
    connector: str | None
    relink_connection_id: uuid.UUID | None
    redirect_url: str
    state: str | None
    token_hash: str
    expires_at: datetime
    used_at: datetime | None

    @classmethod
    def of(cls, row: LinkToken) -> "LinkSession":
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            end_user_origin_id=row.end_user_origin_id,
            org_name=row.org_name,
            connector=row.connector,
            relink_connection_id=row.relink_connection_id,
            redirect_url=row.redirect_url,
            state=row.state,
            token_hash=row.token_hash,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    def usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and self.expires_at > (now or utcnow())


@dataclass(frozen=True)
class LinkOutcome:
    """What an exchange hands over, once."""

    connection_id: uuid.UUID
    connector: str
    connector_token: str | None
    webhook_secret: str | None
    relinked: bool
    end_user_origin_id: str
    org_name: str

    def __repr__(self) -> str:
        return f"LinkOutcome(connection_id={self.connection_id}, relinked={self.relinked})"


class LinkTokens:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher):
        self.sessions = sessions
        self.cipher = cipher

    async def redirect_urls(self, tenant_id: uuid.UUID) -> list[str]:
        async with self.sessions() as session:
            urls = await session.scalar(
                select(Tenant.link_redirect_urls).where(Tenant.id == tenant_id)
            )
        return list(urls or [])

    async def set_redirect_urls(self, tenant_id: uuid.UUID, urls: list[str]) -> None:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(Tenant).where(Tenant.id == tenant_id).values(link_redirect_urls=urls)
            )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise LookupError("no such tenant")

    async def create(
        self,
        tenant_id: uuid.UUID,
        *,
        end_user_origin_id: str,
        org_name: str,
        connector: str | None,
        relink_connection_id: uuid.UUID | None,
        redirect_url: str,
        state: str | None,
        expires_in: timedelta,
    ) -> tuple[str, datetime]:
        """A new link token (returned once) and when it expires."""
        token = new_secret(LINK_TOKEN_PREFIX)
        now = utcnow()
        expires_at = now + expires_in
        async with self.sessions.begin() as session:
            await session.execute(delete(LinkToken).where(LinkToken.expires_at < now - KEEP))
            session.add(
                LinkToken(
                    tenant_id=tenant_id,
                    token_hash=hash_secret(token),
                    end_user_origin_id=end_user_origin_id,
                    org_name=org_name,
                    connector=connector,
                    relink_connection_id=relink_connection_id,
                    redirect_url=redirect_url,
                    state=state,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return token, expires_at

    async def find(self, token: str) -> LinkSession | None:
        """The session of this link token, used or expired ones too (None: unknown)."""
        async with self.sessions() as session:
            row = await session.scalar(
                select(LinkToken).where(LinkToken.token_hash == hash_secret(token))
            )
        return LinkSession.of(row) if row is not None else None

    async def claim(self, session_id: uuid.UUID) -> None:
        """Mark the link token used, if nobody did and it has not expired (LinkTokenGone)."""
        now = utcnow()
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(LinkToken)
                .where(
                    LinkToken.id == session_id,
                    LinkToken.used_at.is_(None),
                    LinkToken.expires_at > now,
                )
                .values(used_at=now)
            )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise LinkTokenGone("this link was used already or has expired")

    async def release(self, session_id: uuid.UUID) -> None:
        """Undo a claim whose submit failed before anything was created."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(LinkToken)
                .where(LinkToken.id == session_id, LinkToken.connection_id.is_(None))
                .values(used_at=None)
            )

    async def complete(self, session_id: uuid.UUID, outcome: LinkOutcome) -> str:
        """Keep the outcome (encrypted) behind a new public token, returned once."""
        public_token = new_secret(PUBLIC_TOKEN_PREFIX)
        sealed = self.cipher.encrypt(
            json.dumps(
                {
                    "connector": outcome.connector,
                    "connector_token": outcome.connector_token,
                    "webhook_secret": outcome.webhook_secret,
                    "relinked": outcome.relinked,
                }
            ).encode()
        )
        async with self.sessions.begin() as session:
            await session.execute(
                update(LinkToken)
                .where(LinkToken.id == session_id)
                .values(
                    connection_id=outcome.connection_id,
                    public_token_hash=hash_secret(public_token),
                    public_expires_at=utcnow() + PUBLIC_TOKEN_LIFETIME,
                    result_encrypted=sealed,
                )
            )
        return public_token

    async def exchange(self, tenant_id: uuid.UUID, public_token: str) -> LinkOutcome | None:
        """The outcome behind a public token of this tenant, once; then it is wiped.

        None: no such token for this tenant (another tenant's is unknown here too).
        Raises LinkTokenGone when it was exchanged already or expired.
        """
        now = utcnow()
        async with self.sessions.begin() as session:
            row = await session.scalar(
                select(LinkToken).where(
                    LinkToken.public_token_hash == hash_secret(public_token),
                    LinkToken.tenant_id == tenant_id,
                )
            )
            if row is None or row.connection_id is None:
                return None
            sealed = row.result_encrypted
            expired = row.public_expires_at is None or row.public_expires_at <= now
            # Only the request whose UPDATE wins hands the outcome over (a racing one gets no
            # row); an expired outcome is wiped without being handed over.
            result = await session.execute(
                update(LinkToken)
                .where(LinkToken.id == row.id, LinkToken.exchanged_at.is_(None))
                .values(exchanged_at=now, result_encrypted=None)
            )
            won = bool(result.rowcount) and sealed is not None  # type: ignore[attr-defined]
            connection_id, origin, org = row.connection_id, row.end_user_origin_id, row.org_name
        if not won:
            raise LinkTokenGone("this public token was exchanged already")
        if expired or sealed is None:
            raise LinkTokenGone("this public token has expired: link the account again")
        data: dict[str, Any] = json.loads(self.cipher.decrypt(sealed))
        return LinkOutcome(
            connection_id=connection_id,
            connector=data["connector"],
            connector_token=data["connector_token"],
            webhook_secret=data["webhook_secret"],
            relinked=bool(data["relinked"]),
            end_user_origin_id=origin,
            org_name=org,
        )


__all__ = [
    "LINK_TOKEN_PREFIX",
    "PUBLIC_TOKEN_PREFIX",
    "LinkOutcome",
    "LinkSession",
    "LinkTokenGone",
    "LinkTokens",
]
