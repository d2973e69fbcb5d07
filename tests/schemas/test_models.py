"""The common model: Bindbee's example, open enums, UTC datetimes, JSON round trips."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from schemas import Attachment, AttachmentType, Candidate, Page, Url, UrlType

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_bindbee_example_validates_and_serializes_back_to_equal_json() -> None:
    example = json.loads((FIXTURES / "bindbee_candidate_example.json").read_text())
    candidate = Candidate.model_validate(example)
    dumped = candidate.model_dump(mode="json")
    dumped.pop("remote_was_deleted")  # our one additive field
    assert dumped == example


def test_every_bindbee_field_is_present_even_when_null() -> None:
    example = json.loads((FIXTURES / "bindbee_candidate_example.json").read_text())
    bare = Candidate(id=example["id"], modified_at=example["modified_at"])
    assert set(example) <= set(bare.model_dump(mode="json"))
    assert bare.model_dump(mode="json")["first_name"] is None


def test_unknown_enum_values_pass_through_as_strings() -> None:
    url = Url(type="MASTODON", value="https://example.social/@x")
    assert url.type == "MASTODON"
    known = Url(type="LINKEDIN", value="https://linkedin.com/in/x")
    assert known.type is UrlType.LINKEDIN
    attachment = Attachment(
        id="018b4bfb-5ece-70b1-ad5e-862a9433aa65",
        modified_at=datetime(2024, 1, 1, tzinfo=UTC),
        attachment_type="VIDEO_INTERVIEW",
    )
    assert json.loads(attachment.model_dump_json())["attachment_type"] == "VIDEO_INTERVIEW"


def test_naive_datetime_is_taken_as_utc_and_offsets_are_converted() -> None:
    naive = Candidate(id="018b18ef-c487-703c-afd9-0ca478ccd9d6", modified_at="2021-10-16T10:00:00")
    assert naive.model_dump(mode="json")["modified_at"] == "2021-10-16T10:00:00Z"
    offset = Candidate(
        id="018b18ef-c487-703c-afd9-0ca478ccd9d6", modified_at="2016-08-23T12:55:27.206+02:00"
    )
    assert offset.model_dump(mode="json")["modified_at"] == "2016-08-23T10:55:27.206000Z"


def test_page_envelope_shape() -> None:
    page = Page[Candidate](cursor=None, page_size=50, items=[])
    assert page.model_dump(mode="json") == {"cursor": None, "page_size": 50, "items": []}


# --- properties -------------------------------------------------------------------------------

aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9))]),
)
maybe_text = st.none() | st.text(max_size=20)
enum_or_free = st.sampled_from([*UrlType, "MASTODON", "github", ""]) | st.text(max_size=8)

candidates = st.builds(
    Candidate,
    id=st.uuids(),
    remote_id=maybe_text,
    modified_at=aware_datetimes,
    raw_data=st.none() | st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)),
    custom_fields=st.none() | st.dictionaries(st.text(max_size=5), st.booleans() | st.none()),
    first_name=maybe_text,
    last_name=maybe_text,
    company=maybe_text,
    title=maybe_text,
    last_interaction_at=st.none() | aware_datetimes,
    is_private=st.none() | st.booleans(),
    can_email=st.none() | st.booleans(),
    locations=st.none() | st.lists(st.text(max_size=10), max_size=3),
    phone_numbers=st.none() | st.lists(st.text(max_size=10), max_size=3),
    email_addresses=st.none() | st.lists(st.emails(), max_size=3),
    urls=st.none()
    | st.lists(
        st.builds(Url, type=st.none() | enum_or_free, value=st.text(max_size=20)), max_size=3
    ),
    tags=st.none() | st.lists(st.text(max_size=10), max_size=3),
    applications=st.none() | st.lists(st.uuids(), max_size=2),
    attachments=st.none() | st.lists(st.uuids(), max_size=2),
    remote_created_at=st.none() | aware_datetimes,
    remote_updated_at=st.none() | aware_datetimes,
    avatar=maybe_text,
    remote_was_deleted=st.booleans(),
)

attachments = st.builds(
    Attachment,
    id=st.uuids(),
    remote_id=maybe_text,
    modified_at=aware_datetimes,
    file_name=maybe_text,
    file_url=maybe_text,
    attachment_type=st.none() | st.sampled_from([*AttachmentType]) | st.text(max_size=12),
    candidate=st.none() | st.uuids(),
    content_type=maybe_text,
    size=st.none() | st.integers(min_value=0, max_value=2**40),
    remote_created_at=st.none() | aware_datetimes,
)


@given(candidates)
def test_any_candidate_round_trips_through_json(candidate: Candidate) -> None:
    assert Candidate.model_validate_json(candidate.model_dump_json()) == candidate


@given(attachments)
def test_any_attachment_round_trips_through_json(attachment: Attachment) -> None:
    assert Attachment.model_validate_json(attachment.model_dump_json()) == attachment


@given(candidates)
def test_datetimes_always_come_out_in_utc(candidate: Candidate) -> None:
    dumped = candidate.model_dump(mode="json")
    for field in ("modified_at", "last_interaction_at", "remote_created_at", "remote_updated_at"):
        value = dumped[field]
        if value is not None:
            assert value.endswith("Z")
            assert datetime.fromisoformat(value).utcoffset() == timedelta(0)


@given(st.text(max_size=30))
def test_url_type_never_fails_validation(value: str) -> None:
    assert Url(type=value, value="x").type == value
