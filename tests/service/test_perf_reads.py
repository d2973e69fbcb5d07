"""The read fast path serves exactly what validating the stored record again would serve.

Reads serve the stored JSON document instead of a model validated and copied per request, and
leave ``raw_data`` unparsed when it is not asked for. These tests pin the behaviour, not speed.
"""

import asyncio
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_json
from sqlalchemy import text as sql

from connectors.sdk.base import CandidateRecord
from schemas import Attachment, Candidate
from tests.service.conftest import Stack
from unified_ats.store.database import SQLITE_CACHE_SIZE
from unified_ats.store.hashing import fingerprint
from unified_ats.store.records import (
    DEFAULT_WITHOUT,
    CandidateQuery,
    Stored,
    _document,
    model_from_row,
    served_document,
)
from unified_ats.store.served import render_served

API = "/api/ats/v1"
WITHOUT_RAW = frozenset({"raw_data", "custom_fields"})


def _shaped(candidate: Candidate, *, raw: bool, custom: bool) -> dict:
    return json.loads(
        candidate.model_copy(
            update={
                **({} if raw else {"raw_data": None}),
                **({} if custom else {"custom_fields": None}),
            }
        ).model_dump_json()
    )


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_reads_serve_what_the_validated_model_serializes_to(
    stack: Stack, vendor: str
) -> None:
    token = (await stack.connect_vendor(vendor))["connector_token"]
    headers = stack.headers(token)
    connection = await stack.services.accounts.connection_for_token(stack.tenant, token)
    assert connection is not None
    page = await stack.client.get(f"{API}/candidates", params={"page_size": 5}, headers=headers)
    assert page.status_code == 200
    items = page.json()["items"]
    assert items
    for item in items:
        stored = await stack.services.records.candidate(connection.id, uuid.UUID(item["id"]))
        assert stored is not None
        validated = Candidate.model_validate(stored.model.model_dump())
        avatar_route = item["avatar"] != validated.avatar  # viasto's photo is served by us
        for raw, custom in ((False, False), (True, True), (True, False)):
            one = await stack.client.get(
                f"{API}/candidates/{item['id']}",
                params={"include_raw_data": raw, "include_custom_fields": custom},
                headers=headers,
            )
            assert one.status_code == 200
            expected = _shaped(validated, raw=raw, custom=custom)
            if avatar_route:
                expected["avatar"] = item["avatar"]
            assert one.json() == expected
        expected = _shaped(validated, raw=False, custom=False)
        if avatar_route:
            expected["avatar"] = item["avatar"]
        assert item == expected


async def test_a_list_with_raw_data_carries_the_vendor_payload(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    page = await stack.client.get(
        f"{API}/candidates",
        params={"page_size": 3, "include_raw_data": "true"},
        headers=stack.headers(token),
    )
    for item in page.json()["items"]:
        assert item["raw_data"]["applicant"] == item["remote_id"]
        assert item["custom_fields"] is None


def _row(text: str) -> SimpleNamespace:
    return SimpleNamespace(
        seq=1,
        id=uuid.uuid4(),
        data=text,
        modified_at=datetime(2026, 1, 2, tzinfo=UTC),
        fetched_at=datetime(2026, 1, 2, tzinfo=UTC),
        remote_was_deleted=False,
    )


def _candidate(**fields: object) -> Candidate:
    return Candidate(
        id=uuid.uuid4(),
        remote_id="r1",
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
        first_name="Zoé",
        raw_data={"secret_looking": "value", "nested": {"raw_data": 1}},
        **fields,
    )


def test_a_document_in_the_stores_layout_is_read_without_its_raw_data() -> None:
    document = fingerprint(_candidate(custom_fields={"x": 1})).document
    parsed = _document(Candidate, document, WITHOUT_RAW)
    assert "raw_data" not in parsed and parsed["first_name"] == "Zoé"
    assert _document(Candidate, document, frozenset())["raw_data"]["nested"] == {"raw_data": 1}


@pytest.mark.parametrize(
    "layout",
    [
        "nested raw_data key in the content",
        "raw_data before the content",
        "a field missing before raw_data",
    ],
)
def test_other_layouts_are_parsed_whole(layout: str) -> None:
    """A cut that is not the store's layout never loses or invents a field."""
    candidate = _candidate(custom_fields={"a": 1, "raw_data": {"b": 2}})
    content = json.loads(candidate.model_dump_json())
    if layout == "nested raw_data key in the content":
        text = json.dumps(content, separators=(",", ":"))
    elif layout == "raw_data before the content":
        raw = content.pop("raw_data")
        text = json.dumps({"raw_data": raw, **content}, separators=(",", ":"))
    else:
        raw = content.pop("raw_data")
        tags = content.pop("tags")
        text = json.dumps({**content, "raw_data": raw, "tags": tags}, separators=(",", ":"))
    row = _row(text)
    served = served_document(Candidate, row, WITHOUT_RAW)
    assert served["custom_fields"] is None and served["raw_data"] is None
    whole = json.loads(text)
    for name, value in whole.items():
        if name not in WITHOUT_RAW | {"id", "modified_at", "remote_was_deleted"}:
            assert served[name] == value, name
    model = model_from_row(Candidate, row)
    assert model.custom_fields == {"a": 1, "raw_data": {"b": 2}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
text_or_none = st.none() | st.text()


@st.composite
def candidates(draw: st.DrawFn) -> Candidate:
    return Candidate.model_validate(
        {
            "id": draw(st.uuids()),
            "remote_id": draw(st.text(min_size=1)),
            "modified_at": datetime(2026, 1, 1, tzinfo=UTC),
            "raw_data": draw(st.none() | st.dictionaries(st.text(), json_values, max_size=3)),
            "custom_fields": draw(st.none() | st.dictionaries(st.text(), json_values, max_size=3)),
            "first_name": draw(text_or_none),
            "last_name": draw(text_or_none),
            "company": draw(text_or_none),
            "tags": draw(st.lists(st.text(), max_size=3)),
            "email_addresses": draw(st.lists(st.emails(), max_size=2)),
            "remote_created_at": draw(
                st.none() | st.datetimes(timezones=st.just(UTC), min_value=datetime(1971, 1, 1))
            ),
            "avatar": draw(text_or_none),
        }
    )


@given(candidate=candidates(), now=st.datetimes(timezones=st.just(UTC)))
def test_the_stored_default_view_is_what_the_document_serves(
    candidate: Candidate, now: datetime
) -> None:
    """The text kept at write time is, byte for byte, what building the document serves (so
    the ETag of a read does not depend on which path served it)."""
    print_ = fingerprint(candidate)
    text = render_served(candidate, print_.content, candidate.id, now)
    assert text is not None
    row = SimpleNamespace(
        seq=1,
        id=candidate.id,
        data=print_.document,
        modified_at=now,
        fetched_at=now,
        remote_was_deleted=False,
        served=text,
    )
    built = served_document(Candidate, row, DEFAULT_WITHOUT)
    assert text == to_json(built).decode()
    assert Stored.of_row(Candidate, row).served_text(DEFAULT_WITHOUT) == text
    # Any other view, or a deleted record, is built, never taken from the stored text.
    assert Stored.of_row(Candidate, row).served_text(frozenset({"raw_data"})) is None
    deleted = SimpleNamespace(**{**vars(row), "remote_was_deleted": True})
    assert Stored.of_row(Candidate, deleted).served_text(DEFAULT_WITHOUT) is None


def test_content_that_does_not_splice_as_expected_is_not_rendered() -> None:
    candidate = _candidate(custom_fields={"x": 1})
    content = fingerprint(candidate).content
    reordered = json.dumps(
        {k: v for k, v in reversed(json.loads(content).items())}, separators=(",", ":")
    )
    assert render_served(candidate, reordered, candidate.id, datetime.now(UTC)) is None
    attachment = Attachment(
        id=uuid.uuid4(), remote_id="a1", modified_at=datetime.now(UTC), file_name="cv.pdf"
    )
    assert (
        render_served(attachment, fingerprint(attachment).content, attachment.id, datetime.now(UTC))
        is None
    )


async def test_the_stored_view_follows_changes_deletions_and_returns(stack: Stack) -> None:
    """Every write that moves modified_at of a live record renders its text again; a deleted
    record is never served from it; one that comes back is rendered afresh."""
    token = (await stack.connect_flatchr())["connector_token"]
    headers = stack.headers(token)
    connection = await stack.services.accounts.connection_for_token(stack.tenant, token)
    assert connection is not None
    records = stack.services.records

    async def default_and_built() -> list[tuple[str | None, dict]]:
        stored = await records.candidates(
            connection.id, CandidateQuery(include_deleted=True), after=0, limit=1000
        )
        return [(s.served_text(DEFAULT_WITHOUT), s.document(DEFAULT_WITHOUT)) for s in stored]

    pairs = await default_and_built()
    assert pairs and all(text is not None for text, _ in pairs)
    for text, built in pairs:
        assert json.loads(text or "") == built

    page = (await stack.client.get(f"{API}/candidates", headers=headers)).json()
    first = page["items"][0]
    candidate_id = uuid.UUID(first["id"])
    stored = await records.candidate(connection.id, candidate_id)
    assert stored is not None
    later = datetime.now(UTC)
    changed = stored.model.model_copy(update={"first_name": "Renamed", "modified_at": later})
    await records.upsert(connection.id, [CandidateRecord(changed)], now=later)
    one = (await stack.client.get(f"{API}/candidates/{candidate_id}", headers=headers)).json()
    assert one["first_name"] == "Renamed" and one["modified_at"] != first["modified_at"]
    listed = (await stack.client.get(f"{API}/candidates", headers=headers)).json()["items"]
    assert next(i for i in listed if i["id"] == first["id"]) == one

    await records.mark_candidate_deleted(connection.id, candidate_id, now=datetime.now(UTC))
    listed = (await stack.client.get(f"{API}/candidates", headers=headers)).json()["items"]
    assert first["id"] not in {i["id"] for i in listed}
    with_deleted = (
        await stack.client.get(f"{API}/candidates?include_deleted=true", headers=headers)
    ).json()["items"]
    gone = next(i for i in with_deleted if i["id"] == first["id"])
    assert gone["remote_was_deleted"] is True and gone["first_name"] == "Renamed"

    back_at = datetime.now(UTC)
    await records.upsert(connection.id, [CandidateRecord(changed)], now=back_at)
    back = (await stack.client.get(f"{API}/candidates/{candidate_id}", headers=headers)).json()
    assert back["remote_was_deleted"] is False and back["modified_at"] != one["modified_at"]
    for text, built in await default_and_built():
        if built["remote_was_deleted"] is False:
            assert json.loads(text or "") == built


async def test_a_text_page_is_the_same_read_directly_or_through_the_driver(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a SQLite file a list page is read on the loop from the raw connection; it holds
    exactly the rows the async driver reads, for this connection only, and a busy file
    falls back to the driver instead of failing the request."""
    token = (await stack.connect_flatchr())["connector_token"]
    connection = await stack.services.accounts.connection_for_token(stack.tenant, token)
    assert connection is not None
    records = stack.services.records
    on_a_file = str(records.sessions.kw["bind"].url).startswith("sqlite")
    assert (records._direct_engine() is not None) == on_a_file  # PostgreSQL: the driver only

    def texts(page: list) -> list[tuple[int, bytes]]:
        return [(s.seq, s.served_json(DEFAULT_WITHOUT)) for s in page]

    direct = texts(await records.candidate_texts(connection.id, after=0, limit=1000))
    second = texts(await records.candidate_texts(connection.id, after=direct[1][0], limit=3))
    other = await records.candidate_texts(uuid.uuid4(), after=0, limit=1000)

    def busy(*_args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr("unified_ats.store.database.CompiledRead.rows_on", busy)
    through = texts(await records.candidate_texts(connection.id, after=0, limit=1000))
    live = (
        await stack.client.get(f"{API}/candidates?page_size=100", headers=stack.headers(token))
    ).json()
    assert direct == through and len(direct) == len(live["items"]) > 3
    assert second == direct[2:5] and other == []
    # Read as UTF-8 bytes, the texts are exactly the stored ones encoded (accents included:
    # the emulator's names are French), and the page serves them as they are.
    whole = await records.candidates(connection.id, CandidateQuery(), after=0, limit=1000)
    assert [(s.seq, (s.served_text(DEFAULT_WITHOUT) or "").encode()) for s in whole] == direct
    assert any(not text.isascii() for _, text in direct)
    assert [json.loads(text) for _, text in direct] == live["items"]


async def test_direct_reads_share_the_page_cache_budget_and_cannot_write(stack: Stack) -> None:
    """The loop's own SQLite reads keep as many pages as the writer's connections (at the
    2 MB default a list page read most rows from the OS), nothing can write through them, and
    none is handed out again inside a transaction."""
    direct = stack.services.records._direct_engine()
    if direct is None:
        pytest.skip("PostgreSQL has no direct read engine")
    connection = direct.raw_connection()
    try:
        assert connection.execute("PRAGMA cache_size").fetchone() == (SQLITE_CACHE_SIZE,)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("DELETE FROM candidates")
    finally:
        connection.close()
    # The refused DELETE opened a transaction (sqlite3 begins before DML): the pool rolls it
    # back on return, or that connection would serve an old snapshot to every later read.
    token = (await stack.connect_flatchr())["connector_token"]
    page = await stack.client.get(f"{API}/candidates?page_size=2", headers=stack.headers(token))
    assert page.status_code == 200 and len(page.json()["items"]) == 2
    reused = direct.raw_connection()
    try:
        assert reused.driver_connection.in_transaction is False
    finally:
        reused.close()
    async with stack.services.records.sessions() as session:
        main = await session.execute(sql("PRAGMA cache_size"))
        assert main.one() == (SQLITE_CACHE_SIZE,)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_reads_survive_the_server_dropping_pooled_connections(stack: Stack) -> None:
    """PostgreSQL reads use an autocommit pool without a pre-ping: a connection the server
    dropped (a restart, a failover) is thrown away and the read runs again, unseen."""
    token = (await stack.connect_flatchr())["connector_token"]
    headers = stack.headers(token)
    connection = await stack.services.accounts.connection_for_token(stack.tenant, token)
    assert connection is not None
    listed = await stack.client.get(f"{API}/candidates?page_size=5", headers=headers)
    one_id = listed.json()["items"][0]["id"]
    one = await stack.client.get(f"{API}/candidates/{one_id}", headers=headers)
    # several pooled connections, all idle when the server drops them
    stack.services.records.forget(connection.id)
    await asyncio.gather(
        *(stack.client.get(f"{API}/candidates?page_size=5", headers=headers) for _ in range(8))
    )
    async with stack.services.engine.connect() as admin:
        dropped = await admin.scalar(
            sql(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
            )
        )
    assert dropped and dropped >= 1
    for _ in range(3):
        stack.services.records.forget(connection.id)  # no read served from memory
        again = await stack.client.get(f"{API}/candidates?page_size=5", headers=headers)
        assert again.status_code == 200 and again.json()["items"] == listed.json()["items"]
        again_one = await stack.client.get(f"{API}/candidates/{one_id}", headers=headers)
        assert again_one.status_code == 200 and again_one.json() == one.json()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_hot_reads_wait_for_a_full_pool_within_its_timeout(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads beyond the pool's size queue for a connection and are served; a read still
    waiting when the pool timeout passes fails instead of hanging, and the pool recovers."""
    from sqlalchemy import func, select

    from unified_ats.store import database

    engine = stack.services.engine
    pool = database.PostgresReadPool(engine, size=1)
    slow = database.CompiledRead(engine.dialect, select(func.pg_sleep(0.3).label("slept")))
    quick = database.CompiledRead(engine.dialect, select(func.now().label("at")))
    try:
        served = await asyncio.gather(*(pool.fetch(slow, {}) for _ in range(3)))
        assert len(served) == 3 and not pool.full
        monkeypatch.setattr(database, "READ_POOL_TIMEOUT", 0.05)
        holding = asyncio.create_task(pool.fetch(slow, {}))
        await asyncio.sleep(0.05)  # the only connection is taken
        with pytest.raises(TimeoutError):
            await pool.fetch(quick, {})
        await holding
        assert len(await pool.fetch(quick, {})) == 1 and not pool.full
    finally:
        await pool.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_hot_reads_waiting_for_a_full_pool_are_served_in_arrival_order(
    stack: Stack,
) -> None:
    """A read that waited for a connection gets the next one given back, not a read that
    arrives as it is given back. asyncpg's pool alone lets that newcomer take it, and the
    waiter queues again at the back: under load, a tail of reads starved for hundreds of ms."""
    from sqlalchemy import func, select

    from unified_ats.store import database

    engine = stack.services.engine
    pool = database.PostgresReadPool(engine, size=1)
    served: list[str] = []
    newcomers: list[asyncio.Task[None]] = []
    quick = database.CompiledRead(engine.dialect, select(func.now().label("at")))
    busy = database.CompiledRead(engine.dialect, select(func.pg_sleep(0.2).label("slept")))

    async def read(name: str, compiled: database.CompiledRead) -> None:
        await pool.fetch(compiled, {})
        served.append(name)

    # The race, made certain: a read arrives (its first step is scheduled) just before the
    # busy read's connection goes back to asyncpg's queue, so it runs before the waiter.
    queue = (await pool._ready())._queue
    give_back = queue.put_nowait

    def arrives_as_it_is_given_back(holder: Any) -> None:
        if not newcomers:
            newcomers.append(asyncio.create_task(read("newcomer", quick)))
        give_back(holder)

    queue.put_nowait = arrives_as_it_is_given_back
    try:
        holding = asyncio.create_task(read("busy", busy))
        await asyncio.sleep(0.05)  # the only connection is taken
        waiting = asyncio.create_task(read("waiter", quick))
        await asyncio.gather(holding, waiting)
        await asyncio.gather(*newcomers)
        assert served == ["busy", "waiter", "newcomer"]
        assert not pool.full
    finally:
        await pool.close()
