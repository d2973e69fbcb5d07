"""Dependencies as ``Annotated`` aliases: services, the tenant (API key), the connection (token)."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from unified_ats.api.errors import Unauthorized
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="Your unified-ats API key (uats_sk_...): `Authorization: Bearer <api key>`.",
)
connector_token = APIKeyHeader(
    name="x-connector-token",
    auto_error=False,
    scheme_name="ConnectorToken",
    description="The connection's token (uats_ct_...), returned once when it was created.",
)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def services_of(request: Request) -> Services:
    # A coroutine on purpose: FastAPI runs a plain function dependency in its thread pool, and
    # that hand-off, on every request, cost more than the rest of resolving the request.
    return get_services(request)


ServicesDep = Annotated[Services, Depends(services_of)]


async def tenant_of(
    services: Services, credentials: HTTPAuthorizationCredentials | None
) -> uuid.UUID:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing API key: send Authorization: Bearer <api key>")
    tenant = await services.accounts.tenant_for_key(credentials.credentials)
    if tenant is None:
        raise Unauthorized("invalid API key")
    return tenant


async def get_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> uuid.UUID:
    return await tenant_of(get_services(request), credentials)


TenantDep = Annotated[uuid.UUID, Depends(get_tenant)]


async def get_connection(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    x_connector_token: Annotated[str | None, Security(connector_token)],
) -> ConnectionInfo:
    # One flat dependency (not tenant -> services -> ...): every data request resolves it, and
    # FastAPI's per-dependency cost dominated the read path's profile.
    services = get_services(request)
    tenant = await tenant_of(services, credentials)
    if not x_connector_token:
        raise Unauthorized("missing x-connector-token header")
    connection = await services.accounts.connection_for_token(tenant, x_connector_token)
    if connection is None:
        # Another tenant's token gets exactly this answer too: no oracle for valid tokens.
        raise Unauthorized("invalid connector token")
    return connection


ConnectionDep = Annotated[ConnectionInfo, Depends(get_connection)]


async def _connection_of(request: Request) -> ConnectionInfo:
    return await get_connection(request, await bearer(request), await connector_token(request))


async def _tenant_of(request: Request) -> uuid.UUID:
    return await get_tenant(request, await bearer(request))


RESOLVERS: dict[Callable[..., Any], Callable[[Request], Awaitable[Any]]] = {
    services_of: services_of,
    get_tenant: _tenant_of,
    get_connection: _connection_of,
}
"""Each dependency above as one call on the request: what ``api.lean`` routes resolve it with
(the same functions, without FastAPI's per-parameter machinery)."""
