"""The service's parts, wired once per process (the FastAPI app, the CLI and tests share it)."""

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import ConnectorRegistry, InMemoryRateLimiter, RateLimiter, default_registry
from connectors.sdk.http import RetryPolicy
from unified_ats.connector_pool import ConnectorPool
from unified_ats.security import CredentialCipher, load_or_create_key
from unified_ats.settings import Settings
from unified_ats.store.accounts import Accounts
from unified_ats.store.database import make_engine, make_sessionmaker, migrate
from unified_ats.store.records import RecordStore
from unified_ats.store.sync_runs import SyncRuns
from unified_ats.sync import SyncBusy, SyncEngine, SyncProgress, SyncReport

logger = logging.getLogger("unified_ats")


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
    background: set[asyncio.Task[object]] = field(default_factory=set)

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
        return cls(
            settings, engine, accounts, records, pool, runs, SyncEngine(records, accounts, runs)
        )

    async def sync(
        self,
        connection_id: uuid.UUID,
        *,
        full: bool | None = None,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncReport:
        """Sync one connection: incremental when the vendor allows, unless ``full``."""
        connection = await self.accounts.connection(connection_id)
        if connection is None:
            raise LookupError("no such connection")
        connector = await self.pool.for_connection(connection)
        return await self.sync_engine.run(connection, connector, full=full, progress=progress)

    async def sync_quietly(self, connection_id: uuid.UUID, *, full: bool | None = None) -> None:
        """For background runs: failures are kept in the sync status, not raised."""
        try:
            await self.sync(connection_id, full=full)
        except SyncBusy:
            logger.info("sync of %s skipped: already running elsewhere", connection_id)
        except Exception as exc:  # recorded in sync_runs (mapped, without secrets)
            logger.warning("sync of %s failed: %s", connection_id, exc)

    async def run_scheduler(self) -> None:
        """Periodic syncs of every connection, at most ``max_concurrent_syncs`` at a time."""
        interval = self.settings.sync_interval_seconds
        limit = asyncio.Semaphore(self.settings.max_concurrent_syncs)

        async def one(connection_id: uuid.UUID) -> None:
            async with limit:
                await self.sync_quietly(connection_id)

        while True:
            await asyncio.sleep(interval)
            connections = await self.accounts.all_connections()
            await asyncio.gather(*(one(c.id) for c in connections))

    def sync_in_background(self, connection_id: uuid.UUID, *, full: bool | None = None) -> None:
        async def run() -> None:
            await self.sync_quietly(connection_id, full=full)

        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(run())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def aclose(self) -> None:
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.pool.aclose()
        closer = getattr(self.pool.limiter, "aclose", None)
        if closer is not None:
            await closer()
        await self.engine.dispose()
