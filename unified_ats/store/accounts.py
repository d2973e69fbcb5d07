"""Tenants, their API keys, and their connections (hashed tokens, encrypted vendor settings)."""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.events.outbox import EventBatch
from unified_ats.security import (
    API_KEY_PREFIX,
    CONNECTOR_TOKEN_PREFIX,
    WEBHOOK_SECRET_PREFIX,
    CredentialCipher,
    hash_secret,
    hint,
    matches,
    new_secret,
)
from unified_ats.store.singleflight import SingleFlight
from unified_ats.store.tables import ApiKey, Connection, Tenant, utcnow

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class ConnectionInfo:
    """A connection as it may be shown: never its credentials or token."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    connector: str
    account_key: str
    token_hint: str
    created_at: datetime
    last_full_sync_at: datetime | None
    end_user_origin_id: str | None = None
    end_user_org_name: str | None = None

    @classmethod
    def of(cls, row: Connection) -> "ConnectionInfo":
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            connector=row.connector,
            account_key=row.account_key,
            token_hint=row.token_hint,
            created_at=row.created_at,
            last_full_sync_at=row.last_full_sync_at,
            end_user_origin_id=row.end_user_origin_id,
            end_user_org_name=row.end_user_org_name,
        )

    def event_data(self) -> dict[str, Any]:
        """What ``connection.*`` events say of it: ids and names, never a credential."""
        return {
            "connection_id": str(self.id),
            "connector": self.connector,
            "account": self.account_key,
            "end_user_origin_id": self.end_user_origin_id,
            "end_user_org_name": self.end_user_org_name,
        }


@dataclass(frozen=True)
class TenantInfo:
    """A tenant as it may be shown: never its API keys (only how many are live)."""

    id: uuid.UUID
    name: str
    created_at: datetime
    api_keys: int
    connections: int


class TtlCache(Generic[K, V]):
    """A small time-bounded cache for credential lookups (every API request needs two)."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self._entries.clear()


class Accounts:
    """Credential lookups are cached for ``auth_cache_seconds`` (revocations in this process
    take effect at once; in other processes, within that bound)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: CredentialCipher,
        *,
        auth_cache_seconds: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self._tenants: TtlCache[str, uuid.UUID] = TtlCache(auth_cache_seconds)
        self._connections: TtlCache[str, ConnectionInfo] = TtlCache(auth_cache_seconds)
        self._loads: SingleFlight[Any] = SingleFlight()

    def forget_credentials(self) -> None:
        self._tenants.clear()
        self._connections.clear()

    async def create_tenant(self, name: str) -> tuple[uuid.UUID, str]:
        """A new tenant and its first API key (returned once, stored hashed)."""
        key = new_secret(API_KEY_PREFIX)
        async with self.sessions.begin() as session:
            tenant = Tenant(name=name)
            session.add(tenant)
            await session.flush()
            session.add(ApiKey(tenant_id=tenant.id, key_hash=hash_secret(key), hint=hint(key)))
        return tenant.id, key

    async def create_api_key(self, tenant_id: uuid.UUID) -> str:
        key = new_secret(API_KEY_PREFIX)
        async with self.sessions.begin() as session:
            if await session.get(Tenant, tenant_id) is None:
                raise LookupError("no such tenant")
            session.add(ApiKey(tenant_id=tenant_id, key_hash=hash_secret(key), hint=hint(key)))
        return key

    async def tenants(self, tenant_id: uuid.UUID | None = None) -> list[TenantInfo]:
        """Every tenant (or the one given), oldest first, with its live key and connection
        counts."""
        keys = (
            select(func.count())
            .where(ApiKey.tenant_id == Tenant.id, ApiKey.revoked_at.is_(None))
            .scalar_subquery()
        )
        connections = (
            select(func.count()).where(Connection.tenant_id == Tenant.id).scalar_subquery()
        )
        statement = select(Tenant.id, Tenant.name, Tenant.created_at, keys, connections)
        if tenant_id is not None:
            statement = statement.where(Tenant.id == tenant_id)
        async with self.sessions() as session:
            rows = (await session.execute(statement.order_by(Tenant.created_at))).all()
        return [TenantInfo(*row) for row in rows]

    async def tenant(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        found = await self.tenants(tenant_id)
        return found[0] if found else None

    async def tenant_for_key(self, key: str) -> uuid.UUID | None:
        digest = hash_secret(key)
        cached = self._tenants.get(digest)
        if cached is not None:
            return cached
        tenant: uuid.UUID | None = await self._loads.do(
            ("key", digest), lambda: self._load_tenant(key, digest)
        )
        return tenant

    async def _load_tenant(self, key: str, digest: str) -> uuid.UUID | None:
        async with self.sessions() as session:
            row = await session.scalar(
                select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            )
        if row is None or not matches(key, row.key_hash):
            return None
        self._tenants.put(digest, row.tenant_id)
        return row.tenant_id

    async def connection_for_token(self, tenant_id: uuid.UUID, token: str) -> ConnectionInfo | None:
        """The tenant's connection for this token; another tenant's token is like no token."""
        digest = hash_secret(token)
        info = self._connections.get(digest) or await self._loads.do(
            ("token", digest), lambda: self._load_connection(token, digest)
        )
        return info if info is not None and info.tenant_id == tenant_id else None

    async def _load_connection(self, token: str, digest: str) -> ConnectionInfo | None:
        async with self.sessions() as session:
            row = await session.scalar(select(Connection).where(Connection.token_hash == digest))
        if row is None or not matches(token, row.token_hash):
            return None
        info = ConnectionInfo.of(row)
        self._connections.put(digest, info)
        return info

    async def connection_for_webhook(self, secret: str) -> ConnectionInfo | None:
        digest = hash_secret(secret)
        async with self.sessions() as session:
            row = await session.scalar(
                select(Connection).where(Connection.webhook_secret_hash == digest)
            )
        if (
            row is None
            or row.webhook_secret_hash is None
            or not matches(secret, row.webhook_secret_hash)
        ):
            return None
        return ConnectionInfo.of(row)

    async def create_connection(
        self,
        tenant_id: uuid.UUID,
        *,
        connector: str,
        account_key: str,
        settings: dict[str, Any],
        end_user_origin_id: str | None = None,
        end_user_org_name: str | None = None,
    ) -> tuple[ConnectionInfo, str, str]:
        """Store a connection; returns it, its connector token and its webhook secret (once).
        ``connection.created`` goes out in the same transaction."""
        token = new_secret(CONNECTOR_TOKEN_PREFIX)
        webhook_secret = new_secret(WEBHOOK_SECRET_PREFIX)
        now = utcnow()
        row = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            connector=connector,
            account_key=account_key,
            token_hash=hash_secret(token),
            token_hint=hint(token),
            webhook_secret_hash=hash_secret(webhook_secret),
            settings_encrypted=self.cipher.encrypt(json.dumps(settings).encode()),
            created_at=now,
            end_user_origin_id=end_user_origin_id,
            end_user_org_name=end_user_org_name,
        )
        async with self.sessions.begin() as session:
            session.add(row)
            await session.flush()
            info = ConnectionInfo.of(row)
            events = await EventBatch.open(session, tenant_id=tenant_id)
            events.add("connection.created", info.event_data())
            await events.write(session, now=now)
        return info, token, webhook_secret

    async def relink(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        *,
        connector: str,
        account_key: str,
        settings: dict[str, Any],
    ) -> ConnectionInfo:
        """New credentials for the same vendor account (ids derive from the account, so
        another account would need another connection). Token and webhook URL stay.

        Raises LookupError when the tenant has no such connection, ValueError when the
        settings name another connector or account.
        """
        now = utcnow()
        async with self.sessions.begin() as session:
            row = await session.get(Connection, connection_id, with_for_update=True)
            if row is None or row.tenant_id != tenant_id:
                raise LookupError("no such connection")
            if row.connector != connector or row.account_key != account_key:
                raise ValueError(
                    "these credentials are for another account than the connection's: "
                    "link it as a new connection instead"
                )
            row.settings_encrypted = self.cipher.encrypt(json.dumps(settings).encode())
            await session.flush()
            info = ConnectionInfo.of(row)
            events = await EventBatch.open(session, tenant_id=tenant_id)
            events.add("connection.relinked", info.event_data())
            await events.write(session, now=now)
        self.forget_credentials()
        return info

    async def connections(self, tenant_id: uuid.UUID) -> list[ConnectionInfo]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Connection)
                .where(Connection.tenant_id == tenant_id)
                .order_by(Connection.created_at)
            )
            return [ConnectionInfo.of(row) for row in rows]

    async def all_connections(self) -> list[ConnectionInfo]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Connection).order_by(Connection.created_at))
            return [ConnectionInfo.of(row) for row in rows]

    async def connection(self, connection_id: uuid.UUID) -> ConnectionInfo | None:
        async with self.sessions() as session:
            row = await session.get(Connection, connection_id)
        return ConnectionInfo.of(row) if row else None

    async def settings_of(self, connection_id: uuid.UUID) -> dict[str, Any]:
        async with self.sessions() as session:
            row = await session.get(Connection, connection_id)
        if row is None:
            raise LookupError("no such connection")
        settings: dict[str, Any] = json.loads(self.cipher.decrypt(row.settings_encrypted))
        return settings

    async def rotate_token(self, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> str | None:
        token = new_secret(CONNECTOR_TOKEN_PREFIX)
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(Connection)
                .where(Connection.id == connection_id, Connection.tenant_id == tenant_id)
                .values(token_hash=hash_secret(token), token_hint=hint(token))
            )
        self.forget_credentials()
        return token if result.rowcount else None  # type: ignore[attr-defined]

    async def rotate_webhook_secret(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> str | None:
        secret = new_secret(WEBHOOK_SECRET_PREFIX)
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(Connection)
                .where(Connection.id == connection_id, Connection.tenant_id == tenant_id)
                .values(webhook_secret_hash=hash_secret(secret))
            )
        return secret if result.rowcount else None  # type: ignore[attr-defined]

    async def delete_connection(self, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> bool:
        """Delete the connection and (by cascade, and explicitly for SQLite) all its data."""
        from unified_ats.store.tables import AttachmentRow, CandidateRow

        async with self.sessions.begin() as session:
            row = await session.get(Connection, connection_id)
            if row is None or row.tenant_id != tenant_id:
                return False
            await session.execute(
                delete(AttachmentRow).where(AttachmentRow.connection_id == connection_id)
            )
            await session.execute(
                delete(CandidateRow).where(CandidateRow.connection_id == connection_id)
            )
            events = await EventBatch.open(session, tenant_id=tenant_id)
            events.add("connection.deleted", ConnectionInfo.of(row).event_data())
            await session.delete(row)
            await events.write(session, now=utcnow())
        self.forget_credentials()
        return True

    async def mark_full_sync(self, connection_id: uuid.UUID, started_at: datetime) -> None:
        """Records a complete enumeration (callers also drop their read cache for it)."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(last_full_sync_at=started_at)
            )


__all__ = ["Accounts", "ConnectionInfo", "TenantInfo", "utcnow"]
