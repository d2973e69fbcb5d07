"""docs/link.md's client example runs as written against the demo, and its end user's part
(the page) connects an account whose token the example's handler gets back."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.client.test_docs_examples import demo
from tests.docs_examples import example

__all__ = ["demo"]  # the module-scoped fixture, used by name
pytestmark = pytest.mark.e2e


def test_the_link_example_runs_against_the_demo(
    demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ATS_URL", demo["base_url"])
    monkeypatch.setenv("ATS_API_KEY", demo["api_key"])
    monkeypatch.chdir(tmp_path)
    namespace = example("link.md", "link")
    link = namespace["link"]
    assert link.url.startswith(f"{demo['base_url']}/link/uats_lt_")
    settings = demo["emulators"]["flatchr"]["settings"]
    with httpx.Client(timeout=60) as browser:
        page = browser.get(link.url, params={"connector": "flatchr"})
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]  # type: ignore[index]
        fields = {k: str(v) for k, v in settings.items()}
        done = browser.post(link.url, data={"csrf": csrf, "connector": "flatchr", **fields})
    assert done.status_code == 303, done.text
    location = urlsplit(done.headers["location"])
    assert location.netloc == "app.example.com"
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    token = namespace["on_return"](query["public_token"][0])
    assert token.startswith("uats_ct_")
    listed = httpx.get(
        f"{demo['base_url']}/api/ats/v1/connections",
        headers={"Authorization": f"Bearer {demo['api_key']}"},
    )
    assert len(json.loads(listed.text)) == 4  # the demo's three, and this one
