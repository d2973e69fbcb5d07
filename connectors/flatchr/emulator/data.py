"""Deterministic Flatchr data: companies, vacancies, columns and applicants from a seed.

Everything a vendor does oddly is here on purpose: accents, lower-case names, empty strings,
phones in several forms, mixed-case e-mails, ``DD/MM/YY``, epoch and ISO 8601 dates, int and
encoded ids, one person applying to two vacancies, applicants with and without a CV, a columns
listing that is not in pipeline order.
"""

import hashlib
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIRST_NAMES = [
    "Élodie", "Jérôme", "Chloé", "Loïc", "Amélie", "François", "Hélène", "Noël", "Zoé", "Maëlle",
    "Gaëtan", "Inès", "Benoît", "Léa", "Théo", "Camille", "Anaïs", "Céline", "Rémi", "juliette",
    "alexandre", "Jean-Baptiste", "Marie-Ève", "Ségolène", "Björn",
]  # fmt: skip
LAST_NAMES = [
    "Lefèvre", "Müller", "Dubois", "Girard", "Leroy", "Bézier", "Roussel", "Gauthier", "Faure",
    "Mercier", "Lemaître", "Du Pont", "N'Diaye", "Perrin", "Morel", "Chevalier", "larfoillou",
    "andrieux", "de La Tour d'Auvergne", "Ménard",
]  # fmt: skip
# (vacancy_id, title, reference, status, contract type, has an apply_url). Titles keep the
# documented trailing and double spaces. [INF] Flatchr documents `status` as an integer without
# its values; its examples of active listings all carry 1, so 2406 takes another value (0).
VACANCIES = [
    (2403, "Ingénieur Développement  H/F ", "ING-DEV-2021", 1, "CDI", True),
    (
        2404,
        "Administrateur réseaux - Paris - CDI ",
        "Administrateur réseaux - Paris - CDI ",
        1,
        "CDI",
        False,
    ),
    (2405, "Chargé(e) de recrutement", "RH-REC-03", 1, "CDD", False),
    (2406, "Développeur·se Python senior", "", 0, "CDI", False),
    (2407, "Chirurgien", "chirurgien-2022", 1, "CDI", False),
]
VACANCY_NUMBERS = [number for number, *_ in VACANCIES]
SEEDED_TITLES = {number: title for number, title, *_ in VACANCIES}
NEW_VACANCY_TITLES = [
    "Infirmier(ère) de bloc opératoire",
    "Comptable fournisseurs H/F",
    "Technicien·ne de maintenance",
    "Assistant(e) de direction",
    "Data engineer  (H/F)",
]
# (id, title, hired): applicants are drawn over this list (its order is the seed's).
COLUMNS = [
    (1313, "Nouveaux candidats", False),
    (1316, "Entretien RH", False),
    (1317, "Entretien technique", False),
    (1314, "Recruté", True),
]
# [INF] Kanban positions need not be contiguous (the inferred columns fixture has Recruté at 6).
COLUMN_POSITIONS = {1313: 1, 1316: 2, 1317: 3, 1314: 6}
COLUMN_CREATED = "2019-12-12T12:34:15.174Z"  # as in the inferred columns fixture
COLUMN_UPDATED = "2021-11-05T09:12:15.563Z"
SOURCES = ["L'Apec", "Site carrière", "Indeed", "LinkedIn", "Welcome to the Jungle", ""]
EPOCH = datetime(2021, 1, 1, tzinfo=UTC)
ALPHABET = string.ascii_letters + string.digits


def encoded_id(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(16))


def ascii_slug(value: str) -> str:
    table = str.maketrans("éèêëàâäîïôöùûüçÉÈÊËÀÂÄÎÏÔÖÙÛÜÇ", "eeeeaaaiioouuucEEEEAAAIIOOUUUC")
    cleaned = value.translate(table).lower()
    return "".join(ch if ch.isalnum() else "-" for ch in cleaned).strip("-")


def iso_ms(moment: datetime) -> str:
    """Flatchr's ISO 8601 form: milliseconds and ``Z`` (``2022-02-01T15:42:02.261Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encoded_candidate_id(number: int) -> str:
    """The person's id as applicant objects give it: encoded ([DOC] F3; webhooks give the
    integer)."""
    return f"P{number:015d}"


def encoded_vacancy_id(number: int) -> str:
    """The emulator's encoded vacancy id (real ones are random 16-character strings)."""
    return f"V{number:015d}"


@dataclass
class Vacancy:
    """A vacancy (job) of one company, as ``GET /company/{id}/vacancies`` lists it."""

    number: int
    """The integer ``vacancy_id`` (search rows and webhooks' ``vacancy.id`` give this one)."""
    title: str
    reference: str
    status: int
    contract_type: str
    created: datetime
    updated: datetime
    slug: str
    external_apply: bool = False

    @property
    def encoded_id(self) -> str:
        return encoded_vacancy_id(self.number)

    def listing(self, company: "Company") -> dict[str, Any]:
        """The vacancy object of the listing and of ``GET /vacancy/{id}``.

        Fields and types from the documented vacancy schema and examples (FlatchrDocs
        ``docs/Schemas/vacancy.md``, the archive response's ``vacancy``, the careers feed);
        values invented. ``company_id`` is the company's integer id there [INF: 99 here].
        """
        company_slug = ascii_slug(company.name)
        return {
            "id": self.encoded_id,
            "vacancy_id": self.number,
            "slug": self.slug,
            "reference": self.reference,
            "title": self.title,
            "description": f"<p>{company.name} recrute pour ses équipes.</p>",
            "experience": 2,
            "mission": f"<p>Vos missions en tant que {self.title.strip()} :</p><ul><li><p>"
            "Participer aux projets de l'équipe</p></li></ul>",
            "profile": "<ul><li><p>Première expérience appréciée</p></li></ul>",
            "salary": "0",
            "status": self.status,
            "language": "fr_FR",
            "contract_type_id": 1 if self.contract_type == "CDI" else 2,
            "education_level_id": 6,
            "activity_id": 25,
            "channel_id": 2,
            "metier_id": 49,
            "company_id": 99,
            "mensuality": "y",
            "apply_url": f"https://carrieres.{company_slug}.example/offres/{self.slug}"
            if self.external_apply
            else None,
            "currency": "EUR",
            "created_at": iso_ms(self.created),
            "updated_at": iso_ms(self.updated),
            "start_date": None,
            "end_date": None,
            "driver_license": False,
            "remote": False,
            "handicap": False,
            "partial": False,
            "kanban": True,
            "meta_title": None,
            "meta_description": None,
            "meta_tags": None,
            "contract_type": self.contract_type,
            "company": {"id": company.company_id, "name": company.name, "slug": company_slug},
            "slug_mail": hashlib.sha256(self.slug.encode()).hexdigest()[:6],
        }

    def webhook_object(self, company_id: str) -> dict[str, Any]:
        """``data.vacancy`` of a webhook: the integer id, and no company object (documented
        webhook example)."""
        return {
            "id": self.number,
            "company_id": company_id,
            "title": self.title,
            "reference": self.reference,
            "slug": self.slug,
            "status": self.status,
            "language": "fr_FR",
            "created_at": iso_ms(self.created),
            "updated_at": iso_ms(self.updated),
        }


def new_vacancy(
    number: int,
    title: str,
    *,
    reference: str = "",
    status: int = 1,
    contract_type: str = "CDI",
    at: datetime,
    updated: datetime | None = None,
    external_apply: bool = False,
) -> Vacancy:
    return Vacancy(
        number=number,
        title=title,
        reference=reference,
        status=status,
        contract_type=contract_type,
        created=at,
        updated=updated or at,
        # As in the documented examples: the encoded id, lower-cased, then the title's slug.
        slug=f"{encoded_vacancy_id(number).lower()}-{ascii_slug(title)}",
        external_apply=external_apply,
    )


def seed_vacancies() -> dict[int, Vacancy]:
    """The five seeded vacancies, created months apart in 2021 (ISO dates with milliseconds)."""
    vacancies: dict[int, Vacancy] = {}
    for n, (number, title, reference, status, contract, external) in enumerate(VACANCIES):
        created = datetime(2021, 2, 1, 9, 30, 12, 261000, tzinfo=UTC) + timedelta(
            days=41 * n, seconds=3607 * n
        )
        vacancies[number] = new_vacancy(
            number,
            title,
            reference=reference,
            status=status,
            contract_type=contract,
            at=created,
            updated=created + timedelta(days=3 + n, seconds=514 * n),
            external_apply=external,
        )
    return vacancies


def column_object(column_id: int, title: str, hired: bool, company_id: str) -> dict[str, Any]:
    """A column as ``GET /company/{id}/columns`` and webhooks give it (schema ``column``)."""
    return {
        "id": column_id,
        "title": title,
        "company_id": company_id,
        "position": COLUMN_POSITIONS[column_id],
        "created_at": COLUMN_CREATED,
        "updated_at": COLUMN_UPDATED,
        "visible": True,
        "hired": hired,
    }


@dataclass
class Applicant:
    applicant_id: str
    candidate_id: int
    firstname: str
    lastname: str
    email: str | None
    phone: str | None
    vacancy: int
    """The integer ``vacancy_id`` of the vacancy applied to (a key of ``Company.vacancies``)."""
    column: int
    """An index into ``COLUMNS``."""
    status: int
    score: int
    external_id: str
    source: str
    created: datetime
    updated: datetime
    urls: dict[str, str]
    cv_key: str | None
    cv_extension: str | None
    updated_as_epoch: bool = False
    comment: str = ""
    """The cover letter (``comment`` of the create route and of applicant objects)."""

    @property
    def column_title(self) -> str:
        return COLUMNS[self.column][1]

    def search_row(self, *, include_cv: bool, vacancy: Vacancy | None = None) -> dict[str, Any]:
        """One row as ``POST /search/applicants`` returns it; ``vacancy`` is the one applied to
        (its current title shows in the row; without it, the seeded title)."""
        row: dict[str, Any] = {
            "applicant": self.applicant_id,
            "vacancy": vacancy.title if vacancy else SEEDED_TITLES.get(self.vacancy),
            "column": self.column_title,
            "vacancy_id": self.vacancy,
            "external_id": self.external_id,
            "status": self.status,
            "score": self.score,
            "hired": COLUMNS[self.column][2],
            "firstname": self.firstname,
            "lastname": self.lastname,
            "email": self.email,
            "phone": self.phone,
            "created_at": self.created.strftime("%d/%m/%y"),
            "updated_at": int(self.updated.timestamp())
            if self.updated_as_epoch
            else self.updated.strftime("%d/%m/%y"),
            "source": self.source,
        }
        # [INF] The current docs' row table is cut after updated_at; the CV doc says the CV key
        # comes "via candidate retrieval", so the emulator appends the applicant's candidate.
        person: dict[str, Any] = {
            "id": self.candidate_id,
            "urls": dict(self.urls),
            "created_at": self.created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if include_cv and self.cv_key and self.cv_extension:
            person["aws"] = {"key": self.cv_key, "extension": self.cv_extension}
        row["candidate"] = person
        return row


@dataclass
class Company:
    company_id: str
    name: str
    api_key: str
    applicants: dict[str, Applicant] = field(default_factory=dict)
    vacancies: dict[int, Vacancy] = field(default_factory=seed_vacancies)
    """By integer ``vacancy_id``."""
    next_vacancy_number: int = max(VACANCY_NUMBERS) + 1
    """Vacancy numbers come from a sequence: a deleted one is never given again."""
    last_cv_request: float | None = None
    cv_in_flight: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    """CV key -> the bytes written through the create route (generated CVs have none)."""
    written: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "moved": 0, "archived": 0}
    )
    """How many applicants the write routes created, moved and archived."""

    def vacancy_listing(self, status: str | None = None) -> list[dict[str, Any]]:
        """``GET /company/{id}/vacancies`` (optionally filtered by ``status``), oldest first."""
        return [
            v.listing(self)
            for v in sorted(self.vacancies.values(), key=lambda v: v.number)
            if status is None or str(v.status) == status.strip()
        ]

    def vacancy_by_encoded_id(self, encoded: str) -> Vacancy | None:
        return next((v for v in self.vacancies.values() if v.encoded_id == encoded), None)

    def columns(self) -> list[dict[str, Any]]:
        """``GET /company/{id}/columns``: [INF] in id order, which is not the pipeline order
        (clients order by ``position``)."""
        return [
            column_object(column_id, title, hired, self.company_id)
            for column_id, title, hired in sorted(COLUMNS)
        ]

    def search_row(self, applicant: Applicant, *, include_cv: bool) -> dict[str, Any]:
        return applicant.search_row(
            include_cv=include_cv, vacancy=self.vacancies.get(applicant.vacancy)
        )

    def vacancy_by_slug(self, slug: str) -> Vacancy | None:
        return next((v for v in self.vacancies.values() if v.slug == slug), None)

    def applicant_object(self, applicant: Applicant, *, archived_shape: bool) -> dict[str, Any]:
        """An applicant as ``PUT``/``DELETE .../vacancy/{vid}/applicant/{aid}`` answer it
        ([DOC] F3, F4): epoch dates, the encoded vacancy id, the column id, the nested
        candidate (with its CV URL and ``aws {key, extension, signature}``: F3). The move
        answers empty ``column``/``vacancy`` objects and ``applies``; the archive the vacancy
        object and ``datas``, as the documented examples."""
        a = applicant
        created = iso_ms(a.created)
        person: dict[str, Any] = {
            "id": encoded_candidate_id(a.candidate_id),
            "email": a.email,
            "firstname": a.firstname,
            "lastname": a.lastname,
            "urls": dict(a.urls),
            "created_at": created,
            "phone": a.phone,
            "consent": True,
        }
        if a.cv_key and a.cv_extension:
            expires = datetime.now(UTC)
            signature = hashlib.sha256(f"{a.cv_key}{expires:%Y%m%d}".encode()).hexdigest()
            person["cv"] = f"http://flatchr.s3.eu-west-1.amazonaws.com/{a.cv_key}.{a.cv_extension}"
            person["aws"] = {
                "key": a.cv_key,
                "extension": a.cv_extension,
                "signature": f"s3.eu-west-1.amazonaws.com/flatchr/{a.cv_key}.{a.cv_extension}"
                f"?X-Amz-Expires=86400&X-Amz-Date={expires:%Y%m%dT%H%M%SZ}"
                f"&X-Amz-Signature={signature}",
            }
        body: dict[str, Any] = {
            "id": a.applicant_id,
            "vacancy_id": encoded_vacancy_id(a.vacancy),
            "column_id": COLUMNS[a.column][0],
            "score": a.score,
            "comment": a.comment,
            "created_at": int(a.created.timestamp()),
            "updated_at": int(a.updated.timestamp()),
            "status": a.status,
            "view": True,
            "anonym": False,
            "external_id": a.external_id or None,
            "candidate": person,
        }
        vacancy = self.vacancies.get(a.vacancy)
        if archived_shape:
            body["vacancy"] = vacancy.listing(self) if vacancy else {}
            body |= {"foreigner": False, "datas": []}
        else:
            body |= {
                "column": {},
                "vacancy": {},
                "foreigner": False,
                "applies": [
                    {
                        "id": encoded_id(random.Random(f"apply:{a.applicant_id}")),
                        "created_at": created,
                        "vacancy_id": encoded_vacancy_id(a.vacancy),
                        "offerer_id": None,
                        "import": False,
                    }
                ],
            }
        return body

    def cv_files(self) -> dict[str, str]:
        """``key -> extension`` of every CV this company holds."""
        return {
            a.cv_key: a.cv_extension
            for a in self.applicants.values()
            if a.cv_key and a.cv_extension
        }


def phone_variant(rng: random.Random) -> str | None:
    digits = "".join(rng.choice(string.digits) for _ in range(8))
    form = rng.randrange(6)
    if form == 0:
        return None
    if form == 1:
        return ""
    if form == 2:
        return f"+33 6 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    if form == 3:
        return f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    if form == 4:
        return f"+336{digits}"
    return "n/c"  # not a number: must be kept as given


def email_variant(rng: random.Random, first: str, last: str, n: int) -> str | None:
    local = f"{ascii_slug(first)}.{ascii_slug(last)}{n}"
    form = rng.randrange(8)
    if form == 0:
        return None
    if form == 1:
        return f"  {local.upper()}@Example.COM "
    return f"{local}@example.com"


def generate_applicants(company: Company, *, size: int, seed: int) -> None:
    rng = random.Random(seed)
    previous: Applicant | None = None
    vacancies = sorted(company.vacancies)
    for n in range(size):
        applicant = new_applicant(rng, n, previous, vacancies=vacancies)
        company.applicants[applicant.applicant_id] = applicant
        previous = applicant


def new_applicant(
    rng: random.Random,
    n: int,
    previous: Applicant | None = None,
    *,
    at: datetime | None = None,
    with_cv: bool = False,
    vacancies: Sequence[int] = VACANCY_NUMBERS,
) -> Applicant:
    """Applicant number ``n``, applying to one of ``vacancies`` (integer ids); ``previous`` may
    be applying again. ``at`` (created and updated then) and ``with_cv`` override what was
    drawn, after drawing, so a seed gives the same data whether or not they are used."""
    if not vacancies:
        raise ValueError("no vacancy to apply to")
    created = EPOCH + timedelta(days=rng.randrange(0, 1400), seconds=rng.randrange(86400))
    updated = created + timedelta(days=rng.randrange(0, 60), seconds=rng.randrange(86400))
    if previous is not None and rng.random() < 0.05:
        # The same person applying to another vacancy: a second applicant, same candidate.
        first, last = previous.firstname, previous.lastname
        candidate_id, mail, phone = previous.candidate_id, previous.email, previous.phone
        urls = dict(previous.urls)
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        candidate_id = 1000 + n
        mail, phone = email_variant(rng, first, last, n), phone_variant(rng)
        urls = {}
        if rng.random() < 0.5:
            urls["linkedin"] = f"https://www.linkedin.com/in/{ascii_slug(first)}-{n}"
        if rng.random() < 0.2:
            urls["twitter"] = ""
        if rng.random() < 0.2:
            urls["other"] = f"https://{ascii_slug(last)}.example.fr"
    if at is not None:
        created = updated = at
    has_cv = rng.random() < 0.8 or with_cv
    cv_key = (
        f"candidates/{created:%Y/%m}/{uuid_like(rng)}/{ascii_slug(first)}-{ascii_slug(last)}"
        if has_cv
        else None
    )
    return Applicant(
        applicant_id=encoded_id(rng),
        candidate_id=candidate_id,
        firstname=first,
        lastname=last,
        email=mail,
        phone=phone,
        vacancy=vacancies[rng.randrange(len(vacancies))],
        column=rng.randrange(len(COLUMNS)),
        status=0 if rng.random() < 0.1 else 1,
        score=rng.randrange(6),
        external_id=rng.choice(["", "", f"EXT-{n}"]),
        source=rng.choice(SOURCES),
        created=created,
        updated=updated,
        urls=urls,
        cv_key=cv_key,
        cv_extension=rng.choice(["pdf", "pdf", "pdf", "docx", "doc"]) if has_cv else None,
        updated_as_epoch=rng.random() < 0.1,
    )


def uuid_like(rng: random.Random) -> str:
    hexdigits = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return (
        f"{hexdigits[:8]}-{hexdigits[8:12]}-{hexdigits[12:16]}-{hexdigits[16:20]}-{hexdigits[20:]}"
    )


def cv_bytes(key: str, extension: str) -> bytes:
    """A small deterministic file for a CV key (a real PDF header for pdf)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    body = (f"CV {key}\n" + digest * 40).encode()
    if extension == "pdf":
        return b"%PDF-1.4\n" + body + b"\n%%EOF\n"
    return body


def filter_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%m/%d/%y").date()
    except ValueError:
        return None
