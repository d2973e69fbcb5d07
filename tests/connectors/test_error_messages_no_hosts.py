"""Error messages reach API clients (``detail``) and operators (the CLI): they name the vendor,
the method and the path, never the host or port the connector talks to (a ``base_url`` may be
an internal address: an emulator, a proxy, a private vendor host)."""

from collections.abc import Callable

import httpx
import pytest

from connectors.sdk.errors import ConnectorError
from connectors.sdk.http import RetryPolicy, VendorHttp
from connectors.sdk.secrets import safe_target
from tests.helpers import VirtualClock

BASE = "http://10.20.30.40:8123/api/v2"
INTERNAL = ("10.20.30.40", "8123", "http://", "https://")


def failing(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if kind == "timeout":
            raise httpx.ReadTimeout("timed out talking to 10.20.30.40:8123", request=request)
        if kind == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if kind == "broken":
            return httpx.Response(200, content=b"<html>", request=request)
        if kind == "next":
            return httpx.Response(200, json={"next": "http://169.254.169.254/x"}, request=request)
        return httpx.Response(int(kind), json={"error": "nope"}, request=request)

    return handler


@pytest.mark.parametrize("kind", ["timeout", "refused", "broken", "next", "500", "401", "404"])
async def test_no_error_message_names_the_vendor_host_or_port(kind: str) -> None:
    clock = VirtualClock()
    http = VendorHttp(
        vendor="Acme",
        base_url=BASE,
        client=httpx.AsyncClient(transport=httpx.MockTransport(failing(kind))),
        sleep=clock.sleep,
        retry=RetryPolicy(max_attempts=2, base_delay=0.001),
    )
    with pytest.raises(ConnectorError) as caught:
        body, page_url = await http.get_json_page("/candidates/7", params={"token": "t"})
        http.resolve_link(body["next"], page_url=page_url)  # only "next" gets this far
    message = caught.value.message
    assert ("vendor" if kind == "broken" else "Acme") in message
    for part in INTERNAL:
        assert part not in message and part not in str(caught.value), message
    if kind != "next":
        assert "/api/v2/candidates/7" in message


def test_safe_target_keeps_the_path_only() -> None:
    assert safe_target("https://user:pw@10.0.0.1:8443/a/b?token=x#f") == "/a/b"
    assert safe_target("http://vendor.test") == "/"
    assert safe_target("/a/b?key=1") == "/a/b"
