"""Write routes: create candidates and applications, move, reject, attach; and their meta.

Thin: the body is validated by its model, then the domain (``unified_ats.writes``) checks it
against the connection's rules before any vendor call, writes once, and stores the answer.
Every POST takes an ``Idempotency-Key``.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status

from schemas import Application, Attachment, Candidate
from schemas.writes import (
    ApplicationCreate,
    AttachmentCreate,
    CandidateCreate,
    ChangeStage,
    Reject,
    WriteMeta,
)
from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.idempotency import IdempotencyKey, idempotent, model_response
from unified_ats.api.paging import reject_unknown_parameters
from unified_ats.api.responses import VENDOR_ERRORS, errors
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.idempotency import scope_of
from unified_ats.writes.meta import write_meta

router = APIRouter(prefix="/api/ats/v1")

WRITE_ERRORS = errors(400, 401, 404, 409, 422, 501, *VENDOR_ERRORS)
REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key (the vendor was not called again).",
        "schema": {"type": "string"},
    }
}


def write_responses(status_code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """A write's success (which a replay repeats) and every error it may answer."""
    return {status_code: {"description": description, "headers": REPLAY_HEADER}, **WRITE_ERRORS}


def file_url_maker(services: ServicesDep, request: Request) -> Any:
    base = (services.settings.public_base_url or str(request.base_url)).rstrip("/")
    return lambda token: f"{base}/files/{token}"


def scope(connection: ConnectionInfo) -> str:
    return scope_of(connection.id, connection.tenant_id)


@router.post(
    "/candidates",
    tags=["candidates"],
    status_code=status.HTTP_201_CREATED,
    response_model=Candidate,
    responses=write_responses(
        201, "The candidate as stored, with its application embedded in `applications`."
    ),
    summary="Create a candidate (and its application) at the vendor",
)
async def candidates_create(
    body: CandidateCreate,
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Validated against the connection's rules (`GET /candidates/meta/post`) before any vendor
    call; answered with the candidate the vendor now holds, readable at once by GET and list
    with the same ids a later sync gives it."""
    reject_unknown_parameters(request, set())
    file_url = file_url_maker(services, request)

    async def run(look_up_first: bool) -> Response:
        written = await services.writes.create_candidate(
            connection, body, file_url=file_url, look_up_first=look_up_first
        )
        return model_response(written.expanded(), status.HTTP_201_CREATED)

    return await idempotent(request, services, scope(connection), idempotency_key, run)


@router.post(
    "/candidates/{candidate_id}/attachments",
    tags=["candidates"],
    status_code=status.HTTP_201_CREATED,
    response_model=Attachment,
    responses=write_responses(201, "The attachment as stored."),
    summary="Attach a file to a candidate at the vendor",
)
async def candidates_attachments_create(
    candidate_id: uuid.UUID,
    body: AttachmentCreate,
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_parameters(request, set())
    file_url = file_url_maker(services, request)

    async def run(look_up_first: bool) -> Response:
        attachment = await services.writes.add_attachment(
            connection, candidate_id, body.data, file_url=file_url
        )
        return model_response(attachment, status.HTTP_201_CREATED)

    return await idempotent(request, services, scope(connection), idempotency_key, run)


@router.post(
    "/applications",
    tags=["applications"],
    status_code=status.HTTP_201_CREATED,
    response_model=Application,
    responses=write_responses(201, "The new application."),
    summary="Apply an existing candidate to a job at the vendor",
)
async def applications_create(
    body: ApplicationCreate,
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_parameters(request, set())

    async def run(look_up_first: bool) -> Response:
        application = await services.writes.create_application(
            connection, body.data.candidate_id, body.data.job_id, body.data.job_interview_stage_id
        )
        return model_response(application, status.HTTP_201_CREATED)

    return await idempotent(request, services, scope(connection), idempotency_key, run)


@router.post(
    "/applications/{application_id}/change-stage",
    tags=["applications"],
    response_model=Application,
    responses=write_responses(200, "The application in its new stage."),
    summary="Move an application to another stage of its job",
)
async def applications_change_stage(
    application_id: uuid.UUID,
    body: ChangeStage,
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A move the vendor's workflow forbids (viasto: backwards) is a 409 naming the rule."""
    reject_unknown_parameters(request, set())

    async def run(look_up_first: bool) -> Response:
        application = await services.writes.change_stage(
            connection, application_id, body.job_interview_stage_id
        )
        return model_response(application, status.HTTP_200_OK)

    return await idempotent(request, services, scope(connection), idempotency_key, run)


@router.post(
    "/applications/{application_id}/reject",
    tags=["applications"],
    response_model=Application,
    responses=write_responses(200, "The application, rejected or archived."),
    summary="Reject (archive) an application",
)
async def applications_reject(
    application_id: uuid.UUID,
    body: Reject,
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_parameters(request, set())

    async def run(look_up_first: bool) -> Response:
        application = await services.writes.reject(connection, application_id)
        return model_response(application, status.HTTP_200_OK)

    return await idempotent(request, services, scope(connection), idempotency_key, run)


META_ERRORS = errors(400, 401)
META_ROUTES = (
    # path, tag, operation id, write operation, the route it describes
    ("/candidates/meta/post", "candidates", "candidates_meta_post", "create_candidate",
     "POST /candidates"),
    ("/candidates/attachments/meta/post", "candidates", "candidates_attachments_meta_post",
     "add_attachment", "POST /candidates/{id}/attachments"),
    ("/applications/meta/post", "applications", "applications_meta_post",
     "create_application", "POST /applications"),
    ("/applications/meta/change-stage", "applications", "applications_meta_change_stage",
     "change_stage", "POST /applications/{id}/change-stage"),
    ("/applications/meta/reject", "applications", "applications_meta_reject",
     "reject_application", "POST /applications/{id}/reject"),
)  # fmt: skip


def add_meta_route(path: str, tag: str, name: str, operation: str, describes: str) -> None:
    """``GET <path>``: what ``describes`` takes on the caller's connection."""

    async def meta(request: Request, services: ServicesDep, connection: ConnectionDep) -> WriteMeta:
        reject_unknown_parameters(request, set())
        return write_meta(services.pool.connector_class(connection.connector), operation)

    router.add_api_route(
        path,
        meta,
        methods=["GET"],
        name=name,
        tags=[tag],
        response_model=WriteMeta,
        responses=META_ERRORS,
        summary=f"What {describes} takes on this connection",
    )


for meta_route in META_ROUTES:
    add_meta_route(*meta_route)
