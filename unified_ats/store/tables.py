"""The database schema (SQLAlchemy 2 declarative). Migrations live in ``migrations/``."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: UtcDateTime}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    link_redirect_urls: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    """Where a hosted link page may send the end user back: exact URLs or ``origin/*``
    prefixes (an open redirect otherwise)."""


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Connection(Base):
    __tablename__ = "connections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    connector: Mapped[str] = mapped_column(String(64))
    account_key: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(40))
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    settings_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    """Start of the last complete, successful enumeration: every record was fresh then."""
    end_user_origin_id: Mapped[str | None] = mapped_column(Text, default=None)
    """The API consumer's own id for the end user who linked this account (link flow)."""
    end_user_org_name: Mapped[str | None] = mapped_column(Text, default=None)


class StoredRecord:
    """Columns every stored vendor record has (candidates, attachments, jobs, stages,
    applications): the unified document, its content hash, and the platform's bookkeeping."""

    # `seq` orders pages: new rows always sort after existing ones, so keyset pages stay stable.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    # Text, not String(n): no vendor value may hit a column limit (ids are bounded in bytes by
    # the store before they reach an index, see records.MAX_REMOTE_ID_BYTES).
    remote_id: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_hash: Mapped[str] = mapped_column(String(64))
    modified_at: Mapped[datetime]
    fetched_at: Mapped[datetime]
    """When the vendor last confirmed this content (a sync write, a refresh, a webhook)."""
    remote_was_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]]
    served: Mapped[str | None] = mapped_column(Text, default=None)
    """The record as a default read serves it (no raw data, no custom fields), as JSON text,
    so that list pages join stored text instead of parsing and serializing every item.
    Rendered whenever the content is written (``records.upsert``), which is also the only
    write that clears ``remote_was_deleted`` or moves ``modified_at`` of a live record; a
    deletion leaves it stale, so it is trusted only while ``remote_was_deleted`` is false.
    Null (older rows, records it cannot be rendered for): served the slow way."""


class CandidateRow(StoredRecord, Base):
    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_id", name="uq_candidates_connection_remote"),
        Index("ix_candidates_connection_seq", "connection_id", "seq"),
        # Expansions fetch many ids of one connection at once: (connection, id) serves them.
        Index("ix_candidates_connection_id", "connection_id", "id"),
        Index("ix_candidates_connection_modified", "connection_id", "modified_at"),
    )

    remote_created_at: Mapped[datetime | None]
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    emails: Mapped[str] = mapped_column(Text, default="")
    """Space-delimited, lower-cased: ``" a@x.fr b@y.fr "`` (filter by exact address)."""
    tags: Mapped[str] = mapped_column(Text, default="")
    source_hash: Mapped[str | None] = mapped_column(Text)
    """The connector's digest of the vendor record this row was last mapped from (see
    ``CandidateRecord.source_digest``): while the vendor record keeps it, a sync skips mapping
    it. Cleared by any write that did not come with a digest (a webhook, a refresh)."""
    source_seen: Mapped[str | None] = mapped_column(Text)
    """The seen ids (``a:…``, ``p:…``) of what that mapping gave besides the candidate: a
    full run that skips the record counts them seen, as if it had mapped it again."""


class AttachmentRow(StoredRecord, Base):
    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_id", name="uq_attachments_connection_remote"),
        Index("ix_attachments_connection_seq", "connection_id", "seq"),
        Index("ix_attachments_candidate", "candidate_id"),
    )

    candidate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class JobRow(StoredRecord, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_id", name="uq_jobs_connection_remote"),
        Index("ix_jobs_connection_seq", "connection_id", "seq"),
        Index("ix_jobs_connection_id", "connection_id", "id"),
    )

    code: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    remote_created_at: Mapped[datetime | None]


class StageRow(StoredRecord, Base):
    __tablename__ = "job_interview_stages"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_id", name="uq_stages_connection_remote"),
        Index("ix_stages_connection_seq", "connection_id", "seq"),
        Index("ix_stages_connection_id", "connection_id", "id"),
        Index("ix_stages_job", "job_id"),
    )

    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ApplicationRow(StoredRecord, Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_id", name="uq_applications_connection_remote"),
        Index("ix_applications_connection_seq", "connection_id", "seq"),
        Index("ix_applications_connection_id", "connection_id", "id"),
        Index("ix_applications_candidate", "candidate_id"),
        Index("ix_applications_job", "job_id"),
    )

    candidate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    stage_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    applied_at: Mapped[datetime | None]


class SyncRun(Base):
    """One sync of one connection: its state, counts and (mapped, secret-free) last error."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_connection_started", "connection_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    full: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    """running, succeeded, partial, failed, interrupted, abandoned (see sync_runs.RunState)."""
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_since: Mapped[datetime | None] = mapped_column(default=None)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_seconds: Mapped[float | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    """Renewed while the run's process is alive; a stale one means the run was abandoned."""
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    incomplete_reason: Mapped[str | None] = mapped_column(Text, default=None)
    """Why a run that reached the end of the enumeration still could not mark deletions."""
    resumed_from: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    models: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """Per unified model: ``{"jobs": {"seen": n, "changed": n, "deleted": n}, ...}``."""


class SyncSeen(Base):
    """Remote ids a full run has seen: deletions are decided from here, not from memory."""

    __tablename__ = "sync_seen"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True
    )
    remote_id: Mapped[str] = mapped_column(Text, primary_key=True)


class SyncLease(Base):
    """Which run syncs a connection now. A crashed holder stops renewing and its lease expires.

    The holder is a run id, never a process: two tasks of one process are two holders.
    ``follow_up`` is the one coalesced request that came in while the run was going.
    """

    __tablename__ = "sync_leases"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    follow_up: Mapped[str | None] = mapped_column(String(16), default=None)


class QuarantinedRecord(Base):
    """A vendor record a sync could not map or store: kind, remote id and reason, no content."""

    __tablename__ = "sync_quarantine"
    __table_args__ = (
        UniqueConstraint("connection_id", "key", name="uq_sync_quarantine_connection_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(64))
    """sha256 of kind and remote id (or of kind and reason when the record had no id)."""
    kind: Mapped[str] = mapped_column(String(32))
    remote_id: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class IdempotencyRecord(Base):
    """One ``Idempotency-Key`` of one scope (a connection, or a tenant for its own routes).

    ``state``: ``pending`` while the first request runs; ``done`` with its answer (encrypted:
    it holds personal data, and a created connection's token); ``unknown`` when the vendor
    failed without saying whether the write happened, so a retry looks the record up first.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """sha256 of the route and the request body: the same key must come with the same body."""
    state: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime]
    locked_until: Mapped[datetime]
    """A ``pending`` key whose request died is taken over after this."""
    expires_at: Mapped[datetime]


class StagedFile(Base):
    """A file a vendor fetches by URL (Welcome Kit), served at a short-lived signed URL."""

    __tablename__ = "staged_files"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    file_name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class OutboxEntry(Base):
    """Events written in the transaction of the change they describe; the dispatcher turns
    them into deliveries and deletes the entry. A rolled-back change leaves no entry."""

    __tablename__ = "event_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    # No foreign key: `connection.deleted` outlives its connection.
    connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``[{"type": ..., "data": {...}}, ...]``: one entry per transaction, not per event."""
    created_at: Mapped[datetime]


class WebhookEndpoint(Base):
    """Where a tenant wants its events, with a secret kept encrypted (it signs every body)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    """Filters: exact types, ``candidate.*`` prefixes, or ``*``."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    """Until then bodies are signed with both secrets, so receivers can switch over."""
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    """First failure since the last success: five days of it disable the endpoint."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookEvent(Base):
    """An event as delivered (its ``webhook-id`` and body), kept for redelivery and the log
    for a bounded time."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_created", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    """The exact bytes signed and sent (UTF-8 JSON): redelivery re-signs the same body."""
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event to one endpoint: at least once, with backoff, and its history."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "seq"),
    )

    # `seq` orders the delivery log's pages (newest first) and keys batch updates.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    state: Mapped[str] = mapped_column(String(16))
    """pending, succeeded, failed (retries exhausted), or cancelled (endpoint disabled)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    """A worker holds a delivery it is sending; a dead worker's hold expires."""
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    """At most 1 KB of what the receiver answered."""
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class LinkToken(Base):
    """A hosted link session: the single-use link token (hashed), then the public token the
    API consumer exchanges once for what the page created (kept encrypted until then)."""

    __tablename__ = "link_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    end_user_origin_id: Mapped[str] = mapped_column(Text)
    org_name: Mapped[str] = mapped_column(Text)
    connector: Mapped[str | None] = mapped_column(String(64), default=None)
    relink_connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    redirect_url: Mapped[str] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    """The connection the page created or relinked."""
    public_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    public_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    exchanged_at: Mapped[datetime | None] = mapped_column(default=None)
    result_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """The new connector token and webhook secret, until exchanged (then wiped)."""
