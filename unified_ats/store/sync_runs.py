"""Sync bookkeeping in the store: runs and their status, ids seen by full runs, leases."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.store.tables import AttachmentRow, CandidateRow, SyncLease, SyncRun, SyncSeen

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"


def _insert_ignoring_duplicates(session: AsyncSession) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` into sync_seen, in the store's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(SyncSeen).on_conflict_do_nothing()
    return sqlite_insert(SyncSeen).on_conflict_do_nothing()


class SyncRuns:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    # --- leases: one sync of a connection at a time, across processes ---------------------------

    async def acquire_lease(
        self, connection_id: uuid.UUID, holder: str, *, now: datetime, ttl: float
    ) -> bool:
        expires = now + timedelta(seconds=ttl)
        async with self.sessions.begin() as session:
            taken = await session.execute(
                update(SyncLease)
                .where(
                    SyncLease.connection_id == connection_id,
                    or_(SyncLease.expires_at < now, SyncLease.holder == holder),
                )
                .values(holder=holder, expires_at=expires)
            )
            if taken.rowcount:  # type: ignore[attr-defined]
                return True
            exists = await session.scalar(
                select(SyncLease.holder).where(SyncLease.connection_id == connection_id)
            )
            if exists is not None:
                return False
        try:
            async with self.sessions.begin() as session:
                session.add(
                    SyncLease(connection_id=connection_id, holder=holder, expires_at=expires)
                )
            return True
        except Exception:  # another process inserted it first (unique key)
            return False

    async def renew_lease(
        self, connection_id: uuid.UUID, holder: str, *, now: datetime, ttl: float
    ) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(SyncLease)
                .where(SyncLease.connection_id == connection_id, SyncLease.holder == holder)
                .values(expires_at=now + timedelta(seconds=ttl))
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_lease(self, connection_id: uuid.UUID, holder: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                delete(SyncLease).where(
                    SyncLease.connection_id == connection_id, SyncLease.holder == holder
                )
            )

    # --- runs ----------------------------------------------------------------------------------

    async def latest(self, connection_id: uuid.UUID) -> SyncRun | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(SyncRun)
                .where(SyncRun.connection_id == connection_id)
                .order_by(SyncRun.started_at.desc())
                .limit(1)
            )

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

    async def unfinished_full_run(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The latest full run if it did not finish: a resume continues it (its seen ids too)."""
        latest = await self.latest(connection_id)
        if latest is not None and latest.full and latest.state in (RUNNING, INTERRUPTED, FAILED):
            return latest
        return None

    async def start(
        self, connection_id: uuid.UUID, *, full: bool, updated_since: datetime | None, now: datetime
    ) -> SyncRun:
        run = SyncRun(
            connection_id=connection_id,
            full=full,
            state=RUNNING,
            started_at=now,
            updated_since=updated_since,
        )
        async with self.sessions.begin() as session:
            session.add(run)
        return run

    async def resume(self, run: SyncRun) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run.id)
                .values(state=RUNNING, error=None, finished_at=None)
            )

    async def record_page(
        self,
        run: SyncRun,
        *,
        remote_ids: Sequence[str],
        seen: int,
        changed: int,
        total: int | None,
    ) -> None:
        async with self.sessions.begin() as session:
            if run.full and remote_ids:
                # A resumed run sees ids again: ignore them rather than look them up first.
                rows = [{"run_id": run.id, "remote_id": r} for r in dict.fromkeys(remote_ids)]
                await session.execute(_insert_ignoring_duplicates(session), rows)
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run.id)
                .values(
                    pages=SyncRun.pages + 1,
                    seen=SyncRun.seen + seen,
                    changed=SyncRun.changed + changed,
                    total=total,
                )
            )

    async def finish(
        self,
        run: SyncRun,
        *,
        state: str,
        now: datetime,
        duration: float,
        error: str | None = None,
        deleted: int = 0,
    ) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run.id)
                .values(
                    state=state,
                    finished_at=now,
                    duration_seconds=duration,
                    error=error,
                    deleted=deleted,
                )
            )
            if state == SUCCEEDED:
                await session.execute(delete(SyncSeen).where(SyncSeen.run_id == run.id))

    async def mark_unseen_deleted(
        self, connection_id: uuid.UUID, run: SyncRun, *, now: datetime
    ) -> int:
        """After a complete full run: whatever it did not see is gone at the vendor.

        Seen ids are stored as ``c:<candidate remote id>`` and ``a:<attachment remote id>``.
        """

        def seen(kind: str) -> Any:
            return select(func.substr(SyncSeen.remote_id, 3)).where(
                SyncSeen.run_id == run.id, SyncSeen.remote_id.like(f"{kind}:%")
            )

        deleted: dict[str, int] = {}
        async with self.sessions.begin() as session:
            for kind, table in (("c", CandidateRow), ("a", AttachmentRow)):
                result = await session.execute(
                    update(table)
                    .where(
                        table.connection_id == connection_id,
                        table.remote_was_deleted.is_(False),
                        table.remote_id.not_in(seen(kind)),
                    )
                    .values(remote_was_deleted=True, modified_at=now)
                )
                deleted[kind] = int(result.rowcount)  # type: ignore[attr-defined]
        return deleted["c"]
