"""The viasto connector against its emulator: auth, paging, files, errors (writes: test_writes)."""

import httpx
import pytest

from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import AuthFailed, NotFound
from connectors.sdk.ratelimit import NoRateLimiter
from connectors.viasto import ViastoConnector, ViastoSettings
from connectors.viasto.emulator import ViastoEmulator
from tests.connectors.viasto.conftest import BASE, PASSWORD, TOKEN, make_connector, make_emulator


async def records_of(connector):
    return [r async for page in connector.iter_candidates() for r in page.records]


async def test_every_candidate_once_across_projects_and_concurrent_pages() -> None:
    emulator = make_emulator(projects=4, per_project=23)
    async with make_connector(emulator, page_size=4) as connector:
        records = await records_of(connector)
    ids = [r.candidate.remote_id for r in records]
    assert len(ids) == 92 == len(set(ids))
    expected = {f"{p}/{c}" for p, cands in emulator.companies[4].candidates.items() for c in cands}
    assert set(ids) == expected
    assert {r.candidate.custom_fields["status"] for r in records} >= {
        "new",
        "invited",
        "interviewed",
        "expired",
        "skipped",
    }  # type: ignore[index]


async def test_progress_totals_come_from_total_count() -> None:
    emulator = make_emulator(projects=2, per_project=10)
    async with make_connector(emulator, page_size=4) as connector:
        totals = [page.total async for page in connector.iter_candidates()]
    assert totals[0] == 10 and totals[-1] == 20


async def test_login_obtains_a_token_and_refreshes_it_once_on_401() -> None:
    emulator = make_emulator()
    async with make_connector(emulator, login=True) as connector:
        await connector.verify_credentials()
        assert emulator.token_requests == 1
        emulator.expire_tokens()
        record = await connector.get_candidate("10/501")
        assert record.candidate.remote_id == "10/501"
        assert emulator.token_requests == 2


async def test_wrong_password_and_other_company_are_auth_failures() -> None:
    emulator = make_emulator()
    bad = ViastoSettings(
        base_url=BASE, company_id="4", username="tarsila@viasto.com", password="nope"
    )
    async with ViastoConnector(bad, transport=EmulatorTransport(emulator.app)) as connector:
        with pytest.raises(AuthFailed) as caught:
            await connector.verify_credentials()
    assert "nope" not in str(caught.value)
    other = ViastoSettings(base_url=BASE, company_id="5", token=TOKEN)  # token of company 4
    async with ViastoConnector(other, transport=EmulatorTransport(emulator.app)) as connector:
        with pytest.raises(AuthFailed) as forbidden:
            await connector.verify_credentials()
    assert forbidden.value.vendor_status == 403


async def test_cv_download_uses_the_fresh_url_and_the_token(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator) as connector:
        record = next(r for r in await records_of(connector) if r.attachments)
        async with connector.download_attachment(record.attachments[0].remote_id or "") as download:
            body = b"".join([chunk async for chunk in download.chunks])
        assert body and download.content_type in {
            "application/msword",
            "application/pdf",
            "application/postscript",
            "application/vnd.ms-powerpoint",
            "application/x-dvi",
            "text/plain",
            "text/richtext",
        }
        assert download.file_name and "." in download.file_name
        with_photo = next(r for r in await records_of(connector) if r.candidate.avatar)
        async with connector.download_avatar(with_photo.candidate.remote_id or "") as photo:
            assert photo.content_type == "image/png"
            assert b"".join([c async for c in photo.chunks]).startswith(b"\x89PNG")


async def test_removed_candidate_is_not_found(emulator: ViastoEmulator) -> None:
    emulator.remove(4, 10, 501)
    async with make_connector(emulator) as connector:
        with pytest.raises(NotFound):
            await connector.get_candidate("10/501")


async def test_sequential_and_concurrent_paging_give_the_same_set() -> None:
    emulator = make_emulator(projects=2, per_project=30)
    async with make_connector(emulator, page_size=4, limiter=NoRateLimiter()) as concurrent:
        a = sorted(r.candidate.remote_id for r in await records_of(concurrent))
    settings = ViastoSettings(
        base_url=BASE, company_id="4", token=TOKEN, page_size=4, max_concurrent_pages=1
    )
    async with ViastoConnector(settings, transport=EmulatorTransport(emulator.app)) as sequential:
        b = sorted(r.candidate.remote_id for r in await records_of(sequential))
    assert a == b and len(a) == 60


async def test_no_token_is_401_with_detail_from_the_emulator(emulator: ViastoEmulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://acme.test"
    ) as client:
        response = await client.get("/api/v3/companies/4/projects/")
        login = await client.post("/api/v3/api-token-auth/", json={"password": PASSWORD})
    assert response.status_code == 401 and response.json() == {
        "detail": "Authentication credentials were not provided."
    }
    assert login.status_code == 400 and login.json() == {"username": ["This field is required."]}
