"""The service's parts, wired once per process (the FastAPI app, the CLI and tests share it)."""

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import ConnectorRegistry, InMemoryRateLimiter, RateLimiter, default_registry
from connectors.sdk.http import RetryPolicy
from unified_ats.connector_pool import ConnectorPool
from unified_ats.events.delivery import DeliveryWorker
from unified_ats.events.endpoints import WebhookEndpoints
from unified_ats.events.log import DeliveryLog
from unified_ats.events.targets import TargetPolicy
from unified_ats.jobs import InProcessRunner, JobRunner, make_runner
from unified_ats.reads import Reads
from unified_ats.security import CredentialCipher, derive_key, load_or_create_key
from unified_ats.settings import Settings
from unified_ats.store.accounts import Accounts
from unified_ats.store.database import make_engine, make_sessionmaker, migrate
from unified_ats.store.idempotency import IdempotencyKeys
from unified_ats.store.records import RecordStore
from unified_ats.store.staged_files import StagedFiles
from unified_ats.store.sync_runs import SyncRuns
from unified_ats.sync import SyncEngine, SyncProgress, SyncQueued, SyncReport, describe_failure
from unified_ats.writes import Writes

logger = logging.getLogger("unified_ats")


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_limiter(settings: Settings) -> RateLimiter:
    """Redis when configured (vendor limits shared by every process), else in-process."""
    if settings.redis_url:
        from unified_ats.redis_limiter import RedisRateLimiter

        return RedisRateLimiter.from_url(settings.redis_url)
    return InMemoryRateLimiter()


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    accounts: Accounts
    records: RecordStore
    pool: ConnectorPool
    runs: SyncRuns
    sync_engine: SyncEngine
    reads: Reads
    signing_key: bytes
    """Signs and seals what the API hands out and takes back (cursors, staged-file URLs)."""
    idempotency: IdempotencyKeys
    writes: Writes
    webhooks: WebhookEndpoints
    delivery: DeliveryWorker
    deliveries: DeliveryLog
    background: set[asyncio.Task[object]] = field(default_factory=set)
    watchers: dict[uuid.UUID, asyncio.Task[None]] = field(default_factory=dict)
    daemons: set[asyncio.Task[None]] = field(default_factory=set)
    jobs: JobRunner = field(init=False)
    """Who runs syncs, deliveries and the tick: in-process (SQLite) or procrastinate."""

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        registry: ConnectorRegistry | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        run_migrations: bool = True,
    ) -> "Services":
        engine = make_engine(settings.resolved_database_url())
        if run_migrations:
            await migrate(engine)
        sessions = make_sessionmaker(engine)
        if settings.encryption_keys is not None:
            keys = [k.strip() for k in settings.encryption_keys.get_secret_value().split(",")]
        else:
            keys = [load_or_create_key(settings.data_dir / "encryption.key")]
        accounts = Accounts(
            sessions,
            CredentialCipher([k for k in keys if k]),
            auth_cache_seconds=settings.auth_cache_seconds,
        )
        pool = ConnectorPool(
            accounts,
            registry or default_registry(),
            limiter=limiter or default_limiter(settings),
            allow_base_url_override=settings.allow_base_url_override,
            transports=transports,
            retry=retry,
        )
        records = RecordStore(sessions, read_cache_seconds=settings.read_cache_seconds)
        runs = SyncRuns(sessions)
        sync_engine = SyncEngine(records, accounts, runs, lease_seconds=settings.sync_lease_seconds)
        reads = Reads(records, pool, settings)
        signing_key = derive_key(next(k for k in keys if k), "signing")
        cipher = CredentialCipher([k for k in keys if k])
        writes = Writes(records, pool, StagedFiles(sessions), signing_key)
        webhooks = WebhookEndpoints(sessions, cipher)
        delivery = DeliveryWorker(
            sessions,
            webhooks,
            TargetPolicy.parse(settings.webhook_allowed_targets),
            concurrency=settings.webhook_concurrency,
            retention=timedelta(days=settings.webhook_retention_days),
            skip_locked=engine.dialect.name == "postgresql",
        )
        services = cls(
            settings,
            engine,
            accounts,
            records,
            pool,
            runs,
            sync_engine,
            reads,
            signing_key,
            IdempotencyKeys(sessions, cipher),
            writes,
            webhooks,
            delivery,
            DeliveryLog(sessions),
        )
        services.jobs = await make_runner(services)
        return services

    async def sync(
        self,
        connection_id: uuid.UUID,
        *,
        full: bool | None = None,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncReport:
        """Sync one connection now (incremental when the vendor allows, unless ``full``).

        Raises SyncQueued when a run is going: the request becomes that run's follow-up.
        """
        connection = await self.accounts.connection(connection_id)
        if connection is None:
            raise LookupError("no such connection")
        connector = await self.pool.for_connection(connection)
        try:
            return await self.sync_engine.run(connection, connector, full=full, progress=progress)
        except SyncQueued:
            if isinstance(self.jobs, InProcessRunner):
                self.jobs.watch_queued(connection_id)
            else:  # a job also asks, before this (maybe short-lived) process goes
                await self.jobs.queued_behind(connection_id, connection.tenant_id)
            raise

    async def trigger_sync(self, connection_id: uuid.UUID, *, full: bool | None = None) -> bool:
        """Ask for a sync through the job runner: True when it starts (in-process) or is next
        in line (procrastinate); False when it joined a sync running or waiting."""
        connection = await self.accounts.connection(connection_id)
        if connection is None:
            raise LookupError("no such connection")
        return await self.jobs.enqueue_sync(
            connection_id, tenant_id=connection.tenant_id, full=full
        )

    async def sync_quietly(self, connection_id: uuid.UUID, *, full: bool | None = None) -> None:
        """For the scheduler: run and wait; failures are kept in the sync status, not raised."""
        try:
            await self.sync(connection_id, full=full)
        except SyncQueued:
            logger.info("sync of %s queued behind the running one", connection_id)
        except Exception as exc:  # recorded in sync_runs (mapped, without secrets)
            logger.warning("sync of %s failed: %s", connection_id, describe_failure(exc))

    async def run_scheduler(self) -> None:
        """In-process periodic syncs (see ``InProcessRunner.run_scheduler``)."""
        await InProcessRunner(self).run_scheduler()

    def start_delivery(self) -> None:
        """Outbound webhooks from this process (single-process deployments)."""
        InProcessRunner(self).start_delivery()

    def start_jobs(self) -> None:
        """What the API process runs besides requests: in-process, the scheduler and the
        delivery worker; with procrastinate, nothing (``unified-ats worker`` does)."""
        self.jobs.start_in_api()

    def _spawn_forever(self, work: Coroutine[Any, Any, None]) -> None:
        # Kept apart from `background`: waiting for background syncs must not wait on it.
        task = asyncio.get_running_loop().create_task(work)
        self.daemons.add(task)
        task.add_done_callback(self.daemons.discard)

    async def wait_for_background(self) -> None:
        """Until every background sync (and what it queued) has finished: demo, tests, CLI."""
        while self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = [*self.background, *self.watchers.values(), *self.daemons]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.jobs.aclose()
        await self.pool.aclose()
        await self.delivery.aclose()
        closer = getattr(self.pool.limiter, "aclose", None)
        if closer is not None:
            await closer()
        await self.records.aclose()
        await self.engine.dispose()
