"""The default transport to a vendor: aiohttp's connection pool and C HTTP parser behind httpx's
API (``httpx-aiohttp``).

httpcore's pool cost ~1.3 ms of our CPU per request on a Welcome Kit sync, which makes one
``/documents`` call per candidate: anyio streams, h11, and a walk of every pooled connection on
each request and release. Through aiohttp the same call costs ~0.55 ms. Requests still go
through ``httpx.AsyncClient.send`` (auth flows, timeouts, httpx's log line and our redaction of
it), so connectors and their tests see httpx only.
"""

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (the trust store, honouring SSL_CERT_FILE/SSL_CERT_DIR) for every
    connector: each client loading its own costs ~0.85 MB, which a worker serving thousands of
    connections pays per connection."""
    return httpx.create_ssl_context()


DEFAULT_CONNECTIONS = 64
"""Connections a connector may hold open to its vendor (its calls in flight at most)."""


@contextlib.contextmanager
def _timeouts_are_timeouts() -> Iterator[None]:
    """httpx-aiohttp raises ``httpx.ConnectTimeout`` for every aiohttp connection error: a
    refused connection and a vendor hanging up mid-answer included. The SDK tells a timeout
    (504) from an unreachable vendor (502/503), so only a real timeout stays one."""
    try:
        yield
    except httpx.TimeoutException as exc:
        cause = exc.__cause__
        if cause is None or isinstance(cause, TimeoutError | aiohttp.ServerTimeoutError):
            raise
        if isinstance(cause, aiohttp.ClientConnectorError):
            raise httpx.ConnectError(str(cause)) from cause
        raise httpx.RemoteProtocolError(str(cause)) from cause


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _timeouts_are_timeouts():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _timeouts_are_timeouts():
            await self._inner.aclose()


class VendorTransport(AiohttpTransport):
    """Up to ``connections`` connections kept alive to the vendor, calls beyond them queued;
    the shared TLS context; proxies not taken from the environment (as httpx does not for an
    explicit transport)."""

    def __init__(self, connections: int = DEFAULT_CONNECTIONS) -> None:
        super().__init__(
            verify=shared_ssl_context(),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            trust_env=False,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _timeouts_are_timeouts():
            response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream)
        return response
