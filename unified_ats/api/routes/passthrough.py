"""``POST /api/v1/passthrough``: a raw vendor request with the connection's credentials."""

from fastapi import APIRouter, Request, Response

from schemas.writes import PassthroughRequest, PassthroughResponse
from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.idempotency import IdempotencyKey, idempotent
from unified_ats.api.paging import reject_unknown_parameters
from unified_ats.api.responses import VENDOR_ERRORS, errors
from unified_ats.store.idempotency import scope_of
from unified_ats.writes.passthrough import passthrough

router = APIRouter(prefix="/api/v1", tags=["passthrough"])


@router.post(
    "/passthrough",
    response_model=PassthroughResponse,
    responses=errors(400, 401, 409, 422, *VENDOR_ERRORS),
    summary="Send a raw request to the connection's vendor API",
)
async def passthrough_request(
    body: PassthroughRequest,
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The path is relative to the vendor's API base URL (absolute URLs, `..` and other hosts
    are a 422); the connection's credentials are injected and the caller's own auth headers
    refused; the connector's rate limit applies. The vendor's status is in the body: a vendor
    404 is `{"status": 404, ...}` with our 200. Secrets are masked; the answer is bounded."""
    reject_unknown_parameters(request, set())
    connector = await services.pool.for_connection(connection)

    async def run(look_up_first: bool) -> Response:
        answer = await passthrough(connector, connection, body)
        return Response(answer.model_dump_json(), media_type="application/json")

    scope = scope_of(connection.id, connection.tenant_id)
    return await idempotent(request, services, scope, idempotency_key, run)
