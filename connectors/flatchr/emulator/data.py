"""Deterministic Flatchr data: companies, vacancies, columns and applicants from a seed.

Everything a vendor does oddly is here on purpose: accents, lower-case names, empty strings,
phones in several forms, mixed-case e-mails, ``DD/MM/YY`` and epoch dates, int and encoded ids,
one person applying to two vacancies, applicants with and without a CV.
"""

import hashlib
import random
import string
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
VACANCIES = [
    (2403, "Ingénieur Développement  H/F "),
    (2404, "Administrateur réseaux - Paris - CDI "),
    (2405, "Chargé(e) de recrutement"),
    (2406, "Développeur·se Python senior"),
    (2407, "Chirurgien"),
]
COLUMNS = [
    (1313, "Nouveaux candidats", False),
    (1316, "Entretien RH", False),
    (1317, "Entretien technique", False),
    (1314, "Recruté", True),
]
SOURCES = ["L'Apec", "Site carrière", "Indeed", "LinkedIn", "Welcome to the Jungle", ""]
EPOCH = datetime(2021, 1, 1, tzinfo=UTC)
ALPHABET = string.ascii_letters + string.digits


def encoded_id(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(16))


def ascii_slug(value: str) -> str:
    table = str.maketrans("éèêëàâäîïôöùûüçÉÈÊËÀÂÄÎÏÔÖÙÛÜÇ", "eeeeaaaiioouuucEEEEAAAIIOOUUUC")
    cleaned = value.translate(table).lower()
    return "".join(ch if ch.isalnum() else "-" for ch in cleaned).strip("-")


@dataclass
class Applicant:
    applicant_id: str
    candidate_id: int
    firstname: str
    lastname: str
    email: str | None
    phone: str | None
    vacancy: int
    column: int
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

    @property
    def vacancy_title(self) -> str:
        return VACANCIES[self.vacancy][1]

    @property
    def column_title(self) -> str:
        return COLUMNS[self.column][1]

    def search_row(self, *, include_cv: bool) -> dict[str, Any]:
        """One row as ``POST /search/applicants`` returns it."""
        row: dict[str, Any] = {
            "applicant": self.applicant_id,
            "vacancy": self.vacancy_title,
            "column": self.column_title,
            "vacancy_id": VACANCIES[self.vacancy][0],
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
    last_cv_request: float | None = None
    cv_in_flight: int = 0

    def vacancies(self) -> list[dict[str, Any]]:
        return [
            {
                "id": f"V{vacancy_id:015d}",
                "vacancy_id": vacancy_id,
                "slug": f"{vacancy_id}-{ascii_slug(title)}",
                "title": title,
                "status": 1,
                "company": {
                    "id": self.company_id,
                    "name": self.name,
                    "slug": ascii_slug(self.name),
                },
            }
            for vacancy_id, title in VACANCIES
        ]

    def columns(self) -> list[dict[str, Any]]:
        return [
            {
                "id": cid,
                "title": title,
                "company_id": self.company_id,
                "position": i,
                "hired": hired,
            }
            for i, (cid, title, hired) in enumerate(COLUMNS, start=1)
        ]

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
    for n in range(size):
        applicant = new_applicant(rng, n, previous)
        company.applicants[applicant.applicant_id] = applicant
        previous = applicant


def new_applicant(
    rng: random.Random,
    n: int,
    previous: Applicant | None = None,
    *,
    at: datetime | None = None,
    with_cv: bool = False,
) -> Applicant:
    """Applicant number ``n``; ``previous`` may be applying again. ``at`` (created and updated
    then) and ``with_cv`` override what was drawn, after drawing, so a seed gives the same data
    whether or not they are used."""
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
        vacancy=rng.randrange(len(VACANCIES)),
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
