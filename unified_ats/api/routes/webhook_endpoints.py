"""``/api/v1/webhooks``: where a tenant's events go (API key only), and their delivery log."""

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas import Page
from unified_ats.api.deps import ServicesDep, TenantDep
from unified_ats.api.errors import NotFoundError, Unprocessable
from unified_ats.api.idempotency import IdempotencyKey, idempotent, model_response
from unified_ats.api.paging import Cursors
from unified_ats.api.responses import errors
from unified_ats.events.catalog import EVENT_TYPES, filter_problem
from unified_ats.events.endpoints import EndpointInfo
from unified_ats.events.log import DeliveryRecord
from unified_ats.events.targets import TargetRefused, url_problem
from unified_ats.store.idempotency import scope_of

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

DeliveryState = Literal["pending", "succeeded", "failed", "cancelled"]


def _checked_url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _checked_filters(value: list[str]) -> list[str]:
    for pattern in value:
        problem = filter_problem(pattern)
        if problem:
            raise ValueError(f"{problem}; see GET /api/v1/webhooks/event-types")
    return list(dict.fromkeys(value))


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="Where events are POSTed (http or https).")
    events: list[str] = Field(
        default=["*"],
        min_length=1,
        max_length=100,
        description="Which events: exact types (`sync.failed`), families (`candidate.*`) or "
        "`*` for all.",
    )
    description: str = Field(default="", max_length=500)
    enabled: bool = True

    _url = field_validator("url")(_checked_url)
    _events = field_validator("events")(_checked_filters)


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None, description="Enabling a disabled endpoint starts its failure clock over."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _checked_url(value)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _checked_filters(value)


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (by you or by failures).")
    failing_since: datetime | None = Field(
        description="First failed delivery since the last success; five days of failures "
        "disable the endpoint."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Bodies are also signed with the previous secret until then."
    )
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(
        description="`whsec_…`: verifies `webhook-signature` (Standard Webhooks). Shown once."
    )


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: int = Field(
        default=86400,
        ge=0,
        le=7 * 86400,
        description="How long bodies are signed with both the old and the new secret.",
    )


class SecretRotated(BaseModel):
    secret: str = Field(description="The new `whsec_…` secret. Shown once.")
    previous_secret_expires_at: datetime | None


class EventTypeOut(BaseModel):
    type: str
    description: str


class DeliveryAttempt(BaseModel):
    at: datetime
    status: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(description="Why it failed; null on success.")
    latency_ms: float


class DeliveryOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    state: DeliveryState = Field(
        description="`pending` (will be tried at `next_attempt_at`), `succeeded`, `failed` "
        "(every retry failed), `cancelled` (its endpoint was disabled)."
    )
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    latency_ms: float | None = Field(description="Of the last attempt.")
    response_body: str | None = Field(description="At most 1 KB of the last answer.")
    attempt_log: list[DeliveryAttempt]
    payload: dict[str, object] = Field(description="The body sent: `{type, timestamp, data}`.")
    created_at: datetime


def endpoint_out(info: EndpointInfo) -> EndpointOut:
    return EndpointOut(**info.__dict__)


def delivery_out(record: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut(
        id=record.id,
        event_id=uuid.UUID(record.event_id),
        event_type=record.event_type,
        state=record.state,
        attempts=record.attempts,
        next_attempt_at=record.next_attempt_at,
        last_attempt_at=record.last_attempt_at,
        last_status=record.last_status,
        last_error=record.last_error,
        latency_ms=record.latency_ms,
        response_body=record.response_body,
        attempt_log=[DeliveryAttempt.model_validate(a) for a in record.history],
        payload=record.payload,
        created_at=record.created_at,
    )


async def reachable(services: ServicesDep, url: str) -> None:
    """Refused now rather than failing for days: private targets the operator did not allow."""
    try:
        await services.delivery.policy.resolve(url)
    except TargetRefused as exc:
        raise Unprocessable(["body", "url"], "value_error", str(exc)) from None


@router.get("/event-types", response_model=list[EventTypeOut], responses=errors(401))
async def webhooks_event_types(tenant: TenantDep) -> list[EventTypeOut]:
    """Every event type an endpoint can subscribe to."""
    return [EventTypeOut(type=t, description=d) for t, d in EVENT_TYPES.items()]


@router.post(
    "",
    response_model=EndpointCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 409, 422),
)
async def webhooks_create(
    body: EndpointCreate,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Subscribe a URL to events. The `secret` in the answer is shown this once; with an
    Idempotency-Key, a retry gets the same endpoint and secret."""

    async def run(look_up_first: bool) -> Response:
        await reachable(services, body.url)
        info, secret = await services.webhooks.create(
            tenant,
            url=body.url,
            events=body.events,
            description=body.description,
            enabled=body.enabled,
        )
        created = EndpointCreated(**endpoint_out(info).model_dump(), secret=secret)
        return model_response(created, status.HTTP_201_CREATED)

    return await idempotent(request, services, scope_of(None, tenant), idempotency_key, run)


@router.get("", response_model=list[EndpointOut], responses=errors(401))
async def webhooks_list(services: ServicesDep, tenant: TenantDep) -> list[EndpointOut]:
    return [endpoint_out(i) for i in await services.webhooks.of_tenant(tenant)]


@router.get("/{endpoint_id}", response_model=EndpointOut, responses=errors(401, 404, 422))
async def webhooks_get(
    endpoint_id: uuid.UUID, services: ServicesDep, tenant: TenantDep
) -> EndpointOut:
    info = await services.webhooks.get(tenant, endpoint_id)
    if info is None:
        raise NotFoundError("no such webhook endpoint")
    return endpoint_out(info)


@router.patch("/{endpoint_id}", response_model=EndpointOut, responses=errors(400, 401, 404, 422))
async def webhooks_update(
    endpoint_id: uuid.UUID, body: EndpointUpdate, services: ServicesDep, tenant: TenantDep
) -> EndpointOut:
    """Change the URL, the filters, the description, or enable/disable it."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if await services.webhooks.get(tenant, endpoint_id) is None:
        raise NotFoundError("no such webhook endpoint")
    if "url" in changes:
        await reachable(services, changes["url"])
    info = await services.webhooks.update(tenant, endpoint_id, changes)
    if info is None:
        raise NotFoundError("no such webhook endpoint")
    return endpoint_out(info)


@router.delete(
    "/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422)
)
async def webhooks_delete(
    endpoint_id: uuid.UUID, services: ServicesDep, tenant: TenantDep
) -> Response:
    """Stop sending to it; its pending deliveries and log go with it."""
    if not await services.webhooks.delete(tenant, endpoint_id):
        raise NotFoundError("no such webhook endpoint")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=SecretRotated,
    responses=errors(400, 401, 404, 409, 422),
)
async def webhooks_rotate_secret(
    endpoint_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    body: SecretRotate | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A new secret. During the overlap each body carries two signatures (old and new), so
    a receiver can switch secrets without refusing a delivery."""
    overlap = timedelta(seconds=(body or SecretRotate()).overlap_seconds)

    async def run(look_up_first: bool) -> Response:
        rotated = await services.webhooks.rotate_secret(tenant, endpoint_id, overlap=overlap)
        if rotated is None:
            raise NotFoundError("no such webhook endpoint")
        secret, ends = rotated
        return model_response(SecretRotated(secret=secret, previous_secret_expires_at=ends))

    return await idempotent(request, services, scope_of(None, tenant), idempotency_key, run)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=errors(400, 401, 404, 422),
)
async def webhooks_deliveries_list(
    endpoint_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    state: DeliveryState | None = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[DeliveryOut]:
    """The endpoint's deliveries, newest first: state, attempts with status and latency, and
    the body sent (kept for `UNIFIED_ATS_WEBHOOK_RETENTION_DAYS`)."""
    cursors = Cursors.for_request(services.signing_key, request, endpoint_id)
    before = cursors.decode(cursor)
    records = await services.deliveries.page(
        tenant, endpoint_id, before=before, limit=page_size, state=state, event_type=event_type
    )
    if records is None:
        raise NotFoundError("no such webhook endpoint")
    following = cursors.encode(records[-1].seq) if len(records) == page_size else None
    return Page[DeliveryOut](
        cursor=following, page_size=page_size, items=[delivery_out(r) for r in records]
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(401, 404, 409, 422),
)
async def webhooks_redeliver(
    endpoint_id: uuid.UUID, delivery_id: uuid.UUID, services: ServicesDep, tenant: TenantDep
) -> DeliveryOut:
    """Send this event again now, with the same `webhook-id` (receivers dedupe on it)."""
    record = await services.deliveries.redeliver(tenant, endpoint_id, delivery_id)
    if record is None:
        raise NotFoundError("no such delivery")
    services.delivery.wake.set()
    return delivery_out(record)
