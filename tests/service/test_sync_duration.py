"""``duration_seconds`` of a resumed run counts the work of the runs it took over, as its
counts do (``seen`` carries on from them): never the gap between runs, never twice."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.service.conftest import Stack
from tests.service.test_sync import StopAfter, setup
from unified_ats.store.sync_runs import FollowUp

API = "/api/ats/v1"


async def test_a_run_resumed_after_an_interruption_adds_the_interrupted_runs_time(
    stack: Stack,
) -> None:
    created, connection, connector, engine = await setup(stack)
    with pytest.raises(asyncio.CancelledError):
        await engine.run(connection, StopAfter(connector, 2, asyncio.CancelledError()), full=True)
    interrupted = await stack.services.runs.latest(connection.id)
    assert interrupted.state == "interrupted" and interrupted.duration_seconds is not None
    await asyncio.sleep(0.3)  # the gap between the runs is not work
    report = await engine.run(connection, connector, full=True)
    assert report.resumed
    resumed = await stack.services.runs.latest(connection.id)
    assert resumed.resumed_from == interrupted.id and resumed.seen > report.seen
    expected = interrupted.duration_seconds + report.duration_seconds
    assert resumed.duration_seconds == pytest.approx(expected, abs=1e-6)
    status = (
        await stack.client.get(
            f"{API}/sync-status", headers=stack.headers(created["connector_token"])
        )
    ).json()
    assert status["resumed"] is True
    assert status["duration_seconds"] == pytest.approx(expected, abs=1e-6)


async def test_a_run_resumed_after_its_process_died_adds_the_dead_runs_working_time(
    stack: Stack,
) -> None:
    _, connection, connector, engine = await setup(stack)
    runs = stack.services.runs
    # A process starts a full run, works 0.2 s (its last heartbeat), and is killed: its run
    # has no duration. Its lease expires 0.1 s later; the next run starts 0.5 s after it died.
    started = datetime.now(UTC)
    dead = await runs.acquire_or_queue(
        connection.id, uuid.uuid4(), now=started, ttl=0.1, want=FollowUp.AUTO
    )
    assert dead is not None
    run = await runs.start(
        connection.id, dead.run_id, full=True, updated_since=None, now=started, ttl=0.1
    )
    last_heartbeat = started + timedelta(seconds=0.2)
    await runs.record_page(
        run, remote_ids=["a", "b"], seen=2, changed=0, total=None, now=last_heartbeat, ttl=0.1
    )
    await asyncio.sleep(0.7)
    report = await engine.run(connection, connector, full=True)
    assert report.resumed
    resumed = await runs.latest(connection.id)
    assert resumed.resumed_from == dead.run_id
    # 0.2 s of the dead run's work, not the 0.7 s since it started.
    assert resumed.duration_seconds == pytest.approx(0.2 + report.duration_seconds, abs=1e-3)


async def test_a_run_that_resumed_nothing_counts_only_itself(stack: Stack) -> None:
    _, connection, connector, engine = await setup(stack)
    report = await engine.run(connection, connector, full=True)
    assert not report.resumed
    latest = await stack.services.runs.latest(connection.id)
    assert latest.duration_seconds == pytest.approx(report.duration_seconds, abs=1e-6)
