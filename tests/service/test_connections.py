"""Connections: credentials checked with the vendor, never returned; rotate; delete purges."""

from sqlalchemy import func, select

from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, Stack
from unified_ats.store.tables import AttachmentRow, CandidateRow, Connection

API = "/api/ats/v1"


def auth(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.api_key}"}


async def test_create_returns_token_once_and_never_credentials(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    assert created["connector_token"].startswith("uats_ct_")
    assert "/webhooks/uats_wh_" in created["webhook_url"]
    listed = await stack.client.get(f"{API}/connections", headers=auth(stack))
    assert listed.status_code == 200
    assert FLATCHR_KEY not in listed.text
    assert created["connector_token"] not in listed.text
    [connection] = listed.json()
    assert connection["account"] == FLATCHR_COMPANY
    assert connection["last_full_sync_at"] is not None  # the first sync ran at once


async def test_credentials_are_encrypted_at_rest(stack: Stack) -> None:
    await stack.connect_flatchr()
    async with stack.services.accounts.sessions() as session:
        stored = (await session.scalars(select(Connection))).one()
    assert FLATCHR_KEY.encode() not in stored.settings_encrypted
    assert (await stack.services.accounts.settings_of(stored.id))["api_key"] == FLATCHR_KEY


async def test_rejected_credentials_are_a_clear_400(stack: Stack) -> None:
    response = await stack.client.post(
        f"{API}/connections",
        json={
            "connector": "flatchr",
            "settings": {"api_key": "flt_wrong_secret", "company_id": FLATCHR_COMPANY},
        },
        headers=auth(stack),
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Flatchr rejected these credentials"
    assert "flt_wrong_secret" not in response.text


async def test_invalid_settings_are_422_without_echoing_values(stack: Stack) -> None:
    response = await stack.client.post(
        f"{API}/connections",
        json={
            "connector": "flatchr",
            "settings": {"api_key": "flt_leak_me_please", "unexpected": 1},
        },
        headers=auth(stack),
    )
    assert response.status_code == 422
    assert "flt_leak_me_please" not in response.text
    locations = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "settings", "company_id") in locations  # missing
    assert ("body", "settings", "unexpected") in locations  # not a setting
    body = await stack.client.post(
        f"{API}/connections",
        json={"connector": 3, "settings": "flt_leak_me_please"},
        headers=auth(stack),
    )
    assert body.status_code == 422 and "flt_leak_me_please" not in body.text


async def test_unknown_connector_and_base_url_override_are_refused(stack: Stack) -> None:
    unknown = await stack.client.post(
        f"{API}/connections", json={"connector": "bamboo", "settings": {}}, headers=auth(stack)
    )
    assert unknown.status_code == 400 and "available: flatchr" in unknown.json()["detail"]
    override = await stack.client.post(
        f"{API}/connections",
        json={
            "connector": "flatchr",
            "settings": {
                "api_key": FLATCHR_KEY,
                "company_id": FLATCHR_COMPANY,
                "base_url": "http://169.254.169.254",
            },
        },
        headers=auth(stack),
    )
    assert override.status_code == 400
    assert "base_url" in override.json()["detail"]


async def test_vendor_down_while_creating_is_mapped(stack: Stack) -> None:
    stack.flatchr.faults.fail_status = 503
    response = await stack.client.post(
        f"{API}/connections",
        json={
            "connector": "flatchr",
            "settings": {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY},
        },
        headers=auth(stack),
    )
    assert response.status_code == 503
    assert (await stack.client.get(f"{API}/connections", headers=auth(stack))).json() == []


async def test_rotating_the_token_revokes_the_old_one(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    old = created["connector_token"]
    rotated = await stack.client.post(
        f"{API}/connections/{created['id']}/rotate-token", headers=auth(stack)
    )
    new = rotated.json()["connector_token"]
    assert new != old
    assert (
        await stack.client.get(f"{API}/candidates", headers=stack.headers(old))
    ).status_code == 401
    assert (
        await stack.client.get(f"{API}/candidates", headers=stack.headers(new))
    ).status_code == 200


async def test_delete_purges_the_connection_and_its_data(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    response = await stack.client.delete(f"{API}/connections/{created['id']}", headers=auth(stack))
    assert response.status_code == 204
    assert (
        await stack.client.get(
            f"{API}/candidates", headers=stack.headers(created["connector_token"])
        )
    ).status_code == 401
    async with stack.services.accounts.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CandidateRow)) == 0
        assert await session.scalar(select(func.count()).select_from(AttachmentRow)) == 0
    again = await stack.client.delete(f"{API}/connections/{created['id']}", headers=auth(stack))
    assert again.status_code == 404


async def test_other_tenant_cannot_manage_my_connection(stack: Stack) -> None:
    created = await stack.connect_flatchr()
    _, other_key = await stack.services.accounts.create_tenant("globex")
    other = {"Authorization": f"Bearer {other_key}"}
    assert (
        await stack.client.delete(f"{API}/connections/{created['id']}", headers=other)
    ).status_code == 404
    assert (
        await stack.client.post(f"{API}/connections/{created['id']}/rotate-token", headers=other)
    ).status_code == 404
    assert (
        await stack.client.get(
            f"{API}/candidates", headers=stack.headers(created["connector_token"])
        )
    ).status_code == 200


async def test_connectors_are_listed_with_their_settings_schema(stack: Stack) -> None:
    response = await stack.client.get(f"{API}/connectors", headers=auth(stack))
    flatchr = next(c for c in response.json() if c["name"] == "flatchr")
    assert "api_key" in flatchr["settings_schema"]["properties"]
    assert "download_attachment" in flatchr["capabilities"]


async def test_health(stack: Stack) -> None:
    response = await stack.client.get("/health")
    assert response.json() == {"status": "ok", "database": "ok"}
