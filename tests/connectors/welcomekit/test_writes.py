"""Welcome Kit writes end to end against the emulator: what is written is what a sync reads.

Welcome Kit takes files only by URL and fetches them at write time: the emulator's ``fetch`` is
routed to an in-process file server standing for the caller's host or for our signed URLs.
"""

from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sdk.base import CandidateRecord, Capability, stage_remote_id
from connectors.sdk.errors import NotFound, VendorRejectedRequest, VendorUnavailable
from connectors.sdk.writes import CREATE_CANDIDATE_FIELDS, CandidateDraft, FileUpload, UrlDraft
from connectors.welcomekit import WelcomeKitConnector
from connectors.welcomekit.emulator import WelcomeKitEmulator
from connectors.welcomekit.mapping import (
    MEDIA_HOSTS,
    DraftRefused,
    candidate_body,
    document_file_name,
    error_fields,
)
from tests.connectors.welcomekit.conftest import API_KEY, ORG, make_connector, make_emulator

PDF = b"%PDF-1.7\n" + "Curriculum vitæ de Zoë\n".encode() * 200
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MiB = 1024 * 1024


class FileServer:
    """The web as the vendor sees it: files by path, some with a Content-Disposition name."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, str | None]] = {}
        self.fetched: list[str] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.serve)])

    def put(self, path: str, content: bytes, content_type: str, name: str | None = None) -> str:
        self.files[path.split("?", 1)[0]] = (content, content_type, name)
        return f"https://files.example/{path}"

    async def serve(self, request: Request) -> Response:
        path = request.path_params["path"]
        if path not in self.files:
            return Response("no such file", status_code=404, media_type="text/plain")
        content, content_type, name = self.files[path]
        headers = {"Content-Disposition": f'attachment; filename="{name}"'} if name else {}
        return Response(content, media_type=content_type, headers=headers)

    async def fetch(self, url: str) -> httpx.Response:
        self.fetched.append(url)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app)) as client:
            return await client.get(url)


@pytest.fixture
def web() -> FileServer:
    return FileServer()


@pytest.fixture
def emulator(web: FileServer) -> WelcomeKitEmulator:
    return make_emulator(fetch=web.fetch)


def job_of(emulator: WelcomeKitEmulator, n: int = 0) -> dict[str, Any]:
    return emulator.organizations[ORG].jobs[n]


def stage_of(job: Mapping[str, Any], reference: str | None) -> str:
    stage = next(s for s in job["stages"] if s["reference"] == reference)
    return stage_remote_id(job["reference"], str(stage["id"]))


def comparable(record: CandidateRecord) -> dict[str, Any]:
    """A record's content without the time it was observed at."""
    drop = {"modified_at"}
    return {
        "candidate": record.candidate.model_dump(exclude=drop),
        "attachments": sorted(
            (a.model_dump(exclude=drop) for a in record.attachments), key=lambda a: a["remote_id"]
        ),
        "applications": [a.model_dump(exclude=drop) for a in record.applications],
    }


async def synced(connector: WelcomeKitConnector, remote_id: str, **kwargs: Any) -> CandidateRecord:
    found = [
        r
        async for page in connector.iter_candidates(**kwargs)
        for r in page.records
        if r.candidate.remote_id == remote_id
    ]
    assert len(found) == 1, f"the sync gives {len(found)} records for {remote_id}"
    return found[0]


async def downloaded(connector: WelcomeKitConnector, attachment_remote_id: str) -> bytes:
    async with connector.download_attachment(attachment_remote_id) as download:
        return b"".join([chunk async for chunk in download.chunks])


def draft(emulator: WelcomeKitEmulator, **changes: Any) -> CandidateDraft:
    job = job_of(emulator)
    values: dict[str, Any] = {
        "first_name": "Zoë",
        "last_name": "Dupont-Łukasz",
        "title": "CTO @ Acme",
        "email_addresses": ("Zoe.Dupont@Example.com",),
        "phone_numbers": ("06 12 34 56 78",),
        "urls": (
            UrlDraft("https://www.linkedin.com/in/zoe", "LINKEDIN"),
            UrlDraft("https://github.com/zoe", "SOCIAL_MEDIA"),
            UrlDraft("https://zoe.dev", "PERSONAL"),
        ),
        "tags": ("python", "senior", "Python"),
        "job_remote_id": job["reference"],
        "stage_remote_id": stage_of(job, "to_meet"),
    }
    values.update(changes)
    return CandidateDraft(**values)


def created_count(emulator: WelcomeKitEmulator) -> int:
    return emulator.written["candidates_created"]


# --- declarations ---------------------------------------------------------------------------------


def test_rules_list_only_what_welcome_kit_stores() -> None:
    rules = WelcomeKitConnector.write_rules
    assert rules.create_fields <= CREATE_CANDIDATE_FIELDS
    assert "company" not in rules.create_fields  # no Welcome Kit field: refused, not dropped
    assert rules.create_required == {"first_name", "last_name", "email_addresses", "job_id"}
    assert rules.create_files is not None and rules.create_files.by_url
    assert rules.create_files.max_bytes == 5 * MiB
    assert rules.create_files.content_types == {
        "application/pdf",
        "application/msword",
        DOCX,
        "application/vnd.oasis.opendocument.text",
    }
    assert rules.attachment_files is not None and rules.attachment_files.by_url
    assert not rules.stage_moves_forward_only
    operations = {
        "create_candidate",
        "create_application",
        "change_stage",
        "reject_application",
        "add_attachment",
    }
    assert set(rules.notes) == operations
    capabilities = WelcomeKitConnector.capabilities
    assert {Capability(o) for o in operations} <= capabilities


# --- create ---------------------------------------------------------------------------------------


async def test_create_with_cv_bytes_at_a_signed_url_is_what_the_sync_reads(
    emulator: WelcomeKitEmulator, web: FileServer
) -> None:
    signed = web.put("staged/3f9a?sig=abc", PDF, "application/pdf", name="cv-zoe.pdf")
    upload = FileUpload("cv-zoe.pdf", "application/pdf", content=PDF, url=signed)
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft(emulator, attachments=(upload,)))
        candidate = record.candidate
        assert (candidate.first_name, candidate.last_name) == ("Zoë", "Dupont-Łukasz")
        assert candidate.email_addresses == ["zoe.dupont@example.com"]
        assert candidate.phone_numbers == ["+33612345678"]
        assert candidate.tags == ["python", "senior"]  # one tag per name, as Welcome Kit keeps
        assert candidate.custom_fields["subtitle"] == "CTO @ Acme"
        assert candidate.title == job_of(emulator)["name"]  # a WK candidate's title: the job
        (application,) = record.applications
        assert application.remote_id == candidate.remote_id
        assert application.job == connector.context().ids.job_id(job_of(emulator)["reference"])
        assert application.current_stage == connector.context().ids.stage_id(
            stage_of(job_of(emulator), "to_meet")
        )
        (resume,) = record.attachments
        assert resume.remote_id == f"{candidate.remote_id}:resume"
        assert (resume.file_name, resume.content_type, resume.size) == (
            "cv-zoe.pdf",
            "application/pdf",
            len(PDF),
        )
        assert await downloaded(connector, resume.remote_id or "") == PDF
        assert comparable(await synced(connector, candidate.remote_id or "")) == comparable(record)
    stored = emulator.organizations[ORG].media[candidate.remote_id or ""]
    assert stored == {
        "media_linkedin": "https://www.linkedin.com/in/zoe",
        "media_github": "https://github.com/zoe",
        "media_website": "https://zoe.dev",
    }
    assert web.fetched == [signed]  # fetched once, by the vendor, at write time
    assert created_count(emulator) == 1


async def test_create_with_a_callers_file_url(
    emulator: WelcomeKitEmulator, web: FileServer
) -> None:
    url = web.put("people/zoe/resume.docx", b"PK\x03\x04 docx bytes", DOCX)
    upload = FileUpload("resume.docx", DOCX, url=url)
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(draft(emulator, attachments=(upload,)))
        (resume,) = record.attachments
        assert (resume.file_name, resume.content_type) == ("resume.docx", DOCX)
        assert await downloaded(connector, resume.remote_id or "") == b"PK\x03\x04 docx bytes"
        assert comparable(await synced(connector, record.candidate.remote_id or "")) == comparable(
            record
        )


async def test_create_without_a_stage_lands_in_the_jobs_initial_stage(
    emulator: WelcomeKitEmulator,
) -> None:
    job = job_of(emulator, 1)
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(
            draft(emulator, job_remote_id=job["reference"], stage_remote_id=None, urls=())
        )
        (application,) = record.applications
        assert application.current_stage == connector.context().ids.stage_id(
            stage_of(job, "initial")
        )
        assert record.attachments == ()


async def test_a_candidate_created_on_a_job_created_since_the_last_listing_has_its_title(
    emulator: WelcomeKitEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        await connector.jobs()  # cached before the job exists
        job = emulator.add_job(ORG)
        record = await connector.create_candidate(
            draft(emulator, job_remote_id=job["reference"], stage_remote_id=None)
        )
        assert record.candidate.title == job["name"]
        assert comparable(await synced(connector, record.candidate.remote_id or "")) == comparable(
            record
        )


# --- validation: nothing is created ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"x" * (5 * MiB + 1), "application/pdf", "too large"),
        (b"<html>not a CV</html>", "text/html", "must be a"),
        (b"", "application/pdf", "is empty"),
    ],
)
async def test_a_resume_the_vendor_refuses_is_a_field_error(
    emulator: WelcomeKitEmulator, web: FileServer, content: bytes, content_type: str, message: str
) -> None:
    url = web.put("cv", content, content_type)
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(
                draft(emulator, attachments=(FileUpload("cv.pdf", content_type, url=url),))
            )
    assert caught.value.vendor_code == "validation_failed"
    (messages,) = caught.value.field_errors.values()
    assert list(caught.value.field_errors) == ["remote_resume_url"]
    assert message in messages[0]
    assert created_count(emulator) == 0


async def test_a_resume_of_exactly_5_mb_is_taken(
    emulator: WelcomeKitEmulator, web: FileServer
) -> None:
    url = web.put("big.pdf", b"%PDF" + b"0" * (5 * MiB - 4), "application/pdf")
    async with make_connector(emulator) as connector:
        record = await connector.create_candidate(
            draft(emulator, attachments=(FileUpload("big.pdf", "application/pdf", url=url),))
        )
    assert record.attachments[0].size == 5 * MiB


async def test_an_unreachable_resume_url_is_a_field_error(emulator: WelcomeKitEmulator) -> None:
    upload = FileUpload("cv.pdf", "application/pdf", url="https://files.example/missing.pdf")
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(draft(emulator, attachments=(upload,)))
    assert caught.value.field_errors == {
        "remote_resume_url": ["remote_resume_url could not be downloaded"]
    }
    assert created_count(emulator) == 0


async def test_a_stage_the_job_does_not_have_is_refused_by_the_vendor(
    emulator: WelcomeKitEmulator,
) -> None:
    job = job_of(emulator)
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(
                draft(emulator, stage_remote_id=stage_remote_id(job["reference"], "999999"))
            )
    assert caught.value.field_errors == {"job_stage_id": ["job_stage_id is invalid"]}
    assert created_count(emulator) == 0


async def test_what_welcome_kit_cannot_hold_is_refused_before_any_call(
    emulator: WelcomeKitEmulator,
) -> None:
    other_job = job_of(emulator, 1)
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(
                draft(
                    emulator,
                    email_addresses=("a@example.com", "b@example.com"),
                    urls=(UrlDraft("https://acme.example", "COMPANY"),),
                    stage_remote_id=stage_of(other_job, "initial"),
                    company="Acme",
                )
            )
    assert set(caught.value.field_errors) == {
        "email_addresses",
        "urls",
        "job_interview_stage_id",
        "company",
    }
    assert emulator.requests == 0  # not one vendor call


async def test_an_unknown_job_is_a_field_error(emulator: WelcomeKitEmulator) -> None:
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as without_stage:
            await connector.create_candidate(
                draft(emulator, job_remote_id="WTTJ_gone", stage_remote_id=None)
            )
        with pytest.raises(VendorRejectedRequest) as with_stage:
            await connector.create_candidate(
                draft(emulator, job_remote_id="WTTJ_gone", stage_remote_id="WTTJ_gone:1")
            )
    assert list(without_stage.value.field_errors) == ["job_id"]
    assert list(with_stage.value.field_errors) == ["job_reference"]
    assert created_count(emulator) == 0


# --- an answer lost after the vendor wrote: found, never duplicated -------------------------------


async def test_fail_after_commit_is_recovered_by_find_candidate(
    emulator: WelcomeKitEmulator,
) -> None:
    wanted = draft(emulator)
    async with make_connector(emulator) as connector:
        assert await connector.find_candidate(wanted) is None
        emulator.faults.update({"fail_status": 502, "fail_count": 1, "fail_after_commit": True})
        with pytest.raises(VendorUnavailable):
            await connector.create_candidate(wanted)  # a POST is sent once, not retried
        found = await connector.find_candidate(wanted)
        assert found is not None
        same_email = [
            ref
            for ref, c in emulator.organizations[ORG].candidates.items()
            if c["profile"]["email"] == "zoe.dupont@example.com"
        ]
        assert same_email == [found.candidate.remote_id]
        assert created_count(emulator) == 1
        assert comparable(await synced(connector, same_email[0])) == comparable(found)


async def test_find_candidate_picks_the_drafts_person_among_same_email(
    emulator: WelcomeKitEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        first = await connector.create_candidate(draft(emulator, first_name="Zoë"))
        await connector.create_candidate(draft(emulator, first_name="Autre"))
        found = await connector.find_candidate(draft(emulator, first_name="Zoë"))
        assert found is not None and found.candidate.remote_id == first.candidate.remote_id
        assert await connector.find_candidate(draft(emulator, email_addresses=())) is None


# --- stage, reject --------------------------------------------------------------------------------


def seeded(emulator: WelcomeKitEmulator, **wanted: Any) -> dict[str, Any]:
    return next(
        c
        for c in emulator.organizations[ORG].candidates.values()
        if all(c.get(key) == value for key, value in wanted.items())
    )


async def test_change_stage_moves_forward_and_back(emulator: WelcomeKitEmulator) -> None:
    candidate = seeded(emulator, archived=False)
    job = next(
        j for j in emulator.organizations[ORG].jobs if j["reference"] == candidate["job_reference"]
    )
    reference = candidate["reference"]
    before = candidate["updated_at"]
    async with make_connector(emulator) as connector:
        for stage in ("hired", "initial"):
            record = await connector.change_stage(reference, stage_of(job, stage))
            (application,) = record.applications
            assert application.current_stage == connector.context().ids.stage_id(
                stage_of(job, stage)
            )
            assert application.hired is (stage == "hired")
            assert comparable(await synced(connector, reference)) == comparable(record)
    assert emulator.organizations[ORG].candidates[reference]["updated_at"] > before


async def test_a_stage_of_another_job_is_refused_without_a_write(
    emulator: WelcomeKitEmulator,
) -> None:
    candidate = seeded(emulator)
    other = next(
        j for j in emulator.organizations[ORG].jobs if j["reference"] != candidate["job_reference"]
    )
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.change_stage(candidate["reference"], stage_of(other, "initial"))
        with pytest.raises(NotFound):
            await connector.change_stage("wttj-missing", stage_of(other, "initial"))
    assert list(caught.value.field_errors) == ["job_interview_stage_id"]
    assert emulator.written["candidates_updated"] == 0


async def test_reject_archives_and_a_later_sync_agrees(emulator: WelcomeKitEmulator) -> None:
    candidate = seeded(emulator, archived=False)
    async with make_connector(emulator) as connector:
        record = await connector.reject_application(candidate["reference"])
        (application,) = record.applications
        assert application.archived is True
        assert record.candidate.custom_fields["archived"] is True
        assert comparable(await synced(connector, candidate["reference"])) == comparable(record)
        again = await connector.reject_application(candidate["reference"])  # harmless twice
    assert again.applications[0].archived is True
    assert again.applications[0].current_stage == application.current_stage  # stage kept


# --- attachments ----------------------------------------------------------------------------------


async def test_add_attachment_is_a_document_the_sync_reads(
    emulator: WelcomeKitEmulator, web: FileServer
) -> None:
    candidate = seeded(emulator)
    reference = candidate["reference"]
    url = web.put("diplome.pdf", PDF, "application/pdf")
    async with make_connector(emulator) as connector:
        attachment = await connector.add_attachment(
            reference, FileUpload("diplome.pdf", "application/pdf", "OTHER", url=url)
        )
        assert attachment.remote_id is not None
        assert attachment.remote_id.startswith(f"{reference}:document:")
        assert (attachment.file_name, attachment.content_type, attachment.size) == (
            "diplome.pdf",
            "application/pdf",
            len(PDF),
        )
        assert attachment.attachment_type == "OTHER"
        assert await downloaded(connector, attachment.remote_id) == PDF
        # the candidate is touched: an incremental sync sees the new file
        from datetime import UTC, datetime

        record = await synced(connector, reference, updated_since=datetime.now(UTC))
        (listed,) = [a for a in record.attachments if a.remote_id == attachment.remote_id]
        assert listed.model_dump(exclude={"modified_at"}) == attachment.model_dump(
            exclude={"modified_at"}
        )
    assert emulator.organizations[ORG].documents[reference][-1]["filename"] == "diplome"


async def test_a_resume_document_keeps_its_type(
    emulator: WelcomeKitEmulator, web: FileServer
) -> None:
    reference = seeded(emulator)["reference"]
    url = web.put("zoe.pdf", PDF + b"other", "application/pdf")
    async with make_connector(emulator) as connector:
        attachment = await connector.add_attachment(
            reference, FileUpload("zoe.pdf", "application/pdf", "RESUME", url=url)
        )
    assert attachment.attachment_type == "RESUME"
    assert attachment.file_name == "CV zoe.pdf"


async def test_a_document_the_vendor_refuses_is_not_stored(
    emulator: WelcomeKitEmulator, web: FileServer
) -> None:
    reference = seeded(emulator)["reference"]
    documents = list(emulator.organizations[ORG].documents[reference])
    url = web.put("huge.pdf", b"%PDF" + b"0" * (10 * MiB), "application/pdf")
    exe = web.put("tool.exe", b"MZ", "application/x-msdownload")
    async with make_connector(emulator) as connector:
        for link in (url, exe):
            with pytest.raises(VendorRejectedRequest) as caught:
                await connector.add_attachment(
                    reference, FileUpload("f.pdf", "application/pdf", "OTHER", url=link)
                )
            assert list(caught.value.field_errors) == ["remote_file_urls"]
        with pytest.raises(NotFound):
            await connector.add_attachment(
                "wttj-missing", FileUpload("f.pdf", "application/pdf", "OTHER", url=url)
            )
        with pytest.raises(VendorRejectedRequest):  # bytes alone: Welcome Kit needs a URL
            await connector.add_attachment(
                reference, FileUpload("f.pdf", "application/pdf", "OTHER", content=PDF)
            )
    assert emulator.organizations[ORG].documents[reference] == documents


# --- applications ---------------------------------------------------------------------------------


async def test_create_application_copies_the_person_to_the_other_job_once(
    emulator: WelcomeKitEmulator,
) -> None:
    source = seeded(emulator)
    while not (source["profile"]["email"] and source["resume_url"]):
        source = next(
            c
            for c in emulator.organizations[ORG].candidates.values()
            if c["profile"]["email"] and c["resume_url"]
        )
    other = next(
        j for j in emulator.organizations[ORG].jobs if j["reference"] != source["job_reference"]
    )
    async with make_connector(emulator) as connector:
        record = await connector.create_application(source["reference"], other["reference"], None)
        again = await connector.create_application(source["reference"], other["reference"], None)
        assert again.candidate.remote_id == record.candidate.remote_id  # found, not duplicated
        assert record.candidate.remote_id != source["reference"]
        assert record.candidate.email_addresses == [source["profile"]["email"].lower()]
        assert record.candidate.first_name == source["profile"]["firstname"]
        assert record.candidate.title == other["name"]
        (application,) = record.applications
        assert application.job == connector.context().ids.job_id(other["reference"])
        resume = next(
            a for a in record.attachments if a.remote_id and a.remote_id.endswith(":resume")
        )
        assert await downloaded(connector, resume.remote_id or "") == await downloaded(
            connector, f"{source['reference']}:resume"
        )
        assert comparable(await synced(connector, record.candidate.remote_id or "")) == comparable(
            record
        )
    assert created_count(emulator) == 1


async def test_a_person_without_email_cannot_apply_elsewhere(
    emulator: WelcomeKitEmulator,
) -> None:
    org = emulator.organizations[ORG]
    source = next(iter(org.candidates.values()))
    source["profile"]["email"] = None
    other = next(j for j in org.jobs if j["reference"] != source["job_reference"])
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_application(source["reference"], other["reference"], None)
    assert list(caught.value.field_errors) == ["candidate_id"]
    assert created_count(emulator) == 0


# --- the emulator's routes as documented ----------------------------------------------------------


async def vendor(
    emulator: WelcomeKitEmulator, method: str, path: str, body: Any = None, key: str = API_KEY
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://wk.test"
    ) as client:
        return await client.request(
            method,
            f"/api/v1/external{path}",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        )


async def test_emulator_create_requires_the_documented_parameters(
    emulator: WelcomeKitEmulator,
) -> None:
    response = await vendor(emulator, "POST", "/candidates", {"email": "a@b.co"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_failed",
        "error_description": "organization_reference, job_reference, job_stage_id, firstname, "
        "lastname is missing",
    }
    job = job_of(emulator)
    body = {
        "organization_reference": "another",
        "job_reference": job["reference"],
        "job_stage_id": job["stages"][0]["id"],
        "email": "a@b.co",
        "firstname": "A",
        "lastname": "B",
    }
    response = await vendor(emulator, "POST", "/candidates", body)
    assert (response.status_code, response.json()["error"]) == (401, "unauthorized")
    body["organization_reference"] = ORG
    response = await vendor(emulator, "POST", "/candidates", {**body, "archived": "yes"})
    assert response.json()["error_description"] == "archived is invalid"
    response = await vendor(emulator, "POST", "/candidates", {**body, "job_reference": "WTTJ_x"})
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    response = await vendor(emulator, "POST", "/candidates", body)
    assert response.status_code == 201
    created = response.json()
    assert "stage" not in created and "tags" not in created  # as documented: only when asked
    listed = await vendor(
        emulator, "GET", f"/candidates?job_reference={job['reference']}&email=A@B.CO"
    )
    assert [c["reference"] for c in listed.json()] == [created["reference"]]


async def test_emulator_update_and_scopes(emulator: WelcomeKitEmulator) -> None:
    own_key = "wk_mine_only"
    emulator.keys[own_key] = (ORG, frozenset({"my_candidates_rw", "jobs_r"}))
    candidate = seeded(emulator)
    reference = candidate["reference"]
    response = await vendor(
        emulator, "PUT", f"/candidates/{reference}", {"archived": True}, key=own_key
    )
    assert response.status_code == 404  # my_candidates_rw reaches only its own candidates
    response = await vendor(emulator, "PUT", f"/candidates/{reference}", {"job_stage_id": 1})
    assert response.json() == {
        "error": "validation_failed",
        "error_description": "job_stage_id is invalid",
    }
    response = await vendor(emulator, "PUT", f"/candidates/{reference}", {"email": "nope"})
    assert response.json()["error_description"] == "email is invalid"
    response = await vendor(
        emulator, "PUT", f"/candidates/{reference}", {"archived": True, "tag_list": "a, b,a"}
    )
    assert response.status_code == 200
    stored = emulator.organizations[ORG].candidates[reference]
    assert (stored["archived"], stored["tags"]) == (True, ["a", "b"])
    emulator.keys[API_KEY] = (ORG, frozenset({"candidates_rw"}))
    response = await vendor(
        emulator,
        "POST",
        "/documents",
        {"candidate_reference": reference, "remote_file_urls": [{"filename": "x", "url": "u"}]},
    )
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": "documents_rw scope is required",
    }
    assert emulator.state()["written"] == {
        "candidates_created": 0,
        "candidates_updated": 1,
        "documents_created": 0,
    }


# --- the pure mapping -----------------------------------------------------------------------------

names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
emails = st.emails()
known_hosts = st.sampled_from([host for host, _ in MEDIA_HOSTS])
url_drafts = st.one_of(
    st.builds(
        lambda host, path, kind: UrlDraft(f"https://{host}/{path}", kind),
        known_hosts,
        st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
        st.sampled_from([None, "SOCIAL_MEDIA", "PERSONAL", "OTHER"]),
    ),
    st.builds(
        lambda path, kind: UrlDraft(f"https://{path}.example", kind),
        st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
        st.sampled_from(["PERSONAL", "BLOG", "PORTFOLIO", "COMPANY", "JOB_POSTING", None]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    first=names,
    last=names,
    title=st.none() | names,
    addresses=st.lists(emails, max_size=3),
    phones=st.lists(st.from_regex(r"\+33[1-9][0-9]{8}", fullmatch=True), max_size=3),
    urls=st.lists(url_drafts, max_size=4),
    tags=st.lists(st.text(min_size=0, max_size=15), max_size=6),
)
def test_candidate_body_holds_the_draft_or_names_what_it_cannot(
    first: str,
    last: str,
    title: str | None,
    addresses: list[str],
    phones: list[str],
    urls: list[UrlDraft],
    tags: list[str],
) -> None:
    job = "WTTJ_abc"
    wanted = CandidateDraft(
        first_name=first,
        last_name=last,
        title=title,
        email_addresses=tuple(addresses),
        phone_numbers=tuple(phones),
        urls=tuple(urls),
        tags=tuple(tags),
        job_remote_id=job,
        stage_remote_id=f"{job}:42",
    )
    distinct_emails = {a.strip().lower() for a in addresses}
    distinct_phones = set(phones)
    try:
        body = candidate_body(wanted, organization_reference="Pg4eV6k")
    except DraftRefused as refused:
        problems = refused.field_errors
        assert problems, "a refusal names its fields"
        assert ("email_addresses" in problems) == (len(distinct_emails) != 1)
        assert ("phone_numbers" in problems) == (len(distinct_phones) > 1)
        assert ("tags" in problems) == any("," in t.strip() for t in tags)
        assert set(problems) <= {"email_addresses", "phone_numbers", "tags", "urls"}
        return
    assert len(distinct_emails) == 1 and len(distinct_phones) <= 1
    assert body["organization_reference"] == "Pg4eV6k"
    assert (body["job_reference"], body["job_stage_id"]) == (job, 42)
    assert (body["firstname"], body["lastname"]) == (first.strip(), last.strip())
    assert body["email"] == addresses[0].strip().lower()
    assert body.get("phone") == (phones[0] if phones else None)
    assert body.get("subtitle") == (title.strip() if title else None)
    sent_tags = body["tag_list"].split(",") if "tag_list" in body else []
    kept = [t.strip() for t in tags if t.strip()]
    assert {t.casefold() for t in sent_tags} == {t.casefold() for t in kept}
    assert len(sent_tags) == len({t.casefold() for t in sent_tags})
    media = {key: value for key, value in body.items() if key.startswith("media_")}
    assert set(media.values()) == {u.value for u in urls}
    for url in urls:
        host = url.value.split("/")[2]
        slot = next((p for h, p in MEDIA_HOSTS if host == h), None)
        assert media[slot or "media_website"] == url.value
    assert set(body) <= {
        "organization_reference",
        "job_reference",
        "job_stage_id",
        "email",
        "firstname",
        "lastname",
        "subtitle",
        "phone",
        "tag_list",
        "remote_resume_url",
        *(p for _, p in MEDIA_HOSTS),
        "media_website",
    }


@given(
    st.lists(
        st.sampled_from(["email", "firstname", "lastname", "job_stage_id", "job_reference"]),
        min_size=1,
        max_size=5,
        unique=True,
    )
)
def test_error_descriptions_become_per_parameter_messages(missing: list[str]) -> None:
    described = f"{', '.join(missing)} is missing"
    assert error_fields(described) == {name: [f"{name} is missing"] for name in missing}


def test_document_names_say_what_they_are() -> None:
    assert document_file_name("diplome.pdf", "OTHER") == "diplome"
    assert document_file_name("CV Zoë.pdf", "RESUME") == "CV Zoë"
    assert document_file_name("zoe.pdf", "RESUME") == "CV zoe"
    assert document_file_name("archive.tar.gz", "OTHER") == "archive.tar"
