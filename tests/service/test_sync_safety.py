"""Syncs never lose data: one run per connection whoever triggers it, heartbeats, lease-proven
deletions, quarantine instead of stopping. Each runs on SQLite and PostgreSQL."""

import asyncio
import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from connectors import CandidatePage, Quarantined
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.http import RetryPolicy
from tests.service.conftest import FLATCHR_COMPANY, WK_KEY, WK_ORG, Stack
from unified_ats.services import Services
from unified_ats.store.records import CandidateQuery
from unified_ats.store.sync_runs import FollowUp, LeaseLost
from unified_ats.store.tables import CandidateRow, SyncLease, SyncRun
from unified_ats.sync import SyncEngine, SyncQueued

API = "/api/ats/v1"


async def stored(services: Services, connection_id: uuid.UUID) -> dict[str, bool]:
    """remote id -> remote_was_deleted, for every stored candidate of the connection."""
    rows = await services.records.candidates(
        connection_id, CandidateQuery(include_deleted=True), after=0, limit=100_000
    )
    return {r.model.remote_id or "": r.model.remote_was_deleted for r in rows}


def wk_vendor_ids(stack: Stack) -> set[str]:
    return set(stack.welcomekit.organizations[WK_ORG].candidates)


async def runs_of(services: Services, connection_id: uuid.UUID) -> list[SyncRun]:
    async with services.runs.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(SyncRun)
                    .where(SyncRun.connection_id == connection_id)
                    .order_by(SyncRun.started_at)
                )
            ).all()
        )


def assert_no_overlap(runs: list[SyncRun]) -> None:
    for before, after in itertools.pairwise(runs):
        assert before.finished_at is not None, f"run {before.id} never finished"
        assert before.finished_at <= after.started_at, "two runs of one connection overlapped"


async def second_process(stack: Stack) -> Services:
    """Another server process on the same store (same encryption key, same emulators)."""
    return await Services.start(
        stack.services.settings,
        transports={
            "flatchr": EmulatorTransport(stack.flatchr.app),
            "welcomekit": EmulatorTransport(stack.welcomekit.app),
            "viasto": EmulatorTransport(stack.viasto.app),
        },
        retry=RetryPolicy(max_attempts=2, base_delay=0.001),
        run_migrations=False,
    )


async def settle(*services: Services) -> None:
    """Until no run is going or waiting anywhere."""
    for _ in range(200):
        for s in services:
            await s.wait_for_background()
        watchers = [t for s in services for t in s.watchers.values()]
        if not watchers and not any(s.background for s in services):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("syncs did not settle")


async def connect_welcomekit(stack: Stack) -> tuple[dict[str, Any], uuid.UUID]:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    return created, uuid.UUID(created["id"])


async def test_concurrent_triggers_of_every_kind_never_overlap_or_wrongly_delete(
    stack: Stack,
) -> None:
    created, connection_id = await connect_welcomekit(stack)
    h = stack.headers(created["connector_token"])
    other = await second_process(stack)
    stack.welcomekit.faults.latency = 0.002  # long enough runs for triggers to collide
    try:
        for round_number in range(3):
            triggers = [
                *(
                    stack.client.post(f"{API}/sync-status", params={"full": "true"}, headers=h)
                    for _ in range(6)
                ),
                stack.client.post(f"{API}/sync-status", headers=h),
                other.trigger_sync(connection_id, full=True),
                other.trigger_sync(connection_id),
                stack.services.sync_quietly(connection_id),  # the scheduler's path
                other.sync_quietly(connection_id, full=True),
            ]
            await asyncio.gather(*triggers)
            # The vendor changes while runs are going.
            stack.welcomekit.change("create", 2)
            stack.welcomekit.change("update", 2)
            deleted_at_vendor = set(stack.welcomekit.change("delete", 1))
            await settle(stack.services, other)
            now_stored = await stored(stack.services, connection_id)
            live_at_vendor = wk_vendor_ids(stack)
            wrongly_deleted = {r for r, gone in now_stored.items() if gone and r in live_at_vendor}
            assert wrongly_deleted == set(), f"round {round_number}"
            assert deleted_at_vendor.isdisjoint(live_at_vendor)
        stack.welcomekit.faults.latency = 0
        await stack.services.sync(connection_id, full=True)
        final = await stored(stack.services, connection_id)
        assert {r for r, gone in final.items() if not gone} == wk_vendor_ids(stack)
        runs = await runs_of(stack.services, connection_id)
        assert_no_overlap(runs)
        assert all(r.state == "succeeded" for r in runs)
        # Every round coalesced: its 11 requests gave a handful of runs, not 11. They reach the
        # store over a few short runs (through the HTTP stack, behind SQLite's write lock), and
        # a request that comes in during a follow-up gets one more, so the count per round is
        # bounded, not exact; the exact rule (any number of requests during one run give one
        # follow-up) is tested alone below.
        assert len(runs) <= 1 + 3 * 5 + 1
    finally:
        await other.aclose()


async def test_requests_during_a_run_coalesce_into_one_follow_up(stack: Stack) -> None:
    created, connection_id = await connect_welcomekit(stack)
    h = stack.headers(created["connector_token"])
    before = len(await runs_of(stack.services, connection_id))
    stack.welcomekit.faults.latency = 0.02
    answers = [
        (await stack.client.post(f"{API}/sync-status", params={"full": "true"}, headers=h)).json()
        for _ in range(8)
    ]
    assert [a["status"] for a in answers] == ["started"] + ["queued"] * 7
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "running" and status["queued"] is True
    stack.welcomekit.faults.latency = 0
    await settle(stack.services)
    runs = await runs_of(stack.services, connection_id)
    assert len(runs) - before == 2  # the one that ran, and the one follow-up
    assert all(r.full and r.state == "succeeded" for r in runs[before:])
    assert (await stack.services.runs.lease(connection_id)) is None


@pytest.mark.parametrize("ask_while_running", [False, True])
async def test_a_dead_holder_is_detected_its_run_abandoned_and_resumed(
    stack: Stack, ask_while_running: bool
) -> None:
    created, connection_id = await connect_welcomekit(stack)
    h = stack.headers(created["connector_token"])
    runs = stack.services.runs
    lease = 0.6
    stack.services.sync_engine.lease_seconds = lease
    # A process takes the lease, starts a full run, records a page, and is killed (-9): it
    # never heartbeats again.
    now = datetime.now(UTC)
    dead = await runs.acquire_or_queue(
        connection_id, uuid.uuid4(), now=now, ttl=lease, want=FollowUp.AUTO
    )
    assert dead is not None
    run = await runs.start(
        connection_id, dead.run_id, full=True, updated_since=None, now=now, ttl=lease
    )
    some = sorted(wk_vendor_ids(stack))[:3]
    await runs.record_page(
        run, remote_ids=[f"c:{r}" for r in some], seen=3, changed=0, total=None, now=now, ttl=lease
    )
    if ask_while_running:
        queued = (
            await stack.client.post(f"{API}/sync-status", params={"full": "true"}, headers=h)
        ).json()
        assert queued["status"] == "queued"
        # Nobody asks again: the queued request is served once the dead holder's lease expires.
    else:
        status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
        assert status["state"] == "running"
        await asyncio.sleep(lease + 0.1)
        status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
        assert status["state"] == "abandoned"
        started = (
            await stack.client.post(f"{API}/sync-status", params={"full": "true"}, headers=h)
        ).json()
        assert started["status"] == "started"
    await settle(stack.services)
    all_runs = await runs_of(stack.services, connection_id)
    dead_run = next(r for r in all_runs if r.id == dead.run_id)
    assert dead_run.state == "abandoned"
    resumed = all_runs[-1]
    assert resumed.resumed_from == dead.run_id and resumed.state == "succeeded"
    assert all(not gone for gone in (await stored(stack.services, connection_id)).values())


async def test_a_run_that_lost_its_lease_can_neither_record_nor_delete(stack: Stack) -> None:
    _, connection_id = await connect_welcomekit(stack)
    runs = stack.services.runs
    now = datetime.now(UTC)
    zombie = await runs.acquire_or_queue(
        connection_id, uuid.uuid4(), now=now, ttl=30, want=FollowUp.AUTO
    )
    assert zombie is not None
    run = await runs.start(
        connection_id, zombie.run_id, full=True, updated_since=None, now=now, ttl=30
    )
    # It saw nothing; its lease is stolen by a run that took over an expired lease.
    async with runs.sessions.begin() as session:
        await session.execute(
            update(SyncLease)
            .where(SyncLease.connection_id == connection_id)
            .values(holder=str(uuid.uuid4()))
        )
    with pytest.raises(LeaseLost):
        await runs.record_page(
            run, remote_ids=["c:x"], seen=1, changed=0, total=None, now=now, ttl=30
        )
    with pytest.raises(LeaseLost):
        await runs.mark_unseen_deleted(run, now=now, ttl=30)
    assert not any((await stored(stack.services, connection_id)).values())


class Slow:
    """A connector whose pages come slowly (so a heartbeat falls in the middle of the run)."""

    def __init__(self, connector: Any, delay: float) -> None:
        self._connector, self._delay = connector, delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connector, name)

    async def iter_candidates(self, **kwargs: Any) -> AsyncIterator[CandidatePage]:
        async for page in self._connector.iter_candidates(**kwargs):
            await asyncio.sleep(self._delay)
            yield page


async def test_a_run_whose_lease_is_taken_stops_without_deleting(stack: Stack) -> None:
    _, connection_id = await connect_welcomekit(stack)
    connection = await stack.services.accounts.connection(connection_id)
    connector = await stack.services.pool.for_connection(connection)
    engine = SyncEngine(
        stack.services.records,
        stack.services.accounts,
        stack.services.runs,
        lease_seconds=0.3,
        page_size=5,
    )
    stack.welcomekit.remove(WK_ORG, sorted(wk_vendor_ids(stack))[0])

    async def steal() -> None:
        await asyncio.sleep(0.15)
        async with stack.services.runs.sessions.begin() as session:
            await session.execute(
                update(SyncLease)
                .where(SyncLease.connection_id == connection_id)
                .values(holder="another-run", expires_at=datetime.now(UTC) + timedelta(hours=1))
            )

    thief = asyncio.create_task(steal())
    with pytest.raises(LeaseLost):
        await engine.run(connection, Slow(connector, 0.1), full=True)
    await thief
    assert not any((await stored(stack.services, connection_id)).values())


class Quarantining:
    """A connector whose vendor sends some records it cannot map."""

    def __init__(self, connector: Any, items: list[Quarantined], *, drop: set[str]) -> None:
        self._connector, self._items, self._drop = connector, items, drop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connector, name)

    async def iter_candidates(self, **kwargs: Any) -> AsyncIterator[CandidatePage]:
        first = True
        async for page in self._connector.iter_candidates(**kwargs):
            records = tuple(r for r in page.records if r.candidate.remote_id not in self._drop)
            extra = tuple(self._items) if first else ()
            first = False
            yield dataclasses.replace(page, records=records, quarantined=page.quarantined + extra)


async def test_unmappable_records_are_quarantined_never_deleted_and_the_run_goes_on(
    stack: Stack,
) -> None:
    created, connection_id = await connect_welcomekit(stack)
    h = stack.headers(created["connector_token"])
    connection = await stack.services.accounts.connection(connection_id)
    connector = await stack.services.pool.for_connection(connection)
    broken, gone = sorted(wk_vendor_ids(stack))[:2]
    stack.welcomekit.remove(WK_ORG, gone)
    engine = stack.services.sync_engine
    report = await engine.run(
        connection,
        Quarantining(connector, [Quarantined("candidate", broken, "MappingError")], drop={broken}),
        full=True,
    )
    assert report.quarantined == 1 and report.deleted == 1
    now_stored = await stored(stack.services, connection_id)
    assert now_stored[broken] is False and now_stored[gone] is True
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "succeeded" and status["quarantined"] == 1
    assert [(q["remote_id"], q["reason"]) for q in status["quarantine"]] == [
        (broken, "MappingError")
    ]
    # Its attachments are kept too.
    attachments = (
        await stack.client.get(f"{API}/attachments", params={"page_size": 200}, headers=h)
    ).json()
    assert all(not a["remote_was_deleted"] for a in attachments["items"])
    # A record without a usable id could be any stored one: the run ends partial, deleting nothing.
    stack.welcomekit.remove(WK_ORG, sorted(wk_vendor_ids(stack))[-1])
    partial = await engine.run(
        connection,
        Quarantining(connector, [Quarantined("candidate", None, "MappingError")], drop=set()),
        full=True,
    )
    assert partial.deleted == 0 and partial.incomplete_reason
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "partial" and "no deletions" in status["incomplete_reason"]
    # Once everything maps again, a complete run empties the quarantine and catches up.
    final = await engine.run(connection, connector, full=True)
    assert final.deleted == 1
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["quarantine"] == [] and status["state"] == "succeeded"


async def test_odd_vendor_values_never_stop_a_sync(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    h = stack.headers(created["connector_token"])
    company = stack.flatchr.companies[FLATCHR_COMPANY]
    ids = sorted(company.applicants)
    stack.flatchr.touch(FLATCHR_COMPANY, ids[0], firstname="É" * 10_000, lastname="x" * 5_000)
    long_but_fine = "7" * 600
    too_long = "8" * 5_000
    for new_id in (long_but_fine, too_long):
        company.applicants[new_id] = dataclasses.replace(
            company.applicants[ids[1]], applicant_id=new_id, cv_key=None, cv_extension=None
        )
    report = await stack.services.sync(connection_id, full=True)
    assert report.quarantined == 1 and report.deleted == 0
    now_stored = await stored(stack.services, connection_id)
    assert now_stored[long_but_fine] is False and too_long not in now_stored
    assert {r for r, gone in now_stored.items() if not gone} == set(company.applicants) - {too_long}
    named = (
        await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
    ).json()
    assert any(c["first_name"] == "É" * 10_000 for c in named["items"])
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "succeeded" and status["last_error"] is None
    (entry,) = status["quarantine"]
    assert entry["remote_id"] == too_long and "longer than" in entry["reason"]
    assert "É" not in str(status)


async def test_a_store_failure_is_reported_without_sql_or_personal_data(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    h = stack.headers(created["connector_token"])
    stack.flatchr.touch(
        FLATCHR_COMPANY,
        sorted(stack.flatchr.companies[FLATCHR_COMPANY].applicants)[0],
        lastname="Zébulon-Secret",
    )

    async def broken_upsert(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("INSERT INTO candidates (first_name) VALUES ('Zébulon-Secret')")

    stack.services.records.upsert_page = broken_upsert  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await stack.services.sync(connection_id, full=True)
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "failed"
    assert status["last_error"] == "internal error (RuntimeError); see the server log"
    assert "Zébulon" not in str(status) and "INSERT" not in str(status)


async def test_status_of_a_connection_that_never_synced_and_abandoned_in_openapi(
    stack: Stack,
) -> None:
    document = (await stack.client.get("/openapi.json")).json()
    states = document["components"]["schemas"]["SyncStatus"]["properties"]["state"]["enum"]
    assert {"abandoned", "partial", "running", "succeeded"} <= set(states)


async def test_incremental_and_full_requests_merge_full_first(stack: Stack) -> None:
    _, connection_id = await connect_welcomekit(stack)
    runs = stack.services.runs
    now = datetime.now(UTC)
    holder = await runs.acquire_or_queue(
        connection_id, uuid.uuid4(), now=now, ttl=30, want=FollowUp.AUTO
    )
    assert holder is not None
    for want in (FollowUp.AUTO, FollowUp.FULL, FollowUp.AUTO):
        assert (
            await runs.acquire_or_queue(connection_id, uuid.uuid4(), now=now, ttl=30, want=want)
            is None
        )
    successor = uuid.uuid4()
    handed = await runs.release(connection_id, holder.run_id, now=now, ttl=30, successor=successor)
    assert handed is FollowUp.FULL
    lease = await runs.lease(connection_id)
    assert lease is not None and lease.holder == str(successor) and lease.follow_up is None
    assert (
        await runs.release(connection_id, successor, now=now, ttl=30, successor=uuid.uuid4())
        is None
    )
    assert await runs.lease(connection_id) is None


async def test_a_queued_cli_sync_says_so(stack: Stack) -> None:
    _, connection_id = await connect_welcomekit(stack)
    now = datetime.now(UTC)
    await stack.services.runs.acquire_or_queue(
        connection_id, uuid.uuid4(), now=now, ttl=30, want=FollowUp.AUTO
    )
    with pytest.raises(SyncQueued):
        await stack.services.sync(connection_id, full=True)
    assert (await stack.services.runs.lease(connection_id)).follow_up == "full"


async def test_webhook_writes_during_a_full_run_are_not_deleted_by_it(stack: Stack) -> None:
    """A record the vendor confirmed after the run began is live, whatever the run saw."""
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    connection = await stack.services.accounts.connection(connection_id)
    connector = await stack.services.pool.for_connection(connection)
    company = stack.flatchr.companies[FLATCHR_COMPANY]
    from connectors.flatchr.emulator.data import generate_applicants

    class WebhookMidRun(Slow):
        async def iter_candidates(self, **kwargs: Any) -> AsyncIterator[CandidatePage]:
            async for page in self._connector.iter_candidates(**kwargs):
                yield page
            # After the enumeration passed: a new applicant arrives by webhook.
            generate_applicants(company, size=len(company.applicants) + 1, seed=99)
            new_id = list(company.applicants)[-1]
            payload = stack.flatchr.webhook_payload(FLATCHR_COMPANY, new_id)
            answer = await stack.client.post(created["webhook_url"], json=payload)
            assert answer.status_code == 200
            self.new_id = new_id

    wrapped = WebhookMidRun(connector, 0)
    report = await stack.services.sync_engine.run(connection, wrapped, full=True)
    assert report.deleted == 0
    assert (await stored(stack.services, connection_id))[wrapped.new_id] is False


async def test_rows_stay_unbounded_in_the_schema() -> None:
    for column in ("remote_id", "first_name", "last_name"):
        assert getattr(CandidateRow, column).type.__class__.__name__ == "Text"


async def test_a_listing_short_of_the_vendor_total_ends_partial_and_deletes_nothing(
    stack: Stack,
) -> None:
    created, connection_id = await connect_welcomekit(stack)
    h = stack.headers(created["connector_token"])
    gone = sorted(wk_vendor_ids(stack))[0]
    stack.welcomekit.remove(WK_ORG, gone)
    stack.welcomekit.faults.unlisted_records = 1  # the vendor counts a record it does not list
    report = await stack.services.sync(connection_id, full=True)
    assert report.deleted == 0 and report.incomplete_reason
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "partial"
    assert "listed" in status["incomplete_reason"] and "no deletions" in status["incomplete_reason"]
    assert not any((await stored(stack.services, connection_id)).values())
    stack.welcomekit.faults.reset()
    healed = await stack.services.sync(connection_id, full=True)
    assert healed.deleted == 1 and healed.incomplete_reason is None


async def test_a_candidate_whose_documents_vanish_mid_sync_is_quarantined_not_failed(
    stack: Stack,
) -> None:
    """Welcome Kit lists a candidate, then its documents answer 404 (deleted meanwhile, or a
    broken route): the run goes on, and neither it nor its files are marked deleted."""
    created, connection_id = await connect_welcomekit(stack)
    h = stack.headers(created["connector_token"])
    stack.welcomekit.faults.fail_status = 404
    stack.welcomekit.faults.only_paths = ("/api/v1/external/documents",)
    report = await stack.services.sync(connection_id, full=True)
    assert report.quarantined == len(wk_vendor_ids(stack)) and report.deleted == 0
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["state"] == "succeeded"
    assert {q["reason"] for q in status["quarantine"]} == {"DocumentsUnavailable"}
    attachments = (
        await stack.client.get(
            f"{API}/attachments", params={"page_size": 200, "include_deleted": "true"}, headers=h
        )
    ).json()["items"]
    assert attachments and not any(a["remote_was_deleted"] for a in attachments)
    assert not any((await stored(stack.services, connection_id)).values())


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_a_vendor_sending_huge_names_is_synced_whole(stack: Stack, vendor: str) -> None:
    """The emulators' oversize_values switch: a 300,000-character name in a listing is stored
    whole (no column limit), and the sync succeeds."""
    from tests.service.conftest import VIASTO_TOKEN

    settings = {
        "flatchr": {"api_key": "flt_service_test_key_9a8b7c", "company_id": FLATCHR_COMPANY},
        "welcomekit": {"api_key": WK_KEY, "organization_reference": WK_ORG},
        "viasto": {"company_id": "4", "token": VIASTO_TOKEN},
    }[vendor]
    created = await stack.connect(vendor, settings)
    connection_id = uuid.UUID(created["id"])
    emulator = {"flatchr": stack.flatchr, "welcomekit": stack.welcomekit, "viasto": stack.viasto}
    emulator[vendor].faults.oversize_values = 300_000
    report = await stack.services.sync(connection_id, full=True)
    assert report.quarantined == 0 and report.deleted == 0 and report.changed >= 1
    rows = await stack.services.records.candidates(
        connection_id, CandidateQuery(), after=0, limit=1000
    )
    longest = max(len(r.model.first_name or "") + len(r.model.title or "") for r in rows)
    assert longest >= 300_000
