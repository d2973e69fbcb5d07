"""The sync engine: one connection, full or incremental, resumable, safe about deletions.

- Pages are upserted as they arrive; only changed content gets a new ``modified_at``.
- Incremental runs use the vendor's updated-since filter (from the last successful run's
  start); connectors without one get a full enumeration compared by content hash.
- A full run records every id it sees in the store (memory stays flat). Only when it
  completes are unseen records marked ``remote_was_deleted``: a failed or partial run never
  marks anything deleted.
- An interrupted full run (crash, vendor outage, Ctrl-C) is resumed by the next full run: same
  run, same seen ids; already-written pages are rewritten as no-ops, so nothing duplicates.
- A lease in the store makes one process at a time sync a connection; a crashed holder's lease
  expires after ``lease_seconds``.
"""

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors import Capability, Connector, ConnectorError
from unified_ats.store.accounts import Accounts, ConnectionInfo
from unified_ats.store.records import RecordStore, UpsertCounts
from unified_ats.store.sync_runs import FAILED, INTERRUPTED, SUCCEEDED, SyncRuns

logger = logging.getLogger("unified_ats.sync")


class SyncBusy(Exception):
    """Another process (or task) holds this connection's sync lease."""


@dataclass
class SyncProgress:
    seen: int
    total: int | None
    changed: int


@dataclass
class SyncReport:
    connection_id: uuid.UUID
    full: bool
    started_at: datetime
    run_id: uuid.UUID | None = None
    resumed: bool = False
    seen: int = 0
    skipped: int = 0
    deleted: int = 0
    candidates: UpsertCounts = field(default_factory=UpsertCounts)
    attachments: UpsertCounts = field(default_factory=UpsertCounts)
    duration_seconds: float = 0.0

    @property
    def rows_written(self) -> int:
        return self.candidates.written + self.attachments.written

    @property
    def changed(self) -> int:
        return self.candidates.inserted + self.candidates.changed


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncEngine:
    def __init__(
        self,
        records: RecordStore,
        accounts: Accounts,
        runs: SyncRuns,
        *,
        holder: str | None = None,
        lease_seconds: float = 120.0,
        page_size: int = 500,
    ) -> None:
        self.records = records
        self.accounts = accounts
        self.runs = runs
        self.holder = holder or default_holder()
        self.lease_seconds = lease_seconds
        self.page_size = page_size

    async def run(
        self,
        connection: ConnectionInfo,
        connector: Connector[Any],
        *,
        full: bool | None = None,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncReport:
        now = datetime.now(UTC)
        if not await self.runs.acquire_lease(
            connection.id, self.holder, now=now, ttl=self.lease_seconds
        ):
            raise SyncBusy(f"connection {connection.id} is being synced elsewhere")
        try:
            return await self._run(connection, connector, full=full, progress=progress)
        finally:
            await asyncio.shield(self.runs.release_lease(connection.id, self.holder))

    async def _run(
        self,
        connection: ConnectionInfo,
        connector: Connector[Any],
        *,
        full: bool | None,
        progress: Callable[[SyncProgress], None] | None,
    ) -> SyncReport:
        started = datetime.now(UTC)
        clock = time.perf_counter()
        updated_since = None
        if full is not True and Capability.UPDATED_SINCE in connector.capabilities:
            last = await self.runs.last_success(connection.id)
            updated_since = last.started_at if last else None
        is_full = updated_since is None
        run = await self.runs.unfinished_full_run(connection.id) if is_full else None
        report = SyncReport(
            connection.id, full=is_full, started_at=started, resumed=run is not None
        )
        if run is not None:
            await self.runs.resume(run)
        else:
            run = await self.runs.start(
                connection.id, full=is_full, updated_since=updated_since, now=started
            )
        report.run_id = run.id
        try:
            async for page in connector.iter_candidates(
                updated_since=updated_since, page_size=self.page_size
            ):
                now = datetime.now(UTC)
                candidates, attachments = await self.records.upsert(
                    connection.id, page.records, now=now
                )
                report.seen += len(page.records)
                report.skipped += page.skipped
                report.candidates += candidates
                report.attachments += attachments
                seen_ids = [f"c:{r.candidate.remote_id}" for r in page.records] + [
                    f"a:{a.remote_id}" for r in page.records for a in r.attachments
                ]
                await self.runs.record_page(
                    run,
                    remote_ids=seen_ids,
                    seen=len(page.records),
                    changed=candidates.inserted + candidates.changed,
                    total=page.total,
                )
                await self.runs.renew_lease(
                    connection.id, self.holder, now=now, ttl=self.lease_seconds
                )
                if progress:
                    progress(SyncProgress(report.seen, page.total, report.changed))
            if report.skipped:
                # Records we could not read are not proof of deletion: keep this run partial.
                raise IncompleteEnumeration(f"{report.skipped} vendor records could not be mapped")
            finished = datetime.now(UTC)
            if is_full:
                report.deleted = await self.runs.mark_unseen_deleted(
                    connection.id, run, now=finished
                )
                await self.accounts.mark_full_sync(connection.id, run.started_at)
            self.records.forget(connection.id)
            report.duration_seconds = time.perf_counter() - clock
            await self.runs.finish(
                run,
                state=SUCCEEDED,
                now=finished,
                duration=report.duration_seconds,
                deleted=report.deleted,
            )
        except (ConnectorError, IncompleteEnumeration) as exc:
            report.duration_seconds = time.perf_counter() - clock
            await self.runs.finish(
                run,
                state=FAILED,
                now=datetime.now(UTC),
                duration=report.duration_seconds,
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        except BaseException:
            # Crash, cancellation or Ctrl-C: what was written stays; the next full run resumes.
            await asyncio.shield(
                self.runs.finish(
                    run,
                    state=INTERRUPTED,
                    now=datetime.now(UTC),
                    duration=time.perf_counter() - clock,
                    error="interrupted",
                )
            )
            raise
        logger.info(
            "synced connection %s (%s): %d seen, %d written, %d deleted in %.1fs",
            connection.id,
            "full" if is_full else "incremental",
            report.seen,
            report.rows_written,
            report.deleted,
            report.duration_seconds,
        )
        return report


class IncompleteEnumeration(Exception):
    """Some vendor records were skipped: the run cannot prove what was deleted."""
