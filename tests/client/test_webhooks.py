"""``client.webhooks`` against the real API in-process: endpoints, secrets, the delivery log
paged and redelivered, typed errors."""

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.client.conftest import Stack, async_client, run_blocking
from tests.service.test_outbound_webhooks import RECEIVER, Receiver, use_receiver
from unified_ats.client import (
    Delivery,
    InvalidRequest,
    NotFound,
    WebhookEndpoint,
    WebhookEndpointCreated,
)


async def test_endpoints_round_trip_and_the_log_pages_through_every_delivery(stack: Stack) -> None:
    receiver = Receiver()
    use_receiver(stack, receiver)
    sent: list[str] = []

    async def record(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    stack.client.event_hooks["request"].append(record)
    client = async_client(stack)
    created = await client.webhooks.create(RECEIVER, events=["connection.*"], description="crm")
    assert isinstance(created, WebhookEndpointCreated) and created.secret.startswith("whsec_")
    assert created.secret not in repr(created)
    assert [e.id for e in await client.webhooks.list()] == [created.id]
    types = {t.type for t in await client.webhooks.event_types()}
    assert "candidate.updated" in types

    for n in range(5):
        await stack.services.accounts.create_connection(
            stack.tenant, connector="flatchr", account_key=f"acct{n}", settings={}
        )
    await stack.services.delivery.drain()
    for request in receiver.requests:
        Webhook(created.secret).verify(request.content, dict(request.headers))

    deliveries = [d async for d in client.webhooks.deliveries(created.id, page_size=2)]
    assert all(isinstance(d, Delivery) and d.state == "succeeded" for d in deliveries)
    assert [d.payload["data"]["account"] for d in deliveries] == [
        f"acct{n}" for n in range(4, -1, -1)
    ]
    again = await client.webhooks.redeliver(created.id, deliveries[0].id)
    assert again.state == "pending" and again.event_id == deliveries[0].event_id

    updated = await client.webhooks.update(created.id, enabled=False)
    assert isinstance(updated, WebhookEndpoint) and updated.enabled is False
    rotated = await client.webhooks.rotate_secret(created.id, overlap_seconds=60)
    assert rotated.secret != created.secret and rotated.previous_secret_expires_at is not None

    blocking = await run_blocking(stack, None, lambda c: c.webhooks.get(created.id).description)
    assert blocking == "crm"
    await client.webhooks.delete(created.id)
    with pytest.raises(NotFound):
        await client.webhooks.get(created.id)
    with pytest.raises(NotFound):
        await client.webhooks.redeliver(created.id, uuid.uuid4())

    # Every route of /api/v1/webhooks has a client method, and this test called each.
    openapi = json.loads((Path(__file__).parents[2] / "schemas" / "openapi.json").read_text())
    routes = [
        f"{method.upper()} {re.sub(r'{[^}]+}', '[^/]+', path)}"
        for path, operations in openapi["paths"].items()
        if path.startswith("/api/v1/webhooks")
        for method in operations
    ]
    assert len(routes) == 9
    for route in routes:
        assert any(re.fullmatch(route, call) for call in sent), route


async def test_a_bad_endpoint_is_an_invalid_request_naming_the_field(stack: Stack) -> None:
    use_receiver(stack, Receiver(), allowed="")
    client = async_client(stack)
    with pytest.raises(InvalidRequest) as refused:
        await client.webhooks.create("http://169.254.169.254/latest", events=["*"])
    assert "private" in str(refused.value)
    with pytest.raises(InvalidRequest) as unknown:
        await client.webhooks.create("https://example.com/hook", events=["candidate.exploded"])
    assert "unknown event type" in str(unknown.value)
