"""Welcome Kit jobs, stages and applications: the connector against its emulator."""

import json
from typing import Any

import httpx
import pytest

from connectors.sdk.base import JobRecord
from connectors.sdk.conformance import enumerate_all
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import AuthFailed, NotFound, VendorUnavailable
from connectors.welcomekit import WelcomeKitConnector, WelcomeKitSettings
from connectors.welcomekit.emulator import WelcomeKitEmulator
from tests.connectors.welcomekit.conftest import API_KEY, ORG, make_connector, make_emulator
from tests.helpers import no_sleep

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


async def jobs_of(connector: WelcomeKitConnector) -> list[JobRecord]:
    return [r async for page in connector.iter_jobs() for r in page.records]


def client_for(emulator: WelcomeKitEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://wk.test"
    )


async def test_every_job_with_its_stages_in_one_listing_call_per_page() -> None:
    emulator = make_emulator(size=30, jobs=12)
    async with make_connector(emulator, per_page=5) as connector:
        before = emulator.requests
        jobs = await jobs_of(connector)
        assert emulator.requests - before == 3  # 12 jobs, 5 a page: no per-job call
    org = emulator.organizations[ORG]
    assert [r.job.remote_id for r in jobs] == [j["reference"] for j in org.jobs]
    statuses = {r.job.remote_id: r.job.status for r in jobs}
    assert {statuses[j["reference"]] for j in org.jobs if j["status"] == "published"} == {"OPEN"}
    assert {statuses[j["reference"]] for j in org.jobs if j["status"] == "draft"} == {"DRAFT"}
    assert {statuses[j["reference"]] for j in org.jobs if j["status"] == "archived"} == {"ARCHIVED"}
    published = next(r.job for r in jobs if r.job.status == "OPEN")
    assert published.job_posting_urls and published.job_posting_urls[0].type == "JOB_POSTING"
    assert (published.custom_fields or {})["office"]["city"] in ("Paris", "Lyon")
    first = jobs[0]
    assert [(s.custom_fields or {}).get("reference") for s in first.stages] == [
        "initial",
        "refused",
        "to_meet",
        "interviewed",
        None,  # "Proposition": a stage of the recruiter's own, without a reference
        "hired",
        "archived",
    ]
    assert [s.stage_order for s in first.stages] == [1, None, 2, 3, 4, 5, None]


async def test_candidates_keep_their_calls_and_land_on_their_jobs_stages() -> None:
    emulator = make_emulator(size=40, jobs=3)
    async with make_connector(emulator, per_page=100) as connector:
        connector.settings = connector.settings.model_copy(update={"fetch_documents": False})
        jobs = await jobs_of(connector)
        before = emulator.requests
        records, _ = await enumerate_all(connector, 100)
        # the organization, one job listing, one candidate page per job: nothing per candidate
        assert emulator.requests - before == 1 + 1 + 3
    stages = {s.id: r.job.id for r in jobs for s in r.stages}
    org = emulator.organizations[ORG]
    for record in records:
        (application,) = record.applications
        vendor = org.candidates[record.candidate.remote_id or ""]
        assert stages[application.current_stage] == application.job  # type: ignore[index]
        assert application.hired == (vendor["stage"]["reference"] == "hired")
        assert application.archived == vendor["archived"]
        assert application.source == vendor["origin"]


async def test_get_job_and_its_404(emulator: WelcomeKitEmulator) -> None:
    reference = emulator.organizations[ORG].jobs[1]["reference"]
    async with make_connector(emulator) as connector:
        listed = next(r for r in await jobs_of(connector) if r.job.remote_id == reference)
        fresh = await connector.get_job(reference)
        assert fresh.job.content() == listed.job.content()
        with pytest.raises(NotFound):
            await connector.get_job("WTTJ_Nope")
        with pytest.raises(NotFound):
            await connector.get_job("../candidates")  # quoted: never another route
    async with client_for(emulator) as client:
        response = await client.get("/api/v1/external/jobs/WTTJ_Nope", headers=HEADERS)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": "Job not found"}


async def test_job_routes_need_the_jobs_scope(emulator: WelcomeKitEmulator) -> None:
    reference = emulator.organizations[ORG].jobs[0]["reference"]
    emulator.keys[API_KEY] = (ORG, frozenset({"candidates_r", "organizations_r"}))
    async with make_connector(emulator) as connector:
        with pytest.raises(AuthFailed) as denied:
            await connector.get_job(reference)
        assert denied.value.vendor_code == "invalid_scope"
        with pytest.raises(AuthFailed):
            await jobs_of(connector)


async def test_job_routes_honour_the_fault_switches(emulator: WelcomeKitEmulator) -> None:
    reference = emulator.organizations[ORG].jobs[0]["reference"]
    emulator.faults.fail_status = 503
    emulator.faults.only_paths = ("/api/v1/external/jobs/",)
    async with make_connector(emulator) as connector:
        assert await jobs_of(connector)  # the listing is not under the faulted prefix
        with pytest.raises(VendorUnavailable):
            await connector.get_job(reference)
    emulator.faults.reset()
    emulator.faults.unlisted_records = 1
    async with make_connector(emulator) as connector:
        pages = [page async for page in connector.iter_jobs()]
    assert any(page.incomplete for page in pages)


async def test_the_emulator_shows_options_only_when_asked(emulator: WelcomeKitEmulator) -> None:
    async with client_for(emulator) as client:
        bare = await client.get(
            "/api/v1/external/jobs", params={"organization_reference": ORG}, headers=HEADERS
        )
        reference = bare.json()[0]["reference"]
        full = await client.get(
            f"/api/v1/external/jobs/{reference}",
            params={"stages": "true", "websites": "true", "candidates_count": "true"},
            headers=HEADERS,
        )
        drafts = await client.get(
            "/api/v1/external/jobs",
            params={"organization_reference": ORG, "status": "draft"},
            headers=HEADERS,
        )
    assert bare.headers["X-Total"] == "3"
    assert not {"stages", "websites", "office"} & set(bare.json()[0])
    job = full.json()
    assert {"stages", "websites", "candidates_count"} <= set(job) and "office" not in job
    assert job["candidates_count"] == sum(s["candidates_count"] for s in job["stages"])
    assert set(job["stages"][0]) == {"id", "name", "reference", "visible", "candidates_count"}
    assert [j["status"] for j in drafts.json()] == ["draft"]


async def test_a_listing_without_stages_is_completed_by_single_reads(
    emulator: WelcomeKitEmulator,
) -> None:
    """Should the listing ignore ``stages=true``, each job is read alone (bounded), and a job
    gone meanwhile is quarantined rather than stored without stages."""
    org = emulator.organizations[ORG]
    gone = org.jobs[2]["reference"]

    class StagelessListing(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = EmulatorTransport(emulator.app)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            if request.url.path != "/api/v1/external/jobs":
                return response
            body: list[dict[str, Any]] = json.loads(await response.aread())
            for job in body:
                job.pop("stages", None)
            org.jobs = [j for j in org.jobs if j["reference"] != gone]  # deleted meanwhile
            return httpx.Response(200, json=body, headers=dict(response.headers))

    settings = WelcomeKitSettings(
        api_key=API_KEY, organization_reference=ORG, base_url="https://wk.test/api/v1/external"
    )
    async with WelcomeKitConnector(settings, transport=StagelessListing(), sleep=no_sleep) as c:
        pages = [page async for page in c.iter_jobs()]
    records = [r for page in pages for r in page.records]
    quarantined = [q for page in pages for q in page.quarantined]
    assert len(records) == 2 and all(r.stages for r in records)
    assert [(q.kind, q.remote_id, q.reason) for q in quarantined] == [
        ("job", gone, "StagesUnavailable")
    ]


async def test_control_api_creates_updates_and_deletes_jobs(
    emulator: WelcomeKitEmulator,
) -> None:
    org = emulator.organizations[ORG]
    async with client_for(emulator) as client:
        created = await client.post(
            "/_emulator/change", json={"action": "create", "count": 2, "kind": "job"}
        )
        assert created.status_code == 200, created.text
        new = created.json()["ids"]
        assert created.json()["kind"] == "job" and len(new) == 2
        updated = (
            await client.post(
                "/_emulator/change", json={"action": "update", "count": 1, "kind": "job"}
            )
        ).json()["ids"]
        deleted = (
            await client.post(
                "/_emulator/change", json={"action": "delete", "count": 1, "kind": "job"}
            )
        ).json()["ids"]
        wrong = await client.post(
            "/_emulator/change", json={"action": "create", "count": 1, "kind": "office"}
        )
        state = (await client.get("/_emulator/state")).json()
    assert wrong.status_code == 422 and "kind" in wrong.json()["detail"]
    assert deleted[0] not in state["accounts"][0]["job_remote_ids"]
    assert set(new) <= set(state["accounts"][0]["job_remote_ids"])
    assert all(c["job_reference"] != deleted[0] for c in org.candidates.values())
    async with make_connector(emulator) as connector:
        jobs = {r.job.remote_id: r for r in await jobs_of(connector)}
        assert set(jobs) == {j["reference"] for j in org.jobs}
        assert all(jobs[reference].stages for reference in new)
        assert "mise à jour" in (jobs[updated[0]].job.description or "")
        with pytest.raises(NotFound):
            await connector.get_job(deleted[0])
        records, _ = await enumerate_all(connector, 50)
    assert len(records) == len(org.candidates)


async def test_a_candidate_created_on_a_stage(emulator: WelcomeKitEmulator) -> None:
    job = emulator.organizations[ORG].jobs[0]
    stage = job["stages"][3]
    body = {
        "organization_reference": ORG,
        "job_reference": job["reference"],
        "job_stage_id": stage["id"],
        "email": "a@b.c",
        "firstname": "A",
        "lastname": "B",
    }
    async with client_for(emulator) as client:
        created = await client.post("/api/v1/external/candidates", json=body, headers=HEADERS)
        wrong = await client.post(
            "/api/v1/external/candidates", json={**body, "job_stage_id": -1}, headers=HEADERS
        )
    assert created.status_code == 201 and created.json()["stage_id"] == stage["id"]
    assert wrong.status_code == 400 and wrong.json()["error"] == "validation_failed"
    async with make_connector(emulator) as connector:
        record = await connector.get_candidate(created.json()["reference"])
        listed = await connector.get_job(job["reference"])
    assert record.applications[0].current_stage == listed.stages[3].id
