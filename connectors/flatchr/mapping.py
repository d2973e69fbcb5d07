"""Flatchr JSON -> unified models. Pure functions: no I/O, no clock (time comes in the context).

One applicant row (one application of a person to one vacancy) becomes one Candidate whose
``remote_id`` is the applicant id, and one Application with the same remote id. Its CV, when
Flatchr says where it is, becomes a RESUME. A vacancy becomes a Job (remote id: the encoded
vacancy id) whose stages are the company-wide kanban columns (remote id
``<encoded vacancy id>:<column id>``).

Search rows name their vacancy by its integer ``vacancy_id`` and their column by its title: the
:class:`FlatchrCatalog` in the mapping context (what the vacancies and columns listings said)
turns them into the encoded vacancy id and the column id.
"""

import base64
import functools
import hashlib
import importlib
import inspect
import math
import posixpath
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from connectors.flatchr.dates import parse_flatchr_date
from connectors.sdk.base import (
    CandidateRecord,
    JobRecord,
    MappingContext,
    stage_remote_id,
    usable_remote_id,
    validated,
)
from connectors.sdk.files import bare_content_type, content_type_for_extension
from connectors.sdk.normalize import drop_none, email, phone, text, unique
from connectors.sdk.writes import CandidateDraft, FileUpload, UrlDraft
from schemas import (
    Application,
    Attachment,
    AttachmentType,
    Candidate,
    Job,
    JobInterviewStage,
    JobStatus,
    Url,
    UrlType,
)

WEBHOOK_EVENTS = frozenset({"new_applicant", "drag_applicant"})
CATALOG_KEY = "flatchr_catalog"
"""Where the :class:`FlatchrCatalog` sits in ``MappingContext.extra``."""
JOB_STATUSES: Mapping[str, str] = {"1": JobStatus.OPEN}
"""Flatchr vacancy ``status`` (an undocumented integer) -> unified status. Only 1 is clear: every
documented active listing carries it. Any other value passes through as its text."""
ROW_APPLICATION_KEYS = (
    "applicant",
    "vacancy",
    "vacancy_id",
    "column",
    "status",
    "hired",
    "score",
    "source",
    "created_at",
    "updated_at",
)
"""The keys of a search row an Application is mapped from (its raw_data)."""
WEBHOOK_APPLICANT_KEYS = (
    "id",
    "vacancy_id",
    "column_id",
    "column",
    "status",
    "score",
    "reason_id",
    "created_at",
    "updated_at",
)
WEBHOOK_APPLICATION_KEYS = ("vacancy", "vacancy_id", "column", "column_id")
# Presigned S3 URLs are bearer credentials for 24 h: keep the key, hide the value.
REDACTED_KEYS = frozenset({"signature"})
REDACTED_VALUE = "[redacted]"

URL_TYPES: Mapping[str, str] = {
    "linkedin": UrlType.LINKEDIN,
    "facebook": UrlType.SOCIAL_MEDIA,
    "twitter": UrlType.SOCIAL_MEDIA,
    "instagram": UrlType.SOCIAL_MEDIA,
    "github": UrlType.PORTFOLIO,
    "website": UrlType.PERSONAL,
    "blog": UrlType.BLOG,
    "other": UrlType.OTHER,
}


class MappingError(ValueError):
    """A payload that cannot become a unified model. The message never holds payload values."""


@dataclass(frozen=True)
class Column:
    """A kanban column as a stage of every vacancy: its id (as text), title and rank."""

    key: str
    title: str | None
    order: int | None
    """Rank by ``position`` from 1; None for a column without a usable position."""
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class FlatchrCatalog:
    """What the company's vacancies and columns listings say, for the mappings: search rows
    give a vacancy's integer id and a column's title, while jobs and stages are keyed by the
    encoded vacancy id and the column id."""

    vacancies: tuple[Any, ...] = ()
    """The vacancies listing as Flatchr gave it."""
    columns: tuple[Column, ...] = ()
    """The columns, in pipeline order."""
    vacancy_ids: Mapping[int, str] = field(default_factory=dict)
    """Integer ``vacancy_id`` -> encoded ``id``."""
    column_keys: Mapping[str, str] = field(default_factory=dict)
    """Column title -> column id (the first column in pipeline order with that title)."""
    company_name: str | None = None
    by_encoded_id: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Encoded vacancy id -> the vacancy object of the listing."""

    def vacancy(self, encoded_id: str | None) -> Mapping[str, Any] | None:
        return self.by_encoded_id.get(encoded_id) if encoded_id is not None else None

    def column(self, key: str | None) -> Column | None:
        return next((c for c in self.columns if c.key == key), None) if key else None


EMPTY_CATALOG = FlatchrCatalog()


def column_key(value: Any) -> str | None:
    """A column id as a stage key (``1313`` and ``"1313"`` alike); None when unusable."""
    key = usable_remote_id(value)
    return key.strip() if key is not None and key.strip() else None


def _position(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return _int_text(value) if isinstance(value, str) else None


def pipeline(columns: Any) -> tuple[Column, ...]:
    """The columns listing in pipeline order (by ``position``, then as listed), ranked 1.. .
    Entries without a usable id are skipped, a repeated id keeps its first entry, and columns
    without a position come last, unranked."""
    if not isinstance(columns, list):
        return ()
    seen: set[str] = set()
    usable: list[tuple[tuple[int, int, int], str, Mapping[str, Any]]] = []
    for index, column in enumerate(columns):
        if not isinstance(column, dict):
            continue
        key = column_key(column.get("id"))
        if key is None or key in seen:
            continue
        seen.add(key)
        position = _position(column.get("position"))
        rank = (0, position, index) if position is not None else (1, 0, index)
        usable.append((rank, key, column))
    usable.sort(key=lambda item: item[0])
    ordered: list[Column] = []
    for n, (rank, key, column) in enumerate(usable, start=1):
        ordered.append(
            Column(
                key=key,
                title=_plain_text(column.get("title")),
                order=n if rank[0] == 0 else None,
                raw=redact_raw(column),
            )
        )
    return tuple(ordered)


def build_catalog(vacancies: Any, columns: Any) -> FlatchrCatalog:
    """A catalog from the bodies of ``GET /company/{id}/vacancies`` and ``.../columns``."""
    listed = tuple(vacancies) if isinstance(vacancies, list) else ()
    vacancy_ids: dict[int, str] = {}
    by_encoded_id: dict[str, Mapping[str, Any]] = {}
    company_name: str | None = None
    for vacancy in listed:
        if not isinstance(vacancy, dict):
            continue
        number = _vacancy_number(vacancy.get("vacancy_id"))
        encoded = vacancy_remote_id(vacancy.get("id"))
        if encoded is not None:
            by_encoded_id.setdefault(encoded, vacancy)
        if number is not None and encoded is not None:
            vacancy_ids.setdefault(number, encoded)
        company = vacancy.get("company")
        if company_name is None and isinstance(company, dict):
            company_name = text(company.get("name"))
    ordered = pipeline(columns)
    column_keys: dict[str, str] = {}
    for column in ordered:
        if column.title is not None:
            column_keys.setdefault(column.title, column.key)
    return FlatchrCatalog(
        vacancies=listed,
        columns=ordered,
        vacancy_ids=vacancy_ids,
        column_keys=column_keys,
        company_name=company_name,
        by_encoded_id=by_encoded_id,
    )


def catalog_of(ctx: MappingContext) -> FlatchrCatalog:
    found = ctx.extra.get(CATALOG_KEY)
    return found if isinstance(found, FlatchrCatalog) else EMPTY_CATALOG


def vacancy_remote_id(value: Any) -> str | None:
    """The encoded vacancy id as a job's remote id (trimmed); None when unusable."""
    remote_id = usable_remote_id(value)
    return remote_id.strip() if remote_id is not None and remote_id.strip() else None


def _plain_text(value: Any) -> str | None:
    """Text from a string or number; None for anything else (an object is not a name)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return text(value)


@dataclass(frozen=True)
class CvLocation:
    """What the ``files/expire`` route needs, plus what Flatchr said about the file."""

    key: str
    extension: str
    raw: Mapping[str, Any]
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def remote_id(self) -> str:
        return f"{self.key}.{self.extension}"

    @property
    def file_name(self) -> str:
        return f"{posixpath.basename(self.key)}.{self.extension}"


def split_cv_remote_id(remote_id: str) -> tuple[str, str]:
    """``candidates/.../ivern-elsa.pdf`` -> (key, extension)."""
    key, dot, extension = remote_id.rpartition(".")
    if not dot or not key or not extension or "/" in extension:
        raise MappingError("a Flatchr CV id is '<key>.<extension>'")
    return key, extension


def redact_raw(value: Any) -> Any:
    """The payload with every presigned-URL signature value hidden; every key kept.

    Exact ``type() is`` checks: payloads come from JSON (plain dicts and lists), and this runs on
    every row of every sync, where ABC ``isinstance`` checks cost more than the copy itself.
    The input is returned as is when nothing in it needs hiding (pydantic copies it anyway).
    """
    kind = type(value)
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            if key in REDACTED_KEYS and item:
                new: Any = REDACTED_VALUE
            else:
                item_kind = type(item)
                if item_kind is not dict and item_kind is not list:
                    continue
                new = redact_raw(item)
                if new is item:
                    continue
            if changed is None:
                changed = dict(value)
            changed[key] = new
        return value if changed is None else changed
    if kind is list:
        items = [redact_raw(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def map_urls(urls: Any) -> list[dict[str, str]]:
    """``{facebook, linkedin, twitter, other}`` -> typed urls; empty strings skipped.

    Plain dicts: the candidate mapping makes each a Url.
    """
    if not isinstance(urls, dict):
        return []
    mapped: list[dict[str, str]] = []
    for network, value in urls.items():
        cleaned = text(value)
        if cleaned:
            kind = URL_TYPES.get(str(network).lower(), UrlType.OTHER)
            mapped.append({"type": kind, "value": cleaned})
    return mapped


def cv_location(cv: Any = None, aws: Any = None) -> CvLocation | None:
    """From the webhook ``cv`` object, or the applicant's ``candidate.aws {key, extension}``."""
    for source in (cv, aws):
        if isinstance(source, dict):
            key, extension = text(source.get("key")), text(source.get("extension"))
            if key and extension:
                return CvLocation(
                    key=key,
                    extension=extension.lstrip("."),
                    raw=redact_raw(source),
                    created_at=parse_flatchr_date(source.get("created_at")),
                    updated_at=parse_flatchr_date(source.get("updated_at")),
                )
    return None


def map_cv(
    location: CvLocation,
    candidate: Candidate,
    ctx: MappingContext,
    attachment_id: uuid.UUID | None = None,
) -> Attachment:
    return validated(
        Attachment,
        id=attachment_id or ctx.ids.attachment_id(location.remote_id),
        remote_id=location.remote_id,
        modified_at=ctx.observed_at,
        raw_data=location.raw,
        # Search rows say only where the CV is; its id and dates (webhooks only) stay in
        # raw_data, so the attachment has one content whatever shape told us of it.
        custom_fields={},
        file_name=location.file_name,
        file_url=None,  # Flatchr's URL needs the API key; the service serves its own route.
        attachment_type=AttachmentType.RESUME,
        candidate=candidate.id,
        content_type=content_type_for_extension(location.extension),
        size=None,
        remote_created_at=None,
        remote_updated_at=None,
    )


def _day(value: datetime | None) -> datetime | None:
    """Search rows date to the day (``DD/MM/YY``), webhooks to the millisecond: every shape is
    kept to the day (UTC) so that the same record has one content."""
    if value is None or not (value.hour or value.minute or value.second or value.microsecond):
        return value  # search rows' dates are midnight already
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _vacancy_number(value: Any) -> int | None:
    """The vacancy's integer id (search rows give it; webhooks give it as ``vacancy.id``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return _int_text(value) if isinstance(value, str) else None


def _int_text(value: str) -> int | None:
    """An integer written in ASCII digits (an optional ``-``); None for anything else, and for
    more digits than an id has (``int()`` refuses very long strings)."""
    cleaned = value.strip()
    digits = cleaned.removeprefix("-")
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(cleaned)


def _archived(status: Any) -> bool | None:
    if isinstance(status, bool) or not isinstance(status, int | str):
        return None
    return str(status).strip() == "0"


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        score = float(value)
    except OverflowError:
        return None
    return score if math.isfinite(score) else None


def job_status(value: Any) -> str | None:
    """Flatchr's vacancy status: 1 is OPEN; any other value passes through as its text."""
    cleaned = _plain_text(value)
    if cleaned is None:
        return None
    return JOB_STATUSES.get(cleaned, cleaned)


@dataclass(frozen=True)
class Placement:
    """Where an application sits: its job (encoded vacancy id) and stage (column id), as far as
    the payload and the catalog tell."""

    vacancy_number: int | None
    job_remote_id: str | None
    column_key: str | None
    column_title: str | None
    hired: bool | None


def placed(
    number: int | None,
    job_remote_id: str | None,
    column_key: str | None,
    column_title: str | None,
    hired: object,
) -> "Placement":
    """Where an applicant stands, from any of Flatchr's shapes (a vendor ``hired`` that is
    not a boolean says nothing)."""
    return Placement(
        vacancy_number=number,
        job_remote_id=job_remote_id,
        column_key=column_key,
        column_title=column_title,
        hired=hired if isinstance(hired, bool) else None,
    )


def _application(
    *,
    applicant_id: str,
    candidate_id: uuid.UUID,
    row: Mapping[str, Any],
    raw: Mapping[str, Any],
    placement: Placement,
    created: datetime | None,
    ctx: MappingContext,
) -> Application:
    job_remote_id = placement.job_remote_id
    stage_id = (
        ctx.ids.stage_id(stage_remote_id(job_remote_id, placement.column_key))
        if job_remote_id is not None and placement.column_key is not None
        else None
    )
    return validated(
        Application,
        id=ctx.ids.application_id(applicant_id),
        remote_id=applicant_id,
        modified_at=ctx.observed_at,
        raw_data=redact_raw(raw),
        # What every shape gives: `source` (search rows only) stays in raw_data.
        custom_fields=drop_none(
            {"vacancy_id": placement.vacancy_number, "stage": placement.column_title}
        ),
        candidate=candidate_id,
        job=ctx.ids.job_id(job_remote_id) if job_remote_id is not None else None,
        applied_at=_day(created),
        rejected_at=None,  # Flatchr archives applicants (status 0); it has no rejection.
        source=None,
        credited_to=None,
        current_stage=stage_id,
        reject_reason=None,
        archived=_archived(row.get("status")),
        hired=placement.hired,
        score=_score(row.get("score")),
        evaluation_status=None,
    )


def _build(
    *,
    applicant_id: str,
    person: Mapping[str, Any],
    row: Mapping[str, Any],
    raw: Mapping[str, Any],
    application_raw: Mapping[str, Any],
    placement: Placement,
    title: str | None,
    company: str | None,
    stage: str | None,
    cv: CvLocation | None,
    created: datetime | None,
    updated: datetime | None,
    ctx: MappingContext,
) -> CandidateRecord:
    region = ctx.default_phone_region
    cv_attachment_id = ctx.ids.attachment_id(cv.remote_id) if cv else None
    candidate_id = ctx.ids.candidate_id(applicant_id)
    application = _application(
        applicant_id=applicant_id,
        candidate_id=candidate_id,
        row=row,
        raw=application_raw,
        placement=placement,
        created=created,
        ctx=ctx,
    )
    candidate = validated(
        Candidate,
        id=candidate_id,
        remote_id=applicant_id,
        modified_at=ctx.observed_at,
        raw_data=redact_raw(raw),
        # Only what every shape gives (search row and webhook alike): a field one shape lacks
        # would move modified_at on every webhook-then-refresh round. The rest stays in
        # raw_data (source, cover letter, Flatchr's candidate id, anonym).
        custom_fields=drop_none(
            {
                "stage": stage,
                "score": row.get("score"),
                "hired": row.get("hired") if isinstance(row.get("hired"), bool) else None,
                "archived": _archived(row.get("status")),
                "external_id": text(row.get("external_id")) or text(person.get("external_id")),
                "vacancy_id": _vacancy_number(row.get("vacancy_id")),
            }
        ),
        first_name=text(row.get("firstname")) or text(person.get("firstname")),
        last_name=text(row.get("lastname")) or text(person.get("lastname")),
        company=company,
        title=title,
        last_interaction_at=None,
        is_private=None,  # `anonym` comes in webhooks only, never in search rows
        can_email=None,  # Flatchr's `consent` is GDPR retention consent, not e-mail opt-in.
        locations=None,
        phone_numbers=unique(
            [
                phone(row.get("phone"), default_region=region),
                phone(person.get("phone"), default_region=region),
            ]
        ),
        email_addresses=unique([email(row.get("email")), email(person.get("email"))]),
        urls=[
            validated(Url, type=url["type"], value=url["value"])
            for url in map_urls(person.get("urls")) or map_urls(row.get("urls"))
        ],
        tags=[],
        applications=[application.id],
        attachments=[cv_attachment_id] if cv_attachment_id else [],
        remote_created_at=_day(created),
        remote_updated_at=_day(updated or created),
        avatar=None,
    )
    attachments = (map_cv(cv, candidate, ctx, cv_attachment_id),) if cv else ()
    return CandidateRecord(
        candidate=candidate, attachments=attachments, applications=(application,)
    )


_MAPPING_CODE = (
    "connectors.flatchr.mapping",
    "connectors.flatchr.dates",
    "connectors.sdk.normalize",
    "schemas.base",
    "schemas.candidate",
    "schemas.application",
    "schemas.attachment",
    "schemas.datetimes",
    "schemas.open_enum",
)


@functools.cache
def mapping_code_digest() -> str:
    """The code a search row is mapped with (this module, its dates, the shared normalizers,
    the unified models): part of every stored source digest, so a release that maps rows
    differently maps every row again instead of skipping it as unchanged."""
    digest = hashlib.sha256()
    for name in _MAPPING_CODE:
        module = importlib.import_module(name)
        try:
            digest.update(inspect.getsource(module).encode())
        except (OSError, TypeError):  # no source shipped: the module's name and file
            digest.update(f"{name}:{getattr(module, '__file__', '')}".encode())
    return digest.hexdigest()


def map_applicant_row(row: Mapping[str, Any], ctx: MappingContext) -> CandidateRecord:
    """One row of ``POST /company/{id}/search/applicants``."""
    if not isinstance(row, dict):
        raise MappingError("a Flatchr search row must be an object")
    applicant_id = text(row.get("applicant"))
    if applicant_id is None:
        raise MappingError("a Flatchr search row has no applicant id")
    person = row.get("candidate")
    if not isinstance(person, dict):
        person = {}
    vacancy = row.get("vacancy")
    catalog = catalog_of(ctx)
    number = _vacancy_number(row.get("vacancy_id"))
    column_title = text(row.get("column"))
    placement = placed(
        number,
        # An integer the listing does not know gives no job (never a second, invented one).
        catalog.vacancy_ids.get(number) if number is not None else None,
        catalog.column_keys.get(column_title) if column_title else None,
        column_title,
        row.get("hired"),
    )
    return _build(
        applicant_id=applicant_id,
        person=person,
        row=row,
        raw=row,
        application_raw={k: row[k] for k in ROW_APPLICATION_KEYS if k in row},
        placement=placement,
        title=text(vacancy.get("title")) if isinstance(vacancy, dict) else text(vacancy),
        company=ctx.company_name,
        stage=column_title,
        cv=cv_location(row.get("cv"), person.get("aws")),
        created=parse_flatchr_date(row.get("created_at"))
        or parse_flatchr_date(person.get("created_at")),
        updated=parse_flatchr_date(row.get("updated_at")),
        ctx=ctx,
    )


def map_webhook(payload: Mapping[str, Any], ctx: MappingContext) -> CandidateRecord:
    """A ``new_applicant`` or ``drag_applicant`` webhook body (``{data, event, company_id}``)."""
    if not isinstance(payload, Mapping):
        raise MappingError("a Flatchr webhook body must be an object")
    event = payload.get("event")
    if event not in WEBHOOK_EVENTS:
        raise MappingError(
            f"unsupported Flatchr webhook event (expected one of {sorted(WEBHOOK_EVENTS)})"
        )
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise MappingError("a Flatchr webhook has no data object")
    applicant = data.get("applicant")
    person = data.get("candidate")
    if not isinstance(applicant, Mapping) or not isinstance(person, Mapping):
        raise MappingError("a Flatchr webhook needs data.applicant and data.candidate objects")

    def webhook_id(value: Any, where: str) -> str | None:
        """An id as a sync stores it (trimmed text); None when absent. Ids are strings or
        integers: anything else (an object, a list, a bool, a float) is refused."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        remote_id = usable_remote_id(value)
        if remote_id is None:
            raise MappingError(f"a Flatchr webhook's {where} must be a string or an integer")
        return remote_id.strip()

    applicant_id = webhook_id(applicant.get("id"), "data.applicant.id")
    if applicant_id is None:
        raise MappingError("a Flatchr webhook has no data.applicant.id")
    cv_source, aws = data.get("cv"), person.get("aws")
    vacancy = data.get("vacancy") if isinstance(data.get("vacancy"), Mapping) else {}
    company = data.get("company") if isinstance(data.get("company"), Mapping) else {}
    assert isinstance(vacancy, Mapping) and isinstance(company, Mapping)
    for value, where in (
        (applicant.get("candidate_id"), "data.applicant.candidate_id"),
        (applicant.get("vacancy_id"), "data.applicant.vacancy_id"),
        (data.get("vacancy_id"), "data.vacancy_id"),
        (vacancy.get("id"), "data.vacancy.id"),
        (person.get("id"), "data.candidate.id"),
        (cv_source.get("id") if isinstance(cv_source, Mapping) else None, "data.cv.id"),
        (cv_source.get("key") if isinstance(cv_source, Mapping) else None, "data.cv.key"),
        (aws.get("key") if isinstance(aws, Mapping) else None, "data.candidate.aws.key"),
    ):
        webhook_id(value, where)
    column = applicant.get("column")
    # `data.column` is the column's integer id in new_applicant, the column object in
    # drag_applicant; `applicant.column` is the object in both.
    data_column = data.get("column")
    column_object = column if isinstance(column, Mapping) else data_column
    column_object = column_object if isinstance(column_object, Mapping) else {}
    column_title = text(column_object.get("title"))
    key = column_key(column_object.get("id"))
    if key is None and not isinstance(data_column, Mapping):
        key = column_key(data_column)
    catalog = catalog_of(ctx)
    if key is None and column_title:
        key = catalog.column_keys.get(column_title)
    number = _vacancy_number(vacancy.get("id"))
    # The listing's encoded id for the integer (as for a search row), else the webhook's own.
    job_remote_id = (catalog.vacancy_ids.get(number) if number is not None else None) or (
        webhook_id(data.get("vacancy_id"), "data.vacancy_id")
        or webhook_id(applicant.get("vacancy_id"), "data.applicant.vacancy_id")
    )
    placement = placed(number, job_remote_id, key, column_title, column_object.get("hired"))
    return _build(
        applicant_id=applicant_id,
        person=person,
        # The search row's integer vacancy id and hired flag, where a webhook keeps them.
        row={**applicant, "vacancy_id": vacancy.get("id"), "hired": placement.hired},
        raw=payload,
        application_raw={
            "applicant": {k: applicant[k] for k in WEBHOOK_APPLICANT_KEYS if k in applicant},
            **{k: data[k] for k in WEBHOOK_APPLICATION_KEYS if k in data},
        },
        placement=placement,
        title=text(vacancy.get("title")),
        company=text(company.get("name")) or ctx.company_name,
        stage=column_title,
        cv=cv_location(cv_source, aws),
        created=parse_flatchr_date(applicant.get("created_at"))
        or parse_flatchr_date(person.get("created_at")),
        updated=parse_flatchr_date(applicant.get("updated_at")),
        ctx=ctx,
    )


APPLICANT_APPLICATION_KEYS = (
    "id",
    "vacancy_id",
    "column_id",
    "status",
    "score",
    "created_at",
    "updated_at",
)
"""The keys of an applicant object an Application is mapped from (its raw_data)."""


def knows_placement(catalog: FlatchrCatalog, applicant: Mapping[str, Any]) -> bool:
    """Whether the catalog knows the vacancy and the column an applicant object names."""
    job = vacancy_remote_id(applicant.get("vacancy_id"))
    key = column_key(applicant.get("column_id"))
    return (job is None or catalog.vacancy(job) is not None) and (
        key is None or catalog.column(key) is not None
    )


def map_applicant(applicant: Mapping[str, Any], ctx: MappingContext) -> CandidateRecord:
    """The applicant object that ``PUT``/``DELETE /company/{id}/vacancy/{vid}/applicant/{aid}``
    answer ([DOC] F3, F4): epoch dates, the encoded ``vacancy_id``, the ``column_id``, a nested
    ``candidate`` (with ``aws {key, extension}`` when it has a CV). The catalog gives what a
    search row shows instead (the vacancy's integer id and title, the column's title and
    ``hired``), so the record has the content a sync gives the same applicant."""
    if not isinstance(applicant, dict):
        raise MappingError("a Flatchr applicant must be an object")
    applicant_id = text(applicant.get("id")) if not isinstance(applicant.get("id"), dict) else None
    if applicant_id is None:
        raise MappingError("a Flatchr applicant has no id")
    person = applicant.get("candidate")
    if not isinstance(person, dict):
        person = {}
    catalog = catalog_of(ctx)
    job_remote_id = vacancy_remote_id(applicant.get("vacancy_id"))
    answered = applicant.get("vacancy")
    # The archive answer embeds the vacancy; the move answer an empty object ([DOC] F3, F4).
    vacancy = (
        answered
        if isinstance(answered, dict) and vacancy_remote_id(answered.get("id")) == job_remote_id
        else catalog.vacancy(job_remote_id)
    ) or {}
    key = column_key(applicant.get("column_id"))
    column = catalog.column(key)
    answered_column = applicant.get("column")
    column_raw: Mapping[str, Any] = (
        column.raw
        if column is not None
        else answered_column
        if isinstance(answered_column, dict)
        else {}
    )
    column_title = column.title if column is not None else _plain_text(column_raw.get("title"))
    number = _vacancy_number(vacancy.get("vacancy_id"))
    placement = placed(number, job_remote_id, key, column_title, column_raw.get("hired"))
    return _build(
        applicant_id=applicant_id,
        person=person,
        # What a search row calls these: the integer vacancy id and the column's hired flag.
        row={
            **{k: v for k, v in applicant.items() if k not in ("vacancy", "candidate")},
            "vacancy_id": number,
            "hired": placement.hired,
        },
        raw=applicant,
        application_raw={k: applicant[k] for k in APPLICANT_APPLICATION_KEYS if k in applicant},
        placement=placement,
        title=_plain_text(vacancy.get("title")),
        company=ctx.company_name,
        stage=column_title,
        cv=cv_location(person.get("cv"), person.get("aws")),
        created=parse_flatchr_date(applicant.get("created_at"))
        or parse_flatchr_date(person.get("created_at")),
        updated=parse_flatchr_date(applicant.get("updated_at")),
        ctx=ctx,
    )


# --- writes: unified drafts -> Flatchr bodies (pure) ---------------------------------------------

URL_SLOTS = ("facebook", "linkedin", "twitter", "other")
"""The networks of the create route's ``urls`` object ([DOC] F5), one URL each."""
SLOT_HOSTS: Mapping[str, tuple[str, ...]] = {
    "linkedin": ("linkedin.com",),
    "facebook": ("facebook.com", "fb.com"),
    "twitter": ("twitter.com", "x.com"),
}
RESUME_MAX_BYTES = 5 * 1024 * 1024
"""[INF] Flatchr documents no size limit for the create route's resume; 5 MiB, the limit other
ATS (Welcome Kit's documents, Bindbee's attachments) document, keeps a base64 JSON body under
7 MB."""
RESUME_EXTENSIONS = ("pdf", "doc", "docx", "odt")
"""[INF] Flatchr documents no type list; these are the CV formats its own data shows (CV
extensions pdf, docx, doc: [DOC] F3, F12) plus OpenDocument text."""
RESUME_CONTENT_TYPES = frozenset(
    content_type
    for content_type in (content_type_for_extension(ext) for ext in RESUME_EXTENSIONS)
    if content_type
)
VENDOR_FIELDS: Mapping[str, str] = {
    "firstname": "first_name",
    "lastname": "last_name",
    "email": "email_addresses",
    "phone": "phone_numbers",
    "urls": "urls",
    "vacancy": "job_id",
    "type": "attachments",
    "resume": "attachments",
    "column_id": "job_interview_stage_id",
}
"""A Flatchr body field -> the unified field it comes from (for the vendor's field errors)."""


class DraftRejected(ValueError):
    """A draft Flatchr cannot take as it is; ``field_errors`` names the unified fields."""

    def __init__(self, field_errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in field_errors.items()))
        self.field_errors = dict(field_errors)


def url_slot(url: UrlDraft) -> str:
    """The ``urls`` key a unified URL goes to: LINKEDIN -> linkedin; SOCIAL_MEDIA (or no type)
    -> the network its host names (linkedin, facebook, twitter), else other; any other type ->
    other.
    The read mapping gives linkedin LINKEDIN, facebook/twitter SOCIAL_MEDIA, other OTHER."""
    kind = (url.type or "").upper()
    if kind == UrlType.LINKEDIN:
        return "linkedin"
    if kind in ("", UrlType.SOCIAL_MEDIA):
        try:
            host = (urlsplit(_with_scheme(url.value.strip())).hostname or "").lower()
        except ValueError:  # not a URL a host can be read from
            host = ""
        for slot, hosts in SLOT_HOSTS.items():
            if any(host == h or host.endswith("." + h) for h in hosts):
                return slot
    return "other"


def _with_scheme(value: str) -> str:
    return value if "://" in value else f"https://{value}"


def _web_url(value: str) -> bool:
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _resume_problems(upload: FileUpload) -> list[str]:
    problems = []
    if upload.attachment_type.upper() != AttachmentType.RESUME:
        problems.append("Flatchr takes one file, the RESUME (no other attachment type)")
    if not upload.file_name.strip():
        problems.append("the file needs a name (Flatchr requires `fileName`)")
    if upload.content is None and upload.url is None:
        problems.append("give the file's bytes or a URL Flatchr can fetch")
    if upload.content is not None:
        if not upload.content:
            problems.append("the file is empty")
        if len(upload.content) > RESUME_MAX_BYTES:
            problems.append(f"the file exceeds {RESUME_MAX_BYTES} bytes")
        if bare_content_type(upload.content_type) not in RESUME_CONTENT_TYPES:
            problems.append(f"Flatchr takes a CV as {', '.join(RESUME_EXTENSIONS)}")
    elif upload.url is not None and not _web_url(upload.url):
        problems.append("file_url must be an http(s) URL")
    return problems


def draft_problems(draft: CandidateDraft) -> dict[str, list[str]]:
    """Why Flatchr's create route cannot take ``draft`` as it is, per unified field (empty: it
    can). Nothing is dropped silently: what Flatchr cannot hold is named here."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    for name, value in (("first_name", draft.first_name), ("last_name", draft.last_name)):
        if not text(value):
            add(name, "Flatchr requires it")
    if not draft.job_remote_id:
        add("job_id", "Flatchr creates a candidate by applying to a vacancy: give the job")
    elif draft.stage_remote_id is not None:
        job, _, key = draft.stage_remote_id.rpartition(":")
        if job != draft.job_remote_id or not key:
            add("job_interview_stage_id", "must be a stage of the job applied to")
    for name, value in (("company", draft.company), ("title", draft.title)):
        if text(value):
            add(name, "Flatchr's candidate has no such field")
    if draft.tags:
        add("tags", "Flatchr's create route takes no tags")
    if len(draft.email_addresses) > 1:
        add("email_addresses", "Flatchr holds one e-mail address per candidate")
    if any(not text(value) for value in draft.email_addresses):
        add("email_addresses", "an e-mail address is empty")
    if len(draft.phone_numbers) > 1:
        add("phone_numbers", "Flatchr holds one phone number per candidate")
    if any(not text(value) for value in draft.phone_numbers):
        add("phone_numbers", "a phone number is empty")
    slots: dict[str, int] = {}
    for url in draft.urls:
        if not url.value.strip():
            add("urls", "a URL is empty")
            continue
        slot = url_slot(url)
        slots[slot] = slots.get(slot, 0) + 1
    for slot, count in slots.items():
        if count > 1:
            add(
                "urls",
                f"Flatchr holds one URL per network ({', '.join(URL_SLOTS)}): {count} go to {slot}",
            )
    if len(draft.attachments) != 1:
        add("attachments", "Flatchr creates a candidate with exactly one file, the CV (RESUME)")
    else:
        for message in _resume_problems(draft.attachments[0]):
            add("attachments", message)
    return problems


def resume_body(upload: FileUpload) -> dict[str, Any]:
    """``type`` and ``resume``: the bytes as ``document`` ({data, fileName, contentType}),
    else the URL as ``link`` ([DOC] F5)."""
    if upload.content is not None:
        return {
            "type": "document",
            "resume": {
                "data": base64.b64encode(upload.content).decode("ascii"),
                "fileName": upload.file_name,
                "contentType": bare_content_type(upload.content_type) or upload.content_type,
            },
        }
    return {"type": "link", "resume": upload.url}


def candidate_body(draft: CandidateDraft, *, vacancy_slug: str, token: str) -> dict[str, Any]:
    """The body of ``POST careers.flatchr.io/vacancy/candidate/json`` ([DOC] F5) for ``draft``;
    raises :class:`DraftRejected` when Flatchr cannot take the draft as it is.

    ``token`` is the API key ([DOC] F5: "Clé API. Elle est créée dans l'interface Flatchr");
    empty ``urls`` slots are left out ([DOC] F13: "avoid providing empty strings")."""
    problems = draft_problems(draft)
    if problems:
        raise DraftRejected(problems)
    body: dict[str, Any] = {
        "vacancy": vacancy_slug,
        "firstname": (draft.first_name or "").strip(),
        "lastname": (draft.last_name or "").strip(),
        "token": token,
    }
    if draft.email_addresses:
        body["email"] = draft.email_addresses[0].strip()
    if draft.phone_numbers:
        body["phone"] = draft.phone_numbers[0].strip()
    if draft.urls:
        body["urls"] = {url_slot(url): url.value.strip() for url in draft.urls}
    body.update(resume_body(draft.attachments[0]))
    return body


def find_filters(draft: CandidateDraft) -> dict[str, str]:
    """The search that finds what ``draft`` created: its e-mail on the vacancy, else its names
    on the vacancy (the search's ``vacancy`` filter takes the encoded id, [DOC] F2, F11)."""
    filters = {"vacancy": draft.job_remote_id or ""}
    address = email(draft.email_addresses[0]) if draft.email_addresses else None
    if address:
        filters["email"] = address
    else:
        filters["firstname"] = (draft.first_name or "").strip()
        filters["lastname"] = (draft.last_name or "").strip()
    return filters


def created_by(record: CandidateRecord, draft: CandidateDraft, ctx: MappingContext) -> bool:
    """Whether ``record`` is what ``draft`` would create: the same job, names and e-mail."""
    candidate = record.candidate
    applied_to = {a.job for a in record.applications}
    if draft.job_remote_id is None or ctx.ids.job_id(draft.job_remote_id) not in applied_to:
        return False

    def same(a: str | None, b: str | None) -> bool:
        return (text(a) or "").casefold() == (text(b) or "").casefold()

    if not (
        same(candidate.first_name, draft.first_name) and same(candidate.last_name, draft.last_name)
    ):
        return False
    wanted = email(draft.email_addresses[0]) if draft.email_addresses else None
    held = candidate.email_addresses or []
    return wanted in held if wanted else not held


def column_body(stage_key: str) -> dict[str, Any]:
    """``{"column_id": 1313}``: the column id as the integer Flatchr documents ([DOC] F3)."""
    number = _int_text(stage_key)
    return {"column_id": number if number is not None else stage_key}


def split_stage_remote_id(remote_id: str) -> tuple[str, str]:
    """``<encoded vacancy id>:<column id>`` -> (vacancy id, column id)."""
    job, colon, key = remote_id.rpartition(":")
    if not colon or not job.strip() or not key.strip():
        raise MappingError("a Flatchr stage id is '<vacancy id>:<column id>'")
    return job.strip(), key.strip()


def error_fields(body: Any) -> tuple[str | None, dict[str, list[str]]]:
    """The error name and per-field messages of a Flatchr error body, by unified field.

    [INF] Flatchr documents no error body; its success bodies carry ``statusCode`` (F1, F6), the
    shape of hapi/Boom errors: ``{statusCode, error, message}``, with ``validation {source,
    keys}`` on a validation failure and the message naming each key in quotes. Each key gets
    the sentences of ``message`` that name it (all of it when none does); a key is reported as
    the unified field it comes from (``firstname`` -> ``first_name``)."""
    if not isinstance(body, dict):
        return None, {}
    error, said = body.get("error"), body.get("message")
    name = error if isinstance(error, str) else None
    message = said if isinstance(said, str) else ""
    validation = body.get("validation")
    if not isinstance(validation, dict) or not isinstance(validation.get("keys"), list):
        return name, {}
    sentences = [s.strip() for s in message.split(". ") if s.strip()]
    fields: dict[str, list[str]] = {}
    for key in validation["keys"]:
        if not isinstance(key, str) or not key.strip():
            continue
        named = [s for s in sentences if f'"{key}"' in s or f'"{key.split(".")[-1]}"' in s]
        unified = VENDOR_FIELDS.get(key.split(".", 1)[0], key)
        for sentence in named or [message or "is invalid"]:
            if sentence not in fields.get(unified, []):
                fields.setdefault(unified, []).append(sentence[:500])
    return name, fields


# --- jobs and stages ----------------------------------------------------------------------------


def map_stage(
    column: Column, job_remote_id: str, job_id: uuid.UUID, ctx: MappingContext
) -> JobInterviewStage:
    """A company-wide column as a stage of one vacancy."""
    remote_id = stage_remote_id(job_remote_id, column.key)
    raw = column.raw
    return JobInterviewStage(
        id=ctx.ids.stage_id(remote_id),
        remote_id=remote_id,
        modified_at=ctx.observed_at,
        raw_data=dict(raw),
        custom_fields=drop_none(
            {
                "hired": raw.get("hired") if isinstance(raw.get("hired"), bool) else None,
                "visible": raw.get("visible") if isinstance(raw.get("visible"), bool) else None,
                "position": _position(raw.get("position")),
            }
        ),
        name=column.title,
        job=job_id,
        stage_order=column.order,
    )


def map_vacancy(vacancy: Any, columns: Iterable[Column], ctx: MappingContext) -> JobRecord:
    """A vacancy (from the listing or ``GET /vacancy/{id}``) with the columns as its stages."""
    if not isinstance(vacancy, dict):
        raise MappingError("a Flatchr vacancy must be an object")
    remote_id = vacancy_remote_id(vacancy.get("id"))
    if remote_id is None:
        raise MappingError("a Flatchr vacancy has no id")
    job_id = ctx.ids.job_id(remote_id)
    apply_url = _plain_text(vacancy.get("apply_url"))
    job = Job(
        id=job_id,
        remote_id=remote_id,
        modified_at=ctx.observed_at,
        raw_data=redact_raw(vacancy),
        custom_fields=drop_none(
            {
                "vacancy_id": _vacancy_number(vacancy.get("vacancy_id")),
                "slug": _plain_text(vacancy.get("slug")),
                "language": _plain_text(vacancy.get("language")),
                "contract_type": _plain_text(vacancy.get("contract_type")),
                "mission": _plain_text(vacancy.get("mission")),
                "profile": _plain_text(vacancy.get("profile")),
            }
        ),
        name=_plain_text(vacancy.get("title")),
        description=_plain_text(vacancy.get("description")),
        code=_plain_text(vacancy.get("reference")),
        status=job_status(vacancy.get("status")),
        job_posting_urls=[{"type": UrlType.JOB_POSTING, "value": apply_url}] if apply_url else [],
        confidential=None,
        departments=None,
        offices=None,
        hiring_managers=None,
        recruiters=None,
        remote_created_at=parse_flatchr_date(vacancy.get("created_at")),
        remote_updated_at=parse_flatchr_date(vacancy.get("updated_at")),
    )
    stages = tuple(map_stage(column, remote_id, job_id, ctx) for column in columns)
    return JobRecord(job=job, stages=stages)
