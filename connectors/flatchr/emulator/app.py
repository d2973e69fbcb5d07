"""The Flatchr emulator: an ASGI app that behaves like ``api.flatchr.io`` as documented.

Auth: ``Authorization: Bearer <key>`` or ``?token=<key>`` (401 otherwise); an unknown company is
a 404. ``files/expire`` allows 1 request/s per company and no concurrent calls (429 beyond),
and answers either the bytes or a redirect to presigned storage (``cv_mode``).
"""

import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from connectors.flatchr.emulator.data import (
    COLUMNS,
    VACANCIES,
    Applicant,
    Company,
    cv_bytes,
    filter_date,
    generate_applicants,
    new_applicant,
)
from connectors.sdk.emulation import (
    ChangeAction,
    EmulatorApp,
    Faults,
    account_state,
    bearer_token,
    json_response,
    pick_account,
    read_json,
    recruiter_changes,
)
from connectors.sdk.files import content_type_for_extension
from connectors.sdk.ratelimit import Clock


def flatchr_error(status: int, message: str) -> Response:
    # [INF] Flatchr documents no error body; some success bodies carry `statusCode`.
    return json_response({"statusCode": status, "message": message}, status=status)


@dataclass
class FlatchrEmulator:
    """State and switches of one emulated Flatchr. ``app`` is the ASGI app to serve."""

    clock: Clock = time.monotonic
    cv_min_interval: float = 1.0
    cv_mode: Literal["direct", "redirect"] = "redirect"
    include_cv_in_search: bool = True
    faults: Faults = field(default_factory=Faults)
    companies: dict[str, Company] = field(default_factory=dict)
    cv_served: int = 0
    cv_rejected: int = 0
    search_calls: int = 0
    changes: int = 0
    """Changes made through the control API (numbers new data, spreads updates)."""

    def __post_init__(self) -> None:
        routes = [
            Route("/company/{company_id}/search/applicants", self.search, methods=["POST"]),
            Route("/company/{company_id}/vacancies", self.vacancies, methods=["GET"]),
            Route("/company/{company_id}/columns", self.columns, methods=["GET"]),
            Route("/company/{company_id}/files/expire", self.files_expire, methods=["GET"]),
            Route("/_storage/{path:path}", self.storage, methods=["GET"]),
        ]
        self.router = Starlette(routes=routes)
        self.app = EmulatorApp(self.router, control=self, error=flatchr_error)

    # --- data management (used by tests, benchmarks and the demo) -----------------------------

    def add_company(
        self, *, company_id: str, api_key: str, name: str, size: int = 25, seed: int = 1
    ) -> Company:
        company = Company(company_id=company_id, name=name, api_key=api_key)
        generate_applicants(company, size=size, seed=seed)
        self.companies[company_id] = company
        return company

    def applicant(self, company_id: str, applicant_id: str) -> Applicant:
        return self.companies[company_id].applicants[applicant_id]

    def touch(self, company_id: str, applicant_id: str, **changes: Any) -> Applicant:
        """Change an applicant as a recruiter would; its ``updated_at`` moves to today."""
        applicant = self.applicant(company_id, applicant_id)
        for name, value in changes.items():
            setattr(applicant, name, value)
        applicant.updated = datetime.now(UTC)
        return applicant

    def remove(self, company_id: str, applicant_id: str) -> None:
        del self.companies[company_id].applicants[applicant_id]

    # --- control API (connectors.sdk.emulation.EmulatorControl) --------------------------------

    def change(self, action: ChangeAction, count: int, account: str | None = None) -> list[str]:
        """Recruiter-side changes; ids are applicant ids, the connector's ``remote_id``."""
        company_id, company = pick_account(self.companies, account)

        def update(applicant_id: str) -> None:
            self.changes += 1
            digits = f"{self.changes * 7919 % 10**8:08d}"
            phone = f"+33 6 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
            self.touch(company_id, applicant_id, phone=phone)

        return recruiter_changes(
            action,
            count,
            list(company.applicants),
            create=lambda: self._create(company).applicant_id,
            remove=lambda applicant_id: self.remove(company_id, applicant_id),
            update=update,
            cursor=self.changes,
        )

    def _create(self, company: Company) -> Applicant:
        while True:
            self.changes += 1
            applicant = new_applicant(
                random.Random(f"{company.company_id}:{self.changes}"),
                100_000 + self.changes,
                at=datetime.now(UTC),
                with_cv=True,
            )
            if applicant.applicant_id not in company.applicants:
                company.applicants[applicant.applicant_id] = applicant
                return applicant

    def state(self) -> dict[str, Any]:
        no_paging = "Flatchr's search answers the whole array at once: there is no paging"
        return {
            "vendor": "flatchr",
            "accounts": [
                account_state(company_id, list(company.applicants))
                for company_id, company in self.companies.items()
            ],
            "ignored_switches": dict.fromkeys(
                ("page_size_cap", "relative_next", "uneven_pages", "unlisted_records"), no_paging
            ),
        }

    def webhook_payload(
        self, company_id: str, applicant_id: str, event: str = "new_applicant"
    ) -> dict[str, Any]:
        """The body Flatchr POSTs for ``new_applicant``/``drag_applicant`` (documented shape)."""
        company = self.companies[company_id]
        a = company.applicants[applicant_id]
        vacancy_id, vacancy_title = VACANCIES[a.vacancy]
        column_id, column_title, hired = COLUMNS[a.column]
        iso = a.created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        updated = a.updated.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        cv = None
        if a.cv_key:
            cv = {
                "fileable_id": a.candidate_id,
                "fileable_type": "candidates",
                "id": int(hashlib.sha256(a.cv_key.encode()).hexdigest()[:7], 16),
                "url": f"flatchr.s3.eu-west-1.amazonaws.com/{a.cv_key}.{a.cv_extension}",
                "key": a.cv_key,
                "type": "CV",
                "created_at": iso,
                "updated_at": updated,
                "extension": a.cv_extension,
            }
        return {
            "data": {
                "applicant": {
                    "candidate_id": a.candidate_id,
                    "vacancy_id": f"V{vacancy_id:015d}",
                    "comment": "",
                    "column_id": f"C{column_id:015d}",
                    "updated_at": updated,
                    "created_at": iso,
                    "id": a.applicant_id,
                    "score": a.score,
                    "status": a.status,
                    "external_id": a.external_id or None,
                    "view": False,
                    "anonym": False,
                    "column": {"id": column_id, "title": column_title, "hired": hired},
                },
                "candidate": {
                    "firstname": a.firstname,
                    "lastname": a.lastname,
                    "email": a.email,
                    "urls": dict(a.urls),
                    "phone": a.phone,
                    "updated_at": updated,
                    "created_at": iso,
                    "id": a.candidate_id,
                    "status": 1,
                    "external_id": None,
                    "consent": True,
                },
                "vacancy": {"id": vacancy_id, "title": vacancy_title, "company_id": company_id},
                "column": column_id,
                "cv": cv,
                "user": {},
                "message": f"Un nouveau candidat a postulé sur votre offre <b>{vacancy_title}</b>",
                "applicant_id": a.candidate_id + 800,
                "candidate_id": a.candidate_id,
                "company": {"id": company_id, "name": company.name},
            },
            "event": event,
            "company_id": 59,
        }

    # --- routes ---------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Company | Response:
        company = self.companies.get(request.path_params["company_id"])
        token = bearer_token(request, "token")
        if token is None:
            return flatchr_error(401, "Unauthorized")
        if company is None:
            return flatchr_error(404, "Company not found")
        if token != company.api_key:
            return flatchr_error(401, "Unauthorized")
        return company

    async def search(self, request: Request) -> Response:
        company = self._authorize(request)
        if isinstance(company, Response):
            return company
        self.search_calls += 1
        try:
            filters = await read_json(request)
        except ValueError:
            return flatchr_error(400, "Bad Request")
        if not isinstance(filters, dict):
            return flatchr_error(400, "Bad Request")
        rows = [
            a.search_row(include_cv=self.include_cv_in_search)
            for a in company.applicants.values()
            if _matches(a, filters)
        ]
        return json_response(rows)

    async def vacancies(self, request: Request) -> Response:
        company = self._authorize(request)
        if isinstance(company, Response):
            return company
        return json_response(company.vacancies())

    async def columns(self, request: Request) -> Response:
        company = self._authorize(request)
        if isinstance(company, Response):
            return company
        return json_response(company.columns())

    async def files_expire(self, request: Request) -> Response:
        company = self._authorize(request)
        if isinstance(company, Response):
            return company
        now = self.clock()
        too_soon = (
            company.last_cv_request is not None
            and now - company.last_cv_request < self.cv_min_interval
        )
        if too_soon or company.cv_in_flight:
            self.cv_rejected += 1
            return flatchr_error(429, "Too Many Requests")
        company.last_cv_request = now
        company.cv_in_flight += 1
        try:
            key = request.query_params.get("key", "")
            extension = request.query_params.get("extension", "")
            if not key or not extension:
                return flatchr_error(400, "key and extension are required")
            if company.cv_files().get(key) != extension:
                return flatchr_error(404, "File not found")
            self.cv_served += 1
            if self.cv_mode == "redirect":
                expires = datetime.now(UTC) + timedelta(days=1)
                signature = hashlib.sha256(f"{key}{expires:%Y%m%d}".encode()).hexdigest()
                target = (
                    f"/_storage/{quote(key)}.{extension}?X-Amz-Expires=86400"
                    f"&X-Amz-Date={expires:%Y%m%dT%H%M%SZ}&X-Amz-Signature={signature}"
                )
                return RedirectResponse(target, status_code=302)
            return _file_response(key, extension)
        finally:
            company.cv_in_flight -= 1

    async def storage(self, request: Request) -> Response:
        """Presigned storage (S3 stand-in): needs the signature, and no Flatchr credential."""
        if not request.query_params.get("X-Amz-Signature"):
            return Response("<Error><Code>AccessDenied</Code></Error>", 403, media_type="text/xml")
        if "authorization" in request.headers:
            # S3 rejects a request carrying both a presigned query and an Authorization header.
            return Response(
                "<Error><Code>InvalidArgument</Code></Error>", 400, media_type="text/xml"
            )
        path = request.path_params["path"]
        key, _, extension = path.rpartition(".")
        if not any(key in c.cv_files() for c in self.companies.values()):
            return Response("<Error><Code>NoSuchKey</Code></Error>", 404, media_type="text/xml")
        return _file_response(key, extension)


def _file_response(key: str, extension: str) -> Response:
    return Response(
        cv_bytes(key, extension),
        media_type=content_type_for_extension(extension) or "application/octet-stream",
    )


def _matches(applicant: Applicant, filters: dict[str, Any]) -> bool:
    email = filters.get("email")
    if email and (applicant.email or "").strip().lower() != str(email).strip().lower():
        return False
    for name in ("firstname", "lastname"):
        wanted = filters.get(name)
        if wanted and str(wanted).lower() not in getattr(applicant, name).lower():
            return False
    hired = filters.get("hired")
    if isinstance(hired, bool) and COLUMNS[applicant.column][2] != hired:
        return False
    column = filters.get("column")
    if column and applicant.column_title != column:
        return False
    start_update = filter_date(filters.get("start_update"))
    if start_update and applicant.updated.date() < start_update:
        return False
    end_update = filter_date(filters.get("end_update"))
    if end_update and applicant.updated.date() > end_update:
        return False
    start = filter_date(filters.get("start"))
    if start and applicant.created.date() < start:
        return False
    end = filter_date(filters.get("end"))
    return not (end and applicant.created.date() > end)
