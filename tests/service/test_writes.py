"""Writes through the API against the emulators: validated before any vendor call, sent once,
stored as the vendor answered (readable at once, with the ids a later sync gives), idempotent,
and never duplicated when the vendor's answer is lost."""

import base64
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.service.conftest import Stack
from unified_ats.writes.staging import sign_file, verify_file

API = "/api/ats/v1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 2000
VENDORS_THAT_CREATE = ["flatchr", "welcomekit", "viasto"]


def resume(content: bytes = PDF, **overrides: Any) -> dict[str, Any]:
    return {
        "file_name": "Zoé Ngô CV.pdf",
        "attachment_type": "RESUME",
        "content_type": "application/pdf",
        "data": base64.b64encode(content).decode(),
        **overrides,
    }


class Writer:
    def __init__(self, stack: Stack, vendor: str, token: str) -> None:
        self.stack, self.vendor, self.headers = stack, vendor, stack.headers(token)

    @property
    def emulator(self) -> Any:
        return getattr(self.stack, self.vendor)

    @property
    def vendor_requests(self) -> int:
        return int(self.emulator.app.requests_seen)

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.stack.client.get(f"{API}{path}", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: Any, key: str | None = None):
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        return await self.stack.client.post(f"{API}{path}", json=body, headers=headers)

    async def open_job(self) -> dict[str, Any]:
        jobs = (await self.get("/jobs", page_size=200))["items"]
        return next(j for j in jobs if j["status"] == "OPEN")

    async def stages(self, job_id: str) -> list[dict[str, Any]]:
        return (await self.get("/job-interview-stages", job=job_id, page_size=200))["items"]

    async def draft(self, email: str = "zoe.ngo@example.org") -> dict[str, Any]:
        job = await self.open_job()
        data: dict[str, Any] = {
            "first_name": "Zoé",
            "last_name": "Ngô",
            "email_addresses": [email],
            "job_id": job["id"],
            "attachments": [resume()],
        }
        return {"data": data}

    async def by_email(self, email: str) -> list[dict[str, Any]]:
        items = (await self.get("/candidates", email_addresses=email, page_size=200))["items"]
        return items

    async def full_sync(self, connection_id: str) -> None:
        await self.stack.services.sync(uuid.UUID(connection_id), full=True)


async def writer(stack: Stack, vendor: str) -> tuple[Writer, str]:
    created = await stack.connect_vendor(vendor)
    return Writer(stack, vendor, created["connector_token"]), created["id"]


@pytest.mark.parametrize("vendor", VENDORS_THAT_CREATE)
async def test_a_created_candidate_is_readable_at_once_and_a_sync_agrees(
    stack: Stack, vendor: str
) -> None:
    w, connection_id = await writer(stack, vendor)
    body = await w.draft()
    response = await w.post("/candidates", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["first_name"], created["last_name"]) == ("Zoé", "Ngô")
    [application] = created["applications"]
    assert application["job"] == body["data"]["job_id"]
    assert application["candidate"] == created["id"]
    # Readable at once, by GET and list, as stored.
    fetched = await w.get(f"/candidates/{created['id']}")
    assert fetched["id"] == created["id"] and fetched["modified_at"] == created["modified_at"]
    assert [c["id"] for c in await w.by_email("zoe.ngo@example.org")] == [created["id"]]
    # A full sync finds the same record, with the same ids, and no real change.
    await w.full_sync(connection_id)
    after = await w.get(f"/candidates/{created['id']}")
    assert after["remote_was_deleted"] is False
    assert after["modified_at"] == created["modified_at"]
    assert [c["id"] for c in await w.by_email("zoe.ngo@example.org")] == [created["id"]]
    stored = await w.get(f"/applications/{application['id']}")
    assert stored["job"] == application["job"]
    # The CV went to the vendor byte for byte.
    attachments = (await w.get("/attachments", candidate=created["id"]))["items"]
    resumes = [a for a in attachments if a["attachment_type"] == "RESUME"]
    assert resumes
    download = await w.stack.client.get(
        f"{API}/attachments/{resumes[0]['id']}/download", headers=w.headers
    )
    assert download.status_code == 200 and download.content == PDF


@pytest.mark.parametrize("vendor", VENDORS_THAT_CREATE)
async def test_invalid_writes_are_422s_before_any_vendor_call(stack: Stack, vendor: str) -> None:
    w, _ = await writer(stack, vendor)
    body = await w.draft()
    meta = await w.get("/candidates/meta/post")
    limits = meta["file_limits"]
    unsupported = sorted({"company", "title", "urls", "tags"} - set(meta["schema"]["properties"]))
    cases: list[tuple[dict[str, Any], str, list[str | int]]] = [
        (
            {**body["data"], "job_id": str(uuid.uuid4())},
            "unknown_job",
            ["body", "data", "job_id"],
        ),
        (
            {**body["data"], "attachments": [resume(content=b"x" * (limits["max_bytes"] + 1))]},
            "file_too_large",
            ["body", "data", "attachments", 0, "data"],
        ),
        (
            {**body["data"], "attachments": [resume(content_type="application/x-msdownload")]},
            "unsupported_content_type",
            ["body", "data", "attachments", 0, "content_type"],
        ),
        (
            {**body["data"], "attachments": [{**resume(), "data": "%%%not base64"}]},
            "base64_invalid",
            ["body", "data", "attachments", 0, "data"],
        ),
    ]
    for field in unsupported:
        value: Any = "ACME" if field in {"company", "title"} else ["x"]
        if field == "urls":
            value = [{"type": "PERSONAL", "value": "https://example.org"}]
        cases.append(
            ({**body["data"], field: value}, "field_not_supported", ["body", "data", field])
        )
    for field, most in meta["max_items"].items():
        extra = [f"{i}@example.org" if "email" in field else f"+3360000000{i}" for i in range(9)]
        cases.append(
            ({**body["data"], field: extra[: most + 1]}, "too_many_items", ["body", "data", field])
        )
    if meta["url_types"] is not None and "urls" in meta["schema"]["properties"]:
        other = sorted({"COMPANY", "JOB_POSTING", "OTHER", "BLOG"} - set(meta["url_types"]))[0]
        url = {"type": other, "value": "https://example.org/x"}
        cases.append(
            (
                {**body["data"], "urls": [url]},
                "url_type_not_supported",
                ["body", "data", "urls", 0, "type"],
            )
        )
    for required in meta["required"]:
        data = {k: v for k, v in body["data"].items() if k != required}
        cases.append((data, "missing", ["body", "data", required]))
    before = w.vendor_requests
    for data, kind, loc in cases:
        response = await w.post("/candidates", {"data": data})
        assert response.status_code == 422, (kind, response.text)
        problems = response.json()["detail"]
        assert any(p["type"] == kind and p["loc"] == loc for p in problems), (kind, problems)
        assert "%%%" not in response.text
    assert w.vendor_requests == before, "a refused write must not reach the vendor"
    assert await w.by_email("zoe.ngo@example.org") == []


async def test_the_same_idempotency_key_creates_once(stack: Stack) -> None:
    w, _ = await writer(stack, "welcomekit")
    body = await w.draft()
    first = await w.post("/candidates", body, key="create-zoe-1")
    assert first.status_code == 201, first.text
    before = w.vendor_requests
    again = await w.post("/candidates", body, key="create-zoe-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert w.vendor_requests == before
    changed = {"data": {**body["data"], "first_name": "Zoë"}}
    reused = await w.post("/candidates", changed, key="create-zoe-1")
    assert reused.status_code == 422
    assert reused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert len(await w.by_email("zoe.ngo@example.org")) == 1


@pytest.mark.parametrize("vendor", ["welcomekit", "viasto"])
async def test_a_lost_answer_never_leaves_a_duplicate(stack: Stack, vendor: str) -> None:
    w, connection_id = await writer(stack, vendor)
    body = await w.draft()
    control = httpx_control(w)
    # The vendor commits the create, then answers 502; the lookup finds the record.
    await control({"fail_status": 502, "fail_count": 1, "fail_after_commit": True})
    response = await w.post("/candidates", body, key="lost-1")
    assert response.status_code == 201, response.text
    await w.full_sync(connection_id)
    assert len(await w.by_email("zoe.ngo@example.org")) == 1


async def test_an_unknown_outcome_is_looked_up_on_the_retry(stack: Stack) -> None:
    w, connection_id = await writer(stack, "welcomekit")
    body = await w.draft(email="lost.twice@example.org")
    control = httpx_control(w)
    # The create commits but its answer is lost, and so is the lookup's.
    await control({"fail_status": 502, "fail_count": 2, "fail_after_commit": True})
    failed = await w.post("/candidates", body, key="unknown-1")
    assert failed.status_code == 502, failed.text
    assert "Idempotency-Key" in failed.json()["detail"]
    state = await stack.services.idempotency.get_state(f"connection:{connection_id}", "unknown-1")
    assert state == "unknown"
    retried = await w.post("/candidates", body, key="unknown-1")
    assert retried.status_code == 201, retried.text
    await w.full_sync(connection_id)
    assert len(await w.by_email("lost.twice@example.org")) == 1


def httpx_control(w: Writer) -> Any:
    async def faults(switches: dict[str, Any]) -> None:
        from connectors.sdk.emulation import EmulatorTransport

        async with __import__("httpx").AsyncClient(
            transport=EmulatorTransport(w.emulator.app), base_url="http://emulator"
        ) as client:
            response = await client.post("/_emulator/faults", json=switches)
            assert response.status_code == 200, response.text

    return faults


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_change_stage_moves_the_application(stack: Stack, vendor: str) -> None:
    w, _ = await writer(stack, vendor)
    body = await w.draft(email=f"mover.{vendor}@example.org")
    created = (await w.post("/candidates", body)).json()
    [application] = created["applications"]
    stages = await w.stages(application["job"])
    current = stages.index(next(s for s in stages if s["id"] == application["current_stage"]))
    target = stages[current + 1]
    moved = await w.post(
        f"/applications/{application['id']}/change-stage",
        {"job_interview_stage_id": target["id"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["current_stage"] == target["id"]
    assert (await w.get(f"/applications/{application['id']}"))["current_stage"] == target["id"]
    other_job = next(
        j for j in (await w.get("/jobs", page_size=200))["items"] if j["id"] != application["job"]
    )
    foreign = (await w.stages(other_job["id"]))[0]
    refused = await w.post(
        f"/applications/{application['id']}/change-stage",
        {"job_interview_stage_id": foreign["id"]},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "stage_of_another_job"
    if vendor == "viasto":
        back = await w.post(
            f"/applications/{application['id']}/change-stage",
            {"job_interview_stage_id": stages[current]["id"]},
        )
        assert back.status_code == 409, back.text
        assert back.json()["detail"]


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_reject_or_a_501_that_says_why(stack: Stack, vendor: str) -> None:
    w, _ = await writer(stack, vendor)
    created = (await w.post("/candidates", await w.draft(email=f"no.{vendor}@example.org"))).json()
    [application] = created["applications"]
    response = await w.post(f"/applications/{application['id']}/reject", {})
    meta = await w.get("/applications/meta/reject")
    if not meta["supported"]:
        assert response.status_code == 501 and response.json()["detail"] == meta["notes"]
        return
    assert response.status_code == 200, response.text
    rejected = response.json()
    assert rejected["archived"] is True or rejected["rejected_at"] is not None
    stored = await w.get(f"/applications/{application['id']}")
    assert (stored["archived"], stored["rejected_at"]) == (
        rejected["archived"],
        rejected["rejected_at"],
    )


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_attach_a_document_or_a_501_naming_the_vendors_limit(
    stack: Stack, vendor: str
) -> None:
    w, _ = await writer(stack, vendor)
    created = (await w.post("/candidates", await w.draft(email=f"doc.{vendor}@example.org"))).json()
    letter = b"%PDF-1.4\nCover letter\n%%EOF\n" + b"y" * 500
    upload = {"data": resume(content=letter, file_name="cv-2.pdf")}
    before = w.vendor_requests
    response = await w.post(f"/candidates/{created['id']}/attachments", upload)
    meta = await w.get("/candidates/attachments/meta/post")
    if not meta["supported"]:
        assert response.status_code == 501, response.text
        assert response.json()["detail"] == meta["notes"] and vendor in meta["notes"].lower()
        assert w.vendor_requests == before
        return
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert attachment["candidate"] == created["id"]
    download = await w.stack.client.get(
        f"{API}/attachments/{attachment['id']}/download", headers=w.headers
    )
    assert download.content == letter


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_meta_routes_describe_what_each_write_takes(stack: Stack, vendor: str) -> None:
    w, _ = await writer(stack, vendor)
    cls = stack.services.pool.connector_class(vendor)
    rules = cls.write_rules
    meta = await w.get("/candidates/meta/post")
    assert meta["connector"] == vendor and meta["supported"] is True
    assert set(meta["schema"]["properties"]) == set(rules.create_fields)
    assert meta["required"] == sorted(rules.create_required)
    assert meta["file_limits"]["max_bytes"] == rules.create_files.max_bytes
    for path in ("applications/meta/post", "applications/meta/change-stage"):
        described = await w.get(f"/{path}")
        assert described["notes"], path


async def test_a_staged_file_url_is_signed_short_lived_and_kept_out_of_logs(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = stack.services.signing_key
    file_id = uuid.uuid4()
    now = datetime.now(UTC)
    token = sign_file(key, file_id, now + timedelta(minutes=15))
    assert verify_file(key, token) == file_id
    assert verify_file(key, token, now=now + timedelta(minutes=16)) is None
    assert verify_file(b"another key" * 3, token) is None
    assert verify_file(key, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    response = await stack.client.get(f"/files/{token}")
    assert response.status_code == 404  # signed, but no such file
    logging.getLogger("uvicorn.access").info('"GET /files/%s HTTP/1.1" 200', token)
    assert token not in caplog.text and "uats_fl_" in caplog.text


@pytest.mark.parametrize("vendor", VENDORS_THAT_CREATE)
async def test_the_docs_example_pushes_a_candidate_once_even_when_the_answer_is_lost(
    stack: Stack, vendor: str
) -> None:
    from tests.docs_examples import example

    w, connection_id = await writer(stack, vendor)
    push = example("writes.md", "push-candidate-with-cv")["push_candidate"]
    job = await w.open_job()
    await httpx_control(w)({"fail_status": 502, "fail_count": 2, "fail_after_commit": True})
    created = await push(stack.client, w.headers, job["id"], PDF)
    assert created["applications"][0]["job"] == job["id"]
    again = await push(stack.client, w.headers, job["id"], PDF)
    assert again == created
    await w.full_sync(connection_id)
    assert [c["id"] for c in await w.by_email("zoe.ngo@example.org")] == [created["id"]]


async def test_a_vendor_refusal_is_our_422_with_its_field_messages(stack: Stack) -> None:
    w, _ = await writer(stack, "welcomekit")
    body = await w.draft(email="not-an-e-mail")
    created_before = stack.welcomekit.written["candidates_created"]
    response = await w.post("/candidates", body, key="bad-email")
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert problems and all(p["type"] == "vendor_rejected" for p in problems)
    assert any(p["loc"][:2] == ["body", "vendor"] and "email" in p["loc"][2] for p in problems)
    assert stack.welcomekit.written["candidates_created"] == created_before
    assert await w.by_email("not-an-e-mail") == []
    # A refusal proves nothing was written: the key is free for a corrected request.
    state = await stack.services.idempotency.get_state(
        f"connection:{(await stack.services.accounts.connections(stack.tenant))[0].id}",
        "bad-email",
    )
    assert state is None


async def test_expired_idempotency_keys_are_swept(stack: Stack) -> None:
    from unified_ats.store import idempotency

    keys = stack.services.idempotency
    claim = await keys.claim("connection:x", "old", "f" * 64)
    assert isinstance(claim, idempotency.Claim)
    await keys.finish(claim, 201, b"{}")
    assert await keys.get_state("connection:x", "old") == "done"
    later = idempotency.utcnow() + idempotency.KEEP + timedelta(seconds=1)
    original = idempotency.utcnow
    idempotency.utcnow = lambda: later  # type: ignore[assignment]
    try:
        keys._swept_at = None
        again = await keys.claim("connection:x", "new", "e" * 64)
    finally:
        idempotency.utcnow = original  # type: ignore[assignment]
    assert isinstance(again, idempotency.Claim)
    assert await keys.get_state("connection:x", "old") is None
