"""The emulators' ``/_emulator/`` control API, driven over ASGI as any HTTP client would.

Faults set, shown, reset and validated; a hang released over the control API; recruiter-side
changes seen in the state, in the raw vendor API and by the connectors; the paging switches'
effect on raw vendor responses.
"""

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.flatchr import FlatchrConnector, FlatchrSettings
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport, Faults
from connectors.viasto import ViastoConnector, ViastoSettings
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit import WelcomeKitConnector, WelcomeKitSettings
from connectors.welcomekit.emulator import WelcomeKitEmulator
from tests.helpers import over_emulator

FLATCHR_COMPANY, FLATCHR_KEY = "Wy3EOp2NP3p1KMq8", "flt_ctl_0b1c2d3e4f"
WK_ORG, WK_KEY = "Pg4eV6k", "wk_ctl_6f5e4d3c2b"
VIASTO_TOKEN = "c" * 40
BASES = {
    "flatchr": "https://api.flatchr.test",
    "welcomekit": "https://wk.test/api/v1/external",
    "viasto": "https://acme-inc.interview-suite.com/api/v3",
}
DEFAULT_FAULTS = Faults().to_json()
VENDORS = ["flatchr", "welcomekit", "viasto"]


def build(vendor: str, size: int = 12) -> Any:
    if vendor == "flatchr":
        flatchr = FlatchrEmulator(cv_min_interval=0.0)
        flatchr.add_company(
            company_id=FLATCHR_COMPANY, api_key=FLATCHR_KEY, name="Timone", size=size
        )
        return flatchr
    if vendor == "welcomekit":
        welcomekit = WelcomeKitEmulator()
        welcomekit.add_organization(
            reference=WK_ORG, name="WTTJ", api_key=WK_KEY, size=size, jobs=2
        )
        return welcomekit
    viasto = ViastoEmulator()
    viasto.add_company(company_id=4, name="ACME GmbH", token=VIASTO_TOKEN, candidates=size)
    viasto.add_company(company_id=5, name="Other AG", token="d" * 40, candidates=2, seed=2)
    return viasto


@dataclass
class Vendor:
    """One emulator behind an HTTP client, plus how to reach its vendor API."""

    name: str
    emulator: Any
    client: httpx.AsyncClient

    @property
    def auth(self) -> dict[str, str]:
        if self.name == "viasto":
            return {"Authorization": f"Token {VIASTO_TOKEN}"}
        return {"Authorization": f"Bearer {FLATCHR_KEY if self.name == 'flatchr' else WK_KEY}"}

    async def probe(self) -> httpx.Response:
        """A vendor request that succeeds when no fault is on."""
        if self.name == "flatchr":
            return await self.client.post(
                f"/company/{FLATCHR_COMPANY}/search/applicants", json={}, headers=self.auth
            )
        if self.name == "welcomekit":
            return await self.client.get(
                "/api/v1/external/jobs",
                params={"organization_reference": WK_ORG},
                headers=self.auth,
            )
        return await self.client.get("/api/v3/companies/4/projects/", headers=self.auth)

    async def records(self) -> dict[str, dict[str, Any]]:
        """Every candidate as the raw vendor API lists it, by the id the state shows."""
        if self.name == "flatchr":
            rows = (await self.probe()).json()
            return {row["applicant"]: row for row in rows}
        if self.name == "welcomekit":
            found: dict[str, dict[str, Any]] = {}
            for job in (await self.probe()).json():
                response = await self.client.get(
                    "/api/v1/external/candidates",
                    params={"job_reference": job["reference"], "per_page": 100},
                    headers=self.auth,
                )
                found.update({c["reference"]: c for c in response.json()})
            return found
        found = {}
        for project in (await self.probe()).json()["objects"]:
            async for page in self.viasto_pages(project["candidates"]):
                for candidate in page["objects"]:
                    parts = candidate["resource_uri"].rstrip("/").split("/")
                    found[f"{parts[-3]}/{parts[-1]}"] = candidate
        return found

    async def viasto_pages(self, url: str) -> AsyncIterator[dict[str, Any]]:
        """Follow ``meta.next``, resolved against the page it came from (it may be relative)."""
        while url:
            body = (await self.client.get(url, headers=self.auth)).json()
            yield body
            url = urljoin(url, body["meta"]["next"]) if body["meta"]["next"] else ""

    async def state(self) -> dict[str, Any]:
        response = await self.client.get("/_emulator/state")
        assert response.status_code == 200
        return response.json()

    async def live_ids(self) -> list[str]:
        return (await self.state())["accounts"][0]["remote_ids"]

    def connector(self) -> Any:
        if self.name == "flatchr":
            flatchr = FlatchrSettings(
                api_key=FLATCHR_KEY, company_id=FLATCHR_COMPANY, base_url=BASES["flatchr"]
            )
            return over_emulator(FlatchrConnector, flatchr, self.emulator)
        if self.name == "welcomekit":
            welcomekit = WelcomeKitSettings(
                api_key=WK_KEY, organization_reference=WK_ORG, base_url=BASES["welcomekit"]
            )
            return over_emulator(WelcomeKitConnector, welcomekit, self.emulator)
        viasto = ViastoSettings(base_url=BASES["viasto"], company_id="4", token=VIASTO_TOKEN)
        return over_emulator(ViastoConnector, viasto, self.emulator)


@pytest.fixture(params=VENDORS)
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    emulator = build(request.param)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://emulator.test", timeout=5
    ) as client:
        yield Vendor(request.param, emulator, client)


# --- faults ---------------------------------------------------------------------------------


async def test_faults_are_set_shown_used_and_reset(vendor: Vendor) -> None:
    faults = vendor.client.get("/_emulator/faults")
    assert (await faults).json() == DEFAULT_FAULTS
    assert (await vendor.probe()).status_code == 200

    answer = await vendor.client.post(
        "/_emulator/faults", json={"fail_status": 503, "fail_count": 2, "retry_after": "7"}
    )
    assert answer.status_code == 200
    expected = {**DEFAULT_FAULTS, "fail_status": 503, "fail_count": 2, "retry_after": "7"}
    assert answer.json() == expected
    assert (await vendor.client.get("/_emulator/faults")).json() == expected
    for _ in range(2):
        failed = await vendor.probe()
        assert failed.status_code == 503 and failed.headers["retry-after"] == "7"
    assert (await vendor.probe()).status_code == 200  # fail_count spent: recovered
    assert (await vendor.state())["faults"]["fail_count"] == 0

    # Control routes are never faulted, and need no vendor credentials.
    await vendor.client.post("/_emulator/faults", json={"rate_limit_storm": True})
    assert (await vendor.probe()).status_code == 429
    assert (await vendor.client.get("/_emulator/state")).status_code == 200

    reset = await vendor.client.delete("/_emulator/faults")
    assert reset.status_code == 200 and reset.json() == DEFAULT_FAULTS
    assert (await vendor.probe()).status_code == 200


async def test_malformed_json_and_paths_limit_where_faults_apply(vendor: Vendor) -> None:
    probe_path = (await vendor.probe()).request.url.path
    await vendor.client.post("/_emulator/faults", json={"malformed_json": True})
    broken = await vendor.probe()
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    answer = await vendor.client.post(
        "/_emulator/faults", json={"fail_status": 500, "paths": ["/somewhere/else"]}
    )
    assert answer.json()["paths"] == ["/somewhere/else"]
    assert (await vendor.probe()).status_code == 200  # neither fault applies to this path
    await vendor.client.post("/_emulator/faults", json={"paths": [probe_path]})
    assert (await vendor.probe()).status_code == 500


BAD_FAULT_BODIES: list[tuple[Any, list[str]]] = [
    ({"latncy": 1}, ["latncy"]),
    ({"latency": "slow"}, ["latency"]),
    ({"latency": -1}, ["latency"]),
    ({"hang": 1}, ["hang"]),
    ({"fail_status": True}, ["fail_status"]),
    ({"fail_status": 200}, ["fail_status"]),
    ({"fail_count": -3}, ["fail_count"]),
    ({"paths": "/api"}, ["paths"]),
    ({"paths": ["api"]}, ["paths"]),
    ({"retry_after": "1\r\nSet-Cookie: x"}, ["retry_after"]),
    ({"page_size_cap": 0}, ["page_size_cap"]),
    ({"relative_next": "yes"}, ["relative_next"]),
    ({"hang": True, "bogus": 1, "uneven_pages": None}, ["bogus", "uneven_pages"]),
    ([{"hang": True}], ["object"]),
]


@pytest.mark.parametrize(("body", "named"), BAD_FAULT_BODIES)
async def test_invalid_fault_bodies_are_422_and_change_nothing(body: Any, named: list[str]) -> None:
    emulator = build("welcomekit")
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://emulator.test"
    ) as client:
        await client.post("/_emulator/faults", json={"latency": 0.001, "paths": ["/x"]})
        before = (await client.get("/_emulator/faults")).json()
        response = await client.post("/_emulator/faults", json=body)
        assert response.status_code == 422
        for name in named:
            assert name in response.json()["detail"]
        assert (await client.get("/_emulator/faults")).json() == before
        not_json = await client.post("/_emulator/faults", content=b"{hang: true")
        assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]
        assert (await client.get("/_emulator/faults")).json() == before


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
FAULT_BODIES = st.dictionaries(
    st.sampled_from(sorted(DEFAULT_FAULTS)) | st.text(max_size=8), JSON_VALUES, max_size=4
)


@pytest.mark.parametrize("vendor_name", VENDORS)
def test_random_fault_bodies_are_200_or_422_and_never_crash(vendor_name: str) -> None:
    emulator = build(vendor_name, size=3)

    async def exchange(body: Any) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=emulator.app), base_url="http://emulator.test"
        ) as client:
            before = (await client.get("/_emulator/faults")).json()
            response = await client.post("/_emulator/faults", content=json.dumps(body))
            assert response.status_code in (200, 422), response.text
            shown = (await client.get("/_emulator/faults")).json()
            if response.status_code == 422:
                assert shown == before
                assert isinstance(response.json()["detail"], str)
            else:
                assert isinstance(body, dict) and response.json() == shown
                for key, value in body.items():
                    assert shown[key] == value
            await client.delete("/_emulator/faults")

    # One loop for every example: hypothesis drives a plain function.
    with asyncio.Runner() as runner:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(body=FAULT_BODIES | JSON_VALUES)
        def check(body: Any) -> None:
            runner.run(exchange(body))

        check()
    assert emulator.faults.to_json() == DEFAULT_FAULTS
    assert emulator.state()["accounts"][0]["count"] == 3


async def test_a_hang_is_switched_off_over_the_control_api(vendor: Vendor) -> None:
    await vendor.client.post("/_emulator/faults", json={"hang": True})
    seen = (await vendor.state())["requests_seen"]
    hanging = asyncio.create_task(vendor.probe())
    for _ in range(200):  # until the emulator has the request (then it hangs there)
        if (await vendor.state())["requests_seen"] > seen:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert not hanging.done()
    assert (await vendor.client.get("/_emulator/faults")).json()["hang"] is True
    assert (await vendor.client.delete("/_emulator/faults")).status_code == 200
    released = await asyncio.wait_for(hanging, timeout=2)
    assert released.status_code == 200


# --- changes and state ------------------------------------------------------------------------


def phone_of(vendor: Vendor, record: dict[str, Any]) -> Any:
    return record["profile"]["phone"] if vendor.name == "welcomekit" else record["phone"]


def has_file(vendor: Vendor, record: dict[str, Any]) -> bool:
    if vendor.name == "flatchr":
        return bool(record["candidate"].get("aws"))
    if vendor.name == "welcomekit":
        return bool(record["resume_url"])
    return bool(record["cv"])


async def change(vendor: Vendor, action: str, count: int) -> list[str]:
    response = await vendor.client.post(
        "/_emulator/change", json={"action": action, "count": count}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["action"] == action and len(body["ids"]) == count
    return body["ids"]


async def test_changes_show_in_the_state_and_the_vendor_api(vendor: Vendor) -> None:
    state = await vendor.state()
    assert state["vendor"] == vendor.name
    assert state["accounts"][0]["count"] == 12 == len(state["accounts"][0]["remote_ids"])
    original = await vendor.records()
    assert sorted(original) == sorted(state["accounts"][0]["remote_ids"])

    created = await change(vendor, "create", 2)
    after_create = await vendor.records()
    assert set(created) <= set(after_create) and len(after_create) == 14
    assert set(created) <= set(await vendor.live_ids())
    assert all(has_file(vendor, after_create[i]) for i in created)  # a CV, as applicants send

    [updated] = await change(vendor, "update", 1)
    after_update = await vendor.records()
    assert phone_of(vendor, after_update[updated]) != phone_of(vendor, after_create[updated])
    if vendor.name == "welcomekit":  # the vendor's updated timestamp moves too
        assert after_update[updated]["updated_at"] > after_create[updated]["updated_at"]
    if vendor.name == "flatchr":
        assert after_update[updated]["updated_at"] != after_create[updated]["updated_at"]
    second = await change(vendor, "update", 1)
    assert second != [updated]  # successive updates spread over the candidates

    deleted = await change(vendor, "delete", 3)
    after_delete = await vendor.records()
    assert not set(deleted) & set(after_delete) and len(after_delete) == 11
    assert sorted(after_delete) == sorted(await vendor.live_ids())
    assert (await vendor.state())["accounts"][0]["count"] == 11


async def test_state_ids_are_the_remote_ids_the_connector_maps(vendor: Vendor) -> None:
    await change(vendor, "create", 1)
    async with vendor.connector() as connector:
        remote_ids = [
            r.candidate.remote_id
            async for page in connector.iter_candidates()
            for r in page.records
        ]
    assert sorted(remote_ids) == sorted(await vendor.live_ids())


async def test_changes_name_their_account(vendor: Vendor) -> None:
    accounts = [a["account"] for a in (await vendor.state())["accounts"]]
    response = await vendor.client.post(
        "/_emulator/change", json={"action": "create", "count": 1, "account": accounts[-1]}
    )
    assert response.status_code == 200
    after = {a["account"]: a for a in (await vendor.state())["accounts"]}
    assert response.json()["ids"][0] in after[accounts[-1]]["remote_ids"]


BAD_CHANGES: list[Any] = [
    {"action": "explode", "count": 1},
    {"count": 1},
    {"action": "create", "count": 0},
    {"action": "create", "count": "2"},
    {"action": "create", "count": True},
    {"action": "create", "count": 10**6},
    {"action": "create", "count": 1, "account": "no-such-account"},
    {"action": "create", "count": 1, "account": ["x"]},
    {"action": "create", "count": 1, "colour": "red"},
    {"action": "delete", "count": 13},  # more than there are
    ["create"],
    "create",
]


async def test_invalid_changes_are_422_and_change_nothing(vendor: Vendor) -> None:
    before = await vendor.state()
    for body in BAD_CHANGES:
        response = await vendor.client.post("/_emulator/change", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    garbage = await vendor.client.post("/_emulator/change", content=b"\xff")
    assert garbage.status_code == 422
    assert (await vendor.state())["accounts"] == before["accounts"]


# --- paging switches -------------------------------------------------------------------------


async def wk_pages(vendor: Vendor, per_page: int) -> list[httpx.Response]:
    """Every page of one job's candidates, walked by X-Total-Pages (never by page length)."""
    job = (await vendor.probe()).json()[0]["reference"]
    pages: list[httpx.Response] = []
    while True:
        response = await vendor.client.get(
            "/api/v1/external/candidates",
            params={"job_reference": job, "per_page": per_page, "page": len(pages) + 1},
            headers=vendor.auth,
        )
        pages.append(response)
        if len(pages) >= int(response.headers["X-Total-Pages"]):
            return pages


@pytest.fixture
async def welcomekit() -> AsyncIterator[Vendor]:
    emulator = build("welcomekit", size=40)  # 2 jobs: 20 candidates each
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://emulator.test"
    ) as client:
        yield Vendor("welcomekit", emulator, client)


@pytest.fixture
async def viasto() -> AsyncIterator[Vendor]:
    emulator = build("viasto", size=60)  # 3 projects: 20 candidates each
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://emulator.test"
    ) as client:
        yield Vendor("viasto", emulator, client)


def references(pages: list[httpx.Response]) -> list[str]:
    return [c["reference"] for page in pages for c in page.json()]


async def test_welcomekit_page_size_cap(welcomekit: Vendor) -> None:
    default = await wk_pages(welcomekit, per_page=7)
    assert [len(p.json()) for p in default] == [7, 7, 6]
    await welcomekit.client.post("/_emulator/faults", json={"page_size_cap": 3})
    capped = await wk_pages(welcomekit, per_page=7)
    assert [len(p.json()) for p in capped] == [3] * 6 + [2]
    first = capped[0].headers
    assert (first["X-Per-Page"], first["X-Total"], first["X-Total-Pages"]) == ("3", "20", "7")
    assert capped[3].headers["X-Offset"] == "9"
    assert references(capped) == references(default)


async def test_welcomekit_uneven_pages_keep_x_total_pages_true(welcomekit: Vendor) -> None:
    default = await wk_pages(welcomekit, per_page=4)
    await welcomekit.client.post("/_emulator/faults", json={"uneven_pages": True})
    uneven = await wk_pages(welcomekit, per_page=4)
    sizes = [len(p.json()) for p in uneven]
    assert any(size < 4 for size in sizes[:-1])  # a short page with more pages after it
    assert int(uneven[0].headers["X-Total-Pages"]) == len(uneven) > len(default)
    assert references(uneven) == references(default)  # each candidate exactly once


async def viasto_walk(vendor: Vendor, page_size: int) -> list[dict[str, Any]]:
    url = f"/api/v3/companies/4/projects/10/candidates/?page=1&page_size={page_size}"
    return [page async for page in vendor.viasto_pages(url)]


def uris(pages: list[dict[str, Any]]) -> list[str]:
    return [c["resource_uri"] for page in pages for c in page["objects"]]


async def test_viasto_page_size_cap(viasto: Vendor) -> None:
    default = await viasto_walk(viasto, page_size=10)
    assert [len(p["objects"]) for p in default] == [10, 10]
    await viasto.client.post("/_emulator/faults", json={"page_size_cap": 3})
    capped = await viasto_walk(viasto, page_size=10)
    assert [len(p["objects"]) for p in capped] == [3] * 6 + [2]
    assert capped[0]["meta"]["total_count"] == 20
    assert capped[0]["meta"]["next"].endswith("?page=2&page_size=3")
    assert uris(capped) == uris(default)
    # `limit` is no viasto paging parameter: the default size, capped all the same.
    limited = await viasto.client.get(
        "/api/v3/companies/4/projects/10/candidates/", params={"limit": 50}, headers=viasto.auth
    )
    assert len(limited.json()["objects"]) == 3


async def test_viasto_relative_next_links(viasto: Vendor) -> None:
    default = await viasto_walk(viasto, page_size=4)
    await viasto.client.post("/_emulator/faults", json={"relative_next": True})
    relative = await viasto_walk(viasto, page_size=4)
    links = [p["meta"]["next"] for p in relative]
    assert links[0] == "/api/v3/companies/4/projects/10/candidates/?page=2&page_size=4"
    assert links[1] == "?page=3&page_size=4"
    assert relative[1]["meta"]["previous"] == "?page=1&page_size=4"
    assert links[-1] is None
    assert not any(link.startswith("http") for link in links if link)
    assert uris(relative) == uris(default)


async def test_viasto_uneven_pages(viasto: Vendor) -> None:
    default = await viasto_walk(viasto, page_size=4)
    await viasto.client.post("/_emulator/faults", json={"uneven_pages": True})
    uneven = await viasto_walk(viasto, page_size=4)
    sizes = [len(p["objects"]) for p in uneven]
    assert any(size < 4 and page["meta"]["next"] for size, page in zip(sizes, uneven, strict=True))
    assert all(p["meta"]["total_count"] == 20 for p in uneven)
    assert len(uneven) > math.ceil(20 / 4)
    assert uris(uneven) == uris(default)


async def test_flatchr_accepts_paging_switches_and_ignores_them() -> None:
    emulator = build("flatchr", size=15)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://emulator.test"
    ) as client:
        vendor = Vendor("flatchr", emulator, client)
        before = (await vendor.probe()).content
        switches = {"page_size_cap": 2, "relative_next": True, "uneven_pages": True}
        answer = await client.post("/_emulator/faults", json=switches)
        assert answer.status_code == 200 and answer.json() == {**DEFAULT_FAULTS, **switches}
        assert (await vendor.probe()).content == before
        ignored = (await vendor.state())["ignored_switches"]
        assert set(switches) <= set(ignored) and "no paging" in ignored["page_size_cap"]


async def test_paging_switches_off_again_give_the_default_responses(vendor: Vendor) -> None:
    before = await vendor.records()
    switches = {"page_size_cap": 1, "relative_next": True, "uneven_pages": True}
    await vendor.client.post("/_emulator/faults", json=switches)
    await vendor.client.delete("/_emulator/faults")
    assert await vendor.records() == before
