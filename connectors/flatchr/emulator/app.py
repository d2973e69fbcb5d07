"""The Flatchr emulator: an ASGI app that behaves like ``api.flatchr.io`` as documented.

Auth: ``Authorization: Bearer <key>`` or ``?token=<key>`` (401 otherwise); an unknown company is
a 404. ``files/expire`` allows 1 request/s per company and no concurrent calls (429 beyond),
and answers either the bytes or a redirect to presigned storage (``cv_mode``). Vacancies are
listed per company and read one by one at ``GET /vacancy/{id}`` (no company in that path: the
key says whose it is).
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
    NEW_VACANCY_TITLES,
    Applicant,
    Company,
    Vacancy,
    column_object,
    cv_bytes,
    encoded_vacancy_id,
    filter_date,
    generate_applicants,
    iso_ms,
    new_applicant,
    new_vacancy,
)
from connectors.sdk.emulation import (
    ChangeAction,
    EmulatorApp,
    Faults,
    Rejected,
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
            Route("/vacancy/{vacancy_id}", self.vacancy, methods=["GET"]),
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

    def add_vacancy(self, company_id: str, title: str, **fields: Any) -> Vacancy:
        """A new vacancy, created now, with the next vacancy number (never one used before)."""
        company = self.companies[company_id]
        number = company.next_vacancy_number
        company.next_vacancy_number += 1
        vacancy = new_vacancy(number, title, at=datetime.now(UTC), **fields)
        company.vacancies[number] = vacancy
        return vacancy

    def rename_vacancy(self, company_id: str, number: int, title: str) -> Vacancy:
        """A recruiter renames a vacancy; its ``updated_at`` moves to now (its slug stays)."""
        vacancy = self.companies[company_id].vacancies[number]
        vacancy.title = title
        vacancy.updated = datetime.now(UTC)
        return vacancy

    def remove_vacancy(self, company_id: str, number: int) -> None:
        """[INF] A deleted vacancy leaves the listing and its route (404), and its applicants
        leave the search with it: Flatchr documents no vacancy deletion at all."""
        company = self.companies[company_id]
        del company.vacancies[number]
        for applicant_id in [k for k, a in company.applicants.items() if a.vacancy == number]:
            del company.applicants[applicant_id]

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

    def change_jobs(
        self, action: ChangeAction, count: int, account: str | None = None
    ) -> list[str]:
        """Recruiter-side vacancy changes; ids are encoded vacancy ids, the jobs' ``remote_id``.
        create: new vacancies (status 1) created now; update: a rename, ``updated_at`` now;
        delete: the oldest vacancies, with their applicants."""
        company_id, company = pick_account(self.companies, account)
        if action != "create" and count > len(company.vacancies):
            raise Rejected(f"only {len(company.vacancies)} vacancies to change, asked for {count}")

        def create() -> int:
            self.changes += 1
            title = NEW_VACANCY_TITLES[self.changes % len(NEW_VACANCY_TITLES)]
            return self.add_vacancy(company_id, title, reference=f"REF-{self.changes}").number

        def update(number: int) -> None:
            self.changes += 1
            base = company.vacancies[number].title.split(" (v", 1)[0]
            self.rename_vacancy(company_id, number, f"{base} (v{self.changes})")

        oldest_first = sorted(company.vacancies.values(), key=lambda v: (v.created, v.number))
        numbers = recruiter_changes(
            action,
            count,
            [v.number for v in oldest_first],
            create=create,
            remove=lambda number: self.remove_vacancy(company_id, number),
            update=update,
            cursor=self.changes,
        )
        return [encoded_vacancy_id(number) for number in numbers]

    def _create(self, company: Company) -> Applicant:
        if not company.vacancies:
            raise Rejected("this company has no vacancy left to apply to")
        while True:
            self.changes += 1
            applicant = new_applicant(
                random.Random(f"{company.company_id}:{self.changes}"),
                100_000 + self.changes,
                at=datetime.now(UTC),
                with_cv=True,
                vacancies=sorted(company.vacancies),
            )
            if applicant.applicant_id not in company.applicants:
                company.applicants[applicant.applicant_id] = applicant
                return applicant

    def state(self) -> dict[str, Any]:
        no_paging = "Flatchr's search answers the whole array at once: there is no paging"
        return {
            "vendor": "flatchr",
            "accounts": [
                account_state(
                    company_id,
                    list(company.applicants),
                    [v.encoded_id for v in company.vacancies.values()],
                )
                for company_id, company in self.companies.items()
            ],
            "ignored_switches": dict.fromkeys(
                ("page_size_cap", "relative_next", "uneven_pages", "unlisted_records"), no_paging
            ),
        }

    def webhook_payload(
        self, company_id: str, applicant_id: str, event: str = "new_applicant"
    ) -> dict[str, Any]:
        """The body Flatchr POSTs for ``new_applicant``/``drag_applicant`` (documented shape:
        ``data.column`` is the column's integer id in ``new_applicant`` and the column object
        in ``drag_applicant``, per the webhook example and the ``data (drag_applicant)``
        schema)."""
        company = self.companies[company_id]
        a = company.applicants[applicant_id]
        found = company.vacancies.get(a.vacancy)
        vacancy = (
            found.webhook_object(company_id)
            if found
            else {"id": a.vacancy, "title": None, "company_id": company_id}
        )
        vacancy_title = vacancy["title"] or ""
        column_id, column_title, hired = COLUMNS[a.column]
        column = column_object(column_id, column_title, hired, company_id)
        iso = iso_ms(a.created)
        updated = iso_ms(a.updated)
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
                    "vacancy_id": encoded_vacancy_id(a.vacancy),
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
                    "reason_id": None,
                    "column": column,
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
                "vacancy": vacancy,
                "column": dict(column) if event == "drag_applicant" else column_id,
                "cv": cv,
                "user": {},
                "message": f"Un nouveau candidat a postulé sur votre offre <b>{vacancy_title}</b>",
                "applicant_id": a.candidate_id + 800,
                "candidate_id": a.candidate_id,
                "column_id": f"C{column_id:015d}",
                "vacancy_id": encoded_vacancy_id(a.vacancy),
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
            company.search_row(a, include_cv=self.include_cv_in_search)
            for a in company.applicants.values()
            if _matches(a, filters)
        ]
        return json_response(rows)

    async def vacancies(self, request: Request) -> Response:
        company = self._authorize(request)
        if isinstance(company, Response):
            return company
        return json_response(company.vacancy_listing(request.query_params.get("status")))

    async def vacancy(self, request: Request) -> Response:
        """``GET /vacancy/{vacancyId}`` (base api.flatchr.io): one vacancy by its encoded id.
        [INF] Another company's vacancy is a 404 like an unknown one."""
        token = bearer_token(request, "token")
        company = next((c for c in self.companies.values() if c.api_key == token), None)
        if token is None or company is None:
            return flatchr_error(401, "Unauthorized")
        vacancy = company.vacancy_by_encoded_id(request.path_params["vacancy_id"])
        if vacancy is None:
            return flatchr_error(404, "Vacancy not found")
        return json_response(vacancy.listing(company))

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
    vacancy = filters.get("vacancy")  # the encoded vacancy id
    if vacancy and encoded_vacancy_id(applicant.vacancy) != str(vacancy).strip():
        return False
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
