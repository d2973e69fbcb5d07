"""Reading one record: serve the stored copy, refresh it through the connector when it is too old.

- Stored copy younger than ``max_age`` (counting the last full sync): served as is.
- Older, or ``Cache-Control: no-cache``: refreshed from the vendor and upserted.
- Vendor says gone: marked ``remote_was_deleted``, 404.
- Vendor fails: the stored copy is served, with its age in an ``Age`` header.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from connectors import ConnectorError, NotFound
from schemas import Attachment, Candidate
from unified_ats.api.errors import NotFoundError
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.records import CandidateQuery

logger = logging.getLogger("unified_ats.reads")
T = TypeVar("T", Candidate, Attachment)


@dataclass(frozen=True)
class Served(Generic[T]):
    model: T
    age_seconds: int | None
    """Seconds since the copy was fetched from the vendor; None when fetched just now."""


def _age(fresh_as_of: datetime, now: datetime) -> float:
    return max(0.0, (now - fresh_as_of).total_seconds())


async def read_candidate(
    services: Services,
    connection: ConnectionInfo,
    candidate_id: uuid.UUID,
    *,
    force_refresh: bool,
) -> Served[Candidate]:
    stored = await services.records.candidate(connection.id, candidate_id)
    if stored is None or stored.model.remote_was_deleted:
        raise NotFoundError("no candidate with this id on this connection")
    now = datetime.now(UTC)
    age = _age(stored.fresh_as_of, now)
    if not force_refresh and age <= services.settings.max_age_seconds:
        return Served(stored.model, int(age))
    connector = await services.pool.for_connection(connection)
    try:
        record = await connector.get_candidate(stored.model.remote_id or "", known=stored.model)
    except NotFound:
        await services.records.mark_candidate_deleted(connection.id, candidate_id, now=now)
        raise NotFoundError("this candidate no longer exists at the vendor") from None
    except ConnectorError as exc:
        logger.warning("serving stored candidate %s: vendor failed: %s", candidate_id, exc.message)
        return Served(stored.model, int(age))
    await services.records.upsert(connection.id, [record], now=now)
    refreshed = await services.records.candidate(connection.id, candidate_id)
    assert refreshed is not None
    return Served(refreshed.model, None)


async def fetch_by_remote_id(
    services: Services, connection: ConnectionInfo, remote_id: str
) -> list[Candidate]:
    """``?remote_id=`` with no stored copy: ask the vendor (its failure is mapped, not hidden)."""
    stored = await services.records.candidates(
        connection.id, CandidateQuery(remote_id=remote_id, include_deleted=True), after=0, limit=1
    )
    if stored:
        # Only a copy marked deleted gets here (the list query hides those): it stays hidden.
        return []
    connector = await services.pool.for_connection(connection)
    try:
        record = await connector.get_candidate(remote_id)
    except NotFound:
        return []
    await services.records.upsert(connection.id, [record], now=datetime.now(UTC))
    return [record.candidate]


async def stored_attachment(
    services: Services, connection: ConnectionInfo, attachment_id: uuid.UUID
) -> Served[Attachment]:
    stored = await services.records.attachment(connection.id, attachment_id)
    if stored is None:
        raise NotFoundError("no attachment with this id on this connection")
    last_full_sync = await services.records.last_full_sync(connection.id)
    fresh_as_of = max(stored.fetched_at, last_full_sync) if last_full_sync else stored.fetched_at
    return Served(stored.model, int(_age(fresh_as_of, datetime.now(UTC))))
