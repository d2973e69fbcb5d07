"""The sync engine: one connection, full or incremental, one run at a time, safe about deletions.

- Each run has its own identity (a run id), which is also its lease holder in the store. A
  request that finds a run going is coalesced into that lease's single follow-up; the holder
  runs it next, under a lease handed over without a gap.
- A heartbeat renews the lease every ``lease_seconds / 3``. A holder that dies stops renewing;
  after ``lease_seconds`` its run is ``abandoned`` and the next full run resumes its seen ids.
  A holder that finds its lease taken stops at once, without marking anything deleted.
- Pages are upserted as they arrive; only changed content gets a new ``modified_at``. A record
  that cannot be mapped or stored is quarantined (kind, remote id, reason) and the run goes on;
  a quarantined record is never marked deleted.
- Only a full run that enumerated everything marks unseen records ``remote_was_deleted``, in
  the transaction that proves it still holds the lease. A run that met a record without a
  usable id, or whose connector saw fewer records than the vendor's own total, ends
  ``partial``: nothing proves what is gone.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from connectors import Capability, Connector, ConnectorError, Quarantined
from unified_ats.store.accounts import Accounts, ConnectionInfo
from unified_ats.store.records import RecordStore, UpsertCounts, indexable
from unified_ats.store.sync_runs import (
    FAILED,
    INTERRUPTED,
    PARTIAL,
    SUCCEEDED,
    Acquired,
    FollowUp,
    LeaseLost,
    SyncRuns,
)
from unified_ats.store.tables import SyncRun

logger = logging.getLogger("unified_ats.sync")


class SyncQueued(Exception):
    """A run of this connection is going: the request became its (single) follow-up."""


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
    quarantined: int = 0
    deleted: int = 0
    incomplete_reason: str | None = None
    candidates: UpsertCounts = field(default_factory=UpsertCounts)
    attachments: UpsertCounts = field(default_factory=UpsertCounts)
    duration_seconds: float = 0.0

    @property
    def rows_written(self) -> int:
        return self.candidates.written + self.attachments.written

    @property
    def changed(self) -> int:
        return self.candidates.inserted + self.candidates.changed


def describe_failure(exc: BaseException) -> str:
    """``last_error`` text: the real reason, never SQL, values or secrets."""
    if isinstance(exc, ConnectorError):
        return f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, SQLAlchemyError):
        return f"the store failed ({type(exc).__name__}); see the server log"
    return f"internal error ({type(exc).__name__}); see the server log"


class SyncEngine:
    def __init__(
        self,
        records: RecordStore,
        accounts: Accounts,
        runs: SyncRuns,
        *,
        lease_seconds: float = 30.0,
        page_size: int = 500,
    ) -> None:
        self.records = records
        self.accounts = accounts
        self.runs = runs
        self.lease_seconds = lease_seconds
        self.page_size = page_size

    @property
    def heartbeat_seconds(self) -> float:
        return self.lease_seconds / 3

    async def claim(self, connection_id: uuid.UUID, *, full: bool | None) -> Acquired | None:
        """Take the connection's lease for a new run, or queue this request behind the holder."""
        want = FollowUp.FULL if full else FollowUp.AUTO
        return await self.runs.acquire_or_queue(
            connection_id,
            uuid.uuid4(),
            now=datetime.now(UTC),
            ttl=self.lease_seconds,
            want=want,
        )

    async def run(
        self,
        connection: ConnectionInfo,
        connector: Connector[Any],
        *,
        full: bool | None = None,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncReport:
        """Sync now, or raise SyncQueued when a run is going (it will run this request next)."""
        claim = await self.claim(connection.id, full=full)
        if claim is None:
            raise SyncQueued(f"connection {connection.id} is being synced; request queued")
        return await self.run_claimed(connection, connector, claim, full=full, progress=progress)

    async def run_claimed(
        self,
        connection: ConnectionInfo,
        connector: Connector[Any],
        claim: Acquired,
        *,
        full: bool | None = None,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncReport:
        """Run under a claimed lease, then the follow-ups handed over to us; the first run's
        report is returned (a failure of it is raised after its follow-ups ran)."""
        run_id = claim.run_id
        want_full = bool(full) or claim.follow_up is FollowUp.FULL
        first: SyncReport | None = None
        failure: Exception | None = None
        while True:
            report: SyncReport | None = None
            try:
                report = await self._run_heartbeating(
                    connection,
                    connector,
                    run_id,
                    full=True if want_full else None,
                    progress=progress if first is None else None,
                )
            except LeaseLost:
                return await self._after_lease_lost(connection, run_id, first)
            except Exception as exc:
                failure = failure or exc
            except BaseException:
                # Cancelled (shutdown, Ctrl-C): give the lease up now rather than in 30 s.
                await asyncio.shield(self._release(connection.id, run_id, successor=None))
                raise
            successor = uuid.uuid4()
            follow_up = await asyncio.shield(
                self._release(connection.id, run_id, successor=successor)
            )
            if first is None and report is not None:
                first = report
            if follow_up is None:
                break
            logger.info("running the queued %s sync of %s", follow_up.value, connection.id)
            run_id, want_full = successor, follow_up is FollowUp.FULL
        if failure is not None:
            raise failure
        assert first is not None
        return first

    async def _after_lease_lost(
        self, connection: ConnectionInfo, run_id: uuid.UUID, first: SyncReport | None
    ) -> SyncReport:
        logger.warning("sync run %s of %s lost its lease and stopped", run_id, connection.id)
        if first is not None:
            return first
        raise LeaseLost(f"sync run {run_id} lost its lease")

    async def _release(
        self, connection_id: uuid.UUID, run_id: uuid.UUID, *, successor: uuid.UUID | None
    ) -> FollowUp | None:
        return await self.runs.release(
            connection_id,
            run_id,
            now=datetime.now(UTC),
            ttl=self.lease_seconds,
            successor=successor,
        )

    async def _run_heartbeating(
        self,
        connection: ConnectionInfo,
        connector: Connector[Any],
        run_id: uuid.UUID,
        *,
        full: bool | None,
        progress: Callable[[SyncProgress], None] | None,
    ) -> SyncReport:
        """The run, with a heartbeat beside it that stops the run if the lease is lost."""
        main = asyncio.current_task()
        assert main is not None
        lost = asyncio.Event()

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.heartbeat_seconds)
                try:
                    await self.runs.heartbeat(
                        connection.id, run_id, now=datetime.now(UTC), ttl=self.lease_seconds
                    )
                except LeaseLost:
                    lost.set()
                    main.cancel()
                    return
                except Exception as exc:  # a store hiccup: the next beat tries again
                    logger.warning(
                        "heartbeat of sync run %s failed: %s", run_id, type(exc).__name__
                    )

        beating = asyncio.create_task(beat())
        try:
            return await self._run(connection, connector, run_id, full=full, progress=progress)
        except asyncio.CancelledError:
            if lost.is_set():
                raise LeaseLost(f"sync run {run_id} lost its lease") from None
            raise
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def _run(
        self,
        connection: ConnectionInfo,
        connector: Connector[Any],
        run_id: uuid.UUID,
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
        run = await self.runs.start(
            connection.id,
            run_id,
            full=is_full,
            updated_since=updated_since,
            now=started,
            ttl=self.lease_seconds,
        )
        report = SyncReport(
            connection.id,
            full=is_full,
            started_at=started,
            run_id=run.id,
            resumed=run.resumed_from is not None,
        )
        unidentified = 0
        shortfalls: list[str] = []
        try:
            async for page in connector.iter_candidates(
                updated_since=updated_since, page_size=self.page_size
            ):
                now = datetime.now(UTC)
                candidates, attachments, refused = await self.records.upsert_page(
                    connection.id, page.records, now=now
                )
                quarantined = [*page.quarantined, *refused]
                await self.runs.quarantine(run, quarantined, now=now)
                unidentified += sum(1 for q in quarantined if q.remote_id is None)
                if page.incomplete:
                    shortfalls.append(page.incomplete)
                report.seen += len(page.records)
                report.quarantined += len(quarantined)
                report.candidates += candidates
                report.attachments += attachments
                await self.runs.record_page(
                    run,
                    remote_ids=self._seen_ids(page.records, quarantined),
                    seen=len(page.records),
                    changed=candidates.inserted + candidates.changed,
                    total=page.total,
                    now=now,
                    ttl=self.lease_seconds,
                )
                if progress:
                    progress(SyncProgress(report.seen, page.total, report.changed))
            finished = datetime.now(UTC)
            state = SUCCEEDED
            if unidentified:
                # A record without a usable id may be any stored one: deleting is guesswork.
                shortfalls.append(
                    f"{unidentified} vendor record(s) without a usable id could not be mapped"
                )
            if shortfalls:
                state = PARTIAL
                report.incomplete_reason = "; ".join(shortfalls) + "; no deletions were marked"
            elif is_full:
                report.deleted = await self.runs.mark_unseen_deleted(
                    run, now=finished, ttl=self.lease_seconds
                )
                await self.accounts.mark_full_sync(connection.id, run.started_at)
            self.records.forget(connection.id)
            report.duration_seconds = time.perf_counter() - clock
            await self.runs.finish(
                run,
                state=state,
                now=finished,
                duration=report.duration_seconds,
                deleted=report.deleted,
                incomplete_reason=report.incomplete_reason,
            )
        except LeaseLost:
            raise  # the run that took over marked this one abandoned
        except Exception as exc:
            report.duration_seconds = time.perf_counter() - clock
            if not isinstance(exc, ConnectorError):
                logger.exception("sync run %s of %s failed", run.id, connection.id)
            await self.runs.finish(
                run,
                state=FAILED,
                now=datetime.now(UTC),
                duration=report.duration_seconds,
                error=describe_failure(exc),
            )
            raise
        except BaseException:
            # Cancellation or Ctrl-C: what was written stays; the next full run resumes.
            await asyncio.shield(
                self.runs.finish(
                    run,
                    state=INTERRUPTED,
                    now=datetime.now(UTC),
                    duration=time.perf_counter() - clock,
                    error="interrupted (the process stopped or the run was cancelled)",
                )
            )
            raise
        logger.info(
            "synced connection %s (%s): %d seen, %d written, %d quarantined, %d deleted in %.1fs",
            connection.id,
            "full" if is_full else "incremental",
            report.seen,
            report.rows_written,
            report.quarantined,
            report.deleted,
            report.duration_seconds,
        )
        return report

    @staticmethod
    def _seen_ids(records: Any, quarantined: list[Quarantined]) -> list[str]:
        """``c:``/``a:`` for what was stored; ``q:`` keeps a quarantined record (and its files)."""
        ids = [f"c:{r.candidate.remote_id}" for r in records]
        ids += [f"a:{a.remote_id}" for r in records for a in r.attachments]
        # An id the store could never hold has no row to protect (and would not fit the index).
        ids += [f"q:{q.remote_id}" for q in quarantined if q.remote_id and indexable(q.remote_id)]
        return ids


__all__ = ["SyncEngine", "SyncProgress", "SyncQueued", "SyncReport", "SyncRun", "describe_failure"]
