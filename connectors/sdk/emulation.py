"""What every vendor emulator shares: injectable faults and an in-process transport.

Emulators are Starlette apps (extra ``emulators``); importing this module needs Starlette.
"""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

ErrorResponder = Callable[[int, str], Response]


@dataclass
class Faults:
    """Switches a test, benchmark or the demo flips to make the vendor misbehave."""

    latency: float = 0.0
    """Seconds added before every answer."""
    fail_status: int | None = None
    """Answer this status (with the vendor's error body) instead of serving."""
    fail_count: int | None = None
    """How many requests fail before the vendor recovers; None: until reset."""
    malformed_json: bool = False
    """Answer 200 with a truncated JSON body."""
    rate_limit_storm: bool = False
    """Answer 429 to everything."""
    retry_after: str | None = "1"
    """``Retry-After`` sent with injected 429/503s (seconds or an HTTP date)."""
    hang: bool = False
    """Never answer (the client's timeout must fire)."""
    only_paths: tuple[str, ...] = ()
    """Limit faults to paths starting with one of these prefixes; empty: every path."""

    def reset(self) -> None:
        for field in fields(self):
            setattr(self, field.name, field.default)

    def applies_to(self, path: str) -> bool:
        return not self.only_paths or path.startswith(self.only_paths)


class FaultMiddleware:
    """Applies :class:`Faults` before the emulator's routes see the request."""

    def __init__(self, app: ASGIApp, *, faults: Faults, error: ErrorResponder) -> None:
        self.app = app
        self.faults = faults
        self.error = error
        self.requests_seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faults.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        self.requests_seen += 1
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.hang:
            await asyncio.sleep(3600)
        response: Response | None = None
        if faults.rate_limit_storm:
            response = self.error(429, "Too Many Requests")
        elif faults.fail_status is not None and (
            faults.fail_count is None or faults.fail_count > 0
        ):
            if faults.fail_count is not None:
                faults.fail_count -= 1
            response = self.error(faults.fail_status, "Injected failure")
        elif faults.malformed_json:
            response = Response('{"truncated": [', media_type="application/json")
        if response is None:
            await self.app(scope, receive, send)
            return
        if response.status_code in (429, 503) and faults.retry_after is not None:
            response.headers["Retry-After"] = faults.retry_after
        await response(scope, receive, send)


class EmulatorTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` that also enforces the request's read timeout.

    ASGITransport ignores timeouts; without this a hanging emulator would hang the test instead
    of producing the ``httpx.ReadTimeout`` a real network gives.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), timeout)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("emulator did not answer in time", request=request) from exc


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # json.dumps without ASCII escaping: what a real vendor sends for accented names.
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def read_json(request: Request) -> Any:
    body = await request.body()
    if not body:
        return {}
    return json.loads(body)


def bearer_token(request: Request, *query_names: str) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    for name in query_names:
        if request.query_params.get(name):
            return request.query_params[name]
    return None


__all__ = [
    "EmulatorTransport",
    "FaultMiddleware",
    "Faults",
    "bearer_token",
    "json_response",
    "read_json",
]
