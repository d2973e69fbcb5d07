"""Syncs as procrastinate jobs on PostgreSQL: the per-connection lock and queueing lock, the
defer on a vendor 429 (``Retry-After``), fairness between tenants, the tick, ``jobs`` counts.

Workers run in this process here (``run_worker_async(wait=False)``: the jobs due now, then
stop); real worker processes, SIGTERM and ``kill -9`` are in test_jobs_workers.py."""

import asyncio
import contextlib
import itertools
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import select

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.http import RetryPolicy
from tests.service.conftest import (
    FLATCHR_COMPANY,
    FLATCHR_KEY,
    PG_URL,
    Stack,
    _postgres_ready,
    seeded_emulators,
)
from unified_ats.api.app import create_app
from unified_ats.jobs.pg import ProcrastinateRunner
from unified_ats.services import Services
from unified_ats.settings import Settings
from unified_ats.store.tables import SyncRun

pytestmark = pytest.mark.postgres
API = "/api/ats/v1"


@pytest.fixture
async def pg_url() -> str:
    problem = await _postgres_ready()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; PostgreSQL tests must run under CI")
        pytest.skip(problem)
    return PG_URL


async def start_stack(
    url: str, tmp_path: Path, *, flatchr: FlatchrEmulator | None = None, **settings: object
) -> Stack:
    base_flatchr, welcomekit, viasto = seeded_emulators()
    flatchr = flatchr or base_flatchr
    services = await Services.start(
        Settings(
            data_dir=tmp_path,
            database_url=url,
            job_runner="procrastinate",
            **settings,  # type: ignore[arg-type]
        ),
        transports={
            "flatchr": EmulatorTransport(flatchr.app),
            "welcomekit": EmulatorTransport(welcomekit.app),
            "viasto": EmulatorTransport(viasto.app),
        },
        retry=RetryPolicy(max_attempts=1, base_delay=0.001),
    )
    tenant, api_key = await services.accounts.create_tenant("acme")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(services=services)),
        base_url="http://testserver",
    )
    return Stack(services, flatchr, client, api_key, tenant, welcomekit, viasto)


@pytest.fixture
async def pg_stack(pg_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    stack = await start_stack(pg_url, tmp_path)
    yield stack
    await stack.client.aclose()
    await stack.services.aclose()


def runner(stack: Stack) -> ProcrastinateRunner:
    assert isinstance(stack.services.jobs, ProcrastinateRunner)
    return stack.services.jobs


async def work_off(stack: Stack, *, concurrency: int = 1) -> None:
    """One worker, in this process, runs the sync jobs due now, then stops."""
    await runner(stack).app.run_worker_async(
        queues=["sync"], wait=False, concurrency=concurrency, install_signal_handlers=False
    )


async def runs(services: Services, connection_id: uuid.UUID | None = None) -> list[SyncRun]:
    async with services.runs.sessions() as session:
        query = select(SyncRun).order_by(SyncRun.started_at)
        if connection_id is not None:
            query = query.where(SyncRun.connection_id == connection_id)
        return list((await session.scalars(query)).all())


async def sync_jobs(stack: Stack) -> list[dict]:
    return list(
        await runner(stack).app.connector.execute_query_all_async(
            "SELECT id, status::text AS status, args, priority, lock, queueing_lock, "
            "scheduled_at FROM procrastinate_jobs WHERE task_name = 'sync' ORDER BY id"
        )
    )


async def test_the_api_process_runs_no_sync_and_two_triggers_give_one_run(
    pg_stack: Stack,
) -> None:
    stack = pg_stack
    created = await stack.connect_flatchr()  # the first sync: a job, not a task of this process
    connection_id = uuid.UUID(created["id"])
    assert not stack.services.background
    assert await runs(stack.services) == []
    headers = stack.headers(created["connector_token"])
    status = (await stack.client.get(f"{API}/sync-status", headers=headers)).json()
    assert status["state"] == "queued" and status["queued"] is True

    # Two more triggers while one waits: both join it (queueing lock); the full one wins.
    first = await stack.client.post(f"{API}/sync-status", headers=headers)
    second = await stack.client.post(f"{API}/sync-status?full=true", headers=headers)
    assert first.json()["status"] == second.json()["status"] == "queued"
    jobs = await sync_jobs(stack)
    assert len(jobs) == 1
    assert jobs[0]["lock"] == jobs[0]["queueing_lock"] == f"sync:{connection_id}"
    assert jobs[0]["args"]["full"] is True

    await work_off(stack, concurrency=4)
    done = await runs(stack.services, connection_id)
    assert [r.state for r in done] == ["succeeded"]
    assert done[0].full
    status = (await stack.client.get(f"{API}/sync-status", headers=headers)).json()
    assert status["state"] == "succeeded" and status["queued"] is False
    assert status["seen"] == 30
    assert [j["status"] for j in await sync_jobs(stack)] == ["succeeded"]


async def test_a_request_during_a_run_waits_and_the_store_refuses_a_second_holder(
    pg_stack: Stack,
) -> None:
    """procrastinate's lock keeps a second job of the connection waiting while one runs; and
    should two runs ever start at once, the store's lease refuses the second."""
    stack = pg_stack
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    await work_off(stack)
    # A run outside the queue (``unified-ats sync``) holds the lease.
    claim = await stack.services.sync_engine.claim(connection_id, full=None)
    assert claim is not None
    assert await stack.services.trigger_sync(connection_id) is True  # enqueued, none running
    assert await stack.services.sync_engine.claim(connection_id, full=None) is None  # refused
    # The job finds the lease held: its request became the holder's follow-up, served by it.
    stack.flatchr.faults.latency = 0.5  # the holder runs while the worker starts
    holder = stack.services.sync_engine.run_claimed(
        await stack.services.accounts.connection(connection_id),  # type: ignore[arg-type]
        await stack.services.pool.for_connection(
            await stack.services.accounts.connection(connection_id)  # type: ignore[arg-type]
        ),
        claim,
    )
    await asyncio.gather(holder, work_off(stack))
    done = await runs(stack.services, connection_id)
    for before, after in itertools.pairwise(done):
        assert before.finished_at is not None and before.finished_at <= after.started_at
    assert all(r.state == "succeeded" for r in done)
    assert len(done) == 3  # the first sync, the holder's run, and the one the job asked for


async def test_a_vendor_429_defers_the_job_after_its_retry_after(pg_stack: Stack) -> None:
    stack = pg_stack
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    stack.flatchr.faults.rate_limit_storm = True
    stack.flatchr.faults.retry_after = "40"
    before = datetime.now(UTC)
    await work_off(stack)
    (job,) = await sync_jobs(stack)
    assert job["status"] == "todo"  # deferred, not failed
    wait = (job["scheduled_at"] - before).total_seconds()
    assert 38 <= wait <= 60, wait
    failed = await runs(stack.services, connection_id)
    assert [r.state for r in failed] == ["failed"]
    headers = stack.headers(created["connector_token"])
    status = (await stack.client.get(f"{API}/sync-status", headers=headers)).json()
    assert status["state"] == "queued" and "429" in (status["last_error"] or "")
    assert (await stack.client.post(f"{API}/sync-status", headers=headers)).json()[
        "status"
    ] == "queued"  # the deferred job is the one waiting

    # The vendor recovers and the job's time comes: it resumes the failed run.
    stack.flatchr.faults.rate_limit_storm = False
    await runner(stack).app.connector.execute_query_async(
        "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'"
    )
    await work_off(stack)
    done = await runs(stack.services, connection_id)
    assert [r.state for r in done] == ["failed", "succeeded"]
    assert done[1].resumed_from == done[0].id


async def test_a_small_tenant_is_not_starved_by_a_large_one(pg_url: str, tmp_path: Path) -> None:
    flatchr = FlatchrEmulator(cv_min_interval=0.0)
    for i in range(31):
        flatchr.add_company(
            company_id=f"{FLATCHR_COMPANY}{i}", api_key=f"{FLATCHR_KEY}{i}", name=f"c{i}", size=2
        )
    stack = await start_stack(pg_url, tmp_path, flatchr=flatchr)
    try:
        big, small = stack.tenant, (await stack.services.accounts.create_tenant("small"))
        for i in range(30):  # the large tenant asks first, for all of its 30 connections
            await stack.connect_flatchr(f"{FLATCHR_COMPANY}{i}", f"{FLATCHR_KEY}{i}")
        small_headers = {"Authorization": f"Bearer {small[1]}"}
        response = await stack.client.post(
            f"{API}/connections",
            json={
                "connector": "flatchr",
                "settings": {"api_key": f"{FLATCHR_KEY}30", "company_id": f"{FLATCHR_COMPANY}30"},
            },
            headers=small_headers,
        )
        assert response.status_code == 201
        small_connection = uuid.UUID(response.json()["id"])
        await work_off(stack)  # one at a time: the order is the queue's
        order = [r.connection_id for r in await runs(stack.services)]
        assert len(order) == 31
        # Its one job had priority 0, like the large tenant's first: it runs second at worst.
        assert order.index(small_connection) <= 1, order.index(small_connection)
        assert big != small[0]
    finally:
        await stack.client.aclose()
        await stack.services.aclose()


async def test_the_tick_enqueues_due_connections_capped_per_tenant(
    pg_url: str, tmp_path: Path
) -> None:
    flatchr = FlatchrEmulator(cv_min_interval=0.0)
    for i in range(8):
        flatchr.add_company(
            company_id=f"{FLATCHR_COMPANY}{i}", api_key=f"{FLATCHR_KEY}{i}", name=f"c{i}", size=1
        )
    stack = await start_stack(
        pg_url, tmp_path, flatchr=flatchr, sync_tenant_cap=3, sync_jitter_seconds=0
    )
    try:
        for i in range(8):
            await stack.connect_flatchr(f"{FLATCHR_COMPANY}{i}", f"{FLATCHR_KEY}{i}")
        await work_off(stack, concurrency=4)
        assert len(await runs(stack.services)) == 8
        assert await runner(stack).tick() == 0  # synced within the interval: nothing due
        stack.services.settings.sync_interval_seconds = 0.001
        assert await runner(stack).tick() == 3  # all due; the tenant's cap
        assert await runner(stack).tick() == 0  # still 3 outstanding
        counts = {c.kind: c for c in await runner(stack).counts()}
        assert counts["sync"].queued == 3 and counts["sync"].running == 0
        await work_off(stack, concurrency=4)
        assert len(await runs(stack.services)) == 11
    finally:
        await stack.client.aclose()
        await stack.services.aclose()


async def test_priorities_follow_each_tenants_outstanding_jobs(pg_url: str, tmp_path: Path) -> None:
    """A large tenant's late job moves up as its earlier ones finish (no starvation of its
    tail by a stream of small tenants' requests)."""
    stack = await start_stack(pg_url, tmp_path)
    try:
        jobs = runner(stack)
        big, small = uuid.uuid4(), uuid.uuid4()
        big_connections = [uuid.uuid4() for _ in range(5)]
        for connection_id in big_connections:
            await jobs.enqueue_sync(connection_id, tenant_id=big, full=None)
        await jobs.enqueue_sync(uuid.uuid4(), tenant_id=small, full=None)
        before = {j["args"]["connection_id"]: j["priority"] for j in await sync_jobs(stack)}
        assert [before[str(c)] for c in big_connections] == [0, -1, -2, -3, -4]
        # The first four of the large tenant finish; the small tenant asks again and again.
        await jobs.app.connector.execute_query_async(
            "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE args->>'connection_id' "
            "= ANY(%(ids)s)",
            ids=[str(c) for c in big_connections[:4]],
        )
        for _ in range(3):
            await jobs.enqueue_sync(uuid.uuid4(), tenant_id=small, full=None)
        await jobs.rebalance()
        after = {
            j["args"]["connection_id"]: j["priority"]
            for j in await sync_jobs(stack)
            if j["status"] == "todo"
        }
        assert after[str(big_connections[4])] == 0  # first in line again, beside small's first
        assert sorted(v for k, v in after.items() if k != str(big_connections[4])) == [
            -3,
            -2,
            -1,
            0,
        ]
    finally:
        await stack.client.aclose()
        await stack.services.aclose()


async def test_webhook_deliveries_run_as_a_job_not_in_the_api_process(pg_stack: Stack) -> None:
    from tests.service.test_outbound_webhooks import Receiver, subscribe, use_receiver

    stack = pg_stack
    received = Receiver()
    use_receiver(stack, received)
    endpoint = await subscribe(stack)
    stack.services.start_jobs()  # what `serve`'s lifespan does: nothing in this mode
    assert not stack.services.daemons
    created = await stack.connect_flatchr()
    await work_off(stack)  # the sync job writes its events to the outbox
    await asyncio.sleep(0.3)
    assert received.requests == []  # nobody delivers in the API process
    # The periodic `deliver` job, as a worker runs it.
    task = runner(stack).app.tasks["deliver"]
    with contextlib.suppress(AlreadyEnqueued):  # the worker above may have deferred it already
        await task.defer_async(timestamp=0)
    await runner(stack).app.run_worker_async(
        queues=["deliveries"], wait=False, install_signal_handlers=False
    )
    types = [e["type"] for e in received.events(endpoint["secret"])]
    assert types[0] == "connection.created" and "sync.succeeded" in types
    assert {e["data"].get("connection_id") for e in received.events()} >= {created["id"]}
