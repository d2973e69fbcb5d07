"""Vendor ids become one URL path segment: an id can never reach another route with the
tenant's key (``../jobs`` once reached Welcome Kit's ``/jobs``)."""

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import NotFound
from connectors.flatchr.connector import FlatchrConnector, FlatchrSettings
from connectors.sdk.http import path_segment
from connectors.welcomekit.connector import WelcomeKitConnector, WelcomeKitSettings
from tests.helpers import no_sleep


@given(st.text(min_size=1))
def test_a_segment_never_holds_a_slash_and_is_never_a_dot_segment(remote_id: str) -> None:
    try:
        segment = path_segment(remote_id, "an id")
    except NotFound:
        assert remote_id.strip() in ("", ".", "..")
        return
    assert "/" not in segment and segment not in (".", "..", "")
    assert httpx.URL(f"https://vendor.example/api/candidates/{segment}").path.startswith(
        "/api/candidates/"
    )


def recording() -> tuple[list[str], httpx.MockTransport]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404, json={"error": "not_found", "error_description": "nope"})

    return seen, httpx.MockTransport(handler)


@pytest.mark.parametrize("bad", ["../jobs", "..", ".", "/", "//", "", " ", "a/../../jobs"])
async def test_welcome_kit_ids_stay_inside_their_route(bad: str) -> None:
    seen, transport = recording()
    settings = WelcomeKitSettings(
        base_url="https://wk.example/api/v1/external",
        api_key="k" * 20,
        organization_reference="ORG",
        organization_name="Org",
    )
    async with WelcomeKitConnector(settings, transport=transport, sleep=no_sleep) as connector:
        for call in (connector.get_candidate, connector.get_job):
            with pytest.raises(NotFound):
                await call(bad)
    for path in seen:
        assert path.startswith(("/api/v1/external/candidates/", "/api/v1/external/jobs/"))
        rest = path.split("/", 5)[-1].split("?", 1)[0]
        assert "/" not in rest and rest not in ("", ".", ".."), path


@pytest.mark.parametrize("bad", ["../company", "..", "/", ""])
async def test_flatchr_vacancy_ids_stay_inside_their_route(bad: str) -> None:
    seen, transport = recording()
    settings = FlatchrSettings(base_url="https://flatchr.example", api_key="k" * 20, company_id="C")
    kwargs: dict[str, Any] = {"transport": transport, "sleep": no_sleep}
    async with FlatchrConnector(settings, **kwargs) as connector:
        with pytest.raises(NotFound):
            await connector.get_job(bad)
    assert all(p.startswith("/vacancy/") and "/" not in p[len("/vacancy/") :] for p in seen)
