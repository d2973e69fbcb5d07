"""Real ``unified-ats worker`` processes on PostgreSQL: a worker stopped by SIGTERM gives its
sync back (the page in flight is not committed, the run ``interrupted``) and another worker
resumes it; after ``kill -9`` the job resumes on another worker within 60 s. Either way: every
vendor record stored, none marked deleted, no two runs of the connection overlapping."""

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.service.conftest import PG_URL, _postgres_ready
from unified_ats.demo.emulators import account_settings
from unified_ats.onboarding import connect
from unified_ats.services import Services
from unified_ats.settings import Settings
from unified_ats.store.records import CandidateQuery
from unified_ats.store.tables import SyncRun

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
SIZE = 120


@dataclass
class Setup:
    services: Services
    env: dict[str, str]
    emulator: str
    connection_id: uuid.UUID
    tmp: Path


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "unified_ats.cli", "emulator", "welcomekit"),
            *("--size", str(SIZE)),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    info = json.loads(process.stdout.readline())
    # Small, slow pages: a full sync takes a few seconds, long enough to stop a worker in it.
    httpx.post(
        f"{info['base_url']}/_emulator/faults", json={"page_size_cap": 5, "latency": 0.15}
    ).raise_for_status()
    yield info["base_url"]
    process.kill()
    process.wait(timeout=5)


@pytest.fixture
async def setup(emulator: str, tmp_path: Path) -> AsyncIterator[Setup]:
    problem = await _postgres_ready()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; PostgreSQL tests must run under CI")
        pytest.skip(problem)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "UNIFIED_ATS_DATABASE_URL": PG_URL,
        "UNIFIED_ATS_DATA_DIR": str(tmp_path),
        "UNIFIED_ATS_ALLOW_BASE_URL_OVERRIDE": "true",
        "UNIFIED_ATS_JOB_RUNNER": "procrastinate",
        "UNIFIED_ATS_WORKER_SHUTDOWN_SECONDS": "1",
        "UNIFIED_ATS_WEBHOOK_ALLOWED_TARGETS": "",
    }
    settings = Settings(
        data_dir=tmp_path,
        database_url=PG_URL,
        allow_base_url_override=True,
        job_runner="procrastinate",
    )
    services = await Services.start(settings)
    tenant, _ = await services.accounts.create_tenant("acme")
    connection, _, _ = await connect(
        services, tenant, "welcomekit", account_settings("welcomekit", emulator), sync_now=False
    )
    connection_id = connection.id
    yield Setup(services, env, emulator, connection_id, tmp_path)
    await services.aclose()


def start_worker(setup: Setup, name: str) -> subprocess.Popen[bytes]:
    log = (setup.tmp / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "unified_ats.cli", "worker", "--concurrency", "2", "--name", name],
        cwd=setup.tmp,
        env=setup.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def runs(services: Services, connection_id: uuid.UUID) -> list[SyncRun]:
    async with services.runs.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(SyncRun)
                    .where(SyncRun.connection_id == connection_id)
                    .order_by(SyncRun.started_at)
                )
            ).all()
        )


async def wait_for(check, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def mid_run(setup: Setup) -> SyncRun:
    async def check() -> SyncRun | None:
        found = await runs(setup.services, setup.connection_id)
        return (
            found[-1] if found and found[-1].state == "running" and found[-1].seen >= 10 else None
        )

    return await wait_for(check, 60, "a sync run in progress")


async def assert_safe(setup: Setup) -> list[SyncRun]:
    done = await runs(setup.services, setup.connection_id)
    for before, after in itertools.pairwise(done):
        assert before.finished_at is not None, "a run never finished"
        assert before.finished_at <= after.started_at, "two runs of one connection overlapped"
    assert done[-1].state == "succeeded"
    assert done[-1].resumed_from is not None
    rows = await setup.services.records.candidates(
        setup.connection_id, CandidateQuery(include_deleted=True), after=0, limit=100_000
    )
    assert len(rows) == SIZE  # nothing lost
    assert not [r for r in rows if r.model.remote_was_deleted]  # nothing wrongly deleted
    return done


async def finished(setup: Setup) -> SyncRun | None:
    found = await runs(setup.services, setup.connection_id)
    return found[-1] if found and found[-1].state == "succeeded" else None


async def test_sigterm_gives_the_sync_back_and_another_worker_resumes_it(setup: Setup) -> None:
    first = start_worker(setup, "a")
    second = None
    try:
        assert await setup.services.trigger_sync(setup.connection_id, full=True)
        interrupted = await mid_run(setup)
        second = start_worker(setup, "b")
        await asyncio.sleep(2)  # b is up
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 30) == 0
        await wait_for(lambda: finished(setup), 60, "the resumed run")
        done = await assert_safe(setup)
        assert done[0].id == interrupted.id and done[0].state == "interrupted"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


async def test_after_kill_9_the_job_resumes_on_another_worker_within_60s(setup: Setup) -> None:
    first = start_worker(setup, "a")
    second = None
    try:
        assert await setup.services.trigger_sync(setup.connection_id, full=True)
        killed = await mid_run(setup)
        second = start_worker(setup, "b")
        await asyncio.sleep(2)
        first.kill()  # SIGKILL: no goodbye, no lease released, no job status written
        first.wait()
        killed_at = time.monotonic()

        async def resumed() -> SyncRun | None:
            found = await runs(setup.services, setup.connection_id)
            return found[-1] if found[-1].id != killed.id else None

        successor = await wait_for(resumed, 60, "another worker to resume the sync")
        assert time.monotonic() - killed_at <= 60
        assert successor.resumed_from == killed.id
        await wait_for(lambda: finished(setup), 60, "the resumed run")
        done = await assert_safe(setup)
        assert done[0].state == "abandoned"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
