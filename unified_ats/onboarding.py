"""Linking an ATS account: validate settings, check them with the vendor, store, first sync.

Shared by the API route and the operator CLI.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from connectors import AuthFailed
from unified_ats.connector_pool import SettingsRejected
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo


class CredentialsRejected(Exception):
    """The vendor refused the submitted credentials."""


async def connect(
    services: Services,
    tenant: uuid.UUID,
    connector_name: str,
    raw_settings: Mapping[str, Any],
    *,
    sync_now: bool = True,
) -> tuple[ConnectionInfo, str, str]:
    """Returns the connection, its connector token and its webhook secret (shown once).

    Raises SettingsRejected, CredentialsRejected, or the vendor's ConnectorError.
    """
    settings = services.pool.validate_settings(connector_name, raw_settings)
    connector = services.pool.build(connector_name, settings)
    try:
        await connector.verify_credentials()
    except AuthFailed:
        raise CredentialsRejected(f"{connector.display_name} rejected these credentials") from None
    finally:
        await connector.aclose()
    connection, token, webhook_secret = await services.accounts.create_connection(
        tenant,
        connector=connector_name,
        account_key=settings.account_key(),
        settings=settings.to_storage(),
    )
    if sync_now:
        await services.trigger_sync(connection.id)
    return connection, token, webhook_secret


__all__ = ["CredentialsRejected", "SettingsRejected", "connect"]
