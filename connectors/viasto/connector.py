"""The viasto Interview Suite connector (API v3): HTTP only; JSON handling in :mod:`.mapping`.

The host is per company (``https://{company}.interview-suite.com/api/v3``). Enumeration walks
the company's projects, then each project's candidates: when ``meta.total_count`` is known the
remaining pages are fetched concurrently (``max_concurrent_pages``), else ``meta.next`` is
followed until null. Jobs are the projects (one listing serves both the jobs and the project
names candidates are titled with); each candidate record carries its one application.
"""

import asyncio
import functools
import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr, model_validator

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
    map_each,
    shortfall,
)
from connectors.sdk.errors import (
    InvalidVendorResponse,
    NotFound,
    UnsupportedOperation,
    not_about_the_record,
)
from connectors.sdk.http import json_body
from connectors.sdk.secrets import Redactor
from connectors.viasto.mapping import (
    MappingError,
    candidate_key,
    field_errors,
    map_candidate,
    map_project,
    project_key,
    split_remote_id,
)
from schemas import Candidate

# Types the CV upload recognises (seed 003), plus the image types a photo comes back as.
CV_TYPES = frozenset(
    {
        "application/msword",
        "application/pdf",
        "application/postscript",
        "application/vnd.ms-powerpoint",
        "application/x-dvi",
        "text/plain",
        "text/richtext",
    }
)


class ViastoSettings(ConnectorSettings):
    base_url: str = "https://interview-suite.com/api/v3"
    """Per company: ``https://{company}.interview-suite.com/api/v3``."""
    company_id: str
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    company_identifier: str | None = None
    """The ``company`` field of ``/api-token-auth/`` (usually the subdomain)."""
    company_name: str | None = None
    """The customer company's name; read from ``/companies/{id}/`` when not given."""
    page_size: int = 50
    max_concurrent_pages: int = 6
    default_phone_region: str = "DE"

    @model_validator(mode="after")
    def _credentials(self) -> "ViastoSettings":
        if self.token is None and (self.username is None or self.password is None):
            raise ValueError("give a token, or a username and password to obtain one")
        return self

    def account_key(self) -> str:
        return f"{self.base_url}#{self.company_id}"


class ViastoTokenAuth(httpx.Auth):
    """``Authorization: Token <t>``; obtains the token from username/password when needed and
    refreshes it once on a 401 (expiring tokens lapse after inactivity)."""

    requires_response_body = True

    def __init__(self, settings: ViastoSettings, redactor: Redactor) -> None:
        self._settings = settings
        self._redactor = redactor
        self._token = settings.token.get_secret_value() if settings.token else None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return "ViastoTokenAuth(token='***')"

    @property
    def can_refresh(self) -> bool:
        return self._settings.username is not None and self._settings.password is not None

    def _token_request(self, original: httpx.Request) -> httpx.Request:
        assert self._settings.password is not None
        body = {
            "username": self._settings.username,
            "password": self._settings.password.get_secret_value(),
            "company": self._settings.company_identifier or "",
        }
        # Same timeouts as the request it serves: a hanging login must not hang the caller.
        return httpx.Request(
            "POST",
            f"{self._settings.base_url.rstrip('/')}/api-token-auth/",
            json=body,
            extensions={"timeout": original.extensions.get("timeout", {})},
        )

    def _remember(self, response: httpx.Response) -> bool:
        try:
            token = response.json().get("token") if response.status_code == 200 else None
        except (ValueError, AttributeError):
            token = None
        if isinstance(token, str) and token:
            self._token = token
            self._redactor.add(token)
            return True
        return False

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._token is None and self.can_refresh:
            async with self._lock:
                if self._token is None:
                    token_response = yield self._token_request(request)
                    await token_response.aread()
                    if not self._remember(token_response):
                        yield request  # unauthenticated: the vendor's 401 tells the caller
                        return
        used = self._token
        if used is not None:
            request.headers["Authorization"] = f"Token {used}"
        response = yield request
        if response.status_code == 401 and self.can_refresh:
            async with self._lock:
                if self._token == used:  # nobody refreshed meanwhile
                    token_response = yield self._token_request(request)
                    await token_response.aread()
                    if not self._remember(token_response):
                        return
            request.headers["Authorization"] = f"Token {self._token}"
            yield request


@dataclass(frozen=True)
class ViastoCandidateCreate:
    first_name: str
    last_name: str
    email: str | None = None
    gender: str | None = None
    phone: str | None = None
    address: str | None = None
    cv: tuple[str, bytes, str] | None = None
    """(file name, content, content type): sent as multipart/form-data."""


def _object_key(payload: Any) -> str | None:
    """A listed object's identity, to count what a listing gave (None: not countable)."""
    uri = payload.get("resource_uri") if isinstance(payload, Mapping) else None
    return uri.rstrip("/") if isinstance(uri, str) and uri else None


def candidate_remote_id(payload: Any) -> str:
    return "/".join(candidate_key(payload.get("resource_uri")))


def project_remote_id(payload: Any) -> str | None:
    """A listed project's id, or None when it has no usable ``resource_uri``."""
    if not isinstance(payload, Mapping):
        return None
    try:
        return project_key(payload.get("resource_uri"))
    except MappingError:
        return None


class ViastoConnector(Connector[ViastoSettings]):
    name: ClassVar[str] = "viasto"
    display_name: ClassVar[str] = "viasto Interview Suite"
    settings_model: ClassVar[type[ConnectorSettings]] = ViastoSettings
    capabilities = frozenset(
        {
            Capability.LIST_CANDIDATES,
            Capability.GET_CANDIDATE,
            Capability.LIST_ATTACHMENTS,
            Capability.DOWNLOAD_ATTACHMENT,
            Capability.DOWNLOAD_AVATAR,
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
            "last_interaction_at",
            "locations",
            "phone_numbers",
            "email_addresses",
            "urls",
            "applications",
            "attachments",
            "avatar",
        }
    )
    attachment_fields = frozenset({"remote_id", "raw_data", "attachment_type", "candidate"})
    job_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "custom_fields",
            "name",
            "code",
            "status",
            "job_posting_urls",
            "remote_created_at",
        }
    )
    stage_fields = frozenset({"remote_id", "custom_fields", "name", "job", "stage_order"})
    application_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "custom_fields",
            "candidate",
            "job",
            "current_stage",
            "evaluation_status",
        }
    )
    log_redactions = (re.compile(r"/(?:cv|photo)/(?P<secret>[^/?#]+)/"),)

    _company_name: str | None = None
    _projects: dict[str, str | None] | None = None
    projects_shortfall: str | None = None

    def build_auth(self) -> httpx.Auth:
        return ViastoTokenAuth(self.settings, self.redact)

    def describe_error(self, response: httpx.Response) -> str | None:
        detail, fields = field_errors(_json_or_none(response))
        if detail:
            return detail
        if fields:
            return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())[
                :300
            ]
        return None

    def error_details(self, response: httpx.Response) -> tuple[str | None, dict[str, list[str]]]:
        _, fields = field_errors(_json_or_none(response))
        return None, fields

    @property
    def _company_path(self) -> str:
        return f"/companies/{self.settings.company_id}"

    # --- reads ---------------------------------------------------------------------------------

    async def company_name(self) -> str | None:
        if self._company_name is None:
            if self.settings.company_name:
                self._company_name = self.settings.company_name
            else:
                company = await self.http.get_json(f"{self._company_path}/")
                name = company.get("name") if isinstance(company, Mapping) else None
                self._company_name = str(name).strip() if name else ""
        return self._company_name or None

    async def mapping_context(self) -> MappingContext:
        base = self.context()
        return MappingContext(
            ids=base.ids,
            observed_at=base.observed_at,
            company_name=await self.company_name(),
            default_phone_region=self.settings.default_phone_region,
        )

    async def _envelope(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> tuple[list[Any], Mapping[str, Any], str]:
        """Objects, meta, and the page's own URL (its links resolve against it)."""
        body, url = await self.http.get_json_page(path, params=params)
        objects = body.get("objects") if isinstance(body, Mapping) else None
        meta = body.get("meta") if isinstance(body, Mapping) else None
        if not isinstance(objects, list) or not isinstance(meta, Mapping):
            raise InvalidVendorResponse("viasto list answer lacks its {meta, objects} envelope")
        return objects, meta, url

    async def _follow(
        self, path: str, *, after: tuple[Mapping[str, Any], str] | None = None
    ) -> AsyncIterator[list[Any]]:
        """Every page by the server's own ``next`` links (from page 1, or after a page already
        read), resolved against the page that carried each one."""
        if after is None:
            objects, meta, url = await self._envelope(
                path, {"page": 1, "page_size": self.settings.page_size}
            )
            yield objects
        else:
            meta, url = after
        seen_links: set[str] = set()
        while isinstance(meta.get("next"), str) and meta["next"]:
            link = self.http.resolve_link(meta["next"], page_url=url)
            if link in seen_links:
                raise InvalidVendorResponse("viasto paging loops on the same next link")
            seen_links.add(link)
            objects, meta, url = await self._envelope(link)
            yield objects

    async def projects(self, *, refresh: bool = False) -> dict[str, str | None]:
        """Project id -> name (the position the interview is for). Cached for single reads;
        every enumeration lists them afresh. A listing short of its ``total_count`` leaves
        ``projects_shortfall`` set."""
        if self._projects is None or refresh:
            async for _ in self._project_listing():
                pass
        assert self._projects is not None
        return self._projects

    async def _project_listing(self) -> AsyncIterator[tuple[list[Any], int | None]]:
        """The project listing, page by page (objects, the vendor's ``total_count``): the one
        walk behind both the jobs and the names candidates are titled with. When it is done,
        the name cache is fresh and ``projects_shortfall`` says whether it fell short."""
        names: dict[str, str | None] = {}
        path = f"{self._company_path}/projects/"
        first, meta, url = await self._envelope(
            path, {"page": 1, "page_size": self.settings.page_size}
        )
        count = meta.get("total_count")
        total = count if isinstance(count, int) and not isinstance(count, bool) else None

        def add(objects: list[Any]) -> None:
            for project in objects:
                project_id = project_remote_id(project)
                if project_id is not None:
                    name = project.get("name")
                    names[project_id] = str(name).strip() if name else None

        add(first)
        yield first, total
        async for objects in self._follow(path, after=(meta, url)):
            add(objects)
            yield objects, total
        self.projects_shortfall = shortfall("viasto projects", len(names), total)
        self._projects = names

    async def iter_jobs(self) -> AsyncIterator[JobPage]:
        """Every project as a job with the workflow statuses as its stages (the whole listing
        every time; a listing short of its ``total_count`` ends with an incomplete page)."""
        ctx = self.context()
        seen: set[str] = set()
        async for objects, total in self._project_listing():
            fresh = []
            for project in objects:
                project_id = project_remote_id(project)
                if project_id is None or project_id not in seen:
                    fresh.append(project)
                if project_id is not None:
                    seen.add(project_id)
            records, quarantined = map_each(
                fresh,
                functools.partial(map_project, ctx=ctx),
                remote_id_of=project_remote_id,
                kind="job",
            )
            yield JobPage(records=tuple(records), total=total, quarantined=tuple(quarantined))
        if self.projects_shortfall:
            yield JobPage(records=(), incomplete=self.projects_shortfall)

    async def get_job(self, remote_id: str) -> JobRecord:
        if not (remote_id.isascii() and remote_id.isdigit()):
            raise NotFound("a viasto job id is a project id (digits)")
        payload = await self.http.get_json(f"{self._company_path}/projects/{remote_id}/")
        if not isinstance(payload, Mapping):
            raise InvalidVendorResponse("viasto project is not a JSON object")
        try:
            record = map_project(payload, self.context())
        except MappingError as exc:
            raise InvalidVendorResponse(f"viasto project unreadable: {exc}") from exc
        if int(record.job.remote_id or -1) != int(remote_id):
            raise InvalidVendorResponse("viasto answered another project than the one asked")
        return record

    async def _project_pages(
        self, project_id: str
    ) -> AsyncIterator[tuple[list[Any], int | None, str | None]]:
        """Pages of one project's candidates: (objects, total, why the listing is incomplete).

        Pages are fetched concurrently only over boundaries the server told us: its
        ``total_count`` with the page size it actually served (a server may cap the size we
        ask for). Ids are counted; when they fall short of the total, the server's own ``next``
        links are walked for the rest, and a listing still short is reported incomplete.
        """
        path = f"{self._company_path}/projects/{project_id}/candidates/"
        asked = self.settings.page_size
        first, meta, url = await self._envelope(path, {"page": 1, "page_size": asked})
        total = meta.get("total_count") if isinstance(meta.get("total_count"), int) else None
        seen = {key for key in map(_object_key, first) if key is not None}
        yield first, total, None
        if meta.get("next"):
            if total is None or not first:  # no count to plan by: the links are the only map
                async for objects in self._follow(path, after=(meta, url)):
                    seen.update(key for key in map(_object_key, objects) if key is not None)
                    yield objects, total, None
            else:
                async for objects in self._fan_out(path, asked, total, len(first)):
                    seen.update(key for key in map(_object_key, objects) if key is not None)
                    yield objects, total, None
                if len(seen) < total:
                    # Uneven pages (or records moving between pages): the links are the truth.
                    async for objects in self._follow(path, after=(meta, url)):
                        fresh = [o for o in objects if _object_key(o) not in seen]
                        seen.update(key for key in map(_object_key, fresh) if key is not None)
                        yield fresh, total, None
        # Checked whatever the paging was, a single page included: a listing short of its own
        # total must never pass for complete.
        missing = shortfall(f"viasto project {project_id}'s candidates", len(seen), total)
        if missing:
            yield [], total, missing

    async def _fan_out(
        self, path: str, asked: int, total: int, served: int
    ) -> AsyncIterator[list[Any]]:
        """Pages 2.. fetched concurrently, planned by the page size the server ``served``."""
        limit = asyncio.Semaphore(max(1, self.settings.max_concurrent_pages))

        async def fetch(page: int) -> list[Any]:
            async with limit:
                try:
                    objects, _, _ = await self._envelope(path, {"page": page, "page_size": asked})
                except NotFound:  # past the end: the count will tell
                    return []
                return objects

        tasks = [
            asyncio.ensure_future(fetch(page)) for page in range(2, math.ceil(total / served) + 1)
        ]
        try:
            for done in asyncio.as_completed(tasks):
                yield await done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def iter_candidates(
        self, *, updated_since: datetime | None = None, page_size: int = 500
    ) -> AsyncIterator[CandidatePage]:
        # No updated-since filter exists: always a full enumeration (content hashes tell changes).
        ctx = await self.mapping_context()
        done_before = 0
        for project_id, project_name in (await self.projects(refresh=True)).items():
            project_total = 0
            async for objects, total, incomplete in self._project_pages(project_id):
                records, quarantined = map_each(
                    objects,
                    functools.partial(map_candidate, ctx=ctx, project_name=project_name),
                    remote_id_of=candidate_remote_id,
                )
                project_total = total or project_total
                yield CandidatePage(
                    records=tuple(records),
                    total=done_before + project_total if total is not None else None,
                    quarantined=tuple(quarantined),
                    incomplete=incomplete,
                )
            done_before += project_total
        if self.projects_shortfall:
            yield CandidatePage(records=(), incomplete=self.projects_shortfall)

    async def _candidate_payload(self, remote_id: str) -> Mapping[str, Any]:
        try:
            project_id, candidate_id = split_remote_id(remote_id)
        except MappingError as exc:
            raise NotFound(str(exc)) from exc
        payload = await self.http.get_json(
            f"{self._company_path}/projects/{project_id}/candidates/{candidate_id}/"
        )
        if not isinstance(payload, Mapping):
            raise InvalidVendorResponse("viasto candidate is not a JSON object")
        return payload

    async def get_candidate(
        self, remote_id: str, *, known: Candidate | None = None
    ) -> CandidateRecord:
        payload = await self._candidate_payload(remote_id)  # its 404 alone says "gone"
        project_id, _ = split_remote_id(remote_id)
        with not_about_the_record("viasto's company or projects"):
            projects = await self.projects()
            ctx = await self.mapping_context()
        try:
            return map_candidate(payload, ctx, project_name=projects.get(project_id))
        except MappingError as exc:
            raise InvalidVendorResponse(f"viasto candidate unreadable: {exc}") from exc

    @asynccontextmanager
    async def _file(
        self, remote_id: str, field: str, default_name: str
    ) -> AsyncIterator[FileDownload]:
        payload = await self._candidate_payload(remote_id)
        url = str(payload.get(field) or "").strip()
        if not url:
            raise NotFound(f"this viasto candidate has no {field}")
        # The URL carries a fresh time-limited token; the API still wants our Token header.
        async with self.http.stream("GET", url) as response:
            yield FileDownload.from_response(response, name=default_name)

    def download_attachment(self, attachment_remote_id: str) -> Any:
        remote_id, _, kind = attachment_remote_id.rpartition(":")
        if kind != "cv" or not remote_id:
            raise NotFound("a viasto attachment id is '<project>/<candidate>:cv'")
        return self._file(remote_id, "cv", "cv")

    def download_avatar(self, remote_id: str) -> Any:
        return self._file(remote_id, "photo", "photo")

    async def verify_credentials(self) -> None:
        await self.projects(refresh=True)

    # --- writes (SDK only) ---------------------------------------------------------------------

    async def create_candidate(
        self, project_id: str, candidate: ViastoCandidateCreate
    ) -> CandidateRecord:
        """Create a candidate in a project (status ``new``); with a CV, as multipart/form-data."""
        path = f"{self._company_path}/projects/{project_id}/candidates/"
        fields = {
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
            "email": candidate.email,
            "gender": candidate.gender,
            "phone": candidate.phone,
            "address": candidate.address,
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        if candidate.cv is not None:
            name, content, content_type = candidate.cv
            if content_type not in CV_TYPES:
                raise UnsupportedOperation(f"viasto does not take CVs of type {content_type}")
            response = await self.http.request(
                "POST", path, data=fields, files={"cv": (name, content, content_type)}
            )
        else:
            response = await self.http.request("POST", path, json=fields)
        payload = json_body(response, self.redact)
        projects = await self.projects()
        return map_candidate(
            payload, await self.mapping_context(), project_name=projects.get(project_id)
        )

    async def set_deadline(self, remote_id: str, deadline: datetime) -> None:
        if deadline.tzinfo is None:
            raise ValueError("viasto needs a deadline with a time zone")
        project_id, candidate_id = split_remote_id(remote_id)
        await self.http.request(
            "PATCH",
            f"{self._company_path}/projects/{project_id}/candidates/{candidate_id}/deadline/",
            json={"deadline": deadline.isoformat()},
        )

    async def advance_status(self, remote_id: str) -> None:
        project_id, candidate_id = split_remote_id(remote_id)
        await self.http.request(
            "PATCH",
            f"{self._company_path}/projects/{project_id}/candidates/{candidate_id}/status/advance/",
        )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


__all__ = ["ViastoCandidateCreate", "ViastoConnector", "ViastoSettings"]
