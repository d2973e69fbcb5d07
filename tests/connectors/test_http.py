"""The shared HTTP toolkit: retries, Retry-After, error table, redaction, rate limiting."""

import asyncio
import itertools
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.errors import (
    AuthFailed,
    InvalidVendorResponse,
    NotFound,
    RateLimited,
    VendorRejectedRequest,
    VendorTimeout,
    VendorUnavailable,
)
from connectors.sdk.http import RetryPolicy, VendorHttp, json_body, parse_retry_after
from connectors.sdk.ratelimit import InMemoryRateLimiter, RateRule
from connectors.sdk.secrets import Redactor
from tests.helpers import VirtualClock

SECRET = "sk_live_verysecretvalue"


def vendor_http(handler, *, clock: VirtualClock | None = None, **kwargs) -> VendorHttp:
    clock = clock or VirtualClock()
    return VendorHttp(
        vendor="Acme",
        base_url="https://api.acme.test",
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        sleep=clock.sleep,
        redactor=Redactor([SECRET]),
        limiter=InMemoryRateLimiter(clock=clock, sleep=clock.sleep),
        **kwargs,
    )


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30)), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30)), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_any_delta_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)


async def test_transient_5xx_is_retried_with_backoff_then_succeeds() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503 if len(calls) < 3 else 200, json={"ok": True})

    clock = VirtualClock()
    http = vendor_http(handler, clock=clock, retry=RetryPolicy(max_attempts=4, base_delay=0.5))
    assert await http.get_json("/things") == {"ok": True}
    assert len(calls) == 3
    assert len(clock.slept) == 2
    assert 0.25 <= clock.slept[0] <= 0.5 and 0.5 <= clock.slept[1] <= 1.0  # exponential, jittered


async def test_retry_after_is_honoured() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "3"})
        return httpx.Response(200, json=[])

    clock = VirtualClock()
    await vendor_http(handler, clock=clock).get_json("/x")
    assert clock.slept == [3.0]


async def test_retry_after_beyond_cap_is_not_waited_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"})

    clock = VirtualClock()
    http = vendor_http(handler, clock=clock, retry=RetryPolicy(max_delay=30))
    with pytest.raises(RateLimited) as caught:
        await http.get_json("/x")
    assert caught.value.retry_after == 3600.0
    assert clock.slept == []


async def test_non_idempotent_request_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    with pytest.raises(VendorUnavailable):
        await vendor_http(handler).request("POST", "/candidates", json={})
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, VendorRejectedRequest),
        (401, AuthFailed),
        (403, AuthFailed),
        (404, NotFound),
        (422, VendorRejectedRequest),
        (429, RateLimited),
        (500, VendorUnavailable),
        (503, VendorUnavailable),
        (504, VendorTimeout),
        (599, VendorUnavailable),
        (418, VendorRejectedRequest),
    ],
)
async def test_status_table(status: int, error: type[Exception]) -> None:
    http = vendor_http(lambda request: httpx.Response(status), retry=RetryPolicy(max_attempts=2))
    with pytest.raises(error):
        await http.get_json("/x")


async def test_network_errors_and_timeouts_map_after_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(VendorUnavailable, match="after 4 attempts"):
        await vendor_http(refuse).get_json("/x")
    with pytest.raises(VendorTimeout):
        await vendor_http(stall).get_json("/x")


async def test_malformed_json_is_invalid_vendor_response() -> None:
    http = vendor_http(lambda request: httpx.Response(200, content=b"{not json"))
    response = await http.request("GET", "/x")
    with pytest.raises(InvalidVendorResponse):
        json_body(response)


async def test_secrets_never_reach_error_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A vendor that echoes the credential back in its error body.
        return httpx.Response(401, json={"message": f"bad token {SECRET}"})

    http = vendor_http(handler, describe_error=lambda r: r.json()["message"])
    with pytest.raises(AuthFailed) as caught:
        await http.get_json(f"/files?token={SECRET}&key=abc")
    text = f"{caught.value} {caught.value!r}"
    assert SECRET not in text
    assert "token=" not in text  # the query string is never shown
    assert "bad token ***" in text


async def test_rate_limiter_spaces_calls_per_key_and_serializes_them() -> None:
    clock = VirtualClock()
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep)
    starts: dict[str, list[float]] = {"a": [], "b": []}
    active = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}

    async def call(key: str) -> None:
        async with limiter.slot(RateRule(key=key, min_interval=1.0)):
            starts[key].append(clock())
            active[key] += 1
            peak[key] = max(peak[key], active[key])
            await asyncio.sleep(0)
            active[key] -= 1

    await asyncio.gather(*(call(k) for k in ["a", "b"] * 5))
    for key in ("a", "b"):
        gaps = [b - a for a, b in zip(starts[key], starts[key][1:], strict=False)]
        assert all(gap >= 1.0 for gap in gaps)
        assert peak[key] == 1


async def test_long_retry_after_on_503_stays_vendor_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "7200"})

    clock = VirtualClock()
    with pytest.raises(VendorUnavailable, match="asked to retry after 7200s"):
        await vendor_http(handler, clock=clock).get_json("/x")
    assert clock.slept == []


PAGE = "https://api.acme.test/v3/companies/4/projects/1/candidates/?page=1&page_size=5"


@pytest.mark.parametrize(
    ("link", "resolved"),
    [
        (
            "?page=2&page_size=5",
            "https://api.acme.test/v3/companies/4/projects/1/candidates/?page=2&page_size=5",
        ),
        (
            "/v3/companies/4/projects/1/candidates/?page=2",
            "https://api.acme.test/v3/companies/4/projects/1/candidates/?page=2",
        ),
        (
            "../../2/candidates/?page=2",
            "https://api.acme.test/v3/companies/4/projects/2/candidates/?page=2",
        ),
        ("https://api.acme.test/v3/x/?page=2", "https://api.acme.test/v3/x/?page=2"),
        ("https://API.acme.test:443/v3/x/", "https://API.acme.test:443/v3/x/"),
    ],
)
def test_paging_links_resolve_as_a_browser_would(link: str, resolved: str) -> None:
    http = vendor_http(lambda request: httpx.Response(200))
    assert http.resolve_link(link, page_url=PAGE) == resolved


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.test/v3/?page=2",
        "//evil.test/v3/?page=2",
        "http://api.acme.test/v3/?page=2",  # another scheme is another origin
        "https://api.acme.test:8443/v3/?page=2",
        "https://api.acme.test.evil.test/",
    ],
)
def test_paging_links_that_leave_the_vendor_are_refused(link: str) -> None:
    http = vendor_http(lambda request: httpx.Response(200))
    with pytest.raises(InvalidVendorResponse, match="another host"):
        http.resolve_link(link, page_url=PAGE)


@given(st.text(alphabet="abc/?=&.%:", max_size=30))
def test_a_resolved_link_never_leaves_the_vendor_origin(link: str) -> None:
    http = vendor_http(lambda request: httpx.Response(200))
    try:
        resolved = http.resolve_link(link, page_url=PAGE)
    except (InvalidVendorResponse, ValueError):
        return
    parts = urlsplit(resolved)
    assert (parts.scheme, parts.hostname, parts.port or 443) == ("https", "api.acme.test", 443)


async def test_connectors_share_one_tls_trust_store() -> None:
    """A worker holds a client per connection: each loading the CA bundle again cost ~0.85 MB
    per connection (0.7 MB per connection measured at 2,000 connections)."""
    clients = [VendorHttp(vendor="Acme", base_url="https://api.acme.test") for _ in range(3)]
    try:
        contexts = {id(c.client._transport.ssl_context) for c in clients}  # type: ignore[attr-defined]
        assert len(contexts) == 1
        # The shared context still verifies vendors' certificates.
        (context,) = {c.client._transport.ssl_context for c in clients}  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    finally:
        for c in clients:
            await c.aclose()


class LoopbackVendor:
    """A plain HTTP/1.1 server on 127.0.0.1 that answers after ``delay``: counts the TCP
    connections it is given and the requests in flight at once."""

    def __init__(self, delay: float = 0.05, body: Callable[[bytes], bytes] | None = None) -> None:
        self.delay = delay
        self.body = body or (lambda path: b'{"path": "' + path + b'"}')
        self.connections = 0
        self.in_flight = self.peak = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                path = head.split(b" ", 2)[1]
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                await asyncio.sleep(self.delay)
                self.in_flight -= 1
                body = self.body(path)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Set-Cookie: session=abc; Path=/\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


async def test_calls_in_flight_are_capped_and_connections_kept_alive() -> None:
    """The default transport (aiohttp's pool behind httpx) holds at most ``connections``
    connections to a vendor, queues the calls beyond them, and reuses each one."""
    vendor = LoopbackVendor(delay=0.05)
    async with vendor as base_url:
        http = VendorHttp(vendor="Acme", base_url=base_url, connections=3)
        try:

            async def call(i: int) -> object:
                return (await http.get_json(f"/documents/{i}"))["path"]

            paths = await asyncio.gather(*(call(i) for i in range(12)))
            assert paths == [f"/documents/{i}" for i in range(12)]
            assert vendor.peak == 3 and vendor.connections == 3
            await call(99)  # an idle kept-alive connection serves the next call
            assert vendor.connections == 3
        finally:
            await http.aclose()


async def test_a_vendor_that_drops_the_connection_is_unavailable_not_a_crash() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = VendorHttp(
        vendor="Acme",
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(max_attempts=2, base_delay=0.001),
    )
    try:
        with pytest.raises(VendorUnavailable, match="could not be reached") as raised:
            await http.get_json("/candidates", params={"api_key": "s3cr3t-value"})
        assert "s3cr3t-value" not in str(raised.value)
    finally:
        await http.aclose()
        server.close()


async def test_in_memory_limiter_spaces_starts_of_overlapping_calls_when_not_serial() -> None:
    clock = VirtualClock()
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep)
    rule = RateRule(key="acct", min_interval=0.5, serial=False)
    starts: list[float] = []
    active = peak = 0
    gate = asyncio.Event()

    async def call() -> None:
        nonlocal active, peak
        async with limiter.slot(rule):
            starts.append(clock.now)
            active += 1
            peak = max(peak, active)
            await gate.wait()
            active -= 1

    calls = [asyncio.ensure_future(call()) for _ in range(4)]
    for _ in range(20):
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*calls)
    assert peak == 4  # all in flight at once
    assert [b - a for a, b in itertools.pairwise(starts)] == [0.5, 0.5, 0.5]


@given(st.floats(allow_nan=False, allow_infinity=False) | st.none())
def test_a_per_second_rule_spaces_starts_only_for_a_positive_rate(rate: float | None) -> None:
    rule = RateRule.per_second("vendor:account", rate)
    if rate is None or rate <= 0:
        assert rule is None
    else:
        assert rule is not None and not rule.serial and rule.key == "vendor:account"
        assert rule.min_interval == 1 / rate


async def test_a_vendor_cookie_is_never_sent_back() -> None:
    """Every call carries its own credentials: a cookie a vendor sets is not kept for the next."""
    cookies: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"set-cookie": "session=abc; Path=/"})

    http = VendorHttp(
        vendor="Acme", base_url="https://api.acme.test", transport=httpx.MockTransport(handler)
    )
    try:
        await http.request("GET", "/a")
        await http.request("GET", "/a")
    finally:
        await http.aclose()
    assert cookies == [None, None]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/documents", {"candidate_reference": "wttj-1 2/é", "page": 1, "flag": True}),
        ("/documents", None),
        ("/documents?kept=1", None),
        ("/documents?replaced=1", {"page": 2}),
        ("/documents?replaced=1", {}),
        ("https://cdn.acme.test/f/x%20y.pdf?sig=1", {"a": ["1", "2"], "b": None}),
    ],
)
async def test_requests_go_to_the_url_httpx_would_build(
    path: str, params: dict[str, object] | None
) -> None:
    """URLs are parsed once per route, then given their params: the same URL as httpx builds
    from the text, whether the route is new or parsed before."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    http = vendor_http(handler)
    for _ in range(2):
        await http.request("GET", path, params=params)
    expected = httpx.Request("GET", http.url(path), params=params).url
    assert seen == [str(expected)] * 2


async def test_a_client_with_its_own_params_still_merges_them() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    http = VendorHttp(
        vendor="Acme",
        base_url="https://api.acme.test",
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler), params={"key": "k"}),
    )
    await http.request("GET", "/a", params={"page": 2})
    assert seen == ["https://api.acme.test/a?key=k&page=2"]


async def test_parsed_urls_are_bounded() -> None:
    http = vendor_http(lambda request: httpx.Response(200, json={}))
    for n in range(200):
        await http.request("GET", f"/candidates/{n}")
    assert 0 < len(http._parsed) <= 64


_url_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12
)


@given(
    path=st.lists(_url_text, max_size=3).map("/".join),
    query=st.none() | _url_text,
    fragment=st.none() | _url_text,
    params=st.none()
    | st.dictionaries(
        _url_text,
        st.none() | st.booleans() | st.integers() | _url_text | st.lists(_url_text, max_size=2),
        max_size=3,
    ),
)
def test_any_route_and_params_give_the_url_httpx_builds(
    path: str, query: str | None, fragment: str | None, params: dict[str, object] | None
) -> None:
    route = "/" + path + ("" if query is None else "?" + query)
    route += "" if fragment is None else "#" + fragment
    http = VendorHttp(vendor="Acme", base_url="https://api.acme.test/v1")
    try:
        expected = httpx.Request("GET", http.url(route), params=params).url
    except httpx.InvalidURL:
        return  # httpx refuses it either way
    for _ in range(2):  # parsed, then from the parsed route
        built = http._request_url(route, params)
        assert str(httpx.Request("GET", built).url) == str(expected)


async def test_the_default_transport_reads_calls_at_once_and_streams_what_is_streamed() -> None:
    """Calls VendorHttp does not stream get their whole body read by the transport in one go;
    a streamed call (a CV download) still arrives chunk by chunk, its body unread until asked.
    Both see the vendor's status, headers and bytes, and no cookie it sets."""
    big = b"x" * (3 * 1024 * 1024)
    vendor = LoopbackVendor(delay=0, body=lambda path: big if path == b"/file" else b'{"ok": 1}')
    async with vendor as base_url:
        http = VendorHttp(vendor="Acme", base_url=base_url)
        try:
            assert await http.get_json("/a", params={"q": "é 1"}) == {"ok": 1}
            response = await http.request("GET", "/a")
            # httpx wraps each transport's stream: what our transport answered is inside.
            assert isinstance(response.stream._stream, httpx.ByteStream)  # type: ignore[attr-defined]
            assert response.headers["content-type"] == "application/json"
            assert len(http.client.cookies) == 0
            async with http.stream("GET", "/file") as streamed:
                inner = streamed.stream._stream  # type: ignore[attr-defined]
                assert not isinstance(inner, httpx.ByteStream)
                chunks = [chunk async for chunk in streamed.aiter_raw()]
            assert b"".join(chunks) == big and len(chunks) > 1
        finally:
            await http.aclose()
