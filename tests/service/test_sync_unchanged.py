"""Source digests: a Flatchr re-sync skips mapping the vendor records it already stored.

The safety rules hold with skips: an unchanged re-sync writes nothing and moves no
``modified_at``; a real change after a skip is written; a record (and its files and
applications) skipped as unchanged counts as seen, so only what the vendor really dropped is
marked deleted, and only by a complete run; and what the skipping path stores is exactly what
mapping every record again would store.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import from_json
from sqlalchemy import select

from connectors import CandidatePage, VendorUnavailable
from connectors.flatchr.mapping import map_applicant_row
from connectors.sdk.base import source_digest
from tests.service.conftest import FLATCHR_COMPANY, Stack
from unified_ats.store.hashing import fingerprint
from unified_ats.store.records import CandidateRecord, source_seen_of
from unified_ats.store.served import render_served
from unified_ats.store.tables import ApplicationRow, AttachmentRow, CandidateRow
from unified_ats.sync import SyncEngine

TABLES = {"candidates": CandidateRow, "attachments": AttachmentRow, "applications": ApplicationRow}


class Spy:
    """The connector, with what its candidate pages held kept (records mapped, unchanged)."""

    def __init__(self, connector: Any, *, incomplete_on_last: bool = False) -> None:
        self._connector = connector
        self._incomplete = incomplete_on_last
        self.mapped: list[str] = []
        self.unchanged: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connector, name)

    async def iter_candidates(self, **kwargs: Any) -> AsyncIterator[CandidatePage]:
        pages = [page async for page in self._connector.iter_candidates(**kwargs)]
        for index, page in enumerate(pages):
            self.mapped += [r.candidate.remote_id or "" for r in page.records]
            self.unchanged += page.unchanged
            if self._incomplete and index == len(pages) - 1:
                page = CandidatePage(
                    records=page.records,
                    quarantined=page.quarantined,
                    unchanged=page.unchanged,
                    incomplete="the test says this listing missed records",
                )
            yield page


async def setup(stack: Stack) -> tuple[Any, Any, SyncEngine]:
    created = await stack.connect_flatchr()  # its first (full) sync stores every digest
    connection = await stack.services.accounts.connection(uuid.UUID(created["id"]))
    connector = await stack.services.pool.for_connection(connection)
    engine = SyncEngine(
        stack.services.records, stack.services.accounts, stack.services.runs, page_size=7
    )
    return connection, connector, engine


def vendor_ids(stack: Stack) -> list[str]:
    return sorted(stack.flatchr.companies[FLATCHR_COMPANY].applicants)


def doc(data: Any) -> Any:
    """A stored document (the JSON column comes decoded, or as text)."""
    return data if isinstance(data, dict) else from_json(data)


async def rows(stack: Stack, connection_id: uuid.UUID, model: str) -> dict[str, Any]:
    table = TABLES[model]
    columns = [
        table.remote_id,
        table.data,
        table.content_hash,
        table.raw_hash,
        table.served,
        table.modified_at,
        table.remote_was_deleted,
    ]
    if table is CandidateRow:
        columns += [CandidateRow.source_hash, CandidateRow.source_seen]
    async with stack.services.records.sessions() as session:
        found = await session.execute(select(*columns).where(table.connection_id == connection_id))
        return {row.remote_id: row for row in found.all()}


async def modified(stack: Stack, connection_id: uuid.UUID) -> dict[str, dict[str, datetime]]:
    return {
        model: {k: r.modified_at for k, r in (await rows(stack, connection_id, model)).items()}
        for model in TABLES
    }


async def test_unchanged_resync_skips_every_record_and_writes_nothing(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    before = await modified(stack, connection.id)
    assert all(r.source_hash for r in (await rows(stack, connection.id, "candidates")).values())
    spy = Spy(connector)
    report = await engine.run(connection, spy, full=True)
    assert report.rows_written == 0
    assert spy.mapped == [] and sorted(spy.unchanged) == vendor_ids(stack)
    assert report.seen == len(vendor_ids(stack)) and report.deleted == 0
    assert report.candidates.unchanged == len(vendor_ids(stack))
    # Files and applications of skipped records count as seen, as if mapped again.
    models = report.models()
    assert models["applications"]["seen"] == len(vendor_ids(stack))
    assert models["attachments"]["seen"] == len(await rows(stack, connection.id, "attachments"))
    assert await modified(stack, connection.id) == before
    status = await stack.services.runs.latest(connection.id)
    assert status.state == "succeeded" and status.seen == len(vendor_ids(stack))


async def test_real_change_after_skips_is_written(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    await engine.run(connection, connector, full=True)  # all skipped
    target = vendor_ids(stack)[4]
    before = (await rows(stack, connection.id, "candidates"))[target]
    stack.flatchr.touch(FLATCHR_COMPANY, target, lastname="Changé-Après")
    spy = Spy(connector)
    report = await engine.run(connection, spy, full=True)
    assert spy.mapped == [target] and len(spy.unchanged) == len(vendor_ids(stack)) - 1
    assert report.candidates.changed == 1
    after = (await rows(stack, connection.id, "candidates"))[target]
    assert doc(after.data)["last_name"] == "Changé-Après"
    assert after.modified_at > before.modified_at and after.source_hash != before.source_hash
    # The new digest is kept: the next run skips it again.
    spy = Spy(connector)
    assert (await engine.run(connection, spy, full=True)).rows_written == 0
    assert spy.mapped == []


async def test_change_in_raw_only_fields_keeps_modified_at(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    target = vendor_ids(stack)[2]
    before = await modified(stack, connection.id)
    # `source` goes to raw_data only: the row's digest changes, its content does not.
    stack.flatchr.applicant(FLATCHR_COMPANY, target).source = "a brand new job board"
    spy = Spy(connector)
    report = await engine.run(connection, spy, full=True)
    assert spy.mapped == [target]
    assert report.candidates.raw_only == 1 and report.candidates.changed == 0
    assert await modified(stack, connection.id) == before
    stored = (await rows(stack, connection.id, "candidates"))[target]
    assert doc(stored.data)["raw_data"]["source"] == "a brand new job board"


async def test_vendor_deletion_after_skips_is_marked_only_by_a_complete_run(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    await engine.run(connection, connector, full=True)  # all skipped
    gone = vendor_ids(stack)[6]
    kept = (await rows(stack, connection.id, "candidates"))[gone].source_seen.split("\n")
    gone_files = sorted(child[2:] for child in kept if child.startswith("a:"))
    stack.flatchr.remove(FLATCHR_COMPANY, gone)
    counts = {m: len(await rows(stack, connection.id, m)) for m in TABLES}

    # A partial run (the listing says it missed records) with skips deletes nothing.
    spy = Spy(connector, incomplete_on_last=True)
    partial = await engine.run(connection, spy, full=True)
    assert spy.unchanged and partial.deleted == 0
    assert (await stack.services.runs.latest(connection.id)).state == "partial"
    for model in TABLES:
        assert not any(
            r.remote_was_deleted for r in (await rows(stack, connection.id, model)).values()
        )

    # A complete run with skips marks the vendor's deletion, and nothing of the skipped ones.
    spy = Spy(connector)
    report = await engine.run(connection, spy, full=True)
    assert sorted(spy.unchanged) == vendor_ids(stack) and spy.mapped == []
    assert report.deleted == 1
    for model in TABLES:
        stored = await rows(stack, connection.id, model)
        assert len(stored) == counts[model]
        deleted = sorted(k for k, r in stored.items() if r.remote_was_deleted)
        assert deleted == (gone_files if model == "attachments" else [gone]), model


async def test_write_without_digest_makes_the_next_sync_map_the_record(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    target = vendor_ids(stack)[1]
    # A refresh maps the record outside a sync (as a webhook does): no digest comes with it.
    record = await connector.get_candidate(target)
    changed = record.candidate.model_copy(update={"first_name": "Webhook"})
    await stack.services.records.upsert(
        connection.id,
        [CandidateRecord(changed, record.attachments, record.applications)],
        now=datetime.now(changed.modified_at.tzinfo),
    )
    assert (await rows(stack, connection.id, "candidates"))[target].source_hash is None
    spy = Spy(connector)
    report = await engine.run(connection, spy, full=True)
    assert spy.mapped == [target] and report.candidates.changed == 1
    stored = (await rows(stack, connection.id, "candidates"))[target]
    assert doc(stored.data)["first_name"] != "Webhook" and stored.source_hash


async def test_catalog_change_maps_every_record_again(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    company = stack.flatchr.companies[FLATCHR_COMPANY]
    number = next(iter(company.vacancies))
    stack.flatchr.rename_vacancy(FLATCHR_COMPANY, number, "Un tout autre poste")
    spy = Spy(connector)
    await engine.run(connection, spy, full=True)
    assert spy.unchanged == [] and sorted(spy.mapped) == vendor_ids(stack)


async def test_skip_unknown_to_the_store_makes_the_run_partial(stack: Stack) -> None:
    connection, connector, engine = await setup(stack)
    stack.flatchr.remove(FLATCHR_COMPANY, vendor_ids(stack)[0])

    class Liar(Spy):
        async def iter_candidates(self, **kwargs: Any) -> AsyncIterator[CandidatePage]:
            async for page in super().iter_candidates(**kwargs):
                yield CandidatePage(records=page.records, unchanged=(*page.unchanged, "nobody"))

    report = await engine.run(connection, Liar(connector), full=True)
    assert report.deleted == 0 and report.incomplete_reason
    assert (await stack.services.runs.latest(connection.id)).state == "partial"


async def test_a_listing_that_fails_first_leaves_no_digest_read_behind(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored digests are read while the vendor answers: when the listing fails before
    needing them, the read is stopped with the run, not left running."""
    connection, connector, engine = await setup(stack)
    reading = asyncio.Event()

    async def endless_digests(connection_id: uuid.UUID) -> Any:
        reading.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(stack.services.records, "source_digests", endless_digests)

    class Failing(Spy):
        async def iter_candidates(self, **kwargs: Any) -> AsyncIterator[CandidatePage]:
            await reading.wait()
            raise VendorUnavailable("Flatchr answered 503")
            yield  # an async generator, as connectors' are

    with pytest.raises(VendorUnavailable):
        await engine.run(connection, Failing(connector), full=True)
    assert (await stack.services.runs.latest(connection.id)).state == "failed"
    left = [t for t in asyncio.all_tasks() if "endless_digests" in repr(t.get_coro())]
    assert left == []


CHANGES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=29),
        st.sampled_from(["lastname", "firstname", "score", "status", "column", "source", "email"]),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=6,
)
VALUES: dict[str, list[Any]] = {
    "lastname": ["Martin", "Dupont ", "", "Ñoël"],
    "firstname": ["Léa", "Jean-Luc", " ", "Zoé"],
    "score": [0, 1, 3, 5],
    "status": [0, 1, 1, 0],
    "column": [0, 1, 2, 3],
    "source": ["indeed", "linkedin", "", "jobboard"],
    "email": ["a@example.org", None, "B@Example.org", "c@example.org"],
}


@settings(
    max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(changes=CHANGES)
async def test_skipping_stores_what_mapping_every_record_stores(
    stack: Stack, changes: list[tuple[int, str, int]]
) -> None:
    """Whatever the vendor changed, the store after a sync that skips unchanged records
    holds, for every vendor record, exactly the rows mapping it afresh gives; modified_at
    moved only where content did."""
    if not hasattr(stack, "digest_setup"):  # the examples share one stack (and vendor)
        stack.digest_setup = await setup(stack)  # type: ignore[attr-defined]
    connection, connector, engine = stack.digest_setup  # type: ignore[attr-defined]
    ids = vendor_ids(stack)
    for index, field, value in changes:
        applicant = stack.flatchr.applicant(FLATCHR_COMPANY, ids[index % len(ids)])
        setattr(applicant, field, VALUES[field][value])
    before = {m: await rows(stack, connection.id, m) for m in TABLES}
    await engine.run(connection, connector, full=True)
    after = {m: await rows(stack, connection.id, m) for m in TABLES}

    ctx = await connector.mapping_context()
    salt = connector._digest_salt(ctx)
    for row in await connector.search({}):
        record = map_applicant_row(row, ctx)
        remote_id = record.candidate.remote_id
        stored = after["candidates"][remote_id]
        assert stored.source_hash == source_digest(salt, row)
        assert stored.source_seen == source_seen_of(record)
        models = [
            ("candidates", record.candidate),
            *(("attachments", a) for a in record.attachments),
            *(("applications", a) for a in record.applications),
        ]
        for model_name, model in models:
            kept = after[model_name][model.remote_id]
            document, content_hash, raw_hash, content = fingerprint(model)
            assert doc(kept.data) == from_json(document), (model_name, model.remote_id)
            assert (kept.content_hash, kept.raw_hash) == (content_hash, raw_hash)
            assert not kept.remote_was_deleted
            served = render_served(model, content, model.id, kept.modified_at)
            assert kept.served == served
            old = before[model_name].get(model.remote_id)
            if old is not None and old.content_hash == kept.content_hash:
                assert old.modified_at == kept.modified_at  # no real change: no new date
