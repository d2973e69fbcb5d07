"""viasto Interview Suite JSON -> unified models. Pure functions: no I/O, no clock.

A viasto candidate is one person in one project (the interview for a position): ``remote_id`` is
``<project id>/<candidate id>`` taken from ``resource_uri``, enough to fetch it again. ``title`` is
the project and ``company`` the customer company. viasto has no created/updated timestamps:
``remote_created_at`` and ``remote_updated_at`` stay null and changes are found by content hash.

``interview_key`` and ``activation_key`` let a person into an interview: they never leave the
connector (not in custom_fields, removed from raw_data). Photo and CV URLs carry a time-limited
token: it is replaced by ``[redacted]`` in raw_data and never used as an identifier.
"""

import re
from collections.abc import Mapping
from typing import Any

from connectors.sdk.base import CandidateRecord, MappingContext
from connectors.sdk.normalize import drop_none, email, iso_datetime, latest, phone, text, unique
from schemas import Attachment, AttachmentType, Candidate, UrlType

CANDIDATE_URI = re.compile(
    r"/companies/(?P<company>\d+)/projects/(?P<project>\d+)/candidates/(?P<candidate>\d+)/?"
)
FILE_URI = re.compile(r"^(?P<base>.*/candidates/\d+/(?:cv|photo)/)(?P<token>[^/]+)/?$")
CREDENTIAL_KEYS = frozenset({"interview_key", "activation_key"})
WORKFLOW_DATES = ("invitationdate", "confirmationdate", "interviewdate")
REDACTED = "[redacted]"


class MappingError(ValueError):
    """A payload that cannot become a unified model (message holds no payload values)."""


def candidate_key(resource_uri: Any) -> tuple[str, str]:
    """``…/projects/14/candidates/521/`` -> ("14", "521")."""
    match = CANDIDATE_URI.search(str(resource_uri or ""))
    if match is None:
        raise MappingError("a viasto candidate needs a resource_uri with project and candidate ids")
    return match["project"], match["candidate"]


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
    raw = {k: v for k, v in payload.items() if k not in CREDENTIAL_KEYS}
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
            Attachment(
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
    candidate = Candidate(
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
        # A dict, not a Url model: validated once, inside the Candidate (hot path).
        urls=[{"type": UrlType.OTHER, "value": suite_url}] if suite_url else [],
        tags=[],
        applications=[],
        attachments=[a.id for a in attachments],
        remote_created_at=None,
        remote_updated_at=None,
        avatar=avatar,
    )
    return CandidateRecord(candidate=candidate, attachments=tuple(attachments))


def _utc_text(given: Any, moment: Any) -> str | None:
    """The date as UTC ISO text: the vendor's own text when it is that already (no re-format)."""
    if moment is None:
        return None
    if type(given) is str and len(given) == 20 and given.endswith("Z"):
        return given
    text_form: str = moment.isoformat().replace("+00:00", "Z")
    return text_form


def field_errors(body: Any) -> tuple[str | None, dict[str, list[str]]]:
    """viasto's 400 bodies: ``{"detail": "..."}`` or ``{"field": ["message", ...]}``."""
    if not isinstance(body, Mapping):
        return None, {}
    if isinstance(body.get("detail"), str):
        return body["detail"][:300], {}
    errors = {
        str(name): [str(m)[:300] for m in messages]
        for name, messages in body.items()
        if isinstance(messages, list)
    }
    return None, errors
