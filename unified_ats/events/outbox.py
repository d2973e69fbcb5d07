"""The transactional outbox: events are rows written in the same transaction as the change
they describe, so a committed change always has its event and a rolled-back one never does.

A tenant with no endpoint selecting an event type gets no row for it: the check runs in the
same transaction, so an endpoint created later receives the changes made after it exists.
"""

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.datetimes import format_utc
from unified_ats.events.catalog import any_selects, event_model_of
from unified_ats.store.tables import Connection, OutboxEntry, SyncRun, WebhookEndpoint


class EventBatch:
    """The events of one transaction, for one tenant (named directly or by a connection)."""

    def __init__(
        self,
        subscriptions: Sequence[Sequence[str]],
        *,
        tenant_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
    ) -> None:
        self._subscriptions = subscriptions
        self._wanted: dict[str, bool] = {}
        self.tenant_id = tenant_id
        self.connection_id = connection_id
        self.events: list[dict[str, Any]] = []
        # Record events are the bulk of a sync's events and differ only in their ids: they are
        # kept as (id, remote_id) pairs per type, and expanded when dispatched (``expand``).
        self._records: dict[str, list[tuple[str, str]]] = {}

    @classmethod
    async def open(
        cls,
        session: AsyncSession,
        *,
        tenant_id: uuid.UUID | None = None,
        connection_id: uuid.UUID | None = None,
    ) -> "EventBatch":
        statement = select(WebhookEndpoint.events).where(WebhookEndpoint.enabled.is_(True))
        if tenant_id is not None:
            statement = statement.where(WebhookEndpoint.tenant_id == tenant_id)
        else:
            statement = statement.where(
                WebhookEndpoint.tenant_id
                == select(Connection.tenant_id)
                .where(Connection.id == connection_id)
                .scalar_subquery()
            )
        subscriptions = list((await session.scalars(statement)).all())
        return cls(subscriptions, tenant_id=tenant_id, connection_id=connection_id)

    @property
    def listening(self) -> bool:
        """Some endpoint of the tenant is enabled: worth building events at all."""
        return bool(self._subscriptions)

    def wants(self, event_type: str) -> bool:
        wanted = self._wanted.get(event_type)
        if wanted is None:
            wanted = self._wanted[event_type] = any_selects(self._subscriptions, event_type)
        return wanted

    def add(self, event_type: str, data: dict[str, Any]) -> None:
        if self.wants(event_type):
            self.events.append({"type": event_type, "data": data})

    @property
    def pending_types(self) -> set[str]:
        """The event types the next ``write`` will store."""
        return {e["type"] for e in self.events} | set(self._records)

    def add_record(self, event_type: str, record_id: uuid.UUID, remote_id: str) -> None:
        """``<model>.created|updated|deleted`` of a record of this batch's connection, changed
        at the time the batch is written."""
        if self.wants(event_type):
            self._records.setdefault(event_type, []).append((str(record_id), remote_id))

    async def write(self, session: AsyncSession, *, now: datetime) -> None:
        for event_type, pairs in self._records.items():
            self.events.append({"type": event_type, "records": pairs})
        self._records = {}
        if not self.events:
            return
        tenant: Any = self.tenant_id
        if tenant is None:
            tenant = (
                select(Connection.tenant_id)
                .where(Connection.id == self.connection_id)
                .scalar_subquery()
            )
        await session.execute(
            insert(OutboxEntry).values(
                tenant_id=tenant,
                connection_id=self.connection_id,
                events=self.events,
                created_at=now,
            )
        )
        self.events = []


def expand(
    events: Sequence[dict[str, Any]], connection_id: uuid.UUID | None, created_at: datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    """An outbox row's events as (type, data), record events unfolded from their pairs.

    Record events are thin: ids to fetch the record with, never its personal data (delivery
    bodies are kept for the log, and receivers may be less careful than our API).
    """
    for item in events:
        pairs = item.get("records")
        if pairs is None:
            yield item["type"], item["data"]
            continue
        model = item["type"].partition(".")[0]
        stamp = format_utc(created_at)
        for record_id, remote_id in pairs:
            yield (
                item["type"],
                {
                    "id": record_id,
                    "model": model,
                    "remote_id": remote_id,
                    "connection_id": str(connection_id),
                    "modified_at": stamp,
                },
            )


def deleted_events(events: EventBatch, table: Any, marked: Sequence[Any]) -> None:
    """``<model>.deleted`` for the rows an UPDATE … RETURNING (id, remote_id) just marked."""
    model = event_model_of(table)
    if model is None or not events.wants(f"{model}.deleted"):
        return
    for record_id, remote_id in marked:
        events.add_record(f"{model}.deleted", record_id, remote_id)


def sync_data(run: SyncRun) -> dict[str, Any]:
    """A run's status as the sync status route shows it; ``error`` is already mapped and
    free of secrets (sync_runs keeps only that)."""
    return {
        "connection_id": str(run.connection_id),
        "run_id": str(run.id),
        "full": run.full,
        "state": run.state,
        "started_at": format_utc(run.started_at),
        "finished_at": format_utc(run.finished_at) if run.finished_at else None,
        "duration_seconds": run.duration_seconds,
        "seen": run.seen or 0,
        "changed": run.changed or 0,
        "deleted": run.deleted or 0,
        "quarantined": run.quarantined or 0,
        "models": run.models,
        "error": run.error,
        "incomplete_reason": run.incomplete_reason,
    }
