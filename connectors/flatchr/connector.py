"""The Flatchr connector: HTTP calls only; all JSON handling is in :mod:`.mapping`.

Flatchr has no paging and no get-by-id route for applicants. Enumeration is one search whose
array is cut into pages here. A single candidate is refreshed by a narrow search on its stored
e-mail, matched on the applicant id, with a full search as the fallback (see
docs/connectors/flatchr.md).

Search rows name their vacancy by integer id and their column by title; the vacancies and
columns listings (the catalog) turn those into the job's and the stage's ids. The catalog is
read once and kept, and every enumeration (candidates or jobs) reads it afresh.
"""

import asyncio
import logging
import posixpath
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr, field_validator, model_validator
from pydantic_core import to_json

from connectors.flatchr.dates import search_filter_date
from connectors.flatchr.mapping import (
    CATALOG_KEY,
    RESUME_CONTENT_TYPES,
    RESUME_MAX_BYTES,
    DraftRejected,
    FlatchrCatalog,
    MappingError,
    build_catalog,
    candidate_body,
    catalog_of,
    column_body,
    created_by,
    draft_problems,
    error_fields,
    find_filters,
    knows_placement,
    map_applicant,
    map_applicant_row,
    map_vacancy,
    map_webhook,
    mapping_code_digest,
    pipeline,
    split_cv_remote_id,
    split_stage_remote_id,
)
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
    SourceDigester,
    known_digests,
    map_each,
    page_weight,
)
from connectors.sdk.errors import (
    InvalidVendorResponse,
    NotFound,
    UnsupportedOperation,
    VendorRejectedRequest,
    not_about_the_record,
)
from connectors.sdk.files import (
    content_type_for_extension,
)
from connectors.sdk.http import json_body, path_segment
from connectors.sdk.normalize import text
from connectors.sdk.ratelimit import RateRule
from connectors.sdk.streaming import iter_json_array
from connectors.sdk.writes import CandidateDraft, FileRules, WriteRules
from schemas import Candidate

logger = logging.getLogger("connectors.flatchr")

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CV_ROUTE = re.compile(r"^/*company/[^/]+/files/expire/*$")
CREATE_ROUTE = "/vacancy/candidate/json"
ATTACHMENT_UNSUPPORTED = (
    "Flatchr takes a CV only when the candidate is created (the careers route's required "
    "`resume`); no documented route adds a file to an existing applicant (the 2020 docs' "
    "`POST /company/{id}/applicant/{id}/media` is gone from the current docs)"
)
CREATE_APPLICATION_UNSUPPORTED = (
    "Flatchr has no route that applies an existing candidate to another vacancy: an "
    "application is created only by the careers route, with the person's details and CV sent "
    "again, which makes a new applicant"
)


def latest(records: list[CandidateRecord]) -> CandidateRecord:
    """The most recently created record (by Flatchr's creation day; undated ones first)."""
    return max(
        records,
        key=lambda r: (
            r.candidate.remote_created_at is not None,
            r.candidate.remote_created_at or datetime.min.replace(tzinfo=UTC),
        ),
    )


def web_origin_problem(value: str) -> str | None:
    """Why ``value`` is no plain web origin to send the key to (as ``base_url`` is checked)."""
    try:
        url = urlsplit(value)
    except ValueError:
        return "must be an http(s) URL with a host"
    if url.scheme not in {"http", "https"} or not url.hostname:
        return "must be an http(s) URL with a host"
    if url.username or url.password or url.query or url.fragment:
        return "must not carry credentials, a query or a fragment"
    return None


PRODUCTION_API = "https://api.flatchr.io"
PRODUCTION_CAREERS = "https://careers.flatchr.io"


class FlatchrSettings(ConnectorSettings):
    base_url: str = PRODUCTION_API
    careers_url: str = PRODUCTION_CAREERS
    """Where candidates are created ([DOC] F5: "L'URL racine est ici https://careers.flatchr.io");
    the API key goes there too, so it takes plain web origins only, as ``base_url``. Left out
    with another ``base_url`` than production's, it is that ``base_url`` (an emulator serves
    both): the key of a test account never goes to the real careers host by default."""
    api_key: SecretStr
    company_id: str
    default_phone_region: str = "FR"
    cv_min_interval: float = 1.05
    """Seconds between two CV requests of one company (vendor limit: 1/s; a margin for jitter)."""

    @model_validator(mode="before")
    @classmethod
    def _careers_beside_base(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("careers_url") is not None:
            return data
        data = {k: v for k, v in data.items() if k != "careers_url"}  # null: the default
        base = data.get("base_url")
        # Only a usable base_url is copied: a bad one is reported once, as base_url.
        usable = isinstance(base, str) and web_origin_problem(base) is None
        if usable and isinstance(base, str) and base.rstrip("/") != PRODUCTION_API:
            data["careers_url"] = base
        return data

    @field_validator("careers_url")
    @classmethod
    def _http_careers_url(cls, value: str) -> str:
        problem = web_origin_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def account_key(self) -> str:
        return self.company_id


SKIPPED = "skipped"
"""Marks a row skipped as unchanged (never a digest: those are hexadecimal)."""
MAP_CHUNK = 10
"""Search rows mapped in one go during an enumeration (then the loop is given back)."""


class _PageBuilder:
    """One page of an enumeration being built: rows mapped, quarantined or skipped."""

    def __init__(self, ctx: MappingContext) -> None:
        self.ctx = ctx
        self.pending: list[tuple[Any, str | None]] = []
        self.records: list[CandidateRecord] = []
        self.quarantined: list[Quarantined] = []
        self.unchanged: list[str] = []

    @property
    def size(self) -> float:
        """The page's weight (rows skipped as unchanged weigh a fraction of a mapped one)."""
        mapped = len(self.pending) + len(self.records) + len(self.quarantined)
        return page_weight(mapped, len(self.unchanged))

    def map_pending(self) -> None:
        ctx = self.ctx

        def map_one(item: tuple[Any, str | None]) -> CandidateRecord:
            record = map_applicant_row(item[0], ctx)
            return record if item[1] is None else replace(record, source_digest=item[1])

        records, quarantined = map_each(
            self.pending,
            map_one,
            remote_id_of=lambda item: item[0].get("id") if isinstance(item[0], Mapping) else None,
        )
        self.records += records
        self.quarantined += quarantined
        self.pending = []

    def take(self) -> CandidatePage:
        self.map_pending()
        page = CandidatePage(
            records=tuple(self.records),
            quarantined=tuple(self.quarantined),
            unchanged=tuple(self.unchanged),
        )
        self.records, self.quarantined, self.unchanged = [], [], []
        return page


class FlatchrConnector(Connector[FlatchrSettings]):
    name: ClassVar[str] = "flatchr"
    source_digests: ClassVar[bool] = True
    display_name: ClassVar[str] = "Flatchr"
    settings_model: ClassVar[type[ConnectorSettings]] = FlatchrSettings
    link_help: ClassVar[str] = (
        "In Flatchr, open Advanced Settings > Advanced > API (older accounts: Configuration > "
        'Clés) and copy the API key. The company id ("clé entreprise", 16 characters, e.g. '
        "G6KzqPnNLyp31m0l) is shown on the same page.\n\n"
        "Flatchr API keys expire after 365 days: link the account again with the new key then."
    )
    capabilities = frozenset(
        {
            Capability.LIST_CANDIDATES,
            Capability.UPDATED_SINCE,
            Capability.GET_CANDIDATE,
            Capability.LIST_ATTACHMENTS,
            Capability.DOWNLOAD_ATTACHMENT,
            Capability.VERIFY_CREDENTIALS,
            Capability.WEBHOOKS,
            Capability.LIST_JOBS,
            Capability.GET_JOB,
            Capability.LIST_APPLICATIONS,
            Capability.CREATE_CANDIDATE,
            Capability.CHANGE_STAGE,
            Capability.REJECT_APPLICATION,
            Capability.PASSTHROUGH,
        }
    )
    write_rules = WriteRules(
        create_fields=frozenset(
            {
                "first_name",
                "last_name",
                "email_addresses",
                "phone_numbers",
                "urls",
                "job_id",
                "job_interview_stage_id",
                "attachments",
            }
        ),
        create_required=frozenset({"first_name", "last_name", "job_id", "attachments"}),
        create_files=FileRules(
            max_bytes=RESUME_MAX_BYTES,
            content_types=RESUME_CONTENT_TYPES,
            max_files=1,
            takes_url=True,  # `type: "link"`: Flatchr fetches the CV from the URL ([DOC] F5)
            attachment_types=frozenset({"RESUME"}),
        ),
        attachment_files=None,
        attachment_unsupported_reason=ATTACHMENT_UNSUPPORTED,
        stage_moves_forward_only=False,
        notes={
            "create_candidate": (
                "POST careers.flatchr.io/vacancy/candidate/json applies the person to the "
                "vacancy (its slug) with the CV as base64 or a link, one e-mail, one phone and "
                "one URL per network; the applicant starts in the first column (a stage given "
                "moves it there next) and is read back from the search, as Flatchr answers no id"
            ),
            "create_application": CREATE_APPLICATION_UNSUPPORTED,
            "change_stage": (
                "PUT /company/{id}/vacancy/{vacancy}/applicant/{applicant} {column_id} moves the "
                "applicant to the column, in any direction"
            ),
            "reject_application": (
                "DELETE /company/{id}/vacancy/{vacancy}/applicant/{applicant} archives the "
                "applicant (status 0, archived true): Flatchr has no rejection nor reasons"
            ),
            "add_attachment": ATTACHMENT_UNSUPPORTED,
        },
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
            "phone_numbers",
            "email_addresses",
            "urls",
            "applications",
            "attachments",
            "remote_created_at",
            "remote_updated_at",
        }
    )
    coverage_notes: ClassVar[Mapping[str, str]] = {
        "Candidate.is_private": "`anonym` comes in webhooks only: raw_data",
        "Candidate.can_email": "`consent` is retention consent, not e-mail opt-in",
        "Application.rejected_at": "Flatchr archives, it does not reject: `archived`",
        "Application.source": "search rows only: raw_data",
    }
    """Shown in docs/coverage.md next to the field (see connectors.sdk.coverage)."""
    attachment_fields = frozenset(
        {
            "remote_id",
            "raw_data",
            "file_name",
            "attachment_type",
            "candidate",
            "content_type",
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
            "current_stage",
            "applied_at",
            "archived",
            "hired",
            "score",
        }
    )

    _catalog: FlatchrCatalog | None = None

    def build_auth(self) -> httpx.Auth:
        # The key goes in a header, never in the URL (the docs also allow `?token=`).
        return HeaderToken(self.settings.api_key, scheme="Bearer")

    def error_details(self, response: httpx.Response) -> tuple[str | None, dict[str, list[str]]]:
        try:
            body = response.json()
        except ValueError:
            return None, {}
        return error_fields(body)

    def describe_error(self, response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, Mapping) and isinstance(body.get("message"), str):
            message: str = body["message"]
            return message[:200]
        return None

    @property
    def _company_path(self) -> str:
        return f"/company/{self.settings.company_id}"

    @property
    def cv_rate(self) -> RateRule:
        return RateRule(
            key=f"flatchr:{self.settings.company_id}:files",
            min_interval=self.settings.cv_min_interval,
        )

    async def _listing(self, what: str) -> list[Any]:
        body = await self.http.get_json(f"{self._company_path}/{what}")
        if not isinstance(body, list):
            raise InvalidVendorResponse(f"Flatchr {what} listing is not a JSON array")
        return body

    async def catalog(self, *, refresh: bool = False) -> FlatchrCatalog:
        """The vacancies and columns listings, read once and kept until ``refresh``."""
        if self._catalog is None or refresh:
            vacancies = await self._listing("vacancies")
            columns = await self._listing("columns")
            self._catalog = build_catalog(vacancies, columns)
        return self._catalog

    async def company_name(self) -> str | None:
        """The hiring company's name, from the vacancies listing (search rows lack it)."""
        return (await self.catalog()).company_name

    def _context(self, catalog: FlatchrCatalog) -> MappingContext:
        base = self.context()
        return MappingContext(
            ids=base.ids,
            observed_at=base.observed_at,
            company_name=catalog.company_name,
            default_phone_region=self.settings.default_phone_region,
            extra={CATALOG_KEY: catalog},
        )

    async def mapping_context(self, *, refresh: bool = False) -> MappingContext:
        """The context with the catalog (kept from the last read unless ``refresh``)."""
        return self._context(await self.catalog(refresh=refresh))

    async def search(self, filters: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]:
        response = await self.http.request(
            "POST",
            f"{self._company_path}/search/applicants",
            json=dict(filters or {}),
            idempotent=True,  # a search changes nothing: safe to retry
        )
        rows = json_body(response, self.redact)
        if not isinstance(rows, list):
            raise InvalidVendorResponse(
                "Flatchr search did not answer a JSON array", vendor_status=response.status_code
            )
        return rows

    @staticmethod
    def _map_rows(
        rows: list[Mapping[str, Any]], ctx: MappingContext
    ) -> tuple[list[CandidateRecord], list[Quarantined]]:
        return map_each(
            rows,
            lambda row: map_applicant_row(row, ctx),
            remote_id_of=lambda row: row.get("id") if isinstance(row, Mapping) else None,
        )

    async def iter_candidates(
        self,
        *,
        updated_since: datetime | None = None,
        page_size: int = 500,
        known: KnownDigests | None = None,
    ) -> AsyncIterator[CandidatePage]:
        """The search, cut into pages. With ``known``, each row's source digest (the row's JSON
        with the catalog, settings and mapping code it is mapped with) is compared with the
        stored one: an equal row is listed as unchanged instead of being mapped. An awaitable
        ``known`` is awaited when the first row has come: the store reads the digests while
        Flatchr prepares its answer (its one array takes a while to come)."""
        filters: dict[str, str] = {}
        if updated_since is not None:
            # Day granularity: overlap one whole day so nothing at the boundary is missed.
            filters["start_update"] = search_filter_date((updated_since - timedelta(days=1)).date())
        ctx = await self.mapping_context(refresh=True)  # vacancies may have come or gone
        digester = SourceDigester(self._digest_salt(ctx)) if known is not None else None
        page = _PageBuilder(ctx)
        digests: Mapping[str, str] | None = None
        async for row in self.stream_search(filters):
            digest = None
            if known is not None and digester is not None:
                if digests is None:
                    digests = await known_digests(known)
                digest = digester(row)
                # The id as map_applicant_row reads it: a row without one is mapped (and
                # quarantined), never skipped.
                remote_id = text(row.get("applicant")) if isinstance(row, dict) else None
                if remote_id is not None and digests.get(remote_id) == digest:
                    page.unchanged.append(remote_id)
                    digest = SKIPPED
            if digest is not SKIPPED:
                page.pending.append((row, digest))
                if len(page.pending) >= MAP_CHUNK:
                    page.map_pending()
                    # Rows are mapped as they arrive, a few at a time: the caller storing the
                    # page before gets the loop in between (a whole page mapped at once held
                    # it for a tenth of a second).
                    await asyncio.sleep(0)
            if page.size >= page_size:
                yield page.take()
        if page.size:
            yield page.take()

    def _digest_salt(self, ctx: MappingContext) -> bytes:
        """What a search row's mapping reads besides the row: the catalog, the settings the
        mapping uses, the id scope and the mapping code itself (a new release maps again)."""
        catalog = catalog_of(ctx)
        return to_json(
            [
                mapping_code_digest(),
                str(ctx.ids.namespace),
                ctx.company_name,
                ctx.default_phone_region,
                list(catalog.vacancies),
                [column.raw for column in catalog.columns],
            ],
            fallback=repr,
        )

    async def stream_search(self, filters: Mapping[str, Any]) -> AsyncIterator[Mapping[str, Any]]:
        """The search's rows one by one, parsed as they arrive (no whole-array copy in memory)."""
        async with self.http.stream(
            "POST", f"{self._company_path}/search/applicants", json=dict(filters)
        ) as response:
            try:
                async for row in iter_json_array(response.aiter_text()):
                    yield row
            except ValueError as exc:
                raise InvalidVendorResponse(
                    f"Flatchr search answered malformed JSON ({exc})",
                    vendor_status=response.status_code,
                ) from None

    async def get_candidate(
        self, remote_id: str, *, known: Candidate | None = None
    ) -> CandidateRecord:
        with not_about_the_record("Flatchr's company routes"):
            ctx = await self.mapping_context()
        emails = (known.email_addresses or []) if known else []
        attempts: list[dict[str, str]] = [{"email": address} for address in emails[:1]]
        attempts.append({})  # fallback: the whole company (the e-mail may have changed)
        for filters in attempts:
            # Flatchr has no route per applicant: only its absence from the search says gone.
            with not_about_the_record("Flatchr's applicant search"):
                rows = await self.search(filters)
            for row in rows:
                if isinstance(row, Mapping) and str(row.get("applicant", "")).strip() == remote_id:
                    try:
                        record = map_applicant_row(row, ctx)
                        if self._placement_unknown(record, row):
                            # A vacancy or column newer than the kept catalog: read it again.
                            with not_about_the_record("Flatchr's company routes"):
                                ctx = await self.mapping_context(refresh=True)
                            record = map_applicant_row(row, ctx)
                    except MappingError as exc:
                        raise InvalidVendorResponse(
                            f"Flatchr applicant row unreadable: {exc}"
                        ) from exc
                    return record
        raise NotFound("Flatchr has no applicant with this id")

    @staticmethod
    def _placement_unknown(record: CandidateRecord, row: Mapping[str, Any]) -> bool:
        """The row names a vacancy or a column, and the application found no job or stage."""
        return any(
            (a.job is None and row.get("vacancy_id") is not None)
            or (a.current_stage is None and row.get("column"))
            for a in record.applications
        )

    async def iter_jobs(self) -> AsyncIterator[JobPage]:
        """Every vacancy (one listing, no paging and no total), each with every column."""
        catalog = await self.catalog(refresh=True)
        ctx = self._context(catalog)
        records, quarantined = map_each(
            catalog.vacancies,
            lambda vacancy: map_vacancy(vacancy, catalog.columns, ctx),
            remote_id_of=lambda vacancy: (
                vacancy.get("id") if isinstance(vacancy, Mapping) else None
            ),
            kind="job",
        )
        yield JobPage(records=tuple(records), quarantined=tuple(quarantined))

    async def get_job(self, remote_id: str) -> JobRecord:
        """``GET /vacancy/{encoded id}`` (404: gone), and the columns listing for its stages."""
        wanted = remote_id.strip()
        if not wanted:
            raise NotFound("a Flatchr vacancy id is never empty")
        vacancy = await self.http.get_json(
            f"/vacancy/{path_segment(wanted, 'a Flatchr vacancy id')}"
        )
        with not_about_the_record("Flatchr's columns listing"):
            columns = await self._listing("columns")
        try:
            record = map_vacancy(vacancy, pipeline(columns), self.context())
        except MappingError as exc:
            raise InvalidVendorResponse(f"Flatchr vacancy unreadable: {exc}") from exc
        if record.job.remote_id != wanted:
            raise InvalidVendorResponse("Flatchr answered another vacancy than the one asked")
        return record

    def parse_webhook(self, payload: Any, ctx: MappingContext) -> CandidateRecord:
        """Map a ``new_applicant``/``drag_applicant`` body; raises MappingError when unusable."""
        return map_webhook(payload, ctx)

    @asynccontextmanager
    async def download_attachment(self, attachment_remote_id: str) -> AsyncIterator[FileDownload]:
        try:
            key, extension = split_cv_remote_id(attachment_remote_id)
        except MappingError as exc:
            raise NotFound(str(exc)) from exc
        async with self.http.stream(
            "GET",
            f"{self._company_path}/files/expire",
            params={"key": key, "extension": extension},
            rate=self.cv_rate,
        ) as response:
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                location = str(response.url.join(response.headers["Location"]))
                # The target is a presigned storage URL: it must not receive our API key.
                async with self.http.stream("GET", location, auth=False) as target:
                    yield self._file(target, key, extension)
                return
            yield self._file(response, key, extension)

    @staticmethod
    def _file(response: httpx.Response, key: str, extension: str) -> FileDownload:
        return FileDownload.from_response(
            response,
            name=f"{posixpath.basename(key)}.{extension}",
            content_type=content_type_for_extension(extension),
        )

    async def verify_credentials(self) -> None:
        await self.catalog(refresh=True)

    # --- writes ----------------------------------------------------------------------------------

    def passthrough_rate(self, method: str, path: str) -> RateRule | None:
        """The CV route keeps its 1 request/s per company ([DOC] F12), whoever calls it."""
        bare = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
        return self.cv_rate if CV_ROUTE.match(bare) else None

    async def _vacancy(self, job_remote_id: str) -> Mapping[str, Any]:
        """The vacancy object of the listing for an encoded id (read again once when the kept
        catalog lacks it); a job Flatchr does not list is a field error, before any write."""
        for refresh in (False, True):
            with not_about_the_record("Flatchr's company routes"):
                found = (await self.catalog(refresh=refresh)).vacancy(job_remote_id)
            if found is not None:
                return found
        raise VendorRejectedRequest(
            "Flatchr lists no vacancy with this id", field_errors={"job_id": ["unknown job"]}
        )

    async def _find(self, draft: CandidateDraft, ctx: MappingContext) -> list[CandidateRecord]:
        """What ``draft`` would create, as the search shows it now (unmappable rows skipped)."""
        with not_about_the_record("Flatchr's applicant search"):
            rows = await self.search(find_filters(draft))
        records, _ = self._map_rows(rows, ctx)
        return [r for r in records if created_by(r, draft, ctx)]

    async def find_candidate(self, draft: CandidateDraft) -> CandidateRecord | None:
        """The applicant ``draft`` made: its e-mail (else its names) on the vacancy, searched
        with the search's ``email``/``vacancy`` filters and matched on job, names and e-mail.
        Several (the person applied there before): the latest, by creation day."""
        if draft_problems(draft).keys() & {"first_name", "last_name", "job_id"}:
            return None
        assert draft.job_remote_id is not None
        try:
            await self._vacancy(draft.job_remote_id)  # the catalog knows the job (or reads it)
        except VendorRejectedRequest:
            return None  # a vacancy Flatchr does not list holds no applicant
        found = await self._find(draft, await self.mapping_context())
        if not found:
            return None
        return latest(found)

    async def create_candidate(self, draft: CandidateDraft) -> CandidateRecord:
        """``POST {careers_url}/vacancy/candidate/json``, sent once. Flatchr answers no id
        ("applicant created"), so the applicant is read back from the search: the one that was
        not there before the call. A stage other than the first column is then set with
        :meth:`change_stage` (a second call: the record exists even when that one fails)."""
        problems = draft_problems(draft)
        if problems:
            raise VendorRejectedRequest(
                "Flatchr cannot take this candidate as it is", field_errors=problems
            )
        assert draft.job_remote_id is not None
        vacancy = await self._vacancy(draft.job_remote_id)
        slug = vacancy.get("slug")
        if not isinstance(slug, str) or not slug.strip():
            raise InvalidVendorResponse("Flatchr's vacancies listing gives this vacancy no slug")
        ctx = await self.mapping_context()
        if draft.stage_remote_id is not None:
            _, key = split_stage_remote_id(draft.stage_remote_id)
            if catalog_of(ctx).column(key) is None:
                raise VendorRejectedRequest(
                    "Flatchr lists no column with this id",
                    field_errors={"job_interview_stage_id": ["unknown stage"]},
                )
        try:
            body = candidate_body(
                draft, vacancy_slug=slug, token=self.settings.api_key.get_secret_value()
            )
        except DraftRejected as exc:  # checked above; kept for the type of the error
            raise VendorRejectedRequest(str(exc), field_errors=exc.field_errors) from None
        before = {r.candidate.remote_id for r in await self._find(draft, ctx)}
        await self.http.request(
            "POST",
            f"{self.settings.careers_url.rstrip('/')}{CREATE_ROUTE}",
            json=body,
            idempotent=False,  # a lost answer must not become a second applicant
        )
        created = [r for r in await self._find(draft, ctx) if r.candidate.remote_id not in before]
        if not created:
            raise InvalidVendorResponse(
                "Flatchr accepted the candidate, but the applicant is not in its search yet: "
                "look it up again later (find_candidate) rather than sending it twice"
            )
        record = latest(created)
        stage = draft.stage_remote_id
        if (
            stage is not None
            and record.candidate.remote_id is not None
            and record.applications[0].current_stage != self.ids.stage_id(stage)
        ):
            return await self.change_stage(record.candidate.remote_id, stage)
        return record

    async def create_application(
        self, candidate_remote_id: str, job_remote_id: str, stage_remote_id: str | None
    ) -> CandidateRecord:
        raise UnsupportedOperation(CREATE_APPLICATION_UNSUPPORTED)

    def _applicant_path(self, vacancy_remote_id: str, applicant_remote_id: str) -> str:
        vacancy = path_segment(vacancy_remote_id, "a Flatchr vacancy id")
        applicant = path_segment(applicant_remote_id, "a Flatchr applicant id")
        return f"{self._company_path}/vacancy/{vacancy}/applicant/{applicant}"

    async def _applicant_answer(self, response: httpx.Response) -> CandidateRecord:
        """Map the applicant object a move or an archive answers; the catalog is read again
        when the answer names a vacancy or a column the kept one does not know."""
        body = json_body(response, self.redact)
        ctx = await self.mapping_context()
        try:
            if isinstance(body, Mapping) and not knows_placement(catalog_of(ctx), body):
                with not_about_the_record("Flatchr's company routes"):
                    ctx = await self.mapping_context(refresh=True)
            record = map_applicant(body, ctx)
        except MappingError as exc:
            raise InvalidVendorResponse(
                f"Flatchr applicant unreadable: {exc}", vendor_status=response.status_code
            ) from None
        return record

    async def change_stage(
        self, application_remote_id: str, stage_remote_id: str
    ) -> CandidateRecord:
        """``PUT /company/{id}/vacancy/{vacancy}/applicant/{applicant}`` ``{"column_id"}``
        ([DOC] F3): the vacancy is the stage's job (stages are ``<vacancy>:<column>``); Flatchr
        moves in any direction and answers the whole applicant."""
        try:
            job, key = split_stage_remote_id(stage_remote_id)
        except MappingError as exc:
            raise VendorRejectedRequest(
                str(exc), field_errors={"job_interview_stage_id": [str(exc)]}
            ) from None
        response = await self.http.request(
            "PUT",
            self._applicant_path(job, application_remote_id),
            json=column_body(key),
            idempotent=True,  # moving to the same column twice changes nothing
        )
        return await self._applicant_answer(response)

    async def reject_application(self, application_remote_id: str) -> CandidateRecord:
        """``DELETE /company/{id}/vacancy/{vacancy}/applicant/{applicant}`` archives it
        ([DOC] F4). The route needs the vacancy, which only the search tells: the applicant's
        row is looked up first (the whole company: no filter selects an applicant id)."""
        vacancy = await self._vacancy_of(application_remote_id)
        response = await self.http.request(
            "DELETE", self._applicant_path(vacancy, application_remote_id), idempotent=True
        )
        return await self._applicant_answer(response)

    async def _vacancy_of(self, applicant_remote_id: str) -> str:
        with not_about_the_record("Flatchr's company routes"):
            catalog = await self.catalog()
        wanted = applicant_remote_id.strip()
        async for row in self.stream_search({}):
            if isinstance(row, Mapping) and str(row.get("applicant", "")).strip() == wanted:
                number = row.get("vacancy_id")
                encoded = catalog.vacancy_ids.get(number) if isinstance(number, int) else None
                if encoded is None:
                    with not_about_the_record("Flatchr's company routes"):
                        catalog = await self.catalog(refresh=True)
                    encoded = catalog.vacancy_ids.get(number) if isinstance(number, int) else None
                if encoded is None:
                    raise InvalidVendorResponse("Flatchr lists no vacancy for this applicant")
                return encoded
        raise NotFound("Flatchr has no applicant with this id")
