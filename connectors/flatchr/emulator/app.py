"""The Flatchr emulator: an ASGI app that behaves like ``api.flatchr.io`` as documented.

Auth: ``Authorization: Bearer <key>`` or ``?token=<key>`` (401 otherwise); an unknown company is
a 404. ``files/expire`` allows 1 request/s per company and no concurrent calls (429 beyond),
and answers either the bytes or a redirect to presigned storage (``cv_mode``). Vacancies are
listed per company and read one by one at ``GET /vacancy/{id}`` (no company in that path: the
key says whose it is).
"""

import base64
import binascii
import hashlib
import posixpath
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from connectors.flatchr.emulator.data import (
    COLUMN_POSITIONS,
    COLUMNS,
    NEW_VACANCY_TITLES,
    Applicant,
    Company,
    Vacancy,
    ascii_slug,
    column_object,
    cv_bytes,
    encoded_id,
    encoded_vacancy_id,
    filter_date,
    generate_applicants,
    iso_ms,
    new_applicant,
    new_vacancy,
    uuid_like,
)
from connectors.flatchr.mapping import RESUME_CONTENT_TYPES, RESUME_EXTENSIONS, RESUME_MAX_BYTES
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
from connectors.sdk.files import content_type_for_extension, extension_for_content_type
from connectors.sdk.ratelimit import Clock

URL_SLOTS = ("facebook", "linkedin", "twitter", "other")
CREATE_FIELDS = frozenset(
    {
        "vacancy",
        "firstname",
        "lastname",
        "token",
        "email",
        "phone",
        "type",
        "resume",
        "comment",
        "offerer_id",
        "urls",
        "legalNewsletterPartners",
        "similarities",
        "response_text",
        "answers",
        "user_id",
    }
)
"""Every field the create route documents ([DOC] F5 and the EN page's ``user_id``)."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAGIC = ((b"%PDF", "pdf"), (b"PK\x03\x04", "docx"), (b"\xd0\xcf\x11\xe0", "doc"))


def flatchr_error(status: int, message: str) -> Response:
    # [INF] Flatchr documents no error body; its success bodies carry `statusCode` (F1, F6), as
    # hapi's Boom errors do: {statusCode, error, message}.
    return json_response(
        {"statusCode": status, "error": _phrase(status), "message": message}, status=status
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def validation_error(problems: list[tuple[str, str]]) -> Response:
    """[INF] A hapi/Joi validation failure: 400, every problem in ``message`` (each naming its
    key in quotes) and the keys in ``validation.keys``. Messages never echo a value."""
    keys = list(dict.fromkeys(key for key, _ in problems))
    return json_response(
        {
            "statusCode": 400,
            "error": "Bad Request",
            "message": ". ".join(message for _, message in problems),
            "validation": {"source": "payload", "keys": keys},
        },
        status=400,
    )


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
    linked_files: dict[str, bytes] = field(default_factory=dict)
    """What a ``link`` resume URL serves when Flatchr fetches it (the emulator reaches no
    network); an unlisted URL gives a generated file [INF]."""
    writes: int = 0
    """Applicants created through the create route (numbers their ids)."""

    def __post_init__(self) -> None:
        routes = [
            Route("/company/{company_id}/search/applicants", self.search, methods=["POST"]),
            Route("/company/{company_id}/vacancies", self.vacancies, methods=["GET"]),
            Route("/vacancy/{vacancy_id}", self.vacancy, methods=["GET"]),
            Route("/company/{company_id}/columns", self.columns, methods=["GET"]),
            Route("/company/{company_id}/files/expire", self.files_expire, methods=["GET"]),
            Route("/_storage/{path:path}", self.storage, methods=["GET"]),
            # careers.flatchr.io ([DOC] F5): another host, served here (no path collides).
            Route("/vacancy/candidate/json", self.create_candidate, methods=["POST"]),
            Route("/vacancy/candidate/test", self.test_candidate, methods=["POST"]),
            Route(
                "/company/{company_id}/vacancy/{vacancy_id}/applicant/{applicant_id}",
                self.move_applicant,
                methods=["PUT"],
            ),
            Route(
                "/company/{company_id}/vacancy/{vacancy_id}/applicant/{applicant_id}",
                self.archive_applicant,
                methods=["DELETE"],
            ),
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
                | {"written": dict(company.written)}
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
                    "comment": a.comment,
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
            return _file_response(company, key, extension)
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
        owner = next((c for c in self.companies.values() if key in c.cv_files()), None)
        if owner is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", 404, media_type="text/xml")
        return _file_response(owner, key, extension)

    # --- write routes ----------------------------------------------------------------------------

    async def create_candidate(self, request: Request) -> Response:
        """``POST careers.flatchr.io/vacancy/candidate/json`` ([DOC] F5)."""
        return await self._apply(request, dry_run=False)

    async def test_candidate(self, request: Request) -> Response:
        """``POST /vacancy/candidate/test``: the same checks, nothing stored ([DOC] F5 tip)."""
        return await self._apply(request, dry_run=True)

    async def _apply(self, request: Request, *, dry_run: bool) -> Response:
        try:
            body = await read_json(request)
        except ValueError:
            return flatchr_error(400, "Invalid request payload JSON format")
        if not isinstance(body, dict):
            return flatchr_error(400, "Invalid request payload JSON format")
        # [DOC] F5: `token` (the API key) in the body; the examples also send the header.
        token = body.get("token") if isinstance(body.get("token"), str) else None
        token = token or bearer_token(request)
        company = next((c for c in self.companies.values() if c.api_key == token), None)
        if not token or company is None:
            return flatchr_error(401, "Unauthorized")
        problems, resume = self._check_candidate(company, body)
        if problems:
            return validation_error(problems)
        if dry_run:
            return json_response({"status": 200, "response": "test ok"})
        assert resume is not None
        self._store(company, body, resume)
        # [DOC] F5: the answer is the HTTP status and a `response` string ("applicant created").
        return json_response({"status": 200, "response": "applicant created"})

    def _check_candidate(
        self, company: Company, body: dict[str, Any]
    ) -> tuple[list[tuple[str, str]], "Resume | None"]:
        """Every problem of a create body, Joi style (``"key" ...``), and the decoded CV."""
        problems: list[tuple[str, str]] = []
        for key in sorted(k for k in body if k not in CREATE_FIELDS):
            problems.append((key, f'"{key}" is not allowed'))
        vacancy = body.get("vacancy")
        if vacancy is None or vacancy == "":
            problems.append(("vacancy", '"vacancy" is required'))
        elif not isinstance(vacancy, str):
            problems.append(("vacancy", '"vacancy" must be a string'))
        elif company.vacancy_by_slug(vacancy) is None:
            # [INF] the route answers for the key's company; another slug is no vacancy of it.
            problems.append(("vacancy", '"vacancy" matches no vacancy of this company'))
        for name in ("firstname", "lastname"):
            value = body.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                problems.append((name, f'"{name}" is required'))
            elif not isinstance(value, str):
                problems.append((name, f'"{name}" must be a string'))
            elif not any(ch.isalpha() for ch in value):
                # [DOC] F5 "Prénom /[a-zA-Z]/" [INF: read as "holds letters"; accents pass].
                problems.append((name, f'"{name}" must contain letters'))
        mail = body.get("email")
        if mail is not None and (not isinstance(mail, str) or not EMAIL.match(mail.strip())):
            problems.append(("email", '"email" must be a valid email'))
        phone = body.get("phone")
        if phone is not None and (isinstance(phone, bool) or not isinstance(phone, str | int)):
            problems.append(("phone", '"phone" must be a string or a number'))
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            problems.append(("comment", '"comment" must be a string'))
        urls = body.get("urls")
        if urls is not None:
            if not isinstance(urls, dict):
                problems.append(("urls", '"urls" must be an object'))
            else:
                for key, value in urls.items():
                    if key not in URL_SLOTS:
                        problems.append((f"urls.{key}", f'"{key}" is not allowed'))
                    elif not isinstance(value, str):
                        problems.append((f"urls.{key}", f'"{key}" must be a string'))
        resume, resume_problems = self._check_resume(body.get("type"), body.get("resume"))
        return problems + resume_problems, resume

    def _check_resume(
        self, kind: Any, resume: Any
    ) -> tuple["Resume | None", list[tuple[str, str]]]:
        if kind not in ("link", "document"):
            return None, [("type", '"type" must be one of [link, document]')]
        if resume is None or resume == "":
            return None, [("resume", '"resume" is required')]
        if kind == "link":
            if not isinstance(resume, str) or not _fetchable(resume):
                return None, [("resume", '"resume" must be a valid uri')]
            return self._fetched(resume), []
        if not isinstance(resume, dict):
            return None, [("resume", '"resume" must be an object')]
        problems: list[tuple[str, str]] = []
        name = resume.get("fileName")
        if not isinstance(name, str) or not name.strip():
            problems.append(("resume.fileName", '"fileName" is required'))
            name = ""
        stem, named_extension = _split_name(name)
        content_type = resume.get("contentType")
        if content_type is not None and not isinstance(content_type, str):
            problems.append(("resume.contentType", '"contentType" must be a string'))
            content_type = None
        extension = extension_for_content_type(content_type) if content_type else named_extension
        if content_type and content_type.split(";")[0].strip().lower() not in (
            RESUME_CONTENT_TYPES
        ):
            extension = None
        if extension not in RESUME_EXTENSIONS:
            # [INF] Flatchr documents no type list: the CV formats its data shows.
            problems.append(
                (
                    "resume.contentType",
                    f'"contentType" must be one of [{", ".join(sorted(RESUME_CONTENT_TYPES))}]',
                )
            )
        data = resume.get("data")
        content: bytes | None = None
        if not isinstance(data, str) or not data.strip():
            problems.append(("resume.data", '"data" is required'))
        else:
            try:
                content = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                problems.append(("resume.data", '"data" must be a valid base64 string'))
            else:
                if not content:
                    problems.append(("resume.data", '"data" must not be empty'))
                elif len(content) > RESUME_MAX_BYTES:
                    # [INF] no documented limit; the connector's declared one.
                    problems.append(
                        ("resume.data", f'"data" must not exceed {RESUME_MAX_BYTES} bytes')
                    )
        if problems:
            return None, problems
        assert extension is not None
        return Resume(stem or "cv", extension, content), []

    def _fetched(self, url: str) -> "Resume":
        """A ``link`` resume as Flatchr would store it once fetched [INF: undocumented]."""
        fetched = self.linked_files.get(url)
        path = urlsplit(url if "://" in url else f"https://{url}").path
        stem, extension = _split_name(posixpath.basename(path))
        if extension not in RESUME_EXTENSIONS:
            extension = _sniff(fetched) or "pdf"
        return Resume(stem or "cv", extension, fetched)

    def _store(self, company: Company, body: dict[str, Any], resume: "Resume") -> Applicant:
        """The new applicant, in the first column of the pipeline, as the search serves it."""
        now = datetime.now(UTC)
        vacancy = company.vacancy_by_slug(body["vacancy"])
        assert vacancy is not None
        mail = body.get("email")
        same_person = next(
            (
                a
                for a in company.applicants.values()
                if mail and a.email and a.email.strip().lower() == mail.strip().lower()
            ),
            None,
        )
        candidate_id = (
            same_person.candidate_id
            if same_person
            else 1 + max((a.candidate_id for a in company.applicants.values()), default=999)
        )
        while True:
            self.writes += 1
            rng = random.Random(f"{company.company_id}:write:{self.writes}")
            applicant_id = encoded_id(rng)
            if applicant_id not in company.applicants:
                break
        key = f"candidates/{now:%Y/%m}/{uuid_like(rng)}/{ascii_slug(resume.stem) or 'cv'}"
        company.files[key] = (
            resume.content if resume.content is not None else cv_bytes(key, resume.extension)
        )
        first_column = min(range(len(COLUMNS)), key=lambda i: COLUMN_POSITIONS[COLUMNS[i][0]])
        phone = body.get("phone")
        applicant = Applicant(
            applicant_id=applicant_id,
            candidate_id=candidate_id,
            firstname=body["firstname"],
            lastname=body["lastname"],
            email=mail,
            phone=str(phone) if phone is not None else None,
            vacancy=vacancy.number,
            column=first_column,
            status=1,
            score=0,
            external_id="",
            source="API",  # [INF] what the search's `source` shows for this route
            created=now,
            updated=now,
            urls=dict(body.get("urls") or {}),
            cv_key=key,
            cv_extension=resume.extension,
            comment=body.get("comment") or "",
        )
        company.applicants[applicant_id] = applicant
        company.written["created"] += 1
        return applicant

    def _applicant_route(self, request: Request) -> tuple[Company, Applicant] | Response:
        company = self._authorize(request)
        if isinstance(company, Response):
            return company
        applicant = company.applicants.get(request.path_params["applicant_id"])
        if applicant is None or (
            encoded_vacancy_id(applicant.vacancy) != request.path_params["vacancy_id"]
        ):
            # [INF] an applicant of another vacancy is not found under this one.
            return flatchr_error(404, "Applicant not found")
        return company, applicant

    async def move_applicant(self, request: Request) -> Response:
        """``PUT .../vacancy/{vid}/applicant/{aid}`` ``{"column_id"}`` ([DOC] F3)."""
        found = self._applicant_route(request)
        if isinstance(found, Response):
            return found
        company, applicant = found
        try:
            body = await read_json(request)
        except ValueError:
            return flatchr_error(400, "Invalid request payload JSON format")
        column_id = body.get("column_id") if isinstance(body, dict) else None
        if isinstance(column_id, str) and column_id.strip().isdigit():
            column_id = int(column_id.strip())  # Joi converts numeric strings
        ids = [column for column, _, _ in COLUMNS]
        if column_id is None:
            return validation_error([("column_id", '"column_id" is required')])
        if isinstance(column_id, bool) or column_id not in ids:
            # [INF] the company's columns are the only valid values.
            return validation_error(
                [("column_id", f'"column_id" must be one of [{", ".join(map(str, sorted(ids)))}]')]
            )
        applicant.column = ids.index(column_id)
        applicant.updated = datetime.now(UTC)
        company.written["moved"] += 1
        return json_response(company.applicant_object(applicant, archived_shape=False))

    async def archive_applicant(self, request: Request) -> Response:
        """``DELETE .../vacancy/{vid}/applicant/{aid}`` archives: ``status`` 0 ([DOC] F4); an
        archived applicant stays in the search (status 0). Archiving again answers the same."""
        found = self._applicant_route(request)
        if isinstance(found, Response):
            return found
        company, applicant = found
        if applicant.status != 0:
            applicant.status = 0
            applicant.updated = datetime.now(UTC)
            company.written["archived"] += 1
        return json_response(company.applicant_object(applicant, archived_shape=True))


@dataclass(frozen=True)
class Resume:
    """A CV the create route took: its name's stem, extension and bytes (None: generated)."""

    stem: str
    extension: str
    content: bytes | None


def _split_name(name: str) -> tuple[str, str | None]:
    stem, dot, extension = name.strip().rpartition(".")
    if not dot or not stem:
        return name.strip(), None
    return stem, extension.lower()


def _sniff(content: bytes | None) -> str | None:
    if not content:
        return None
    return next((ext for magic, ext in MAGIC if content.startswith(magic)), None)


def _fetchable(value: str) -> bool:
    """An http(s) URL, or one without its scheme as the documented example
    (``storage.s3.eu-west-1.amazonaws.com/CV/...``)."""
    try:
        parts = urlsplit(value.strip() if "://" in value else f"https://{value.strip()}")
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "." in (parts.hostname or "")


def _file_response(company: Company, key: str, extension: str) -> Response:
    content = company.files.get(key)
    return Response(
        content if content is not None else cv_bytes(key, extension),
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
