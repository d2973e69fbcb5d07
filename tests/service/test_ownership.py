"""Ownership before any side effect: every route, driven with tenant B's credentials and tenant
A's ids, leaves A untouched, in the store and in memory (its cached connector, its read cache).

The routes are enumerated from the app, so a route added later is audited without editing this.
"""

import re
import uuid
from typing import Any

from sqlalchemy import select

from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, Stack
from unified_ats.store.tables import (
    AttachmentRow,
    CandidateRow,
    Connection,
    SyncLease,
    SyncRun,
)

API = "/api/ats/v1"
B_COMPANY, B_KEY = "Bq9ZOtherCompany", "flt_tenant_b_key_77aa"


async def snapshot(stack: Stack, connection_id: uuid.UUID) -> dict[str, Any]:
    """Everything of one connection: rows, connection secrets, runs, lease, and memory."""
    async with stack.services.runs.sessions() as session:

        async def rows(statement: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in (await session.execute(statement)).all()]

        def columns(t: Any) -> tuple[Any, ...]:
            return (t.id, t.content_hash, t.modified_at, t.fetched_at, t.remote_was_deleted)

        state = {
            "candidates": await rows(
                select(*columns(CandidateRow)).where(CandidateRow.connection_id == connection_id)
            ),
            "attachments": await rows(
                select(*columns(AttachmentRow)).where(AttachmentRow.connection_id == connection_id)
            ),
            "connection": await rows(
                select(
                    Connection.token_hash,
                    Connection.webhook_secret_hash,
                    Connection.settings_encrypted,
                ).where(Connection.id == connection_id)
            ),
            "runs": await rows(
                select(SyncRun.id, SyncRun.state).where(SyncRun.connection_id == connection_id)
            ),
            "lease": await rows(
                select(SyncLease.holder).where(SyncLease.connection_id == connection_id)
            ),
        }
    connector = stack.services.pool._cache.get(connection_id)
    state["connector"] = (id(connector), connector is not None and connector.http.client.is_closed)
    state["read_cache"] = sorted(stack.services.records._hot.get(connection_id, {}))
    return state


def filled(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), template)


async def test_every_route_with_another_tenants_ids_changes_nothing_of_theirs(
    stack: Stack,
) -> None:
    a = await stack.connect_flatchr()
    a_id = uuid.UUID(a["id"])
    ha = stack.headers(a["connector_token"])
    a_items = (
        await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=ha)
    ).json()["items"]
    a_candidate = next(c for c in a_items if c["attachments"])
    # A's memory is warm: its connector is cached, its candidate is in the read cache.
    assert (
        await stack.client.get(f"{API}/candidates/{a_candidate['id']}", headers=ha)
    ).status_code == 200
    await stack.services.pool.for_connection(await stack.services.accounts.connection(a_id))

    stack.flatchr.add_company(
        company_id=B_COMPANY, api_key=B_KEY, name="Other Company", size=5, seed=42
    )
    _, b_key = await stack.services.accounts.create_tenant("b")
    created = await stack.client.post(
        f"{API}/connections",
        json={"connector": "flatchr", "settings": {"api_key": B_KEY, "company_id": B_COMPANY}},
        headers={"Authorization": f"Bearer {b_key}"},
    )
    assert created.status_code == 201
    await stack.services.wait_for_background()
    hb = stack.headers(created.json()["connector_token"], api_key=b_key)

    before = await snapshot(stack, a_id)
    ids = {
        "connection_id": str(a_id),
        "candidate_id": a_candidate["id"],
        "attachment_id": a_candidate["attachments"][0],
        "secret": "uats_wh_" + "x" * 40,
    }
    a_secrets = {str(a_id), a_candidate["id"], a_candidate["attachments"][0]}
    query = {
        "candidate": a_candidate["id"],
        "ids": a_candidate["id"],
        "include_deleted": "true",
    }
    audited = []
    document = (await stack.client.get("/openapi.json")).json()
    for template, operations in document["paths"].items():
        for method in sorted(m.upper() for m in operations):
            path = filled(template, ids)
            body: dict[str, Any] | None = None
            if method == "POST" and path.endswith("/connections"):
                body = {
                    "connector": "flatchr",
                    "settings": {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY},
                }
            response = await stack.client.request(
                method, path, headers=hb, params=query if method == "GET" else None, json=body
            )
            await stack.services.wait_for_background()
            audited.append((method, template, response.status_code))
            assert response.status_code < 500, (method, template, response.text)
            assert not any(s in response.text for s in a_secrets), (method, template)
            after = await snapshot(stack, a_id)
            assert after == before, f"{method} {template} changed tenant A's connection"
    paths = {p for _, p, _ in audited}
    assert (
        f"{API}/connections/{{connection_id}}" in paths
        and f"{API}/candidates/{{candidate_id}}" in paths
    )
    # A still works with its own credentials.
    assert (
        await stack.client.get(f"{API}/candidates/{a_candidate['id']}", headers=ha)
    ).status_code == 200
