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
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (the trust store, honouring SSL_CERT_FILE/SSL_CERT_DIR) for every
    connector: each client loading its own costs ~0.85 MB, which a worker serving thousands of
    connections pays per connection."""
    return httpx.create_ssl_context()


READ_AT_ONCE: Mapping[str, Any] = {"unified_ats.read_at_once": True}
"""Request extensions asking :class:`VendorTransport` to read the whole body before it
answers: VendorHttp asks it for every call it does not stream. One read instead of httpx's
chunk iterator over aiohttp's (~15 us a call); other transports ignore it."""

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
        """httpx-aiohttp's call, leaner: the URL handed over already encoded (not parsed
        again), one timeout object per setting, and a body asked for at once read at once."""
        session = self.client
        if not isinstance(session, aiohttp.ClientSession):
            session = self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        with _timeouts_are_timeouts(), map_aiohttp_exceptions():
            data: bytes | httpx.AsyncByteStream | None
            try:
                data = request.content or None
            except httpx.RequestNotRead:
                data = request.stream  # type: ignore[assignment]
                request.headers.pop("transfer-encoding", None)  # aiohttp chunks it itself
            response = await session.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=data,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as for any transport
                compress=False,
                timeout=_aiohttp_timeout(
                    timeout.get("connect"), timeout.get("read"), timeout.get("pool")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            ).__aenter__()
            extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
            if response.reason:
                extensions["reason_phrase"] = response.reason.encode()
            stream: httpx.AsyncByteStream
            if request.extensions.get("unified_ats.read_at_once"):
                try:
                    stream = httpx.ByteStream(await response.read())
                finally:
                    response.release()
            else:
                stream = _Body(AiohttpResponseStream(response))
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=stream,
            request=request,
            extensions=extensions,
        )


@functools.lru_cache(maxsize=32)
def _aiohttp_timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """httpx's timeouts in aiohttp's terms (connect: the socket's; pool: waiting for one)."""
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)
