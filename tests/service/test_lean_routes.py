"""Read routes resolved the lean way answer exactly what FastAPI's own handler answers.

``api.lean`` validates a read route's parameters in one step and calls its dependencies
directly; anything that does not validate goes to FastAPI's handler. Whatever the query, the
two must give the same status and body.
"""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import Stack
from unified_ats.api.app import create_app
from unified_ats.api.lean import LeanPlan, LeanRoute
from unified_ats.api.routes import applications, attachments, candidates, jobs

API = "/api/ats/v1"
LIST_KEYS = [
    "cursor",
    "page_size",
    "ids",
    "remote_id",
    "first_name",
    "modified_after",
    "include_raw_data",
    "include_custom_fields",
    "include_deleted",
    "expand",
    "unknown",
]
values = st.one_of(
    st.sampled_from(["true", "false", "1", "0", "yes", "", "50", "0", "201", "-1", "2026-01-01"]),
    st.text(max_size=12),
)
queries = st.lists(st.tuples(st.sampled_from(LIST_KEYS), values), max_size=4)


@pytest.fixture
async def standard(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The same services behind an app whose read routes use FastAPI's own handler: plain
    APIRoutes for the same endpoints, matched before the lean ones."""
    app = create_app(services=stack.services)
    plain = [
        APIRoute(route.path, route.endpoint, methods=list(route.methods), name=route.name)
        for module in (candidates, applications, jobs, attachments)
        for route in module.router.routes
        if isinstance(route, LeanRoute)
    ]
    app.router.routes[:0] = plain
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


def _comparable(response: httpx.Response) -> tuple[int, object, str | None]:
    body = response.json() if response.content else None
    if isinstance(body, dict) and body.get("cursor"):
        body["cursor"] = "sealed afresh on every request"
    return response.status_code, body, response.headers.get("etag")


def test_the_read_routes_are_lean() -> None:
    """The hot reads take the lean path (a route it cannot resolve would silently not)."""
    lean_routes = {
        route.name: LeanPlan.of(route.name, route.dependant, route.endpoint) is not None
        for module in (candidates, applications, jobs, attachments)
        for route in module.router.routes
        if isinstance(route, LeanRoute)
    }
    for name in ("candidates_list", "candidates_get", "applications_list", "jobs_get"):
        assert lean_routes[name], name


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries, which=st.sampled_from(["list", "one", "one-missing"]))
async def test_any_query_gets_the_answer_fastapi_gives(
    stack: Stack, standard: httpx.AsyncClient, query: list[tuple[str, str]], which: str
) -> None:
    if not hasattr(stack, "_lean_token"):
        stack._lean_token = (await stack.connect_flatchr())["connector_token"]  # type: ignore[attr-defined]
    headers = stack.headers(stack._lean_token)  # type: ignore[attr-defined]
    path = f"{API}/candidates"
    if which != "list":
        first = (await stack.client.get(path, params={"page_size": 1}, headers=headers)).json()
        candidate = first["items"][0]["id"] if which == "one" else "not-a-uuid"
        path = f"{path}/{candidate}"
        query = [
            (k, v)
            for k, v in query
            if k in {"include_raw_data", "include_custom_fields", "expand", "unknown"}
        ]
    lean_answer = await stack.client.get(path, params=query, headers=headers)
    fastapi_answer = await standard.get(path, params=query, headers=headers)
    assert lean_answer.status_code < 500, lean_answer.text
    assert _comparable(lean_answer) == _comparable(fastapi_answer), json.dumps(query)


async def test_credentials_are_checked_the_same_way(
    stack: Stack, standard: httpx.AsyncClient
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    good = stack.headers(token)
    for headers in (
        {},
        {"Authorization": good["Authorization"]},
        {**good, "x-connector-token": "uats_ct_wrong"},
        {**good, "Authorization": "Basic abc"},
        {**good, "Authorization": "Bearer uats_sk_wrong"},
    ):
        lean_answer = await stack.client.get(f"{API}/candidates", headers=headers)
        fastapi_answer = await standard.get(f"{API}/candidates", headers=headers)
        assert lean_answer.status_code == 401
        assert _comparable(lean_answer) == _comparable(fastapi_answer)


async def test_the_comparison_is_between_the_two_paths(
    stack: Stack, standard: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The baseline above really is FastAPI's handler, and the app really takes the lean one."""
    calls: list[str] = []
    parameters = LeanPlan.parameters

    def counted(self: LeanPlan, request: object) -> object:
        calls.append("lean")
        return parameters(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(LeanPlan, "parameters", counted)
    headers = stack.headers((await stack.connect_flatchr())["connector_token"])
    assert (await standard.get(f"{API}/candidates", headers=headers)).status_code == 200
    assert calls == []
    assert (await stack.client.get(f"{API}/candidates", headers=headers)).status_code == 200
    assert calls == ["lean"]
