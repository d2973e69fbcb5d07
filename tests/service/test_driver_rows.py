"""Rows sent straight to the driver (``store.driver_rows.RowInsert``) land exactly as the ORM's
Core insert would write them: same values back through the models' columns, on both stores."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, delete, insert, select

from unified_ats.services import Services
from unified_ats.settings import Settings
from unified_ats.store.database import PreSerialized
from unified_ats.store.driver_rows import RowInsert
from unified_ats.store.tables import CandidateRow, SyncRun, SyncSeen

CANDIDATES: Table = CandidateRow.__table__  # type: ignore[assignment]
VARYING = ("id", "remote_id", "data", "first_name", "remote_created_at", "source_hash")
SHARED = ("connection_id", "modified_at", "fetched_at", "remote_was_deleted")
COMPARED = [*VARYING, *SHARED, "content_hash", "raw_hash", "emails", "tags"]

texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.astimezone(timezone(timedelta(hours=5, minutes=30))))
rows = st.lists(
    st.tuples(
        st.uuids(),
        texts.filter(bool),
        st.dictionaries(texts, st.integers() | texts | st.none(), max_size=3),
        st.none() | texts,
        st.none() | instants,
        st.none() | texts,
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda row: row[1],
)


@pytest.fixture
async def store(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Services, uuid.UUID]]:
    services = await Services.start(Settings(data_dir=tmp_path, database_url=database_url))
    tenant, _ = await services.accounts.create_tenant("acme")
    connection, _, _ = await services.accounts.create_connection(
        tenant, connector="flatchr", account_key="acct", settings={"api_key": "k"}
    )
    yield services, connection.id
    await services.aclose()


def _values(row: tuple[Any, ...], connection_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    record_id, remote_id, data, first_name, created, source_hash = row
    return {
        "id": record_id,
        "remote_id": remote_id,
        "data": data,
        "first_name": first_name,
        "remote_created_at": created,
        "source_hash": source_hash,
        "connection_id": connection_id,
        "modified_at": now,
        "fetched_at": now,
        "remote_was_deleted": False,
    }


async def _written(services: Services, connection_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    async with services.records.sessions() as session:
        found = await session.execute(
            select(*[CANDIDATES.c[name] for name in COMPARED]).where(
                CANDIDATES.c.connection_id == connection_id
            )
        )
        return {row.remote_id: dict(row._mapping) for row in found}


NOW = datetime(2026, 12, 3, 9, 30, tzinfo=timezone(timedelta(hours=-3)))
WRITER = RowInsert(CANDIDATES, (*VARYING, "content_hash", "raw_hash"), SHARED)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=rows)
async def test_driver_rows_read_back_as_the_core_insert_writes_them(
    store: tuple[Services, uuid.UUID], batch: list[tuple[Any, ...]]
) -> None:
    services, connection_id = store
    shared = {name: _values(batch[0], connection_id, NOW)[name] for name in SHARED}
    async with services.records.sessions.begin() as session:
        await session.execute(delete(CANDIDATES))
        core = [
            {**_values(row, connection_id, NOW), "content_hash": "c", "raw_hash": "r"}
            for row in batch
        ]
        await session.execute(insert(CANDIDATES), core)
    by_core = await _written(services, connection_id)
    async with services.records.sessions.begin() as session:
        await session.execute(delete(CANDIDATES))
        driver = [(*row[:2], PreSerialized(_json(row[2])), *row[3:], "c", "r") for row in batch]
        await WRITER.execute(session, driver, shared)
    assert await _written(services, connection_id) == by_core


def _json(value: Any) -> str:
    from pydantic_core import to_json

    return to_json(value).decode()


async def test_seen_rows_skip_the_ids_a_run_already_holds(
    store: tuple[Services, uuid.UUID],
) -> None:
    """A resumed run sees ids again: they are left as they are, the new ones are added."""
    services, connection_id = store
    run_id = uuid.uuid4()
    async with services.records.sessions.begin() as session:
        session.add(
            SyncRun(
                id=run_id,
                connection_id=connection_id,
                full=True,
                state="running",
                started_at=datetime.now(UTC),
            )
        )
    seen: Table = SyncSeen.__table__  # type: ignore[assignment]
    writer = RowInsert(seen, ("remote_id",), ("run_id",), skip_existing=True)
    for batch in (["c:1", "c:2"], ["c:2", "c:3", "c:1"]):
        async with services.records.sessions.begin() as session:
            await writer.execute(session, [(r,) for r in batch], {"run_id": run_id})
    async with services.records.sessions() as session:
        stored = (await session.scalars(select(seen.c.remote_id))).all()
    assert sorted(stored) == ["c:1", "c:2", "c:3"]
