"""What a client may rely on at the edge of the API: sealed cursors bound to their listing,
conditional reads, and request limits that answer 4xx before anything is read or parsed."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import WK_KEY, WK_ORG, Stack
from unified_ats.api.limits import MAX_DEPTH, DepthExceeded, check_depth

API = "/api/ats/v1"


async def first_page(stack: Stack, token: str, path: str = "/candidates", **params) -> dict:
    response = await stack.client.get(
        f"{API}{path}", params={"page_size": 5, **params}, headers=stack.headers(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_cursor_reveals_no_position_and_pages_on_with_another_page_size(
    stack: Stack,
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    cursor = (await first_page(stack, token))["cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    with pytest.raises(ValueError):
        json.loads(raw)
    assert b'"s"' not in raw
    # Shaping parameters may change between pages: they change the items' form, not the set.
    response = await stack.client.get(
        f"{API}/candidates",
        params={"cursor": cursor, "page_size": 7, "include_raw_data": "true"},
        headers=stack.headers(token),
    )
    assert response.status_code == 200, response.text
    first = {c["id"] for c in (await first_page(stack, token))["items"]}
    assert first.isdisjoint(c["id"] for c in response.json()["items"])


async def test_a_cursor_is_refused_on_another_connection_listing_or_filter(stack: Stack) -> None:
    flatchr = (await stack.connect_flatchr())["connector_token"]
    welcomekit = (
        await stack.connect("welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG})
    )["connector_token"]
    cursor = (await first_page(stack, flatchr, modified_after="2000-01-01T00:00:00Z"))["cursor"]
    assert cursor
    misuses = [
        (welcomekit, "/candidates", {"modified_after": "2000-01-01T00:00:00Z"}),
        (flatchr, "/applications", {"modified_after": "2000-01-01T00:00:00Z"}),
        (flatchr, "/candidates", {"modified_after": "2001-01-01T00:00:00Z"}),
        (flatchr, "/candidates", {}),
    ]
    for token, path, params in misuses:
        response = await stack.client.get(
            f"{API}{path}", params={**params, "cursor": cursor}, headers=stack.headers(token)
        )
        assert response.status_code == 400, (path, params, response.text)
        assert "cursor" in response.json()["detail"]
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    response = await stack.client.get(
        f"{API}/candidates",
        params={"modified_after": "2000-01-01T00:00:00Z", "cursor": tampered},
        headers=stack.headers(flatchr),
    )
    assert response.status_code == 400


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cursor=st.one_of(st.text(max_size=80), st.binary(max_size=60).map(base64.b64encode)))
async def test_no_cursor_a_client_makes_up_is_a_server_error(stack: Stack, cursor) -> None:
    if not hasattr(stack, "_token"):
        stack._token = (await stack.connect_flatchr())["connector_token"]  # type: ignore[attr-defined]
    response = await stack.client.get(
        f"{API}/jobs",
        params={"cursor": cursor if isinstance(cursor, str) else cursor.decode()},
        headers=stack.headers(stack._token),  # type: ignore[attr-defined]
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["detail"].startswith(("cursor", "query parameters must not"))


async def test_a_single_read_carries_an_etag_and_answers_a_match_with_304(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    candidate = (await first_page(stack, token))["items"][0]
    url = f"{API}/candidates/{candidate['id']}"
    first = await stack.client.get(url, headers=stack.headers(token))
    etag = first.headers["etag"]
    again = await stack.client.get(url, headers={**stack.headers(token), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = await stack.client.get(
        url,
        params={"include_raw_data": "true"},
        headers={**stack.headers(token), "If-None-Match": etag},
    )
    assert other.status_code == 200 and other.headers["etag"] != etag
    stale = await stack.client.get(url, headers={**stack.headers(token), "If-None-Match": '"old"'})
    assert stale.status_code == 200 and stale.json() == first.json()


class Counted:
    """A request body that counts what the server actually pulled from it."""

    def __init__(self, chunks: int, chunk: bytes = b" " * 65536, delay: float = 0.0) -> None:
        self.chunks, self.chunk, self.delay, self.sent = chunks, chunk, delay, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"connector": "flatchr", "settings": {"pad": "'
        for _ in range(self.chunks):
            if self.delay:
                await asyncio.sleep(self.delay)
            self.sent += len(self.chunk)
            yield self.chunk
        yield b'"}}'


async def test_no_body_is_read_before_the_api_key_is_checked(stack: Stack) -> None:
    for headers in ({}, {"Authorization": "Bearer uats_sk_not-a-key"}):
        body = Counted(chunks=200)
        response = await stack.client.post(f"{API}/connections", content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body.sent == 0


@pytest.mark.parametrize("path", ["/candidates", "/applications", "/../v1/passthrough"])
async def test_no_body_is_read_before_the_connector_token_is_checked(
    stack: Stack, path: str
) -> None:
    """A data route acts on one connection: a missing or invalid token is a
    401 before the body is read, never a 400 about the body."""
    url = f"{API}{path}" if not path.startswith("/..") else "/api/v1/passthrough"
    auth = {"Authorization": f"Bearer {stack.api_key}", "Content-Type": "application/json"}
    for token in (None, "uats_ct_not-a-token"):
        body = Counted(chunks=50)
        headers = {**auth, **({"x-connector-token": token} if token else {})}
        response = await stack.client.post(url, content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert body.sent == 0
    raw = await stack.client.post(
        url, content=b"y\xaeE", headers={**auth, "x-connector-token": "x"}
    )
    assert raw.status_code == 401


async def test_a_body_past_the_limit_is_a_413_declared_or_streamed(stack: Stack) -> None:
    stack.services.settings.max_body_bytes = 256 * 1024
    auth = {"Authorization": f"Bearer {stack.api_key}", "Content-Type": "application/json"}
    declared = await stack.client.post(
        f"{API}/connections", content=b"{" + b" " * 300_000 + b"}", headers=auth
    )
    assert declared.status_code == 413 and declared.json()["detail"]
    streamed = Counted(chunks=1000)
    response = await stack.client.post(f"{API}/connections", content=streamed, headers=auth)
    assert response.status_code == 413
    assert streamed.sent <= 512 * 1024


async def test_a_body_that_trickles_in_is_cut_with_408(stack: Stack) -> None:
    stack.services.settings.body_timeout_seconds = 0.3
    auth = {"Authorization": f"Bearer {stack.api_key}", "Content-Type": "application/json"}
    slow = Counted(chunks=100, chunk=b" ", delay=0.05)
    response = await stack.client.post(f"{API}/connections", content=slow, headers=auth)
    assert response.status_code == 408 and "did not arrive" in response.json()["detail"]
    assert slow.sent < 100


@pytest.mark.parametrize("depth", [65, 100_000])
async def test_json_nested_too_deep_is_a_422_before_any_parser_sees_it(
    stack: Stack, depth: int
) -> None:
    auth = {"Authorization": f"Bearer {stack.api_key}", "Content-Type": "application/json"}
    body = b'{"connector": "flatchr", "settings": ' + b"[" * depth + b"]" * depth + b"}"
    response = await stack.client.post(f"{API}/connections", content=body, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_too_deep"
    # Brackets inside strings are text, not nesting.
    quoted = json.dumps({"connector": "flatchr", "settings": {"x": "[" * 1000}}).encode()
    response = await stack.client.post(f"{API}/connections", content=quoted, headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] != "json_too_deep"


@pytest.mark.parametrize(
    "base_url",
    ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "http://u:p@example.com", "ftp://x"],
)
async def test_a_base_url_override_is_an_http_origin_and_only_where_the_operator_allows(
    stack: Stack, base_url: str
) -> None:
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    settings = {"api_key": "k" * 20, "company_id": "c1", "base_url": base_url}
    body = {"connector": "flatchr", "settings": settings}
    refused = await stack.client.post(f"{API}/connections", json=body, headers=auth)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "base_url cannot be set on this server"
    stack.services.pool.allow_base_url_override = True
    invalid = await stack.client.post(f"{API}/connections", json=body, headers=auth)
    assert invalid.status_code == 422, invalid.text
    [error] = invalid.json()["detail"]
    assert error["loc"] == ["body", "settings", "base_url"]
    assert "http(s)" in error["msg"] or "credentials" in error["msg"]
    assert "input" not in error and base_url not in invalid.text


def nesting(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values, wrap=st.integers(min_value=0, max_value=70))
def test_the_depth_check_counts_nesting_as_a_parser_would(value: object, wrap: int) -> None:
    """Brackets in strings (escaped quotes included) never count; real nesting always does."""
    for _ in range(wrap):
        value = [value]
    body = json.dumps(value, ensure_ascii=False).encode()
    if nesting(value) > MAX_DEPTH:
        with pytest.raises(DepthExceeded):
            check_depth(body)
    else:
        check_depth(body)
