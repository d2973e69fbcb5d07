"""Builds and caches one connector per connection, all sharing one rate limiter.

Sharing the limiter matters: two requests for the same Flatchr company, through any
connection, must queue behind the same 1 request/s slot.
"""

import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from connectors import Connector, ConnectorRegistry, ConnectorSettings, IdScope, RateLimiter
from connectors.sdk.http import RetryPolicy
from connectors.sdk.registry import ConnectorLoadError, UnknownConnector
from unified_ats.store.accounts import Accounts, ConnectionInfo


class SettingsRejected(ValueError):
    """Connection settings that do not validate; ``errors`` holds no submitted values."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def scrub_validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the submitted input (it may be a credential)."""
    return [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


class ConnectorPool:
    def __init__(
        self,
        accounts: Accounts,
        registry: ConnectorRegistry,
        *,
        limiter: RateLimiter,
        allow_base_url_override: bool,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.accounts = accounts
        self.registry = registry
        self.limiter = limiter
        self.allow_base_url_override = allow_base_url_override
        self.transports = dict(transports or {})
        self.retry = retry
        self._cache: dict[uuid.UUID, Connector[Any]] = {}

    def connector_class(self, name: str) -> type[Connector[ConnectorSettings]]:
        try:
            return self.registry.get(name)
        except UnknownConnector as exc:
            known = ", ".join(self.registry.names())
            raise SettingsRejected(f"unknown connector {name!r}; available: {known}") from exc
        except ConnectorLoadError as exc:
            raise SettingsRejected(f"connector {name!r} is not available on this server") from exc

    def validate_settings(self, name: str, raw: Mapping[str, Any]) -> ConnectorSettings:
        cls = self.connector_class(name)
        if "base_url" in raw and not self.allow_base_url_override:
            raise SettingsRejected("base_url cannot be set on this server")
        try:
            return cls.settings_model.model_validate(dict(raw))
        except ValidationError as exc:
            raise SettingsRejected(
                f"invalid settings for {name}", scrub_validation_errors(exc)
            ) from None

    def build(
        self, name: str, settings: ConnectorSettings, *, scope: uuid.UUID | None = None
    ) -> Connector[Any]:
        cls = self.connector_class(name)
        return cls(
            settings,
            transport=self.transports.get(name),
            limiter=self.limiter,
            retry=self.retry,
            id_scope=IdScope(scope) if scope else None,
        )

    async def for_connection(self, connection: ConnectionInfo) -> Connector[Any]:
        cached = self._cache.get(connection.id)
        if cached is not None:
            return cached
        raw = await self.accounts.settings_of(connection.id)
        settings = self.connector_class(connection.connector).settings_model.model_validate(raw)
        connector = self.build(connection.connector, settings, scope=connection.id)
        self._cache[connection.id] = connector
        return connector

    async def evict(self, connection_id: uuid.UUID) -> None:
        connector = self._cache.pop(connection_id, None)
        if connector is not None:
            await connector.aclose()

    async def aclose(self) -> None:
        for connection_id in list(self._cache):
            await self.evict(connection_id)
