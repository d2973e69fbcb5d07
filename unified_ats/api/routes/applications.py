"""``/api/ats/v1/applications``: thin routes over the store and the freshness rules (an
application is refreshed with its candidate: the vendor keeps both in one record)."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from schemas import Application, Page
from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.expand import expand_description, parse_expand
from unified_ats.api.lean import LeanRoute
from unified_ats.api.listing import (
    View,
    check_honoured,
    parse_ids,
    utc,
)
from unified_ats.api.paging import reject_unknown_parameters
from unified_ats.api.responses import (
    CacheControl,
    errors,
    no_cache,
    single_read,
)
from unified_ats.api.routes.jobs import COMMON, SHAPING, Ids, IncludeDeleted, PageSize
from unified_ats.store.records import RecordQuery

# Hot reads: resolved in one step (see api.lean).
router = APIRouter(prefix="/api/ats/v1", tags=["applications"], route_class=LeanRoute)

ApplicationExpand = Annotated[str | None, Query(description=expand_description("applications"))]
IdList = "Comma-separated unified ids of {}."
RELATION_FILTERS = {"candidate": "candidate_id", "job": "job_id", "current_stage": "stage_id"}
LIST_PARAMETERS = {
    *COMMON,
    *SHAPING,
    *RELATION_FILTERS,
    "created_after",
    "created_before",
    "include_deleted",
    "expand",
}


@router.get(
    "/applications",
    response_model=Page[Application],
    responses=errors(400, 401, 422),
    operation_id="applications_list",
    summary="List applications",
)
async def applications_list(
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    cursor: str | None = None,
    page_size: PageSize = 50,
    ids: Ids = None,
    remote_id: str | None = None,
    candidate: Annotated[str | None, Query(description=IdList.format("candidates"))] = None,
    job: Annotated[str | None, Query(description=IdList.format("jobs"))] = None,
    current_stage: Annotated[
        str | None, Query(description=IdList.format("job interview stages"))
    ] = None,
    created_after: Annotated[
        datetime | None, Query(description="Applied after this instant (`applied_at`).")
    ] = None,
    created_before: Annotated[
        datetime | None, Query(description="Applied before this instant (`applied_at`).")
    ] = None,
    modified_after: Annotated[
        datetime | None, Query(description="Content changed after this instant.")
    ] = None,
    modified_before: Annotated[
        datetime | None, Query(description="Content changed before this instant.")
    ] = None,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    include_deleted: IncludeDeleted = False,
    expand: ApplicationExpand = None,
) -> Response:
    reject_unknown_parameters(request, LIST_PARAMETERS)
    relations = parse_expand("applications", expand)
    check_honoured(
        services,
        connection,
        "applications",
        {
            "created_after": (created_after, "applied_at"),
            "created_before": (created_before, "applied_at"),
        },
    )
    given = {"candidate": candidate, "job": job, "current_stage": current_stage}
    any_of = {
        RELATION_FILTERS[name]: ids_
        for name, value in given.items()
        if (ids_ := parse_ids(value, name)) is not None
    }
    query = RecordQuery(
        ids=parse_ids(ids),
        remote_id=remote_id,
        modified_after=utc(modified_after, "modified_after"),
        modified_before=utc(modified_before, "modified_before"),
        include_deleted=include_deleted,
        any_of=any_of,
        after_={"applied_at": a} if (a := utc(created_after, "created_after")) else {},
        before_={"applied_at": b} if (b := utc(created_before, "created_before")) else {},
    )
    view = View(services, request, connection, include_raw_data, include_custom_fields, relations)
    return await view.listing("applications", query, cursor=cursor, page_size=page_size)


@router.get(
    "/applications/{application_id}",
    response_model=Application,
    responses=single_read("application"),
    operation_id="applications_get",
    summary="Retrieve an application",
)
async def applications_get(
    request: Request,
    application_id: uuid.UUID,
    services: ServicesDep,
    connection: ConnectionDep,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    expand: ApplicationExpand = None,
    cache_control: CacheControl = None,
) -> Response:
    reject_unknown_parameters(request, {*SHAPING, "expand"})
    relations = parse_expand("applications", expand)
    served = await services.reads.application(
        connection, application_id, force_refresh=no_cache(cache_control)
    )
    view = View(services, request, connection, include_raw_data, include_custom_fields, relations)
    return await view.one("applications", served)
