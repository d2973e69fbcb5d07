"""The API's routes, grouped as the client exposes them (``client.candidates``, …).

Each method returns the ``Call`` it stands for; the decorators make it a real method on both
clients (see ``_namespace``). Adding a route is one method here; adding a namespace is one
class here and two lines in ``_client.Namespaces``.

Filters left at ``None`` are not sent. Several ids may be given as a list (sent
comma-separated); ``expand`` takes ``"a,b"`` or ``["a", "b"]``; datetimes are sent in UTC
(naive ones are taken to be UTC).
"""

import builtins
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

from schemas import Application, Attachment, Candidate, Job, JobInterviewStage, Page
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


__all__ = [
    "Applications",
    "Attachments",
    "Candidates",
    "Connections",
    "Connectors",
    "JobInterviewStages",
    "Jobs",
    "SyncStatusRoutes",
]
