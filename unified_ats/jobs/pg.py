"""Jobs on PostgreSQL with procrastinate: syncs, webhook deliveries and the periodic tick.

- **A sync is a job** of task ``sync`` with ``lock="sync:<connection id>"`` (one running per
  connection) and the same ``queueing_lock`` (one waiting: a second request joins it, and a full
  request makes the waiting one full). Under the job, the store's lease still guards the run:
  if two workers ever ran one connection, the store refuses the second (``SyncRuns``).
- **Vendor 429/5xx/timeouts** retry the job later (``SyncRetry``), after the vendor's
  ``Retry-After`` when it sent one, else with exponential backoff; the failed run is resumed.
- **A worker stopping** (SIGTERM) gives its jobs ``worker_shutdown_seconds`` to finish; the
  rest are cancelled (their page is not committed, the lease released, the run ``interrupted``)
  and retried at once, by whichever worker fetches them. **A worker dying** (``kill -9``) stops
  its heartbeat: the ``recover`` task, every 5 s on any worker, retries the jobs of workers
  silent for ``worker_stalled_seconds``; the retried sync takes the dead run's lease over when it
  expires and resumes its seen ids.
- **Periodic tasks** (deferred once per period whatever the number of workers): ``tick``
  enqueues the connections due (fairly, with jitter; see ``fairness``), ``deliver`` runs
  ``DeliveryWorker.run_once()`` until idle, ``recover`` and ``prune`` keep the queue healthy.
"""

import asyncio
import logging
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from procrastinate import App, PsycopgConnector, exceptions
from procrastinate.jobs import Job, Status
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from connectors import ConnectorError, RateLimited, VendorTimeout, VendorUnavailable
from unified_ats.jobs.base import JobCounts, JobKind
from unified_ats.jobs.fairness import MAX_PENALTY, priority_for, round_robin
from unified_ats.settings import Settings
from unified_ats.store.sync_runs import LeaseLost

if TYPE_CHECKING:
    from unified_ats.services import Services

logger = logging.getLogger("unified_ats.jobs")

SYNC_QUEUE, DELIVERY_QUEUE, MAINTENANCE_QUEUE = "sync", "deliveries", "maintenance"
HEARTBEAT_SECONDS = 5.0
"""procrastinate's worker heartbeat (a dead worker is noticed after ``worker_stalled_seconds``)."""
DELIVERY_BURST_SECONDS = 20.0
RECOVER_EVERY_SECONDS = 5


def sync_lock(connection_id: uuid.UUID | str) -> str:
    return f"sync:{connection_id}"


def psycopg_conninfo(url: str) -> str:
    """Our SQLAlchemy URL (``postgresql+asyncpg://…``) as libpq connection info."""
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("postgres"):
        raise ValueError("procrastinate jobs need a PostgreSQL database URL")
    return f"postgresql://{rest}"


def every(seconds: float) -> str:
    """A cron line firing every ``seconds`` (procrastinate takes a 6th, seconds column)."""
    whole = max(1, int(seconds))
    if whole < 60:
        return f"* * * * * */{whole}"
    return f"*/{max(1, whole // 60)} * * * *"


class SyncRetry(BaseRetryStrategy):
    """Retry a sync job on what passes: the vendor's 429 (after its ``Retry-After``), 5xx and
    timeouts (exponential backoff), and a worker shutting down (at once, elsewhere)."""

    def __init__(self, max_attempts: int, *, base_delay: float = 5.0, cap: float = 600.0):
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.cap = cap

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision(retry_in={"seconds": 0})  # the worker stops: run it elsewhere
        if job.attempts + 1 >= self.max_attempts:
            return None
        if not isinstance(exception, RateLimited | VendorUnavailable | VendorTimeout):
            return None  # auth, bad data, a lost lease: retrying will not help
        backoff = min(self.cap, self.base_delay * 2**job.attempts)
        retry_after = getattr(exception, "retry_after", None)
        wait = min(self.cap, retry_after) if retry_after is not None else backoff
        return RetryDecision(retry_in={"seconds": wait})


class ProcrastinateRunner:
    name = "procrastinate"

    def __init__(self, services: "Services", settings: Settings) -> None:
        self.services = services
        self.settings = settings
        self.app = App(
            connector=PsycopgConnector(
                conninfo=psycopg_conninfo(settings.resolved_database_url()),
                min_size=1,
                max_size=4,
            )
        )
        self._register()

    async def open(self) -> None:
        await self.app.open_async()

    async def aclose(self) -> None:
        await self.app.close_async()

    # --- the tasks -----------------------------------------------------------------------------

    def _register(self) -> None:
        app, settings = self.app, self.settings

        @app.task(
            name=JobKind.SYNC.value,
            queue=SYNC_QUEUE,
            retry=SyncRetry(settings.sync_max_attempts),
        )
        async def sync(connection_id: str, tenant_id: str, full: bool = False) -> str:
            return await self.run_sync(uuid.UUID(connection_id), full=full)

        @app.periodic(cron=every(settings.sync_tick_seconds))
        @app.task(name=JobKind.TICK.value, queue=MAINTENANCE_QUEUE, queueing_lock="tick")
        async def tick(timestamp: int) -> int:
            return await self.tick()

        @app.periodic(cron=every(2))
        @app.task(name=JobKind.DELIVER.value, queue=DELIVERY_QUEUE, queueing_lock="deliver")
        async def deliver(timestamp: int) -> int:
            return await self.deliver()

        @app.periodic(cron=every(RECOVER_EVERY_SECONDS))
        @app.task(name=JobKind.RECOVER.value, queue=MAINTENANCE_QUEUE, queueing_lock="recover")
        async def recover(timestamp: int) -> int:
            return await self.recover()

        @app.periodic(cron="7 * * * *")
        @app.task(name=JobKind.PRUNE.value, queue=MAINTENANCE_QUEUE, queueing_lock="prune")
        async def prune(timestamp: int) -> None:
            manager = self.app.job_manager
            await manager.delete_old_jobs(nb_hours=24, queue=SYNC_QUEUE)
            await manager.delete_old_jobs(nb_hours=1, queue=DELIVERY_QUEUE)
            await manager.delete_old_jobs(nb_hours=1, queue=MAINTENANCE_QUEUE)

        self.sync_task = sync

    # --- enqueueing ----------------------------------------------------------------------------

    async def enqueue_sync(
        self, connection_id: uuid.UUID, *, tenant_id: uuid.UUID, full: bool | None
    ) -> bool:
        lock = sync_lock(connection_id)
        outstanding = await self._outstanding(tenant_id)
        try:
            await self.sync_task.configure(
                lock=lock, queueing_lock=lock, priority=priority_for(outstanding)
            ).defer_async(
                connection_id=str(connection_id), tenant_id=str(tenant_id), full=bool(full)
            )
        except exceptions.AlreadyEnqueued:
            if full:  # a full request wins over the incremental one waiting
                await self.app.connector.execute_query_async(
                    "UPDATE procrastinate_jobs SET args = jsonb_set(args, '{full}', 'true') "
                    "WHERE queueing_lock = %(lock)s AND status = 'todo'",
                    lock=lock,
                )
            return False
        running = await self.app.connector.execute_query_one_async(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE lock = %(lock)s "
            "AND status = 'doing'",
            lock=lock,
        )
        return not running["n"]

    async def queued_behind(self, connection_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        # The follow-up sits in the lease; a job also asks, so a dead holder loses nothing.
        await self.enqueue_sync(connection_id, tenant_id=tenant_id, full=None)

    async def sync_waiting(self, connection_id: uuid.UUID) -> bool:
        row = await self.app.connector.execute_query_one_async(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE queueing_lock = %(lock)s "
            "AND status = 'todo'",
            lock=sync_lock(connection_id),
        )
        return bool(row["n"])

    async def _outstanding(self, tenant_id: uuid.UUID) -> int:
        row = await self.app.connector.execute_query_one_async(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE task_name = 'sync' "
            "AND status IN ('todo', 'doing') AND args->>'tenant_id' = %(tenant)s",
            tenant=str(tenant_id),
        )
        return int(row["n"])

    # --- running a sync ------------------------------------------------------------------------

    async def run_sync(self, connection_id: uuid.UUID, *, full: bool) -> str:
        """Claim the connection's lease (procrastinate's lock says no other job runs it) and
        run. The lease may still be held: by a run outside the queue (``unified-ats sync``),
        which then serves this request as its follow-up, or by a dead worker's run, whose lease
        expires within ``sync_lease_seconds``: then this job takes it over and resumes."""
        services = self.services
        engine = services.sync_engine
        connection = await services.accounts.connection(connection_id)
        if connection is None:
            return "connection gone"
        connector = await services.pool.for_connection(connection)
        claim = await engine.claim(connection_id, full=full or None)
        while claim is None:
            lease = await services.runs.lease(connection_id)
            if lease is not None and lease.follow_up is None:
                return "served by the run that held the lease"
            if lease is None or lease.expires_at < datetime.now(UTC):
                claim = await engine.claim(connection_id, full=full or None)
                continue
            await asyncio.sleep(min(engine.heartbeat_seconds, 2.0))
        try:
            report = await engine.run_claimed(connection, connector, claim, full=full or None)
        except LeaseLost:
            return "lost the lease to another run"
        except ConnectorError as exc:
            logger.warning("sync of %s failed: %s", connection_id, exc.message)
            raise
        return f"{'full' if report.full else 'incremental'}: {report.seen} seen"

    # --- periodic ------------------------------------------------------------------------------

    async def tick(self) -> int:
        """Enqueue the connections not synced for ``sync_interval_seconds``: tenants
        interleaved, capped per tenant, each start delayed by a random jitter."""
        settings, services = self.settings, self.services
        interval = settings.sync_interval_seconds
        if interval <= 0:
            return 0
        now = datetime.now(UTC)
        connections = await services.accounts.all_connections()
        last = await services.runs.last_started()
        rows = await self.app.connector.execute_query_all_async(
            "SELECT args->>'tenant_id' AS tenant, args->>'connection_id' AS connection "
            "FROM procrastinate_jobs WHERE task_name = 'sync' AND status IN ('todo', 'doing')"
        )
        busy = {row["connection"] for row in rows}
        load = Counter(uuid.UUID(row["tenant"]) for row in rows if row["tenant"])
        due = [
            (c.tenant_id, c.id)
            for c in connections
            if str(c.id) not in busy
            and (c.id not in last or now - last[c.id] >= timedelta(seconds=interval))
        ]
        enqueued = 0
        jitter = min(settings.sync_jitter_seconds, interval)
        for tenant, connection_id, priority in round_robin(due, load, cap=settings.sync_tenant_cap):
            lock = sync_lock(connection_id)
            try:
                await self.sync_task.configure(
                    lock=lock,
                    queueing_lock=lock,
                    priority=priority,
                    schedule_in={"seconds": int(random.uniform(0, jitter))},
                ).defer_async(connection_id=str(connection_id), tenant_id=str(tenant), full=False)
                enqueued += 1
            except exceptions.AlreadyEnqueued:
                continue
        return enqueued

    async def deliver(self) -> int:
        """Outbound webhooks: ``run_once()`` until idle (at most a short burst; the next
        period's job goes on)."""
        done, started = 0, time.monotonic()
        while time.monotonic() - started < DELIVERY_BURST_SECONDS:
            busy = await self.services.delivery.run_once()
            done += busy
            if not busy:
                break
        return done

    async def rebalance(self) -> int:
        """Priorities of waiting syncs by their rank in their tenant's outstanding jobs (running
        ones first, then by age): a job enqueued as a large tenant's 500th moves up as the 499
        before it finish, so neither a small tenant nor a large one's tail starves."""
        rows = await self.app.connector.execute_query_all_async(
            "WITH ranked AS (SELECT id, status, row_number() OVER (PARTITION BY "
            "args->>'tenant_id' ORDER BY (status = 'doing') DESC, id) - 1 AS rank "
            "FROM procrastinate_jobs WHERE task_name = 'sync' AND status IN ('todo', 'doing')) "
            "UPDATE procrastinate_jobs AS j SET priority = -LEAST(ranked.rank, %(cap)s) "
            "FROM ranked WHERE j.id = ranked.id AND ranked.status = 'todo' "
            "AND j.status = 'todo' AND j.priority <> -LEAST(ranked.rank, %(cap)s) RETURNING j.id",
            cap=MAX_PENALTY,
        )
        return len(rows)

    async def recover(self) -> int:
        """Put back in the queue the jobs of workers that stopped beating (``kill -9``), and
        bring waiting syncs' priorities up to date (``rebalance``)."""
        await self.rebalance()
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.settings.worker_stalled_seconds
        )
        retried = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
                retried += 1
                logger.warning("job %s of a dead worker is queued again", job.call_string)
            except exceptions.ConnectorException:
                # Another job with its queueing lock already waits: it does the work.
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        return retried

    # --- the operator's view -------------------------------------------------------------------

    async def counts(self) -> list[JobCounts]:
        rows = await self.app.connector.execute_query_all_async(
            "SELECT task_name, status::text AS status, count(*) AS n FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing', 'failed') GROUP BY task_name, status"
        )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["task_name"], {})[row["status"]] = int(row["n"])
        return [
            JobCounts(
                kind.value,
                found.get(kind.value, {}).get("todo", 0),
                found.get(kind.value, {}).get("doing", 0),
                found.get(kind.value, {}).get("failed", 0),
            )
            for kind in JobKind
        ]

    def start_in_api(self) -> None:
        """The API process runs no job: ``unified-ats worker`` processes do."""

    # --- the worker process --------------------------------------------------------------------

    async def run_worker(self, *, concurrency: int, name: str = "worker") -> None:
        """Until SIGTERM/SIGINT: jobs of every queue, ``concurrency`` at a time."""
        await self.app.run_worker_async(
            concurrency=concurrency,
            name=name,
            shutdown_graceful_timeout=self.settings.worker_shutdown_seconds,
            update_heartbeat_interval=HEARTBEAT_SECONDS,
            stalled_worker_timeout=self.settings.worker_stalled_seconds,
        )
