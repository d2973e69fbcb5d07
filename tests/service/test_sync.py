"""The sync engine: resume after a kill, no deletions from failed runs, webhooks, leases."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from connectors import VendorUnavailable
from connectors.flatchr.emulator.data import generate_applicants
from tests.service.conftest import FLATCHR_COMPANY, Stack
from unified_ats.store.sync_runs import FollowUp
from unified_ats.sync import SyncEngine, SyncQueued

API = "/api/ats/v1"


async def stored_remote_ids(
    stack: Stack, connection_id: uuid.UUID, *, deleted: bool = False
) -> list[str]:
    from unified_ats.store.records import CandidateQuery

    rows = await stack.services.records.candidates(
        connection_id, CandidateQuery(include_deleted=True), after=0, limit=10_000
    )
    return sorted(r.model.remote_id for r in rows if r.model.remote_was_deleted == deleted)


def vendor_ids(stack: Stack) -> list[str]:
    return sorted(stack.flatchr.companies[FLATCHR_COMPANY].applicants)


class StopAfter:
    """A connector whose enumeration dies after ``pages`` pages (crash or vendor outage), or
    at the end of a listing that had fewer (records skipped as unchanged fill pages slowly):
    never does it reach its end."""

    def __init__(self, connector, pages: int, error: BaseException) -> None:
        self._connector = connector
        self._pages = pages
        self._error = error

    def __getattr__(self, name):
        return getattr(self._connector, name)

    async def iter_candidates(self, **kwargs):
        count = 0
        async for page in self._connector.iter_candidates(**kwargs):
            if count == self._pages:
                raise self._error
            count += 1
            yield page
        raise self._error


async def setup(stack: Stack, size_extra: int = 0):
    created = await stack.connect_flatchr()
    connection = await stack.services.accounts.connection(uuid.UUID(created["id"]))
    connector = await stack.services.pool.for_connection(connection)
    engine = SyncEngine(
        stack.services.records, stack.services.accounts, stack.services.runs, page_size=7
    )
    return created, connection, connector, engine


async def test_killed_sync_resumes_and_ends_with_exactly_the_vendor_set(stack: Stack) -> None:
    _, connection, connector, engine = await setup(stack)
    generate_applicants(stack.flatchr.companies[FLATCHR_COMPANY], size=40, seed=7)  # 40 new
    removed = vendor_ids(stack)[3]
    stack.flatchr.remove(FLATCHR_COMPANY, removed)
    with pytest.raises(asyncio.CancelledError):
        await engine.run(connection, StopAfter(connector, 3, asyncio.CancelledError()), full=True)
    assert (await stack.services.runs.latest(connection.id)).state == "interrupted"
    assert removed not in await stored_remote_ids(stack, connection.id, deleted=True)
    report = await engine.run(connection, connector, full=True)
    assert report.resumed
    assert await stored_remote_ids(stack, connection.id) == vendor_ids(stack)
    assert await stored_remote_ids(stack, connection.id, deleted=True) == [removed]


async def test_vendor_failure_mid_run_marks_nothing_deleted(stack: Stack) -> None:
    _, connection, connector, engine = await setup(stack)
    stack.flatchr.remove(FLATCHR_COMPANY, vendor_ids(stack)[0])
    with pytest.raises(VendorUnavailable):
        await engine.run(connection, StopAfter(connector, 2, VendorUnavailable("down")), full=True)
    assert await stored_remote_ids(stack, connection.id, deleted=True) == []
    latest = await stack.services.runs.latest(connection.id)
    assert latest.state == "failed" and "VendorUnavailable" in latest.error


async def test_removed_record_is_marked_deleted_after_the_next_full_sync(stack: Stack) -> None:
    created, connection, connector, engine = await setup(stack)
    gone = vendor_ids(stack)[5]
    stack.flatchr.remove(FLATCHR_COMPANY, gone)
    incremental = await engine.run(connection, connector)
    assert not incremental.full and incremental.deleted == 0  # incremental runs never delete
    report = await engine.run(connection, connector, full=True)
    assert report.deleted == 1
    assert await stored_remote_ids(stack, connection.id, deleted=True) == [gone]
    status = await stack.client.get(
        f"{API}/sync-status", headers=stack.headers(created["connector_token"])
    )
    body = status.json()
    assert body["state"] == "succeeded" and body["deleted"] == 1 and body["last_run_kind"] == "full"


async def test_second_sync_without_vendor_change_writes_nothing(stack: Stack) -> None:
    _, connection, connector, engine = await setup(stack)
    for full in (True, False):
        report = await engine.run(connection, connector, full=full)
        assert report.rows_written == 0


async def test_incremental_sync_uses_updated_since(stack: Stack) -> None:
    _, connection, connector, engine = await setup(stack)
    target = vendor_ids(stack)[2]
    stack.flatchr.touch(FLATCHR_COMPANY, target, lastname="Nouveau")
    report = await engine.run(connection, connector)
    assert not report.full
    assert report.seen == 1 and report.candidates.changed == 1


async def test_one_sync_per_connection_at_a_time_and_expired_leases_are_taken(stack: Stack) -> None:
    _, connection, connector, engine = await setup(stack)
    runs = stack.services.runs
    now = datetime.now(UTC)
    other = uuid.uuid4()
    assert await runs.acquire_or_queue(connection.id, other, now=now, ttl=60, want=FollowUp.AUTO)
    with pytest.raises(SyncQueued):
        await engine.run(connection, connector)
    assert (await runs.lease(connection.id)).follow_up == "auto"
    # The other holder died: once its lease expires, the next claim takes it over, with the
    # request that was queued on it.
    later = now + timedelta(seconds=61)
    third = await runs.acquire_or_queue(
        connection.id, uuid.uuid4(), now=later, ttl=60, want=FollowUp.AUTO
    )
    assert third is not None and third.follow_up is FollowUp.AUTO
    await runs.release(connection.id, third.run_id, now=later, ttl=60, successor=None)
    report = await engine.run(connection, connector)
    latest = await runs.latest(connection.id)
    assert latest is not None and latest.id == report.run_id and latest.state == "succeeded"


async def test_webhook_upserts_and_replay_is_idempotent(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    generate_applicants(stack.flatchr.companies[FLATCHR_COMPANY], size=31, seed=11)
    new_id = list(stack.flatchr.companies[FLATCHR_COMPANY].applicants)[-1]
    payload = stack.flatchr.webhook_payload(FLATCHR_COMPANY, new_id)
    first = await stack.client.post(created["webhook_url"], json=payload)
    assert first.status_code == 200 and first.json()["changed"] is True
    h = stack.headers(created["connector_token"])
    found = (
        await stack.client.get(f"{API}/candidates", params={"remote_id": new_id}, headers=h)
    ).json()["items"]
    assert found[0]["id"] == first.json()["candidate"]
    before = found[0]["modified_at"]
    replay = await stack.client.post(created["webhook_url"], json=payload)
    assert replay.json()["changed"] is False
    again = (
        await stack.client.get(f"{API}/candidates", params={"remote_id": new_id}, headers=h)
    ).json()["items"]
    assert again[0]["modified_at"] == before
    if payload["data"]["cv"]:
        attachments = (
            await stack.client.get(
                f"{API}/attachments", params={"candidate": found[0]["id"]}, headers=h
            )
        ).json()["items"]
        assert [a["attachment_type"] for a in attachments] == ["RESUME"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 422),
        (b'{"event": "new_message", "data": {}}', 422),
        (b'{"event": "new_applicant", "data": {"applicant": {}, "candidate": {}}}', 422),
        (b"[]", 422),
    ],
)
async def test_bad_webhook_bodies_are_4xx_and_change_nothing(
    stack: Stack, body: bytes, status: int
) -> None:
    created = await stack.connect_flatchr()
    h = stack.headers(created["connector_token"])
    before = (
        await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
    ).json()
    response = await stack.client.post(created["webhook_url"], content=body)
    assert response.status_code == status and response.json()["detail"]
    after = (
        await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
    ).json()
    assert after == before


async def test_wrong_webhook_secret_is_404(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    wrong = created["webhook_url"][:-6] + "abcdef"
    assert (await stack.client.post(wrong, json={})).status_code == 404


async def test_resync_request_is_accepted_and_runs(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    h = stack.headers(created["connector_token"])
    response = await stack.client.post(f"{API}/sync-status", params={"full": "true"}, headers=h)
    assert response.status_code == 202
    await asyncio.gather(*stack.services.background)
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert (
        status["state"] == "succeeded"
        and status["last_run_kind"] == "full"
        and status["seen"] == 30
    )


async def test_ids_survive_a_store_rebuild(stack: Stack) -> None:
    created, connection, connector, engine = await setup(stack)
    h = stack.headers(created["connector_token"])
    before = {
        c["remote_id"]: c["id"]
        for c in (
            await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
        ).json()["items"]
    }
    await stack.services.records.purge(connection.id)
    assert (await stack.client.get(f"{API}/candidates", headers=h)).json()["items"] == []
    await engine.run(connection, connector, full=True)
    after = {
        c["remote_id"]: c["id"]
        for c in (
            await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
        ).json()["items"]
    }
    assert after == before


async def test_rotating_the_webhook_secret_retires_the_old_url(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    rotated = await stack.client.post(
        f"{API}/connections/{created['id']}/rotate-webhook-secret",
        headers={"Authorization": f"Bearer {stack.api_key}"},
    )
    new_url = rotated.json()["webhook_url"]
    assert new_url != created["webhook_url"]
    payload = stack.flatchr.webhook_payload(FLATCHR_COMPANY, vendor_ids(stack)[0])
    assert (await stack.client.post(created["webhook_url"], json=payload)).status_code == 404
    assert (await stack.client.post(new_url, json=payload)).status_code == 200
