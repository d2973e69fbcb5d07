"""The client against the real API in-process (store, vendor emulators), on SQLite and
PostgreSQL: paging, models, downloads, typed errors, the API-key-only routes."""

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from connectors.flatchr.emulator.data import cv_bytes
from connectors.flatchr.mapping import split_cv_remote_id
from schemas import Application, Attachment, Candidate, Job, JobInterviewStage
from tests.client.conftest import Stack, async_client, run_blocking
from tests.service.conftest import VIASTO_TOKEN, WK_KEY, WK_ORG
from unified_ats.client import (
    AsyncClient,
    Client,
    Connection,
    ConnectionCreated,
    InvalidRequest,
    NotFound,
    RateLimited,
    ResyncAccepted,
    SyncStatus,
    Unauthorized,
    safe_file_name,
)

API = "/api/ats/v1"


async def raw_ids(stack: Stack, token: str, route: str) -> list[str]:
    """Every id of a route, read without the client (page_size 200 fits the emulators)."""
    response = await stack.client.get(
        f"{API}/{route}", params={"page_size": 200}, headers=stack.headers(token)
    )
    body = response.json()
    assert body["cursor"] is None
    return [item["id"] for item in body["items"]]


async def test_list_pages_through_every_record_exactly_once(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    expected = await raw_ids(stack, token, "candidates")
    assert len(expected) >= 20
    client = async_client(stack, token)
    pages = [page async for page in client.candidates.list.pages(page_size=7)]
    assert len(pages) == -(-len(expected) // 7)
    assert all(page.page_size == 7 for page in pages)
    assert pages[-1].cursor is None
    records = [candidate async for candidate in client.candidates.list(page_size=7)]
    assert all(isinstance(candidate, Candidate) for candidate in records)
    assert [str(candidate.id) for candidate in records] == expected

    blocking = await run_blocking(
        stack, token, lambda c: [str(x.id) for x in c.candidates.list(page_size=4)]
    )
    assert blocking == expected


async def test_one_page_and_resuming_from_its_cursor(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    client = async_client(stack, token)
    first = await client.attachments.list.page(page_size=5)
    assert len(first.items) == 5 and first.cursor
    rest = [a.id async for a in client.attachments.list(page_size=50, cursor=first.cursor)]
    every = [str(i) for i in [a.id for a in first.items] + rest]
    assert every == await raw_ids(stack, token, "attachments")


async def test_filters_and_expand_return_the_schemas_models(stack: Stack) -> None:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    client = async_client(stack, created["connector_token"])
    jobs = [job async for job in client.jobs.list()]
    assert jobs and all(isinstance(job, Job) for job in jobs)
    job = jobs[0]
    stages = [s async for s in client.job_interview_stages.list(job=[job.id], expand="job")]
    assert stages and all(isinstance(s, JobInterviewStage) for s in stages)
    assert all(isinstance(s.job, Job) and s.job.id == job.id for s in stages)
    applications = [
        a
        async for a in client.applications.list(
            job=job.id, expand=["candidate", "job", "current_stage"]
        )
    ]
    assert applications and all(isinstance(a, Application) for a in applications)
    assert all(isinstance(a.job, Job) and a.job.id == job.id for a in applications)
    application = applications[0]
    assert isinstance(application.candidate, Candidate)
    candidate = await client.candidates.get(
        application.candidate.id, include_raw_data=True, expand="applications", refresh=True
    )
    assert candidate.raw_data
    assert [a.id for a in candidate.applications or [] if isinstance(a, Application)] == [
        application.id
    ]
    assert await client.applications.get(application.id) == await client.applications.get(
        str(application.id)
    )
    assert (await client.job_interview_stages.get(stages[0].id)).id == stages[0].id
    assert (await client.jobs.get(job.id)).name == job.name
    named = (
        [c.id async for c in client.candidates.list(first_name=candidate.first_name.upper())]
        if candidate.first_name
        else [candidate.id]
    )
    assert candidate.id in named


async def test_download_gives_the_vendors_file_as_bytes_or_on_disk(
    stack: Stack, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "downloads"  # the stack keeps its store in tmp_path
    (tmp_path / "sync").mkdir(parents=True)
    token = (await stack.connect_flatchr())["connector_token"]
    client = async_client(stack, token)
    attachment = await anext(aiter(client.attachments.list()))
    assert isinstance(attachment, Attachment) and attachment.remote_id
    expected = cv_bytes(*split_cv_remote_id(attachment.remote_id))

    assert await client.attachments.download(attachment.id) == expected
    path = await client.attachments.download(attachment.id, to=tmp_path)
    assert path.parent == tmp_path
    assert path.name == safe_file_name(attachment.file_name, str(attachment.id))
    assert path.read_bytes() == expected
    assert set(os.listdir(tmp_path)) == {path.name, "sync"}  # no temporary file left

    def blocking(c: Client) -> tuple[bytes, Path]:
        return c.attachments.download(attachment.id), c.attachments.download(
            attachment.id, to=tmp_path / "sync"
        )

    content, saved = await run_blocking(stack, token, blocking)
    assert content == expected and saved.read_bytes() == expected


async def test_avatar_streams_the_photo(stack: Stack) -> None:
    created = await stack.connect("viasto", {"token": VIASTO_TOKEN, "company_id": "4"})
    client = async_client(stack, created["connector_token"])
    with_photo = [c async for c in client.candidates.list() if c.avatar]
    assert with_photo
    photo = await client.candidates.avatar(with_photo[0].id)
    assert len(photo) > 10


async def test_typed_errors_for_401_404_400_and_422(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    client = async_client(stack, token)
    with pytest.raises(NotFound) as missing:
        await client.candidates.get(uuid.uuid4())
    assert missing.value.status_code == 404 and isinstance(missing.value.detail, str)
    with pytest.raises(InvalidRequest) as invalid:
        await client.candidates.get("not-a-uuid")
    assert invalid.value.status_code == 422
    assert isinstance(invalid.value.detail, list) and invalid.value.detail[0]["loc"]
    with pytest.raises(InvalidRequest) as refused:
        await client.candidates.list.page(tag="x")
    assert refused.value.status_code == 400 and "tag" in str(refused.value.detail)
    with pytest.raises(InvalidRequest) as too_big:
        await client.candidates.list.page(page_size=1000)
    assert too_big.value.status_code == 422

    wrong_key = "uats_sk_" + "0" * 43
    intruder = async_client(stack, token).with_connector_token("uats_ct_" + "1" * 43)
    with pytest.raises(Unauthorized) as unauthorized:
        await intruder.sync_status.get()
    assert unauthorized.value.status_code == 401
    assert "www-authenticate" in unauthorized.value.headers
    assert "uats_ct_" + "1" * 43 not in str(unauthorized.value)
    stranger = AsyncClient("http://testserver", wrong_key, token, http_client=stack.client)
    with pytest.raises(Unauthorized) as bad_key:
        await stranger.connections.list()
    assert wrong_key not in str(bad_key.value) and token not in repr(bad_key.value)


async def test_connections_and_connectors_need_only_the_api_key(stack: Stack) -> None:
    client = async_client(stack)  # no connector token
    names = {connector.name for connector in await client.connectors.list()}
    assert {"flatchr", "welcomekit", "viasto"} <= names

    created = await client.connections.create(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    assert isinstance(created, ConnectionCreated)
    assert created.connector_token not in repr(created)
    await asyncio.gather(*stack.services.background)  # the first sync
    listed = await client.connections.list()
    assert [c.id for c in listed] == [created.id]
    assert all(isinstance(c, Connection) for c in listed)

    with pytest.raises(ValueError, match="connector token"):
        await client.candidates.list.page()
    connected = client.with_connector_token(created.connector_token)
    status = await connected.sync_status.get()
    assert isinstance(status, SyncStatus) and status.state == "succeeded"
    assert status.models["candidates"].seen == status.seen > 0

    accepted = await connected.sync_status.trigger(full=True)
    assert isinstance(accepted, ResyncAccepted) and accepted.full
    await asyncio.gather(*stack.services.background)

    rotated = await client.connections.rotate_token(created.id)
    with pytest.raises(Unauthorized):
        await connected.sync_status.get()
    assert (await client.with_connector_token(rotated.connector_token).sync_status.get()).seen
    new_hook = await client.connections.rotate_webhook_secret(created.id)
    assert new_hook.webhook_url != created.webhook_url

    await client.connections.delete(created.id)
    assert await client.connections.list() == []
    with pytest.raises(NotFound):
        await client.connections.delete(created.id)


async def test_vendor_rate_limit_is_retried_then_raised(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    client = async_client(stack, token, max_retries=2)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client._runner.sleep = sleep
    attachment = await anext(aiter(client.attachments.list()))
    stack.flatchr.faults.rate_limit_storm = True
    stack.flatchr.faults.retry_after = "0"
    with pytest.raises(RateLimited) as limited:
        await client.attachments.download(attachment.id)
    assert limited.value.status_code == 429
    assert limited.value.retry_after is not None
    assert slept == [limited.value.retry_after] * 2
