"""The client's writes: against the in-process stack (every vendor's emulator: create with a CV,
read back, idempotent replays, stage moves, rejections, attachments, meta, passthrough, typed
errors), and against scripted answers (what is sent, and that a write is never retried on a
5xx)."""

import json
import pickle
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from schemas import Application, Attachment, Candidate, Job, JobInterviewStage
from schemas.writes import AttachmentUpload, CandidateCreateData, PassthroughResponse, WriteMeta
from tests.client.conftest import (
    TOKEN,
    Harness,
    Stack,
    async_client,
    error,
    run_blocking,
)
from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY
from unified_ats.client import (
    AsyncClient,
    Client,
    Conflict,
    InvalidRequest,
    NotSupported,
    TransportError,
    attachment_upload,
)
from unified_ats.store.idempotency import fingerprint

VENDORS = ["flatchr", "welcomekit", "viasto"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 2000
APPLICATION = {"id": str(uuid.UUID(int=7)), "modified_at": "2024-05-01T10:00:00Z"}


# --- against the stack ------------------------------------------------------------------------


async def connected(stack: Stack, vendor: str) -> tuple[AsyncClient, str]:
    created = await stack.connect_vendor(vendor)
    return async_client(stack, created["connector_token"]), created["id"]


async def open_job(client: AsyncClient) -> Job:
    return next(job for job in [j async for j in client.jobs.list()] if job.status == "OPEN")


async def draft(client: AsyncClient, email: str, cv: AttachmentUpload) -> CandidateCreateData:
    job = await open_job(client)
    return CandidateCreateData(
        first_name="Zoé",
        last_name="Ngô",
        email_addresses=[email],
        job_id=job.id,
        attachments=[cv],
    )


async def create(client: AsyncClient, email: str) -> tuple[Candidate, Application]:
    cv = attachment_upload(PDF, file_name="Zoé Ngô CV.pdf")
    candidate = await client.candidates.create(await draft(client, email, cv))
    [application] = candidate.applications or []
    assert isinstance(application, Application)
    return candidate, application


def vendor_requests(stack: Stack, vendor: str) -> int:
    return int(getattr(stack, vendor).app.requests_seen)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_create_a_candidate_with_a_cv_and_read_it_back(
    stack: Stack, vendor: str, tmp_path: Path
) -> None:
    client, _ = await connected(stack, vendor)
    path = tmp_path / "Zoé Ngô CV.pdf"
    path.write_bytes(PDF)
    cv = attachment_upload(path)
    assert (cv.file_name, cv.content_type, cv.attachment_type) == (
        path.name,
        "application/pdf",
        "RESUME",
    )
    data = (await draft(client, f"zoe.{vendor}@example.org", cv)).model_dump(exclude_none=True)
    created = await client.candidates.create(data)  # a dict is taken too
    assert isinstance(created, Candidate)
    assert (created.first_name, created.last_name) == ("Zoé", "Ngô")
    [application] = created.applications or []
    assert isinstance(application, Application)
    assert application.job == data["job_id"] and application.candidate == created.id

    fetched = await client.candidates.get(created.id)
    assert (fetched.id, fetched.modified_at) == (created.id, created.modified_at)
    found = [
        c.id async for c in client.candidates.list(email_addresses=f"zoe.{vendor}@example.org")
    ]
    assert found == [created.id]
    assert (await client.applications.get(application.id)).job == application.job
    resumes = [
        a
        async for a in client.attachments.list(candidate=created.id)
        if a.attachment_type == "RESUME"
    ]
    assert resumes and await client.attachments.download(resumes[0].id) == PDF


async def test_the_same_key_replays_the_first_answer_and_writes_once(stack: Stack) -> None:
    client, _ = await connected(stack, "welcomekit")
    cv = attachment_upload(PDF, file_name="cv.pdf")
    data = await draft(client, "once@example.org", cv)
    first = await client.candidates.create(data, idempotency_key="create-once-1")
    before = vendor_requests(stack, "welcomekit")
    again = await client.candidates.create(data, idempotency_key="create-once-1")
    assert again == first
    assert vendor_requests(stack, "welcomekit") == before
    with pytest.raises(InvalidRequest) as reused:  # the same key for another body
        await client.candidates.create(
            data.model_copy(update={"first_name": "Zoë"}), idempotency_key="create-once-1"
        )
    assert reused.value.detail[0]["loc"] == ["header", "Idempotency-Key"]
    assert reused.value.idempotency_key == "create-once-1"
    # Without a key each call gets its own: a second call is a second write.
    second = await client.candidates.create(
        data.model_copy(update={"email_addresses": ["two@example.org"]})
    )
    assert second.id != first.id
    assert [c.id async for c in client.candidates.list(email_addresses="once@example.org")] == [
        first.id
    ]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_change_stage_moves_the_application(stack: Stack, vendor: str) -> None:
    client, _ = await connected(stack, vendor)
    _, application = await create(client, f"mover.{vendor}@example.org")
    stages = [s async for s in client.job_interview_stages.list(job=str(application.job))]
    current = [s.id for s in stages].index(application.current_stage)
    target = stages[current + 1]
    moved = await client.applications.change_stage(application.id, target.id)
    assert isinstance(moved, Application) and moved.current_stage == target.id
    assert (await client.applications.get(application.id)).current_stage == target.id

    other = await anext(j async for j in client.jobs.list() if j.id != application.job)
    foreign = await anext(aiter(client.job_interview_stages.list(job=other.id)))
    assert isinstance(foreign, JobInterviewStage)
    with pytest.raises(InvalidRequest) as refused:
        await client.applications.change_stage(application.id, foreign.id)
    assert refused.value.status_code == 422
    assert refused.value.detail[0]["type"] == "stage_of_another_job"
    if vendor == "viasto":  # its workflow only goes forward
        with pytest.raises(Conflict) as backwards:
            await client.applications.change_stage(application.id, stages[current].id)
        assert backwards.value.status_code == 409 and backwards.value.detail


@pytest.mark.parametrize("vendor", VENDORS)
async def test_reject_or_not_supported(stack: Stack, vendor: str) -> None:
    client, _ = await connected(stack, vendor)
    _, application = await create(client, f"no.{vendor}@example.org")
    meta = await client.applications.reject_meta()
    if not meta.supported:
        with pytest.raises(NotSupported) as unsupported:
            await client.applications.reject(application.id)
        assert unsupported.value.status_code == 501 and unsupported.value.detail == meta.notes
        return
    rejected = await client.applications.reject(application.id, idempotency_key=uuid.uuid4())
    assert rejected.archived is True or rejected.rejected_at is not None
    stored = await client.applications.get(application.id)
    assert (stored.archived, stored.rejected_at) == (rejected.archived, rejected.rejected_at)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_add_an_attachment_or_not_supported(stack: Stack, vendor: str) -> None:
    client, _ = await connected(stack, vendor)
    candidate, _ = await create(client, f"doc.{vendor}@example.org")
    letter = b"%PDF-1.4\nCover letter\n%%EOF\n" + b"y" * 500
    upload = attachment_upload(letter, file_name="cv-2.pdf")
    meta = await client.candidates.add_attachment_meta()
    before = vendor_requests(stack, vendor)
    if not meta.supported:
        with pytest.raises(NotSupported) as unsupported:
            await client.candidates.add_attachment(candidate.id, upload)
        assert unsupported.value.detail == meta.notes
        assert vendor_requests(stack, vendor) == before
        return
    attachment = await client.candidates.add_attachment(candidate.id, upload.model_dump())
    assert isinstance(attachment, Attachment) and attachment.candidate == candidate.id
    assert await client.attachments.download(attachment.id) == letter


async def test_every_meta_route_and_applying_to_another_job(stack: Stack) -> None:
    client, _ = await connected(stack, "welcomekit")
    metas = [
        await client.candidates.create_meta(),
        await client.candidates.add_attachment_meta(),
        await client.applications.create_meta(),
        await client.applications.change_stage_meta(),
        await client.applications.reject_meta(),
    ]
    assert all(isinstance(m, WriteMeta) and m.connector == "welcomekit" for m in metas)
    assert [m.operation for m in metas] == [
        "create_candidate",
        "add_attachment",
        "create_application",
        "change_stage",
        "reject_application",
    ]
    create_meta = metas[0]
    assert "first_name" in create_meta.schema_["properties"] and create_meta.file_limits
    candidate, application = await create(client, "twice@example.org")
    other = await anext(j async for j in client.jobs.list() if j.id != application.job)
    applied = await client.applications.create(candidate.id, other.id)
    assert isinstance(applied, Application) and applied.job == other.id


async def test_passthrough_get_and_its_typed_refusal(stack: Stack) -> None:
    client, _ = await connected(stack, "flatchr")
    answer = await client.passthrough.request("GET", f"/company/{FLATCHR_COMPANY}/vacancies")
    assert isinstance(answer, PassthroughResponse)
    assert answer.status == 200 and answer.response_format == "JSON" and answer.data
    assert FLATCHR_KEY not in answer.model_dump_json()
    missing = await client.passthrough.request("GET", "/company/nope/vacancies")
    assert missing.status in (401, 403, 404)  # the vendor's status, not raised
    with pytest.raises(InvalidRequest) as refused:
        await client.passthrough.request("GET", "https://evil.example/steal")
    assert refused.value.detail[0]["loc"] == ["body", "path"]


async def test_a_key_in_flight_is_a_conflict_naming_the_key(stack: Stack) -> None:
    client, connection_id = await connected(stack, "welcomekit")
    _, application = await create(client, "busy@example.org")
    route = f"POST /api/ats/v1/applications/{application.id}/reject?"
    scope = f"connection:{connection_id}"
    await stack.services.idempotency.claim(scope, "busy-1", fingerprint(route, b"{}"))
    with pytest.raises(Conflict) as busy:
        await client.applications.reject(application.id, idempotency_key="busy-1")
    assert busy.value.status_code == 409 and busy.value.idempotency_key == "busy-1"


async def test_the_blocking_client_writes_too(stack: Stack) -> None:
    created = await stack.connect_vendor("welcomekit")
    job = await open_job(async_client(stack, created["connector_token"]))

    def work(client: Client) -> tuple[Candidate, uuid.UUID, Application, WriteMeta]:
        data = {"first_name": "Ada", "last_name": "L", "email_addresses": ["ada@example.org"]}
        candidate = client.candidates.create({**data, "job_id": job.id})
        [application] = candidate.applications or []
        assert isinstance(application, Application)
        stages = list(client.job_interview_stages.list(job=job.id))
        later = next(s for s in stages if s.id != application.current_stage)
        moved = client.applications.change_stage(application.id, later.id)
        return candidate, later.id, moved, client.applications.change_stage_meta()

    candidate, later, moved, meta = await run_blocking(stack, created["connector_token"], work)
    assert candidate.first_name == "Ada" and moved.current_stage == later
    assert meta.operation == "change_stage"


# --- scripted answers -------------------------------------------------------------------------

CREATED = {"id": str(uuid.UUID(int=1)), "modified_at": "2024-05-01T10:00:00Z"}
WRITES: list[tuple[str, Callable[[Any], Any]]] = [
    ("POST /api/ats/v1/candidates", lambda c: c.candidates.create({"first_name": "A"})),
    (
        f"POST /api/ats/v1/candidates/{uuid.UUID(int=1)}/attachments",
        lambda c: c.candidates.add_attachment(
            uuid.UUID(int=1), attachment_upload(b"hello", file_name="a.txt")
        ),
    ),
    (
        "POST /api/ats/v1/applications",
        lambda c: c.applications.create(uuid.UUID(int=1), str(uuid.UUID(int=2))),
    ),
    (
        "POST /api/ats/v1/applications/x/change-stage",
        lambda c: c.applications.change_stage("x", uuid.UUID(int=3)),
    ),
    ("POST /api/ats/v1/applications/x/reject", lambda c: c.applications.reject("x")),
    ("POST /api/v1/passthrough", lambda c: c.passthrough.request("DELETE", "/jobs/1")),
]
ANSWERS = {
    "candidates": CREATED,
    "attachments": {**CREATED, "id": str(uuid.UUID(int=4))},
    "passthrough": {"status": 204, "headers": {}, "data": None, "response_format": "TEXT"},
}


META: list[Callable[[Any], Any]] = [
    lambda c: c.candidates.create_meta(),
    lambda c: c.candidates.add_attachment_meta(),
    lambda c: c.applications.create_meta(),
    lambda c: c.applications.change_stage_meta(),
    lambda c: c.applications.reject_meta(),
]
WRITE_META = {"connector": "flatchr", "operation": "reject_application", "supported": False}
WRITE_META |= {"schema": {"type": "object"}, "required": [], "notes": "Flatchr cannot"}


def answer_for(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json=WRITE_META)
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return httpx.Response(201, json=ANSWERS.get(last, APPLICATION))


async def test_every_write_and_meta_route_of_the_api_has_a_method(
    harness: Callable[..., Harness],
) -> None:
    openapi = json.loads((Path(__file__).parents[2] / "schemas" / "openapi.json").read_text())
    routes = [
        (method.upper(), re.sub(r"\{[^}]+\}", "[^/]+", path))
        for path, operations in openapi["paths"].items()
        for method in operations
        if (method == "post" or "/meta/" in path)
        # Management routes and pages, not vendor writes: their methods have tests of their
        # own (tests/client/test_webhooks.py, test_link.py; the link page has none).
        and not path.startswith(
            (
                "/api/ats/v1/connections",
                "/api/ats/v1/sync-status",
                "/webhooks",
                "/api/v1/webhooks",
                "/api/ats/v1/link-",
                "/link/",
            )
        )
    ]
    h = harness(answer_for)
    for use in [use for _, use in WRITES] + META:
        answer = await h.call(use)
        if isinstance(answer, WriteMeta):
            assert answer.schema_ == {"type": "object"} and answer.supported is False
    sent = [f"{request.method} {request.url.path}" for request in h.server.requests]
    for method, pattern in routes:
        assert any(re.fullmatch(f"{method} {pattern}", route) for route in sent), pattern
    assert len(sent) == len(routes) == 11


@pytest.mark.parametrize(("route", "use"), WRITES, ids=[route for route, _ in WRITES])
async def test_every_write_sends_a_new_key_and_is_retried_on_429_only(
    harness: Callable[..., Harness], route: str, use: Callable[[Any], Any]
) -> None:
    h = harness(error(429, **{"Retry-After": "1"}), answer_for)
    await h.call(use)
    await h.call(use)
    first, retried, other = h.server.requests
    assert f"{first.method} {first.url.path}" == route
    assert first.headers["x-connector-token"] == TOKEN
    key = first.headers["idempotency-key"]
    assert uuid.UUID(key).version == 4
    assert retried.headers["idempotency-key"] == key and retried.content == first.content
    assert other.headers["idempotency-key"] != key  # one key per call
    assert h.slept == [1.0]

    for status in (500, 502, 503, 504):
        failing = harness(error(status, "vendor down", **{"Retry-After": "1"}))
        with pytest.raises(Exception) as raised:
            await failing.call(use)
        assert len(failing.server.requests) == 1, status  # a write may have run: never again
        sent = failing.server.requests[0].headers["idempotency-key"]
        assert getattr(raised.value, "idempotency_key", None) == sent


async def test_bodies_are_the_schemas_models_as_json(harness: Callable[..., Harness]) -> None:
    h = harness(answer_for)
    job = uuid.UUID(int=9)
    created = await h.call(
        lambda c: c.candidates.create(
            CandidateCreateData(first_name="Zoé", job_id=job, tags=["a"]),
            remote_user_id="u1",
            idempotency_key=uuid.UUID(int=5),
        )
    )
    assert isinstance(created, Candidate)
    moved = await h.call(lambda c: c.applications.change_stage("x", str(job), idempotency_key="k"))
    assert isinstance(moved, Application)
    await h.call(lambda c: c.applications.reject("x"))
    create, change, reject = h.server.requests
    assert create.headers["idempotency-key"] == str(uuid.UUID(int=5))
    assert httpx.Response(200, content=create.content).json() == {
        "data": {"first_name": "Zoé", "job_id": str(job), "tags": ["a"]},
        "remote_user_id": "u1",
    }
    assert change.headers["idempotency-key"] == "k"
    assert httpx.Response(200, content=change.content).json() == {
        "job_interview_stage_id": str(job)
    }
    assert reject.content == b"{}"


async def test_a_wrong_body_fails_before_sending(harness: Callable[..., Harness]) -> None:
    h = harness(answer_for)
    with pytest.raises(pydantic.ValidationError):
        await h.call(lambda c: c.candidates.create({"first_nam": "typo"}))
    with pytest.raises(pydantic.ValidationError):
        await h.call(lambda c: c.applications.create("not-a-uuid", uuid.uuid4()))
    with pytest.raises(ValueError, match="Idempotency-Key"):
        await h.call(lambda c: c.applications.reject("x", idempotency_key=""))
    assert h.server.requests == []


@pytest.mark.parametrize(
    ("status", "kind"), [(409, Conflict), (501, NotSupported), (422, InvalidRequest)]
)
async def test_write_errors_are_typed_and_keep_the_key(
    harness: Callable[..., Harness], status: int, kind: type[Exception]
) -> None:
    detail: Any = [{"loc": ["body", "data", "company"], "msg": "no", "type": "field_not_supported"}]
    if status != 422:
        detail = "Flatchr cannot reject"
    h = harness(error(status, detail))
    with pytest.raises(kind) as raised:
        await h.call(lambda c: c.applications.reject("x", idempotency_key="mine"))
    assert raised.value.detail == detail and raised.value.idempotency_key == "mine"  # type: ignore[attr-defined]
    copy = pickle.loads(pickle.dumps(raised.value))  # noqa: S301 - our own object
    assert (type(copy), copy.idempotency_key) == (kind, "mine")
    assert len(h.server.requests) == 1


async def test_a_lost_answer_is_a_transport_error_with_the_key(
    harness: Callable[..., Harness],
) -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    h = harness(drop)
    with pytest.raises(TransportError) as lost:
        await h.call(lambda c: c.candidates.create({"first_name": "A"}))
    [request] = h.server.requests
    assert lost.value.idempotency_key == request.headers["idempotency-key"]


async def test_passthrough_route_key_and_timeout(harness: Callable[..., Harness]) -> None:
    h = harness(answer_for)
    answer = await h.call(
        lambda c: c.passthrough.request(
            "GET", "/jobs", params={"page": 2, "tags": ["a", "b"]}, timeout=100
        )
    )
    assert isinstance(answer, PassthroughResponse) and answer.status == 204
    await h.call(lambda c: c.passthrough.request("POST", "/jobs", data={"name": None}))
    get, post = h.server.requests
    assert get.url.path == "/api/v1/passthrough" and "idempotency-key" not in get.headers
    assert httpx.Response(200, content=get.content).json() == {
        "method": "GET",
        "path": "/jobs",
        "params": {"page": 2, "tags": ["a", "b"]},
        "request_format": "JSON",
        "timeout": 100.0,
    }
    assert get.extensions["timeout"]["read"] == 115.0  # the vendor's timeout and a margin
    assert post.extensions["timeout"]["read"] == 45.0
    assert uuid.UUID(post.headers["idempotency-key"])
    assert httpx.Response(200, content=post.content).json()["data"] == {"name": None}


async def test_reads_with_an_etag_or_a_304_do_not_break(harness: Callable[..., Harness]) -> None:
    h = harness(httpx.Response(200, json=APPLICATION, headers={"ETag": '"v1"'}), error(304, ""))
    assert (await h.call(lambda c: c.applications.get("x"))).id == uuid.UUID(int=7)
    with pytest.raises(Exception) as not_modified:
        await h.call(lambda c: c.applications.get("x"))
    assert getattr(not_modified.value, "status_code", None) == 304


def test_attachment_upload_from_bytes_or_a_path(tmp_path: Path) -> None:
    word = tmp_path / "cv.docx"
    word.write_bytes(b"PK\x03\x04")
    from_path = attachment_upload(word, attachment_type="COVER_LETTER")
    assert from_path.content_type.endswith("wordprocessingml.document")
    assert (from_path.file_name, from_path.attachment_type, from_path.data) == (
        "cv.docx",
        "COVER_LETTER",
        "UEsDBA==",
    )
    assert attachment_upload(PDF, file_name="no extension").content_type == "application/pdf"
    assert attachment_upload(b"?", file_name="x").content_type == "application/octet-stream"
    given = attachment_upload(b"?", file_name="x", content_type="text/plain")
    assert given.content_type == "text/plain"
    with pytest.raises(ValueError, match="file_name"):
        attachment_upload(b"%PDF-")
    with pytest.raises(TypeError):
        attachment_upload(str(word))  # type: ignore[arg-type]
