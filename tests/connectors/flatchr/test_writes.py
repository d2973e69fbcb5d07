"""Flatchr writes end to end against the emulator: create (CV bytes or link, then the next sync
gives the same record), move, archive, what Flatchr cannot do, validation before and at the
vendor, and a lost create answer that find_candidate recovers without a duplicate. The draft ->
body mapping is checked with hypothesis against the emulator's own validation."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.flatchr import FlatchrConnector, FlatchrSettings
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.flatchr.emulator.data import COLUMNS, encoded_vacancy_id
from connectors.flatchr.mapping import (
    CATALOG_KEY,
    RESUME_MAX_BYTES,
    URL_SLOTS,
    DraftRejected,
    build_catalog,
    candidate_body,
    draft_problems,
    error_fields,
    map_applicant,
    map_urls,
    url_slot,
)
from connectors.sdk.base import CandidateRecord, Capability, IdScope, MappingContext
from connectors.sdk.base import stage_remote_id as stage_id_of
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import (
    InvalidVendorResponse,
    NotFound,
    UnsupportedOperation,
    VendorRejectedRequest,
    VendorUnavailable,
)
from connectors.sdk.writes import CandidateDraft, FileUpload, UrlDraft
from tests.connectors.flatchr.conftest import API_KEY, COMPANY_ID, make_connector, make_emulator

FIXTURES = "tests/fixtures/vendors"
JOB = encoded_vacancy_id(2404)
PDF = b"%PDF-1.4\n% a CV\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
DOCX = b"PK\x03\x04" + b"word/document.xml" * 50
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def cv(content: bytes = PDF, **kwargs: Any) -> FileUpload:
    kwargs.setdefault("file_name", "CV Élodie Lefèvre.pdf")
    kwargs.setdefault("content_type", PDF_TYPE)
    return FileUpload(content=content, **kwargs)


def draft(**kwargs: Any) -> CandidateDraft:
    values: dict[str, Any] = {
        "first_name": "Élodie",
        "last_name": "Lefèvre",
        "email_addresses": ("elodie.lefevre@example.fr",),
        "phone_numbers": ("06 12 34 56 78",),
        "urls": (UrlDraft("https://www.linkedin.com/in/elodie", "LINKEDIN"),),
        "job_remote_id": JOB,
        "attachments": (cv(),),
    }
    values.update(kwargs)
    return CandidateDraft(**values)


async def synced(remote_id: str, emulator: FlatchrEmulator) -> CandidateRecord:
    """The record a later sync gives (a new connector instance: nothing kept from the write)."""
    async with make_connector(emulator) as connector:
        records = [r async for page in connector.iter_candidates() for r in page.records]
    [record] = [r for r in records if r.candidate.remote_id == remote_id]
    return record


def assert_same_record(written: CandidateRecord, later: CandidateRecord) -> None:
    assert written.candidate.id == later.candidate.id
    assert written.candidate.remote_id == later.candidate.remote_id
    assert written.candidate.content() == later.candidate.content()
    assert [(a.id, a.remote_id) for a in written.attachments] == [
        (a.id, a.remote_id) for a in later.attachments
    ]
    assert [a.content() for a in written.attachments] == [a.content() for a in later.attachments]
    assert [(a.id, a.remote_id) for a in written.applications] == [
        (a.id, a.remote_id) for a in later.applications
    ]
    assert [a.content() for a in written.applications] == [a.content() for a in later.applications]


def written(emulator: FlatchrEmulator) -> dict[str, int]:
    return emulator.companies[COMPANY_ID].written


async def download(connector: FlatchrConnector, attachment_remote_id: str) -> bytes:
    async with connector.download_attachment(attachment_remote_id) as file:
        return b"".join([chunk async for chunk in file.chunks])


# --- create -------------------------------------------------------------------------------------


async def test_create_with_cv_bytes_is_what_the_next_sync_gives(
    emulator: FlatchrEmulator,
) -> None:
    before = set(emulator.companies[COMPANY_ID].applicants)
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft())
        stored = await download(connector, record.attachments[0].remote_id or "")
    [new_id] = set(emulator.companies[COMPANY_ID].applicants) - before
    assert record.candidate.remote_id == new_id
    candidate = record.candidate
    assert (candidate.first_name, candidate.last_name) == ("Élodie", "Lefèvre")
    assert candidate.email_addresses == ["elodie.lefevre@example.fr"]
    assert candidate.phone_numbers == ["+33612345678"]
    assert [(u.type, u.value) for u in candidate.urls or []] == [
        ("LINKEDIN", "https://www.linkedin.com/in/elodie")
    ]
    assert candidate.title == "Administrateur réseaux - Paris - CDI"
    assert candidate.company == "Hôpital de la Timone"
    assert candidate.remote_created_at == datetime.now(UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    [application] = record.applications
    assert application.remote_id == new_id
    assert application.job == connector.ids.job_id(JOB)
    # Flatchr puts a new applicant in the first column of the pipeline.
    assert application.current_stage == connector.ids.stage_id(stage_id_of(JOB, "1313"))
    assert application.archived is False and application.hired is False
    [resume] = record.attachments
    assert resume.attachment_type == "RESUME" and resume.content_type == PDF_TYPE
    assert resume.file_name == "cv-elodie-lefevre.pdf"
    assert stored == PDF  # the bytes sent are the bytes Flatchr serves
    assert written(emulator)["created"] == 1
    assert_same_record(record, await synced(new_id, emulator))


async def test_create_with_a_link_takes_the_fetched_file(emulator: FlatchrEmulator) -> None:
    url = "https://files.example.org/cv/elodie?version=2"
    emulator.linked_files[url] = DOCX
    upload = FileUpload(file_name="elodie.docx", content_type=DOCX_TYPE, url=url)
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft(attachments=(upload,)))
        [resume] = record.attachments
        assert resume.content_type == DOCX_TYPE  # sniffed from what the link served
        assert await download(connector, resume.remote_id or "") == DOCX
    assert_same_record(record, await synced(record.candidate.remote_id or "", emulator))


async def test_create_in_a_stage_moves_the_new_applicant_there(
    emulator: FlatchrEmulator,
) -> None:
    stage = stage_id_of(JOB, "1317")
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft(stage_remote_id=stage))
    [application] = record.applications
    assert application.current_stage == connector.ids.stage_id(stage)
    applicant = emulator.companies[COMPANY_ID].applicants[record.candidate.remote_id or ""]
    assert COLUMNS[applicant.column][0] == 1317
    assert written(emulator) == {"created": 1, "moved": 1, "archived": 0}
    assert_same_record(record, await synced(record.candidate.remote_id or "", emulator))


async def test_create_without_email_is_found_by_its_names(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft(email_addresses=(), phone_numbers=()))
        assert record.candidate.email_addresses == []
        found = await connector.find_candidate(draft(email_addresses=(), phone_numbers=()))
    assert found is not None and found.candidate.remote_id == record.candidate.remote_id


async def test_find_candidate_reads_a_vacancy_newer_than_the_kept_catalog(
    emulator: FlatchrEmulator,
) -> None:
    async with make_connector(emulator) as finder:
        await finder.catalog()  # kept from before the vacancy exists
        job = emulator.add_vacancy(COMPANY_ID, "Sage-femme H/F").encoded_id
        async with make_connector(emulator) as writer:
            record = await writer.create_candidate(draft(job_remote_id=job))
        found = await finder.find_candidate(draft(job_remote_id=job))
        assert await finder.find_candidate(draft(job_remote_id="V000000000009999")) is None
    assert found is not None
    assert_same_record(found, record)
    assert found.candidate.title == "Sage-femme H/F"


async def test_the_same_person_applying_twice_is_two_applicants_each_found(
    emulator: FlatchrEmulator,
) -> None:
    """Flatchr keeps one applicant per application: the second create returns the new one."""
    async with make_connector(emulator) as connector:
        first = await connector.create_candidate(draft())
        second = await connector.create_candidate(draft())
    assert first.candidate.remote_id != second.candidate.remote_id
    assert written(emulator)["created"] == 2


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email_addresses": ("a@example.fr", "b@example.fr")}, "email_addresses"),
        ({"phone_numbers": ("0612345678", "0698765432")}, "phone_numbers"),
        (
            {
                "urls": (
                    UrlDraft("https://linkedin.com/in/a", "LINKEDIN"),
                    UrlDraft("https://www.linkedin.com/in/b", None),
                )
            },
            "urls",
        ),
        ({"company": "Acme"}, "company"),
        ({"title": "Nurse"}, "title"),
        ({"tags": ("python",)}, "tags"),
        ({"first_name": "  "}, "first_name"),
        ({"last_name": None}, "last_name"),
        ({"job_remote_id": None}, "job_id"),
        ({"attachments": ()}, "attachments"),
        ({"attachments": (cv(), cv())}, "attachments"),
        ({"attachments": (cv(content_type="image/png"),)}, "attachments"),
        ({"attachments": (cv(attachment_type="COVER_LETTER"),)}, "attachments"),
        ({"attachments": (cv(content=b"x" * (RESUME_MAX_BYTES + 1)),)}, "attachments"),
        ({"attachments": (cv(content=b""),)}, "attachments"),
        (
            {"attachments": (FileUpload("cv.pdf", PDF_TYPE, url="ftp://files.example/cv.pdf"),)},
            "attachments",
        ),
        ({"stage_remote_id": stage_id_of(encoded_vacancy_id(2403), "1316")}, "stage_remote_id"),
    ],
)
async def test_a_draft_flatchr_cannot_take_is_refused_before_any_call(
    emulator: FlatchrEmulator, changes: dict[str, Any], field: str
) -> None:
    field = "job_interview_stage_id" if field == "stage_remote_id" else field
    seen = emulator.app.requests_seen
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(draft(**changes))
    assert field in caught.value.field_errors
    assert emulator.app.requests_seen == seen  # not one vendor request
    assert written(emulator)["created"] == 0


async def test_an_unknown_job_or_stage_is_a_field_error_and_nothing_is_written(
    emulator: FlatchrEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(draft(job_remote_id="V000000000009999"))
        assert caught.value.field_errors == {"job_id": ["unknown job"]}
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(draft(stage_remote_id=stage_id_of(JOB, "4242")))
        assert list(caught.value.field_errors) == ["job_interview_stage_id"]
    assert written(emulator)["created"] == 0


async def test_the_vendors_validation_comes_back_as_field_errors(
    emulator: FlatchrEmulator,
) -> None:
    # Flatchr wants letters in a name ([DOC] "Prénom /[a-zA-Z]/"): only the vendor checks it.
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(draft(first_name="1234", last_name="---"))
    error = caught.value
    assert error.vendor_status == 400 and error.vendor_code == "Bad Request"
    assert error.field_errors == {
        "first_name": ['"firstname" must contain letters'],
        "last_name": ['"lastname" must contain letters'],
    }
    assert written(emulator)["created"] == 0


def careers_client(emulator: FlatchrEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="https://careers.flatchr.test"
    )


def vendor_body(**changes: Any) -> dict[str, Any]:
    slug = emulator_slug()
    body: dict[str, Any] = {
        "vacancy": slug,
        "firstname": "Johnny",
        "lastname": "Doe",
        "token": API_KEY,
        "type": "document",
        "resume": {
            "data": base64.b64encode(PDF).decode(),
            "fileName": "CV_John_Doe",
            "contentType": PDF_TYPE,
        },
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def emulator_slug(number: int = 2404) -> str:
    return make_emulator(size=0).companies[COMPANY_ID].vacancies[number].slug


@pytest.mark.parametrize(
    ("changes", "status", "keys"),
    [
        ({"token": None}, 401, None),
        ({"token": "not-the-key"}, 401, None),
        ({"firstname": None, "lastname": ""}, 400, ["firstname", "lastname"]),
        ({"vacancy": "no-such-vacancy"}, 400, ["vacancy"]),
        ({"type": "hr-xml"}, 400, ["type"]),
        ({"resume": None}, 400, ["resume"]),
        ({"email": "not an address"}, 400, ["email"]),
        ({"urls": {"instagram": "https://instagram.com/x"}}, 400, ["urls.instagram"]),
        ({"lastposition": "CTO"}, 400, ["lastposition"]),
        (
            {"resume": {"data": "%%% not base64", "fileName": "cv.pdf", "contentType": PDF_TYPE}},
            400,
            ["resume.data"],
        ),
        (
            {"resume": {"data": "aGk=", "fileName": "cv.exe", "contentType": "application/x-exe"}},
            400,
            ["resume.contentType"],
        ),
        ({"type": "link", "resume": "not a url"}, 400, ["resume"]),
    ],
)
async def test_the_emulated_careers_route_validates_like_the_vendor(
    changes: dict[str, Any], status: int, keys: list[str] | None
) -> None:
    emulator = make_emulator(size=3)
    async with careers_client(emulator) as client:
        response = await client.post("/vacancy/candidate/json", json=vendor_body(**changes))
    assert response.status_code == status
    body = response.json()
    assert body["statusCode"] == status and body["error"]
    if keys is not None:
        assert body["validation"] == {"source": "payload", "keys": keys}
        for key in keys:
            assert f'"{key.split(".")[-1]}"' in body["message"]
    assert written(emulator)["created"] == 0 and len(emulator.companies[COMPANY_ID].applicants) == 3


async def test_the_emulated_careers_route_stores_what_the_search_and_cv_route_serve() -> None:
    emulator = make_emulator(size=0, cv_mode="direct")
    body = vendor_body(
        email="john.doe@mail.fr", comment="Lettre", urls={"linkedin": "https://linkedin.com/in/j"}
    )
    async with careers_client(emulator) as client:
        dry = await client.post("/vacancy/candidate/test", json=body)
        assert dry.status_code == 200 and not emulator.companies[COMPANY_ID].applicants
        # The key may come as the header too, as the documented examples send it.
        created = await client.post(
            "/vacancy/candidate/json",
            json={k: v for k, v in body.items() if k != "token"},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert created.status_code == 200
        assert created.json() == {"status": 200, "response": "applicant created"}
        headers = {"Authorization": f"Bearer {API_KEY}"}
        rows = (
            await client.post(
                f"/company/{COMPANY_ID}/search/applicants",
                json={"email": "john.doe@mail.fr"},
                headers=headers,
            )
        ).json()
        [row] = rows
        assert (row["firstname"], row["column"], row["status"]) == ("Johnny", COLUMNS[0][1], 1)
        aws = row["candidate"]["aws"]
        cv_file = await client.get(
            f"/company/{COMPANY_ID}/files/expire",
            params={"key": aws["key"], "extension": aws["extension"]},
            headers=headers,
        )
        assert cv_file.content == PDF and aws["extension"] == "pdf"
    applicant = emulator.companies[COMPANY_ID].applicants[row["applicant"]]
    assert applicant.comment == "Lettre" and applicant.urls == {
        "linkedin": "https://linkedin.com/in/j"
    }


# --- a lost answer ------------------------------------------------------------------------------


async def test_a_create_whose_answer_is_lost_is_found_not_duplicated(
    emulator: FlatchrEmulator,
) -> None:
    emulator.faults.update(
        {
            "fail_status": 502,
            "fail_count": 1,
            "fail_after_commit": True,
            "paths": ["/vacancy/candidate"],
        }
    )
    async with make_connector(emulator) as connector:
        assert await connector.find_candidate(draft()) is None
        with pytest.raises(VendorUnavailable):
            await connector.create_candidate(draft())  # written, then the answer was lost
        assert written(emulator)["created"] == 1  # sent once: never retried blindly
        found = await connector.find_candidate(draft())
    assert found is not None
    assert written(emulator)["created"] == 1
    assert_same_record(found, await synced(found.candidate.remote_id or "", emulator))


async def test_a_failure_on_the_lookup_before_the_create_leaves_one_applicant(
    emulator: FlatchrEmulator,
) -> None:
    """The fault body without paths: the first request it meets is the search before the create
    (a read, retried); the create then goes through once."""
    emulator.faults.update({"fail_status": 502, "fail_count": 1, "fail_after_commit": True})
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft())
    assert written(emulator)["created"] == 1
    assert_same_record(record, await synced(record.candidate.remote_id or "", emulator))


async def test_an_accepted_create_the_search_does_not_show_is_reported(
    emulator: FlatchrEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator, "_store", lambda *args: None)  # accepted, never indexed
    async with make_connector(emulator) as connector:
        with pytest.raises(InvalidVendorResponse, match="not in its search yet"):
            await connector.create_candidate(draft())


# --- move and archive ---------------------------------------------------------------------------


def an_applicant(emulator: FlatchrEmulator, *, status: int = 1) -> str:
    company = emulator.companies[COMPANY_ID]
    return next(k for k, a in company.applicants.items() if a.status == status)


async def test_change_stage_moves_the_column_both_ways(emulator: FlatchrEmulator) -> None:
    company = emulator.companies[COMPANY_ID]
    remote_id = an_applicant(emulator)
    job = encoded_vacancy_id(company.applicants[remote_id].vacancy)
    async with make_connector(emulator) as connector:
        for column in (1314, 1313):  # to "Recruté", then back: Flatchr allows any move
            record = await connector.change_stage(remote_id, stage_id_of(job, str(column)))
            [application] = record.applications
            assert application.current_stage == connector.ids.stage_id(
                stage_id_of(job, str(column))
            )
            assert application.hired is (column == 1314)
            assert record.candidate.custom_fields is not None
            assert record.candidate.custom_fields["hired"] is (column == 1314)
            assert COLUMNS[company.applicants[remote_id].column][0] == column
            assert_same_record(record, await synced(remote_id, emulator))
    applicant = company.applicants[remote_id]
    assert applicant.updated.date() == datetime.now(UTC).date()
    assert written(emulator)["moved"] == 2


async def test_change_stage_refusals(emulator: FlatchrEmulator) -> None:
    company = emulator.companies[COMPANY_ID]
    remote_id = an_applicant(emulator)
    job = encoded_vacancy_id(company.applicants[remote_id].vacancy)
    other_job = next(
        encoded_vacancy_id(n) for n in company.vacancies if encoded_vacancy_id(n) != job
    )
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.change_stage(remote_id, stage_id_of(job, "9999"))
        assert list(caught.value.field_errors) == ["job_interview_stage_id"]
        with pytest.raises(VendorRejectedRequest):
            await connector.change_stage(remote_id, "no-colon")
        with pytest.raises(NotFound):
            await connector.change_stage("NoSuchApplicant0", stage_id_of(job, "1313"))
        with pytest.raises(NotFound):  # a stage of another job: not this applicant's vacancy
            await connector.change_stage(remote_id, stage_id_of(other_job, "1313"))
        with pytest.raises(NotFound):  # never another route: ".." is no id
            await connector.change_stage("..", stage_id_of(job, "1313"))
    assert written(emulator)["moved"] == 0


async def test_reject_archives_and_the_sync_agrees(emulator: FlatchrEmulator) -> None:
    remote_id = an_applicant(emulator)
    async with make_connector(emulator) as connector:
        record = await connector.reject_application(remote_id)
        again = await connector.reject_application(remote_id)  # archiving twice is harmless
    [application] = record.applications
    assert application.archived is True
    assert application.rejected_at is None  # Flatchr archives; it has no rejection date
    assert record.candidate.custom_fields is not None
    assert record.candidate.custom_fields["archived"] is True
    assert emulator.companies[COMPANY_ID].applicants[remote_id].status == 0
    assert written(emulator)["archived"] == 1
    assert_same_record(record, await synced(remote_id, emulator))
    assert again.candidate.content() == record.candidate.content()


async def test_reject_an_unknown_applicant_is_not_found(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        with pytest.raises(NotFound):
            await connector.reject_application("NoSuchApplicant0")


# --- what Flatchr cannot do ---------------------------------------------------------------------


async def test_attachments_and_applications_are_unsupported_with_the_reason(
    emulator: FlatchrEmulator,
) -> None:
    rules = FlatchrConnector.write_rules
    assert rules.attachment_files is None
    assert Capability.ADD_ATTACHMENT not in FlatchrConnector.capabilities
    assert Capability.CREATE_APPLICATION not in FlatchrConnector.capabilities
    seen = emulator.app.requests_seen
    async with make_connector(emulator) as connector:
        with pytest.raises(UnsupportedOperation, match="only when the candidate is created"):
            await connector.add_attachment(an_applicant(emulator), cv())
        with pytest.raises(UnsupportedOperation, match="existing candidate"):
            await connector.create_application(an_applicant(emulator), JOB, None)
    assert emulator.app.requests_seen == seen


def test_write_rules_list_only_what_flatchr_stores() -> None:
    rules = FlatchrConnector.write_rules
    assert rules.create_fields.isdisjoint({"company", "title", "tags"})
    assert rules.create_required == {"first_name", "last_name", "job_id", "attachments"}
    assert rules.create_required <= rules.create_fields
    assert rules.create_files is not None and rules.create_files.max_files == 1
    assert rules.create_files.attachment_types == {"RESUME"}
    assert PDF_TYPE in rules.create_files.content_types
    assert not rules.stage_moves_forward_only
    assert set(rules.notes) == {
        "create_candidate",
        "create_application",
        "change_stage",
        "reject_application",
        "add_attachment",
    }
    assert {
        Capability.CREATE_CANDIDATE,
        Capability.CHANGE_STAGE,
        Capability.REJECT_APPLICATION,
    } <= FlatchrConnector.capabilities


async def test_passthrough_to_the_cv_route_keeps_its_rate(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        rule = connector.passthrough_rate("GET", f"/company/{COMPANY_ID}/files/expire?key=a")
        assert rule == connector.cv_rate
        assert (
            connector.passthrough_rate(
                "GET", f"https://api.flatchr.test/company/{COMPANY_ID}/files/expire"
            )
            == connector.cv_rate
        )
        assert (
            connector.passthrough_rate("POST", f"/company/{COMPANY_ID}/search/applicants") is None
        )


def test_careers_url_takes_web_origins_only() -> None:
    for bad in ("file:///etc/passwd", "https://user:pw@careers.flatchr.io", "careers.flatchr.io"):
        with pytest.raises(ValidationError):
            FlatchrSettings(api_key="k", company_id="c", careers_url=bad)
    assert FlatchrSettings(api_key="k", company_id="c").careers_url == "https://careers.flatchr.io"
    # Another API host (an emulator, a proxy): the careers route is served beside it unless set.
    beside = FlatchrSettings(api_key="k", company_id="c", base_url="http://127.0.0.1:8101")
    assert beside.careers_url == "http://127.0.0.1:8101"
    with pytest.raises(ValidationError):
        FlatchrSettings(api_key="k", company_id="c", base_url="file:///etc/passwd")
    stored = FlatchrSettings(api_key="k", company_id="c", careers_url="https://c.example")
    assert FlatchrSettings(**stored.to_storage()) == stored


# --- pure mapping -------------------------------------------------------------------------------


def context(emulator: FlatchrEmulator) -> MappingContext:
    company = emulator.companies[COMPANY_ID]
    return MappingContext(
        ids=IdScope.for_account("flatchr", COMPANY_ID),
        observed_at=datetime.now(UTC),
        company_name=company.name,
        extra={CATALOG_KEY: build_catalog(company.vacancy_listing(), company.columns())},
    )


def test_the_documented_move_answer_maps_to_a_record() -> None:
    with open(f"{FIXTURES}/flatchr_applicant_move_response.documented.json") as f:
        body = json.load(f)
    record = map_applicant(body, context(make_emulator(size=0)))
    assert record.candidate.remote_id == "V41QG9eja5pK6Xev"
    assert record.candidate.first_name == "alexandre"
    assert record.candidate.remote_created_at == datetime(2022, 2, 3, tzinfo=UTC)
    assert record.candidate.remote_updated_at == datetime(2022, 2, 16, tzinfo=UTC)
    [resume] = record.attachments
    assert resume.remote_id == (
        "candidates/2022/02/67fb112b-71cf-4acc-a7a4-32c6807a03b9/alexandre-andrieux.pdf"
    )
    assert "X-Amz-Signature" not in json.dumps(record.candidate.raw_data)
    [application] = record.applications
    assert application.archived is False


def test_the_documented_archive_answer_maps_to_an_archived_application() -> None:
    with open(f"{FIXTURES}/flatchr_applicant_archive_response.documented_trimmed.json") as f:
        body = json.load(f)
    record = map_applicant(body, context(make_emulator(size=0)))
    [application] = record.applications
    assert application.archived is True and application.rejected_at is None
    # The answer's own vacancy object gives what the catalog cannot (another company's).
    assert record.candidate.title == "Administrateur réseaux - Paris - CDI"
    assert application.custom_fields == {"vacancy_id": 2403, "stage": "Recruté"}
    assert application.hired is True


def test_vendor_error_bodies_become_unified_field_errors() -> None:
    body = {
        "statusCode": 400,
        "error": "Bad Request",
        "message": '"firstname" is required. "resume.data" must be a valid base64 string',
        "validation": {"source": "payload", "keys": ["firstname", "resume.data"]},
    }
    assert error_fields(body) == (
        "Bad Request",
        {
            "first_name": ['"firstname" is required'],
            "attachments": ['"resume.data" must be a valid base64 string'],
        },
    )
    assert error_fields({"statusCode": 404, "message": "Applicant not found"}) == (None, {})
    assert error_fields(["not", "an", "object"]) == (None, {})
    keys_only = {"message": "bad", "validation": {"keys": ["phone", 3, ""]}}
    assert error_fields(keys_only) == (None, {"phone_numbers": ["bad"]})


names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
)
url_drafts = st.builds(
    UrlDraft,
    value=st.sampled_from(
        [
            "https://www.linkedin.com/in/zoé",
            "https://facebook.com/zoe",
            "https://x.com/zoe",
            "https://zoe.example.fr",
            "https://github.com/zoe",
        ]
    ),
    type=st.sampled_from([None, "LINKEDIN", "SOCIAL_MEDIA", "PERSONAL", "PORTFOLIO", "OTHER"]),
)
drafts = st.builds(
    CandidateDraft,
    first_name=names,
    last_name=names,
    email_addresses=st.lists(st.emails(), max_size=3).map(tuple),
    phone_numbers=st.lists(st.sampled_from(["+33612345678", "06 12 34 56 78"]), max_size=2).map(
        tuple
    ),
    urls=st.lists(url_drafts, max_size=4).map(tuple),
    tags=st.lists(names, max_size=2).map(tuple),
    job_remote_id=st.just(JOB),
    attachments=st.lists(
        st.builds(
            FileUpload,
            file_name=names,
            content_type=st.sampled_from([PDF_TYPE, DOCX_TYPE, "image/png"]),
            content=st.binary(min_size=1, max_size=64),
        ),
        min_size=1,
        max_size=2,
    ).map(tuple),
)
EMULATOR = make_emulator(size=0)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(drafts)
def test_draft_to_body_keeps_everything_or_names_what_it_cannot(draft: CandidateDraft) -> None:
    slug = EMULATOR.companies[COMPANY_ID].vacancies[2404].slug
    problems = draft_problems(draft)
    # What Flatchr cannot hold is named, never dropped.
    assert ("email_addresses" in problems) == (len(draft.email_addresses) > 1)
    assert ("phone_numbers" in problems) == (len(draft.phone_numbers) > 1)
    assert ("tags" in problems) == bool(draft.tags)
    slots = [url_slot(u) for u in draft.urls]
    assert ("urls" in problems) == (len(slots) != len(set(slots)))
    assert ("attachments" in problems) == (
        len(draft.attachments) != 1
        or draft.attachments[0].content_type == "image/png"
        or not draft.attachments[0].file_name.strip()
    )
    if problems:
        with pytest.raises(DraftRejected) as caught:
            candidate_body(draft, vacancy_slug=slug, token=API_KEY)
        assert caught.value.field_errors == problems
        return
    body = candidate_body(draft, vacancy_slug=slug, token=API_KEY)
    assert body["vacancy"] == slug and body["token"] == API_KEY
    assert body["firstname"] == (draft.first_name or "").strip()
    assert body["lastname"] == (draft.last_name or "").strip()
    assert body.get("email") == (draft.email_addresses[0] if draft.email_addresses else None)
    assert body.get("phone") == (draft.phone_numbers[0] if draft.phone_numbers else None)
    urls = body.get("urls", {})
    assert set(urls) <= set(URL_SLOTS)
    assert sorted(urls.values()) == sorted(u.value for u in draft.urls)
    for slot, value in urls.items():
        assert any(url_slot(u) == slot and u.value == value for u in draft.urls)
    # Read back, a LinkedIn URL is LINKEDIN again.
    read = {(typed["type"], typed["value"]) for typed in map_urls(urls)}
    for sent in draft.urls:
        if sent.type == "LINKEDIN":
            assert ("LINKEDIN", sent.value) in read
    [upload] = draft.attachments
    assert body["type"] == "document"
    assert base64.b64decode(body["resume"]["data"]) == upload.content
    assert body["resume"]["fileName"] == upload.file_name
    # The emulated vendor takes the body unless a name holds no letter (its own rule).
    vendor_problems, _ = EMULATOR._check_candidate(EMULATOR.companies[COMPANY_ID], body)
    lettered = all(any(ch.isalpha() for ch in body[k]) for k in ("firstname", "lastname"))
    email_ok = "email" not in body or "@" in body["email"]
    if lettered and email_ok:
        assert vendor_problems == []
    else:
        assert vendor_problems
