"""The viasto Interview Suite connector (API v3): HTTP only; JSON handling in :mod:`.mapping`.

The host is per company (``https://{company}.interview-suite.com/api/v3``). Enumeration walks
the company's projects, then each project's candidates: when ``meta.total_count`` is known the
remaining pages are fetched concurrently (``max_concurrent_pages``), else ``meta.next`` is
followed until null. Jobs are the projects (one listing serves both the jobs and the project
names candidates are titled with); each candidate record carries its one application.

Writes (``WRITE_RULES`` says what each does): candidates are created in a project in status
``new`` (JSON, or multipart with the ``cv``), a CV is replaced by a multipart ``PATCH``, and the
status moves only by the Advance Status Action, one step forward at a time. Every write is sent
once; an answer lost after the vendor committed is recovered by ``find_candidate``.
"""

import asyncio
import contextlib
import functools
import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar

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
    KnownDigests,
    MappingContext,
    map_each,
    shortfall,
)
from connectors.sdk.errors import (
    AuthFailed,
    InvalidVendorResponse,
    NotFound,
    VendorRejectedRequest,
    not_about_the_record,
)
from connectors.sdk.http import json_body, path_segment
from connectors.sdk.normalize import text
from connectors.sdk.ratelimit import RateRule
from connectors.sdk.secrets import Redactor
from connectors.sdk.writes import (
    CandidateDraft,
    FileRules,
    FileUpload,
    StageMoveRefused,
    WriteRules,
)
from connectors.viasto.mapping import (
    CREATE_STATUS,
    CV_CONTENT_TYPES,
    CV_MAX_BYTES,
    DraftRefused,
    MappingError,
    advance_refusal,
    candidate_body,
    candidate_key,
    cv_problems,
    field_errors,
    map_candidate,
    map_project,
    person_body,
    project_key,
    split_remote_id,
    stage_status,
)
from schemas import Attachment, Candidate

CV_FILES = FileRules(
    max_bytes=CV_MAX_BYTES,  # not documented: our own bound [INF]
    content_types=CV_CONTENT_TYPES,  # the cv attribute's documented list [DOC] V1
    max_files=1,
    attachment_types=frozenset({"RESUME"}),
)
WRITE_RULES = WriteRules(
    create_fields=frozenset(
        {
            "first_name",
            "last_name",
            "email_addresses",
            "phone_numbers",
            "job_id",
            "job_interview_stage_id",
            "attachments",
        }
    ),
    create_required=frozenset({"first_name", "last_name", "job_id"}),
    max_items={"email_addresses": 1, "phone_numbers": 1},
    create_files=CV_FILES,
    attachment_files=CV_FILES,
    stage_moves_forward_only=True,
    notes={
        "create_candidate": (
            "POST /companies/{c}/projects/{job}/candidates/ (multipart/form-data with the cv "
            "when a file is given) creates the candidate in status 'new' without e-mailing "
            "them; viasto stores one e-mail, one phone and one CV (PDF, Word, PowerPoint, "
            "PostScript, DVI, plain or rich text; at most 10 MiB, our own bound as viasto "
            "documents none), and a stage other than 'new' is refused because status is "
            "ignored on creation."
        ),
        "create_application": (
            "viasto keys candidates per project, so the candidate is read and the same person "
            "(names, e-mail, phone, address, CV) is created in status 'new' in the job's "
            "project; a person already there with the same names and e-mail is returned, "
            "not duplicated."
        ),
        "change_stage": (
            "One PATCH …/candidates/{id}/status/advance/ (the Advance Status Action) moves the "
            "candidate to the next status of new -> invited -> confirmed -> interviewing -> "
            "interviewed; moving to 'invited' e-mails the candidate their invitation, and a "
            "move back, over several statuses, or to or from expired, aborted or skipped is "
            "refused (409)."
        ),
        "reject_application": (
            "viasto documents no action that rejects a candidate: 'aborted' and 'skipped' are "
            "statuses no documented call sets, and DELETE would erase the candidate and their "
            "interview instead."
        ),
        "add_attachment": (
            "PATCH /companies/{c}/projects/{p}/candidates/{id}/ with the cv as multipart "
            "(202) replaces the candidate's one CV (same types and 10 MiB bound as on "
            "creation); other attachment types are not held by viasto."
        ),
    },
)


Page = tuple[str, str | None, list[Any], int | None, str | None]
"""A project's page as its walker hands it over: project id and name, objects, the project's
total, and why its listing is incomplete."""


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
    """List pages in flight at once per connector, whichever projects they belong to."""
    max_requests_per_second: float | None = None
    """Spacing of list calls for an account whose limit is known: viasto documents none, so
    none by default. Pages still overlap; only their starts are spaced."""
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
    def token(self) -> str | None:
        """The token in use: given, or obtained from the username and password."""
        return self._token

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
    link_help: ClassVar[str] = (
        "Sign in with your viasto Interview Suite user: the password is exchanged for an API "
        "token at once and never stored. The company identifier is your subdomain "
        "(<identifier>.interview-suite.com) and the company id is the number in your company's "
        "API URLs (/api/v3/companies/<id>/).\n\n"
        "Already have an API token? Leave the username and password empty and paste it instead."
    )
    link_fields: ClassVar[tuple[str, ...]] = (
        "company_id",
        "company_identifier",
        "username",
        "password",
        "token",
    )
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
            Capability.CREATE_APPLICATION,
            Capability.CHANGE_STAGE,
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

    @functools.cached_property
    def rate(self) -> RateRule | None:
        """The account's request spacing, when ``max_requests_per_second`` is set."""
        return RateRule.per_second(
            f"viasto:{self.settings.account_key()}", self.settings.max_requests_per_second
        )

    def storable_settings(self) -> dict[str, Any]:
        """The token the password was exchanged for, never the password."""
        data = super().storable_settings()
        if self.settings.password is None:
            return data
        auth = self.http.auth
        token = auth.token if isinstance(auth, ViastoTokenAuth) else None
        if token is None:
            raise AuthFailed(f"{self.display_name} issued no token for these credentials")
        return {**data, "token": token, "password": None}

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
        """Objects, meta, and the page's own URL (its links resolve against it). At most
        ``max_concurrent_pages`` list pages are in flight per connector, whichever projects
        they belong to."""
        async with self._page_budget():
            body, url = await self.http.get_json_page(path, params=params, rate=self.rate)
        objects = body.get("objects") if isinstance(body, Mapping) else None
        meta = body.get("meta") if isinstance(body, Mapping) else None
        if not isinstance(objects, list) or not isinstance(meta, Mapping):
            raise InvalidVendorResponse("viasto list answer lacks its {meta, objects} envelope")
        return objects, meta, url

    def _page_budget(self) -> asyncio.Semaphore:
        # One per event loop: a semaphore belongs to the loop that first waits on it.
        loop = asyncio.get_running_loop()
        budget: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = self.__dict__.get(
            "_budget"
        )
        if budget is None or budget[0] is not loop:
            budget = (loop, asyncio.Semaphore(max(1, self.settings.max_concurrent_pages)))
            self.__dict__["_budget"] = budget
        return budget[1]

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
        """Pages 2.. fetched concurrently (within the connector's page budget, see
        ``_envelope``), planned by the page size the server ``served``."""

        async def fetch(page: int) -> list[Any]:
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
        self,
        *,
        updated_since: datetime | None = None,
        page_size: int = 500,
        known: KnownDigests | None = None,  # no source digests: every record is mapped
    ) -> AsyncIterator[CandidatePage]:
        # No updated-since filter exists: always a full enumeration (content hashes tell changes).
        ctx = await self.mapping_context()
        # Projects are walked concurrently (their pages share the connector's page budget):
        # one after another, each project's first page was a vendor round trip with nothing
        # else in flight. Pages come in the order they arrive; each is whole.
        projects = await self.projects(refresh=True)
        arrived: asyncio.Queue[Page | Exception] = asyncio.Queue(
            maxsize=2 * max(1, self.settings.max_concurrent_pages)
        )

        async def walk(project_id: str, project_name: str | None) -> None:
            try:
                async for objects, total, incomplete in self._project_pages(project_id):
                    await arrived.put((project_id, project_name, objects, total, incomplete))
            except Exception as exc:  # handed to the consumer, which raises it
                await arrived.put(exc)

        totals: dict[str, int] = {}  # by project: the total grows as projects report theirs
        walkers = {
            asyncio.ensure_future(walk(project_id, name)): project_id
            for project_id, name in projects.items()
        }
        try:
            while (item := await self._next_page(arrived, walkers)) is not None:
                if isinstance(item, BaseException):
                    raise item
                project_id, project_name, objects, total, incomplete = item
                records, quarantined = map_each(
                    objects,
                    functools.partial(map_candidate, ctx=ctx, project_name=project_name),
                    remote_id_of=candidate_remote_id,
                )
                if total is not None:
                    totals[project_id] = total
                yield CandidatePage(
                    records=tuple(records),
                    total=sum(totals.values()) if total is not None else None,
                    quarantined=tuple(quarantined),
                    incomplete=incomplete,
                )
        finally:
            for task in walkers:
                task.cancel()
            await asyncio.gather(*walkers, return_exceptions=True)
        if self.projects_shortfall:
            yield CandidatePage(records=(), incomplete=self.projects_shortfall)

    @staticmethod
    async def _next_page(
        arrived: "asyncio.Queue[Any]", walkers: Mapping["asyncio.Task[None]", str]
    ) -> Any:
        """The next page any project walker put, or None once every walker is done and
        nothing is left to take."""
        while True:
            if not arrived.empty():
                return arrived.get_nowait()
            if all(task.done() for task in walkers):
                return None if arrived.empty() else arrived.get_nowait()
            getter = asyncio.ensure_future(arrived.get())
            waiting = {getter, *(t for t in walkers if not t.done())}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                return getter.result()
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
            if getter.done() and not getter.cancelled():
                return getter.result()

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

    # --- writes: sent once (POST/PATCH are never retried blindly) ------------------------------

    def _project_segment(self, job_remote_id: str | None) -> str:
        """A job remote id as viasto's project path segment (a project id: ASCII digits)."""
        if job_remote_id is None:
            raise VendorRejectedRequest(
                "viasto creates a candidate inside a project: a job is required",
                field_errors={"job_id": ["viasto creates every candidate inside a project."]},
            )
        if not (job_remote_id.isascii() and job_remote_id.isdigit()):
            raise NotFound("a viasto job id is a project id (digits)")
        return path_segment(job_remote_id, "viasto project")

    def _creation_stage(self, project_id: str, stage_remote_id: str | None) -> None:
        """Creation happens in status ``new`` only: any other stage is refused, never reached
        by advancing (moving to ``invited`` e-mails the candidate)."""
        if stage_remote_id is None:
            return
        status = _refusing(stage_status, project_id, stage_remote_id)
        if status != CREATE_STATUS:
            raise StageMoveRefused(
                f"viasto creates every candidate in status 'new' (status is ignored on POST); "
                f"create it without a stage, then move it to '{status}' with change-stage "
                "(moving to 'invited' sends the candidate viasto's invitation e-mail)"
            )

    async def _post_candidate(
        self, project_id: str, fields: Mapping[str, str], cv: FileUpload | None
    ) -> Any:
        """``POST …/projects/{p}/candidates/``: JSON, or multipart/form-data with the ``cv``."""
        path = f"{self._company_path}/projects/{project_id}/candidates/"
        if cv is None:
            response = await self.http.request("POST", path, json=dict(fields))
        else:
            response = await self.http.request(
                "POST",
                path,
                data=dict(fields),
                files={"cv": (cv.file_name, cv.content or b"", cv.content_type)},
            )
        return json_body(response, self.redact)

    async def _record(self, payload: Any, project_id: str) -> CandidateRecord:
        """A written candidate as a sync maps it: from the vendor's answer when it is a whole
        candidate, else re-read by the id it names."""
        if not isinstance(payload, Mapping):
            raise InvalidVendorResponse("viasto answered a write with no candidate object")
        try:
            remote_id = "/".join(candidate_key(payload.get("resource_uri")))
        except MappingError as exc:
            raise InvalidVendorResponse(f"viasto write answer unreadable: {exc}") from exc
        if not payload.keys() >= WHOLE_CANDIDATE:
            return await self.get_candidate(remote_id)
        projects = await self.projects()
        if project_id not in projects:
            projects = await self.projects(refresh=True)
        try:
            return map_candidate(
                payload, await self.mapping_context(), project_name=projects.get(project_id)
            )
        except MappingError as exc:
            raise InvalidVendorResponse(f"viasto candidate unreadable: {exc}") from exc

    async def create_candidate(self, draft: CandidateDraft) -> CandidateRecord:
        """``POST …/projects/{job}/candidates/`` (multipart with the ``cv`` when the draft has
        a file): the candidate is created in status ``new``; no e-mail is sent."""
        project_id = self._project_segment(draft.job_remote_id)
        self._creation_stage(project_id, draft.stage_remote_id)
        fields = _refusing(candidate_body, draft)
        cv = draft.attachments[0] if draft.attachments else None
        payload = await self._post_candidate(project_id, fields, cv)
        return await self._record(payload, project_id)

    async def find_candidate(self, draft: CandidateDraft) -> CandidateRecord | None:
        """The candidate ``draft`` created, if viasto has it: the project's candidates with the
        draft's names and e-mail (no e-mail: none on the record, and the same phone if given);
        the newest one when several match."""
        if draft.job_remote_id is None:
            return None
        project_id = self._project_segment(draft.job_remote_id)
        try:
            fields = candidate_body(draft)
        except DraftRefused:
            return None  # such a draft is never sent, so it created nothing
        found = await self._find(project_id, fields, require_email=False)
        return await self._record(found, project_id) if found is not None else None

    async def _find(
        self, project_id: str, fields: Mapping[str, str], *, require_email: bool
    ) -> Mapping[str, Any] | None:
        if require_email and not fields.get("email"):
            return None
        best: tuple[int, Mapping[str, Any]] | None = None
        async for objects, _, _ in self._project_pages(project_id):
            for item in objects:
                if not isinstance(item, Mapping) or not _same_person(item, fields):
                    continue
                try:
                    number = int(candidate_key(item.get("resource_uri"))[1])
                except MappingError:
                    continue
                if best is None or number > best[0]:
                    best = (number, item)
        return best[1] if best is not None else None

    async def create_application(
        self, candidate_remote_id: str, job_remote_id: str, stage_remote_id: str | None
    ) -> CandidateRecord:
        """The same person in another project: viasto keys candidates per project, so this
        reads the candidate and creates one in the job's project with the same person fields
        and CV (status ``new``). A person already there (same names and e-mail) is returned as
        is, never duplicated."""
        project_id = self._project_segment(job_remote_id)
        self._creation_stage(project_id, stage_remote_id)
        source = await self._candidate_payload(candidate_remote_id)
        if split_remote_id(candidate_remote_id)[0] == project_id:
            raise VendorRejectedRequest(
                "this viasto candidate is already in that project",
                field_errors={"job_id": ["The candidate is already in this viasto project."]},
            )
        fields = person_body(source)
        if "first_name" not in fields or "last_name" not in fields:
            raise VendorRejectedRequest(
                "viasto requires a first and last name, which this candidate lacks",
                field_errors={"candidate_id": ["viasto requires a first and last name."]},
            )
        existing = await self._find(project_id, fields, require_email=True)
        if existing is not None:
            return await self._record(existing, project_id)
        cv = await self._cv_copy(candidate_remote_id, source)
        payload = await self._post_candidate(project_id, fields, cv)
        return await self._record(payload, project_id)

    async def _cv_copy(self, remote_id: str, source: Mapping[str, Any]) -> FileUpload | None:
        if not str(source.get("cv") or "").strip():
            return None
        async with self._file(remote_id, "cv", "cv") as download:
            content = bytearray()
            async for chunk in download.chunks:
                content += chunk
                if len(content) > CV_MAX_BYTES:
                    raise VendorRejectedRequest(
                        "this candidate's viasto CV is larger than a CV viasto takes",
                        field_errors={"candidate_id": ["The candidate's CV is too large."]},
                    )
        return FileUpload(
            file_name=download.file_name or "cv",
            content_type=download.content_type,
            content=bytes(content),
        )

    async def change_stage(
        self, application_remote_id: str, stage_remote_id: str
    ) -> CandidateRecord:
        """One ``PATCH …/candidates/{id}/status/advance/`` (the Advance Status Action) when the
        stage is the next status on new -> invited -> confirmed -> interviewing -> interviewed;
        the stage it is in already: nothing sent. Anything else is StageMoveRefused."""
        try:
            project_id, candidate_id = split_remote_id(application_remote_id)
        except MappingError as exc:
            raise NotFound(str(exc)) from exc
        target = _refusing(stage_status, project_id, stage_remote_id)
        payload = await self._candidate_payload(application_remote_id)
        current = (text(payload.get("status")) or "").lower()
        if current == target:
            return await self._record(payload, project_id)
        refusal = advance_refusal(current, target)
        if refusal is not None:
            raise StageMoveRefused(refusal)
        await self.http.request(
            "PATCH",
            f"{self._company_path}/projects/{project_id}/candidates/{candidate_id}/status/advance/",
        )
        return await self.get_candidate(application_remote_id)

    async def add_attachment(self, candidate_remote_id: str, upload: FileUpload) -> Attachment:
        """``PATCH …/candidates/{id}/`` with the ``cv`` as multipart (202): viasto holds one CV,
        so this replaces any earlier one. The candidate is read again for its CV attachment."""
        try:
            project_id, candidate_id = split_remote_id(candidate_remote_id)
        except MappingError as exc:
            raise NotFound(str(exc)) from exc
        problems = cv_problems(upload)
        if problems:
            raise VendorRejectedRequest(
                "viasto cannot take this file as a CV", field_errors={"attachment": problems}
            )
        await self.http.request(
            "PATCH",
            f"{self._company_path}/projects/{project_id}/candidates/{candidate_id}/",
            files={"cv": (upload.file_name, upload.content or b"", upload.content_type)},
        )
        record = await self.get_candidate(candidate_remote_id)
        if not record.attachments:
            raise InvalidVendorResponse("viasto accepted the CV but the candidate shows none")
        return record.attachments[0]

    async def set_deadline(self, remote_id: str, deadline: datetime) -> None:
        """The Set Deadline Action (SDK only): the interview deadline, before inviting."""
        if deadline.tzinfo is None:
            raise ValueError("viasto needs a deadline with a time zone")
        try:
            project_id, candidate_id = split_remote_id(remote_id)
        except MappingError as exc:
            raise NotFound(str(exc)) from exc
        await self.http.request(
            "PATCH",
            f"{self._company_path}/projects/{project_id}/candidates/{candidate_id}/deadline/",
            json={"deadline": deadline.isoformat()},
        )


WHOLE_CANDIDATE = frozenset({"resource_uri", "first_name", "last_name", "status", "project"})
"""Keys a write answer must carry to be mapped as it is (else the candidate is read again)."""
T = TypeVar("T")


def _refusing(check: Callable[..., T], *args: Any) -> T:
    """A pure check's DraftRefused as the VendorRejectedRequest the service answers 422 with."""
    try:
        return check(*args)
    except DraftRefused as exc:
        raise VendorRejectedRequest(
            "viasto cannot store this as asked", field_errors=exc.field_errors
        ) from None


def _same_person(item: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    """A listed candidate is the person ``fields`` describe: the same names and e-mail
    (case-insensitive); without an e-mail, none on the record and the same phone if given."""

    def same(key: str) -> bool:
        mine = (fields.get(key) or "").strip().casefold()
        theirs = (text(item.get(key)) or "").casefold()
        return mine == theirs

    if not (same("first_name") and same("last_name") and same("email")):
        return False
    return bool(fields.get("email")) or "phone" not in fields or same("phone")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


__all__ = ["ViastoConnector", "ViastoSettings"]
