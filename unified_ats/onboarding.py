"""Linking an ATS account: validate settings, check them with the vendor, store, first sync.

Shared by the API route, the hosted link page and the operator CLI.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors import AuthFailed
from unified_ats.connector_pool import SettingsRejected
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo


class CredentialsRejected(Exception):
    """The vendor refused the submitted credentials."""


@dataclass(frozen=True)
class Verified:
    """Settings the vendor accepted, as they may be stored (a password exchanged for a token
    is gone): ``repr`` never shows them."""

    connector: str
    account_key: str
    settings: dict[str, Any]

    def __repr__(self) -> str:
        return f"Verified(connector={self.connector!r}, account_key={self.account_key!r})"


async def verify(
    services: Services, connector_name: str, raw_settings: Mapping[str, Any]
) -> Verified:
    """Validate the settings and check them with the vendor.

    Raises SettingsRejected, CredentialsRejected, or the vendor's ConnectorError.
    """
    settings = services.pool.validate_settings(connector_name, raw_settings)
    connector = services.pool.build(connector_name, settings)
    try:
        await connector.verify_credentials()
        storable = connector.storable_settings()
    except AuthFailed:
        raise CredentialsRejected(f"{connector.display_name} rejected these credentials") from None
    finally:
        await connector.aclose()
    return Verified(connector_name, settings.account_key(), storable)


async def store(
    services: Services,
    tenant: uuid.UUID,
    verified: Verified,
    *,
    end_user_origin_id: str | None = None,
    end_user_org_name: str | None = None,
    sync_now: bool = True,
) -> tuple[ConnectionInfo, str, str]:
    """A new connection for verified settings: it, its connector token and its webhook secret
    (shown once)."""
    connection, token, webhook_secret = await services.accounts.create_connection(
        tenant,
        connector=verified.connector,
        account_key=verified.account_key,
        settings=verified.settings,
        end_user_origin_id=end_user_origin_id,
        end_user_org_name=end_user_org_name,
    )
    if sync_now:
        await services.trigger_sync(connection.id)
    return connection, token, webhook_secret


async def relink(
    services: Services,
    tenant: uuid.UUID,
    connection_id: uuid.UUID,
    verified: Verified,
    *,
    sync_now: bool = True,
) -> ConnectionInfo:
    """New credentials for an existing connection (same vendor account); its token and webhook
    URL keep working. Raises LookupError (no such connection of the tenant) or ValueError
    (another connector or account)."""
    connection = await services.accounts.relink(
        tenant,
        connection_id,
        connector=verified.connector,
        account_key=verified.account_key,
        settings=verified.settings,
    )
    await services.pool.evict(connection_id)  # the next use builds it with the new settings
    if sync_now:
        await services.trigger_sync(connection_id)
    return connection


async def connect(
    services: Services,
    tenant: uuid.UUID,
    connector_name: str,
    raw_settings: Mapping[str, Any],
    *,
    sync_now: bool = True,
    end_user_origin_id: str | None = None,
    end_user_org_name: str | None = None,
) -> tuple[ConnectionInfo, str, str]:
    """Returns the connection, its connector token and its webhook secret (shown once).

    Raises SettingsRejected, CredentialsRejected, or the vendor's ConnectorError.
    """
    verified = await verify(services, connector_name, raw_settings)
    return await store(
        services,
        tenant,
        verified,
        end_user_origin_id=end_user_origin_id,
        end_user_org_name=end_user_org_name,
        sync_now=sync_now,
    )


__all__ = [
    "CredentialsRejected",
    "SettingsRejected",
    "Verified",
    "connect",
    "relink",
    "store",
    "verify",
]
