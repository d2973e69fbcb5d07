"""viasto writes end to end against the emulator: create (JSON and multipart CV), find after a
lost answer, create_application, change_stage (forward only), add_attachment, reject (not
supported), the vendor's validation, and the pure draft -> body mapping (hypothesis)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.base import CandidateRecord, Capability, stage_remote_id
from connectors.sdk.errors import (
    NotFound,
    UnsupportedOperation,
    VendorRejectedRequest,
    VendorUnavailable,
)
from connectors.sdk.writes import (
    CREATE_CANDIDATE_FIELDS,
    CandidateDraft,
    FileUpload,
    StageMoveRefused,
    UrlDraft,
)
from connectors.viasto import ViastoConnector
from connectors.viasto.emulator import ViastoEmulator
from connectors.viasto.emulator.app import sniff_cv
from connectors.viasto.mapping import (
    CV_CONTENT_TYPES,
    CV_MAX_BYTES,
    DraftRefused,
    advance_refusal,
    candidate_body,
    field_errors,
)
from tests.connectors.viasto.conftest import TOKEN, make_connector, make_emulator

PDF = b"%PDF-1.4\n" + "Lebenslauf Zoë Ångström - Jürgen\n".encode() * 40
AUTH = {"Authorization": f"Token {TOKEN}"}


def cv(content: bytes = PDF, content_type: str = "application/pdf", **kw: Any) -> FileUpload:
    return FileUpload(file_name="lebenslauf.pdf", content_type=content_type, content=content, **kw)


def draft(**overrides: Any) -> CandidateDraft:
    values: dict[str, Any] = {
        "first_name": "Zoë",
        "last_name": "Ångström-Øster",
        "email_addresses": ("zoe.angstrom@example.com",),
        "phone_numbers": ("+49 30 1234567",),
        "job_remote_id": "10",
    }
    return CandidateDraft(**(values | overrides))


def stored(emulator: ViastoEmulator, remote_id: str) -> dict[str, Any]:
    project, candidate = remote_id.split("/")
    return emulator.companies[4].candidates[int(project)][int(candidate)]


def count(emulator: ViastoEmulator) -> int:
    return sum(len(p) for p in emulator.companies[4].candidates.values())


def comparable(record: CandidateRecord) -> dict[str, Any]:
    """A record as a user sees it, without the observation time."""
    return {
        "candidate": record.candidate.model_dump(exclude={"modified_at"}),
        "attachments": [a.model_dump(exclude={"modified_at"}) for a in record.attachments],
        "applications": [a.model_dump(exclude={"modified_at"}) for a in record.applications],
    }


async def synced(connector: ViastoConnector, remote_id: str) -> CandidateRecord:
    records = [
        r
        async for page in connector.iter_candidates()
        for r in page.records
        if r.candidate.remote_id == remote_id
    ]
    assert len(records) == 1
    return records[0]


async def downloaded(connector: ViastoConnector, attachment_remote_id: str) -> tuple[bytes, str]:
    async with connector.download_attachment(attachment_remote_id) as download:
        return b"".join([c async for c in download.chunks]), download.content_type


async def control(emulator: ViastoEmulator, path: str, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://acme.test"
    ) as client:
        return await client.post(f"/_emulator/{path}", json=body)


# --- create ---------------------------------------------------------------------------------


async def test_create_with_cv_is_what_the_next_sync_gives(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator) as connector:
        created = await connector.create_candidate(draft(attachments=(cv(),)))
        remote_id = created.candidate.remote_id or ""
        assert remote_id.startswith("10/")
        assert created.candidate.first_name == "Zoë"
        assert created.candidate.last_name == "Ångström-Øster"
        assert created.candidate.email_addresses == ["zoe.angstrom@example.com"]
        assert len(created.candidate.phone_numbers) == 1
        assert created.candidate.custom_fields["status"] == "new"  # type: ignore[index]
        (application,) = created.applications
        assert application.remote_id == remote_id
        assert application.job == connector.ids.job_id("10")
        assert application.current_stage == connector.ids.stage_id(stage_remote_id("10", "new"))
        (attachment,) = created.attachments
        assert attachment.remote_id == f"{remote_id}:cv"
        # The same ids and content as the next sync gives it.
        assert comparable(await synced(connector, remote_id)) == comparable(created)
        assert comparable(await connector.get_candidate(remote_id)) == comparable(created)
        # The vendor holds the very bytes sent, as the type it recognised.
        body, content_type = await downloaded(connector, attachment.remote_id or "")
    assert body == PDF and content_type == "application/pdf"
    assert stored(emulator, remote_id)["status"] == "new"
    assert stored(emulator, remote_id)["invitationdate"] is None  # nobody was e-mailed


async def test_create_without_a_file_sends_json_and_stores_no_cv(
    emulator: ViastoEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        created = await connector.create_candidate(
            draft(email_addresses=(), phone_numbers=(), job_remote_id="11")
        )
        remote_id = created.candidate.remote_id or ""
        assert remote_id.startswith("11/") and created.attachments == ()
        assert created.candidate.email_addresses == []
        assert comparable(await synced(connector, remote_id)) == comparable(created)
    assert emulator.companies[4].candidates[11][int(remote_id.split("/")[1])]["cv_type"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tags": ("python",)}, "tags"),
        ({"urls": (UrlDraft("https://linkedin.com/in/zoe", "LINKEDIN"),)}, "urls"),
        ({"company": "ACME"}, "company"),
        ({"title": "Engineer"}, "title"),
        ({"email_addresses": ("a@example.com", "b@example.com")}, "email_addresses"),
        ({"phone_numbers": ("+49 30 1", "+49 30 2")}, "phone_numbers"),
        ({"first_name": "  "}, "first_name"),
        ({"attachments": (cv(content_type="image/png"),)}, "attachments"),
        ({"attachments": (cv(), cv())}, "attachments"),
        ({"attachments": (cv(attachment_type="COVER_LETTER"),)}, "attachments"),
        ({"attachments": (cv(content=b"x" * (CV_MAX_BYTES + 1)),)}, "attachments"),
        (
            {"attachments": (FileUpload("cv.pdf", "application/pdf", url="https://x.test/cv"),)},
            "attachments",
        ),
    ],
)
async def test_what_viasto_cannot_store_is_refused_before_any_call(
    emulator: ViastoEmulator, overrides: dict[str, Any], field: str
) -> None:
    before, seen = count(emulator), emulator.app.requests_seen
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.create_candidate(draft(**overrides))
    assert field in caught.value.field_errors
    assert count(emulator) == before and emulator.app.requests_seen == seen


async def test_vendor_validation_is_field_errors_and_creates_nothing(
    emulator: ViastoEmulator,
) -> None:
    before = count(emulator)
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as bad_email:
            await connector.create_candidate(draft(email_addresses=("not-an-email",)))
        # Declared a PDF, but the bytes are a PNG: viasto sniffs the type and refuses it.
        png = cv(content=b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        with pytest.raises(VendorRejectedRequest) as bad_file:
            await connector.create_candidate(draft(attachments=(png,)))
    assert bad_email.value.vendor_status == 400
    assert bad_email.value.field_errors == {"email": ["Enter a valid email address."]}
    assert list(bad_file.value.field_errors) == ["cv"]
    assert "Unsupported file type" in bad_file.value.field_errors["cv"][0]
    assert count(emulator) == before
    assert emulator.companies[4].written["created"] == 0


async def test_a_stage_other_than_new_is_refused_on_create(emulator: ViastoEmulator) -> None:
    before, seen = count(emulator), emulator.app.requests_seen
    async with make_connector(emulator) as connector:
        with pytest.raises(StageMoveRefused) as caught:
            await connector.create_candidate(draft(stage_remote_id="10:invited"))
        assert "status 'new'" in caught.value.message and "e-mail" in caught.value.message
        assert caught.value.http_status == 409
        with pytest.raises(VendorRejectedRequest) as foreign:
            await connector.create_candidate(draft(stage_remote_id="11:new"))
        assert "job_interview_stage_id" in foreign.value.field_errors
        assert count(emulator) == before and emulator.app.requests_seen == seen
        created = await connector.create_candidate(draft(stage_remote_id="10:new"))
    assert created.candidate.custom_fields["status"] == "new"  # type: ignore[index]


async def test_unknown_or_malformed_jobs(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator) as connector:
        with pytest.raises(NotFound):
            await connector.create_candidate(draft(job_remote_id="99"))
        seen = emulator.app.requests_seen
        for bad in ("../10", "1 0", "", "\u0661\u0660"):
            with pytest.raises(NotFound):
                await connector.create_candidate(draft(job_remote_id=bad))
        with pytest.raises(VendorRejectedRequest) as no_job:
            await connector.create_candidate(draft(job_remote_id=None))
    assert emulator.app.requests_seen == seen
    assert "job_id" in no_job.value.field_errors


# --- lost answers ------------------------------------------------------------------------------


async def test_a_lost_create_answer_is_found_not_duplicated(emulator: ViastoEmulator) -> None:
    before = count(emulator)
    wanted = draft(attachments=(cv(),))
    async with make_connector(emulator) as connector:
        await connector.projects()  # warm: the one failing request is the write itself
        faults = await control(
            emulator, "faults", {"fail_status": 502, "fail_count": 1, "fail_after_commit": True}
        )
        assert faults.status_code == 200
        with pytest.raises(VendorUnavailable):
            await connector.create_candidate(wanted)
        assert count(emulator) == before + 1  # the vendor committed it; its answer was lost
        found = await connector.find_candidate(wanted)
        assert found is not None
        assert count(emulator) == before + 1  # looking it up created nothing
        remote_id = found.candidate.remote_id or ""
        assert stored(emulator, remote_id)["email"] == "zoe.angstrom@example.com"
        assert comparable(found) == comparable(await synced(connector, remote_id))
        # Another person (other e-mail, or same e-mail with other names) is not "found".
        assert await connector.find_candidate(draft(email_addresses=("x@example.com",))) is None
        assert await connector.find_candidate(draft(first_name="Zoe")) is None
        assert await connector.find_candidate(draft(job_remote_id="11")) is None


async def test_find_without_email_matches_names_and_phone(emulator: ViastoEmulator) -> None:
    wanted = draft(email_addresses=(), job_remote_id="12")
    async with make_connector(emulator) as connector:
        assert await connector.find_candidate(wanted) is None
        created = await connector.create_candidate(wanted)
        found = await connector.find_candidate(wanted)
        assert found is not None and comparable(found) == comparable(created)
        assert await connector.find_candidate(draft(email_addresses=(), phone_numbers=())) is None


# --- applications --------------------------------------------------------------------------


async def test_create_application_copies_the_person_and_cv_once(
    emulator: ViastoEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        source = await connector.create_candidate(draft(attachments=(cv(),)))
        source_id = source.candidate.remote_id or ""
        applied = await connector.create_application(source_id, "11", None)
        remote_id = applied.candidate.remote_id or ""
        assert remote_id.startswith("11/") and remote_id != source_id
        assert applied.candidate.first_name == "Zoë"
        assert applied.candidate.email_addresses == source.candidate.email_addresses
        assert applied.candidate.phone_numbers == source.candidate.phone_numbers
        assert applied.applications[0].job == connector.ids.job_id("11")
        assert comparable(await synced(connector, remote_id)) == comparable(applied)
        body, _ = await downloaded(connector, f"{remote_id}:cv")
        assert body == PDF
        before = count(emulator)
        again = await connector.create_application(source_id, "11", "11:new")
        assert again.candidate.remote_id == remote_id and count(emulator) == before
        with pytest.raises(VendorRejectedRequest) as same_project:
            await connector.create_application(source_id, "10", None)
        assert "job_id" in same_project.value.field_errors
        with pytest.raises(StageMoveRefused):
            await connector.create_application(source_id, "12", "12:invited")
        with pytest.raises(NotFound):
            await connector.create_application("10/99999", "12", None)
        with pytest.raises(NotFound):
            await connector.create_application(source_id, "99", None)
    assert count(emulator) == before


# --- change stage -----------------------------------------------------------------------------


async def test_change_stage_advances_one_step_and_sync_agrees(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator) as connector:
        created = await connector.create_candidate(draft())
        remote_id = created.candidate.remote_id or ""
        moved = await connector.change_stage(remote_id, "10:invited")
        invited_stage = connector.ids.stage_id(stage_remote_id("10", "invited"))
        assert moved.applications[0].current_stage == invited_stage
        assert moved.candidate.custom_fields["status"] == "invited"  # type: ignore[index]
        assert comparable(await synced(connector, remote_id)) == comparable(moved)
        vendor = stored(emulator, remote_id)
        assert vendor["status"] == "invited" and vendor["invitationdate"] is not None
        # Without a deadline set, the project's default interview period gives one.
        assert vendor["deadline"] > datetime.now(UTC) + timedelta(days=6)
        confirmed = await connector.change_stage(remote_id, "10:confirmed")
        assert confirmed.candidate.custom_fields["status"] == "confirmed"  # type: ignore[index]
        # Asking for the stage it is in sends nothing.
        advanced = emulator.companies[4].written["advanced"]
        same = await connector.change_stage(remote_id, "10:confirmed")
        assert comparable(same) == comparable(await connector.get_candidate(remote_id))
    assert emulator.companies[4].written["advanced"] == advanced == 2


@pytest.mark.parametrize(
    ("status", "target", "words"),
    [
        ("invited", "new", "only move forward"),
        ("interviewed", "confirmed", "only move forward"),
        ("interviewed", "expired", "no action that sets status 'expired'"),
        ("new", "interviewed", "one status at a time"),
        ("new", "confirmed", "one status at a time"),
        ("new", "aborted", "no action that sets status 'aborted'"),
        ("invited", "skipped", "no action"),
        ("expired", "invited", "out of status 'expired'"),
        ("aborted", "interviewing", "out of status 'aborted'"),
    ],
)
async def test_moves_the_workflow_forbids_are_refused_without_a_write(
    emulator: ViastoEmulator, status: str, target: str, words: str
) -> None:
    vendor = emulator.companies[4].candidates[10][501]
    vendor["status"] = status
    async with make_connector(emulator) as connector:
        with pytest.raises(StageMoveRefused) as caught:
            await connector.change_stage("10/501", f"10:{target}")
    assert words in caught.value.message and caught.value.http_status == 409
    assert vendor["status"] == status
    assert emulator.companies[4].written["advanced"] == 0


async def test_change_stage_bad_ids_and_vendor_refusals(emulator: ViastoEmulator) -> None:
    async with make_connector(emulator) as connector:
        with pytest.raises(VendorRejectedRequest) as foreign:
            await connector.change_stage("10/501", "11:invited")
        assert "job_interview_stage_id" in foreign.value.field_errors
        with pytest.raises(VendorRejectedRequest):
            await connector.change_stage("10/501", "10:hired")
        for bad in ("10/../501", "x", "10/"):
            with pytest.raises(NotFound):
                await connector.change_stage(bad, "10:invited")
        with pytest.raises(NotFound):
            await connector.change_stage("10/99999", "10:invited")
        # viasto's own rule: an invitation is an e-mail, so a candidate needs an address.
        no_email = await connector.create_candidate(draft(email_addresses=()))
        with pytest.raises(VendorRejectedRequest) as refused:
            await connector.change_stage(no_email.candidate.remote_id or "", "10:invited")
        assert "email address" in refused.value.message and refused.value.vendor_status == 400


async def test_set_deadline_is_kept_by_the_invitation(emulator: ViastoEmulator) -> None:
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    async with make_connector(emulator) as connector:
        created = await connector.create_candidate(draft())
        remote_id = created.candidate.remote_id or ""
        await connector.set_deadline(remote_id, deadline)
        moved = await connector.change_stage(remote_id, "10:invited")
        with pytest.raises(ValueError, match="time zone"):
            await connector.set_deadline(remote_id, datetime(2030, 1, 1))
    assert stored(emulator, remote_id)["deadline"] == deadline
    assert moved.candidate.custom_fields["deadline"] == deadline.isoformat().replace(  # type: ignore[index]
        "+00:00", "Z"
    )


async def test_no_invitation_to_a_draft_interview() -> None:
    emulator = make_emulator(projects=4)
    assert emulator.companies[4].projects[13]["status"] == "draft"
    async with make_connector(emulator) as connector:
        created = await connector.create_candidate(draft(job_remote_id="13"))
        with pytest.raises(VendorRejectedRequest) as caught:
            await connector.change_stage(created.candidate.remote_id or "", "13:invited")
    assert "active interview" in caught.value.message


# --- reject, attachments ---------------------------------------------------------------------


async def test_reject_is_not_supported_and_says_why(emulator: ViastoEmulator) -> None:
    assert Capability.REJECT_APPLICATION not in ViastoConnector.capabilities
    async with make_connector(emulator) as connector:
        with pytest.raises(UnsupportedOperation):
            await connector.reject_application("10/501")
    assert "no action that rejects" in ViastoConnector.write_rules.notes["reject_application"]


async def test_add_attachment_replaces_the_cv_and_sync_agrees(emulator: ViastoEmulator) -> None:
    text_cv = "Zoë Ångström\nErfahrung: 10 Jahre\n".encode()
    async with make_connector(emulator) as connector:
        created = await connector.create_candidate(draft())
        remote_id = created.candidate.remote_id or ""
        assert created.attachments == ()
        attachment = await connector.add_attachment(
            remote_id, FileUpload("cv.txt", "text/plain", content=text_cv)
        )
        assert attachment.remote_id == f"{remote_id}:cv"
        assert attachment.id == connector.ids.attachment_id(f"{remote_id}:cv")
        synced_record = await synced(connector, remote_id)
        assert [a.model_dump(exclude={"modified_at"}) for a in synced_record.attachments] == [
            attachment.model_dump(exclude={"modified_at"})
        ]
        assert await downloaded(connector, attachment.remote_id or "") == (text_cv, "text/plain")
        # viasto holds one CV: a second upload replaces the first, under the same id.
        again = await connector.add_attachment(remote_id, cv())
        assert again.remote_id == attachment.remote_id
        assert (await downloaded(connector, again.remote_id or ""))[0] == PDF
        seen = emulator.app.requests_seen
        with pytest.raises(VendorRejectedRequest) as refused:
            await connector.add_attachment(remote_id, cv(content_type="image/png"))
        assert "attachment" in refused.value.field_errors
        assert emulator.app.requests_seen == seen
        with pytest.raises(NotFound):
            await connector.add_attachment("10/99999", cv())
    assert emulator.companies[4].written["updated"] == 2


# --- the emulator speaks viasto ------------------------------------------------------------


async def test_emulator_write_routes_answer_as_documented(emulator: ViastoEmulator) -> None:
    base = "/api/v3/companies/4/projects"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://acme.test", headers=AUTH
    ) as client:
        missing = await client.post(f"{base}/10/candidates/", json={"last_name": "X"})
        blank = await client.post(
            f"{base}/10/candidates/", json={"first_name": " ", "last_name": "X"}
        )
        not_a_file = await client.post(
            f"{base}/10/candidates/", json={"first_name": "A", "last_name": "B", "cv": "x"}
        )
        unknown = await client.post(f"{base}/99/candidates/", json={"first_name": "A"})
        list_body = await client.post(f"{base}/10/candidates/", json=[1])
        no_auth = await client.post(
            f"{base}/10/candidates/", json={"first_name": "A"}, headers={"Authorization": ""}
        )
        created = await client.post(
            f"{base}/10/candidates/",
            data={
                "first_name": "Ann",
                "last_name": "Lee",
                "email": "ann@example.com",
                "status": "interviewed",
            },
            files={"cv": ("cv.ps", b"%!PS-Adobe-3.0\n...", "application/pdf")},
        )
        uri = created.json()["resource_uri"]
        patched = await client.patch(uri, files={"cv": ("x.doc", b"\xd0\xcf\x11\xe0abc")})
        empty = await client.patch(uri, files={"cv": ("x.pdf", b"", "application/pdf")})
        renamed = await client.patch(uri, json={"last_name": "Lee-Park", "deadline": "2031"})
        for _ in range(4):
            await client.patch(f"{uri}status/advance/")
        stuck = await client.patch(f"{uri}status/advance/")
    assert missing.status_code == 400 and missing.json() == {
        "first_name": ["This field is required."]
    }
    assert blank.json() == {"first_name": ["This field may not be blank."]}
    assert not_a_file.json() == {
        "cv": ["The submitted data was not a file. Check the encoding type on the form."]
    }
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not found."}
    assert list_body.status_code == 400 and "non_field_errors" in list_body.json()
    assert no_auth.status_code == 401
    assert created.status_code == 201 and created.json()["status"] == "new"  # status ignored
    candidate = stored(emulator, "/".join(uri.rstrip("/").split("/")[-3::2]))
    assert patched.status_code == 202 and candidate["cv_type"] == "application/msword"
    assert empty.status_code == 400 and empty.json() == {"cv": ["The submitted file is empty."]}
    assert renamed.status_code == 202 and renamed.json()["last_name"] == "Lee-Park"
    assert candidate["status"] == "interviewed"  # four advances, then no further status
    assert stuck.status_code == 400 and stuck.json() == {
        "detail": "No valid transition from status 'interviewed'."
    }
    state = (await control(emulator, "faults", {})).status_code
    assert state == 200
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url="https://acme.test"
    ) as client:
        shown = (await client.get("/_emulator/state")).json()
    account = next(a for a in shown["accounts"] if a["account"] == "4")
    assert account["written"] == {"created": 1, "updated": 2, "advanced": 4}


@pytest.mark.parametrize(
    ("content", "declared", "expected"),
    [
        (b"%PDF-1.7 ...", "text/plain", "application/pdf"),
        (b"%!PS-Adobe", "application/pdf", "application/postscript"),
        (b"\xf7\x02\x01", "", "application/x-dvi"),
        (b"{\\rtf1\\ansi", "text/plain", "text/richtext"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1",
            "application/vnd.ms-powerpoint",
            "application/vnd.ms-powerpoint",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "application/pdf", "application/msword"),
        ("Grüße\n".encode(), "application/pdf", "text/plain"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "application/pdf", None),
        (b"PK\x03\x04\x00\x00", "application/msword", None),  # .docx is not on the list
    ],
)
def test_the_emulator_recognises_cv_types_from_the_bytes(
    content: bytes, declared: str, expected: str | None
) -> None:
    assert sniff_cv(content, declared) == expected


# --- declarations and pure mapping ---------------------------------------------------------


def test_write_rules_declare_only_what_viasto_stores() -> None:
    rules = ViastoConnector.write_rules
    assert rules.create_fields <= CREATE_CANDIDATE_FIELDS
    assert not rules.create_fields & {"company", "title", "urls", "tags"}
    assert rules.create_required == {"first_name", "last_name", "job_id"}
    assert rules.create_files is not None and rules.attachment_files is not None
    assert rules.create_files.content_types == CV_CONTENT_TYPES and len(CV_CONTENT_TYPES) == 7
    assert rules.create_files.max_files == 1 and not rules.create_files.by_url
    assert rules.stage_moves_forward_only
    assert set(rules.notes) == {
        "create_candidate",
        "create_application",
        "change_stage",
        "reject_application",
        "add_attachment",
    }
    assert {
        Capability.CREATE_CANDIDATE,
        Capability.CREATE_APPLICATION,
        Capability.CHANGE_STAGE,
        Capability.ADD_ATTACHMENT,
    } <= ViastoConnector.capabilities


def test_error_bodies_become_field_errors() -> None:
    assert field_errors({"detail": "Not found."}) == ("Not found.", {})
    assert field_errors({"email": ["Enter a valid email address."], "cv": "Too big."}) == (
        None,
        {"email": ["Enter a valid email address."], "cv": ["Too big."]},
    )
    assert field_errors(["nope"]) == (None, {})


names = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")
emails = st.emails()
phones = st.from_regex(r"\+49 [1-9][0-9]{1,3} [0-9]{4,8}", fullmatch=True)


@given(
    first=names, last=names, email=st.lists(emails, max_size=3), phone=st.lists(phones, max_size=3)
)
def test_draft_to_body_maps_one_of_each_and_refuses_more(
    first: str, last: str, email: list[str], phone: list[str]
) -> None:
    wanted = CandidateDraft(
        first_name=first,
        last_name=last,
        email_addresses=tuple(email),
        phone_numbers=tuple(phone),
        job_remote_id="10",
    )
    if len(email) > 1 or len(phone) > 1:
        with pytest.raises(DraftRefused) as caught:
            candidate_body(wanted)
        expected = {"email_addresses"} if len(email) > 1 else set()
        expected |= {"phone_numbers"} if len(phone) > 1 else set()
        assert set(caught.value.field_errors) == expected
        return
    body = candidate_body(wanted)
    assert body["first_name"] == first.strip() and body["last_name"] == last.strip()
    assert body.get("email") == (email[0] if email else None)
    assert body.get("phone") == (phone[0] if phone else None)
    assert set(body) <= {"first_name", "last_name", "email", "phone"}


@given(
    tags=st.lists(st.text(min_size=1), min_size=1, max_size=3),
    urls=st.lists(st.builds(UrlDraft, st.text(min_size=1)), max_size=2),
    company=st.one_of(st.none(), names),
)
def test_draft_fields_viasto_lacks_are_named_never_dropped(
    tags: list[str], urls: list[UrlDraft], company: str | None
) -> None:
    with pytest.raises(DraftRefused) as caught:
        candidate_body(draft(tags=tuple(tags), urls=tuple(urls), company=company))
    expected = {"tags"} | ({"urls"} if urls else set()) | ({"company"} if company else set())
    assert set(caught.value.field_errors) == expected


@given(
    current=st.sampled_from(
        ["new", "invited", "confirmed", "interviewing", "interviewed", "expired", "aborted"]
    ),
    target=st.sampled_from(
        ["new", "invited", "confirmed", "interviewing", "interviewed", "expired", "skipped"]
    ),
)
def test_only_the_next_main_status_is_one_advance(current: str, target: str) -> None:
    path = ["new", "invited", "confirmed", "interviewing", "interviewed"]
    one_step = current in path and target in path and path.index(target) == path.index(current) + 1
    assert (advance_refusal(current, target) is None) == one_step
