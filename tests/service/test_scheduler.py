"""The server's periodic syncs: every connection, at the configured interval."""

import asyncio

from tests.service.conftest import Stack


async def test_scheduler_syncs_every_connection_periodically(stack: Stack) -> None:
    await stack.connect_flatchr()
    connection = (await stack.services.accounts.connections(stack.tenant))[0]
    first = await stack.services.runs.latest(connection.id)
    stack.services.settings.sync_interval_seconds = 0.05
    scheduler = asyncio.create_task(stack.services.run_scheduler())
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            latest = await stack.services.runs.latest(connection.id)
            if latest is not None and latest.id != first.id and latest.state == "succeeded":
                break
        else:
            raise AssertionError("no periodic sync ran")
    finally:
        scheduler.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)
    assert not latest.full  # periodic runs are incremental where the vendor allows
