"""The Welcome Kit (Welcome to the Jungle) connector: HTTP only; JSON handling in :mod:`.mapping`.

Listing candidates needs a ``job_reference``, so enumeration walks the organization's jobs,
then each job's candidates page by page (``stage=true&tags=true``). Each candidate's documents
are fetched alongside, a few at a time, so a full sync sees every file.

Jobs come with their stages, websites and office in the listing itself
(``GET /jobs?organization_reference=&stages=true&websites=true&office=true``, documented);
one job is ``GET /jobs/:reference`` with the same options.

Writes (``WRITE_RULES`` says what each does) go to ``POST /candidates`` (files by URL: Welcome
Kit fetches ``remote_resume_url`` itself), ``PUT /candidates/:reference`` (stage, archive) and
``POST /documents``. Each is sent once; the written candidate is read back as a sync reads it,
and an answer lost after the vendor committed is recovered by ``find_candidate``.
"""

import asyncio
import collections
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from connectors.sdk.auth import HeaderToken
from connectors.sdk.base import (
    CandidatePage,
    CandidateRecord,
    Capability,
    Connector,
    ConnectorSettings,
    FileDownload,
    JobPage,
    JobRecord,
    KnownDigests,
    MappingContext,
    Quarantined,
    map_each,
    shortfall,
    usable_remote_id,
)
from connectors.sdk.errors import (
    InvalidVendorResponse,
    NotFound,
    VendorRejectedRequest,
    not_about_the_record,
)
from connectors.sdk.http import json_body, path_segment
from connectors.sdk.normalize import email, text
from connectors.sdk.ratelimit import RateRule
from connectors.sdk.writes import (
    CREATE_CANDIDATE_FIELDS,
    CandidateDraft,
    FileRules,
    FileUpload,
    WriteRules,
)
from connectors.welcomekit.mapping import (
    DOCUMENT_MAX_BYTES,
    DOCUMENT_TYPES,
    RESUME_MAX_BYTES,
    RESUME_TYPES,
    URL_TYPES_TAKEN,
    DraftRefused,
    JobInfo,
    MappingError,
    application_body,
    attachment_url,
    candidate_body,
    document_file_name,
    entry_stage_id,
    error_fields,
    map_candidate,
    map_job,
    parse_attachment_id,
    parse_stage_id,
    url_file_name,
)
from schemas import Attachment, Candidate

logger = logging.getLogger("connectors.welcomekit")
JOB_OPTIONS = {"stages": "true", "websites": "true", "office": "true"}
"""What every job read asks for (documented on both the list and the single route)."""


WRITE_RULES = WriteRules(
    create_fields=CREATE_CANDIDATE_FIELDS - {"company"},  # no Welcome Kit field holds it
    create_required=frozenset({"first_name", "last_name", "email_addresses", "job_id"}),
    max_items={"email_addresses": 1, "phone_numbers": 1},
    url_types=frozenset(str(t) for t in URL_TYPES_TAKEN),
    create_files=FileRules(
        max_bytes=RESUME_MAX_BYTES,  # "maximum file size: 5MB" [DOC] W2, W7
        content_types=RESUME_TYPES,  # "PDF, DOC, DOCX, ODT" [DOC] W2, W7
        max_files=1,
        by_url=True,
        attachment_types=frozenset({"RESUME"}),
    ),
    attachment_files=FileRules(
        max_bytes=DOCUMENT_MAX_BYTES,  # undocumented for /documents: the largest documented [INF]
        content_types=DOCUMENT_TYPES,  # the resume types and images [INF]
        max_files=1,
        by_url=True,
        attachment_types=frozenset({"RESUME", "OTHER"}),
    ),
    notes={
        "create_candidate": (
            "POST /external/candidates on the job (at the given stage, else the job's 'initial' "
            "stage) with one e-mail, one phone, the title as the profile's subtitle (read back "
            "in custom_fields.subtitle: a Welcome Kit candidate's title is the job applied "
            "for), tags as tag_list, urls as media_* (LinkedIn, GitHub, Stack Overflow, "
            "Dribbble, Behance, Facebook, Instagram, Medium, Tumblr, Vimeo, Twitter/X and one "
            "website; Welcome Kit stores them but its API never returns them) and one RESUME "
            "that Welcome Kit fetches from a URL (PDF, DOC, DOCX or ODT, at most 5 MB); company "
            "has no Welcome Kit field."
        ),
        "create_application": (
            "A Welcome Kit candidate is one person on one job: POST /external/candidates on "
            "the other job with the person's profile, tags, resume and portfolio as Welcome "
            "Kit holds them (cover letter and documents stay with the first application); a "
            "person whose e-mail is already on that job is answered, not duplicated."
        ),
        "change_stage": (
            "PUT /external/candidates/{reference} {job_stage_id}: any stage of the "
            "application's job, forward or back."
        ),
        "reject_application": (
            "PUT /external/candidates/{reference} {archived: true}: Welcome Kit archives the "
            "candidate (the stage is kept; no reason or date is recorded: move it to the "
            "'refused' stage for that)."
        ),
        "add_attachment": (
            "POST /external/documents {candidate_reference, remote_file_urls}: Welcome Kit "
            "fetches the file from a URL (PDF, DOC, DOCX, ODT, PNG or JPEG, at most 10 MB, our "
            "bound as none is documented); documents carry no type, so a RESUME whose name "
            "does not say resume or CV is sent as 'CV <name>' to read back as a RESUME."
        ),
    },
)


class DocumentsUnavailable(ValueError):
    """A listed candidate whose documents could not be read (quarantined, never half-stored)."""


class StagesUnavailable(ValueError):
    """A listed job whose stages could not be read (quarantined, never stored without them)."""


class WelcomeKitSettings(ConnectorSettings):
    base_url: str = "https://www.welcomekit.co/api/v1/external"
    api_key: SecretStr
    organization_reference: str
    organization_name: str | None = None
    """The hiring company's name; read from the organization when not given."""
    per_page: int = 100
    fetch_documents: bool = True
    """Fetch each candidate's ``/documents`` during enumeration (one call per candidate)."""
    document_concurrency: int = 128
    """``/documents`` calls in flight at once, across pages (Welcome Kit publishes no rate
    limit and sends no rate-limit headers; a 429 is still retried as the vendor advises, after
    its ``Retry-After``). At one call per candidate, fewer left a sync waiting on the vendor's
    latency: N in flight at 50 ms is at most 20 N candidates/s, while a page of 100 candidates
    takes one call (48 kept a 10,000-candidate enumeration at 50 ms to 0.45x of its speed
    without documents; 128, over 0.8x). The connector holds as many connections."""
    max_requests_per_second: float | None = None
    """Spacing of list calls (candidates, documents, jobs) for an account whose limit is known:
    Welcome Kit documents none, so none by default. Calls still overlap; only their starts are
    spaced (shared by every connector instance on the account's limiter key)."""
    pages_ahead: int = 3
    """Pages whose documents are fetched while earlier pages are mapped and stored."""
    default_phone_region: str = "FR"

    def account_key(self) -> str:
        return self.organization_reference


class WelcomeKitConnector(Connector[WelcomeKitSettings]):
    name: ClassVar[str] = "welcomekit"
    display_name: ClassVar[str] = "Welcome Kit"
    settings_model: ClassVar[type[ConnectorSettings]] = WelcomeKitSettings
    link_help: ClassVar[str] = (
        "Welcome Kit API keys are issued on request: write to contact@welcomekit.co from your "
        "Welcome Kit account (candidates_r, jobs_r and organizations_r scopes at least).\n\n"
        "The organization reference is in your Welcome Kit URLs "
        "(welcomekit.co/dashboard/o/<reference>/...)."
    )
    capabilities = frozenset(
        {
            Capability.LIST_CANDIDATES,
            Capability.UPDATED_SINCE,
            Capability.GET_CANDIDATE,
            Capability.LIST_ATTACHMENTS,
            Capability.DOWNLOAD_ATTACHMENT,
            Capability.VERIFY_CREDENTIALS,
            Capability.CREATE_CANDIDATE,
            Capability.LIST_JOBS,
            Capability.GET_JOB,
            Capability.LIST_APPLICATIONS,
            Capability.CREATE_APPLICATION,
            Capability.CHANGE_STAGE,
            Capability.REJECT_APPLICATION,
            Capability.ADD_ATTACHMENT,
            Capability.PASSTHROUGH,
        }
    )
    write_rules = WRITE_RULES
    candidate_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "custom_fields",
            "first_name",
            "last_name",
            "company",
            "title",
            "locations",
            "phone_numbers",
            "email_addresses",
            "urls",
            "tags",
            "applications",
            "attachments",
            "remote_created_at",
            "remote_updated_at",
            "avatar",
        }
    )
    attachment_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "custom_fields",
            "file_name",
            "attachment_type",
            "candidate",
            "content_type",
            "size",
            "remote_created_at",
            "remote_updated_at",
        }
    )

    job_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "custom_fields",
            "name",
            "description",
            "code",
            "status",
            "job_posting_urls",
            "remote_created_at",
            "remote_updated_at",
        }
    )
    stage_fields = frozenset(
        {"remote_id", "raw_data", "custom_fields", "name", "job", "stage_order"}
    )
    application_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "custom_fields",
            "candidate",
            "job",
            "applied_at",
            "source",
            "current_stage",
            "archived",
            "hired",
        }
    )

    _organization_name: str | None = None
    _jobs: dict[str, JobInfo] | None = None
    jobs_shortfall: str | None = None

    def build_auth(self) -> httpx.Auth:
        return HeaderToken(self.settings.api_key, scheme="Bearer")

    def http_connections(self) -> int:
        # Every /documents call in flight, and the page and job listings beside them.
        return max(super().http_connections(), self.settings.document_concurrency + 2)

    @functools.cached_property
    def rate(self) -> RateRule | None:
        """The account's request spacing, when ``max_requests_per_second`` is set."""
        return RateRule.per_second(
            f"welcomekit:{self.settings.organization_reference}",
            self.settings.max_requests_per_second,
        )

    def error_details(self, response: httpx.Response) -> tuple[str | None, dict[str, list[str]]]:
        body = _error_body(response)
        code = body.get("error") if isinstance(body.get("error"), str) else None
        return code, error_fields(body.get("error_description"))

    def describe_error(self, response: httpx.Response) -> str | None:
        body = _error_body(response)
        parts = [str(body[k])[:200] for k in ("error", "error_description") if body.get(k)]
        return ": ".join(parts) or None

    # --- reads ---------------------------------------------------------------------------------

    async def _pages(
        self, path: str, params: Mapping[str, Any]
    ) -> AsyncIterator[tuple[list[Mapping[str, Any]], int | None]]:
        """Each page of a list route, until the server says it is the last.

        The server's word is ``X-Total-Pages``; without it, an empty page or one shorter than
        the first (the size the server really serves, which may be below ``per_page``: a
        server may cap it). A short page is never taken as the end on its own.
        """
        per_page = self.settings.per_page
        served = 0
        page = 1
        while True:
            response = await self.http.request(
                "GET", path, params={**params, "page": page, "per_page": per_page}, rate=self.rate
            )
            items = json_body(response, self.redact)
            if not isinstance(items, list):
                raise InvalidVendorResponse(f"Welcome Kit {path} did not answer a JSON array")
            total = _int_header(response, "X-Total")
            yield items, total
            total_pages = _int_header(response, "X-Total-Pages")
            served = served or len(items)
            if total_pages is not None:
                if page >= total_pages:
                    return
            elif not items or len(items) < served:
                return
            page += 1

    async def organization_name(self) -> str | None:
        if self._organization_name is None:
            if self.settings.organization_name:
                self._organization_name = self.settings.organization_name
            else:
                org = await self.http.get_json(
                    f"/organizations/{self.settings.organization_reference}"
                )
                name = org.get("name") if isinstance(org, Mapping) else None
                self._organization_name = str(name).strip() if name else ""
        return self._organization_name or None

    async def jobs(self, *, refresh: bool = False) -> dict[str, JobInfo]:
        """Reference -> job. Cached for single reads; every enumeration lists them afresh (a job
        created since must not hide its candidates). A listing short of its ``X-Total`` leaves
        ``jobs_shortfall`` set."""
        if self._jobs is None or refresh:
            jobs: dict[str, JobInfo] = {}
            expected: int | None = None
            params = {"organization_reference": self.settings.organization_reference}
            async for items, total in self._pages("/jobs", params):
                expected = total if expected is None else expected
                for job in items:
                    reference = (
                        usable_remote_id(job.get("reference")) if isinstance(job, Mapping) else None
                    )
                    if reference is not None:
                        name = job.get("name")
                        jobs[reference] = JobInfo(reference, str(name).strip() if name else None)
            self.jobs_shortfall = shortfall("Welcome Kit jobs", len(jobs), expected)
            self._jobs = jobs
        return self._jobs

    async def _job_payload(self, reference: str) -> Mapping[str, Any]:
        job = path_segment(reference, "a Welcome Kit job reference")
        payload = await self.http.get_json(f"/jobs/{job}", params=JOB_OPTIONS)
        if not isinstance(payload, Mapping):
            raise InvalidVendorResponse("Welcome Kit job is not a JSON object")
        return payload

    async def _with_stages(self, items: list[Any]) -> list[Any | None]:
        """Listed jobs, each with its stages: a job listed without ``stages`` (the option is
        documented on the listing, so only if the vendor ignored it) is read alone, a few at a
        time; None for one that is gone since it was listed."""
        limit = asyncio.Semaphore(self.settings.document_concurrency)

        async def complete(item: Any) -> Any | None:
            if not isinstance(item, Mapping) or isinstance(item.get("stages"), list):
                return item
            reference = usable_remote_id(item.get("reference"))
            if reference is None:
                return item
            async with limit:
                try:
                    return await self._job_payload(reference)
                except NotFound:
                    return None

        return list(await asyncio.gather(*(complete(item) for item in items)))

    async def iter_jobs(self) -> AsyncIterator[JobPage]:
        """Every job with its stages (the whole listing; a shortfall of ``X-Total`` is
        reported as ``incomplete``)."""
        ctx = self.context()
        params = {"organization_reference": self.settings.organization_reference, **JOB_OPTIONS}
        seen: set[str] = set()
        expected: int | None = None
        async for items, total in self._pages("/jobs", params):
            expected = total if expected is None else expected
            for item in items:
                reference = (
                    usable_remote_id(item.get("reference")) if isinstance(item, Mapping) else None
                )
                if reference is not None:
                    seen.add(reference)

            def mapped(pair: tuple[Any, Any | None]) -> JobRecord:
                if pair[1] is None:
                    raise StagesUnavailable("listed without stages, and gone when read alone")
                return map_job(pair[1], ctx)

            records, quarantined = map_each(
                zip(items, await self._with_stages(items), strict=True),
                mapped,
                remote_id_of=lambda pair: (
                    pair[0].get("reference") if isinstance(pair[0], Mapping) else None
                ),
                kind="job",
            )
            if records or quarantined:
                yield JobPage(
                    records=tuple(records), total=expected, quarantined=tuple(quarantined)
                )
        missing = shortfall("Welcome Kit jobs", len(seen), expected)
        if missing:
            yield JobPage(records=(), total=expected, incomplete=missing)

    async def get_job(self, remote_id: str) -> JobRecord:
        if not remote_id.strip():
            raise NotFound("a Welcome Kit job reference is never empty")
        payload = await self._job_payload(remote_id)  # its 404 alone says "gone"
        try:
            return map_job(payload, self.context())
        except MappingError as exc:
            raise InvalidVendorResponse(f"Welcome Kit job unreadable: {exc}") from exc

    async def mapping_context(self) -> MappingContext:
        base = self.context()
        return MappingContext(
            ids=base.ids,
            observed_at=base.observed_at,
            company_name=await self.organization_name(),
            default_phone_region=self.settings.default_phone_region,
        )

    async def documents(self, reference: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        async for items, _ in self._pages("/documents", {"candidate_reference": reference}):
            found += [d for d in items if isinstance(d, Mapping)]
        return found

    def _documents_key(self, item: Any) -> str | None:
        """The reference to ask a listed candidate's documents for; None: none to ask (not
        fetched, or no usable reference: the candidate is quarantined when mapped)."""
        reference = item.get("reference") if isinstance(item, Mapping) else None
        if self.settings.fetch_documents and usable_remote_id(reference):
            return str(reference)
        return None

    def _mapped(
        self,
        items: list[Mapping[str, Any]],
        documents: list[list[Mapping[str, Any]] | None],
        job: JobInfo | None,
        ctx: MappingContext,
    ) -> tuple[list[CandidateRecord], list[Quarantined]]:
        """A listed page with each candidate's documents (None: its documents route answered
        404) mapped; what cannot be mapped is quarantined."""

        def mapped(pair: tuple[Any, list[Mapping[str, Any]] | None]) -> CandidateRecord:
            item, documents = pair
            if documents is None:
                raise DocumentsUnavailable("its documents route answered 404")
            return map_candidate(item, ctx, job=job, documents=documents)

        return map_each(
            zip(items, documents, strict=True),
            mapped,
            remote_id_of=lambda pair: (
                pair[0].get("reference") if isinstance(pair[0], Mapping) else None
            ),
        )

    async def iter_candidates(
        self,
        *,
        updated_since: datetime | None = None,
        page_size: int = 500,
        known: KnownDigests | None = None,  # no source digests: every record is mapped
    ) -> AsyncIterator[CandidatePage]:
        ctx = await self.mapping_context()
        params: dict[str, Any] = {"stage": "true", "tags": "true"}
        if updated_since is not None:
            # `updated_after` is a date: start a day earlier so nothing at the boundary is lost.
            params["updated_after"] = (updated_since - timedelta(days=1)).date().isoformat()
        # Pages overlap: each listed page's documents are queued at once, fetched by
        # `document_concurrency` workers shared by every page (in listing order), while the
        # next pages are listed and the pages before are mapped and stored by the caller. Pages
        # are still yielded in order. Workers, not a task per candidate behind a semaphore:
        # that scheduling took ~3.5% of a sync's CPU (one /documents call per candidate), the
        # workers ~1%.
        fetches = _DocumentFetches(self.documents, max(1, self.settings.document_concurrency))
        ahead: collections.deque[asyncio.Task[CandidatePage] | CandidatePage] = collections.deque()

        async def page_of(items: list[Mapping[str, Any]], job: JobInfo) -> CandidatePage:
            documents = await fetches.page([self._documents_key(item) for item in items])
            records, quarantined = self._mapped(items, documents, job, ctx)
            return CandidatePage(records=tuple(records), quarantined=tuple(quarantined))

        async def ready(entry: "asyncio.Task[CandidatePage] | CandidatePage") -> CandidatePage:
            return await entry if isinstance(entry, asyncio.Task) else entry

        try:
            for job in (await self.jobs(refresh=True)).values():
                seen: set[str] = set()
                expected: int | None = None
                async for items, total in self._pages(
                    "/candidates", {**params, "job_reference": job.reference}
                ):
                    expected = total if expected is None else expected
                    seen.update(
                        str(i["reference"])
                        for i in items
                        if isinstance(i, Mapping) and i.get("reference")
                    )
                    ahead.append(asyncio.ensure_future(page_of(items, job)))
                    while len(ahead) > max(0, self.settings.pages_ahead):
                        page = await ready(ahead.popleft())
                        if page.records or page.quarantined or page.incomplete:
                            yield page
                missing = shortfall(
                    f"Welcome Kit job {job.reference}'s candidates", len(seen), expected
                )
                if missing:
                    ahead.append(CandidatePage(records=(), incomplete=missing))
            while ahead:
                page = await ready(ahead.popleft())
                if page.records or page.quarantined or page.incomplete:
                    yield page
        finally:
            for entry in ahead:  # the caller stopped early, or a page failed
                if isinstance(entry, asyncio.Task):
                    entry.cancel()
            await asyncio.gather(
                *(e for e in ahead if isinstance(e, asyncio.Task)), return_exceptions=True
            )
            await fetches.aclose()
        if self.jobs_shortfall:
            yield CandidatePage(records=(), incomplete=self.jobs_shortfall)

    async def _candidate_payload(self, reference: str) -> Mapping[str, Any]:
        payload = await self.http.get_json(
            f"/candidates/{path_segment(reference, 'a Welcome Kit candidate reference')}",
            params={"stage": "true", "tags": "true"},
        )
        if not isinstance(payload, Mapping):
            raise InvalidVendorResponse("Welcome Kit candidate is not a JSON object")
        return payload

    async def get_candidate(
        self, remote_id: str, *, known: Candidate | None = None
    ) -> CandidateRecord:
        payload = await self._candidate_payload(remote_id)  # its 404 alone says "gone"
        with not_about_the_record("Welcome Kit's organization, jobs or documents"):
            ctx = await self.mapping_context()
            job_ref = str(payload.get("job_reference") or "")
            jobs = await self.jobs()
            if job_ref and job_ref not in jobs:
                jobs = await self.jobs(refresh=True)  # a job created since they were listed
            job = jobs.get(job_ref) or JobInfo(job_ref, None)
            documents = await self.documents(remote_id) if self.settings.fetch_documents else []
        try:
            return map_candidate(payload, ctx, job=job, documents=documents)
        except MappingError as exc:
            raise InvalidVendorResponse(f"Welcome Kit candidate unreadable: {exc}") from exc

    @asynccontextmanager
    async def download_attachment(self, attachment_remote_id: str) -> AsyncIterator[FileDownload]:
        try:
            reference, kind, document = parse_attachment_id(attachment_remote_id)
        except MappingError as exc:
            raise NotFound(str(exc)) from exc
        if kind == "document":
            matches = [d for d in await self.documents(reference) if str(d.get("id")) == document]
            url = str(matches[0].get("file_url") or "") if matches else ""
            hinted = str(matches[0].get("content_type") or "") if matches else ""
            name = str(matches[0].get("filename") or "") if matches else ""
        else:
            payload = await self._candidate_payload(reference)
            url = attachment_url(payload, kind) or ""
            hinted = str(payload.get("resume_content_type") or "") if kind == "resume" else ""
            name = ""
        if not url:
            raise NotFound("Welcome Kit no longer has this file")
        # Files live on a CDN: our API key only goes to the API's own host.
        same_host = urlsplit(url).netloc in ("", urlsplit(self.http.base_url).netloc)
        async with self.http.stream("GET", url, auth=same_host) as response:
            yield FileDownload.from_response(
                response, name=name or url_file_name(url) or kind, content_type=hinted or None
            )

    async def verify_credentials(self) -> None:
        await self.jobs(refresh=True)

    # --- writes: each sent once (POST is never retried blindly) -------------------------------

    def _refused(self, exc: DraftRefused) -> VendorRejectedRequest:
        return VendorRejectedRequest(
            f"Welcome Kit cannot take this request: {exc}", field_errors=exc.field_errors
        )

    async def _entry_stage(self, job_reference: str) -> int | str:
        """The stage a new candidate lands in when none is given (Welcome Kit requires one)."""
        try:
            job = await self._job_payload(job_reference)
        except NotFound:
            raise VendorRejectedRequest(
                "Welcome Kit has no such job",
                field_errors={"job_id": ["Welcome Kit has no such job"]},
            ) from None
        stage = entry_stage_id(job.get("stages"))
        if stage is None:
            raise InvalidVendorResponse("Welcome Kit listed the job without any stage")
        return stage

    async def _created(self, response: httpx.Response) -> CandidateRecord:
        """The candidate a create answered, read again with its stage, tags and documents (the
        create answer has neither stage nor tags): exactly what a sync gives."""
        payload = json_body(response, self.redact)
        reference = (
            usable_remote_id(payload.get("reference")) if isinstance(payload, Mapping) else None
        )
        if reference is None:
            raise InvalidVendorResponse("Welcome Kit answered a create without a reference")
        return await self.get_candidate(reference)

    async def create_candidate(self, draft: CandidateDraft) -> CandidateRecord:
        """``POST /candidates`` (the resume by URL: ``remote_resume_url``), then the candidate
        read back. Without a stage, the job's ``initial`` stage is used."""
        stage: int | str | None = None
        if draft.stage_remote_id is None and draft.job_remote_id:
            stage = await self._entry_stage(draft.job_remote_id)
        try:
            body = candidate_body(
                draft,
                organization_reference=self.settings.organization_reference,
                job_stage_id=stage,
            )
        except DraftRefused as exc:
            raise self._refused(exc) from None
        response = await self._post_candidate(body)
        return await self._created(response)

    async def _post_candidate(self, body: Mapping[str, Any]) -> httpx.Response:
        """``POST /candidates``; its 404 is the job (gone since it was read): a field error."""
        try:
            return await self.http.request("POST", "/candidates", json=dict(body))
        except NotFound as exc:
            raise VendorRejectedRequest(
                exc.message,
                vendor_status=exc.vendor_status,
                vendor_code=exc.vendor_code,
                field_errors={"job_reference": ["Welcome Kit has no such job"]},
            ) from None

    async def _find(self, job_reference: str, email_value: str) -> list[Mapping[str, Any]]:
        """The job's candidates with this e-mail (``GET /candidates?job_reference=&email=``),
        checked here too, newest first."""
        found: list[Mapping[str, Any]] = []
        params = {
            "job_reference": job_reference,
            "email": email_value,
            "stage": "true",
            "tags": "true",
        }
        async for items, _ in self._pages("/candidates", params):
            for item in items:
                profile = item.get("profile") if isinstance(item, Mapping) else None
                if isinstance(profile, Mapping) and email(profile.get("email")) == email_value:
                    found.append(item)
        return sorted(found, key=lambda item: str(item.get("created_at") or ""), reverse=True)

    async def find_candidate(self, draft: CandidateDraft) -> CandidateRecord | None:
        """The candidate ``draft`` created, if Welcome Kit has it: the newest on the draft's
        job with its e-mail (and, among several, its names)."""
        job_reference = text(draft.job_remote_id)
        emails = [e for e in (email(value) for value in draft.email_addresses) if e]
        if job_reference is None or not emails:
            return None
        try:
            found = await self._find(job_reference, emails[0])
        except NotFound:
            return None  # the job is gone: nothing was created on it
        names = (text(draft.first_name), text(draft.last_name))
        same_names = [
            item
            for item in found
            if (
                text(item["profile"].get("firstname")),
                text(item["profile"].get("lastname")),
            )
            == names
        ]
        chosen = (same_names or found)[:1]
        if not chosen:
            return None
        return await self.get_candidate(str(chosen[0]["reference"]))

    async def create_application(
        self, candidate_remote_id: str, job_remote_id: str, stage_remote_id: str | None
    ) -> CandidateRecord:
        """A Welcome Kit candidate is one person on one job: applying them to another job
        creates a candidate there (``POST /candidates``) with the person's profile, tags and
        files as Welcome Kit holds them. When the person (their e-mail) is already on that job,
        that candidate is answered and nothing is created, so a retry never duplicates."""
        person = await self._candidate_payload(candidate_remote_id)
        if stage_remote_id is not None:
            stage = parse_stage_id(stage_remote_id, job_remote_id)
            if stage is None:
                raise VendorRejectedRequest(
                    "the stage is not one of the job's",
                    field_errors={"job_interview_stage_id": ["is not one of the job's stages"]},
                )
        else:
            stage = await self._entry_stage(job_remote_id)
        try:
            body = application_body(
                person,
                organization_reference=self.settings.organization_reference,
                job_reference=job_remote_id,
                job_stage_id=stage,
            )
        except DraftRefused as exc:
            raise self._refused(exc) from None
        existing = await self._find(job_remote_id, str(email(body["email"])))
        if existing:
            return await self.get_candidate(str(existing[0]["reference"]))
        response = await self._post_candidate(body)
        return await self._created(response)

    async def _update(self, reference: str, body: Mapping[str, Any]) -> CandidateRecord:
        """``PUT /candidates/:reference`` (setting values: safe to send again), then the
        candidate read back as a sync reads it."""
        segment = path_segment(reference, "a Welcome Kit candidate reference")
        await self.http.request("PUT", f"/candidates/{segment}", json=dict(body))
        return await self.get_candidate(reference)

    async def change_stage(
        self, application_remote_id: str, stage_remote_id: str
    ) -> CandidateRecord:
        """``PUT /candidates/:reference {job_stage_id}``: any stage of the candidate's job, in
        any direction."""
        payload = await self._candidate_payload(application_remote_id)
        stage = parse_stage_id(stage_remote_id, text(payload.get("job_reference")))
        if stage is None:
            raise VendorRejectedRequest(
                "the stage is not one of the application's job",
                field_errors={
                    "job_interview_stage_id": ["is not a stage of the application's job"]
                },
            )
        return await self._update(application_remote_id, {"job_stage_id": stage})

    async def reject_application(self, application_remote_id: str) -> CandidateRecord:
        """``PUT /candidates/:reference {archived: true}``: Welcome Kit's archive (its stage is
        kept; Welcome Kit records no reason and no date)."""
        return await self._update(application_remote_id, {"archived": True})

    async def add_attachment(self, candidate_remote_id: str, upload: FileUpload) -> Attachment:
        """``POST /documents {candidate_reference, remote_file_urls: [{filename, url}]}``: the
        vendor fetches the file; the document is answered as a sync reads it."""
        url = text(upload.url)
        if url is None:
            raise VendorRejectedRequest(
                "Welcome Kit fetches files by URL",
                field_errors={
                    "file_url": ["Welcome Kit fetches files by URL: the upload has none"]
                },
            )
        path_segment(candidate_remote_id, "a Welcome Kit candidate reference")
        response = await self.http.request(
            "POST",
            "/documents",
            json={
                "candidate_reference": candidate_remote_id,
                "remote_file_urls": [
                    {
                        "filename": document_file_name(upload.file_name, upload.attachment_type),
                        "url": url,
                    }
                ],
            },
        )
        documents = json_body(response, self.redact)
        if not (isinstance(documents, list) and documents and isinstance(documents[0], Mapping)):
            raise InvalidVendorResponse("Welcome Kit did not answer the attached document")
        wanted = f"{candidate_remote_id}:document:{documents[0].get('id')}"
        record = await self.get_candidate(candidate_remote_id)
        for attachment in record.attachments:
            if attachment.remote_id == wanted:
                return attachment
        # The same file as the candidate's resume: a sync shows it once, as the resume.
        resume = [a for a in record.attachments if a.remote_id == f"{candidate_remote_id}:resume"]
        if resume:
            return resume[0]
        raise InvalidVendorResponse("Welcome Kit does not list the document it attached")


class _PageFetch:
    """One page's documents: a slot per candidate, and the page's answer once all are in."""

    __slots__ = ("documents", "done", "pending")

    def __init__(self, size: int) -> None:
        self.documents: list[list[Mapping[str, Any]] | None] = [[] for _ in range(size)]
        self.pending = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished(self, index: int, documents: list[Mapping[str, Any]] | None) -> None:
        self.documents[index] = documents
        self.pending -= 1
        if self.pending == 0 and not self.done.done():
            self.done.set_result(None)

    def failed(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


class _DocumentFetches:
    """``/documents`` calls of every listed page, at most ``workers`` in flight, in the order
    the pages were listed. The workers start with the first call and live until ``aclose``."""

    def __init__(
        self,
        documents: Callable[[str], Awaitable[list[Mapping[str, Any]]]],
        workers: int,
    ) -> None:
        self._documents = documents
        self._size = workers
        self._queue: asyncio.Queue[tuple[_PageFetch, int, str]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []

    async def page(self, references: list[str | None]) -> list[list[Mapping[str, Any]] | None]:
        """Each candidate's documents ([] for a None reference: nothing to ask; None where
        the route answered 404). The first other failure is raised, and the page's calls not
        started yet are dropped."""
        fetch = _PageFetch(len(references))
        for index, reference in enumerate(references):
            if reference is not None:
                fetch.pending += 1
                self._queue.put_nowait((fetch, index, reference))
        if fetch.pending == 0:
            return fetch.documents
        if not self._workers:
            self._workers = [asyncio.create_task(self._work()) for _ in range(self._size)]
        await fetch.done
        return fetch.documents

    async def _work(self) -> None:
        while True:
            fetch, index, reference = await self._queue.get()
            if fetch.done.done():
                continue  # its page failed or was given up: no call for it
            try:
                documents: list[Mapping[str, Any]] | None = await self._documents(reference)
            except NotFound:
                # Deleted since it was listed, or a broken documents route: either way its
                # files are unknown, so it is quarantined (kept, files included), not stored
                # without them (which would mark its files deleted).
                documents = None
            except Exception as exc:  # raised where the page is awaited
                fetch.failed(exc)
                continue
            fetch.finished(index, documents)

    async def aclose(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []


def _error_body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name, "")
    return int(value) if value.isdigit() else None
