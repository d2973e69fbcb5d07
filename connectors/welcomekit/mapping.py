"""Welcome Kit JSON -> unified models. Pure functions: no I/O, no clock.

A Welcome Kit candidate is one person on one job: ``remote_id`` is its ``reference``. ``title``
is the job applied for and ``company`` the organization; the ``subtitle`` headline ("CTO @ WTTJ")
is the person's own and goes to custom_fields. Each candidate record is also one Application
(same remote id) pointing at its job (``job_reference``) and at one of that job's ``stages``
(``stage_id``): stage remote ids are ``<job reference>:<stage id>``.
"""

import posixpath
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from connectors.sdk.base import (
    CandidateRecord,
    IdScope,
    JobRecord,
    MappingContext,
    stage_remote_id,
    usable_remote_id,
    validated,
)
from connectors.sdk.files import content_type_for_extension, with_extension
from connectors.sdk.normalize import drop_none, email, iso_datetime, phone, text, unique
from connectors.sdk.writes import CandidateDraft
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

DEFAULT_AVATAR = re.compile(r"/default-avatar[-.\w]*\.(png|jpe?g|svg)$", re.IGNORECASE)
RESUME_NAME = re.compile(r"\b(resume|cv|curriculum)\b", re.IGNORECASE)
JOB_STATUS = {
    # the documented values (``PUT /jobs/:reference/update_status``); others pass through
    "draft": JobStatus.DRAFT,  # "private job offer (still visible on main view of the dashboard)"
    "published": JobStatus.OPEN,  # "public job offer visible on all cms_sites_references"
    "archived": JobStatus.ARCHIVED,  # "private job offer (visible from archived jobs only)"
}
HIRED_STAGE = "hired"
REFUSED_STAGE = "refused"
OFF_PATH_STAGES = frozenset({REFUSED_STAGE, "archived"})
"""Stage references that leave the pipeline: such stages (and hidden ones) get no stage_order."""
APPLICATION_KEYS = ("job_reference", "stage_id", "stage", "origin", "referrer", "archived")
"""The candidate keys an Application is mapped from (its raw_data), with ``created_at``."""
JOB_CUSTOM_KEYS = (
    "external_reference",
    "organization_reference",
    "profile",
    "contract_type",
    "contract_duration_min",
    "contract_duration_max",
    "profession_reference",
    "language",
    "remote",
    "experience_level",
    "education_level",
    "start_date",
    "published_at",
    "archived_at",
    "department_id",
    "office_id",
    "cms_sites_references",
    "apply_url",
)


class MappingError(ValueError):
    """A payload that cannot become a unified model (message holds no payload values)."""


@dataclass(frozen=True)
class JobInfo:
    """What the candidate payload lacks: the job's name (the position applied for)."""

    reference: str
    name: str | None


def url_path(url: str) -> str:
    """The path of a URL without query or fragment (plain string work: runs per file)."""
    bare = url.split("#", 1)[0].split("?", 1)[0]
    return "/" + bare.split("://", 1)[-1].partition("/")[2] if "://" in bare else bare


def url_file_name(url: str | None) -> str | None:
    if not url:
        return None
    name = posixpath.basename(url_path(url))
    return name or None


def resume_id(reference: str) -> str:
    return f"{reference}:resume"


def portfolio_id(reference: str) -> str:
    return f"{reference}:portfolio"


def document_id(reference: str, document: Mapping[str, Any]) -> str:
    return f"{reference}:document:{document.get('id')}"


def parse_attachment_id(remote_id: str) -> tuple[str, str, str | None]:
    """``<reference>:resume|portfolio|document:<id>`` -> (reference, kind, document id)."""
    parts = remote_id.split(":")
    if len(parts) == 2 and parts[1] in ("resume", "portfolio") and parts[0]:
        return parts[0], parts[1], None
    if len(parts) == 3 and parts[1] == "document" and parts[0] and parts[2]:
        return parts[0], "document", parts[2]
    raise MappingError(
        "a Welcome Kit attachment id is '<reference>:resume|portfolio|document:<id>'"
    )


def _location(profile: Mapping[str, Any]) -> list[str]:
    city_line = " ".join(p for p in (text(profile.get("zip_code")), text(profile.get("city"))) if p)
    parts = [
        text(profile.get("address")),
        city_line or None,
        text(profile.get("country_name")) or text(profile.get("country_code")),
    ]
    joined = ", ".join(p for p in parts if p)
    return [joined] if joined else []


def _avatar(url: Any) -> str | None:
    cleaned = text(url)
    if cleaned is None or DEFAULT_AVATAR.search(url_path(cleaned)):
        return None  # Welcome Kit answers a placeholder image when the person has none
    return cleaned


def _file_attachment(
    *,
    remote_id: str,
    candidate_id: uuid.UUID,
    file_name: str | None,
    content_type: str | None,
    size: Any,
    kind: str,
    attachment_type: str,
    created: datetime | None,
    raw: Mapping[str, Any],
    ctx: MappingContext,
) -> Attachment:
    return validated(
        Attachment,
        id=ctx.ids.attachment_id(remote_id),
        remote_id=remote_id,
        modified_at=ctx.observed_at,
        raw_data=raw,  # copied by validated()
        custom_fields={"kind": kind},
        file_name=file_name,
        file_url=None,  # downloaded through the connector; the API serves its own route
        attachment_type=attachment_type,
        candidate=candidate_id,
        content_type=content_type,
        size=size if type(size) is int and size >= 0 else None,
        remote_created_at=created,
        remote_updated_at=created,
    )


def map_documents(
    documents: Iterable[Mapping[str, Any]],
    candidate_id: uuid.UUID,
    payload: Mapping[str, Any],
    ctx: MappingContext,
) -> list[Attachment]:
    """``GET /documents`` items; a copy of the candidate's resume is dropped (deduplicated)."""
    resume_url = text(payload.get("resume_url"))
    resume_key = (payload.get("resume_size"), text(payload.get("resume_content_type")))
    attachments = []
    for document in documents:
        if not isinstance(document, Mapping) or document.get("id") is None:
            continue
        url = text(document.get("file_url"))
        if url is None:
            continue
        same_file = url == resume_url or (
            resume_url is not None
            and (document.get("size"), text(document.get("content_type"))) == resume_key
            and RESUME_NAME.search(str(document.get("filename") or ""))
        )
        if same_file:
            continue
        content_type = text(document.get("content_type"))
        name = text(document.get("filename")) or url_file_name(url) or "document"
        attachments.append(
            _file_attachment(
                remote_id=document_id(str(payload.get("reference")), document),
                candidate_id=candidate_id,
                file_name=with_extension(name, content_type),
                content_type=content_type,
                size=document.get("size"),
                kind="document",
                attachment_type=AttachmentType.RESUME
                if RESUME_NAME.search(name)
                else AttachmentType.OTHER,
                created=iso_datetime(document.get("created_at")),
                raw=document,
                ctx=ctx,
            )
        )
    return attachments


def map_candidate(
    payload: Mapping[str, Any],
    ctx: MappingContext,
    *,
    job: JobInfo | None = None,
    documents: Iterable[Mapping[str, Any]] = (),
) -> CandidateRecord:
    """One candidate (list item or ``GET /candidates/{reference}``) with its files."""
    if not isinstance(payload, Mapping):
        raise MappingError("a Welcome Kit candidate must be an object")
    reference = text(payload.get("reference"))
    if reference is None:
        raise MappingError("a Welcome Kit candidate has no reference")
    profile = payload.get("profile") if isinstance(payload.get("profile"), Mapping) else {}
    assert isinstance(profile, Mapping)
    stage = payload.get("stage") if isinstance(payload.get("stage"), Mapping) else None
    region = text(profile.get("country_code")) or ctx.default_phone_region
    resume_url = text(payload.get("resume_url"))
    portfolio_url = text(payload.get("portfolio_url"))
    candidate_id = ctx.ids.candidate_id(reference)
    created = iso_datetime(payload.get("created_at"))
    attachments: list[Attachment] = []
    if resume_url:
        content_type = text(payload.get("resume_content_type"))
        attachments.append(
            _file_attachment(
                remote_id=resume_id(reference),
                candidate_id=candidate_id,
                file_name=with_extension(url_file_name(resume_url) or "resume", content_type),
                content_type=content_type,
                size=payload.get("resume_size"),
                kind="resume",
                attachment_type=AttachmentType.RESUME,
                created=created,
                raw={
                    "resume_url": resume_url,
                    "resume_content_type": content_type,
                    "resume_size": payload.get("resume_size"),
                },
                ctx=ctx,
            )
        )
    if portfolio_url:
        name = url_file_name(portfolio_url) or "portfolio"
        content_type = content_type_for_extension(posixpath.splitext(name)[1]) or "application/pdf"
        attachments.append(
            _file_attachment(
                remote_id=portfolio_id(reference),
                candidate_id=candidate_id,
                file_name=with_extension(name, content_type),
                content_type=content_type,
                size=payload.get("portfolio_size"),
                kind="portfolio",
                attachment_type=AttachmentType.OTHER,
                created=created,
                raw={
                    "portfolio_url": portfolio_url,
                    "portfolio_size": payload.get("portfolio_size"),
                },
                ctx=ctx,
            )
        )
    attachments += map_documents(documents, candidate_id, payload, ctx)
    application = map_application(
        payload, ctx, job=job, candidate_id=candidate_id, applied_at=created
    )
    candidate = validated(
        Candidate,
        id=candidate_id,
        remote_id=reference,
        modified_at=ctx.observed_at,
        raw_data=payload,  # copied by validated()
        custom_fields=drop_none(
            {
                "stage": text(stage.get("name")) if stage else None,
                "stage_reference": text(stage.get("reference")) if stage else None,
                "stage_id": payload.get("stage_id"),
                "origin": text(payload.get("origin")),
                "referrer": text(payload.get("referrer")),
                "archived": payload.get("archived")
                if isinstance(payload.get("archived"), bool)
                else None,
                "cover_letter": text(payload.get("cover_letter")),
                "subtitle": text(profile.get("subtitle")),
                "job_reference": text(payload.get("job_reference")),
                "dashboard_path": text(payload.get("modal_path")),
            }
        ),
        first_name=text(profile.get("firstname")),
        last_name=text(profile.get("lastname")),
        company=ctx.company_name,
        title=job.name if job else None,
        last_interaction_at=None,
        is_private=None,
        can_email=None,
        locations=_location(profile),
        phone_numbers=unique([phone(profile.get("phone"), default_region=region)]),
        email_addresses=unique([email(profile.get("email"))]),
        urls=[validated(Url, type=UrlType.PORTFOLIO, value=portfolio_url)] if portfolio_url else [],
        tags=[t for t in (text(tag) for tag in payload.get("tags") or []) if t],
        applications=[application.id],
        attachments=[a.id for a in attachments],
        remote_created_at=created,
        remote_updated_at=iso_datetime(payload.get("updated_at")),
        avatar=_avatar(profile.get("avatar_url")),
    )
    return CandidateRecord(
        candidate=candidate, attachments=tuple(attachments), applications=(application,)
    )


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _scalar(value: Any) -> Any:
    """A vendor scalar for custom_fields: integers and booleans as sent, anything else as
    trimmed text; objects and lists are left out (they stay in raw_data)."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, Mapping | list):
        return None
    return text(value)


@lru_cache(maxsize=16_384)
def _placement(ids: IdScope, job_reference: str, stage_key: str | None) -> tuple[UUID, UUID | None]:
    """The job's and the stage's unified ids (many candidates share them: computed once)."""
    stage = ids.stage_id(stage_remote_id(job_reference, stage_key)) if stage_key else None
    return ids.job_id(job_reference), stage


def map_application(
    payload: Mapping[str, Any],
    ctx: MappingContext,
    *,
    job: JobInfo | None = None,
    candidate_id: UUID | None = None,
    applied_at: datetime | None = None,
) -> Application:
    """The candidate record's one Application (same remote id as the candidate).

    job: ``job_reference`` (else the job it was listed under); current_stage: ``stage_id`` (else
    ``stage.id``) within that job; applied_at: ``created_at``; source: ``origin``; archived:
    ``archived``; hired: the stage's reference is ``hired``. Welcome Kit gives no rejection
    date: ``custom_fields.rejected`` says whether the stage's reference is ``refused``.
    """
    reference = text(payload.get("reference"))
    if reference is None:
        raise MappingError("a Welcome Kit candidate has no reference")
    stage = payload.get("stage") if isinstance(payload.get("stage"), Mapping) else None
    job_reference = usable_remote_id(payload.get("job_reference")) or (
        job.reference if job else None
    )
    stage_key = usable_remote_id(payload.get("stage_id"))
    if stage_key is None and stage is not None:
        stage_key = usable_remote_id(stage.get("id"))
    stage_reference = text(stage.get("reference")) if stage else None
    job_id, current_stage = (
        _placement(ctx.ids, job_reference, stage_key) if job_reference is not None else (None, None)
    )
    raw = {key: payload[key] for key in (*APPLICATION_KEYS, "created_at") if key in payload}
    return validated(
        Application,
        id=ctx.ids.application_id(reference),
        remote_id=reference,
        modified_at=ctx.observed_at,
        raw_data=raw,
        custom_fields=drop_none(
            {
                "stage": text(stage.get("name")) if stage else None,
                "stage_reference": stage_reference,
                "rejected": stage_reference == REFUSED_STAGE if stage else None,
                "referrer": text(payload.get("referrer")),
            }
        ),
        candidate=candidate_id or ctx.ids.candidate_id(reference),
        job=job_id,
        applied_at=applied_at or iso_datetime(payload.get("created_at")),
        rejected_at=None,  # Welcome Kit dates no rejection (only GET /moves would, per job)
        source=text(payload.get("origin")),
        credited_to=None,
        current_stage=current_stage,
        reject_reason=None,
        archived=_flag(payload.get("archived")),
        hired=stage_reference == HIRED_STAGE if stage else None,
    )


def job_status(value: Any) -> str | None:
    """``draft``/``published``/``archived`` -> DRAFT/OPEN/ARCHIVED; any other value as sent."""
    status = text(value)
    if status is None:
        return None
    return JOB_STATUS.get(status.lower(), status)


def map_stages(
    job_reference: str, stages: Any, ctx: MappingContext
) -> tuple[JobInterviewStage, ...]:
    """A job's ``stages`` (asked for with ``stages=true``), in the vendor's listing order.

    Welcome Kit documents no position: stage_order counts, from 1 in listing order, the stages
    on the pipeline's path; hidden stages (``visible: false``) and those whose reference is
    ``refused`` or ``archived`` get none.
    """
    if stages is None:
        return ()
    if not isinstance(stages, list):
        raise MappingError("a Welcome Kit job's stages must be a list")
    job_id = ctx.ids.job_id(job_reference)
    mapped: list[JobInterviewStage] = []
    seen: set[str] = set()
    order = 0
    for stage in stages:
        if not isinstance(stage, Mapping):
            raise MappingError("a Welcome Kit job stage must be an object")
        key = usable_remote_id(stage.get("id"))
        if key is None:
            raise MappingError("a Welcome Kit job stage has no id")
        if key in seen:
            raise MappingError("a Welcome Kit job lists the same stage id twice")
        seen.add(key)
        reference = text(stage.get("reference"))
        visible = _flag(stage.get("visible"))
        on_path = visible is not False and reference not in OFF_PATH_STAGES
        if on_path:
            order += 1
        remote_id = stage_remote_id(job_reference, key)
        mapped.append(
            JobInterviewStage(
                id=ctx.ids.stage_id(remote_id),
                remote_id=remote_id,
                modified_at=ctx.observed_at,
                raw_data=dict(stage),
                custom_fields=drop_none(
                    {
                        "reference": reference,
                        "visible": visible,
                        "hired": reference == HIRED_STAGE,
                        "rejected": reference == REFUSED_STAGE,
                    }
                ),
                name=text(stage.get("name")),
                job=job_id,
                stage_order=order if on_path else None,
            )
        )
    return tuple(mapped)


def _posting_urls(websites: Any) -> list[Url] | None:
    if websites is None:
        return None
    if not isinstance(websites, list):
        raise MappingError("a Welcome Kit job's websites must be a list")
    urls = unique(text(site.get("url")) if isinstance(site, Mapping) else None for site in websites)
    return [Url(type=UrlType.JOB_POSTING, value=url) for url in urls]


def _office(office: Any) -> dict[str, Any] | None:
    if not isinstance(office, Mapping):
        return None
    keys = ("name", "address", "zip_code", "city", "country_code")
    return drop_none({key: text(office.get(key)) for key in keys}) or None


def map_job(payload: Mapping[str, Any], ctx: MappingContext) -> JobRecord:
    """One job (list item or ``GET /jobs/:reference``, both with ``stages``, ``websites`` and
    ``office`` asked for) with its stages."""
    if not isinstance(payload, Mapping):
        raise MappingError("a Welcome Kit job must be an object")
    reference = usable_remote_id(payload.get("reference"))
    if reference is None:
        raise MappingError("a Welcome Kit job has no reference")
    custom: dict[str, Any] = {key: _scalar(payload.get(key)) for key in JOB_CUSTOM_KEYS}
    salary = payload.get("salary")
    if isinstance(salary, Mapping):
        custom["salary"] = drop_none(
            {key: text(salary.get(key)) for key in ("min", "max", "currency", "period")}
        )
    custom["office"] = _office(payload.get("office"))
    custom["vendor_status"] = text(payload.get("status"))
    job = Job(
        id=ctx.ids.job_id(reference),
        remote_id=reference,
        modified_at=ctx.observed_at,
        raw_data={key: value for key, value in payload.items() if key != "stages"},
        custom_fields=drop_none(custom),
        name=text(payload.get("name")),
        description=text(payload.get("description")),
        code=reference,
        status=job_status(payload.get("status")),
        job_posting_urls=_posting_urls(payload.get("websites")),
        confidential=None,
        departments=None,
        offices=None,
        hiring_managers=None,
        recruiters=None,
        remote_created_at=iso_datetime(payload.get("created_at")),
        remote_updated_at=iso_datetime(payload.get("updated_at")),
    )
    return JobRecord(job=job, stages=map_stages(reference, payload.get("stages"), ctx))


def attachment_url(payload: Mapping[str, Any], kind: str) -> str | None:
    return text(payload.get("resume_url" if kind == "resume" else "portfolio_url"))


# --- writes: unified drafts -> Welcome Kit bodies (pure) ----------------------------------------

MiB = 1024 * 1024
RESUME_MAX_BYTES = 5 * MiB
"""``remote_resume_url``: "file type: PDF, DOC, DOCX, ODT maximum file size: 5MB" [DOC] W2, W7."""
RESUME_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    }
)
PORTFOLIO_MAX_BYTES = 10 * MiB
"""``remote_portfolio_url``: "file type: PDF, maximum file size: 10MB" [DOC] W2, W7."""
PORTFOLIO_TYPES = frozenset({"application/pdf"})
DOCUMENT_MAX_BYTES = 10 * MiB
"""``POST /documents`` documents no limit: we hold documents to the largest documented upload
(the portfolio's 10 MB) and to the resume types plus images [INF]."""
DOCUMENT_TYPES = RESUME_TYPES | {"image/png", "image/jpeg"}
MEDIA_HOSTS: tuple[tuple[str, str], ...] = (
    # (host suffix, create/update parameter) for the documented ``media_*`` parameters [DOC] W2
    ("linkedin.com", "media_linkedin"),
    ("github.com", "media_github"),
    ("stackoverflow.com", "media_stackoverflow"),
    ("dribbble.com", "media_dribbble"),
    ("behance.net", "media_behance"),
    ("facebook.com", "media_facebook"),
    ("instagram.com", "media_instagram"),
    ("medium.com", "media_medium"),
    ("tumblr.com", "media_tumblr"),
    ("vimeo.com", "media_vimeo"),
    ("twitter.com", "media_twitter"),
    ("x.com", "media_twitter"),
)
WEBSITE_URL_TYPES = frozenset({UrlType.PERSONAL, UrlType.PORTFOLIO, UrlType.BLOG})
"""Url types that go to ``media_website`` when the host is no known network."""
URL_TYPES_TAKEN = frozenset({*WEBSITE_URL_TYPES, UrlType.LINKEDIN, UrlType.SOCIAL_MEDIA})
"""What ``urls`` takes: LINKEDIN (``media_linkedin``), SOCIAL_MEDIA on a network Welcome Kit
names (GitHub, Stack Overflow, Dribbble, Behance, LinkedIn, Facebook, Instagram, Medium, Tumblr,
Vimeo, Twitter/X), PERSONAL, PORTFOLIO and BLOG (the network's slot on such a host, else
``media_website``); a url of no type goes by its host alone. COMPANY and JOB_POSTING are not the
person's: refused."""
VENDOR_FIELDS = (
    # the create/update parameters [DOC] W2, longest first (error messages name them)
    "organization_reference",
    "remote_portfolio_url",
    "job_stage_reference",
    "candidate_reference",
    "remote_resume_url",
    "remote_image_url",
    "remote_file_urls",
    "job_reference",
    "job_stage_id",
    "cover_letter",
    "firstname",
    "lastname",
    "subtitle",
    "tag_list",
    "referrer",
    "archived",
    "comment",
    "email",
    "phone",
    *sorted({parameter for _, parameter in MEDIA_HOSTS} | {"media_website"}, key=len, reverse=True),
)


class DraftRefused(ValueError):
    """A draft Welcome Kit cannot take as it is; ``field_errors`` are per unified field."""

    def __init__(self, field_errors: Mapping[str, list[str]]) -> None:
        self.field_errors = {name: list(messages) for name, messages in field_errors.items()}
        super().__init__(
            "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.field_errors.items())
        )


def parse_stage_id(stage_remote_id: str, job_reference: str | None) -> int | str | None:
    """The vendor's ``job_stage_id`` from our stage remote id (``<job reference>:<stage id>``);
    None when it is not one of ``job_reference``'s stages (or not a stage id at all)."""
    job, sep, key = stage_remote_id.rpartition(":")
    if not sep or not key.strip() or (job_reference is not None and job != job_reference):
        return None
    return int(key) if key.isdigit() else key


def entry_stage_id(stages: Any) -> int | str | None:
    """Where a new candidate lands when no stage is given: the job's ``initial`` stage, else its
    first stage on the pipeline's path (visible, not refused or archived), else its first."""
    listed = [s for s in stages if isinstance(s, Mapping)] if isinstance(stages, list) else []
    candidates = (
        [s for s in listed if s.get("reference") == "initial"],
        [
            s
            for s in listed
            if s.get("visible") is not False and s.get("reference") not in OFF_PATH_STAGES
        ],
        listed,
    )
    for group in candidates:
        for stage in group:
            key = usable_remote_id(stage.get("id"))
            if key is not None:
                return int(key) if key.isdigit() else key
    return None


def _host(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower().rstrip(".")


def media_parameter(url_type: str | None, value: str) -> str | None:
    """The ``media_*`` parameter a url goes to, or None when Welcome Kit has no slot for it."""
    host = _host(value)
    if host is None:
        return None
    known = next(
        (param for suffix, param in MEDIA_HOSTS if host == suffix or host.endswith("." + suffix)),
        None,
    )
    kind = url_type.upper() if url_type else None
    if kind == UrlType.LINKEDIN:
        return "media_linkedin"
    if kind in WEBSITE_URL_TYPES:
        return known or "media_website"
    if kind == UrlType.SOCIAL_MEDIA:
        return known
    if kind is None or kind == UrlType.OTHER:
        return known
    return None


def file_stem(file_name: str) -> str:
    """A document's ``filename`` as Welcome Kit holds it: without the extension (documented)."""
    stem, dot, extension = file_name.rpartition(".")
    return stem.strip() if dot and stem.strip() and 1 <= len(extension) <= 5 else file_name.strip()


def document_file_name(file_name: str, attachment_type: str) -> str:
    """The ``filename`` to send for an uploaded document: its stem, with ``CV`` in front of a
    RESUME whose name does not say so (Welcome Kit documents carry no type: a document reads back
    as RESUME only when its name says resume or CV)."""
    stem = file_stem(file_name) or "document"
    if attachment_type == AttachmentType.RESUME and not RESUME_NAME.search(stem):
        return f"CV {stem}"
    return stem


def candidate_body(
    draft: CandidateDraft,
    *,
    organization_reference: str,
    job_stage_id: int | str | None = None,
) -> dict[str, Any]:
    """``POST /candidates`` body for a :class:`~connectors.sdk.writes.CandidateDraft`.

    Welcome Kit holds one e-mail, one phone and one url per ``media_*`` network, tags as one
    comma-separated ``tag_list``, the unified ``title`` as the profile's ``subtitle`` and one
    resume by URL (``remote_resume_url``); anything it cannot hold raises :class:`DraftRefused`
    naming the unified fields. ``job_stage_id`` is the stage to use when the draft names none.
    """
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    job_reference = text(draft.job_remote_id)
    if job_reference is None:
        refuse("job_id", "Welcome Kit keeps each candidate on a job: a job is required")
    stage: int | str | None = job_stage_id
    if draft.stage_remote_id is not None:
        stage = parse_stage_id(draft.stage_remote_id, job_reference)
        if stage is None:
            refuse("job_interview_stage_id", "is not one of the job's stages")
    first, last = text(draft.first_name), text(draft.last_name)
    if first is None:
        refuse("first_name", "Welcome Kit requires a first name")
    if last is None:
        refuse("last_name", "Welcome Kit requires a last name")
    emails = unique(email(e) for e in draft.email_addresses)
    if not emails:
        refuse("email_addresses", "Welcome Kit requires an e-mail address")
    elif len(emails) > 1:
        refuse("email_addresses", "Welcome Kit holds one e-mail address per candidate")
    phones = unique(text(p) for p in draft.phone_numbers)
    if len(phones) > 1:
        refuse("phone_numbers", "Welcome Kit holds one phone number per candidate")
    if text(draft.company) is not None:
        refuse("company", "Welcome Kit has no field for the candidate's company")
    tags: list[str] = []
    seen_tags: set[str] = set()
    for tag in draft.tags:
        cleaned = text(tag)
        if cleaned is None:
            continue
        if "," in cleaned:
            refuse("tags", "a Welcome Kit tag cannot hold a comma (tag_list is comma-separated)")
            continue
        if cleaned.casefold() not in seen_tags:
            seen_tags.add(cleaned.casefold())
            tags.append(cleaned)
    media: dict[str, str] = {}
    for url in draft.urls:
        value = text(url.value)
        parameter = media_parameter(url.type, value) if value else None
        if value is None or parameter is None:
            refuse(
                "urls",
                f"Welcome Kit has no place for a {url.type or 'untyped'} url on this host "
                "(it takes LinkedIn, GitHub, Stack Overflow, Dribbble, Behance, Facebook, "
                "Instagram, Medium, Tumblr, Vimeo and Twitter profiles, and one website)",
            )
        elif media.get(parameter, value) != value:
            refuse("urls", f"Welcome Kit holds one {parameter.removeprefix('media_')} url")
        else:
            media[parameter] = value
    resume_url: str | None = None
    if len(draft.attachments) > 1:
        refuse("attachments", "Welcome Kit takes one resume when a candidate is created")
    for upload in draft.attachments[:1]:
        if upload.attachment_type != AttachmentType.RESUME:
            refuse("attachments", "Welcome Kit takes a RESUME when a candidate is created")
        elif not text(upload.url):
            refuse("attachments", "Welcome Kit fetches files by URL: the upload has none")
        else:
            resume_url = text(upload.url)
    if stage is None and "job_interview_stage_id" not in errors and job_reference is not None:
        refuse("job_interview_stage_id", "Welcome Kit requires a stage of the job")
    if errors:
        raise DraftRefused(errors)
    body: dict[str, Any] = {
        "organization_reference": organization_reference,
        "job_reference": job_reference,
        "job_stage_id": stage,
        "email": emails[0],
        "firstname": first,
        "lastname": last,
    }
    optional: dict[str, Any] = {
        "subtitle": text(draft.title),
        "phone": phones[0] if phones else None,
        "tag_list": ",".join(tags) or None,
        "remote_resume_url": resume_url,
        **media,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def application_body(
    person: Mapping[str, Any],
    *,
    organization_reference: str,
    job_reference: str,
    job_stage_id: int | str,
) -> dict[str, Any]:
    """``POST /candidates`` for an existing candidate applying to another job: the person's
    profile (names, e-mail, phone, subtitle), tags and files (resume, portfolio) as the vendor
    holds them on ``person`` (a candidate payload). The cover letter, stage, archived flag and
    ``/documents`` belong to the first application and are not carried over."""
    profile = person.get("profile") if isinstance(person.get("profile"), Mapping) else {}
    assert isinstance(profile, Mapping)
    errors: dict[str, list[str]] = {}
    email_value = text(profile.get("email"))
    if email_value is None:
        errors["candidate_id"] = ["the candidate has no e-mail address, which Welcome Kit requires"]
    for key, name in (("firstname", "first name"), ("lastname", "last name")):
        if text(profile.get(key)) is None:
            errors.setdefault("candidate_id", []).append(
                f"the candidate has no {name}, which Welcome Kit requires"
            )
    if errors:
        raise DraftRefused(errors)
    tags = [t for t in (text(tag) for tag in person.get("tags") or []) if t and "," not in t]
    body: dict[str, Any] = {
        "organization_reference": organization_reference,
        "job_reference": job_reference,
        "job_stage_id": job_stage_id,
        "email": email_value,
        "firstname": text(profile.get("firstname")),
        "lastname": text(profile.get("lastname")),
    }
    optional = {
        "subtitle": text(profile.get("subtitle")),
        "phone": text(profile.get("phone")),
        "tag_list": ",".join(tags) or None,
        "remote_resume_url": text(person.get("resume_url")),
        "remote_portfolio_url": text(person.get("portfolio_url")),
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def error_fields(description: Any) -> dict[str, list[str]]:
    """Per-parameter messages from a Welcome Kit ``error_description``.

    The body is ``{error, error_description}`` [DOC] W4: one text. Its parts (split on ``;`` and
    ``,``) that start with a documented parameter name go to that parameter (``"email is
    missing"``); a bare list of names shares the message of the part that ends it (``"email,
    firstname is missing"``); Rails' ``"param is missing or the value is empty: email"`` names
    its parameter last; ``Validation failed:`` prefixes and humanized names (``Job stage``)
    are understood [INF]. A text naming no parameter gives nothing (the message says it all).
    """
    if not isinstance(description, str) or not description.strip():
        return {}
    found: dict[str, list[str]] = {}
    pending: list[str] = []
    last: str | None = None
    body = re.sub(r"^\s*validation failed:\s*", "", description.strip(), flags=re.IGNORECASE)
    for part in re.split(r"\s*[;,\n]\s*", body):
        if not part:
            continue
        missing = re.match(r"param is missing or the value is empty:\s*(\S+)$", part, re.I)
        named = _parameter_at(missing.group(1) if missing else part)
        if named is None:
            # a message of its own holding a comma ("must be a PDF, DOC or ODT file")
            if last is not None and not pending:
                found[last][-1] = f"{found[last][-1]}, {part}"[:300]
            pending.clear()
            continue
        name, rest = named
        if missing:
            found.setdefault(name, []).append(part[:300])
            last = name
            continue
        if not rest:
            pending.append(name)
            continue
        for earlier in (*pending, name):
            found.setdefault(earlier, []).append(f"{earlier} {rest}"[:300])
        pending.clear()
        last = name
    return found


def _parameter_at(part: str) -> tuple[str, str] | None:
    """(parameter, the rest) when ``part`` starts with a documented parameter name."""
    lowered = part.strip().lower()
    for name in VENDOR_FIELDS:
        for spelling in (name, name.replace("_", " "), name.removesuffix("_id").replace("_", " ")):
            if lowered == spelling or lowered.startswith(spelling + " "):
                return name, part.strip()[len(spelling) :].strip()
    return None
