"""``/api/ats/v1/jobs`` and ``/api/ats/v1/job-interview-stages``: thin routes over the store
and the freshness rules (a stage is refreshed with its job)."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from schemas import Job, JobInterviewStage, Page
from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.expand import expand_description, parse_expand
from unified_ats.api.lean import LeanRoute
from unified_ats.api.listing import View, parse_ids, utc
from unified_ats.api.paging import reject_unknown_parameters
from unified_ats.api.responses import (
    CacheControl,
    errors,
    no_cache,
    single_read,
)
from unified_ats.store.records import RecordQuery

# Hot reads: resolved in one step (see api.lean).
router = APIRouter(prefix="/api/ats/v1", tags=["jobs"], route_class=LeanRoute)

COMMON = {"cursor", "page_size", "ids", "remote_id", "modified_after", "modified_before"}
SHAPING = {"include_raw_data", "include_custom_fields"}
PageSize = Annotated[int, Query(ge=1, le=200)]
Ids = Annotated[str | None, Query(description="Comma-separated unified ids.")]
ModifiedAfter = Annotated[
    datetime | None,
    Query(description="Only records whose content changed after this instant (ISO 8601)."),
]
ModifiedBefore = Annotated[datetime | None, Query(description="Changed before this instant.")]
IncludeDeleted = Annotated[
    bool, Query(description="Also records the vendor no longer has (`remote_was_deleted`).")
]


@router.get(
    "/jobs",
    response_model=Page[Job],
    responses=errors(400, 401, 422),
    operation_id="jobs_list",
    summary="List jobs",
)
async def jobs_list(
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    cursor: str | None = None,
    page_size: PageSize = 50,
    ids: Ids = None,
    remote_id: str | None = None,
    code: Annotated[str | None, Query(description="The vendor's own job reference.")] = None,
    status: Annotated[
        str | None,
        Query(description="OPEN, CLOSED, DRAFT, ARCHIVED, PENDING, or a vendor's own value."),
    ] = None,
    modified_after: ModifiedAfter = None,
    modified_before: ModifiedBefore = None,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    include_deleted: IncludeDeleted = False,
) -> Response:
    reject_unknown_parameters(request, {*COMMON, *SHAPING, "code", "status", "include_deleted"})
    any_of = {name: [value] for name, value in (("code", code), ("status", status)) if value}
    query = RecordQuery(
        ids=parse_ids(ids),
        remote_id=remote_id,
        modified_after=utc(modified_after, "modified_after"),
        modified_before=utc(modified_before, "modified_before"),
        include_deleted=include_deleted,
        any_of=any_of,
    )
    view = View(services, request, connection, include_raw_data, include_custom_fields, [])
    return await view.listing("jobs", query, cursor=cursor, page_size=page_size)


@router.get(
    "/jobs/{job_id}",
    response_model=Job,
    responses=single_read("job"),
    operation_id="jobs_get",
    summary="Retrieve a job",
)
async def jobs_get(
    request: Request,
    job_id: uuid.UUID,
    services: ServicesDep,
    connection: ConnectionDep,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    cache_control: CacheControl = None,
) -> Response:
    reject_unknown_parameters(request, SHAPING)
    served = await services.reads.job(connection, job_id, force_refresh=no_cache(cache_control))
    view = View(services, request, connection, include_raw_data, include_custom_fields, [])
    return await view.one("jobs", served)


StageExpand = Annotated[str | None, Query(description=expand_description("job_interview_stages"))]


@router.get(
    "/job-interview-stages",
    response_model=Page[JobInterviewStage],
    responses=errors(400, 401, 422),
    operation_id="job_interview_stages_list",
    summary="List job interview stages",
)
async def job_interview_stages_list(
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    cursor: str | None = None,
    page_size: PageSize = 50,
    ids: Ids = None,
    remote_id: str | None = None,
    job: Annotated[
        str | None, Query(description="Comma-separated job ids: the stages of these jobs.")
    ] = None,
    modified_after: ModifiedAfter = None,
    modified_before: ModifiedBefore = None,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    include_deleted: IncludeDeleted = False,
    expand: StageExpand = None,
) -> Response:
    reject_unknown_parameters(request, {*COMMON, *SHAPING, "job", "include_deleted", "expand"})
    relations = parse_expand("job_interview_stages", expand)
    jobs = parse_ids(job, "job")
    query = RecordQuery(
        ids=parse_ids(ids),
        remote_id=remote_id,
        modified_after=utc(modified_after, "modified_after"),
        modified_before=utc(modified_before, "modified_before"),
        include_deleted=include_deleted,
        any_of={"job_id": jobs} if jobs is not None else {},
    )
    view = View(services, request, connection, include_raw_data, include_custom_fields, relations)
    return await view.listing("job_interview_stages", query, cursor=cursor, page_size=page_size)


@router.get(
    "/job-interview-stages/{stage_id}",
    response_model=JobInterviewStage,
    responses=single_read("stage"),
    operation_id="job_interview_stages_get",
    summary="Retrieve a job interview stage",
)
async def job_interview_stages_get(
    request: Request,
    stage_id: uuid.UUID,
    services: ServicesDep,
    connection: ConnectionDep,
    include_raw_data: bool = False,
    include_custom_fields: bool = False,
    expand: StageExpand = None,
    cache_control: CacheControl = None,
) -> Response:
    reject_unknown_parameters(request, {*SHAPING, "expand"})
    relations = parse_expand("job_interview_stages", expand)
    served = await services.reads.stage(connection, stage_id, force_refresh=no_cache(cache_control))
    view = View(services, request, connection, include_raw_data, include_custom_fields, relations)
    return await view.one("job_interview_stages", served)
