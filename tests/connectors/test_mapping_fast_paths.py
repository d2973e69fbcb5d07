"""The mappings' fast paths give exactly what the reference path gives.

``validated()`` builds models without a second pydantic pass, ``_uuid5`` hashes without
``uuid.uuid5``'s overhead and phone numbers are cached: for wide vendor payloads (odd phones,
odd dates, odd ids, secrets in raw data), each mapping must produce the same records as when
every model is validated by pydantic (``reference_models()``), with the same ids, E.164 phones,
dates and redactions. Behaviour only: no test here measures speed.
"""

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import to_json

from connectors.flatchr.emulator.app import FlatchrEmulator
from connectors.flatchr.mapping import (
    CATALOG_KEY,
    build_catalog,
    map_applicant,
    map_applicant_row,
    map_webhook,
)
from connectors.sdk.base import (
    CandidateRecord,
    IdScope,
    MappingContext,
    SourceDigester,
    _uuid5,
    reference_models,
    source_digest,
    validated,
)
from connectors.sdk.normalize import _e164, phone, phone_cache_clear
from connectors.viasto.emulator import ViastoEmulator
from connectors.viasto.mapping import map_candidate as viasto_candidate
from connectors.welcomekit.emulator import WelcomeKitEmulator
from connectors.welcomekit.mapping import JobInfo
from connectors.welcomekit.mapping import map_candidate as welcomekit_candidate
from schemas import Application, Attachment, AttachmentType, Candidate, Url, UrlType

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCOPE = IdScope(uuid.UUID("0f6b6f4e-62d5-4f0a-9a53-6e1b0c2a7d11"))

# --- wide vendor values ----------------------------------------------------------------------

phones = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "n/c", "+33 6 12 34 56 78", "06 12 34 56 78", "+336123", "0033"]),
    st.from_regex(r"\A[+(]?[0-9 .()-]{0,18}\Z"),
    st.text(max_size=20),
    st.integers(min_value=-(10**12), max_value=10**14),
)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
)
iso_texts = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.none() | zones
).map(lambda moment: moment.isoformat())
dates = st.one_of(
    st.none(),
    st.booleans(),
    iso_texts,
    iso_texts.map(lambda text: text.replace("+00:00", "Z")),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)).map(
        lambda day: day.strftime("%d/%m/%y")
    ),
    st.from_regex(r"\A ?[0-9]{1,2}/[0-9]{1,2}/([0-9]{2}|[0-9]{4}) ?\Z"),
    st.integers(min_value=-(10**11), max_value=10**11),
    st.integers(min_value=0, max_value=4 * 10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "31/02/21", "00/00/00", "²³", "2021-13-01", "1" * 30, "2021-01-01z"]),
    st.text(max_size=25),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def outcome(mapping: Callable[[], CandidateRecord]) -> CandidateRecord | str:
    """The record, or "refused" (what ``map_each`` quarantines: pydantic's ValidationError is a
    ValueError, so a value the reference refuses and the fast path let through shows here)."""
    try:
        return mapping()
    except (ValueError, TypeError, KeyError):
        return "refused"


def assert_same(fast: CandidateRecord | str, reference: CandidateRecord | str) -> None:
    if isinstance(fast, str) or isinstance(reference, str):
        assert fast == reference
        return
    pairs = [(fast.candidate, reference.candidate)]
    assert len(fast.attachments) == len(reference.attachments)
    assert len(fast.applications) == len(reference.applications)
    pairs += list(zip(fast.attachments, reference.attachments, strict=True))
    pairs += list(zip(fast.applications, reference.applications, strict=True))
    for built, checked in pairs:
        assert type(built) is type(checked)
        assert built == checked
        assert built.model_dump_json() == checked.model_dump_json()
        assert built.content() == checked.content()
        assert built.model_fields_set == checked.model_fields_set
        assert list(built.__dict__) == list(checked.__dict__)  # field order: JSON key order
        for name, value in built.__dict__.items():
            assert type(value) is type(checked.__dict__[name]), name
        # The reference re-validates to itself: the fast model holds nothing pydantic changes.
        assert type(checked).model_validate(built.model_dump()) == built
    for url in fast.candidate.urls or []:
        assert type(url) is Url


def both_paths(mapping: Callable[[], CandidateRecord]) -> None:
    fast = outcome(mapping)
    with reference_models():
        reference = outcome(mapping)
    phone_cache_clear()
    uncached = outcome(mapping)  # the phone cache changes nothing either
    assert_same(fast, reference)
    assert_same(uncached, reference)


def ctx(region: str | None, **extra: Any) -> MappingContext:
    return MappingContext(
        ids=SCOPE,
        observed_at=datetime(2026, 12, 3, 7, 30, tzinfo=UTC),
        company_name="ACME",
        default_phone_region=region,
        extra=extra,
    )


# --- ids ----------------------------------------------------------------------------------------


@given(namespace=st.uuids(), name=st.text(max_size=60))
def test_fast_uuid5_is_uuid5_byte_for_byte(namespace: uuid.UUID, name: str) -> None:
    built, reference = _uuid5(namespace.bytes, name), uuid.uuid5(namespace, name)
    assert built == reference
    assert built.bytes == reference.bytes and str(built) == str(reference)
    assert built.version == 5 and built.variant == reference.variant
    assert built.is_safe == reference.is_safe and hash(built) == hash(reference)
    assert type(built) is uuid.UUID
    assert copy.deepcopy(built) == reference and uuid.UUID(str(built)) == reference


@given(namespace=st.uuids(), remote_id=st.text(max_size=40))
def test_id_scope_ids_are_uuid5_of_kind_and_remote_id(namespace: uuid.UUID, remote_id: str) -> None:
    scope = IdScope(namespace)
    assert scope.candidate_id(remote_id) == uuid.uuid5(namespace, f"candidate:{remote_id}")
    assert scope.attachment_id(remote_id) == uuid.uuid5(namespace, f"attachment:{remote_id}")
    assert scope.application_id(remote_id) == uuid.uuid5(namespace, f"application:{remote_id}")
    assert scope.job_id(remote_id) == uuid.uuid5(namespace, f"job:{remote_id}")
    assert scope.stage_id(remote_id) == uuid.uuid5(namespace, f"stage:{remote_id}")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(salt=st.binary(max_size=300), payloads=st.lists(JSON_VALUES, min_size=1, max_size=4))
def test_source_digester_gives_the_digest_stored_before(salt: bytes, payloads: list[Any]) -> None:
    """Hashing the salt once must give what hashing salt and payload together gave: stored
    digests stay valid (or every record would be mapped again), and no payload's digest
    depends on the payloads digested before it."""
    digester = SourceDigester(salt)
    for payload in payloads:
        expected = hashlib.blake2b(salt + to_json(payload), digest_size=20).hexdigest()
        assert digester(payload) == expected == source_digest(salt, payload)


def test_source_digest_stays_what_it_was() -> None:
    """A pinned value: digests stored by earlier versions must not move."""
    digest = "a85c8999d9765bb26381b2f1e934c92b56e3afbd"
    assert source_digest(b"salt", {"id": 1, "name": "Zoé"}) == digest


def test_ids_stay_what_they_were() -> None:
    """Pinned values: the ids stored by earlier versions must not move."""
    scope = IdScope.for_account("flatchr", "https://api.flatchr.io")
    assert scope.namespace == uuid.uuid5(
        uuid.UUID("5b0b2d6e-8f3e-4b8a-9d0e-2a6f1c3e7d41"), "flatchr:https://api.flatchr.io"
    )
    assert str(SCOPE.candidate_id("vpMg4LlW5eGNqozQ")) == str(
        uuid.uuid5(SCOPE.namespace, "candidate:vpMg4LlW5eGNqozQ")
    )


# --- phones -------------------------------------------------------------------------------------


@given(value=phones, region=st.sampled_from([None, "FR", "DE", "US", "ZZ"]))
def test_cached_phone_is_the_uncached_e164(value: Any, region: str | None) -> None:
    got = phone(value, default_region=region)
    if value is None or not str(value).strip():
        assert got is None
        return
    cleaned = str(value).strip()
    assert got == _e164.__wrapped__(cleaned, region)
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        assert got == cleaned
        return
    if phonenumbers.is_possible_number(parsed):
        assert got == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        assert got is not None and got.startswith("+")
    else:
        assert got == cleaned


# --- validated() --------------------------------------------------------------------------------


def test_validated_refuses_unknown_and_missing_fields() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(TypeError):
        validated(Attachment, id=uuid.uuid4(), modified_at=now, file_nam="typo")
    with pytest.raises(TypeError):
        validated(Attachment, modified_at=now)
    with reference_models(), pytest.raises(ValidationError):
        validated(Attachment, id=uuid.uuid4(), modified_at=now, file_nam="typo")


@given(
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
    naive=st.booleans(),
    raw=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
)
def test_validated_converts_datetimes_and_copies_dicts_as_pydantic_does(
    offset: int, naive: bool, raw: dict[str, Any]
) -> None:
    moment = datetime(2024, 2, 29, 23, 30, 15, 123456)
    moment = moment if naive else moment.replace(tzinfo=timezone(timedelta(minutes=offset)))
    fields = {
        "id": uuid.uuid4(),
        "modified_at": moment,
        "raw_data": raw,
        "attachment_type": AttachmentType.RESUME,
        "remote_created_at": moment,
    }
    built = validated(Attachment, **fields)
    reference = Attachment(**fields)
    assert built == reference and built.model_dump_json() == reference.model_dump_json()
    assert built.modified_at.tzinfo is UTC
    assert built.raw_data is not raw  # never shares the vendor payload
    assert built.model_fields_set == reference.model_fields_set
    with pytest.raises(ValidationError):  # still frozen
        built.__setattr__("file_name", "x")


def test_validated_nested_urls_match_pydantic() -> None:
    url = validated(Url, type=UrlType.LINKEDIN, value="https://linkedin.com/in/x")
    assert url == Url(type="LINKEDIN", value="https://linkedin.com/in/x")
    candidate = validated(
        Candidate, id=uuid.uuid4(), modified_at=datetime.now(UTC), urls=[url], applications=[]
    )
    assert Candidate.model_validate_json(candidate.model_dump_json()) == candidate
    application = validated(Application, id=uuid.uuid4(), modified_at=datetime.now(UTC))
    assert application.remote_was_deleted is False


# --- Flatchr ------------------------------------------------------------------------------------

_flatchr = FlatchrEmulator()
_company = _flatchr.add_company(company_id="FAST", api_key="k" * 20, name="Fast SA", size=40)
FLATCHR_CTX = ctx(
    "FR", **{CATALOG_KEY: build_catalog(_company.vacancy_listing(), _company.columns())}
)
ROWS = [_company.search_row(a, include_cv=True) for a in _company.applicants.values()]
APPLICANTS = [
    _company.applicant_object(a, archived_shape=n % 2 == 0)
    for n, a in enumerate(_company.applicants.values())
]
WEBHOOKS = [
    _flatchr.webhook_payload("FAST", a, "new_applicant" if n % 2 else "drag_applicant")
    for n, a in enumerate(_company.applicants)
]


@FAST
@given(
    index=st.integers(min_value=0, max_value=len(ROWS) - 1),
    row_phone=phones,
    person_phone=phones,
    created=dates,
    updated=dates,
    person_created=dates,
    score=scalars,
    hired=scalars,
    status=scalars,
    vacancy_id=scalars,
    signature=json_values,
    urls=json_values,
    extra=json_values,
    region=st.sampled_from([None, "FR", "BE"]),
)
def test_flatchr_row_fast_path_is_the_reference(
    index: int,
    row_phone: Any,
    person_phone: Any,
    created: Any,
    updated: Any,
    person_created: Any,
    score: Any,
    hired: Any,
    status: Any,
    vacancy_id: Any,
    signature: Any,
    urls: Any,
    extra: Any,
    region: str | None,
) -> None:
    row = copy.deepcopy(ROWS[index])
    person = row["candidate"]
    row |= {
        "phone": row_phone,
        "created_at": created,
        "updated_at": updated,
        "score": score,
        "hired": hired,
        "status": status,
        "vacancy_id": vacancy_id,
        "extra": extra,
    }
    person |= {"phone": person_phone, "created_at": person_created, "urls": urls}
    person.setdefault("aws", {"key": "candidates/x/cv", "extension": "pdf"})["signature"] = (
        signature
    )
    context = ctx(region, **FLATCHR_CTX.extra)
    both_paths(lambda: map_applicant_row(row, context))
    record = outcome(lambda: map_applicant_row(row, context))
    if isinstance(record, str):
        return
    hidden = "[redacted]" if signature else signature
    assert record.candidate.raw_data["candidate"]["aws"]["signature"] == hidden
    for attachment in record.attachments:  # the CV's raw data is the aws object
        assert attachment.raw_data["signature"] == hidden


@FAST
@given(
    index=st.integers(min_value=0, max_value=len(APPLICANTS) - 1),
    person_phone=phones,
    created=dates,
    updated=dates,
    column=scalars,
)
def test_flatchr_applicant_and_webhook_fast_paths_are_the_reference(
    index: int, person_phone: Any, created: Any, updated: Any, column: Any
) -> None:
    applicant = copy.deepcopy(APPLICANTS[index])
    applicant |= {"created_at": created, "updated_at": updated, "column_id": column}
    applicant["candidate"]["phone"] = person_phone
    both_paths(lambda: map_applicant(applicant, FLATCHR_CTX))
    webhook = copy.deepcopy(WEBHOOKS[index])
    webhook["data"]["applicant"] |= {"created_at": created, "updated_at": updated}
    webhook["data"]["candidate"]["phone"] = person_phone
    both_paths(lambda: map_webhook(webhook, FLATCHR_CTX))


def test_flatchr_signatures_never_reach_raw_data() -> None:
    for applicant in APPLICANTS:
        record = map_applicant(applicant, FLATCHR_CTX)
        aws = applicant["candidate"].get("aws")
        if aws:
            assert aws["signature"] not in json.dumps(record.candidate.raw_data)
            assert record.candidate.raw_data["candidate"]["aws"]["signature"] == "[redacted]"


# --- Welcome Kit --------------------------------------------------------------------------------

_wk = WelcomeKitEmulator()
_org = _wk.add_organization(reference="FAST", name="Fast", api_key="k" * 20, size=40)
_jobs = {j["reference"]: JobInfo(j["reference"], j["name"]) for j in _org.jobs}
WK_ITEMS = [
    (c, _jobs[c["job_reference"]], _org.documents[ref]) for ref, c in _org.candidates.items()
]
FAST_WK_CTX = ctx("FR")


@FAST
@given(
    index=st.integers(min_value=0, max_value=len(WK_ITEMS) - 1),
    profile_phone=phones,
    country=st.sampled_from([None, "", "FR", "DE", "GB", "XX", 33]),
    created=dates,
    updated=dates,
    resume_size=scalars,
    portfolio_size=scalars,
    tags=json_values,
    stage=json_values,
    document_size=scalars,
    document_created=dates,
    archived=scalars,
)
def test_welcomekit_fast_path_is_the_reference(
    index: int,
    profile_phone: Any,
    country: Any,
    created: Any,
    updated: Any,
    resume_size: Any,
    portfolio_size: Any,
    tags: Any,
    stage: Any,
    document_size: Any,
    document_created: Any,
    archived: Any,
) -> None:
    payload, job, documents = copy.deepcopy(WK_ITEMS[index])
    payload |= {
        "created_at": created,
        "updated_at": updated,
        "resume_size": resume_size,
        "portfolio_size": portfolio_size,
        "portfolio_url": payload.get("portfolio_url") or "https://cdn.example/p/portfolio.pdf",
        "tags": tags,
        "archived": archived,
    }
    if index % 3 == 0:
        payload["stage"] = stage
    payload["profile"] |= {"phone": profile_phone, "country_code": country}
    documents = [
        *documents,
        {
            "id": index,
            "file_url": "https://cdn.example/d/x.pdf",
            "filename": "x.pdf",
            "size": document_size,
            "created_at": document_created,
        },
    ]
    both_paths(lambda: welcomekit_candidate(payload, FAST_WK_CTX, job=job, documents=documents))
    record = outcome(
        lambda: welcomekit_candidate(payload, FAST_WK_CTX, job=job, documents=documents)
    )
    assert isinstance(record, str) or record.candidate.raw_data is not payload


# --- viasto -------------------------------------------------------------------------------------

_viasto = ViastoEmulator()
_acme = _viasto.add_company(
    company_id=4, name="ACME GmbH", token="f" * 40, projects=2, candidates_per_project=20
)
VIASTO = [_viasto.render(4, c, "f" * 40) for p in _acme.candidates.values() for c in p.values()]


@FAST
@given(
    index=st.integers(min_value=0, max_value=len(VIASTO) - 1),
    candidate_phone=phones,
    invitation=dates,
    confirmation=dates,
    interview=dates,
    deadline=dates,
    status=scalars,
    cv=st.one_of(st.none(), st.just(""), st.text(max_size=10)),
    region=st.sampled_from([None, "DE", "AT"]),
)
def test_viasto_fast_path_is_the_reference(
    index: int,
    candidate_phone: Any,
    invitation: Any,
    confirmation: Any,
    interview: Any,
    deadline: Any,
    status: Any,
    cv: Any,
    region: str | None,
) -> None:
    payload = copy.deepcopy(VIASTO[index])
    payload |= {
        "phone": candidate_phone,
        "invitationdate": invitation,
        "confirmationdate": confirmation,
        "interviewdate": interview,
        "deadline": deadline,
        "status": status,
    }
    if index % 2:
        payload["cv"] = cv
    context = ctx(region)
    both_paths(lambda: viasto_candidate(payload, context, project_name="Sales"))


def test_viasto_credentials_and_file_tokens_never_reach_raw_data() -> None:
    for payload in VIASTO:
        record = viasto_candidate(payload, ctx("DE"), project_name="Sales")
        dumped = json.dumps(
            [m.raw_data for m in (record.candidate, *record.attachments, *record.applications)]
        )
        for secret in (payload["interview_key"], payload["activation_key"]):
            assert secret not in dumped
        assert "interview_key" not in record.candidate.raw_data
        for url in (payload["cv"], payload["photo"]):
            if url:
                token = url.rstrip("/").rsplit("/", 1)[1]
                assert token not in dumped


def test_models_built_in_another_zone_come_out_utc() -> None:
    paris = timezone(timedelta(hours=1))
    context = MappingContext(
        ids=SCOPE, observed_at=datetime(2026, 12, 3, 8, 30, tzinfo=paris), company_name="ACME"
    )
    both_paths(lambda: viasto_candidate(VIASTO[0], context, project_name="Sales"))
    record = viasto_candidate(VIASTO[0], context, project_name="Sales")
    assert record.candidate.modified_at.tzinfo is UTC
    assert record.candidate.modified_at == datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
