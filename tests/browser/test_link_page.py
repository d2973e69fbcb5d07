"""The hosted link page in a real headless browser: Playwright driving Debian's ``chromium``
(``.ci/run`` installs it), against the live app on a loopback port and the vendor emulators.

An end user picks their ATS, types a wrong key (the page says so), then the right one, and lands
on the consumer's redirect URL with ``public_token`` and ``state``; the consumer exchanges it and
reads candidates with the connector token. The same without JavaScript, and the expired page.
Skipped when ``/usr/bin/chromium`` is absent, except under ``CI=true``.
"""

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from tests.contract.conftest import require
from tests.contract.live import API, LiveServer, live_server
from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, WK_KEY, WK_ORG
from unified_ats.security import hash_secret
from unified_ats.store.tables import LinkToken, utcnow

CHROMIUM = os.environ.get("UNIFIED_ATS_TEST_CHROMIUM", "/usr/bin/chromium")
APP = "https://app.example.test"
REDIRECT = f"{APP}/integrations/ats/done"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "link-page.png"
PNG = b"\x89PNG\r\n\x1a\n"

if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
    reason = f"{CHROMIUM} is absent (apt-get install chromium; .ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; the browser tests must run under CI", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
require("playwright")

from playwright.sync_api import Browser, Page, Route, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("store")
    with live_server(folder, f"sqlite+aiosqlite:///{folder / 'store.db'}", connectors=()) as live:
        response = httpx.put(
            f"{live.base_url}{API}/link-settings",
            json={"allowed_redirect_urls": [f"{APP}/*"]},
            headers=api_key(live),
        )
        assert response.status_code == 200, response.text
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def api_key(live: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.api_key}"}


def new_link(live: LiveServer, **body: Any) -> dict[str, Any]:
    payload = {
        "end_user_origin_id": "customer-7",
        "org_name": "Hiring Co",
        "redirect_url": REDIRECT,
        "state": "xyz-state",
        **body,
    }
    response = httpx.post(f"{live.base_url}{API}/link-tokens", json=payload, headers=api_key(live))
    assert response.status_code == 201, response.text
    return response.json()


def consumer_app(page: Page) -> None:
    """The API consumer's own page at the redirect URL (served here, not on the network)."""

    def serve(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<h1>Back in Hiring Co</h1>")

    page.route(f"{APP}/**", serve)


def public_token_of(url: str) -> str:
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["xyz-state"]
    (token,) = query["public_token"]
    return token


def exchange_and_read(live: LiveServer, public_token: str) -> dict[str, Any]:
    with httpx.Client(base_url=live.base_url, headers=api_key(live), timeout=60) as client:
        exchanged = client.post(f"{API}/link-tokens/exchange", json={"public_token": public_token})
        assert exchanged.status_code == 200, exchanged.text
        body = exchanged.json()
        again = client.post(f"{API}/link-tokens/exchange", json={"public_token": public_token})
        assert again.status_code == 410
        live.run(live.services.wait_for_background())  # the first sync
        candidates = client.get(
            f"{API}/candidates", headers={"x-connector-token": body["connector_token"]}
        )
        assert candidates.status_code == 200 and candidates.json()["items"], candidates.text
    return body


def test_pick_a_connector_fix_a_wrong_key_and_land_back_connected(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    link = new_link(server)
    context = browser.new_context()
    page = context.new_page()
    consumer_app(page)
    response = page.goto(link["url"])
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="Connect your ATS")).to_be_visible()
    page.get_by_label("Flatchr", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Connect Flatchr")).to_be_visible()
    expect(page.get_by_text("Where to find your credentials")).to_be_visible()
    page.get_by_label("API key").fill("not-the-key")
    page.get_by_label("Company ID").fill(FLATCHR_COMPANY)
    page.get_by_role("button", name="Connect Flatchr").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("rejected these credentials")
    # The secret is not typed back into the page; the company id is kept.
    expect(page.get_by_label("API key")).to_have_value("")
    expect(page.get_by_label("Company ID")).to_have_value(FLATCHR_COMPANY)
    page.get_by_label("API key").fill(FLATCHR_KEY)
    shot = tmp_path / "link-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 1000
    if os.environ.get("UNIFIED_ATS_UPDATE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        DOCS_SCREENSHOT.write_bytes(shot.read_bytes())
    page.get_by_role("button", name="Connect Flatchr").click()
    page.wait_for_url(f"{APP}/**")
    expect(page.get_by_role("heading", name="Back in Hiring Co")).to_be_visible()
    body = exchange_and_read(server, public_token_of(page.url))
    assert body["connector"] == "flatchr" and body["end_user_origin_id"] == "customer-7"
    # The link was single use: opening it again says so.
    again = page.goto(link["url"])
    assert again is not None and again.status == 410
    expect(page.get_by_role("heading", name="This link was used already")).to_be_visible()
    context.close()


def test_the_page_works_without_javascript(server: LiveServer, browser: Browser) -> None:
    link = new_link(server, connector="welcomekit")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    consumer_app(page)
    page.goto(link["url"])
    expect(page.get_by_role("heading", name="Connect Welcome Kit")).to_be_visible()
    page.get_by_label("API key").fill(WK_KEY)
    page.get_by_label("Organization reference").fill(WK_ORG)
    # Advanced settings fold open without JavaScript (<details>).
    page.get_by_text("Advanced settings").click()
    expect(page.get_by_label("Per page")).to_be_visible()
    page.get_by_role("button", name="Connect Welcome Kit").click()
    page.wait_for_url(f"{APP}/**")
    body = exchange_and_read(server, public_token_of(page.url))
    assert body["connector"] == "welcomekit"
    context.close()


def test_an_expired_link_shows_a_clear_page(server: LiveServer, browser: Browser) -> None:
    link = new_link(server, connector="flatchr", expires_in=60)

    async def expire() -> None:
        async with server.services.accounts.sessions.begin() as session:
            await session.execute(
                update(LinkToken)
                .where(LinkToken.token_hash == hash_secret(link["link_token"]))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )

    server.run(expire())
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(link["url"])
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    assert link["link_token"] not in page.content()
    context.close()
