"""The client's link-token and link-settings routes against the in-process stack."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.client.conftest import Stack, async_client
from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY
from unified_ats.client import Gone, InvalidRequest, LinkExchanged, LinkSettings, LinkToken


async def test_link_tokens_create_and_exchange_once(stack: Stack) -> None:
    client = async_client(stack)
    with pytest.raises(InvalidRequest):
        await client.link_settings.set(["http://not-local.example/"])
    allowed = await client.link_settings.set(["https://app.example.com/*"])
    assert allowed == LinkSettings(allowed_redirect_urls=["https://app.example.com/*"])
    assert await client.link_settings.get() == allowed
    with pytest.raises(InvalidRequest):
        await client.link_tokens.create(
            end_user_origin_id="c-1", org_name="ACME", redirect_url="https://evil.example/x"
        )
    link = await client.link_tokens.create(
        end_user_origin_id="c-1",
        org_name="ACME",
        redirect_url="https://app.example.com/done",
        connector="flatchr",
        state="st",
        expires_in=600,
    )
    assert isinstance(link, LinkToken) and link.link_token not in repr(link)
    # The end user's part: the page and its form.
    path = urlsplit(link.url).path
    page = await stack.client.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]  # type: ignore[index]
    done = await stack.client.post(
        path, data={"csrf": csrf, "api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY}
    )
    assert done.status_code == 303
    public = parse_qs(urlsplit(done.headers["location"]).query)["public_token"][0]
    exchanged = await client.link_tokens.exchange(public)
    assert isinstance(exchanged, LinkExchanged) and exchanged.connector == "flatchr"
    assert exchanged.connector_token and exchanged.connector_token not in repr(exchanged)
    with pytest.raises(Gone):
        await client.link_tokens.exchange(public)
    await stack.services.wait_for_background()
    reader = client.with_connector_token(exchanged.connector_token)
    page_one = await reader.candidates.list.page(page_size=5)
    assert page_one.items
