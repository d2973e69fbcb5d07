"""Request and response bodies of the hosted link flow's API routes."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from unified_ats.linking import MAX_EXPIRES_IN, MAX_REDIRECT_URLS, MAX_URL_LENGTH

NO_NUL = r"^[^\x00]*$"
"""Text the store keeps: PostgreSQL text cannot hold a NUL character (a 422, not a 503)."""


class LinkTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_user_origin_id: str = Field(
        min_length=1,
        pattern=NO_NUL,
        max_length=255,
        description="Your own id for the end user (or their organisation); kept on the "
        "connection and in its events.",
        examples=["customer-42"],
    )
    org_name: str = Field(
        min_length=1,
        pattern=NO_NUL,
        max_length=255,
        description="The end user's organisation, shown on the page.",
        examples=["ACME Corp"],
    )
    connector: str | None = Field(
        default=None,
        max_length=64,
        description="Fix the connector (see GET /api/ats/v1/connectors); the page lists them "
        "all when absent.",
        examples=["flatchr"],
    )
    connection_id: uuid.UUID | None = Field(
        default=None,
        description="Relink this connection of yours (new credentials for the same vendor "
        "account); its connector is then fixed, and its token and webhook URL stay.",
    )
    redirect_url: str = Field(
        pattern=NO_NUL,
        max_length=MAX_URL_LENGTH,
        description="Where the page sends the end user back, with `public_token` and `state` "
        "added to its query. It must match your allow-list (PUT /api/ats/v1/link-settings).",
        examples=["https://app.example.com/integrations/ats/done"],
    )
    state: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=1000,
        description="Handed back unchanged on the redirect (e.g. your CSRF state).",
    )
    expires_in: int = Field(
        default=3600,
        ge=60,
        le=int(MAX_EXPIRES_IN.total_seconds()),
        description="Seconds the link stays valid (60 s to 7 days; default 1 h).",
    )


class LinkTokenCreated(BaseModel):
    link_token: str = Field(
        description="Single use (stored hashed): it opens the page once, until a submit "
        "succeeds or it expires."
    )
    url: str = Field(description="The hosted page: send the end user there.")
    expires_at: datetime


class LinkTokenExchange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_token: str = Field(
        min_length=1,
        max_length=200,
        description="The `public_token` the redirect carried (valid 10 minutes, once).",
    )


class LinkTokenExchanged(BaseModel):
    connection_id: uuid.UUID
    connector: str
    connector_token: str | None = Field(
        description="Shown once: send it as x-connector-token. Null after a relink: the "
        "connection's existing token keeps working."
    )
    webhook_url: str | None = Field(
        description="Shown once: give it to the vendor as the webhook target. Null after a "
        "relink: the existing webhook URL keeps working."
    )
    relinked: bool
    end_user_origin_id: str
    org_name: str


class LinkSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed_redirect_urls: list[str] = Field(
        max_length=MAX_REDIRECT_URLS,
        description="Exact URLs, or `https://origin/path/*` for any URL below that path. "
        "https only, except http://localhost and http://127.0.0.1.",
        examples=[["https://app.example.com/integrations/*", "http://localhost:3000/done"]],
    )


class LinkSettings(BaseModel):
    allowed_redirect_urls: list[str]
