"""``client.webhooks``: the tenant's outbound webhook endpoints and their delivery log
(``/api/v1/webhooks``, API key only)."""

import builtins
from typing import Any, Literal

from schemas import Page
from unified_ats.client._core import Call, Id, model, models, nothing, query, segment
from unified_ats.client._namespace import Namespace, R, listing, operation
from unified_ats.client.models import (
    Delivery,
    EventType,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookSecret,
)
from unified_ats.client.resources import Key, _key

WEBHOOKS_PREFIX = "/api/v1"


def _call(
    method: Literal["GET", "POST", "PATCH", "DELETE"], path: str, parse: Any, **options: Any
) -> Call[Any]:
    return Call(
        method, f"/webhooks{path}", parse, connection=False, prefix=WEBHOOKS_PREFIX, **options
    )


class Webhooks(Namespace[R]):
    """Where events go: ``create`` returns the ``whsec_`` secret that verifies their
    signatures (Standard Webhooks), once."""

    @operation
    def create(
        self,
        url: str,
        *,
        events: builtins.list[str] | None = None,
        description: str = "",
        enabled: bool = True,
        idempotency_key: Key | None = None,
    ) -> Call[WebhookEndpointCreated]:
        """Subscribe ``url`` to ``events`` (exact types, ``candidate.*`` families, or all
        when None). A retry with the same ``idempotency_key`` gets the same endpoint."""
        body: dict[str, Any] = {"url": url, "events": events or ["*"]}
        body |= {"description": description, "enabled": enabled}
        headers = {"Idempotency-Key": _key(idempotency_key)}
        return _call("POST", "", model(WebhookEndpointCreated), json=body, headers=headers)

    @operation
    def list(self) -> Call[builtins.list[WebhookEndpoint]]:
        return _call("GET", "", models(WebhookEndpoint))

    @operation
    def get(self, id: Id, /) -> Call[WebhookEndpoint]:
        return _call("GET", f"/{segment(id)}", model(WebhookEndpoint))

    @operation
    def update(
        self,
        id: Id,
        /,
        *,
        url: str | None = None,
        events: builtins.list[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Call[WebhookEndpoint]:
        """Change what is given; ``enabled=True`` on a disabled endpoint starts it again."""
        changes = {"url": url, "events": events, "description": description, "enabled": enabled}
        body = {k: v for k, v in changes.items() if v is not None}
        return _call("PATCH", f"/{segment(id)}", model(WebhookEndpoint), json=body)

    @operation
    def delete(self, id: Id, /) -> Call[None]:
        return _call("DELETE", f"/{segment(id)}", nothing)

    @operation
    def rotate_secret(
        self, id: Id, /, *, overlap_seconds: int = 86400, idempotency_key: Key | None = None
    ) -> Call[WebhookSecret]:
        """A new secret; bodies carry both signatures for ``overlap_seconds``."""
        headers = {"Idempotency-Key": _key(idempotency_key)}
        body = {"overlap_seconds": overlap_seconds}
        return _call(
            "POST",
            f"/{segment(id)}/rotate-secret",
            model(WebhookSecret),
            json=body,
            headers=headers,
        )

    @operation
    def event_types(self) -> Call[builtins.list[EventType]]:
        return _call("GET", "/event-types", models(EventType))

    @listing
    def deliveries(
        self,
        id: Id,
        /,
        *,
        state: Literal["pending", "succeeded", "failed", "cancelled"] | None = None,
        event_type: str | None = None,
        page_size: int | None = None,
        cursor: str | None = None,
    ) -> Call[Page[Delivery]]:
        """The endpoint's deliveries, newest first."""
        params = query(
            {"state": state, "event_type": event_type, "page_size": page_size, "cursor": cursor}
        )
        return _call("GET", f"/{segment(id)}/deliveries", model(Page[Delivery]), params=params)

    @operation
    def redeliver(self, id: Id, delivery_id: Id, /) -> Call[Delivery]:
        """Send that delivery's event again now (same ``webhook-id``)."""
        path = f"/{segment(id)}/deliveries/{segment(delivery_id)}/redeliver"
        return _call("POST", path, model(Delivery))
