"""The Flatchr connector: HTTP calls only; all JSON handling is in :mod:`.mapping`.

Flatchr has no paging and no get-by-id route. Enumeration is one search whose array is cut into
pages here. A single candidate is refreshed by a narrow search on its stored e-mail, matched on
the applicant id, with a full search as the fallback (see docs/connectors/flatchr.md).
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
    MappingError,
    map_applicant_row,
    map_webhook,
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
    MappingContext,
    Quarantined,
    map_each,
)
from connectors.sdk.errors import InvalidVendorResponse, NotFound, not_about_the_record
from connectors.sdk.files import (
    content_type_for_extension,
)
from connectors.sdk.http import json_body
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
            "attachments",
            "remote_created_at",
            "remote_updated_at",
        }
    )
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

    _company_name: str | None = None
    _company_name_known: bool = False

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

    async def company_name(self) -> str | None:
        """The hiring company's name, read once from the vacancies (search rows lack it)."""
        if not self._company_name_known:
            vacancies = await self.http.get_json(f"{self._company_path}/vacancies")
            name = None
            if isinstance(vacancies, list):
                for vacancy in vacancies:
                    company = vacancy.get("company") if isinstance(vacancy, Mapping) else None
                    if isinstance(company, Mapping) and company.get("name"):
                        name = str(company["name"]).strip() or None
                        break
            self._company_name, self._company_name_known = name, True
        return self._company_name

    async def mapping_context(self) -> MappingContext:
        base = self.context()
        return MappingContext(
            ids=base.ids,
            observed_at=base.observed_at,
            company_name=await self.company_name(),
            default_phone_region=self.settings.default_phone_region,
        )

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
        ctx = await self.mapping_context()
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
                        return map_applicant_row(row, ctx)
                    except MappingError as exc:
                        raise InvalidVendorResponse(
                            f"Flatchr applicant row unreadable: {exc}"
                        ) from exc
        raise NotFound("Flatchr has no applicant with this id")

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
        self._company_name_known = False
        await self.company_name()
