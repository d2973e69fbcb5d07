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

import math
import posixpath
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.flatchr.dates import parse_flatchr_date
from connectors.sdk.base import (
    CandidateRecord,
    JobRecord,
    MappingContext,
    stage_remote_id,
    usable_remote_id,
)
from connectors.sdk.files import content_type_for_extension
from connectors.sdk.normalize import drop_none, email, phone, text, unique
from schemas import (
    Application,
    Attachment,
    AttachmentType,
    Candidate,
    Job,
    JobInterviewStage,
    JobStatus,
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
    company_name: str | None = None
    for vacancy in listed:
        if not isinstance(vacancy, dict):
            continue
        number = _vacancy_number(vacancy.get("vacancy_id"))
        encoded = vacancy_remote_id(vacancy.get("id"))
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
            elif type(item) is dict or type(item) is list:
                new = redact_raw(item)
                if new is item:
                    continue
            else:
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

    Plain dicts, validated once inside the Candidate (not a model each: this is the hot path).
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
    return Attachment(
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
    return value.replace(hour=0, minute=0, second=0, microsecond=0) if value else None


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
    return Application(
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
    candidate = Candidate(
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
        urls=map_urls(person.get("urls")) or map_urls(row.get("urls")),
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
    hired = row.get("hired")
    placement = Placement(
        vacancy_number=number,
        # An integer the listing does not know gives no job (never a second, invented one).
        job_remote_id=catalog.vacancy_ids.get(number) if number is not None else None,
        column_key=catalog.column_keys.get(column_title) if column_title else None,
        column_title=column_title,
        hired=hired if isinstance(hired, bool) else None,
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
    hired = column_object.get("hired")
    placement = Placement(
        vacancy_number=number,
        job_remote_id=job_remote_id,
        column_key=key,
        column_title=column_title,
        hired=hired if isinstance(hired, bool) else None,
    )
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
