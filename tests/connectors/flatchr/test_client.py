"""The Flatchr connector against its emulator, in-process over ASGI."""

import asyncio
import math
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from connectors.flatchr import FlatchrConnector, FlatchrSettings
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.base import UNCHANGED_PER_RECORD, page_weight
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import AuthFailed, NotFound, RateLimited
from connectors.sdk.http import RetryPolicy
from connectors.sdk.ratelimit import NoRateLimiter
from tests.connectors.flatchr.conftest import API_KEY, COMPANY_ID, make_connector, make_emulator
from tests.helpers import VirtualClock


async def all_records(connector: FlatchrConnector, **kwargs):
    return [r async for page in connector.iter_candidates(**kwargs) for r in page.records]


async def test_updated_since_overlaps_one_day(emulator: FlatchrEmulator) -> None:
    since = datetime(2026, 1, 10, 0, 30, tzinfo=UTC)
    some_id = next(iter(emulator.companies[COMPANY_ID].applicants))
    emulator.applicant(COMPANY_ID, some_id).updated = datetime(2026, 1, 9, 23, 45, tzinfo=UTC)
    async with make_connector(emulator) as connector:
        records = await all_records(connector, updated_since=since)
    assert [r.candidate.remote_id for r in records] == [some_id]


async def test_get_candidate_uses_a_narrow_email_search(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        records = await all_records(connector)
        with_email = next(r for r in records if r.candidate.email_addresses)
        before = emulator.search_calls
        fresh = await connector.get_candidate(
            with_email.candidate.remote_id or "", known=with_email.candidate
        )
        assert emulator.search_calls - before == 1
        assert fresh.candidate.email_addresses == with_email.candidate.email_addresses


async def test_get_candidate_falls_back_when_the_email_changed(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        records = await all_records(connector)
        target = next(r for r in records if r.candidate.email_addresses).candidate
        emulator.touch(COMPANY_ID, target.remote_id or "", email="new.address@example.org")
        fresh = await connector.get_candidate(target.remote_id or "", known=target)
    assert fresh.candidate.email_addresses == ["new.address@example.org"]
    assert fresh.candidate.id == target.id


async def test_removed_applicant_is_not_found(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        target = (await all_records(connector))[3].candidate
        emulator.remove(COMPANY_ID, target.remote_id or "")
        with pytest.raises(NotFound):
            await connector.get_candidate(target.remote_id or "", known=target)


@pytest.mark.parametrize("cv_mode", ["direct", "redirect"])
async def test_cv_download_accepts_a_body_or_a_redirect(cv_mode: str) -> None:
    emulator = make_emulator(cv_mode=cv_mode)
    async with make_connector(emulator) as connector:
        records = await all_records(connector)
        cv = next(a for r in records for a in r.attachments if a.file_name.endswith(".pdf"))
        async with connector.download_attachment(cv.remote_id or "") as download:
            body = b"".join([chunk async for chunk in download.chunks])
    assert body.startswith(b"%PDF-")
    assert download.content_type == "application/pdf"
    assert download.file_name == cv.file_name
    # In redirect mode the storage host rejects requests that carry our Authorization header,
    # so a successful download also proves the API key was not forwarded.


async def test_twenty_concurrent_cv_downloads_see_zero_429s() -> None:
    clock = VirtualClock()
    emulator = make_emulator(size=60, clock=clock)
    async with make_connector(emulator, clock=clock, sleep=clock.sleep) as connector:
        records = await all_records(connector)
        cvs = [a for r in records for a in r.attachments][:20]
        assert len(cvs) == 20

        async def fetch(remote_id: str) -> int:
            async with connector.download_attachment(remote_id) as download:
                return len(b"".join([chunk async for chunk in download.chunks]))

        sizes = await asyncio.gather(*(fetch(cv.remote_id or "") for cv in cvs))
    assert all(sizes)
    assert emulator.cv_rejected == 0
    assert emulator.cv_served == 20
    assert clock.now - 1000.0 >= 19 * 1.0  # spaced by at least the vendor's 1 s


async def test_without_the_limiter_the_emulator_does_say_429() -> None:
    clock = VirtualClock()
    emulator = make_emulator(size=30, clock=clock)
    connector = make_connector(emulator, limiter=NoRateLimiter(), retry=RetryPolicy(max_attempts=1))
    async with connector:
        records = await all_records(connector)
        cvs = [a for r in records for a in r.attachments][:5]

        async def fetch(remote_id: str) -> None:
            async with connector.download_attachment(remote_id) as download:
                async for _ in download.chunks:
                    pass

        results = await asyncio.gather(
            *(fetch(cv.remote_id or "") for cv in cvs), return_exceptions=True
        )
    assert any(isinstance(result, RateLimited) for result in results)
    assert emulator.cv_rejected > 0


async def test_wrong_key_is_auth_failed_and_unknown_company_is_not_found(
    emulator: FlatchrEmulator,
) -> None:
    transport = EmulatorTransport(emulator.app)
    wrong_key = FlatchrSettings(api_key=SecretStr("nope"), company_id=COMPANY_ID)
    async with FlatchrConnector(wrong_key, transport=transport) as connector:
        with pytest.raises(AuthFailed):
            await connector.verify_credentials()
    other = FlatchrSettings(api_key=SecretStr(API_KEY), company_id="UNKNOWNCOMPANY00")
    async with FlatchrConnector(other, transport=transport) as connector:
        with pytest.raises(NotFound):
            await connector.verify_credentials()


async def test_webhook_and_search_agree_on_the_candidate(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        records = await all_records(connector)
        ctx = await connector.mapping_context()
    from_search = next(r for r in records if r.attachments)
    payload = emulator.webhook_payload(COMPANY_ID, from_search.candidate.remote_id or "")
    from_webhook = connector.parse_webhook(payload, ctx)
    for field in ("id", "remote_id", "first_name", "last_name", "email_addresses", "title"):
        assert getattr(from_webhook.candidate, field) == getattr(from_search.candidate, field)
    assert from_webhook.candidate.company == from_search.candidate.company
    assert [a.id for a in from_webhook.attachments] == [a.id for a in from_search.attachments]


async def test_rows_without_cv_information_still_map() -> None:
    emulator = make_emulator(include_cv_in_search=False)
    async with make_connector(emulator) as connector:
        records = await all_records(connector)
    assert len(records) == 40
    assert all(r.attachments == () for r in records)


async def test_ids_are_stable_across_connector_instances(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as first, make_connector(emulator) as second:
        a = [r.candidate.id for r in await all_records(first)]
        b = [r.candidate.id for r in await all_records(second)]
    assert a == b and len(set(a)) == len(a)


async def test_rows_skipped_as_unchanged_weigh_a_fraction_of_a_page(
    emulator: FlatchrEmulator,
) -> None:
    """A page holds ``page_size`` rows mapped, or ``UNCHANGED_PER_RECORD`` times as many rows
    skipped as unchanged (each page costs the sync a transaction, an id next to nothing)."""
    async with make_connector(emulator) as connector:
        known = {
            r.candidate.remote_id or "": r.source_digest or ""
            async for page in connector.iter_candidates(known={})
            for r in page.records
        }
        changed = sorted(known)[:2]
        for remote_id in changed:
            known[remote_id] = "stale"
        page_size = 3
        pages = [p async for p in connector.iter_candidates(page_size=page_size, known=known)]
    assert sorted(r.candidate.remote_id for p in pages for r in p.records) == changed
    assert sorted(i for p in pages for i in p.unchanged) == sorted(set(known) - set(changed))
    for page in pages:
        weight = page_weight(len(page.records) + len(page.quarantined), len(page.unchanged))
        assert weight < page_size + 1
    # All but the last page are full, each row skipped filling a fraction of a row.
    assert all(page_size <= page_weight(len(p.records), len(p.unchanged)) for p in pages[:-1])
    weight = page_weight(len(changed), len(known) - len(changed))
    assert weight == len(changed) + (len(known) - len(changed)) / UNCHANGED_PER_RECORD
    assert len(pages) <= 1 + math.ceil(weight / page_size) < len(known) / page_size
