"""``POST /api/v1/passthrough``: raw vendor requests that stay under the vendor's API, carry the
connection's credentials (never the caller's), are audited, bounded and idempotent."""

import base64
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, WK_KEY, WK_ORG, Stack
from unified_ats.writes import WriteRejected
from unified_ats.writes.passthrough import vendor_path

PASSTHROUGH = "/api/v1/passthrough"


async def send(stack: Stack, token: str, body: dict, **headers: str):
    return await stack.client.post(
        PASSTHROUGH, json=body, headers={**stack.headers(token), **headers}
    )


async def test_a_get_reaches_the_vendor_with_the_connections_credentials(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await send(
        stack, token, {"method": "GET", "path": f"/company/{FLATCHR_COMPANY}/vacancies"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == 200 and answer["response_format"] == "JSON"
    assert isinstance(answer["data"], list) and answer["data"]
    assert set(answer["headers"]) <= {"content-type", "retry-after", "etag", "x-total-count"}
    assert FLATCHR_KEY not in response.text


async def test_vendor_errors_are_passed_through_in_the_envelope(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await send(stack, token, {"method": "GET", "path": "/company/nope/vacancies"})
    assert response.status_code == 200
    assert response.json()["status"] in (401, 403, 404)


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/company/../../admin",
        "/company/%2e%2e/admin",
        "/company/%252e%252e/admin",
        "/company?x=1",
        "/a\\b",
        "/a b",
    ],
)
async def test_paths_that_leave_the_vendor_api_are_a_422_without_a_request(
    stack: Stack, path: str
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    seen = stack.flatchr.app.requests_seen
    response = await send(stack, token, {"method": "GET", "path": path})
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "path"] and problem["type"] == "path_invalid"
    assert stack.flatchr.app.requests_seen == seen


@pytest.mark.parametrize(
    "header", ["Authorization", "authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "Host"]
)
async def test_the_callers_own_credentials_are_refused(stack: Stack, header: str) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await send(
        stack, token, {"method": "GET", "path": "/x", "headers": {header: "Bearer mine"}}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "header_refused"


async def test_one_audit_line_per_call_without_bodies(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    caplog.set_level(logging.INFO, logger="unified_ats.passthrough")
    await send(
        stack,
        token,
        {
            "method": "POST",
            "path": f"/company/{FLATCHR_COMPANY}/search/applicants",
            "data": {"firstname": "Sentinelle"},
        },
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "unified_ats.passthrough"]
    assert len(lines) == 1
    assert f"tenant={stack.tenant}" in lines[0] and "method=POST" in lines[0]
    assert "status=200" in lines[0] and "/search/applicants" in lines[0]
    assert "Sentinelle" not in caplog.text and FLATCHR_KEY not in caplog.text


async def test_binary_answers_come_base64(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await send(
        stack,
        token,
        {
            "method": "GET",
            "path": f"/company/{FLATCHR_COMPANY}/vacancies",
            "response_format": "BINARY",
        },
    )
    answer = response.json()
    assert answer["response_format"] == "BINARY"
    assert base64.b64decode(answer["data"]).startswith(b"[")


async def test_the_same_idempotency_key_replays_without_a_second_vendor_call(
    stack: Stack,
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    body = {"method": "POST", "path": f"/company/{FLATCHR_COMPANY}/search/applicants"}
    first = await send(stack, token, body, **{"Idempotency-Key": "k-1"})
    seen = stack.flatchr.app.requests_seen
    again = await send(stack, token, body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert stack.flatchr.app.requests_seen == seen
    other = await send(
        stack, token, {**body, "data": {"firstname": "x"}}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 422
    assert other.json()["detail"][0]["type"] == "idempotency_key_reused"


async def test_idempotency_keys_are_per_connection(stack: Stack) -> None:
    flatchr = (await stack.connect_flatchr())["connector_token"]
    welcomekit = (
        await stack.connect("welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG})
    )["connector_token"]
    body = {"method": "GET", "path": f"/organizations/{WK_ORG}"}
    await send(stack, flatchr, {"method": "GET", "path": "/x"}, **{"Idempotency-Key": "same"})
    response = await send(stack, welcomekit, body, **{"Idempotency-Key": "same"})
    assert response.status_code == 200, response.text
    assert "idempotent-replayed" not in response.headers


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.text(min_size=1, max_size=40))
def test_an_accepted_path_never_climbs_out_of_the_base(path: str) -> None:
    try:
        accepted = vendor_path(path)
    except WriteRejected:
        return
    from urllib.parse import unquote

    decoded = unquote(unquote(unquote(accepted)))
    assert accepted.startswith("/") and not accepted.startswith("//")
    assert ".." not in decoded.split("/") and "://" not in decoded


async def test_a_vendor_answer_that_is_not_the_json_asked_for_comes_as_text(
    stack: Stack,
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await send(
        stack, token, {"method": "GET", "path": "/no-such-route", "response_format": "JSON"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == 404 and answer["response_format"] == "TEXT"
    assert isinstance(answer["data"], str)
