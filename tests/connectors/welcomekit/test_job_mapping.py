"""Welcome Kit jobs, stages and applications: documented examples and properties."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.base import IdScope, MappingContext, stage_remote_id
from connectors.welcomekit.mapping import (
    JobInfo,
    MappingError,
    job_status,
    map_application,
    map_candidate,
    map_job,
)
from schemas import Application, Job, JobInterviewStage, UrlType
from tests.conftest import vendor_fixture

CTX = MappingContext(
    ids=IdScope(uuid.UUID(int=5)),
    observed_at=datetime(2026, 1, 1, tzinfo=UTC),
    company_name="Welcome to the Jungle",
    default_phone_region="FR",
)

# "Retrieve a job" in github WTTJ/wk-api-docs @ feec0b6 source/includes/_jobs.md, verbatim but
# for the "..." placeholders (left out) and the application_fields/organization options (not
# asked for by the connector).
DOCUMENTED_JOB: dict[str, Any] = {
    "name": "Fake Job 2",
    "external_reference": "PROVIDER_REFERENCE2",
    "organization_reference": "Pg4eV6k",
    "status": "draft",
    "profile": "Fake Job Profile",
    "apply_url": "http://company.com/jobs/superjob/apply/",
    "company_description": "Fake Company Description.",
    "contract_duration_min": None,
    "experience_level": "1_TO_2_YEARS",
    "department_id": None,
    "profession_reference": "sales",
    "cms_sites_references": "wttj_fr,smgo_fr",
    "contract_duration_max": None,
    "start_date": "2016-09-01T00:00:00.000+02:00",
    "description": "Fake Job Description.",
    "contract_type": "FULL_TIME",
    "language": "en",
    "salary": {"min": "30000", "max": "40000", "currency": "EUR", "period": "yearly"},
    "remote": "fulltime",
    "office_id": 196,
    "reference": "WTTJ_gld0A7L",
    "education_level": "BAC_5",
    "stages": [
        {
            "visible": True,
            "reference": "initial",
            "id": 5395,
            "name": "Nouveau",
            "candidates_count": 4,
        },
        {
            "reference": "refused",
            "visible": True,
            "id": 5396,
            "name": "Refusé",
            "candidates_count": 2,
        },
        {
            "id": 5397,
            "name": "À rencontrer",
            "reference": None,
            "visible": True,
            "candidates_count": 1,
        },
    ],
    "candidates_count": 13,
    "created_at": "2017-11-13T17:15:26.146+01:00",
    "updated_at": "2017-11-13T17:15:26.146+01:00",
    "published_at": None,
    "archived_at": None,
    "websites": [
        {
            "reference": "wttj_fr",
            "name": "Welcome to the Jungle",
            "url": "http://preprod.welcometothejungle.co/companies/wttj/jobs/fake-job-2",
        }
    ],
}


def test_documented_job() -> None:
    record = map_job(DOCUMENTED_JOB, CTX)
    job = record.job
    assert job.id == CTX.ids.job_id("WTTJ_gld0A7L") and job.remote_id == "WTTJ_gld0A7L"
    assert (job.name, job.description, job.code) == (
        "Fake Job 2",
        "Fake Job Description.",
        "WTTJ_gld0A7L",
    )
    assert job.status == "DRAFT"
    assert job.job_posting_urls is not None
    assert [(u.type, u.value) for u in job.job_posting_urls] == [
        (UrlType.JOB_POSTING, "http://preprod.welcometothejungle.co/companies/wttj/jobs/fake-job-2")
    ]
    assert job.remote_created_at == datetime(2017, 11, 13, 16, 15, 26, 146000, tzinfo=UTC)
    assert job.confidential is None and job.departments is None and job.offices is None
    custom = job.custom_fields or {}
    assert custom["contract_type"] == "FULL_TIME" and custom["office_id"] == 196
    assert custom["salary"] == {
        "min": "30000",
        "max": "40000",
        "currency": "EUR",
        "period": "yearly",
    }
    assert custom["vendor_status"] == "draft" and custom["profile"] == "Fake Job Profile"
    assert "department_id" not in custom  # null
    assert "stages" not in (job.raw_data or {})  # the stages are records of their own
    stages = record.stages
    assert [s.remote_id for s in stages] == [
        "WTTJ_gld0A7L:5395",
        "WTTJ_gld0A7L:5396",
        "WTTJ_gld0A7L:5397",
    ]
    assert [s.name for s in stages] == ["Nouveau", "Refusé", "À rencontrer"]
    # listing order; the refused stage is off the path
    assert [s.stage_order for s in stages] == [1, None, 2]
    assert all(s.job == job.id for s in stages)
    assert stages[1].custom_fields == {
        "reference": "refused",
        "visible": True,
        "hired": False,
        "rejected": True,
    }


def test_the_documented_default_pipeline_orders_its_path() -> None:
    # "Create a job" response (_jobs.md @ 027ff2e): a new job's stages.
    stages = [
        {"id": 14752, "name": "New", "reference": "initial", "visible": True},
        {"id": 14753, "name": "Refused", "reference": "refused", "visible": True},
        {"id": 14754, "name": "After refusé", "reference": None, "visible": True},
        {"id": 14755, "name": "To Meet", "reference": "to_meet", "visible": True},
        {"id": 14756, "name": "Interview", "reference": "interviewed", "visible": True},
        {"id": 14757, "name": "Proposition!", "reference": None, "visible": True},
        {"id": 14758, "name": "Archived", "reference": "archived", "visible": False},
    ]
    record = map_job({"reference": "WTTJ_KmqkD1Y", "status": "draft", "stages": stages}, CTX)
    assert [s.stage_order for s in record.stages] == [1, None, 2, 3, 4, 5, None]


@pytest.mark.parametrize(
    ("vendor", "unified"),
    [
        ("draft", "DRAFT"),
        ("published", "OPEN"),
        ("archived", "ARCHIVED"),
        ("Published", "OPEN"),
        ("paused", "paused"),  # an undocumented value passes through
        (None, None),
        ("", None),
    ],
)
def test_status_table(vendor: Any, unified: str | None) -> None:
    assert job_status(vendor) == unified


def test_documented_candidate_is_one_application() -> None:
    payload = vendor_fixture("welcomekit_candidate_retrieve.documented.json")
    record = map_candidate(payload, CTX, job=JobInfo("WTTJ_KmqkD1Y", "Fake Job"))
    (application,) = record.applications
    reference = "wttj-d655345409a6097309156b05"
    assert record.candidate.applications == [application.id]
    assert application.id == CTX.ids.application_id(reference)
    assert application.remote_id == reference
    assert application.candidate == record.candidate.id
    assert application.job == CTX.ids.job_id("WTTJ_KmqkD1Y")
    assert application.current_stage == CTX.ids.stage_id(stage_remote_id("WTTJ_KmqkD1Y", "14600"))
    assert application.applied_at == datetime(2016, 8, 23, 10, 55, 27, 206000, tzinfo=UTC)
    assert application.rejected_at is None  # the vendor dates no rejection
    assert application.custom_fields == {
        "stage": "Refusé",
        "stage_reference": "refused",
        "rejected": True,
    }
    assert (application.source, application.archived, application.hired) == (
        "external",
        False,
        False,
    )
    assert set(application.raw_data or {}) == {
        "job_reference",
        "stage_id",
        "stage",
        "origin",
        "archived",
        "created_at",
    }


def test_the_stage_id_alone_places_the_application() -> None:
    payload = {"reference": "wttj-1", "job_reference": "WTTJ_a", "stage_id": 7}
    application = map_application(payload, CTX)
    assert application.current_stage == CTX.ids.stage_id("WTTJ_a:7")
    assert application.hired is None  # no stage object: its reference is unknown
    assert "rejected" not in (application.custom_fields or {})


def test_a_hired_stage_and_a_referrer() -> None:
    payload = {
        "reference": "wttj-2",
        "job_reference": "WTTJ_a",
        "stage_id": 9,
        "stage": {"id": 9, "name": "Embauché", "reference": "hired", "visible": True},
        "origin": "website:cms:wttj_fr",
        "referrer": "www.linkedin.com",
        "archived": True,
    }
    application = map_application(payload, CTX)
    assert (application.hired, application.archived, application.source) == (
        True,
        True,
        "website:cms:wttj_fr",
    )
    assert (application.custom_fields or {})["referrer"] == "www.linkedin.com"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"name": "no reference"},
        {"reference": "WTTJ_a", "stages": "initial"},
        {"reference": "WTTJ_a", "stages": [{"name": "no id"}]},
        {"reference": "WTTJ_a", "stages": [{"id": 1}, {"id": "1"}]},
        {"reference": "WTTJ_a", "stages": ["initial"]},
        {"reference": "WTTJ_a", "websites": "http://x"},
    ],
)
def test_unusable_jobs_raise_mapping_error(payload: Any) -> None:
    with pytest.raises(MappingError):
        map_job(payload, CTX)


# --- properties ------------------------------------------------------------------------------

ids = st.integers(min_value=-(2**63), max_value=2**63) | st.text(min_size=1, max_size=12)
maybe = (
    st.none()
    | st.text(max_size=12)
    | st.integers()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has no NaN
)
dates = (
    maybe
    | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    | st.sampled_from(["2017-11-13T17:15:26.146+01:00", "2016-09-01", "13/11/2017", "Z"])
)
stage_items = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "name": maybe,
        "reference": st.none() | st.sampled_from(["initial", "refused", "hired", "archived"]),
        "visible": maybe,
        "candidates_count": maybe,
    },
)
job_payloads = st.fixed_dictionaries(
    {"reference": ids},
    optional={
        "name": maybe,
        "description": maybe,
        "status": maybe | st.sampled_from(["draft", "published", "archived"]),
        "created_at": dates,
        "updated_at": dates,
        "published_at": dates,
        "salary": st.none() | st.dictionaries(st.sampled_from(["min", "max", "currency"]), maybe),
        "office": st.none() | st.dictionaries(st.sampled_from(["name", "city", "id"]), maybe),
        "office_id": maybe,
        "department_id": maybe,
        "contract_type": maybe,
        "websites": st.none()
        | st.lists(st.dictionaries(st.sampled_from(["url", "name", "reference"]), maybe)),
        "stages": st.none()
        | st.lists(stage_items, max_size=6, unique_by=lambda s: str(s["id"]))
        | maybe,
        "brand_new_field": maybe,
    },
)


@given(job_payloads)
def test_any_job_maps_deterministically_or_raises_mapping_error(payload: dict) -> None:
    try:
        first = map_job(payload, CTX)
    except MappingError:
        return
    assert first == map_job(payload, CTX)
    job = first.job
    assert Job.model_validate_json(job.model_dump_json()) == job
    assert job.id == CTX.ids.job_id(job.remote_id or "")
    orders = [s.stage_order for s in first.stages if s.stage_order is not None]
    assert orders == list(range(1, len(orders) + 1))
    assert len({s.id for s in first.stages}) == len(first.stages)
    for stage in first.stages:
        assert JobInterviewStage.model_validate_json(stage.model_dump_json()) == stage
        assert stage.job == job.id
    for moment in (job.remote_created_at, job.remote_updated_at):
        assert moment is None or moment.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


candidate_payloads = st.fixed_dictionaries(
    {"reference": st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and ":" not in s)},
    optional={
        "created_at": dates,
        "origin": maybe,
        "referrer": maybe,
        "archived": maybe,
        "stage": st.none() | stage_items | maybe,
        "profile": st.none() | st.dictionaries(st.sampled_from(["firstname", "email"]), maybe),
    },
)


@given(st.data(), candidate_payloads, st.lists(stage_items, min_size=1, max_size=5), ids)
def test_an_application_points_at_the_ids_its_job_mapping_gives(
    data: st.DataObject, candidate: dict, stages: list, job_reference: Any
) -> None:
    unique_stages = list({str(s["id"]): s for s in stages}.values())
    stage = data.draw(st.sampled_from(unique_stages))
    payload = {**candidate, "job_reference": job_reference, "stage_id": stage["id"]}
    try:
        job = map_job({"reference": job_reference, "stages": unique_stages}, CTX)
    except MappingError:
        return  # e.g. a stage id that is no id (a bool)
    record = map_candidate(payload, CTX)
    assert record == map_candidate(payload, CTX)  # deterministic
    (application,) = record.applications
    assert Application.model_validate_json(application.model_dump_json()) == application
    assert record.candidate.applications == [application.id]
    assert application.job == job.job.id
    assert application.current_stage in {s.id for s in job.stages}
    listed = map_candidate(payload, CTX, job=JobInfo(str(job.job.remote_id), None))
    assert listed.applications[0].content() == application.content()  # every shape alike
