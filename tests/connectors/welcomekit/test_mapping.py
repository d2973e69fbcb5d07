"""Welcome Kit mapping: documented fixtures and properties."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.base import IdScope, MappingContext
from connectors.welcomekit.mapping import JobInfo, MappingError, map_candidate, parse_attachment_id
from schemas import AttachmentType, UrlType
from tests.conftest import vendor_fixture

CTX = MappingContext(
    ids=IdScope(uuid.UUID(int=3)),
    observed_at=datetime(2026, 1, 1, tzinfo=UTC),
    company_name="Welcome to the Jungle",
    default_phone_region="FR",
)
JOB = JobInfo("WTTJ_KmqkD1Y", "Développeur backend")


def test_documented_candidate() -> None:
    payload = vendor_fixture("welcomekit_candidate_retrieve.documented.json")
    documents = vendor_fixture("welcomekit_documents_list.documented.json")
    record = map_candidate(payload, CTX, job=JOB, documents=documents)
    c = record.candidate
    assert c.remote_id == "wttj-d655345409a6097309156b05"
    assert (c.first_name, c.last_name, c.email_addresses) == ("Foo", "Bar", ["test@example.com"])
    assert c.title == "Développeur backend" and c.company == "Welcome to the Jungle"
    assert c.avatar is None  # the default placeholder avatar
    assert c.tags == ["ruby", "react", "go", "elixir", "react native"]
    assert c.remote_created_at == datetime(2016, 8, 23, 10, 55, 27, 206000, tzinfo=UTC)
    assert c.urls is not None and c.urls[0].type is UrlType.PORTFOLIO
    assert c.custom_fields is not None
    assert c.custom_fields["stage"] == "Refusé" and c.custom_fields["stage_reference"] == "refused"
    assert c.custom_fields["origin"] == "external" and c.custom_fields["archived"] is False
    assert "cover_letter" not in c.custom_fields  # "" is no cover letter
    kinds = {a.custom_fields["kind"]: a for a in record.attachments}  # type: ignore[index]
    resume = kinds["resume"]
    assert resume.attachment_type is AttachmentType.RESUME
    assert (resume.content_type, resume.size, resume.file_name) == (
        "application/pdf",
        4242,
        "resume.pdf",
    )
    assert kinds["portfolio"].file_name == "porfolio.pdf"
    document = kinds["document"]
    assert document.file_name == "example.pdf"  # extension derived from the content type
    assert document.remote_id == "wttj-d655345409a6097309156b05:document:20"
    assert c.attachments == [a.id for a in record.attachments]


def test_inferred_second_candidate_location_subtitle_referrer() -> None:
    payload = vendor_fixture("welcomekit_candidates_list.inferred_values.json")[1]
    c = map_candidate(payload, CTX, job=JOB).candidate
    assert c.locations == ["12 rue de la Paix, 75002 Paris, France"]
    assert c.avatar == "https://cdn.welcomekit.example/avatars/claire.png"
    assert c.phone_numbers == ["+33606060606"]
    assert c.custom_fields is not None
    assert c.custom_fields["subtitle"] == "Product Manager @ Acme"
    assert c.custom_fields["referrer"] == "www.linkedin.com"
    assert c.custom_fields["cover_letter"].startswith("Bonjour")
    assert c.remote_updated_at == datetime(2021, 3, 5, 16, 40, 11, 2000, tzinfo=UTC)


def test_a_resume_also_listed_in_documents_is_kept_once() -> None:
    payload = vendor_fixture("welcomekit_candidate_retrieve.documented.json")
    copy = {
        "id": 7,
        "filename": "resume",
        "file_url": payload["resume_url"],
        "size": 4242,
        "content_type": "application/pdf",
    }
    same_by_size = {**copy, "id": 8, "file_url": "http://cdn.com/other-url.pdf"}
    record = map_candidate(payload, CTX, job=JOB, documents=[copy, same_by_size])
    assert [a.custom_fields["kind"] for a in record.attachments] == ["resume", "portfolio"]  # type: ignore[index]


def test_attachment_ids_round_trip() -> None:
    assert parse_attachment_id("wttj-1:resume") == ("wttj-1", "resume", None)
    assert parse_attachment_id("wttj-1:document:20") == ("wttj-1", "document", "20")
    with pytest.raises(MappingError):
        parse_attachment_id("wttj-1")


maybe = st.none() | st.text(max_size=12) | st.integers() | st.booleans()
payloads = st.fixed_dictionaries(
    {"reference": st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and ":" not in s)},
    optional={
        "cover_letter": maybe,
        "created_at": maybe | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
        "updated_at": maybe,
        "job_reference": maybe,
        "resume_url": st.none() | st.just("") | st.just("https://cdn.example/r/cv.pdf"),
        "resume_size": maybe,
        "resume_content_type": maybe,
        "portfolio_url": st.none() | st.just("https://cdn.example/p.pdf"),
        "stage": st.none() | st.fixed_dictionaries({"name": maybe, "reference": maybe}),
        "tags": st.none() | st.lists(maybe, max_size=3),
        "profile": st.none()
        | st.dictionaries(
            st.sampled_from(
                [
                    "firstname",
                    "lastname",
                    "email",
                    "phone",
                    "city",
                    "zip_code",
                    "avatar_url",
                    "country_code",
                ]
            ),
            maybe,
        ),
        "archived": maybe,
        "brand_new_field": maybe,
    },
)


@given(payloads)
def test_any_payload_maps_deterministically_and_keeps_every_key(payload: dict) -> None:
    first = map_candidate(payload, CTX, job=JOB)
    assert first == map_candidate(payload, CTX, job=JOB)
    assert set(first.candidate.raw_data or {}) == set(payload)
    for moment in (first.candidate.remote_created_at, first.candidate.remote_updated_at):
        assert moment is None or moment.utcoffset().total_seconds() == 0
