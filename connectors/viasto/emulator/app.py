"""The viasto Interview Suite emulator: ``/api/v3`` as documented (DRF-like), deterministic data.

``Authorization: Token <t>`` (401 without or with an unknown/expired token, 403 for another
company's data), ``POST /api-token-auth/``, ``{meta: {total_count, previous, next}, objects}``
envelopes with absolute ``next`` links (``page``/``page_size``; ``limit`` is not a paging
parameter and is ignored, as by a DRF page-number paginator; the ``page_size_cap``,
``relative_next`` and ``uneven_pages`` switches change paging as other servers do), ``""`` for
missing values, photo
and CV URLs carrying a per-session token, the status state machine, and ``{"field": [...]}`` /
``{"detail": "..."}`` error bodies.

Projects (the jobs; ``GET …/projects/`` and ``GET …/projects/{id}/``) carry the attributes of
the documented project resource [DOC] V9 (https://viasto.eu/apiv3/resources/projects.html):
``resource_uri``, ``company``, ``name``, ``job_url``, ``email_alias``, ``mode``,
``maximum_score``, ``support_lang``, ``language``, ``status`` (read only; changed by the Update
Status Action), ``internal_id``, ``allow_hash_login``, ``max_interview_time``,
``invite_candidates``, ``default_interview_period``, ``closedate``, ``activationdate``,
``contact_person``, ``creationdate``, ``veto_enabled``, ``status_update_uri``, ``evaluators``,
``interview_managers``, ``reviewers`` (customer URIs), ``labels`` (label URIs), and the
``questions``/``candidates``/``results``/``roles``/``criteria``/``videos`` references. Invented
[INF]: every value; the project status values ``draft``/``active``/``closed``/``archived`` (the
documented values sit on the project workflow page, which could not be read); dates as
``YYYY-MM-DD`` (the type is "date"); the ``status_update_uri``, ``labels`` and ``customers``
paths; ``videos`` as ``[]``; candidates of a draft project staying ``new`` (not yet invitable).
Nested loading of evaluators is not emulated. An unknown project is ``404 {"detail": ...}``
like every other object route [INF]; the fault switches apply to the project routes too.

``POST /_emulator/change`` with ``"kind": "job"`` creates, renames (``update``) or deletes
projects (deleting a project deletes its candidates); the ids answered are project ids, the
jobs' ``remote_id``. Without ``kind`` it changes candidates, as on every emulator.
"""

import hashlib
import json
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.flatchr.emulator.data import FIRST_NAMES, LAST_NAMES, ascii_slug
from connectors.sdk.emulation import (
    ChangeAction,
    EmulatorApp,
    Faults,
    Rejected,
    account_state,
    json_response,
    page_window,
    pick_account,
    recruiter_changes,
)

STATUSES = [
    "new",
    "invited",
    "confirmed",
    "interviewing",
    "interviewed",
    "expired",
    "aborted",
    "skipped",
]
EVALUATION = ["pending", "partial", "completed"]
CV_TYPES = {
    "application/pdf": b"%PDF-1.4\n",
    "application/msword": b"\xd0\xcf\x11\xe0",
    "application/postscript": b"%!PS-Adobe-3.0\n",
    "application/vnd.ms-powerpoint": b"\xd0\xcf\x11\xe0",
    "application/x-dvi": b"\xf7\x02",
    "text/plain": b"",
    "text/richtext": b"{\\rtf1 ",
}
CV_MAX_BYTES = 10 * 1024 * 1024
"""Not documented [NOT FOUND]: the bound the connector declares [INF]."""
CV_EXTENSIONS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/msword": "doc",
    "application/postscript": "ps",
    "application/vnd.ms-powerpoint": "ppt",
    "application/x-dvi": "dvi",
    "text/richtext": "rtf",
}
WRITABLE = ("first_name", "last_name", "email", "phone", "address", "gender", "username")
"""Candidate attributes a POST or PATCH stores; ``status`` and ``deadline`` are silently
ignored (they change only through the Advance Status and Set Deadline Actions) [DOC] V2."""
REQUIRED = ("first_name", "last_name")
NEXT_STATUS = {
    "new": "invited",
    "invited": "confirmed",
    "confirmed": "interviewing",
    "interviewing": "interviewed",
}
"""The Advance Status Action: one status forward on the main path [DOC] V2. expired, aborted,
skipped and interviewed have no documented next status: advancing them is a 400 [INF]."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OLE2 = b"\xd0\xcf\x11\xe0"
PROJECT_NAMES = [
    "Sales Manager DACH",
    "Software Engineer (m/w/d)",
    "Customer Success",
    "Werkstudent Marketing",
    "Data Analyst",
]
PROJECT_STATUSES = ["active", "active", "closed", "draft", "archived"]  # [INF] values
CONTACTS = ["Tarsila do Amaral", "", "Anita Malfatti"]
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def detail(status: int, message: str) -> Response:
    return json_response({"detail": message}, status=status)


@dataclass
class ViastoCompany:
    company_id: int
    name: str
    projects: dict[int, dict[str, Any]] = field(default_factory=dict)
    candidates: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    """project id -> candidate id -> stored candidate (with credentials and file contents)."""
    last_candidate_id: int = 0
    """The highest id ever given out: ids of deleted candidates are never given again."""
    last_project_id: int = 0
    """Likewise for projects."""
    written: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "advanced": 0}
    )
    """Writes through the vendor API (not the control API), for ``GET /_emulator/state``."""

    def next_candidate_id(self) -> int:
        """A new id, as a database sequence gives it: never one a deleted candidate had (that
        would look like a record coming back, or a wrong deletion)."""
        seeded = max((c for project in self.candidates.values() for c in project), default=500)
        self.last_candidate_id = max(self.last_candidate_id, seeded) + 1
        return self.last_candidate_id

    def next_project_id(self) -> int:
        self.last_project_id = max(self.last_project_id, *self.projects, 9) + 1
        return self.last_project_id


@dataclass
class ViastoEmulator:
    host: str = "https://acme-inc.interview-suite.com"
    """The company host used in absolute links (the demo sets its loopback address)."""
    faults: Faults = field(default_factory=Faults)
    companies: dict[int, ViastoCompany] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    """token -> company id."""
    users: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    """(username, company identifier) -> (password, company id)."""
    page_requests: int = 0
    token_requests: int = 0
    changes: int = 0
    """Changes made through the control API (numbers new data, spreads updates)."""
    job_changes: int = 0
    """Project changes made through the control API (spreads renames)."""

    def __post_init__(self) -> None:
        c = "/api/v3/companies/{company_id:int}"
        candidate = c + "/projects/{project_id:int}/candidates/{candidate_id:int}"
        routes = [
            Route("/api/v3/api-token-auth/", self.token_auth, methods=["POST"]),
            Route(c + "/", self.company, methods=["GET"]),
            Route(c + "/projects/", self.list_projects, methods=["GET"]),
            Route(c + "/projects/{project_id:int}/", self.get_project, methods=["GET"]),
            Route(
                c + "/projects/{project_id:int}/candidates/", self.list_candidates, methods=["GET"]
            ),
            Route(
                c + "/projects/{project_id:int}/candidates/",
                self.create_candidate,
                methods=["POST"],
            ),
            Route(candidate + "/", self.get_candidate, methods=["GET"]),
            Route(candidate + "/", self.update_candidate, methods=["PATCH"]),
            Route(candidate + "/", self.delete_candidate, methods=["DELETE"]),
            Route(candidate + "/deadline/", self.set_deadline, methods=["PATCH"]),
            Route(candidate + "/status/advance/", self.advance_status, methods=["PATCH"]),
            Route(candidate + "/cv/{token}/", self.cv, methods=["GET"]),
            Route(candidate + "/photo/{token}/", self.photo, methods=["GET"]),
        ]
        self.app = EmulatorApp(Starlette(routes=routes), control=self, error=detail)

    # --- data ----------------------------------------------------------------------------------

    def add_company(
        self,
        *,
        company_id: int,
        name: str,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        identifier: str = "acme-inc",
        projects: int = 3,
        candidates_per_project: int = 12,
        seed: int = 1,
        candidates: int | None = None,
    ) -> ViastoCompany:
        """``candidates``: that many in all, spread over the projects (the first ones get one
        more), instead of ``candidates_per_project`` each."""
        rng = random.Random(seed)
        company = ViastoCompany(company_id=company_id, name=name)
        next_id = 500
        for n in range(projects):
            if candidates is not None:
                candidates_per_project = candidates // projects + int(n < candidates % projects)
            project_id = 10 + n
            project = self._project(company_id, project_id, n)
            company.projects[project_id] = project
            company.candidates[project_id] = {}
            draft = project["status"] == "draft"
            for i in range(candidates_per_project):
                next_id += 1
                # A draft project cannot invite yet: its candidates all stay "new".
                company.candidates[project_id][next_id] = self._generate(
                    rng, company_id, project_id, next_id, 0 if draft else i
                )
        self.companies[company_id] = company
        if token:
            self.tokens[token] = company_id
        if username and password:
            self.users[(username, identifier)] = (password, company_id)
        return company

    def _uri(self, company_id: int, rest: str = "") -> str:
        return f"{self.host}/api/v3/companies/{company_id}/{rest}"

    def _project(
        self, company_id: int, project_id: int, n: int, status: str | None = None
    ) -> dict[str, Any]:
        """A project as the vendor serves it ([DOC] V9 attributes; values [INF])."""
        status = status or PROJECT_STATUSES[n % len(PROJECT_STATUSES)]
        name = PROJECT_NAMES[n % len(PROJECT_NAMES)] + ("" if n < len(PROJECT_NAMES) else f" {n}")
        created = date(2016, 9, 1) + timedelta(days=41 * n)
        activated = created + timedelta(days=3) if status != "draft" else None
        closed = (
            created + timedelta(days=2100) if status in ("closed", "archived") else None
        )  # after the last seeded interview
        uri = self._uri(company_id, f"projects/{project_id}/")

        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "resource_uri": uri,
            "company": self._uri(company_id),
            "name": name,
            "job_url": f"https://careers.acme-inc.example/jobs/{project_id}-{ascii_slug(name)}"
            if n % 3 != 2
            else "",
            "email_alias": "jobs@acme-inc.example" if n % 2 == 0 else "",
            "mode": "standard",
            "maximum_score": 5,
            "support_lang": "de",
            "language": "de-DE",
            "status": status,
            "internal_id": f"REQ-{2016 + n}-{project_id:03d}" if n % 4 != 1 else "",
            "allow_hash_login": False,
            "max_interview_time": 3600,
            "invite_candidates": status == "active",
            "default_interview_period": 7,
            "closedate": day(closed),
            "activationdate": day(activated),
            "contact_person": CONTACTS[n % len(CONTACTS)],
            "creationdate": day(created),
            "veto_enabled": n % 2 == 1,
            "status_update_uri": f"{uri}status/",
            "evaluators": [self._uri(company_id, f"customers/{3 + n % 2}/")],
            "interview_managers": [self._uri(company_id, "customers/3/")],
            "reviewers": [],
            "labels": [self._uri(company_id, f"labels/{1 + n % 3}/")] if n % 2 == 0 else [],
            "questions": f"{uri}questions/",
            "candidates": f"{uri}candidates/",
            "results": f"{uri}results/",
            "roles": f"{uri}roles/",
            "criteria": f"{uri}criteria/",
            "videos": [],
        }

    def _generate(
        self, rng: random.Random, company_id: int, project_id: int, candidate_id: int, i: int
    ) -> dict[str, Any]:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        status = STATUSES[i % len(STATUSES)]  # every status appears
        invited = datetime(2016, 11, 1, 9, 44, 56, tzinfo=UTC) + timedelta(days=rng.randrange(2000))
        reached = STATUSES.index(status) if status in STATUSES[:5] else rng.randrange(1, 3)
        cv_type = rng.choice([*CV_TYPES, None, None])
        return {
            "first_name": first,
            "last_name": last,
            "gender": rng.choice(["mr", "ms", ""]),
            "email": f"{ascii_slug(first)}.{ascii_slug(last)}{candidate_id}@example.com"
            if rng.random() < 0.9
            else "",
            "status": status,
            "username": rng.choice(["", f"{ascii_slug(last)}{candidate_id}"]),
            "phone": rng.choice(["", "+49 30 1234567", "030 98765432"]),
            "address": rng.choice(
                ["", "Friedrichstraße 10, 10117 Berlin", "Marienplatz 1, 80331 München"]
            ),
            "evaluation_status": rng.choice(EVALUATION),
            "my_evaluation_status": rng.choice([None, "pending", "completed"]),
            "created_by": self._uri(company_id, "customers/3/"),
            "invitationdate": invited if reached >= 1 else None,
            "confirmationdate": invited + timedelta(days=1) if reached >= 2 else None,
            "interviewdate": invited + timedelta(days=2) if reached >= 3 else None,
            "deadline": invited + timedelta(days=7) if reached >= 1 else None,
            "partner_data": {},
            "shares": [],
            "interview_key": secrets.token_hex(16),
            "activation_key": secrets.token_hex(16),
            "cv_type": cv_type,
            "cv_name": f"Lebenslauf_{ascii_slug(last)}" if cv_type else None,
            "has_photo": rng.random() < 0.5,
            "project_id": project_id,
            "candidate_id": candidate_id,
        }

    def _file_token(self, session: str, kind: str, candidate_id: int) -> str:
        # Per session, like the vendor: a new token session gives new file URLs.
        return hashlib.sha256(f"{session}:{kind}:{candidate_id}".encode()).hexdigest()[:11]

    def render(self, company_id: int, stored: dict[str, Any], session: str) -> dict[str, Any]:
        project_id, candidate_id = stored["project_id"], stored["candidate_id"]
        base = self._uri(company_id, f"projects/{project_id}/candidates/{candidate_id}/")

        def when(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "resource_uri": base,
            "photo": f"{base}photo/{self._file_token(session, 'photo', candidate_id)}/"
            if stored["has_photo"]
            else "",
            "first_name": stored["first_name"],
            "last_name": stored["last_name"],
            "gender": stored["gender"],
            "email": stored["email"],
            "status": stored["status"],
            "company": self._uri(company_id),
            "interview_key": stored["interview_key"],
            "project": self._uri(company_id, f"projects/{project_id}/"),
            "username": stored["username"],
            "phone": stored["phone"],
            "address": stored["address"],
            "cv": f"{base}cv/{self._file_token(session, 'cv', candidate_id)}/"
            if stored["cv_type"]
            else "",
            "evaluation_status": stored["evaluation_status"],
            "my_evaluation_status": stored["my_evaluation_status"],
            "created_by": stored["created_by"],
            "invitationdate": when(stored["invitationdate"]),
            "confirmationdate": when(stored["confirmationdate"]),
            "interviewdate": when(stored["interviewdate"]),
            "deadline": when(stored["deadline"]),
            "activation_key": stored["activation_key"],
            "partner_data": stored["partner_data"],
            "shares": stored["shares"],
            "interview_suite_url": f"{self.host}/#/projects/{project_id}/candidates/{candidate_id}",
        }

    def expire_tokens(self) -> None:
        """Expiring tokens lapse after inactivity: every current token stops working."""
        self.tokens.clear()

    def remove(self, company_id: int, project_id: int, candidate_id: int) -> None:
        del self.companies[company_id].candidates[project_id][candidate_id]

    # --- control API (connectors.sdk.emulation.EmulatorControl) --------------------------------

    def change(self, action: ChangeAction, count: int, account: str | None = None) -> list[str]:
        """Recruiter-side changes; ids are ``<project>/<candidate>``, the connector's
        ``remote_id``. viasto has no updated timestamp: an update changes the phone only."""
        _, company = pick_account({str(c): v for c, v in self.companies.items()}, account)

        def key(remote_id: str) -> tuple[int, int]:
            project_id, candidate_id = remote_id.split("/")
            return int(project_id), int(candidate_id)

        def update(remote_id: str) -> None:
            self.changes += 1
            project_id, candidate_id = key(remote_id)
            stored = company.candidates[project_id][candidate_id]
            stored["phone"] = f"+49 30 {self.changes * 7919 % 10**7:07d}"

        return recruiter_changes(
            action,
            count,
            [f"{p}/{c}" for p, project in company.candidates.items() for c in project],
            create=lambda: self._create(company),
            remove=lambda remote_id: self.remove(company.company_id, *key(remote_id)),
            update=update,
            cursor=self.changes,
        )

    def change_jobs(
        self, action: ChangeAction, count: int, account: str | None = None
    ) -> list[str]:
        """Recruiter-side project changes; ids are project ids, the jobs' ``remote_id``.
        ``create`` makes a draft project (no candidates yet), ``update`` renames one, ``delete``
        removes the oldest ones with their candidates."""
        _, company = pick_account({str(c): v for c, v in self.companies.items()}, account)

        def create() -> str:
            self.job_changes += 1
            project_id = company.next_project_id()
            n = len(company.projects)
            company.projects[project_id] = self._project(
                company.company_id, project_id, n, status="draft"
            )
            company.candidates[project_id] = {}
            return str(project_id)

        def remove(remote_id: str) -> None:
            del company.projects[int(remote_id)]
            del company.candidates[int(remote_id)]

        def rename(remote_id: str) -> None:
            self.job_changes += 1
            project = company.projects[int(remote_id)]
            base = str(project["name"]).split(" (rev ", 1)[0]
            project["name"] = f"{base} (rev {self.job_changes})"

        try:
            return recruiter_changes(
                action,
                count,
                [str(p) for p in company.projects],
                create=create,
                remove=remove,
                update=rename,
                cursor=self.job_changes,
            )
        except Rejected as exc:
            raise Rejected(str(exc).replace("candidates", "projects")) from None

    def _create(self, company: ViastoCompany) -> str:
        self.changes += 1
        projects = list(company.candidates)
        if not projects:
            raise Rejected("this company has no project to add a candidate to")
        project_id = projects[self.changes % len(projects)]
        candidate_id = company.next_candidate_id()
        rng = random.Random(f"{company.company_id}:{self.changes}")
        # i=0: a new candidate is in status "new", with no workflow dates yet.
        stored = self._generate(rng, company.company_id, project_id, candidate_id, 0)
        stored["cv_type"] = "application/pdf"
        stored["cv_name"] = f"Lebenslauf_{ascii_slug(stored['last_name'])}"
        company.candidates[project_id][candidate_id] = stored
        return f"{project_id}/{candidate_id}"

    def state(self) -> dict[str, Any]:
        return {
            "vendor": "viasto",
            "accounts": [
                account_state(
                    str(company_id),
                    [f"{p}/{c}" for p, project in company.candidates.items() for c in project],
                    [str(p) for p in company.projects],
                )
                | {"written": dict(company.written)}
                for company_id, company in self.companies.items()
            ],
            "ignored_switches": {},
        }

    # --- helpers -------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> tuple[ViastoCompany, str] | Response:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Token" or not token:
            return detail(401, "Authentication credentials were not provided.")
        company_id = self.tokens.get(token.strip())
        if company_id is None:
            return detail(401, "Invalid token.")
        wanted = request.path_params.get("company_id")
        if wanted is not None and wanted != company_id:
            return detail(403, "You do not have permission to perform this action.")
        return self.companies[company_id], token.strip()

    def _candidate(self, request: Request) -> tuple[ViastoCompany, str, dict[str, Any]] | Response:
        """Auth, then the candidate of the path: what every candidate route starts with."""
        auth = self._authorize(request)
        if isinstance(auth, Response):
            return auth
        company, session = auth
        project = company.candidates.get(request.path_params["project_id"])
        stored = project.get(request.path_params["candidate_id"]) if project is not None else None
        return (company, session, stored) if stored is not None else detail(404, "Not found.")

    def _envelope(
        self,
        request: Request,
        items: list[Any],
        render: Callable[[Any], Any] | None = None,
    ) -> Response:
        """One page of ``items``; ``render`` (when given) is applied to that page's items
        only: rendering a whole project for each page made the emulator's CPU per page grow
        with the project."""
        self.page_requests += 1
        try:
            page = int(request.query_params.get("page", "1"))
            size = int(request.query_params.get("page_size", str(DEFAULT_PAGE_SIZE)))
        except ValueError:
            return detail(404, "Invalid page.")
        # A DRF paginator's max_page_size: links and pages follow the capped size.
        size = self.faults.capped(max(1, min(size, MAX_PAGE_SIZE)))
        window = page_window(len(items), size, page, uneven=self.faults.uneven_pages)
        if page < 1 or page > window.pages:
            return detail(404, "Invalid page.")
        url = f"{self.host}{request.url.path}"

        def link(number: int) -> str | None:
            if not 1 <= number <= window.pages:
                return None
            query = f"?page={number}&page_size={size}"
            if not self.faults.relative_next:
                return f"{url}{query}"
            # Both relative forms a server may send, so a client must resolve either.
            return query if number % 2 else f"{request.url.path}{query}"

        return json_response(
            {
                "meta": {
                    "total_count": len(items),
                    "previous": link(page - 1),
                    "next": link(page + 1),
                },
                "objects": [
                    render(item) if render else item
                    for item in self.faults.listed(items)[window.start : window.end]
                ],
            }
        )

    # --- routes --------------------------------------------------------------------------------

    async def token_auth(self, request: Request) -> Response:
        self.token_requests += 1
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            return detail(400, f"JSON parse error - {exc}")
        if not isinstance(body, dict):
            return detail(400, "JSON parse error - expected an object")
        missing = {
            k: ["This field is required."] for k in ("username", "password") if not body.get(k)
        }
        if missing:
            return json_response(missing, status=400)
        user = self.users.get((str(body["username"]), str(body.get("company") or "")))
        if user is None or user[0] != body["password"]:
            return json_response(
                {"non_field_errors": ["Unable to log in with provided credentials."]}, status=400
            )
        token = secrets.token_hex(20)
        self.tokens[token] = user[1]
        return json_response({"token": token})

    async def company(self, request: Request) -> Response:
        auth = self._authorize(request)
        if isinstance(auth, Response):
            return auth
        company, _ = auth
        return json_response({"resource_uri": self._uri(company.company_id), "name": company.name})

    async def list_projects(self, request: Request) -> Response:
        auth = self._authorize(request)
        if isinstance(auth, Response):
            return auth
        company, _ = auth
        return self._envelope(request, list(company.projects.values()))

    async def get_project(self, request: Request) -> Response:
        auth = self._authorize(request)
        if isinstance(auth, Response):
            return auth
        company, _ = auth
        project = company.projects.get(request.path_params["project_id"])
        return json_response(project) if project is not None else detail(404, "Not found.")

    async def list_candidates(self, request: Request) -> Response:
        auth = self._authorize(request)
        if isinstance(auth, Response):
            return auth
        company, session = auth
        project = company.candidates.get(request.path_params["project_id"])
        if project is None:
            return detail(404, "Not found.")
        return self._envelope(
            request,
            list(project.values()),
            lambda c: self.render(company.company_id, c, session),
        )

    async def get_candidate(self, request: Request) -> Response:
        found = self._candidate(request)
        if isinstance(found, Response):
            return found
        company, session, stored = found
        return json_response(self.render(company.company_id, stored, session))

    async def delete_candidate(self, request: Request) -> Response:
        found = self._candidate(request)
        if isinstance(found, Response):
            return found
        company, _, stored = found
        self.remove(company.company_id, stored["project_id"], stored["candidate_id"])
        return Response(status_code=204)

    async def _write_body(
        self, request: Request, *, partial: bool
    ) -> tuple[dict[str, Any], tuple[str, str, bytes] | None] | Response:
        """A candidate POST/PATCH body, JSON or multipart/form-data, validated as DRF does:
        (the attributes to store, the sniffed CV (type, name, bytes) or None), or the 400."""
        upload: Any = None
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form: FormData = await request.form(max_files=2, max_fields=50)
            fields: Any = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
            upload = form.get("cv")
        else:
            try:
                fields = json.loads(await request.body() or b"{}")
            except ValueError as exc:
                return detail(400, f"JSON parse error - {exc}")
            if not isinstance(fields, dict):
                kind = type(fields).__name__
                return json_response(
                    {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]},
                    status=400,
                )
            upload = fields.get("cv")
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for name in WRITABLE:
            if name not in fields:
                if name in REQUIRED and not partial:
                    errors[name] = ["This field is required."]
                continue
            value = fields[name]
            if value is None:
                errors[name] = ["This field may not be null."]
            elif isinstance(value, bool) or not isinstance(value, str | int | float):
                errors[name] = ["Not a valid string."]
            elif name in REQUIRED and not str(value).strip():
                errors[name] = ["This field may not be blank."]
            elif name == "email" and str(value).strip() and not EMAIL.match(str(value).strip()):
                errors[name] = ["Enter a valid email address."]
            else:
                values[name] = str(value).strip()
        cv: tuple[str, str, bytes] | None = None
        if isinstance(upload, UploadFile):
            content = await upload.read(CV_MAX_BYTES + 1)
            sniffed = sniff_cv(content, upload.content_type or "")
            if not content:
                errors["cv"] = ["The submitted file is empty."]
            elif len(content) > CV_MAX_BYTES:
                errors["cv"] = [f"The file is too large: at most {CV_MAX_BYTES} bytes."]
            elif sniffed is None:
                errors["cv"] = [
                    "Unsupported file type. Supported types are: "
                    + ", ".join(sorted(CV_EXTENSIONS))
                    + "."
                ]
            else:
                stem = (upload.filename or "cv").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "cv"
                cv = (sniffed, stem[:100], content)
        elif upload not in (None, ""):
            errors["cv"] = [
                "The submitted data was not a file. Check the encoding type on the form."
            ]
        if errors:
            return json_response(errors, status=400)
        return values, cv

    @staticmethod
    def _store_cv(stored: dict[str, Any], cv: tuple[str, str, bytes]) -> None:
        stored["cv_type"], stored["cv_name"], stored["cv_content"] = cv

    async def create_candidate(self, request: Request) -> Response:
        """``POST …/projects/{p}/candidates/`` (JSON, or multipart with the ``cv``): 201 with
        the candidate in status ``new``; ``status`` and ``deadline`` are ignored [DOC] V2."""
        auth = self._authorize(request)
        if isinstance(auth, Response):
            return auth
        company, session = auth
        project_id = request.path_params["project_id"]
        if project_id not in company.candidates:
            return detail(404, "Not found.")
        body = await self._write_body(request, partial=False)
        if isinstance(body, Response):
            return body
        values, cv = body
        candidate_id = company.next_candidate_id()
        stored = self._generate(
            random.Random(candidate_id), company.company_id, project_id, candidate_id, 0
        )
        stored.update(
            {
                "email": "",
                "gender": "",
                "phone": "",
                "address": "",
                "username": "",
                **values,
                "status": "new",
                "evaluation_status": "pending",
                "my_evaluation_status": None,
                "invitationdate": None,
                "confirmationdate": None,
                "interviewdate": None,
                "deadline": None,
                "cv_type": None,
                "cv_name": None,
                "has_photo": False,
            }
        )
        if cv is not None:
            self._store_cv(stored, cv)
        company.candidates[project_id][candidate_id] = stored
        company.written["created"] += 1
        return json_response(self.render(company.company_id, stored, session), status=201)

    async def update_candidate(self, request: Request) -> Response:
        """``PATCH …/candidates/{id}/`` (JSON, or multipart with a new ``cv``): 202, "Object
        update was accepted successfully" [DOC] V4; the body is the candidate [INF]."""
        found = self._candidate(request)
        if isinstance(found, Response):
            return found
        company, session, stored = found
        body = await self._write_body(request, partial=True)
        if isinstance(body, Response):
            return body
        values, cv = body
        stored.update(values)
        if cv is not None:
            self._store_cv(stored, cv)
        company.written["updated"] += 1
        return json_response(self.render(company.company_id, stored, session), status=202)

    async def set_deadline(self, request: Request) -> Response:
        found = self._candidate(request)
        if isinstance(found, Response):
            return found
        _, _, stored = found
        try:
            body = json.loads(await request.body() or b"{}")
            value = datetime.fromisoformat(str(body["deadline"]).replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            return json_response(
                {"deadline": ["Datetime has wrong format. Use ISO 8601 with a time zone."]},
                status=400,
            )
        if value.tzinfo is None:
            return json_response({"deadline": ["A time zone designator is required."]}, status=400)
        stored["deadline"] = value.astimezone(UTC)
        return json_response(
            {"deadline": value.astimezone(UTC).isoformat().replace("+00:00", "Z")}, status=202
        )

    async def advance_status(self, request: Request) -> Response:
        """The Advance Status Action [DOC] V2 (its URL is not documented: ours [INF]): one status
        forward. new -> invited sends the invitation e-mail, so it needs an e-mail address and
        an active interview; without a deadline set, the project's default interview period
        gives one [DOC] V2; a deadline set in the past is refused [INF]."""
        found = self._candidate(request)
        if isinstance(found, Response):
            return found
        company, _, stored = found
        now = datetime.now(UTC)
        status = stored["status"]
        target = NEXT_STATUS.get(status)
        if target is None:
            return detail(400, f"No valid transition from status '{status}'.")
        if status == "new":
            project = company.projects[stored["project_id"]]
            if project["status"] != "active":
                return detail(400, "Candidates can only be invited to an active interview.")
            if not stored["email"]:
                return detail(400, "The candidate needs an email address to be invited.")
            if stored["deadline"] is None:
                period = int(project.get("default_interview_period") or 7)
                stored["deadline"] = now + timedelta(days=period)
            elif stored["deadline"] <= now:
                return detail(400, "The deadline must be in the future.")
            stored["invitationdate"] = now
        elif status == "invited":
            stored["confirmationdate"] = now
        elif status == "confirmed":
            stored["interviewdate"] = now
        stored["status"] = target
        company.written["advanced"] += 1
        return json_response({"status": target}, status=202)

    async def _file(self, request: Request, kind: str) -> Response:
        found = self._candidate(request)
        if isinstance(found, Response):
            return found
        _, session, stored = found
        expected = self._file_token(session, kind, stored["candidate_id"])
        if request.path_params["token"] != expected:
            return detail(404, "Not found.")  # an expired or foreign file token
        if kind == "cv":
            if not stored["cv_type"]:
                return detail(404, "Not found.")
            content = stored.get("cv_content") or (
                CV_TYPES[stored["cv_type"]]
                + f"CV of {stored['first_name']} {stored['last_name']}\n".encode() * 50
            )
            extension = CV_EXTENSIONS.get(stored["cv_type"])
            headers = (
                {"Content-Disposition": f'attachment; filename="{stored["cv_name"]}.{extension}"'}
                if extension
                else {}
            )
            return Response(content, media_type=stored["cv_type"], headers=headers)
        if not stored["has_photo"]:
            return detail(404, "Not found.")
        png = (
            b"\x89PNG\r\n\x1a\n" + hashlib.sha256(str(stored["candidate_id"]).encode()).digest() * 8
        )
        return Response(png, media_type="image/png")

    async def cv(self, request: Request) -> Response:
        return await self._file(request, "cv")

    async def photo(self, request: Request) -> Response:
        return await self._file(request, "photo")


def sniff_cv(content: bytes, declared: str) -> str | None:
    """The CV type viasto recognises in ``content`` ("Tries to recognise MIME type of uploaded
    file" [DOC] V1): magic bytes first, the declared type only to tell the two OLE2 formats
    apart; None for anything outside the seven documented types."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"%!PS"):
        return "application/postscript"
    if content.startswith(b"\xf7\x02"):
        return "application/x-dvi"
    if content.startswith(b"{\\rtf"):
        return "text/richtext"
    if content.startswith(OLE2):
        return declared if declared == "application/vnd.ms-powerpoint" else "application/msword"
    try:
        decoded = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = all(ch.isprintable() or ch in "\t\r\n\f" for ch in decoded)
    return "text/plain" if printable else None


__all__ = ["ViastoEmulator", "sniff_cv"]
