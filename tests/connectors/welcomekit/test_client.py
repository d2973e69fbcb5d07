"""The Welcome Kit connector against its emulator."""

from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from connectors.sdk.errors import AuthFailed, NotFound, VendorRejectedRequest
from connectors.sdk.writes import CandidateDraft
from connectors.welcomekit.emulator import WelcomeKitEmulator
from tests.connectors.welcomekit.conftest import API_KEY, ORG, make_connector, make_emulator


async def records_of(connector, **kwargs):
    return [r async for page in connector.iter_candidates(**kwargs) for r in page.records]


async def test_enumeration_crosses_jobs_and_pages_exactly_once() -> None:
    emulator = make_emulator(size=61, jobs=4)
    async with make_connector(emulator, per_page=5) as connector:
        records = await records_of(connector)
    references = [r.candidate.remote_id for r in records]
    assert Counter(references).most_common(1)[0][1] == 1
    assert sorted(references) == sorted(emulator.organizations[ORG].candidates)
    assert len({r.candidate.title for r in records}) == 4  # one title per job


async def test_same_person_on_two_jobs_is_two_candidates() -> None:
    emulator = make_emulator(size=200, jobs=4)
    async with make_connector(emulator, per_page=50) as connector:
        records = await records_of(connector)
    by_email = Counter(e for r in records for e in r.candidate.email_addresses or [])
    repeated = [email for email, n in by_email.items() if n > 1]
    assert repeated, "the emulator should hold a person applying twice"
    jobs = {
        r.candidate.title for r in records if repeated[0] in (r.candidate.email_addresses or [])
    }
    assert len(jobs) == 2


async def test_updated_after_overlaps_one_day(emulator: WelcomeKitEmulator) -> None:
    reference = next(iter(emulator.organizations[ORG].candidates))
    emulator.touch(ORG, reference, firstname="Renommée")
    async with make_connector(emulator) as connector:
        records = await records_of(connector, updated_since=datetime.now(UTC))
    assert [r.candidate.first_name for r in records] == ["Renommée"]


async def test_missing_job_reference_is_a_400_from_the_emulator(
    emulator: WelcomeKitEmulator,
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://wk.test"
    ) as client:
        response = await client.get(
            "/api/v1/external/candidates", headers={"Authorization": f"Bearer {API_KEY}"}
        )
    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_failed",
        "error_description": "job_reference is missing",
    }


async def test_documents_are_fetched_and_resume_duplicates_dropped(
    emulator: WelcomeKitEmulator,
) -> None:
    org = emulator.organizations[ORG]
    with_copy = next(
        ref
        for ref, docs in org.documents.items()
        if any(d["file_url"] == org.candidates[ref]["resume_url"] for d in docs)
    )
    async with make_connector(emulator) as connector:
        record = await connector.get_candidate(with_copy)
    urls = [a.raw_data.get("file_url") or a.raw_data.get("resume_url") for a in record.attachments]  # type: ignore[union-attr]
    assert urls.count(org.candidates[with_copy]["resume_url"]) == 1
    assert all("." in (a.file_name or "") for a in record.attachments)


async def test_download_streams_from_the_cdn_without_our_key(emulator: WelcomeKitEmulator) -> None:
    async with make_connector(emulator) as connector:
        record = next(r for r in await records_of(connector) if r.attachments)
        sent = []
        original = connector.http.client.send

        async def spy(request, **kwargs):
            sent.append(request)
            return await original(request, **kwargs)

        connector.http.client.send = spy  # type: ignore[method-assign]
        async with connector.download_attachment(record.attachments[0].remote_id or "") as download:
            body = b"".join([chunk async for chunk in download.chunks])
    assert body
    cdn_request = sent[-1]
    assert cdn_request.url.host == "cdn.welcomekit.example"
    assert "authorization" not in cdn_request.headers


async def test_removed_candidate_is_not_found(emulator: WelcomeKitEmulator) -> None:
    reference = next(iter(emulator.organizations[ORG].candidates))
    emulator.remove(ORG, reference)
    async with make_connector(emulator) as connector:
        with pytest.raises(NotFound):
            await connector.get_candidate(reference)


async def test_vendor_error_bodies_become_clear_errors(emulator: WelcomeKitEmulator) -> None:
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(
                CandidateDraft(
                    job_remote_id=emulator.organizations[ORG].jobs[0]["reference"],
                    email_addresses=("not an address",),
                    first_name="x",
                    last_name="y",
                )
            )
        assert caught.value.vendor_code == "validation_failed"
        assert "email is invalid" in str(caught.value)
        assert caught.value.field_errors == {"email": ["email is invalid"]}
    emulator.keys[API_KEY] = (ORG, frozenset({"jobs_r", "organizations_r"}))
    async with make_connector(emulator) as connector:
        with pytest.raises(AuthFailed) as denied:
            await records_of(connector)
    assert denied.value.vendor_code == "invalid_scope"
    assert API_KEY not in str(denied.value)


async def test_read_only_scopes_cannot_write(emulator: WelcomeKitEmulator) -> None:
    emulator.keys[API_KEY] = (
        ORG,
        frozenset({"candidates_r", "documents_r", "jobs_r", "organizations_r"}),
    )
    job = emulator.organizations[ORG].jobs[0]["reference"]
    async with make_connector(emulator) as connector:
        assert await records_of(connector)  # reading is allowed
        with pytest.raises(AuthFailed) as denied:
            await connector.create_candidate(
                CandidateDraft(
                    job_remote_id=job, email_addresses=("a@b.co",), first_name="A", last_name="B"
                )
            )
    assert denied.value.vendor_code == "invalid_scope"
