"""The Flatchr connector: HTTP calls only; all JSON handling is in :mod:`.mapping`.

Flatchr has no paging and no get-by-id route for applicants. Enumeration is one search whose
array is cut into pages here. A single candidate is refreshed by a narrow search on its stored
e-mail, matched on the applicant id, with a full search as the fallback (see
docs/connectors/flatchr.md).

Search rows name their vacancy by integer id and their column by title; the vacancies and
columns listings (the catalog) turn those into the job's and the stage's ids. The catalog is
read once and kept, and every enumeration (candidates or jobs) reads it afresh.
"""

import logging
import posixpath
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from connectors.flatchr.dates import search_filter_date
from connectors.flatchr.mapping import (
    CATALOG_KEY,
    FlatchrCatalog,
    MappingError,
    build_catalog,
    map_applicant_row,
    map_vacancy,
    map_webhook,
    pipeline,
    split_cv_remote_id,
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
    MappingContext,
    Quarantined,
    map_each,
)
from connectors.sdk.errors import InvalidVendorResponse, NotFound, not_about_the_record
from connectors.sdk.files import (
    content_type_for_extension,
)
from connectors.sdk.http import json_body, path_segment
from connectors.sdk.ratelimit import RateRule
from connectors.sdk.streaming import iter_json_array
from schemas import Candidate

logger = logging.getLogger("connectors.flatchr")

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FlatchrSettings(ConnectorSettings):
    base_url: str = "https://api.flatchr.io"
    api_key: SecretStr
    company_id: str
    default_phone_region: str = "FR"
    cv_min_interval: float = 1.05
    """Seconds between two CV requests of one company (vendor limit: 1/s; a margin for jitter)."""

    def account_key(self) -> str:
        return self.company_id


class FlatchrConnector(Connector[FlatchrSettings]):
    name: ClassVar[str] = "flatchr"
    display_name: ClassVar[str] = "Flatchr"
    settings_model: ClassVar[type[ConnectorSettings]] = FlatchrSettings
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
        self, *, updated_since: datetime | None = None, page_size: int = 500
    ) -> AsyncIterator[CandidatePage]:
        filters: dict[str, str] = {}
        if updated_since is not None:
            # Day granularity: overlap one whole day so nothing at the boundary is missed.
            filters["start_update"] = search_filter_date((updated_since - timedelta(days=1)).date())
        ctx = await self.mapping_context(refresh=True)  # vacancies may have come or gone
        batch: list[Mapping[str, Any]] = []
        async for row in self.stream_search(filters):
            batch.append(row)
            if len(batch) >= page_size:
                records, quarantined = self._map_rows(batch, ctx)
                yield CandidatePage(records=tuple(records), quarantined=tuple(quarantined))
                batch = []
        if batch:
            records, quarantined = self._map_rows(batch, ctx)
            yield CandidatePage(records=tuple(records), quarantined=tuple(quarantined))

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
