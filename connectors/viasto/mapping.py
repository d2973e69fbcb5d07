"""viasto Interview Suite JSON -> unified models. Pure functions: no I/O, no clock.

A viasto candidate is one person in one project (the interview for a position): ``remote_id`` is
``<project id>/<candidate id>`` taken from ``resource_uri``, enough to fetch it again. ``title`` is
the project and ``company`` the customer company. viasto has no created/updated timestamps:
``remote_created_at`` and ``remote_updated_at`` stay null and changes are found by content hash.

``interview_key`` and ``activation_key`` let a person into an interview: they never leave the
connector (not in custom_fields, removed from raw_data). Photo and CV URLs carry a time-limited
token: it is replaced by ``[redacted]`` in raw_data and never used as an identifier.

Jobs are projects (``remote_id`` = the project id from its ``resource_uri``). Every project gets
the documented candidate workflow as its stages (``<project id>:<status>``): the main path
new -> invited -> confirmed -> interviewing -> interviewed in order, and expired, aborted and
skipped off the path. A candidate record is also its one Application (same ``remote_id``): job =
its project, current stage = its ``status`` when that is a documented status (else null, the
value kept in custom_fields), so it always points at a stage its job's mapping gives.
"""

import re
from collections.abc import Mapping
from typing import Any

from connectors.sdk.base import (
    CandidateRecord,
    JobRecord,
    MappingContext,
    stage_remote_id,
    validated,
)
from connectors.sdk.normalize import drop_none, email, iso_datetime, latest, phone, text, unique
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

CANDIDATE_URI = re.compile(
    r"/companies/(?P<company>\d+)/projects/(?P<project>\d+)/candidates/(?P<candidate>\d+)/?"
)
PROJECT_URI = re.compile(r"/projects/(?P<project>\d+)/?$")
FILE_URI = re.compile(r"^(?P<base>.*/candidates/\d+/(?:cv|photo)/)(?P<token>[^/]+)/?$")
CREDENTIAL_KEYS = frozenset({"interview_key", "activation_key"})
WORKFLOW_DATES = ("invitationdate", "confirmationdate", "interviewdate")
REDACTED = "[redacted]"
WORKFLOW: tuple[tuple[str, str, int | None], ...] = (
    # (status, stage name, stage_order): the documented candidate workflow [DOC] V2.
    ("new", "New", 1),
    ("invited", "Invited", 2),
    ("confirmed", "Confirmed", 3),
    ("interviewing", "Interviewing", 4),
    ("interviewed", "Interviewed", 5),
    ("expired", "Expired", None),
    ("aborted", "Aborted", None),
    ("skipped", "Skipped", None),
)
STAGE_KEYS = frozenset(key for key, _, _ in WORKFLOW)
PROJECT_STATUS: dict[str, str] = {
    # viasto project status -> unified job status, where the meaning is clear; any other value
    # passes through unchanged. The values are inferred [INF]: the project workflow page that
    # lists them could not be read.
    "draft": JobStatus.DRAFT,
    "active": JobStatus.OPEN,
    "open": JobStatus.OPEN,
    "closed": JobStatus.CLOSED,
    "archived": JobStatus.ARCHIVED,
}
SECRET_KEYS = frozenset({"password", "token", "secret"})
"""Keys dropped anywhere in a project's raw_data, with every ``*_key`` (``activation_key``,
``interview_key``, ``api_key``): evaluators and managers load nested as customer objects, and a
customer carries an ``activation_key``."""
PEOPLE_KEYS = ("evaluators", "interview_managers", "reviewers")
APPLICATION_KEYS = (
    "project",
    "status",
    "evaluation_status",
    "my_evaluation_status",
    "invitationdate",
    "confirmationdate",
    "interviewdate",
    "deadline",
)
"""The candidate keys an application is mapped from (its raw_data)."""


class MappingError(ValueError):
    """A payload that cannot become a unified model (message holds no payload values)."""


def candidate_key(resource_uri: Any) -> tuple[str, str]:
    """``…/projects/14/candidates/521/`` -> ("14", "521")."""
    match = CANDIDATE_URI.search(str(resource_uri or ""))
    if match is None:
        raise MappingError("a viasto candidate needs a resource_uri with project and candidate ids")
    return match["project"], match["candidate"]


def project_key(resource_uri: Any) -> str:
    """``…/companies/4/projects/14/`` -> "14"."""
    match = PROJECT_URI.search(str(resource_uri or "").strip())
    if match is None:
        raise MappingError("a viasto project needs a resource_uri with its project id")
    return match["project"]


def split_remote_id(remote_id: str) -> tuple[str, str]:
    project, _, candidate = remote_id.partition("/")
    if not project.isdigit() or not candidate.isdigit():
        raise MappingError("a viasto candidate id is '<project id>/<candidate id>'")
    return project, candidate


def file_reference(url: Any) -> tuple[str | None, Any]:
    """(the URL without its time-limited token, the URL as raw_data may show it).

    ``""`` or null means no file: (None, the value as given).
    """
    cleaned = text(url)
    if cleaned is None:
        return None, url
    match = FILE_URI.match(cleaned)
    if match is None:
        return cleaned, url
    return match["base"], f"{match['base']}{REDACTED}/"


def safe_raw(payload: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    """(the payload without candidate credentials and with file tokens hidden,
    the CV reference, the photo reference): each file URL is matched once."""
    raw = dict(payload)
    for key in CREDENTIAL_KEYS:
        raw.pop(key, None)
    cv, raw["cv"] = file_reference(payload.get("cv"))
    photo, raw["photo"] = file_reference(payload.get("photo"))
    for key in ("cv", "photo"):
        if key not in payload:
            del raw[key]
    return raw, cv, photo


def map_candidate(
    payload: Mapping[str, Any],
    ctx: MappingContext,
    *,
    project_name: str | None = None,
) -> CandidateRecord:
    if not isinstance(payload, Mapping):
        raise MappingError("a viasto candidate must be an object")
    project_id, candidate_id = candidate_key(payload.get("resource_uri"))
    remote_id = f"{project_id}/{candidate_id}"
    unified_id = ctx.ids.candidate_id(remote_id)
    raw, cv, avatar = safe_raw(payload)
    workflow = {name: iso_datetime(payload.get(name)) for name in WORKFLOW_DATES}
    attachments: list[Attachment] = []
    if cv is not None:
        cv_id = f"{remote_id}:cv"
        attachments.append(
            validated(
                Attachment,
                id=ctx.ids.attachment_id(cv_id),
                remote_id=cv_id,
                modified_at=ctx.observed_at,
                raw_data={"cv": raw["cv"]},
                custom_fields=None,
                file_name=None,  # known from the download's Content-Disposition/Content-Type
                file_url=None,  # the vendor URL needs the token; the API serves its own route
                attachment_type=AttachmentType.RESUME,
                candidate=unified_id,
            )
        )
    suite_url = text(payload.get("interview_suite_url"))
    application = map_application(
        payload, ctx, project_id=project_id, candidate=unified_id, remote_id=remote_id
    )
    candidate = validated(
        Candidate,
        id=unified_id,
        remote_id=remote_id,
        modified_at=ctx.observed_at,
        raw_data=raw,
        custom_fields=drop_none(
            {
                "status": text(payload.get("status")),
                "evaluation_status": text(payload.get("evaluation_status")),
                "my_evaluation_status": text(payload.get("my_evaluation_status")),
                "deadline": _utc_text(
                    payload.get("deadline"), iso_datetime(payload.get("deadline"))
                ),
                "gender": text(payload.get("gender")),
                "username": text(payload.get("username")),
                "invitation_date": _utc_text(
                    payload.get("invitationdate"), workflow["invitationdate"]
                ),
                "confirmation_date": _utc_text(
                    payload.get("confirmationdate"), workflow["confirmationdate"]
                ),
                "interview_date": _utc_text(
                    payload.get("interviewdate"), workflow["interviewdate"]
                ),
                "interview_suite_url": suite_url,
                "project_id": project_id,
            }
        ),
        first_name=text(payload.get("first_name")),
        last_name=text(payload.get("last_name")),
        company=ctx.company_name,
        title=project_name,
        last_interaction_at=latest(workflow.values()),
        is_private=None,
        can_email=None,
        locations=unique([text(payload.get("address"))]),
        phone_numbers=unique(
            [phone(payload.get("phone"), default_region=ctx.default_phone_region)]
        ),
        email_addresses=unique([email(payload.get("email"))]),
        urls=[validated(Url, type=UrlType.OTHER, value=suite_url)] if suite_url else [],
        tags=[],
        applications=[application.id],
        attachments=[a.id for a in attachments],
        remote_created_at=None,
        remote_updated_at=None,
        avatar=avatar,
    )
    return CandidateRecord(
        candidate=candidate, attachments=tuple(attachments), applications=(application,)
    )


def map_application(
    payload: Mapping[str, Any],
    ctx: MappingContext,
    *,
    project_id: str,
    candidate: Any,
    remote_id: str | None = None,
) -> Application:
    """The candidate record as its one application to its project.

    ``applied_at`` stays null: viasto documents no created timestamp, and ``invitationdate`` is
    when a recruiter invited the person (null while ``new``), not when they applied.
    viasto has no rejection, source or score on a candidate: those stay null too.
    """
    if remote_id is None:  # the candidate's, when the caller has it already
        remote_id = "/".join(candidate_key(payload.get("resource_uri")))
    status = text(payload.get("status"))
    stage = status.lower() if status is not None and status.lower() in STAGE_KEYS else None
    return validated(
        Application,
        id=ctx.ids.application_id(remote_id),
        remote_id=remote_id,
        modified_at=ctx.observed_at,
        raw_data={key: payload[key] for key in APPLICATION_KEYS if key in payload},
        custom_fields=drop_none(
            {
                "status": status,
                "my_evaluation_status": text(payload.get("my_evaluation_status")),
            }
        )
        or None,
        candidate=candidate,
        job=ctx.ids.job_id(project_id),
        applied_at=None,
        rejected_at=None,
        source=None,
        current_stage=ctx.ids.stage_id(stage_remote_id(project_id, stage)) if stage else None,
        evaluation_status=text(payload.get("evaluation_status")),
    )


def map_project(payload: Any, ctx: MappingContext) -> JobRecord:
    """A viasto project as a Job with the workflow statuses as its stages."""
    if not isinstance(payload, Mapping):
        raise MappingError("a viasto project must be an object")
    project_id = project_key(payload.get("resource_uri"))
    job_id = ctx.ids.job_id(project_id)
    status = text(payload.get("status"))
    job_url = text(payload.get("job_url"))
    custom = {
        "status": status,
        "activationdate": _date_text(payload.get("activationdate")),
        "closedate": _date_text(payload.get("closedate")),
        "language": text(payload.get("language")),
        "mode": text(payload.get("mode")),
        "contact_person": text(payload.get("contact_person")),
        "labels": _uris(payload.get("labels")),
        **{key: _uris(payload.get(key)) for key in PEOPLE_KEYS},
    }
    job = Job(
        id=job_id,
        remote_id=project_id,
        modified_at=ctx.observed_at,
        raw_data=_scrubbed(payload),
        custom_fields=drop_none(custom) or None,
        name=text(payload.get("name")),
        description=None,
        code=text(payload.get("internal_id")),
        status=PROJECT_STATUS.get(status.lower(), status) if status is not None else None,
        job_posting_urls=[{"type": UrlType.JOB_POSTING, "value": job_url}] if job_url else [],
        confidential=None,
        remote_created_at=iso_datetime(payload.get("creationdate")),
        remote_updated_at=None,
    )
    return JobRecord(job=job, stages=project_stages(project_id, ctx))


def project_stages(project_id: str, ctx: MappingContext) -> tuple[JobInterviewStage, ...]:
    job_id = ctx.ids.job_id(project_id)
    stages = []
    for key, name, order in WORKFLOW:
        remote_id = stage_remote_id(project_id, key)
        stages.append(
            JobInterviewStage(
                id=ctx.ids.stage_id(remote_id),
                remote_id=remote_id,
                modified_at=ctx.observed_at,
                raw_data=None,  # no vendor object: the workflow is documented, not served
                custom_fields={"status": key, "displayed": key != "skipped"},
                name=name,
                job=job_id,
                stage_order=order,
            )
        )
    return tuple(stages)


def _scrubbed(value: Any) -> Any:
    """``value`` without credentials at any depth (nested customers carry activation keys)."""
    if isinstance(value, Mapping):
        return {str(k): _scrubbed(v) for k, v in value.items() if not _secret_key(str(k))}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


def _secret_key(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in SECRET_KEYS or lowered.endswith("_key")


def _uris(value: Any) -> list[str] | None:
    """A list of references (URIs, or nested objects by their ``resource_uri``); None if empty."""
    if not isinstance(value, list):
        return None
    found = unique(
        text(item.get("resource_uri")) if isinstance(item, Mapping) else text(item)
        for item in value
        if isinstance(item, str | Mapping)
    )
    return found or None


def _date_text(value: Any) -> str | None:
    """A documented ``date``: ``YYYY-MM-DD`` as given, a full timestamp as UTC text; None when
    unreadable (raw_data keeps the vendor's text)."""
    moment = iso_datetime(value)
    if moment is None:
        return None
    given = text(value)
    if given is not None and len(given) == 10 and moment.date().isoformat() == given:
        return given
    return _utc_text(value, moment)


def _utc_text(given: Any, moment: Any) -> str | None:
    """The date as UTC ISO text: the vendor's own text when it is that already (no re-format)."""
    if moment is None:
        return None
    if type(given) is str and len(given) == 20 and given.endswith("Z"):
        return given
    text_form: str = moment.isoformat().replace("+00:00", "Z")
    return text_form


def field_errors(body: Any) -> tuple[str | None, dict[str, list[str]]]:
    """viasto's 400 bodies: ``{"detail": "..."}`` or ``{"field": ["message", ...]}`` (DRF
    style; a field may also carry one message as a string)."""
    if not isinstance(body, Mapping):
        return None, {}
    if isinstance(body.get("detail"), str):
        return body["detail"][:300], {}
    errors = {
        str(name): [str(m)[:300] for m in messages][:20]
        if isinstance(messages, list)
        else [messages[:300]]
        for name, messages in body.items()
        if isinstance(messages, list | str)
    }
    return None, errors


# --- writes: unified drafts -> viasto bodies (pure) ---------------------------------------------

CV_CONTENT_TYPES = frozenset(
    {
        # The types the ``cv`` attribute recognises [DOC] V1 (viasto sniffs the bytes itself).
        "application/msword",
        "application/pdf",
        "application/postscript",
        "application/vnd.ms-powerpoint",
        "application/x-dvi",
        "text/plain",
        "text/richtext",
    }
)
CV_MAX_BYTES = 10 * 1024 * 1024
"""viasto documents no size limit for ``cv`` [NOT FOUND]: 10 MiB is our own bound [INF]."""
MAIN_PATH = ("new", "invited", "confirmed", "interviewing", "interviewed")
"""The statuses the Advance Status Action walks, one step per call [DOC] V2."""
CREATE_STATUS = "new"
"""Status is ignored on POST: every candidate is created ``new`` [DOC] V2."""
PERSON_KEYS = ("first_name", "last_name", "email", "phone", "address", "gender")
"""The writable person attributes copied when the same person joins another project."""


class DraftRefused(MappingError):
    """A draft viasto cannot store as asked: per unified field, why (no payload values)."""

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in field_errors.items()))
        self.field_errors = field_errors


def candidate_body(draft: Any) -> dict[str, str]:
    """A :class:`~connectors.sdk.writes.CandidateDraft` as the fields of viasto's
    ``POST …/projects/{p}/candidates/`` (JSON, or the text parts of the multipart form).

    viasto stores one e-mail and one phone per candidate and has no employer, headline, links
    or tags: a draft asking for more is refused (never silently cut), naming each field.
    The CV itself travels as the ``cv`` file part (see :func:`cv_upload`).
    """
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    first, last = _draft_text(draft.first_name), _draft_text(draft.last_name)
    if first is None:
        refuse("first_name", "viasto requires a first name.")
    if last is None:
        refuse("last_name", "viasto requires a last name.")
    for name, value in (("company", draft.company), ("title", draft.title)):
        if _draft_text(value) is not None:
            refuse(name, "viasto cannot store this field on a candidate.")
    if draft.urls:
        refuse("urls", "viasto cannot store links on a candidate.")
    if draft.tags:
        refuse("tags", "viasto cannot store tags on a candidate.")
    emails = [e for e in (_draft_text(v) for v in draft.email_addresses) if e is not None]
    phones = [p for p in (_draft_text(v) for v in draft.phone_numbers) if p is not None]
    if len(emails) > 1:
        refuse("email_addresses", "viasto stores one e-mail address per candidate.")
    if len(phones) > 1:
        refuse("phone_numbers", "viasto stores one phone number per candidate.")
    if len(draft.attachments) > 1:
        refuse("attachments", "viasto stores one CV per candidate.")
    for upload in draft.attachments:
        for message in cv_problems(upload):
            refuse("attachments", message)
    if errors:
        raise DraftRefused(errors)
    body = {"first_name": first, "last_name": last}
    if emails:
        body["email"] = emails[0]
    if phones:
        body["phone"] = phones[0]
    return {k: v for k, v in body.items() if v is not None}


def cv_problems(upload: Any) -> list[str]:
    """Why viasto would not take this file as a candidate's ``cv`` (empty: it would)."""
    problems = []
    if str(upload.attachment_type).upper() != "RESUME":
        problems.append("viasto holds a CV (RESUME) only.")
    if upload.content_type not in CV_CONTENT_TYPES:
        problems.append(
            "viasto takes a CV of type " + ", ".join(sorted(CV_CONTENT_TYPES)) + " only."
        )
    if upload.content is None:
        problems.append("viasto takes the file's bytes, not a URL.")
    elif len(upload.content) > CV_MAX_BYTES:
        problems.append(f"viasto takes a CV of at most {CV_MAX_BYTES} bytes.")
    elif not upload.content:
        problems.append("the file is empty.")
    return problems


def person_body(payload: Mapping[str, Any]) -> dict[str, str]:
    """An existing candidate's person attributes, to create the same person in another
    project (``""`` is viasto's "none": left out)."""
    body = {}
    for key in PERSON_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            body[key] = value
    return body


def stage_status(project_id: str, stage_remote_id: str) -> str:
    """The viasto status a stage remote id (``<project>:<status>``) of this project names."""
    project, _, status = stage_remote_id.rpartition(":")
    if project != project_id or status not in STAGE_KEYS:
        raise DraftRefused(
            {"job_interview_stage_id": ["This stage is not one of this viasto project's."]}
        )
    return status


def advance_refusal(current: str | None, target: str) -> str | None:
    """Why the Advance Status Action cannot take a candidate from ``current`` to ``target``
    (None: one advance does it). The action moves one status forward along the main path; a
    move back, to or from an off-path status, or over several steps is refused."""
    if current not in MAIN_PATH:
        return (
            f"viasto's Advance Status Action cannot move a candidate out of status "
            f"'{current}': only new, invited, confirmed and interviewing move on."
        )
    if target not in MAIN_PATH:
        return (
            f"viasto has no action that sets status '{target}': the Advance Status Action "
            "only walks new -> invited -> confirmed -> interviewing -> interviewed."
        )
    step = MAIN_PATH.index(target) - MAIN_PATH.index(current)
    if step == 0:
        return f"the candidate is in status '{current}' already: there is nothing to advance."
    if step < 0:
        return (
            f"viasto statuses only move forward (new -> invited -> confirmed -> interviewing "
            f"-> interviewed): '{current}' cannot go back to '{target}'."
        )
    if step > 1:
        following = MAIN_PATH[MAIN_PATH.index(current) + 1]
        return (
            f"viasto's Advance Status Action moves one status at a time and each step is a "
            f"candidate-facing event: move '{current}' to '{following}' first."
        )
    return None


def _draft_text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned or None
