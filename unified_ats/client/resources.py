"""The API's routes, grouped as the client exposes them (``client.candidates``, …).

Each method returns the ``Call`` it stands for; the decorators make it a real method on both
clients (see ``_namespace``). Adding a route is one method here; adding a namespace is one
class here and two lines in ``_client.Namespaces``.

Filters left at ``None`` are not sent. Several ids may be given as a list (sent
comma-separated); ``expand`` takes ``"a,b"`` or ``["a", "b"]``; datetimes are sent in UTC
(naive ones are taken to be UTC).

Writes (``create``, ``add_attachment``, ``change_stage``, ``reject``, ``passthrough.request``)
build their body with the ``schemas.writes`` models, so a wrong field is a
``pydantic.ValidationError`` before anything is sent, and always carry an ``Idempotency-Key``
(the caller's, else a new uuid4 per call): the client's own retry after a 429 can then never
write twice, and an error names the key (``ClientError.idempotency_key``) for the caller's.
Each write has a ``*_meta()`` twin: what the route takes on this connection (``WriteMeta``).
"""

import builtins
import uuid
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, Unpack

import pydantic

from schemas import Application, Attachment, Candidate, Job, JobInterviewStage, Page
from schemas.writes import (
    ApplicationCreate,
    AttachmentCreate,
    AttachmentUpload,
    CandidateCreate,
    CandidateCreateData,
    ChangeStage,
    PassthroughRequest,
    PassthroughResponse,
    Reject,
    WriteMeta,
)
from unified_ats.client._core import (
    Call,
    Id,
    Ids,
    ModelT,
    Names,
    When,
    body,
    model,
    models,
    nothing,
    query,
    segment,
)
from unified_ats.client._namespace import Namespace, R, download, listing, operation
from unified_ats.client.models import (
    Connection,
    ConnectionCreated,
    Connector,
    LinkExchanged,
    LinkSettings,
    LinkToken,
    ResyncAccepted,
    SyncStatus,
    TokenRotated,
    WebhookSecretRotated,
)


class Includes(TypedDict, total=False):
    """What a record carries: its vendor payload (``include_raw_data``) and custom fields
    (``include_custom_fields``); false: those fields are ``null``."""

    include_raw_data: bool | None
    include_custom_fields: bool | None


class Read(Includes, total=False):
    """``refresh=True``: the server checks with the vendor first (``Cache-Control: no-cache``)."""

    refresh: bool


class ReadExpanded(Read, total=False):
    expand: Names | None


class Listing(Includes, total=False):
    """``include_deleted``: also records the vendor no longer has; ``page_size`` 1-200 (the
    server's default: 50); ``cursor``: start from this page (a ``Page.cursor``)."""

    include_deleted: bool | None
    page_size: int | None
    cursor: str | None


class RecordListing(Listing, total=False):
    """``ids``: these records only; ``remote_id``: the vendor's id; ``modified_after`` and
    ``modified_before``: content changes (see docs/api.md)."""

    ids: Ids | None
    remote_id: str | None
    modified_after: When | None
    modified_before: When | None


def _checked(options: Mapping[str, Any], allowed: frozenset[str]) -> Mapping[str, Any]:
    """Type checkers catch an unknown option; this catches it at run time, before sending."""
    for name in options:
        if name not in allowed:
            raise TypeError(f"unexpected keyword argument {name!r}")
    return options


def _page(
    path: str,
    kind: type[ModelT],
    allowed: frozenset[str],
    options: Mapping[str, Any],
    **filters: Any,
) -> Call[Page[ModelT]]:
    params = query({**filters, **_checked(options, allowed)})
    return Call("GET", path, model(Page[kind]), params)  # type: ignore[valid-type]


def _record(
    path: str, id: Id, kind: type[ModelT], allowed: frozenset[str], options: Mapping[str, Any]
) -> Call[ModelT]:
    arguments = dict(_checked(options, allowed))
    headers = {"Cache-Control": "no-cache"} if arguments.pop("refresh", False) else {}
    return Call("GET", f"{path}/{segment(id)}", model(kind), query(arguments), headers=headers)


def _file(path: str) -> Call[bytes]:
    return Call("GET", path, body, headers={"Accept": "*/*"})


Key = str | uuid.UUID
"""An ``Idempotency-Key`` (1-255 characters; a UUID is sent as its string)."""


def _key(given: Key | None = None) -> str:
    """``given`` as sent, or a new random key (uuid4)."""
    key = str(uuid.uuid4() if given is None else given)
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise ValueError("an Idempotency-Key is 1-255 printable ASCII characters")
    return key


def _write(
    path: str,
    kind: type[ModelT],
    request: pydantic.BaseModel,
    key: str | None,
    **options: Any,
) -> Call[ModelT]:
    """A POST of ``request`` (a ``schemas.writes`` model), under ``key`` unless it is None."""
    json = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    headers = {} if key is None else {"Idempotency-Key": key}
    return Call("POST", path, model(kind), json=json, headers=headers, **options)


def _meta(path: str) -> Call[WriteMeta]:
    return Call("GET", path, model(WriteMeta))


INCLUDES = Includes.__optional_keys__
READ = Read.__optional_keys__
READ_EXPANDED = ReadExpanded.__optional_keys__
LISTING = Listing.__optional_keys__
RECORD_LISTING = RecordListing.__optional_keys__


class Candidates(Namespace[R]):
    """``/candidates``: one vendor candidate record (a person on one job) each."""

    @operation
    def get(self, id: Id, /, **options: Unpack[ReadExpanded]) -> Call[Candidate]:
        """One candidate; ``expand="applications"`` embeds its applications."""
        return _record("/candidates", id, Candidate, READ_EXPANDED, options)

    @download
    def avatar(self, id: Id) -> Call[bytes]:
        """The candidate's photo, for vendors whose photo URL needs credentials (viasto)."""
        return _file(f"/candidates/{segment(id)}/avatar")

    @listing
    def list(
        self,
        *,
        email_addresses: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        tag: str | None = None,
        created_after: When | None = None,
        expand: Names | None = None,
        **options: Unpack[RecordListing],
    ) -> Call[Page[Candidate]]:
        """Candidates, oldest first. ``email_addresses`` is one address; ``first_name`` and
        ``last_name`` match case-insensitively; ``expand="applications"``."""
        filters: dict[str, Any] = {"email_addresses": email_addresses, "first_name": first_name}
        filters |= {"last_name": last_name, "tag": tag, "created_after": created_after}
        filters["expand"] = expand
        return _page("/candidates", Candidate, RECORD_LISTING, options, **filters)

    @operation
    def create(
        self,
        data: CandidateCreateData | Mapping[str, Any],
        *,
        remote_user_id: str | None = None,
        idempotency_key: Key | None = None,
    ) -> Call[Candidate]:
        """Create the candidate at the vendor (with its application when ``data`` names a
        ``job_id``, embedded in ``applications``; files with ``attachment_upload``). ``data`` is
        a ``CandidateCreateData`` or its dict; send only what ``create_meta()`` lists."""
        request = CandidateCreate.model_validate({"data": data, "remote_user_id": remote_user_id})
        return _write("/candidates", Candidate, request, _key(idempotency_key))

    @operation
    def add_attachment(
        self,
        id: Id,
        /,
        attachment: AttachmentUpload | Mapping[str, Any],
        *,
        remote_user_id: str | None = None,
        idempotency_key: Key | None = None,
    ) -> Call[Attachment]:
        """Attach a file to the candidate at the vendor (``attachment_upload(path)``)."""
        request = AttachmentCreate.model_validate(
            {"data": attachment, "remote_user_id": remote_user_id}
        )
        path = f"/candidates/{segment(id)}/attachments"
        return _write(path, Attachment, request, _key(idempotency_key))

    @operation
    def create_meta(self) -> Call[WriteMeta]:
        """What ``create`` takes on this connection: fields, required ones, file limits."""
        return _meta("/candidates/meta/post")

    @operation
    def add_attachment_meta(self) -> Call[WriteMeta]:
        """What ``add_attachment`` takes on this connection (``supported=False``: a 501)."""
        return _meta("/candidates/attachments/meta/post")


class Attachments(Namespace[R]):
    """``/attachments``: files attached to candidates (CVs, cover letters, …)."""

    @operation
    def get(self, id: Id, /, **options: Unpack[Includes]) -> Call[Attachment]:
        """One attachment (its metadata; ``download`` gets the file)."""
        return _record("/attachments", id, Attachment, INCLUDES, options)

    @download
    def download(self, id: Id) -> Call[bytes]:
        """The attachment's file, streamed through the server within the vendor's limits."""
        return _file(f"/attachments/{segment(id)}/download")

    @listing
    def list(
        self, *, candidate: Id | None = None, **options: Unpack[Listing]
    ) -> Call[Page[Attachment]]:
        """Attachments, of one candidate with ``candidate=``."""
        return _page("/attachments", Attachment, LISTING, options, candidate=candidate)


class Applications(Namespace[R]):
    """``/applications``: a candidate's application to a job, and where it stands."""

    @operation
    def get(self, id: Id, /, **options: Unpack[ReadExpanded]) -> Call[Application]:
        """One application; ``expand`` takes ``candidate``, ``job``, ``current_stage``."""
        return _record("/applications", id, Application, READ_EXPANDED, options)

    @listing
    def list(
        self,
        *,
        candidate: Ids | None = None,
        job: Ids | None = None,
        current_stage: Ids | None = None,
        created_after: When | None = None,
        created_before: When | None = None,
        expand: Names | None = None,
        **options: Unpack[RecordListing],
    ) -> Call[Page[Application]]:
        """Applications; ``created_after``/``created_before`` filter on ``applied_at``."""
        filters: dict[str, Any] = {"candidate": candidate, "job": job, "expand": expand}
        filters |= {"created_after": created_after, "created_before": created_before}
        filters["current_stage"] = current_stage
        return _page("/applications", Application, RECORD_LISTING, options, **filters)

    @operation
    def create(
        self,
        candidate_id: Id,
        job_id: Id,
        job_interview_stage_id: Id | None = None,
        *,
        remote_user_id: str | None = None,
        idempotency_key: Key | None = None,
    ) -> Call[Application]:
        """Apply an existing candidate to another job (at the given stage, else the first)."""
        data: dict[str, Id | None] = {"candidate_id": candidate_id, "job_id": job_id}
        data["job_interview_stage_id"] = job_interview_stage_id
        request = ApplicationCreate.model_validate({"data": data, "remote_user_id": remote_user_id})
        return _write("/applications", Application, request, _key(idempotency_key))

    @operation
    def change_stage(
        self,
        id: Id,
        /,
        job_interview_stage_id: Id,
        *,
        remote_user_id: str | None = None,
        idempotency_key: Key | None = None,
    ) -> Call[Application]:
        """Move the application to another stage of its job (a move the vendor's workflow
        forbids is a ``Conflict``)."""
        request = ChangeStage.model_validate(
            {"job_interview_stage_id": job_interview_stage_id, "remote_user_id": remote_user_id}
        )
        path = f"/applications/{segment(id)}/change-stage"
        return _write(path, Application, request, _key(idempotency_key))

    @operation
    def reject(
        self, id: Id, /, *, remote_user_id: str | None = None, idempotency_key: Key | None = None
    ) -> Call[Application]:
        """Reject (or archive, as the vendor does) the application."""
        request = Reject(remote_user_id=remote_user_id)
        path = f"/applications/{segment(id)}/reject"
        return _write(path, Application, request, _key(idempotency_key))

    @operation
    def create_meta(self) -> Call[WriteMeta]:
        """What ``create`` takes on this connection."""
        return _meta("/applications/meta/post")

    @operation
    def change_stage_meta(self) -> Call[WriteMeta]:
        """What ``change_stage`` takes on this connection."""
        return _meta("/applications/meta/change-stage")

    @operation
    def reject_meta(self) -> Call[WriteMeta]:
        """What ``reject`` takes on this connection (``supported=False``: a 501)."""
        return _meta("/applications/meta/reject")


class Jobs(Namespace[R]):
    """``/jobs``: the positions candidates apply to."""

    @operation
    def get(self, id: Id, /, **options: Unpack[Read]) -> Call[Job]:
        """One job."""
        return _record("/jobs", id, Job, READ, options)

    @listing
    def list(
        self,
        *,
        code: str | None = None,
        status: str | None = None,
        **options: Unpack[RecordListing],
    ) -> Call[Page[Job]]:
        """Jobs; ``code`` is the vendor's job reference; ``status`` is ``OPEN``, ``CLOSED``,
        ``DRAFT``, ``ARCHIVED``, ``PENDING`` or a vendor's own value."""
        return _page("/jobs", Job, RECORD_LISTING, options, code=code, status=status)


class JobInterviewStages(Namespace[R]):
    """``/job-interview-stages``: each job's own pipeline stages."""

    @operation
    def get(self, id: Id, /, **options: Unpack[ReadExpanded]) -> Call[JobInterviewStage]:
        """One stage; ``expand="job"`` embeds its job."""
        return _record("/job-interview-stages", id, JobInterviewStage, READ_EXPANDED, options)

    @listing
    def list(
        self,
        *,
        job: Ids | None = None,
        expand: Names | None = None,
        **options: Unpack[RecordListing],
    ) -> Call[Page[JobInterviewStage]]:
        """Stages, of some jobs with ``job=``; ``expand="job"``."""
        path = "/job-interview-stages"
        return _page(path, JobInterviewStage, RECORD_LISTING, options, job=job, expand=expand)


class SyncStatusRoutes(Namespace[R]):
    """``/sync-status``: the connection's last sync, and asking for one."""

    @operation
    def get(self) -> Call[SyncStatus]:
        """The connection's last sync run: state, counts per model, quarantine."""
        return Call("GET", "/sync-status", model(SyncStatus))

    @operation
    def trigger(self, *, full: bool = False) -> Call[ResyncAccepted]:
        """Ask for a sync now (``full=True``: enumerate everything and detect deletions).
        Requests made while one runs coalesce into one follow-up."""
        return Call("POST", "/sync-status", model(ResyncAccepted), query({"full": full}))


class Connections(Namespace[R]):
    """``/connections``: the tenant's connections (API key only, no connector token)."""

    @operation
    def create(self, connector: str, settings: Mapping[str, Any]) -> Call[ConnectionCreated]:
        """Connect a vendor account: the server checks the settings and credentials with the
        vendor, stores them encrypted and starts the first sync. The answer holds the connector
        token and webhook URL, shown this once."""
        json = {"connector": connector, "settings": dict(settings)}
        return Call("POST", "/connections", model(ConnectionCreated), json=json, connection=False)

    @operation
    def delete(self, id: Id, /) -> Call[None]:
        """Delete the connection and purge its stored data."""
        return Call("DELETE", f"/connections/{segment(id)}", nothing, connection=False)

    @operation
    def rotate_token(self, id: Id, /) -> Call[TokenRotated]:
        """A new connector token; the old one stops working."""
        path = f"/connections/{segment(id)}/rotate-token"
        return Call("POST", path, model(TokenRotated), connection=False)

    @operation
    def rotate_webhook_secret(self, id: Id, /) -> Call[WebhookSecretRotated]:
        """A new webhook URL; the old one answers 404."""
        path = f"/connections/{segment(id)}/rotate-webhook-secret"
        return Call("POST", path, model(WebhookSecretRotated), connection=False)

    @operation
    def list(self) -> Call[builtins.list[Connection]]:
        """The tenant's connections (never their credentials)."""
        return Call("GET", "/connections", models(Connection), connection=False)


class Connectors(Namespace[R]):
    """``/connectors``: what this server can connect to (API key only)."""

    @operation
    def list(self) -> Call[builtins.list[Connector]]:
        """The connectors, with the JSON Schema of each one's settings."""
        return Call("GET", "/connectors", models(Connector), connection=False)


class LinkTokens(Namespace[R]):
    """``/link-tokens``: the hosted link page, where an end user connects their own ATS
    (API key only; see docs/link.md)."""

    @operation
    def create(
        self,
        *,
        end_user_origin_id: str,
        org_name: str,
        redirect_url: str,
        connector: str | None = None,
        connection_id: Id | None = None,
        state: str | None = None,
        expires_in: int | None = None,
        idempotency_key: Key | None = None,
    ) -> Call[LinkToken]:
        """A single-use link token and its page URL. ``connection_id`` relinks that connection
        (new credentials, same vendor account); ``redirect_url`` must be on the allow-list
        (``link_settings``); ``expires_in`` is in seconds (60 to 7 days; 1 h by default)."""
        json = {
            "end_user_origin_id": end_user_origin_id,
            "org_name": org_name,
            "redirect_url": redirect_url,
            "connector": connector,
            "connection_id": None if connection_id is None else str(connection_id),
            "state": state,
            "expires_in": expires_in,
        }
        json = {name: value for name, value in json.items() if value is not None}
        headers = {"Idempotency-Key": _key(idempotency_key)}
        return Call(
            "POST", "/link-tokens", model(LinkToken), json=json, headers=headers, connection=False
        )

    @operation
    def exchange(self, public_token: str) -> Call[LinkExchanged]:
        """What the page created (the ``public_token`` of the redirect), once: the connection
        id, its connector token and webhook URL. A second exchange raises ``Gone`` (410)."""
        return Call(
            "POST",
            "/link-tokens/exchange",
            model(LinkExchanged),
            json={"public_token": public_token},
            connection=False,
        )


class LinkSettingsRoutes(Namespace[R]):
    """``/link-settings``: the redirect allow-list of the tenant's link pages (API key only)."""

    @operation
    def get(self) -> Call[LinkSettings]:
        """The allowed redirect URLs."""
        return Call("GET", "/link-settings", model(LinkSettings), connection=False)

    @operation
    def set(self, allowed_redirect_urls: builtins.list[str]) -> Call[LinkSettings]:
        """Replace the allow-list: exact URLs, or ``https://origin/path/*``."""
        json = {"allowed_redirect_urls": builtins.list(allowed_redirect_urls)}
        return Call("PUT", "/link-settings", model(LinkSettings), json=json, connection=False)


PASSTHROUGH_PREFIX = "/api/v1"
PASSTHROUGH_MARGIN = 15.0
"""Seconds the client waits beyond a passthrough's own timeout (rate limits, the server)."""


class Passthrough(Namespace[R]):
    """``/api/v1/passthrough``: a raw request to the connection's vendor API."""

    @operation
    def request(
        self,
        method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"],
        path: str,
        *,
        params: Mapping[str, str | int | float | bool | builtins.list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        request_format: Literal["JSON", "XML", "MULTIPART", "FORM"] = "JSON",
        response_format: Literal["JSON", "TEXT", "BINARY"] | None = None,
        timeout: float = 30.0,
        idempotency_key: Key | None = None,
    ) -> Call[PassthroughResponse]:
        """Send ``method path`` (relative to the vendor's API base URL) with the connection's
        credentials. The vendor's status is in the answer (``status``), not raised; ``timeout``
        (at most 120 s) is the vendor's, and the client waits that long plus a margin. A GET is
        sent without an ``Idempotency-Key`` unless one is given; other methods get one."""
        request = PassthroughRequest.model_validate(
            {"method": method, "path": path, "params": params, "headers": headers, "data": data}
            | {"request_format": request_format, "response_format": response_format}
            | {"timeout": timeout}
        )
        key = None if method == "GET" and idempotency_key is None else _key(idempotency_key)
        return _write(
            "/passthrough",
            PassthroughResponse,
            request,
            key,
            prefix=PASSTHROUGH_PREFIX,
            read_timeout=timeout + PASSTHROUGH_MARGIN,
        )


__all__ = [
    "Applications",
    "Attachments",
    "Candidates",
    "Connections",
    "Connectors",
    "JobInterviewStages",
    "Jobs",
    "LinkSettingsRoutes",
    "LinkTokens",
    "Passthrough",
    "SyncStatusRoutes",
]
