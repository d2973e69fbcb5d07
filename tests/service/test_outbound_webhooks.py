"""Outbound webhooks: endpoints, events from real changes through the outbox, Standard Webhooks
signatures, retries, disabling, redelivery, the delivery log, and the SSRF guard."""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook

from connectors import VendorUnavailable
from tests.docs_examples import example
from tests.service.conftest import FLATCHR_COMPANY, Stack
from tests.service.test_sync import StopAfter, setup
from unified_ats.events.delivery import MAX_ATTEMPTS, RETRY_DELAYS, DeliveryWorker, next_attempt
from unified_ats.events.targets import TargetPolicy
from unified_ats.store.tables import (
    OutboxEntry,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

HOOKS = "/api/v1/webhooks"
RECEIVER = "http://127.0.0.1:9/hooks"


class Receiver:
    """A webhook receiver behind httpx.MockTransport: what arrived, and what to answer."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = lambda _: httpx.Response(204)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def events(self, secret: str | None = None, path: str | None = None) -> list[dict]:
        """Bodies received (at ``path``), each verified with ``secret`` (Standard Webhooks)
        when given."""
        found = []
        for request in self.requests:
            if path is not None and request.url.path != path:
                continue
            body = request.content.decode()
            if secret is not None:
                Webhook(secret).verify(body, dict(request.headers))
            found.append(json.loads(body))
        return found

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]


def use_receiver(stack: Stack, receiver: Receiver, **options) -> DeliveryWorker:
    """The stack's worker, sending through ``receiver`` (loopback allowed, as in the demo)."""
    worker = DeliveryWorker(
        stack.services.records.sessions,
        stack.services.webhooks,
        TargetPolicy.parse(options.pop("allowed", "127.0.0.1/32")),
        transport=httpx.MockTransport(receiver.handle),
        **options,
    )
    stack.services.delivery = worker
    return worker


def auth(stack: Stack, api_key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key or stack.api_key}"}


async def subscribe(stack: Stack, events: list[str] | None = None, url: str = RECEIVER) -> dict:
    response = await stack.client.post(
        HOOKS, json={"url": url, "events": events or ["*"]}, headers=auth(stack)
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def receiver(stack: Stack) -> Receiver:
    found = Receiver()
    use_receiver(stack, found)
    return found


# --- endpoints --------------------------------------------------------------------------------


async def test_an_endpoint_shows_its_secret_once_and_is_the_tenants_alone(
    stack: Stack, receiver: Receiver
) -> None:
    created = await subscribe(stack, ["candidate.*", "sync.failed"])
    assert created["secret"].startswith("whsec_") and created["enabled"] is True
    assert created["events"] == ["candidate.*", "sync.failed"]
    one = await stack.client.get(f"{HOOKS}/{created['id']}", headers=auth(stack))
    assert one.status_code == 200 and "secret" not in one.json()
    assert created["secret"] not in (await stack.client.get(HOOKS, headers=auth(stack))).text

    _, other_key = await stack.services.accounts.create_tenant("other")
    for method, path in [
        ("GET", f"{HOOKS}/{created['id']}"),
        ("PATCH", f"{HOOKS}/{created['id']}"),
        ("DELETE", f"{HOOKS}/{created['id']}"),
        ("POST", f"{HOOKS}/{created['id']}/rotate-secret"),
        ("GET", f"{HOOKS}/{created['id']}/deliveries"),
    ]:
        body = {"json": {}} if method in {"PATCH", "POST"} else {}
        answer = await stack.client.request(method, path, headers=auth(stack, other_key), **body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await stack.client.get(HOOKS, headers=auth(stack, other_key))).json() == []

    patched = await stack.client.patch(
        f"{HOOKS}/{created['id']}",
        json={"events": ["sync.*"], "description": "ops"},
        headers=auth(stack),
    )
    assert patched.json()["events"] == ["sync.*"] and patched.json()["description"] == "ops"
    gone = await stack.client.delete(f"{HOOKS}/{created['id']}", headers=auth(stack))
    assert gone.status_code == 204
    assert (
        await stack.client.get(f"{HOOKS}/{created['id']}", headers=auth(stack))
    ).status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"url": RECEIVER, "events": ["candidate.exploded"]}, "unknown event type"),
        ({"url": RECEIVER, "events": []}, "at least 1"),
        ({"url": "ftp://example.com/x", "events": ["*"]}, "http(s)"),
        ({"url": "http://user:pw@127.0.0.1/x", "events": ["*"]}, "credentials"),
        ({"url": RECEIVER, "events": ["*"], "secret": "mine"}, "Extra inputs"),
    ],
)
async def test_bad_endpoints_are_a_422_naming_the_field(
    stack: Stack, receiver: Receiver, body: dict, fragment: str
) -> None:
    response = await stack.client.post(HOOKS, json=body, headers=auth(stack))
    assert response.status_code == 422 and fragment in response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "http://[::ffff:192.168.0.1]/x",
        "http://100.64.0.1/x",
    ],
)
async def test_private_targets_are_refused_unless_the_operator_allows_them(
    stack: Stack, url: str
) -> None:
    use_receiver(stack, Receiver(), allowed="")
    response = await stack.client.post(HOOKS, json={"url": url}, headers=auth(stack))
    assert response.status_code == 422
    assert "private" in response.text and "ALLOWED_TARGETS" in response.text


async def test_event_types_are_listed_and_filters_select_by_family(
    stack: Stack, receiver: Receiver
) -> None:
    listed = (await stack.client.get(f"{HOOKS}/event-types", headers=auth(stack))).json()
    types = {t["type"] for t in listed}
    assert {"connection.created", "sync.failed", "candidate.deleted", "job.updated"} <= types
    await subscribe(stack, ["sync.*"])
    await stack.connect_flatchr()
    await stack.services.delivery.drain()
    assert receiver.types() == ["sync.started", "sync.succeeded"]


# --- events from real changes -----------------------------------------------------------------


async def test_a_sync_sends_signed_events_for_each_created_record_and_a_no_op_resync_none(
    stack: Stack, receiver: Receiver
) -> None:
    endpoint = await subscribe(stack)
    created = await stack.connect_flatchr()
    await stack.services.delivery.drain()
    events = receiver.events(endpoint["secret"])  # every signature verifies
    types = [e["type"] for e in events]
    assert types[0] == "connection.created" and types[1] == "sync.started"
    assert types[-1] == "sync.succeeded"
    applicants = stack.flatchr.companies[FLATCHR_COMPANY].applicants
    candidates = [e["data"] for e in events if e["type"] == "candidate.created"]
    assert sorted(c["remote_id"] for c in candidates) == sorted(applicants)
    assert {c["connection_id"] for c in candidates} == {created["id"]}
    assert types.count("application.created") >= len(applicants)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == len(ids)
    succeeded = events[-1]["data"]
    assert succeeded["state"] == "succeeded" and succeeded["seen"] >= len(applicants)
    for event in events:
        assert set(event) == {"type", "timestamp", "data"} and event["timestamp"].endswith("Z")
        assert "email" not in json.dumps(event["data"])  # thin: ids, never personal data

    receiver.requests.clear()
    connection = await stack.services.accounts.connection(uuid.UUID(created["id"]))
    await stack.services.sync(connection.id, full=True)
    await stack.services.delivery.drain()
    assert receiver.types() == ["sync.started", "sync.succeeded"]


async def test_a_change_is_one_update_and_a_deletion_waits_for_a_complete_enumeration(
    stack: Stack, receiver: Receiver
) -> None:
    _, connection, connector, engine = await setup(stack)  # synced, in pages of 7
    await subscribe(stack, ["candidate.*"])
    applicants = sorted(stack.flatchr.companies[FLATCHR_COMPANY].applicants)
    changed, removed = applicants[3], applicants[7]
    stack.flatchr.touch(FLATCHR_COMPANY, changed, lastname="Changed-Name")
    stack.flatchr.remove(FLATCHR_COMPANY, removed)

    # A run that dies mid-enumeration proves nothing about what is gone.
    with pytest.raises(VendorUnavailable):
        await engine.run(connection, StopAfter(connector, 1, VendorUnavailable("down")), full=True)
    await stack.services.delivery.drain()
    assert "candidate.deleted" not in receiver.types()

    receiver.requests.clear()
    await engine.run(connection, connector, full=True)
    await stack.services.delivery.drain()
    by_type = {}
    for event in receiver.events():
        by_type.setdefault(event["type"], []).append(event["data"]["remote_id"])
    assert by_type.get("candidate.updated", []) in ([changed], [])  # already sent if paged first
    assert by_type["candidate.deleted"] == [removed]
    assert "candidate.created" not in by_type


async def test_an_event_is_written_with_its_change_or_not_at_all(
    stack: Stack, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox shares the change's transaction: a change that rolls back leaves no event
    (and an event that cannot be written takes its change back with it)."""
    await subscribe(stack, ["candidate.*"])
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    await stack.services.delivery.drain()
    receiver.requests.clear()
    stack.flatchr.touch(
        FLATCHR_COMPANY,
        sorted(stack.flatchr.companies[FLATCHR_COMPANY].applicants)[0],
        lastname="Rolled-Back",
    )
    from unified_ats.events import outbox

    original = outbox.EventBatch.write

    async def write_then_fail(self, session, *, now):  # type: ignore[no-untyped-def]
        written = self.pending_types
        await original(self, session, now=now)
        if "candidate.updated" in written:
            raise RuntimeError("the store went away mid-transaction")

    monkeypatch.setattr(outbox.EventBatch, "write", write_then_fail)
    with pytest.raises(RuntimeError):
        await stack.services.sync(connection_id, full=True)
    monkeypatch.undo()
    async with stack.services.records.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
    status = await stack.client.get(
        "/api/ats/v1/candidates?page_size=100",
        headers=stack.headers(created["connector_token"]),
    )
    assert "Rolled-Back" not in status.text  # the change went back with its event


async def test_connection_events_and_a_failed_sync_with_its_mapped_error(
    stack: Stack, receiver: Receiver
) -> None:
    endpoint = await subscribe(stack, ["connection.*", "sync.failed"])
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    connection = await stack.services.accounts.connection(connection_id)
    connector = await stack.services.pool.for_connection(connection)
    with pytest.raises(VendorUnavailable):
        await stack.services.sync_engine.run(
            connection, StopAfter(connector, 0, VendorUnavailable("down")), full=True
        )
    deleted = await stack.client.delete(
        f"/api/ats/v1/connections/{connection_id}", headers=auth(stack)
    )
    assert deleted.status_code == 204
    await stack.services.delivery.drain()
    events = receiver.events(endpoint["secret"])
    assert [e["type"] for e in events] == [
        "connection.created",
        "sync.failed",
        "connection.deleted",
    ]
    assert events[0]["data"]["connector"] == "flatchr"
    assert events[0]["data"]["connection_id"] == created["id"]
    assert "VendorUnavailable" in events[1]["data"]["error"]
    assert events[1]["data"]["state"] == "failed"
    assert created["connector_token"] not in json.dumps(events)


async def test_an_endpoint_gets_only_what_happened_after_it_existed(
    stack: Stack, receiver: Receiver
) -> None:
    await stack.connect_flatchr()
    await stack.services.delivery.drain()
    assert receiver.requests == []  # nobody listened: nothing was even written
    async with stack.services.records.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEntry)) == 0


# --- delivery ---------------------------------------------------------------------------------


def test_the_retry_schedule_spans_about_a_day() -> None:
    now = utcnow()
    total = sum(RETRY_DELAYS, timedelta())
    assert timedelta(hours=20) <= total <= timedelta(hours=30)
    assert next_attempt(1, now) == now + timedelta(seconds=5)
    assert next_attempt(MAX_ATTEMPTS, now) is None
    delays = [next_attempt(n, now) - now for n in range(1, MAX_ATTEMPTS)]
    assert delays == sorted(delays)


async def due_now(stack: Stack) -> None:
    async with stack.services.records.sessions.begin() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.state == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def test_a_failed_delivery_is_retried_with_the_same_id_and_logged(
    stack: Stack, receiver: Receiver
) -> None:
    endpoint = await subscribe(stack, ["connection.created"])
    answers = iter([httpx.Response(500, text="oops " * 500), httpx.Response(200, text="ok")])
    receiver.answer = lambda _: next(answers)
    await stack.connect_flatchr()
    await stack.services.delivery.drain()
    log = (
        await stack.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=auth(stack))
    ).json()
    [first] = log["items"]
    assert first["state"] == "pending" and first["attempts"] == 1
    assert first["last_status"] == 500 and len(first["response_body"]) == 1024
    assert first["next_attempt_at"] is not None
    assert first["payload"]["type"] == "connection.created"
    await due_now(stack)
    await stack.services.delivery.drain()
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 2 and ids == {first["event_id"]}
    log = (
        await stack.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=auth(stack))
    ).json()
    [done] = log["items"]
    assert done["state"] == "succeeded" and done["attempts"] == 2
    assert [a["status"] for a in done["attempt_log"]] == [500, 200]
    assert all(a["latency_ms"] >= 0 for a in done["attempt_log"])


async def test_redirects_timeouts_and_refused_connections_are_failures_not_followed(
    stack: Stack, receiver: Receiver
) -> None:
    endpoint = await subscribe(stack, ["connection.created"])
    outcomes = {
        "redirect": lambda _: httpx.Response(302, headers={"location": "http://169.254.169.254/"}),
        "timeout": lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        "refused": lambda r: (_ for _ in ()).throw(httpx.ConnectError("no", request=r)),
    }
    errors = []
    for name, answer in outcomes.items():
        receiver.answer = answer
        receiver.requests.clear()
        await stack.services.accounts.create_connection(
            stack.tenant, connector="flatchr", account_key=name, settings={}
        )
        await stack.services.delivery.drain()
        assert len(receiver.requests) == 1, name  # the redirect was not followed
        page = (
            await stack.client.get(
                f"{HOOKS}/{endpoint['id']}/deliveries?page_size=1", headers=auth(stack)
            )
        ).json()
        errors.append(page["items"][0]["last_error"])
    assert "302" in errors[0] and "redirects are not followed" in errors[0]
    assert "no answer within" in errors[1]
    assert errors[2] == "could not deliver (ConnectError)"
    assert all(RECEIVER not in e for e in errors)


async def test_a_target_that_turns_private_is_not_called(stack: Stack) -> None:
    receiver = Receiver()
    use_receiver(stack, receiver)
    endpoint = await subscribe(stack, ["connection.created"])
    use_receiver(stack, receiver, allowed="")  # the operator withdrew loopback
    await stack.services.accounts.create_connection(
        stack.tenant, connector="flatchr", account_key="x", settings={}
    )
    await stack.services.delivery.drain()
    assert receiver.requests == []
    page = (
        await stack.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=auth(stack))
    ).json()
    assert "private" in page["items"][0]["last_error"]


async def test_an_endpoint_failing_for_five_days_is_disabled_and_that_is_an_event(
    stack: Stack, receiver: Receiver
) -> None:
    failing = await subscribe(stack, ["connection.created"], url="http://127.0.0.1:9/dead")
    watcher = await subscribe(stack, ["webhook_endpoint.disabled"], url="http://127.0.0.1:9/ok")
    receiver.answer = lambda r: httpx.Response(503 if r.url.path == "/dead" else 204)
    async with stack.services.records.sessions.begin() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(failing["id"]))
            .values(failing_since=utcnow() - timedelta(days=5, minutes=1))
        )
    await stack.services.accounts.create_connection(
        stack.tenant, connector="flatchr", account_key="a", settings={}
    )
    await stack.services.delivery.drain()
    state = (await stack.client.get(f"{HOOKS}/{failing['id']}", headers=auth(stack))).json()
    assert state["enabled"] is False and "5 days" in state["disabled_reason"]
    disabled = [
        e for e in receiver.events(watcher["secret"], "/ok") if e["type"].startswith("webhook")
    ]
    assert [e["data"]["endpoint_id"] for e in disabled] == [failing["id"]]
    page = (
        await stack.client.get(f"{HOOKS}/{failing['id']}/deliveries", headers=auth(stack))
    ).json()
    assert [d["state"] for d in page["items"]] == ["cancelled"]
    redeliver = await stack.client.post(
        f"{HOOKS}/{failing['id']}/deliveries/{page['items'][0]['id']}/redeliver",
        headers=auth(stack),
    )
    assert redeliver.status_code == 409 and "enable it" in redeliver.json()["detail"]

    enabled = await stack.client.patch(
        f"{HOOKS}/{failing['id']}", json={"enabled": True}, headers=auth(stack)
    )
    assert enabled.json()["enabled"] is True and enabled.json()["failing_since"] is None


async def test_a_claim_cancels_deliveries_whose_endpoint_was_disabled_meanwhile(
    stack: Stack, receiver: Receiver
) -> None:
    gone = await subscribe(stack, ["connection.created"], url="http://127.0.0.1:9/gone")
    await subscribe(stack, ["connection.created"], url="http://127.0.0.1:9/live")
    for n in range(3):
        await stack.services.accounts.create_connection(
            stack.tenant, connector="flatchr", account_key=f"k{n}", settings={}
        )
    assert await stack.services.delivery.dispatch() > 0
    # Disabled in the store behind the API's back (its pending deliveries stay pending).
    async with stack.services.records.sessions.begin() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(gone["id"]))
            .values(enabled=False)
        )
    await stack.services.delivery.drain()
    assert [r.url.path for r in receiver.requests] == ["/live"] * 3
    page = (await stack.client.get(f"{HOOKS}/{gone['id']}/deliveries", headers=auth(stack))).json()
    assert [d["state"] for d in page["items"]] == ["cancelled"] * 3


async def test_redelivery_sends_the_same_event_again_now(stack: Stack, receiver: Receiver) -> None:
    endpoint = await subscribe(stack, ["connection.created"])
    await stack.services.accounts.create_connection(
        stack.tenant, connector="flatchr", account_key="a", settings={}
    )
    await stack.services.delivery.drain()
    [delivery] = (
        await stack.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=auth(stack))
    ).json()["items"]
    again = await stack.client.post(
        f"{HOOKS}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver", headers=auth(stack)
    )
    assert again.status_code == 202 and again.json()["state"] == "pending"
    await stack.services.delivery.drain()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery["event_id"]] * 2
    missing = await stack.client.post(
        f"{HOOKS}/{endpoint['id']}/deliveries/{uuid.uuid4()}/redeliver", headers=auth(stack)
    )
    assert missing.status_code == 404


async def test_a_rotated_secret_overlaps_then_the_old_one_stops(
    stack: Stack, receiver: Receiver
) -> None:
    endpoint = await subscribe(stack, ["connection.created"])
    rotated = await stack.client.post(
        f"{HOOKS}/{endpoint['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=auth(stack),
    )
    new = rotated.json()["secret"]
    assert new != endpoint["secret"] and rotated.json()["previous_secret_expires_at"]
    await stack.services.accounts.create_connection(
        stack.tenant, connector="flatchr", account_key="a", settings={}
    )
    await stack.services.delivery.drain()
    receiver.events(endpoint["secret"])  # the old secret still verifies...
    receiver.events(new)  # ...and so does the new one
    assert len(receiver.requests[0].headers["webhook-signature"].split(" ")) == 2

    await stack.client.post(
        f"{HOOKS}/{endpoint['id']}/rotate-secret",
        json={"overlap_seconds": 0},
        headers=auth(stack),
    )
    receiver.requests.clear()
    await stack.services.accounts.create_connection(
        stack.tenant, connector="flatchr", account_key="b", settings={}
    )
    await stack.services.delivery.drain()
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        receiver.events(new)
    assert len(receiver.requests[0].headers["webhook-signature"].split(" ")) == 1


async def test_the_delivery_log_pages_newest_first_with_cursors_bound_to_the_endpoint(
    stack: Stack, receiver: Receiver
) -> None:
    endpoint = await subscribe(stack, ["connection.created"])
    other = await subscribe(stack, ["sync.*"])
    for n in range(5):
        await stack.services.accounts.create_connection(
            stack.tenant, connector="flatchr", account_key=f"a{n}", settings={}
        )
    await stack.services.delivery.drain()
    seen, cursor = [], None
    while True:
        url = f"{HOOKS}/{endpoint['id']}/deliveries?page_size=2"
        page = (
            await stack.client.get(
                url + (f"&cursor={cursor}" if cursor else ""), headers=auth(stack)
            )
        ).json()
        seen += [d["payload"]["data"]["account"] for d in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break
        reused = await stack.client.get(
            f"{HOOKS}/{other['id']}/deliveries?page_size=2&cursor={cursor}", headers=auth(stack)
        )
        assert reused.status_code == 400
    assert seen == [f"a{n}" for n in reversed(range(5))]
    failed = await stack.client.get(
        f"{HOOKS}/{endpoint['id']}/deliveries?state=failed", headers=auth(stack)
    )
    assert failed.json()["items"] == []


async def test_endpoint_secrets_never_reach_the_logs(
    stack: Stack, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = await subscribe(stack, ["connection.created"])
    receiver.answer = lambda _: httpx.Response(500)
    await stack.services.accounts.create_connection(
        stack.tenant, connector="flatchr", account_key="a", settings={}
    )
    await stack.services.delivery.drain()
    assert receiver.requests
    assert endpoint["secret"] not in caplog.text
    assert endpoint["secret"].removeprefix("whsec_") not in caplog.text


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite: one process
async def test_two_workers_never_send_one_delivery_twice(stack: Stack, receiver: Receiver) -> None:
    await subscribe(stack, ["connection.created"])
    for n in range(60):
        await stack.services.accounts.create_connection(
            stack.tenant, connector="flatchr", account_key=f"k{n}", settings={}
        )
    workers = [
        DeliveryWorker(
            stack.services.records.sessions,
            stack.services.webhooks,
            TargetPolicy.parse("127.0.0.1/32"),
            transport=httpx.MockTransport(receiver.handle),
            skip_locked=True,
            batch=7,
        )
        for _ in range(3)
    ]
    await asyncio.gather(*(w.drain() for w in workers))
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 60 and len(set(ids)) == 60


async def test_the_docs_receiver_verifies_applies_once_and_refuses_forgeries(stack: Stack) -> None:
    """docs/webhooks.md's example, as written, behind the real delivery worker."""
    applied: list[tuple[str, str]] = []
    seen: set[str] = set()
    receiver = Receiver()
    use_receiver(stack, receiver)
    endpoint = await subscribe(stack, ["connection.created"])
    handle = example("webhooks.md", "verify-and-dedupe")["make_handler"](
        endpoint["secret"], seen, lambda kind, data: applied.append((kind, data["account"]))
    )
    receiver.answer = lambda request: httpx.Response(handle(request.content, dict(request.headers)))
    for account in ("a", "b"):
        await stack.services.accounts.create_connection(
            stack.tenant, connector="flatchr", account_key=account, settings={}
        )
    await stack.services.delivery.drain()
    assert applied == [("connection.created", "a"), ("connection.created", "b")]
    [latest, _] = (
        await stack.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=auth(stack))
    ).json()["items"]
    await stack.client.post(
        f"{HOOKS}/{endpoint['id']}/deliveries/{latest['id']}/redeliver", headers=auth(stack)
    )
    await stack.services.delivery.drain()
    assert len(receiver.requests) == 3 and len(applied) == 2  # the repeat was recognised
    forged = receiver.requests[0]
    body = forged.content.replace(b'"a"', b'"z"')
    assert handle(body, dict(forged.headers)) == 401 and len(applied) == 2


async def test_a_run_whose_process_died_is_reported_failed_when_the_next_run_starts(
    stack: Stack, receiver: Receiver
) -> None:
    from unified_ats.store.sync_runs import FollowUp

    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    await subscribe(stack, ["sync.*"])
    runs, now = stack.services.runs, utcnow()
    dead = await runs.acquire_or_queue(
        connection_id, uuid.uuid4(), now=now, ttl=0.2, want=FollowUp.AUTO
    )
    assert dead is not None
    await runs.start(connection_id, dead.run_id, full=True, updated_since=None, now=now, ttl=0.2)
    await asyncio.sleep(0.3)  # killed: it never heartbeats again
    await stack.services.sync(connection_id, full=True)
    await stack.services.delivery.drain()
    events = receiver.events()
    assert [e["type"] for e in events] == [
        "sync.started",  # the dead run's
        "sync.failed",
        "sync.started",
        "sync.succeeded",
    ]
    failed = events[1]["data"]
    assert failed["run_id"] == str(dead.run_id) and failed["state"] == "abandoned"
    assert "stopped renewing" in failed["error"]
