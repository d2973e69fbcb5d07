"""``unified-ats webhooks listen``: the local receiver verifies what the delivery worker signs
and prints one line per event; a forged or altered body is refused."""

import json
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from tests.service.conftest import Stack
from tests.service.test_outbound_webhooks import RECEIVER, auth
from unified_ats.cli.listen import receiver_app
from unified_ats.events.delivery import DeliveryWorker
from unified_ats.events.targets import TargetPolicy


async def test_events_the_worker_signs_are_verified_and_printed(stack: Stack) -> None:
    lines: list[str] = []
    created = await stack.client.post(
        "/api/v1/webhooks",
        json={"url": RECEIVER, "events": ["connection.*", "sync.*"]},
        headers=auth(stack),
    )
    assert created.status_code == 422  # loopback is not allowed by default, until...
    stack.services.delivery.policy = TargetPolicy.parse("127.0.0.1/32")  # the demo allows it
    created = await stack.client.post(
        "/api/v1/webhooks",
        json={"url": RECEIVER, "events": ["connection.*", "sync.*"]},
        headers=auth(stack),
    )
    secret = created.json()["secret"]
    stack.services.delivery = DeliveryWorker(
        stack.services.records.sessions,
        stack.services.webhooks,
        TargetPolicy.parse("127.0.0.1/32"),
        transport=httpx.ASGITransport(app=receiver_app(secret, lines.append, as_json=False)),
    )
    connection = await stack.connect_flatchr()
    await stack.services.delivery.drain()
    assert [line.split()[1] for line in lines] == [
        "connection.created",
        "sync.started",
        "sync.succeeded",
    ]
    assert all(line.endswith("[verified]") for line in lines)
    assert f"connection_id={connection['id']}" in lines[0]


async def test_a_forged_or_altered_event_is_refused() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    lines: list[str] = []
    app = receiver_app(secret, lines.append, as_json=True)
    body = json.dumps({"type": "sync.failed", "timestamp": "2026-12-02T10:00:00Z", "data": {}})
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, body),
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://l") as c:
        good = await c.post("/", content=body, headers=headers)
        altered = await c.post("/", content=body.replace("failed", "succeeded"), headers=headers)
        unsigned = await c.post("/", content=body)
    assert (good.status_code, altered.status_code, unsigned.status_code) == (204, 401, 401)
    assert json.loads(lines[0]) == {"webhook_id": "msg_1", **json.loads(body)}
    assert sum("refused" in line for line in lines) == 2
