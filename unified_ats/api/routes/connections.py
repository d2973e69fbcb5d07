"""``/api/ats/v1/connections``: a tenant links its ATS accounts (API key only, no token)."""

import uuid

from fastapi import APIRouter, Request, Response, status

from unified_ats.api.deps import ServicesDep, TenantDep
from unified_ats.api.errors import ApiError, BadRequest, NotFoundError
from unified_ats.api.idempotency import IdempotencyKey, idempotent, model_response
from unified_ats.api.models import (
    ConnectionCreate,
    ConnectionCreated,
    ConnectionOut,
    ConnectorOut,
    TokenRotated,
    WebhookSecretRotated,
)
from unified_ats.api.responses import VENDOR_ERRORS, errors
from unified_ats.onboarding import CredentialsRejected, SettingsRejected, connect
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.idempotency import scope_of

router = APIRouter(prefix="/api/ats/v1", tags=["connections"])


class InvalidSettings(ApiError):
    status_code = 422


def out(connection: ConnectionInfo) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        connector=connection.connector,
        account=connection.account_key,
        token_hint=connection.token_hint,
        created_at=connection.created_at,
        last_full_sync_at=connection.last_full_sync_at,
        end_user_origin_id=connection.end_user_origin_id,
        end_user_org_name=connection.end_user_org_name,
    )


def webhook_url(services: ServicesDep, request: Request, secret: str) -> str:
    base = services.settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/webhooks/{secret}"


@router.get("/connectors", response_model=list[ConnectorOut], responses=errors(401))
async def connectors_list(services: ServicesDep, tenant: TenantDep) -> list[ConnectorOut]:
    """The connectors this server offers, with the JSON Schema of their settings."""
    return [
        ConnectorOut(
            name=cls.name,
            display_name=cls.display_name,
            capabilities=sorted(cls.capabilities),
            settings_schema=cls.settings_model.model_json_schema(),
        )
        for cls in services.pool.registry.all()
    ]


@router.post(
    "/connections",
    response_model=ConnectionCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 409, 422, *VENDOR_ERRORS),
)
async def connections_create(
    body: ConnectionCreate,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Check the credentials with the vendor, store them encrypted, start the first sync.
    With an Idempotency-Key, a retry gets the same connection (its answer is kept encrypted)."""

    async def run(look_up_first: bool) -> Response:
        try:
            connection, token, secret = await connect(
                services, tenant, body.connector, body.settings
            )
        except SettingsRejected as exc:
            if exc.errors:
                # FastAPI's 422 list form, located under the body's `settings`, without values.
                raise InvalidSettings(
                    [{**e, "loc": ["body", "settings", *e["loc"]]} for e in exc.errors]
                ) from None
            raise BadRequest(str(exc)) from None
        except CredentialsRejected as exc:
            raise BadRequest(str(exc)) from None
        created = ConnectionCreated(
            **out(connection).model_dump(),
            connector_token=token,
            webhook_url=webhook_url(services, request, secret),
        )
        return model_response(created, status.HTTP_201_CREATED)

    return await idempotent(request, services, scope_of(None, tenant), idempotency_key, run)


@router.get("/connections", response_model=list[ConnectionOut], responses=errors(401))
async def connections_list(services: ServicesDep, tenant: TenantDep) -> list[ConnectionOut]:
    return [out(c) for c in await services.accounts.connections(tenant)]


@router.delete(
    "/connections/{connection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 404, 422),
)
async def connections_delete(
    connection_id: uuid.UUID, services: ServicesDep, tenant: TenantDep
) -> Response:
    """Delete the connection and purge everything stored for it (a running sync stops)."""
    # Ownership first: the delete is scoped to the tenant, and only then is memory touched.
    if not await services.accounts.delete_connection(tenant, connection_id):
        raise NotFoundError("no such connection")
    await services.pool.evict(connection_id)
    services.records.forget(connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/connections/{connection_id}/rotate-token",
    response_model=TokenRotated,
    responses=errors(401, 404, 409, 422),
)
async def connections_rotate_token(
    connection_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A new token; the previous one stops working now. With an Idempotency-Key, a retry gets
    the same new token instead of rotating twice."""

    async def run(look_up_first: bool) -> Response:
        token = await services.accounts.rotate_token(tenant, connection_id)
        if token is None:
            raise NotFoundError("no such connection")
        return model_response(TokenRotated(connector_token=token))

    return await idempotent(request, services, scope_of(None, tenant), idempotency_key, run)


@router.post(
    "/connections/{connection_id}/rotate-webhook-secret",
    response_model=WebhookSecretRotated,
    responses=errors(401, 404, 409, 422),
)
async def connections_rotate_webhook_secret(
    connection_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A new webhook URL (e.g. after the old one leaked); give it to the vendor."""

    async def run(look_up_first: bool) -> Response:
        secret = await services.accounts.rotate_webhook_secret(tenant, connection_id)
        if secret is None:
            raise NotFoundError("no such connection")
        rotated = WebhookSecretRotated(webhook_url=webhook_url(services, request, secret))
        return model_response(rotated)

    return await idempotent(request, services, scope_of(None, tenant), idempotency_key, run)
