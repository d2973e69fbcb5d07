"""Flatchr mapping: documented fixtures and properties over generated payloads."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.flatchr.dates import parse_flatchr_date
from connectors.flatchr.mapping import (
    CATALOG_KEY,
    MappingError,
    build_catalog,
    catalog_of,
    cv_location,
    job_status,
    map_applicant_row,
    map_vacancy,
    map_webhook,
    pipeline,
    split_cv_remote_id,
)
from connectors.sdk.base import IdScope, MappingContext
from schemas import AttachmentType, Job, JobStatus, UrlType
from tests.conftest import vendor_fixture

OBSERVED = datetime(2026, 1, 1, tzinfo=UTC)
CTX = MappingContext(
    ids=IdScope(uuid.UUID(int=7)),
    observed_at=OBSERVED,
    company_name="Pinguin Limited",
    default_phone_region="FR",
)


def test_documented_search_row() -> None:
    [row] = vendor_fixture("flatchr_search_applicants_response.documented.json")
    record = map_applicant_row(row, CTX)
    c = record.candidate
    assert c.remote_id == "z7gWQnjXG77hJRak"
    assert (c.first_name, c.last_name) == ("Juliette", "larfoillou")  # never re-cased
    assert c.email_addresses == ["larfoillou.j@gmail.com"]
    assert c.phone_numbers == ["+33637898757"]
    assert c.title == "Ingénieur Développement  H/F"
    assert c.company == "Pinguin Limited"
    assert c.remote_created_at == datetime(2021, 11, 9, tzinfo=UTC)  # DD/MM/YY
    # "" external_id dropped; `source` is a search-row-only field: raw_data keeps it
    assert c.custom_fields == {"stage": "Recruté"}
    assert c.raw_data is not None and c.raw_data["source"] == "L'Apec"
    assert c.raw_data == row
    assert c.attachments == [] and record.attachments == ()
    assert c.id == CTX.ids.candidate_id("z7gWQnjXG77hJRak")


def test_current_fields_row_maps_stage_score_hired_archive() -> None:
    rows = vendor_fixture("flatchr_search_applicants_response.current_fields_inferred_values.json")
    hired = map_applicant_row(rows[1], CTX).candidate
    assert hired.custom_fields is not None
    assert hired.custom_fields["hired"] is True
    assert hired.custom_fields["archived"] is True  # status 0
    assert hired.custom_fields["score"] == 3
    assert hired.remote_updated_at == datetime(2022, 2, 16, tzinfo=UTC)


def test_documented_webhook_gives_candidate_and_cv() -> None:
    payload = vendor_fixture("flatchr_webhook_new_applicant.converted.json")
    record = map_webhook(payload, CTX)
    c = record.candidate
    assert c.remote_id == "G6KzqPkNZ0n31m0l"  # the encoded applicant id, as in search rows
    assert c.company == "Hopital de la Timone"
    assert c.title == "Chirurgien"
    assert c.urls is not None and c.urls[0].type is UrlType.LINKEDIN
    assert c.phone_numbers == ["+33654342384"]
    assert c.custom_fields is not None and c.custom_fields["stage"] == "Nouveaux candidats"
    [cv] = record.attachments
    assert cv.attachment_type is AttachmentType.RESUME
    assert cv.file_name == "duboneau-pauline.pdf"
    assert cv.content_type == "application/pdf"
    assert cv.candidate == c.id and c.attachments == [cv.id]
    # Its dates come in webhooks only (search rows never give them): kept in raw_data.
    assert cv.remote_created_at is None and cv.raw_data["created_at"]
    assert cv.file_url is None


def test_documented_cv_object_and_presigned_signature_is_redacted() -> None:
    cv = cv_location(vendor_fixture("flatchr_cv_object.documented.json"))
    assert cv is not None and cv.remote_id.endswith("ivern-elsa.pdf")
    assert split_cv_remote_id(cv.remote_id) == (cv.key, "pdf")
    move = vendor_fixture("flatchr_applicant_move_response.documented.json")
    aws = cv_location(aws=move["candidate"]["aws"])
    assert aws is not None and aws.file_name == "alexandre-andrieux.pdf"
    assert "X-Amz-Signature" not in str(aws.raw)
    assert "signature" in aws.raw  # the key is kept, its value hidden


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event": "new_message", "data": {}},
        {"event": "new_applicant"},
        {"event": "new_applicant", "data": {"applicant": {}, "candidate": {}}},
        [],
    ],
)
def test_unusable_webhooks_raise_mapping_error(payload: object) -> None:
    with pytest.raises(MappingError):
        map_webhook(payload, CTX)  # type: ignore[arg-type]


def test_row_without_applicant_id_is_rejected() -> None:
    with pytest.raises(MappingError):
        map_applicant_row({"firstname": "x"}, CTX)


# --- properties -------------------------------------------------------------------------------

scalars = st.none() | st.text(max_size=12) | st.integers(-5, 10**10) | st.booleans()
dates = (
    st.none()
    | st.sampled_from(["09/11/21", "31/02/22", "", "n/a"])
    | st.integers(0, 4 * 10**9)
    | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
)
rows = st.fixed_dictionaries(
    {"applicant": st.text(min_size=1, max_size=16).filter(str.strip) | st.integers(1, 10**9)},
    optional={
        "vacancy": scalars,
        "column": scalars,
        "vacancy_id": scalars,
        "external_id": scalars,
        "status": scalars,
        "score": scalars,
        "hired": scalars,
        "firstname": scalars,
        "lastname": scalars,
        "email": scalars,
        "phone": scalars,
        "created_at": dates,
        "updated_at": dates,
        "source": scalars,
        "candidate": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "id": scalars,
                "urls": st.dictionaries(st.sampled_from(["linkedin", "twitter", "x"]), scalars),
                "aws": st.fixed_dictionaries({"key": scalars, "extension": scalars}),
                "consent": st.booleans() | st.lists(st.dictionaries(st.text(max_size=3), scalars)),
            },
        ),
        "unexpected_new_field": scalars,
    },
)


@given(rows)
def test_any_row_maps_and_mapping_is_deterministic(row: dict) -> None:
    first = map_applicant_row(row, CTX)
    assert first == map_applicant_row(row, CTX)
    assert first.candidate.remote_id == str(row["applicant"]).strip()


@given(rows)
def test_no_key_of_the_vendor_payload_is_lost_from_raw_data(row: dict) -> None:
    raw = map_applicant_row(row, CTX).candidate.raw_data
    assert raw is not None and set(raw) == set(row)
    if isinstance(row.get("candidate"), dict):
        assert set(raw["candidate"]) == set(row["candidate"])


@given(st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date()))
def test_three_date_forms_give_the_same_utc_instant(day) -> None:
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC)
    forms = [
        day.strftime("%d/%m/%y"),
        int(instant.timestamp()),
        str(int(instant.timestamp())),
        instant.isoformat(),
        instant.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        (instant + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00",
    ]
    assert {parse_flatchr_date(form) for form in forms} == {instant}


# --- jobs, stages and applications ------------------------------------------------------------

COLUMNS_FIXTURE = "flatchr_columns_response.inferred.json"


def catalog_ctx(vacancies: Any, columns: Any) -> MappingContext:
    return MappingContext(
        ids=CTX.ids,
        observed_at=OBSERVED,
        company_name=CTX.company_name,
        default_phone_region="FR",
        extra={CATALOG_KEY: build_catalog(vacancies, columns)},
    )


def test_documented_vacancy_and_inferred_columns_give_a_job_and_its_stages() -> None:
    vacancy = vendor_fixture("flatchr_applicant_archive_response.documented_trimmed.json")[
        "vacancy"
    ]
    columns = vendor_fixture(COLUMNS_FIXTURE)
    record = map_vacancy(vacancy, pipeline(columns), CTX)
    job = record.job
    assert job.remote_id == "Vq5r6pYxam9AmMvP" and job.id == CTX.ids.job_id("Vq5r6pYxam9AmMvP")
    assert job.name == "Administrateur réseaux - Paris - CDI"
    assert job.code == "Administrateur réseaux - Paris - CDI"
    assert job.status == JobStatus.OPEN  # status 1
    assert job.remote_created_at == datetime(2022, 2, 1, 15, 42, 2, 261000, tzinfo=UTC)
    assert job.custom_fields == {
        "vacancy_id": 2403,
        "slug": "99w67mknkj7ydj1203-administrateur-reseaux-cdi-h-f",
        "language": "fr_FR",
    }
    assert job.job_posting_urls == [] and job.departments is None
    assert [s.name for s in record.stages] == ["Nouveaux candidats", "Recruté"]
    assert [s.stage_order for s in record.stages] == [1, 2]  # positions 1 and 6, ranked
    assert [s.remote_id for s in record.stages] == [
        "Vq5r6pYxam9AmMvP:1313",
        "Vq5r6pYxam9AmMvP:1314",
    ]
    assert all(s.job == job.id for s in record.stages)


def test_rows_find_their_job_and_stage_through_the_catalog() -> None:
    rows = vendor_fixture("flatchr_search_applicants_response.current_fields_inferred_values.json")
    vacancies = [{"id": "Vq5r6pYxam9AmMvP", "vacancy_id": 2403}]
    ctx = catalog_ctx(vacancies, vendor_fixture(COLUMNS_FIXTURE))
    hired = map_applicant_row(rows[1], ctx)
    [application] = hired.applications
    assert application.id == CTX.ids.application_id("V41QG9eja5pK6Xev")
    assert application.remote_id == hired.candidate.remote_id
    assert application.candidate == hired.candidate.id
    assert hired.candidate.applications == [application.id]
    assert application.job == CTX.ids.job_id("Vq5r6pYxam9AmMvP")
    assert application.current_stage == CTX.ids.stage_id("Vq5r6pYxam9AmMvP:1314")  # "Recruté"
    assert (application.archived, application.hired, application.score) == (True, True, 3.0)
    assert application.applied_at == datetime(2022, 2, 3, tzinfo=UTC)
    assert application.rejected_at is None and application.source is None
    assert application.raw_data is not None and application.raw_data["source"] == "Site carrière"
    assert "firstname" not in application.raw_data  # only the application's part of the row
    # "Entretien RH" is no column of that listing: the job is known, the stage is not.
    [unplaced] = map_applicant_row(rows[0], ctx).applications
    assert unplaced.job == application.job and unplaced.current_stage is None


def test_a_row_without_a_listed_vacancy_has_no_job() -> None:
    rows = vendor_fixture("flatchr_search_applicants_response.current_fields_inferred_values.json")
    [application] = map_applicant_row(rows[1], CTX).applications  # no catalog at all
    assert application.job is None and application.current_stage is None
    assert application.custom_fields == {"vacancy_id": 2403, "stage": "Recruté"}
    [documented] = vendor_fixture("flatchr_search_applicants_response.documented.json")
    assert map_applicant_row(documented, catalog_ctx([], [])).applications[0].job is None


def test_documented_webhook_gives_its_own_vacancy_and_column_ids() -> None:
    payload = vendor_fixture("flatchr_webhook_new_applicant.converted.json")
    [application] = map_webhook(payload, CTX).applications
    # Without a catalog: the encoded `data.vacancy_id` and `applicant.column.id`.
    assert application.job == CTX.ids.job_id("0LEZBvp5WWnMoVmg")
    assert application.current_stage == CTX.ids.stage_id("0LEZBvp5WWnMoVmg:643")
    assert application.applied_at == datetime(2022, 1, 13, tzinfo=UTC)  # to the day, as rows
    assert (application.archived, application.hired, application.score) == (False, False, 0.0)
    assert application.raw_data is not None and "candidate" not in application.raw_data
    # With a catalog, the listing's encoded id for the integer `vacancy.id` wins.
    ctx = catalog_ctx([{"id": "ListedId00000001", "vacancy_id": 1575}], [])
    assert map_webhook(payload, ctx).applications[0].job == CTX.ids.job_id("ListedId00000001")


def test_vacancy_status_table() -> None:
    assert [job_status(v) for v in (1, "1", " 1 ", 0, 2, "draft", None, True, {"a": 1})] == [
        "OPEN", "OPEN", "OPEN", "0", "2", "draft", None, None, None,
    ]  # fmt: skip


@pytest.mark.parametrize("vacancy", [None, [], "V1", {}, {"id": ""}, {"id": {"x": 1}}, {"id": 1.5}])
def test_unusable_vacancies_raise_mapping_error(vacancy: Any) -> None:
    with pytest.raises(MappingError):
        map_vacancy(vacancy, (), CTX)


# --- properties over jobs, stages and applications ---------------------------------------------

anything = st.recursive(
    scalars
    | st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
    | st.datetimes(timezones=st.just(UTC)).map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
odd_ids = (
    st.text(max_size=20)
    | st.integers(-(10**20), 10**20)
    | st.sampled_from(["", "  ", "²", "9" * 5000, "V000000000002403", "a/b?c#d"])
)
vacancies = st.fixed_dictionaries(
    {},
    optional={
        "id": odd_ids | anything,
        "vacancy_id": odd_ids | anything,
        "title": anything,
        "reference": anything,
        "description": anything,
        "status": anything,
        "apply_url": anything,
        "slug": anything,
        "created_at": dates | anything,
        "updated_at": dates | anything,
        "company": anything,
    },
)
columns = st.fixed_dictionaries(
    {},
    optional={
        "id": odd_ids | anything,
        "title": anything,
        "position": st.integers(-5, 10) | anything,
        "hired": anything,
        "visible": anything,
    },
)
listings = st.lists(vacancies | anything, max_size=6)
column_listings = st.lists(columns | anything, max_size=6) | anything


@given(listings, column_listings)
def test_any_listing_maps_to_jobs_or_mapping_errors_only(
    vacancy_list: Any, column_list: Any
) -> None:
    catalog = build_catalog(vacancy_list, column_list)
    ctx = catalog_ctx(vacancy_list, column_list)
    orders = [c.order for c in catalog.columns if c.order is not None]
    assert orders == list(range(1, len(orders) + 1))
    assert len({c.key for c in catalog.columns}) == len(catalog.columns)
    for vacancy in vacancy_list:
        try:
            record = map_vacancy(vacancy, catalog.columns, ctx)
        except MappingError:
            continue
        again = map_vacancy(vacancy, catalog.columns, ctx)
        assert record == again  # deterministic
        job = record.job
        assert job.id == CTX.ids.job_id(job.remote_id or "")
        assert [s.remote_id for s in record.stages] == [
            f"{job.remote_id}:{c.key}" for c in catalog.columns
        ]
        assert len({s.id for s in record.stages}) == len(record.stages)
        assert Job.model_validate_json(job.model_dump_json()) == job


placed_rows = st.fixed_dictionaries(
    {
        "applicant": st.text(min_size=1, max_size=16).filter(str.strip),
        "vacancy_id": st.integers(0, 10**6) | st.integers(0, 10**6).map(str),
        "column": st.text(max_size=12),
    },
    optional={"status": scalars, "score": scalars | st.floats(allow_nan=False), "hired": scalars},
)


@given(
    placed_rows,
    st.text(min_size=1, max_size=16).filter(str.strip),
    st.integers(-(10**6), 10**6) | st.text(min_size=1, max_size=8).filter(str.strip),
    st.integers(1, 8),
)
def test_applications_point_at_the_ids_the_job_mapping_gives(
    row: dict, encoded: str, column_id: Any, position: int
) -> None:
    number = int(row["vacancy_id"])
    listing = [{"id": encoded, "vacancy_id": number, "title": "x"}]
    column_list = [{"id": column_id, "title": row["column"], "position": position}]
    ctx = catalog_ctx(listing, column_list)
    [application] = map_applicant_row(row, ctx).applications
    job = map_vacancy(listing[0], catalog_of(ctx).columns, ctx)
    assert application.job == job.job.id
    if row["column"].strip():
        assert application.current_stage == job.stages[0].id
    else:
        assert application.current_stage is None
    assert application.id == CTX.ids.application_id(row["applicant"].strip())


webhook_data = st.fixed_dictionaries(
    {"applicant": st.fixed_dictionaries({"id": odd_ids}, optional={"column": anything})},
    optional={
        "candidate": anything,
        "vacancy": anything,
        "vacancy_id": odd_ids | anything,
        "column": odd_ids | anything,
        "cv": anything,
        "company": anything,
    },
)


@given(webhook_data, st.sampled_from(["new_applicant", "drag_applicant"]))
def test_any_webhook_maps_or_raises_mapping_error_only(data: dict, event: str) -> None:
    data.setdefault("candidate", {})
    try:
        record = map_webhook({"event": event, "data": data}, catalog_ctx([], []))
    except MappingError:
        return
    [application] = record.applications
    assert application.remote_id == record.candidate.remote_id
    assert record.candidate.applications == [application.id]
    if application.current_stage is not None:
        assert application.job is not None
