"""The Welcome Kit (Welcome to the Jungle) connector: HTTP only; JSON handling in :mod:`.mapping`.

Listing candidates needs a ``job_reference``, so enumeration walks the organization's jobs,
then each job's candidates page by page (``stage=true&tags=true``). Each candidate's documents
are fetched alongside, a few at a time, so a full sync sees every file.

Jobs come with their stages, websites and office in the listing itself
(``GET /jobs?organization_reference=&stages=true&websites=true&office=true``, documented);
one job is ``GET /jobs/:reference`` with the same options.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
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
    MappingContext,
    Quarantined,
    map_each,
    shortfall,
    usable_remote_id,
)
from connectors.sdk.errors import InvalidVendorResponse, NotFound, not_about_the_record
from connectors.sdk.http import json_body, path_segment
from connectors.welcomekit.mapping import (
    JobInfo,
    MappingError,
    attachment_url,
    map_candidate,
    map_job,
    parse_attachment_id,
    url_file_name,
)
from schemas import Attachment, Candidate

logger = logging.getLogger("connectors.welcomekit")
JOB_OPTIONS = {"stages": "true", "websites": "true", "office": "true"}
"""What every job read asks for (documented on both the list and the single route)."""


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
    document_concurrency: int = 8
    default_phone_region: str = "FR"

    def account_key(self) -> str:
        return self.organization_reference


@dataclass(frozen=True)
class CandidateCreate:
    """``POST /candidates``: the documented fields (email, names, org and job are required)."""

    job_reference: str
    email: str
    firstname: str
    lastname: str
    subtitle: str | None = None
    phone: str | None = None
    tag_list: Sequence[str] = ()
    remote_resume_url: str | None = None
    remote_portfolio_url: str | None = None
    cover_letter: str | None = None
    referrer: str | None = None


class WelcomeKitConnector(Connector[WelcomeKitSettings]):
    name: ClassVar[str] = "welcomekit"
    display_name: ClassVar[str] = "Welcome Kit"
    settings_model: ClassVar[type[ConnectorSettings]] = WelcomeKitSettings
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
        }
    )
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

    def error_details(self, response: httpx.Response) -> tuple[str | None, dict[str, list[str]]]:
        body = _error_body(response)
        code = body.get("error") if isinstance(body.get("error"), str) else None
        return code, {}

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
                "GET", path, params={**params, "page": page, "per_page": per_page}
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

    async def _records(
        self, items: list[Mapping[str, Any]], job: JobInfo | None, ctx: MappingContext
    ) -> tuple[list[CandidateRecord], list[Quarantined]]:
        limit = asyncio.Semaphore(self.settings.document_concurrency)

        async def documents_of(item: Any) -> list[Mapping[str, Any]] | None:
            reference = item.get("reference") if isinstance(item, Mapping) else None
            if not (self.settings.fetch_documents and usable_remote_id(reference)):
                return []
            async with limit:
                try:
                    return await self.documents(str(reference))
                except NotFound:
                    # Deleted since it was listed, or a broken documents route: either way its
                    # files are unknown, so it is quarantined (kept, files included), not
                    # stored without them (which would mark its files deleted).
                    return None

        def mapped(pair: tuple[Any, list[Mapping[str, Any]] | None]) -> CandidateRecord:
            item, documents = pair
            if documents is None:
                raise DocumentsUnavailable("its documents route answered 404")
            return map_candidate(item, ctx, job=job, documents=documents)

        documents = await asyncio.gather(*(documents_of(item) for item in items))
        return map_each(
            zip(items, documents, strict=True),
            mapped,
            remote_id_of=lambda pair: (
                pair[0].get("reference") if isinstance(pair[0], Mapping) else None
            ),
        )

    async def iter_candidates(
        self, *, updated_since: datetime | None = None, page_size: int = 500
    ) -> AsyncIterator[CandidatePage]:
        ctx = await self.mapping_context()
        params: dict[str, Any] = {"stage": "true", "tags": "true"}
        if updated_since is not None:
            # `updated_after` is a date: start a day earlier so nothing at the boundary is lost.
            params["updated_after"] = (updated_since - timedelta(days=1)).date().isoformat()
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
                records, quarantined = await self._records(items, job, ctx)
                if records or quarantined:
                    yield CandidatePage(records=tuple(records), quarantined=tuple(quarantined))
            missing = shortfall(
                f"Welcome Kit job {job.reference}'s candidates", len(seen), expected
            )
            if missing:
                yield CandidatePage(records=(), incomplete=missing)
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
            job = (await self.jobs()).get(job_ref) or JobInfo(job_ref, None)
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

    # --- writes (SDK only) ---------------------------------------------------------------------

    async def create_candidate(self, candidate: CandidateCreate) -> CandidateRecord:
        body: dict[str, Any] = {
            "organization_reference": self.settings.organization_reference,
            "job_reference": candidate.job_reference,
            "email": candidate.email,
            "firstname": candidate.firstname,
            "lastname": candidate.lastname,
        }
        optional = {
            "subtitle": candidate.subtitle,
            "phone": candidate.phone,
            "tag_list": ",".join(candidate.tag_list) or None,
            "remote_resume_url": candidate.remote_resume_url,
            "remote_portfolio_url": candidate.remote_portfolio_url,
            "cover_letter": candidate.cover_letter,
            "referrer": candidate.referrer,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        response = await self.http.request("POST", "/candidates", json=body)
        payload = json_body(response, self.redact)
        job = (await self.jobs()).get(candidate.job_reference)
        return map_candidate(payload, await self.mapping_context(), job=job)

    async def attach_documents(
        self, candidate_reference: str, files: Sequence[tuple[str, str]]
    ) -> list[Attachment]:
        """Attach files by URL (``[(filename, url)]``); returns them as unified attachments."""
        response = await self.http.request(
            "POST",
            "/documents",
            json={
                "candidate_reference": candidate_reference,
                "remote_file_urls": [{"filename": name, "url": url} for name, url in files],
            },
        )
        documents = json_body(response, self.redact)
        if not isinstance(documents, list):
            raise InvalidVendorResponse("Welcome Kit did not answer the attached documents")
        record = await self.get_candidate(candidate_reference)
        attached = {
            f"{candidate_reference}:document:{d.get('id')}"
            for d in documents
            if isinstance(d, Mapping)
        }
        return [a for a in record.attachments if a.remote_id in attached]


def _error_body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name, "")
    return int(value) if value.isdigit() else None
