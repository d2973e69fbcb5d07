"""Reading one record: serve the stored copy, refresh it through the connector when it is too old.

- Stored copy younger than ``max_age`` (counting the last full sync): served as is.
- Older, or ``Cache-Control: no-cache``: refreshed from the vendor and upserted. A refresh that
  finds the same content still records that it was checked, so the next reads are served from
  the store again. Concurrent reads of one record in one process share one vendor call.
- Every vendor call of a read has an overall deadline (``read_deadline_seconds``), retries
  included. Past it, or when the vendor fails: the stored copy, with its age and why it is
  stale; without a stored copy, a mapped error (a 504 at the deadline).
- Vendor says gone: marked ``remote_was_deleted``, and RecordNotFound.

This module is the domain: it raises its own errors, and the API maps them to statuses.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from connectors import CandidateRecord, ConnectorError, FileDownload, JobRecord, NotFound
from schemas import Application, Attachment, Candidate, Job, JobInterviewStage
from unified_ats.connector_pool import ConnectorPool
from unified_ats.settings import Settings
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.records import CandidateQuery, RecordRejected, RecordStore, Stored
from unified_ats.store.singleflight import SingleFlight

logger = logging.getLogger("unified_ats.reads")
T = TypeVar("T", Candidate, Attachment, Application, Job, JobInterviewStage)


class RecordNotFound(LookupError):
    """No such record on this connection (or the vendor says it is gone)."""


class VendorDeadlineExceeded(TimeoutError):
    """The vendor did not answer within the read deadline, and no stored copy can stand in."""


class Staleness(StrEnum):
    """Why a stored copy was served instead of a fresh one (the ``X-Stale-Reason`` header)."""

    VENDOR_TIMEOUT = "vendor-timeout"
    VENDOR_ERROR = "vendor-error"


class Served(Generic[T]):
    """A single read's answer: the record, how old it is, and why it is stale if it is.

    Built from the store's copy, the model is validated only when asked for: the routes serve
    ``document()``, the stored JSON, which was validated when it was written."""

    __slots__ = ("_source", "age_seconds", "stale")

    def __init__(
        self, source: "T | Stored[T]", age_seconds: int | None, stale: Staleness | None = None
    ) -> None:
        self._source: T | Stored[T] = source
        self.age_seconds = age_seconds
        """Seconds since the copy was confirmed by the vendor; None when fetched just now."""
        self.stale = stale

    @property
    def model(self) -> T:
        source = self._source
        if isinstance(source, Stored):
            model: T = source.model
            return model
        return source

    def served_text(self, without: frozenset[str]) -> str | None:
        """The stored JSON text of this view, when the store kept it (``Stored.served_text``)."""
        source = self._source
        return source.served_text(without) if isinstance(source, Stored) else None

    def document(self, without: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The record as its model serializes to JSON, ``without`` fields left null."""
        source = self._source
        if isinstance(source, Stored):
            return source.document(without)
        document: dict[str, Any] = source.model_dump(mode="json")
        return {name: None if name in without else value for name, value in document.items()}


def _age(fresh_as_of: datetime, now: datetime) -> float:
    return max(0.0, (now - fresh_as_of).total_seconds())


class Reads:
    """Single reads for the API, with freshness, a deadline and one vendor call per record."""

    def __init__(self, records: RecordStore, pool: ConnectorPool, settings: Settings) -> None:
        self.records = records
        self.pool = pool
        self.settings = settings
        self._refreshes: SingleFlight[CandidateRecord | None] = SingleFlight()
        self._job_refreshes: SingleFlight[JobRecord | None] = SingleFlight()

    @property
    def deadline(self) -> float:
        return self.settings.read_deadline_seconds

    async def candidate(
        self, connection: ConnectionInfo, candidate_id: uuid.UUID, *, force_refresh: bool
    ) -> Served[Candidate]:
        stored = await self.records.candidate(connection.id, candidate_id)
        if stored is None or stored.remote_was_deleted:
            raise RecordNotFound("no candidate with this id on this connection")

        async def refresh() -> bool:
            assert stored is not None
            return await self._refresh_candidate(connection, stored)

        return await self._serve(
            stored,
            force_refresh=force_refresh,
            refresh=refresh,
            reload=lambda: self.records.candidate(connection.id, candidate_id),
            what="candidate",
        )

    async def application(
        self, connection: ConnectionInfo, application_id: uuid.UUID, *, force_refresh: bool
    ) -> Served[Application]:
        """An application is its candidate's vendor record: refreshing one refreshes both."""

        async def through_candidate(stored: Stored[Application]) -> bool:
            candidate_id = stored.model.candidate
            owner = (
                await self.records.candidate(connection.id, candidate_id)
                if isinstance(candidate_id, uuid.UUID)
                else None
            )
            if owner is None:  # an orphan: nothing to refresh it through
                raise _Unstorable("the application's candidate is not stored")
            return await self._refresh_candidate(connection, owner)

        return await self._record(
            "applications", connection, application_id, force_refresh, through_candidate
        )

    async def job(
        self, connection: ConnectionInfo, job_id: uuid.UUID, *, force_refresh: bool
    ) -> Served[Job]:
        async def itself(stored: Stored[Job]) -> bool:
            return await self._refresh_job(connection, stored.model)

        return await self._record("jobs", connection, job_id, force_refresh, itself)

    async def stage(
        self, connection: ConnectionInfo, stage_id: uuid.UUID, *, force_refresh: bool
    ) -> Served[JobInterviewStage]:
        """A stage is refreshed with its job (the vendor serves stages inside their job)."""

        async def through_job(stored: Stored[JobInterviewStage]) -> bool:
            job_id = stored.model.job
            job: Stored[Job] | None = (
                await self.records.record("jobs", connection.id, job_id)
                if isinstance(job_id, uuid.UUID)
                else None
            )
            if job is None:
                raise _Unstorable("the stage's job is not stored")
            return await self._refresh_job(connection, job.model)

        return await self._record(
            "job_interview_stages", connection, stage_id, force_refresh, through_job
        )

    async def _record(
        self,
        model: str,
        connection: ConnectionInfo,
        record_id: uuid.UUID,
        force_refresh: bool,
        refresh: Callable[[Stored[Any]], Awaitable[bool]],
    ) -> Served[Any]:
        """A stored job, stage or application under the freshness rules; ``refresh`` takes
        the stored copy to the vendor (through whatever record the vendor serves it in)."""
        what = model.rstrip("s").replace("_", " ")
        stored: Stored[Any] | None = await self.records.record(model, connection.id, record_id)
        if stored is None or stored.remote_was_deleted:
            raise RecordNotFound(f"no {what} with this id on this connection")
        found = stored
        return await self._serve(
            found,
            force_refresh=force_refresh,
            refresh=lambda: refresh(found),
            reload=lambda: self.records.record(model, connection.id, record_id),
            what=what,
        )

    async def _serve(
        self,
        stored: Stored[T],
        *,
        force_refresh: bool,
        refresh: Callable[[], Awaitable[bool]],
        reload: Callable[[], Awaitable[Stored[T] | None]],
        what: str,
    ) -> Served[T]:
        """The freshness rules shared by every single read (see the module docstring).

        ``refresh`` asks the vendor within the deadline and stores the answer; it returns False
        when the vendor says the record's owner is gone."""
        now = datetime.now(UTC)
        age = _age(stored.fresh_as_of, now)
        if not force_refresh and age <= self.settings.max_age_seconds:
            return Served(stored, int(age))
        try:
            alive = await refresh()
        except TimeoutError:
            logger.warning("serving a stored %s: vendor past the deadline", what)
            return Served(stored, int(age), Staleness.VENDOR_TIMEOUT)
        except ConnectorError as exc:
            logger.warning("serving a stored %s: vendor failed: %s", what, exc)
            return Served(stored, int(age), Staleness.VENDOR_ERROR)
        refreshed = await reload() if alive else None
        if refreshed is None or refreshed.remote_was_deleted:
            raise RecordNotFound(f"this {what} no longer exists at the vendor")
        return Served(refreshed, None)

    async def _refresh_candidate(
        self, connection: ConnectionInfo, stored: Stored[Candidate]
    ) -> bool:
        record = await self._refreshes.do(
            (connection.id, stored.model.id), lambda: self._refresh(connection, stored)
        )
        return record is not None

    async def _refresh_job(self, connection: ConnectionInfo, job: Job) -> bool:
        """The job and its stages, fresh from the vendor; stages it no longer lists are gone."""

        async def load() -> JobRecord | None:
            connector = await self.pool.for_connection(connection)
            now = datetime.now(UTC)
            try:
                async with asyncio.timeout(self.deadline):
                    record = await connector.get_job(job.remote_id or "")
            except NotFound:
                await self.records.mark_job_deleted(connection.id, job.id, now=now)
                return None
            try:
                await self.records.upsert(connection.id, [record], now=now, touch_unchanged=True)
            except RecordRejected as exc:
                logger.warning("refresh of job %s not stored: %s", job.id, exc.reason)
                raise _Unstorable(exc.reason) from None
            await self.records.mark_stages_gone(
                connection.id, job.id, keep=[s.id for s in record.stages], now=now
            )
            return record

        return await self._job_refreshes.do((connection.id, job.id), load) is not None

    async def _refresh(
        self, connection: ConnectionInfo, stored: Stored[Candidate]
    ) -> CandidateRecord | None:
        """One vendor call within the deadline, then the store; None when the vendor says gone."""
        connector = await self.pool.for_connection(connection)
        now = datetime.now(UTC)
        try:
            async with asyncio.timeout(self.deadline):
                record = await connector.get_candidate(
                    stored.model.remote_id or "", known=stored.model
                )
        except NotFound:
            await self.records.mark_candidate_deleted(connection.id, stored.model.id, now=now)
            return None
        try:
            await self.records.upsert(connection.id, [record], now=now, touch_unchanged=True)
        except RecordRejected as exc:
            # What the vendor sent cannot be kept: the stored copy stands, flagged as stale.
            logger.warning("refresh of %s not stored: %s", stored.model.id, exc.reason)
            raise _Unstorable(exc.reason) from None
        return record

    async def by_remote_id(self, connection: ConnectionInfo, remote_id: str) -> list[Candidate]:
        """``?remote_id=`` with no stored copy: ask the vendor within the deadline (its failure
        is raised, mapped; VendorDeadlineExceeded past the deadline)."""
        stored = await self.records.candidates(
            connection.id,
            CandidateQuery(remote_id=remote_id, include_deleted=True),
            after=0,
            limit=1,
        )
        if stored:
            # Only a copy marked deleted gets here (the list query hides those): it stays hidden.
            return []
        connector = await self.pool.for_connection(connection)
        try:
            async with asyncio.timeout(self.deadline):
                record = await connector.get_candidate(remote_id)
        except NotFound:
            return []
        except TimeoutError:
            raise VendorDeadlineExceeded(
                f"the vendor did not answer within {self.deadline:g} s"
            ) from None
        # Served as the vendor gave it even when the store cannot keep it (a sync quarantines it).
        with contextlib.suppress(RecordRejected):
            await self.records.upsert(
                connection.id, [record], now=datetime.now(UTC), touch_unchanged=True
            )
        return [record.candidate]

    async def attachment(
        self, connection: ConnectionInfo, attachment_id: uuid.UUID
    ) -> Served[Attachment]:
        stored = await self.records.attachment(connection.id, attachment_id)
        if stored is None:
            raise RecordNotFound("no attachment with this id on this connection")
        last_full_sync = await self.records.last_full_sync(connection.id)
        fresh_as_of = (
            max(stored.fetched_at, last_full_sync) if last_full_sync else stored.fetched_at
        )
        return Served(stored, int(_age(fresh_as_of, datetime.now(UTC))))

    @asynccontextmanager
    async def opened(
        self, opening: AbstractAsyncContextManager[FileDownload]
    ) -> AsyncIterator[FileDownload]:
        """Open a vendor download within the deadline (the body then streams at its own pace)."""
        try:
            async with asyncio.timeout(self.deadline):
                download = await opening.__aenter__()
        except TimeoutError:
            raise VendorDeadlineExceeded(
                f"the vendor did not start sending the file within {self.deadline:g} s"
            ) from None
        except NotFound:
            raise RecordNotFound("the vendor no longer has this file") from None
        try:
            yield download
        except BaseException as exc:
            if not await opening.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await opening.__aexit__(None, None, None)


class _Unstorable(ConnectorError):
    """A refresh whose vendor answer the store cannot keep: the stored copy is served."""
