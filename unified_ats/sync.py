"""Sync: enumerate a connection's vendor data page by page into the store.

Pages are upserted as they arrive (memory does not grow with the data set), and only records
whose content changed get a new ``modified_at``.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors import Connector
from unified_ats.store.accounts import Accounts, ConnectionInfo
from unified_ats.store.records import RecordStore, UpsertCounts

logger = logging.getLogger("unified_ats.sync")


@dataclass
class SyncReport:
    connection_id: uuid.UUID
    full: bool
    started_at: datetime
    seen: int = 0
    skipped: int = 0
    candidates: UpsertCounts = field(default_factory=UpsertCounts)
    attachments: UpsertCounts = field(default_factory=UpsertCounts)
    duration_seconds: float = 0.0

    @property
    def rows_written(self) -> int:
        return self.candidates.written + self.attachments.written


async def sync_connection(
    connection: ConnectionInfo,
    connector: Connector[object],  # type: ignore[type-var]
    records: RecordStore,
    accounts: Accounts,
    *,
    updated_since: datetime | None = None,
    page_size: int = 500,
) -> SyncReport:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    report = SyncReport(connection.id, full=updated_since is None, started_at=started)
    async for page in connector.iter_candidates(updated_since=updated_since, page_size=page_size):
        now = datetime.now(UTC)
        candidates, attachments = await records.upsert(connection.id, page.records, now=now)
        report.seen += len(page.records)
        report.skipped += page.skipped
        report.candidates += candidates
        report.attachments += attachments
    if report.full:
        await accounts.mark_full_sync(connection.id, started)
        records.forget(connection.id)
    report.duration_seconds = time.perf_counter() - clock
    logger.info(
        "synced connection %s: %d seen, %d written in %.1fs",
        connection.id,
        report.seen,
        report.rows_written,
        report.duration_seconds,
    )
    return report
