"""Request and response bodies of the management routes (connections)."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str = Field(examples=["flatchr"])
    settings: dict[str, Any] = Field(
        description="The connector's settings (see GET /api/ats/v1/connectors). Credentials are "
        "checked with the vendor, encrypted at rest and never returned.",
        examples=[{"api_key": "…", "company_id": "Wy3EOp2NP3p1KMq8"}],
    )


class ConnectionOut(BaseModel):
    id: uuid.UUID
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


class ConnectionCreated(ConnectionOut):
    connector_token: str = Field(description="Shown once: send it as x-connector-token.")
    webhook_url: str = Field(
        description="Shown once: give it to the vendor (Flatchr) as the webhook target."
    )


class TokenRotated(BaseModel):
    connector_token: str = Field(description="Shown once; the previous token stops working now.")


class WebhookSecretRotated(BaseModel):
    webhook_url: str = Field(description="Shown once; the previous webhook URL answers 404 now.")


class ConnectorOut(BaseModel):
    name: str
    display_name: str
    capabilities: list[str]
    settings_schema: dict[str, Any]


class Health(BaseModel):
    status: str
    database: str
