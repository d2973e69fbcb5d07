"""``/api/ats/v1/candidates``: thin routes over the store and the freshness rules."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from connectors import Capability
from schemas import Candidate, Page
from unified_ats.api.deps import ConnectionDep, ServicesDep, get_services
from unified_ats.api.errors import NotFoundError
from unified_ats.api.expand import expand_description, parse_expand
from unified_ats.api.lean import LeanRoute
from unified_ats.api.listing import View, check_honoured, parse_ids, utc
from unified_ats.api.paging import Cursors, reject_unknown_parameters
from unified_ats.api.responses import (
    BINARY,
    VENDOR_ERRORS,
    CacheControl,
    errors,
    no_cache,
    single_read,
)
from unified_ats.api.streaming import stream_file
from unified_ats.reads import Served
from unified_ats.store.records import CandidateQuery, Stored, StoredText

# Hot reads: resolved in one step (see api.lean).
router = APIRouter(prefix="/api/ats/v1", tags=["candidates"], route_class=LeanRoute)

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
    "expand",
    *FILTER_NEEDS,
}
ExpandQuery = Annotated[str | None, Query(description=expand_description("candidates"))]


@router.get(
    "/candidates",
    response_model=Page[Candidate],
    responses=errors(400, 401, 422, *VENDOR_ERRORS),
    summary="List candidates",
)
async def candidates_list(
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
    expand: ExpandQuery = None,
) -> Response:
    reject_unknown_parameters(request, LIST_PARAMETERS)
    relations = parse_expand("candidates", expand)
    requested = {
        "email_addresses": email_addresses,
        "first_name": first_name,
        "last_name": last_name,
        "tag": tag,
        "created_after": created_after,
    }
    check_honoured(
        services,
        connection,
        "candidates",
        {name: (value, FILTER_NEEDS[name]) for name, value in requested.items()},
    )
    cursors = Cursors.for_request(services.signing_key, request, connection.id)
    after = cursors.decode(cursor)
    query = CandidateQuery(
        ids=parse_ids(ids),
        remote_id=remote_id,
        email=email_addresses,
        first_name=first_name,
        last_name=last_name,
        tag=tag,
        modified_after=utc(modified_after, "modified_after"),
        modified_before=utc(modified_before, "modified_before"),
        created_after=utc(created_after, "created_after"),
        include_deleted=include_deleted,
    )
    view = View(services, request, connection, include_raw_data, include_custom_fields, relations)
    stored: Sequence[Stored[Candidate] | StoredText]
    if query == CandidateQuery() and view.serves_stored_text("candidates"):
        stored = await services.records.candidate_texts(
            connection.id, after=after, limit=page_size + 1
        )
    else:
        stored = await services.records.candidates(
            connection.id, query, after=after, limit=page_size + 1
        )
    if remote_id is not None and not stored and after == 0:
        # Asked of the vendor: models, served like the stored ones.
        found = await services.reads.by_remote_id(connection, remote_id)
        documents = [Served(candidate, None).document(view.without) for candidate in found]
        return await view.page_of_documents(
            "candidates", documents, cursor=None, page_size=page_size
        )
    next_cursor = cursors.encode(stored[page_size - 1].seq) if len(stored) > page_size else None
    return await view.page_of_stored(
        "candidates", stored[:page_size], cursor=next_cursor, page_size=page_size
    )


@router.get(
    "/candidates/{candidate_id}",
    response_model=Candidate,
    responses=single_read("candidate"),
    summary="Retrieve a candidate",
)
async def candidates_get(
    request: Request,
    candidate_id: uuid.UUID,
    connection: ConnectionDep,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    expand: ExpandQuery = None,
    cache_control: CacheControl = None,
) -> Response:
    reject_unknown_parameters(request, {"include_raw_data", "include_custom_fields", "expand"})
    relations = parse_expand("candidates", expand)
    services = get_services(request)  # not a dependency: this is the hottest route
    served = await services.reads.candidate(
        connection, candidate_id, force_refresh=no_cache(cache_control)
    )
    view = View(services, request, connection, include_raw_data, include_custom_fields, relations)
    return await view.one("candidates", served)


@router.get(
    "/candidates/{candidate_id}/avatar",
    responses={
        200: {
            # octet-stream when the vendor names no type; generated clients read it as bytes.
            "content": {"image/*": BINARY, "application/octet-stream": BINARY},
            "description": "The photo, streamed.",
        },
        **errors(400, 401, 404, 422, 501, *VENDOR_ERRORS),
    },
    response_class=StreamingResponse,
    summary="Download a candidate's photo (vendors whose photo URL needs credentials)",
)
async def candidates_avatar(
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
