"""The hosted link flow in-process: link tokens, the page (CSRF, form, errors), the submit that
creates or relinks a connection, the single exchange, expiry, events, secrets."""

import logging
import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, VIASTO_TOKEN, WK_KEY, WK_ORG, Stack
from unified_ats.linking import redirect_allowed, url_problem, with_query
from unified_ats.store.tables import LinkToken, OutboxEntry, WebhookEndpoint, utcnow

API = "/api/ats/v1"
REDIRECT = "https://app.example.com/integrations/ats/done"
VIASTO_USER = "recruiter@acme.example"
VIASTO_PASSWORD = "viasto-link-pw-31"


def auth(stack: Stack, api_key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key or stack.api_key}"}


async def allow(stack: Stack, *urls: str, api_key: str | None = None) -> None:
    response = await stack.client.put(
        f"{API}/link-settings",
        json={"allowed_redirect_urls": list(urls) or ["https://app.example.com/*"]},
        headers=auth(stack, api_key),
    )
    assert response.status_code == 200, response.text


async def new_link(stack: Stack, **body: Any) -> dict[str, Any]:
    payload = {
        "end_user_origin_id": "customer-42",
        "org_name": "ACME Corp",
        "redirect_url": REDIRECT,
        "state": "s-123",
        **body,
    }
    response = await stack.client.post(f"{API}/link-tokens", json=payload, headers=auth(stack))
    assert response.status_code == 201, response.text
    return response.json()


def path_of(link: dict[str, Any]) -> str:
    return urlsplit(link["url"]).path


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


async def open_form(stack: Stack, link: dict[str, Any], connector: str | None = None) -> str:
    params = {"connector": connector} if connector else None
    page = await stack.client.get(path_of(link), params=params)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def post_form(
    stack: Stack, link: dict[str, Any], fields: dict[str, str], csrf: str
) -> httpx.Response:
    return await stack.client.post(path_of(link), data={"csrf": csrf, **fields})


async def link_flatchr(stack: Stack, **body: Any) -> dict[str, Any]:
    """Through the page with the right key: the exchange's answer."""
    link = await new_link(stack, connector="flatchr", **body)
    csrf = await open_form(stack, link)
    done = await post_form(
        stack, link, {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}, csrf
    )
    assert done.status_code == 303, done.text
    public = parse_qs(urlsplit(done.headers["location"]).query)["public_token"][0]
    exchanged = await stack.client.post(
        f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack)
    )
    assert exchanged.status_code == 200, exchanged.text
    return exchanged.json()


# --- the allow-list ---------------------------------------------------------------------------


def test_redirect_rules() -> None:
    assert url_problem("https://app.example.com/x") is None
    assert url_problem("http://localhost:3000/done") is None
    assert url_problem("http://127.0.0.1/done") is None
    assert url_problem("http://app.example.com/x") is not None
    assert url_problem("javascript:alert(1)") is not None
    assert url_problem("https://user:pw@app.example.com/") is not None
    assert url_problem("https://app.example.com/x#frag") is not None
    assert url_problem("https://app.example.com/*", pattern=True) is None
    assert url_problem("https://*.example.com/", pattern=True) is not None
    allowed = ["https://app.example.com/integrations/*", "https://other.example.com/done"]
    assert redirect_allowed("https://app.example.com/integrations/ats?x=1", allowed)
    assert redirect_allowed("https://other.example.com/done", allowed)
    assert not redirect_allowed("https://other.example.com/done/more", allowed)
    assert not redirect_allowed("https://app.example.com/elsewhere", allowed)
    assert not redirect_allowed("https://app.example.com.evil.com/integrations/x", allowed)
    assert not redirect_allowed("https://app.example.com:444/integrations/x", allowed)
    assert not redirect_allowed("https://app.example.com/integrations/../admin", allowed)
    assert not redirect_allowed("http://app.example.com/integrations/x", allowed)
    assert with_query("https://a.example/x?y=1&state=old", state="s", public_token="p") == (
        "https://a.example/x?y=1&state=s&public_token=p"
    )


async def test_link_settings_round_trip_and_refuse_unsafe_urls(stack: Stack) -> None:
    got = await stack.client.get(f"{API}/link-settings", headers=auth(stack))
    assert got.json() == {"allowed_redirect_urls": []}
    for bad in ("http://app.example.com/done", "ftp://x.example/", "https://*.example.com/"):
        response = await stack.client.put(
            f"{API}/link-settings", json={"allowed_redirect_urls": [bad]}, headers=auth(stack)
        )
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["body", "allowed_redirect_urls", 0]
    await allow(stack, "https://app.example.com/*", "http://localhost:3000/done")
    got = await stack.client.get(f"{API}/link-settings", headers=auth(stack))
    assert got.json()["allowed_redirect_urls"] == [
        "https://app.example.com/*",
        "http://localhost:3000/done",
    ]
    assert (await stack.client.get(f"{API}/link-settings")).status_code == 401


# --- link tokens ------------------------------------------------------------------------------


async def test_link_token_create_checks_redirect_expiry_connector_and_relink(stack: Stack) -> None:
    body = {"end_user_origin_id": "c-1", "org_name": "ACME", "redirect_url": REDIRECT}
    refused = await stack.client.post(f"{API}/link-tokens", json=body, headers=auth(stack))
    assert refused.status_code == 422
    assert "allow-list" in refused.json()["detail"][0]["msg"]
    await allow(stack)
    for expires_in in (7 * 24 * 3600 + 1, 59):
        response = await stack.client.post(
            f"{API}/link-tokens", json={**body, "expires_in": expires_in}, headers=auth(stack)
        )
        assert response.status_code == 422, expires_in
    unknown = await stack.client.post(
        f"{API}/link-tokens", json={**body, "connector": "nope"}, headers=auth(stack)
    )
    assert unknown.status_code == 422
    extra = await stack.client.post(
        f"{API}/link-tokens", json={**body, "surprise": 1}, headers=auth(stack)
    )
    assert extra.status_code == 422
    week = await stack.client.post(
        f"{API}/link-tokens", json={**body, "expires_in": 7 * 24 * 3600}, headers=auth(stack)
    )
    assert week.status_code == 201
    link = await new_link(stack)
    assert link["link_token"].startswith("uats_lt_")
    assert link["url"] == f"http://testserver/link/{link['link_token']}"
    # Stored hashed only.
    async with stack.services.accounts.sessions() as session:
        stored = await session.scalars(select(LinkToken.token_hash))
        assert link["link_token"] not in {h for h in stored}
    # Relink of another tenant's connection: 404, the same as none at all.
    _, other_key = await stack.services.accounts.create_tenant("other")
    theirs = await stack.connect_vendor("viasto")  # ours, first
    response = await stack.client.post(
        f"{API}/link-tokens",
        json={**body, "connection_id": theirs["id"]},
        headers=auth(stack, other_key),
    )
    assert response.status_code == 404  # ownership first: no allow-list oracle either
    await allow(stack, "https://app.example.com/*", api_key=other_key)
    response = await stack.client.post(
        f"{API}/link-tokens",
        json={**body, "connection_id": theirs["id"]},
        headers=auth(stack, other_key),
    )
    assert response.status_code == 404
    mismatch = await stack.client.post(
        f"{API}/link-tokens",
        json={**body, "connection_id": theirs["id"], "connector": "flatchr"},
        headers=auth(stack),
    )
    assert mismatch.status_code == 422


async def test_link_token_create_is_idempotent(stack: Stack) -> None:
    await allow(stack)
    body = {"end_user_origin_id": "c-1", "org_name": "ACME", "redirect_url": REDIRECT}
    headers = {**auth(stack), "Idempotency-Key": "link-1"}
    first = await stack.client.post(f"{API}/link-tokens", json=body, headers=headers)
    again = await stack.client.post(f"{API}/link-tokens", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "end_user_origin_id": st.one_of(st.text(max_size=300), st.integers(), st.none()),
            "org_name": st.text(max_size=300),
            "connector": st.one_of(st.sampled_from(["flatchr", "viasto", "x"]), st.none()),
            "connection_id": st.one_of(st.uuids().map(str), st.text(max_size=5)),
            "redirect_url": st.one_of(
                st.sampled_from([REDIRECT, "http://evil.example/", "javascript:x"]), st.text()
            ),
            "state": st.one_of(st.text(max_size=2000), st.none()),
            "expires_in": st.integers(-10, 10**7),
        },
    )
)
# PostgreSQL text holds no NUL: once a 503 from the store, now a 422.
@example(body={"org_name": "0", "end_user_origin_id": "\x00", "redirect_url": REDIRECT})
async def test_link_token_create_never_fails_on_any_body(stack: Stack, body: dict) -> None:
    await allow(stack)
    response = await stack.client.post(f"{API}/link-tokens", json=body, headers=auth(stack))
    assert response.status_code in {201, 404, 422}, response.text
    if response.status_code == 201:
        assert body.get("redirect_url") == REDIRECT
        assert 60 <= body.get("expires_in", 3600) <= 7 * 24 * 3600


# --- the page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("connector", ["flatchr", "welcomekit", "viasto"])
async def test_page_renders_each_connectors_form(stack: Stack, connector: str) -> None:
    await allow(stack)
    link = await new_link(stack, connector=connector)
    page = await stack.client.get(path_of(link))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/link/" in cookie
    html = page.text
    assert "<script" not in html
    assert "Where to find your credentials" in html
    # Every input has its label; credentials are password inputs; URL settings are not offered.
    ids = re.findall(r'<input type="(?:text|password|number|checkbox)" id="([^"]+)"', html)
    assert ids
    for input_id in ids:
        assert f'<label for="{input_id}">' in html
    assert "base_url" not in html
    secret = {"flatchr": "api_key", "welcomekit": "api_key", "viasto": "password"}[connector]
    assert f'<input type="password" id="field-{secret}"' in html
    assert "<details>" in html and "Advanced settings" in html
    primary = html.split("<details>")[0]
    assert f'id="field-{secret}"' in primary
    if connector == "viasto":
        assert 'id="field-username"' in primary and 'id="field-token"' in primary


async def test_page_lists_connectors_when_none_is_fixed(stack: Stack) -> None:
    await allow(stack)
    link = await new_link(stack)
    page = await stack.client.get(path_of(link))
    assert page.status_code == 200
    for name in ("flatchr", "welcomekit", "viasto"):
        assert f'<input type="radio" id="connector-{name}"' in page.text
        assert f'<label for="connector-{name}">' in page.text
    chosen = await stack.client.get(path_of(link), params={"connector": "welcomekit"})
    assert "Connect Welcome Kit" in chosen.text and "Choose another ATS" in chosen.text
    unknown = await stack.client.get(path_of(link), params={"connector": "nope"})
    assert unknown.status_code == 422 and 'type="radio"' in unknown.text


async def test_unknown_expired_and_used_links_get_a_clear_page(stack: Stack) -> None:
    await allow(stack)
    unknown = await stack.client.get("/link/uats_lt_" + "x" * 43)
    assert unknown.status_code == 404 and "This link is not valid" in unknown.text
    assert "uats_lt_xxx" not in unknown.text
    assert (await stack.client.get("/link/whatever")).status_code == 404
    assert (await stack.client.post("/link/whatever", data={"a": "b"})).status_code == 404
    link = await new_link(stack, connector="flatchr")
    csrf = await open_form(stack, link)
    async with stack.services.accounts.sessions.begin() as session:
        await session.execute(update(LinkToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await stack.client.get(path_of(link))
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert link["link_token"] not in expired.text
    submit = await post_form(
        stack, link, {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}, csrf
    )
    assert submit.status_code == 410
    assert await stack.services.accounts.connections(stack.tenant) == []


async def test_csrf_is_required(stack: Stack) -> None:
    await allow(stack)
    link = await new_link(stack, connector="flatchr")
    other = await new_link(stack, connector="flatchr")
    csrf = await open_form(stack, link)
    fields = {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}
    assert (await post_form(stack, link, fields, "0" * 64)).status_code == 403
    # Another link's form token does not fit this link.
    other_csrf = await open_form(stack, other)
    assert (await post_form(stack, link, fields, other_csrf)).status_code == 403
    # Without the cookie (another site's form cannot send it: SameSite=Strict).
    stack.client.cookies.clear()
    refused = await post_form(stack, link, fields, csrf)
    assert refused.status_code == 403 and "reload the page" in refused.text.lower()
    assert await stack.services.accounts.connections(stack.tenant) == []


async def test_invalid_settings_show_again_with_messages_and_without_secrets(stack: Stack) -> None:
    await allow(stack)
    link = await new_link(stack, connector="flatchr")
    csrf = await open_form(stack, link)
    response = await post_form(
        stack, link, {"api_key": "typed-secret-1", "cv_min_interval": "soon"}, csrf
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="error-company_id"' in html and 'aria-invalid="true"' in html
    assert 'id="error-cv_min_interval"' in html
    assert "<details open>" in html  # an advanced field has an error: shown
    assert "typed-secret-1" not in html
    assert 'value="soon"' in html  # non-secret values are kept


async def test_wrong_then_right_credentials_connect_once_and_exchange_once(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await allow(stack)
    link = await new_link(stack, connector="flatchr")
    csrf = await open_form(stack, link)
    wrong = await post_form(
        stack, link, {"api_key": "wrong-key-123", "company_id": FLATCHR_COMPANY}, csrf
    )
    assert wrong.status_code == 422
    assert "rejected these credentials" in wrong.text
    assert "wrong-key-123" not in wrong.text
    assert await stack.services.accounts.connections(stack.tenant) == []
    done = await post_form(
        stack, link, {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}, csrf
    )
    assert done.status_code == 303
    location = urlsplit(done.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    public = query["public_token"][0]
    assert public.startswith("uats_pt_")
    # Single use: the page and a second submit now say so.
    assert (await stack.client.get(path_of(link))).status_code == 410
    again = await post_form(
        stack, link, {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}, csrf
    )
    assert again.status_code == 410
    # Another tenant cannot exchange it.
    _, other_key = await stack.services.accounts.create_tenant("other")
    stranger = await stack.client.post(
        f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack, other_key)
    )
    assert stranger.status_code == 404
    exchanged = await stack.client.post(
        f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack)
    )
    assert exchanged.status_code == 200, exchanged.text
    body = exchanged.json()
    assert body["connector"] == "flatchr" and body["relinked"] is False
    assert body["end_user_origin_id"] == "customer-42" and body["org_name"] == "ACME Corp"
    assert body["webhook_url"].startswith("http://testserver/webhooks/uats_wh_")
    second = await stack.client.post(
        f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack)
    )
    assert second.status_code == 410 and "exchanged already" in second.json()["detail"]
    # The token reads the connection's candidates.
    await stack.services.wait_for_background()
    candidates = await stack.client.get(
        f"{API}/candidates", headers=stack.headers(body["connector_token"])
    )
    assert candidates.status_code == 200 and candidates.json()["items"]
    (connection,) = await stack.services.accounts.connections(stack.tenant)
    assert str(connection.id) == body["connection_id"]
    assert connection.end_user_origin_id == "customer-42"
    assert connection.end_user_org_name == "ACME Corp"
    # The consumer finds which end user a connection belongs to in the connection list.
    (listed,) = (await stack.client.get(f"{API}/connections", headers=auth(stack))).json()
    assert listed["end_user_origin_id"] == "customer-42"
    assert listed["end_user_org_name"] == "ACME Corp"
    # The stored outcome was wiped by the exchange.
    async with stack.services.accounts.sessions() as session:
        row = await session.scalar(select(LinkToken))
        assert row is not None and row.result_encrypted is None and row.exchanged_at
    logged = caplog.text
    for secret in (FLATCHR_KEY, public, body["connector_token"], body["webhook_url"]):
        assert secret not in logged


async def test_an_expired_public_token_is_not_exchanged(stack: Stack) -> None:
    await allow(stack)
    link = await new_link(stack, connector="flatchr")
    csrf = await open_form(stack, link)
    done = await post_form(
        stack, link, {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}, csrf
    )
    public = parse_qs(urlsplit(done.headers["location"]).query)["public_token"][0]
    async with stack.services.accounts.sessions.begin() as session:
        await session.execute(
            update(LinkToken).values(public_expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await stack.client.post(
        f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack)
    )
    assert response.status_code == 410 and "expired" in response.json()["detail"]
    unknown = await stack.client.post(
        f"{API}/link-tokens/exchange",
        json={"public_token": "uats_pt_nope"},
        headers=auth(stack),
    )
    assert unknown.status_code == 404


async def test_a_viasto_password_is_exchanged_for_a_token_and_never_stored(stack: Stack) -> None:
    stack.viasto.users[(VIASTO_USER, "acme-inc")] = (VIASTO_PASSWORD, 4)
    await allow(stack)
    link = await new_link(stack, connector="viasto")
    csrf = await open_form(stack, link)
    fields = {
        "company_id": "4",
        "company_identifier": "acme-inc",
        "username": VIASTO_USER,
        "password": "not-it",
    }
    wrong = await post_form(stack, link, fields, csrf)
    assert wrong.status_code == 422 and "not-it" not in wrong.text
    done = await post_form(stack, link, {**fields, "password": VIASTO_PASSWORD}, csrf)
    assert done.status_code == 303, done.text
    (connection,) = await stack.services.accounts.connections(stack.tenant)
    stored = await stack.services.accounts.settings_of(connection.id)
    assert stored.get("password") is None
    assert VIASTO_PASSWORD not in repr(stored)
    assert stored["token"] and stored["token"] in stack.viasto.tokens
    await stack.services.wait_for_background()
    public = parse_qs(urlsplit(done.headers["location"]).query)["public_token"][0]
    exchanged = await stack.client.post(
        f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack)
    )
    candidates = await stack.client.get(
        f"{API}/candidates", headers=stack.headers(exchanged.json()["connector_token"])
    )
    assert candidates.status_code == 200 and candidates.json()["items"]


async def test_the_api_path_never_stores_a_viasto_password_either(stack: Stack) -> None:
    stack.viasto.users[(VIASTO_USER, "acme-inc")] = (VIASTO_PASSWORD, 4)
    created = await stack.connect(
        "viasto",
        {
            "company_id": "4",
            "company_identifier": "acme-inc",
            "username": VIASTO_USER,
            "password": VIASTO_PASSWORD,
        },
    )
    stored = await stack.services.accounts.settings_of(uuid.UUID(created["id"]))
    assert stored.get("password") is None and stored["token"]


async def test_relink_keeps_the_token_and_refuses_another_account(stack: Stack) -> None:
    await allow(stack)
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    link = await new_link(stack, connection_id=created["id"])
    page = await stack.client.get(path_of(link))
    assert "Connect Welcome Kit" in page.text and "already connected" in page.text
    csrf = csrf_of(page.text)
    # Another organization (which the key does not open) is refused by the vendor or by us.
    other = await post_form(
        stack, link, {"api_key": WK_KEY, "organization_reference": "Other01"}, csrf
    )
    assert other.status_code == 422
    done = await post_form(stack, link, {"api_key": WK_KEY, "organization_reference": WK_ORG}, csrf)
    assert done.status_code == 303, done.text
    public = parse_qs(urlsplit(done.headers["location"]).query)["public_token"][0]
    exchanged = (
        await stack.client.post(
            f"{API}/link-tokens/exchange", json={"public_token": public}, headers=auth(stack)
        )
    ).json()
    assert exchanged["relinked"] is True and exchanged["connection_id"] == created["id"]
    assert exchanged["connector_token"] is None and exchanged["webhook_url"] is None
    # The existing token keeps working.
    await stack.services.wait_for_background()
    listed = await stack.client.get(
        f"{API}/candidates", headers=stack.headers(created["connector_token"])
    )
    assert listed.status_code == 200


async def test_relink_with_another_account_is_refused_on_the_page(stack: Stack) -> None:
    await allow(stack)
    created = await stack.connect_vendor("viasto")
    stack.viasto.add_company(company_id=5, name="Other GmbH", token="other-token-5", projects=1)
    link = await new_link(stack, connection_id=created["id"])
    csrf = await open_form(stack, link)
    refused = await post_form(stack, link, {"company_id": "5", "token": "other-token-5"}, csrf)
    assert refused.status_code == 422
    assert "another account" in refused.text
    # The link is still usable: the right account goes through.
    done = await post_form(stack, link, {"company_id": "4", "token": VIASTO_TOKEN}, csrf)
    assert done.status_code == 303


async def test_connection_created_goes_to_the_outbox_when_an_endpoint_listens(
    stack: Stack,
) -> None:
    now = utcnow()
    async with stack.services.accounts.sessions.begin() as session:
        session.add(
            WebhookEndpoint(
                tenant_id=stack.tenant,
                url="https://hooks.example.com/in",
                events=["connection.*"],
                secret_encrypted=stack.services.accounts.cipher.encrypt(b"whsec_test"),
                created_at=now,
                updated_at=now,
            )
        )
    await allow(stack)
    exchanged = await link_flatchr(stack)
    async with stack.services.accounts.sessions() as session:
        entries = list(await session.scalars(select(OutboxEntry)))
    events = [event for entry in entries for event in entry.events]
    created = [e for e in events if e["type"] == "connection.created"]
    assert len(created) == 1
    assert created[0]["data"]["connection_id"] == exchanged["connection_id"]
    assert created[0]["data"]["end_user_origin_id"] == "customer-42"
    assert FLATCHR_KEY not in repr(events)


async def test_the_form_body_is_bounded(stack: Stack) -> None:
    await allow(stack)
    link = await new_link(stack, connector="flatchr")
    csrf = await open_form(stack, link)
    response = await post_form(stack, link, {"company_id": "x" * 70_000}, csrf)
    assert response.status_code == 413


def test_link_and_public_tokens_are_masked_in_log_lines() -> None:
    from unified_ats.log_redaction import mask, protect_service_logs

    protect_service_logs()
    line = mask('"GET /link/uats_lt_AbC-123_xyz HTTP/1.1" 200; location ?public_token=uats_pt_Q9')
    assert "AbC-123_xyz" not in line and "Q9" not in line
    assert "uats_lt_" in line
