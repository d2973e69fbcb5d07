"""viasto projects as jobs, the workflow statuses as stages, candidate records as applications:
the pure mappings (documented attributes, wide payloads), the connector and the emulator."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.base import IdScope, MappingContext, stage_remote_id
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import NotFound, VendorUnavailable
from connectors.viasto.emulator import ViastoEmulator
from connectors.viasto.mapping import (
    WORKFLOW,
    MappingError,
    map_candidate,
    map_project,
)
from schemas import JobStatus, UrlType
from tests.conftest import vendor_fixture
from tests.connectors.viasto.conftest import TOKEN, make_connector, make_emulator

CTX = MappingContext(
    ids=IdScope(uuid.UUID(int=7)),
    observed_at=datetime(2026, 1, 1, tzinfo=UTC),
    company_name="ACME GmbH",
    default_phone_region="DE",
)
BASE_URI = "https://acme-inc.interview-suite.com/api/v3/companies/4"
ACTIVATION_KEY = "5d41402abc4b2a76b9719d911017c592"


def project(project_id: int = 14, **extra: Any) -> dict[str, Any]:
    """A project with the documented attributes (V9), values invented."""
    uri = f"{BASE_URI}/projects/{project_id}/"
    return {
        "resource_uri": uri,
        "company": f"{BASE_URI}/",
        "name": "Sales Manager DACH",
        "job_url": "https://careers.acme-inc.example/jobs/sales-manager",
        "email_alias": "",
        "mode": "standard",
        "maximum_score": 5,
        "support_lang": "de",
        "language": "de-DE",
        "status": "active",
        "internal_id": "REQ-2016-014",
        "allow_hash_login": False,
        "max_interview_time": 3600,
        "invite_candidates": True,
        "default_interview_period": 7,
        "closedate": None,
        "activationdate": "2016-10-04",
        "contact_person": "Tarsila do Amaral",
        "creationdate": "2016-10-01",
        "veto_enabled": False,
        "status_update_uri": f"{uri}status/",
        "evaluators": [f"{BASE_URI}/customers/3/"],
        "interview_managers": [f"{BASE_URI}/customers/3/"],
        "reviewers": [],
        "labels": [f"{BASE_URI}/labels/1/"],
        "questions": f"{uri}questions/",
        "candidates": f"{uri}candidates/",
        "results": f"{uri}results/",
        "roles": f"{uri}roles/",
        "criteria": f"{uri}criteria/",
        "videos": [],
        **extra,
    }


# --- mapping -----------------------------------------------------------------------------------


def test_a_documented_project_maps_to_a_job() -> None:
    record = map_project(project(), CTX)
    job = record.job
    assert job.id == CTX.ids.job_id("14") and job.remote_id == "14"
    assert (job.name, job.code, job.status) == ("Sales Manager DACH", "REQ-2016-014", "OPEN")
    assert job.job_posting_urls is not None
    assert [(u.type, u.value) for u in job.job_posting_urls] == [
        (UrlType.JOB_POSTING, "https://careers.acme-inc.example/jobs/sales-manager")
    ]
    assert job.remote_created_at == datetime(2016, 10, 1, tzinfo=UTC)
    assert job.remote_updated_at is None and job.description is None and job.confidential is None
    assert job.departments is None and job.offices is None and job.recruiters is None
    assert job.custom_fields == {
        "status": "active",
        "activationdate": "2016-10-04",
        "language": "de-DE",
        "mode": "standard",
        "contact_person": "Tarsila do Amaral",
        "labels": [f"{BASE_URI}/labels/1/"],
        "evaluators": [f"{BASE_URI}/customers/3/"],
        "interview_managers": [f"{BASE_URI}/customers/3/"],
    }
    assert job.raw_data == project()


def test_every_project_gets_the_documented_workflow_as_its_stages() -> None:
    stages = map_project(project(), CTX).stages
    assert [(s.remote_id, s.name, s.stage_order) for s in stages] == [
        ("14:new", "New", 1),
        ("14:invited", "Invited", 2),
        ("14:confirmed", "Confirmed", 3),
        ("14:interviewing", "Interviewing", 4),
        ("14:interviewed", "Interviewed", 5),
        ("14:expired", "Expired", None),
        ("14:aborted", "Aborted", None),
        ("14:skipped", "Skipped", None),
    ]
    job_id = CTX.ids.job_id("14")
    assert all(s.job == job_id and s.id == CTX.ids.stage_id(s.remote_id or "") for s in stages)
    assert stages[1].custom_fields == {"status": "invited", "displayed": True}
    assert stages[-1].custom_fields == {"status": "skipped", "displayed": False}
    other = map_project(project(15), CTX).stages
    assert not {s.id for s in stages} & {s.id for s in other}  # every job its own stages


@pytest.mark.parametrize(
    ("vendor", "unified"),
    [
        ("draft", JobStatus.DRAFT),
        ("active", JobStatus.OPEN),
        ("open", JobStatus.OPEN),
        ("Active", JobStatus.OPEN),
        ("closed", JobStatus.CLOSED),
        ("archived", JobStatus.ARCHIVED),
        ("paused", "paused"),  # a value whose meaning is not clear passes through
        ("", None),
        (None, None),
    ],
)
def test_project_status_table(vendor: str | None, unified: str | None) -> None:
    assert map_project(project(status=vendor), CTX).job.status == unified


def test_no_credential_of_a_nested_evaluator_reaches_the_job() -> None:
    """Evaluators and managers load nested as customer objects, which carry activation keys."""
    customer = {
        "resource_uri": f"{BASE_URI}/customers/3/",
        "first_name": "Tarsila",
        "account_type": "hiring-manager",
        "activation_key": ACTIVATION_KEY,
        "settings": {"api_key": "k-123", "Password": "pw"},
    }
    job = map_project(project(evaluators=[customer], interview_managers=[customer]), CTX).job
    dumped = job.model_dump_json()
    for secret in (ACTIVATION_KEY, "k-123", "activation_key", "api_key", '"pw"'):
        assert secret not in dumped
    assert job.raw_data is not None
    assert job.raw_data["evaluators"][0]["first_name"] == "Tarsila"
    assert job.custom_fields is not None
    assert job.custom_fields["evaluators"] == [f"{BASE_URI}/customers/3/"]


def test_empty_values_and_dates() -> None:
    job = map_project(
        project(
            job_url="",
            internal_id="",
            creationdate="01.10.2016",
            closedate="2021-03-31T22:00:00+02:00",
            labels=[],
            evaluators=None,
        ),
        CTX,
    ).job
    assert job.job_posting_urls == [] and job.code is None
    assert job.remote_created_at is None  # an unreadable date is no date (raw_data keeps it)
    assert job.raw_data is not None and job.raw_data["creationdate"] == "01.10.2016"
    assert job.custom_fields is not None
    assert job.custom_fields["closedate"] == "2021-03-31T20:00:00Z"
    assert "labels" not in job.custom_fields and "evaluators" not in job.custom_fields


def test_a_project_without_its_id_is_a_mapping_error() -> None:
    for broken in ({"name": "x"}, {"resource_uri": f"{BASE_URI}/"}, ["not", "an object"]):
        with pytest.raises(MappingError):
            map_project(broken, CTX)


def test_a_candidate_record_is_its_one_application() -> None:
    payload = vendor_fixture("viasto_project_candidates_list.documented_plus_inferred.json")[
        "objects"
    ][0]
    record = map_candidate(payload, CTX, project_name="Sales Manager")
    [application] = record.applications
    assert record.candidate.applications == [application.id]
    assert application.remote_id == record.candidate.remote_id == "14/521"
    assert application.id == CTX.ids.application_id("14/521")
    assert application.candidate == record.candidate.id
    assert application.job == map_project(project(14), CTX).job.id
    assert application.current_stage == CTX.ids.stage_id("14:interviewed")
    assert application.evaluation_status == "partial"
    assert application.applied_at is None and application.rejected_at is None
    assert application.source is None and application.archived is None
    assert application.custom_fields == {"status": "interviewed", "my_evaluation_status": "pending"}
    assert application.raw_data == {
        "project": payload["project"],
        "status": "interviewed",
        "evaluation_status": "partial",
        "my_evaluation_status": "pending",
        "invitationdate": "2016-11-01T09:44:56Z",
        "confirmationdate": "2016-11-02T14:44:03Z",
        "interviewdate": "2016-11-03T10:12:00Z",
        "deadline": "2016-11-08T22:59:00Z",
    }
    dumped = application.model_dump_json()
    assert payload["interview_key"] not in dumped and "interview_key" not in dumped


def test_a_status_the_vendor_adds_keeps_the_application_without_a_stage() -> None:
    payload = {
        "resource_uri": f"{BASE_URI}/projects/14/candidates/9/",
        "status": "rescheduled",
    }
    [application] = map_candidate(payload, CTX).applications
    assert application.current_stage is None
    assert application.custom_fields == {"status": "rescheduled"}
    assert application.job == CTX.ids.job_id("14")


# --- properties --------------------------------------------------------------------------------

any_text = st.none() | st.just("") | st.text(max_size=20)
odd_dates = (
    any_text
    | st.dates().map(lambda d: d.isoformat())
    | st.datetimes().map(lambda d: d.isoformat())
    | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z"))
    | st.sampled_from(["2016-13-45", "01.10.2016", "2016-10-01T25:00:00Z", "0000-00-00"])
    | st.integers()
)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
uri_like = (
    st.integers(0, 10**12).map(lambda n: f"{BASE_URI}/projects/{n}/")
    | st.integers(0, 10**6).map(lambda n: f"/api/v3/companies/1/projects/{n}")
    | any_text
    | anything
)
project_payloads = st.fixed_dictionaries(
    {},
    optional={
        "resource_uri": uri_like,
        "name": any_text | anything,
        "job_url": any_text | anything,
        "status": any_text | st.sampled_from(["draft", "active", "closed", "archived", "OPEN"]),
        "internal_id": any_text | st.integers(),
        "creationdate": odd_dates,
        "closedate": odd_dates,
        "activationdate": odd_dates,
        "labels": st.lists(any_text | anything, max_size=3) | anything,
        "evaluators": st.lists(
            st.fixed_dictionaries(
                {"resource_uri": any_text},
                optional={"activation_key": st.text(min_size=12, alphabet="abcdef0123456789")},
            )
            | any_text,
            max_size=3,
        )
        | anything,
        "mode": anything,
        "contact_person": anything,
        "language": anything,
    },
)


@given(project_payloads | anything)
def test_any_project_maps_deterministically_or_is_a_mapping_error(payload: Any) -> None:
    try:
        first = map_project(payload, CTX)
    except MappingError:
        return
    assert first == map_project(payload, CTX)
    job = first.job
    assert job.remote_id is not None and job.remote_id.isdigit()
    assert job.id == CTX.ids.job_id(job.remote_id)
    assert [s.remote_id for s in first.stages] == [
        stage_remote_id(job.remote_id, key) for key, _, _ in WORKFLOW
    ]
    evaluators = payload.get("evaluators")
    for evaluator in evaluators if isinstance(evaluators, list) else []:
        if isinstance(evaluator, dict) and evaluator.get("activation_key"):
            assert evaluator["activation_key"] not in json.dumps(job.raw_data)
    assert json.loads(job.model_dump_json())  # serializable whatever came in


@given(
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    any_text | st.sampled_from([key for key, _, _ in WORKFLOW] + ["INVITED", " new "]),
    any_text | anything,
)
def test_applications_point_at_the_job_and_stages_the_job_mapping_gives(
    project_id: int, candidate_id: int, status: Any, evaluation: Any
) -> None:
    payload = {
        "resource_uri": f"{BASE_URI}/projects/{project_id}/candidates/{candidate_id}/",
        "project": f"{BASE_URI}/projects/{project_id}/",
        "status": status,
        "evaluation_status": evaluation,
    }
    record = map_candidate(payload, CTX)
    assert record == map_candidate(payload, CTX)
    [application] = record.applications
    job = map_project(project(project_id), CTX)
    assert application.job == job.job.id
    assert record.candidate.applications == [application.id]
    stage_ids = {s.id for s in job.stages}
    if application.current_stage is None:
        assert str(status or "").strip().lower() not in {key for key, _, _ in WORKFLOW}
    else:
        assert application.current_stage in stage_ids
    assert (application.custom_fields or {}).get("status") == (
        str(status).strip() or None if status is not None else None
    )


# --- connector and emulator --------------------------------------------------------------------


async def jobs_of(connector: Any) -> list[Any]:
    return [r async for page in connector.iter_jobs() for r in page.records]


async def test_jobs_come_from_every_page_of_the_project_listing() -> None:
    emulator = make_emulator(projects=5, per_project=2)
    async with make_connector(emulator, page_size=2) as connector:
        pages = [page async for page in connector.iter_jobs()]
        names = await connector.projects()
    records = [r for page in pages for r in page.records]
    assert len(pages) == 3 and all(page.total == 5 for page in pages)
    assert [r.job.remote_id for r in records] == ["10", "11", "12", "13", "14"]
    assert [r.job.status for r in records] == ["OPEN", "OPEN", "CLOSED", "DRAFT", "ARCHIVED"]
    assert names == {r.job.remote_id: r.job.name for r in records}  # one listing, both uses
    assert all(len(r.stages) == len(WORKFLOW) for r in records)
    raw = json.dumps([r.job.raw_data for r in records])
    assert TOKEN not in raw and "activation_key" not in raw


async def test_get_job_reads_the_project_route(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator) as connector:
        [listed, *_] = await jobs_of(connector)
        before = emulator.page_requests
        fresh = await connector.get_job("10")
        assert emulator.page_requests == before  # the object route, not the listing
        assert fresh.job.content() == listed.job.content()
        with pytest.raises(NotFound):
            await connector.get_job("999999")  # the vendor's own 404
        for malformed in ("", "ten", "10/501", "-1", "\u0661\u0660"):  # Arabic-Indic digits
            with pytest.raises(NotFound):
                await connector.get_job(malformed)


async def test_the_fault_switches_apply_to_the_project_routes(emulator: ViastoEmulator) -> None:
    emulator.faults.fail_status = 500
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorUnavailable):
            await connector.get_job("10")
        with pytest.raises(VendorUnavailable):
            await jobs_of(connector)
    emulator.faults.reset()
    emulator.faults.only_paths = ("/api/v3/companies/4/projects/11/",)
    emulator.faults.fail_status = 404
    async with make_connector(emulator) as connector:
        with pytest.raises(NotFound):
            await connector.get_job("11")
        assert (await connector.get_job("10")).job.remote_id == "10"


async def test_a_project_listing_short_of_its_total_is_incomplete(
    emulator: ViastoEmulator,
) -> None:
    emulator.faults.unlisted_records = 1
    async with make_connector(emulator) as connector:
        pages = [page async for page in connector.iter_jobs()]
    assert sum(len(p.records) for p in pages) == 2
    assert pages[-1].incomplete and "2 of the 3" in pages[-1].incomplete


async def test_an_unmappable_project_is_quarantined_not_fatal(emulator: ViastoEmulator) -> None:
    emulator.companies[4].projects[11]["resource_uri"] = ""
    async with make_connector(emulator) as connector:
        pages = [page async for page in connector.iter_jobs()]
    assert [r.job.remote_id for p in pages for r in p.records] == ["10", "12"]
    [quarantined] = [q for p in pages for q in p.quarantined]
    assert (quarantined.kind, quarantined.remote_id) == ("job", None)


async def test_enumeration_reads_no_job_per_candidate(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator, page_size=50) as connector:
        await connector.company_name()
        before = emulator.app.requests_seen
        records = [r async for page in connector.iter_candidates() for r in page.records]
        requests = emulator.app.requests_seen - before
    assert len(records) == 36 and requests == 1 + 3  # the projects, then one page per project
    assert all(len(r.applications) == 1 for r in records)


async def test_a_status_the_vendor_adds_still_hangs_together(emulator: ViastoEmulator) -> None:
    stored = emulator.companies[4].candidates[10][501]
    stored["status"] = "rescheduled"
    async with make_connector(emulator) as connector:
        jobs = await jobs_of(connector)
        record = await connector.get_candidate("10/501")
    [application] = record.applications
    assert application.current_stage is None
    assert application.custom_fields is not None
    assert application.custom_fields["status"] == "rescheduled"
    assert application.job == next(j.job.id for j in jobs if j.job.remote_id == "10")


# --- the emulator's control API for projects ---------------------------------------------------


@pytest.fixture
def control(emulator: ViastoEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=EmulatorTransport(emulator.app), base_url="http://emu")


async def change_jobs(control: httpx.AsyncClient, action: str, count: int = 1) -> list[str]:
    response = await control.post(
        "/_emulator/change", json={"kind": "job", "action": action, "count": count}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["action"] == action and body["kind"] == "job"
    ids: list[str] = body["ids"]
    return ids


async def test_projects_are_created_renamed_and_deleted_over_the_control_api(
    emulator: ViastoEmulator, control: httpx.AsyncClient
) -> None:
    created = await change_jobs(control, "create", 2)
    assert created == ["13", "14"]
    [renamed] = await change_jobs(control, "update")
    deleted = await change_jobs(control, "delete")
    assert deleted == ["10"]
    state = (await control.get("/_emulator/state")).json()["accounts"][0]
    assert state["job_remote_ids"] == ["11", "12", "13", "14"]
    assert not [i for i in state["remote_ids"] if i.startswith("10/")]  # with its candidates
    async with make_connector(emulator) as connector:
        jobs = {
            r.job.remote_id: r.job async for page in connector.iter_jobs() for r in page.records
        }
        candidates = [r async for page in connector.iter_candidates() for r in page.records]
        with pytest.raises(NotFound):
            await connector.get_job("10")
    assert sorted(jobs) == state["job_remote_ids"]
    assert jobs["13"].status == "DRAFT" and jobs["13"].name
    assert "(rev " in (jobs[renamed].name or "")
    assert len(candidates) == len(state["remote_ids"])
    # New candidates go to the remaining projects, including the new empty ones.
    response = await control.post("/_emulator/change", json={"action": "create", "count": 4})
    assert response.status_code == 200
    assert {i.split("/")[0] for i in response.json()["ids"]} <= set(state["job_remote_ids"])


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "jobs", "action": "create"},
        {"kind": "job", "action": "explode"},
        {"kind": "job", "action": "create", "count": 0},
        {"kind": "job", "action": "create", "count": True},
        {"kind": "job", "action": "create", "colour": "red"},
        {"kind": "job", "action": "create", "account": "99"},
        {"kind": "job", "action": "delete", "count": 4},  # more than there are
    ],
)
async def test_invalid_project_changes_are_422_and_change_nothing(
    control: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    before = (await control.get("/_emulator/state")).json()["accounts"]
    response = await control.post("/_emulator/change", json=body)
    assert response.status_code == 422 and response.json()["detail"]
    assert (await control.get("/_emulator/state")).json()["accounts"] == before


async def test_deleting_every_project_leaves_no_candidate_to_create(
    control: httpx.AsyncClient,
) -> None:
    await change_jobs(control, "delete", 3)
    response = await control.post("/_emulator/change", json={"action": "create"})
    assert response.status_code == 422 and "no project" in response.json()["detail"]
