"""viasto mapping: documented fixtures, credentials never leave, properties."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.base import IdScope, MappingContext
from connectors.viasto.mapping import MappingError, field_errors, map_candidate, split_remote_id
from schemas import AttachmentType, UrlType
from tests.conftest import vendor_fixture

CTX = MappingContext(
    ids=IdScope(uuid.UUID(int=5)),
    observed_at=datetime(2026, 1, 1, tzinfo=UTC),
    company_name="ACME GmbH",
    default_phone_region="DE",
)
CREDENTIALS = ("interview_key", "activation_key")


def test_documented_list_items() -> None:
    envelope = vendor_fixture("viasto_project_candidates_list.documented_plus_inferred.json")
    first, second = (
        map_candidate(o, CTX, project_name="Sales Manager") for o in envelope["objects"]
    )
    c = first.candidate
    assert c.remote_id == "14/521"
    assert (c.first_name, c.last_name, c.title, c.company) == (
        "Francisco",
        "Assis",
        "Sales Manager",
        "ACME GmbH",
    )
    assert c.locations == ["Friedrichstraße 10, 10117 Berlin"]
    assert c.phone_numbers == ["+49301234567"]
    assert c.last_interaction_at == datetime(2016, 11, 3, 10, 12, tzinfo=UTC)
    assert c.remote_created_at is None and c.remote_updated_at is None  # viasto has no timestamps
    assert c.urls is not None and c.urls[0].type is UrlType.OTHER
    assert c.custom_fields is not None
    assert (
        c.custom_fields["status"] == "interviewed"
        and c.custom_fields["evaluation_status"] == "partial"
    )
    assert c.custom_fields["deadline"] == "2016-11-08T22:59:00Z"
    assert (
        c.avatar
        == "https://interview-suite.com/api/v3/companies/4/projects/14/candidates/521/photo/"
    )
    [cv] = first.attachments
    assert cv.attachment_type is AttachmentType.RESUME and cv.remote_id == "14/521:cv"
    # Empty strings mean none: no avatar, no CV, no phone, no address.
    empty = second.candidate
    assert (
        empty.avatar is None
        and second.attachments == ()
        and empty.phone_numbers == []
        and empty.locations == []
    )
    assert empty.custom_fields is not None and "username" not in empty.custom_fields


@pytest.mark.parametrize(
    "fixture",
    [
        "viasto_project_candidates_list.documented_plus_inferred.json",
        "viasto_whoami_candidate.documented_truncated.json",
    ],
)
def test_candidate_credentials_never_appear_in_mapped_output(fixture: str) -> None:
    data = vendor_fixture(fixture)
    objects = data.get("objects", [data])
    for payload in objects:
        secrets = [payload[k] for k in CREDENTIALS if k in payload]
        record = map_candidate(payload, CTX)
        dumped = json.dumps(
            [
                record.candidate.model_dump(mode="json"),
                *[a.model_dump(mode="json") for a in record.attachments],
            ]
        )
        for key in CREDENTIALS:
            assert key not in dumped
        for secret in secrets:
            assert secret not in dumped


def test_time_limited_file_tokens_are_redacted_from_raw_data() -> None:
    payload = vendor_fixture("viasto_project_candidates_list.documented_plus_inferred.json")[
        "objects"
    ][0]
    raw = map_candidate(payload, CTX).candidate.raw_data
    assert raw is not None
    assert "a76b5e78cd3" not in json.dumps(raw) and "9f2c1e77b0a" not in json.dumps(raw)
    assert raw["photo"].endswith("/photo/[redacted]/")


def test_error_bodies() -> None:
    assert field_errors({"username": ["This field is required."]}) == (
        None,
        {"username": ["This field is required."]},
    )
    assert field_errors({"detail": "JSON parse error"}) == ("JSON parse error", {})


def test_remote_ids() -> None:
    assert split_remote_id("14/521") == ("14", "521")
    with pytest.raises(MappingError):
        split_remote_id("521")
    with pytest.raises(MappingError):
        map_candidate({"resource_uri": "https://x/api/v3/companies/4/"}, CTX)


text_or_empty = st.none() | st.just("") | st.text(max_size=15)
payloads = st.builds(
    lambda project, candidate, extra: {
        "resource_uri": f"https://acme.interview-suite.com/api/v3/companies/4/projects/{project}/candidates/{candidate}/",
        **extra,
    },
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.fixed_dictionaries(
        {},
        optional={
            "first_name": text_or_empty,
            "last_name": text_or_empty,
            "email": text_or_empty,
            "phone": text_or_empty,
            "address": text_or_empty,
            "status": text_or_empty,
            "photo": st.sampled_from(
                ["", "https://h/api/v3/companies/4/projects/1/candidates/2/photo/abc123/"]
            ),
            "cv": st.sampled_from(
                ["", None, "https://h/api/v3/companies/4/projects/1/candidates/2/cv/xyz789/"]
            ),
            "invitationdate": st.none()
            | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
            "interviewdate": text_or_empty,
            "interview_key": st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
            "activation_key": st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
            "partner_data": st.dictionaries(st.text(max_size=3), st.integers()),
        },
    ),
)


@given(payloads)
def test_any_payload_maps_deterministically_without_credentials(payload: dict) -> None:
    first = map_candidate(payload, CTX)
    assert first == map_candidate(payload, CTX)
    raw = first.candidate.raw_data or {}
    assert set(raw) == set(payload) - {"interview_key", "activation_key"}
    dumped = first.candidate.model_dump_json()
    for key in ("interview_key", "activation_key"):
        if payload.get(key):
            assert payload[key] not in dumped
