"""The demo prints a hosted link page URL that works: the form, the redirect, the exchange."""

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.service.test_e2e import demo

__all__ = ["demo"]  # the fixture, used by name


def test_the_demo_link_page_connects_an_account(demo) -> None:
    info, _ = demo
    base, link_url = info["base_url"], info["link_url"]
    assert link_url.startswith(f"{base}/link/uats_lt_")
    welcomekit = info["emulators"]["welcomekit"]["settings"]
    with httpx.Client(timeout=60) as browser:
        page = browser.get(link_url)
        assert page.status_code == 200 and "Connect Welcome Kit" in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]  # type: ignore[index]
        done = browser.post(link_url, data={"csrf": csrf, **welcomekit})
    assert done.status_code == 303, done.text
    location = urlsplit(done.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{base}/health"
    public = parse_qs(location.query)["public_token"][0]
    exchanged = httpx.post(
        f"{base}/api/ats/v1/link-tokens/exchange",
        json={"public_token": public},
        headers={"Authorization": f"Bearer {info['api_key']}"},
    )
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["connector"] == "welcomekit"
