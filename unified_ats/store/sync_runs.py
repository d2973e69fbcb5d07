"""Sync bookkeeping in the store: leases held by runs, runs and their status, seen ids, quarantine.

The rules that keep data safe live here, each in one transaction:

- A lease belongs to one run (its id is the holder), never to a process: a second task of the
  same process is refused like any other. A request that finds the lease taken is coalesced
  into the lease's single ``follow_up``, which the holder hands over to its successor.
- A run's seen ids are keyed by the run. Only the lease holder may record pages or mark
  deletions, and the deletion statement runs in the transaction that proves it still holds it.
- A holder renews its lease (and its run's heartbeat) every few seconds; a run whose heartbeat
  is older than the lease's lifetime is ``abandoned`` and the next run resumes its seen ids.
"""

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors import Quarantined
from unified_ats.events.outbox import EventBatch, deleted_events, sync_data
from unified_ats.store.driver_rows import RowInsert
from unified_ats.store.statistics import refresh_statistics
from unified_ats.store.tables import (
    ApplicationRow,
    AttachmentRow,
    CandidateRow,
    JobRow,
    QuarantinedRecord,
    StageRow,
    StoredRecord,
    SyncLease,
    SyncRun,
    SyncSeen,
)


class RunState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    """Reached the end of the enumeration but cannot prove it complete: nothing marked deleted."""
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    ABANDONED = "abandoned"
    """Its process stopped renewing the lease (killed, frozen, cut off from the store)."""


RUNNING, SUCCEEDED, PARTIAL, FAILED, INTERRUPTED, ABANDONED = (
    RunState.RUNNING,
    RunState.SUCCEEDED,
    RunState.PARTIAL,
    RunState.FAILED,
    RunState.INTERRUPTED,
    RunState.ABANDONED,
)
RESUMABLE = (FAILED, INTERRUPTED, ABANDONED)
RESUME_WITHIN = timedelta(hours=24)
"""Seen ids older than this are not carried over: a fresh enumeration is cheaper than doubt."""


class Enumeration(StrEnum):
    """What a full run enumerates; each one, when complete, decides its own deletions."""

    JOBS = "jobs"
    """Jobs with their stages."""
    CANDIDATES = "candidates"
    """Candidates with their attachments and applications."""


@dataclass(frozen=True)
class SeenKind:
    """How one model's seen ids are kept: ``<prefix>:<remote id>``."""

    prefix: str
    model: str
    table: type[StoredRecord]


SEEN: dict[str, SeenKind] = {
    "job": SeenKind("j", "jobs", JobRow),
    "stage": SeenKind("s", "job_interview_stages", StageRow),
    "candidate": SeenKind("c", "candidates", CandidateRow),
    "attachment": SeenKind("a", "attachments", AttachmentRow),
    "application": SeenKind("p", "applications", ApplicationRow),
}
QUARANTINE_PREFIX = {"candidate": "q", "job": "r"}
"""A quarantined record keeps its stored row and the rows that hang from it (its files and
applications, or its stages) from being marked deleted."""


def seen_id(kind: str, remote_id: str) -> str:
    return f"{SEEN[kind].prefix}:{remote_id}"


def quarantined_id(kind: str, remote_id: str) -> str:
    return f"{QUARANTINE_PREFIX.get(kind, 'q')}:{remote_id}"


class FollowUp(StrEnum):
    """What a coalesced request asks for; ``full`` wins over ``auto`` when both were asked."""

    AUTO = "auto"
    FULL = "full"


class LeaseLost(Exception):
    """This run no longer holds its connection's lease: it must stop without deleting anything."""


@dataclass(frozen=True)
class Acquired:
    run_id: uuid.UUID
    follow_up: FollowUp | None
    """A request that was waiting on an abandoned lease, now carried by this run."""


# Thousands of ids a page, straight to the driver. A resumed run sees ids again: they are
# skipped rather than looked up first.
_SEEN_INSERT = RowInsert(
    cast(Table, SyncSeen.__table__), ("remote_id",), ("run_id",), skip_existing=True
)


def _stronger(a: str | None, b: FollowUp) -> FollowUp:
    return FollowUp.FULL if FollowUp.FULL in (a, b) else FollowUp.AUTO


def quarantine_key(item: Quarantined) -> str:
    name = item.remote_id if item.remote_id is not None else f"?{item.reason}"
    return hashlib.sha256(f"{item.kind}\0{name}".encode()).hexdigest()


class SyncRuns:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    # --- leases --------------------------------------------------------------------------------

    async def acquire_or_queue(
        self,
        connection_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        now: datetime,
        ttl: float,
        want: FollowUp,
    ) -> Acquired | None:
        """Take the lease for ``run_id``, or leave ``want`` as the holder's follow-up (None).

        Every transaction here starts with a write, so SQLite takes its write lock first and two
        callers can never both read "free" and both take it.
        """
        holder, expires = str(run_id), now + timedelta(seconds=ttl)
        for _ in range(3):  # the holder may release between our statements: look again
            async with self.sessions.begin() as session:
                taken = await session.execute(
                    update(SyncLease)
                    .where(SyncLease.connection_id == connection_id, SyncLease.expires_at < now)
                    .values(holder=holder, expires_at=expires)
                    .returning(SyncLease.follow_up)
                )
                row = taken.first()
                if row is not None:
                    # Took over from a dead holder: the request it had queued is ours now.
                    if row.follow_up is None:
                        return Acquired(run_id, None)
                    await session.execute(
                        update(SyncLease)
                        .where(SyncLease.connection_id == connection_id)
                        .values(follow_up=None)
                    )
                    return Acquired(run_id, FollowUp(row.follow_up))
                queued = await session.execute(
                    update(SyncLease)
                    .where(SyncLease.connection_id == connection_id)
                    .values(
                        follow_up=func.coalesce(
                            # full wins: an 'auto' never downgrades a queued 'full'
                            SyncLease.follow_up if want is FollowUp.AUTO else None,
                            want.value,
                        )
                    )
                )
                if queued.rowcount:  # type: ignore[attr-defined]
                    return None
            try:
                async with self.sessions.begin() as session:
                    session.add(
                        SyncLease(connection_id=connection_id, holder=holder, expires_at=expires)
                    )
                return Acquired(run_id, None)
            except IntegrityError:
                continue  # another caller inserted it first: queue behind it
        return None

    async def heartbeat(
        self, connection_id: uuid.UUID, run_id: uuid.UUID, *, now: datetime, ttl: float
    ) -> None:
        """Renew the lease and the run's heartbeat; raises LeaseLost when another run has it."""
        async with self.sessions.begin() as session:
            await self._hold(session, connection_id, run_id, now=now, ttl=ttl)
            await session.execute(
                update(SyncRun).where(SyncRun.id == run_id).values(heartbeat_at=now)
            )

    @staticmethod
    async def _hold(
        session: AsyncSession,
        connection_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        now: datetime,
        ttl: float,
    ) -> None:
        """First statement of a holder's transaction: proves (and locks) the lease, or raises."""
        renewed = await session.execute(
            update(SyncLease)
            .where(SyncLease.connection_id == connection_id, SyncLease.holder == str(run_id))
            .values(expires_at=now + timedelta(seconds=ttl))
        )
        if not renewed.rowcount:  # type: ignore[attr-defined]
            raise LeaseLost(f"run {run_id} lost the lease of connection {connection_id}")

    async def release(
        self,
        connection_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        now: datetime,
        ttl: float,
        successor: uuid.UUID | None,
    ) -> FollowUp | None:
        """Give the lease up, or hand it to ``successor`` when a request is waiting (returned).

        Without a successor (shutting down) the lease is dropped with its follow-up: the next
        trigger or scheduler tick starts afresh.
        """
        if successor is None:
            async with self.sessions.begin() as session:
                await session.execute(
                    delete(SyncLease).where(
                        SyncLease.connection_id == connection_id, SyncLease.holder == str(run_id)
                    )
                )
            return None
        async with self.sessions.begin() as session:
            held = await session.execute(
                update(SyncLease)
                .where(SyncLease.connection_id == connection_id, SyncLease.holder == str(run_id))
                .values(holder=str(successor), expires_at=now + timedelta(seconds=ttl))
                .returning(SyncLease.follow_up)
            )
            row = held.first()
            if row is None:
                return None  # lost it already; whoever holds it now serves the follow-up
            if row.follow_up:
                await session.execute(
                    update(SyncLease)
                    .where(SyncLease.connection_id == connection_id)
                    .values(follow_up=None)
                )
                return FollowUp(row.follow_up)
            await session.execute(delete(SyncLease).where(SyncLease.connection_id == connection_id))
            return None

    async def lease(self, connection_id: uuid.UUID) -> SyncLease | None:
        async with self.sessions() as session:
            return await session.get(SyncLease, connection_id)

    # --- runs ----------------------------------------------------------------------------------

    async def latest(self, connection_id: uuid.UUID) -> SyncRun | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(SyncRun)
                .where(SyncRun.connection_id == connection_id)
                .order_by(SyncRun.started_at.desc())
                .limit(1)
            )

    async def last_started(self) -> dict[uuid.UUID, datetime]:
        """When each connection's latest run started (connections never synced are absent)."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(SyncRun.connection_id, func.max(SyncRun.started_at)).group_by(
                    SyncRun.connection_id
                )
            )
            return {connection_id: started for connection_id, started in rows.all()}

    async def last_success(
        self, connection_id: uuid.UUID, *, full: bool | None = None
    ) -> SyncRun | None:
        statement = select(SyncRun).where(
            SyncRun.connection_id == connection_id, SyncRun.state == SUCCEEDED
        )
        if full is not None:
            statement = statement.where(SyncRun.full.is_(full))
        async with self.sessions() as session:
            return await session.scalar(statement.order_by(SyncRun.started_at.desc()).limit(1))

    async def start(
        self,
        connection_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        full: bool,
        updated_since: datetime | None,
        now: datetime,
        ttl: float,
    ) -> SyncRun:
        """Open the run that holds the lease. Runs left ``running`` by a dead holder become
        ``abandoned``; a full run takes over the seen ids of the latest unfinished full run."""
        run = SyncRun(
            id=run_id,
            connection_id=connection_id,
            full=full,
            state=RUNNING,
            started_at=now,
            heartbeat_at=now,
            updated_since=updated_since,
        )
        async with self.sessions.begin() as session:
            await self._hold(session, connection_id, run_id, now=now, ttl=ttl)
            abandoned = (
                await session.execute(
                    update(SyncRun)
                    .where(SyncRun.connection_id == connection_id, SyncRun.state == RUNNING)
                    .values(
                        state=ABANDONED,
                        finished_at=now,
                        error="the process running this sync stopped renewing its lease",
                    )
                    .returning(SyncRun.id)
                )
            ).all()
            previous = await session.scalar(
                select(SyncRun)
                .where(SyncRun.connection_id == connection_id)
                .order_by(SyncRun.started_at.desc())
                .limit(1)
            )
            if (
                full
                and previous is not None
                and previous.full
                and previous.state in RESUMABLE
                and now - previous.started_at < RESUME_WITHIN
            ):
                run.resumed_from = previous.id
                run.seen, run.pages = previous.seen, previous.pages
                run.models = previous.models
            session.add(run)
            await session.flush()
            if run.resumed_from is not None:
                await session.execute(
                    update(SyncSeen)
                    .where(SyncSeen.run_id == run.resumed_from)
                    .values(run_id=run_id)
                )
            events = await EventBatch.open(session, connection_id=connection_id)
            if abandoned and events.wants("sync.failed"):
                # Its process died without a word: this is where its failure becomes known.
                for (abandoned_id,) in abandoned:
                    dead = await session.get(SyncRun, abandoned_id, populate_existing=True)
                    if dead is not None:
                        events.add("sync.failed", sync_data(dead))
            events.add("sync.started", sync_data(run))
            await events.write(session, now=now)
        return run

    async def _seen_statistics(self, run: SyncRun) -> None:
        """PostgreSQL's statistics for this run's seen ids, before they are anti-joined.

        They were all written since the table was last analyzed (it is emptied after each
        run). Without statistics the planner expected one seen id, anti-joined applications
        to candidates by a nested loop over a materialized list of them, and the marking of
        an unchanged 10,000-candidate run took 6.8 s, growing with the square of the size.
        """
        bind = self.sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine) or bind.dialect.name != "postgresql":
            return
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(SyncSeen).where(SyncSeen.run_id == run.id)
            )
        await refresh_statistics(bind, {SyncSeen.__tablename__: int(count or 0)})

    async def record_page(
        self,
        run: SyncRun,
        *,
        remote_ids: Sequence[str],
        seen: int,
        changed: int,
        total: int | None,
        now: datetime,
        ttl: float,
        models: dict[str, Any] | None = None,
    ) -> None:
        """Count a page and keep its ids (full runs); only while the run holds the lease.
        ``models``: the run's counts per model so far (replaces the stored ones)."""
        async with self.sessions.begin() as session:
            await self._hold(session, run.connection_id, run.id, now=now, ttl=ttl)
            if run.full and remote_ids:
                # A resumed run sees ids again: ignore them rather than look them up first.
                await _SEEN_INSERT.execute(
                    session, [(r,) for r in dict.fromkeys(remote_ids)], {"run_id": run.id}
                )
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run.id)
                .values(
                    pages=SyncRun.pages + 1,
                    seen=SyncRun.seen + seen,
                    changed=SyncRun.changed + changed,
                    total=total,
                    heartbeat_at=now,
                    **({"models": models} if models is not None else {}),
                )
            )

    async def quarantine(
        self, run: SyncRun, items: Sequence[Quarantined], *, now: datetime
    ) -> None:
        """Keep what could not be mapped or stored (no content), one row per record."""
        if not items:
            return
        merged: dict[str, tuple[Quarantined, int]] = {}
        for item in items:
            key = quarantine_key(item)
            merged[key] = (item, merged.get(key, (item, 0))[1] + 1)
        async with self.sessions.begin() as session:
            existing = set(
                (
                    await session.scalars(
                        select(QuarantinedRecord.key).where(
                            QuarantinedRecord.connection_id == run.connection_id,
                            QuarantinedRecord.key.in_(list(merged)),
                        )
                    )
                ).all()
            )
            fresh = [
                {
                    "id": uuid.uuid4(),
                    "connection_id": run.connection_id,
                    "key": key,
                    "kind": item.kind,
                    "remote_id": item.remote_id,
                    "reason": item.reason,
                    "count": count,
                    "run_id": run.id,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for key, (item, count) in merged.items()
                if key not in existing
            ]
            if fresh:
                await session.execute(insert(QuarantinedRecord), fresh)
            for key, (item, count) in merged.items():
                if key in existing:
                    await session.execute(
                        update(QuarantinedRecord)
                        .where(
                            QuarantinedRecord.connection_id == run.connection_id,
                            QuarantinedRecord.key == key,
                        )
                        .values(
                            reason=item.reason,
                            run_id=run.id,
                            last_seen_at=now,
                            count=QuarantinedRecord.count + count,
                        )
                    )
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run.id)
                .values(quarantined=SyncRun.quarantined + len(items))
            )

    async def quarantined(
        self, connection_id: uuid.UUID, *, limit: int = 100
    ) -> list[QuarantinedRecord]:
        async with self.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(QuarantinedRecord)
                        .where(QuarantinedRecord.connection_id == connection_id)
                        .order_by(QuarantinedRecord.last_seen_at.desc())
                        .limit(limit)
                    )
                ).all()
            )

    async def finish(
        self,
        run: SyncRun,
        *,
        state: RunState,
        now: datetime,
        duration: float,
        error: str | None = None,
        incomplete_reason: str | None = None,
        deleted: int = 0,
        models: dict[str, Any] | None = None,
    ) -> None:
        async with self.sessions.begin() as session:
            # A resumed run's counts carry on from the runs it took over (``start``): so does
            # its duration, or the status would show their records done in this run's time.
            duration += await self._carried_seconds(session, run.resumed_from)
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run.id, SyncRun.state == RUNNING)
                .values(
                    state=state,
                    finished_at=now,
                    duration_seconds=duration,
                    error=error,
                    incomplete_reason=incomplete_reason,
                    deleted=deleted,
                    **({"models": models} if models is not None else {}),
                )
            )
            if state in (SUCCEEDED, PARTIAL):
                await session.execute(delete(SyncSeen).where(SyncSeen.run_id == run.id))
            events = await EventBatch.open(session, connection_id=run.connection_id)
            kind = "sync.succeeded" if state in (SUCCEEDED, PARTIAL) else "sync.failed"
            if events.wants(kind):
                finished = await session.get(SyncRun, run.id, populate_existing=True)
                if finished is not None and finished.state == state:
                    events.add(kind, sync_data(finished))
                    await events.write(session, now=now)

    @staticmethod
    async def _carried_seconds(session: AsyncSession, resumed_from: uuid.UUID | None) -> float:
        """The working time of the unfinished runs a run took over: a finished one's
        ``duration_seconds`` (which already counts its own predecessors), else, for a run whose
        process died, from its start to its last heartbeat. The time between runs is not work."""
        carried = 0.0
        visited: set[uuid.UUID] = set()
        while resumed_from is not None and resumed_from not in visited:
            visited.add(resumed_from)
            previous = await session.get(SyncRun, resumed_from)
            if previous is None:
                break
            if previous.duration_seconds is not None:
                return carried + previous.duration_seconds
            if previous.heartbeat_at is not None:
                carried += max(0.0, (previous.heartbeat_at - previous.started_at).total_seconds())
            resumed_from = previous.resumed_from
        return carried

    async def mark_unseen_deleted(
        self,
        run: SyncRun,
        *,
        now: datetime,
        ttl: float,
        complete: Collection[Enumeration] = (Enumeration.JOBS, Enumeration.CANDIDATES),
    ) -> dict[str, int]:
        """After a full run: whatever a ``complete`` enumeration did not see is gone at the
        vendor. Returns how many rows each model marked.

        Runs in the transaction that proves the lease is still this run's. A quarantined
        record keeps its row and the rows hanging from it. A row the vendor confirmed after
        this run started (a webhook, a refresh) is live whatever the enumeration saw.
        """

        def seen(prefix: str) -> Any:
            return select(func.substr(SyncSeen.remote_id, 3)).where(
                SyncSeen.run_id == run.id, SyncSeen.remote_id.like(f"{prefix}:%")
            )

        def kept(table: type[StoredRecord], quarantine_prefix: str) -> Any:
            return select(table.id).where(
                table.connection_id == run.connection_id,
                table.remote_id.in_(seen(quarantine_prefix)),
            )

        # model -> (its seen kind, the column that ties it to a parent, the parent's table and
        # quarantine prefix): a quarantined parent keeps its children.
        candidates, jobs = QUARANTINE_PREFIX["candidate"], QUARANTINE_PREFIX["job"]
        plan: list[tuple[Enumeration, SeenKind, Any]] = [
            (
                Enumeration.CANDIDATES,
                SEEN["candidate"],
                CandidateRow.remote_id.not_in(seen(candidates)),
            ),
            (
                Enumeration.CANDIDATES,
                SEEN["attachment"],
                or_(
                    AttachmentRow.candidate_id.is_(None),
                    AttachmentRow.candidate_id.not_in(kept(CandidateRow, candidates)),
                ),
            ),
            (
                Enumeration.CANDIDATES,
                SEEN["application"],
                and_(
                    or_(
                        ApplicationRow.candidate_id.is_(None),
                        ApplicationRow.candidate_id.not_in(kept(CandidateRow, candidates)),
                    ),
                    # Seen as part of its candidate's record: it shares the remote id of its
                    # own candidate, which this run saw (its seen id is not written twice).
                    ~exists().where(
                        CandidateRow.id == ApplicationRow.candidate_id,
                        CandidateRow.remote_id == ApplicationRow.remote_id,
                        CandidateRow.remote_id.in_(seen(SEEN["candidate"].prefix)),
                    ),
                ),
            ),
            (Enumeration.JOBS, SEEN["job"], JobRow.remote_id.not_in(seen(jobs))),
            (
                Enumeration.JOBS,
                SEEN["stage"],
                or_(StageRow.job_id.is_(None), StageRow.job_id.not_in(kept(JobRow, jobs))),
            ),
        ]
        await self._seen_statistics(run)
        deleted: dict[str, int] = {}
        async with self.sessions.begin() as session:
            await self._hold(session, run.connection_id, run.id, now=now, ttl=ttl)
            events = await EventBatch.open(session, connection_id=run.connection_id)
            for enumeration, kind, keep in plan:
                if enumeration not in complete:
                    continue
                table = kind.table
                # The unseen rows first, from the (connection, remote id) index alone: every
                # other condition reads the row, and after an unchanged run nearly all are seen.
                unseen = select(table.seq).where(
                    table.connection_id == run.connection_id,
                    table.remote_id.not_in(seen(kind.prefix)),
                )
                marking = (
                    update(table)
                    .where(
                        table.seq.in_(unseen),
                        table.connection_id == run.connection_id,
                        table.remote_was_deleted.is_(False),
                        table.fetched_at < run.started_at,
                        keep,
                    )
                    .values(remote_was_deleted=True, modified_at=now)
                )
                if events.listening:
                    marked = (
                        await session.execute(
                            marking.returning(table.id, table.remote_id),
                            execution_options={"synchronize_session": False},
                        )
                    ).all()
                    deleted_events(events, table, marked)
                    deleted[kind.model] = len(marked)
                    continue
                result = await session.execute(
                    marking, execution_options={"synchronize_session": False}
                )
                deleted[kind.model] = int(result.rowcount)  # type: ignore[attr-defined]
            await events.write(session, now=now)
            # Records that map again leave the quarantine once a complete run has seen them.
            if set(complete) >= set(Enumeration):
                await session.execute(
                    delete(QuarantinedRecord).where(
                        QuarantinedRecord.connection_id == run.connection_id,
                        QuarantinedRecord.run_id != run.id,
                    )
                )
        return deleted
