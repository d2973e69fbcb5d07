"""``/api/ats/v1/candidates``: thin routes over the store and the freshness rules."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from connectors import Capability
from schemas import Candidate, Page, to_utc
from unified_ats.api.deps import ConnectionDep, ServicesDep, get_services
from unified_ats.api.errors import BadRequest, NotFoundError
from unified_ats.api.paging import decode_cursor, encode_cursor, reject_unknown_parameters
from unified_ats.api.responses import VENDOR_ERRORS, errors, shape_candidate
from unified_ats.api.streaming import stream_file
from unified_ats.reads import Served
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.records import CandidateQuery

router = APIRouter(prefix="/api/ats/v1", tags=["candidates"])

# Filter -> the unified field it needs. A connector that never fills it cannot honour it.
FILTER_NEEDS = {
    "email_addresses": "email_addresses",
    "first_name": "first_name",
    "last_name": "last_name",
    "tag": "tags",
    "created_after": "remote_created_at",
}
LIST_PARAMETERS = {
    "cursor",
    "page_size",
    "ids",
    "remote_id",
    "modified_after",
    "modified_before",
    "include_raw_data",
    "include_custom_fields",
    "include_deleted",
    *FILTER_NEEDS,
}


def avatar_url(
    services: Services, request: Request, connection: ConnectionInfo, candidate: Candidate
) -> str | None:
    """Our own avatar route, for vendors whose photo URL needs credentials (viasto)."""
    cls = services.pool.connector_class(connection.connector)
    if candidate.avatar is None or Capability.DOWNLOAD_AVATAR not in cls.capabilities:
        return candidate.avatar
    base = services.settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/api/ats/v1/candidates/{candidate.id}/avatar"


def shaped(
    services: Services,
    request: Request,
    connection: ConnectionInfo,
    candidate: Candidate,
    *,
    raw: bool,
    custom: bool,
) -> Candidate:
    shaped_candidate = shape_candidate(candidate, raw=raw, custom=custom)
    avatar = avatar_url(services, request, connection, candidate)
    if avatar == candidate.avatar:
        return shaped_candidate
    return shaped_candidate.model_copy(update={"avatar": avatar})


def json_response(body: str, *, served: Served[Any] | None = None) -> Response:
    headers: dict[str, str] = {}
    if served is not None and served.age_seconds is not None:
        headers["Age"] = str(served.age_seconds)
    if served is not None and served.stale is not None:
        headers["X-Stale-Reason"] = served.stale.value
    return Response(body, media_type="application/json", headers=headers)


FRESHNESS_HEADERS = {
    "Age": {
        "description": "Seconds since the vendor last confirmed this copy (absent: fetched now).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-Stale-Reason": {
        "description": "Present when a refresh was due but the stored copy was served instead: "
        "`vendor-timeout` (no answer within the read deadline) or `vendor-error`.",
        "schema": {"type": "string", "enum": ["vendor-timeout", "vendor-error"]},
    },
}


def check_honoured(
    services: Services, connection: ConnectionInfo, requested: dict[str, object]
) -> None:
    filled = services.pool.connector_class(connection.connector).candidate_fields
    refused = [
        name
        for name, value in requested.items()
        if value is not None and FILTER_NEEDS[name] not in filled
    ]
    if refused:
        raise BadRequest(
            f"{connection.connector} does not provide "
            f"{', '.join(FILTER_NEEDS[n] for n in refused)}; "
            f"filter(s) {', '.join(refused)} cannot be applied on this connection"
        )


def parse_ids(ids: str | None) -> list[uuid.UUID] | None:
    if ids is None:
        return None
    try:
        return [uuid.UUID(part.strip()) for part in ids.split(",") if part.strip()]
    except ValueError:
        raise BadRequest("ids must be a comma-separated list of UUIDs") from None


@router.get(
    "/candidates",
    response_model=Page[Candidate],
    responses=errors(400, 401, 422, *VENDOR_ERRORS),
    summary="List candidates",
)
async def list_candidates(
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    ids: Annotated[str | None, Query(description="Comma-separated unified ids.")] = None,
    remote_id: str | None = None,
    email_addresses: Annotated[str | None, Query(description="One e-mail address.")] = None,
    first_name: str | None = None,
    last_name: str | None = None,
    tag: str | None = None,
    modified_after: datetime | None = None,
    modified_before: datetime | None = None,
    created_after: datetime | None = None,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    include_deleted: bool = False,
) -> Response:
    reject_unknown_parameters(request, LIST_PARAMETERS)
    check_honoured(
        services,
        connection,
        {
            "email_addresses": email_addresses,
            "first_name": first_name,
            "last_name": last_name,
            "tag": tag,
            "created_after": created_after,
        },
    )
    after = decode_cursor(cursor)
    query = CandidateQuery(
        ids=parse_ids(ids),
        remote_id=remote_id,
        email=email_addresses,
        first_name=first_name,
        last_name=last_name,
        tag=tag,
        modified_after=to_utc(modified_after) if modified_after else None,
        modified_before=to_utc(modified_before) if modified_before else None,
        created_after=to_utc(created_after) if created_after else None,
        include_deleted=include_deleted,
    )
    stored = await services.records.candidates(
        connection.id, query, after=after, limit=page_size + 1
    )
    if remote_id is not None and not stored and after == 0:
        items = await services.reads.by_remote_id(connection, remote_id)
        next_cursor = None
    else:
        items = [s.model for s in stored[:page_size]]
        next_cursor = encode_cursor(stored[page_size - 1].seq) if len(stored) > page_size else None
    page = Page[Candidate](
        cursor=next_cursor,
        page_size=page_size,
        items=[
            shaped(
                services, request, connection, c, raw=include_raw_data, custom=include_custom_fields
            )
            for c in items
        ],
    )
    return json_response(page.model_dump_json())


@router.get(
    "/candidates/{candidate_id}",
    response_model=Candidate,
    responses={
        **errors(400, 401, 404, 422, *VENDOR_ERRORS),
        200: {"description": "The candidate.", "headers": FRESHNESS_HEADERS},
    },
    summary="Retrieve a candidate",
)
async def get_candidate(
    request: Request,
    candidate_id: uuid.UUID,
    connection: ConnectionDep,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    cache_control: Annotated[
        str | None, Header(description="`no-cache` forces a refresh from the vendor.")
    ] = None,
) -> Response:
    reject_unknown_parameters(request, {"include_raw_data", "include_custom_fields"})
    services = get_services(request)  # not a dependency: this is the hottest route
    force = cache_control is not None and "no-cache" in cache_control.lower()
    served = await services.reads.candidate(connection, candidate_id, force_refresh=force)
    candidate = shaped(
        services,
        request,
        connection,
        served.model,
        raw=include_raw_data,
        custom=include_custom_fields,
    )
    return json_response(candidate.model_dump_json(), served=served)


@router.get(
    "/candidates/{candidate_id}/avatar",
    responses={
        200: {"content": {"image/*": {}}, "description": "The photo, streamed."},
        **errors(400, 401, 404, 422, 501, *VENDOR_ERRORS),
    },
    response_class=StreamingResponse,
    summary="Download a candidate's photo (vendors whose photo URL needs credentials)",
)
async def get_avatar(
    request: Request, candidate_id: uuid.UUID, services: ServicesDep, connection: ConnectionDep
) -> StreamingResponse:
    reject_unknown_parameters(request, set())
    served = await services.reads.candidate(connection, candidate_id, force_refresh=False)
    cls = services.pool.connector_class(connection.connector)
    if served.model.avatar is None or Capability.DOWNLOAD_AVATAR not in cls.capabilities:
        raise NotFoundError("this candidate has no photo served here")
    connector = await services.pool.for_connection(connection)
    return await stream_file(
        services.reads.opened(connector.download_avatar(served.model.remote_id or "")),
        file_name=None,
        inline=True,
    )
