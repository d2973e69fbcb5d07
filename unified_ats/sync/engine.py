"""The sync engine: one connection, full or incremental, one run at a time, safe about deletions.

- Each run has its own identity (a run id), which is also its lease holder in the store. A
  request that finds a run going is coalesced into that lease's single follow-up; the holder
  runs it next, under a lease handed over without a gap.
- A heartbeat renews the lease every ``lease_seconds / 3``. A holder that dies stops renewing;
  after ``lease_seconds`` its run is ``abandoned`` and the next full run resumes its seen ids.
  A holder that finds its lease taken stops at once, without marking anything deleted.
- Pages are upserted as they arrive, the next one fetched meanwhile (one page ahead); only
  changed content gets a new ``modified_at``. A connector with source digests skips vendor
  records whose digest the store already holds: they count as seen (with what their last
  mapping held), so skipping never makes a record look deleted. A record
  that cannot be mapped or stored is quarantined (kind, remote id, reason) and the run goes on;
  a quarantined record is never marked deleted.
- One engine for every model: jobs with their stages are enumerated first (so applications
  find their jobs), then candidates with their attachments and applications.
- Only a full run marks unseen records ``remote_was_deleted``, and only for an enumeration it
  completed (jobs and candidates each decide for themselves), in the transaction that proves it
  still holds the lease. An enumeration that met a record without a usable id, or whose
  connector saw fewer records than the vendor's own total, marks nothing of its own deleted and
  the run ends ``partial``.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from connectors import (
    CandidatePage,
    CandidateRecord,
    Capability,
    Connector,
    ConnectorError,
    JobPage,
    JobRecord,
    Quarantined,
)
from unified_ats.store.accounts import Accounts, ConnectionInfo
from unified_ats.store.records import (
    KnownSources,
    RecordStore,
    UpsertCounts,
    WriteCounts,
    indexable,
)
from unified_ats.store.statistics import GrowthWatch
from unified_ats.store.sync_runs import (
    FAILED,
    INTERRUPTED,
    PARTIAL,
    SUCCEEDED,
    Acquired,
    Enumeration,
    FollowUp,
    LeaseLost,
    SyncRuns,
    quarantined_id,
    seen_id,
)
from unified_ats.store.tables import SyncRun

logger = logging.getLogger("unified_ats.sync")
P = TypeVar("P")


class _End:
    """What ends a read-ahead: the pages ran out, or fetching one failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


async def read_ahead(pages: AsyncIterator[P]) -> AsyncGenerator[P, None]:
    """``pages``, fetched one page ahead: the vendor's next page is read (and mapped) while
    the caller stores the one before. Never more than one page waits; the pages come in
    order; a failure to fetch comes where that page would have. The connector's iterator runs
    in a task of its own, from start to close (its HTTP stream stays in one task)."""
    queue: asyncio.Queue[P | _End] = asyncio.Queue()

    async def fetch() -> None:
        try:
            async with contextlib.aclosing(aiter_of(pages)) as iterator:
                async for page in iterator:
                    queue.put_nowait(page)
                    await queue.join()  # taken: only now is the next one fetched
        except BaseException as exc:  # the connector's own cancellation too: the caller's
            queue.put_nowait(_End(exc))
            if not isinstance(exc, Exception):
                raise
            return
        queue.put_nowait(_End())

    fetching = asyncio.create_task(fetch())
    try:
        while True:
            item = await queue.get()
            queue.task_done()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        fetching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fetching


def aiter_of(pages: AsyncIterator[P]) -> AsyncGenerator[P, None]:
    """An async generator over ``pages`` (one that ``aclosing`` can close)."""
    if isinstance(pages, AsyncGenerator):
        return pages

    async def each() -> AsyncGenerator[P, None]:
        async for page in pages:
            yield page

    return each()


@dataclass(frozen=True)
class _DigestsOf:
    """The digests a task is reading, as the awaitable a connector's ``known`` may be: unlike
    a coroutine, one that is never awaited (a listing that failed first) leaves no warning."""

    task: "asyncio.Task[KnownSources]"

    def __await__(self) -> Generator[Any, None, Mapping[str, str]]:
        sources = yield from self.task.__await__()
        return sources.digests


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
    written: WriteCounts = field(default_factory=WriteCounts)
    seen_by_model: dict[str, int] = field(default_factory=dict)
    deleted_by_model: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0

    @property
    def candidates(self) -> UpsertCounts:
        return self.written["candidates"]

    @property
    def attachments(self) -> UpsertCounts:
        return self.written["attachments"]

    @property
    def rows_written(self) -> int:
        return self.written.written

    @property
    def changed(self) -> int:
        return self.candidates.inserted + self.candidates.changed

    def models(self) -> dict[str, dict[str, int]]:
        """Counts per unified model, as the sync status shows them."""
        names = [*self.seen_by_model, *self.written.models, *self.deleted_by_model]
        return {
            name: {
                "seen": self.seen_by_model.get(name, 0),
                "changed": self.written[name].inserted + self.written[name].changed,
                "deleted": self.deleted_by_model.get(name, 0),
            }
            for name in dict.fromkeys(names)
        }


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
        shortfalls: list[str] = []
        incomplete: set[Enumeration] = set()
        known: asyncio.Task[KnownSources] | None = None
        growing = GrowthWatch()
        try:
            if Capability.LIST_JOBS in connector.capabilities:
                async for job_page in connector.iter_jobs():
                    if await self._store_page(
                        run, report, job_page, shortfalls, progress=None, growing=growing
                    ):
                        incomplete.add(Enumeration.JOBS)
            options: dict[str, Any] = {}
            if getattr(connector, "source_digests", False):
                # Read while the vendor prepares its answer: the connector awaits them only
                # when its first record has come.
                known = asyncio.create_task(self.records.source_digests(connection.id))
                options["known"] = _DigestsOf(known)
            pages = connector.iter_candidates(
                updated_since=updated_since, page_size=self.page_size, **options
            )
            async with contextlib.aclosing(read_ahead(pages)) as ahead:
                async for page in ahead:
                    if await self._store_page(
                        run,
                        report,
                        page,
                        shortfalls,
                        progress=progress,
                        known=known,
                        growing=growing,
                    ):
                        incomplete.add(Enumeration.CANDIDATES)
            finished = datetime.now(UTC)
            state = SUCCEEDED
            if shortfalls:
                state = PARTIAL
                report.incomplete_reason = "; ".join(shortfalls) + (
                    "; no deletions were marked for these listings"
                )
            if is_full:
                complete = [e for e in Enumeration if e not in incomplete]
                if complete:
                    report.deleted_by_model = await self.runs.mark_unseen_deleted(
                        run, now=finished, ttl=self.lease_seconds, complete=complete
                    )
                    report.deleted = report.deleted_by_model.get("candidates", 0)
                if not incomplete:
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
                models=report.models(),
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
        finally:
            if known is not None:
                await self._settle(known)
        await self.records.refresh_statistics(report.written)
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
    async def _settle(known: "asyncio.Task[KnownSources]") -> None:
        """The digests' read ends with the run: stopped if nothing awaited it (a listing that
        failed first, or one without a record), its failure taken if nobody needed it."""
        if not known.done():
            known.cancel()
        with contextlib.suppress(BaseException):
            await known

    async def _store_page(
        self,
        run: SyncRun,
        report: SyncReport,
        page: CandidatePage | JobPage,
        shortfalls: list[str],
        *,
        progress: Callable[[SyncProgress], None] | None,
        known: "asyncio.Task[KnownSources] | None" = None,
        growing: GrowthWatch | None = None,
    ) -> bool:
        """Store one page of either enumeration; True when it shows that enumeration
        incomplete (its connector said so, or it met a record without a usable id).
        ``growing`` keeps planner statistics up as the run fills tables.

        Records the connector skipped as unchanged (``page.unchanged``, checked against the
        ``known`` digests it was given) are not written, and count as seen with what their
        last mapping held (``CandidateRow.source_seen``, read with the digests when the run
        started: a write since then, a webhook or a refresh, stamps its rows with a
        ``fetched_at`` this run never marks deleted, so the ids read at the start can only
        keep more rows live, never fewer)."""
        now = datetime.now(UTC)
        written, refused = await self.records.upsert_page(run.connection_id, page.records, now=now)
        quarantined = [*page.quarantined, *refused]
        await self.runs.quarantine(run, quarantined, now=now)
        is_jobs = isinstance(page, JobPage)
        unchanged: list[str] = []
        unknown = 0
        # A connector that skipped records has awaited the digests: read, not waited for.
        sources = (
            await known
            if known is not None and isinstance(page, CandidatePage) and page.unchanged
            else None
        )
        if isinstance(page, CandidatePage) and page.unchanged:
            for remote_id in page.unchanged:
                if sources is not None and remote_id in sources.digests:
                    unchanged.append(remote_id)
                else:
                    unknown += 1  # a skip the store cannot vouch for: that record is missing
        if unchanged:
            written["candidates"].unchanged += len(unchanged)
        report.written += written
        if growing is not None:
            await self.records.refresh_statistics(report.written, growing=growing)
        report.quarantined += len(quarantined)
        seen_ids = self._seen_ids(page.records, quarantined)
        counts = self._seen_counts(page.records)
        if unchanged:
            assert sources is not None  # unchanged ids are only those ``sources`` holds
            counts["candidates"] = counts.get("candidates", 0) + len(unchanged)
            for remote_id in unchanged:
                seen_ids.append(seen_id("candidate", remote_id))
                for child in sources.seen_children(remote_id):
                    name = "attachments" if child.startswith("a:") else "applications"
                    counts[name] = counts.get(name, 0) + 1
                    if child != seen_id("application", remote_id):  # its candidate's seen id
                        seen_ids.append(child)
        for name, count in counts.items():
            report.seen_by_model[name] = report.seen_by_model.get(name, 0) + count
        listed = len(page.records) + len(unchanged)
        if not is_jobs:
            report.seen += listed
        await self.runs.record_page(
            run,
            remote_ids=seen_ids,
            seen=0 if is_jobs else listed,
            changed=0
            if is_jobs
            else written["candidates"].inserted + written["candidates"].changed,
            total=None if is_jobs else page.total,
            now=now,
            ttl=self.lease_seconds,
            models=report.models(),
        )
        if progress and not is_jobs:
            progress(SyncProgress(report.seen, page.total, report.changed))
        gaps = []
        if page.incomplete:
            gaps.append(page.incomplete)
        if unknown:
            gaps.append(f"{unknown} vendor record(s) reported unchanged were never stored")
        unidentified = sum(1 for q in quarantined if q.remote_id is None)
        if unidentified:
            # A record without a usable id may be any stored one: deleting is guesswork.
            what = "job" if is_jobs else "candidate"
            gaps.append(f"{unidentified} vendor {what}(s) without a usable id could not be mapped")
        shortfalls.extend(gaps)
        return bool(gaps)

    @staticmethod
    def _seen_counts(records: Sequence[CandidateRecord | JobRecord]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in records:
            if isinstance(record, JobRecord):
                pairs = [("jobs", 1), ("job_interview_stages", len(record.stages))]
            else:
                pairs = [
                    ("candidates", 1),
                    ("attachments", len(record.attachments)),
                    ("applications", len(record.applications)),
                ]
            for name, count in pairs:
                counts[name] = counts.get(name, 0) + count
        return counts

    @staticmethod
    def _seen_ids(
        records: Sequence[CandidateRecord | JobRecord], quarantined: list[Quarantined]
    ) -> list[str]:
        """Every stored model's seen id; a quarantined record's id keeps its row (and what
        hangs from it) from being marked deleted."""
        ids: list[str] = []
        for record in records:
            if isinstance(record, JobRecord):
                ids.append(seen_id("job", record.job.remote_id or ""))
                ids += [seen_id("stage", s.remote_id or "") for s in record.stages]
            else:
                candidate = record.candidate.remote_id or ""
                ids.append(seen_id("candidate", candidate))
                ids += [seen_id("attachment", a.remote_id or "") for a in record.attachments]
                # An application that shares its candidate's remote id is the same vendor record
                # (every vendor so far): the candidate's seen id stands for it (see SyncRuns).
                ids += [
                    seen_id("application", a.remote_id or "")
                    for a in record.applications
                    if a.remote_id != candidate
                ]
        # An id the store could never hold has no row to protect (and would not fit the index).
        ids += [
            quarantined_id(q.kind, q.remote_id)
            for q in quarantined
            if q.remote_id and indexable(q.remote_id)
        ]
        return ids


__all__ = ["SyncEngine", "SyncProgress", "SyncQueued", "SyncReport", "SyncRun", "describe_failure"]
