"""The Welcome Kit emulator: ``/api/v1/external`` as documented, with deterministic data.

Bearer auth (or ``?access_token=``) with scopes; 400 ``validation_failed`` without the required
``job_reference``/``candidate_reference``; ``page``/``per_page`` paging with ``X-Total``,
``X-Total-Pages``, ``X-Per-Page`` and ``X-Page`` headers (``page_size_cap`` and ``uneven_pages``
change it as a Rails server with a maximum ``per_page`` or post-paging filters would);
``stage``/``tags`` only when asked; ``updated_after`` (a date); the vendor's
``{error, error_description}`` bodies; files on a CDN path.

Jobs follow github ``WTTJ/wk-api-docs`` @ ``feec0b6`` ``source/includes/_jobs.md`` ("List jobs",
"Retrieve a job", "Update job status"): ``GET /jobs?organization_reference=`` (paged, ``jobs_r``)
and ``GET /jobs/:reference`` (``jobs_r``; 404 ``not_found`` "Job not found" [INF message]) with
the documented fields (reference, name, description, profile, company_description, status
``draft``/``published``/``archived``, contract_type, salary, remote, office_id, department_id,
cms_sites_references, created_at/updated_at/published_at/archived_at, ...). Both take
``stages=true`` (``[{id, name, reference, visible}]``), ``websites=true``
(``[{reference, name, url}]``) and ``office=true``; the single route also
``candidates_count=true`` (with a candidates scope). The list filters ``status``,
``created_after``, ``updated_after`` and ``published_after`` work. [INF]: the office object's
shape (that of ``_offices.md``), the place of a ``hired`` stage in the default pipeline
(``_candidates.md`` names ``hired`` as a stage reference), websites only on published jobs,
stage ids numbered per job, and every value drawn here.

Writes follow ``_candidates.md`` ("Create a candidate", "Update a candidate") and
``_documents.md`` ("Attach documents to a candidate"), with the GitBook's required
``job_stage_id`` [DOC] W7: ``POST /candidates`` (``candidates_rw`` or ``my_candidates_rw``),
``PUT /candidates/:reference`` and ``POST /documents`` (``documents_rw`` and a candidates
scope). Required parameters, the organization (401), the job (404), the job's stage, the
e-mail's form, the ``archived`` flag and the files are checked; files given by URL are fetched
at once (``fetch``) and checked against the documented types and sizes (:mod:`.files`); a
refusal is 400 ``validation_failed`` whose description names each parameter (``"email is
invalid, job_stage_id is invalid"``). What is written is what the reads serve, with
``updated_at`` bumped; the fetched bytes are served from the CDN path. ``media_*`` parameters
are kept but never shown (no documented response holds them). [INF]: the statuses 201 (create,
attach) and 200 (update), the description texts, a document touching its candidate's
``updated_at``, ``origin: external`` on created candidates.
"""

import hashlib
import random
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
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
    bearer_token,
    json_response,
    page_window,
    pick_account,
    read_json,
    recruiter_changes,
)
from connectors.welcomekit.emulator.files import (
    DOCUMENT,
    PORTFOLIO,
    RESUME,
    Fetch,
    Fetched,
    FileLimit,
    FileRefused,
    download,
    http_fetch,
)

PARIS = timezone(timedelta(hours=1))
EPOCH = datetime(2020, 1, 1, tzinfo=PARIS)
DEFAULT_AVATAR = "https://www.welcomekit.co/assets/default-avatar-7cbb7b9749a7cf8864001cde13e2a9a94e612bf083430d66ede0966f5bafb296.png"
DEFAULT_STAGES: list[tuple[str, str | None, bool]] = [
    # (name, reference, visible): the documented default pipeline of a new job (_jobs.md,
    # "Create a job" response and "Retrieve a job"), in French, plus `hired` [INF place].
    ("Nouveau", "initial", True),
    ("Refusé", "refused", True),
    ("À rencontrer", "to_meet", True),
    ("Entretien", "interviewed", True),
    ("Proposition", None, True),
    ("Embauché", "hired", True),
    ("Archivé", "archived", False),
]
FIRST_STAGE_ID = 14752  # the documented example's first stage id
JOB_STATUSES = ["published", "published", "draft", "published", "archived"]
CONTRACT_TYPES = ["FULL_TIME", "TEMPORARY", "INTERNSHIP", "FULL_TIME"]
REMOTE_LEVELS = ["no", "partial", "punctual", "fulltime"]
PROFESSIONS = ["dev_backend", "product", "data", "office_management", "design", "human_resources"]
OFFICES = [
    # _offices.md's documented office, and an invented second one [INF]
    {
        "id": 196,
        "name": "Paris",
        "address": "11 bis rue Bachaumont",
        "zip_code": "75002",
        "city": "Paris",
        "country_code": "FR",
        "is_headquarter": True,
    },
    {
        "id": 197,
        "name": "Lyon",
        "address": "3 place Bellecour",
        "zip_code": "69002",
        "city": "Lyon",
        "country_code": "FR",
        "is_headquarter": False,
    },
]
WEBSITES = {
    "wttj_fr": ("Welcome to the Jungle", "https://www.welcometothejungle.com/fr/companies"),
    "wttj_careers": ("Careers website", "https://careers.welcomekit.example"),
}
JOB_NAMES = [
    "Développeur·se backend",
    "Product Manager",
    "Data Engineer",
    "Office Manager",
    "UX Designer",
    "Chargé(e) de recrutement",
]
ORIGINS = ["external", "website:cms:wttj_fr", "api", "sourcing"]
REFERRERS = [None, "www.linkedin.com", "www.welcometothejungle.com", "www.indeed.fr"]
ALL_SCOPES = frozenset(
    {"candidates_r", "candidates_rw", "documents_r", "documents_rw", "jobs_r", "organizations_r"}
)
MAX_PER_PAGE = 100
MEDIA_PARAMETERS = (
    "media_website",
    "media_github",
    "media_stackoverflow",
    "media_dribbble",
    "media_behance",
    "media_linkedin",
    "media_facebook",
    "media_instagram",
    "media_medium",
    "media_tumblr",
    "media_vimeo",
    "media_twitter",
)
TEXT_PARAMETERS = (
    "organization_reference",
    "job_reference",
    "email",
    "firstname",
    "lastname",
    "tag_list",
    "subtitle",
    "phone",
    "remote_image_url",
    "remote_resume_url",
    "remote_portfolio_url",
    "comment",
    "cover_letter",
    "referrer",
    *MEDIA_PARAMETERS,
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def wk_error(status: int, code: str, description: str) -> Response:
    return json_response({"error": code, "error_description": description}, status=status)


def fault_error(status: int, message: str) -> Response:
    code = {401: "unauthorized", 403: "invalid_scope", 404: "not_found"}.get(status, "server_error")
    return wk_error(status, code, message)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


@dataclass
class Organization:
    reference: str
    name: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    """reference -> full candidate (with stage and tags; stripped per request)."""
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updated: dict[str, date] = field(default_factory=dict)
    next_document_id: int = 1000
    next_stage_id: int = FIRST_STAGE_ID
    media: dict[str, dict[str, str]] = field(default_factory=dict)
    """reference -> ``media_*`` urls written (Welcome Kit stores them; no response shows them)."""
    created_by: dict[str, str] = field(default_factory=dict)
    """reference -> the API key that created it (what ``my_candidates_rw`` may change)."""
    api_created: int = 0

    def job(self, reference: str) -> dict[str, Any] | None:
        return next((j for j in self.jobs if j["reference"] == reference), None)


@dataclass
class WelcomeKitEmulator:
    cdn_base: str = "https://cdn.welcomekit.example"
    """Where file URLs point (the demo sets its own loopback address)."""
    faults: Faults = field(default_factory=Faults)
    organizations: dict[str, Organization] = field(default_factory=dict)
    keys: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    """api key -> (organization reference, scopes)."""
    requests: int = 0
    changes: int = 0
    """Changes made through the control API (numbers new data, spreads updates)."""
    fetch: Fetch | None = None
    """How the vendor downloads ``remote_*_url`` files; default: a real GET (10 s, no
    redirects). Tests route it to an in-process app."""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """CDN path (after ``/uploads/``) -> (bytes, content type) of the files fetched on writes."""
    written: dict[str, int] = field(
        default_factory=lambda: {
            "candidates_created": 0,
            "candidates_updated": 0,
            "documents_created": 0,
        }
    )

    def __post_init__(self) -> None:
        routes = [
            Route("/api/v1/external/organizations/{reference}", self.organization, methods=["GET"]),
            Route("/api/v1/external/jobs", self.list_jobs, methods=["GET"]),
            # `:path`: an encoded slash (%2F) stays inside the reference, as Rails keeps it in
            # the segment; the lookup then answers 404 like the vendor, not another route.
            Route("/api/v1/external/jobs/{reference:path}", self.get_job, methods=["GET"]),
            Route("/api/v1/external/candidates", self.list_candidates, methods=["GET"]),
            Route("/api/v1/external/candidates", self.create_candidate, methods=["POST"]),
            Route(
                "/api/v1/external/candidates/{reference:path}", self.get_candidate, methods=["GET"]
            ),
            Route(
                "/api/v1/external/candidates/{reference:path}",
                self.update_candidate,
                methods=["PUT"],
            ),
            Route("/api/v1/external/documents", self.list_documents, methods=["GET"]),
            Route("/api/v1/external/documents", self.attach_documents, methods=["POST"]),
            Route("/uploads/{path:path}", self.cdn, methods=["GET"]),
        ]
        self.app = EmulatorApp(Starlette(routes=routes), control=self, error=fault_error)

    # --- data ----------------------------------------------------------------------------------

    def add_organization(
        self,
        *,
        reference: str,
        name: str,
        api_key: str,
        size: int = 40,
        jobs: int | None = None,
        seed: int = 1,
        scopes: frozenset[str] = ALL_SCOPES,
    ) -> Organization:
        rng = random.Random(seed)
        org = Organization(reference=reference, name=name)
        job_count = jobs or max(2, size // 150)
        for n in range(job_count):
            org.jobs.append(
                self._job(
                    org,
                    n,
                    f"WTTJ_{''.join(rng.choice(string.ascii_letters) for _ in range(7))}",
                    EPOCH + timedelta(days=37 * n, hours=n % 9),
                )
            )
        previous: dict[str, Any] | None = None
        for n in range(size):
            job = org.jobs[n % job_count]
            same_person = (
                previous is not None
                and previous["job_reference"] != job["reference"]
                and rng.random() < 0.05
            )
            self._add_candidate(
                org, rng, n, job, previous["profile"] if same_person and previous else None
            )
            previous = list(org.candidates.values())[-1]
        self.organizations[reference] = org
        self.keys[api_key] = (reference, scopes)
        return org

    def _add_candidate(
        self,
        org: Organization,
        rng: random.Random,
        n: int,
        job: dict[str, Any],
        profile: dict[str, Any] | None,
        *,
        at: datetime | None = None,
        with_resume: bool = False,
    ) -> None:
        """Candidate number ``n``. ``at`` (created and updated then) and ``with_resume`` override
        what was drawn, after drawing, so a seed gives the same data whether or not they are used."""
        reference = "wttj-" + hashlib.sha256(f"{org.reference}:{n}".encode()).hexdigest()[:24]
        created = EPOCH + timedelta(days=rng.randrange(1500), seconds=rng.randrange(86400))
        updated = created + timedelta(days=rng.randrange(30), seconds=rng.randrange(86400))
        if at is not None:
            created = updated = at
        if profile is None:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            has_address = rng.random() < 0.5
            profile = {
                "address": f"{rng.randrange(1, 120)} rue de la Paix" if has_address else None,
                "avatar_url": DEFAULT_AVATAR
                if rng.random() < 0.6
                else f"{self.cdn_base}/avatars/{n}.png",
                "city": rng.choice(["Paris", "Lyon", "Nantes", "Bordeaux"])
                if has_address
                else None,
                "country_code": "FR" if has_address else None,
                "country_name": "France" if has_address else None,
                "email": f"{ascii_slug(first)}.{ascii_slug(last)}{n}@example.com"
                if rng.random() < 0.95
                else None,
                "firstname": first,
                "lastname": last,
                "phone": rng.choice(
                    [None, "+33606060606", f"06 {rng.randrange(10, 99)} 12 34 56", ""]
                ),
                "subtitle": rng.choice([None, "Product Manager @ Acme", "CTO @ WTTJ", "Étudiante"]),
                "zip_code": f"750{rng.randrange(10, 20)}" if has_address else None,
            }
        stage = rng.choice([s for s in job["stages"] if s["visible"]])
        has_resume = rng.random() < 0.85 or with_resume
        resume_type = rng.choice(["application/pdf", "application/pdf", "application/msword"])
        slug = ascii_slug(f"{profile['firstname']}-{profile['lastname']}")
        resume_url = f"{self.cdn_base}/uploads/resume/{n}/cv-{slug}.{'pdf' if resume_type == 'application/pdf' else 'doc'}"
        has_portfolio = rng.random() < 0.15
        candidate = {
            "reference": reference,
            "cover_letter": rng.choice(["", "", "Bonjour, je souhaite rejoindre votre équipe…"]),
            "created_at": iso(created),
            "job_reference": job["reference"],
            "modal_path": f"/dashboard/o/{org.reference}/jobs/{job['reference']}/card/{reference}",
            "portfolio_size": 4242 if has_portfolio else None,
            "portfolio_url": f"{self.cdn_base}/uploads/portfolio/{n}/portfolio.pdf"
            if has_portfolio
            else None,
            "resume_content_type": resume_type if has_resume else None,
            "resume_size": (20_000 + n) if has_resume else None,
            "resume_url": resume_url if has_resume else None,
            "stage_id": stage["id"],
            "stage": dict(stage),
            "updated_at": iso(updated),
            "profile": dict(profile),
            "tags": rng.sample(
                ["ruby", "react", "go", "python", "product", "saas", "senior"], k=rng.randrange(4)
            ),
            "origin": rng.choice(ORIGINS),
            "archived": rng.random() < 0.1,
        }
        referrer = rng.choice(REFERRERS)
        if referrer:
            candidate["referrer"] = referrer
        org.candidates[reference] = candidate
        org.updated[reference] = updated.date()
        documents = []
        if has_resume and rng.random() < 0.3:  # the same resume again, as a document
            documents.append(
                self._document(
                    org, reference, job, "resume", resume_url, resume_type, 20_000 + n, created
                )
            )
        for extra in range(rng.choice([0, 0, 1, 2])):
            documents.append(
                self._document(
                    org,
                    reference,
                    job,
                    rng.choice(["lettre", "diplome", "portfolio"]),
                    f"{self.cdn_base}/uploads/documents/{n}/{extra}",
                    rng.choice(
                        [
                            "application/pdf",
                            "image/png",
                            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        ]
                    ),
                    rng.randrange(1000, 500_000),
                    created,
                )
            )
        org.documents[reference] = documents

    def _job(
        self,
        org: Organization,
        n: int,
        reference: str,
        created: datetime,
        status: str | None = None,
    ) -> dict[str, Any]:
        """Job number ``n`` as stored: every documented field, with its stages, websites and
        office (each shown only when asked for). Values follow ``n``: no random draws."""
        status = status or JOB_STATUSES[n % len(JOB_STATUSES)]
        name = f"{JOB_NAMES[n % len(JOB_NAMES)]}{'' if n < len(JOB_NAMES) else f' #{n}'}"
        office = OFFICES[n % len(OFFICES)]
        sites = "wttj_fr" if n % 2 == 0 else "wttj_fr,wttj_careers"
        stages = []
        for stage_name, stage_reference, visible in DEFAULT_STAGES:
            stages.append(
                {
                    "id": org.next_stage_id,
                    "name": stage_name,
                    "reference": stage_reference,
                    "visible": visible,
                }
            )
            org.next_stage_id += 1
        slug = ascii_slug(name).lower() or "job"
        contract = CONTRACT_TYPES[n % len(CONTRACT_TYPES)]
        return {
            "name": name,
            "external_reference": f"REQ-{1000 + n}" if n % 3 == 0 else None,
            "organization_reference": org.reference,
            "status": status,
            "profile": "Vous avez au moins deux ans d'expérience et aimez travailler en équipe.",
            "apply_url": None,
            "company_description": f"{org.name} aide chacun à trouver un emploi épanouissant.",
            "contract_duration_min": 6 if contract == "TEMPORARY" else None,
            "experience_level": "1_TO_2_YEARS",
            "department_id": 42 if n % 2 == 0 else None,
            "profession_reference": PROFESSIONS[n % len(PROFESSIONS)],
            "cms_sites_references": sites,
            "contract_duration_max": 12 if contract == "TEMPORARY" else None,
            "start_date": iso((created + timedelta(days=60)).replace(hour=0, minute=0, second=0)),
            "description": f"Nous recherchons un·e {name} pour rejoindre notre équipe.",
            "contract_type": contract,
            "language": "fr",
            "salary": {"min": "40000", "max": "55000", "currency": "EUR", "period": "yearly"},
            "remote": REMOTE_LEVELS[n % len(REMOTE_LEVELS)],
            "office_id": office["id"],
            "reference": reference,
            "education_level": "BAC_5",
            "created_at": iso(created),
            "updated_at": iso(created + timedelta(days=3)),
            "published_at": iso(created + timedelta(days=1)) if status != "draft" else None,
            "archived_at": iso(created + timedelta(days=200)) if status == "archived" else None,
            # shown on demand (stages=true, websites=true, office=true)
            "stages": stages,
            "websites": [
                {
                    "reference": site,
                    "name": WEBSITES[site][0],
                    "url": f"{WEBSITES[site][1]}/{org.reference.lower()}/jobs/{slug}-{n}",
                }
                for site in sites.split(",")
            ]
            if status == "published"
            else [],
            "office": dict(office),
        }

    def add_job(self, org_reference: str, *, status: str = "published") -> dict[str, Any]:
        """A job a recruiter creates now (the documented default pipeline, no candidates)."""
        org = self.organizations[org_reference]
        self.changes += 1
        reference = (
            "WTTJ_" + hashlib.sha256(f"{org_reference}:job:{self.changes}".encode()).hexdigest()[:7]
        )
        job = self._job(org, len(org.jobs) + self.changes, reference, datetime.now(PARIS), status)
        org.jobs.append(job)
        return job

    def touch_job(self, org_reference: str, reference: str, **fields: Any) -> dict[str, Any]:
        """Change a job's documented fields as ``PUT /jobs/:reference`` would; now updated."""
        org = self.organizations[org_reference]
        job = org.job(reference)
        if job is None:
            raise KeyError(reference)
        job.update(fields)
        job["updated_at"] = iso(datetime.now(UTC).astimezone(PARIS))
        return job

    def remove_job(self, org_reference: str, reference: str) -> None:
        """A job deleted from the dashboard, with its candidates and their documents [INF]."""
        org = self.organizations[org_reference]
        org.jobs = [j for j in org.jobs if j["reference"] != reference]
        for candidate_reference in [
            ref for ref, c in org.candidates.items() if c["job_reference"] == reference
        ]:
            self.remove(org_reference, candidate_reference)

    def _document(
        self,
        org: Organization,
        reference: str,
        job: dict[str, Any],
        filename: str,
        url: str,
        content_type: str,
        size: int,
        created: datetime,
    ) -> dict[str, Any]:
        org.next_document_id += 1
        return {
            "id": org.next_document_id,
            "job_reference": job["reference"],
            "candidate_reference": reference,
            "filename": filename,  # documented: no extension
            "file_url": url,
            "size": size,
            "content_type": content_type,
            "created_at": iso(created),
        }

    def touch(self, org_reference: str, reference: str, **profile: Any) -> dict[str, Any]:
        org = self.organizations[org_reference]
        candidate = org.candidates[reference]
        candidate["profile"].update(profile)
        now = datetime.now(UTC).astimezone(PARIS)
        candidate["updated_at"] = iso(now)
        org.updated[reference] = now.date()
        return candidate

    def remove(self, org_reference: str, reference: str) -> None:
        org = self.organizations[org_reference]
        del org.candidates[reference]
        org.documents.pop(reference, None)

    # --- control API (connectors.sdk.emulation.EmulatorControl) --------------------------------

    def change(self, action: ChangeAction, count: int, account: str | None = None) -> list[str]:
        """Recruiter-side changes; ids are candidate references, the connector's ``remote_id``."""
        org_reference, org = pick_account(self.organizations, account)

        def create() -> str:
            if not org.jobs:
                raise Rejected("this organization has no job to apply to")
            self.changes += 1
            self._add_candidate(
                org,
                random.Random(f"{org_reference}:{self.changes}"),
                1_000_000 + self.changes,  # past any seeded or API-created number
                org.jobs[self.changes % len(org.jobs)],
                None,
                at=datetime.now(UTC).astimezone(PARIS),
                with_resume=True,
            )
            return next(reversed(org.candidates))

        def update(reference: str) -> None:
            self.changes += 1
            self.touch(org_reference, reference, phone=f"+336{self.changes * 7919 % 10**8:08d}")

        return recruiter_changes(
            action,
            count,
            list(org.candidates),
            create=create,
            remove=lambda reference: self.remove(org_reference, reference),
            update=update,
            cursor=self.changes,
        )

    def change_jobs(
        self, action: ChangeAction, count: int, account: str | None = None
    ) -> list[str]:
        """Jobs created (published, no candidates), updated (description and ``updated_at``) or
        deleted (oldest first, with their candidates); ids are job references."""
        org_reference, org = pick_account(self.organizations, account)

        def create() -> str:
            return str(self.add_job(org_reference)["reference"])

        def update(reference: str) -> None:
            self.changes += 1
            self.touch_job(
                org_reference,
                reference,
                description=f"Nous recrutons ! (mise à jour {self.changes})",
            )

        return recruiter_changes(
            action,
            count,
            [str(j["reference"]) for j in org.jobs],
            create=create,
            remove=lambda reference: self.remove_job(org_reference, reference),
            update=update,
            cursor=self.changes,
        )

    def state(self) -> dict[str, Any]:
        return {
            "vendor": "welcomekit",
            "accounts": [
                account_state(reference, list(org.candidates), [j["reference"] for j in org.jobs])
                for reference, org in self.organizations.items()
            ],
            "written": dict(self.written),
            "ignored_switches": {
                "relative_next": "Welcome Kit pages with page/per_page and X-Total-Pages "
                "headers: there are no next links"
            },
        }

    # --- routes --------------------------------------------------------------------------------

    def _authorize(
        self, request: Request, *needs: str
    ) -> tuple[Organization, frozenset[str]] | Response:
        """Each need is a scope, or alternatives (``"candidates_rw|my_candidates_rw"``)."""
        self.requests += 1
        token = bearer_token(request, "access_token")
        if token is None or token not in self.keys:
            return wk_error(401, "unauthorized", "The access token is invalid")
        org_reference, scopes = self.keys[token]

        def granted(scope: str) -> bool:
            # A read scope (`candidates_r`) is also granted by its read-write one (`_rw`).
            return scope in scopes or (scope.endswith("_r") and f"{scope}w" in scopes)

        for need in needs:
            alternatives = need.split("|")
            if not any(granted(scope) for scope in alternatives):
                return wk_error(403, "invalid_scope", f"{alternatives[0]} scope is required")
        return self.organizations[org_reference], scopes

    async def _authorized_body(
        self, request: Request, *needs: str
    ) -> tuple[Organization, dict[str, Any]] | Response:
        """What every write route starts with: the scopes, then a JSON object."""
        auth = self._authorize(request, *needs)
        if isinstance(auth, Response):
            return auth
        try:
            body = await read_json(request)
        except ValueError:
            return wk_error(400, "validation_failed", "body is not JSON")
        if not isinstance(body, dict):
            return wk_error(400, "validation_failed", "body is not a JSON object")
        return auth[0], body

    def _page(self, request: Request, items: list[Any]) -> Response:
        try:
            page = max(1, int(request.query_params.get("page", "1")))
            per_page = min(MAX_PER_PAGE, max(1, int(request.query_params.get("per_page", "100"))))
        except ValueError:
            return wk_error(400, "validation_failed", "page and per_page must be integers")
        # A capped per_page is what api-pagination reports in X-Per-Page and pages by.
        per_page = self.faults.capped(per_page)
        window = page_window(len(items), per_page, page, uneven=self.faults.uneven_pages)
        headers = {
            "X-Total": str(len(items)),
            "X-Total-Pages": str(window.pages),
            "X-Per-Page": str(per_page),
            "X-Page": str(page),
            "X-Offset": str(window.start),
        }
        return json_response(self.faults.listed(items)[window.start : window.end], headers=headers)

    async def organization(self, request: Request) -> Response:
        auth = self._authorize(request, "organizations_r")
        if isinstance(auth, Response):
            return auth
        org, _ = auth
        if request.path_params["reference"] != org.reference:
            return wk_error(401, "unauthorized", "You are not member of this organization")
        return json_response({"reference": org.reference, "name": org.name})

    async def list_jobs(self, request: Request) -> Response:
        auth = self._authorize(request, "jobs_r")
        if isinstance(auth, Response):
            return auth
        org, _ = auth
        wanted = request.query_params.get("organization_reference")
        if not wanted:
            return wk_error(400, "validation_failed", "organization_reference is missing")
        if wanted != org.reference:
            return wk_error(401, "unauthorized", "You are not member of this organization")
        jobs = org.jobs
        status = request.query_params.get("status")
        if status:
            jobs = [j for j in jobs if j["status"] == status]
        for param, key in (
            ("created_after", "created_at"),
            ("updated_after", "updated_at"),
            ("published_after", "published_at"),
        ):
            if request.query_params.get(param):
                try:
                    day = date.fromisoformat(request.query_params[param])
                except ValueError:
                    return wk_error(400, "validation_failed", f"{param} must be YYYY-MM-DD")
                jobs = [j for j in jobs if j[key] and datetime.fromisoformat(j[key]).date() >= day]
        return self._page(request, [self._render_job(j, request) for j in jobs])

    def _render_job(
        self, job: dict[str, Any], request: Request, counts: dict[Any, int] | None = None
    ) -> dict[str, Any]:
        shown = dict(job)
        for option in ("stages", "websites", "office"):
            if request.query_params.get(option) != "true":
                shown.pop(option)
        if "stages" in shown:
            shown["stages"] = [dict(stage) for stage in job["stages"]]
        if counts is not None:
            shown["candidates_count"] = sum(counts.values())
            for stage in shown.get("stages", []):
                stage["candidates_count"] = counts.get(stage["id"], 0)
        return shown

    async def get_job(self, request: Request) -> Response:
        auth = self._authorize(request, "jobs_r")
        if isinstance(auth, Response):
            return auth
        org, scopes = auth
        job = org.job(request.path_params["reference"])
        if job is None:
            return wk_error(404, "not_found", "Job not found")
        counts: dict[Any, int] | None = None
        # Counters need a candidates scope as well (documented); without it they are left out.
        if request.query_params.get("candidates_count") == "true" and (
            scopes & {"candidates_r", "candidates_rw"}
        ):
            counts = {}
            for candidate in org.candidates.values():
                if candidate["job_reference"] == job["reference"]:
                    counts[candidate["stage_id"]] = counts.get(candidate["stage_id"], 0) + 1
        return json_response(self._render_job(job, request, counts))

    def _render(self, candidate: dict[str, Any], request: Request) -> dict[str, Any]:
        shown = dict(candidate)
        if request.query_params.get("stage") != "true":
            shown.pop("stage")
        if request.query_params.get("tags") != "true":
            shown.pop("tags")
        return shown

    async def list_candidates(self, request: Request) -> Response:
        auth = self._authorize(request, "candidates_r")
        if isinstance(auth, Response):
            return auth
        org, _ = auth
        job_reference = request.query_params.get("job_reference")
        if not job_reference:
            return wk_error(400, "validation_failed", "job_reference is missing")
        if org.job(job_reference) is None:
            return wk_error(404, "not_found", "Job not found")
        days: dict[str, date | None] = {}
        for param in ("updated_after", "created_after"):
            value = request.query_params.get(param)
            try:
                days[param] = date.fromisoformat(value) if value else None
            except ValueError:
                return wk_error(400, "validation_failed", f"{param} must be YYYY-MM-DD")
        query = request.query_params
        wanted_email = (query.get("email") or "").strip().lower()
        archived = query.get("archived")
        if archived not in (None, "", "true", "false"):
            return wk_error(400, "validation_failed", "archived must be true or false")

        def listed(reference: str, c: dict[str, Any]) -> bool:
            created = datetime.fromisoformat(c["created_at"]).date()
            stage = c.get("stage") or {}
            return (
                c["job_reference"] == job_reference
                and (
                    days["updated_after"] is None or org.updated[reference] >= days["updated_after"]
                )
                and (days["created_after"] is None or created >= days["created_after"])
                and (not wanted_email or (c["profile"].get("email") or "").lower() == wanted_email)
                and (not archived or c["archived"] == (archived == "true"))
                and (not query.get("job_stage_id") or str(c["stage_id"]) == query["job_stage_id"])
                and (
                    not query.get("job_stage_reference")
                    or stage.get("reference") == query["job_stage_reference"]
                )
                and (not query.get("origin") or c.get("origin") == query["origin"])
                and (not query.get("referrer") or c.get("referrer") == query["referrer"])
            )

        items = [self._render(c, request) for ref, c in org.candidates.items() if listed(ref, c)]
        return self._page(request, items)

    async def get_candidate(self, request: Request) -> Response:
        auth = self._authorize(request, "candidates_r")
        if isinstance(auth, Response):
            return auth
        org, _ = auth
        candidate = org.candidates.get(request.path_params["reference"])
        if candidate is None:
            return wk_error(404, "not_found", "Candidate not found")
        return json_response(self._render(candidate, request))

    async def list_documents(self, request: Request) -> Response:
        auth = self._authorize(request, "documents_r")
        if isinstance(auth, Response):
            return auth
        org, _ = auth
        reference = request.query_params.get("candidate_reference")
        if not reference:
            return wk_error(400, "validation_failed", "candidate_reference is missing")
        if reference not in org.candidates:
            return wk_error(404, "not_found", "Candidate not found")
        return self._page(request, org.documents.get(reference, []))

    # --- writes --------------------------------------------------------------------------------

    async def _fetch_file(self, url: str, limit: FileLimit) -> Fetched:
        """Download a ``remote_*_url`` as the vendor does: its own CDN files are copied."""
        prefix = f"{self.cdn_base}/uploads/"
        if url.startswith(prefix):
            content, media = self._cdn_file(url[len(prefix) :])
            name = url.rsplit("/", 1)[-1] or "file"
            if media not in limit.content_types:
                raise FileRefused(f"{limit.parameter} must be a {limit.describe_types()} file")
            return Fetched(content, media, name)
        return await download(url, limit, self.fetch or http_fetch)

    def _store_file(self, path: str, fetched: Fetched) -> str:
        self.files[path] = (fetched.content, fetched.content_type)
        return f"{self.cdn_base}/uploads/{path}"

    @staticmethod
    def _invalid(body: dict[str, Any], job: dict[str, Any] | None) -> list[str]:
        """What is wrong with a create or update body, one part per parameter."""
        problems = [
            f"{key} is invalid"
            for key in TEXT_PARAMETERS
            if body.get(key) is not None and not isinstance(body[key], str)
        ]
        if "archived" in body and not isinstance(body["archived"], bool):
            problems.append("archived is invalid")
        email_value = body.get("email")
        if isinstance(email_value, str) and email_value and not EMAIL.match(email_value.strip()):
            problems.append("email is invalid")
        if job is not None and "job_stage_id" in body and _stage(job, body["job_stage_id"]) is None:
            problems.append("job_stage_id is invalid")
        return problems

    async def _files(self, body: dict[str, Any]) -> tuple[dict[str, Fetched], list[str]]:
        """The resume and portfolio a body names, fetched; or what is wrong with them."""
        fetched: dict[str, Fetched] = {}
        problems: list[str] = []
        for limit in (RESUME, PORTFOLIO):
            url = body.get(limit.parameter)
            if isinstance(url, str) and url.strip():
                try:
                    fetched[limit.parameter] = await self._fetch_file(url.strip(), limit)
                except FileRefused as exc:
                    problems.append(str(exc))
        return fetched, problems

    def _apply(
        self,
        org: Organization,
        candidate: dict[str, Any],
        body: dict[str, Any],
        job: dict[str, Any],
        files: dict[str, Fetched],
    ) -> None:
        """Write a create or update body's parameters into the stored candidate."""
        reference = candidate["reference"]
        profile = candidate["profile"]
        for key in ("email", "firstname", "lastname", "subtitle", "phone"):
            if key in body:
                value = body[key]
                profile[key] = value.strip() if isinstance(value, str) and value.strip() else None
        if "tag_list" in body:
            tags: list[str] = []
            for tag in str(body.get("tag_list") or "").split(","):
                if tag.strip() and tag.strip().casefold() not in {t.casefold() for t in tags}:
                    tags.append(tag.strip())
            candidate["tags"] = tags
        if "job_stage_id" in body:
            stage = _stage(job, body["job_stage_id"])
            assert stage is not None
            candidate["stage_id"], candidate["stage"] = stage["id"], dict(stage)
        if "archived" in body:
            candidate["archived"] = body["archived"]
        if "cover_letter" in body:
            candidate["cover_letter"] = body.get("cover_letter") or ""
        if body.get("referrer"):
            candidate["referrer"] = body["referrer"]
        media = {key: str(body[key]) for key in MEDIA_PARAMETERS if body.get(key)}
        org.media.setdefault(reference, {}).update(media)
        folder = hashlib.sha256(reference.encode()).hexdigest()[:12]
        if "remote_resume_url" in files:
            resume = files["remote_resume_url"]
            candidate["resume_url"] = self._store_file(
                f"candidate/resume/{folder}-{self.written['candidates_updated']}/{resume.name}",
                resume,
            )
            candidate["resume_content_type"] = resume.content_type
            candidate["resume_size"] = len(resume.content)
        if "remote_portfolio_url" in files:
            portfolio = files["remote_portfolio_url"]
            candidate["portfolio_url"] = self._store_file(
                f"candidate/portfolio/{folder}-{self.written['candidates_updated']}/"
                f"{portfolio.name}",
                portfolio,
            )
            candidate["portfolio_size"] = len(portfolio.content)
        now = datetime.now(UTC).astimezone(PARIS)
        candidate["updated_at"] = iso(now)
        org.updated[reference] = now.date()

    async def create_candidate(self, request: Request) -> Response:
        found = await self._authorized_body(request, "candidates_rw|my_candidates_rw")
        if isinstance(found, Response):
            return found
        org, body = found
        required = (
            "organization_reference",
            "job_reference",
            "job_stage_id",
            "email",
            "firstname",
            "lastname",
        )
        missing = [k for k in required if body.get(k) is None or body.get(k) == ""]
        if missing:
            return wk_error(400, "validation_failed", f"{', '.join(missing)} is missing")
        if body["organization_reference"] != org.reference:
            return wk_error(401, "unauthorized", "You are not member of this organization")
        job = org.job(str(body["job_reference"]))
        if job is None:
            return wk_error(404, "not_found", "Job not found")
        problems = self._invalid(body, job)
        if not problems:
            files, problems = await self._files(body)
        if problems:
            return wk_error(400, "validation_failed", ", ".join(problems))
        org.api_created += 1
        self.written["candidates_created"] += 1
        n = 2_000_000 + org.api_created  # past any seeded or control-API number
        reference = "wttj-" + hashlib.sha256(f"{org.reference}:{n}".encode()).hexdigest()[:24]
        now = iso(datetime.now(UTC).astimezone(PARIS))
        candidate: dict[str, Any] = {
            "reference": reference,
            "cover_letter": "",
            "created_at": now,
            "job_reference": job["reference"],
            "modal_path": f"/dashboard/o/{org.reference}/jobs/{job['reference']}/card/{reference}",
            "portfolio_size": None,
            "portfolio_url": None,
            "resume_content_type": None,
            "resume_size": None,
            "resume_url": None,
            "stage_id": None,
            "stage": None,
            "updated_at": now,
            "profile": {
                "address": None,
                "avatar_url": DEFAULT_AVATAR,
                "city": None,
                "country_code": None,
                "country_name": None,
                "email": None,
                "firstname": None,
                "lastname": None,
                "phone": None,
                "subtitle": None,
                "zip_code": None,
            },
            "tags": [],
            "origin": "external",
            "archived": False,
        }
        self._apply(org, candidate, body, job, files)
        token = bearer_token(request, "access_token")
        org.candidates[reference] = candidate
        org.documents[reference] = []
        org.created_by[reference] = token or ""
        return json_response(self._render(candidate, request), status=201)

    async def update_candidate(self, request: Request) -> Response:
        found = await self._authorized_body(request, "candidates_rw|my_candidates_rw")
        if isinstance(found, Response):
            return found
        org, body = found
        reference = request.path_params["reference"]
        candidate = org.candidates.get(reference)
        if candidate is None:
            return wk_error(404, "not_found", "Candidate not found")
        token = bearer_token(request, "access_token") or ""
        if "candidates_rw" not in self.keys[token][1] and org.created_by.get(reference) != token:
            # `my_candidates_rw` reaches only the candidates this key created
            return wk_error(404, "not_found", "Candidate not found")
        blank = [k for k in ("email", "firstname", "lastname") if k in body and not body[k]]
        if blank:
            return wk_error(400, "validation_failed", f"{', '.join(blank)} is missing")
        job = org.job(candidate["job_reference"])
        assert job is not None
        problems = self._invalid(body, job)
        if not problems:
            files, problems = await self._files(body)
        if problems:
            return wk_error(400, "validation_failed", ", ".join(problems))
        self.written["candidates_updated"] += 1
        self._apply(org, candidate, body, job, files)
        return json_response(self._render(candidate, request))

    async def attach_documents(self, request: Request) -> Response:
        found = await self._authorized_body(
            request, "documents_rw", "candidates_rw|my_candidates_rw"
        )
        if isinstance(found, Response):
            return found
        org, body = found
        reference = body.get("candidate_reference")
        files = body.get("remote_file_urls")
        missing = [
            name
            for name, value in (("candidate_reference", reference), ("remote_file_urls", files))
            if not value
        ]
        if missing:
            return wk_error(400, "validation_failed", f"{', '.join(missing)} is missing")
        if not isinstance(reference, str) or reference not in org.candidates:
            return wk_error(404, "not_found", "Candidate not found")
        if not isinstance(files, list) or not all(
            isinstance(item, dict)
            and isinstance(item.get("url"), str)
            and isinstance(item.get("filename"), str)
            and item["url"].strip()
            and item["filename"].strip()
            for item in files
        ):
            return wk_error(
                400,
                "validation_failed",
                "remote_file_urls is invalid (each needs a filename and a url)",
            )
        fetched: list[tuple[str, Fetched]] = []
        for item in files:
            try:
                fetched.append(
                    (
                        item["filename"].strip(),
                        await self._fetch_file(item["url"].strip(), DOCUMENT),
                    )
                )
            except FileRefused as exc:
                return wk_error(400, "validation_failed", str(exc))
        candidate = org.candidates[reference]
        job = {"reference": candidate["job_reference"]}
        now = datetime.now(UTC).astimezone(PARIS)
        created = []
        for filename, file in fetched:
            document = self._document(
                org, reference, job, filename, "", file.content_type, len(file.content), now
            )
            document["file_url"] = self._store_file(f"documents/{document['id']}/{file.name}", file)
            org.documents.setdefault(reference, []).append(document)
            created.append(document)
        self.written["documents_created"] += len(created)
        candidate["updated_at"] = iso(now)  # [INF] a new document touches its candidate
        org.updated[reference] = now.date()
        return json_response(created, status=201)

    def _cdn_file(self, path: str) -> tuple[bytes, str]:
        if path in self.files:
            return self.files[path]
        digest = hashlib.sha256(path.encode()).hexdigest()
        body = (
            b"%PDF-1.4\n" if path.endswith(".pdf") else b""
        ) + f"WK file {path}\n{digest * 30}".encode()
        return body, "application/pdf" if path.endswith(".pdf") else "application/octet-stream"

    async def cdn(self, request: Request) -> Response:
        content, media = self._cdn_file(request.path_params["path"])
        return Response(content, media_type=media)


def _stage(job: dict[str, Any], value: Any) -> dict[str, Any] | None:
    """The job's stage ``value`` names (an integer, or its digits as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return next((s for s in job["stages"] if s["id"] == value), None)
