"""The conformance kit: the checks every connector passes against its emulator.

A connector's test module needs one line::

    TestFlatchrConformance = conformance_suite(make_flatchr_harness)

where ``make_flatchr_harness()`` returns a :class:`ConformanceHarness` wired to the emulator.
Needs pytest (and pytest-asyncio in auto mode), so it is imported only by test suites.
"""

import contextlib
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from connectors.sdk.base import (
    UNCHANGED_PER_RECORD,
    CandidateRecord,
    Capability,
    Connector,
    JobRecord,
)
from connectors.sdk.emulation import Faults
from connectors.sdk.errors import (
    AuthFailed,
    ConnectorError,
    InvalidVendorResponse,
    NotFound,
    RateLimited,
    UnsupportedOperation,
    VendorTimeout,
    VendorUnavailable,
)
from connectors.sdk.writes import CREATE_CANDIDATE_FIELDS, CandidateDraft, FileUpload
from schemas import Application, Attachment, Candidate, Job, JobInterviewStage

PLATFORM_FIELDS = frozenset({"id", "modified_at", "remote_was_deleted"})


async def no_sleep(seconds: float) -> None:
    """Retries in conformance tests must not slow the suite down."""


@dataclass
class ConformanceHarness:
    """What the kit needs: a connector factory over the emulator, and the emulator's switches."""

    make_connector: Callable[[], Connector[Any]]
    faults: Faults
    expected_count: int
    """How many candidates a full enumeration must yield."""
    page_size: int
    """A page size small enough to force several pages."""
    secrets: Sequence[str]
    """Every credential the connector holds; none may appear in any error text or log."""
    missing_remote_id: str = "does-not-exist-0000"
    webhook_bodies: Callable[[str], Sequence[Any]] | None = None
    """The webhook bodies the vendor sends for a remote id, when the connector takes webhooks:
    each must normalize to exactly the record the enumeration gives."""
    vendor_counts: bool = True
    """The vendor's listings carry a total (so a shortfall can be detected); False for a
    vendor that only ever sends the whole list (Flatchr's search)."""
    expected_jobs: int | None = None
    """How many jobs the emulator holds (None: the connector serves no jobs)."""
    missing_job_remote_id: str = "does-not-exist-0000"
    host_file: Callable[[bytes, str], str] | None = None
    """For a vendor that fetches files by URL: a URL at which its emulator can fetch these
    bytes (with this content type)."""


SAMPLE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"0" * 1024


async def open_job(connector: Connector[Any]) -> JobRecord:
    jobs = await all_jobs(connector)
    assert jobs, "writes need a job to write to"
    return next((j for j in jobs if j.job.status == "OPEN"), jobs[0])


def sample_draft(
    connector: Connector[Any], harness: "ConformanceHarness", job: JobRecord
) -> CandidateDraft:
    """A draft with every field the connector takes that the kit can fill plausibly."""
    rules = connector.write_rules
    taken = rules.create_fields
    files: tuple[FileUpload, ...] = ()
    if "attachments" in taken and rules.create_files is not None:
        types = rules.create_files.content_types
        content_type = "application/pdf" if "application/pdf" in types else sorted(types)[0]
        url = None
        if rules.create_files.by_url:
            assert harness.host_file is not None, "a by-URL vendor's harness needs host_file"
            url = harness.host_file(SAMPLE_PDF, content_type)
        files = (
            FileUpload(
                file_name="conformance-cv.pdf",
                content_type=content_type,
                attachment_type="RESUME",
                content=SAMPLE_PDF,
                url=url,
            ),
        )
    email = f"conformance-{uuid.uuid4().hex[:10]}@example.org"
    return CandidateDraft(
        first_name="Zoé",
        last_name="Ngô-Conformité",
        email_addresses=(email,) if "email_addresses" in taken else (),
        phone_numbers=("+33612345678",) if "phone_numbers" in taken else (),
        job_remote_id=job.job.remote_id,
        attachments=files,
    )


def records_with_email(records: Sequence[CandidateRecord], email: str) -> list[CandidateRecord]:
    return [r for r in records if email in (r.candidate.email_addresses or [])]


async def enumerate_all(
    connector: Connector[Any], page_size: int
) -> tuple[list[CandidateRecord], int]:
    records: list[CandidateRecord] = []
    pages = 0
    async for page in connector.iter_candidates(page_size=page_size):
        pages += 1
        records.extend(page.records)
        assert pages < 10_000, "enumeration does not terminate"
    return records, pages


async def all_jobs(connector: Connector[Any]) -> list[JobRecord]:
    records: list[JobRecord] = []
    async for page in connector.iter_jobs():
        assert page.incomplete is None, page.incomplete
        records.extend(page.records)
        assert len(records) < 1_000_000, "job enumeration does not terminate"
    return records


def _declared_check(models: Sequence[Any], declared: frozenset[str], what: str) -> None:
    filled: set[str] = set()
    for model in models:
        dumped = model.model_dump()
        filled |= {name for name, value in dumped.items() if value not in (None, [], {})}
    never_filled = declared - filled
    undeclared = filled - declared - PLATFORM_FIELDS
    assert not never_filled, (
        f"{what}: declared but never filled over the emulator data: {never_filled}"
    )
    assert not undeclared, f"{what}: filled but not declared: {undeclared}"


def error_texts(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


class ConnectorConformance:
    """Checks shared by all connectors; subclasses get a ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> ConformanceHarness:  # pragma: no cover - replaced by conformance_suite
        raise NotImplementedError

    async def test_settings_repr_hides_secrets(self, harness: ConformanceHarness) -> None:
        connector = harness.make_connector()
        try:
            shown = f"{connector!r} {connector.settings!r} {connector.settings}"
            for secret in harness.secrets:
                assert secret not in shown
        finally:
            await connector.aclose()

    async def test_enumeration_crosses_pages_terminates_and_validates(
        self, harness: ConformanceHarness
    ) -> None:
        async with harness.make_connector() as connector:
            records, pages = await enumerate_all(connector, harness.page_size)
        assert pages >= 2
        remote_ids = [r.candidate.remote_id for r in records]
        assert len(remote_ids) == harness.expected_count
        assert len(set(remote_ids)) == len(remote_ids), "a candidate came twice"
        for record in records:
            # Models survive a JSON round trip, and attachment links are consistent.
            candidate = Candidate.model_validate_json(record.candidate.model_dump_json())
            assert candidate == record.candidate
            ids = {a.id for a in record.attachments}
            assert ids <= set(candidate.attachments or [])
            for attachment in record.attachments:
                assert Attachment.model_validate_json(attachment.model_dump_json()) == attachment
                assert attachment.candidate == candidate.id

    @pytest.mark.parametrize(
        "quirks",
        [
            pytest.param({"page_size_cap": 3}, id="capped-ending-on-a-page-boundary"),
            pytest.param({"page_size_cap": 5}, id="capped-with-a-short-last-page"),
            pytest.param({"uneven_pages": True}, id="uneven-pages"),
            pytest.param({"relative_next": True}, id="relative-next-links"),
            pytest.param(
                {"page_size_cap": 4, "uneven_pages": True, "relative_next": True},
                id="all-at-once",
            ),
        ],
    )
    async def test_census_whatever_the_server_pages_like(
        self, harness: ConformanceHarness, quirks: dict[str, Any]
    ) -> None:
        """Every record exactly once when the server caps page sizes, pages unevenly, sends
        relative or absolute next links, or ends exactly on a page boundary; enumeration is
        driven by what the server returns, never by what was asked."""
        async with harness.make_connector() as connector:
            expected, _ = await enumerate_all(connector, harness.page_size)
        for name, value in quirks.items():
            setattr(harness.faults, name, value)
        try:
            async with harness.make_connector() as connector:
                seen: list[str] = []
                async for page in connector.iter_candidates(page_size=harness.page_size):
                    assert page.incomplete is None, page.incomplete
                    seen += [r.candidate.remote_id or "" for r in page.records]
                    assert len(seen) <= 10 * len(expected) + 10, "enumeration does not terminate"
        finally:
            harness.faults.reset()
        assert sorted(seen) == sorted(r.candidate.remote_id or "" for r in expected)

    async def test_an_enumeration_short_of_the_vendor_total_is_reported_incomplete(
        self, harness: ConformanceHarness
    ) -> None:
        if not harness.vendor_counts:
            pytest.skip("this vendor's listings carry no total to fall short of")
        harness.faults.unlisted_records = 1
        try:
            async with harness.make_connector() as connector:
                reasons = [
                    page.incomplete
                    async for page in connector.iter_candidates(page_size=harness.page_size)
                    if page.incomplete
                ]
        finally:
            harness.faults.reset()
        assert reasons, "a listing that hid records its total counts was reported complete"

    async def test_source_digests_skip_only_unchanged_records(
        self, harness: ConformanceHarness
    ) -> None:
        """A connector with ``source_digests``: given the digests of a first enumeration, a
        second one of the same vendor data maps nothing and lists every record unchanged; given
        none, it maps every record again, each with its digest."""
        async with harness.make_connector() as connector:
            if not connector.source_digests:
                pytest.skip("this connector maps every record on every enumeration")
            known: dict[str, str] = {}
            async for page in connector.iter_candidates(page_size=harness.page_size, known={}):
                assert not page.unchanged
                for record in page.records:
                    assert record.source_digest, "a record without its source digest"
                    known[record.candidate.remote_id or ""] = record.source_digest
            unchanged: list[str] = []
            async for page in connector.iter_candidates(page_size=harness.page_size, known=known):
                assert not page.records, "an unchanged record was mapped again"
                assert len(page.unchanged) <= harness.page_size * UNCHANGED_PER_RECORD
                unchanged += page.unchanged
        assert sorted(unchanged) == sorted(known)

    async def test_source_digests_may_come_as_an_awaitable(
        self, harness: ConformanceHarness
    ) -> None:
        """``known`` given as an awaitable (what a sync passes, to read the digests while the
        vendor answers) is awaited, once, and skips exactly what the digests themselves skip."""
        async with harness.make_connector() as connector:
            if not connector.source_digests:
                pytest.skip("this connector maps every record on every enumeration")
            known: dict[str, str] = {}
            async for page in connector.iter_candidates(page_size=harness.page_size, known={}):
                for record in page.records:
                    known[record.candidate.remote_id or ""] = record.source_digest or ""
            changed = sorted(known)[0]
            known[changed] = "not its digest"  # one record the store holds otherwise
            awaited = 0

            async def digests() -> dict[str, str]:
                nonlocal awaited
                awaited += 1
                return known

            unchanged: list[str] = []
            mapped: list[str] = []
            async for page in connector.iter_candidates(
                page_size=harness.page_size, known=digests()
            ):
                unchanged += page.unchanged
                mapped += [r.candidate.remote_id or "" for r in page.records]
        assert awaited == 1
        assert mapped == [changed] and sorted(unchanged) == sorted(set(known) - {changed})

    async def test_every_shape_of_a_record_normalizes_the_same(
        self, harness: ConformanceHarness
    ) -> None:
        """A record read by enumeration, by a single read, or from a webhook has one content
        (so ``modified_at`` cannot move on a webhook-then-refresh round)."""
        async with harness.make_connector() as connector:
            records, _ = await enumerate_all(connector, harness.page_size)
            ctx = await connector.mapping_context()
            for record in records[:3] + records[-2:]:
                remote_id = record.candidate.remote_id or ""
                shapes = [await connector.get_candidate(remote_id, known=record.candidate)]
                if harness.webhook_bodies is not None:
                    shapes += [
                        connector.parse_webhook(body, ctx)
                        for body in harness.webhook_bodies(remote_id)
                    ]
                for shape in shapes:
                    assert shape.candidate.content() == record.candidate.content(), remote_id
                    assert [a.content() for a in shape.attachments] == [
                        a.content() for a in record.attachments
                    ], remote_id
                    assert [a.content() for a in shape.applications] == [
                        a.content() for a in record.applications
                    ], remote_id

    async def test_declared_fields_are_filled_and_no_others(
        self, harness: ConformanceHarness
    ) -> None:
        async with harness.make_connector() as connector:
            records, _ = await enumerate_all(connector, harness.page_size)
            declared = type(connector).candidate_fields
            if harness.webhook_bodies is not None:  # every shape counts, not only list rows
                ctx = await connector.mapping_context()
                records += [
                    connector.parse_webhook(body, ctx)
                    for record in records[:10]
                    for body in harness.webhook_bodies(record.candidate.remote_id or "")
                ]
        filled: set[str] = set()
        for record in records:
            dumped = record.candidate.model_dump()
            filled |= {name for name, value in dumped.items() if value not in (None, [], {})}
        never_filled = declared - filled
        undeclared = filled - declared - PLATFORM_FIELDS
        assert not never_filled, f"declared but never filled over the emulator data: {never_filled}"
        assert not undeclared, f"filled but not declared: {undeclared}"

    async def test_get_candidate_matches_enumeration(self, harness: ConformanceHarness) -> None:
        async with harness.make_connector() as connector:
            records, _ = await enumerate_all(connector, harness.page_size)
            for record in (records[0], records[-1]):
                fresh = await connector.get_candidate(
                    record.candidate.remote_id or "", known=record.candidate
                )
                assert (
                    fresh.candidate.model_copy(update={"modified_at": record.candidate.modified_at})
                    == record.candidate
                )

    async def test_jobs_stages_and_applications_hang_together(
        self, harness: ConformanceHarness
    ) -> None:
        """Every job once, its stages in order and pointing at it; every candidate holds exactly
        its applications, and each application points at a listed job and one of its stages."""
        if harness.expected_jobs is None:
            pytest.skip("this connector serves no jobs")
        async with harness.make_connector() as connector:
            jobs = await all_jobs(connector)
            records, _ = await enumerate_all(connector, harness.page_size)
        assert len(jobs) == harness.expected_jobs
        job_ids = [r.job.id for r in jobs]
        assert len(set(job_ids)) == len(job_ids), "a job came twice"
        stage_job: dict[Any, Any] = {}
        for job_record in jobs:
            record_job = job_record.job
            assert Job.model_validate_json(record_job.model_dump_json()) == record_job
            assert job_record.stages, "a job without stages: applications cannot point anywhere"
            orders = [s.stage_order for s in job_record.stages if s.stage_order is not None]
            assert orders == sorted(orders) and len(set(orders)) == len(orders)
            for stage in job_record.stages:
                assert stage.job == record_job.id
                assert JobInterviewStage.model_validate_json(stage.model_dump_json()) == stage
                assert stage.id not in stage_job, "a stage id is shared by two jobs or stages"
                stage_job[stage.id] = record_job.id
        applications = [a for r in records for a in r.applications]
        assert applications, "no candidate carries an application"
        for record in records:
            assert [a.id for a in record.applications] == record.candidate.applications
            for application in record.applications:
                assert Application.model_validate_json(application.model_dump_json()) == (
                    application
                )
                assert application.candidate == record.candidate.id
                assert application.job in set(job_ids), "an application's job is not listed"
                if application.current_stage is not None:
                    assert stage_job.get(application.current_stage) == application.job, (
                        "an application's stage is not one of its job's stages"
                    )
        with_stage = [a for a in applications if a.current_stage is not None]
        assert with_stage, "no application knows its stage"
        cls = type(connector)
        _declared_check([r.job for r in jobs], cls.job_fields, "Job")
        _declared_check([s for r in jobs for s in r.stages], cls.stage_fields, "JobInterviewStage")
        _declared_check(applications, cls.application_fields, "Application")

    async def test_get_job_matches_enumeration(self, harness: ConformanceHarness) -> None:
        if harness.expected_jobs is None:
            pytest.skip("this connector serves no jobs")
        async with harness.make_connector() as connector:
            jobs = await all_jobs(connector)
            for listed in (jobs[0], jobs[-1]):
                fresh = await connector.get_job(listed.job.remote_id or "")
                assert fresh.job.content() == listed.job.content()
                assert [s.content() for s in fresh.stages] == [s.content() for s in listed.stages]
            with pytest.raises(NotFound):
                await connector.get_job(harness.missing_job_remote_id)

    @pytest.mark.parametrize("bad", ["../jobs", "..", "/", "//", "%2F", "%2e%2e", "", "a/b"])
    async def test_an_id_never_leaves_its_route(
        self, harness: ConformanceHarness, bad: str
    ) -> None:
        """Ids reach vendor paths: an id that is a path (``../jobs``), a slash, an encoded one
        or nothing is a record that does not exist, never another route's answer."""
        async with harness.make_connector() as connector:
            with pytest.raises(NotFound):
                await connector.get_candidate(bad)
            if harness.expected_jobs is not None:
                with pytest.raises(NotFound):
                    await connector.get_job(bad)

    async def test_missing_candidate_is_not_found(self, harness: ConformanceHarness) -> None:
        async with harness.make_connector() as connector:
            with pytest.raises(NotFound):
                await connector.get_candidate(harness.missing_remote_id)

    async def test_download_streams_an_attachment(self, harness: ConformanceHarness) -> None:
        async with harness.make_connector() as connector:
            if Capability.DOWNLOAD_ATTACHMENT not in connector.capabilities:
                pytest.skip("connector does not download attachments")
            records, _ = await enumerate_all(connector, harness.page_size)
            attachment = next(a for r in records for a in r.attachments)
            async with connector.download_attachment(attachment.remote_id or "") as download:
                body = b"".join([chunk async for chunk in download.chunks])
        assert body
        assert download.content_type
        assert download.file_name

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (401, AuthFailed),
            (403, AuthFailed),
            (404, NotFound),
            (500, VendorUnavailable),
            (502, VendorUnavailable),
            (503, VendorUnavailable),
            (504, VendorTimeout),
        ],
    )
    async def test_vendor_status_maps_to_typed_error(
        self,
        harness: ConformanceHarness,
        status: int,
        expected: type[ConnectorError],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        harness.faults.fail_status = status
        await self._expect(harness, expected, caplog)

    async def test_rate_limit_storm_maps_to_rate_limited_with_retry_after(
        self, harness: ConformanceHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        harness.faults.rate_limit_storm = True
        harness.faults.retry_after = "2"
        error = await self._expect(harness, RateLimited, caplog)
        assert isinstance(error, RateLimited)
        assert error.retry_after == 2.0

    async def test_timeout_maps_to_vendor_timeout(
        self, harness: ConformanceHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        harness.faults.hang = True
        await self._expect(harness, VendorTimeout, caplog)

    async def test_malformed_json_maps_to_invalid_vendor_response(
        self, harness: ConformanceHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        harness.faults.malformed_json = True
        await self._expect(harness, InvalidVendorResponse, caplog)

    async def test_transient_failures_are_retried(self, harness: ConformanceHarness) -> None:
        harness.faults.fail_status = 503
        harness.faults.fail_count = 2
        async with harness.make_connector() as connector:
            records, _ = await enumerate_all(connector, harness.page_size)
        assert len(records) == harness.expected_count

    # --- writes: the kit checks each one the connector declares --------------------------------

    async def test_a_created_candidate_is_what_the_next_enumeration_gives(
        self, harness: ConformanceHarness
    ) -> None:
        async with harness.make_connector() as connector:
            if Capability.CREATE_CANDIDATE not in connector.capabilities:
                with pytest.raises(UnsupportedOperation):
                    await connector.create_candidate(CandidateDraft(first_name="x"))
                return
            job = await open_job(connector)
            draft = sample_draft(connector, harness, job)
            created = await connector.create_candidate(draft)
            [application] = created.applications
            assert application.job == connector.ids.job_id(job.job.remote_id or "")
            records, _ = await enumerate_all(connector, harness.page_size)
        listed = {r.candidate.remote_id: r for r in records}
        assert created.candidate.remote_id in listed
        again = listed[created.candidate.remote_id]
        assert again.candidate.id == created.candidate.id
        assert again.candidate.content() == created.candidate.content()
        assert [a.content() for a in again.applications] == [
            a.content() for a in created.applications
        ]
        if draft.attachments:
            assert any(a.attachment_type == "RESUME" for a in again.attachments)

    async def test_a_write_whose_answer_is_lost_is_found_never_duplicated(
        self, harness: ConformanceHarness
    ) -> None:
        async with harness.make_connector() as connector:
            if Capability.CREATE_CANDIDATE not in connector.capabilities:
                pytest.skip("the connector creates no candidates")
            draft = sample_draft(connector, harness, await open_job(connector))
            harness.faults.fail_status = 502
            harness.faults.fail_count = 1
            harness.faults.fail_after_commit = True
            harness.faults.writes_only = True
            try:
                # The connector may raise, or recover by itself (finding what it wrote).
                with contextlib.suppress(ConnectorError):
                    await connector.create_candidate(draft)
            finally:
                harness.faults.reset()
            found = await connector.find_candidate(draft)
            assert found is not None, "find_candidate must find what a lost answer created"
            records, _ = await enumerate_all(connector, harness.page_size)
        same = [r for r in records if r.candidate.remote_id == found.candidate.remote_id]
        assert len(same) == 1
        if draft.email_addresses:
            assert len(records_with_email(records, draft.email_addresses[0])) == 1

    async def test_change_stage_and_reject_agree_with_a_fresh_read(
        self, harness: ConformanceHarness
    ) -> None:
        async with harness.make_connector() as connector:
            capabilities = connector.capabilities
            if Capability.CREATE_CANDIDATE not in capabilities:
                pytest.skip("the connector creates no candidates to move")
            job = await open_job(connector)
            created = await connector.create_candidate(sample_draft(connector, harness, job))
            [application] = created.applications
            stage_ids = [s.id for s in job.stages]
            if Capability.CHANGE_STAGE in capabilities:
                position = stage_ids.index(application.current_stage)  # type: ignore[arg-type]
                target = job.stages[position + 1]
                moved = await connector.change_stage(
                    application.remote_id or "", target.remote_id or ""
                )
                assert moved.applications[0].current_stage == target.id
                fresh = await connector.get_candidate(created.candidate.remote_id or "")
                assert fresh.applications[0].current_stage == target.id
            else:
                with pytest.raises(UnsupportedOperation):
                    await connector.change_stage(application.remote_id or "", "x")
            if Capability.REJECT_APPLICATION in capabilities:
                rejected = await connector.reject_application(application.remote_id or "")
                outcome = rejected.applications[0]
                assert outcome.archived or outcome.rejected_at is not None
                fresh = await connector.get_candidate(created.candidate.remote_id or "")
                assert fresh.applications[0].content() == outcome.content()
            else:
                with pytest.raises(UnsupportedOperation):
                    await connector.reject_application(application.remote_id or "")

    async def test_write_rules_are_consistent_with_the_capabilities(
        self, harness: ConformanceHarness
    ) -> None:
        connector = harness.make_connector()
        try:
            rules = connector.write_rules
            if Capability.CREATE_CANDIDATE in connector.capabilities:
                assert rules.create_required <= rules.create_fields <= CREATE_CANDIDATE_FIELDS
                assert {"first_name", "last_name", "job_id"} & rules.create_fields
            for operation in (
                "create_candidate",
                "create_application",
                "change_stage",
                "reject_application",
            ):
                assert rules.notes.get(operation), f"write_rules.notes lacks {operation}"
            if Capability.ADD_ATTACHMENT in connector.capabilities:
                assert rules.attachment_files is not None
            else:
                assert rules.attachment_unsupported_reason or rules.notes.get("add_attachment")
        finally:
            await connector.aclose()

    async def _expect(
        self,
        harness: ConformanceHarness,
        expected: type[ConnectorError],
        caplog: pytest.LogCaptureFixture,
    ) -> ConnectorError:
        caplog.set_level(logging.DEBUG)
        async with harness.make_connector() as connector:
            with pytest.raises(expected) as caught:
                await enumerate_all(connector, harness.page_size)
        texts = error_texts(caught.value) + "\n" + caplog.text
        for secret in harness.secrets:
            assert secret not in texts, "a secret leaked into an error or a log line"
        return caught.value


def conformance_suite(
    make_harness: Callable[[], ConformanceHarness | Awaitable[ConformanceHarness]],
) -> type[ConnectorConformance]:
    """A ready-to-collect test class for one connector: ``TestX = conformance_suite(make)``."""

    class Suite(ConnectorConformance):
        @pytest.fixture
        async def harness(self) -> ConformanceHarness:
            made = make_harness()
            if isinstance(made, ConformanceHarness):
                return made
            return await made

    return Suite
