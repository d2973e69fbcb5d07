"""Jobs, interview stages and applications through the API, for every vendor: what a sync
stores hangs together, filters and ``expand`` work, single reads refresh, deletions follow the
vendor only after a complete enumeration, and nothing leaks across tenants."""

import uuid
from typing import Any

import httpx
import pytest

from connectors.sdk.emulation import EmulatorTransport
from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, VIASTO_TOKEN, WK_KEY, WK_ORG, Stack

API = "/api/ats/v1"
VENDORS = ["flatchr", "welcomekit", "viasto"]
SETTINGS: dict[str, dict[str, str]] = {
    "flatchr": {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY},
    "welcomekit": {"api_key": WK_KEY, "organization_reference": WK_ORG},
    "viasto": {"token": VIASTO_TOKEN, "company_id": "4"},
}


async def everything(stack: Stack, headers: dict[str, str], path: str, **params: Any) -> list[Any]:
    """Every item of a list route, page by page."""
    items: list[Any] = []
    cursor = None
    while True:
        query = {"page_size": 7, **params, **({"cursor": cursor} if cursor else {})}
        response = await stack.client.get(f"{API}/{path}", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["cursor"]
        if cursor is None:
            return items


async def connected(stack: Stack, vendor: str) -> dict[str, str]:
    created = await stack.connect(vendor, SETTINGS[vendor])
    return stack.headers(created["connector_token"])


def control(stack: Stack, vendor: str) -> httpx.AsyncClient:
    emulator = {"flatchr": stack.flatchr, "welcomekit": stack.welcomekit, "viasto": stack.viasto}
    return httpx.AsyncClient(
        transport=EmulatorTransport(emulator[vendor].app), base_url="http://emulator"
    )


async def vendor_jobs(stack: Stack, vendor: str) -> list[str]:
    async with control(stack, vendor) as client:
        state = (await client.get("/_emulator/state")).json()
    account = state["accounts"][0]
    jobs: list[str] = account["job_remote_ids"]
    return jobs


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_sync_stores_jobs_stages_and_applications_that_hang_together(
    stack: Stack, vendor: str
) -> None:
    h = await connected(stack, vendor)
    jobs = await everything(stack, h, "jobs")
    stages = await everything(stack, h, "job-interview-stages")
    applications = await everything(stack, h, "applications")
    candidates = await everything(stack, h, "candidates")
    assert sorted(j["remote_id"] for j in jobs) == sorted(await vendor_jobs(stack, vendor))
    job_ids = {j["id"] for j in jobs}
    stage_job = {s["id"]: s["job"] for s in stages}
    assert set(stage_job.values()) == job_ids, "every job has stages, every stage a listed job"
    # One application per candidate record, with the candidate's own remote id.
    assert len(applications) == len(candidates)
    by_candidate = {a["candidate"]: a for a in applications}
    for candidate in candidates:
        application = by_candidate[candidate["id"]]
        assert candidate["applications"] == [application["id"]]
        assert application["remote_id"] == candidate["remote_id"]
        assert application["job"] in job_ids
        if application["current_stage"] is not None:
            assert stage_job[application["current_stage"]] == application["job"]
    assert any(a["current_stage"] for a in applications)
    # The stages of one job, by filter; an application's job and stage filters find it.
    some = next(a for a in applications if a["current_stage"])
    of_job = await everything(stack, h, "job-interview-stages", job=some["job"])
    assert {s["id"] for s in of_job} == {s for s, j in stage_job.items() if j == some["job"]}
    found = await everything(
        stack, h, "applications", job=some["job"], current_stage=some["current_stage"]
    )
    assert some["id"] in {a["id"] for a in found}
    assert all(a["job"] == some["job"] for a in found)
    mine = await everything(stack, h, "applications", candidate=some["candidate"])
    assert [a["id"] for a in mine] == [some["id"]]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_expand_embeds_the_related_objects_shaped_like_the_outer_ones(
    stack: Stack, vendor: str
) -> None:
    h = await connected(stack, vendor)
    plain = (await stack.client.get(f"{API}/applications", headers=h)).json()["items"]
    response = await stack.client.get(
        f"{API}/applications",
        params={"expand": "candidate,job,current_stage"},
        headers=h,
    )
    assert response.status_code == 200
    expanded = response.json()["items"]
    assert [a["id"] for a in expanded] == [a["id"] for a in plain]
    for before, after in zip(plain, expanded, strict=True):
        assert after["candidate"]["id"] == before["candidate"]
        assert after["job"]["id"] == before["job"]
        assert after["candidate"]["raw_data"] is None  # include_raw_data applies inside too
        if before["current_stage"]:
            assert after["current_stage"]["id"] == before["current_stage"]
            assert after["current_stage"]["job"] == before["job"]
    # An embedded record is exactly what its own route serves (same shaping, same links).
    first = expanded[0]
    alone = await stack.client.get(f"{API}/candidates/{first['candidate']['id']}", headers=h)
    assert first["candidate"] == alone.json()
    job_alone = await stack.client.get(f"{API}/jobs/{first['job']['id']}", headers=h)
    assert first["job"] == job_alone.json()
    with_raw = (
        await stack.client.get(
            f"{API}/applications",
            params={"expand": "job", "include_raw_data": "true", "page_size": 1},
            headers=h,
        )
    ).json()["items"][0]
    assert with_raw["raw_data"] is not None and with_raw["job"]["raw_data"] is not None
    candidate = (
        await stack.client.get(
            f"{API}/candidates/{plain[0]['candidate']}",
            params={"expand": "applications"},
            headers=h,
        )
    ).json()
    assert [a["id"] for a in candidate["applications"]] == [plain[0]["id"]]
    stage = (await everything(stack, h, "job-interview-stages", expand="job"))[0]
    assert isinstance(stage["job"], dict) and stage["job"]["id"]
    one = (
        await stack.client.get(
            f"{API}/applications/{plain[0]['id']}", params={"expand": "job"}, headers=h
        )
    ).json()
    assert one["job"]["id"] == plain[0]["job"]


@pytest.mark.parametrize(
    ("path", "params", "needle"),
    [
        ("applications", {"expand": "candidate,recruiter"}, "recruiter"),
        ("job-interview-stages", {"expand": "applications"}, "applications"),
        ("candidates", {"expand": "job"}, "job"),
        ("applications", {"job": "not-a-uuid"}, "job"),
        ("applications", {"current_stage": "1,2"}, "current_stage"),
        ("job-interview-stages", {"job": "x"}, "job"),
        ("jobs", {"ids": "x"}, "ids"),
        ("jobs", {"expand": "stages"}, "expand"),
        ("applications", {"cursor": "garbage"}, "cursor"),
    ],
)
async def test_bad_filters_and_expansions_are_a_400_naming_the_parameter(
    stack: Stack, path: str, params: dict[str, str], needle: str
) -> None:
    h = await connected(stack, "welcomekit")
    response = await stack.client.get(f"{API}/{path}", params=params, headers=h)
    assert response.status_code == 400, response.text
    assert needle in response.json()["detail"]


async def test_a_filter_on_a_field_the_vendor_lacks_is_refused_not_empty(stack: Stack) -> None:
    """viasto has no application date: `created_after` cannot be honoured there."""
    h = await connected(stack, "viasto")
    response = await stack.client.get(
        f"{API}/applications", params={"created_after": "2020-01-01T00:00:00Z"}, headers=h
    )
    assert response.status_code == 400
    assert "applied_at" in response.json()["detail"]
    wk = await connected(stack, "welcomekit")
    applied = await everything(stack, wk, "applications", created_after="1970-01-01T00:00:00Z")
    assert applied and all(a["applied_at"] for a in applied)
    none = await everything(stack, wk, "applications", created_before="1970-01-01T00:00:00Z")
    assert none == []


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_job_deleted_at_the_vendor_is_marked_by_a_full_sync_with_its_stages(
    stack: Stack, vendor: str
) -> None:
    h = await connected(stack, vendor)
    before = await everything(stack, h, "jobs")
    async with control(stack, vendor) as client:
        changed = await client.post(
            "/_emulator/change", json={"action": "delete", "count": 1, "kind": "job"}
        )
        assert changed.status_code == 200, changed.text
    gone = changed.json()["ids"]
    report = await stack.services.sync(
        uuid.UUID(
            (await stack.client.get(f"{API}/sync-status", headers=h)).json()["connection_id"]
        ),
        full=True,
    )
    assert report.deleted_by_model.get("jobs") == len(gone)
    after = await everything(stack, h, "jobs")
    assert sorted(j["remote_id"] for j in after) == sorted(
        j["remote_id"] for j in before if j["remote_id"] not in gone
    )
    deleted = await everything(stack, h, "jobs", include_deleted="true")
    dead = [j for j in deleted if j["remote_id"] in gone]
    assert dead and all(j["remote_was_deleted"] for j in dead)
    stages = await everything(
        stack, h, "job-interview-stages", job=dead[0]["id"], include_deleted="true"
    )
    assert stages and all(s["remote_was_deleted"] for s in stages)
    status = (await stack.client.get(f"{API}/sync-status", headers=h)).json()
    assert status["models"]["jobs"]["deleted"] == len(gone)
    assert status["models"]["jobs"]["seen"] == len(after)
    assert status["models"]["applications"]["seen"] == status["models"]["candidates"]["seen"]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_no_change_resync_leaves_every_modified_at_alone(stack: Stack, vendor: str) -> None:
    h = await connected(stack, vendor)
    paths = ["jobs", "job-interview-stages", "applications"]
    before = {p: await everything(stack, h, p) for p in paths}
    connection_id = uuid.UUID(
        (await stack.client.get(f"{API}/sync-status", headers=h)).json()["connection_id"]
    )
    report = await stack.services.sync(connection_id, full=True)
    assert report.rows_written == 0
    after = {p: await everything(stack, h, p) for p in paths}
    assert after == before


@pytest.mark.parametrize("vendor", VENDORS)
async def test_single_reads_refresh_from_the_vendor_and_say_gone_when_it_is(
    stack: Stack, vendor: str
) -> None:
    h = await connected(stack, vendor)
    job = (await everything(stack, h, "jobs"))[0]
    fresh = await stack.client.get(
        f"{API}/jobs/{job['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert fresh.status_code == 200 and "Age" not in fresh.headers
    assert fresh.json() == job
    cached = await stack.client.get(f"{API}/jobs/{job['id']}", headers=h)
    assert cached.status_code == 200 and int(cached.headers["Age"]) >= 0
    stage = (await everything(stack, h, "job-interview-stages", job=job["id"]))[0]
    read = await stack.client.get(
        f"{API}/job-interview-stages/{stage['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert read.status_code == 200 and read.json() == stage
    application = (await everything(stack, h, "applications"))[0]
    read = await stack.client.get(
        f"{API}/applications/{application['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert read.status_code == 200 and read.json() == application
    # The vendor deletes the job: a forced read says 404 and the job is marked deleted.
    async with control(stack, vendor) as client:
        deleted = await client.post(
            "/_emulator/change", json={"action": "delete", "count": 1, "kind": "job"}
        )
    [gone_remote] = deleted.json()["ids"]
    gone = next(j for j in await everything(stack, h, "jobs") if j["remote_id"] == gone_remote)
    response = await stack.client.get(
        f"{API}/jobs/{gone['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert response.status_code == 404
    assert gone["id"] not in {j["id"] for j in await everything(stack, h, "jobs")}


async def test_ids_of_another_tenant_or_connection_are_never_served(stack: Stack) -> None:
    wk = await connected(stack, "welcomekit")
    viasto = await connected(stack, "viasto")
    job = (await everything(stack, wk, "jobs"))[0]
    application = (await everything(stack, wk, "applications"))[0]
    stage = (await everything(stack, wk, "job-interview-stages"))[0]
    for path in (f"jobs/{job['id']}", f"applications/{application['id']}"):
        assert (await stack.client.get(f"{API}/{path}", headers=viasto)).status_code == 404
    assert (
        await stack.client.get(f"{API}/job-interview-stages/{stage['id']}", headers=viasto)
    ).status_code == 404
    # Expanding never reaches across connections either.
    listed = await everything(stack, viasto, "applications", ids=application["id"])
    assert listed == []
    _, other_key = await stack.services.accounts.create_tenant("other")
    response = await stack.client.get(
        f"{API}/jobs/{job['id']}", headers={**wk, "Authorization": f"Bearer {other_key}"}
    )
    assert response.status_code == 401
    missing = await stack.client.get(f"{API}/applications/{uuid.uuid4()}", headers=wk)
    assert missing.status_code == 404 and missing.json()["detail"]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_candidate_deleted_at_the_vendor_takes_exactly_its_application_along(
    stack: Stack, vendor: str
) -> None:
    h = await connected(stack, vendor)
    before = await everything(stack, h, "applications")
    async with control(stack, vendor) as client:
        changed = await client.post("/_emulator/change", json={"action": "delete", "count": 2})
    gone = set(changed.json()["ids"])
    connection_id = uuid.UUID(
        (await stack.client.get(f"{API}/sync-status", headers=h)).json()["connection_id"]
    )
    report = await stack.services.sync(connection_id, full=True)
    assert report.deleted_by_model["candidates"] == report.deleted_by_model["applications"] == 2
    live = await everything(stack, h, "applications")
    assert {a["remote_id"] for a in live} == {a["remote_id"] for a in before} - gone
    every = await everything(stack, h, "applications", include_deleted="true")
    assert {a["remote_id"] for a in every if a["remote_was_deleted"]} == gone
    # A second full run changes nothing: the live applications were seen with their candidates.
    again = await stack.services.sync(connection_id, full=True)
    assert again.deleted_by_model.get("applications", 0) == 0 and again.rows_written == 0
