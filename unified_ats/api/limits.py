"""Request limits, enforced before any route runs: who is asking, then how much they send.

A body is only read once the API key is known good (an anonymous client cannot make the server
buffer or parse anything), then read whole under a size limit (413) and a deadline (408, so a
client trickling bytes cannot hold a worker), and a JSON body nested deeper than ``MAX_DEPTH``
is refused (422) before a parser recurses into it.
"""

import asyncio
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unified_ats.api.errors import (
    ApiError,
    NotFoundError,
    PayloadTooLarge,
    RequestTimeout,
    Unauthorized,
)
from unified_ats.api.errors import error_response as render

MAX_DEPTH = 64
WEBHOOKS = "/webhooks/"
API_KEY_ONLY = (
    "/api/ats/v1/connections",
    "/api/ats/v1/connectors",
    "/api/ats/v1/link-tokens",
    "/api/ats/v1/link-settings",
)
LINK_PAGE = "/link/"
LINK_FORM_MAX_BYTES = 64 * 1024
"""The hosted link page's form is posted without an API key (its link token, checked by the
route, is the credential): only a small body is read for it."""
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
# A JSON string (escapes included) or a bracket: strings are skipped whole, so brackets inside
# them do not count. Runs in C; Python only sees strings and brackets.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        services = scope["app"].state.services
        settings = services.settings
        try:
            limit = settings.max_body_bytes
            if scope["path"].startswith("/api/"):
                tenant = await check_api_key(services, header(scope, b"authorization"))
                if needs_connection(scope["path"]):
                    await check_connector_token(
                        services, tenant, header(scope, b"x-connector-token")
                    )
            elif scope["path"].startswith(WEBHOOKS):
                await check_webhook_secret(services, scope["path"].removeprefix(WEBHOOKS))
                limit = min(limit, settings.webhook_max_body_bytes)
            elif scope["path"].startswith(LINK_PAGE):
                limit = min(limit, LINK_FORM_MAX_BYTES)
            body = await read_body(
                scope, receive, limit=limit, deadline_seconds=settings.body_timeout_seconds
            )
            if body is None:
                return  # the client went away
            if b"json" in (header(scope, b"content-type") or b""):
                check_depth(body)
        except ApiError as exc:
            response = render(exc.status_code, exc.detail, exc.headers)
            await response(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def check_api_key(services: Any, authorization: bytes | None) -> Any:
    scheme, _, credential = (authorization or b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not credential:
        raise Unauthorized("missing API key: send Authorization: Bearer <api key>")
    tenant = await services.accounts.tenant_for_key(credential.strip())
    if tenant is None:
        raise Unauthorized("invalid API key")
    return tenant


def needs_connection(path: str) -> bool:
    """Data routes act on one connection: its token is checked before the body too."""
    if path.startswith("/api/v1/passthrough"):
        return True
    return path.startswith("/api/ats/v1/") and not path.startswith(API_KEY_ONLY)


async def check_connector_token(services: Any, tenant: Any, token: bytes | None) -> None:
    if not token:
        raise Unauthorized("missing x-connector-token header")
    found = await services.accounts.connection_for_token(tenant, token.decode("latin-1"))
    if found is None:
        raise Unauthorized("invalid connector token")


async def check_webhook_secret(services: Any, secret: str) -> None:
    """A vendor webhook's path secret is its credential: checked before its body is read."""
    if not secret or await services.accounts.connection_for_webhook(secret) is None:
        raise NotFoundError("not found")


async def read_body(
    scope: Scope, receive: Receive, *, limit: int, deadline_seconds: float
) -> bytes | None:
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline_seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {deadline_seconds:g} s"
        ) from None


def check_depth(body: bytes) -> None:
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return  # cannot be too deep: skip the scan (most bodies)
    depth = 0
    for token in _TOKENS.finditer(body):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise DepthExceeded()
        elif char in (b"]", b"}"):
            depth -= 1


class DepthExceeded(ApiError):
    status_code = 422

    def __init__(self) -> None:
        super().__init__(
            [
                {
                    "type": "json_too_deep",
                    "loc": ["body"],
                    "msg": f"JSON nested deeper than {MAX_DEPTH} levels",
                }
            ]
        )


def replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body once, then the real channel (which carries the disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
