"""The in-process runner: every job is a task of the API process (SQLite's single process).

A sync request claims the connection's lease and runs in the background, or becomes the
running sync's follow-up; a queued request is watched so that it is not lost with a dead
holder. The scheduler syncs every connection every ``sync_interval_seconds``, and the outbound
webhook worker loops on ``DeliveryWorker.run_once()``, both inside the process.
"""

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from unified_ats.jobs.base import JobCounts, JobKind
from unified_ats.store.sync_runs import FAILED, RUNNING, Acquired
from unified_ats.store.tables import SyncLease, SyncRun, WebhookDelivery
from unified_ats.sync import describe_failure

if TYPE_CHECKING:
    from unified_ats.services import Services

logger = logging.getLogger("unified_ats.jobs")


def utcnow() -> datetime:
    return datetime.now(UTC)


class InProcessRunner:
    name = "inprocess"

    def __init__(self, services: "Services") -> None:
        self.services = services

    # --- syncs ---------------------------------------------------------------------------------

    async def enqueue_sync(
        self, connection_id: uuid.UUID, *, tenant_id: uuid.UUID, full: bool | None
    ) -> bool:
        claim = await self.services.sync_engine.claim(connection_id, full=full)
        if claim is None:
            self.watch_queued(connection_id)
            return False
        self._spawn(self.run_claimed(connection_id, claim, full=full))
        return True

    async def queued_behind(self, connection_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        self.watch_queued(connection_id)

    async def sync_waiting(self, connection_id: uuid.UUID) -> bool:
        return False  # a waiting request lives in the lease's follow-up (SyncRuns)

    async def run_claimed(
        self, connection_id: uuid.UUID, claim: Acquired, *, full: bool | None
    ) -> None:
        """A background run: failures are kept in the sync status (mapped), not raised."""
        services = self.services
        try:
            connection = await services.accounts.connection(connection_id)
            if connection is None:
                await services.runs.release(
                    connection_id, claim.run_id, now=utcnow(), ttl=0, successor=None
                )
                return
            connector = await services.pool.for_connection(connection)
            await services.sync_engine.run_claimed(connection, connector, claim, full=full)
        except Exception as exc:  # recorded in sync_runs (mapped, without secrets)
            logger.warning("sync of %s failed: %s", connection_id, describe_failure(exc))

    def watch_queued(self, connection_id: uuid.UUID) -> None:
        """A queued request must not die with a crashed holder: watch its lease until the
        holder serves the follow-up, or take the lease over when it expires and serve it."""
        services = self.services
        if connection_id in services.watchers:
            return

        async def watch() -> None:
            try:
                while True:
                    await asyncio.sleep(services.sync_engine.heartbeat_seconds)
                    lease = await services.runs.lease(connection_id)
                    if lease is None or lease.follow_up is None:
                        return  # served (or dropped with the connection)
                    if lease.expires_at >= utcnow():
                        continue
                    claim = await services.sync_engine.claim(connection_id, full=None)
                    if claim is not None:
                        await self.run_claimed(connection_id, claim, full=None)
                        return
            finally:
                services.watchers.pop(connection_id, None)

        # Not in `background`: waiting for background work must not wait on a live holder.
        services.watchers[connection_id] = asyncio.get_running_loop().create_task(watch())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(work)
        self.services.background.add(task)
        task.add_done_callback(self.services.background.discard)
        return task

    async def run_scheduler(self) -> None:
        """Periodic syncs of every connection, at most ``max_concurrent_syncs`` at a time."""
        services = self.services
        interval = services.settings.sync_interval_seconds
        limit = asyncio.Semaphore(services.settings.max_concurrent_syncs)

        async def one(connection_id: uuid.UUID) -> None:
            async with limit:
                await services.sync_quietly(connection_id)

        while True:
            await asyncio.sleep(interval)
            connections = await services.accounts.all_connections()
            await asyncio.gather(*(one(c.id) for c in connections))

    # --- deliveries, the API process -----------------------------------------------------------

    def start_delivery(self) -> None:
        """Outbound webhooks from this process (single-process deployments)."""
        self._spawn_forever(self.services.delivery.run())

    def _spawn_forever(self, work: Coroutine[Any, Any, None]) -> None:
        # Kept apart from `background`: waiting for background syncs must not wait on it.
        task = asyncio.get_running_loop().create_task(work)
        self.services.daemons.add(task)
        task.add_done_callback(self.services.daemons.discard)

    def start_in_api(self) -> None:
        settings = self.services.settings
        if settings.sync_interval_seconds > 0:
            self._spawn_forever(self.run_scheduler())
        if settings.webhook_delivery:
            self.start_delivery()

    # --- the operator's view -------------------------------------------------------------------

    async def counts(self) -> list[JobCounts]:
        """From the store (any process sees it): syncs running (fresh heartbeat) and waiting
        (a lease's follow-up), runs failed in the last day; deliveries pending, being sent
        (held) and given up."""
        now = utcnow()
        lease = timedelta(seconds=self.services.sync_engine.lease_seconds)
        async with self.services.runs.sessions() as session:
            running = await session.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(SyncRun.state == RUNNING, SyncRun.heartbeat_at >= now - lease)
            )
            queued = await session.scalar(
                select(func.count()).select_from(SyncLease).where(SyncLease.follow_up.is_not(None))
            )
            failed = await session.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(SyncRun.state == FAILED, SyncRun.started_at >= now - timedelta(days=1))
            )
            held = WebhookDelivery.locked_until.is_not(None) & (WebhookDelivery.locked_until > now)
            sending = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.state == "pending", held)
            )
            pending = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.state == "pending")
            )
            given_up = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.state == "failed")
            )
        return [
            JobCounts(JobKind.SYNC, queued or 0, running or 0, failed or 0),
            JobCounts(
                JobKind.DELIVER, (pending or 0) - (sending or 0), sending or 0, given_up or 0
            ),
        ]

    async def aclose(self) -> None:
        return None
