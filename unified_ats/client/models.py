"""Answers of the management routes (connections, connectors, sync status).

The records (``Candidate``, ``Attachment``, ``Job``, …) are the ``schemas`` models themselves;
these mirror the API's OpenAPI components named in each docstring (a test compares them with
``schemas/openapi.json``). They ignore fields they do not know, so a newer server's additive
fields never break an older client. Values that are documented as enums (``state``, ``status``)
are plain strings for the same reason.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ClientModel(BaseModel):
    """Immutable; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Connection(ClientModel):
    """``ConnectionOut``: one connection of the tenant (never its credentials)."""

    id: UUID
    connector: str
    account: str = Field(description="The vendor account (e.g. the Flatchr company id).")
    token_hint: str = Field(description="Prefix and last characters of the connector token.")
    created_at: datetime
    last_full_sync_at: datetime | None
    end_user_origin_id: str | None = Field(
        default=None,
        description="Your id for the end user who linked it (from the link token), if any.",
    )
    end_user_org_name: str | None = Field(
        default=None, description="The end user's organisation name (from the link token)."
    )


class ConnectionCreated(Connection):
    """``ConnectionCreated``: a new connection, with its two secrets (shown once; kept out of
    ``repr``)."""

    connector_token: str = Field(repr=False, description="Send it as x-connector-token.")
    webhook_url: str = Field(repr=False, description="Give it to the vendor as webhook target.")


class TokenRotated(ClientModel):
    """``TokenRotated``: the connection's new connector token; the previous one stops working."""

    connector_token: str = Field(repr=False)


class WebhookSecretRotated(ClientModel):
    """``WebhookSecretRotated``: the new webhook URL; the previous one answers 404."""

    webhook_url: str = Field(repr=False)


class Connector(ClientModel):
    """``ConnectorOut``: a connector the server offers, and the JSON Schema of its settings."""

    name: str
    display_name: str
    capabilities: list[str]
    settings_schema: dict[str, Any]


class ModelCounts(ClientModel):
    """``ModelCounts``: what the last sync run did to one model."""

    seen: int
    changed: int
    deleted: int


class QuarantinedRecord(ClientModel):
    """``QuarantinedOut``: a vendor record syncs could not map or store."""

    kind: str
    remote_id: str | None
    reason: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


class SyncStatus(ClientModel):
    """``SyncStatus``: the connection's last sync run.

    ``state`` is one of ``never``, ``running``, ``succeeded``, ``partial``, ``failed``,
    ``interrupted``, ``abandoned`` (see docs/sync.md).
    """

    connection_id: str
    state: str
    last_run_kind: str | None = None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_heartbeat_at: datetime | None = None
    last_success_at: datetime | None
    last_full_success_at: datetime | None
    last_error: str | None
    incomplete_reason: str | None = None
    resumed: bool = False
    queued: bool = False
    seen: int
    changed: int
    deleted: int
    quarantined: int = 0
    models: dict[str, ModelCounts] = Field(default_factory=dict)
    total: int | None
    duration_seconds: float | None
    quarantine: list[QuarantinedRecord] = Field(default_factory=list)


class ResyncAccepted(ClientModel):
    """``ResyncAccepted``: ``status`` is ``started`` (a run began) or ``queued`` (a run is going;
    this request became its one follow-up)."""

    status: str
    full: bool


class WebhookEndpoint(ClientModel):
    """``EndpointOut``: where the tenant's events go (never its secret)."""

    id: UUID
    url: str
    description: str
    events: list[str] = Field(description="Exact types, `family.*` or `*`.")
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpoint):
    """``EndpointCreated``: a new endpoint and its ``whsec_`` secret (shown once; kept out of
    ``repr``)."""

    secret: str = Field(repr=False)


class WebhookSecret(ClientModel):
    """``SecretRotated``: the endpoint's new secret; the old one signs too until
    ``previous_secret_expires_at``."""

    secret: str = Field(repr=False)
    previous_secret_expires_at: datetime | None


class EventType(ClientModel):
    """``EventTypeOut``: an event an endpoint can subscribe to."""

    type: str
    description: str


class DeliveryAttempt(ClientModel):
    """``DeliveryAttempt``: one try of a delivery."""

    at: datetime
    status: int | None
    error: str | None
    latency_ms: float


class Delivery(ClientModel):
    """``DeliveryOut``: one event sent to one endpoint, with its attempts and body."""

    id: UUID
    event_id: UUID = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    state: str = Field(description="pending, succeeded, failed or cancelled.")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    latency_ms: float | None
    response_body: str | None
    attempt_log: list[DeliveryAttempt]
    payload: dict[str, Any]
    created_at: datetime


class LinkToken(ClientModel):
    """``LinkTokenCreated``: a single-use link token and the hosted page's URL (send the end
    user there; it works once, until ``expires_at``)."""

    link_token: str = Field(repr=False)
    url: str = Field(repr=False)
    expires_at: datetime


class LinkExchanged(ClientModel):
    """``LinkTokenExchanged``: what the link page created, shown once. After a relink,
    ``connector_token`` and ``webhook_url`` are None: the existing ones keep working."""

    connection_id: UUID
    connector: str
    connector_token: str | None = Field(repr=False)
    webhook_url: str | None = Field(repr=False)
    relinked: bool
    end_user_origin_id: str
    org_name: str


class LinkSettings(ClientModel):
    """``LinkSettings``: where hosted link pages may send end users back."""

    allowed_redirect_urls: list[str]


COMPONENTS: dict[type[ClientModel], str] = {
    Connection: "ConnectionOut",
    ConnectionCreated: "ConnectionCreated",
    TokenRotated: "TokenRotated",
    WebhookSecretRotated: "WebhookSecretRotated",
    Connector: "ConnectorOut",
    ModelCounts: "ModelCounts",
    QuarantinedRecord: "QuarantinedOut",
    SyncStatus: "SyncStatus",
    ResyncAccepted: "ResyncAccepted",
    WebhookEndpoint: "EndpointOut",
    WebhookEndpointCreated: "EndpointCreated",
    WebhookSecret: "SecretRotated",
    EventType: "EventTypeOut",
    DeliveryAttempt: "DeliveryAttempt",
    Delivery: "DeliveryOut",
    LinkToken: "LinkTokenCreated",
    LinkExchanged: "LinkTokenExchanged",
    LinkSettings: "LinkSettings",
}
"""Each client model and the OpenAPI component it mirrors."""
