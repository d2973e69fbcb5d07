"""Flatchr mapping: documented fixtures and properties over generated payloads."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.flatchr.dates import parse_flatchr_date
from connectors.flatchr.mapping import (
    MappingError,
    cv_location,
    map_applicant_row,
    map_webhook,
    split_cv_remote_id,
)
from connectors.sdk.base import IdScope, MappingContext
from schemas import AttachmentType, UrlType
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
