"""``/api/ats/v1/attachments``: metadata from the store, files streamed through the connector."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from schemas import Attachment, Page
from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.lean import LeanRoute
from unified_ats.api.paging import Cursors, reject_unknown_parameters
from unified_ats.api.responses import (
    VENDOR_ERRORS,
    errors,
    file_response,
    json_response,
    shape_attachment,
    single_read,
)
from unified_ats.api.streaming import stream_file

# Hot reads: resolved in one step (see api.lean).
router = APIRouter(prefix="/api/ats/v1", tags=["attachments"], route_class=LeanRoute)


@router.get(
    "/attachments",
    response_model=Page[Attachment],
    responses=errors(400, 401, 422),
    summary="List attachments",
)
async def attachments_list(
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    candidate: Annotated[uuid.UUID | None, Query(description="A candidate's unified id.")] = None,
    cursor: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    include_deleted: bool = False,
) -> Response:
    reject_unknown_parameters(
        request,
        {
            "candidate",
            "cursor",
            "page_size",
            "include_raw_data",
            "include_custom_fields",
            "include_deleted",
        },
    )
    cursors = Cursors.for_request(services.signing_key, request, connection.id)
    after = cursors.decode(cursor)
    stored = await services.records.attachments(
        connection.id,
        candidate_id=candidate,
        include_deleted=include_deleted,
        after=after,
        limit=page_size + 1,
    )
    page = Page[Attachment](
        cursor=cursors.encode(stored[page_size - 1].seq) if len(stored) > page_size else None,
        page_size=page_size,
        items=[
            shape_attachment(
                services, request, s.model, raw=include_raw_data, custom=include_custom_fields
            )
            for s in stored[:page_size]
        ],
    )
    return json_response(page.model_dump_json())


@router.get(
    "/attachments/{attachment_id}",
    response_model=Attachment,
    responses=single_read("attachment"),
    summary="Retrieve an attachment",
)
async def attachments_get(
    request: Request,
    attachment_id: uuid.UUID,
    services: ServicesDep,
    connection: ConnectionDep,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
) -> Response:
    reject_unknown_parameters(request, {"include_raw_data", "include_custom_fields"})
    served = await services.reads.attachment(connection, attachment_id)
    attachment = shape_attachment(
        services, request, served.model, raw=include_raw_data, custom=include_custom_fields
    )
    return json_response(attachment.model_dump_json(), served=served, request=request)


@router.get(
    "/attachments/{attachment_id}/download",
    responses={
        200: file_response("The file, streamed, with its own content type."),
        **errors(400, 401, 404, 422, 501, *VENDOR_ERRORS),
    },
    response_class=StreamingResponse,
    summary="Download an attachment's file",
)
async def attachments_download(
    request: Request,
    attachment_id: uuid.UUID,
    services: ServicesDep,
    connection: ConnectionDep,
) -> StreamingResponse:
    reject_unknown_parameters(request, set())
    served = await services.reads.attachment(connection, attachment_id)
    connector = await services.pool.for_connection(connection)
    return await stream_file(
        services.reads.opened(connector.download_attachment(served.model.remote_id or "")),
        file_name=served.model.file_name,
    )
