"""Stored vendor records (candidates with their attachments and applications, jobs with their
stages): batch upserts by content hash, keyset-paged queries."""

import functools
import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel
from pydantic_core import from_json
from sqlalchemy import (
    Engine,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors import CandidateRecord, JobRecord, Quarantined
from schemas import NOT_CONTENT, Application, Attachment, Candidate, Job, JobInterviewStage
from schemas.datetimes import format_utc
from unified_ats.events.catalog import event_model_of
from unified_ats.events.outbox import EventBatch, deleted_events
from unified_ats.store.database import (
    CompiledRead,
    PostgresReadPool,
    PreSerialized,
    autocommit_read_engine,
    direct_read_engine,
    postgres_read_pool,
)
from unified_ats.store.driver_rows import RowInsert
from unified_ats.store.hashing import fingerprint
from unified_ats.store.served import render_served
from unified_ats.store.singleflight import SingleFlight
from unified_ats.store.statistics import GrowthWatch, refresh_statistics
from unified_ats.store.sync_runs import seen_id
from unified_ats.store.tables import (
    ApplicationRow,
    AttachmentRow,
    CandidateRow,
    Connection,
    JobRow,
    StageRow,
    StoredRecord,
)
from unified_ats.store.text_bytes import utf8_bytes

M = TypeVar("M", bound=BaseModel)
AnyModel = Candidate | Attachment | Application | Job | JobInterviewStage
Record = CandidateRecord | JobRecord
MAX_REMOTE_ID_BYTES = 1024
"""Ids go into unique B-tree indexes, whose entries PostgreSQL caps (~2.7 kB); ids beyond this
bound are quarantined instead of failing a whole page. Every other vendor value is unbounded."""


class RecordRejected(ValueError):
    """The store cannot keep this record; ``reason`` names why, without its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def indexable(remote_id: str) -> bool:
    """Fits a unique index on every backend (PostgreSQL text holds no NUL)."""
    return len(remote_id.encode()) <= MAX_REMOTE_ID_BYTES and "\x00" not in remote_id


def head(record: Record) -> Candidate | Job:
    """The record's main model (the one a quarantine entry names)."""
    return record.candidate if isinstance(record, CandidateRecord) else record.job


def kind_of(record: Record) -> str:
    return "candidate" if isinstance(record, CandidateRecord) else "job"


def _remote_ids(record: Record) -> list[str | None]:
    if isinstance(record, JobRecord):
        return [record.job.remote_id, *(s.remote_id for s in record.stages)]
    return [
        record.candidate.remote_id,
        *(a.remote_id for a in record.attachments),
        *(a.remote_id for a in record.applications),
    ]


def unstorable(record: Record) -> str | None:
    """Why the store would refuse this record, checked before it reaches the database."""
    if not all(indexable(i or "") for i in _remote_ids(record)):
        return f"remote id longer than {MAX_REMOTE_ID_BYTES} bytes or holding a NUL character"
    return None


def _refused_by_store(exc: Exception) -> bool:
    """A value the database refuses (not an outage: that must fail the run, not quarantine)."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, DataError | IntegrityError)
    return isinstance(exc, StatementError)


@dataclass
class UpsertCounts:
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    raw_only: int = 0
    digest_only: int = 0
    """Same content and raw data, a new source digest (first sync since digests were kept, a
    catalog or mapping code change): only the digest was written."""

    @property
    def written(self) -> int:
        return self.inserted + self.changed + self.raw_only + self.digest_only

    def __iadd__(self, other: "UpsertCounts") -> "UpsertCounts":
        self.inserted += other.inserted
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.raw_only += other.raw_only
        self.digest_only += other.digest_only
        return self


@dataclass
class WriteCounts:
    """Upsert counts per unified model (``candidates``, ``attachments``, ``applications``,
    ``jobs``, ``job_interview_stages``)."""

    models: dict[str, UpsertCounts] = field(default_factory=dict)

    def __getitem__(self, model: str) -> UpsertCounts:
        return self.models.setdefault(model, UpsertCounts())

    def __setitem__(self, model: str, counts: UpsertCounts) -> None:
        self.models[model] = counts

    def __iadd__(self, other: "WriteCounts") -> "WriteCounts":
        for model, counts in other.models.items():
            self[model] += counts
        return self

    @property
    def written(self) -> int:
        return sum(c.written for c in self.models.values())


@dataclass
class KnownSources:
    """What a sync knows of the candidates it stored with a source digest, by remote id."""

    digests: dict[str, str] = field(default_factory=dict)
    """The source digest each was stored with (the connector's ``known``)."""
    children: dict[str, str] = field(default_factory=dict)
    """The seen ids of its files and applications, as ``CandidateRow.source_seen`` keeps
    them (newline-separated; absent when it held none)."""

    def seen_children(self, remote_id: str) -> list[str]:
        kept = self.children.get(remote_id)
        return kept.split("\n") if kept else []


DEFAULT_WITHOUT = frozenset({"raw_data", "custom_fields"})
"""What a default read leaves out: the view ``StoredRecord.served`` holds."""


class Stored(Generic[M]):
    """A stored record. Read from a row, its model is validated only when asked for: the read
    routes serve ``document()``, the stored JSON (validated when it was written), and
    validating it again cost more than the rest of a read."""

    __slots__ = ("_kind", "_model", "_row", "fetched_at", "last_full_sync_at", "seq")

    def __init__(
        self,
        model: M | None,
        seq: int,
        fetched_at: datetime,
        last_full_sync_at: datetime | None = None,
        *,
        row: Any = None,
        kind: type[M] | None = None,
    ) -> None:
        if model is None and (row is None or kind is None):
            raise TypeError("a Stored needs its model, or its row and model class")
        self._model = model
        self._row = row
        self._kind = kind
        self.seq = seq
        self.fetched_at = fetched_at
        self.last_full_sync_at = last_full_sync_at

    @classmethod
    def of_row(
        cls, kind: type[M], row: Any, last_full_sync_at: datetime | None = None
    ) -> "Stored[M]":
        return cls(None, row.seq, row.fetched_at, last_full_sync_at, row=row, kind=kind)

    @property
    def model(self) -> M:
        if self._model is None:
            assert self._kind is not None
            self._model = model_from_row(self._kind, self._row)
        return self._model

    @property
    def remote_was_deleted(self) -> bool:
        if self._row is not None:
            return bool(self._row.remote_was_deleted)
        return bool(getattr(self.model, "remote_was_deleted", False))

    def served_text(self, without: frozenset[str]) -> str | None:
        """The JSON text a default read serves (``without`` raw data and custom fields),
        rendered when the record was written; None when it must be built (another view, a
        deleted record, a row written before it was kept)."""
        if without != DEFAULT_WITHOUT or self._row is None:
            return None
        row = self._row
        served: str | None = getattr(row, "served", None)
        return None if row.remote_was_deleted else served

    def served_json(self, without: frozenset[str]) -> bytes | None:
        """``served_text`` as the UTF-8 bytes a response sends."""
        text = self.served_text(without)
        return None if text is None else text.encode()

    def document(self, without: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The record as its model serializes to JSON, ``without`` fields left null."""
        if self._row is not None and self._kind is not None:
            return served_document(self._kind, self._row, without)
        document: dict[str, Any] = self.model.model_dump(mode="json")
        return {name: None if name in without else value for name, value in document.items()}

    @property
    def fresh_as_of(self) -> datetime:
        """When this copy was last known to match the vendor (fetch, or a later full sync)."""
        if self.last_full_sync_at and self.last_full_sync_at > self.fetched_at:
            return self.last_full_sync_at
        return self.fetched_at


@dataclass(slots=True)
class StoredText:
    """A live record as the text a default read serves, and nothing else: what a list page of
    that view needs (reading the whole row, its id and dates converted, cost more than
    serving it)."""

    seq: int
    text: bytes
    """The served JSON as UTF-8 bytes, as a response sends it (see store.text_bytes)."""

    def served_json(self, without: frozenset[str]) -> bytes | None:
        return self.text if without == DEFAULT_WITHOUT else None

    def document(self, without: frozenset[str] = DEFAULT_WITHOUT) -> dict[str, Any]:
        if without != DEFAULT_WITHOUT:
            raise LookupError("only the default view of this record was read")
        document: dict[str, Any] = from_json(self.text)
        return document


@dataclass(frozen=True)
class CandidateQuery:
    ids: Sequence[uuid.UUID] | None = None
    remote_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    tag: str | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    created_after: datetime | None = None
    include_deleted: bool = False

    @property
    def bounded(self) -> bool:
        """Served by indexes alone (a keyset page, ids): no filter that scans rows."""
        return all(
            value is None
            for value in (
                self.email,
                self.first_name,
                self.last_name,
                self.tag,
                self.modified_after,
                self.modified_before,
                self.created_after,
            )
        )


_PLAIN = CandidateQuery()
_PLAIN_WITH_DELETED = CandidateQuery(include_deleted=True)


@dataclass(frozen=True)
class RecordQuery:
    """Filters over a job, stage or application listing. ``any_of`` maps a filter column to
    the values it may hold; ``after_``/``before_`` are exclusive bounds on date columns."""

    ids: Sequence[uuid.UUID] | None = None
    remote_id: str | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    include_deleted: bool = False
    any_of: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    after_: dict[str, datetime] = field(default_factory=dict)
    before_: dict[str, datetime] = field(default_factory=dict)


def _delimited(values: Sequence[str] | None) -> str:
    """``"\\na\\nb\\n"``: exact-item matching with LIKE on every backend."""
    return "\n" + "".join(f"{v}\n" for v in values or []) if values else ""


def _no_nul(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; a vendor that sends one must not break the sync."""
    return value.replace("\x00", "") if value else value


def _like_item(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%\n{escaped}\n%"


@dataclass(frozen=True)
class ModelTable:
    table: type[StoredRecord]
    model: type[AnyModel]


MODELS: dict[str, ModelTable] = {
    "candidates": ModelTable(CandidateRow, Candidate),
    "attachments": ModelTable(AttachmentRow, Attachment),
    "applications": ModelTable(ApplicationRow, Application),
    "jobs": ModelTable(JobRow, Job),
    "job_interview_stages": ModelTable(StageRow, JobInterviewStage),
}
"""Each unified model, by the name the API and sync status use, with its table."""


def related_id(value: object) -> uuid.UUID | None:
    """A relation's id whether it holds the id or the expanded object."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    related: uuid.UUID = getattr(value, "id")  # noqa: B009 - any unified model
    return related


def _candidate_columns(candidate: Candidate) -> dict[str, Any]:
    return {
        "first_name": _no_nul(candidate.first_name),
        "last_name": _no_nul(candidate.last_name),
        "emails": _delimited([_no_nul(e.lower()) or "" for e in candidate.email_addresses or []]),
        "tags": _delimited([_no_nul(t) or "" for t in candidate.tags or []]),
        "remote_created_at": candidate.remote_created_at,
    }


def source_seen_of(record: CandidateRecord) -> str:
    """The seen ids of what a candidate record holds besides the candidate (its files and
    applications), as ``CandidateRow.source_seen`` keeps them."""
    return "\n".join(
        [
            *(seen_id("attachment", a.remote_id or "") for a in record.attachments),
            *(seen_id("application", a.remote_id or "") for a in record.applications),
        ]
    )


def _rows_of(record: Record) -> list[tuple[str, AnyModel, dict[str, Any]]]:
    """(model name, model, its filter columns) for every model a vendor record holds."""
    if isinstance(record, JobRecord):
        job = record.job
        rows: list[tuple[str, AnyModel, dict[str, Any]]] = [
            (
                "jobs",
                job,
                {
                    "code": _no_nul(job.code),
                    "status": _no_nul(job.status),
                    "remote_created_at": job.remote_created_at,
                },
            )
        ]
        rows += [("job_interview_stages", s, {"job_id": related_id(s.job)}) for s in record.stages]
        return rows
    columns = _candidate_columns(record.candidate)
    # Null without a digest: a write that came without one clears what the row kept.
    columns["source_hash"] = record.source_digest
    columns["source_seen"] = None if record.source_digest is None else source_seen_of(record)
    rows = [("candidates", record.candidate, columns)]
    rows += [("attachments", a, {"candidate_id": a.candidate}) for a in record.attachments]
    rows += [
        (
            "applications",
            a,
            {
                "candidate_id": related_id(a.candidate),
                "job_id": related_id(a.job),
                "stage_id": related_id(a.current_stage),
                "applied_at": a.applied_at,
            },
        )
        for a in record.applications
    ]
    return rows


def _served_columns(table: type[StoredRecord]) -> Select[Any]:
    """What a served model needs, as plain rows: no ORM entity per row (list routes load
    thousands a second, and the ORM's per-instance bookkeeping cost more than the query).
    The document comes as its JSON text, parsed by ``_document`` (which reads ``raw_data``
    only when it is served); SQLite's json_remove was slower than that."""
    text: Any = cast_(table.data, Text).label("data")
    return select(
        table.seq,
        table.id,
        text,
        table.modified_at,
        table.fetched_at,
        table.remote_was_deleted,
        table.served,
    )


def _core(table: type[StoredRecord] | type[Connection]) -> Table:
    return cast(Table, getattr(table, "__table__"))  # noqa: B009


_INSERTED = ("id", "remote_id", "served", "data", "content_hash", "raw_hash")
_SHARED = ("connection_id", "modified_at", "fetched_at", "remote_was_deleted")


@functools.cache
def _row_insert(table: Table, filter_columns: tuple[str, ...]) -> RowInsert:
    """The insert of a new record's row: what ``_upsert_rows`` builds per record (its
    ``_INSERTED`` values, then the model's filter columns), then what the batch shares."""
    return RowInsert(table, (*_INSERTED, *filter_columns), _SHARED)


@functools.cache
def _by_id(model: str) -> Select[Any]:
    """One record by id with its connection's last full sync, built once: on the hot path,
    building the statement (and its cache key) cost more than running it. Core columns, not
    ORM attributes, so executing it skips the ORM's compile step too."""
    t, connection = _core(MODELS[model].table), _core(Connection)
    data: Any = cast_(t.c.data, Text).label("data")
    return (
        select(
            t.c.seq,
            t.c.id,
            data,
            t.c.modified_at,
            t.c.fetched_at,
            t.c.remote_was_deleted,
            t.c.served,
            connection.c.last_full_sync_at,
        )
        .join(connection, connection.c.id == t.c.connection_id)
        .where(t.c.connection_id == bindparam("connection_id"), t.c.id == bindparam("record_id"))
    )


@functools.cache
def _text_page(model: str) -> Select[Any]:
    """A keyset page of live records' served texts (see StoredRecord.served) as UTF-8 bytes,
    built once."""
    t = _core(MODELS[model].table)
    return (
        select(t.c.seq, utf8_bytes(t.c.served).label("served"))
        .where(
            t.c.connection_id == bindparam("connection_id"),
            t.c.seq > bindparam("after"),
            t.c.remote_was_deleted.is_(False),
        )
        .order_by(t.c.seq)
        .limit(bindparam("limit", type_=Integer))
    )


@functools.cache
def _plain_page(model: str, include_deleted: bool) -> Select[Any]:
    """A keyset page with no filter (what a client paging through gets), built once."""
    t = _core(MODELS[model].table)
    data: Any = cast_(t.c.data, Text).label("data")
    statement = select(
        t.c.seq, t.c.id, data, t.c.modified_at, t.c.fetched_at, t.c.remote_was_deleted, t.c.served
    ).where(t.c.connection_id == bindparam("connection_id"), t.c.seq > bindparam("after"))
    if not include_deleted:
        statement = statement.where(t.c.remote_was_deleted.is_(False))
    return statement.order_by(t.c.seq).limit(bindparam("limit", type_=Integer))


_RAW_DATA_KEY = ',"raw_data":'
_CONTENT_FIELDS: dict[type[BaseModel], frozenset[str]] = {}


def _content_fields(model: type[BaseModel]) -> frozenset[str]:
    fields = _CONTENT_FIELDS.get(model)
    if fields is None:
        fields = _CONTENT_FIELDS[model] = frozenset(model.model_fields) - NOT_CONTENT
    return fields


def _document(model: type[BaseModel], data: str | dict[str, Any], without: frozenset[str]) -> Any:
    """A stored document, parsed; without ``raw_data`` when it is not served.

    ``fingerprint`` writes every content field first, then ``raw_data`` (then ``file_url``): a
    document whose text before the first ``,"raw_data":`` parses on its own as an object
    holding every content field has nothing but ``raw_data`` after it, which is left unread
    (the vendor payload is often the larger half). Any other document (a ``raw_data`` key
    nested in the content cuts it at the wrong depth and does not parse; one written in
    another order lacks fields) is parsed whole."""
    if isinstance(data, dict):  # a JSON column the driver decoded itself
        return data
    if "raw_data" in without and "file_url" not in model.model_fields:
        cut = data.find(_RAW_DATA_KEY)
        if cut > 0:
            try:
                head = from_json(data[:cut] + "}")
            except ValueError:
                head = None
            if isinstance(head, dict) and _content_fields(model) <= head.keys():
                return head
    return from_json(data)


def model_from_row(model: type[M], row: Any, without: frozenset[str] = frozenset()) -> M:
    """The unified model: the stored document plus the platform's own columns. ``without``:
    fields the caller will not serve (``raw_data`` is the largest), left null and unparsed."""
    data = _document(model, row.data, without)
    if without:
        data = {key: value for key, value in data.items() if key not in without}
    return model.model_validate(
        {
            **data,
            "id": row.id,
            "modified_at": row.modified_at,
            "remote_was_deleted": row.remote_was_deleted,
        }
    )


def served_document(model: type[BaseModel], row: Any, without: frozenset[str]) -> dict[str, Any]:
    """The stored record as its model serializes to JSON, without validating it again: the
    document was written from a validated model. Fields in the model's order; a field the
    document lacks (added since) is null, one the model no longer has is left out."""
    data = _document(model, row.data, without)
    get = data.get
    document = {name: get(name) for name in _field_names(model)}
    for name, value in (
        ("id", str(row.id)),
        ("modified_at", format_utc(row.modified_at)),
        ("remote_was_deleted", row.remote_was_deleted),
        *((name, None) for name in without),
    ):
        if name in document:
            document[name] = value
    return document


@functools.cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def candidate_from_row(row: Any) -> Candidate:
    return model_from_row(Candidate, row)


def attachment_from_row(row: Any) -> Attachment:
    return model_from_row(Attachment, row)


async def _read_on(
    engine: AsyncEngine, statement: Select[Any], parameters: dict[str, Any] | None
) -> Sequence[Any]:
    async with engine.connect() as connection:
        rows: Sequence[Any] = (await connection.execute(statement, parameters)).all()
        return rows


class RecordStore:
    """``read_cache_seconds`` keeps recently read candidates in memory: writes through this
    process drop them at once; writes by other processes show within that bound."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, read_cache_seconds: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.read_cache_seconds = read_cache_seconds
        self._hot: dict[uuid.UUID, dict[uuid.UUID, tuple[float, Stored[Candidate]]]] = {}
        self._loads: SingleFlight[Stored[Candidate] | None] = SingleFlight()
        self._direct: Engine | bool | None = False  # not looked up yet
        self._compiled_reads: dict[tuple[str, Select[Any], bool], CompiledRead] = {}
        self._autocommit: AsyncEngine | bool | None = False  # not looked up yet
        self._hot_pool: PostgresReadPool | bool | None = False  # not looked up yet

    def forget(self, connection_id: uuid.UUID) -> None:
        self._hot.pop(connection_id, None)

    # --- writes --------------------------------------------------------------------------------

    async def upsert(
        self,
        connection_id: uuid.UUID,
        records: Sequence[Record],
        *,
        now: datetime,
        touch_unchanged: bool = False,
        checked: bool = False,
    ) -> WriteCounts:
        """Write records; only changed content gets a new ``modified_at``.

        Returns counts per unified model. A record that reappears after being marked deleted
        counts as changed. ``touch_unchanged`` records that the vendor confirmed unchanged
        content now (a single refresh or a webhook); syncs leave it off, so a no-change re-sync
        writes nothing (the connection's last full sync covers them).
        Raises RecordRejected for a record the store cannot keep (``checked``: the caller has
        already sorted those out).
        """
        if not records:
            # A page of records skipped as unchanged: no transaction to open (an empty one
            # per page had cost a fifth of an unchanged re-sync).
            return WriteCounts()
        for record in [] if checked else records:
            reason = unstorable(record)
            if reason is not None:
                raise RecordRejected(reason)
        grouped: dict[str, list[tuple[AnyModel, dict[str, Any]]]] = {}
        for record in records:
            for name, model, columns in _rows_of(record):
                grouped.setdefault(name, []).append((model, columns))
        self.forget(connection_id)
        counts = WriteCounts()
        stale: list[str] = []
        async with self.sessions.begin() as session:
            events = await EventBatch.open(session, connection_id=connection_id)
            for name, items in grouped.items():
                counts[name] += await self._upsert_rows(
                    session,
                    MODELS[name].table,
                    connection_id,
                    items,
                    now,
                    events,
                    touch_unchanged,
                    stale_digests=stale,
                )
            if stale and counts.written:
                # Written without a digest (a webhook, a refresh): what is stored is no longer
                # what the digest's vendor record maps to, so the next sync maps it again.
                await session.execute(
                    update(CandidateRow)
                    .where(
                        CandidateRow.connection_id == connection_id,
                        CandidateRow.remote_id.in_(stale),
                    )
                    .values(source_hash=None, source_seen=None)
                )
            await events.write(session, now=now)
        return counts

    async def upsert_page(
        self, connection_id: uuid.UUID, records: Sequence[Record], *, now: datetime
    ) -> tuple[WriteCounts, list[Quarantined]]:
        """A sync's page: records the store cannot keep are quarantined, the rest are written.

        The page goes in one transaction; only when the database refuses a value does it fall
        back to one record at a time, to find which.
        """
        quarantined: list[Quarantined] = []
        storable: list[Record] = []
        for record in records:
            reason = unstorable(record)
            if reason is None:
                storable.append(record)
            else:
                quarantined.append(Quarantined(kind_of(record), head(record).remote_id, reason))
        try:
            return await self.upsert(connection_id, storable, now=now, checked=True), quarantined
        except Exception as exc:
            if not _refused_by_store(exc):
                raise
        counts = WriteCounts()
        for record in storable:
            try:
                counts += await self.upsert(connection_id, [record], now=now, checked=True)
            except Exception as exc:
                if not _refused_by_store(exc):
                    raise
                reason = f"the store refused a value ({type(exc).__name__})"
                quarantined.append(Quarantined(kind_of(record), head(record).remote_id, reason))
        return counts, quarantined

    async def _upsert_rows(
        self,
        session: AsyncSession,
        table: type[StoredRecord],
        connection_id: uuid.UUID,
        items: Sequence[tuple[AnyModel, dict[str, Any]]],
        now: datetime,
        events: EventBatch,
        touch_unchanged: bool = False,
        *,
        stale_digests: list[str] | None = None,
    ) -> UpsertCounts:
        """``stale_digests`` gets the remote ids of stored candidates that keep a source
        digest and are written here without one."""
        counts = UpsertCounts()
        latest: dict[str, tuple[AnyModel, dict[str, Any]]] = {}
        for model, columns in items:
            latest[model.remote_id or str(model.id)] = (model, columns)
        if not latest:
            return counts
        digests = table is CandidateRow
        wanted: list[Any] = [
            table.seq,
            table.id,
            table.remote_id,
            table.content_hash,
            table.raw_hash,
            table.remote_was_deleted,
        ]
        if digests:
            wanted.append(CandidateRow.source_hash)
        existing = {
            row.remote_id: row
            for row in (
                await session.execute(
                    select(*wanted).where(
                        table.connection_id == connection_id, table.remote_id.in_(list(latest))
                    )
                )
            ).all()
        }
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        touched: list[dict[str, Any]] = []
        event_model = event_model_of(table) if events.listening else None
        created = event_model is not None and events.wants(f"{event_model}.created")
        updated = event_model is not None and events.wants(f"{event_model}.updated")
        for remote_id, (model, columns) in latest.items():
            document, new_content, new_raw, content = fingerprint(model)
            found = existing.get(remote_id)
            if (
                digests
                and stale_digests is not None
                and found is not None
                and found.source_hash is not None
                and columns["source_hash"] is None
            ):
                stale_digests.append(remote_id)
            values = {
                "data": PreSerialized(document),
                "content_hash": new_content,
                "raw_hash": new_raw,
                **columns,
            }
            if found is None:
                counts.inserted += 1
                inserts.append(
                    (
                        model.id,
                        remote_id,
                        render_served(model, content, model.id, now),
                        values["data"],
                        new_content,
                        new_raw,
                        *columns.values(),
                    )
                )
                if created:
                    events.add_record(f"{event_model}.created", model.id, remote_id)
            elif found.content_hash != new_content or found.remote_was_deleted:
                counts.changed += 1
                if updated:
                    events.add_record(f"{event_model}.updated", model.id, remote_id)
                updates.append(
                    {
                        "seq": found.seq,
                        "modified_at": now,
                        "fetched_at": now,
                        "remote_was_deleted": False,
                        "served": render_served(model, content, found.id, now),
                        **values,
                    }
                )
            elif found.raw_hash != new_raw:
                counts.raw_only += 1  # vendor noise only: refresh raw_data, keep modified_at
                updates.append({"seq": found.seq, "fetched_at": now, **values})
            elif digests and columns["source_hash"] not in (None, found.source_hash):
                counts.digest_only += 1
                updates.append(
                    {
                        "seq": found.seq,
                        "source_hash": columns["source_hash"],
                        "source_seen": columns["source_seen"],
                    }
                )
            else:
                counts.unchanged += 1
                if touch_unchanged:
                    touched.append({"seq": found.seq, "fetched_at": now})
        if touched:
            await session.execute(update(table), touched)
        if inserts:
            # Complete rows straight to the driver: SQLAlchemy's per-row parameter handling
            # cost as much as mapping the vendor's records.
            # Every item of a table has the same filter columns (``_rows_of``).
            filter_columns = tuple(next(iter(latest.values()))[1])
            await _row_insert(_core(table), filter_columns).execute(
                session,
                inserts,
                {
                    "connection_id": connection_id,
                    "modified_at": now,
                    "fetched_at": now,
                    "remote_was_deleted": False,
                },
            )
        if updates:
            await session.execute(update(table), updates)
        return counts

    async def source_digests(self, connection_id: uuid.UUID) -> KnownSources:
        """The source digest of every live candidate stored with one (what a sync passes a
        connector with ``source_digests`` as ``known``), with the seen ids its last mapping
        held (``CandidateRow.source_seen``), read in the same pass: a page of skipped records
        then needs no lookup of its own (one per page had cost a fifth of an unchanged
        re-sync; the column sits behind the row's documents, so reading it once is cheapest)."""
        c = _core(CandidateRow)
        statement = select(c.c.remote_id, c.c.source_hash, c.c.source_seen).where(
            c.c.connection_id == connection_id,
            c.c.source_hash.is_not(None),
            c.c.remote_was_deleted.is_(False),
        )
        known = KnownSources()
        async with self.sessions() as session:
            for remote_id, digest, seen in (await session.execute(statement)).all():
                known.digests[remote_id] = digest
                if seen:
                    known.children[remote_id] = seen
        return known

    async def mark_candidate_deleted(
        self, connection_id: uuid.UUID, candidate_id: uuid.UUID, *, now: datetime
    ) -> None:
        """The vendor says this candidate is gone: it, its files and its applications."""
        await self._mark_deleted(
            connection_id,
            [
                (CandidateRow, CandidateRow.id == candidate_id),
                (AttachmentRow, AttachmentRow.candidate_id == candidate_id),
                (ApplicationRow, ApplicationRow.candidate_id == candidate_id),
            ],
            now=now,
        )

    async def mark_job_deleted(
        self, connection_id: uuid.UUID, job_id: uuid.UUID, *, now: datetime
    ) -> None:
        """The vendor says this job is gone: it and its stages (applications stay: they are
        their candidates' records, and go with them)."""
        await self._mark_deleted(
            connection_id,
            [(JobRow, JobRow.id == job_id), (StageRow, StageRow.job_id == job_id)],
            now=now,
        )

    async def mark_stages_gone(
        self,
        connection_id: uuid.UUID,
        job_id: uuid.UUID,
        *,
        keep: Sequence[uuid.UUID],
        now: datetime,
    ) -> None:
        """A fresh read of a job lists all its stages: those it no longer lists are gone."""
        await self._mark_deleted(
            connection_id,
            [(StageRow, (StageRow.job_id == job_id) & StageRow.id.not_in(keep))],
            now=now,
        )

    async def _mark_deleted(
        self,
        connection_id: uuid.UUID,
        targets: Sequence[tuple[type[StoredRecord], Any]],
        *,
        now: datetime,
    ) -> None:
        self.forget(connection_id)
        async with self.sessions.begin() as session:
            events = await EventBatch.open(session, connection_id=connection_id)
            for table, condition in targets:
                marked = await session.execute(
                    update(table)
                    .where(
                        table.connection_id == connection_id,
                        condition,
                        table.remote_was_deleted.is_(False),
                    )
                    .values(remote_was_deleted=True, modified_at=now, fetched_at=now)
                    .returning(table.id, table.remote_id)
                )
                deleted_events(events, table, marked.all())
            await events.write(session, now=now)

    async def refresh_statistics(
        self, written: WriteCounts, *, growing: GrowthWatch | None = None
    ) -> list[str]:
        """Planner statistics for the tables a sync changed in bulk (PostgreSQL; see
        store.statistics): after it, or with ``growing`` after each page, for the tables
        that doubled. Returns the tables analyzed."""
        bind = self.sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            return []
        counts = {
            _core(MODELS[model].table).name: counts.written
            for model, counts in written.models.items()
            if model in MODELS
        }
        if growing is not None:
            return await growing.after_page(bind, counts)
        return await refresh_statistics(bind, counts)

    async def purge(self, connection_id: uuid.UUID) -> None:
        self.forget(connection_id)
        async with self.sessions.begin() as session:
            for kind in MODELS.values():
                await session.execute(
                    delete(kind.table).where(kind.table.connection_id == connection_id)
                )

    # --- reads ---------------------------------------------------------------------------------

    def _direct_engine(self) -> Engine | None:
        if self._direct is False:
            bind = self.sessions.kw.get("bind")
            self._direct = direct_read_engine(bind) if isinstance(bind, AsyncEngine) else None
        return self._direct if isinstance(self._direct, Engine) else None

    def _autocommit_engine(self) -> AsyncEngine | None:
        if self._autocommit is False:
            bind = self.sessions.kw.get("bind")
            self._autocommit = (
                autocommit_read_engine(bind) if isinstance(bind, AsyncEngine) else None
            )
        return self._autocommit if isinstance(self._autocommit, AsyncEngine) else None

    def _hot_reads(self) -> PostgresReadPool | None:
        if self._hot_pool is False:
            bind = self.sessions.kw.get("bind")
            self._hot_pool = postgres_read_pool(bind) if isinstance(bind, AsyncEngine) else None
        return self._hot_pool if isinstance(self._hot_pool, PostgresReadPool) else None

    async def aclose(self) -> None:
        reads = self._autocommit_engine() if self._autocommit is not False else None
        if reads is not None:
            await reads.dispose()
        hot = self._hot_reads() if self._hot_pool is not False else None
        if hot is not None:
            await hot.close()

    def _compiled(self, dialect: Any, statement: Select[Any], named: bool) -> CompiledRead:
        key = (dialect.name, statement, named)
        read = self._compiled_reads.get(key)
        if read is None:
            read = self._compiled_reads[key] = CompiledRead(dialect, statement, named=named)
        return read

    async def _hot_read(
        self, statement: Select[Any], parameters: dict[str, Any], *, named: bool = True
    ) -> Sequence[Any]:
        """A read built once (``_by_id``, ``_text_page``, ``_plain_page``): compiled once and
        run on the driver, on SQLite's direct connection or PostgreSQL's hot read pool (see
        CompiledRead); elsewhere, or when the file is busy, as any bounded read. Rows are
        named tuples, or with ``named=False`` whatever rows unpack to the columns."""
        direct = self._direct_engine()
        if direct is not None:
            try:
                return self._compiled(direct.dialect, statement, named).rows_on(direct, parameters)
            except sqlite3.OperationalError:
                pass  # the file is busy (a checkpoint, a migration): wait on the async path
        hot = self._hot_reads()
        if hot is not None:
            return await hot.fetch(self._compiled(hot.dialect, statement, named), parameters)
        return await self._bounded_read(statement, parameters)

    async def _bounded_read(
        self, statement: Select[Any], parameters: dict[str, Any] | None = None
    ) -> Sequence[Any]:
        """The rows of a read whose cost an index bounds (by id, by remote id, a keyset page
        without filters): on a SQLite file, read on the loop itself, which costs less than the
        async driver's thread hand-offs (see database.direct_read_engine)."""
        direct = self._direct_engine()
        if direct is not None:
            try:
                with direct.connect() as connection:
                    rows: Sequence[Any] = connection.execute(statement, parameters).all()
                    return rows
            except OperationalError:
                pass  # the file is busy (a checkpoint, a migration): wait on the async path
        reads = self._autocommit_engine()
        if reads is not None:
            try:
                return await _read_on(reads, statement, parameters)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # the server dropped a pooled connection (a restart, a failover): once more
                return await _read_on(reads, statement, parameters)
        bind = self.sessions.kw.get("bind")
        if isinstance(bind, AsyncEngine):  # a Core read: no ORM session to set up
            async with bind.connect() as connection:
                found: Sequence[Any] = (await connection.execute(statement, parameters)).all()
                return found
        async with self.sessions() as session:
            return list((await session.execute(statement, parameters)).all())

    async def candidate(
        self, connection_id: uuid.UUID, candidate_id: uuid.UUID
    ) -> Stored[Candidate] | None:
        """One candidate, with its connection's last full sync, in a single query."""
        hot = self._hot.get(connection_id, {}).get(candidate_id)
        if hot is not None and hot[0] > time.monotonic():
            return hot[1]
        if self._direct_engine() is not None:
            # Read on the loop without suspending: no concurrent load to coalesce, and a task
            # per read (what SingleFlight runs) cost more than the read.
            return await self._load_candidate(connection_id, candidate_id)
        return await self._loads.do_inline(
            (connection_id, candidate_id), lambda: self._load_candidate(connection_id, candidate_id)
        )

    async def _load_candidate(
        self, connection_id: uuid.UUID, candidate_id: uuid.UUID
    ) -> Stored[Candidate] | None:
        rows = await self._hot_read(
            _by_id("candidates"), {"connection_id": connection_id, "record_id": candidate_id}
        )
        if not rows:
            return None
        row = rows[0]
        stored = Stored.of_row(Candidate, row, row.last_full_sync_at)
        if self.read_cache_seconds > 0:
            entries = self._hot.setdefault(connection_id, {})
            if len(entries) >= 50_000:
                entries.clear()
            entries[candidate_id] = (time.monotonic() + self.read_cache_seconds, stored)
        return stored

    async def candidate_texts(
        self, connection_id: uuid.UUID, *, after: int, limit: int
    ) -> list[StoredText | Stored[Candidate]]:
        """A keyset page of live candidates, each as the text a default read serves; a row
        without that text (written before it was kept) comes whole, to be built."""
        parameters = {"connection_id": connection_id, "after": after, "limit": limit}
        rows = await self._text_rows("candidates", parameters)
        missing = [seq for seq, served in rows if served is None]
        whole: dict[int, Stored[Candidate]] = {}
        if missing:
            statement = _served_columns(CandidateRow).where(
                CandidateRow.seq.in_(missing), CandidateRow.remote_was_deleted.is_(False)
            )
            whole = {
                row.seq: Stored.of_row(Candidate, row)
                for row in await self._bounded_read(statement)
            }
        return [
            StoredText(seq, served) if served is not None else whole[seq]
            for seq, served in rows
            if served is not None or seq in whole
        ]

    async def _text_rows(self, model: str, parameters: dict[str, Any]) -> Sequence[Any]:
        """A text page's rows, each unpacking to (seq, served)."""
        return await self._hot_read(_text_page(model), parameters, named=False)

    async def candidates(
        self,
        connection_id: uuid.UUID,
        query: CandidateQuery,
        *,
        after: int,
        limit: int,
    ) -> list[Stored[Candidate]]:
        """A keyset page of candidates matching ``query``; their models are validated only when
        asked for (a listing serves their stored documents)."""
        if query in (_PLAIN, _PLAIN_WITH_DELETED):
            return [
                Stored.of_row(Candidate, r)
                for r in await self._hot_read(
                    _plain_page("candidates", query.include_deleted),
                    {"connection_id": connection_id, "after": after, "limit": limit},
                )
            ]
        statement = self._candidate_filters(
            _served_columns(CandidateRow).where(CandidateRow.connection_id == connection_id),
            query,
        )
        statement = (
            statement.where(CandidateRow.seq > after).order_by(CandidateRow.seq).limit(limit)
        )
        if query.bounded:
            rows = await self._bounded_read(statement)
        else:
            async with self.sessions() as session:
                rows = (await session.execute(statement)).all()
        return [Stored.of_row(Candidate, r) for r in rows]

    @staticmethod
    def _candidate_filters(statement: Select[Any], query: CandidateQuery) -> Select[Any]:
        c = CandidateRow
        if not query.include_deleted:
            statement = statement.where(c.remote_was_deleted.is_(False))
        if query.ids is not None:
            statement = statement.where(c.id.in_(list(query.ids)))
        if query.remote_id is not None:
            statement = statement.where(c.remote_id == query.remote_id)
        if query.email is not None:
            statement = statement.where(c.emails.like(_like_item(query.email.lower()), escape="\\"))
        if query.tag is not None:
            statement = statement.where(c.tags.like(_like_item(query.tag), escape="\\"))
        if query.first_name is not None:
            statement = statement.where(func.lower(c.first_name) == query.first_name.lower())
        if query.last_name is not None:
            statement = statement.where(func.lower(c.last_name) == query.last_name.lower())
        if query.modified_after is not None:
            statement = statement.where(c.modified_at > query.modified_after)
        if query.modified_before is not None:
            statement = statement.where(c.modified_at < query.modified_before)
        if query.created_after is not None:
            statement = statement.where(c.remote_created_at > query.created_after)
        return statement

    async def attachment(
        self, connection_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> Stored[Attachment] | None:
        async with self.sessions() as session:
            row = await session.scalar(
                select(AttachmentRow).where(
                    AttachmentRow.connection_id == connection_id, AttachmentRow.id == attachment_id
                )
            )
        return Stored(attachment_from_row(row), row.seq, row.fetched_at) if row else None

    async def attachments(
        self,
        connection_id: uuid.UUID,
        *,
        candidate_id: uuid.UUID | None,
        include_deleted: bool,
        after: int,
        limit: int,
    ) -> list[Stored[Attachment]]:
        a = AttachmentRow
        statement = select(a).where(a.connection_id == connection_id, a.seq > after)
        if candidate_id is not None:
            statement = statement.where(a.candidate_id == candidate_id)
        if not include_deleted:
            statement = statement.where(a.remote_was_deleted.is_(False))
        statement = statement.order_by(a.seq).limit(limit)
        async with self.sessions() as session:
            rows = (await session.scalars(statement)).all()
        return [Stored(attachment_from_row(r), r.seq, r.fetched_at) for r in rows]

    async def record(
        self, model: str, connection_id: uuid.UUID, record_id: uuid.UUID
    ) -> Stored[Any] | None:
        """One stored job, stage or application (``model`` as in MODELS), with the
        connection's last full sync."""
        rows = await self._hot_read(
            _by_id(model), {"connection_id": connection_id, "record_id": record_id}
        )
        kind = MODELS[model].model
        return Stored.of_row(kind, rows[0], rows[0].last_full_sync_at) if rows else None

    async def records(
        self,
        model: str,
        connection_id: uuid.UUID,
        query: "RecordQuery",
        *,
        after: int,
        limit: int,
        without: frozenset[str] = frozenset(),
        related: Callable[[list[dict[str, Any]]], Mapping[str, Sequence[uuid.UUID]]] | None = None,
    ) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, dict[uuid.UUID, dict[str, Any]]]]:
        """A keyset page of jobs, stages or applications matching ``query``, as (seq, the
        JSON-ready document) pairs: stored documents are served without re-validation. With
        ``related`` (the ids the page points at, per model), those records too, read in the
        same session (a session's own cost outweighed a page of rows)."""
        kind = MODELS[model]
        t = kind.table
        statement = _served_columns(t).where(t.connection_id == connection_id, t.seq > after)
        if not query.include_deleted:
            statement = statement.where(t.remote_was_deleted.is_(False))
        if query.ids is not None:
            statement = statement.where(t.id.in_(list(query.ids)))
        if query.remote_id is not None:
            statement = statement.where(t.remote_id == query.remote_id)
        if query.modified_after is not None:
            statement = statement.where(t.modified_at > query.modified_after)
        if query.modified_before is not None:
            statement = statement.where(t.modified_at < query.modified_before)
        for column, values in query.any_of.items():
            statement = statement.where(getattr(t, column).in_(list(values)))
        for column, bound in query.after_.items():
            statement = statement.where(getattr(t, column) > bound)
        for column, bound in query.before_.items():
            statement = statement.where(getattr(t, column) < bound)
        statement = statement.order_by(t.seq).limit(limit)
        async with self.sessions() as session:
            rows = (await session.execute(statement)).all()
            page = [(r.seq, served_document(kind.model, r, without)) for r in rows]
            found: dict[str, dict[uuid.UUID, dict[str, Any]]] = {}
            if related is not None:
                wanted = related([document for _, document in page[: limit - 1 or None]])
                if any(wanted.values()):
                    found = await self._documents(session, connection_id, wanted, without)
        return page, found

    async def documents(
        self,
        connection_id: uuid.UUID,
        wanted: Mapping[str, Sequence[uuid.UUID]],
        *,
        without: frozenset[str] = frozenset(),
    ) -> dict[str, dict[uuid.UUID, dict[str, Any]]]:
        """Stored records by id, per model name, as JSON-ready documents (deleted ones
        included: an embedded relation shows what it points at), in one session; ids of other
        connections are never read."""
        if not any(wanted.values()):
            return {model: {} for model in wanted}
        async with self.sessions() as session:
            return await self._documents(session, connection_id, wanted, without)

    @staticmethod
    async def _documents(
        session: AsyncSession,
        connection_id: uuid.UUID,
        wanted: Mapping[str, Sequence[uuid.UUID]],
        without: frozenset[str],
    ) -> dict[str, dict[uuid.UUID, dict[str, Any]]]:
        found: dict[str, dict[uuid.UUID, dict[str, Any]]] = {model: {} for model in wanted}
        for model, ids in wanted.items():
            kind = MODELS[model]
            t = kind.table
            unique_ids = list(dict.fromkeys(ids))
            for start in range(0, len(unique_ids), 500):  # bound the IN list
                chunk = unique_ids[start : start + 500]
                rows = (
                    await session.execute(
                        _served_columns(t).where(t.connection_id == connection_id, t.id.in_(chunk))
                    )
                ).all()
                for row in rows:
                    found[model][row.id] = served_document(kind.model, row, without)
        return found

    async def last_full_sync(self, connection_id: uuid.UUID) -> datetime | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(Connection.last_full_sync_at).where(Connection.id == connection_id)
            )
