"""Flatchr JSON -> unified models. Pure functions: no I/O, no clock (time comes in the context).

One applicant row (one application of a person to one vacancy) becomes one Candidate whose
``remote_id`` is the applicant id. Its CV, when Flatchr says where it is, becomes a RESUME.
"""

import posixpath
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.flatchr.dates import parse_flatchr_date
from connectors.sdk.base import CandidateRecord, MappingContext, usable_remote_id
from connectors.sdk.files import content_type_for_extension
from connectors.sdk.normalize import drop_none, email, phone, text, unique
from schemas import Attachment, AttachmentType, Candidate, UrlType

WEBHOOK_EVENTS = frozenset({"new_applicant", "drag_applicant"})
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
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _archived(status: Any) -> bool | None:
    if isinstance(status, bool) or not isinstance(status, int | str):
        return None
    return str(status).strip() == "0"


def _build(
    *,
    applicant_id: str,
    person: Mapping[str, Any],
    row: Mapping[str, Any],
    raw: Mapping[str, Any],
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
    candidate = Candidate(
        id=ctx.ids.candidate_id(applicant_id),
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
        applications=[],
        attachments=[cv_attachment_id] if cv_attachment_id else [],
        remote_created_at=_day(created),
        remote_updated_at=_day(updated or created),
        avatar=None,
    )
    attachments = (map_cv(cv, candidate, ctx, cv_attachment_id),) if cv else ()
    return CandidateRecord(candidate=candidate, attachments=attachments)


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
    return _build(
        applicant_id=applicant_id,
        person=person,
        row=row,
        raw=row,
        title=text(vacancy.get("title")) if isinstance(vacancy, dict) else text(vacancy),
        company=ctx.company_name,
        stage=text(row.get("column")),
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
        (vacancy.get("id"), "data.vacancy.id"),
        (person.get("id"), "data.candidate.id"),
        (cv_source.get("id") if isinstance(cv_source, Mapping) else None, "data.cv.id"),
        (cv_source.get("key") if isinstance(cv_source, Mapping) else None, "data.cv.key"),
        (aws.get("key") if isinstance(aws, Mapping) else None, "data.candidate.aws.key"),
    ):
        webhook_id(value, where)
    column = applicant.get("column")
    return _build(
        applicant_id=applicant_id,
        person=person,
        # The search row's integer vacancy id and hired flag, where a webhook keeps them.
        row={
            **applicant,
            "vacancy_id": vacancy.get("id"),
            "hired": column.get("hired") if isinstance(column, Mapping) else None,
        },
        raw=payload,
        title=text(vacancy.get("title")),
        company=text(company.get("name")) or ctx.company_name,
        stage=text(column.get("title")) if isinstance(column, Mapping) else None,
        cv=cv_location(cv_source, aws),
        created=parse_flatchr_date(applicant.get("created_at"))
        or parse_flatchr_date(person.get("created_at")),
        updated=parse_flatchr_date(applicant.get("updated_at")),
        ctx=ctx,
    )
